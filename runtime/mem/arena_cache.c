/*
 * arena_cache.c: where arena chunks come from and go to. A context keeps the
 * chunks of its destroyed arenas in a small cache, binned by size, so that a
 * program making an arena per file or per request takes no memory from the
 * page source after the first round (mimalloc keeps abandoned segments for
 * the same reason). The cache is bounded (RTM_ARENA_CACHE_MAX) and emptied by
 * rtm_ctx_trim.
 */
#include "arena.h"
#include "track.h"

#include <string.h>

#define CACHE_OF(o) ((rtm_arena_cache *)(void *)((char *)(o) - offsetof(rtm_arena_cache, owned)))

/* ---- chunks and the page source ----------------------------------------- */

void _rtm_chunk_poison(rtm_chunk *c, char *from)
{
    char *end = rtm_chunk_end(c);
    if (from < end) rtm_track_noaccess(from, (size_t)(end - from));
}

static rtm_chunk *chunk_fresh(rtm_ctx *ctx, size_t size, rtm_status *why)
{
    rtm_chunk *c = _rtm_pages_alloc(ctx, size, RTM_ARENA_MAX_ALIGN, RTM_PAGES_MAY_COLLECT, why);
    if (c == NULL) return NULL;
    rtm_track_internal(c, RTM_CHUNK_HDR);
    memset(c, 0, sizeof *c);
    c->size = _rtm_pages_round(size);
    _rtm_chunk_poison(c, (char *)c + RTM_CHUNK_HDR);
    return c;
}

void _rtm_chunk_release(rtm_ctx *ctx, rtm_chunk *c)
{
    size_t size = c->size;
    rtm_track_internal(c, size);
    _rtm_pages_free(ctx, c, size);
}

/* ---- the bins ------------------------------------------------------------- */

static rtm_chunk *cache_take(rtm_arena_cache *cache, unsigned from)
{
    for (unsigned k = from; k < RTM_CHUNK_CLASSES; k++) {
        rtm_chunk *c = cache->bins[k];
        if (c == NULL) continue;
        cache->bins[k] = c->prev;
        rtm_counter_sub(&cache->chunks, 1);
        rtm_counter_sub(&cache->bytes, c->size);
        rtm_counter_add(&cache->hits, 1);
        return c;
    }
    return NULL;
}

rtm_chunk *_rtm_chunk_get(rtm_arena_cache *cache, size_t need, size_t want, rtm_status *why)
{
    rtm_ctx *ctx = cache->owned.ctx;
    size_t size, least;
    if (rtm_chunk_ordinary(need)) {
        unsigned k = rtm_chunk_class(want > need ? want : need);
        rtm_chunk *c = cache_take(cache, k);
        if (c != NULL) {
            c->prev = NULL;
            return c;
        }
        size = RTM_ARENA_CHUNK_MIN << k;
        least = RTM_ARENA_CHUNK_MIN << rtm_chunk_class(need);
    } else {
        size = least = _rtm_pages_round(need); /* need <= RTM_MAX_ALLOC + a page: no wrap */
    }
    rtm_chunk *c = chunk_fresh(ctx, size, why);
    /* Near the limit, the geometric size may not fit where the request
     * would: ask for just enough. (The limit refuses before the page source
     * is asked, so this costs no call to it.) */
    if (c == NULL && *why == RTM_ELIMIT && least < size) c = chunk_fresh(ctx, least, why);
    if (c != NULL) rtm_counter_add(&cache->misses, 1);
    return c;
}

void _rtm_chunk_give(rtm_arena_cache *cache, rtm_chunk *c)
{
    size_t size = c->size;
    if (rtm_chunk_ordinary(size) &&
        rtm_counter_get(&cache->bytes) + size <= RTM_ARENA_CACHE_MAX) {
        _rtm_chunk_poison(c, (char *)c + RTM_CHUNK_HDR);
        unsigned k = rtm_chunk_class(size);
        c->data = c->top = NULL;
        c->base = 0;
        c->prev = cache->bins[k];
        cache->bins[k] = c;
        rtm_counter_add(&cache->chunks, 1);
        rtm_counter_add(&cache->bytes, size);
        return;
    }
    _rtm_chunk_release(cache->owned.ctx, c);
}

