/*
 * heap.c: the small-object heap's public entry points and their fast paths.
 *
 * The fast paths are all that is here: an allocation pops the first free
 * block of its class's current page; a free checks the pointer against the
 * page map and its page's header and pushes the block onto that page's list;
 * a realloc within one class only moves the byte count. Everything else
 * (a new page, large blocks, debug checks, errors) is one call away, out of
 * line, in heap_slow.c.
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

const uint8_t _rtm_size_class_table[RTM_CLASS_GRANULES] = {0, T1024(1)};

_Static_assert(RTM_CLASS_OF(RTM_SMALL_MAX) == RTM_CLASS_COUNT - 1, "size classes");
_Static_assert(RTM_CLASS_GRANULES == 1025, "one entry per 8-byte granule up to 8 KiB");

/* ---- fast paths ----------------------------------------------------------- */

/* Pops a block of `size` (1..RTM_SMALL_MAX) from its class's current page,
 * or NULL when that page has none (the empty page included). */
RTM_INLINE void *alloc_fast(rtm_ctx *ctx, size_t size)
{
    rtm_heap_class *cls = &ctx->heap.cls[rtm_size_class(size)];
    rtm_heap_page *page = cls->page;
    rtm_block *b = page->free;
    if (RTM_UNLIKELY(b == NULL)) return NULL;
    page->free = rtm_block_next(b);
    page->used++;
    rtm_counter_add(&cls->allocs, 1);
    rtm_heap_bytes_add(&ctx->heap, size);
    rtm_track_alloc(b, size);
    return b;
}

/* The page of p when p is in one of ctx's heap pages, whose class `size`
 * fits and which has no flag asking for the slow path; else NULL. Never
 * touches memory before the page map says it is rtmem's. A NULL p or ctx
 * fails here too (no page's ctx is NULL; address 0 is never mapped). */
RTM_INLINE rtm_heap_page *page_fast(rtm_ctx *ctx, void *p, size_t size)
{
    if (RTM_UNLIKELY(!_rtm_pagemap_contains(p))) return NULL;
    rtm_heap_page *page = rtm_page_of(p);
    if (RTM_UNLIKELY(page->region.ctx != ctx || page->region.kind != RTM_REGION_HEAP_PAGE))
        return NULL;
    if (RTM_UNLIKELY(!rtm_page_fits(page, size) || page->flags != 0)) return NULL;
    return page;
}

RTM_INLINE bool free_fast(rtm_ctx *ctx, void *p, size_t size)
{
    rtm_heap_page *page = page_fast(ctx, p, size);
    if (page == NULL) return false;
    rtm_track_free(p, (size_t)page->min_size + page->span);
    rtm_block_link((rtm_block *)p, page->free);
    page->free = (rtm_block *)p;
    rtm_heap_class *cls = page->cls;
    rtm_counter_add(&cls->frees, 1);
    rtm_heap_bytes_sub(&ctx->heap, size);
    /* An empty page that is not its class's current one goes back; the
     * current one stays, so alloc/free pairs never churn pages. */
    if (RTM_UNLIKELY(--page->used == 0) && page != cls->page) _rtm_heap_page_retire(ctx, page);
    return true;
}

/* In place when both sizes are in p's class. */
RTM_INLINE bool realloc_fast(rtm_ctx *ctx, void *p, size_t old_size, size_t new_size)
{
    rtm_heap_page *page = page_fast(ctx, p, old_size);
    if (page == NULL || !rtm_page_fits(page, new_size)) return false;
    rtm_heap *h = &ctx->heap;
    rtm_counter_add(&h->reallocs, 1);
    rtm_counter_add(&h->reallocs_in_place, 1);
    rtm_heap_bytes_resize(h, old_size, new_size);
    rtm_track_resize(p, old_size, new_size);
    return true;
}

/* ---- the public entry points --------------------------------------------- */

void *rtm_alloc(rtm_ctx *ctx, size_t size)
{
    if (RTM_LIKELY(ctx != NULL && size - 1 < RTM_SMALL_MAX)) {
        void *p = alloc_fast(ctx, size);
        if (RTM_LIKELY(p != NULL)) return p;
    }
    return _rtm_heap_alloc_slow(ctx, size, false, "rtm_alloc");
}

void *rtm_calloc(rtm_ctx *ctx, size_t n, size_t size)
{
    size_t total;
    if (ctx == NULL) return NULL;
    if (rtm_mul_overflow(n, size, &total)) return _rtm_fail_null(ctx, RTM_EINVAL, "rtm_calloc");
    if (RTM_LIKELY(total - 1 < RTM_SMALL_MAX)) {
        void *p = alloc_fast(ctx, total);
        if (RTM_LIKELY(p != NULL)) return memset(p, 0, total);
    }
    return _rtm_heap_alloc_slow(ctx, total, true, "rtm_calloc");
}

void rtm_free(rtm_ctx *ctx, void *p, size_t size)
{
    if (RTM_LIKELY(free_fast(ctx, p, size))) return;
    _rtm_heap_free_slow(ctx, p, size, "rtm_free");
}

rtm_status rtm_free_checked(rtm_ctx *ctx, void *p, size_t size)
{
    if (RTM_LIKELY(free_fast(ctx, p, size))) return RTM_OK;
    return _rtm_heap_free_slow(ctx, p, size, "rtm_free_checked");
}

void *rtm_realloc(rtm_ctx *ctx, void *p, size_t old_size, size_t new_size)
{
    if (RTM_LIKELY(realloc_fast(ctx, p, old_size, new_size))) return p;
    return _rtm_heap_realloc_slow(ctx, p, old_size, new_size, "rtm_realloc");
}

void *rtm_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    rtm_ctx *ctx = (rtm_ctx *)ud;
    if (nsize == 0) {
        if (ptr != NULL && !free_fast(ctx, ptr, osize))
            _rtm_heap_free_slow(ctx, ptr, osize, "rtm_lua_alloc");
        return NULL;
    }
    if (ptr == NULL) {
        /* osize is the type tag of the new object, not a size. */
        void *p = NULL;
        if (RTM_LIKELY(ctx != NULL && nsize - 1 < RTM_SMALL_MAX)) p = alloc_fast(ctx, nsize);
        if (RTM_UNLIKELY(p == NULL)) {
            p = _rtm_heap_alloc_slow(ctx, nsize, false, "rtm_lua_alloc");
            if (p == NULL) return NULL;
        }
        rtm_counter_add(&ctx->heap.lua_tags[osize < RTM_LUA_TAGS - 1 ? osize : RTM_LUA_TAGS - 1], 1);
        return p;
    }
    /* A shrink never fails: the slow path keeps the block in place when it
     * cannot move it (rtm_realloc does the same). */
    if (RTM_LIKELY(realloc_fast(ctx, ptr, osize, nsize))) return ptr;
    return _rtm_heap_realloc_slow(ctx, ptr, osize, nsize, "rtm_lua_alloc");
}
