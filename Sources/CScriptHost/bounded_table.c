/*
 * bounded_table.c -- the table library functions of the sandbox whose cost
 * grows with their input, rewritten so that they poll the limits, and
 * deterministic `next`/`pairs`.
 *
 * table.insert, remove, move, concat, pack and unpack are Lua 5.4's ltablib.c
 * with a call to sh_poll_limits() every few hundred iterations: a table whose
 * __len returns 2^62 makes stock table.insert(t, 1, v) loop for ever inside
 * one C call, where the count hook cannot fire. Their behaviour (results,
 * argument checks and messages) is otherwise stock.
 *
 * table.sort is stock's quicksort (same pivots, same "invalid order function
 * for sorting" checks) made an introsort: where stock would re-randomize the
 * pivot of a badly unbalanced partition (from clock() and time(), so not
 * deterministic), this version switches that range to heapsort, which makes
 * the worst case O(n log n) and the result a function of the input only. It
 * polls the limits every few hundred comparisons (a comparator that is a C
 * function, such as rawequal, runs no VM instruction at all).
 *
 * sh_sorted_next / sh_sorted_pairs iterate in a fixed key order (Lua 5.4
 * seeds string hashes per state, so raw `next` order changes between runs):
 * numbers ascending (integers and floats compared numerically), then strings
 * bytewise (memcmp; a proper prefix first), then false, then true, then all
 * other keys (tables, functions, userdata, threads) in raw `lua_next` order.
 *
 * Lua's copyright notice follows; it covers the code copied from ltablib.c.
 *
 ******************************************************************************
 * Copyright (C) 1994-2022 Lua.org, PUC-Rio.
 *
 * Permission is hereby granted, free of charge, to any person obtaining
 * a copy of this software and associated documentation files (the
 * "Software"), to deal in the Software without restriction, including
 * without limitation the rights to use, copy, modify, merge, publish,
 * distribute, sublicense, and/or sell copies of the Software, and to
 * permit persons to whom the Software is furnished to do so, subject to
 * the following conditions:
 *
 * The above copyright notice and this permission notice shall be
 * included in all copies or substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
 * EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
 * MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
 * IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY
 * CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT,
 * TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE
 * SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
 ******************************************************************************
 */

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "CScriptHost.h"


/* branch hints ('l_unlikely' is private to Lua's own build) */
#if defined(__GNUC__)
#define sh_unlikely(x)	(__builtin_expect(((x) != 0), 0))
#else
#define sh_unlikely(x)	(x)
#endif


/*
** Loops that do a lua_geti/lua_seti (tens of ns) per iteration poll every
** SH_POLL_MASK + 1 iterations; loops doing less poll every SH_SCAN_MASK + 1.
*/
#define SH_POLL_MASK	255u
#define SH_SCAN_MASK	1023u

#define SH_POLL_EVERY(L,counter,mask)  \
  do { if ((++(counter) & (mask)) == 0) sh_poll_limits(L); } while (0)


/*
** Operations that an object must define to mimic a table
** (some functions only need some of them)
*/
#define TAB_R	1			/* read */
#define TAB_W	2			/* write */
#define TAB_L	4			/* length */
#define TAB_RW	(TAB_R | TAB_W)		/* read/write */


#define aux_getn(L,n,w)	(checktab(L, n, (w) | TAB_L), luaL_len(L, n))


static int checkfield (lua_State *L, const char *key, int n) {
  lua_pushstring(L, key);
  return (lua_rawget(L, -n) != LUA_TNIL);
}


/*
** Check that 'arg' either is a table or can behave like one (that is,
** has a metatable with the required metamethods)
*/
static void checktab (lua_State *L, int arg, int what) {
  if (lua_type(L, arg) != LUA_TTABLE) {  /* is it not a table? */
    int n = 1;  /* number of elements to pop */
    if (lua_getmetatable(L, arg) &&  /* must have metatable */
        (!(what & TAB_R) || checkfield(L, "__index", ++n)) &&
        (!(what & TAB_W) || checkfield(L, "__newindex", ++n)) &&
        (!(what & TAB_L) || checkfield(L, "__len", ++n))) {
      lua_pop(L, n);  /* pop metatable and tested metamethods */
    }
    else
      luaL_checktype(L, arg, LUA_TTABLE);  /* force an error */
  }
}


static int tinsert (lua_State *L) {
  lua_Integer e = aux_getn(L, 1, TAB_RW) + 1;  /* first empty element */
  lua_Integer pos;  /* where to insert new element */
  switch (lua_gettop(L)) {
    case 2: {  /* called with only 2 arguments */
      pos = e;  /* insert new element at the end */
      break;
    }
    case 3: {
      lua_Integer i;
      unsigned int steps = 0;
      pos = luaL_checkinteger(L, 2);  /* 2nd argument is the position */
      /* check whether 'pos' is in [1, e] */
      luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2,
                       "position out of bounds");
      for (i = e; i > pos; i--) {  /* move up elements */
        lua_geti(L, 1, i - 1);
        lua_seti(L, 1, i);  /* t[i] = t[i - 1] */
        SH_POLL_EVERY(L, steps, SH_POLL_MASK);
      }
      break;
    }
    default: {
      return luaL_error(L, "wrong number of arguments to 'insert'");
    }
  }
  lua_seti(L, 1, pos);  /* t[pos] = v */
  return 0;
}


