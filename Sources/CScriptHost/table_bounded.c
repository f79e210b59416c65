/*
 * The sandbox's `table` table (Lua 5.4 manual §6.6): insert, remove, move,
 * concat and unpack are ours, because their loops follow a length that a
 * `__len` metamethod may make up (2^62, say) or indices a script chooses
 * (table.move({}, 1, 1e12, 2)); every step is counted on a work meter, so
 * the limits stop them. Moves within plain tables (no metatable) are counted
 * whole before they start, so that a limit never stops one half way. `sort`
 * is ours too (table_sort.c); `pack` is stock (its cost is the arguments
 * already on the stack).
 *
 * Like the stock functions, these read and write through metamethods
 * (lua_geti, lua_seti), so a read-only view refuses writes.
 */
#include "bounded.h"

#include <limits.h>
#include <stdint.h>

int sh_table_sort(lua_State *L);

enum { NEEDS_READ = SH_LIST_READ, NEEDS_WRITE = SH_LIST_WRITE, NEEDS_LENGTH = SH_LIST_LENGTH };

void sh_expect_list(lua_State *L, int arg, int needs) {
    if (lua_type(L, arg) == LUA_TTABLE) return;
    int usable = 0;
    if (lua_getmetatable(L, arg)) {
        int base = lua_gettop(L);
        usable = (!(needs & NEEDS_READ) || lua_getfield(L, base, "__index") != LUA_TNIL)
            && (!(needs & NEEDS_WRITE) || lua_getfield(L, base, "__newindex") != LUA_TNIL)
            && (!(needs & NEEDS_LENGTH) || lua_getfield(L, base, "__len") != LUA_TNIL);
        lua_settop(L, base - 1);
    }
    if (!usable) luaL_checktype(L, arg, LUA_TTABLE);
}

static lua_Integer list_length(lua_State *L, int arg, int needs) {
    sh_expect_list(L, arg, needs | NEEDS_LENGTH);
    return luaL_len(L, arg);
}

/* Has the value at `arg` no metatable? Then reading and writing its
 * elements calls no Lua code, and its length is a border of its own. */
static int is_plain(lua_State *L, int arg) {
    if (!lua_getmetatable(L, arg)) return 1;
    lua_pop(L, 1);
    return 0;
}

/* Units of moving `count` elements (a read and a write each), saturating. */
static size_t move_units(lua_Unsigned count) {
    return count > (lua_Unsigned)(SIZE_MAX / (2 * SH_ELEMENT_UNITS)) ? SIZE_MAX : (size_t)count * 2 * SH_ELEMENT_UNITS;
}

/* Before moving elements of plain tables: the whole move is counted (and
 * refused when it exceeds a limit) first, and then runs without polling, so
 * it is never stopped half way (an element twice, another lost). Through
 * metamethods, which run Lua code anyway, each step is counted as it goes. */
static void count_move(lua_State *L, int plain, lua_Unsigned count) {
    if (plain) sh_precheck(L, 0, move_units(count));
}

/* table.insert(list, [pos,] value) */
static int table_insert(lua_State *L) {
    lua_Integer after_last = (lua_Integer)((lua_Unsigned)list_length(L, 1, NEEDS_READ | NEEDS_WRITE) + 1u);
    lua_Integer position = after_last;
    int arguments = lua_gettop(L);
    if (arguments == 3) {
        position = luaL_checkinteger(L, 2);
        /* 1 <= position <= #list + 1, in unsigned arithmetic against overflow. */
        luaL_argcheck(L, (lua_Unsigned)position - 1u < (lua_Unsigned)after_last, 2, "position out of bounds");
        int plain = is_plain(L, 1);
        count_move(L, plain, (lua_Unsigned)after_last - (lua_Unsigned)position);
        sh_meter meter;
        sh_meter_init(&meter, L);
        for (lua_Integer slot = after_last; slot > position; slot--) {
            lua_geti(L, 1, slot - 1);
            lua_seti(L, 1, slot);
            if (!plain) sh_meter_tick(&meter, SH_ELEMENT_UNITS);
        }
    } else if (arguments != 2) {
        return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, position);
    return 0;
}

/* table.remove(list [, pos]) */
static int table_remove(lua_State *L) {
    lua_Integer last = list_length(L, 1, NEEDS_READ | NEEDS_WRITE);
    lua_Integer position = luaL_optinteger(L, 2, last);
    /* Besides 1 .. #list: #list + 1, and 0 when the list is empty. */
    if (position != last) {
        luaL_argcheck(L, (lua_Unsigned)position - 1u <= (lua_Unsigned)last, 1, "position out of bounds");
    }
    lua_geti(L, 1, position);
    int plain = is_plain(L, 1);
    if (position < last) count_move(L, plain, (lua_Unsigned)last - (lua_Unsigned)position);
    sh_meter meter;
    sh_meter_init(&meter, L);
    lua_Integer slot = position;
    while (slot < last) {
        lua_geti(L, 1, slot + 1);
        lua_seti(L, 1, slot);
        slot++;
        if (!plain) sh_meter_tick(&meter, SH_ELEMENT_UNITS);
    }
    lua_pushnil(L);
    lua_seti(L, 1, slot);
    return 1;
}

