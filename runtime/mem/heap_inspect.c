/*
 * heap_inspect.c: the heap's life and its books: init, trim and destroy (the
 * hooks ctx.c calls), the invariant check, the walk over live blocks, and the
 * figures for rtm_ctx_stats.
 */
#include "heap_impl.h"

#include <string.h>

#define EMPTY (&_rtm_heap_empty_page)
#define MAX_BLOCKS (RTM_SEGMENT_SIZE / 8) /* blocks in a page of the smallest class */

/* ---- life ------------------------------------------------------------------ */

rtm_status _rtm_heap_init(rtm_ctx *ctx)
{
    rtm_heap *h = &ctx->heap;
    for (unsigned c = 0; c < RTM_CLASS_COUNT; c++) {
        rtm_heap_class *cls = &h->cls[c];
        cls->page = EMPTY;
        cls->tail = cls->full = NULL;
        cls->block_size = (uint32_t)rtm_class_size(c);
        cls->min_size = c == 0 ? 1 : (uint32_t)rtm_class_size(c - 1) + 1;
        cls->index = c;
    }
    return RTM_OK;
}

size_t _rtm_heap_release_caches(rtm_ctx *ctx)
{
    return _rtm_heap_pages_trim(ctx) + _rtm_large_trim(ctx);
}

void _rtm_heap_trim(rtm_ctx *ctx)
{
    _rtm_heap_release_caches(ctx);
}

static int forget_block(void *ud, rtm_visit_kind kind, void *p, size_t size)
{
    (void)ud;
    (void)kind;
    (void)size;
    rtm_track_free(p, size);
    return 0;
}

void _rtm_heap_destroy(rtm_ctx *ctx)
{
    if (RTM_TRACK_BLOCKS) _rtm_heap_visit(ctx, forget_block, NULL); /* Valgrind's books */
    _rtm_heap_pages_destroy(ctx);
    _rtm_large_destroy(ctx);
}

/* ---- the free blocks of a page, as a bitmap -------------------------------- */

typedef struct free_map {
    uint64_t bits[MAX_BLOCKS / 64];
} free_map;

static bool map_test(const free_map *m, size_t i) { return (m->bits[i >> 6] >> (i & 63)) & 1; }
static void map_set(free_map *m, size_t i) { m->bits[i >> 6] |= (uint64_t)1 << (i & 63); }

/* n bytes all RTM_FILL_FREED: the first is, and each equals the next. */
static bool all_fill(const unsigned char *p, size_t n)
{
    return n == 0 || (p[0] == RTM_FILL_FREED && memcmp(p, p + 1, n - 1) == 0);
}

/* Marks the page's free blocks; RTM_EINVAL on a link out of the page, off a
 * block boundary, beyond the carved blocks, or seen twice (a cycle), and in
 * debug pages on a free block whose size is recorded or whose fill pattern
 * was written over (a use after free). *count: the free blocks. */
static rtm_status page_free_map(rtm_heap_page *page, free_map *m, size_t *count)
{
    memset(m->bits, 0, ((page->capacity + 63) / 64) * sizeof(uint64_t));
    bool debug = (page->flags & RTM_PAGE_DEBUG) != 0;
    size_t n = 0;
    for (rtm_block *b = *rtm_page_list(page); b != NULL; b = rtm_block_next(b)) {
        if (rtm_page_of(b) != page) return RTM_EINVAL;
        size_t idx = rtm_page_block_index(page, b);
        if (idx == SIZE_MAX || map_test(m, idx)) return RTM_EINVAL;
        map_set(m, idx);
        n++;
        if (debug) {
            if (page->dsize[idx] != 0) return RTM_EINVAL;
            rtm_track_internal(b, page->block_size);
            bool intact = all_fill((const unsigned char *)b + sizeof(rtm_block),
                                   page->block_size - sizeof(rtm_block));
            rtm_track_noaccess(b, page->block_size);
            if (!intact) return RTM_EINVAL;
        }
    }
    *count = n;
    return RTM_OK;
}

/* ---- check ------------------------------------------------------------------- */

typedef struct heap_tally {
    uint64_t pages, used, min_bytes, max_bytes, debug_bytes;
} heap_tally;

