/*
 * stats.c: the context's metrics, gathered from every part, and written as
 * JSON or Prometheus text. One table of fields serves both formats.
 */
#include "internal.h"

#include <string.h>

void rtm_ctx_stats_sized(const rtm_ctx *cctx, rtm_stats *out, size_t out_size)
{
    if (out == NULL || out_size < 2 * sizeof(uint32_t)) return;
    rtm_stats st;
    memset(&st, 0, sizeof st);
    st.size = (uint32_t)(out_size < sizeof st ? out_size : sizeof st);
    st.version = RTM_STATS_VERSION;
    if (cctx != NULL) {
        rtm_ctx *ctx = (rtm_ctx *)cctx;
        const rtm_page_account *acc = &ctx->account;
        st.page_bytes = atomic_load_explicit(&acc->held, memory_order_relaxed);
        st.page_bytes_peak = atomic_load_explicit(&acc->peak, memory_order_relaxed);
        st.page_reserves = atomic_load_explicit(&acc->reserves, memory_order_relaxed);
        st.page_releases = atomic_load_explicit(&acc->releases, memory_order_relaxed);
        st.page_failures = atomic_load_explicit(&acc->failures, memory_order_relaxed);
        st.limit_hits = atomic_load_explicit(&acc->limit_hits, memory_order_relaxed);
        st.limit_bytes = acc->limit;
        st.collect_calls = rtm_counter_get(&ctx->collect_calls);
        st.errors = rtm_counter_get(&ctx->errors);
        st.pool_leaked = rtm_counter_get(&ctx->pool_leaked);
        _rtm_heap_stats(ctx, &st);
        pthread_mutex_lock(&ctx->owned_lock);
        for (const rtm_owned *o = ctx->owned.next; o != &ctx->owned; o = o->next)
            if (o->ops->stats != NULL) o->ops->stats(o, &st);
        pthread_mutex_unlock(&ctx->owned_lock);
    }
    memcpy(out, &st, st.size);
}

/* ---- writing ------------------------------------------------------------- */

typedef struct stat_field {
    const char *name;
    size_t offset;
    const char *help;
} stat_field;

#define F(name, help) {#name, offsetof(rtm_stats, name), help}
static const stat_field fields[] = {
    F(page_bytes, "bytes held from the page source"),
    F(page_bytes_peak, "peak bytes held from the page source"),
    F(page_reserves, "page source reserve calls that succeeded"),
    F(page_releases, "page source release calls"),
    F(page_failures, "page source refusals"),
    F(limit_bytes, "configured limit in bytes (0: none)"),
    F(limit_hits, "requests refused by the limit"),
    F(collect_calls, "calls of the collect hook"),
    F(errors, "failing calls recorded on the context"),
    F(bytes_in_use, "bytes handed out by all parts"),
    F(heap_bytes_in_use, "heap bytes in use (sizes asked for)"),
    F(heap_bytes_peak, "peak heap bytes in use"),
    F(heap_blocks_in_use, "live heap blocks"),
    F(heap_allocs, "heap allocations"),
    F(heap_frees, "heap frees"),
    F(heap_reallocs, "heap reallocations"),
    F(heap_reallocs_in_place, "heap reallocations done in place"),
    F(heap_pages, "small-object pages held"),
    F(heap_large_blocks, "live large blocks"),
    F(heap_large_bytes, "bytes in live large blocks"),
    F(heap_bad_frees, "foreign, wrong-size or double frees caught"),
    F(arenas_live, "live arenas"),
    F(arena_bytes_used, "bytes bumped in live arenas"),
    F(arena_chunk_bytes, "bytes in chunks of live arenas"),
    F(arena_chunks, "chunks of live arenas"),
    F(arena_cache_chunks, "chunks in the arena cache"),
    F(arena_cache_bytes, "bytes in the arena cache"),
    F(arena_cache_hits, "arena chunks reused from the cache"),
    F(arena_cache_misses, "arena chunks taken from the page source"),
    F(bufs_live, "live aligned buffers"),
    F(buf_bytes, "bytes held by aligned buffers"),
    F(pools_live, "live pools"),
    F(pool_objects_live, "live pool objects"),
    F(pool_slabs, "pool slabs held"),
    F(pool_bytes, "bytes held by pool slabs"),
    F(pool_hits, "pool acquires served from a free slot"),
    F(pool_misses, "pool acquires that had to grow"),
    F(pool_leaked, "pool objects still live when their pool was destroyed"),
    F(intern_strings, "unique interned strings"),
    F(intern_string_bytes, "bytes of interned string data"),
    F(intern_table_bytes, "bytes of interner tables"),
    F(intern_lookups, "intern lookups"),
    F(intern_hits, "intern lookups that found the string"),
    F(intern_bytes_saved, "bytes a copy per occurrence would have cost"),
    F(batches_live, "live batches"),
    F(batch_rows, "rows in live batches"),
    F(batch_bytes, "bytes held by batches"),
    F(layouts_live, "live layouts"),
    F(layout_bytes, "bytes held by layouts"),
};
#undef F

