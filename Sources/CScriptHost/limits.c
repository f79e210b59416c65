/*
 * Limits of a sandboxed state: the counting allocator with its cap, the count
 * hook that enforces the instruction budget and the deadline, the watchdog
 * that enforces the deadline without a hook, and the panic handler. Once a
 * limit is hit, the hook fires on every instruction and raises again, so a
 * script's own pcall cannot swallow the kill; the host trusts `limit_hit`,
 * not the status a call returns.
 *
 * Two modes (chosen per call from the limits):
 *
 * - Budget mode (an instruction budget is set): a count hook runs from the
 *   first instruction, so the count is deterministic (one seed, one result).
 *   Lua 5.4 sets the VM's `trap` for any count hook and then calls
 *   `luaG_traceexec` on every instruction to decrement the hook count, so
 *   this mode costs about one function call per VM instruction whatever the
 *   hook interval (measured: a tight loop runs about 2x slower).
 *
 * - Hookless mode (no budget): no hook at all while the call is within its
 *   limits. A process-wide watchdog thread looks every millisecond at the
 *   states inside a call and, once a call's deadline has passed, arms the
 *   count hook asynchronously (`lua_sethook` is written to be callable
 *   asynchronously, as lua.c does from its SIGINT handler); the hook then
 *   raises and re-arms as in budget mode. The allocator arms the hook itself,
 *   synchronously, when the memory cap is hit. Long library calls poll the
 *   clock (and the watchdog's verdict) as before.
 *
 * Asynchronous arming walks the state's chain of CallInfo records (to set
 * their `trap`) from another thread. A record is freed only by the state's
 * own thread, through our allocator (luaE_shrinkCI during a collection), so
 * the allocator waits while the watchdog is arming before it frees a block of
 * the size of a CallInfo; fences on both sides order this (Dekker style). The
 * end of a call waits the same way, so the watchdog never arms a state after
 * its call ended.
 */
#include "CScriptHost.h"
#include "bounded.h"

#include <errno.h>
#include <lauxlib.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Library work is charged to the instruction budget per poll, one poll per
 * quantum of the work meter (bounded.h), which is calibrated to cost about
 * as much time as this many VM instructions; so in a deterministic run the
 * budget (not the wall clock) stops long library work as it stops a loop. */
#define SH_POLL_COST 1000

/* sizeof(CallInfo) in Lua 5.4 on LP64 (lstate.h: 4 pointers, a 24-byte union,
 * an int, two shorts): frees of blocks of this size wait for the watchdog.
 * This is the one fact of the VM's private layout ScriptHost relies on, so it
 * is checked twice: here at build time (Lua 5.4 headers, 64-bit pointers),
 * and once per process by a probe (sh_layout_problem) that watches the
 * allocations of nested calls in a scratch state; the sandbox refuses to open
 * when they differ. */
#define SH_CALLINFO_SIZE 64
#if LUA_VERSION_NUM != 504 || LUA_VERSION_RELEASE_NUM < 50400 || LUA_VERSION_RELEASE_NUM > 50499
#error "limits.c assumes Lua 5.4's CallInfo size (SH_CALLINFO_SIZE); check lstate.h of this Lua and update it"
#endif
_Static_assert(sizeof(void *) == 8 && sizeof(lua_Integer) == 8, "SH_CALLINFO_SIZE is the size on LP64");

/* How often the watchdog looks at the states inside a call. */
#define SH_WATCHDOG_TICK_NS 1000000L
/* Idle ticks (no state inside a call) before the watchdog parks. */
#define SH_WATCHDOG_IDLE_TICKS 200

enum { SH_HOOK_NONE = 0, SH_HOOK_COUNT = 1 };

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

/* MARK: - Watchdog */

