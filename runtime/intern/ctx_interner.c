/* ctx_interner.c: the context's own interner. Placeholder until the interner
 * lands: a context asked for keywords cannot be made yet. */
#include "../mem/internal.h"

rtm_status _rtm_ctx_interner_init(rtm_ctx *ctx, const char *const *keywords)
{
    ctx->interner = NULL;
    return keywords == NULL ? RTM_OK : RTM_EINVAL;
}

rtm_interner *rtm_ctx_interner(rtm_ctx *ctx) { return ctx ? ctx->interner : NULL; }
