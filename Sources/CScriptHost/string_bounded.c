/*
 * The sandbox's `string` table. Functions whose whole cost is known from
 * their arguments (rep, byte, char, upper, lower, reverse, sub, format) keep
 * the stock implementation, called directly from a wrapper that first
 * checks that cost against the memory cap, the instruction budget and the
 * deadline (sh_precheck). The searching functions are ours
 * (string_search.c). `len` is O(1) and stays as it is. Not offered: `dump`
 * (bytecode) and `pack`, `unpack`, `packsize` (binary layouts, which rules
 * do not need and whose formats would need their own cost model).
 *
 * A wrapper calls the stock C function in its own frame (upvalue 1), so an
 * argument error still names the function the script called.
 */
#include "bounded.h"

#include <limits.h>
#include <string.h>

void sh_push_search_functions(lua_State *L);

static inline int call_stock(lua_State *L) {
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* The size of s:sub(i, j) once i and j are corrected as §6.4 says. */
static size_t slice_size(lua_Integer i, lua_Integer j, size_t length) {
    lua_Integer size = (lua_Integer)(length > (size_t)LUA_MAXINTEGER ? LUA_MAXINTEGER : length);
    if (i < 0) i = i < -size ? 1 : size + i + 1;
    if (i == 0) i = 1;
    if (j < 0) j = j < -size ? 0 : size + j + 1;
    if (j > size) j = size;
    return i > j ? 0 : (size_t)(j - i) + 1;
}

static int bounded_rep(lua_State *L) {
    size_t length, separator_length;
    luaL_checklstring(L, 1, &length);
    lua_Integer count = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &separator_length);
    /* Repeating nothing costs stock Lua `count` empty copies
     * (string.rep("", 3e9) runs for seconds); the result is known. */
    if (count <= 0 || length + separator_length == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    size_t unit = length + separator_length;
    /* Too large for Lua (over 2 GiB): the stock function says so before any work. */
    if (unit < length || unit > (size_t)INT_MAX / (lua_Unsigned)count) return call_stock(L);
    size_t total = (size_t)count * unit - separator_length;
    sh_precheck(L, total, total);
    return call_stock(L);
}

static int bounded_sub(lua_State *L) {
    size_t length;
    luaL_checklstring(L, 1, &length);
    lua_Integer from = luaL_checkinteger(L, 2);
    lua_Integer to = luaL_optinteger(L, 3, -1);
    size_t size = slice_size(from, to, length);
    sh_precheck(L, size, size);
    return call_stock(L);
}

static int bounded_byte(lua_State *L) {
    size_t length;
    luaL_checklstring(L, 1, &length);
    lua_Integer from = luaL_optinteger(L, 2, 1);
    lua_Integer to = luaL_optinteger(L, 3, from);
    /* Each code is a value on the stack; a slice longer than the stack can
     * grow is refused by the stock function ("string slice too long"). */
    size_t count = slice_size(from, to, length);
    if (count < 1000000) sh_precheck(L, count * sizeof(lua_Number) * 2, count * 16);
    return call_stock(L);
}

static int bounded_char(lua_State *L) {
    size_t count = (size_t)lua_gettop(L);
    sh_precheck(L, count, count);
    return call_stock(L);
}

/* upper, lower, reverse: a result as long as the argument. */
static int bounded_same_length(lua_State *L) {
    size_t length;
    luaL_checklstring(L, 1, &length);
    sh_precheck(L, length, length);
    return call_stock(L);
}

/* format: the result holds the format's own bytes, every string that a %s
 * copies, and at most a few hundred bytes per other directive; %q may
 * escape each byte of its string into four. */
static int bounded_format(lua_State *L) {
    size_t length;
    const char *format = luaL_checklstring(L, 1, &length);
    int top = lua_gettop(L);
    int argument = 1;
    size_t least = length;
    size_t most = length;
    sh_meter meter;
    sh_meter_init(&meter, L);
    for (size_t i = 0; i < length; i++) {
        if ((i & 1023) == 1023) sh_meter_tick(&meter, 128);
        if (format[i] != '%') continue;
        if (++i >= length) break;
        if (format[i] == '%') continue;
        while (i < length && format[i] != '\0' && strchr("-+ #0123456789.", format[i]) != NULL) i++;
        if (i >= length) break;
        argument++;
        size_t size = 0;
        if (argument <= top && lua_type(L, argument) == LUA_TSTRING) lua_tolstring(L, argument, &size);
        if (format[i] == 's') {
            least += size;
            most += size + 128;
        } else if (format[i] == 'q') {
            least += size;
            most += 4 * size + 128;
        } else {
            most += 512;
        }
    }
    sh_precheck(L, least, most);
    return call_stock(L);
}

/* Replaces the stock function `name` of the table on top by `wrapper`, which
 * gets the stock function as its upvalue. */
static void wrap(lua_State *L, const char *name, lua_CFunction wrapper) {
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, wrapper, 1);
    lua_setfield(L, -2, name);
}

void sh_install_bounded_string(lua_State *L, int libindex) {
    lua_pushvalue(L, libindex);
    wrap(L, "rep", bounded_rep);
    wrap(L, "sub", bounded_sub);
    wrap(L, "byte", bounded_byte);
    wrap(L, "char", bounded_char);
    wrap(L, "upper", bounded_same_length);
    wrap(L, "lower", bounded_same_length);
    wrap(L, "reverse", bounded_same_length);
    wrap(L, "format", bounded_format);
    sh_push_search_functions(L);
    static const char *const absent[] = {"dump", "pack", "unpack", "packsize", NULL};
    for (int i = 0; absent[i] != NULL; i++) {
        lua_pushnil(L);
        lua_setfield(L, -2, absent[i]);
    }
    lua_pop(L, 1);
}
