/*
 * The sandbox: the base functions DESIGN.md lists, bounded string and table
 * libraries, math without randomseed (seeded by the host), utf8, sorted
 * pairs/next, a setmetatable that refuses finalizers, and script
 * environments whose reads of undefined globals raise.
 *
 * Never luaL_openlibs: `package`, `io`, `os`, `debug`, `load` and friends are
 * never created, so nothing can reach them.
 */
#include "CScriptHost.h"
#include "internal.h"

#include <lauxlib.h>
#include <lualib.h>
#include <string.h>

int sh_view_next(lua_State *L);

/* MARK: - Guarded base functions */

static int sandbox_setmetatable(lua_State *L) {
    if (sh_is_view(L, 1)) return luaL_error(L, "cannot change the metatable of a read-only table");
    luaL_checktype(L, 1, LUA_TTABLE);
    int type = lua_type(L, 2);
    luaL_argexpected(L, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table");
    if (type == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL) {
            return luaL_error(L, "setmetatable: __gc finalizers are not allowed in the sandbox");
        }
        lua_pop(L, 1);
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
        return luaL_error(L, "cannot change a protected metatable");
    }
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

static int sandbox_type(lua_State *L) {
    luaL_checkany(L, 1);
    if (lua_type(L, 1) == LUA_TUSERDATA && sh_is_view(L, 1)) {
        lua_pushliteral(L, "table");
    } else {
        lua_pushstring(L, luaL_typename(L, 1));
    }
    return 1;
}

/* Converting a numeric string costs time linear in its length inside one C
 * call (84 ms for 16 MiB here); no number needs more than this many bytes. */
#define SH_TONUMBER_MAX_LENGTH 4096

static int sandbox_tonumber(lua_State *L) {
    if (lua_type(L, 1) == LUA_TSTRING && lua_rawlen(L, 1) > SH_TONUMBER_MAX_LENGTH) {
        luaL_checkany(L, 1);
        lua_pushnil(L);
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int sandbox_next(lua_State *L) {
    if (lua_type(L, 1) == LUA_TUSERDATA && sh_is_view(L, 1)) return sh_view_next(L);
    return sh_sorted_next(L);
}

static int sandbox_pairs(lua_State *L) {
    if (lua_type(L, 1) == LUA_TUSERDATA && sh_is_view(L, 1)) {
        luaL_getmetafield(L, 1, "__pairs");
        lua_pushvalue(L, 1);
        lua_call(L, 1, 3);
        return 3;
    }
    return sh_sorted_pairs(L);
}

/* MARK: - Environments */

/* __index of a script environment; upvalue 1 is the sandbox table. */
static int environment_index(lua_State *L) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    if (lua_type(L, 2) == LUA_TSTRING) {
        return luaL_error(L, "undefined global '%s'", lua_tostring(L, 2));
    }
    return luaL_error(L, "undefined global");
}

/* Pushes a new environment for a script. */
void sh_push_environment(lua_State *L) {
    lua_newtable(L);
    lua_getfield(L, LUA_REGISTRYINDEX, SH_REGISTRY_ENV_MT);
    lua_setmetatable(L, -2);
}

/* MARK: - Opening */

static void copy_field(lua_State *L, int from, int to, const char *name) {
    lua_getfield(L, from, name);
    lua_setfield(L, to, name);
}

static int open_sandbox(lua_State *L) {
    lua_Integer seed = (lua_Integer)(*(int64_t *)lua_touserdata(L, 1));
    lua_settop(L, 0);
    const char *problem = sh_layout_problem();
    if (problem != NULL) return luaL_error(L, "%s", problem);

    /* The base library goes into the real globals, which no script can reach;
     * the sandbox copies the functions it offers from there. */
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);          /* 1: globals */
    lua_newtable(L);                                       /* 2: sandbox */
    static const char *const base_names[] = {
        "assert", "error", "ipairs", "pcall", "select", "tostring",
        "getmetatable", "_VERSION", NULL,
    };
    for (int i = 0; base_names[i] != NULL; i++) copy_field(L, 1, 2, base_names[i]);
    static const luaL_Reg guarded[] = {
        {"setmetatable", sandbox_setmetatable},
        {"type", sandbox_type},
        {"next", sandbox_next},
        {"pairs", sandbox_pairs},
        {NULL, NULL},
    };
    luaL_setfuncs(L, guarded, 0);
    lua_getfield(L, 1, "tonumber");
    lua_pushcclosure(L, sandbox_tonumber, 1);
    lua_setfield(L, 2, "tonumber");

    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);  /* 3 */
    sh_install_bounded_string(L, 3);
    lua_setfield(L, 2, LUA_STRLIBNAME);

    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 0);
    sh_install_bounded_table(L, lua_gettop(L));
    lua_setfield(L, 2, LUA_TABLIBNAME);

    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 0);
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, seed);
    lua_call(L, 1, 0);
    lua_pushnil(L);
    lua_setfield(L, -2, "randomseed");
    lua_setfield(L, 2, LUA_MATHLIBNAME);

    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 0);
    lua_setfield(L, 2, LUA_UTF8LIBNAME);

    /* Lock the string metatable: getmetatable("") must not hand out the
     * string table, and method calls reach the bounded functions. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_getfield(L, 2, LUA_STRLIBNAME);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    sh_open_views(L);

    /* The metatable of script environments. */
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, environment_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setfield(L, LUA_REGISTRYINDEX, SH_REGISTRY_ENV_MT);

    lua_pushvalue(L, 2);
    lua_setfield(L, LUA_REGISTRYINDEX, SH_REGISTRY_SANDBOX);
    return 0;
}

int sh_open_sandbox_function(lua_State *L) { return open_sandbox(L); }
