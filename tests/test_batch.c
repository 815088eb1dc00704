/* test_batch.c: batches over layouts. Every layout kind as a column (arrays
 * and nested records flattened), names and offsets, alignment of every
 * column after every growth, row and bulk transposes round-tripping exactly
 * with padding never stored and always zero on the way out, kernels and
 * gather over columns, stats, bad input with exact statuses, the limit, and
 * faults injected at every page request (with and without remap). */
#include "support.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* ---- a record with every kind --------------------------------------------- */

typedef struct inner {
    int16_t a; /* 6 bytes of padding follow */
    double b;
    uint8_t c; /* 7 at the end */
} inner;

typedef struct all_kinds {
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    float f32;
    double f64;
    void *ptr;
    rtm_sym sym;
    rtm_handle handle;
    bool flag;
    rtm_str str;
    inner rec;
    float arr[3];
    inner pts[2];
} all_kinds;

#define ALL_KINDS_COLUMNS 27 /* 15 values, rec: 3, arr: 3, pts: 2 x 3 */

static const rtm_layout *inner_layout(rtm_ctx *ctx)
{
    const rtm_field f[] = {
        {"a", RTM_KIND_I16, 0, NULL}, {"b", RTM_KIND_F64, 0, NULL}, {"c", RTM_KIND_U8, 0, NULL}};
    return rtm_layout_new(ctx, "inner", f, 3);
}

static const rtm_layout *all_kinds_layout(rtm_ctx *ctx)
{
    const rtm_layout *in = inner_layout(ctx);
    if (in == NULL) return NULL;
    const rtm_field f[] = {
        {"i8", RTM_KIND_I8, 0, NULL},      {"i16", RTM_KIND_I16, 0, NULL},
        {"i32", RTM_KIND_I32, 0, NULL},    {"i64", RTM_KIND_I64, 0, NULL},
        {"u8", RTM_KIND_U8, 0, NULL},      {"u16", RTM_KIND_U16, 0, NULL},
        {"u32", RTM_KIND_U32, 0, NULL},    {"u64", RTM_KIND_U64, 0, NULL},
        {"f32", RTM_KIND_F32, 0, NULL},    {"f64", RTM_KIND_F64, 0, NULL},
        {"ptr", RTM_KIND_PTR, 0, NULL},    {"sym", RTM_KIND_SYM, 0, NULL},
        {"handle", RTM_KIND_HANDLE, 0, NULL}, {"flag", RTM_KIND_BOOL, 0, NULL},
        {"str", RTM_KIND_STR, 0, NULL},    {"rec", RTM_KIND_RECORD, 0, in},
        {"arr", RTM_KIND_F32, 3, NULL},    {"pts", RTM_KIND_RECORD, 2, in},
    };
    return rtm_layout_new(ctx, "all_kinds", f, sizeof f / sizeof f[0]);
}

static const char text[] = "sources/paths/results of a transpiler batch";

/* Row `seed`, its padding bytes set to `pad` (0 for what a read gives back). */
static void fill_row(all_kinds *r, uint64_t seed, int pad)
{
    memset(r, pad, sizeof *r);
    uint64_t st = seed * 2654435761u + 1;
    r->i8 = (int8_t)rtm_test_rand(&st);
    r->i16 = (int16_t)rtm_test_rand(&st);
    r->i32 = (int32_t)rtm_test_rand(&st);
    r->i64 = (int64_t)rtm_test_rand(&st);
    r->u8 = (uint8_t)rtm_test_rand(&st);
    r->u16 = (uint16_t)rtm_test_rand(&st);
    r->u32 = (uint32_t)rtm_test_rand(&st);
    r->u64 = rtm_test_rand(&st);
    r->f32 = (float)(rtm_test_rand(&st) % 1000) / 8.0f;
    r->f64 = (double)seed * 0.5;
    r->ptr = (void *)(uintptr_t)rtm_test_rand(&st);
    r->sym = (rtm_sym)(seed % 100 + 1);
    r->handle.bits = rtm_test_rand(&st);
    r->flag = seed % 3 == 0;
    r->str.ptr = text + seed % 10;
    r->str.len = seed % 20;
    r->rec.a = (int16_t)seed;
    r->rec.b = -(double)seed;
    r->rec.c = (uint8_t)(seed * 7);
    for (int j = 0; j < 3; j++) r->arr[j] = (float)seed + (float)j;
    for (int j = 0; j < 2; j++) {
        r->pts[j].a = (int16_t)(seed + (uint64_t)j);
        r->pts[j].b = (double)seed * (j + 2);
        r->pts[j].c = (uint8_t)(seed ^ (uint64_t)j);
    }
}

