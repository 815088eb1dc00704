/*
 * heap.h: the small-object heap's state inside the context, its page and
 * large-block headers, and the functions its files share.
 *
 * The shape (tcmalloc's per-class free lists in front of mimalloc's pages):
 *  - Small blocks (up to RTM_SMALL_MAX) live in 64 KiB pages, one size class
 *    per page, aligned to RTM_SEGMENT_SIZE so a block's page is found by
 *    masking its address. Each page starts with an rtm_heap_page header (whose
 *    first field is the rtm_region every page-map segment starts with) and
 *    keeps its own free list. No block has a header.
 *  - Each class keeps a bounded LIFO cache of recently freed blocks, from any
 *    of its pages. An allocation pops it; a free pushes onto it. So the block
 *    handed out is the one freed last, still in the CPU's cache, and neither
 *    fast path writes to a page header. The cache's NULL is the one test the
 *    allocation fast path makes (it plays the part of mimalloc's empty page).
 *  - When the cache is empty, the slow path refills it from the first page of
 *    the class's queue (pages with free blocks); when it passes its limit, the
 *    slow path gives its older half back to their pages. A page whose blocks
 *    are all back is empty: it leaves its class (into a small cache of empty
 *    pages, or back to the source) unless it is the class's last page.
 *  - The cache's length costs no counter of its own: it is
 *    frees - allocs + base, and the slow paths move `base` when they refill or
 *    flush, so the free fast path compares frees - allocs with a threshold.
 *  - Large blocks come straight from the page source, one segment-aligned
 *    span each, with a 64-byte header in front; freed spans wait in a small
 *    cache, and a span can grow in place (remap, or the spare room of a
 *    reused span).
 *  - RTM_CTX_DEBUG contexts never use the class caches: every allocation and
 *    free goes through the page, where each block's size is recorded.
 */
#ifndef RTM_HEAP_H
#define RTM_HEAP_H

#include "rtmem.h"
#include "size_class.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "page.h" /* rtm_region: every page and span starts with one */

/* Included by internal.h after its compiler macros and counters. */

/* A free block: its first word links to the next free block. */
typedef struct rtm_block {
    struct rtm_block *next;
} rtm_block;

struct rtm_heap_class;

/* Page flags: any of them sends a free to the slow path. */
#define RTM_PAGE_DEBUG 1u  /* made by an RTM_CTX_DEBUG context */
#define RTM_PAGE_LOOSE 2u  /* holds a block shrunk in place below its class */
#define RTM_PAGE_CACHED 4u /* empty, in the heap's cache: any free into it is stale */

#define RTM_PAGE_HEADER 128u /* bytes before the blocks (or the debug table) */

typedef struct rtm_heap_page {
    rtm_region region;  /* kind RTM_REGION_HEAP_PAGE, ctx: checked by every free */
    /* what the free fast path reads */
    uint8_t flags;      /* RTM_PAGE_* */
    uint8_t in_full;    /* on the class's full list, else in its queue */
    uint16_t spare;
    uint32_t min_size;  /* the smallest size of the class */
    uint32_t span;      /* block_size - min_size: a size fits if size - min_size <= span */
    uint32_t nfree;     /* blocks on the page's own free list */
    struct rtm_heap_class *cls;
    /* the slow paths' */
    rtm_block *free;    /* the page's free list */
    uint32_t used;      /* blocks handed to the class: live, or in its cache */
    uint32_t block_size;
    uint32_t capacity;  /* blocks the page holds */
    uint32_t first;     /* offset of block 0 from the page */
    uint32_t carved;    /* blocks ever threaded into a list; the rest of the
                           page has never been touched */
    uint32_t spare32;
    struct rtm_heap_page *prev, *next; /* queue, full list or empty cache */
    uint16_t *dsize;    /* debug pages: each block's size, 0 while free */
} rtm_heap_page;

typedef struct rtm_heap_class {
    /* the fast paths' */
    rtm_block *cache;       /* recently freed blocks, any page, last freed first */
    rtm_counter allocs, frees;
    int64_t threshold;      /* flush when frees - allocs >= threshold (see above) */
    /* the slow paths' */
    rtm_heap_page *page;    /* the queue: pages with free or untouched blocks */
    rtm_heap_page *tail;
    rtm_heap_page *full;    /* pages with neither */
    rtm_counter pages;      /* pages of this class (queue and full list) */
} rtm_heap_class;

/* Blocks a class's cache may hold before the slow path gives half back:
 * 32 KiB worth, at least 4 and at most 256. A cached block keeps its page
 * from emptying, so the cap bounds what the caches can pin: at most 256
 * pages per class, however the program frees; usually a handful.
 * rtm_ctx_trim and the out-of-memory ladder empty the caches. */
#define RTM_HEAP_CACHE_BYTES 32768u
#define RTM_HEAP_CACHE_BLOCKS 256u

/* A large block's header, at the start of its span. The block follows it. */
#define RTM_LARGE_HEADER 64u
#define RTM_LARGE_FREED 1u    /* in the cache: a free of it is stale */
#define RTM_LARGE_UNMAPPED 2u /* moved by remap to where the page map could not
                                 follow (a leaf refused): found by list */

typedef struct rtm_large {
    rtm_region region;  /* kind RTM_REGION_HEAP_LARGE, ctx */
    size_t size;        /* the size asked for (what a free must pass) */
    size_t span;        /* bytes held from the page source, header included */
    struct rtm_large *prev, *next; /* live list or cache */
    uint32_t flags;
    uint32_t spare32;
    uint64_t spare64;
} rtm_large;