typedef struct sh_watch {
    /* written by the state's thread */
    _Atomic uint64_t active;      /* serial of the call in progress; 0 between calls */
    _Atomic int64_t deadline_ns;  /* deadline of that call */
    /* written by the watchdog */
    _Atomic uint64_t fired;       /* serial of the call whose deadline passed */
    _Atomic int arming;           /* inside lua_sethook on this state */
    uint64_t seen;                /* the last serial the watchdog saw */
    int64_t deadline_at;          /* its deadline, from the watchdog's clock */
    lua_State *L;
    struct sh_watch *next;
    struct sh_watch *previous;
} sh_watch;

static pthread_mutex_t g_watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_watch_wake = PTHREAD_COND_INITIALIZER;
static sh_watch *g_watch_list;
static _Atomic int g_watch_parked;
static pthread_once_t g_watch_once = PTHREAD_ONCE_INIT;
static int g_watch_running;

static int any_active_locked(void) {
    for (sh_watch *w = g_watch_list; w != NULL; w = w->next) {
        if (atomic_load(&w->active) != 0) return 1;
    }
    return 0;
}

static void *watchdog_main(void *unused) {
    (void)unused;
    int idle = 0;
    pthread_mutex_lock(&g_watch_lock);
    for (;;) {
        int any = 0;
        int64_t now = sh_now_ns();
        for (sh_watch *w = g_watch_list; w != NULL; w = w->next) {
            uint64_t serial = atomic_load(&w->active);
            if (serial == 0) continue;
            any = 1;
            if (serial != w->seen) {
                /* First sight of this call: its deadline starts now, so it
                 * is never early (at most one tick late). */
                w->seen = serial;
                w->deadline_at = now + atomic_load_explicit(&w->deadline_ns, memory_order_relaxed);
                continue;
            }
            if (now < w->deadline_at) continue;
            atomic_store(&w->fired, serial);
            atomic_store(&w->arming, 1);
            atomic_thread_fence(memory_order_seq_cst);
            /* Re-armed on every tick while the call lasts: idempotent, and it
             * repairs an arming that raced with the state's own lua_sethook. */
            if (atomic_load(&w->active) == serial) lua_sethook(w->L, sh_hook, LUA_MASKCOUNT, 1);
            atomic_store(&w->arming, 0);
        }
        idle = any ? 0 : idle + 1;
        if (idle >= SH_WATCHDOG_IDLE_TICKS) {
            idle = 0;
            atomic_store(&g_watch_parked, 1);
            if (!any_active_locked()) {
                while (atomic_load(&g_watch_parked)) pthread_cond_wait(&g_watch_wake, &g_watch_lock);
            }
            atomic_store(&g_watch_parked, 0);
            continue;
        }
        pthread_mutex_unlock(&g_watch_lock);
        struct timespec tick = {0, SH_WATCHDOG_TICK_NS};
        while (nanosleep(&tick, &tick) != 0 && errno == EINTR) {}
        pthread_mutex_lock(&g_watch_lock);
    }
    return NULL;
}