/* Row i of b is row `seed`, byte for byte, padding zero. */
static void expect_row(const rtm_batch *b, size_t i, uint64_t seed)
{
    all_kinds got, want;
    memset(&got, 0xAA, sizeof got);
    ck_assert_int_eq(rtm_batch_get(b, i, &got), RTM_OK);
    fill_row(&want, seed, 0);
    if (memcmp(&got, &want, sizeof got) != 0) ck_abort_msg("row %zu differs from row seed %llu", i, (unsigned long long)seed);
}

static rtm_ctx *new_ctx(void)
{
    rtm_ctx *ctx = rtm_ctx_new(NULL);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

static void end_ctx(rtm_ctx *ctx)
{
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
}

/* Every column aligned to `align` and each padded room a multiple of it. */
static void check_alignment(rtm_batch *b, size_t align)
{
    for (size_t k = 0; k < rtm_batch_columns(b); k++) {
        uintptr_t p = (uintptr_t)rtm_batch_column(b, k);
        ck_assert_msg(p % align == 0 && p % RTM_BATCH_PAD == 0,
                      "column %zu at %p, not aligned to %zu", k, (void *)p, align);
    }
}

/* ---- columns: kinds, names, offsets -------------------------------------- */

START_TEST(every_kind_is_a_column)
{
    rtm_ctx *ctx = new_ctx();
    const rtm_layout *l = all_kinds_layout(ctx);
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(rtm_layout_size(l), sizeof(all_kinds));
    rtm_batch *b = rtm_batch_new(ctx, l);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_eq(rtm_batch_layout(b), l);
    ck_assert_uint_eq(rtm_batch_columns(b), ALL_KINDS_COLUMNS);
    static const struct {
        const char *name;
        rtm_kind kind;
        size_t width, offset;
    } want[ALL_KINDS_COLUMNS] = {
        {"i8", RTM_KIND_I8, 1, offsetof(all_kinds, i8)},
        {"i16", RTM_KIND_I16, 2, offsetof(all_kinds, i16)},
        {"i32", RTM_KIND_I32, 4, offsetof(all_kinds, i32)},
        {"i64", RTM_KIND_I64, 8, offsetof(all_kinds, i64)},
        {"u8", RTM_KIND_U8, 1, offsetof(all_kinds, u8)},
        {"u16", RTM_KIND_U16, 2, offsetof(all_kinds, u16)},
        {"u32", RTM_KIND_U32, 4, offsetof(all_kinds, u32)},
        {"u64", RTM_KIND_U64, 8, offsetof(all_kinds, u64)},
        {"f32", RTM_KIND_F32, 4, offsetof(all_kinds, f32)},
        {"f64", RTM_KIND_F64, 8, offsetof(all_kinds, f64)},
        {"ptr", RTM_KIND_PTR, sizeof(void *), offsetof(all_kinds, ptr)},
        {"sym", RTM_KIND_SYM, 4, offsetof(all_kinds, sym)},
        {"handle", RTM_KIND_HANDLE, 8, offsetof(all_kinds, handle)},
        {"flag", RTM_KIND_BOOL, sizeof(bool), offsetof(all_kinds, flag)},
        {"str", RTM_KIND_STR, sizeof(rtm_str), offsetof(all_kinds, str)},
        {"rec.a", RTM_KIND_I16, 2, offsetof(all_kinds, rec.a)},
        {"rec.b", RTM_KIND_F64, 8, offsetof(all_kinds, rec.b)},
        {"rec.c", RTM_KIND_U8, 1, offsetof(all_kinds, rec.c)},
        {"arr[0]", RTM_KIND_F32, 4, offsetof(all_kinds, arr[0])},
        {"arr[1]", RTM_KIND_F32, 4, offsetof(all_kinds, arr[1])},
        {"arr[2]", RTM_KIND_F32, 4, offsetof(all_kinds, arr[2])},
        {"pts[0].a", RTM_KIND_I16, 2, offsetof(all_kinds, pts[0].a)},
        {"pts[0].b", RTM_KIND_F64, 8, offsetof(all_kinds, pts[0].b)},
        {"pts[0].c", RTM_KIND_U8, 1, offsetof(all_kinds, pts[0].c)},
        {"pts[1].a", RTM_KIND_I16, 2, offsetof(all_kinds, pts[1].a)},
        {"pts[1].b", RTM_KIND_F64, 8, offsetof(all_kinds, pts[1].b)},
        {"pts[1].c", RTM_KIND_U8, 1, offsetof(all_kinds, pts[1].c)},
    };
    for (size_t k = 0; k < ALL_KINDS_COLUMNS; k++) {
        rtm_column_info info;
        ck_assert_int_eq(rtm_batch_column_info(b, k, &info), RTM_OK);
        ck_assert_str_eq(info.name, want[k].name);
        ck_assert_int_eq(info.kind, want[k].kind);
        ck_assert_uint_eq(info.width, want[k].width);
        ck_assert_uint_eq(info.offset, want[k].offset);
        ck_assert_int_eq(rtm_batch_column_index(b, want[k].name), (long)k);
        ck_assert_ptr_eq(rtm_batch_column_by_name(b, want[k].name), rtm_batch_column(b, k));
        ck_assert_ptr_eq(rtm_batch_column_as(b, k, want[k].kind), rtm_batch_column(b, k));
    }
    /* values land in their columns, typed */
    size_t n = 100;
    for (size_t i = 0; i < n; i++) {
        all_kinds r;
        fill_row(&r, i, 0xCD);
        ck_assert_int_eq(rtm_batch_push(b, &r), RTM_OK);
    }
    ck_assert_uint_eq(rtm_batch_len(b), n);
    const double *f64 = rtm_batch_column_as(b, 9, RTM_KIND_F64);
    const rtm_sym *sym = rtm_batch_column_as(b, 11, RTM_KIND_SYM);
    const rtm_str *str = rtm_batch_column_as(b, 14, RTM_KIND_STR);
    const bool *flag = rtm_batch_column_as(b, 13, RTM_KIND_BOOL);
    const double *ptsb = rtm_batch_column_by_name(b, "pts[1].b");
    for (size_t i = 0; i < n; i++) {
        all_kinds r;
        fill_row(&r, i, 0);
        ck_assert(f64[i] == r.f64);
        ck_assert_uint_eq(sym[i], r.sym);
        ck_assert_ptr_eq(str[i].ptr, r.str.ptr); /* the slice, not a copy of the string */
        ck_assert_uint_eq(str[i].len, r.str.len);
        ck_assert_int_eq(flag[i], r.flag);
        ck_assert(ptsb[i] == r.pts[1].b);
        expect_row(b, i, i);
    }
    /* a symbol column selects with the integer compare (ids are bit patterns) */
    uint64_t bits[RTM_SEL_WORDS(100)];
    ck_assert_int_eq(rtm_col_cmp_i32((const int32_t *)(const void *)sym, n, RTM_CMP_EQ, 5, bits), RTM_OK);
    ck_assert_uint_eq(rtm_sel_count(bits, n), 1); /* seed 4 */
    rtm_batch_destroy(b);
    end_ctx(ctx);
}
END_TEST

/* ---- growth and alignment ------------------------------------------------- */

static void grow_and_check(size_t align, bool bulk)
{
    rtm_ctx *ctx = new_ctx();
    const rtm_layout *l = all_kinds_layout(ctx);
    rtm_batch *b = align ? rtm_batch_new_aligned(ctx, l, align) : rtm_batch_new(ctx, l);
    ck_assert_ptr_nonnull(b);
    if (!align) align = RTM_SIMD_ALIGN;
    check_alignment(b, align);
    size_t n = rtm_test_small() ? 3000 : 20000, growths = 0, cap = rtm_batch_cap(b);
    ck_assert_uint_ge(cap, 64);
    all_kinds rows[37];
    for (size_t i = 0; i < n;) {
        size_t m = bulk ? 37 : 1;
        for (size_t j = 0; j < m; j++) fill_row(&rows[j], i + j, 0x5A);
        ck_assert_int_eq(bulk ? rtm_batch_push_n(b, rows, m) : rtm_batch_push(b, rows), RTM_OK);
        i += m;
        ck_assert_uint_eq(rtm_batch_len(b), i);
        if (rtm_batch_cap(b) != cap) {
            ck_assert_uint_ge(rtm_batch_cap(b), 2 * cap); /* geometric */
            cap = rtm_batch_cap(b);
            growths++;
            check_alignment(b, align);
            ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
            for (size_t r = 0; r < i; r += 1 + r / 8) expect_row(b, r, r); /* all rows kept */
            expect_row(b, i - 1, i - 1);
        }
    }
    ck_assert_uint_ge(growths, 5);
    for (size_t r = 0; r < n; r++) expect_row(b, r, r);
    rtm_batch_destroy(b);
    end_ctx(ctx);
}

START_TEST(growth_keeps_rows_and_alignment) { grow_and_check(0, false); }
END_TEST
START_TEST(growth_bulk_aligned_64) { grow_and_check(64, true); }
END_TEST
START_TEST(growth_aligned_4096) { grow_and_check(4096, true); }
END_TEST

START_TEST(reserve_and_clear)
{
    rtm_ctx *ctx = new_ctx();
    rtm_batch *b = rtm_batch_new(ctx, all_kinds_layout(ctx));
    ck_assert_int_eq(rtm_batch_reserve(b, 10000), RTM_OK);
    ck_assert_uint_ge(rtm_batch_cap(b), 10000);
    size_t cap = rtm_batch_cap(b);
    void *col = rtm_batch_column(b, 3);
    all_kinds r;
    for (size_t i = 0; i < 10000; i++) {
        fill_row(&r, i, 0);
        ck_assert_int_eq(rtm_batch_push(b, &r), RTM_OK);
    }
    ck_assert_ptr_eq(rtm_batch_column(b, 3), col); /* no growth within the reserve */
    ck_assert_uint_eq(rtm_batch_cap(b), cap);
    ck_assert_int_eq(rtm_batch_reserve(b, 5), RTM_OK); /* smaller: nothing */
    ck_assert_uint_eq(rtm_batch_cap(b), cap);
    rtm_batch_clear(b);
    ck_assert_uint_eq(rtm_batch_len(b), 0);
    ck_assert_uint_eq(rtm_batch_cap(b), cap);
    fill_row(&r, 77, 0);
    ck_assert_int_eq(rtm_batch_push(b, &r), RTM_OK);
    expect_row(b, 0, 77);
    ck_assert_int_eq(rtm_batch_get(b, 1, &r), RTM_EINVAL); /* cleared rows are gone */
    rtm_batch_destroy(b);
    end_ctx(ctx);
}
END_TEST

/* ---- transposes ------------------------------------------------------------ */

START_TEST(bulk_transposes_round_trip)
{
    rtm_ctx *ctx = new_ctx();
    const rtm_layout *l = all_kinds_layout(ctx);
    rtm_batch *bulk = rtm_batch_new(ctx, l), *one = rtm_batch_new(ctx, l);
    size_t n = rtm_test_small() ? 2000 : 10007;
    all_kinds *in = malloc(n * sizeof *in), *out = malloc((n + 1) * sizeof *out);
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);
    uint64_t st = 42;
    for (size_t i = 0; i < n; i++) {
        /* padding full of garbage that must not reach a column */
        fill_row(&in[i], i, (int)(rtm_test_rand(&st) & 0xFF) | 1);
        ck_assert_int_eq(rtm_batch_push(one, &in[i]), RTM_OK);
    }
    ck_assert_int_eq(rtm_batch_push_n(bulk, in, n), RTM_OK);
    ck_assert_uint_eq(rtm_batch_len(bulk), n);
    /* the bulk columns are the row-by-row columns, value for value */
    for (size_t k = 0; k < rtm_batch_columns(bulk); k++) {
        rtm_column_info info;
        rtm_batch_column_info(bulk, k, &info);
        ck_assert_int_eq(memcmp(rtm_batch_column(bulk, k), rtm_batch_column(one, k), n * info.width), 0);
        const char *col = rtm_batch_column(bulk, k);
        for (size_t i = 0; i < n; i += 97)
            ck_assert_int_eq(memcmp(col + i * info.width, (const char *)&in[i] + info.offset, info.width), 0);
    }
    /* and back: every byte as the source, padding zero */
    memset(out, 0xEE, (n + 1) * sizeof *out);
    ck_assert_int_eq(rtm_batch_get_n(bulk, 0, n, out), RTM_OK);
    for (size_t i = 0; i < n; i++) {
        all_kinds want;
        fill_row(&want, i, 0);
        if (memcmp(&out[i], &want, sizeof want) != 0) ck_abort_msg("row %zu after get_n", i);
    }
    unsigned char *tail = (unsigned char *)&out[n];
    for (size_t j = 0; j < sizeof *out; j++) ck_assert_uint_eq(tail[j], 0xEE); /* no overrun */
    /* a middle slice, and set */
    ck_assert_int_eq(rtm_batch_get_n(bulk, n / 3, 5, out), RTM_OK);
    for (size_t i = 0; i < 5; i++) {
        all_kinds want;
        fill_row(&want, n / 3 + i, 0);
        ck_assert_int_eq(memcmp(&out[i], &want, sizeof want), 0);
    }
    all_kinds r;
    fill_row(&r, 999999, 0x77);
    ck_assert_int_eq(rtm_batch_set(bulk, 5, &r), RTM_OK);
    expect_row(bulk, 5, 999999);
    expect_row(bulk, 4, 4);
    expect_row(bulk, 6, 6);
    free(in);
    free(out);
    rtm_batch_destroy(bulk);
    rtm_batch_destroy(one);
    end_ctx(ctx);
}
END_TEST

