/*
 * support.h: what every Check suite shares.
 *
 *  - rtm_test_pages: a page source over the OS's that counts what it holds and
 *    can be told to refuse the k-th request (or every request from the k-th
 *    on), so each suite can run its workload with every k.
 *  - rtm_test_small(): true when RTM_TEST_PROFILE=small (the sanitizer runs),
 *    so stress tests shrink their loops.
 *  - RTM_TEST_MAIN(suite): the main() of a suite.
 */
#ifndef RTM_TEST_SUPPORT_H
#define RTM_TEST_SUPPORT_H

#include "rtmem.h"

#include <check.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct rtm_test_pages {
    rtm_page_source source;  /* pass &tp.source in rtm_config.pages */
    atomic_long reserves;    /* reserve calls seen (refused ones included) */
    atomic_long refused;
    atomic_long held_bytes;  /* bytes given out and not released */
    atomic_long held_ranges;
    long fail_at;            /* refuse the fail_at-th reserve (1-based); 0: never */
    bool fail_from;          /* refuse every reserve from fail_at on */
    atomic_bool fail_all;    /* refuse everything while set */
    bool dirty;              /* fill every range with junk (see rtm_test_pages_dirty) */
} rtm_test_pages;

static inline void *rtm_test_reserve(void *ud, size_t size, size_t align)
{
    rtm_test_pages *tp = (rtm_test_pages *)ud;
    long n = atomic_fetch_add(&tp->reserves, 1) + 1;
    if (atomic_load(&tp->fail_all) ||
        (tp->fail_at != 0 && (n == tp->fail_at || (tp->fail_from && n >= tp->fail_at)))) {
        atomic_fetch_add(&tp->refused, 1);
        return NULL;
    }
    void *p = rtm_page_source_os()->reserve(NULL, size, align);
    if (p != NULL && tp->dirty) memset(p, 0xA5, size);
    if (p != NULL) {
        atomic_fetch_add(&tp->held_bytes, (long)size);
        atomic_fetch_add(&tp->held_ranges, 1);
    }
    return p;
}

static inline void rtm_test_release(void *ud, void *p, size_t size)
{
    rtm_test_pages *tp = (rtm_test_pages *)ud;
    atomic_fetch_sub(&tp->held_bytes, (long)size);
    atomic_fetch_sub(&tp->held_ranges, 1);
    rtm_page_source_os()->release(NULL, p, size);
}

static inline void *rtm_test_remap(void *ud, void *p, size_t old_size, size_t new_size,
                                   size_t align)
{
    rtm_test_pages *tp = (rtm_test_pages *)ud;
    if (atomic_load(&tp->fail_all)) return NULL;
    void *q = rtm_page_source_os()->remap(NULL, p, old_size, new_size, align);
    if (q != NULL) atomic_fetch_add(&tp->held_bytes, (long)new_size - (long)old_size);
    return q;
}

/* A page source that refuses the k-th reserve (k = 0: never). */
static inline void rtm_test_pages_init(rtm_test_pages *tp, long fail_at, bool fail_from)
{
    memset(tp, 0, sizeof *tp);
    tp->source.reserve = rtm_test_reserve;
    tp->source.release = rtm_test_release;
    tp->source.remap = rtm_test_remap;
    tp->source.ud = tp;
    tp->source.flags = RTM_PAGES_ZEROED;
    tp->fail_at = fail_at;
    tp->fail_from = fail_from;
}

/* The same, but its pages hold junk, as a source without RTM_PAGES_ZEROED
 * may give: rtmem must clear whatever it relies on being zero. */
static inline void rtm_test_pages_dirty(rtm_test_pages *tp)
{
    rtm_test_pages_init(tp, 0, false);
    tp->dirty = true;
    tp->source.flags = 0;
}

static inline bool rtm_test_small(void)
{
    const char *p = getenv("RTM_TEST_PROFILE");
    return p != NULL && strcmp(p, "small") == 0;
}

/* A deterministic generator (xorshift64*), so failures reproduce. */
static inline uint64_t rtm_test_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ull;
}

#define RTM_TEST_MAIN(make_suite)                                            \
    int main(void)                                                           \
    {                                                                        \
        SRunner *sr = srunner_create(make_suite());                          \
        srunner_run_all(sr, CK_NORMAL);                                      \
        int failed = srunner_ntests_failed(sr);                              \
        srunner_free(sr);                                                    \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                    \
    }

#endif /* RTM_TEST_SUPPORT_H */
