/*
 * string.find, string.match, string.gmatch and string.gsub (Lua 5.4 manual
 * §6.4) on our own matcher (pattern_match.c), so that every one of them
 * polls the limits while it works. Arguments, results and errors follow the
 * manual and, where it is silent, the stock library as the differential
 * tests observe it (for example: in 5.4 gmatch treats a leading '^' as a
 * plain byte, and gsub skips an empty match right after the previous match).
 */
#include "bounded.h"

#include <string.h>

/* What a match of gmatch or gsub costs besides its steps and the bytes it
 * copies (measured: 50 to 90 ns a match in a long gsub). */
#define MATCH_UNITS 12

/* A position argument made 1-based and clamped as §6.4 says: negative counts
 * from the end, 0 and anything before the start mean 1. */
static size_t start_position(lua_Integer position, size_t length) {
    if (position > 0) return (size_t)position;
    if (position == 0 || position < -(lua_Integer)length) return 1;
    return length - (size_t)(-position) + 1;
}

/* Does the pattern use any magic character (§6.4.1)? Without one, find is
 * a plain substring search. */
static int has_magic(sh_meter *meter, const char *pattern, size_t length) {
    static const char magic[] = "^$*+?.([%-";
    for (size_t i = 0; i < length; i++) {
        if (pattern[i] != '\0' && strchr(magic, pattern[i]) != NULL) return 1;
        if ((i & 1023) == 1023) sh_meter_tick(meter, 128);
    }
    return 0;
}

/* Substring search from `from`: memchr finds each place where the first
 * byte occurs, and the rest of the needle is compared there. Every byte
 * scanned or compared is counted (16 bytes a unit), so the worst case (a
 * needle that almost matches everywhere) polls the limits. Returns the
 * offset or SIZE_MAX. */
static size_t plain_search(lua_State *L, const char *subject, size_t length, const char *needle, size_t size,
                           size_t from) {
    if (size == 0) return from;
    if (size > length - from) return SIZE_MAX;
    sh_meter meter;
    sh_meter_init(&meter, L);
    const char *last_start = subject + (length - size);
    const char *at = subject + from;
    while (at <= last_start) {
        const char *hit = memchr(at, needle[0], (size_t)(last_start - at) + 1);
        sh_meter_tick(&meter, (size_t)((hit == NULL ? last_start + 1 : hit) - at) / SH_BYTES_PER_UNIT);
        if (hit == NULL) return SIZE_MAX;
        sh_meter_tick(&meter, sh_scan_units(size - 1));
        if (memcmp(hit + 1, needle + 1, size - 1) == 0) return (size_t)(hit - subject);
        at = hit + 1;
    }
    return SIZE_MAX;
}

/* Patterns this small compile on the C stack; larger ones into a userdata. */
typedef struct small_program {
    pm_program program;
    pm_item items[24];
    uint8_t sets[4 * 32];
    uint8_t bytes[96];
} small_program;

static const pm_program *prepare(lua_State *L, sh_meter *meter, const char *pattern, size_t length,
                                 small_program *room) {
    pm_size size = pm_measure(meter, pattern, length);
    if (size.items <= 24 && size.sets <= 4 && size.bytes <= 96) {
        room->program.items = room->items;
        room->program.sets = room->sets;
        room->program.bytes = room->bytes;
        pm_compile(meter, pattern, length, &room->program);
        return &room->program;
    }
    return pm_push_compiled(L, meter, pattern, length);
}

static void start_matcher(pm_matcher *m, lua_State *L, const pm_program *program, const char *subject,
                          size_t length) {
    sh_meter_init(&m->meter, L);
    m->program = program;
    m->subject = (const unsigned char *)subject;
    m->length = length;
}

/* MARK: - find, match */

