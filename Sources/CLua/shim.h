/*
 * Lua 5.4 for Swift: the C API plus `static inline` versions of the
 * function-like macros that Swift cannot import.
 */
#ifndef SENTINEL_CLUA_SHIM_H
#define SENTINEL_CLUA_SHIM_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

static const int CLUA_REGISTRYINDEX = LUA_REGISTRYINDEX;
static const int CLUA_MULTRET = LUA_MULTRET;
static const int CLUA_OK = LUA_OK;
static const int CLUA_ERRRUN = LUA_ERRRUN;
static const int CLUA_ERRSYNTAX = LUA_ERRSYNTAX;
static const int CLUA_ERRMEM = LUA_ERRMEM;
static const int CLUA_ERRERR = LUA_ERRERR;
static const int CLUA_TNONE = LUA_TNONE;
static const int CLUA_TNIL = LUA_TNIL;
static const int CLUA_TBOOLEAN = LUA_TBOOLEAN;
static const int CLUA_TLIGHTUSERDATA = LUA_TLIGHTUSERDATA;
static const int CLUA_TNUMBER = LUA_TNUMBER;
static const int CLUA_TSTRING = LUA_TSTRING;
static const int CLUA_TTABLE = LUA_TTABLE;
static const int CLUA_TFUNCTION = LUA_TFUNCTION;
static const int CLUA_TUSERDATA = LUA_TUSERDATA;
static const int CLUA_TTHREAD = LUA_TTHREAD;
static const int CLUA_NOREF = LUA_NOREF;
static const int CLUA_RIDX_GLOBALS = LUA_RIDX_GLOBALS;

static inline int clua_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline int clua_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    return lua_pcall(L, nargs, nresults, msgh);
}
static inline void clua_call(lua_State *L, int nargs, int nresults) { lua_call(L, nargs, nresults); }
static inline void clua_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void clua_newtable(lua_State *L) { lua_newtable(L); }
static inline void clua_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcfunction(L, f); }
static inline const char *clua_tostring(lua_State *L, int i) { return lua_tostring(L, i); }
static inline lua_Number clua_tonumber(lua_State *L, int i) { return lua_tonumber(L, i); }
static inline lua_Integer clua_tointeger(lua_State *L, int i) { return lua_tointeger(L, i); }
static inline int clua_isnil(lua_State *L, int i) { return lua_isnil(L, i); }
static inline int clua_isfunction(lua_State *L, int i) { return lua_isfunction(L, i); }
static inline int clua_istable(lua_State *L, int i) { return lua_istable(L, i); }
static inline void clua_insert(lua_State *L, int i) { lua_insert(L, i); }
static inline void clua_remove(lua_State *L, int i) { lua_remove(L, i); }
static inline void clua_replace(lua_State *L, int i) { lua_replace(L, i); }
static inline void *clua_getextraspace(lua_State *L) { return lua_getextraspace(L); }
static inline int clua_getglobal_table(lua_State *L) {
    return lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
}
static inline int clua_loadbufferx(lua_State *L, const char *buf, size_t sz, const char *name, const char *mode) {
    return luaL_loadbufferx(L, buf, sz, name, mode);
}

#endif
