/* ctx_interner.c: the interner every context owns, seeded from
 * rtm_config.keywords when rtm_ctx_new makes the context. */
#include "intern.h"

rtm_status _rtm_ctx_interner_init(rtm_ctx *ctx, const char *const *keywords)
{
    unsigned sets;
    ctx->interner = NULL;
    rtm_status st = _rtm_kw_parse(keywords, &sets);
    if (st != RTM_OK) return st;
    return _rtm_interner_make(ctx, sets, &ctx->interner);
}

rtm_interner *rtm_ctx_interner(rtm_ctx *ctx) { return ctx ? ctx->interner : NULL; }