static const char *const lua_tag_names[RTM_LUA_TAGS] = {
    "none", "boolean", "lightuserdata", "number", "string",
    "table", "function", "userdata", "thread", "other"};

static uint64_t field_value(const rtm_stats *st, const stat_field *f)
{
    uint64_t v;
    memcpy(&v, (const char *)st + f->offset, sizeof v);
    return v;
}

static int write_json(const rtm_stats *st, FILE *f)
{
    fprintf(f, "{\n  \"version\": %u", st->version);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        fprintf(f, ",\n  \"%s\": %llu", fields[i].name,
                (unsigned long long)field_value(st, &fields[i]));
    fputs(",\n  \"classes\": [", f);
    for (size_t i = 0; i < RTM_HEAP_CLASSES && st->classes[i].block_size; i++) {
        const rtm_class_stats *c = &st->classes[i];
        fprintf(f, "%s\n    {\"block_size\": %llu, \"allocs\": %llu, \"frees\": %llu, "
                   "\"live_blocks\": %llu, \"pages\": %llu}",
                i ? "," : "", (unsigned long long)c->block_size, (unsigned long long)c->allocs,
                (unsigned long long)c->frees, (unsigned long long)c->live_blocks,
                (unsigned long long)c->pages);
    }
    fputs("\n  ],\n  \"lua_allocs_by_tag\": {", f);
    for (size_t i = 0; i < RTM_LUA_TAGS; i++)
        fprintf(f, "%s\"%s\": %llu", i ? ", " : "", lua_tag_names[i],
                (unsigned long long)st->lua_allocs_by_tag[i]);
    fputs("}\n}\n", f);
    return 0;
}

static int write_prometheus(const rtm_stats *st, FILE *f)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        fprintf(f, "# HELP rtmem_%s %s\n# TYPE rtmem_%s gauge\nrtmem_%s %llu\n", fields[i].name,
                fields[i].help, fields[i].name, fields[i].name,
                (unsigned long long)field_value(st, &fields[i]));
    static const char *const cls[] = {"allocs", "frees", "live_blocks", "pages"};
    for (size_t k = 0; k < 4; k++) {
        fprintf(f, "# HELP rtmem_class_%s per size class\n# TYPE rtmem_class_%s gauge\n", cls[k],
                cls[k]);
        for (size_t i = 0; i < RTM_HEAP_CLASSES && st->classes[i].block_size; i++) {
            const rtm_class_stats *c = &st->classes[i];
            const uint64_t v[] = {c->allocs, c->frees, c->live_blocks, c->pages};
            fprintf(f, "rtmem_class_%s{size=\"%llu\"} %llu\n", cls[k],
                    (unsigned long long)c->block_size, (unsigned long long)v[k]);
        }
    }
    fputs("# HELP rtmem_lua_allocs allocations by Lua type tag\n# TYPE rtmem_lua_allocs counter\n", f);
    for (size_t i = 0; i < RTM_LUA_TAGS; i++)
        fprintf(f, "rtmem_lua_allocs{tag=\"%s\"} %llu\n", lua_tag_names[i],
                (unsigned long long)st->lua_allocs_by_tag[i]);
    return 0;
}

int rtm_stats_write(const rtm_ctx *ctx, FILE *f, rtm_stats_format fmt)
{
    if (ctx == NULL) return -1;
    if (f == NULL || (fmt != RTM_STATS_JSON && fmt != RTM_STATS_PROMETHEUS)) {
        _rtm_fail((rtm_ctx *)ctx, RTM_EINVAL, "rtm_stats_write");
        return -1;
    }
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    if (fmt == RTM_STATS_JSON) write_json(&st, f);
    else write_prometheus(&st, f);
    return ferror(f) ? -1 : 0;
}
