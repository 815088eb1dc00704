/*
 * page.c: the page source (the OS's, or the caller's hooks), the accounting
 * and limit every request passes through, the out-of-memory ladder, and the
 * process-wide page map.
 */
#define _GNU_SOURCE /* mremap */
#include "internal.h"
#include "track.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* ---- the OS page source -------------------------------------------------- */

static void *os_map(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Over-maps by align and unmaps the slack on both sides. */
static void *os_reserve(void *ud, size_t size, size_t align)
{
    (void)ud;
    if (align <= RTM_OS_PAGE) return os_map(size);
    size_t span;
    if (rtm_add_overflow(size, align - RTM_OS_PAGE, &span)) return NULL;
    char *raw = os_map(span);
    if (raw == NULL) return NULL;
    char *start = (char *)rtm_align_ptr((uintptr_t)raw, align);
    size_t before = (size_t)(start - raw);
    size_t after = span - before - size;
    if (before) munmap(raw, before);
    if (after) munmap(start + size, after);
    return start;
}

static void os_release(void *ud, void *p, size_t size)
{
    (void)ud;
    munmap(p, size);
}

/* In place if the kernel can; else move the pages (no copy) to a fresh range
 * of the right alignment. */
static void *os_remap(void *ud, void *p, size_t old_size, size_t new_size, size_t align)
{
#ifdef MREMAP_MAYMOVE
    void *q = mremap(p, old_size, new_size, 0);
    if (q != MAP_FAILED) return q;
    if (new_size < old_size) return NULL;
    if (align <= RTM_OS_PAGE) { /* any place will do: the kernel's choice */
        q = mremap(p, old_size, new_size, MREMAP_MAYMOVE);
        return q == MAP_FAILED ? NULL : q;
    }
    void *dest = os_reserve(ud, new_size, align);
    if (dest == NULL) return NULL;
    q = mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
    if (q == MAP_FAILED) {
        munmap(dest, new_size);
        return NULL;
    }
    /* Valgrind (3.19) takes only the first old_size bytes of a range moved
     * onto a mapping as addressable; the kernel maps all of it, zeroed. */
    rtm_vg_defined((char *)q + old_size, new_size - old_size);
    return q;
#else
    (void)ud; (void)p; (void)old_size; (void)new_size; (void)align;
    return NULL;
#endif
}

static const rtm_page_source os_source = {
    os_reserve, os_release, os_remap, NULL, RTM_PAGES_ZEROED
};

const rtm_page_source *rtm_page_source_os(void) { return &os_source; }

/* ---- accounting and the limit -------------------------------------------- */

/* Claims size bytes against the limit, or says why not. */
static bool account_claim(rtm_page_account *acc, size_t size)
{
    size_t held = atomic_load_explicit(&acc->held, memory_order_relaxed);
    for (;;) {
        size_t next;
        if (rtm_add_overflow(held, size, &next)) return false;
        if (acc->limit != 0 && next > acc->limit) return false;
        if (atomic_compare_exchange_weak_explicit(&acc->held, &held, next,
                                                  memory_order_relaxed, memory_order_relaxed)) {
            size_t peak = atomic_load_explicit(&acc->peak, memory_order_relaxed);
            while (next > peak &&
                   !atomic_compare_exchange_weak_explicit(&acc->peak, &peak, next,
                                                          memory_order_relaxed,
                                                          memory_order_relaxed)) {
            }
            return true;
        }
    }
}

static void account_unclaim(rtm_page_account *acc, size_t size)
{
    atomic_fetch_sub_explicit(&acc->held, size, memory_order_relaxed);
}

/* One attempt: the limit, then the source. */
static void *pages_try(rtm_ctx *ctx, size_t size, size_t align, rtm_status *why)
{
    rtm_page_account *acc = &ctx->account;
    if (!account_claim(acc, size)) {
        atomic_fetch_add_explicit(&acc->limit_hits, 1, memory_order_relaxed);
        *why = RTM_ELIMIT;
        return NULL;
    }
    void *p = ctx->pages.reserve(ctx->pages.ud, size, align);
    if (p == NULL) {
        account_unclaim(acc, size);
        atomic_fetch_add_explicit(&acc->failures, 1, memory_order_relaxed);
        *why = RTM_ENOMEM;
        return NULL;
    }
    atomic_fetch_add_explicit(&acc->reserves, 1, memory_order_relaxed);
    return p;
}

void *_rtm_pages_alloc(rtm_ctx *ctx, size_t size, size_t align, unsigned how, rtm_status *why)
{
    if (size == 0 || size > RTM_MAX_ALLOC + RTM_SEGMENT_SIZE || !rtm_is_pow2(align) ||
        align > ((size_t)1 << 30)) {
        *why = RTM_EINVAL;
        return NULL;
    }
    size = _rtm_pages_round(size);
    if (align < RTM_OS_PAGE) align = RTM_OS_PAGE;
    void *p = pages_try(ctx, size, align, why);
    if (RTM_LIKELY(p != NULL)) return p;
    /* The ladder: let the owner free what it can, then try once more. */
    if ((how & RTM_PAGES_MAY_COLLECT) && ctx->collect != NULL) {
        rtm_counter_add_shared(&ctx->collect_calls, 1);
        ctx->collect(ctx->collect_ud, ctx, size);
        p = pages_try(ctx, size, align, why);
    }
    return p;
}

void _rtm_pages_free(rtm_ctx *ctx, void *p, size_t size)
{
    if (p == NULL) return;
    size = _rtm_pages_round(size);
    ctx->pages.release(ctx->pages.ud, p, size);
    account_unclaim(&ctx->account, size);
    atomic_fetch_add_explicit(&ctx->account.releases, 1, memory_order_relaxed);
}

void *_rtm_pages_remap(rtm_ctx *ctx, void *p, size_t old_size, size_t new_size, size_t align,
                       rtm_status *why)
{
    old_size = _rtm_pages_round(old_size);
    new_size = _rtm_pages_round(new_size);
    if (ctx->pages.remap == NULL || new_size == 0 || new_size > RTM_MAX_ALLOC + RTM_SEGMENT_SIZE) {
        *why = RTM_EINVAL;
        return NULL;
    }
    if (new_size == old_size) return p;
    rtm_page_account *acc = &ctx->account;
    size_t grow = new_size > old_size ? new_size - old_size : 0;
    if (grow && !account_claim(acc, grow)) {
        atomic_fetch_add_explicit(&acc->limit_hits, 1, memory_order_relaxed);
        *why = RTM_ELIMIT;
        return NULL;
    }
    void *q = ctx->pages.remap(ctx->pages.ud, p, old_size, new_size, align < RTM_OS_PAGE ? RTM_OS_PAGE : align);
    if (q == NULL) {
        if (grow) account_unclaim(acc, grow);
        atomic_fetch_add_explicit(&acc->failures, 1, memory_order_relaxed);
        *why = RTM_ENOMEM;
        return NULL;
    }
    if (!grow) account_unclaim(acc, old_size - new_size);
    return q;
}

/* ---- the page map -------------------------------------------------------- */

_Atomic(_Atomic uint64_t *) _rtm_pagemap[RTM_PAGEMAP_TOP];

#define LEAF_BYTES (((size_t)1 << RTM_PAGEMAP_LEAF_BITS) / 8)

static _Atomic uint64_t *pagemap_leaf(uintptr_t top)
{
    _Atomic uint64_t *leaf = atomic_load_explicit(&_rtm_pagemap[top], memory_order_acquire);
    if (leaf != NULL) return leaf;
    /* Leaves come from the OS directly: the map is process-wide and outlives
     * every context, so no context's page source or limit pays for it. */
    _Atomic uint64_t *fresh = os_map(LEAF_BYTES);
    if (fresh == NULL) return NULL;
    _Atomic uint64_t *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&_rtm_pagemap[top], &expected, fresh,
                                                memory_order_acq_rel, memory_order_acquire))
        return fresh;
    munmap((void *)fresh, LEAF_BYTES); /* another thread made it first */
    return expected;
}

