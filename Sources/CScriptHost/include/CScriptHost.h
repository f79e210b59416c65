/*
 * The C half of ScriptHost: everything that may raise a Lua error lives here,
 * so that no longjmp ever crosses a Swift frame.
 *
 * - the counting allocator with a memory cap,
 * - the limit hook (instruction budget and deadline, re-armed once hit),
 * - the sandbox (base subset, bounded string/table libraries, sorted pairs),
 * - protected entry points that Swift calls (load, call, references),
 * - the value builder that turns a Swift-written op buffer into Lua values,
 * - trampolines for Swift functions and lazy read-only views.
 */
#ifndef SENTINEL_CSCRIPTHOST_H
#define SENTINEL_CSCRIPTHOST_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sh_opbuf;
typedef struct sh_opbuf sh_opbuf;

/* MARK: - Limits */

typedef enum sh_limit_kind {
    SH_LIMIT_NONE = 0,
    SH_LIMIT_INSTRUCTIONS = 1,
    SH_LIMIT_DEADLINE = 2,
    SH_LIMIT_MEMORY = 3,
} sh_limit_kind;

/* Per-state bookkeeping. Lives in Swift-owned memory; the state's extra space
 * and the allocator's `ud` point to it. */
typedef struct sh_state_info {
    /* memory */
    size_t mem_used;
    size_t mem_peak;
    size_t mem_cap;               /* 0 = unlimited */
    /* instructions */
    int64_t instr_budget;         /* per call; 0 = unlimited */
    int64_t instr_used;
    int hook_granularity;         /* instructions between hook calls */
    /* units of library work left before the next poll (bounded.h's meter);
     * carried from one library call to the next, reset per host call */
    uint32_t meter_left;
    /* deadline, in CLOCK_MONOTONIC nanoseconds */
    int64_t deadline_ns;          /* per call; 0 = none */
    int64_t deadline_at;          /* absolute; 0 = not armed yet (armed lazily) */
    /* outcome of the current call */
    int limit_hit;                /* sh_limit_kind of the first limit hit */
    int hook_rearmed;             /* hook count currently 1 */
    int enforcing;                /* limits apply only inside a host call */
    /* where the last error happened (filled by the message handler) */
    int error_line;
    char error_source[LUA_IDSIZE];
    /* host object for Swift callbacks (unretained) */
    void *host;
    /* the state itself (the allocator re-arms the hook through it) */
    lua_State *state;
    /* scratch buffer for callback results (owned by the host) */
    sh_opbuf *scratch;
    /* the message handler recorded a traceback in the registry */
    int has_traceback;
    /* host-side panic record */
    int panicked;
    /* hook bookkeeping (limits.c): what the state has installed, and the
     * watchdog record of the hookless mode (private to limits.c) */
    int hook_installed;           /* 0 none, 1 count hook every hook_granularity */
    int hook_installed_granularity;
    int watched;                  /* this call is registered with the watchdog */
    uint64_t call_serial;         /* serial of the current call (watchdog) */
    void *watch;
} sh_state_info;

/* Creates a state with the counting allocator and the panic handler (the
 * limit hook is installed per call, as the limits require). Returns NULL when
 * the first allocations fail. */
lua_State *sh_newstate(sh_state_info *info);

/* Closes a state made by sh_newstate (unregisters it from the watchdog first). */
void sh_close(lua_State *L);

/* How the limits of the next calls are enforced:
 * - with an instruction budget, a count hook runs from the first instruction
 *   (deterministic: Lua 5.4 then calls its hook dispatcher on every
 *   instruction, whatever the hook interval, which roughly doubles the cost of
 *   a tight loop);
 * - without one, no hook runs: a watchdog thread arms the hook once the
 *   deadline has passed, and the allocator arms it when the memory cap is hit.
 * Returns 1 for the hookless mode. */
int sh_hookless(const sh_state_info *info);

/* Resets the per-call counters; call before every entry into Lua. */
void sh_begin_call(lua_State *L);

/* Ends enforcement (so that host-side bookkeeping after a call is not charged)
 * and restores the normal hook if it was re-armed. */
void sh_end_call(lua_State *L);

/* For C library functions whose cost grows with their input: call every few
 * hundred steps. Arms the deadline lazily, and raises a Lua error (from C,
 * which is allowed here) when a limit has been exceeded. Never returns in
 * that case. */
void sh_poll_limits(lua_State *L);

/* Same check without raising: returns the sh_limit_kind hit, or 0. */
int sh_limits_exceeded(lua_State *L);

