/*
 * heap_impl.h: small inline helpers the heap's own files share (heap.c,
 * heap_slow.c, heap_page.c, heap_large.c, heap_inspect.c). Nothing else
 * includes it.
 */
#ifndef RTM_HEAP_IMPL_H
#define RTM_HEAP_IMPL_H

#include "internal.h"
#include "track.h"

/* The page (or span) a pointer lies in, by masking. Only meaningful once the
 * page map says the segment is rtmem's. */
RTM_INLINE rtm_heap_page *rtm_page_of(const void *p)
{
    return (rtm_heap_page *)((uintptr_t)p & ~(uintptr_t)RTM_SEGMENT_MASK);
}

/* Free-list links live in free blocks, which the tools see as no-access:
 * open the link's word for the moment it is read or written. */
RTM_INLINE rtm_block *rtm_block_next(rtm_block *b)
{
    rtm_track_internal(b, sizeof *b);
    rtm_block *next = b->next;
    rtm_track_noaccess(b, sizeof *b);
    return next;
}

RTM_INLINE void rtm_block_link(rtm_block *b, rtm_block *next)
{
    rtm_track_internal(b, sizeof *b);
    b->next = next;
    rtm_track_noaccess(b, sizeof *b);
}

/* Does a block of `size` bytes belong to this page's class? One subtraction
 * and one compare: size - min_size wraps around when size is too small. */
RTM_INLINE bool rtm_page_fits(const rtm_heap_page *page, size_t size)
{
    return size - page->min_size <= page->span;
}

/* The entry of the validated-page table an address's page would occupy. */
RTM_INLINE uintptr_t *rtm_page_seen(rtm_heap *h, const void *p)
{
    return &h->seen[((uintptr_t)p >> RTM_SEGMENT_SHIFT) & (RTM_HEAP_SEEN - 1)];
}

/* The class index of p's page if the table has it, else a value >= 64: an
 * entry is page | (class + 1), so entry ^ page is class + 1 for the right
 * page, 0 for an empty entry and at least 64 KiB for another page. */
RTM_INLINE uintptr_t rtm_page_seen_class(rtm_heap *h, const void *p)
{
    uintptr_t page = (uintptr_t)p & ~(uintptr_t)RTM_SEGMENT_MASK;
    return (*rtm_page_seen(h, p) ^ page) - 1;
}

RTM_INLINE void rtm_page_remember(rtm_heap *h, const rtm_heap_page *page, unsigned c)
{
    *rtm_page_seen(h, page) = (uintptr_t)page | (c + 1);
}

/* A page of ctx just checked by a slow path: remembered unless flagged (a
 * page with a flag is never remembered). Its class index. */
RTM_INLINE unsigned rtm_page_checked(rtm_heap *h, const rtm_heap_page *page)
{
    unsigned c = (unsigned)(page->cls - h->cls);
    if (page->flags == 0) rtm_page_remember(h, page, c);
    return c;
}

/* A page the free fast path must no longer take as validated. */
RTM_INLINE void rtm_page_forget(rtm_heap *h, const rtm_heap_page *page)
{
    uintptr_t *seen = rtm_page_seen(h, page);
    if ((*seen & ~(uintptr_t)RTM_SEGMENT_MASK) == (uintptr_t)page) *seen = 0;
}

/* Flags a page (which the fast path then must not take as validated). */
RTM_INLINE void rtm_page_set_flag(rtm_heap *h, rtm_heap_page *page, uint8_t flag)
{
    page->flags |= flag;
    rtm_page_forget(h, page);
}

/* ---- the class caches ------------------------------------------------------- */

RTM_INLINE unsigned rtm_class_index(const rtm_heap *h, const rtm_heap_class *cls)
{
    return (unsigned)(cls - h->cls);
}

/* The most blocks class c's cache holds before its older half goes back:
 * RTM_HEAP_CACHE_BYTES worth, between 4 and RTM_HEAP_CACHE_BLOCKS. */
RTM_INLINE uint64_t rtm_cache_limit(unsigned c)
{
    size_t n = RTM_HEAP_CACHE_BYTES / rtm_class_size(c);
    return n < 4 ? 4 : n > RTM_HEAP_CACHE_BLOCKS ? RTM_HEAP_CACHE_BLOCKS : n;
}

/* Blocks in the cache: frees - allocs + base, where base = limit - threshold. */
RTM_INLINE uint64_t rtm_cache_count(const rtm_heap *h, const rtm_heap_class *cls)
{
    int64_t diff = (int64_t)(rtm_counter_get(&cls->frees) - rtm_counter_get(&cls->allocs));
    return (uint64_t)(diff + (int64_t)rtm_cache_limit(rtm_class_index(h, cls)) - cls->threshold);
}

/* Subtracted from every threshold while the out-of-memory ladder runs. */
#define RTM_CACHE_OFF ((int64_t)1 << 62)

/* The cache gained `delta` blocks (lost, if negative) other than by a counted
 * allocation or free: a refill or a flush; or the counts moved without the
 * cache (a debug allocation: +1, a debug free: -1). */
