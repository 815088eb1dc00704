/*
 * heap_large.c: blocks over RTM_SMALL_MAX, each in a span of its own from
 * the page source (segment-aligned, a 64-byte header in front, so a free
 * finds the header by masking, as for a small page).
 *
 * Spans are what system calls cost, so the heap keeps a little large memory
 * it is not using, bounded by RTM_HEAP_LARGE_SPARE_MAX all together:
 *  - freed spans wait in a cache (at most RTM_HEAP_LARGE_CACHE_MAX) for a
 *    request they fit within 2x; a free of a cached block is caught as
 *    stale;
 *  - a block that starts growing by realloc takes the largest cached span,
 *    and grows in it without a copy or a system call (vectors and string
 *    builders that grow by realloc tend to keep growing: this is how the
 *    growth chain keeps pace with glibc, which grows in place at the top of
 *    its heap);
 *  - beyond its span a block grows by remap (mremap: no copy), else by a new
 *    span and a copy.
 * rtm_ctx_trim and the out-of-memory ladder empty the cache.
 */
#include "heap_impl.h"

#include <string.h>

static size_t span_for(size_t size) { return _rtm_pages_round(RTM_LARGE_HEADER + size); }
static size_t spare_of(const rtm_large *lg) { return lg->span - span_for(lg->size); }

/* ---- lists: live blocks, and the cache (most recent first) ---------------- */

static void list_push(rtm_large **head, rtm_large *lg)
{
    lg->prev = NULL;
    lg->next = *head;
    if (*head != NULL) (*head)->prev = lg;
    *head = lg;
}

static void list_remove(rtm_large **head, rtm_large *lg)
{
    if (lg->prev != NULL) lg->prev->next = lg->next;
    else *head = lg->next;
    if (lg->next != NULL) lg->next->prev = lg->prev;
    lg->prev = lg->next = NULL;
}

/* ---- spans ---------------------------------------------------------------- */

static void span_release(rtm_ctx *ctx, rtm_large *lg)
{
    size_t span = lg->span;
    if (lg->flags & RTM_LARGE_UNMAPPED) rtm_counter_sub(&ctx->heap.large_unmapped, 1);
    else _rtm_pagemap_remove(lg);
    rtm_track_internal(lg, span); /* the next owner of these addresses starts clean */
    rtm_counter_sub(&ctx->heap.held, span);
    _rtm_pages_free(ctx, lg, span);
}

static void set_span(rtm_heap *h, rtm_large *lg, size_t span)
{
    h->large_spare -= spare_of(lg);
    lg->span = span;
    h->large_spare += spare_of(lg);
}

/* A cached span for `need` bytes: for a block that grows, the largest; else
 * the smallest within 2x. NULL when none fits. */
static rtm_large *cache_take(rtm_heap *h, size_t need, bool grows)
{
    rtm_large *best = NULL;
    for (rtm_large *lg = h->large_cache; lg != NULL; lg = lg->next) {
        if (lg->span < need) continue;
        if (grows ? best == NULL || lg->span > best->span
                  : lg->span - need <= need && (best == NULL || lg->span < best->span))
            best = lg;
    }
    if (best != NULL) {
        list_remove(&h->large_cache, best);
        h->large_cache_count--;
        h->large_cache_bytes -= best->span;
    }
    return best;
}

/* A freed span: into the cache if the budget allows, else back to the source. */
static void cache_put(rtm_ctx *ctx, rtm_large *lg)
{
    rtm_heap *h = &ctx->heap;
    if (h->no_cache || lg->span + h->large_spare > RTM_HEAP_LARGE_SPARE_MAX) {
        span_release(ctx, lg);
        return;
    }
    while (h->large_cache_count >= RTM_HEAP_LARGE_CACHE_MAX ||
           h->large_cache_bytes + lg->span + h->large_spare > RTM_HEAP_LARGE_SPARE_MAX) {
        rtm_large *oldest = h->large_cache;
        while (oldest->next != NULL) oldest = oldest->next;
        list_remove(&h->large_cache, oldest);
        h->large_cache_count--;
        h->large_cache_bytes -= oldest->span;
        span_release(ctx, oldest);
    }
    list_push(&h->large_cache, lg);
    h->large_cache_count++;
    h->large_cache_bytes += lg->span;
}