bool _rtm_pagemap_add(const void *segment)
{
    uintptr_t unit = (uintptr_t)segment >> RTM_SEGMENT_SHIFT;
    uintptr_t top = unit >> RTM_PAGEMAP_LEAF_BITS;
    if (top >= RTM_PAGEMAP_TOP) return false;
    _Atomic uint64_t *leaf = pagemap_leaf(top);
    if (leaf == NULL) return false;
    unsigned bit = (unsigned)(unit & ((1u << RTM_PAGEMAP_LEAF_BITS) - 1));
    atomic_fetch_or_explicit(&leaf[bit >> 6], (uint64_t)1 << (bit & 63), memory_order_release);
    return true;
}

void _rtm_pagemap_remove(const void *segment)
{
    uintptr_t unit = (uintptr_t)segment >> RTM_SEGMENT_SHIFT;
    uintptr_t top = unit >> RTM_PAGEMAP_LEAF_BITS;
    if (top >= RTM_PAGEMAP_TOP) return;
    _Atomic uint64_t *leaf = atomic_load_explicit(&_rtm_pagemap[top], memory_order_acquire);
    if (leaf == NULL) return;
    unsigned bit = (unsigned)(unit & ((1u << RTM_PAGEMAP_LEAF_BITS) - 1));
    atomic_fetch_and_explicit(&leaf[bit >> 6], ~((uint64_t)1 << (bit & 63)), memory_order_release);
}
