/*
 * Shared parts of the bounded libraries (our own code, written from the Lua
 * 5.4 Reference Manual, §6.4 and §6.6): a work meter that polls the limits,
 * and the compiled form of a Lua pattern. Not part of the module's API.
 */
#ifndef SENTINEL_CSCRIPTHOST_BOUNDED_H
#define SENTINEL_CSCRIPTHOST_BOUNDED_H

#include "CScriptHost.h"

#include <lauxlib.h>
#include <stdint.h>

/* MARK: - Work meter */

/* Units of work between two polls of the limits. A poll charges the
 * instruction budget SH_POLL_COST (1,000), and this many units cost about as
 * much time as 1,000 VM instructions do (measured here: 3 us without the
 * count hook, 9 us with it; a unit is about 4 ns). A unit is a pattern step,
 * a byte scanned one at a time, a table access, SH_BYTES_PER_UNIT bytes
 * compared or searched (memcmp, memchr), or SH_WRITTEN_BYTES_PER_UNIT bytes
 * written into a new result (page faults of fresh memory make that about
 * 1 ns a byte). */
#define SH_METER_QUANTUM 2048u
#define SH_BYTES_PER_UNIT 16u
#define SH_WRITTEN_BYTES_PER_UNIT 4u
/* A table element read or written through the API (lua_geti, lua_seti,
 * lua_next, a key of a sorted traversal): 10 to 20 ns in a large table,
 * where cache misses dominate. */
#define SH_ELEMENT_UNITS 4u

/* The meter is the state's: what is left of the quantum carries from one
 * library call to the next (sh_state_info.meter_left, reset by
 * sh_begin_call), so a loop of short calls is charged like one long call. */
typedef struct sh_meter {
    lua_State *L;
    uint32_t *left;
} sh_meter;

static inline void sh_meter_init(sh_meter *meter, lua_State *L) {
    meter->L = L;
    meter->left = &(*(sh_state_info **)lua_getextraspace(L))->meter_left;
}

/* Charges the units beyond what is left of the quantum: one poll's cost per
 * quantum begun, then polls once (may raise). (limits.c) */
void sh_meter_overflow(lua_State *L, size_t units);

/* Counts `units` of work (any number: a large count is charged in full,
 * quantum by quantum); polls (and may raise) once a quantum is used up. */
static inline void sh_meter_tick(sh_meter *meter, size_t units) {
    if (*meter->left > units) {
        *meter->left -= (uint32_t)units;
    } else {
        sh_meter_overflow(meter->L, units);
    }
}

/* The units of comparing or searching `bytes` bytes. */
static inline size_t sh_scan_units(size_t bytes) { return bytes / SH_BYTES_PER_UNIT + 1; }

/* The units of writing `bytes` bytes into a result. */
static inline size_t sh_write_units(size_t bytes) { return bytes / SH_WRITTEN_BYTES_PER_UNIT + 1; }

/* For work whose whole cost is known before it starts (and that then runs
 * without polling): `bytes` of new memory, `units` of work. Raises at once
 * when the memory cannot fit under the cap; charges the units to the meter
 * (which may raise), and raises when the work cannot finish before the
 * deadline (at about 4 ns a unit). (limits.c) */
void sh_precheck(lua_State *L, size_t bytes, size_t units);

/* MARK: - Lists (table_bounded.c) */

enum { SH_LIST_READ = 1, SH_LIST_WRITE = 2, SH_LIST_LENGTH = 4 };

/* Accepts a table, or a value whose metatable has what `needs` asks for
 * (__index, __newindex, __len), as the stock table functions do; raises
 * "table expected" otherwise. */
void sh_expect_list(lua_State *L, int arg, int needs);

/* MARK: - Patterns (pattern_compile.c, pattern_match.c) */

/* Captures a pattern may hold (Lua's documented limit). */
#define PM_MAX_CAPTURES 32
/* Nesting of choices and captures along one match attempt before the
 * pattern is "too complex" (the stock library's limit, observed: 200). */
#define PM_MAX_DEPTH 200

typedef enum pm_op {
    PM_SUCCEED = 0,   /* the end of the pattern: a match */
    PM_AT_END,        /* '$' as the last byte: only at the end of the subject */
    PM_TEXT,          /* bytes[arg .. arg + length) literally */
    PM_ONE,           /* one byte of a class, with a repetition */
    PM_OPEN,          /* a capture starts (arg: its index) */
    PM_POSITION,      /* a position capture "()" (arg: its index) */
    PM_CLOSE,         /* a capture ends (arg: its index) */
    PM_BALANCED,      /* %bxy: `first` .. `last` balanced */
    PM_FRONTIER,      /* %f[set] */
    PM_SAME_AS,       /* %1-%9: the text of capture `arg` again */
    PM_RAISE,         /* a mistake in the pattern, reported when reached */
} pm_op;

