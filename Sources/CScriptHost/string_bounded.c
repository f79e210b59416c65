/*
 * The sandbox's `string` table. `rep`, `upper`, `lower` and `reverse` are
 * ours: they fill their result in chunks and count every chunk on the work
 * meter, so the limits stop them part way like any loop (the stock `rep`
 * copies byte by byte for short units and runs for tens of milliseconds on a
 * result that fits under the memory cap). Functions whose whole cost is known
 * from their arguments and that copy at memcpy speed (sub, byte, char,
 * format) keep the stock implementation, called directly from a wrapper that
 * first checks that cost against the memory cap, the instruction budget and
 * the deadline (sh_precheck). The searching functions are ours
 * (string_search.c). `len` is O(1) and stays as it is. Not offered: `dump`
 * (bytecode) and `pack`, `unpack`, `packsize` (binary layouts, which rules
 * do not need and whose formats would need their own cost model).
 *
 * A wrapper calls the stock C function in its own frame (upvalue 1), so an
 * argument error still names the function the script called.
 */
#include "bounded.h"

#include <ctype.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

void sh_push_search_functions(lua_State *L);

static inline int call_stock(lua_State *L) {
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* The size of s:sub(i, j) once i and j are corrected as §6.4 says. */
static size_t slice_size(lua_Integer i, lua_Integer j, size_t length) {
    lua_Integer size = (lua_Integer)(length > (size_t)LUA_MAXINTEGER ? LUA_MAXINTEGER : length);
    if (i < 0) i = i < -size ? 1 : size + i + 1;
    if (i == 0) i = 1;
    if (j < 0) j = j < -size ? 0 : size + j + 1;
    if (j > size) j = size;
    return i > j ? 0 : (size_t)(j - i) + 1;
}

/* MARK: - Results built in chunks */

/* Bytes produced between two counts on the meter. A byte mapped through a
 * table (upper, lower) or reversed into a new buffer costs about as much as
 * one copied there (measured: the page faults of the fresh buffer dominate),
 * so both are counted as written bytes. */
#define CHUNK (64 * 1024)

/* Starts a result of `size` bytes: refuses at once what cannot fit under the
 * memory cap, then returns the buffer to fill. */
static char *begin_result(lua_State *L, luaL_Buffer *b, size_t size) {
    sh_precheck(L, size, 0);
    return luaL_buffinitsize(L, b, size);
}

/* Pushes the filled result. Lua copies it into a new string in one go,
 * which no poll can interrupt: counted first, and refused when it cannot
 * finish before the deadline. */
static void end_result(lua_State *L, luaL_Buffer *b, size_t size) {
    sh_precheck(L, size, sh_write_units(size));
    luaL_pushresultsize(b, size);
}

/* string.rep(s, n [, sep]): the first unit is written, then the filled part
 * is copied after itself, doubling, chunk by chunk. */
static int string_rep(lua_State *L) {
    size_t length, separator_length;
    const char *text = luaL_checklstring(L, 1, &length);
    lua_Integer count = luaL_checkinteger(L, 2);
    const char *separator = luaL_optlstring(L, 3, "", &separator_length);
    /* Repeating nothing costs stock Lua `count` empty copies
     * (string.rep("", 3e9) runs for seconds); the result is known. */
    if (count <= 0 || length + separator_length == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    size_t unit = length + separator_length;
    /* Observed on the stock function: `count` units (separators included)
     * over INT_MAX bytes are refused before any work. */
    if (unit < length || unit > (size_t)INT_MAX / (lua_Unsigned)count) luaL_error(L, "resulting string too large");
    size_t total = (size_t)count * unit - separator_length;
    sh_meter meter;
    sh_meter_init(&meter, L);
    luaL_Buffer b;
    char *out = begin_result(L, &b, total);
    size_t filled = 0;
    /* The first unit (the separator only when another unit follows). */
    for (size_t done = 0; done < length; done += CHUNK) {
        size_t piece = length - done < CHUNK ? length - done : CHUNK;
        sh_meter_tick(&meter, sh_write_units(piece));
        memcpy(out + done, text + done, piece);
    }
    filled = length;
    if (filled < total) {
        sh_meter_tick(&meter, sh_write_units(separator_length));
        memcpy(out + filled, separator, separator_length);
        filled += separator_length;
    }
    /* out[i] is unit[i % unit] for i < filled, so the bytes from `filled` on
     * repeat those from filled % unit on, which are already written. */
    while (filled < total) {
        size_t from = filled % unit;
        size_t piece = filled - from;
        if (piece > total - filled) piece = total - filled;
        if (piece > CHUNK) piece = CHUNK;
        sh_meter_tick(&meter, sh_write_units(piece));
        memcpy(out + filled, out + from, piece);
        filled += piece;
    }
    end_result(L, &b, total);
    return 1;
}

/* MARK: - upper, lower, reverse */

static unsigned char g_upper[256];
static unsigned char g_lower[256];
static pthread_once_t g_maps_once = PTHREAD_ONCE_INIT;

/* As the C library's <ctype.h> maps bytes (so does the stock library). */
static void build_maps(void) {
    for (int c = 0; c < 256; c++) {
        g_upper[c] = (unsigned char)toupper(c);
        g_lower[c] = (unsigned char)tolower(c);
    }
}

static int map_bytes(lua_State *L, const unsigned char *map) {
    size_t length;
    const unsigned char *text = (const unsigned char *)luaL_checklstring(L, 1, &length);
    sh_meter meter;
    sh_meter_init(&meter, L);
    luaL_Buffer b;
    unsigned char *out = (unsigned char *)begin_result(L, &b, length);
    for (size_t done = 0; done < length; done += CHUNK) {
        size_t end = length - done < CHUNK ? length : done + CHUNK;
        sh_meter_tick(&meter, sh_write_units(end - done));
        for (size_t i = done; i < end; i++) out[i] = map[text[i]];
    }
    end_result(L, &b, length);
    return 1;
}

static int string_upper(lua_State *L) {
    pthread_once(&g_maps_once, build_maps);
    return map_bytes(L, g_upper);
}

static int string_lower(lua_State *L) {
    pthread_once(&g_maps_once, build_maps);
    return map_bytes(L, g_lower);
}

static int string_reverse(lua_State *L) {
    size_t length;
    const char *text = luaL_checklstring(L, 1, &length);
    sh_meter meter;
    sh_meter_init(&meter, L);
    luaL_Buffer b;
    char *out = begin_result(L, &b, length);
    for (size_t done = 0; done < length; done += CHUNK) {
        size_t end = length - done < CHUNK ? length : done + CHUNK;
        sh_meter_tick(&meter, sh_write_units(end - done));
        for (size_t i = done; i < end; i++) out[i] = text[length - 1 - i];
    }
    end_result(L, &b, length);
    return 1;
}

/* MARK: - Stock functions behind a cost check */

static int bounded_sub(lua_State *L) {
    size_t length;
    luaL_checklstring(L, 1, &length);
    lua_Integer from = luaL_checkinteger(L, 2);
    lua_Integer to = luaL_optinteger(L, 3, -1);
    size_t size = slice_size(from, to, length);
    sh_precheck(L, size, sh_write_units(size));
    return call_stock(L);
}

/* A value pushed on the stack (byte) or taken from it (char): about 30 ns
 * (measured: the stack of a long slice grows, and is copied, as it goes). */
#define VALUE_UNITS 8

static int bounded_byte(lua_State *L) {
    size_t length;
    luaL_checklstring(L, 1, &length);
    lua_Integer from = luaL_optinteger(L, 2, 1);
    lua_Integer to = luaL_optinteger(L, 3, from);
    /* Each code is a value on the stack; a slice longer than the stack can
     * grow is refused by the stock function ("string slice too long"). */
    size_t count = slice_size(from, to, length);
    if (count < 1000000) sh_precheck(L, count * sizeof(lua_Number) * 2, count * VALUE_UNITS);
    return call_stock(L);
}

static int bounded_char(lua_State *L) {
    size_t count = (size_t)lua_gettop(L);
    sh_precheck(L, count, count * VALUE_UNITS);
    return call_stock(L);
}

/* What one directive of string.format costs, measured on the stock
 * function: about 1 us for a number or a short string (DIRECTIVE_UNITS),
 * besides the bytes a %s copies; %q writes a plain byte in about 8 ns and
 * a control byte (which it escapes with a number) in about 128 ns; %f of a
 * large float writes every digit of its integer part, about 64 ns each
 * (20 us for 1e308). */
#define DIRECTIVE_UNITS 256
#define QUOTED_BYTE_UNITS 2
#define QUOTED_CONTROL_UNITS 32
#define FLOAT_DIGIT_UNITS 16

/* The units of the directive ending in `conversion` for `argument` (none
 * past `top`), and the bytes of the result it is sure to add to *least. */
static size_t directive_units(lua_State *L, char conversion, int argument, int top, size_t *least) {
    int type = argument <= top ? lua_type(L, argument) : LUA_TNONE;
    if (type == LUA_TSTRING && (conversion == 's' || conversion == 'q')) {
        size_t size;
        const unsigned char *text = (const unsigned char *)lua_tolstring(L, argument, &size);
        *least += size;
        if (conversion == 's') return DIRECTIVE_UNITS + sh_write_units(size);
        size_t controls = 0;
        for (size_t i = 0; i < size; i++) controls += iscntrl(text[i]) != 0;
        return DIRECTIVE_UNITS + sh_scan_units(size) + QUOTED_BYTE_UNITS * size + QUOTED_CONTROL_UNITS * controls;
    }
    if (type == LUA_TNUMBER && !lua_isinteger(L, argument) && (conversion == 'f' || conversion == 'F')) {
        lua_Number magnitude = fabs(lua_tonumber(L, argument));
        /* Only finite values past 10^15 have many digits (NaN fails both tests). */
        if (magnitude >= 1e15 && magnitude <= DBL_MAX) {
            return DIRECTIVE_UNITS + FLOAT_DIGIT_UNITS * ((size_t)log10(magnitude) + 1);
        }
    }
    return DIRECTIVE_UNITS;
}

/* format: the result holds at least the format's own bytes and every string
 * that a %s or %q copies; the work is counted per directive as above. */
static int bounded_format(lua_State *L) {
    size_t length;
    const char *format = luaL_checklstring(L, 1, &length);
    int top = lua_gettop(L);
    int argument = 1;
    size_t least = length;
    size_t units = sh_write_units(length);
    sh_meter meter;
    sh_meter_init(&meter, L);
    for (size_t i = 0; i < length; i++) {
        if ((i & 1023) == 1023) sh_meter_tick(&meter, 128);
        if (format[i] != '%') continue;
        if (++i >= length) break;
        if (format[i] == '%') continue;
        while (i < length && format[i] != '\0' && strchr("-+ #0123456789.", format[i]) != NULL) i++;
        if (i >= length) break;
        argument++;
        units += directive_units(L, format[i], argument, top, &least);
    }
    sh_precheck(L, least, units);
    return call_stock(L);
}

/* Replaces the stock function `name` of the table on top by `wrapper`, which
 * gets the stock function as its upvalue. */
static void wrap(lua_State *L, const char *name, lua_CFunction wrapper) {
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, wrapper, 1);
    lua_setfield(L, -2, name);
}

void sh_install_bounded_string(lua_State *L, int libindex) {
    lua_pushvalue(L, libindex);
    wrap(L, "sub", bounded_sub);
    wrap(L, "byte", bounded_byte);
    wrap(L, "char", bounded_char);
    wrap(L, "format", bounded_format);
    static const luaL_Reg ours[] = {
        {"rep", string_rep},
        {"upper", string_upper},
        {"lower", string_lower},
        {"reverse", string_reverse},
        {NULL, NULL},
    };
    luaL_setfuncs(L, ours, 0);
    sh_push_search_functions(L);
    static const char *const absent[] = {"dump", "pack", "unpack", "packsize", NULL};
    for (int i = 0; absent[i] != NULL; i++) {
        lua_pushnil(L);
        lua_setfield(L, -2, absent[i]);
    }
    lua_pop(L, 1);
}