static int tremove (lua_State *L) {
  lua_Integer size = aux_getn(L, 1, TAB_RW);
  lua_Integer pos = luaL_optinteger(L, 2, size);
  unsigned int steps = 0;
  if (pos != size)  /* validate 'pos' if given */
    /* check whether 'pos' is in [1, size + 1] */
    luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 1,
                     "position out of bounds");  /* (sic) stock says #1 */
  lua_geti(L, 1, pos);  /* result = t[pos] */
  for ( ; pos < size; pos++) {
    lua_geti(L, 1, pos + 1);
    lua_seti(L, 1, pos);  /* t[pos] = t[pos + 1] */
    SH_POLL_EVERY(L, steps, SH_POLL_MASK);
  }
  lua_pushnil(L);
  lua_seti(L, 1, pos);  /* remove entry t[pos] */
  return 1;
}


/*
** Copy elements (1[f], ..., 1[e]) into (tt[t], tt[t+1], ...). Whenever
** possible, copy in increasing order, which is better for rehashing.
** "possible" means destination after original range, or smaller
** than origin, or copying to another table.
*/
static int tmove (lua_State *L) {
  lua_Integer f = luaL_checkinteger(L, 2);
  lua_Integer e = luaL_checkinteger(L, 3);
  lua_Integer t = luaL_checkinteger(L, 4);
  int tt = !lua_isnoneornil(L, 5) ? 5 : 1;  /* destination table */
  checktab(L, 1, TAB_R);
  checktab(L, tt, TAB_W);
  if (e >= f) {  /* otherwise, nothing to move */
    lua_Integer n, i;
    unsigned int steps = 0;
    luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3,
                  "too many elements to move");
    n = e - f + 1;  /* number of elements to move */
    luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4,
                  "destination wrap around");
    if (t > e || t <= f || (tt != 1 && !lua_compare(L, 1, tt, LUA_OPEQ))) {
      for (i = 0; i < n; i++) {
        lua_geti(L, 1, f + i);
        lua_seti(L, tt, t + i);
        SH_POLL_EVERY(L, steps, SH_POLL_MASK);
      }
    }
    else {
      for (i = n - 1; i >= 0; i--) {
        lua_geti(L, 1, f + i);
        lua_seti(L, tt, t + i);
        SH_POLL_EVERY(L, steps, SH_POLL_MASK);
      }
    }
  }
  lua_pushvalue(L, tt);  /* return destination table */
  return 1;
}


static void addfield (lua_State *L, luaL_Buffer *b, lua_Integer i) {
  lua_geti(L, 1, i);
  if (sh_unlikely(!lua_isstring(L, -1)))
    luaL_error(L, "invalid value (%s) at index %I in table for 'concat'",
                  luaL_typename(L, -1), (LUAI_UACINT)i);
  luaL_addvalue(b);
}


static int tconcat (lua_State *L) {
  luaL_Buffer b;
  lua_Integer last = aux_getn(L, 1, TAB_R);
  size_t lsep;
  const char *sep = luaL_optlstring(L, 2, "", &lsep);
  lua_Integer i = luaL_optinteger(L, 3, 1);
  unsigned int steps = 0;
  last = luaL_optinteger(L, 4, last);
  luaL_buffinit(L, &b);
  for (; i < last; i++) {
    addfield(L, &b, i);
    luaL_addlstring(&b, sep, lsep);
    SH_POLL_EVERY(L, steps, SH_POLL_MASK);
  }
  if (i == last)  /* add last value (if interval was not empty) */
    addfield(L, &b, i);
  luaL_pushresult(&b);
  return 1;
}


/*
** {======================================================
** Pack/unpack
** (at most LUAI_MAXSTACK = 1,000,000 values: ~10-20 ms, so they poll too)
** =======================================================
*/

static int tpack (lua_State *L) {
  int i;
  int n = lua_gettop(L);  /* number of elements to pack */
  unsigned int steps = 0;
  lua_createtable(L, n, 1);  /* create result table */
  lua_insert(L, 1);  /* put it at index 1 */
  for (i = n; i >= 1; i--) {  /* assign elements */
    lua_seti(L, 1, i);
    SH_POLL_EVERY(L, steps, SH_SCAN_MASK);
  }
  lua_pushinteger(L, n);
  lua_setfield(L, 1, "n");  /* t.n = number of elements */
  return 1;  /* return table */
}


