/*
 * The pattern matcher: runs a compiled pattern (pattern_compile.c) over a
 * subject with an explicit stack of choices instead of C recursion, and
 * counts every step on a work meter, so a backtracking pattern polls the
 * limits like a loop in Lua would.
 *
 * Semantics follow §6.4.1 of the Lua 5.4 manual: '*' and '+' take the
 * longest run first and give bytes back one by one, '-' takes the shortest
 * first, '?' tries one byte then none. What the manual leaves open was
 * observed on the stock library and is kept: a repetition whose first byte
 * does not match goes on without leaving a choice; a nesting of more than
 * 200 choices and captures along one attempt is "pattern too complex".
 */
#include "bounded.h"

#include <string.h>

typedef enum choice_kind {
    CHOICE_WITHOUT,   /* '?': go on without the byte it took */
    CHOICE_FEWER,     /* '*', '+': go on with one byte fewer */
    CHOICE_MORE,      /* '-': go on with one byte more */
} choice_kind;

typedef struct choice {
    uint32_t kind;
    uint32_t next;     /* the item to go on with */
    uint32_t depth;    /* the nesting there */
    size_t at;         /* WITHOUT, MORE: where to go on; FEWER: where the run starts */
    size_t taken;      /* FEWER: bytes of the run still taken */
    size_t least;      /* FEWER: bytes the run must keep (1 for '+') */
} choice;

static const char *const g_mistakes[] = {
    [PM_ENDS_WITH_ESCAPE] = "malformed pattern (ends with '%%')",
    [PM_MISSING_BRACKET] = "malformed pattern (missing ']')",
    [PM_FRONTIER_WITHOUT_SET] = "missing '[' after '%%f' in pattern",
    [PM_BALANCE_WITHOUT_ARGUMENTS] = "malformed pattern (missing arguments to '%%b')",
    [PM_BAD_BACK_REFERENCE] = "invalid capture index %%%d",
    [PM_CLOSE_WITHOUT_OPEN] = "invalid pattern capture",
    [PM_TOO_MANY_CAPTURES] = "too many captures",
};

static void raise_mistake(lua_State *L, const pm_item *item) {
    luaL_error(L, g_mistakes[item->first], (int)item->arg);
}

/* One level deeper, or "pattern too complex". */
static inline uint32_t deeper(pm_matcher *m, uint32_t depth) {
    if (depth >= PM_MAX_DEPTH) luaL_error(m->meter.L, "pattern too complex");
    return depth + 1;
}

/* How many bytes from `at` on belong to `members`. */
static size_t run_length(pm_matcher *m, const uint8_t *members, size_t at) {
    size_t end = at;
    while (end < m->length && pm_has(members, m->subject[end])) {
        end++;
        if (((end - at) & 255) == 0) sh_meter_tick(&m->meter, 256);
    }
    return end - at;
}

/* The end of a balanced run from `at` (whose byte is `open`), or 0. */
static size_t balanced_end(pm_matcher *m, size_t at, unsigned char open, unsigned char close) {
    size_t nesting = 1;
    for (size_t i = at + 1; i < m->length; i++) {
        unsigned char c = m->subject[i];
        /* The closing byte is checked first, so "%b''" pairs quotes. */
        if (c == close) {
            if (--nesting == 0) return i + 1;
        } else if (c == open) {
            nesting++;
        }
        if (((i - at) & 255) == 0) sh_meter_tick(&m->meter, 256);
    }
    return 0;
}

/* Does the literal text of `item` stand at `at` (< length)? The bytes
 * compared are counted (one unit per 16, besides the step itself), before
 * the comparison, so a long text compared at many places polls the limits. */
static inline int text_fits(pm_matcher *m, const pm_item *item, size_t at) {
    if (m->length - at < item->length || m->subject[at] != item->first) return 0;
    if (item->length == 1) return 1;
    sh_meter_tick(&m->meter, (item->length - 1) / SH_BYTES_PER_UNIT);
    return memcmp(m->subject + at + 1, m->program->bytes + item->arg + 1, item->length - 1) == 0;
}

