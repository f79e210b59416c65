/*
 * Deterministic iteration for the sandbox: `next` and `pairs` visit keys in
 * sorted order (numbers ascending, then strings bytewise, then false, true,
 * then every other key in the table's raw order), so one seed gives one
 * result whatever Lua's hash layout does.
 *
 * A traversal works on a snapshot: the table's keys, sorted once (a merge
 * sort of our own, counted on a work meter) when it starts, by `pairs(t)` or
 * `next(t, nil)`. A step finds the previous key in the snapshot (the
 * position of the last step, else a binary search) and returns the next key
 * whose value is not nil now, so clearing fields while iterating works as
 * Lua promises; keys added meanwhile are not visited (Lua leaves that
 * undefined). `pairs` keeps its snapshot in the iterator it returns; `next`
 * keeps the latest one per table in a weak registry table.
 */
#include "bounded.h"

#include <math.h>
#include <string.h>

#define SNAPSHOTS_KEY "sentinel.sorted_keys"

enum { GROUP_NUMBER, GROUP_STRING, GROUP_FALSE, GROUP_TRUE, GROUP_OTHER };

typedef struct key_entry {
    uint32_t group;
    uint32_t is_integer;
    union {
        lua_Integer integer;
        lua_Number number;
        const char *bytes;  /* strings: kept alive by the snapshot's key table */
    } as;
    size_t size;
    size_t raw;             /* the key's position in the key table (raw order) */
} key_entry;

typedef struct snapshot {
    size_t count;
    size_t hint;            /* sorted position of the last key returned */
    key_entry entries[];    /* sorted; the user value holds the keys in raw order */
} snapshot;

static void describe(lua_State *L, int index, size_t raw, key_entry *entry) {
    memset(entry, 0, sizeof *entry);
    entry->raw = raw;
    switch (lua_type(L, index)) {
    case LUA_TNUMBER:
        entry->group = GROUP_NUMBER;
        entry->is_integer = lua_isinteger(L, index);
        if (entry->is_integer) entry->as.integer = lua_tointeger(L, index); else entry->as.number = lua_tonumber(L, index);
        break;
    case LUA_TSTRING:
        entry->group = GROUP_STRING;
        entry->as.bytes = lua_tolstring(L, index, &entry->size);
        break;
    case LUA_TBOOLEAN:
        entry->group = lua_toboolean(L, index) ? GROUP_TRUE : GROUP_FALSE;
        break;
    default:
        entry->group = GROUP_OTHER;
        break;
    }
}

/* Orders a float against an integer exactly (keys are never NaN). */
static int compare_float_integer(lua_Number f, lua_Integer i) {
    if (f >= 0x1p63) return 1;
    if (f < -0x1p63) return -1;
    lua_Number whole = floor(f);
    lua_Integer truncated = (lua_Integer)whole;
    if (truncated != i) return truncated < i ? -1 : 1;
    return f > whole ? 1 : 0;
}

/* Orders two keys; adds the bytes of strings compared to *scanned. */
static int compare(const key_entry *a, const key_entry *b, size_t *scanned) {
    if (a->group != b->group) return a->group < b->group ? -1 : 1;
    switch (a->group) {
    case GROUP_NUMBER:
        if (a->is_integer && b->is_integer) return (a->as.integer > b->as.integer) - (a->as.integer < b->as.integer);
        if (!a->is_integer && !b->is_integer) return (a->as.number > b->as.number) - (a->as.number < b->as.number);
        if (a->is_integer) return -compare_float_integer(b->as.number, a->as.integer);
        return compare_float_integer(a->as.number, b->as.integer);
    case GROUP_STRING: {
        size_t common = a->size < b->size ? a->size : b->size;
        *scanned += common;
        int order = memcmp(a->as.bytes, b->as.bytes, common);
        if (order != 0) return order < 0 ? -1 : 1;
        return (a->size > b->size) - (a->size < b->size);
    }
    case GROUP_OTHER:
        return (a->raw > b->raw) - (a->raw < b->raw);
    default:
        return 0;
    }
}