static int tunpack (lua_State *L) {
  lua_Unsigned n;
  lua_Integer i = luaL_optinteger(L, 2, 1);
  lua_Integer e = luaL_opt(L, luaL_checkinteger, 3, luaL_len(L, 1));
  unsigned int steps = 0;
  if (i > e) return 0;  /* empty range */
  n = (lua_Unsigned)e - i;  /* number of elements minus 1 (avoid overflows) */
  if (sh_unlikely(n >= (unsigned int)INT_MAX  ||
                  !lua_checkstack(L, (int)(++n))))
    return luaL_error(L, "too many results to unpack");
  for (; i < e; i++) {  /* push arg[i..e - 1] (to avoid overflows) */
    lua_geti(L, 1, i);
    SH_POLL_EVERY(L, steps, SH_SCAN_MASK);
  }
  lua_geti(L, 1, e);  /* push last element */
  return (int)n;
}

/* }====================================================== */



/*
** {======================================================
** Sort: stock Quicksort (based on 'Algorithms in MODULA-3', Robert
** Sedgewick; Addison-Wesley, 1993.) with a heapsort fallback (introsort)
** instead of randomized pivots.
** =======================================================
*/


/* type for array indices */
typedef unsigned int IdxT;


/* per-call sort state (no statics: states may run on several threads) */
typedef struct SortState {
  lua_State *L;
  unsigned int comps;  /* comparisons done, for polling */
} SortState;


static void set2 (lua_State *L, IdxT i, IdxT j) {
  lua_seti(L, 1, i);
  lua_seti(L, 1, j);
}


/*
** Return true iff value at stack index 'a' is less than the value at
** index 'b' (according to the order of the sort).
*/
static int sort_comp (SortState *ss, int a, int b) {
  lua_State *L = ss->L;
  SH_POLL_EVERY(L, ss->comps, SH_POLL_MASK);
  if (lua_isnil(L, 2))  /* no function? */
    return lua_compare(L, a, b, LUA_OPLT);  /* a < b */
  else {  /* function */
    int res;
    lua_pushvalue(L, 2);    /* push function */
    lua_pushvalue(L, a-1);  /* -1 to compensate function */
    lua_pushvalue(L, b-2);  /* -2 to compensate function and 'a' */
    lua_call(L, 2, 1);      /* call function */
    res = lua_toboolean(L, -1);  /* get result */
    lua_pop(L, 1);          /* pop result */
    return res;
  }
}


/*
** Does the partition: Pivot P is at the top of the stack.
** precondition: a[lo] <= P == a[up-1] <= a[up],
** so it only needs to do the partition from lo + 1 to up - 2.
** Pos-condition: a[lo .. i - 1] <= a[i] == P <= a[i + 1 .. up]
** returns 'i'.
*/
static IdxT partition (SortState *ss, IdxT lo, IdxT up) {
  lua_State *L = ss->L;
  IdxT i = lo;  /* will be incremented before first use */
  IdxT j = up - 1;  /* will be decremented before first use */
  /* loop invariant: a[lo .. i] <= P <= a[j .. up] */
  for (;;) {
    /* next loop: repeat ++i while a[i] < P */
    while ((void)lua_geti(L, 1, ++i), sort_comp(ss, -1, -2)) {
      if (sh_unlikely(i == up - 1))  /* a[i] < P  but a[up - 1] == P  ?? */
        luaL_error(L, "invalid order function for sorting");
      lua_pop(L, 1);  /* remove a[i] */
    }
    /* after the loop, a[i] >= P and a[lo .. i - 1] < P */
    /* next loop: repeat --j while P < a[j] */
    while ((void)lua_geti(L, 1, --j), sort_comp(ss, -3, -1)) {
      if (sh_unlikely(j < i))  /* j < i  but  a[j] > P ?? */
        luaL_error(L, "invalid order function for sorting");
      lua_pop(L, 1);  /* remove a[j] */
    }
    /* after the loop, a[j] <= P and a[j + 1 .. up] >= P */
    if (j < i) {  /* no elements out of place? */
      /* a[lo .. i - 1] <= P <= a[j + 1 .. i .. up] */
      lua_pop(L, 1);  /* pop a[j] */
      /* swap pivot (a[up - 1]) with a[i] to satisfy pos-condition */
      set2(L, up - 1, i);
      return i;
    }
    /* otherwise, swap a[i] - a[j] to restore invariant and repeat */
    set2(L, i, j);
  }
}


/*
** Heapsort of a[lo .. lo + n - 1] (max-heap with root at 'lo').
** 'siftdown' moves a[lo + root] down a heap of 'n' elements.
*/
static void siftdown (SortState *ss, IdxT lo, IdxT root, IdxT n) {
  lua_State *L = ss->L;
  lua_geti(L, 1, lo + root);  /* the value 'v' being moved down */
  for (;;) {
    IdxT child = 2 * root + 1;  /* n < INT_MAX: no overflow */
    if (child >= n) break;
    lua_geti(L, 1, lo + child);  /* v, c */
    if (child + 1 < n) {
      lua_geti(L, 1, lo + child + 1);  /* v, c, c2 */
      if (sort_comp(ss, -2, -1)) {  /* c < c2? */
        lua_remove(L, -2);  /* v, c2 */
        child++;
      }
      else
        lua_pop(L, 1);  /* v, c */
    }
    if (sort_comp(ss, -2, -1)) {  /* v < c? */
      lua_seti(L, 1, lo + root);  /* a[root] = c; stack: v */
      root = child;
    }
    else {
      lua_pop(L, 1);  /* v */
      break;
    }
  }
  lua_seti(L, 1, lo + root);  /* place v */
}