static rtm_status check_page(rtm_ctx *ctx, rtm_heap_class *cls, rtm_heap_page *page,
                             heap_tally *t)
{
    free_map map; /* 1 KiB */
    if (page->region.kind != RTM_REGION_HEAP_PAGE || page->region.ctx != ctx) return RTM_EINVAL;
    if (((uintptr_t)page & RTM_SEGMENT_MASK) != 0 || !_rtm_pagemap_contains(page)) return RTM_EINVAL;
    if (page->cls != cls || page->class_idx != cls->index || page->block_size != cls->block_size ||
        page->min_size != cls->min_size || page->span != cls->block_size - cls->min_size)
        return RTM_EINVAL;
    if (page->carved > page->capacity || page->used > page->carved ||
        page->first + (size_t)page->capacity * page->block_size > RTM_SEGMENT_SIZE)
        return RTM_EINVAL;
    bool debug = (page->flags & RTM_PAGE_DEBUG) != 0;
    if (debug != rtm_ctx_debug(ctx) || (debug && page->free != NULL) ||
        (page->flags & RTM_PAGE_CACHED))
        return RTM_EINVAL;
    size_t nfree;
    rtm_status s = page_free_map(page, &map, &nfree);
    if (s != RTM_OK) return s;
    if (nfree + page->used != page->carved) return RTM_EINVAL;
    if (debug) {
        size_t live = 0;
        for (size_t i = 0; i < page->carved; i++) {
            if (map_test(&map, i)) continue;
            if (page->dsize[i] == 0 || page->dsize[i] > page->block_size) return RTM_EINVAL;
            live++;
            t->debug_bytes += page->dsize[i];
        }
        if (live != page->used) return RTM_EINVAL;
    }
    t->pages++;
    t->used += page->used;
    t->min_bytes += (uint64_t)page->used * ((page->flags & RTM_PAGE_LOOSE) ? 1 : page->min_size);
    t->max_bytes += (uint64_t)page->used * page->block_size;
    return RTM_OK;
}

static rtm_status check_class(rtm_ctx *ctx, rtm_heap_class *cls, heap_tally *total)
{
    heap_tally t = {0, 0, 0, 0, 0};
    rtm_heap_page *prev = NULL;
    uint64_t pages = rtm_counter_get(&cls->pages);
    /* the queue: pages with room; only the head (the current page) may be empty */
    if ((cls->page == EMPTY) != (cls->tail == NULL)) return RTM_EINVAL;
    for (rtm_heap_page *pg = cls->page == EMPTY ? NULL : cls->page; pg != NULL; prev = pg, pg = pg->next) {
        if (t.pages >= pages || pg->prev != prev || (pg->flags & RTM_PAGE_FULL)) return RTM_EINVAL;
        rtm_status s = check_page(ctx, cls, pg, &t);
        if (s != RTM_OK) return s;
        bool room = *rtm_page_list(pg) != NULL || pg->carved < pg->capacity;
        if (pg != cls->page && (pg->used == 0 || !room)) return RTM_EINVAL;
    }
    if (prev != cls->tail) return RTM_EINVAL;
    prev = NULL;
    for (rtm_heap_page *pg = cls->full; pg != NULL; prev = pg, pg = pg->next) {
        if (t.pages >= pages || pg->prev != prev || !(pg->flags & RTM_PAGE_FULL)) return RTM_EINVAL;
        rtm_status s = check_page(ctx, cls, pg, &t);
        if (s != RTM_OK) return s;
        if (pg->used != pg->capacity) return RTM_EINVAL;
    }
    if (t.pages != pages) return RTM_EINVAL;
    if (t.used != rtm_counter_get(&cls->allocs) - rtm_counter_get(&cls->frees)) return RTM_EINVAL;
    total->pages += t.pages;
    total->used += t.used;
    total->min_bytes += t.min_bytes;
    total->max_bytes += t.max_bytes;
    total->debug_bytes += t.debug_bytes;
    return RTM_OK;
}

