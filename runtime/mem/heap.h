/*
 * heap.h: the small-object heap's state inside the context, and the hooks
 * ctx.c calls. (Placeholder until the heap lands: the heap part owns this
 * file and heap.c.)
 */
#ifndef RTM_HEAP_H
#define RTM_HEAP_H

#include "rtmem.h"

typedef struct rtm_heap {
    int placeholder;
} rtm_heap;

rtm_status _rtm_heap_init(rtm_ctx *ctx);
void _rtm_heap_destroy(rtm_ctx *ctx);
void _rtm_heap_trim(rtm_ctx *ctx);
rtm_status _rtm_heap_check(rtm_ctx *ctx);
int _rtm_heap_visit(rtm_ctx *ctx, rtm_visit_fn fn, void *ud); /* nonzero: stopped */
void _rtm_heap_stats(const rtm_ctx *ctx, rtm_stats *out);    /* adds its figures */

#endif /* RTM_HEAP_H */
