/*
 * The op buffer: Swift writes values as a flat list of ops (it must never
 * call a Lua API that allocates, since an allocation failure raises), and C
 * builds them on the Lua stack inside a protected call.
 */
#include "CScriptHost.h"
#include "internal.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

void sh_opbuf_init(sh_opbuf *b) { memset(b, 0, sizeof(*b)); }

void sh_opbuf_release_views(sh_opbuf *b) {
    for (size_t index = 0; index < b->count && b->nviews != 0; index++) {
        sh_op *op = &b->ops[index];
        if ((op->code == SH_OP_VIEW || op->code == SH_OP_VIEW_FILLED) && op->pointer != NULL) {
            void *node = op->pointer;
            op->pointer = NULL;
            b->nviews -= 1;
            sh_get_callbacks()->release(node);
        }
    }
    b->nviews = 0;
}

int sh_opbuf_push_view(sh_opbuf *b, int32_t code, void *node) {
    if (!sh_opbuf_push(b, code, 0, 0, node)) {
        sh_get_callbacks()->release(node);
        return 0;
    }
    b->nviews += 1;
    return 1;
}

void sh_opbuf_free(sh_opbuf *b) {
    sh_opbuf_release_views(b);
    free(b->ops);
    free(b->bytes);
    memset(b, 0, sizeof(*b));
}

int sh_opbuf_grow(sh_opbuf *b, size_t extra_ops, size_t extra_bytes) {
    if (b->count + extra_ops > b->capacity) {
        size_t capacity = b->capacity ? b->capacity * 2 : 16;
        while (capacity < b->count + extra_ops) capacity *= 2;
        sh_op *ops = realloc(b->ops, capacity * sizeof(sh_op));
        if (ops == NULL) return 0;
        b->ops = ops;
        b->capacity = capacity;
    }
    if (b->nbytes + extra_bytes > b->capbytes) {
        size_t capacity = b->capbytes ? b->capbytes * 2 : 256;
        while (capacity < b->nbytes + extra_bytes) capacity *= 2;
        char *bytes = realloc(b->bytes, capacity);
        if (bytes == NULL) return 0;
        b->bytes = bytes;
        b->capbytes = capacity;
    }
    return 1;
}

int sh_opbuf_push_string(sh_opbuf *b, const char *bytes, size_t length) {
    if (!sh_opbuf_grow(b, 1, length)) return 0;
    if (length > 0) memcpy(b->bytes + b->nbytes, bytes, length);
    sh_op *op = &b->ops[b->count++];
    op->code = SH_OP_STRING;
    op->pad = 0;
    op->i = 0;
    op->n = 0;
    op->offset = b->nbytes;
    op->length = length;
    op->pointer = NULL;
    b->nbytes += length;
    return 1;
}

static inline void build_op(lua_State *L, const sh_opbuf *b, const sh_op *op) {
    switch (op->code) {
    case SH_OP_NIL: lua_pushnil(L); break;
    case SH_OP_FALSE: lua_pushboolean(L, 0); break;
    case SH_OP_TRUE: lua_pushboolean(L, 1); break;
    case SH_OP_INTEGER: lua_pushinteger(L, (lua_Integer)op->i); break;
    case SH_OP_NUMBER: lua_pushnumber(L, (lua_Number)op->n); break;
    case SH_OP_STRING: lua_pushlstring(L, b->bytes + op->offset, op->length); break;
    case SH_OP_NEWTABLE: lua_createtable(L, (int)(op->i >> 32), (int)(op->i & 0xffffffff)); break;
    case SH_OP_SETFIELD: lua_rawset(L, -3); break;
    case SH_OP_REF: lua_rawgeti(L, LUA_REGISTRYINDEX, (lua_Integer)op->i); break;
    case SH_OP_VIEW:
    case SH_OP_VIEW_FILLED: {
        /* The view takes over the op's reference once it exists. */
        sh_op *owned = (sh_op *)op;
        void *node = owned->pointer;
        if (node == NULL) { lua_pushnil(L); break; }
        if (op->code == SH_OP_VIEW) sh_push_view(L, node); else sh_push_filled_view(L, node);
        owned->pointer = NULL;
        ((sh_opbuf *)b)->nviews -= 1;
        break;
    }
    default: luaL_error(L, "internal error: unknown value op %d", (int)op->code);
    }
}

/* Every op pushes at most one value, so `count` slots always suffice. */
#define SH_SMALL_BUFFER 16

void sh_build_values_room(lua_State *L, const sh_opbuf *b, int room) {
    if (b->count + 2 > (size_t)room) {
        sh_build_values(L, b);
        return;
    }
    for (size_t index = 0; index < b->count; index++) build_op(L, b, &b->ops[index]);
}

void sh_build_values(lua_State *L, const sh_opbuf *b) {
    if (b->count <= SH_SMALL_BUFFER) {
        luaL_checkstack(L, SH_SMALL_BUFFER + 4, "too many values");  /* a view needs 2 more */
        for (size_t index = 0; index < b->count; index++) build_op(L, b, &b->ops[index]);
        return;
    }
    luaL_checkstack(L, 8, "too many values");
    for (size_t index = 0; index < b->count; index++) {
        const sh_op *op = &b->ops[index];
        if (op->code == SH_OP_NEWTABLE) luaL_checkstack(L, 4, "value nested too deeply");
        build_op(L, b, op);
        if (op->code != SH_OP_SETFIELD && op->code != SH_OP_NEWTABLE) {
            luaL_checkstack(L, 4, "too many values");
        }
    }
}

int sh_push_error_message(lua_State *L, const sh_opbuf *b) {
    if (b->count == 1 && b->ops[0].code == SH_OP_STRING) {
        lua_pushlstring(L, b->bytes + b->ops[0].offset, b->ops[0].length);
    } else {
        lua_pushliteral(L, "error in a host function");
    }
    return 1;
}
