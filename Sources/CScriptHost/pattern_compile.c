/*
 * Lua patterns (Reference Manual §6.4.1) compiled into a flat list of items
 * before matching: runs of literal bytes become one PM_TEXT item (compared
 * with memcmp), and every single-byte class (a byte, '.', %a, a [set]) a
 * 256-bit membership table, so matching never re-reads the pattern text.
 *
 * A mistake in the pattern becomes a PM_RAISE item where it stands: the
 * stock library reports a malformed pattern only when matching reaches the
 * mistake (`("abc"):find("x%")` is nil, not an error), and so do we.
 */
#include "bounded.h"

#include <ctype.h>
#include <pthread.h>
#include <string.h>

/* MARK: - Class tables (built once per process) */

static uint8_t g_every_byte[32];
static uint8_t g_single_byte[256][32];
/* Indexed by the escape letter, 'a' to 'z' and 'A' to 'Z'; NULL when the
 * letter is no class (then "%q" means the byte 'q'). */
static const uint8_t *g_escape_class[128];
static uint8_t g_escape_storage[22][32];
static pthread_once_t g_tables_once = PTHREAD_ONCE_INIT;

static void set_member(uint8_t *members, unsigned c) { members[c >> 3] |= (uint8_t)(1u << (c & 7)); }

static void complement(uint8_t *members) {
    for (int i = 0; i < 32; i++) members[i] = (uint8_t)~members[i];
}

/* The classes of §6.4.1, as the C library's <ctype.h> classifies bytes
 * (the stock library does the same, in the process's locale). */
static int in_class(char letter, int c) {
    switch (letter) {
    case 'a': return isalpha(c);
    case 'c': return iscntrl(c);
    case 'd': return isdigit(c);
    case 'g': return isgraph(c);
    case 'l': return islower(c);
    case 'p': return ispunct(c);
    case 's': return isspace(c);
    case 'u': return isupper(c);
    case 'w': return isalnum(c);
    case 'x': return isxdigit(c);
    case 'z': return c == 0;   /* not in the 5.4 manual, but the stock library keeps it */
    default: return 0;
    }
}

static void build_tables(void) {
    memset(g_every_byte, 0xff, sizeof g_every_byte);
    for (unsigned c = 0; c < 256; c++) set_member(g_single_byte[c], c);
    static const char letters[] = "acdglpsuwxz";
    for (int k = 0; letters[k] != '\0'; k++) {
        uint8_t *lower = g_escape_storage[2 * k];
        uint8_t *upper = g_escape_storage[2 * k + 1];
        for (int c = 0; c < 256; c++) {
            if (in_class(letters[k], c)) set_member(lower, (unsigned)c);
        }
        memcpy(upper, lower, 32);
        complement(upper);
        g_escape_class[(unsigned char)letters[k]] = lower;
        g_escape_class[toupper((unsigned char)letters[k])] = upper;
    }
}

/* The members of "%c": a class, or the byte c itself. */
static const uint8_t *escape_members(unsigned char c) {
    if (c < 128 && g_escape_class[c] != NULL) return g_escape_class[c];
    return g_single_byte[c];
}

/* MARK: - Builder */

typedef struct builder {
    pm_program *program;     /* NULL while measuring */
    pm_size size;
    uint32_t captures;       /* captures opened so far (the stock "level") */
    uint32_t open[PM_MAX_CAPTURES];
    uint32_t open_count;
    uint32_t finished;       /* bit i: capture i is closed, or a position */
    int text_continues;      /* the last item is PM_TEXT and may grow */
} builder;

static pm_item *add_item(builder *b, pm_op op) {
    b->text_continues = 0;
    size_t index = b->size.items++;
    if (b->program == NULL) return NULL;
    pm_item *item = &b->program->items[index];
    memset(item, 0, sizeof *item);
    item->op = (uint8_t)op;
    return item;
}

static void add_text_byte(builder *b, unsigned char c) {
    size_t offset = b->size.bytes++;
    if (b->text_continues) {
        if (b->program != NULL) b->program->items[b->size.items - 1].length += 1;
    } else {
        pm_item *item = add_item(b, PM_TEXT);
        b->text_continues = 1;
        if (item != NULL) {
            item->arg = (uint32_t)offset;
            item->length = 1;
            item->first = c;
        }
    }
    if (b->program != NULL) b->program->bytes[offset] = c;
}