/* Resizes a span by remap (which may move it). The header moves with it;
 * its span field still says the old size. NULL when the source refuses. */
static rtm_large *span_remap(rtm_ctx *ctx, rtm_large *lg, size_t new_span, rtm_status *why)
{
    rtm_heap *h = &ctx->heap;
    size_t old_span = lg->span;
    char *old_block = rtm_large_block(lg);
    rtm_track_internal(lg, old_span); /* the range may move or be cut */
    rtm_large *q = _rtm_pages_remap(ctx, lg, old_span, new_span, RTM_SEGMENT_SIZE, why);
    if (q == NULL) {
        rtm_track_noaccess(old_block + lg->size, old_span - RTM_LARGE_HEADER - lg->size);
        return NULL;
    }
    if (new_span > old_span) rtm_counter_add(&h->held, new_span - old_span);
    else rtm_counter_sub(&h->held, old_span - new_span);
    if (q != lg) {
        if (!(q->flags & RTM_LARGE_UNMAPPED)) _rtm_pagemap_remove(lg);
        else rtm_counter_sub(&h->large_unmapped, 1);
        q->flags &= ~RTM_LARGE_UNMAPPED;
        /* If the page map cannot take the new address (an 8 KiB leaf the OS
         * refused), the block stays valid: frees find it on the live list. */
        if (!_rtm_pagemap_add(q)) {
            q->flags |= RTM_LARGE_UNMAPPED;
            rtm_counter_add(&h->large_unmapped, 1);
        }
        if (q->prev != NULL) q->prev->next = q;
        else h->large = q;
        if (q->next != NULL) q->next->prev = q;
        rtm_track_moved(old_block, rtm_large_block(q), q->size, q->size);
    }
    rtm_track_noaccess((char *)rtm_large_block(q) + q->size, new_span - RTM_LARGE_HEADER - q->size);
    return q;
}

/* ---- alloc, free, realloc -------------------------------------------------- */

void *_rtm_large_alloc(rtm_ctx *ctx, size_t size, bool grows, bool zero, rtm_status *why)
{
    rtm_heap *h = &ctx->heap;
    size_t need = span_for(size);
    bool zeroed = false;
    rtm_large *lg = cache_take(h, need, grows);
    if (lg == NULL) {
        lg = _rtm_heap_pages_get(ctx, need, why);
        if (lg == NULL) return NULL;
        if (!_rtm_pagemap_add(lg)) {
            _rtm_pages_free(ctx, lg, need);
            *why = RTM_ENOMEM;
            return NULL;
        }
        rtm_counter_add(&h->held, need);
        lg->region.kind = RTM_REGION_HEAP_LARGE;
        lg->region.spare = 0;
        lg->region.ctx = ctx;
        lg->span = need;
        zeroed = (ctx->pages.flags & RTM_PAGES_ZEROED) != 0;
    }
    lg->flags = 0;
    lg->size = size;
    h->large_spare += spare_of(lg);
    list_push(&h->large, lg);
    rtm_counter_add(&h->large_allocs, 1);
    rtm_counter_add(&h->large_live, 1);
    rtm_counter_add(&h->large_bytes, size);
    rtm_heap_bytes_add(h, size);
    char *p = rtm_large_block(lg);
    if (zero && zeroed) rtm_track_alloc_zero(p, size);
    else rtm_track_alloc(p, size);
    rtm_track_noaccess(p + size, lg->span - RTM_LARGE_HEADER - size);
    if (zero && !zeroed) memset(p, 0, size);
    return p;
}

