/*
 * page.h: the one place a context gets memory from. Every part asks here, so a
 * limit, a fault injector or an embedded platform plugs in at one point.
 *
 * Also the process-wide page map: one bit per 64 KiB unit of address space
 * that rtmem owns, so a free can tell an rtmem pointer from any other pointer
 * without touching memory it does not own.
 */
#ifndef RTM_PAGE_H
#define RTM_PAGE_H

#include "rtmem.h"
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The unit of the page map; heap pages and pool slabs are aligned to it and
 * start with an rtm_region header. */
#define RTM_SEGMENT_SHIFT 16
#define RTM_SEGMENT_SIZE ((size_t)1 << RTM_SEGMENT_SHIFT)
#define RTM_SEGMENT_MASK (RTM_SEGMENT_SIZE - 1)

typedef struct rtm_page_account {
    _Atomic size_t held;        /* bytes held from the page source */
    _Atomic size_t peak;
    size_t limit;               /* 0: none */
    _Atomic uint64_t reserves, releases, failures, limit_hits;
} rtm_page_account;

/* How a request may be served. */
#define RTM_PAGES_MAY_COLLECT 1u /* owner thread: the collect hook may run */

/* size bytes aligned to align (both rounded up to the OS page) from the
 * context's page source, within its limit; runs the out-of-memory ladder
 * when allowed. NULL with *why set to RTM_ENOMEM, RTM_ELIMIT or RTM_EINVAL
 * (absurd size); the caller records the error under its own name. Any thread. */
void *_rtm_pages_alloc(rtm_ctx *ctx, size_t size, size_t align, unsigned how,
                       rtm_status *why);
void _rtm_pages_free(rtm_ctx *ctx, void *p, size_t size);

/* Resizes a range got from _rtm_pages_alloc, keeping align, in place or by
 * moving (without copying, where the source can). NULL with *why set when the
 * limit or the source refuses, or the source has no remap (RTM_EINVAL): the
 * caller then copies. Owner thread. */
void *_rtm_pages_remap(rtm_ctx *ctx, void *p, size_t old_size, size_t new_size,
                       size_t align, rtm_status *why);

/* The OS page size rounding every request uses. */
static inline size_t _rtm_pages_round(size_t size) { return (size + 4095u) & ~(size_t)4095u; }

/* The page map. add may fail (no memory for a map leaf): false. */
bool _rtm_pagemap_add(const void *segment);
void _rtm_pagemap_remove(const void *segment);

/* Two levels over a 48-bit address space: 2^16 leaves of 2^16 bits each, a
 * leaf made on first use and never freed (8 KiB each, process-wide). A
 * lookup is two loads and never faults. */
#define RTM_PAGEMAP_LEAF_BITS 16
#define RTM_PAGEMAP_TOP (1u << (48 - RTM_SEGMENT_SHIFT - RTM_PAGEMAP_LEAF_BITS))
extern _Atomic(_Atomic uint64_t *) _rtm_pagemap[RTM_PAGEMAP_TOP];

static inline bool _rtm_pagemap_contains(const void *p)
{
    uintptr_t unit = (uintptr_t)p >> RTM_SEGMENT_SHIFT;
    uintptr_t top = unit >> RTM_PAGEMAP_LEAF_BITS;
    if (top >= RTM_PAGEMAP_TOP) return false;
    _Atomic uint64_t *leaf = atomic_load_explicit(&_rtm_pagemap[top], memory_order_acquire);
    if (leaf == NULL) return false;
    unsigned bit = (unsigned)(unit & ((1u << RTM_PAGEMAP_LEAF_BITS) - 1));
    uint64_t word = atomic_load_explicit(&leaf[bit >> 6], memory_order_relaxed);
    return (word >> (bit & 63)) & 1;
}

/* The header every page-map segment starts with, so a pointer's owner is
 * found by masking: its context, its kind, and the owning object. */
typedef enum rtm_region_kind {
    RTM_REGION_HEAP_PAGE = 0x48454150u,  /* "HEAP" */
    RTM_REGION_HEAP_LARGE = 0x4C415247u, /* "LARG" */
    RTM_REGION_POOL_SLAB = 0x504F4F4Cu   /* "POOL" */
} rtm_region_kind;

typedef struct rtm_region {
    uint32_t kind;  /* rtm_region_kind */
    uint32_t spare;
    rtm_ctx *ctx;
} rtm_region;

/* The region holding p, if p lies in a segment rtmem owns; else NULL. */
static inline rtm_region *_rtm_region_of(const void *p)
{
    if (!_rtm_pagemap_contains(p)) return NULL;
    return (rtm_region *)((uintptr_t)p & ~(uintptr_t)RTM_SEGMENT_MASK);
}

#endif /* RTM_PAGE_H */
