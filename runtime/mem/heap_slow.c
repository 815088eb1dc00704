/*
 * heap_slow.c: what the heap's fast paths hand over: argument errors, a class
 * cache to refill or flush, large blocks, frees into pages the validated-page
 * table does not know yet, every free that is not a plain push (debug pages,
 * shrunk-in-place blocks, foreign, stale or wrong pointers), and reallocs the
 * fast path cannot do. All of it out of line.
 */
#include "heap_impl.h"

#include <string.h>

void _rtm_heap_copy(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
}

rtm_status _rtm_heap_bad(rtm_ctx *ctx, rtm_status s, const char *where)
{
    rtm_counter_add(&ctx->heap.bad_frees, 1);
    return _rtm_fail(ctx, s, where);
}

/* The free fast path's second look, for a page its table does not have:
 * the page map, then the header; the page is remembered when it is ctx's and
 * unflagged. Its class, or RTM_CLASS_COUNT. */
uintptr_t _rtm_heap_page_class(rtm_ctx *ctx, const void *p)
{
    if (!_rtm_pagemap_contains(p)) return RTM_CLASS_COUNT;
    rtm_heap_page *page = rtm_page_of(p);
    if (page->region.ctx != ctx || page->region.kind != RTM_REGION_HEAP_PAGE || page->flags != 0)
        return RTM_CLASS_COUNT;
    return rtm_page_checked(&ctx->heap, page);
}

/* A free the fast path did not finish: a page its table does not have (the
 * common case with many pages: not cold), else every other case. */
rtm_status _rtm_heap_free_other(rtm_ctx *ctx, void *p, size_t size, const char *where)
{
    if (RTM_LIKELY(ctx != NULL)) {
        uintptr_t c = _rtm_heap_page_class(ctx, p);
        if (c < RTM_CLASS_COUNT && size - 1 < RTM_SMALL_MAX && rtm_size_class(size) == c) {
            rtm_free_to_cache(ctx, (unsigned)c, p, size);
            return RTM_OK;
        }
    }
    return _rtm_heap_free_slow(ctx, p, size, where);
}

/* ---- allocation ------------------------------------------------------------ */

/* A small block: from the class's cache after a refill, or (debug) straight
 * from a page, with its size recorded and its bytes filled. */
static void *small_alloc(rtm_ctx *ctx, size_t size, rtm_status *why)
{
    rtm_heap *h = &ctx->heap;
    rtm_heap_class *cls = &h->cls[rtm_size_class(size)];
    if (!rtm_ctx_debug(ctx)) {
        void *p = rtm_alloc_from_cache(ctx, cls, size);
        if (p == NULL && _rtm_heap_refill(ctx, cls, why) != NULL) p = rtm_alloc_from_cache(ctx, cls, size);
        return p;
    }
    rtm_block *b = _rtm_heap_page_take(ctx, cls, why);
    if (b == NULL) return NULL;
    rtm_heap_page *page = rtm_page_of(b);
    rtm_counter_add(&cls->allocs, 1);
    rtm_cache_rebase(cls, 1); /* counted, but not from the cache */
    rtm_heap_bytes_add(h, size);
    rtm_track_alloc(b, size);
    page->dsize[rtm_page_block_index(page, b)] = (uint16_t)size;
    memset(b, RTM_FILL_ALLOC, size);
    return b;
}

void *_rtm_heap_alloc_quiet(rtm_ctx *ctx, size_t size, bool grows, bool zero, rtm_status *why)
{
    if (size > RTM_SMALL_MAX) return _rtm_large_alloc(ctx, size, grows, zero, why);
    void *p = small_alloc(ctx, size, why);
    if (p != NULL && zero) memset(p, 0, size);
    return p;
}

void *_rtm_heap_alloc_slow(rtm_ctx *ctx, size_t size, bool zero, const char *where)
{
    if (ctx == NULL) return NULL;
    if (size == 0 || size > RTM_MAX_ALLOC) return _rtm_fail_null(ctx, RTM_EINVAL, where);
    rtm_status why = RTM_ENOMEM;
    void *p = _rtm_heap_alloc_quiet(ctx, size, false, zero, &why);
    return p != NULL ? p : _rtm_fail_null(ctx, why, where);
}

/* ---- freeing --------------------------------------------------------------- */

/* Checks that p is a live block of `size` in its page: RTM_OK, or why not.
 * Exact in debug pages (each block's size is recorded); elsewhere the size
 * must be in the page's class (or, on a page holding a block shrunk in
 * place, no larger than the class). */
static rtm_status page_check_block(rtm_heap_page *page, const void *p, size_t size)
{
    if (page->flags & RTM_PAGE_CACHED) return RTM_ESTALE; /* every block of it is free */
    size_t idx = rtm_page_block_index(page, p);
    if (idx == SIZE_MAX) return RTM_EINVAL;
    if (page->flags & RTM_PAGE_DEBUG) {
        if (page->dsize[idx] == 0) return RTM_ESTALE;
        return page->dsize[idx] == size ? RTM_OK : RTM_EINVAL;
    }
    if (rtm_page_fits(page, size)) return RTM_OK;
    if ((page->flags & RTM_PAGE_LOOSE) && size - 1 < page->block_size) return RTM_OK;
    return RTM_EINVAL;
}

/* Frees a checked block of a page: onto its class's cache, or (debug) back
 * to the page, filled and with its size record cleared. */
