/*
 * heap.c: the small-object heap's public entry points and their fast paths.
 *
 * The fast paths are all that is here: an allocation pops its class's cache
 * of recently freed blocks; a free checks the pointer against the page map
 * and its page's header and pushes the block onto its class's cache; a
 * realloc within one class only moves the byte count, and one between two
 * small classes is those two fast paths and a copy (behind a tail call).
 * Everything else (refills, flushes, pages, large blocks, debug checks,
 * errors) is one call away, out of line, in heap_slow.c.
 */
#include "heap_impl.h"

#include <string.h>

/* ---- the size -> class table -------------------------------------------- */

#define T1(g) (uint8_t)RTM_CLASS_OF((g) * 8)
#define T4(g) T1(g), T1((g) + 1), T1((g) + 2), T1((g) + 3)
#define T16(g) T4(g), T4((g) + 4), T4((g) + 8), T4((g) + 12)
#define T64(g) T16(g), T16((g) + 16), T16((g) + 32), T16((g) + 48)
#define T256(g) T64(g), T64((g) + 64), T64((g) + 128), T64((g) + 192)
#define T1024(g) T256(g), T256((g) + 256), T256((g) + 512), T256((g) + 768)

/* entry g: the class of 8g + 8 bytes (T1(g) takes the granule count g + 1) */
const uint8_t _rtm_size_class_table[RTM_CLASS_GRANULES] = {T1024(1)};

_Static_assert(RTM_CLASS_OF(RTM_SMALL_MAX) == RTM_CLASS_COUNT - 1, "size classes");
_Static_assert(RTM_CLASS_GRANULES == 1024, "one entry per 8-byte granule up to 8 KiB");

/* ---- fast paths ----------------------------------------------------------- */

RTM_INLINE rtm_heap_class *class_of(rtm_ctx *ctx, size_t size)
{
    return &ctx->heap.cls[rtm_size_class(size)];
}

/* The class of p when the validated-page table has p's page and `size` is
 * of that class; else a value >= RTM_CLASS_COUNT, and the caller hands over
 * to _rtm_heap_free_other (the page map, then the slow path). A page in the
 * table needs no second look, not even at its header: it stays ctx's,
 * unflagged, until it is released or flagged, which forget it. */
RTM_INLINE uintptr_t class_fast(rtm_ctx *ctx, void *p, size_t size)
{
    if (RTM_UNLIKELY(size - 1 >= RTM_SMALL_MAX)) return RTM_CLASS_COUNT;
    /* The class comes from the size; the table only confirms it. So the
     * table's load feeds a predicted branch, not the addresses of the class
     * cache's loads and stores, and stays off the chain that links one
     * free to the next allocation (about 3 ns per pair, measured). */
    uintptr_t c = rtm_size_class(size);
    /* The compiler must not learn that the two are equal after the test, or
     * it may take the address from the table's value after all. */
    uintptr_t differ = rtm_page_seen_class(&ctx->heap, p) ^ c;
    RTM_OPAQUE(differ);
    if (RTM_UNLIKELY(differ != 0)) return RTM_CLASS_COUNT;
    return c;
}

RTM_INLINE bool free_fast(rtm_ctx *ctx, void *p, size_t size)
{
    if (RTM_UNLIKELY(ctx == NULL)) return false;
    uintptr_t c = class_fast(ctx, p, size);
    if (c >= RTM_CLASS_COUNT) return false;
    rtm_free_to_cache(ctx, (unsigned)c, p, size);
    return true;
}

/* A resize within p's class: only the byte count moves. False when p's page
 * is not in the validated-page table, a size is not small, or the class
 * changes: realloc_other decides. */
RTM_INLINE bool resize_fast(rtm_ctx *ctx, void *p, size_t old_size, size_t new_size)
{
    if (RTM_UNLIKELY(ctx == NULL)) return false;
    uintptr_t c = class_fast(ctx, p, old_size);
    if (c >= RTM_CLASS_COUNT || new_size - 1 >= RTM_SMALL_MAX || rtm_size_class(new_size) != c)
        return false;
    rtm_heap *h = &ctx->heap;
    rtm_counter_add(&h->reallocs, 1);
    rtm_counter_add(&h->reallocs_in_place, 1);
    rtm_heap_bytes_resize(h, old_size, new_size);
    rtm_track_resize(p, old_size, new_size);
    return true;
}

/* Every other realloc, reached by a tail call: its copy is a call, and a
 * call in the entry point would make even the in-place path save and
 * restore five registers. Between two small classes by the fast paths; the
 * rest (and every error) in heap_slow.c. A shrink never fails: the slow path
 * keeps the block in place when it cannot move it. */