rtm_status _rtm_heap_check(rtm_ctx *ctx)
{
    rtm_heap *h = &ctx->heap;
    heap_tally t = {0, 0, 0, 0, 0};
    for (unsigned c = 0; c < RTM_CLASS_COUNT; c++) {
        rtm_status s = check_class(ctx, &h->cls[c], &t);
        if (s != RTM_OK) return s;
    }
    uint64_t cached = 0;
    for (rtm_heap_page *pg = h->empty; pg != NULL; pg = pg->next) {
        if (++cached > rtm_counter_get(&h->empty_count)) return RTM_EINVAL;
        if (pg->region.kind != RTM_REGION_HEAP_PAGE || pg->region.ctx != ctx ||
            pg->flags != RTM_PAGE_CACHED || !_rtm_pagemap_contains(pg))
            return RTM_EINVAL;
    }
    if (cached != rtm_counter_get(&h->empty_count)) return RTM_EINVAL;
    uint64_t large_bytes, large_held;
    rtm_status s = _rtm_large_check(ctx, &large_bytes, &large_held);
    if (s != RTM_OK) return s;
    /* what the heap holds from the source, and what it hands out */
    uint64_t held = (t.pages + cached) * RTM_SEGMENT_SIZE + large_held;
    if (held != rtm_counter_get(&h->held) || held > atomic_load(&ctx->account.held)) return RTM_EINVAL;
    uint64_t in_use = rtm_counter_get(&h->bytes_in_use);
    if (rtm_ctx_debug(ctx) ? in_use != t.debug_bytes + large_bytes
                           : in_use < t.min_bytes + large_bytes || in_use > t.max_bytes + large_bytes)
        return RTM_EINVAL;
    if (rtm_counter_get(&h->bytes_peak) < in_use) return RTM_EINVAL;
    return RTM_OK;
}

/* ---- visit --------------------------------------------------------------------- */

static int visit_pages(rtm_heap_page *page, rtm_visit_fn fn, void *ud)
{
    free_map map;
    for (; page != NULL; page = page->next) {
        size_t nfree;
        if (page_free_map(page, &map, &nfree) != RTM_OK) continue; /* check reports it */
        for (size_t i = 0; i < page->carved; i++)
            if (!map_test(&map, i) &&
                fn(ud, RTM_VISIT_HEAP_BLOCK, (char *)page + page->first + i * page->block_size,
                   page->block_size))
                return 1;
    }
    return 0;
}

int _rtm_heap_visit(rtm_ctx *ctx, rtm_visit_fn fn, void *ud)
{
    rtm_heap *h = &ctx->heap;
    for (unsigned c = 0; c < RTM_CLASS_COUNT; c++) {
        rtm_heap_class *cls = &h->cls[c];
        if (visit_pages(cls->page == EMPTY ? NULL : cls->page, fn, ud)) return 1;
        if (visit_pages(cls->full, fn, ud)) return 1;
    }
    return _rtm_large_visit(ctx, fn, ud);
}

/* ---- stats --------------------------------------------------------------------- */

void _rtm_heap_stats(const rtm_ctx *ctx, rtm_stats *out)
{
    const rtm_heap *h = &ctx->heap;
    uint64_t allocs = 0, frees = 0, pages = 0;
    for (unsigned c = 0; c < RTM_CLASS_COUNT; c++) {
        const rtm_heap_class *cls = &h->cls[c];
        /* frees first: read later, allocs can only be larger, never less */
        uint64_t f = rtm_counter_get(&cls->frees), a = rtm_counter_get(&cls->allocs);
        rtm_class_stats *cs = &out->classes[c];
        cs->block_size = cls->block_size;
        cs->allocs = a;
        cs->frees = f;
        cs->live_blocks = a - f;
        cs->pages = rtm_counter_get(&cls->pages);
        allocs += a;
        frees += f;
        pages += cs->pages;
    }
    uint64_t lf = rtm_counter_get(&h->large_frees), la = rtm_counter_get(&h->large_allocs);
    out->heap_allocs = allocs + la;
    out->heap_frees = frees + lf;
    out->heap_blocks_in_use = out->heap_allocs - out->heap_frees;
    out->heap_bytes_in_use = rtm_counter_get(&h->bytes_in_use);
    out->heap_bytes_peak = rtm_counter_get(&h->bytes_peak);
    out->heap_reallocs = rtm_counter_get(&h->reallocs);
    out->heap_reallocs_in_place = rtm_counter_get(&h->reallocs_in_place);
    out->heap_pages = pages + rtm_counter_get(&h->empty_count);
    out->heap_large_blocks = rtm_counter_get(&h->large_live);
    out->heap_large_bytes = rtm_counter_get(&h->large_bytes);
    out->heap_bad_frees = rtm_counter_get(&h->bad_frees);
    for (unsigned i = 0; i < RTM_LUA_TAGS; i++) out->lua_allocs_by_tag[i] = rtm_counter_get(&h->lua_tags[i]);
    out->bytes_in_use += out->heap_bytes_in_use;
}