typedef enum pm_repeat {
    PM_EXACTLY_ONE = 0,
    PM_MAYBE,         /* '?' */
    PM_GREEDY_ANY,    /* '*' */
    PM_GREEDY_SOME,   /* '+' */
    PM_LAZY_ANY,      /* '-' */
} pm_repeat;

typedef enum pm_mistake {
    PM_ENDS_WITH_ESCAPE = 1,
    PM_MISSING_BRACKET,
    PM_FRONTIER_WITHOUT_SET,
    PM_BALANCE_WITHOUT_ARGUMENTS,
    PM_BAD_BACK_REFERENCE,     /* arg: the digit's value */
    PM_CLOSE_WITHOUT_OPEN,
    PM_TOO_MANY_CAPTURES,
} pm_mistake;

/* One step of a compiled pattern. A class is a 256-bit set of bytes. */
typedef struct pm_item {
    uint8_t op;
    uint8_t repeat;
    uint8_t first;            /* PM_BALANCED; PM_TEXT: its first byte */
    uint8_t last;             /* PM_BALANCED */
    uint32_t arg;
    uint32_t length;          /* PM_TEXT */
    const uint8_t *members;   /* PM_ONE, PM_FRONTIER: 32 bytes, bit c = byte c */
} pm_item;

typedef struct pm_program {
    uint32_t count;           /* items, the last one PM_SUCCEED or PM_RAISE */
    uint32_t captures;        /* '(' in the pattern (all of them are reached before success) */
    pm_item *items;
    uint8_t *sets;            /* 32 bytes per bracket set */
    uint8_t *bytes;           /* the literal text of PM_TEXT items */
} pm_program;

/* What compiling a pattern needs, counted by a first pass. */
typedef struct pm_size {
    size_t items;
    size_t sets;
    size_t bytes;
} pm_size;

static inline int pm_has(const uint8_t *members, unsigned char c) {
    return (members[c >> 3] >> (c & 7)) & 1;
}

/* Counts what `pattern` compiles to (polls the limits on long patterns). */
pm_size pm_measure(sh_meter *meter, const char *pattern, size_t length);

/* Compiles `pattern` into `program`, whose arrays have the room that
 * pm_measure gave. Mistakes become PM_RAISE items, since Lua reports them
 * only when matching reaches them. */
void pm_compile(sh_meter *meter, const char *pattern, size_t length, pm_program *program);

/* Compiles `pattern` into a program that lives in a new userdata pushed on
 * the stack (collected like any value, so an error cannot leak it). */
pm_program *pm_push_compiled(lua_State *L, sh_meter *meter, const char *pattern, size_t length);

/* A capture as matching leaves it. */
#define PM_UNFINISHED ((ptrdiff_t)-1)
#define PM_POSITION_CAPTURE ((ptrdiff_t)-2)

typedef struct pm_capture {
    size_t start;
    ptrdiff_t length;         /* or PM_UNFINISHED, PM_POSITION_CAPTURE */
} pm_capture;

typedef struct pm_matcher {
    sh_meter meter;
    const pm_program *program;
    const unsigned char *subject;
    size_t length;
    pm_capture captures[PM_MAX_CAPTURES];
} pm_matcher;

/* Tries the program at `start` only. Returns 1 and sets *end on a match. */
int pm_match_at(pm_matcher *matcher, size_t start, size_t *end);

/* The first match starting at `from` or later (only at `from` when
 * `anchored`) that does not end at `refused` (an empty match right after the
 * previous one, which gmatch and gsub skip; SIZE_MAX refuses nothing).
 * Returns 1 and sets *start and *end, or 0. */
int pm_search(pm_matcher *matcher, size_t from, int anchored, size_t refused, size_t *start, size_t *end);

/* Pushes capture `index` (the whole match when the pattern has none and
 * index is 0). Raises for an unfinished or a missing capture. */
void pm_push_capture(lua_State *L, const pm_matcher *matcher, unsigned index, size_t start, size_t end);

/* Pushes every capture (the whole match when there are none and
 * `whole_if_none`); returns how many. */
int pm_push_captures(lua_State *L, const pm_matcher *matcher, size_t start, size_t end, int whole_if_none);

#endif
