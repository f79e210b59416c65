/*
 * Protected entry points. Every call from Swift that may allocate or run a
 * metamethod goes through `protected_call`: a message handler that records a
 * traceback, then lua_pcall of a C function. Errors never leave C.
 */
#include "CScriptHost.h"
#include "internal.h"

#include <lauxlib.h>
#include <string.h>

int sh_open_sandbox_function(lua_State *L);
void sh_push_environment(lua_State *L);

/* MARK: - Message handler */

static void record_location(lua_State *L, sh_state_info *info) {
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar)) continue;
        if (ar.currentline > 0) {
            info->error_line = ar.currentline;
            memcpy(info->error_source, ar.short_src, LUA_IDSIZE);
            info->error_source[LUA_IDSIZE - 1] = '\0';
            return;
        }
    }
}

static int message_handler(lua_State *L) {
    sh_state_info *info = sh_info(L);
    if (info->error_line == 0) record_location(L, info);
    /* No traceback once memory is exhausted: building it would fail too. */
    if (info->limit_hit != SH_LIMIT_MEMORY && lua_checkstack(L, 4)) {
        const char *message = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : NULL;
        luaL_traceback(L, L, message, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, SH_REGISTRY_TRACEBACK);
        info->has_traceback = 1;
    }
    lua_settop(L, 1);
    return 1;
}

/* Between host calls the stack is (nearly) empty, and Lua keeps at least
 * LUA_MINSTACK free slots above the base of the main thread; only a deeper
 * stack needs the check. */
static inline int host_room(lua_State *L, int base) {
    return base < LUA_MINSTACK - 8 || lua_checkstack(L, 4);
}

static int protected_call(lua_State *L, lua_CFunction function, void *request, int nresults) {
    int base = lua_gettop(L);
    if (!host_room(L, base)) return LUA_ERRMEM;
    lua_pushcfunction(L, message_handler);
    lua_pushcfunction(L, function);
    lua_pushlightuserdata(L, request);
    int status = lua_pcall(L, 1, nresults, base + 1);
    lua_remove(L, base + 1);
    return status;
}

/* MARK: - Sandbox */

int sh_open_sandbox(lua_State *L, int64_t seed) {
    sh_begin_call(L);
    int status = protected_call(L, sh_open_sandbox_function, &seed, 0);
    sh_end_call(L);
    return status;
}

/* MARK: - Loading */

typedef struct load_request {
    const char *source;
    size_t length;
    const char *chunkname;
    int result_ref;
    int env_ref;
    int syntax_error;
} load_request;

static int load_function(lua_State *L) {
    load_request *request = (load_request *)lua_touserdata(L, 1);
    lua_settop(L, 0);
    if (luaL_loadbufferx(L, request->source, request->length, request->chunkname, "t") != LUA_OK) {
        request->syntax_error = 1;
        return lua_error(L);
    }
    sh_push_environment(L);                     /* 2: environment */
    lua_pushvalue(L, 2);
    if (lua_setupvalue(L, 1, 1) == NULL) lua_pop(L, 1);  /* a chunk's first upvalue is _ENV */
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);                          /* 3: result */
    request->result_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    request->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int sh_load(lua_State *L, const char *source, size_t length, const char *chunkname,
            int *result_ref, int *env_ref) {
    load_request request = {source, length, chunkname, LUA_NOREF, LUA_NOREF, 0};
    sh_begin_call(L);
    int status = protected_call(L, load_function, &request, 0);
    sh_end_call(L);
    if (status == LUA_OK) {
        *result_ref = request.result_ref;
        *env_ref = request.env_ref;
    } else if (request.syntax_error && status == LUA_ERRRUN) {
        status = LUA_ERRSYNTAX;
    }
    return status;
}

/* MARK: - Calling */

typedef struct call_request {
    int function_ref;
    const char *field;
    const sh_opbuf *args;
} call_request;

/* Stack: 1 = the request. Leaves the results above it. */
static int call_function(lua_State *L) {
    call_request *request = (call_request *)lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, request->function_ref);
    if (request->field != NULL) {
        lua_getfield(L, 2, request->field);
        lua_replace(L, 2);
    }
    /* A C function has LUA_MINSTACK free slots; two are used. */
    if (request->args != NULL) sh_build_values_room(L, request->args, LUA_MINSTACK - 2);
    lua_call(L, lua_gettop(L) - 2, LUA_MULTRET);
    return lua_gettop(L) - 1;
}

int sh_call(lua_State *L, int function_ref, const char *field, const sh_opbuf *args) {
    call_request request = {function_ref, field, args};
    int base = lua_gettop(L);
    if (!host_room(L, base)) return LUA_ERRMEM;
    sh_begin_call(L);
    lua_pushcfunction(L, message_handler);
    lua_pushcfunction(L, call_function);
    lua_pushlightuserdata(L, &request);
    int status = lua_pcall(L, 1, LUA_MULTRET, base + 1);
    sh_end_call(L);
    /* On success the message handler stays below the results (the host
     * drops both); on error only the error object remains. */
    if (status != LUA_OK) lua_remove(L, base + 1);
    return status;
}

