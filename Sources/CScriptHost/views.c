/*
 * Read-only views over Swift data and the trampoline for Swift functions.
 *
 * A view is a userdata whose metatable resolves keys lazily through a Swift
 * callback and caches what it resolved in the userdata's user value, so a
 * script pays only for the fields it reads. Assignment raises. The sandbox's
 * `type` reports views as "table".
 */
#include "CScriptHost.h"
#include "internal.h"

#include <lauxlib.h>
#include <string.h>

typedef struct view_userdata {
    void *node;
    /* the user value holds every key: a miss is nil without asking Swift */
    int complete;
} view_userdata;

static int raise_message(lua_State *L, const sh_opbuf *b) {
    luaL_where(L, 1);
    sh_push_error_message(L, b);
    lua_concat(L, 2);
    return lua_error(L);
}

void sh_push_view(lua_State *L, void *node) {
    view_userdata *view = (view_userdata *)lua_newuserdatauv(L, sizeof(view_userdata), 1);
    view->node = NULL;
    view->complete = 0;
    luaL_setmetatable(L, SH_REGISTRY_VIEW_MT);
    view->node = node;  /* takes over the caller's reference */
}

void sh_push_filled_view(lua_State *L, void *node) {
    view_userdata *view = (view_userdata *)lua_newuserdatauv(L, sizeof(view_userdata), 1);
    view->node = NULL;
    view->complete = 1;
    luaL_setmetatable(L, SH_REGISTRY_VIEW_MT);
    view->node = node;
    lua_rotate(L, -2, 1);          /* view, table */
    lua_setiuservalue(L, -2, 1);   /* pops the table */
}

int sh_is_view(lua_State *L, int index) {
    return luaL_testudata(L, index, SH_REGISTRY_VIEW_MT) != NULL;
}

static view_userdata *check_view(lua_State *L) {
    return (view_userdata *)luaL_checkudata(L, 1, SH_REGISTRY_VIEW_MT);
}

/* __index. Only the view metatable holds it, and scripts cannot reach that
 * metatable (`__metatable` is false), so argument 1 is always a view. */
static int view_index(lua_State *L) {
    view_userdata *view = (view_userdata *)lua_touserdata(L, 1);
    if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {   /* 3: cache */
        lua_pushvalue(L, 2);
        if (lua_rawget(L, 3) != LUA_TNIL || view->complete) return 1;
    }
    lua_settop(L, 2);
    sh_key key;
    switch (lua_type(L, 2)) {
    case LUA_TSTRING:
        key.type = LUA_TSTRING;
        key.integer = 0;
        key.string = lua_tolstring(L, 2, &key.length);
        break;
    case LUA_TNUMBER: {
        int exact = 0;
        lua_Integer integer = lua_tointegerx(L, 2, &exact);
        if (!exact) { lua_pushnil(L); return 1; }
        key.type = LUA_TNUMBER;
        key.integer = (int64_t)integer;
        key.string = NULL;
        key.length = 0;
        break;
    }
    default:
        lua_pushnil(L);
        return 1;
    }
    sh_state_info *info = sh_info(L);
    sh_opbuf *out = info->scratch;
    sh_opbuf_reset(out);
    if (sh_get_callbacks()->view_index(info->host, view->node, &key, out) < 0) {
        return raise_message(L, out);
    }
    sh_build_values(L, out);                          /* 3: value */
    if (lua_type(L, 3) != LUA_TNIL) {
        if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {  /* 4: cache */
            lua_pop(L, 1);
            lua_createtable(L, 0, 4);
            lua_pushvalue(L, -1);
            lua_setiuservalue(L, 1, 1);
        }
        lua_pushvalue(L, 2);
        lua_pushvalue(L, 3);
        lua_rawset(L, 4);
        lua_settop(L, 3);
    }
    return 1;
}

static int view_newindex(lua_State *L) {
    if (lua_type(L, 2) == LUA_TSTRING) {
        return luaL_error(L, "attempt to assign to field '%s' of a read-only table", lua_tostring(L, 2));
    }
    return luaL_error(L, "attempt to assign to a read-only table");
}