static void sort_heap (SortState *ss, IdxT lo, IdxT up) {
  lua_State *L = ss->L;
  IdxT n = up - lo + 1;
  IdxT i;
  for (i = n / 2; i > 0; i--)  /* build the heap */
    siftdown(ss, lo, i - 1, n);
  for (i = n - 1; i > 0; i--) {  /* move the maximum to the end */
    lua_geti(L, 1, lo);
    lua_geti(L, 1, lo + i);
    set2(L, lo, lo + i);  /* swap a[lo] - a[lo + i] */
    siftdown(ss, lo, 0, i);
  }
}


/*
** Quicksort algorithm (recursive function). 'depth' is the number of
** partitions still allowed on this path before the range is handed to
** heapsort (2 log2 n at the top).
*/
static void auxsort (SortState *ss, IdxT lo, IdxT up, int depth) {
  lua_State *L = ss->L;
  while (lo < up) {  /* loop for tail recursion */
    IdxT p;  /* Pivot index */
    if (depth-- <= 0) {  /* too many unbalanced partitions? */
      sort_heap(ss, lo, up);
      return;
    }
    /* sort elements 'lo', 'p', and 'up' */
    lua_geti(L, 1, lo);
    lua_geti(L, 1, up);
    if (sort_comp(ss, -1, -2))  /* a[up] < a[lo]? */
      set2(L, lo, up);  /* swap a[lo] - a[up] */
    else
      lua_pop(L, 2);  /* remove both values */
    if (up - lo == 1)  /* only 2 elements? */
      return;  /* already sorted */
    p = lo + (up - lo) / 2;  /* middle element is a good pivot */
    lua_geti(L, 1, p);
    lua_geti(L, 1, lo);
    if (sort_comp(ss, -2, -1))  /* a[p] < a[lo]? */
      set2(L, p, lo);  /* swap a[p] - a[lo] */
    else {
      lua_pop(L, 1);  /* remove a[lo] */
      lua_geti(L, 1, up);
      if (sort_comp(ss, -1, -2))  /* a[up] < a[p]? */
        set2(L, p, up);  /* swap a[up] - a[p] */
      else
        lua_pop(L, 2);
    }
    if (up - lo == 2)  /* only 3 elements? */
      return;  /* already sorted */
    lua_geti(L, 1, p);  /* get middle element (Pivot) */
    lua_pushvalue(L, -1);  /* push Pivot */
    lua_geti(L, 1, up - 1);  /* push a[up - 1] */
    set2(L, p, up - 1);  /* swap Pivot (a[p]) with a[up - 1] */
    p = partition(ss, lo, up);
    /* a[lo .. p - 1] <= a[p] == P <= a[p + 1 .. up] */
    if (p - lo < up - p) {  /* lower interval is smaller? */
      auxsort(ss, lo, p - 1, depth);  /* call recursively for lower interval */
      lo = p + 1;  /* tail call for [p + 1 .. up] (upper interval) */
    }
    else {
      auxsort(ss, p + 1, up, depth);  /* call recursively for upper interval */
      up = p - 1;  /* tail call for [lo .. p - 1]  (lower interval) */
    }
  }  /* tail call auxsort(L, lo, up, depth) */
}


static int sort (lua_State *L) {
  lua_Integer n = aux_getn(L, 1, TAB_RW);
  if (n > 1) {  /* non-trivial interval? */
    SortState ss;
    int depth = 0;
    lua_Integer m;
    luaL_argcheck(L, n < INT_MAX, 1, "array too big");
    if (!lua_isnoneornil(L, 2))  /* is there a 2nd argument? */
      luaL_checktype(L, 2, LUA_TFUNCTION);  /* must be a function */
    lua_settop(L, 2);  /* make sure there are two arguments */
    for (m = n; m > 1; m >>= 1)
      depth += 2;  /* 2 * floor(log2(n)) */
    ss.L = L;
    ss.comps = 0;
    auxsort(&ss, 1, (IdxT)n, depth);
  }
  return 0;
}

/* }====================================================== */


static const luaL_Reg bounded_tablib[] = {
  {"concat", tconcat},
  {"insert", tinsert},
  {"pack", tpack},
  {"unpack", tunpack},
  {"remove", tremove},
  {"move", tmove},
  {"sort", sort},
  {NULL, NULL}
};


