/*
 * heap_page.c: the small-object heap's pages: where they come from (the
 * empty cache, else the page source through the out-of-memory ladder), how
 * blocks move between a page and its class's cache (refill, flush), and
 * where pages go when they empty.
 */
#include "heap_impl.h"

#include <string.h>

/* ---- the class queue (pages with room) and full list ---------------------- */

static void queue_push_tail(rtm_heap_class *cls, rtm_heap_page *page)
{
    page->in_full = 0;
    page->next = NULL;
    page->prev = cls->tail;
    if (cls->tail != NULL) cls->tail->next = page;
    else cls->page = page;
    cls->tail = page;
}

static void queue_remove(rtm_heap_class *cls, rtm_heap_page *page)
{
    if (page->prev != NULL) page->prev->next = page->next;
    else cls->page = page->next;
    if (page->next != NULL) page->next->prev = page->prev;
    else cls->tail = page->prev;
    page->prev = page->next = NULL;
}

static void full_push(rtm_heap_class *cls, rtm_heap_page *page)
{
    page->in_full = 1;
    page->prev = NULL;
    page->next = cls->full;
    if (cls->full != NULL) cls->full->prev = page;
    cls->full = page;
}

static void full_remove(rtm_heap_class *cls, rtm_heap_page *page)
{
    if (page->prev != NULL) page->prev->next = page->next;
    else cls->full = page->next;
    if (page->next != NULL) page->next->prev = page->prev;
    page->prev = page->next = NULL;
    page->in_full = 0;
}

static bool page_has_room(const rtm_heap_page *page)
{
    return page->nfree != 0 || page->carved < page->capacity;
}

/* ---- the page source, with the out-of-memory ladder ---------------------- */

void *_rtm_heap_pages_get(rtm_ctx *ctx, size_t size, rtm_status *why)
{
    void *p = _rtm_pages_alloc(ctx, size, RTM_SEGMENT_SIZE, 0, why);
    if (RTM_LIKELY(p != NULL) || *why == RTM_EINVAL) return p;
    /* The ladder: the heap's own caches first, then the collect hook, each
     * followed by one more try. While it runs, whatever the hook frees goes
     * straight back to the source rather than into a cache. */
    rtm_heap *h = &ctx->heap;
    if (h->no_cache) return NULL; /* the hook asked for memory: not allowed */
    h->no_cache = true;
    /* Every class's threshold drops out of reach, so each free the hook
     * makes takes the slow path, which flushes it back to its page. */
    for (unsigned c = 0; c < RTM_CLASS_COUNT; c++) h->cls[c].threshold -= RTM_CACHE_OFF;
    size_t released = _rtm_heap_release_caches(ctx);
    if (released != 0 || ctx->collect != NULL)
        p = _rtm_pages_alloc(ctx, size, RTM_SEGMENT_SIZE, RTM_PAGES_MAY_COLLECT, why);
    for (unsigned c = 0; c < RTM_CLASS_COUNT; c++) h->cls[c].threshold += RTM_CACHE_OFF;
    h->no_cache = false;
    return p;
}

/* ---- making, carving and giving back pages -------------------------------- */

static void page_init(rtm_ctx *ctx, rtm_heap_page *page, rtm_heap_class *cls)
{
    unsigned c = rtm_class_index(&ctx->heap, cls);
    uint32_t bs = (uint32_t)rtm_class_size(c);
    uint32_t min = c == 0 ? 1 : (uint32_t)rtm_class_size(c - 1) + 1;
    page->region.kind = RTM_REGION_HEAP_PAGE;
    page->region.spare = 0;
    page->region.ctx = ctx;
    page->flags = 0;
    page->in_full = 0;
    page->spare = 0;
    page->min_size = min;
    page->span = bs - min;
    page->nfree = 0;
    page->cls = cls;
    page->free = NULL;
    page->used = 0;
    page->block_size = bs;
    page->carved = 0;
    page->spare32 = 0;
    page->prev = page->next = NULL;
    page->dsize = NULL;
    uint32_t first = RTM_PAGE_HEADER;
    uint32_t cap = (uint32_t)((RTM_SEGMENT_SIZE - first) / bs);
    if (rtm_ctx_debug(ctx)) {
        /* A table of each block's size (0: free) between header and blocks. */
        uint32_t cap0 = (uint32_t)((RTM_SEGMENT_SIZE - first) / (bs + sizeof(uint16_t)));
        first = (uint32_t)rtm_align_up(first + cap0 * sizeof(uint16_t), 64);
        cap = (uint32_t)((RTM_SEGMENT_SIZE - first) / bs);
        if (cap > cap0) cap = cap0;
        page->flags = RTM_PAGE_DEBUG;
        page->dsize = (uint16_t *)((char *)page + RTM_PAGE_HEADER);
    }
    page->first = first;
    page->capacity = cap;
    rtm_track_internal(page, first);
    rtm_track_noaccess((char *)page + first, RTM_SEGMENT_SIZE - first);
    if (page->dsize != NULL) memset(page->dsize, 0, cap * sizeof(uint16_t));
}