/* Raises the error for the limit recorded in the state info. */
int sh_raise_limit(lua_State *L);

/* For a library function that knows in advance its result cannot fit under
 * the memory cap: records the memory limit as hit and raises. */
int sh_raise_memory_limit(lua_State *L);

/* NULL when the installed Lua matches what limits.c assumes of its private
 * layout (the size of a call frame, 64 bytes), else why not. Probed until a
 * verdict is reached (once per process, unless a probe fails for want of
 * memory, which the next call tries again). The sandbox refuses to open with
 * this message. */
const char *sh_layout_problem(void);

typedef enum sh_layout_status {
    SH_LAYOUT_OK = 0,
    SH_LAYOUT_UNCHECKED = 1,          /* the scratch state could not be made or run */
    SH_LAYOUT_OTHER_VERSION = 2,      /* the library is not the headers' version */
    SH_LAYOUT_OTHER_FRAME_SIZE = 3,   /* nested calls allocate frames of another size */
} sh_layout_status;

/* The probe behind sh_layout_problem, uncached, for a call frame of
 * `frame_size` bytes: an sh_layout_status. (Tests check that a wrong size is
 * refused.) */
int sh_probe_layout(size_t frame_size);

/* Monotonic nanoseconds. */
int64_t sh_now_ns(void);

/* MARK: - Bounded libraries (string_bounded.c, table_bounded.c, sorted_pairs.c) */

/* Replace, in the library table at `libindex`, every function whose cost
 * grows with its input by our own version that polls the limits (or checks
 * its cost up front), and remove the functions the sandbox does not offer
 * (string.dump, string.pack, string.unpack, string.packsize). Run in
 * protected mode. */
void sh_install_bounded_string(lua_State *L, int libindex);
void sh_install_bounded_table(lua_State *L, int libindex);

/* Deterministic iteration: `next` and `pairs` in sorted key order
 * (numbers ascending, then strings bytewise, then false, true, then the
 * remaining keys in raw order). Lua C functions. */
int sh_sorted_next(lua_State *L);
int sh_sorted_pairs(lua_State *L);

/* MARK: - Op buffer: values written by Swift, built by C */

typedef enum sh_op_code {
    SH_OP_NIL = 0,
    SH_OP_FALSE = 1,
    SH_OP_TRUE = 2,
    SH_OP_INTEGER = 3,     /* i */
    SH_OP_NUMBER = 4,      /* n */
    SH_OP_STRING = 5,      /* bytes[offset ..< offset+length] */
    SH_OP_NEWTABLE = 6,    /* narr = i >> 32, nrec = i & 0xffffffff */
    SH_OP_SETFIELD = 7,    /* t[k] = v with t,k,v on top; pops k and v */
    SH_OP_REF = 8,         /* push registry[i] */
    SH_OP_VIEW = 9,        /* push a read-only view over node `pointer` (owned: +1) */
    SH_OP_VIEW_FILLED = 10,/* wrap the table on top in a read-only view over node
                              `pointer` (owned: +1) that holds every key already */
} sh_op_code;

typedef struct sh_op {
    int32_t code;
    int32_t pad;
    int64_t i;
    double n;
    size_t offset;
    size_t length;
    void *pointer;
} sh_op;

struct sh_opbuf {
    sh_op *ops;
    size_t count;
    size_t capacity;
    char *bytes;
    size_t nbytes;
    size_t capbytes;
    /* number of top-level values the ops produce */
    int nvalues;
    /* view ops whose node (+1) has not been taken by a view yet */
    size_t nviews;
};

void sh_opbuf_init(sh_opbuf *b);
void sh_opbuf_free(sh_opbuf *b);
/* Releases the nodes of view ops that were never built. */
void sh_opbuf_release_views(sh_opbuf *b);
static inline void sh_opbuf_reset(sh_opbuf *b) {
    if (b->nviews != 0) sh_opbuf_release_views(b);
    b->count = 0; b->nbytes = 0; b->nvalues = 0;
}
/* Makes room for more ops and bytes. Returns 0 when out of (host) memory. */
int sh_opbuf_grow(sh_opbuf *b, size_t extra_ops, size_t extra_bytes);
/* Appends one op. Returns 0 when out of (host) memory. */
static inline int sh_opbuf_push(sh_opbuf *b, int32_t code, int64_t i, double n, void *pointer) {
    if (b->count == b->capacity && !sh_opbuf_grow(b, 1, 0)) return 0;
    sh_op *op = &b->ops[b->count++];
    op->code = code; op->pad = 0; op->i = i; op->n = n;
    op->offset = 0; op->length = 0; op->pointer = pointer;
    return 1;
}
/* Appends a view op over `node`, which the buffer owns (+1) until a view
 * takes it. Returns 0 when out of (host) memory (the node is then released). */