void sh_install_bounded_table (lua_State *L, int libindex) {
  const luaL_Reg *r;
  libindex = lua_absindex(L, libindex);
  for (r = bounded_tablib; r->name != NULL; r++) {
    lua_pushstring(L, r->name);
    lua_pushcfunction(L, r->func);
    lua_rawset(L, libindex);
  }
}



/*
** {======================================================
** Deterministic iteration
** =======================================================
*/

/* key classes, in iteration order */
#define KC_NUMBER	0
#define KC_STRING	1
#define KC_FALSE	2
#define KC_TRUE		3
#define KC_OTHER	4

static int key_class (lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER: return KC_NUMBER;
    case LUA_TSTRING: return KC_STRING;
    case LUA_TBOOLEAN: return lua_toboolean(L, idx) ? KC_TRUE : KC_FALSE;
    default: return KC_OTHER;
  }
}


/* 2^63 as a float; (lua_Number)LUA_MININTEGER is exactly -2^63 */
#define TWO63	(-(lua_Number)LUA_MININTEGER)

/*
** Exact three-way comparison of an integer with a float (not NaN).
*/
static int cmp_int_flt (lua_Integer i, lua_Number f) {
  lua_Number fl;
  lua_Integer fi;
  if (f >= TWO63) return -1;  /* also +inf */
  if (f < -TWO63) return 1;  /* also -inf */
  fl = floor(f);
  fi = (lua_Integer)fl;  /* exact: -2^63 <= fl < 2^63 */
  if (i < fi) return -1;
  if (i > fi) return 1;
  return (fl == f) ? 0 : -1;  /* i == floor(f) <= f */
}


/* a numeric value (the number classes of keys) */
typedef struct NumVal {
  int isint;
  lua_Integer i;
  lua_Number f;
} NumVal;

static void get_num (lua_State *L, int idx, NumVal *v) {
  v->isint = lua_isinteger(L, idx);
  if (v->isint) { v->i = lua_tointeger(L, idx); v->f = 0; }
  else { v->f = lua_tonumber(L, idx); v->i = 0; }
}

static int cmp_num (const NumVal *a, const NumVal *b) {
  if (a->isint && b->isint)
    return (a->i < b->i) ? -1 : (a->i > b->i);
  else if (!a->isint && !b->isint)
    return (a->f < b->f) ? -1 : (a->f > b->f);
  else if (a->isint)
    return cmp_int_flt(a->i, b->f);
  else
    return -cmp_int_flt(b->i, a->f);
}


/* bytewise string order: memcmp, then a proper prefix first */
static int cmp_str (const char *a, size_t la, const char *b, size_t lb) {
  int r = memcmp(a, b, (la < lb) ? la : lb);
  if (r != 0) return (r < 0) ? -1 : 1;
  return (la < lb) ? -1 : (la > lb);
}


/*
** Three-way comparison of the keys at stack indices 'a' and 'b', both of
** class 'cls' (< KC_OTHER). Keys of the same boolean class are equal.
*/
static int cmp_keys (lua_State *L, int cls, int a, int b) {
  if (cls == KC_NUMBER) {
    NumVal x, y;
    get_num(L, a, &x);
    get_num(L, b, &y);
    return cmp_num(&x, &y);
  }
  else if (cls == KC_STRING) {
    size_t la, lb;
    const char *sa = lua_tolstring(L, a, &la);
    const char *sb = lua_tolstring(L, b, &lb);
    return cmp_str(sa, la, sb, lb);
  }
  else
    return 0;
}


/*
** Sorting of the collected keys, done on a C array (held in a userdata, so
** that the memory cap applies and an error frees it, or on the C stack for
** small tables).
*/
typedef struct KeyEnt {
  union {
    lua_Integer i;
    lua_Number f;
    const char *s;  /* contents of a string anchored by the raw copy */
  } u;
  size_t len;  /* strings: length; numbers: 1 if integer, 0 if float */
  lua_Integer idx;  /* strings: position of the key in the raw copy */
  uint64_t prefix;  /* strings: first 8 bytes, big-endian, zero-padded */
} KeyEnt;


/*
** Zero padding keeps the prefix order consistent with 'cmp_str': when two
** prefixes differ, their order is the bytewise order of the strings (a
** padded zero is never above a real byte); when they are equal, the full
** comparison decides.
*/
static uint64_t str_prefix (const char *s, size_t len) {
  uint64_t p = 0;
  size_t i;
  for (i = 0; i < 8; i++)
    p = (p << 8) | (i < len ? (uint64_t)(unsigned char)s[i] : 0u);
  return p;
}


/*
** Deterministic charging. sh_poll_limits charges the instruction budget on
** every call, so the number of calls must not depend on the raw order of
** the keys (which follows the per-state string hash seed), only on the set
** of keys. Bottom-up merge sort outputs every element exactly once per pass
** whatever the order, so charging each output (1 + len / 64) units and
** polling once per ENT_TICK_BUDGET units charged (carrying the remainder)
** gives a poll count that is a function of the key set. The actual work of
** an output is at most one comparison, which costs at most the length of
** the element output, so the time between polls stays bounded as well.
*/
#define ENT_TICK_BUDGET	2048