static void page_free_block(rtm_ctx *ctx, rtm_heap_page *page, void *p, size_t size)
{
    if (!(page->flags & RTM_PAGE_DEBUG)) {
        rtm_free_to_cache(ctx, rtm_class_index(&ctx->heap, page->cls), p, size);
        return;
    }
    size_t bs = page->block_size;
    page->dsize[rtm_page_block_index(page, p)] = 0;
    rtm_track_internal(p, bs);
    memset(p, RTM_FILL_FREED, bs);
    rtm_track_free(p, bs);
    rtm_track_noaccess(p, bs);
    rtm_heap_class *cls = page->cls;
    rtm_counter_add(&cls->frees, 1);
    rtm_cache_rebase(cls, -1); /* counted, but not into the cache */
    rtm_heap_bytes_sub(&ctx->heap, size);
    _rtm_heap_page_put(ctx, page, (rtm_block *)p);
}

/* The region p lies in, when it is one of ctx's heap pages or large blocks. */
static rtm_region *heap_region(rtm_ctx *ctx, const void *p)
{
    rtm_region *r = _rtm_region_of(p);
    if (r == NULL) return (rtm_region *)_rtm_large_find_unmapped(ctx, p);
    if (r->ctx != ctx) return NULL;
    if (r->kind != RTM_REGION_HEAP_PAGE && r->kind != RTM_REGION_HEAP_LARGE) return NULL;
    return r;
}

/* RTM_OK when p is a live block of `size` in region r. */
static rtm_status check_block(rtm_region *r, const void *p, size_t size)
{
    if (r->kind == RTM_REGION_HEAP_PAGE) return page_check_block((rtm_heap_page *)r, p, size);
    return _rtm_large_check_block((rtm_large *)r, p, size);
}

rtm_status _rtm_heap_free_slow(rtm_ctx *ctx, void *p, size_t size, const char *where)
{
    if (ctx == NULL) return RTM_EINVAL;
    if (p == NULL) return RTM_OK;
    rtm_region *r = heap_region(ctx, p);
    if (r == NULL) return _rtm_heap_bad(ctx, RTM_EFOREIGN, where);
    rtm_status s = check_block(r, p, size);
    if (s != RTM_OK) return _rtm_heap_bad(ctx, s, where);
    if (r->kind == RTM_REGION_HEAP_PAGE) page_free_block(ctx, (rtm_heap_page *)r, p, size);
    else _rtm_large_free(ctx, (rtm_large *)r);
    return RTM_OK;
}

void _rtm_heap_cache_flush(rtm_ctx *ctx, rtm_heap_class *cls)
{
    rtm_heap *h = &ctx->heap;
    _rtm_heap_flush(ctx, cls, h->no_cache ? 0 : rtm_cache_limit(rtm_class_index(h, cls)) / 2);
}

/* ---- realloc --------------------------------------------------------------- */

/* A small block keeps its place, at a size in its class or (a shrink that
 * could not move) below it. */
static void page_resize_in_place(rtm_ctx *ctx, rtm_heap_page *page, void *p, size_t old_size,
                                 size_t new_size)
{
    if (page->flags & RTM_PAGE_DEBUG) page->dsize[rtm_page_block_index(page, p)] = (uint16_t)new_size;
    else if (!rtm_page_fits(page, new_size)) rtm_page_set_flag(&ctx->heap, page, RTM_PAGE_LOOSE);
    rtm_heap *h = &ctx->heap;
    rtm_counter_add(&h->reallocs_in_place, 1);
    rtm_heap_bytes_resize(h, old_size, new_size);
    rtm_track_resize(p, old_size, new_size);
}

static void *page_realloc(rtm_ctx *ctx, rtm_heap_page *page, void *p, size_t old_size,
                          size_t new_size, const char *where)
{
    if (rtm_page_fits(page, new_size)) {
        page_resize_in_place(ctx, page, p, old_size, new_size);
        return p;
    }
    rtm_status why = RTM_ENOMEM;
    void *q = _rtm_heap_alloc_quiet(ctx, new_size, new_size > old_size, false, &why);
    if (q == NULL) {
        if (new_size > old_size) return _rtm_fail_null(ctx, why, where);
        /* A shrink never fails: keep the block where it is. */
        page_resize_in_place(ctx, page, p, old_size, new_size);
        return p;
    }
    _rtm_heap_copy(q, p, old_size < new_size ? old_size : new_size);
    page_free_block(ctx, page, p, old_size);
    return q;
}

void *_rtm_heap_realloc_slow(rtm_ctx *ctx, void *p, size_t old_size, size_t new_size,
                             const char *where)
{
    if (ctx == NULL) return NULL;
    if (p == NULL) return _rtm_heap_alloc_slow(ctx, new_size, false, where);
    rtm_region *r = heap_region(ctx, p);
    if (r == NULL) return (void *)(_rtm_heap_bad(ctx, RTM_EFOREIGN, where), NULL);
    rtm_status s = check_block(r, p, old_size);
    if (s != RTM_OK) return (void *)(_rtm_heap_bad(ctx, s, where), NULL);
    if (new_size == 0) {
        if (r->kind == RTM_REGION_HEAP_PAGE) page_free_block(ctx, (rtm_heap_page *)r, p, old_size);
        else _rtm_large_free(ctx, (rtm_large *)r);
        return NULL;
    }
    if (new_size > RTM_MAX_ALLOC) return _rtm_fail_null(ctx, RTM_EINVAL, where);
    rtm_counter_add(&ctx->heap.reallocs, 1);
    if (r->kind == RTM_REGION_HEAP_PAGE) {
        rtm_heap_page *page = (rtm_heap_page *)r;
        /* Checked now: remembered, as _rtm_heap_page_class does for a free,
         * so the next realloc or free into this page takes the fast path. */
        rtm_page_checked(&ctx->heap, page);
        return page_realloc(ctx, page, p, old_size, new_size, where);
    }
    rtm_status why = RTM_ENOMEM;
    void *q = _rtm_large_realloc(ctx, (rtm_large *)r, new_size, &why);
    return q != NULL ? q : _rtm_fail_null(ctx, why, where);
}