/* ---- kernels and gather over columns -------------------------------------- */

typedef struct point {
    double x, y;
    int32_t id;
} point;

static const rtm_layout *point_layout(rtm_ctx *ctx)
{
    const rtm_field f[] = {{"x", RTM_KIND_F64, 0, NULL},
                           {"y", RTM_KIND_F64, 0, NULL},
                           {"id", RTM_KIND_I32, 0, NULL}};
    return rtm_layout_new(ctx, "point", f, 3);
}

START_TEST(kernels_and_gather_over_columns)
{
    rtm_ctx *ctx = new_ctx();
    const rtm_layout *l = point_layout(ctx);
    rtm_batch *b = rtm_batch_new(ctx, l), *sel = rtm_batch_new(ctx, l);
    size_t n = 5000;
    point *pts = malloc(n * sizeof *pts);
    ck_assert_ptr_nonnull(pts);
    for (size_t i = 0; i < n; i++) pts[i] = (point){(double)i * 0.25, -(double)i, (int32_t)(i % 97)};
    ck_assert_int_eq(rtm_batch_push_n(b, pts, n), RTM_OK);
    const double *x = rtm_batch_column_as(b, 0, RTM_KIND_F64);
    const int32_t *id = rtm_batch_column_as(b, 2, RTM_KIND_I32);
    double sum;
    ck_assert_int_eq(rtm_col_sum_f64(x, n, &sum), RTM_OK);
    ck_assert(sum == 0.25 * (double)(n * (n - 1) / 2)); /* exact: small integers / 4 */
    int64_t isum;
    ck_assert_int_eq(rtm_col_sum_i32(id, n, &isum), RTM_OK);
    int64_t want = 0;
    for (size_t i = 0; i < n; i++) want += pts[i].id;
    ck_assert_int_eq(isum, want);
    /* y = 2x + y on the columns */
    ck_assert_int_eq(rtm_col_axpy_f64(2.0, x, rtm_batch_column(b, 1), n), RTM_OK);
    point p;
    ck_assert_int_eq(rtm_batch_get(b, 100, &p), RTM_OK);
    ck_assert(p.y == 2 * 25.0 - 100.0);
    /* select id == 5, gather those rows into another batch */
    uint64_t *bits = malloc(RTM_SEL_WORDS(n) * sizeof *bits);
    uint32_t *idx = malloc(n * sizeof *idx);
    ck_assert_int_eq(rtm_col_cmp_i32(id, n, RTM_CMP_EQ, 5, bits), RTM_OK);
    size_t k = rtm_sel_indices(bits, n, idx);
    ck_assert_uint_eq(k, (n - 5 + 96) / 97);
    for (int level = 0; level <= (int)rtm_simd_best(); level++) {
        ck_assert_int_eq(rtm_simd_select((rtm_simd)level), RTM_OK);
        rtm_batch_clear(sel);
        ck_assert_int_eq(rtm_batch_gather(sel, b, idx, k), RTM_OK);
        ck_assert_uint_eq(rtm_batch_len(sel), k);
        for (size_t i = 0; i < k; i++) {
            ck_assert_int_eq(rtm_batch_get(sel, i, &p), RTM_OK);
            ck_assert_int_eq(p.id, 5);
            ck_assert(p.x == (double)idx[i] * 0.25);
        }
    }
    /* gather into itself: appends */
    ck_assert_int_eq(rtm_batch_gather(b, b, idx, k), RTM_OK);
    ck_assert_uint_eq(rtm_batch_len(b), n + k);
    ck_assert_int_eq(rtm_batch_get(b, n + k - 1, &p), RTM_OK);
    ck_assert_int_eq(p.id, 5);
    free(bits);
    free(idx);
    free(pts);
    end_ctx(ctx); /* the batches too */
}
END_TEST