int sh_opbuf_push_view(sh_opbuf *b, int32_t code, void *node);
/* Appends a string op whose bytes are copied into the buffer. */
int sh_opbuf_push_string(sh_opbuf *b, const char *bytes, size_t length);

/* Builds the values of `b` on the stack of L. May raise (run protected). */
void sh_build_values(lua_State *L, const sh_opbuf *b);
/* Same, when the caller knows `room` free stack slots are available. */
void sh_build_values_room(lua_State *L, const sh_opbuf *b, int room);

/* MARK: - Callbacks into Swift (set once per process) */

typedef struct sh_key {
    int type;              /* LUA_TSTRING, LUA_TNUMBER (integer), or LUA_TNIL */
    int64_t integer;
    const char *string;
    size_t length;
} sh_key;

typedef struct sh_callbacks {
    /* A Swift function registered with the host: read arguments from L
     * (1...nargs, with non-raising API only), write results to `out`.
     * Return the number of results (>= 0) or -1 with the error message
     * written as the single string of `out`. */
    int (*call)(void *host, void *function_box, lua_State *L, int nargs, sh_opbuf *out);
    /* View lookup: write one value to `out` (nil when absent).
     * Return 0, or -1 with an error message as the single string of `out`. */
    int (*view_index)(void *host, void *node, const sh_key *key, sh_opbuf *out);
    /* View keys in iteration order, written to `out` as values. */
    int (*view_keys)(void *host, void *node, sh_opbuf *out);
    int64_t (*view_length)(void *host, void *node);
    /* Reference counting of view nodes (Unmanaged retain/release); a view
     * takes over the +1 of its op and releases it when collected. */
    void (*retain)(void *node);
    void (*release)(void *node);
    /* Panic report (the state is unusable afterwards). */
    void (*panic)(void *host, const char *message);
} sh_callbacks;

void sh_set_callbacks(const sh_callbacks *callbacks);

/* MARK: - Protected entry points (Swift calls these; they never raise) */

/* Opens the sandbox: builds the base environment in the registry, seeds
 * math.random, locks the string metatable. Returns a Lua status; on error the
 * error object is on top of the stack. */
int sh_open_sandbox(lua_State *L, int64_t seed);

/* Loads `source` as text (mode "t") under the name `chunkname` into a fresh
 * environment whose reads of undefined globals raise, runs it, and stores its
 * first result (or nil) and the environment in the registry.
 * Returns a Lua status; on success *result_ref and *env_ref are set. */
int sh_load(lua_State *L, const char *source, size_t length, const char *chunkname,
            int *result_ref, int *env_ref);

/* Calls registry[function_ref] (or registry[function_ref][field] when field
 * is not NULL) with the values of `args`. On success the stack holds, above
 * the previous top, one placeholder (the message handler) and then the
 * results; the caller reads them from top + 2 and pops everything. Returns a
 * Lua status; on error only the error object is left, on top. */
int sh_call(lua_State *L, int function_ref, const char *field, const sh_opbuf *args);

/* Pushes registry[ref][field] (raw access) for reading. Returns a Lua status
 * (the key string may need an allocation). */
int sh_push_field(lua_State *L, int ref, const char *field);

/* Builds the values of `b`, stores the first in the registry. */
int sh_make_ref(lua_State *L, const sh_opbuf *b, int *ref);
/* Stores the value at the top of the stack in the registry and pops it. */
int sh_ref_top(lua_State *L, int *ref);
int sh_unref(lua_State *L, int ref);

/* Registers a Swift function under `name` in the sandbox environment, or in
 * the table `table` of it (created when missing). `box` is retained by the
 * host for the state's lifetime. */
int sh_register_function(lua_State *L, const char *table, const char *name, void *box);

/* Converts the error object at the top to a message with a fresh small
 * instruction budget (a __tostring that loops or raises is reported safely).
 * Pushes a string on success. Returns a Lua status. */
int sh_error_to_string(lua_State *L);

/* The traceback recorded by the last error (pushes a string or nil). */
void sh_push_last_traceback(lua_State *L);

/* Full garbage collection (our finalizers are C and never raise). */
void sh_collect(lua_State *L);

#ifdef __cplusplus
}
#endif

#endif