int pm_match_at(pm_matcher *m, size_t start, size_t *end) {
    const pm_item *items = m->program->items;
    const unsigned char *subject = m->subject;
    const size_t length = m->length;
    choice stack[PM_MAX_DEPTH];
    uint32_t top = 0;
    uint32_t pc = 0;
    uint32_t depth = 1;
    size_t s = start;

    for (;;) {
        const pm_item *item = &items[pc];
        sh_meter_tick(&m->meter, 1);
        switch ((pm_op)item->op) {
        case PM_SUCCEED:
            *end = s;
            return 1;
        case PM_AT_END:
            if (s != length) goto backtrack;
            pc++;
            continue;
        case PM_TEXT:
            if (s >= length || !text_fits(m, item, s)) goto backtrack;
            s += item->length;
            pc++;
            continue;
        case PM_ONE: {
            int hit = s < length && pm_has(item->members, subject[s]);
            switch ((pm_repeat)item->repeat) {
            case PM_EXACTLY_ONE:
                if (!hit) goto backtrack;
                s++;
                pc++;
                continue;
            case PM_MAYBE:
                if (hit) {
                    uint32_t inner = deeper(m, depth);
                    stack[top++] = (choice){CHOICE_WITHOUT, pc + 1, depth, s, 0, 0};
                    depth = inner;
                    s++;
                }
                pc++;
                continue;
            case PM_GREEDY_ANY:
            case PM_GREEDY_SOME: {
                if (!hit) {
                    if (item->repeat == PM_GREEDY_SOME) goto backtrack;
                    pc++;
                    continue;
                }
                size_t run = run_length(m, item->members, s);
                depth = deeper(m, depth);
                size_t least = item->repeat == PM_GREEDY_SOME ? 1 : 0;
                stack[top++] = (choice){CHOICE_FEWER, pc + 1, depth, s, run, least};
                s += run;
                pc++;
                continue;
            }
            case PM_LAZY_ANY:
                if (hit) {
                    depth = deeper(m, depth);
                    stack[top++] = (choice){CHOICE_MORE, pc + 1, depth, s, 0, 0};
                }
                pc++;
                continue;
            }
            goto backtrack;
        }
        case PM_OPEN:
            m->captures[item->arg] = (pm_capture){s, PM_UNFINISHED};
            depth = deeper(m, depth);
            pc++;
            continue;
        case PM_POSITION:
            m->captures[item->arg] = (pm_capture){s, PM_POSITION_CAPTURE};
            depth = deeper(m, depth);
            pc++;
            continue;
        case PM_CLOSE:
            m->captures[item->arg].length = (ptrdiff_t)(s - m->captures[item->arg].start);
            depth = deeper(m, depth);
            pc++;
            continue;
        case PM_BALANCED: {
            if (s >= length || subject[s] != item->first) goto backtrack;
            size_t after = balanced_end(m, s, item->first, item->last);
            if (after == 0) goto backtrack;
            s = after;
            pc++;
            continue;
        }
        case PM_FRONTIER: {
            /* The ends of the subject count as the byte '\0'. */
            unsigned char before = s == 0 ? 0 : subject[s - 1];
            unsigned char here = s < length ? subject[s] : 0;
            if (pm_has(item->members, before) || !pm_has(item->members, here)) goto backtrack;
            pc++;
            continue;
        }
        case PM_SAME_AS: {
            pm_capture capture = m->captures[item->arg];
            /* A position capture has no text: it never matches again. */
            if (capture.length < 0) goto backtrack;
            size_t size = (size_t)capture.length;
            if (length - s < size) goto backtrack;
            sh_meter_tick(&m->meter, size / SH_BYTES_PER_UNIT);
            if (memcmp(subject + s, subject + capture.start, size) != 0) goto backtrack;
            s += size;
            pc++;
            continue;
        }
        case PM_RAISE:
            raise_mistake(m->meter.L, item);
            return 0;
        }

    backtrack:
        for (;;) {
            if (top == 0) return 0;
            sh_meter_tick(&m->meter, 1);
            choice *c = &stack[top - 1];
            if (c->kind == CHOICE_WITHOUT) {
                top--;
                pc = c->next;
                depth = c->depth;
                s = c->at;
                break;
            }
            if (c->kind == CHOICE_FEWER) {
                const pm_item *next = &items[c->next];
                int found = 0;
                while (c->taken > c->least) {
                    c->taken--;
                    size_t at = c->at + c->taken;
                    /* Literal text next: skip the lengths where it cannot start. */
                    if (next->op != PM_TEXT || (at < length && subject[at] == next->first)) {
                        found = 1;
                        break;
                    }
                    if ((c->taken & 255) == 0) sh_meter_tick(&m->meter, 256);
                }
                if (!found) {
                    top--;
                    continue;
                }
                pc = c->next;
                depth = c->depth;
                s = c->at + c->taken;
                break;
            }
            /* CHOICE_MORE: take one more byte, if the class allows it. */
            const pm_item *repeated = &items[c->next - 1];
            const pm_item *next = &items[c->next];
            int found = 0;
            while (c->at < length && pm_has(repeated->members, subject[c->at])) {
                c->at++;
                if (next->op != PM_TEXT || (c->at < length && subject[c->at] == next->first)) {
                    found = 1;
                    break;
                }
                if ((c->at & 255) == 0) sh_meter_tick(&m->meter, 256);
            }
            if (!found) {
                top--;
                continue;
            }
            pc = c->next;
            depth = c->depth;
            s = c->at;
            break;
        }
    }
}