/* ---- stats and ownership ---------------------------------------------------- */

START_TEST(stats_and_context_ownership)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {0, NULL, &tp.source, 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    const rtm_layout *l = point_layout(ctx);
    rtm_stats before, st;
    rtm_ctx_stats(ctx, &before);
    ck_assert_uint_eq(before.batches_live, 0);
    rtm_batch *a = rtm_batch_new(ctx, l), *b = rtm_batch_new(ctx, l);
    point p = {1, 2, 3};
    for (int i = 0; i < 1000; i++) ck_assert_int_eq(rtm_batch_push(a, &p), RTM_OK);
    for (int i = 0; i < 10; i++) ck_assert_int_eq(rtm_batch_push(b, &p), RTM_OK);
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.batches_live, 2);
    ck_assert_uint_eq(st.batch_rows, 1010);
    ck_assert_uint_eq(st.batch_bytes, st.page_bytes - before.page_bytes); /* all from its pages */
    ck_assert_uint_eq(st.bytes_in_use - before.bytes_in_use, 1010 * (8 + 8 + 4));
    rtm_batch_destroy(b);
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.batches_live, 1);
    ck_assert_uint_eq(st.batch_rows, 1000);
    rtm_batch_destroy(a);
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_eq(st.batches_live, 0);
    ck_assert_uint_eq(st.batch_bytes, 0);
    ck_assert_uint_eq(st.page_bytes, before.page_bytes);
    /* batches left alive end with their context */
    for (int i = 0; i < 3; i++) ck_assert_ptr_nonnull(rtm_batch_new(ctx, l));
    end_ctx(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
}
END_TEST