/* Ends the program with a mistake; nothing after it can be reached. */
static void add_mistake(builder *b, pm_mistake mistake, uint32_t number) {
    pm_item *item = add_item(b, PM_RAISE);
    if (item != NULL) {
        item->first = (uint8_t)mistake;
        item->arg = number;
    }
}

/* A bracket set: `pattern[at]` is '['. Returns the index after its ']', or
 * 0 when it has none. Sets *members (when compiling). Both passes over the
 * set are counted: a pattern may be one set of megabytes. */
static size_t add_set(builder *b, sh_meter *meter, const unsigned char *pattern, size_t length, size_t at,
                      const uint8_t **members) {
    size_t body = at + 1;
    int negated = body < length && pattern[body] == '^';
    if (negated) body++;
    /* The byte right after "[" or "[^" always belongs to the set (so "[]]"
     * holds ']'), and an escape takes the byte after it along. */
    size_t close = body;
    for (;;) {
        if (close >= length) {
            sh_meter_tick(meter, close - body);
            return 0;
        }
        unsigned char c = pattern[close++];
        if (c == '%' && close < length) close++;
        if (close < length && pattern[close] == ']') break;
        if (((close - body) & 255) == 0) sh_meter_tick(meter, 256);
    }
    size_t slot = b->size.sets++;
    if (b->program != NULL) {
        uint8_t *set = b->program->sets + 32 * slot;
        memset(set, 0, 32);
        for (size_t i = body; i < close;) {
            unsigned char c = pattern[i];
            if (c == '%') {
                const uint8_t *class = escape_members(pattern[i + 1]);
                for (int k = 0; k < 32; k++) set[k] |= class[k];
                sh_meter_tick(meter, 2);
                i += 2;
            } else if (i + 2 < close && pattern[i + 1] == '-') {
                for (unsigned x = c; x <= pattern[i + 2]; x++) set_member(set, x);
                sh_meter_tick(meter, 2 + (pattern[i + 2] >= c ? (size_t)(pattern[i + 2] - c) / 16 : 0));
                i += 3;
            } else {
                set_member(set, c);
                sh_meter_tick(meter, 1);
                i += 1;
            }
        }
        if (negated) complement(set);
        *members = set;
    }
    return close + 1;
}

/* MARK: - Compiling */

