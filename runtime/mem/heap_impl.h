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

/* The free list allocations pop from: debug pages keep theirs aside so the
 * fast path always finds none and every debug allocation is checked. */
RTM_INLINE rtm_block **rtm_page_list(rtm_heap_page *page)
{
    return (page->flags & RTM_PAGE_DEBUG) ? &page->dfree : &page->free;
}

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

/* Records a bad free or realloc: counted, and the error recorded. */
rtm_status _rtm_heap_bad(rtm_ctx *ctx, rtm_status s, const char *where) RTM_COLD;

/* Allocation without recording an error (realloc's moves decide themselves
 * whether a failure is one). heap_slow.c. */
void *_rtm_heap_alloc_quiet(rtm_ctx *ctx, size_t size, bool grows, bool zero, rtm_status *why);

/* Releases the heap's caches (empty pages, cached spans, empty current
 * pages); returns the bytes given back. The first rung of the ladder. */
size_t _rtm_heap_release_caches(rtm_ctx *ctx);

#endif /* RTM_HEAP_IMPL_H */
