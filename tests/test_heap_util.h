/* test_heap_util.h: what the heap's Check suites share. */
#ifndef RTM_TEST_HEAP_UTIL_H
#define RTM_TEST_HEAP_UTIL_H

#include "support.h"

#include <stdio.h>

#if defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define TEST_ASAN 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#  define TEST_ASAN 1
#endif
#if defined(__has_include)
#  if __has_include(<valgrind/valgrind.h>)
#    include <valgrind/valgrind.h>
#  endif
#endif
#ifndef RUNNING_ON_VALGRIND
#  define RUNNING_ON_VALGRIND 0
#endif

static inline rtm_stats stats_of(rtm_ctx *ctx)
{
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    return st;
}

static inline void fill(void *p, size_t n, unsigned char seed)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(seed + i * 7);
}

/* Check records every assertion (a write per call): compare first, assert once. */
static inline size_t first_mismatch(const void *p, size_t n, unsigned char seed)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)(seed + i * 7)) return i;
    return n;
}
#define expect_filled(p, n, seed) ck_assert_uint_eq(first_mismatch((p), (n), (seed)), (n))

static inline bool all_bytes(const void *p, size_t n, unsigned char v)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != v) return false;
    return true;
}

static inline rtm_ctx *new_ctx(unsigned flags)
{
    rtm_config cfg = {0, NULL, NULL, flags};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

#endif /* RTM_TEST_HEAP_UTIL_H */
