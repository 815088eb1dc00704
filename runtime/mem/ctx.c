/*
 * ctx.c: the context. It owns every part: the heap is embedded; arenas,
 * pools, buffers, batches, layouts and the interner link themselves into the
 * owned list, so this file does not need to know them.
 */
#include "internal.h"

#include <string.h>

/* ---- status -------------------------------------------------------------- */

const char *rtm_status_str(rtm_status s)
{
    switch (s) {
    case RTM_OK: return "ok";
    case RTM_ENOMEM: return "out of memory";
    case RTM_ELIMIT: return "limit reached";
    case RTM_EINVAL: return "invalid argument";
    case RTM_ESTALE: return "stale handle or pointer";
    case RTM_EFOREIGN: return "foreign handle or pointer";
    case RTM_ETYPE: return "wrong type";
    }
    return "unknown status";
}

/* ---- errors -------------------------------------------------------------- */

rtm_status _rtm_fail(rtm_ctx *ctx, rtm_status s, const char *where)
{
    atomic_store_explicit(&ctx->error, (int)s, memory_order_relaxed);
    rtm_counter_add_shared(&ctx->errors, 1);
    if (ctx->on_error != NULL) ctx->on_error(ctx->on_error_ud, s, where);
    return s;
}

void *_rtm_fail_null(rtm_ctx *ctx, rtm_status s, const char *where)
{
    _rtm_fail(ctx, s, where);
    return NULL;
}

rtm_status rtm_ctx_error(const rtm_ctx *ctx)
{
    if (ctx == NULL) return RTM_EINVAL;
    return (rtm_status)atomic_load_explicit(&((rtm_ctx *)ctx)->error, memory_order_relaxed);
}

void rtm_ctx_clear_error(rtm_ctx *ctx)
{
    if (ctx != NULL) atomic_store_explicit(&ctx->error, RTM_OK, memory_order_relaxed);
}

void rtm_ctx_set_collect(rtm_ctx *ctx, rtm_collect_fn fn, void *ud)
{
    if (ctx == NULL) return;
    ctx->collect = fn;
    ctx->collect_ud = ud;
}

void rtm_ctx_set_error_hook(rtm_ctx *ctx, rtm_error_fn fn, void *ud)
{
    if (ctx == NULL) return;
    ctx->on_error = fn;
    ctx->on_error_ud = ud;
}

/* ---- the owned list ------------------------------------------------------ */

void _rtm_owned_link(rtm_ctx *ctx, rtm_owned *o, const rtm_owned_ops *ops)
{
    o->ops = ops;
    o->ctx = ctx;
    pthread_mutex_lock(&ctx->owned_lock);
    o->prev = &ctx->owned;
    o->next = ctx->owned.next;
    ctx->owned.next->prev = o;
    ctx->owned.next = o;
    pthread_mutex_unlock(&ctx->owned_lock);
}

void _rtm_owned_unlink(rtm_owned *o)
{
    rtm_ctx *ctx = o->ctx;
    pthread_mutex_lock(&ctx->owned_lock);
    o->prev->next = o->next;
    o->next->prev = o->prev;
    o->prev = o->next = o;
    pthread_mutex_unlock(&ctx->owned_lock);
}

/* ---- new and destroy ----------------------------------------------------- */

static bool page_source_valid(const rtm_page_source *ps)
{
    return ps->reserve != NULL && ps->release != NULL;
}