/* ---- the cache as an owned object ---------------------------------------- */

static void cache_trim(rtm_owned *o)
{
    rtm_arena_cache *cache = CACHE_OF(o);
    for (unsigned k = 0; k < RTM_CHUNK_CLASSES; k++) {
        while (cache->bins[k] != NULL) {
            rtm_chunk *c = cache->bins[k];
            cache->bins[k] = c->prev;
            rtm_counter_sub(&cache->chunks, 1);
            rtm_counter_sub(&cache->bytes, c->size);
            _rtm_chunk_release(o->ctx, c);
        }
    }
}

static void cache_destroy(rtm_owned *o)
{
    rtm_arena_cache *cache = CACHE_OF(o);
    rtm_ctx *ctx = o->ctx;
    cache_trim(o);
    _rtm_owned_unlink(o);
    if (ctx->arena_cache == cache) ctx->arena_cache = NULL;
    _rtm_pages_free(ctx, cache, cache->self_size);
}

static rtm_status cache_check(rtm_owned *o)
{
    rtm_arena_cache *cache = CACHE_OF(o);
    if (o->ctx->arena_cache != cache) return RTM_EINVAL;
    uint64_t chunks = 0, bytes = 0, bound = RTM_ARENA_CACHE_MAX / RTM_ARENA_CHUNK_MIN;
    for (unsigned k = 0; k < RTM_CHUNK_CLASSES; k++) {
        for (rtm_chunk *c = cache->bins[k]; c != NULL; c = c->prev) {
            if (++chunks > bound) return RTM_EINVAL; /* a cycle, or past the bound */
            if (c->size != RTM_ARENA_CHUNK_MIN << k) return RTM_EINVAL;
            if (((uintptr_t)c & (RTM_ARENA_MAX_ALIGN - 1)) != 0) return RTM_EINVAL;
            bytes += c->size;
        }
    }
    if (chunks != rtm_counter_get(&cache->chunks) || bytes != rtm_counter_get(&cache->bytes))
        return RTM_EINVAL;
    return bytes <= RTM_ARENA_CACHE_MAX ? RTM_OK : RTM_EINVAL;
}

static int cache_visit(rtm_owned *o, rtm_visit_fn fn, void *ud)
{
    rtm_arena_cache *cache = CACHE_OF(o);
    for (unsigned k = 0; k < RTM_CHUNK_CLASSES; k++)
        for (rtm_chunk *c = cache->bins[k]; c != NULL; c = c->prev)
            if (fn(ud, RTM_VISIT_ARENA_CHUNK, c, c->size)) return 1;
    return 0;
}

static void cache_stats(const rtm_owned *o, rtm_stats *out)
{
    const rtm_arena_cache *cache = CACHE_OF(o);
    out->arena_cache_chunks += rtm_counter_get(&cache->chunks);
    out->arena_cache_bytes += rtm_counter_get(&cache->bytes);
    out->arena_cache_hits += rtm_counter_get(&cache->hits);
    out->arena_cache_misses += rtm_counter_get(&cache->misses);
}

static const rtm_owned_ops cache_ops = {
    "arena cache", RTM_ORDER_ARENA_CACHE, cache_destroy, cache_check, cache_visit,
    cache_stats, cache_trim,
};

rtm_arena_cache *_rtm_arena_cache_of(rtm_ctx *ctx, rtm_status *why)
{
    if (RTM_LIKELY(ctx->arena_cache != NULL)) return ctx->arena_cache;
    size_t size = _rtm_pages_round(sizeof(rtm_arena_cache));
    rtm_arena_cache *cache = _rtm_pages_alloc(ctx, size, RTM_OS_PAGE, RTM_PAGES_MAY_COLLECT, why);
    if (cache == NULL) return NULL;
    memset(cache, 0, sizeof *cache);
    cache->self_size = size;
    _rtm_owned_link(ctx, &cache->owned, &cache_ops);
    ctx->arena_cache = cache;
    return cache;
}