typedef struct Charger {
  lua_State *L;
  ptrdiff_t left;  /* units left before the next poll */
} Charger;

static void charge (Charger *c, size_t units) {
  c->left -= (ptrdiff_t)units;
  while (c->left < 0) {
    c->left += ENT_TICK_BUDGET;
    sh_poll_limits(c->L);
  }
}


static int ent_less (const KeyEnt *a, const KeyEnt *b, int strings) {
  if (strings) {
    if (a->prefix != b->prefix)
      return a->prefix < b->prefix;
    return cmp_str(a->u.s, a->len, b->u.s, b->len) < 0;
  }
  else if (a->len && b->len) return a->u.i < b->u.i;
  else if (!a->len && !b->len) return a->u.f < b->u.f;
  else if (a->len) return cmp_int_flt(a->u.i, b->u.f) < 0;
  else return cmp_int_flt(b->u.i, a->u.f) > 0;
}


/*
** Sorts ents[0 .. n-1] (distinct keys: a table cannot hold two equal
** keys) through a permutation: returns 'perm' or 'tmp', whichever holds
** the indices in ascending key order. Both must have room for n indices.
*/
static unsigned int *ent_sort (Charger *c, const KeyEnt *ents, size_t n,
                               int strings, unsigned int *perm,
                               unsigned int *tmp) {
  size_t w, i;
  for (i = 0; i < n; i++)
    perm[i] = (unsigned int)i;
  for (w = 1; w < n; w *= 2) {
    size_t lo;
    unsigned int *t;
    for (lo = 0; lo < n; lo += 2 * w) {
      size_t mid = (n - lo > w) ? lo + w : n;
      size_t hi = (n - lo > 2 * w) ? lo + 2 * w : n;
      size_t a = lo, b = mid, k = lo;
      if (mid < hi &&  /* runs already in order? copy them through */
          ent_less(&ents[perm[mid - 1]], &ents[perm[mid]], strings)) {
        for (; k < hi; k++) {
          tmp[k] = perm[k];
          charge(c, 1 + (strings ? ents[perm[k]].len >> 6 : 0));
        }
        continue;
      }
      while (k < hi) {
        unsigned int out;
        if (a < mid && (b >= hi ||
                        !ent_less(&ents[perm[b]], &ents[perm[a]], strings)))
          out = perm[a++];
        else
          out = perm[b++];
        tmp[k++] = out;
        charge(c, 1 + (strings ? ents[out].len >> 6 : 0));
      }
    }
    t = perm; perm = tmp; tmp = t;  /* the output becomes the input */
  }
  return perm;
}


/* tables with at most this many keys are collected on the stacks */
#define SMALL_TABLE	64