/* Bottom-up merge sort of `entries` with `scratch` of the same size. */
static void sort_entries(sh_meter *meter, key_entry *entries, key_entry *scratch, size_t count) {
    key_entry *from = entries;
    key_entry *to = scratch;
    for (size_t width = 1; width < count; width *= 2) {
        for (size_t first = 0; first < count; first += 2 * width) {
            size_t middle = first + width < count ? first + width : count;
            size_t last = middle + width < count ? middle + width : count;
            size_t i = first, j = middle, out = first;
            size_t scanned = 0;
            while (i < middle && j < last) to[out++] = compare(&from[j], &from[i], &scanned) < 0 ? from[j++] : from[i++];
            while (i < middle) to[out++] = from[i++];
            while (j < last) to[out++] = from[j++];
            sh_meter_tick(meter, SH_ELEMENT_UNITS * (last - first) + scanned / SH_BYTES_PER_UNIT);
        }
        key_entry *swap = from;
        from = to;
        to = swap;
    }
    if (from != entries) memcpy(entries, from, count * sizeof(key_entry));
}

/* Pushes a new snapshot of the table at `table`. */
static snapshot *push_snapshot(lua_State *L, int table) {
    sh_meter meter;
    sh_meter_init(&meter, L);
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, table)) {
        lua_pop(L, 1);
        count++;
        sh_meter_tick(&meter, SH_ELEMENT_UNITS);
    }
    snapshot *shot = (snapshot *)lua_newuserdatauv(L, sizeof(snapshot) + count * sizeof(key_entry), 1);
    int shot_index = lua_gettop(L);
    shot->count = 0;
    shot->hint = 0;
    key_entry *scratch = (key_entry *)lua_newuserdatauv(L, count * sizeof(key_entry) + 1, 0);
    lua_createtable(L, count > INT32_MAX ? INT32_MAX : (int)count, 0);   /* keys in raw order */
    int raw_keys = lua_gettop(L);
    size_t raw = 0;
    lua_pushnil(L);
    while (raw < count && lua_next(L, table)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, raw_keys, (lua_Integer)raw + 1);
        describe(L, -1, raw, &shot->entries[raw]);
        raw++;
        sh_meter_tick(&meter, SH_ELEMENT_UNITS);
    }
    if (raw == count) lua_pop(L, 1);   /* lua_next did not finish: drop its key */
    else lua_settop(L, raw_keys);
    count = raw;
    sort_entries(&meter, shot->entries, scratch, count);
    /* The key table becomes the user value: strings stay alive there. */
    lua_pushvalue(L, raw_keys);
    lua_setiuservalue(L, shot_index, 1);
    shot->count = count;
    lua_settop(L, shot_index);
    return shot;
}

/* Pushes the key at sorted position `position`. */
static inline void push_key(lua_State *L, const snapshot *shot, int keys, size_t position) {
    lua_rawgeti(L, keys, (lua_Integer)shot->entries[position].raw + 1);
}

/* The sorted position of the key at `key` in `shot` (whose key table is at
 * `keys`), or SIZE_MAX. */
static size_t find_key(lua_State *L, snapshot *shot, int keys, int key) {
    if (shot->hint < shot->count) {
        push_key(L, shot, keys, shot->hint);
        int same = lua_rawequal(L, -1, key);
        lua_pop(L, 1);
        if (same) return shot->hint;
    }
    key_entry wanted;
    describe(L, key, 0, &wanted);
    sh_meter meter;
    sh_meter_init(&meter, L);
    if (wanted.group != GROUP_OTHER) {
        size_t low = 0, high = shot->count;
        size_t found = SIZE_MAX;
        size_t scanned = 0;
        while (low < high) {
            size_t middle = low + (high - low) / 2;
            int order = compare(&shot->entries[middle], &wanted, &scanned);
            if (order == 0) {
                found = middle;
                break;
            }
            if (order < 0) low = middle + 1; else high = middle;
        }
        sh_meter_tick(&meter, scanned / SH_BYTES_PER_UNIT);
        return found;
    }
    for (size_t i = shot->count; i > 0 && shot->entries[i - 1].group == GROUP_OTHER; i--) {
        push_key(L, shot, keys, i - 1);
        int same = lua_rawequal(L, -1, key);
        lua_pop(L, 1);
        if (same) return i - 1;
        sh_meter_tick(&meter, SH_ELEMENT_UNITS);
    }
    return SIZE_MAX;
}