RTM_INLINE void rtm_cache_rebase(rtm_heap_class *cls, int64_t delta)
{
    cls->threshold -= delta;
}

/* Makes the compiler hold a pointer in one register: with the counters'
 * atomic accesses, GCC otherwise derives each field's address afresh. */
#if defined(__GNUC__) || defined(__clang__)
#  define RTM_OPAQUE(p) __asm__("" : "+r"(p))
#else
#  define RTM_OPAQUE(p) ((void)0)
#endif

/* ---- counters (single writer: plain loads and stores) -------------------- */

RTM_INLINE void rtm_heap_bytes_add(rtm_heap *h, size_t n)
{
    uint64_t in_use = rtm_counter_get(&h->bytes_in_use) + n;
    rtm_counter_set(&h->bytes_in_use, in_use);
    if (RTM_UNLIKELY(in_use > rtm_counter_get(&h->bytes_peak))) rtm_counter_set(&h->bytes_peak, in_use);
}

RTM_INLINE void rtm_heap_bytes_sub(rtm_heap *h, size_t n)
{
    rtm_counter_sub(&h->bytes_in_use, n);
}

/* A size change: bytes_in_use moves by new - old (either way). */
RTM_INLINE void rtm_heap_bytes_resize(rtm_heap *h, size_t old_size, size_t new_size)
{
    if (new_size >= old_size) rtm_heap_bytes_add(h, new_size - old_size);
    else rtm_heap_bytes_sub(h, old_size - new_size);
}

/* The index of a block in its page, or SIZE_MAX when p is not the start of
 * a block that has ever been handed out (an interior pointer, the header). */
RTM_INLINE size_t rtm_page_block_index(const rtm_heap_page *page, const void *p)
{
    size_t off = (size_t)((uintptr_t)p - (uintptr_t)page);
    if (off < page->first) return SIZE_MAX;
    size_t d = off - page->first;
    size_t idx = d / page->block_size;
    if (idx * page->block_size != d || idx >= page->carved) return SIZE_MAX;
    return idx;
}

RTM_INLINE void *rtm_large_block(rtm_large *lg) { return (char *)lg + RTM_LARGE_HEADER; }

/* A checked free of a block of class c: onto the class's cache; past the
 * limit, the slow path gives the older half back to the pages. */
RTM_INLINE void rtm_free_to_cache(rtm_ctx *ctx, unsigned c, void *p, size_t size)
{
    rtm_heap_class *cls = &ctx->heap.cls[c];
    RTM_OPAQUE(cls);
    rtm_block *top = cls->cache;
    uint64_t frees = rtm_counter_get(&cls->frees) + 1;
    int64_t cached = (int64_t)(frees - rtm_counter_get(&cls->allocs));
    int64_t threshold = cls->threshold;
    rtm_track_free(p, rtm_class_size(c));
    rtm_block_link((rtm_block *)p, top);
    cls->cache = (rtm_block *)p;
    rtm_counter_set(&cls->frees, frees);
    rtm_heap_bytes_sub(&ctx->heap, size);
    if (RTM_UNLIKELY(cached >= threshold)) _rtm_heap_cache_flush(ctx, cls);
}

/* Pops a block of `size` from its class's cache, or NULL when it is empty. */
RTM_INLINE void *rtm_alloc_from_cache(rtm_ctx *ctx, rtm_heap_class *cls, size_t size)
{
    RTM_OPAQUE(cls);
    rtm_block *b = cls->cache;
    if (RTM_UNLIKELY(b == NULL)) return NULL;
    cls->cache = rtm_block_next(b);
    rtm_counter_add(&cls->allocs, 1);
    rtm_heap_bytes_add(&ctx->heap, size);
    rtm_track_alloc(b, size);
    return b;
}

/* The free fast path's page-map look, and the free it falls back to
 * (heap_slow.c). */
uintptr_t _rtm_heap_page_class(rtm_ctx *ctx, const void *p);
rtm_status _rtm_heap_free_other(rtm_ctx *ctx, void *p, size_t size, const char *where) RTM_NOINLINE;

/* memcpy, out of line: inline, GCC expands a copy it knows is at most 8 KiB
 * as `rep movsq`, whose start-up costs more than a call on small blocks. */
void _rtm_heap_copy(void *dst, const void *src, size_t n) RTM_NOINLINE;

/* Records a bad free or realloc: counted, and the error recorded. */
rtm_status _rtm_heap_bad(rtm_ctx *ctx, rtm_status s, const char *where) RTM_COLD;

/* Allocation without recording an error (realloc's moves decide themselves
 * whether a failure is one). heap_slow.c. */
void *_rtm_heap_alloc_quiet(rtm_ctx *ctx, size_t size, bool grows, bool zero, rtm_status *why);

/* Releases the heap's caches (class caches, empty pages, cached spans);
 * returns the bytes given back to the source. The first rung of the ladder. */
size_t _rtm_heap_release_caches(rtm_ctx *ctx);

#endif /* RTM_HEAP_IMPL_H */
