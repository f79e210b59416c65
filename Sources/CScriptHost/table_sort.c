/*
 * table.sort (Lua 5.4 manual §6.6) as a bottom-up merge sort of our own:
 * O(n log n) comparisons in every case, deterministic, stable, and every
 * comparison and move counted on a work meter so the limits stop it.
 *
 * Runs of RUN elements are first sorted by binary insertion; then runs are
 * merged pairwise, doubling in width. Two runs already in order cost one
 * comparison.
 *
 * An error can come from the limits (a poll of the meter, or the count hook
 * inside the order function), from the order function or an `__lt`
 * raising, or from memory. None can leave the list other than a permutation
 * of its elements: every comparison is made before the list is written, and
 * the writes of one step run without polling and without calling Lua. A
 * merge writes its output into an auxiliary table (the collector owns it, so
 * an error leaks nothing), comparing elements read from the list, which it
 * leaves untouched; then it copies the output back. An insertion finds its
 * place by comparisons, then moves the elements. Reading or writing an
 * element that is present (not nil) calls no metamethod and allocates
 * nothing, so this holds for any list without holes; a list read or written
 * through `__index`/`__newindex` (a proxy) is left as those metamethods
 * made it, as with the stock sort.
 *
 * With an inconsistent order function ("function(a, b) return true end")
 * the result is some permutation of the list; the sort never loops and
 * never reads outside the list. Comparisons use `<` (with `__lt`) or the
 * order function.
 */
#include "bounded.h"

#include <limits.h>

/* Length of the runs sorted by insertion before merging. */
#define RUN 8
/* The auxiliary table is created with room for this many elements at most
 * (a `__len`, or the border of a sparse table, may claim far more elements
 * than there are); it grows while merging if it needs more. */
#define AUXILIARY_PRESIZE (1 << 16)

typedef struct sorter {
    lua_State *L;
    int ordered_by_function;   /* argument 2 is the order function */
    int auxiliary;             /* stack index of the auxiliary table */
    int first_slot;            /* two scratch stack slots: first_slot, first_slot + 1 */
    sh_meter meter;
} sorter;

/* Is the value at stack index `a` less than the one at `b`? */
static int precedes(sorter *s, int a, int b) {
    lua_State *L = s->L;
    sh_meter_tick(&s->meter, 2 * SH_ELEMENT_UNITS);
    if (!s->ordered_by_function) return lua_compare(L, a, b, LUA_OPLT);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, a);
    lua_pushvalue(L, b);
    lua_call(L, 2, 1);
    int result = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return result;
}

static inline void load(sorter *s, int slot, lua_Integer index) {
    lua_geti(s->L, 1, index);
    lua_replace(s->L, slot);
}

/* Appends the value at `slot` to the merge output, as element `index`. */
static inline void emit(sorter *s, int slot, lua_Integer index) {
    lua_pushvalue(s->L, slot);
    lua_rawseti(s->L, s->auxiliary, index);
    sh_meter_tick(&s->meter, SH_ELEMENT_UNITS);
}

/* Sorts list[first .. last] (at most RUN elements) by binary insertion. */
static void insertion_sort(sorter *s, lua_Integer first, lua_Integer last) {
    lua_State *L = s->L;
    int item = s->first_slot;
    int probe = s->first_slot + 1;
    for (lua_Integer next = first + 1; next <= last; next++) {
        load(s, item, next);
        /* The first position whose element is greater than the item (stable). */
        lua_Integer low = first;
        lua_Integer high = next;
        while (low < high) {
            lua_Integer middle = low + (high - low) / 2;
            load(s, probe, middle);
            if (precedes(s, item, probe)) high = middle; else low = middle + 1;
        }
        if (low == next) continue;
        /* Counted first, then moved without a poll in between. */
        sh_meter_tick(&s->meter, SH_ELEMENT_UNITS * ((size_t)(next - low) + 1));
        for (lua_Integer k = next; k > low; k--) {
            lua_geti(L, 1, k - 1);
            lua_seti(L, 1, k);
        }
        lua_pushvalue(L, item);
        lua_seti(L, 1, low);
    }
}

/* Merges the sorted runs list[first .. middle] and list[middle + 1 .. last]. */
static void merge(sorter *s, lua_Integer first, lua_Integer middle, lua_Integer last) {
    lua_State *L = s->L;
    int left = s->first_slot;
    int right = s->first_slot + 1;
    load(s, left, middle);
    load(s, right, middle + 1);
    if (!precedes(s, right, left)) return;   /* already in order */
    lua_Integer next_left = first;
    lua_Integer next_right = middle + 1;
    lua_Integer out = 0;
    load(s, left, next_left);
    for (;;) {
        if (precedes(s, right, left)) {
            emit(s, right, ++out);
            if (++next_right > last) break;
            load(s, right, next_right);
        } else {
            emit(s, left, ++out);
            /* The left run is used up: the rest of the right run is in place. */
            if (++next_left > middle) goto copy_back;
            load(s, left, next_left);
        }
    }
    /* The right run is used up: the rest of the left run goes last. */
    for (; next_left <= middle; next_left++) {
        lua_geti(L, 1, next_left);
        lua_rawseti(L, s->auxiliary, ++out);
        sh_meter_tick(&s->meter, SH_ELEMENT_UNITS);
    }
copy_back:
    /* Counted first, then copied without a poll or a call into Lua: until
     * here the list is untouched, and from here nothing can raise. */
    sh_meter_tick(&s->meter, SH_ELEMENT_UNITS * (size_t)out);
    for (lua_Integer k = 1; k <= out; k++) {
        lua_rawgeti(L, s->auxiliary, k);
        lua_seti(L, 1, first + k - 1);
    }
}

int sh_table_sort(lua_State *L) {
    sh_expect_list(L, 1, SH_LIST_READ | SH_LIST_WRITE | SH_LIST_LENGTH);
    lua_Integer count = luaL_len(L, 1);
    if (count < 2) return 0;
    luaL_argcheck(L, count < INT_MAX, 1, "array too big");
    int ordered_by_function = !lua_isnoneornil(L, 2);
    if (ordered_by_function) luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    sorter s;
    s.L = L;
    s.ordered_by_function = ordered_by_function;
    sh_meter_init(&s.meter, L);
    luaL_checkstack(L, 8, "sort");
    lua_createtable(L, count < AUXILIARY_PRESIZE ? (int)count : AUXILIARY_PRESIZE, 0);
    s.auxiliary = 3;
    lua_pushnil(L);
    lua_pushnil(L);
    s.first_slot = 4;
    for (lua_Integer first = 1; first <= count; first += RUN) {
        lua_Integer last = first + RUN - 1;
        insertion_sort(&s, first, last < count ? last : count);
    }
    for (lua_Integer width = RUN; width < count; width *= 2) {
        for (lua_Integer first = 1; first + width <= count; first += 2 * width) {
            lua_Integer middle = first + width - 1;
            lua_Integer last = middle + width;
            merge(&s, first, middle, last < count ? last : count);
        }
    }
    return 0;
}
