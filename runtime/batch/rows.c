/*
 * rows.c: rows in and out of a batch. A C row is scattered into the columns
 * (push, set) or gathered back from them (get), and the bulk forms are
 * transposes done a block of rows at a time, so the block stays in the L1
 * cache while each column takes its values from it. Values are copied by
 * width (1, 2, 4, 8 or 16 bytes: every leaf kind), never the padding.
 */
#include "batch.h"
#include "simd.h"

#include <string.h>

/* Rows per block of a bulk transpose: about 4 KiB of C rows, so the block
 * and the slices of every column it meets stay in the L1 cache (8 and 16
 * KiB blocks measured slower in bench_batch). */
#define BLOCK_BYTES 4096

static size_t block_rows(const rtm_batch *b)
{
    size_t n = BLOCK_BYTES / b->row_size;
    return n < 16 ? 16 : n;
}

/* ---- copying values by width --------------------------------------------- */

RTM_INLINE void copy_value(char *dst, const char *src, size_t w)
{
    switch (w) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    case 16: memcpy(dst, src, 16); break;
    default: memcpy(dst, src, w); break;
    }
}

/* n values from C rows (src, every `stride` bytes) into a column (dst). The
 * constant widths let the compiler make each copy one load and one store. */
#define STRIDED(W, d_step, s_step)                                              \
    for (size_t i = 0; i < n; i++) memcpy(dst + i * (d_step), src + i * (s_step), W)

static void rows_to_column(char *dst, const char *src, size_t stride, size_t n, size_t w)
{
    switch (w) {
    case 1: for (size_t i = 0; i < n; i++) dst[i] = src[i * stride]; break;
    case 2: STRIDED(2, 2, stride); break;
    case 4: STRIDED(4, 4, stride); break;
    case 8: STRIDED(8, 8, stride); break;
    case 16: STRIDED(16, 16, stride); break;
    default: STRIDED(w, w, stride); break;
    }
}

static void column_to_rows(char *dst, size_t stride, const char *src, size_t n, size_t w)
{
    switch (w) {
    case 1: for (size_t i = 0; i < n; i++) dst[i * stride] = src[i]; break;
    case 2: STRIDED(2, stride, 2); break;
    case 4: STRIDED(4, stride, 4); break;
    case 8: STRIDED(8, stride, 8); break;
    case 16: STRIDED(16, stride, 16); break;
    default: STRIDED(w, stride, w); break;
    }
}

static void zero_gaps(const rtm_batch *b, char *rows, size_t n)
{
    for (size_t g = 0; g < b->ngaps; g++) {
        const rtm_gap gap = b->gaps[g];
        for (size_t i = 0; i < n; i++) memset(rows + i * b->row_size + gap.off, 0, gap.len);
    }
}

/* One C row into row i of the columns, and back. */
static void scatter_row(rtm_batch *b, size_t i, const char *row)
{
    for (uint32_t k = 0; k < b->ncols; k++) {
        rtm_bcol *c = &b->cols[k];
        copy_value(c->base + i * c->width, row + c->row_off, c->width);
    }
}

static void gather_row(const rtm_batch *b, size_t i, char *row)
{
    zero_gaps(b, row, 1);
    for (uint32_t k = 0; k < b->ncols; k++) {
        const rtm_bcol *c = &b->cols[k];
        copy_value(row + c->row_off, c->base + i * c->width, c->width);
    }
}

/* ---- one row ------------------------------------------------------------- */

rtm_status rtm_batch_push(rtm_batch *b, const void *row)
{
    static const char where[] = "rtm_batch_push";
    if (!rtm_batch_ok(b)) return RTM_EINVAL;
    if (row == NULL) return _rtm_fail(b->owned.ctx, RTM_EINVAL, where);
    rtm_status s = rtm_batch_room(b, 1, where);
    if (RTM_UNLIKELY(s != RTM_OK)) return s;
    size_t len = rtm_batch_rows(b);
    scatter_row(b, len, row);
    rtm_counter_set(&b->len, len + 1);
    return RTM_OK;
}

rtm_status rtm_batch_get(const rtm_batch *b, size_t i, void *row)
{
    if (!rtm_batch_ok(b)) return RTM_EINVAL;
    if (i >= rtm_batch_rows(b) || row == NULL)
        return _rtm_fail(b->owned.ctx, RTM_EINVAL, "rtm_batch_get");
    gather_row(b, i, row);
    return RTM_OK;
}

