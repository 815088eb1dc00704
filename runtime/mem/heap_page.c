/*
 * heap_page.c: the small-object heap's pages: where they come from (the
 * empty cache, else the page source through the out-of-memory ladder), how
 * a class moves between them, and where they go when they empty.
 */
#include "heap_impl.h"

#include <string.h>

rtm_heap_page _rtm_heap_empty_page; /* all zero: no free block, never written */

#define EMPTY (&_rtm_heap_empty_page)

/* Bytes of blocks threaded into a free list at a time: a page is touched one
 * OS page at a time, as it is used. */
#define CARVE_BYTES 4096u

/* ---- the class queue: pages with room, the head is the current page ------ */

static void queue_push_head(rtm_heap_class *cls, rtm_heap_page *page)
{
    page->prev = NULL;
    if (cls->page == EMPTY) {
        page->next = NULL;
        cls->tail = page;
    } else {
        page->next = cls->page;
        cls->page->prev = page;
    }
    cls->page = page;
}

static void queue_push_tail(rtm_heap_class *cls, rtm_heap_page *page)
{
    if (cls->page == EMPTY) {
        queue_push_head(cls, page);
        return;
    }
    page->next = NULL;
    page->prev = cls->tail;
    cls->tail->next = page;
    cls->tail = page;
}

static void queue_remove(rtm_heap_class *cls, rtm_heap_page *page)
{
    if (page->prev != NULL) page->prev->next = page->next;
    else cls->page = page->next != NULL ? page->next : EMPTY;
    if (page->next != NULL) page->next->prev = page->prev;
    else cls->tail = page->prev;
    page->prev = page->next = NULL;
}

static void full_push(rtm_heap_class *cls, rtm_heap_page *page)
{
    page->prev = NULL;
    page->next = cls->full;
    if (cls->full != NULL) cls->full->prev = page;
    cls->full = page;
    page->flags |= RTM_PAGE_FULL;
}

static void full_remove(rtm_heap_class *cls, rtm_heap_page *page)
{
    if (page->prev != NULL) page->prev->next = page->next;
    else cls->full = page->next;
    if (page->next != NULL) page->next->prev = page->prev;
    page->prev = page->next = NULL;
    page->flags &= (uint8_t)~RTM_PAGE_FULL;
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
    bool saved = h->no_cache;
    h->no_cache = true;
    size_t released = _rtm_heap_release_caches(ctx);
    if (released != 0 || ctx->collect != NULL)
        p = _rtm_pages_alloc(ctx, size, RTM_SEGMENT_SIZE, RTM_PAGES_MAY_COLLECT, why);
    h->no_cache = saved;
    return p;
}

/* ---- making, carving and giving back pages -------------------------------- */

static void page_init(rtm_ctx *ctx, rtm_heap_page *page, rtm_heap_class *cls)
{
    uint32_t bs = cls->block_size;
    page->region.kind = RTM_REGION_HEAP_PAGE;
    page->region.spare = 0;
    page->region.ctx = ctx;
    page->free = page->dfree = NULL;
    page->used = 0;
    page->flags = 0;
    page->class_idx = (uint8_t)cls->index;
    page->min_size = cls->min_size;
    page->span = bs - cls->min_size;
    page->cls = cls;
    page->block_size = bs;
    page->carved = 0;
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

/* Threads the next stretch of never-used blocks onto the page's list. */
static void page_carve(rtm_heap_page *page, rtm_block **list)
{
    uint32_t bs = page->block_size;
    uint32_t n = CARVE_BYTES / bs;
    if (n == 0) n = 1;
    if (n > page->capacity - page->carved) n = page->capacity - page->carved;
    char *start = (char *)page + page->first + (size_t)page->carved * bs;
    bool debug = (page->flags & RTM_PAGE_DEBUG) != 0;
    rtm_block *next = *list;
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
    *list = next;
    page->carved += n;
}

/* Gives a page back to the source. It belongs to no list any more. */
void _rtm_heap_page_release(rtm_ctx *ctx, rtm_heap_page *page)
{
    rtm_heap *h = &ctx->heap;
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
    page->flags = RTM_PAGE_CACHED;
    page->free = page->dfree = NULL;
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

/* ---- the class's slow path ------------------------------------------------- */

/* A free block of the class, taken off its page's list (the caller counts
 * it). O(1): the head of the queue has room or moves to the full list, and
 * every other page in the queue has room. */
rtm_block *_rtm_heap_class_take(rtm_ctx *ctx, rtm_heap_class *cls, rtm_status *why)
{
    for (;;) {
        rtm_heap_page *page = cls->page;
        if (page == EMPTY) {
            /* The collect hook may run in here and free blocks of this class
             * (moving full pages back to the queue): nothing is held across. */
            page = page_new(ctx, cls, why);
            if (page == NULL) return NULL;
            queue_push_head(cls, page);
        }
        rtm_block **list = rtm_page_list(page);
        if (*list == NULL && page->carved < page->capacity) page_carve(page, list);
        rtm_block *b = *list;
        if (RTM_LIKELY(b != NULL)) {
            *list = rtm_block_next(b);
            return b;
        }
        queue_remove(cls, page);
        full_push(cls, page);
    }
}

/* After a free the fast path did not do: a full page has room again; an
 * empty page that is not the current one leaves its class. */
void _rtm_heap_page_freed(rtm_ctx *ctx, rtm_heap_page *page)
{
    rtm_heap_class *cls = page->cls;
    if (page->flags & RTM_PAGE_FULL) {
        full_remove(cls, page);
        queue_push_tail(cls, page);
    }
    if (page->used != 0) return;
    page->flags &= (uint8_t)~RTM_PAGE_LOOSE;
    if (page == cls->page && !ctx->heap.no_cache) return;
    queue_remove(cls, page);
    rtm_counter_sub(&cls->pages, 1);
    page_drop(ctx, page);
}

/* ---- trim and destroy ------------------------------------------------------- */

size_t _rtm_heap_pages_trim(rtm_ctx *ctx)
{
    rtm_heap *h = &ctx->heap;
    size_t released = 0;
    while (h->empty != NULL) {
        rtm_heap_page *page = h->empty;
        h->empty = page->next;
        rtm_counter_sub(&h->empty_count, 1);
        _rtm_heap_page_release(ctx, page);
        released += RTM_SEGMENT_SIZE;
    }
    /* The current pages kept empty: only a head can be empty. */
    for (unsigned c = 0; c < RTM_CLASS_COUNT; c++) {
        rtm_heap_class *cls = &h->cls[c];
        rtm_heap_page *page = cls->page;
        if (page != EMPTY && page->used == 0) {
            queue_remove(cls, page);
            rtm_counter_sub(&cls->pages, 1);
            _rtm_heap_page_release(ctx, page);
            released += RTM_SEGMENT_SIZE;
        }
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
        release_list(ctx, cls->page == EMPTY ? NULL : cls->page);
        release_list(ctx, cls->full);
        cls->page = EMPTY;
        cls->tail = cls->full = NULL;
        rtm_counter_set(&cls->pages, 0);
    }
    release_list(ctx, h->empty);
    h->empty = NULL;
    rtm_counter_set(&h->empty_count, 0);
}