rtm_status _rtm_large_check_block(rtm_large *lg, const void *p, size_t size)
{
    if (p != rtm_large_block(lg)) return RTM_EINVAL;
    if (lg->flags & RTM_LARGE_FREED) return RTM_ESTALE;
    return size == lg->size ? RTM_OK : RTM_EINVAL;
}

rtm_large *_rtm_large_find_unmapped(rtm_ctx *ctx, const void *p)
{
    if (rtm_counter_get(&ctx->heap.large_unmapped) == 0) return NULL;
    for (rtm_large *lg = ctx->heap.large; lg != NULL; lg = lg->next)
        if ((lg->flags & RTM_LARGE_UNMAPPED) && rtm_large_block(lg) == p) return lg;
    return NULL;
}

void _rtm_large_free(rtm_ctx *ctx, rtm_large *lg)
{
    rtm_heap *h = &ctx->heap;
    char *p = rtm_large_block(lg);
    size_t size = lg->size;
    list_remove(&h->large, lg);
    h->large_spare -= spare_of(lg);
    rtm_counter_add(&h->large_frees, 1);
    rtm_counter_sub(&h->large_live, 1);
    rtm_counter_sub(&h->large_bytes, size);
    rtm_heap_bytes_sub(h, size);
    if (rtm_ctx_debug(ctx)) memset(p, RTM_FILL_FREED, size);
    rtm_track_free(p, size);
    rtm_track_noaccess(p, lg->span - RTM_LARGE_HEADER);
    lg->flags = (lg->flags & RTM_LARGE_UNMAPPED) | RTM_LARGE_FREED;
    if (lg->flags & RTM_LARGE_UNMAPPED) span_release(ctx, lg); /* could not be found stale */
    else cache_put(ctx, lg);
}

/* New size, same span. */
static void large_resize(rtm_heap *h, rtm_large *lg, size_t new_size)
{
    size_t old_size = lg->size;
    h->large_spare -= spare_of(lg);
    lg->size = new_size;
    h->large_spare += spare_of(lg);
    if (new_size >= old_size) rtm_counter_add(&h->large_bytes, new_size - old_size);
    else rtm_counter_sub(&h->large_bytes, old_size - new_size);
    rtm_heap_bytes_resize(h, old_size, new_size);
    rtm_track_resize(rtm_large_block(lg), old_size, new_size);
}

void *_rtm_large_realloc(rtm_ctx *ctx, rtm_large *lg, size_t new_size, rtm_status *why)
{
    rtm_heap *h = &ctx->heap;
    char *p = rtm_large_block(lg);
    size_t old_size = lg->size;
    if (new_size <= RTM_SMALL_MAX) {
        void *q = _rtm_heap_alloc_quiet(ctx, new_size, false, false, why);
        if (q != NULL) {
            _rtm_heap_copy(q, p, new_size < old_size ? new_size : old_size); /* it may be shrunk */
            _rtm_large_free(ctx, lg);
            return q;
        }
        large_resize(h, lg, new_size); /* a shrink never fails */
        rtm_counter_add(&h->reallocs_in_place, 1);
        return p;
    }
    size_t need = span_for(new_size);
    if (need <= lg->span) {
        large_resize(h, lg, new_size);
        /* A shrink that leaves more spare room than the budget gives the
         * tail back (remap; it may move, which a realloc may do). */
        if (need < lg->span &&
            h->large_cache_bytes + h->large_spare > RTM_HEAP_LARGE_SPARE_MAX) {
            rtm_status ignored;
            rtm_large *q = span_remap(ctx, lg, need, &ignored);
            if (q != NULL) {
                set_span(h, q, need);
                if (q != lg) return rtm_large_block(q);
            }
        }
        rtm_counter_add(&h->reallocs_in_place, 1);
        return p;
    }
    /* Beyond the span: remap (no copy), once more after emptying the caches
     * if the limit or the source refused, else a new span and a copy. */
    rtm_large *q = span_remap(ctx, lg, need, why);
    if (q == NULL && *why != RTM_EINVAL && _rtm_heap_release_caches(ctx) != 0)
        q = span_remap(ctx, lg, need, why);
    if (q != NULL) {
        set_span(h, q, need);
        large_resize(h, q, new_size);
        if (q == lg) rtm_counter_add(&h->reallocs_in_place, 1);
        return rtm_large_block(q);
    }
    void *n = _rtm_large_alloc(ctx, new_size, true, false, why);
    if (n == NULL) return NULL;
    memcpy(n, p, old_size);
    _rtm_large_free(ctx, lg);
    return n;
}

