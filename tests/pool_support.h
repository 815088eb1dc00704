/* pool_support.h: what the pool suites share: a fixture with a fresh
 * context, pool and figure helpers, and an assertion for hot loops. */
#ifndef RTM_POOL_SUPPORT_H
#define RTM_POOL_SUPPORT_H

#include "support.h"
#include "../runtime/mem/pool.h"

#include <stdalign.h>

#if defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define HAVE_ASAN 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#  define HAVE_ASAN 1
#endif
#ifdef HAVE_ASAN
#  include <sanitizer/asan_interface.h>
#endif

/* An assertion for hot loops: Check's own ck_assert records a checkpoint on
 * every call (a write, without fork), which would dominate the run time. */
#define REQ_EQ(a, b) REQUIRE((a) == (b))
#define REQ_NN(a) REQUIRE((a) != NULL)
#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);     \
    } while (0)

static rtm_ctx *ctx; /* the fixture's */

static inline void setup(void)
{
    ctx = rtm_ctx_new(NULL);
    ck_assert_ptr_nonnull(ctx);
}

static inline void teardown(void)
{
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    ctx = NULL;
}

static inline rtm_pool *new_pool(size_t size, size_t align)
{
    rtm_type t = {"test", size, align, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
    rtm_pool *p = rtm_pool_new(ctx, &t);
    ck_assert_msg(p != NULL, "pool %zu/%zu: %s", size, align, rtm_status_str(rtm_ctx_error(ctx)));
    return p;
}

static inline rtm_pool_info info(const rtm_pool *p)
{
    rtm_pool_info in;
    ck_assert_int_eq(rtm_pool_stats(p, &in), RTM_OK);
    return in;
}

static inline rtm_stats ctx_stats(rtm_ctx *c)
{
    rtm_stats st;
    rtm_ctx_stats(c, &st);
    return st;
}

#endif /* RTM_POOL_SUPPORT_H */