RTM_NOINLINE static void *realloc_other(rtm_ctx *ctx, void *p, size_t old_size, size_t new_size,
                                        const char *where)
{
    if (ctx != NULL && new_size - 1 < RTM_SMALL_MAX) {
        uintptr_t c = class_fast(ctx, p, old_size);
        void *q;
        if (c < RTM_CLASS_COUNT &&
            (q = rtm_alloc_from_cache(ctx, class_of(ctx, new_size), new_size)) != NULL) {
            rtm_counter_add(&ctx->heap.reallocs, 1);
            _rtm_heap_copy(q, p, old_size < new_size ? old_size : new_size);
            rtm_free_to_cache(ctx, (unsigned)c, p, old_size);
            return q;
        }
    }
    return _rtm_heap_realloc_slow(ctx, p, old_size, new_size, where);
}

/* ---- the public entry points --------------------------------------------- */

/* Each entry point starts on a cache line: the fast paths are a few dozen
 * instructions, and fetching them in fewer 64-byte blocks took about 10% off
 * the alloc/free pair on the machine measured (AMD EPYC, 3.3 vs 3.6 ns). */
#if defined(__GNUC__) || defined(__clang__)
#  define RTM_HOT_ENTRY __attribute__((aligned(64)))
#else
#  define RTM_HOT_ENTRY
#endif


RTM_HOT_ENTRY void *rtm_alloc(rtm_ctx *ctx, size_t size)
{
    if (RTM_LIKELY(ctx != NULL && size - 1 < RTM_SMALL_MAX)) {
        void *p = rtm_alloc_from_cache(ctx, class_of(ctx, size), size);
        if (RTM_LIKELY(p != NULL)) return p;
    }
    return _rtm_heap_alloc_slow(ctx, size, false, "rtm_alloc");
}

RTM_HOT_ENTRY void *rtm_calloc(rtm_ctx *ctx, size_t n, size_t size)
{
    size_t total;
    if (ctx == NULL) return NULL;
    if (rtm_mul_overflow(n, size, &total)) return _rtm_fail_null(ctx, RTM_EINVAL, "rtm_calloc");
    if (RTM_LIKELY(total - 1 < RTM_SMALL_MAX)) {
        void *p = rtm_alloc_from_cache(ctx, class_of(ctx, total), total);
        if (RTM_LIKELY(p != NULL)) return memset(p, 0, total);
    }
    return _rtm_heap_alloc_slow(ctx, total, true, "rtm_calloc");
}

RTM_HOT_ENTRY void rtm_free(rtm_ctx *ctx, void *p, size_t size)
{
    if (RTM_LIKELY(free_fast(ctx, p, size))) return;
    _rtm_heap_free_other(ctx, p, size, "rtm_free");
}

RTM_HOT_ENTRY rtm_status rtm_free_checked(rtm_ctx *ctx, void *p, size_t size)
{
    if (RTM_LIKELY(free_fast(ctx, p, size))) return RTM_OK;
    return _rtm_heap_free_other(ctx, p, size, "rtm_free_checked");
}

RTM_HOT_ENTRY void *rtm_realloc(rtm_ctx *ctx, void *p, size_t old_size, size_t new_size)
{
    if (RTM_LIKELY(resize_fast(ctx, p, old_size, new_size))) return p;
    return realloc_other(ctx, p, old_size, new_size, "rtm_realloc");
}

/* Lua's tag count for a new object: osize is its type tag, not a size. */
RTM_INLINE void *lua_counted(rtm_ctx *ctx, void *p, size_t tag)
{
    rtm_counter_add(&ctx->heap.lua_tags[tag < RTM_LUA_TAGS - 1 ? tag : RTM_LUA_TAGS - 1], 1);
    return p;
}

/* rtm_lua_alloc's paths that call out (a refill, a large block, a move to
 * another class) live apart, reached by tail calls: if one call stayed in
 * the entry point, every Lua free and allocation would save and restore five
 * registers (ten instructions of about forty) around the fast paths. */
RTM_NOINLINE static void *lua_alloc_other(rtm_ctx *ctx, size_t tag, size_t nsize)
{
    void *p = _rtm_heap_alloc_slow(ctx, nsize, false, "rtm_lua_alloc");
    return p == NULL ? NULL : lua_counted(ctx, p, tag);
}

RTM_NOINLINE static void *lua_free_other(rtm_ctx *ctx, void *ptr, size_t osize)
{
    _rtm_heap_free_other(ctx, ptr, osize, "rtm_lua_alloc");
    return NULL;
}

RTM_HOT_ENTRY void *rtm_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    rtm_ctx *ctx = (rtm_ctx *)ud;
    if (nsize == 0) {
        if (ptr == NULL || RTM_LIKELY(free_fast(ctx, ptr, osize))) return NULL;
        return lua_free_other(ctx, ptr, osize);
    }
    if (ptr == NULL) {
        if (RTM_LIKELY(ctx != NULL && nsize - 1 < RTM_SMALL_MAX)) {
            void *p = rtm_alloc_from_cache(ctx, class_of(ctx, nsize), nsize);
            if (RTM_LIKELY(p != NULL)) return lua_counted(ctx, p, osize);
        }
        return lua_alloc_other(ctx, osize, nsize);
    }
    if (RTM_LIKELY(resize_fast(ctx, ptr, osize, nsize))) return ptr;
    return realloc_other(ctx, ptr, osize, nsize, "rtm_lua_alloc");
}