static int find_or_match(lua_State *L, int find) {
    size_t length, pattern_length;
    const char *subject = luaL_checklstring(L, 1, &length);
    const char *pattern = luaL_checklstring(L, 2, &pattern_length);
    size_t from = start_position(luaL_optinteger(L, 3, 1), length) - 1;
    if (from > length) {
        luaL_pushfail(L);
        return 1;
    }
    sh_meter meter;
    sh_meter_init(&meter, L);
    if (find && (lua_toboolean(L, 4) || !has_magic(&meter, pattern, pattern_length))) {
        size_t at = plain_search(L, subject, length, pattern, pattern_length, from);
        if (at == SIZE_MAX) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)at + 1);
        lua_pushinteger(L, (lua_Integer)(at + pattern_length));
        return 2;
    }
    int anchored = pattern_length > 0 && pattern[0] == '^';
    if (anchored) {
        pattern++;
        pattern_length--;
    }
    small_program room;
    pm_matcher m;
    const pm_program *program = prepare(L, &meter, pattern, pattern_length, &room);
    start_matcher(&m, L, program, subject, length);
    m.meter = meter;
    size_t start, end;
    if (!pm_search(&m, from, anchored, SIZE_MAX, &start, &end)) {
        luaL_pushfail(L);
        return 1;
    }
    if (!find) return pm_push_captures(L, &m, start, end, 1);
    lua_pushinteger(L, (lua_Integer)start + 1);
    lua_pushinteger(L, (lua_Integer)end);
    return 2 + pm_push_captures(L, &m, start, end, 0);
}

static int string_find(lua_State *L) { return find_or_match(L, 1); }

static int string_match(lua_State *L) { return find_or_match(L, 0); }

/* MARK: - gmatch */

typedef struct gmatch_state {
    size_t position;   /* where the next search starts; past the end when done */
    size_t refused;    /* the end of the previous match */
} gmatch_state;

/* upvalues: 1 subject, 2 compiled pattern, 3 state */
static int gmatch_step(lua_State *L) {
    size_t length;
    const char *subject = lua_tolstring(L, lua_upvalueindex(1), &length);
    const pm_program *program = (const pm_program *)lua_touserdata(L, lua_upvalueindex(2));
    gmatch_state *state = (gmatch_state *)lua_touserdata(L, lua_upvalueindex(3));
    if (state->position > length) return 0;
    pm_matcher m;
    start_matcher(&m, L, program, subject, length);
    sh_meter_tick(&m.meter, MATCH_UNITS);
    size_t start, end;
    if (!pm_search(&m, state->position, 0, state->refused, &start, &end)) {
        state->position = length + 1;
        return 0;
    }
    state->position = state->refused = end;
    return pm_push_captures(L, &m, start, end, 1);
}

static int string_gmatch(lua_State *L) {
    size_t length, pattern_length;
    luaL_checklstring(L, 1, &length);
    const char *pattern = luaL_checklstring(L, 2, &pattern_length);
    size_t from = start_position(luaL_optinteger(L, 3, 1), length) - 1;
    if (from > length) from = length + 1;
    lua_settop(L, 2);
    sh_meter meter;
    sh_meter_init(&meter, L);
    pm_push_compiled(L, &meter, pattern, pattern_length);               /* 3 */
    gmatch_state *state = (gmatch_state *)lua_newuserdatauv(L, sizeof(gmatch_state), 0);  /* 4 */
    state->position = from;
    state->refused = SIZE_MAX;
    lua_pushvalue(L, 1);
    lua_replace(L, 2);                                                   /* 2: subject */
    lua_pushcclosure(L, gmatch_step, 3);
    return 1;
}

/* MARK: - gsub */

/* Appends `size` bytes at `bytes` to the result, counted as a copy. */
static void add_copy(luaL_Buffer *b, pm_matcher *m, const char *bytes, size_t size) {
    sh_meter_tick(&m->meter, sh_write_units(size));
    luaL_addlstring(b, bytes, size);
}