/* ---- bad input ---------------------------------------------------------------- */

#define EXPECT_FAIL(call, status)                                               \
    do {                                                                        \
        rtm_ctx_clear_error(ctx);                                               \
        ck_assert_int_eq((call), (status));                                     \
        ck_assert_int_eq(rtm_ctx_error(ctx), (status));                         \
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);                           \
    } while (0)

#define EXPECT_NULL(call, status)                                               \
    do {                                                                        \
        rtm_ctx_clear_error(ctx);                                               \
        ck_assert_ptr_null(call);                                               \
        ck_assert_int_eq(rtm_ctx_error(ctx), (status));                         \
        ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);                           \
    } while (0)

START_TEST(bad_input)
{
    rtm_ctx *ctx = new_ctx(), *other = new_ctx();
    const rtm_layout *l = point_layout(ctx), *l2 = point_layout(ctx), *foreign = point_layout(other);
    /* making */
    ck_assert_ptr_null(rtm_batch_new(NULL, l));
    EXPECT_NULL(rtm_batch_new(ctx, NULL), RTM_EINVAL);
    static union { char bytes[4096]; max_align_t align; } not_a_layout; /* wrong magic */
    EXPECT_NULL(rtm_batch_new(ctx, (const rtm_layout *)(const void *)&not_a_layout), RTM_EINVAL);
    EXPECT_NULL(rtm_batch_new(ctx, foreign), RTM_EFOREIGN);
    EXPECT_NULL(rtm_batch_new_aligned(ctx, l, 16), RTM_EINVAL);
    EXPECT_NULL(rtm_batch_new_aligned(ctx, l, 48), RTM_EINVAL);
    EXPECT_NULL(rtm_batch_new_aligned(ctx, l, 8192), RTM_EINVAL);
    const rtm_field wide[] = {{"bytes", RTM_KIND_U8, RTM_BATCH_MAX_COLUMNS + 1, NULL}};
    EXPECT_NULL(rtm_batch_new(ctx, rtm_layout_new(ctx, "wide", wide, 1)), RTM_EINVAL);
    const rtm_field huge[] = {{"bytes", RTM_KIND_U8, (size_t)1 << 40, NULL}};
    const rtm_layout *lh = rtm_layout_new(ctx, "huge", huge, 1);
    if (lh != NULL) EXPECT_NULL(rtm_batch_new(ctx, lh), RTM_EINVAL); /* refused fast */
    const rtm_field just[] = {{"bytes", RTM_KIND_U8, RTM_BATCH_MAX_COLUMNS, NULL}};
    rtm_batch *w = rtm_batch_new(ctx, rtm_layout_new(ctx, "just", just, 1));
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(rtm_batch_columns(w), RTM_BATCH_MAX_COLUMNS);
    rtm_column_info info;
    ck_assert_int_eq(rtm_batch_column_info(w, RTM_BATCH_MAX_COLUMNS - 1, &info), RTM_OK);
    ck_assert_str_eq(info.name, "bytes[4095]");
    rtm_batch_destroy(w);

    rtm_batch *b = rtm_batch_new(ctx, l), *b2 = rtm_batch_new(ctx, l2), *bo = rtm_batch_new(other, foreign);
    point p = {1, 2, 3}, rows[4] = {{0}};
    ck_assert_int_eq(rtm_batch_push(b, &p), RTM_OK);
    /* NULL batch: EINVAL, nothing recorded anywhere */
    ck_assert_int_eq(rtm_batch_push(NULL, &p), RTM_EINVAL);
    ck_assert_int_eq(rtm_batch_push_n(NULL, rows, 1), RTM_EINVAL);
    ck_assert_int_eq(rtm_batch_get(NULL, 0, &p), RTM_EINVAL);
    ck_assert_int_eq(rtm_batch_reserve(NULL, 1), RTM_EINVAL);
    ck_assert_ptr_null(rtm_batch_column(NULL, 0));
    ck_assert_uint_eq(rtm_batch_len(NULL), 0);
    ck_assert_uint_eq(rtm_batch_cap(NULL), 0);
    ck_assert_uint_eq(rtm_batch_columns(NULL), 0);
    ck_assert_ptr_null(rtm_batch_layout(NULL));
    rtm_batch_clear(NULL);
    rtm_batch_destroy(NULL);
    /* NULL rows */
    EXPECT_FAIL(rtm_batch_push(b, NULL), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_push_n(b, NULL, 3), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_get(b, 0, NULL), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_get_n(b, 0, 1, NULL), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_set(b, 0, NULL), RTM_EINVAL);
    ck_assert_int_eq(rtm_batch_push_n(b, NULL, 0), RTM_OK);
    /* out-of-range rows */
    EXPECT_FAIL(rtm_batch_get(b, 1, &p), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_get(b, SIZE_MAX, &p), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_set(b, 1, &p), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_get_n(b, 0, 2, rows), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_get_n(b, 1, 1, rows), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_get_n(b, SIZE_MAX, 2, rows), RTM_EINVAL); /* first + n overflows */
    ck_assert_int_eq(rtm_batch_get_n(b, 1, 0, rows), RTM_OK);
    /* wrong columns */
    EXPECT_NULL(rtm_batch_column(b, 3), RTM_EINVAL);
    EXPECT_NULL(rtm_batch_column_as(b, 3, RTM_KIND_F64), RTM_EINVAL);
    EXPECT_NULL(rtm_batch_column_as(b, 2, RTM_KIND_F64), RTM_ETYPE);
    EXPECT_NULL(rtm_batch_column_as(b, 0, RTM_KIND_I64), RTM_ETYPE);
    EXPECT_NULL(rtm_batch_column_by_name(b, "z"), RTM_EINVAL);
    EXPECT_NULL(rtm_batch_column_by_name(b, NULL), RTM_EINVAL);
    rtm_ctx_clear_error(ctx);
    ck_assert_int_eq(rtm_batch_column_index(b, "x[0]"), -1);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_EINVAL);
    ck_assert_int_eq(rtm_batch_column_index(b, "id"), 2);
    EXPECT_FAIL(rtm_batch_column_info(b, 3, &info), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_column_info(b, 0, NULL), RTM_EINVAL);
    /* overflowing sizes */
    size_t cap = rtm_batch_cap(b);
    EXPECT_FAIL(rtm_batch_reserve(b, SIZE_MAX), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_reserve(b, SIZE_MAX / 8), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_reserve(b, RTM_MAX_ALLOC / 8), RTM_EINVAL); /* x column alone is all */
    EXPECT_FAIL(rtm_batch_push_n(b, rows, SIZE_MAX / 4), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_push_n(b, rows, SIZE_MAX / sizeof(point) + 1), RTM_EINVAL);
    ck_assert_uint_eq(rtm_batch_cap(b), cap);
    ck_assert_uint_eq(rtm_batch_len(b), 1);
    /* gather */
    uint32_t idx[3] = {0, 0, 1};
    EXPECT_FAIL(rtm_batch_gather(b, b, idx, 3), RTM_EINVAL); /* row 1 does not exist */
    EXPECT_FAIL(rtm_batch_gather(b, b, NULL, 3), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_gather(b, NULL, idx, 1), RTM_EINVAL);
    EXPECT_FAIL(rtm_batch_gather(b2, b, idx, 2), RTM_ETYPE); /* an equal layout is not the same */
    ck_assert_int_eq(rtm_batch_gather(bo, b, idx, 2), RTM_EFOREIGN);
    ck_assert_int_eq(rtm_ctx_error(other), RTM_EFOREIGN); /* recorded on dst's context */
    ck_assert_int_eq(rtm_batch_gather(NULL, b, idx, 2), RTM_EINVAL);
    ck_assert_uint_eq(rtm_batch_len(b), 1);
    ck_assert_uint_eq(rtm_batch_len(b2), 0);
    /* still fine after all of it */
    ck_assert_int_eq(rtm_batch_push(b, &p), RTM_OK);
    ck_assert_int_eq(rtm_batch_gather(b, b, idx, 3), RTM_OK);
    ck_assert_uint_eq(rtm_batch_len(b), 5);
    end_ctx(other);
    end_ctx(ctx);
}
END_TEST