/* Where a match may start, from `from` on: skips the bytes that cannot
 * begin one when the pattern starts with literal text or a class byte. */
static size_t next_candidate(pm_matcher *m, size_t from) {
    const pm_item *first = &m->program->items[0];
    if (from >= m->length) return from;
    if (first->op == PM_TEXT) {
        const void *hit = memchr(m->subject + from, first->first, m->length - from);
        size_t at = hit == NULL ? m->length : (size_t)((const unsigned char *)hit - m->subject);
        sh_meter_tick(&m->meter, (at - from) / SH_BYTES_PER_UNIT);
        return at;
    }
    if (first->op == PM_ONE && (first->repeat == PM_EXACTLY_ONE || first->repeat == PM_GREEDY_SOME)) {
        size_t at = from;
        while (at < m->length && !pm_has(first->members, m->subject[at])) {
            at++;
            if (((at - from) & 255) == 0) sh_meter_tick(&m->meter, 256);
        }
        return at;
    }
    return from;
}

int pm_search(pm_matcher *m, size_t from, int anchored, size_t refused, size_t *start, size_t *end) {
    size_t s = from;
    for (;;) {
        if (!anchored) s = next_candidate(m, s);
        size_t e;
        if (pm_match_at(m, s, &e) && e != refused) {
            *start = s;
            *end = e;
            return 1;
        }
        if (anchored || s >= m->length) return 0;
        s++;
    }
}

void pm_push_capture(lua_State *L, const pm_matcher *m, unsigned index, size_t start, size_t end) {
    if (index >= m->program->captures) {
        if (index != 0) luaL_error(L, "invalid capture index %%%d", (int)index + 1);
        lua_pushlstring(L, (const char *)m->subject + start, end - start);
        return;
    }
    pm_capture capture = m->captures[index];
    if (capture.length == PM_UNFINISHED) luaL_error(L, "unfinished capture");
    if (capture.length == PM_POSITION_CAPTURE) {
        lua_pushinteger(L, (lua_Integer)capture.start + 1);
    } else {
        lua_pushlstring(L, (const char *)m->subject + capture.start, (size_t)capture.length);
    }
}

int pm_push_captures(lua_State *L, const pm_matcher *m, size_t start, size_t end, int whole_if_none) {
    int count = (m->program->captures == 0 && whole_if_none) ? 1 : (int)m->program->captures;
    luaL_checkstack(L, count, "too many captures");
    for (int i = 0; i < count; i++) pm_push_capture(L, m, (unsigned)i, start, end);
    return count;
}