static int view_len(lua_State *L) {
    view_userdata *view = (view_userdata *)lua_touserdata(L, 1);
    lua_pushinteger(L, (lua_Integer)sh_get_callbacks()->view_length(sh_info(L)->host, view->node));
    return 1;
}

/* upvalues: 1 = array of keys, 2 = the view, 3 = position */
static int view_pairs_next(lua_State *L) {
    lua_Integer position = lua_tointeger(L, lua_upvalueindex(3));
    for (;;) {
        position += 1;
        if (lua_rawgeti(L, lua_upvalueindex(1), position) == LUA_TNIL) return 0;
        lua_pushinteger(L, position);
        lua_replace(L, lua_upvalueindex(3));
        lua_pushvalue(L, -1);
        if (lua_gettable(L, lua_upvalueindex(2)) != LUA_TNIL) return 2;
        lua_pop(L, 2);
    }
}

/* Pushes the array of the view's keys, in the order Swift gives them. */
static void push_view_keys(lua_State *L, int index) {
    view_userdata *view = (view_userdata *)lua_touserdata(L, index);
    sh_state_info *info = sh_info(L);
    sh_opbuf *out = info->scratch;
    sh_opbuf_reset(out);
    if (sh_get_callbacks()->view_keys(info->host, view->node, out) < 0) {
        raise_message(L, out);
        return;
    }
    int base = lua_gettop(L);
    sh_build_values(L, out);
    int count = lua_gettop(L) - base;
    lua_createtable(L, count, 0);
    for (int i = 1; i <= count; i++) {
        lua_pushvalue(L, base + i);
        lua_rawseti(L, -2, i);
    }
    if (count > 0) {
        lua_replace(L, base + 1);  /* with no keys the table is already there */
        lua_settop(L, base + 1);
    }
}

static int view_pairs(lua_State *L) {
    check_view(L);
    push_view_keys(L, 1);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, view_pairs_next, 3);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* next(view, key) for views: the key after `key` in the view's key order. */
int sh_view_next(lua_State *L) {
    lua_settop(L, 2);
    push_view_keys(L, 1);
    int keys = lua_gettop(L);
    lua_Integer position = 1;
    if (!lua_isnoneornil(L, 2)) {
        for (position = 1;; position++) {
            if (lua_rawgeti(L, keys, position) == LUA_TNIL) return luaL_error(L, "invalid key to 'next'");
            int same = lua_rawequal(L, -1, 2);
            lua_pop(L, 1);
            if (same) { position += 1; break; }
        }
    }
    for (;; position++) {
        if (lua_rawgeti(L, keys, position) == LUA_TNIL) {
            lua_pushnil(L);
            return 1;
        }
        lua_pushvalue(L, -1);
        if (lua_gettable(L, 1) != LUA_TNIL) return 2;
        lua_pop(L, 2);
    }
}

static int view_tostring(lua_State *L) {
    lua_pushfstring(L, "table (read-only): %p", lua_topointer(L, 1));
    return 1;
}

static int view_gc(lua_State *L) {
    view_userdata *view = (view_userdata *)lua_touserdata(L, 1);
    if (view != NULL && view->node != NULL) {
        void *node = view->node;
        view->node = NULL;
        sh_get_callbacks()->release(node);
    }
    return 0;
}

void sh_open_views(lua_State *L) {
    luaL_newmetatable(L, SH_REGISTRY_VIEW_MT);
    static const luaL_Reg methods[] = {
        {"__index", view_index},
        {"__newindex", view_newindex},
        {"__len", view_len},
        {"__pairs", view_pairs},
        {"__tostring", view_tostring},
        {"__gc", view_gc},
        {NULL, NULL},
    };
    luaL_setfuncs(L, methods, 0);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

/* MARK: - Swift functions */

int sh_trampoline(lua_State *L) {
    sh_state_info *info = sh_info(L);
    void *box = lua_touserdata(L, lua_upvalueindex(1));
    sh_opbuf *out = info->scratch;
    sh_opbuf_reset(out);
    int results = sh_get_callbacks()->call(info->host, box, L, lua_gettop(L), out);
    if (results < 0) return raise_message(L, out);
    sh_build_values(L, out);
    return results;
}