START_TEST(limit_reached)
{
    rtm_config cfg = {256 * 1024, NULL, NULL, 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    ck_assert_ptr_nonnull(ctx);
    rtm_batch *b = rtm_batch_new(ctx, point_layout(ctx));
    ck_assert_ptr_nonnull(b);
    point p = {1, 2, 0};
    rtm_status s = RTM_OK;
    size_t n = 0;
    while ((s = rtm_batch_push(b, &p)) == RTM_OK) p.id = (int32_t)++n;
    ck_assert_int_eq(s, RTM_ELIMIT);
    ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ELIMIT);
    ck_assert_uint_eq(rtm_batch_len(b), n);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    ck_assert_int_eq(rtm_batch_reserve(b, n * 4), RTM_ELIMIT);
    for (size_t i = 0; i < n; i += 101) {
        ck_assert_int_eq(rtm_batch_get(b, i, &p), RTM_OK);
        ck_assert_int_eq(p.id, (int32_t)i);
    }
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    ck_assert_uint_le(st.page_bytes, cfg.limit_bytes);
    ck_assert_uint_gt(st.limit_hits, 0);
    rtm_batch_clear(b); /* usable again */
    ck_assert_int_eq(rtm_batch_push(b, &p), RTM_OK);
    end_ctx(ctx);
}
END_TEST