static void start_watchdog(void) {
    pthread_attr_t attributes;
    if (pthread_attr_init(&attributes) != 0) return;
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    /* The watchdog must not receive the process's signals. */
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pthread_t thread;
    g_watch_running = pthread_create(&thread, &attributes, watchdog_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    pthread_attr_destroy(&attributes);
}

static void watch_register(sh_state_info *info, lua_State *L) {
    pthread_once(&g_watch_once, start_watchdog);
    if (!g_watch_running) return;
    sh_watch *w = calloc(1, sizeof(sh_watch));
    if (w == NULL) return;
    w->L = L;
    pthread_mutex_lock(&g_watch_lock);
    w->next = g_watch_list;
    if (g_watch_list != NULL) g_watch_list->previous = w;
    g_watch_list = w;
    pthread_mutex_unlock(&g_watch_lock);
    info->watch = w;
}

static void watch_unregister(sh_state_info *info) {
    sh_watch *w = (sh_watch *)info->watch;
    if (w == NULL) return;
    pthread_mutex_lock(&g_watch_lock);
    if (w->previous != NULL) w->previous->next = w->next; else g_watch_list = w->next;
    if (w->next != NULL) w->next->previous = w->previous;
    pthread_mutex_unlock(&g_watch_lock);
    info->watch = NULL;
    free(w);
}

static void watch_begin(sh_state_info *info) {
    sh_watch *w = (sh_watch *)info->watch;
    info->call_serial += 1;
    atomic_store_explicit(&w->deadline_ns, info->deadline_ns, memory_order_relaxed);
    atomic_store(&w->active, info->call_serial);
    info->watched = 1;
    if (atomic_load(&g_watch_parked)) {
        pthread_mutex_lock(&g_watch_lock);
        atomic_store(&g_watch_parked, 0);
        pthread_cond_signal(&g_watch_wake);
        pthread_mutex_unlock(&g_watch_lock);
    }
}

/* Waits until the watchdog is not inside lua_sethook on this state. */
static inline void watch_wait_arming(sh_watch *w) {
    while (atomic_load(&w->arming)) sched_yield();
}

static void watch_end(sh_state_info *info) {
    sh_watch *w = (sh_watch *)info->watch;
    info->watched = 0;
    atomic_store(&w->active, 0);
    watch_wait_arming(w);
}

static inline int watchdog_fired(const sh_state_info *info) {
    sh_watch *w = (sh_watch *)info->watch;
    return info->watched && atomic_load_explicit(&w->fired, memory_order_relaxed) == info->call_serial;
}

int sh_hookless(const sh_state_info *info) {
    return info->instr_budget == 0 && (info->deadline_ns == 0 || info->watch != NULL);
}

/* MARK: - Hook installation */

static void install_base_hook(lua_State *L, sh_state_info *info) {
    if (sh_hookless(info)) {
        if (lua_gethookmask(L) != 0) lua_sethook(L, NULL, 0, 0);
        info->hook_installed = SH_HOOK_NONE;
    } else if (info->hook_installed != SH_HOOK_COUNT || info->hook_installed_granularity != info->hook_granularity
               || info->hook_rearmed) {
        lua_sethook(L, sh_hook, LUA_MASKCOUNT, info->hook_granularity);
        info->hook_installed = SH_HOOK_COUNT;
        info->hook_installed_granularity = info->hook_granularity;
    }
    info->hook_rearmed = 0;
}

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
    if (nsize == 0) {
        if (ptr == NULL) return NULL;
        /* When ptr is not NULL, osize is its size. */
        if (osize == SH_CALLINFO_SIZE && info->watched) {
            atomic_thread_fence(memory_order_seq_cst);
            watch_wait_arming((sh_watch *)info->watch);
        }
        free(ptr);
        info->mem_used -= osize;
        return NULL;
    }
    /* When ptr is NULL, osize is the kind of object being created, not a size. */
    size_t old = ptr != NULL ? osize : 0;
    if (nsize > old && info->mem_cap != 0 && info->mem_used - old + nsize > info->mem_cap) {
        if (info->enforcing) record_hit(info, SH_LIMIT_MEMORY);
        return NULL;
    }
    void *block = ptr != NULL ? realloc(ptr, nsize) : malloc(nsize);
    if (block == NULL) {
        if (info->enforcing) record_hit(info, SH_LIMIT_MEMORY);
        return NULL;
    }
    size_t used = info->mem_used - old + nsize;
    info->mem_used = used;
    if (used > info->mem_peak) info->mem_peak = used;
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
    if (watchdog_fired(info)) return 1;
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
    if (info->hook_installed == SH_HOOK_NONE) {
        /* Hookless mode: only the watchdog (or a stale arming) runs us. */
        if (watchdog_fired(info)) {
            record_hit(info, SH_LIMIT_DEADLINE);
            sh_raise_limit(L);
        }
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

/* Charges `polls` polls to the budget (saturating) and checks the limits;
 * returns the limit hit, or SH_LIMIT_NONE. Never raises. */
static int charge_polls(sh_state_info *info, size_t polls) {
    if (!info->enforcing) return SH_LIMIT_NONE;
    if (info->limit_hit != SH_LIMIT_NONE) return info->limit_hit;
    int64_t charge = polls > (size_t)(INT64_MAX / SH_POLL_COST) ? INT64_MAX : (int64_t)polls * SH_POLL_COST;
    info->instr_used = charge > INT64_MAX - info->instr_used ? INT64_MAX : info->instr_used + charge;
    if (info->instr_budget != 0 && info->instr_used > info->instr_budget) {
        record_hit(info, SH_LIMIT_INSTRUCTIONS);
    } else if (deadline_passed(info)) {
        record_hit(info, SH_LIMIT_DEADLINE);
    }
    return info->limit_hit;
}

int sh_limits_exceeded(lua_State *L) { return charge_polls(info_of(L), 1); }

void sh_poll_limits(lua_State *L) {
    if (sh_limits_exceeded(L) != SH_LIMIT_NONE) sh_raise_limit(L);
}

void sh_meter_overflow(lua_State *L, size_t units) {
    sh_state_info *info = info_of(L);
    /* The caller found units >= meter_left: the quantum in progress is used
     * up, and so is every whole quantum of the rest. */
    size_t beyond = units - info->meter_left;
    info->meter_left = SH_METER_QUANTUM - (uint32_t)(beyond % SH_METER_QUANTUM);
    if (charge_polls(info, 1 + beyond / SH_METER_QUANTUM) != SH_LIMIT_NONE) sh_raise_limit(L);
}

/* sh_precheck compares work of at least this many units with the time left
 * before the deadline, at this many nanoseconds a unit (bounded.h). */
#define SH_PRECHECK_ESTIMATE_UNITS 16384
#define SH_NS_PER_UNIT 4

void sh_precheck(lua_State *L, size_t bytes, size_t units) {
    sh_state_info *info = info_of(L);
    if (!info->enforcing) return;
    if (info->limit_hit != SH_LIMIT_NONE) sh_raise_limit(L);
    if (info->mem_cap != 0 && (info->mem_used > info->mem_cap || bytes > info->mem_cap - info->mem_used)) {
        sh_raise_memory_limit(L);
    }
    sh_meter meter;
    sh_meter_init(&meter, L);
    sh_meter_tick(&meter, units);
    if (info->deadline_ns == 0 || units < SH_PRECHECK_ESTIMATE_UNITS) return;
    if (deadline_passed(info)) {
        record_hit(info, SH_LIMIT_DEADLINE);
        sh_raise_limit(L);
    }
    /* Work that cannot finish before the deadline is refused before it starts. */
    int64_t estimate = units > (size_t)(INT64_MAX / 2 / SH_NS_PER_UNIT) ? INT64_MAX / 2 : (int64_t)units * SH_NS_PER_UNIT;
    if (info->deadline_at != 0 && sh_now_ns() + estimate > info->deadline_at) {
        record_hit(info, SH_LIMIT_DEADLINE);
        sh_raise_limit(L);
    }
}

void sh_begin_call(lua_State *L) {
    sh_state_info *info = info_of(L);
    info->instr_used = 0;
    info->meter_left = SH_METER_QUANTUM;
    info->deadline_at = 0;
    info->limit_hit = SH_LIMIT_NONE;
    info->error_line = 0;
    info->error_source[0] = '\0';
    info->has_traceback = 0;
    install_base_hook(L, info);
    info->enforcing = 1;
    if (info->deadline_ns != 0 && info->hook_installed == SH_HOOK_NONE) watch_begin(info);
}

void sh_end_call(lua_State *L) {
    sh_state_info *info = info_of(L);
    info->enforcing = 0;
    if (info->watched) watch_end(info);
    if (info->hook_installed == SH_HOOK_NONE) {
        /* Armed by the watchdog or the allocator during the call. */
        if (lua_gethookmask(L) != 0) lua_sethook(L, NULL, 0, 0);
        info->hook_rearmed = 0;
    } else if (info->hook_rearmed) {
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

/* MARK: - Layout probe */

typedef struct layout_probe {
    size_t frame_size;
    int recording;
    int frames;        /* untagged allocations of frame_size bytes */
    int others;        /* untagged allocations of any other size */
} layout_probe;

static void *probe_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    layout_probe *probe = (layout_probe *)ud;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    /* A new block with osize 0 is no Lua object: nested calls make only
     * call frames (CallInfo) that way. */
    if (ptr == NULL && osize == 0 && probe->recording) {
        if (nsize == probe->frame_size) probe->frames++; else probe->others++;
    }
    return realloc(ptr, nsize);
}

static int probe_nest(lua_State *L) {
    lua_Integer depth = lua_tointeger(L, 1);
    if (depth > 0) {
        lua_pushcfunction(L, probe_nest);
        lua_pushinteger(L, depth - 1);
        lua_call(L, 1, 0);
    }
    return 0;
}

#define PROBE_DEPTH 8

int sh_probe_layout(size_t frame_size) {
    layout_probe probe = {frame_size, 0, 0, 0};
    lua_State *L = lua_newstate(probe_alloc, &probe);
    if (L == NULL) return SH_LAYOUT_UNCHECKED;
    int result = SH_LAYOUT_OK;
    if (lua_version(L) != LUA_VERSION_NUM) {
        result = SH_LAYOUT_OTHER_VERSION;
    } else {
        lua_pushcfunction(L, probe_nest);
        lua_pushinteger(L, PROBE_DEPTH);
        probe.recording = 1;
        int status = lua_pcall(L, 1, 0, 0);
        probe.recording = 0;
        /* A failed run (out of memory) says nothing about the layout. */
        if (status != LUA_OK) result = SH_LAYOUT_UNCHECKED;
        else if (probe.frames < PROBE_DEPTH || probe.others != 0) result = SH_LAYOUT_OTHER_FRAME_SIZE;
    }
    lua_close(L);
    return result;
}

/* The verdict on SH_CALLINFO_SIZE, once it is known; a probe that could not
 * run (no memory) is tried again by the next sandbox. */
static pthread_mutex_t g_layout_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_layout_known;
static const char *g_layout_problem;

const char *sh_layout_problem(void) {
    pthread_mutex_lock(&g_layout_lock);
    const char *problem = g_layout_problem;
    if (!g_layout_known) {
        switch (sh_probe_layout(SH_CALLINFO_SIZE)) {
        case SH_LAYOUT_OK:
            problem = NULL;
            g_layout_known = 1;
            break;
        case SH_LAYOUT_OTHER_VERSION:
            problem = "ScriptHost: the Lua library linked is not the version of the headers it was built with";
            g_layout_known = 1;
            break;
        case SH_LAYOUT_OTHER_FRAME_SIZE:
            problem = "ScriptHost: this Lua library's call frames (CallInfo) are not 64 bytes, which "
                "the deadline watchdog relies on (limits.c, SH_CALLINFO_SIZE); refusing to open a sandbox";
            g_layout_known = 1;
            break;
        default:
            problem = "ScriptHost: not enough memory to check the Lua library's layout (a scratch state "
                "failed); refusing to open a sandbox this time";
            break;
        }
        g_layout_problem = problem;
    }
    pthread_mutex_unlock(&g_layout_lock);
    return problem;
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
    info->hook_installed = SH_HOOK_NONE;
    lua_atpanic(L, sh_panic);
    watch_register(info, L);
    return L;
}

void sh_close(lua_State *L) {
    sh_state_info *info = info_of(L);
    watch_unregister(info);
    lua_close(L);
}