/* Pushes the key after position `after` (SIZE_MAX: the first) whose value
 * in the table is not nil, and that value; or nil. Returns the results. */
static int step(lua_State *L, snapshot *shot, int keys, int table, size_t after) {
    sh_meter meter;
    sh_meter_init(&meter, L);
    for (size_t i = after == SIZE_MAX ? 0 : after + 1; i < shot->count; i++) {
        push_key(L, shot, keys, i);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, table) != LUA_TNIL) {
            shot->hint = i;
            return 2;
        }
        lua_pop(L, 2);
        sh_meter_tick(&meter, SH_ELEMENT_UNITS);
    }
    lua_pushnil(L);
    return 1;
}

/* next(t, k) for tables. */
int sh_sorted_next(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, SNAPSHOTS_KEY);              /* 3 */
    if (lua_type(L, 3) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, SNAPSHOTS_KEY);
    }
    snapshot *shot = NULL;
    size_t position = SIZE_MAX;
    if (!lua_isnil(L, 2)) {
        lua_pushvalue(L, 1);
        if (lua_rawget(L, 3) == LUA_TUSERDATA) {                    /* 4 */
            shot = (snapshot *)lua_touserdata(L, 4);
            lua_getiuservalue(L, 4, 1);                              /* 5 */
            position = find_key(L, shot, 5, 2);
        }
        if (position == SIZE_MAX) {
            /* No snapshot, or one from before the key was added: take a new one. */
            lua_settop(L, 3);
            shot = push_snapshot(L, 1);                              /* 4 */
            lua_getiuservalue(L, 4, 1);                              /* 5 */
            position = find_key(L, shot, 5, 2);
            if (position == SIZE_MAX) return luaL_error(L, "invalid key to 'next'");
            lua_pushvalue(L, 1);
            lua_pushvalue(L, 4);
            lua_rawset(L, 3);
        }
    } else {
        shot = push_snapshot(L, 1);                                  /* 4 */
        lua_getiuservalue(L, 4, 1);                                  /* 5 */
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 4);
        lua_rawset(L, 3);
    }
    return step(L, shot, 5, 1, position);
}

/* The iterator `pairs` returns; upvalue 1 is its snapshot. */
static int sorted_pairs_step(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    snapshot *shot = (snapshot *)lua_touserdata(L, lua_upvalueindex(1));
    lua_getiuservalue(L, lua_upvalueindex(1), 1);                   /* 3 */
    size_t position = SIZE_MAX;
    if (!lua_isnil(L, 2)) {
        position = find_key(L, shot, 3, 2);
        if (position == SIZE_MAX) return luaL_error(L, "invalid key to 'next'");
    }
    return step(L, shot, 3, 1, position);
}

/* pairs(t): a `__pairs` metamethod decides, as in Lua 5.4; otherwise a
 * sorted traversal of a table (anything else fails at its first step, as
 * stock `next` would). */
int sh_sorted_pairs(lua_State *L) {
    luaL_checkany(L, 1);
    if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
        lua_pushvalue(L, 1);
        lua_call(L, 1, 3);
        return 3;
    }
    if (lua_type(L, 1) != LUA_TTABLE) {
        lua_pushcfunction(L, sh_sorted_next);
    } else {
        push_snapshot(L, 1);
        lua_pushcclosure(L, sorted_pairs_step, 1);
    }
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}
