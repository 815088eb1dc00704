/*
 * batch.h: the inside of a batch, shared by batch.c (the object, its
 * columns and growth) and rows.c (rows in and out, gather).
 *
 * A batch is two ranges of context pages. The header range holds this
 * struct, the column table, the row's padding gaps and the column names; it
 * never moves, so the rtm_batch pointer is stable. The data range holds the
 * columns one after the other, column k at a fixed multiple of the capacity:
 *
 *   data: | col 0: cap * w0, padded | col 1: cap * w1, padded | ...
 *
 * each padded to a multiple of the batch's unit (max(align, RTM_BATCH_PAD)),
 * so every base is aligned and a vector may overrun the last row.
 */
#ifndef RTM_BATCH_H
#define RTM_BATCH_H

#include "../mem/internal.h"

#define RTM_BATCH_MAGIC 0x42415443u /* "BATC" */

typedef struct rtm_bcol {
    char *base;        /* the column in the data range; moves on growth */
    size_t width;      /* bytes per value */
    size_t row_off;    /* offset of the value in a C row */
    rtm_kind kind;
    const char *name;  /* in the header range */
} rtm_bcol;

/* Bytes of a C row that no value covers: zeroed when rows are written out. */
typedef struct rtm_gap {
    size_t off, len;
} rtm_gap;

struct rtm_batch {
    rtm_owned owned;          /* in the context's list, RTM_ORDER_BATCH */
    uint32_t magic;           /* RTM_BATCH_MAGIC */
    uint32_t ncols;
    const rtm_layout *layout;
    size_t row_size;          /* rtm_layout_size: the stride of C rows */
    size_t row_bytes;         /* sum of the column widths */
    size_t unit;              /* column alignment and padding */
    size_t header_bytes;      /* pages of the header range */
    rtm_counter len;          /* rows (read by stats from any thread) */
    size_t cap;               /* rows every column has room for */
    char *data;               /* the data range */
    rtm_counter data_bytes;   /* its size, page-rounded */
    size_t ngaps;
    rtm_gap *gaps;            /* in the header range */
    rtm_bcol cols[];          /* ncols of them */
};

RTM_INLINE bool rtm_batch_ok(const rtm_batch *b)
{
    return b != NULL && b->magic == RTM_BATCH_MAGIC;
}

RTM_INLINE size_t rtm_batch_rows(const rtm_batch *b) { return (size_t)rtm_counter_get(&b->len); }

/* Grows the room to at least `rows` (geometrically), keeping every row.
 * Records nothing: returns why it failed, and the batch is unchanged. */
rtm_status _rtm_batch_grow(rtm_batch *b, size_t rows) RTM_COLD;

/* Makes room for `more` rows after the last, recording a failure under
 * `where`. The common case is one compare. */
RTM_INLINE rtm_status rtm_batch_room(rtm_batch *b, size_t more, const char *where)
{
    size_t len = rtm_batch_rows(b), need;
    if (RTM_LIKELY(b->cap - len >= more)) return RTM_OK;
    rtm_status s = rtm_add_overflow(len, more, &need) ? RTM_EINVAL : _rtm_batch_grow(b, need);
    return s == RTM_OK ? s : _rtm_fail(b->owned.ctx, s, where);
}

#endif /* RTM_BATCH_H */
