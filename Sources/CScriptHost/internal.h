/* Declarations shared by the C files of CScriptHost; not part of its API. */
#ifndef SENTINEL_CSCRIPTHOST_INTERNAL_H
#define SENTINEL_CSCRIPTHOST_INTERNAL_H

#include "CScriptHost.h"

#define SH_REGISTRY_SANDBOX "sentinel.sandbox"
#define SH_REGISTRY_VIEW_MT "sentinel.view"
#define SH_REGISTRY_ENV_MT "sentinel.env"
#define SH_REGISTRY_TRACEBACK "sentinel.traceback"

static inline sh_state_info *sh_info(lua_State *L) {
    return *(sh_state_info **)lua_getextraspace(L);
}

const sh_callbacks *sh_get_callbacks(void);

/* Pushes a read-only view over `node`, taking over one reference to it.
 * May raise (the caller then still owns the reference). */
void sh_push_view(lua_State *L, void *node);
/* Wraps the table on top into a view over `node` that already holds every
 * key (lookups of other keys give nil without asking Swift). May raise. */
void sh_push_filled_view(lua_State *L, void *node);
/* Is the value at `index` one of our read-only views? */
int sh_is_view(lua_State *L, int index);
/* Creates the metatable of views in the registry. May raise. */
void sh_open_views(lua_State *L);
/* Pushes the single string of `b` (an error message written by Swift). */
int sh_push_error_message(lua_State *L, const sh_opbuf *b);
/* Calls a Swift function; upvalue 1 is its box. */
int sh_trampoline(lua_State *L);

#endif