/* How much large memory the heap may hold without using it: spans in the
 * cache plus the spare room of live large blocks (see heap_large.c). */
#define RTM_HEAP_LARGE_SPARE_MAX ((size_t)32 << 20)
#define RTM_HEAP_LARGE_CACHE_MAX 8u
/* Entries of the validated-page table the free fast path looks at first. */
#define RTM_HEAP_SEEN 4096u
/* Empty pages kept in the shared cache (beyond the one a class may keep). */
#define RTM_HEAP_EMPTY_KEEP 4u

typedef struct rtm_heap {
    /* bumped by the fast paths */
    rtm_counter bytes_in_use; /* sum of the sizes asked for, live */
    rtm_counter bytes_peak;
    /* pages a free validated (ctx's, no flags), by address, each as
     * page | (class + 1); 0 when none. A free into one skips the page map
     * and the page header. */
    uintptr_t seen[RTM_HEAP_SEEN];
    rtm_counter reallocs, reallocs_in_place;
    rtm_counter lua_tags[RTM_LUA_TAGS];
    /* the slow paths' */
    rtm_counter large_allocs, large_frees, large_live, large_bytes;
    rtm_counter bad_frees;
    rtm_counter large_unmapped;    /* live blocks with RTM_LARGE_UNMAPPED */
    rtm_counter held;         /* bytes held from the page source: pages and spans */
    rtm_counter empty_count;  /* pages in the empty cache */
    rtm_heap_page *empty;          /* the empty cache */
    rtm_large *large;              /* live large blocks */
    rtm_large *large_cache;        /* freed spans, most recent first */
    size_t large_cache_bytes, large_spare;
    unsigned large_cache_count;
    bool no_cache;                 /* in the out-of-memory ladder: free memory
                                      goes straight back to the source */
    _Alignas(64) rtm_heap_class cls[RTM_CLASS_COUNT];
} rtm_heap;


/* The hooks ctx.c and stats.c call. */
rtm_status _rtm_heap_init(rtm_ctx *ctx);
void _rtm_heap_destroy(rtm_ctx *ctx);
void _rtm_heap_trim(rtm_ctx *ctx);
rtm_status _rtm_heap_check(rtm_ctx *ctx);
int _rtm_heap_visit(rtm_ctx *ctx, rtm_visit_fn fn, void *ud); /* nonzero: stopped */
void _rtm_heap_stats(const rtm_ctx *ctx, rtm_stats *out);    /* adds its figures */

/* ---- shared by the heap's files ------------------------------------------ */

/* Slow paths of the public entry points (heap_slow.c). `where` names the
 * public function for the error record. */
void *_rtm_heap_alloc_slow(rtm_ctx *ctx, size_t size, bool zero, const char *where) RTM_COLD;
rtm_status _rtm_heap_free_slow(rtm_ctx *ctx, void *p, size_t size, const char *where) RTM_COLD;
void *_rtm_heap_realloc_slow(rtm_ctx *ctx, void *p, size_t old_size, size_t new_size,
                             const char *where) RTM_COLD;
/* The class's cache passed its limit (the free fast path). Not RTM_COLD:
 * GCC would move the whole push before it into the cold section. */
void _rtm_heap_cache_flush(rtm_ctx *ctx, rtm_heap_class *cls) RTM_NOINLINE;

/* Pages (heap_page.c). */
rtm_block *_rtm_heap_refill(rtm_ctx *ctx, rtm_heap_class *cls, rtm_status *why);
rtm_block *_rtm_heap_page_take(rtm_ctx *ctx, rtm_heap_class *cls, rtm_status *why); /* debug */
void _rtm_heap_page_put(rtm_ctx *ctx, rtm_heap_page *page, rtm_block *b);
void _rtm_heap_flush(rtm_ctx *ctx, rtm_heap_class *cls, uint64_t keep);
void _rtm_heap_page_release(rtm_ctx *ctx, rtm_heap_page *page);
void _rtm_heap_pages_destroy(rtm_ctx *ctx);
size_t _rtm_heap_pages_trim(rtm_ctx *ctx); /* bytes given back */
void *_rtm_heap_pages_get(rtm_ctx *ctx, size_t size, rtm_status *why);

/* Large blocks (heap_large.c). */
void *_rtm_large_alloc(rtm_ctx *ctx, size_t size, bool grows, bool zero, rtm_status *why);
rtm_status _rtm_large_check_block(rtm_large *lg, const void *p, size_t size);
rtm_large *_rtm_large_find_unmapped(rtm_ctx *ctx, const void *p);
void _rtm_large_free(rtm_ctx *ctx, rtm_large *lg);
void *_rtm_large_realloc(rtm_ctx *ctx, rtm_large *lg, size_t new_size, rtm_status *why);
size_t _rtm_large_trim(rtm_ctx *ctx); /* bytes given back */
void _rtm_large_destroy(rtm_ctx *ctx);
rtm_status _rtm_large_check(rtm_ctx *ctx, uint64_t *bytes, uint64_t *held);
int _rtm_large_visit(rtm_ctx *ctx, rtm_visit_fn fn, void *ud);

/* The debug fill patterns. */
#define RTM_FILL_FREED 0xDFu
#define RTM_FILL_ALLOC 0xD0u

#endif /* RTM_HEAP_H */