/* MARK: - References */

typedef struct field_request {
    int ref;
    const char *field;
} field_request;

static int get_field(lua_State *L) {
    field_request *request = (field_request *)lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, request->ref);
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, request->field);
    lua_rawget(L, -2);
    return 1;
}

int sh_push_field(lua_State *L, int ref, const char *field) {
    field_request request = {ref, field};
    return protected_call(L, get_field, &request, 1);
}

typedef struct ref_request {
    const sh_opbuf *values;
    int ref;
} ref_request;

static int make_ref(lua_State *L) {
    ref_request *request = (ref_request *)lua_touserdata(L, 1);
    lua_settop(L, 0);
    sh_build_values(L, request->values);
    lua_settop(L, 1);
    request->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int sh_make_ref(lua_State *L, const sh_opbuf *b, int *ref) {
    ref_request request = {b, LUA_NOREF};
    int status = protected_call(L, make_ref, &request, 0);
    if (status == LUA_OK) *ref = request.ref;
    return status;
}

static int ref_value(lua_State *L) {
    int *ref = (int *)lua_touserdata(L, 1);
    lua_pushvalue(L, 2);
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int sh_ref_top(lua_State *L, int *ref) {
    /* Pass the value as the argument of the protected function. */
    if (!lua_checkstack(L, 4)) return LUA_ERRMEM;
    int base = lua_gettop(L);
    lua_pushcfunction(L, ref_value);
    lua_pushlightuserdata(L, ref);
    lua_pushvalue(L, base);
    int status = lua_pcall(L, 2, 0, 0);
    if (status != LUA_OK) {
        lua_remove(L, base);
        return status;
    }
    lua_settop(L, base - 1);
    return status;
}

static int unref(lua_State *L) {
    int ref = *(int *)lua_touserdata(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    return 0;
}

int sh_unref(lua_State *L, int ref) {
    int status = protected_call(L, unref, &ref, 0);
    if (status != LUA_OK) lua_pop(L, 1);
    return status;
}

/* MARK: - Registering Swift functions */

typedef struct register_request {
    const char *table;
    const char *name;
    void *box;
} register_request;

static int register_function(lua_State *L) {
    register_request *request = (register_request *)lua_touserdata(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, SH_REGISTRY_SANDBOX);
    if (request->table != NULL) {
        if (lua_getfield(L, -1, request->table) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_setfield(L, -3, request->table);
        }
    }
    lua_pushlightuserdata(L, request->box);
    lua_pushcclosure(L, sh_trampoline, 1);
    lua_setfield(L, -2, request->name);
    return 0;
}

int sh_register_function(lua_State *L, const char *table, const char *name, void *box) {
    register_request request = {table, name, box};
    return protected_call(L, register_function, &request, 0);
}

/* MARK: - Errors */

static int error_to_string(lua_State *L) {
    int type = lua_type(L, 1);
    if (type == LUA_TSTRING || type == LUA_TNUMBER) {
        lua_pushstring(L, lua_tostring(L, 1));
        return 1;
    }
    if (luaL_getmetafield(L, 1, "__tostring") != LUA_TNIL) {
        lua_pop(L, 1);
        luaL_tolstring(L, 1, NULL);
        return 1;
    }
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    return 1;
}

int sh_error_to_string(lua_State *L) {
    sh_state_info *info = sh_info(L);
    int64_t budget = info->instr_budget;
    int64_t deadline = info->deadline_ns;
    size_t cap = info->mem_cap;
    int line = info->error_line;
    int limit = info->limit_hit;
    char source[LUA_IDSIZE];
    memcpy(source, info->error_source, LUA_IDSIZE);
    int had_traceback = info->has_traceback;

    /* A small fresh budget, and memory headroom, for a __tostring that loops. */
    info->instr_budget = 100000;
    if (info->deadline_ns == 0 || info->deadline_ns > 10000000) info->deadline_ns = 10000000;
    if (cap != 0) info->mem_cap = cap + 64 * 1024;
    sh_begin_call(L);
    int status = LUA_ERRMEM;
    if (lua_checkstack(L, 4)) {
        int object = lua_gettop(L);
        lua_pushcfunction(L, error_to_string);
        lua_pushvalue(L, object);
        status = lua_pcall(L, 1, 1, 0);
    }
    sh_end_call(L);
    info->instr_budget = budget;
    info->deadline_ns = deadline;
    info->mem_cap = cap;
    info->error_line = line;
    info->limit_hit = limit;
    memcpy(info->error_source, source, LUA_IDSIZE);
    info->has_traceback = had_traceback;
    return status;
}

void sh_push_last_traceback(lua_State *L) {
    if (sh_info(L)->has_traceback && lua_checkstack(L, 1)) {
        lua_getfield(L, LUA_REGISTRYINDEX, SH_REGISTRY_TRACEBACK);
    } else {
        lua_pushnil(L);
    }
}

void sh_collect(lua_State *L) { lua_gc(L, LUA_GCCOLLECT); }