/* table.move(a1, f, e, t [, a2]) */
static int table_move(lua_State *L) {
    lua_Integer first = luaL_checkinteger(L, 2);
    lua_Integer last = luaL_checkinteger(L, 3);
    lua_Integer target = luaL_checkinteger(L, 4);
    int destination = lua_isnoneornil(L, 5) ? 1 : 5;
    sh_expect_list(L, 1, NEEDS_READ);
    sh_expect_list(L, destination, NEEDS_WRITE);
    if (last >= first) {
        luaL_argcheck(L, first > 0 || last < LUA_MAXINTEGER + first, 3, "too many elements to move");
        lua_Integer span = last - first;  /* elements to move, minus one */
        luaL_argcheck(L, target <= LUA_MAXINTEGER - span, 4, "destination wrap around");
        /* Copy backwards only when the ranges overlap with the target after the source start. */
        int backwards = target > first && target <= last && (destination == 1 || lua_compare(L, 1, destination, LUA_OPEQ));
        int plain = is_plain(L, 1) && is_plain(L, destination);
        count_move(L, plain, (lua_Unsigned)span + 1u);
        sh_meter meter;
        sh_meter_init(&meter, L);
        for (lua_Integer k = 0; k <= span; k++) {
            lua_Integer offset = backwards ? span - k : k;
            lua_geti(L, 1, first + offset);
            lua_seti(L, destination, target + offset);
            if (!plain) sh_meter_tick(&meter, SH_ELEMENT_UNITS);
        }
    }
    lua_pushvalue(L, destination);
    return 1;
}

/* Appends element `index`, counting the bytes it adds with the separator. */
static void add_element(lua_State *L, luaL_Buffer *b, sh_meter *meter, lua_Integer index, size_t separator_length) {
    lua_geti(L, 1, index);
    if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid value (%s) at index %I in table for 'concat'", luaL_typename(L, -1),
                   (LUAI_UACINT)index);
    }
    sh_meter_tick(meter, SH_ELEMENT_UNITS + sh_write_units(lua_rawlen(L, -1) + separator_length));
    luaL_addvalue(b);
}

/* table.concat(list [, sep [, i [, j]]]) */
static int table_concat(lua_State *L) {
    lua_Integer length = list_length(L, 1, NEEDS_READ);
    size_t separator_length;
    const char *separator = luaL_optlstring(L, 2, "", &separator_length);
    lua_Integer index = luaL_optinteger(L, 3, 1);
    lua_Integer last = luaL_optinteger(L, 4, length);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    sh_meter meter;
    sh_meter_init(&meter, L);
    /* Written so that last == LUA_MAXINTEGER cannot overflow the index. */
    if (index <= last) {
        for (;;) {
            add_element(L, &b, &meter, index, separator_length);
            if (index == last) break;
            luaL_addlstring(&b, separator, separator_length);
            index++;
        }
    }
    luaL_pushresult(&b);
    return 1;
}

/* table.unpack(list [, i [, j]]) */
static int table_unpack(lua_State *L) {
    lua_Integer first = luaL_optinteger(L, 2, 1);
    lua_Integer last = lua_isnoneornil(L, 3) ? luaL_len(L, 1) : luaL_checkinteger(L, 3);
    if (first > last) return 0;
    lua_Unsigned span = (lua_Unsigned)last - (lua_Unsigned)first;
    if (span >= (lua_Unsigned)INT_MAX || !lua_checkstack(L, (int)span + 1)) {
        return luaL_error(L, "too many results to unpack");
    }
    sh_meter meter;
    sh_meter_init(&meter, L);
    for (lua_Unsigned k = 0; k <= span; k++) {
        lua_geti(L, 1, (lua_Integer)((lua_Unsigned)first + k));
        sh_meter_tick(&meter, SH_ELEMENT_UNITS);
    }
    return (int)span + 1;
}

void sh_install_bounded_table(lua_State *L, int libindex) {
    static const luaL_Reg functions[] = {
        {"insert", table_insert},
        {"remove", table_remove},
        {"move", table_move},
        {"concat", table_concat},
        {"unpack", table_unpack},
        {"sort", sh_table_sort},
        {NULL, NULL},
    };
    lua_pushvalue(L, libindex);
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
}