/* ---- faults at every page request ------------------------------------------- */

/* A workload that meets the fault wherever it falls: every failure must be
 * RTM_ENOMEM with the batch unchanged, and every row pushed must be there. */
static void fault_workload(rtm_ctx *ctx)
{
    const rtm_layout *l = all_kinds_layout(ctx);
    if (l == NULL) {
        ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
        return;
    }
    rtm_batch *b = rtm_batch_new(ctx, l);
    if (b == NULL) {
        ck_assert_int_eq(rtm_ctx_error(ctx), RTM_ENOMEM);
        return;
    }
    uint64_t seeds[1200];
    size_t len = 0;
    all_kinds rows[200];
    for (size_t i = 0; i < 1000; i++) {
        all_kinds r;
        fill_row(&r, i, 0x33);
        rtm_status s = rtm_batch_push(b, &r);
        if (s == RTM_OK) seeds[len++] = i;
        else ck_assert_int_eq(s, RTM_ENOMEM);
        ck_assert_uint_eq(rtm_batch_len(b), len);
    }
    for (size_t j = 0; j < 200; j++) fill_row(&rows[j], 5000 + j, 0x44);
    rtm_status s = rtm_batch_push_n(b, rows, 200);
    if (s == RTM_OK)
        for (size_t j = 0; j < 200; j++) seeds[len++] = 5000 + j;
    else
        ck_assert_int_eq(s, RTM_ENOMEM);
    ck_assert_uint_eq(rtm_batch_len(b), len);
    size_t cap = rtm_batch_cap(b);
    s = rtm_batch_reserve(b, 50000);
    if (s != RTM_OK) {
        ck_assert_int_eq(s, RTM_ENOMEM);
        ck_assert_uint_eq(rtm_batch_cap(b), cap);
    }
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    for (size_t i = 0; i < len; i++) expect_row(b, i, seeds[i]);
    if (len % 2) rtm_batch_destroy(b); /* else the context ends it */
}