rtm_status rtm_batch_set(rtm_batch *b, size_t i, const void *row)
{
    if (!rtm_batch_ok(b)) return RTM_EINVAL;
    if (i >= rtm_batch_rows(b) || row == NULL)
        return _rtm_fail(b->owned.ctx, RTM_EINVAL, "rtm_batch_set");
    scatter_row(b, i, row);
    return RTM_OK;
}

/* ---- bulk transposes ----------------------------------------------------- */

rtm_status rtm_batch_push_n(rtm_batch *b, const void *rows, size_t n)
{
    static const char where[] = "rtm_batch_push_n";
    if (!rtm_batch_ok(b)) return RTM_EINVAL;
    if (n == 0) return RTM_OK;
    size_t bytes;
    if (rows == NULL || rtm_mul_overflow(n, b->row_size, &bytes))
        return _rtm_fail(b->owned.ctx, RTM_EINVAL, where);
    rtm_status s = rtm_batch_room(b, n, where);
    if (s != RTM_OK) return s;
    size_t len = rtm_batch_rows(b), step = block_rows(b);
    const char *src = rows;
    for (size_t first = 0; first < n; first += step) {
        size_t m = n - first < step ? n - first : step;
        const char *block = src + first * b->row_size;
        for (uint32_t k = 0; k < b->ncols; k++) {
            rtm_bcol *c = &b->cols[k];
            rows_to_column(c->base + (len + first) * c->width, block + c->row_off, b->row_size, m,
                           c->width);
        }
    }
    rtm_counter_set(&b->len, len + n);
    return RTM_OK;
}

rtm_status rtm_batch_get_n(const rtm_batch *b, size_t first, size_t n, void *rows)
{
    if (!rtm_batch_ok(b)) return RTM_EINVAL;
    size_t end;
    if (n == 0) return RTM_OK;
    if (rows == NULL || rtm_add_overflow(first, n, &end) || end > rtm_batch_rows(b))
        return _rtm_fail(b->owned.ctx, RTM_EINVAL, "rtm_batch_get_n");
    size_t step = block_rows(b);
    char *dst = rows;
    for (size_t done = 0; done < n; done += step) {
        size_t m = n - done < step ? n - done : step;
        char *block = dst + done * b->row_size;
        zero_gaps(b, block, m);
        for (uint32_t k = 0; k < b->ncols; k++) {
            const rtm_bcol *c = &b->cols[k];
            column_to_rows(block + c->row_off, b->row_size, c->base + (first + done) * c->width, m,
                           c->width);
        }
    }
    return RTM_OK;
}

/* ---- gather -------------------------------------------------------------- */

rtm_status rtm_batch_gather(rtm_batch *dst, const rtm_batch *src, const uint32_t *idx, size_t n)
{
    static const char where[] = "rtm_batch_gather";
    if (!rtm_batch_ok(dst)) return RTM_EINVAL;
    rtm_ctx *ctx = dst->owned.ctx;
    if (!rtm_batch_ok(src)) return _rtm_fail(ctx, RTM_EINVAL, where);
    if (src->owned.ctx != ctx) return _rtm_fail(ctx, RTM_EFOREIGN, where);
    if (src->layout != dst->layout) return _rtm_fail(ctx, RTM_ETYPE, where);
    if (n == 0) return RTM_OK;
    if (idx == NULL) return _rtm_fail(ctx, RTM_EINVAL, where);
    const rtm_kernels *kern = _rtm_kernels();
    size_t src_len = rtm_batch_rows(src);
    if ((size_t)kern->max_index(idx, n) >= src_len) return _rtm_fail(ctx, RTM_EINVAL, where);
    if (src_len > ((size_t)1 << 31)) kern = &_rtm_kernels_scalar; /* signed vector indices */
    rtm_status s = rtm_batch_room(dst, n, where); /* may move src's columns if src is dst */
    if (s != RTM_OK) return s;
    size_t len = rtm_batch_rows(dst);
    for (uint32_t k = 0; k < dst->ncols; k++) {
        const rtm_bcol *from = &src->cols[k];
        char *to = dst->cols[k].base + len * from->width;
        switch (from->width) {
        case 4: kern->gather_32((const uint32_t *)(const void *)from->base, idx, n, (uint32_t *)(void *)to); break;
        case 8: kern->gather_64((const uint64_t *)(const void *)from->base, idx, n, (uint64_t *)(void *)to); break;
        default:
            for (size_t i = 0; i < n; i++)
                copy_value(to + i * from->width, from->base + (size_t)idx[i] * from->width,
                           from->width);
            break;
        }
    }
    rtm_counter_set(&dst->len, len + n);
    return RTM_OK;
}