/*
** Pushes a new table with the keys of the table at 'tidx' (absolute) as an
** array (1 .. n) in iteration order.
**
** The keys are first anchored, in raw order, either on the Lua stack (small
** tables) or in a 'raw' table; the numbers and strings are described in a
** C array of KeyEnt (on the C stack, or in a userdata so that the memory
** cap applies and an error frees it) which is sorted; then the result is
** built. String entries point into strings anchored by the raw copy, so
** they stay valid even if the GC runs in between (weak tables).
*/
static void push_sorted_keys (lua_State *L, int tidx) {
  lua_Integer total = 0, nnum = 0, nstr = 0, k;
  lua_Integer inum = 0, istr = 0;
  int hasfalse = 0, hastrue = 0, small;
  unsigned int steps = 0;
  int base, raw = 0, keys;
  KeyEnt smallents[SMALL_TABLE];
  unsigned int smallperm[2 * (SMALL_TABLE + 1)];
  KeyEnt *ents;
  unsigned int *perm, *nperm, *sperm;
  Charger ch;
  luaL_checkstack(L, 8, "too many nested iterations");
  /* 1. count the keys of each class (lua_next does not allocate) */
  lua_pushnil(L);
  while (lua_next(L, tidx) != 0) {
    lua_pop(L, 1);  /* value */
    total++;
    switch (lua_type(L, -1)) {
      case LUA_TNUMBER: nnum++; break;
      case LUA_TSTRING: nstr++; break;
      default: break;
    }
    SH_POLL_EVERY(L, steps, SH_SCAN_MASK);
  }
  if (sh_unlikely(total >= INT_MAX))
    luaL_error(L, "table too big to iterate");
  small = (total <= SMALL_TABLE && lua_checkstack(L, (int)total + 8));
  /* 2. anchor the keys in raw order; describe numbers and strings */
  if (small) {
    ents = smallents;
    perm = smallperm;
    base = lua_gettop(L);  /* key k will be at base + k */
  }
  else {
    size_t ne = (size_t)(nnum + nstr + 1);
    lua_createtable(L, (int)total, 0);
    raw = lua_gettop(L);
    /* entries, then two permutation arrays of 'ne' indices */
    ents = (KeyEnt *)lua_newuserdatauv(L,
               (sizeof(KeyEnt) + 2 * sizeof(unsigned int)) * ne, 0);
    perm = (unsigned int *)(ents + ne);
    base = lua_gettop(L);
  }
  k = 0;
  lua_pushnil(L);
  while (lua_next(L, tidx) != 0) {
    lua_pop(L, 1);  /* value */
    if (k >= total) {  /* cannot happen: nothing runs between the passes */
      lua_pop(L, 1);
      break;
    }
    k++;
    switch (lua_type(L, -1)) {
      case LUA_TNUMBER: {
        if (inum < nnum) {
          KeyEnt *e = &ents[inum++];
          e->len = (size_t)lua_isinteger(L, -1);
          if (e->len) e->u.i = lua_tointeger(L, -1);
          else e->u.f = lua_tonumber(L, -1);
          e->idx = k;
        }
        break;
      }
      case LUA_TSTRING: {
        if (istr < nstr) {
          KeyEnt *e = &ents[nnum + istr++];
          e->u.s = lua_tolstring(L, -1, &e->len);
          e->prefix = str_prefix(e->u.s, e->len);
          e->idx = k;
        }
        break;
      }
      case LUA_TBOOLEAN: {
        if (lua_toboolean(L, -1)) hastrue = 1; else hasfalse = 1;
        break;
      }
      default: break;
    }
    lua_pushvalue(L, -1);  /* key for the next lua_next */
    if (small)  /* leave a copy of the key at base + k */
      lua_insert(L, -2);
    else
      lua_rawseti(L, raw, k);  /* raw[k] = key */
    SH_POLL_EVERY(L, steps, SH_SCAN_MASK);
  }
  total = k;
  /* 3. sort the numbers and the strings (permutations of their entries) */
  ch.L = L;
  ch.left = ENT_TICK_BUDGET;
  nperm = ent_sort(&ch, ents, (size_t)inum, 0,
                   perm, perm + (nnum + nstr + 1));
  sperm = ent_sort(&ch, ents + nnum, (size_t)istr, 1,
                   perm + nnum, perm + (nnum + nstr + 1) + nnum);
  /* 4. build the result */
  lua_createtable(L, (int)total, 0);
  keys = lua_gettop(L);
  k = 0;
  {
    lua_Integer j;
    for (j = 0; j < inum; j++) {
      const KeyEnt *e = &ents[nperm[j]];
      if (e->len) lua_pushinteger(L, e->u.i);
      else lua_pushnumber(L, e->u.f);
      lua_rawseti(L, keys, ++k);
      SH_POLL_EVERY(L, steps, SH_SCAN_MASK);
    }
    for (j = 0; j < istr; j++) {
      lua_Integer idx = ents[nnum + sperm[j]].idx;
      if (small) lua_pushvalue(L, base + (int)idx);
      else lua_rawgeti(L, raw, idx);
      lua_rawseti(L, keys, ++k);
      SH_POLL_EVERY(L, steps, SH_SCAN_MASK);
    }
    if (hasfalse) { lua_pushboolean(L, 0); lua_rawseti(L, keys, ++k); }
    if (hastrue) { lua_pushboolean(L, 1); lua_rawseti(L, keys, ++k); }
    for (j = 1; j <= total; j++) {  /* other keys, in raw order */
      int tp;
      if (small) { lua_pushvalue(L, base + (int)j); tp = lua_type(L, -1); }
      else tp = lua_rawgeti(L, raw, j);
      if (tp != LUA_TNUMBER && tp != LUA_TSTRING && tp != LUA_TBOOLEAN)
        lua_rawseti(L, keys, ++k);
      else
        lua_pop(L, 1);
      SH_POLL_EVERY(L, steps, SH_SCAN_MASK);
    }
  }
  /* leave only 'keys' above the stack as it was on entry */
  if (small) {
    if (keys != base + 1)  /* some keys were anchored below 'keys' */
      lua_replace(L, base + 1);
    lua_settop(L, base + 1);
  }
  else {
    lua_replace(L, raw);
    lua_settop(L, raw);
  }
}


/*
** Iterator of 'sh_sorted_pairs'. Upvalues: 1 the sorted key array, 2 the
** position of the last key returned, 3 the table. It ignores its arguments
** (the generic 'for' passes the table and the last key): the table is the
** one given to pairs. Keys whose value is nil by the time they are reached
** (assigned nil during the traversal, which Lua allows) are skipped; keys
** added during the traversal are not visited.
*/
static int sorted_iter (lua_State *L) {
  lua_Integer pos = lua_tointeger(L, lua_upvalueindex(2));
  unsigned int steps = 0;
  for (;;) {
    if (lua_rawgeti(L, lua_upvalueindex(1), ++pos) == LUA_TNIL) {
      lua_pushinteger(L, pos - 1);  /* stay at the end */
      lua_replace(L, lua_upvalueindex(2));
      return 1;  /* nil: end of the traversal */
    }
    lua_pushvalue(L, -1);
    if (lua_rawget(L, lua_upvalueindex(3)) != LUA_TNIL) {
      lua_pushinteger(L, pos);
      lua_replace(L, lua_upvalueindex(2));
      return 2;  /* key, value */
    }
    lua_pop(L, 2);  /* removed key: skip it */
    SH_POLL_EVERY(L, steps, SH_SCAN_MASK);
  }
}


