/*
 * arena.h: what arena.c and arena_cache.c share: the chunk every arena bumps
 * through, and the context's cache of chunks left by destroyed arenas.
 *
 * A chunk is a page range from the page source, starting with its header.
 * Ordinary chunks are RTM_ARENA_CHUNK_MIN << k bytes (k < RTM_CHUNK_CLASSES);
 * a chunk made for one oversized request has any page-multiple size above
 * RTM_ARENA_CHUNK_MAX and is never kept once emptied.
 *
 * Under ASan the header is always accessible and the rest of a chunk is
 * poisoned except what an arena has handed out (and, in an arena's first
 * chunk, the arena itself).
 */
#ifndef RTM_ARENA_H
#define RTM_ARENA_H

#include "internal.h"

typedef struct rtm_chunk {
    struct rtm_chunk *prev; /* in an arena: the older chunk; in a list: the next */
    size_t size;            /* bytes of the page range */
    size_t base;            /* the arena position of data */
    char *data;             /* where bumping starts */
    char *top;              /* in an arena, behind the head: where bumping stopped */
} rtm_chunk;

#define RTM_CHUNK_HDR ((size_t)64) /* the header, rounded to a cache line */
#define RTM_CHUNK_CLASSES 7        /* 16 KiB .. 1 MiB */

static inline char *rtm_chunk_end(const rtm_chunk *c) { return (char *)c + c->size; }
static inline size_t rtm_chunk_cap(const rtm_chunk *c) { return (size_t)(rtm_chunk_end(c) - c->data); }
static inline bool rtm_chunk_ordinary(size_t size) { return size <= RTM_ARENA_CHUNK_MAX; }

/* The class of an ordinary chunk size (a power of two in range). */
static inline unsigned rtm_chunk_class(size_t size)
{
    unsigned k = 0;
    while ((RTM_ARENA_CHUNK_MIN << k) < size) k++;
    return k;
}

/* The context's arena cache: an owned object (RTM_ORDER_ARENA_CACHE, after
 * the arenas, so the chunks of arenas ended by rtm_ctx_destroy land in it and
 * are released with it). Made with the context's first arena. */
typedef struct rtm_arena_cache {
    rtm_owned owned;
    rtm_chunk *bins[RTM_CHUNK_CLASSES]; /* bin k: chunks of RTM_ARENA_CHUNK_MIN << k */
    rtm_counter chunks, bytes;          /* what the bins hold */
    rtm_counter hits, misses;           /* chunks taken from the bins / the page source */
    size_t self_size;
} rtm_arena_cache;

/* The context's cache, made on first use. NULL with *why set when it cannot
 * be made. */
rtm_arena_cache *_rtm_arena_cache_of(rtm_ctx *ctx, rtm_status *why);

/* A chunk for an arena that wants `want` bytes (a chunk size) and needs at
 * least `need`: an ordinary chunk of at least max(need, want) from the cache
 * (a hit) or from the page source (a miss), or for need > RTM_ARENA_CHUNK_MAX
 * an oversized one from the page source. The header holds size only; the
 * data is poisoned. NULL with *why set (nothing changed). */
rtm_chunk *_rtm_chunk_get(rtm_arena_cache *cache, size_t need, size_t want, rtm_status *why);

/* Takes an emptied chunk: an ordinary one joins the cache if it has room,
 * anything else goes back to the page source. */
void _rtm_chunk_give(rtm_arena_cache *cache, rtm_chunk *c);

/* Gives a chunk back to the page source (unpoisoned first: the pages may be
 * handed to anything next). */
void _rtm_chunk_release(rtm_ctx *ctx, rtm_chunk *c);

/* Poisons a chunk's data area, from `from` to its end: nobody may touch it. */
void _rtm_chunk_poison(rtm_chunk *c, char *from);

#endif /* RTM_ARENA_H */