static void walk(builder *b, sh_meter *meter, const unsigned char *p, size_t length) {
    size_t i = 0;
    while (i < length) {
        sh_meter_tick(meter, 1);
        unsigned char c = p[i];
        if (c == '(') {
            if (b->captures >= PM_MAX_CAPTURES) { add_mistake(b, PM_TOO_MANY_CAPTURES, 0); return; }
            uint32_t index = b->captures++;
            if (i + 1 < length && p[i + 1] == ')') {
                pm_item *item = add_item(b, PM_POSITION);
                if (item != NULL) item->arg = index;
                b->finished |= 1u << index;
                i += 2;
            } else {
                pm_item *item = add_item(b, PM_OPEN);
                if (item != NULL) item->arg = index;
                b->open[b->open_count++] = index;
                i += 1;
            }
            continue;
        }
        if (c == ')') {
            if (b->open_count == 0) { add_mistake(b, PM_CLOSE_WITHOUT_OPEN, 0); return; }
            uint32_t index = b->open[--b->open_count];
            pm_item *item = add_item(b, PM_CLOSE);
            if (item != NULL) item->arg = index;
            b->finished |= 1u << index;
            i += 1;
            continue;
        }
        if (c == '$' && i + 1 == length) {
            add_item(b, PM_AT_END);
            i += 1;
            continue;
        }
        if (c == '%' && i + 1 < length) {
            unsigned char d = p[i + 1];
            if (d == 'b') {
                if (i + 3 >= length) { add_mistake(b, PM_BALANCE_WITHOUT_ARGUMENTS, 0); return; }
                pm_item *item = add_item(b, PM_BALANCED);
                if (item != NULL) {
                    item->first = p[i + 2];
                    item->last = p[i + 3];
                }
                i += 4;
                continue;
            }
            if (d == 'f') {
                i += 2;
                if (i >= length || p[i] != '[') { add_mistake(b, PM_FRONTIER_WITHOUT_SET, 0); return; }
                const uint8_t *members = NULL;
                size_t next = add_set(b, meter, p, length, i, &members);
                if (next == 0) { add_mistake(b, PM_MISSING_BRACKET, 0); return; }
                pm_item *item = add_item(b, PM_FRONTIER);
                if (item != NULL) item->members = members;
                i = next;
                continue;
            }
            if (d >= '0' && d <= '9') {
                uint32_t number = (uint32_t)(d - '0');
                /* Only a capture already closed on the way here can be matched again. */
                if (number == 0 || number > b->captures || !(b->finished & (1u << (number - 1)))) {
                    add_mistake(b, PM_BAD_BACK_REFERENCE, number);
                    return;
                }
                pm_item *item = add_item(b, PM_SAME_AS);
                if (item != NULL) item->arg = number - 1;
                i += 2;
                continue;
            }
        }
        /* One byte of a class, maybe repeated. */
        const uint8_t *members = NULL;
        int literal = -1;
        size_t next;
        if (c == '%') {
            if (i + 1 >= length) { add_mistake(b, PM_ENDS_WITH_ESCAPE, 0); return; }
            unsigned char d = p[i + 1];
            members = escape_members(d);
            if (members == g_single_byte[d]) literal = d;
            next = i + 2;
        } else if (c == '[') {
            next = add_set(b, meter, p, length, i, &members);
            if (next == 0) { add_mistake(b, PM_MISSING_BRACKET, 0); return; }
        } else if (c == '.') {
            members = g_every_byte;
            next = i + 1;
        } else {
            members = g_single_byte[c];
            literal = c;
            next = i + 1;
        }
        pm_repeat repeat = PM_EXACTLY_ONE;
        if (next < length) {
            switch (p[next]) {
            case '?': repeat = PM_MAYBE; break;
            case '*': repeat = PM_GREEDY_ANY; break;
            case '+': repeat = PM_GREEDY_SOME; break;
            case '-': repeat = PM_LAZY_ANY; break;
            default: break;
            }
            if (repeat != PM_EXACTLY_ONE) next++;
        }
        if (repeat == PM_EXACTLY_ONE && literal >= 0) {
            add_text_byte(b, (unsigned char)literal);
        } else {
            pm_item *item = add_item(b, PM_ONE);
            if (item != NULL) {
                item->repeat = (uint8_t)repeat;
                item->members = members;
            }
        }
        i = next;
    }
    add_item(b, PM_SUCCEED);
}

pm_size pm_measure(sh_meter *meter, const char *pattern, size_t length) {
    pthread_once(&g_tables_once, build_tables);
    builder b;
    memset(&b, 0, sizeof b);
    walk(&b, meter, (const unsigned char *)pattern, length);
    return b.size;
}

void pm_compile(sh_meter *meter, const char *pattern, size_t length, pm_program *program) {
    pthread_once(&g_tables_once, build_tables);
    builder b;
    memset(&b, 0, sizeof b);
    b.program = program;
    walk(&b, meter, (const unsigned char *)pattern, length);
    program->count = (uint32_t)b.size.items;
    program->captures = b.captures;
}

pm_program *pm_push_compiled(lua_State *L, sh_meter *meter, const char *pattern, size_t length) {
    pm_size size = pm_measure(meter, pattern, length);
    if (size.items > UINT32_MAX || size.bytes > UINT32_MAX) luaL_error(L, "pattern too complex");
    size_t total = sizeof(pm_program) + size.items * sizeof(pm_item) + size.sets * 32 + size.bytes;
    char *block = (char *)lua_newuserdatauv(L, total, 0);
    pm_program *program = (pm_program *)block;
    program->items = (pm_item *)(block + sizeof(pm_program));
    program->sets = (uint8_t *)(program->items + size.items);
    program->bytes = program->sets + size.sets * 32;
    pm_compile(meter, pattern, length, program);
    return program;
}
