/* ctx_interner.c: the interner every context owns. A context asked for
 * keyword sets (rtm_config.keywords) makes it with the context, seeded, so a
 * bad set name or a failure to seed fails rtm_ctx_new; any other context
 * makes it on first use, so a context that never interns holds no page for
 * it and asks its page source for nothing more. */
#include "intern.h"

#if defined(__GNUC__) || defined(__clang__)
#  define load_interner(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#  define publish_interner(p, expected, in)                                      \
    __atomic_compare_exchange_n((p), (expected), (in), false, __ATOMIC_ACQ_REL, \
                                __ATOMIC_ACQUIRE)
#else
#  define load_interner(p) atomic_load_explicit((_Atomic(rtm_interner *) *)(p), memory_order_acquire)
#  define publish_interner(p, expected, in)                                            \
    atomic_compare_exchange_strong((_Atomic(rtm_interner *) *)(p), (expected), (in))
#endif

rtm_status _rtm_ctx_interner_init(rtm_ctx *ctx, const char *const *keywords)
{
    unsigned sets;
    ctx->interner = NULL;
    rtm_status st = _rtm_kw_parse(keywords, &sets);
    if (st != RTM_OK || sets == 0) return st;
    return _rtm_interner_make(ctx, 0, sets, &ctx->interner);
}

/* The first use: make it, and publish it unless another thread was first. */
static RTM_COLD rtm_interner *ctx_interner_first(rtm_ctx *ctx)
{
    rtm_interner *in, *expected = NULL;
    rtm_status st = _rtm_interner_make(ctx, 0, 0, &in);
    if (st != RTM_OK) return _rtm_fail_null(ctx, st, "rtm_ctx_interner");
    if (publish_interner(&ctx->interner, &expected, in)) return in;
    _rtm_interner_discard(in);
    return expected;
}

rtm_interner *rtm_ctx_interner(rtm_ctx *ctx)
{
    if (ctx == NULL) return NULL;
    rtm_interner *in = load_interner(&ctx->interner);
    return in != NULL ? in : ctx_interner_first(ctx);
}