static int pairs_cont (lua_State *L, int status, lua_KContext k) {
  (void)L; (void)status; (void)k;  /* unused */
  return 3;
}


/*
** pairs(t): with a __pairs metamethod, calls it like stock Lua 5.4 does and
** returns its three results. Otherwise t must be a table (stock would
** return next, t, nil for any value and fail in the first call of next;
** here the keys are collected at once, so the error comes from pairs:
** "bad argument #1 to 'pairs' (table expected, got X)"); returns the
** iterator closure over the keys sorted in iteration order, t, nil.
*/
int sh_sorted_pairs (lua_State *L) {
  luaL_checkany(L, 1);
  if (luaL_getmetafield(L, 1, "__pairs") == LUA_TNIL) {  /* no metamethod? */
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    push_sorted_keys(L, 1);  /* upvalue 1 */
    lua_pushinteger(L, 0);  /* upvalue 2 */
    lua_pushvalue(L, 1);  /* upvalue 3 */
    lua_pushcclosure(L, sorted_iter, 3);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
  }
  else {
    lua_pushvalue(L, 1);  /* argument 'self' to metamethod */
    lua_callk(L, 1, 3, 0, pairs_cont);  /* get 3 values from metamethod */
  }
  return 3;
}


/*
** next(t, k): stateless; returns the smallest key of t greater than k in
** iteration order (the first key when k is nil) and its raw value, or a
** single nil after the last key. O(n) per call (one lua_next pass).
**
** A number, string or boolean k need not be in t: the traversal continues
** with the next greater key, so assigning nil to fields during a traversal
** (which Lua allows) works, and so does a key removed since it was
** returned. A NaN k raises "invalid key to 'next'". For other keys (tables,
** functions, ...) the order is the raw order, so the next one is found with
** lua_next from k, which raises "invalid key to 'next'" like stock when k is
** not (and was not) in t.
*/
int sh_sorted_next (lua_State *L) {
  int kcls, found = 0;
  unsigned int steps = 0;
  Charger ch;
  luaL_checktype(L, 1, LUA_TTABLE);
  ch.L = L;
  ch.left = ENT_TICK_BUDGET;
  lua_settop(L, 2);  /* create a 2nd argument if there isn't one */
  kcls = lua_isnil(L, 2) ? -1 : key_class(L, 2);
  if (kcls == KC_NUMBER && !lua_isinteger(L, 2)) {
    lua_Number f = lua_tonumber(L, 2);
    if (f != f)
      return luaL_error(L, "invalid key to 'next'");
  }
  if (kcls < KC_OTHER) {
    /* one pass: best = smallest key greater than k among numbers, strings
       and booleans (index 3, class bestcls); firstother = the first other
       key in raw order (index 4) */
    int bestcls = KC_OTHER + 1;
    int hasother = 0;
    lua_pushnil(L);  /* 3: best */
    lua_pushnil(L);  /* 4: first other */
    lua_pushnil(L);  /* 5: traversal key */
    while (lua_next(L, 1) != 0) {
      int c;
      lua_pop(L, 1);  /* value */
      c = key_class(L, -1);
      if (c == KC_OTHER) {
        if (!hasother) {
          hasother = 1;
          lua_pushvalue(L, -1);
          lua_replace(L, 4);
        }
      }
      else if ((c > kcls ||
                (c == kcls && cmp_keys(L, c, -1, 2) > 0)) &&
               (c < bestcls ||
                (c == bestcls && cmp_keys(L, c, -1, 3) < 0))) {
        bestcls = c;
        lua_pushvalue(L, -1);
        lua_replace(L, 3);
      }
      /* charge what this key may cost (at most two comparisons), not what
         it did cost: which comparisons happen depends on the raw order, and
         the number of polls must not (see 'Charger') */
      charge(&ch, 2 + (c == KC_STRING ? lua_rawlen(L, -1) >> 5 : 0));
    }
    if (bestcls <= KC_TRUE) found = 3;
    else if (hasother) found = 4;
  }
  else {  /* k is an "other" key: next "other" key in raw order after k */
    lua_pushvalue(L, 2);
    while (lua_next(L, 1) != 0) {
      lua_pop(L, 1);  /* value */
      if (key_class(L, -1) == KC_OTHER) {
        found = lua_gettop(L);
        break;
      }
      SH_POLL_EVERY(L, steps, SH_SCAN_MASK);
    }
  }
  if (!found) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushvalue(L, found);  /* key */
  lua_pushvalue(L, -1);
  lua_rawget(L, 1);  /* value */
  return 2;
}

/* }====================================================== */