/* Appends the string on top of the stack (and pops it), counted as a copy. */
static void add_value(lua_State *L, luaL_Buffer *b, pm_matcher *m) {
    sh_meter_tick(&m->meter, sh_write_units(lua_rawlen(L, -1)));
    luaL_addvalue(b);
}

/* Appends `replacement` (a string) for one match, expanding %0-%9 and %%. */
static void add_expanded(lua_State *L, luaL_Buffer *b, pm_matcher *m, size_t start, size_t end) {
    size_t size;
    const char *text = lua_tolstring(L, 3, &size);
    const char *stop = text + size;
    while (text < stop) {
        const char *escape = memchr(text, '%', (size_t)(stop - text));
        size_t plain = (size_t)((escape == NULL ? stop : escape) - text);
        sh_meter_tick(&m->meter, sh_write_units(plain));
        luaL_addlstring(b, text, plain);
        if (escape == NULL) return;
        text = escape + 1;
        if (text < stop && *text == '%') {
            luaL_addchar(b, '%');
        } else if (text < stop && *text >= '0' && *text <= '9') {
            if (*text == '0') {
                add_copy(b, m, (const char *)m->subject + start, end - start);
            } else {
                pm_push_capture(L, m, (unsigned)(*text - '1'), start, end);
                luaL_tolstring(L, -1, NULL);
                lua_remove(L, -2);
                add_value(L, b, m);
            }
        } else {
            luaL_error(L, "invalid use of '%%' in replacement string");
        }
        text++;
    }
}

/* Appends the replacement of one match: from a table, a function, or the
 * replacement string. false or nil keeps the match as it was. */
static void add_replacement(lua_State *L, luaL_Buffer *b, pm_matcher *m, size_t start, size_t end, int kind) {
    if (kind == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int count = pm_push_captures(L, m, start, end, 1);
        lua_call(L, count, 1);
    } else if (kind == LUA_TTABLE) {
        pm_push_capture(L, m, 0, start, end);
        lua_gettable(L, 3);
    } else {
        add_expanded(L, b, m, start, end);
        return;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        add_copy(b, m, (const char *)m->subject + start, end - start);
    } else if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    } else {
        add_value(L, b, m);
    }
}

static int string_gsub(lua_State *L) {
    size_t length, pattern_length;
    const char *subject = luaL_checklstring(L, 1, &length);
    const char *pattern = luaL_checklstring(L, 2, &pattern_length);
    int kind = lua_type(L, 3);
    lua_Integer limit = luaL_optinteger(L, 4, (lua_Integer)length + 1);
    luaL_argexpected(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION || kind == LUA_TTABLE,
                     3, "string/function/table");
    lua_settop(L, 3);
    int anchored = pattern_length > 0 && pattern[0] == '^';
    if (anchored) {
        pattern++;
        pattern_length--;
    }
    sh_meter meter;
    sh_meter_init(&meter, L);
    small_program room;
    pm_matcher m;
    const pm_program *program = prepare(L, &meter, pattern, pattern_length, &room);
    start_matcher(&m, L, program, subject, length);
    m.meter = meter;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t position = 0;
    size_t refused = SIZE_MAX;
    lua_Integer count = 0;
    while (count < limit) {
        size_t start, end;
        if (!pm_search(&m, position, anchored, refused, &start, &end)) break;
        count++;
        sh_meter_tick(&m.meter, MATCH_UNITS);
        add_copy(&b, &m, subject + position, start - position);
        add_replacement(L, &b, &m, start, end, kind);
        position = refused = end;
        if (anchored) break;
    }
    if (count == 0) {
        /* Nothing replaced: the result is the subject itself, no copy needed. */
        lua_pushvalue(L, 1);
    } else {
        add_copy(&b, &m, subject + position, length - position);
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, count);
    return 2;
}

void sh_push_search_functions(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"find", string_find},
        {"match", string_match},
        {"gmatch", string_gmatch},
        {"gsub", string_gsub},
        {NULL, NULL},
    };
    luaL_setfuncs(L, functions, 0);
}
