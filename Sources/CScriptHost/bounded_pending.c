/*
 * Placeholders while the bounded libraries are rewritten from the Lua 5.4
 * manual (issue 14): unsorted `next` and `pairs`. The ordering tests fail
 * until the replacement lands.
 */
#include "CScriptHost.h"

#include <lauxlib.h>

int sh_sorted_next(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

int sh_sorted_pairs(lua_State *L) {
    luaL_checkany(L, 1);
    lua_pushcfunction(L, sh_sorted_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}
