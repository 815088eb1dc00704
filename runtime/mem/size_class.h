/*
 * size_class.h: the small-object heap's size classes.
 *
 * 64 classes cover 1..RTM_SMALL_MAX (8 KiB):
 *   - 8, 16, 24, ..., 128: every multiple of 8 (16 classes);
 *   - then 8 classes per doubling: 144, 160, ..., 256 (steps of 16), 288, ...,
 *     512 (steps of 32), ..., 7168, 8192 (steps of 1024): 6 doublings, 48 classes.
 *
 * Internal waste, exactly: a request of n bytes gets a block of at most
 * n + 7 bytes when n <= 128 (the 8-byte granularity), and of less than
 * n + n/8 bytes above (each class is at most 9/8 of the one below it, and n is
 * above the one below). So no class wastes more than 12.5% of a request,
 * except requests under 64 bytes, which waste at most 7 bytes.
 *
 * Every class size is a multiple of 8, and of 16 when a multiple-of-16 size
 * maps to it, so blocks (which start 64-byte aligned in their page) are
 * aligned to 8, and to 16 for sizes that are multiples of 16.
 *
 * The size -> class map is one byte load from a 1,024-entry table indexed by
 * the size in 8-byte granules (no branch, which matters for mixed sizes); the
 * table is computed by the compiler from the formula below.
 */
#ifndef RTM_SIZE_CLASS_H
#define RTM_SIZE_CLASS_H

#include "rtmem.h"
#include <stddef.h>
#include <stdint.h>

#define RTM_CLASS_COUNT 64
#define RTM_CLASS_GRANULES (RTM_SMALL_MAX >> 3)

#if RTM_CLASS_COUNT > RTM_HEAP_CLASSES
#  error "more size classes than rtm_stats.classes can hold"
#endif

/* The highest set bit of x (x > 0). */
#define RTM_LOG2_(x) (63 - __builtin_clzll((unsigned long long)(x)))

/* The class of n bytes, 1 <= n <= RTM_SMALL_MAX, as a constant expression:
 * up to 128, one class per 8 bytes; above, with b the top bit of n - 1,
 * 8 classes per [2^b, 2^(b+1)), steps of 2^(b-3). (The | 128 changes nothing
 * above 128 and keeps the unused branch's shifts defined below it.) */
#define RTM_CLASS_B_(n) RTM_LOG2_(((n) - 1) | 128)
#define RTM_CLASS_OF(n)                                                          \
    ((n) <= 128 ? (unsigned)(((n) - 1) >> 3)                                     \
                : (unsigned)(((RTM_CLASS_B_(n) - 6) << 3) + (((n) - 1) >> (RTM_CLASS_B_(n) - 3))))

/* The block size of class c (the inverse: the largest n of the class). */
static inline size_t rtm_class_size(unsigned c)
{
    if (c < 16) return (size_t)(c + 1) << 3;
    unsigned g = (c - 16) >> 3, j = (c - 16) & 7;
    return ((size_t)128 << g) + (size_t)(j + 1) * ((size_t)16 << g);
}

/* Indexed by (n - 1) >> 3: entry g is the class of sizes 8g+1 .. 8g+8 (class
 * boundaries are multiples of 8). The allocation fast path has n - 1 at hand
 * from its range check. */
extern const uint8_t _rtm_size_class_table[RTM_CLASS_GRANULES];

static inline unsigned rtm_size_class(size_t n)
{
    unsigned c = _rtm_size_class_table[(n - 1) >> 3];
#if defined(__GNUC__) || defined(__clang__)
    if (c >= RTM_CLASS_COUNT) __builtin_unreachable(); /* the table holds classes */
#endif
    return c;
}

#endif /* RTM_SIZE_CLASS_H */
