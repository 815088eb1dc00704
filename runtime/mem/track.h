/*
 * track.h: the one layer that tells the memory tools what rtmem does with its
 * memory. Under AddressSanitizer, free blocks are poisoned; under Valgrind,
 * blocks are announced with the memcheck client requests. No allocator file
 * needs its own #ifdef: they call these.
 *
 *   rtm_track_alloc(p, size)      a block was handed out (undefined contents)
 *   rtm_track_alloc_zero(p, size) a block was handed out, zeroed
 *   rtm_track_free(p, size)       a block was given back: no access
 *   rtm_track_resize(p, old, new) a block grew or shrank in place
 *   rtm_track_moved(o, n, os, ns) a block's pages moved from o to n without
 *                                 a copy by us (remap): n holds the first
 *                                 min(os, ns) bytes, as they were
 *   rtm_track_noaccess(p, size)   memory we hold but nobody may touch
 *   rtm_track_undefined(p, size)  memory handed out that is not a block of
 *                                 its own (an arena bump, a buffer's new
 *                                 tail): accessible, contents undefined
 *   rtm_track_internal(p, size)   memory rtmem itself reads and writes
 *                                 (free-list links, headers): accessible
 */
#ifndef RTM_TRACK_H
#define RTM_TRACK_H

#include <stddef.h>

#if defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define RTM_TRACK_ASAN 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#  define RTM_TRACK_ASAN 1
#endif

#if defined(RTM_VALGRIND) && __has_include(<valgrind/memcheck.h>)
#  include <valgrind/memcheck.h>
#  define RTM_TRACK_VALGRIND 1
#endif

#ifdef RTM_TRACK_ASAN
#  include <sanitizer/asan_interface.h>
#  define rtm_asan_poison(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#  define rtm_asan_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#  define rtm_asan_poison(p, n) ((void)(p), (void)(n))
#  define rtm_asan_unpoison(p, n) ((void)(p), (void)(n))
#endif

#ifdef RTM_TRACK_VALGRIND
#  define rtm_vg_alloc(p, n, zero) VALGRIND_MALLOCLIKE_BLOCK((p), (n), 0, (zero))
#  define rtm_vg_free(p) VALGRIND_FREELIKE_BLOCK((p), 0)
#  define rtm_vg_resize(p, o, n) VALGRIND_RESIZEINPLACE_BLOCK((p), (o), (n), 0)
#  define rtm_vg_noaccess(p, n) VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#  define rtm_vg_defined(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#  define rtm_vg_undefined(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#  define rtm_vg_moved(o, p, os, ns)                                               \
    do {                                                                          \
        VALGRIND_FREELIKE_BLOCK((o), 0);                                          \
        VALGRIND_MALLOCLIKE_BLOCK((p), (ns), 0, 0);                               \
        VALGRIND_MAKE_MEM_DEFINED((p), (os) < (ns) ? (os) : (ns));                \
    } while (0)
/* Valgrind keeps a record per block: what a context still holds when it is
 * destroyed must be announced as freed, block by block. */
#  define RTM_TRACK_BLOCKS 1
#else
#  define rtm_vg_moved(o, p, os, ns) ((void)(o), (void)(p), (void)(os), (void)(ns))
#  define RTM_TRACK_BLOCKS 0
#  define rtm_vg_alloc(p, n, zero) ((void)(p), (void)(n), (void)(zero))
#  define rtm_vg_free(p) ((void)(p))
#  define rtm_vg_resize(p, o, n) ((void)(p), (void)(o), (void)(n))
#  define rtm_vg_noaccess(p, n) ((void)(p), (void)(n))
#  define rtm_vg_defined(p, n) ((void)(p), (void)(n))
#  define rtm_vg_undefined(p, n) ((void)(p), (void)(n))
#endif

#define rtm_track_alloc(p, n) do { rtm_asan_unpoison((p), (n)); rtm_vg_alloc((p), (n), 0); } while (0)
#define rtm_track_alloc_zero(p, n) do { rtm_asan_unpoison((p), (n)); rtm_vg_alloc((p), (n), 1); } while (0)
#define rtm_track_free(p, n) do { rtm_vg_free(p); rtm_asan_poison((p), (n)); } while (0)
#define rtm_track_resize(p, o, n)                                                   \
    do {                                                                          \
        if ((n) < (o)) rtm_asan_poison((char *)(p) + (n), (o) - (n));             \
        rtm_asan_unpoison((p), (n));                                              \
        rtm_vg_resize((p), (o), (n));                                             \
    } while (0)
#define rtm_track_moved(o, p, os, ns) do { rtm_asan_unpoison((p), (ns)); rtm_vg_moved((o), (p), (os), (ns)); } while (0)
#define rtm_track_noaccess(p, n) do { rtm_asan_poison((p), (n)); rtm_vg_noaccess((p), (n)); } while (0)
#define rtm_track_undefined(p, n) do { rtm_asan_unpoison((p), (n)); rtm_vg_undefined((p), (n)); } while (0)
#define rtm_track_internal(p, n) do { rtm_asan_unpoison((p), (n)); rtm_vg_defined((p), (n)); } while (0)

#endif /* RTM_TRACK_H */
