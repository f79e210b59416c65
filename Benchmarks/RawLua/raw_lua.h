/*
 * The bare Lua 5.4 C API for the benchmarks' baselines (no sandbox, no
 * limits): what ScriptHost's costs are measured against. The main package's
 * CLua target is not a product, so the benchmarks reach Lua on their own.
 */
#ifndef SENTINEL_BENCHMARKS_RAW_LUA_H
#define SENTINEL_BENCHMARKS_RAW_LUA_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

static const int RAW_LUA_REGISTRYINDEX = LUA_REGISTRYINDEX;

static inline void raw_lua_call(lua_State *L, int nargs, int nresults) { lua_call(L, nargs, nresults); }
static inline int raw_lua_pcall(lua_State *L, int nargs, int nresults, int handler) {
    return lua_pcall(L, nargs, nresults, handler);
}
static inline void raw_lua_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline int raw_lua_push_globals(lua_State *L) { return lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS); }
static inline int raw_lua_load(lua_State *L, const char *text, size_t size, const char *name) {
    return luaL_loadbufferx(L, text, size, name, "t");
}

#endif
