/*
 * batch.c: the batch object. Flattening a layout into columns, the two page
 * ranges (header and data), geometric growth that keeps every column
 * aligned, column access, and the hooks the context calls (destroy, check,
 * stats). Rows in and out are in rows.c.
 */
#include "batch.h"
#include "../mem/layout.h"

#include <string.h>

/* Rows a new batch has room for, at least (more if its pages allow). */
#define FIRST_ROWS 64

/* ---- flattening a layout into columns ------------------------------------ */

/* Leaves of a layout, saturating just past the limit so that absurd arrays
 * cost nothing to refuse. Each record has at least one field, so the
 * recursion makes at most as many calls as it counts leaves, times depth. */
static size_t count_leaves(const rtm_layout *l)
{
    size_t total = 0;
    for (size_t i = 0; i < l->nfields; i++) {
        const rtm_lfield *f = &l->fields[i];
        size_t per = f->kind == RTM_KIND_RECORD ? count_leaves(f->layout) : 1, n;
        if (rtm_mul_overflow(f->count, per, &n) || rtm_add_overflow(total, n, &total) ||
            total > RTM_BATCH_MAX_COLUMNS)
            return RTM_BATCH_MAX_COLUMNS + 1;
    }
    return total;
}

/* A column's name is the path of its leaf: one segment per level, joined
 * with '.', each "name" or "name[i]". Segments live on the walk's stack. */
typedef struct segment {
    const rtm_lfield *field;
    size_t index;                /* element of an array field */
    const struct segment *parent;
} segment;