/* Threads the next stretch of never-used blocks onto the page's list (which
 * is empty): those that end within the OS page where the stretch starts, or
 * one block when none does. So a page is touched one OS page at a time, as
 * it is used, and a class used for a few blocks touches only the OS page
 * that holds the header (a fixed 4 KiB from past the header would touch
 * two: 4 KiB more resident per class in use). */
static void page_carve(rtm_heap_page *page)
{
    uint32_t bs = page->block_size;
    size_t offset = page->first + (size_t)page->carved * bs;
    uint32_t n = (uint32_t)((rtm_align_up(offset + 1, RTM_OS_PAGE) - offset) / bs);
    if (n == 0) n = 1;
    if (n > page->capacity - page->carved) n = page->capacity - page->carved;
    char *start = (char *)page + offset;
    bool debug = (page->flags & RTM_PAGE_DEBUG) != 0;
    rtm_block *next = NULL;
    for (uint32_t i = n; i-- > 0;) {
        rtm_block *b = (rtm_block *)(start + (size_t)i * bs);
        if (debug) {
            rtm_track_internal(b, bs);
            memset(b, RTM_FILL_FREED, bs);
            rtm_track_noaccess(b, bs);
        }
        rtm_block_link(b, next);
        next = b;
    }
    page->free = next;
    page->nfree = n;
    page->carved += n;
}

/* Gives a page back to the source. It belongs to no list any more. */
void _rtm_heap_page_release(rtm_ctx *ctx, rtm_heap_page *page)
{
    rtm_heap *h = &ctx->heap;
    rtm_page_forget(h, page);
    _rtm_pagemap_remove(page);
    rtm_track_internal(page, RTM_SEGMENT_SIZE); /* the next owner of these addresses starts clean */
    rtm_counter_sub(&h->held, RTM_SEGMENT_SIZE);
    _rtm_pages_free(ctx, page, RTM_SEGMENT_SIZE);
}

/* An empty page that left its class: into the cache, or back to the source. */
static void page_drop(rtm_ctx *ctx, rtm_heap_page *page)
{
    rtm_heap *h = &ctx->heap;
    if (h->no_cache || rtm_counter_get(&h->empty_count) >= RTM_HEAP_EMPTY_KEEP) {
        _rtm_heap_page_release(ctx, page);
        return;
    }
    rtm_page_set_flag(h, page, RTM_PAGE_CACHED);
    page->flags = RTM_PAGE_CACHED;
    page->free = NULL;
    page->nfree = 0;
    page->carved = 0;
    page->prev = NULL;
    page->next = h->empty;
    h->empty = page;
    rtm_counter_add(&h->empty_count, 1);
}

/* A page for the class: from the empty cache, else from the source. */
static rtm_heap_page *page_new(rtm_ctx *ctx, rtm_heap_class *cls, rtm_status *why)
{
    rtm_heap *h = &ctx->heap;
    rtm_heap_page *page = h->empty;
    if (page != NULL) {
        h->empty = page->next;
        rtm_counter_sub(&h->empty_count, 1);
    } else {
        page = _rtm_heap_pages_get(ctx, RTM_SEGMENT_SIZE, why);
        if (page == NULL) return NULL;
        if (!_rtm_pagemap_add(page)) {
            _rtm_pages_free(ctx, page, RTM_SEGMENT_SIZE);
            *why = RTM_ENOMEM;
            return NULL;
        }
        rtm_counter_add(&h->held, RTM_SEGMENT_SIZE);
    }
    page_init(ctx, page, cls);
    rtm_counter_add(&cls->pages, 1);
    return page;
}

/* The first page of the class's queue, with blocks on its list (a new page
 * if the queue is empty). The collect hook may run in here and free blocks of
 * this class: nothing is held across it. */
static rtm_heap_page *page_with_room(rtm_ctx *ctx, rtm_heap_class *cls, rtm_status *why)
{
    rtm_heap_page *page = cls->page;
    if (page == NULL) {
        page = page_new(ctx, cls, why);
        if (page == NULL) return NULL;
        if (cls->page != NULL) { /* the hook gave the queue a page meanwhile */
            queue_push_tail(cls, page);
            page = cls->page;
        } else {
            queue_push_tail(cls, page);
        }
    }
    if (page->nfree == 0) page_carve(page);
    return page;
}

static void leave_queue_if_full(rtm_heap_class *cls, rtm_heap_page *page)
{
    if (!page_has_room(page)) {
        queue_remove(cls, page);
        full_push(cls, page);
    }
}

/* ---- between pages and the class cache -------------------------------------- */

/* Fills the class's (empty) cache from a page: up to half the cache's limit
 * (a whole list without walking it when it is that short). Returns the
 * cache, or NULL with *why when no page could be had. */