/* ---- trim, destroy, check, visit ---------------------------------------------- */

size_t _rtm_large_trim(rtm_ctx *ctx)
{
    rtm_heap *h = &ctx->heap;
    size_t released = h->large_cache_bytes;
    while (h->large_cache != NULL) {
        rtm_large *lg = h->large_cache;
        list_remove(&h->large_cache, lg);
        span_release(ctx, lg);
    }
    h->large_cache_count = 0;
    h->large_cache_bytes = 0;
    return released;
}

void _rtm_large_destroy(rtm_ctx *ctx)
{
    rtm_heap *h = &ctx->heap;
    _rtm_large_trim(ctx);
    while (h->large != NULL) {
        rtm_large *lg = h->large;
        list_remove(&h->large, lg); /* (Valgrind was told by _rtm_heap_destroy) */
        span_release(ctx, lg);
    }
    h->large_spare = 0;
}

rtm_status _rtm_large_check(rtm_ctx *ctx, uint64_t *bytes_out, uint64_t *held_out)
{
    rtm_heap *h = &ctx->heap;
    uint64_t count = 0, bytes = 0, held = 0, spare = 0, unmapped = 0;
    rtm_large *prev = NULL;
    for (rtm_large *lg = h->large; lg != NULL; prev = lg, lg = lg->next) {
        if (lg->region.kind != RTM_REGION_HEAP_LARGE || lg->region.ctx != ctx) return RTM_EINVAL;
        if (lg->prev != prev || (lg->flags & RTM_LARGE_FREED)) return RTM_EINVAL;
        if (lg->span < span_for(lg->size) || ((uintptr_t)lg & RTM_SEGMENT_MASK)) return RTM_EINVAL;
        if (lg->flags & RTM_LARGE_UNMAPPED) unmapped++;
        else if (!_rtm_pagemap_contains(lg)) return RTM_EINVAL;
        if (++count > rtm_counter_get(&h->large_live)) return RTM_EINVAL; /* a cycle */
        bytes += lg->size;
        held += lg->span;
        spare += spare_of(lg);
    }
    if (count != rtm_counter_get(&h->large_live) || bytes != rtm_counter_get(&h->large_bytes) ||
        spare != h->large_spare || unmapped != rtm_counter_get(&h->large_unmapped))
        return RTM_EINVAL;
    uint64_t cached = 0, cached_bytes = 0;
    prev = NULL;
    for (rtm_large *lg = h->large_cache; lg != NULL; prev = lg, lg = lg->next) {
        if (lg->region.kind != RTM_REGION_HEAP_LARGE || lg->region.ctx != ctx) return RTM_EINVAL;
        if (lg->prev != prev || lg->flags != RTM_LARGE_FREED || !_rtm_pagemap_contains(lg))
            return RTM_EINVAL;
        if (++cached > h->large_cache_count) return RTM_EINVAL;
        cached_bytes += lg->span;
    }
    if (cached != h->large_cache_count || cached_bytes != h->large_cache_bytes) return RTM_EINVAL;
    *bytes_out = bytes;
    *held_out = held + cached_bytes;
    return RTM_OK;
}

int _rtm_large_visit(rtm_ctx *ctx, rtm_visit_fn fn, void *ud)
{
    for (rtm_large *lg = ctx->heap.large; lg != NULL;) {
        rtm_large *next = lg->next;
        if (fn(ud, RTM_VISIT_LARGE_BLOCK, rtm_large_block(lg), lg->size)) return 1;
        lg = next;
    }
    return 0;
}
