/* heap.c: placeholder hooks until the small-object heap lands. */
#include "internal.h"

rtm_status _rtm_heap_init(rtm_ctx *ctx) { (void)ctx; return RTM_OK; }
void _rtm_heap_destroy(rtm_ctx *ctx) { (void)ctx; }
void _rtm_heap_trim(rtm_ctx *ctx) { (void)ctx; }
rtm_status _rtm_heap_check(rtm_ctx *ctx) { (void)ctx; return RTM_OK; }
int _rtm_heap_visit(rtm_ctx *ctx, rtm_visit_fn fn, void *ud) { (void)ctx; (void)fn; (void)ud; return 0; }
void _rtm_heap_stats(const rtm_ctx *ctx, rtm_stats *out) { (void)ctx; (void)out; }