static void faults_every_k(bool with_remap)
{
    for (long k = 1;; k++) {
        rtm_test_pages tp;
        rtm_test_pages_init(&tp, k, false);
        if (!with_remap) tp.source.remap = NULL;
        rtm_config cfg = {0, NULL, &tp.source, 0};
        rtm_ctx *ctx = rtm_ctx_new(&cfg);
        if (ctx != NULL) {
            fault_workload(ctx);
            end_ctx(ctx);
        }
        ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
        if (atomic_load(&tp.refused) == 0) {
            ck_assert_int_gt(k, 3); /* the workload did ask for pages */
            break;
        }
        ck_assert_int_lt(k, 1000);
    }
}

START_TEST(faults_every_k_copying) { faults_every_k(false); }
END_TEST
START_TEST(faults_every_k_remapping) { faults_every_k(true); }
END_TEST

/* The source refuses a remap: growth fails cleanly and can go on later. */
START_TEST(remap_refused)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {0, NULL, &tp.source, 0};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    rtm_batch *b = rtm_batch_new(ctx, all_kinds_layout(ctx));
    all_kinds r;
    size_t i = 0;
    for (; i < rtm_batch_cap(b); i++) {
        fill_row(&r, i, 0);
        ck_assert_int_eq(rtm_batch_push(b, &r), RTM_OK);
    }
    atomic_store(&tp.fail_all, true);
    fill_row(&r, i, 0);
    ck_assert_int_eq(rtm_batch_push(b, &r), RTM_ENOMEM);
    ck_assert_uint_eq(rtm_batch_len(b), i);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    atomic_store(&tp.fail_all, false);
    ck_assert_int_eq(rtm_batch_push(b, &r), RTM_OK);
    for (size_t j = 0; j <= i; j++) expect_row(b, j, j);
    end_ctx(ctx);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
}
END_TEST

static Suite *batch_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("batch");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_kind_is_a_column);
    tcase_add_test(tc, growth_keeps_rows_and_alignment);
    tcase_add_test(tc, growth_bulk_aligned_64);
    tcase_add_test(tc, growth_aligned_4096);
    tcase_add_test(tc, reserve_and_clear);
    tcase_add_test(tc, bulk_transposes_round_trip);
    tcase_add_test(tc, kernels_and_gather_over_columns);
    tcase_add_test(tc, stats_and_context_ownership);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, limit_reached);
    tcase_add_test(tc, faults_every_k_copying);
    tcase_add_test(tc, faults_every_k_remapping);
    tcase_add_test(tc, remap_refused);
    suite_add_tcase(s, tc);
    return s;
}

RTM_TEST_MAIN(batch_suite)