rtm_status rtm_ctx_new_ex(const rtm_config *cfg, rtm_ctx **out)
{
    static const rtm_config defaults = {0, NULL, NULL, 0};
    if (out == NULL) return RTM_EINVAL;
    *out = NULL;
    if (cfg == NULL) cfg = &defaults;
    const rtm_page_source *ps = cfg->pages ? cfg->pages : rtm_page_source_os();
    if (!page_source_valid(ps) || (cfg->flags & ~RTM_CTX_DEBUG)) return RTM_EINVAL;

    size_t self_size = _rtm_pages_round(sizeof(rtm_ctx));
    if (cfg->limit_bytes != 0 && cfg->limit_bytes < self_size) return RTM_ELIMIT;
    rtm_ctx *ctx = ps->reserve(ps->ud, self_size, RTM_OS_PAGE);
    if (ctx == NULL) return RTM_ENOMEM;
    /* Zeroed pages (the OS's are): clearing them would only make all of
     * the heap's 32 KiB page table resident, most of which a context never
     * touches. Another source's pages may hold anything. */
    if (!(ps->flags & RTM_PAGES_ZEROED)) memset(ctx, 0, sizeof *ctx);
    ctx->self_size = self_size;
    ctx->flags = cfg->flags;
    ctx->pages = *ps;
    ctx->account.limit = cfg->limit_bytes;
    atomic_store(&ctx->account.held, self_size);
    atomic_store(&ctx->account.peak, self_size);
    atomic_store(&ctx->account.reserves, 1);
    ctx->owned.prev = ctx->owned.next = &ctx->owned;
    if (pthread_mutex_init(&ctx->owned_lock, NULL) != 0) {
        ps->release(ps->ud, ctx, self_size);
        return RTM_ENOMEM;
    }
    rtm_status st = _rtm_heap_init(ctx);
    if (st == RTM_OK) st = _rtm_ctx_interner_init(ctx, cfg->keywords);
    if (st != RTM_OK) {
        rtm_ctx_destroy(ctx);
        return st;
    }
    *out = ctx;
    return RTM_OK;
}

rtm_ctx *rtm_ctx_new(const rtm_config *cfg)
{
    rtm_ctx *ctx;
    rtm_ctx_new_ex(cfg, &ctx);
    return ctx;
}

static void destroy_owned(rtm_ctx *ctx)
{
    /* By order, so users of a layout go before the layout. Each destroy
     * unlinks itself; a destroy never ends another owned object. */
    static const int orders[] = {RTM_ORDER_BATCH, RTM_ORDER_POOL,   RTM_ORDER_ARENA,
                                 RTM_ORDER_ARENA_CACHE, RTM_ORDER_BUF, RTM_ORDER_LAYOUT,
                                 RTM_ORDER_INTERNER};
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
        rtm_owned *o = ctx->owned.next;
        while (o != &ctx->owned) {
            rtm_owned *next = o->next;
            if (o->ops->order == orders[i]) o->ops->destroy(o);
            o = next;
        }
    }
    /* Anything with an order not listed above. */
    while (ctx->owned.next != &ctx->owned) ctx->owned.next->ops->destroy(ctx->owned.next);
}

void rtm_ctx_destroy(rtm_ctx *ctx)
{
    if (ctx == NULL) return;
    destroy_owned(ctx);
    _rtm_heap_destroy(ctx);
    pthread_mutex_destroy(&ctx->owned_lock);
    rtm_page_source ps = ctx->pages;
    ps.release(ps.ud, ctx, ctx->self_size);
}

/* ---- trim, check, visit -------------------------------------------------- */

void rtm_ctx_trim(rtm_ctx *ctx)
{
    if (ctx == NULL) return;
    _rtm_heap_trim(ctx);
    for (rtm_owned *o = ctx->owned.next; o != &ctx->owned; o = o->next)
        if (o->ops->trim != NULL) o->ops->trim(o);
}

rtm_status rtm_ctx_check(rtm_ctx *ctx)
{
    if (ctx == NULL) return RTM_EINVAL;
    size_t held = atomic_load(&ctx->account.held);
    if (held < ctx->self_size) return RTM_EINVAL;
    if (ctx->account.limit != 0 && held > ctx->account.limit) return RTM_EINVAL;
    if (atomic_load(&ctx->account.peak) < held) return RTM_EINVAL;
    rtm_status s = _rtm_heap_check(ctx);
    if (s != RTM_OK) return s;
    for (rtm_owned *o = ctx->owned.next; o != &ctx->owned; o = o->next) {
        if (o->next->prev != o || o->prev->next != o || o->ctx != ctx) return RTM_EINVAL;
        if (o->ops->check != NULL && (s = o->ops->check(o)) != RTM_OK) return s;
    }
    return RTM_OK;
}

rtm_status rtm_ctx_visit(rtm_ctx *ctx, rtm_visit_fn fn, void *ud)
{
    if (ctx == NULL) return RTM_EINVAL;
    if (fn == NULL) return _rtm_fail(ctx, RTM_EINVAL, "rtm_ctx_visit");
    if (_rtm_heap_visit(ctx, fn, ud)) return RTM_OK;
    for (rtm_owned *o = ctx->owned.next; o != &ctx->owned; o = o->next)
        if (o->ops->visit != NULL && o->ops->visit(o, fn, ud)) break;
    return RTM_OK;
}