rtm_block *_rtm_heap_refill(rtm_ctx *ctx, rtm_heap_class *cls, rtm_status *why)
{
    rtm_heap_page *page = page_with_room(ctx, cls, why);
    if (page == NULL) return NULL;
    if (cls->cache != NULL) return cls->cache; /* the collect hook freed some meanwhile */
    uint64_t want = rtm_cache_limit(rtm_class_index(&ctx->heap, cls)) / 2;
    uint32_t n = page->nfree;
    rtm_block *first = page->free, *rest = NULL;
    if (n > want) {
        rtm_block *last = first;
        for (uint64_t i = 1; i < want; i++) last = rtm_block_next(last);
        rest = rtm_block_next(last);
        rtm_block_link(last, cls->cache);
        n = (uint32_t)want;
    } else {
        /* the page's list ends in NULL and the cache is empty: no walk */
    }
    cls->cache = first;
    page->free = rest;
    page->nfree -= n;
    page->used += n;
    rtm_cache_rebase(cls, n);
    leave_queue_if_full(cls, page);
    return cls->cache;
}

/* One block straight from a page (debug contexts, which bypass the cache). */
rtm_block *_rtm_heap_page_take(rtm_ctx *ctx, rtm_heap_class *cls, rtm_status *why)
{
    rtm_heap_page *page = page_with_room(ctx, cls, why);
    if (page == NULL) return NULL;
    rtm_block *b = page->free;
    page->free = rtm_block_next(b);
    page->nfree--;
    page->used++;
    leave_queue_if_full(cls, page);
    return b;
}

/* A block goes back onto its page's list. A full page rejoins the queue; an
 * empty one leaves its class unless it is the only page left in the queue. */
void _rtm_heap_page_put(rtm_ctx *ctx, rtm_heap_page *page, rtm_block *b)
{
    rtm_heap_class *cls = page->cls;
    rtm_block_link(b, page->free);
    page->free = b;
    page->nfree++;
    page->used--;
    if (page->in_full) {
        full_remove(cls, page);
        queue_push_tail(cls, page);
    }
    if (page->used != 0) return;
    page->flags &= (uint8_t)~RTM_PAGE_LOOSE;
    bool alone = cls->page == page && page->next == NULL;
    if (alone && !ctx->heap.no_cache) return;
    queue_remove(cls, page);
    rtm_counter_sub(&cls->pages, 1);
    page_drop(ctx, page);
}

/* Gives all but the `keep` most recent blocks of the class's cache back to
 * their pages. */
void _rtm_heap_flush(rtm_ctx *ctx, rtm_heap_class *cls, uint64_t keep)
{
    if (keep != 0 && rtm_cache_count(&ctx->heap, cls) <= keep) return;
    rtm_block *rest = cls->cache;
    if (keep == 0) {
        cls->cache = NULL;
    } else {
        rtm_block *last = rest;
        for (uint64_t i = 1; i < keep; i++) last = rtm_block_next(last);
        rest = rtm_block_next(last);
        rtm_block_link(last, NULL);
    }
    int64_t moved = 0;
    while (rest != NULL) {
        rtm_block *next = rtm_block_next(rest); /* before the page may go */
        _rtm_heap_page_put(ctx, rtm_page_of(rest), rest);
        rest = next;
        moved++;
    }
    rtm_cache_rebase(cls, -moved);
}

/* ---- trim and destroy ------------------------------------------------------- */

size_t _rtm_heap_pages_trim(rtm_ctx *ctx)
{
    rtm_heap *h = &ctx->heap;
    size_t released = 0;
    for (unsigned c = 0; c < RTM_CLASS_COUNT; c++) {
        rtm_heap_class *cls = &h->cls[c];
        _rtm_heap_flush(ctx, cls, 0);
        /* a class keeps at most one empty page, in its queue */
        for (rtm_heap_page *page = cls->page; page != NULL;) {
            rtm_heap_page *next = page->next;
            if (page->used == 0) {
                queue_remove(cls, page);
                rtm_counter_sub(&cls->pages, 1);
                _rtm_heap_page_release(ctx, page);
                released += RTM_SEGMENT_SIZE;
            }
            page = next;
        }
    }
    while (h->empty != NULL) {
        rtm_heap_page *page = h->empty;
        h->empty = page->next;
        rtm_counter_sub(&h->empty_count, 1);
        _rtm_heap_page_release(ctx, page);
        released += RTM_SEGMENT_SIZE;
    }
    return released;
}

static void release_list(rtm_ctx *ctx, rtm_heap_page *page)
{
    while (page != NULL) {
        rtm_heap_page *next = page->next;
        _rtm_heap_page_release(ctx, page);
        page = next;
    }
}

void _rtm_heap_pages_destroy(rtm_ctx *ctx)
{
    rtm_heap *h = &ctx->heap;
    for (unsigned c = 0; c < RTM_CLASS_COUNT; c++) {
        rtm_heap_class *cls = &h->cls[c];
        release_list(ctx, cls->page);
        release_list(ctx, cls->full);
        cls->page = cls->tail = cls->full = NULL;
        cls->cache = NULL;
        rtm_counter_set(&cls->pages, 0);
    }
    release_list(ctx, h->empty);
    h->empty = NULL;
    rtm_counter_set(&h->empty_count, 0);
}