static size_t digits(size_t v)
{
    size_t d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/* Writes the path (if out is not NULL) and returns its length, without NUL. */
static size_t path_write(const segment *s, char *out)
{
    size_t n = 0;
    if (s->parent != NULL) {
        n = path_write(s->parent, out);
        if (out) out[n] = '.';
        n++;
    }
    if (out) memcpy(out + n, s->field->name, s->field->name_len);
    n += s->field->name_len;
    if (s->field->count > 1) {
        size_t d = digits(s->index), v = s->index;
        if (out) {
            out[n] = '[';
            for (size_t k = d; k > 0; k--, v /= 10) out[n + k] = (char)('0' + v % 10);
            out[n + d + 1] = ']';
        }
        n += d + 2;
    }
    return n;
}

/* The walk: pass 1 (b NULL) adds up the name bytes; pass 2 fills columns. */
typedef struct walk {
    rtm_batch *b;
    size_t col;
    size_t name_bytes;
    char *names;
} walk;

static void walk_layout(walk *w, const rtm_layout *l, size_t base, const segment *parent)
{
    for (size_t i = 0; i < l->nfields; i++) {
        const rtm_lfield *f = &l->fields[i];
        for (size_t e = 0; e < f->count; e++) {
            segment seg = {f, e, parent};
            size_t off = base + f->offset + e * f->elem_size;
            if (f->kind == RTM_KIND_RECORD) {
                walk_layout(w, f->layout, off, &seg);
                continue;
            }
            size_t len = path_write(&seg, NULL);
            if (w->b != NULL) {
                rtm_bcol *c = &w->b->cols[w->col];
                c->width = f->elem_size;
                c->row_off = off;
                c->kind = f->kind;
                c->name = w->names;
                path_write(&seg, w->names);
                w->names[len] = '\0';
                w->names += len + 1;
            }
            w->name_bytes += len + 1;
            w->col++;
        }
    }
}

/* Columns come in row order, so the gaps are the holes between them. */
static void find_gaps(rtm_batch *b)
{
    size_t end = 0;
    b->ngaps = 0;
    for (uint32_t k = 0; k < b->ncols; k++) {
        const rtm_bcol *c = &b->cols[k];
        if (c->row_off > end) b->gaps[b->ngaps++] = (rtm_gap){end, c->row_off - end};
        if (c->row_off + c->width > end) end = c->row_off + c->width;
    }
    if (b->row_size > end) b->gaps[b->ngaps++] = (rtm_gap){end, b->row_size - end};
}

/* ---- the data range ------------------------------------------------------ */

/* Bytes of one column's room for cap rows, padded. false: past RTM_MAX_ALLOC. */
static bool column_room(const rtm_batch *b, size_t k, size_t cap, size_t *out)
{
    size_t bytes;
    if (rtm_mul_overflow(cap, b->cols[k].width, &bytes) || bytes > RTM_MAX_ALLOC) return false;
    *out = rtm_align_up(bytes, b->unit);
    return true;
}

/* The same for a capacity data_size has accepted: cannot overflow. */
static size_t room_of(const rtm_batch *b, size_t k, size_t cap)
{
    return rtm_align_up(cap * b->cols[k].width, b->unit);
}

static bool data_size(const rtm_batch *b, size_t cap, size_t *out)
{
    size_t total = 0, room;
    for (uint32_t k = 0; k < b->ncols; k++)
        if (!column_room(b, k, cap, &room) || rtm_add_overflow(total, room, &total) ||
            total > RTM_MAX_ALLOC)
            return false;
    *out = total;
    return true;
}

/* Points the columns at their places in data for cap rows. */
static void place_columns(rtm_batch *b, char *data, size_t cap)
{
    size_t off = 0;
    for (uint32_t k = 0; k < b->ncols; k++) {
        b->cols[k].base = data + off;
        off += room_of(b, k, cap);
    }
}

rtm_status _rtm_batch_grow(rtm_batch *b, size_t rows)
{
    rtm_ctx *ctx = b->owned.ctx;
    size_t cap = b->cap > SIZE_MAX / 2 ? rows : b->cap * 2, bytes;
    if (cap < rows) cap = rows;
    if (cap < FIRST_ROWS) cap = FIRST_ROWS;
    if (!data_size(b, cap, &bytes)) { /* doubling overshot: exactly what was asked */
        cap = rows;
        if (!data_size(b, cap, &bytes)) return RTM_EINVAL;
    }
    bytes = _rtm_pages_round(bytes);
    /* Use all the pages: the padding is at most one unit per column. */
    size_t spare = (size_t)b->ncols * b->unit;
    if (bytes > spare && (bytes - spare) / b->row_bytes > cap) cap = (bytes - spare) / b->row_bytes;

    size_t len = rtm_batch_rows(b), old_bytes = (size_t)rtm_counter_get(&b->data_bytes);
    char *old = b->data, *data = NULL;
    rtm_status why = RTM_OK;
    if (old != NULL) {
        uintptr_t old_base = (uintptr_t)old;
        data = _rtm_pages_remap(ctx, old, old_bytes, bytes, RTM_OS_PAGE, &why);
        if (data != NULL) {
            /* The range grew (and maybe moved, pages and all); slide the
             * columns up to their new places, last first, so none is
             * overwritten before it has moved. */
            size_t end;
            data_size(b, cap, &end); /* where the last column's room ends */
            for (uint32_t k = b->ncols; k-- > 0;) {
                end -= room_of(b, k, cap);
                size_t from = (size_t)((uintptr_t)b->cols[k].base - old_base);
                if (from != end && len) memmove(data + end, data + from, len * b->cols[k].width);
            }
        } else if (why != RTM_EINVAL) {
            return why; /* the limit or the source said no */
        }
    }
    if (data == NULL) { /* first range, or a source without remap: copy */
        data = _rtm_pages_alloc(ctx, bytes, RTM_OS_PAGE, RTM_PAGES_MAY_COLLECT, &why);
        if (data == NULL) return why;
        if (old != NULL) {
            size_t off = 0;
            for (uint32_t k = 0; k < b->ncols; k++) {
                if (len) memcpy(data + off, b->cols[k].base, len * b->cols[k].width);
                off += room_of(b, k, cap);
            }
            _rtm_pages_free(ctx, old, old_bytes);
        }
    }
    place_columns(b, data, cap);
    b->data = data;
    b->cap = cap;
    rtm_counter_set(&b->data_bytes, bytes);
    return RTM_OK;
}

/* ---- the context's hooks ------------------------------------------------- */

static void batch_end(rtm_owned *o)
{
    rtm_batch *b = (rtm_batch *)o;
    rtm_ctx *ctx = o->ctx;
    _rtm_owned_unlink(o);
    _rtm_pages_free(ctx, b->data, (size_t)rtm_counter_get(&b->data_bytes));
    b->magic = 0;
    _rtm_pages_free(ctx, b, b->header_bytes);
}

static rtm_status batch_check(rtm_owned *o)
{
    const rtm_batch *b = (const rtm_batch *)o;
    size_t bytes, off = 0;
    if (b->magic != RTM_BATCH_MAGIC || b->data == NULL || rtm_batch_rows(b) > b->cap)
        return RTM_EINVAL;
    if (!data_size(b, b->cap, &bytes) || bytes > rtm_counter_get(&b->data_bytes))
        return RTM_EINVAL;
    for (uint32_t k = 0; k < b->ncols; k++) {
        const rtm_bcol *c = &b->cols[k];
        if (c->base != b->data + off || ((uintptr_t)c->base & (b->unit - 1)) != 0 ||
            c->row_off + c->width > b->row_size)
            return RTM_EINVAL;
        off += room_of(b, k, b->cap);
    }
    return RTM_OK;
}

static void batch_stats(const rtm_owned *o, rtm_stats *out)
{
    const rtm_batch *b = (const rtm_batch *)o;
    uint64_t rows = rtm_counter_get(&b->len);
    out->batches_live++;
    out->batch_rows += rows;
    out->batch_bytes += b->header_bytes + rtm_counter_get(&b->data_bytes);
    out->bytes_in_use += rows * b->row_bytes;
}

static const rtm_owned_ops batch_ops = {
    "batch", RTM_ORDER_BATCH, batch_end, batch_check, NULL, batch_stats, NULL,
};

/* ---- making and ending --------------------------------------------------- */

rtm_batch *rtm_batch_new_aligned(rtm_ctx *ctx, const rtm_layout *row, size_t align)
{
    static const char where[] = "rtm_batch_new";
    if (ctx == NULL) return NULL;
    if (!_rtm_layout_valid(row) || !rtm_is_pow2(align) || align < RTM_SIMD_ALIGN ||
        align > RTM_OS_PAGE)
        return _rtm_fail_null(ctx, RTM_EINVAL, where);
    if (_rtm_layout_ctx(row) != ctx) return _rtm_fail_null(ctx, RTM_EFOREIGN, where);
    size_t ncols = count_leaves(row);
    if (ncols > RTM_BATCH_MAX_COLUMNS) return _rtm_fail_null(ctx, RTM_EINVAL, where);

    walk dry = {NULL, 0, 0, NULL};
    walk_layout(&dry, row, 0, NULL);
    size_t cols_end = sizeof(rtm_batch) + ncols * sizeof(rtm_bcol);
    size_t gaps_end = cols_end + (ncols + 1) * sizeof(rtm_gap);
    size_t header = _rtm_pages_round(gaps_end + dry.name_bytes);
    rtm_status why;
    rtm_batch *b = _rtm_pages_alloc(ctx, header, RTM_OS_PAGE, RTM_PAGES_MAY_COLLECT, &why);
    if (b == NULL) return _rtm_fail_null(ctx, why, where);

    memset(b, 0, sizeof *b);
    b->owned.ctx = ctx; /* linked once complete */
    b->magic = RTM_BATCH_MAGIC;
    b->ncols = (uint32_t)ncols;
    b->layout = row;
    b->row_size = row->size;
    b->unit = align > RTM_BATCH_PAD ? align : RTM_BATCH_PAD;
    b->header_bytes = header;
    b->gaps = (rtm_gap *)((char *)b + cols_end);
    walk fill = {b, 0, 0, (char *)b + gaps_end};
    walk_layout(&fill, row, 0, NULL);
    for (uint32_t k = 0; k < b->ncols; k++) b->row_bytes += b->cols[k].width;
    find_gaps(b);

    if ((why = _rtm_batch_grow(b, FIRST_ROWS)) != RTM_OK) {
        _rtm_pages_free(ctx, b, header);
        return _rtm_fail_null(ctx, why, where);
    }
    _rtm_owned_link(ctx, &b->owned, &batch_ops);
    return b;
}

rtm_batch *rtm_batch_new(rtm_ctx *ctx, const rtm_layout *row)
{
    return rtm_batch_new_aligned(ctx, row, RTM_SIMD_ALIGN);
}

void rtm_batch_destroy(rtm_batch *b)
{
    if (rtm_batch_ok(b)) batch_end(&b->owned);
}

/* ---- size and room ------------------------------------------------------- */

size_t rtm_batch_len(const rtm_batch *b) { return rtm_batch_ok(b) ? rtm_batch_rows(b) : 0; }
size_t rtm_batch_cap(const rtm_batch *b) { return rtm_batch_ok(b) ? b->cap : 0; }
const rtm_layout *rtm_batch_layout(const rtm_batch *b) { return rtm_batch_ok(b) ? b->layout : NULL; }
size_t rtm_batch_columns(const rtm_batch *b) { return rtm_batch_ok(b) ? b->ncols : 0; }

rtm_status rtm_batch_reserve(rtm_batch *b, size_t rows)
{
    if (!rtm_batch_ok(b)) return RTM_EINVAL;
    if (rows <= b->cap) return RTM_OK;
    rtm_status s = _rtm_batch_grow(b, rows);
    return s == RTM_OK ? s : _rtm_fail(b->owned.ctx, s, "rtm_batch_reserve");
}

void rtm_batch_clear(rtm_batch *b)
{
    if (rtm_batch_ok(b)) rtm_counter_set(&b->len, 0);
}

/* ---- columns ------------------------------------------------------------- */

rtm_status rtm_batch_column_info(const rtm_batch *b, size_t col, rtm_column_info *out)
{
    if (!rtm_batch_ok(b)) return RTM_EINVAL;
    if (col >= b->ncols || out == NULL)
        return _rtm_fail(b->owned.ctx, RTM_EINVAL, "rtm_batch_column_info");
    const rtm_bcol *c = &b->cols[col];
    *out = (rtm_column_info){c->name, c->kind, c->width, c->row_off};
    return RTM_OK;
}

void *rtm_batch_column(rtm_batch *b, size_t col)
{
    if (!rtm_batch_ok(b)) return NULL;
    if (col >= b->ncols) return _rtm_fail_null(b->owned.ctx, RTM_EINVAL, "rtm_batch_column");
    return b->cols[col].base;
}

void *rtm_batch_column_as(rtm_batch *b, size_t col, rtm_kind kind)
{
    static const char where[] = "rtm_batch_column_as";
    if (!rtm_batch_ok(b)) return NULL;
    if (col >= b->ncols) return _rtm_fail_null(b->owned.ctx, RTM_EINVAL, where);
    if (b->cols[col].kind != kind) return _rtm_fail_null(b->owned.ctx, RTM_ETYPE, where);
    return b->cols[col].base;
}

static long find_column(const rtm_batch *b, const char *name)
{
    if (name != NULL)
        for (uint32_t k = 0; k < b->ncols; k++)
            if (strcmp(b->cols[k].name, name) == 0) return (long)k;
    return -1;
}

long rtm_batch_column_index(const rtm_batch *b, const char *name)
{
    if (!rtm_batch_ok(b)) return -1;
    long k = find_column(b, name);
    if (k < 0) _rtm_fail(b->owned.ctx, RTM_EINVAL, "rtm_batch_column_index");
    return k;
}

void *rtm_batch_column_by_name(rtm_batch *b, const char *name)
{
    if (!rtm_batch_ok(b)) return NULL;
    long k = find_column(b, name);
    if (k < 0) return _rtm_fail_null(b->owned.ctx, RTM_EINVAL, "rtm_batch_column_by_name");
    return b->cols[k].base;
}
