/*
 * heap_inspect.c: the heap's life and its books: init, trim and destroy (the
 * hooks ctx.c calls), the invariant check, the walk over live blocks, and the
 * figures for rtm_ctx_stats.
 */
#include "heap_impl.h"

#include <string.h>

#define MAX_BLOCKS (RTM_SEGMENT_SIZE / 8) /* blocks in a page of the smallest class */

/* ---- life ------------------------------------------------------------------ */

rtm_status _rtm_heap_init(rtm_ctx *ctx)
{
    /* The context comes zeroed: the validated-page table is empty, and is
     * not written here, so its pages stay untouched until used. */
    rtm_heap *h = &ctx->heap;
    for (unsigned c = 0; c < RTM_CLASS_COUNT; c++) {
        rtm_heap_class *cls = &h->cls[c];
        cls->cache = NULL;
        cls->page = cls->tail = cls->full = NULL;
        cls->threshold = (int64_t)rtm_cache_limit(c); /* an empty cache: base 0 */
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

/* Sets bits [from, to) a word at a time (the untouched tail of a page). */
static void map_set_range(free_map *m, size_t from, size_t to)
{
    while (from < to && (from & 63) != 0) map_set(m, from++);
    for (; from + 64 <= to; from += 64) m->bits[from >> 6] = ~(uint64_t)0;
    while (from < to) map_set(m, from++);
}

/* n bytes all RTM_FILL_FREED: the first is, and each equals the next. */
static bool all_fill(const unsigned char *p, size_t n)
{
    return n == 0 || (p[0] == RTM_FILL_FREED && memcmp(p, p + 1, n - 1) == 0);
}

/* Marks the blocks of a page that are free: on its list, never carved, or
 * in its class's cache. RTM_EINVAL on a link out of the page, off a block
 * boundary, beyond the carved blocks, or seen twice (a cycle, or a block both
 * on its page and in the cache), and in debug pages on a free block whose
 * size is recorded or whose fill pattern was written over (a use after
 * free). *cached: the page's blocks found in the class's cache. */
static rtm_status page_free_map(rtm_heap_page *page, free_map *m, size_t *cached)
{
    memset(m->bits, 0, ((page->capacity + 63) / 64) * sizeof(uint64_t));
    bool debug = (page->flags & RTM_PAGE_DEBUG) != 0;
    size_t n = 0;
    for (rtm_block *b = page->free; b != NULL; b = rtm_block_next(b)) {
        if (rtm_page_of(b) != page || ++n > page->nfree) return RTM_EINVAL;
        size_t idx = rtm_page_block_index(page, b);
        if (idx == SIZE_MAX || map_test(m, idx)) return RTM_EINVAL;
        map_set(m, idx);
        if (debug) {
            if (page->dsize[idx] != 0) return RTM_EINVAL;
            rtm_track_internal(b, page->block_size);
            bool intact = all_fill((const unsigned char *)b + sizeof(rtm_block),
                                   page->block_size - sizeof(rtm_block));
            rtm_track_noaccess(b, page->block_size);
            if (!intact) return RTM_EINVAL;
        }
    }
    if (n != page->nfree) return RTM_EINVAL;
    map_set_range(m, page->carved, page->capacity);
    size_t c = 0;
    for (rtm_block *b = page->cls->cache; b != NULL; b = rtm_block_next(b)) {
        if (rtm_page_of(b) != page) continue;
        size_t idx = rtm_page_block_index(page, b);
        if (idx == SIZE_MAX || map_test(m, idx)) return RTM_EINVAL;
        map_set(m, idx);
        c++;
    }
    *cached = c;
    return RTM_OK;
}

/* ---- check ------------------------------------------------------------------- */

typedef struct heap_tally {
    uint64_t pages, used, cached, min_bytes, max_bytes, debug_bytes;
} heap_tally;

static rtm_status check_page(rtm_ctx *ctx, rtm_heap_class *cls, rtm_heap_page *page,
                             heap_tally *t)
{
    free_map map; /* 1 KiB */
    unsigned c = rtm_class_index(&ctx->heap, cls);
    uint32_t bs = (uint32_t)rtm_class_size(c), min = c ? (uint32_t)rtm_class_size(c - 1) + 1 : 1;
    if (page->region.kind != RTM_REGION_HEAP_PAGE || page->region.ctx != ctx) return RTM_EINVAL;
    if (((uintptr_t)page & RTM_SEGMENT_MASK) != 0 || !_rtm_pagemap_contains(page)) return RTM_EINVAL;
    if (page->cls != cls || page->block_size != bs || page->min_size != min || page->span != bs - min)
        return RTM_EINVAL;
    if (page->carved > page->capacity || page->used + page->nfree != page->carved ||
        page->first + (size_t)page->capacity * bs > RTM_SEGMENT_SIZE)
        return RTM_EINVAL;
    bool debug = (page->flags & RTM_PAGE_DEBUG) != 0;
    if (debug != rtm_ctx_debug(ctx) || (page->flags & RTM_PAGE_CACHED)) return RTM_EINVAL;
    size_t cached;
    rtm_status s = page_free_map(page, &map, &cached);
    if (s != RTM_OK) return s;
    if (cached > page->used) return RTM_EINVAL;
    uint64_t live = page->used - cached;
    if (debug) {
        size_t n = 0;
        for (size_t i = 0; i < page->carved; i++) {
            if (map_test(&map, i)) continue;
            if (page->dsize[i] == 0 || page->dsize[i] > bs) return RTM_EINVAL;
            n++;
            t->debug_bytes += page->dsize[i];
        }
        if (n != live) return RTM_EINVAL;
    }
    t->pages++;
    t->used += page->used;
    t->cached += cached;
    t->min_bytes += live * ((page->flags & RTM_PAGE_LOOSE) ? 1 : min);
    t->max_bytes += live * bs;
    return RTM_OK;
}

static rtm_status check_class(rtm_ctx *ctx, rtm_heap_class *cls, heap_tally *total)
{
    heap_tally t = {0, 0, 0, 0, 0, 0};
    rtm_heap *h = &ctx->heap;
    uint64_t pages = rtm_counter_get(&cls->pages), empty = 0;
    uint64_t limit = rtm_cache_limit(rtm_class_index(h, cls));
    /* the cache: as long as the books say, within its limit, empty in debug */
    uint64_t ncache = rtm_cache_count(h, cls), n = 0;
    for (rtm_block *b = cls->cache; b != NULL; b = rtm_block_next(b))
        if (++n > ncache) return RTM_EINVAL;
    if (n != ncache || n > limit || (rtm_ctx_debug(ctx) && n != 0)) return RTM_EINVAL;
    /* the queue: pages with room, at most one of them empty */
    if ((cls->page == NULL) != (cls->tail == NULL)) return RTM_EINVAL;
    rtm_heap_page *prev = NULL;
    for (rtm_heap_page *pg = cls->page; pg != NULL; prev = pg, pg = pg->next) {
        if (t.pages >= pages || pg->prev != prev || pg->in_full) return RTM_EINVAL;
        rtm_status s = check_page(ctx, cls, pg, &t);
        if (s != RTM_OK) return s;
        if (pg->nfree == 0 && pg->carved == pg->capacity) return RTM_EINVAL;
        if (pg->used == 0 && ++empty > 1) return RTM_EINVAL;
    }
    if (prev != cls->tail) return RTM_EINVAL;
    prev = NULL;
    for (rtm_heap_page *pg = cls->full; pg != NULL; prev = pg, pg = pg->next) {
        if (t.pages >= pages || pg->prev != prev || !pg->in_full) return RTM_EINVAL;
        rtm_status s = check_page(ctx, cls, pg, &t);
        if (s != RTM_OK) return s;
        if (pg->nfree != 0 || pg->carved != pg->capacity) return RTM_EINVAL;
    }
    if (t.pages != pages || t.cached != ncache) return RTM_EINVAL;
    if (t.used - t.cached != rtm_counter_get(&cls->allocs) - rtm_counter_get(&cls->frees))
        return RTM_EINVAL;
    total->pages += t.pages;
    total->min_bytes += t.min_bytes;
    total->max_bytes += t.max_bytes;
    total->debug_bytes += t.debug_bytes;
    return RTM_OK;
}

rtm_status _rtm_heap_check(rtm_ctx *ctx)
{
    rtm_heap *h = &ctx->heap;
    heap_tally t = {0, 0, 0, 0, 0, 0};
    if (h->no_cache) return RTM_EINVAL;
    for (unsigned i = 0; i < RTM_HEAP_SEEN; i++) {
        if (h->seen[i] == 0) continue;
        rtm_heap_page *pg = (rtm_heap_page *)(h->seen[i] & ~(uintptr_t)RTM_SEGMENT_MASK);
        uintptr_t c = (h->seen[i] & RTM_SEGMENT_MASK) - 1;
        if (rtm_page_seen(h, pg) != &h->seen[i] || !_rtm_pagemap_contains(pg) ||
            pg->region.ctx != ctx || pg->region.kind != RTM_REGION_HEAP_PAGE || pg->flags != 0 ||
            c >= RTM_CLASS_COUNT || pg->cls != &h->cls[c])
            return RTM_EINVAL;
    }
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
        size_t cached;
        if (page_free_map(page, &map, &cached) != RTM_OK) continue; /* check reports it */
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
        if (visit_pages(cls->page, fn, ud)) return 1;
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
        cs->block_size = rtm_class_size(c);
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
