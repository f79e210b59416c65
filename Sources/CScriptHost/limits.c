/*
 * Limits of a sandboxed state: the counting allocator with its cap, the count
 * hook that enforces the instruction budget and the deadline, and the panic
 * handler. Once a limit is hit, the hook fires on every instruction and
 * raises again, so a script's own pcall cannot swallow the kill; the host
 * trusts `limit_hit`, not the status a call returns.
 */
#include "CScriptHost.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Long library calls are charged against the instruction budget per poll (one poll covers roughly
 * 1,000 to 3,000 instructions worth of work), so
 * that in a deterministic run the budget (not the wall clock) stops them. */
#define SH_POLL_COST 1000

static sh_callbacks g_callbacks;

void sh_set_callbacks(const sh_callbacks *callbacks) { g_callbacks = *callbacks; }

const sh_callbacks *sh_get_callbacks(void) { return &g_callbacks; }

static inline sh_state_info *info_of(lua_State *L) {
    return *(sh_state_info **)lua_getextraspace(L);
}

int64_t sh_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sh_hook(lua_State *L, lua_Debug *ar);

static void rearm(sh_state_info *info) {
    if (!info->hook_rearmed && info->state != NULL) {
        info->hook_rearmed = 1;
        lua_sethook(info->state, sh_hook, LUA_MASKCOUNT, 1);
    }
}

static void record_hit(sh_state_info *info, int kind) {
    if (info->limit_hit == SH_LIMIT_NONE) info->limit_hit = kind;
    rearm(info);
}

/* MARK: - Allocator */

static void *sh_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    sh_state_info *info = (sh_state_info *)ud;
    /* When ptr is NULL, osize is the kind of object being created, not a size. */
    size_t old = ptr != NULL ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        info->mem_used -= old;
        return NULL;
    }
    if (nsize > old && info->mem_cap != 0 && info->mem_used - old + nsize > info->mem_cap) {
        if (info->enforcing) record_hit(info, SH_LIMIT_MEMORY);
        return NULL;
    }
    void *block = realloc(ptr, nsize);
    if (block == NULL) {
        if (info->enforcing) record_hit(info, SH_LIMIT_MEMORY);
        return NULL;
    }
    info->mem_used = info->mem_used - old + nsize;
    if (info->mem_used > info->mem_peak) info->mem_peak = info->mem_used;
    return block;
}

/* MARK: - Hook and polling */

static const char *limit_message(int kind) {
    switch (kind) {
    case SH_LIMIT_INSTRUCTIONS: return "instruction budget exhausted";
    case SH_LIMIT_DEADLINE: return "deadline exceeded";
    case SH_LIMIT_MEMORY: return "memory limit reached";
    default: return "limit reached";
    }
}

int sh_raise_limit(lua_State *L) {
    return luaL_error(L, "%s", limit_message(info_of(L)->limit_hit));
}

int sh_raise_memory_limit(lua_State *L) {
    sh_state_info *info = info_of(L);
    if (info->enforcing) record_hit(info, SH_LIMIT_MEMORY);
    return luaL_error(L, "not enough memory");
}

static int deadline_passed(sh_state_info *info) {
    if (info->deadline_ns == 0) return 0;
    int64_t now = sh_now_ns();
    if (info->deadline_at == 0) {
        /* Armed lazily: a short call never reads the clock. */
        info->deadline_at = now + info->deadline_ns;
        return 0;
    }
    return now >= info->deadline_at;
}

static void sh_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    sh_state_info *info = info_of(L);
    if (!info->enforcing) return;
    if (info->limit_hit != SH_LIMIT_NONE) {
        rearm(info);
        sh_raise_limit(L);
        return;
    }
    info->instr_used += info->hook_rearmed ? 1 : info->hook_granularity;
    if (info->instr_budget != 0 && info->instr_used > info->instr_budget) {
        record_hit(info, SH_LIMIT_INSTRUCTIONS);
        sh_raise_limit(L);
        return;
    }
    if (deadline_passed(info)) {
        record_hit(info, SH_LIMIT_DEADLINE);
        sh_raise_limit(L);
    }
}

int sh_limits_exceeded(lua_State *L) {
    sh_state_info *info = info_of(L);
    if (!info->enforcing) return SH_LIMIT_NONE;
    if (info->limit_hit != SH_LIMIT_NONE) return info->limit_hit;
    info->instr_used += SH_POLL_COST;
    if (info->instr_budget != 0 && info->instr_used > info->instr_budget) {
        record_hit(info, SH_LIMIT_INSTRUCTIONS);
    } else if (deadline_passed(info)) {
        record_hit(info, SH_LIMIT_DEADLINE);
    }
    return info->limit_hit;
}

void sh_poll_limits(lua_State *L) {
    if (sh_limits_exceeded(L) != SH_LIMIT_NONE) sh_raise_limit(L);
}

void sh_begin_call(lua_State *L) {
    sh_state_info *info = info_of(L);
    info->instr_used = 0;
    info->deadline_at = 0;
    info->limit_hit = SH_LIMIT_NONE;
    info->error_line = 0;
    info->error_source[0] = '\0';
    info->has_traceback = 0;
    if (info->hook_rearmed) {
        info->hook_rearmed = 0;
        lua_sethook(L, sh_hook, LUA_MASKCOUNT, info->hook_granularity);
    }
    info->enforcing = 1;
}

void sh_end_call(lua_State *L) {
    sh_state_info *info = info_of(L);
    info->enforcing = 0;
    if (info->hook_rearmed) {
        info->hook_rearmed = 0;
        lua_sethook(L, sh_hook, LUA_MASKCOUNT, info->hook_granularity);
    }
}

/* MARK: - Panic */

static int sh_panic(lua_State *L) {
    sh_state_info *info = info_of(L);
    info->panicked = 1;
    const char *message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(error object is not a string)";
    if (g_callbacks.panic != NULL) g_callbacks.panic(info->host, message);
    /* Returning lets Lua abort: a panic means an unprotected call, which the
     * host never makes. The callback has logged it first. */
    return 0;
}

/* MARK: - State */

lua_State *sh_newstate(sh_state_info *info) {
    lua_State *L = lua_newstate(sh_alloc, info);
    if (L == NULL) return NULL;
    *(sh_state_info **)lua_getextraspace(L) = info;
    info->state = L;
    if (info->hook_granularity <= 0) info->hook_granularity = 1000;
    if (info->instr_budget > 0 && info->instr_budget < info->hook_granularity) {
        info->hook_granularity = (int)info->instr_budget;
    }
    lua_atpanic(L, sh_panic);
    lua_sethook(L, sh_hook, LUA_MASKCOUNT, info->hook_granularity);
    return L;
}
