/* test_layout.c: records declared at run time must be laid out exactly as the
 * C compiler lays out the same structs, compiled here; lookups, field info,
 * and every bad input. */
#include "support.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- the comparison ----------------------------------------------------- */

typedef struct expect {
    const char *name;
    size_t offset, size;
} expect;

#define E(T, f) {#f, offsetof(T, f), sizeof(((T *)0)->f)}
#define N(a) (sizeof(a) / sizeof((a)[0]))

static rtm_ctx *ctx;

static void setup(void)
{
    ctx = rtm_ctx_new(NULL);
    ck_assert_ptr_nonnull(ctx);
}

static void teardown(void)
{
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
    rtm_ctx_destroy(ctx);
    ctx = NULL;
}

/* Makes the layout and compares it with the compiled struct: every offset,
 * every field's size, the size and the alignment. */
static const rtm_layout *same_as_c(const char *name, const rtm_field *f, size_t n,
                                   const expect *e, size_t size, size_t align)
{
    const rtm_layout *l = rtm_layout_new(ctx, name, f, n);
    ck_assert_msg(l != NULL, "%s: %s", name, rtm_status_str(rtm_ctx_error(ctx)));
    ck_assert_uint_eq(rtm_layout_field_count(l), n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(f[i].name, e[i].name);
        ck_assert_msg(rtm_layout_offset(l, e[i].name) == (long)e[i].offset,
                      "%s.%s: offset %ld, C says %zu", name, e[i].name,
                      rtm_layout_offset(l, e[i].name), e[i].offset);
        rtm_field_info fi;
        ck_assert_int_eq(rtm_layout_field(l, i, &fi), RTM_OK);
        ck_assert_uint_eq(fi.offset, e[i].offset);
        ck_assert_msg(fi.size == e[i].size, "%s.%s: size %zu, C says %zu", name, e[i].name,
                      fi.size, e[i].size);
        ck_assert_uint_eq(fi.count, f[i].count ? f[i].count : 1);
        ck_assert_uint_eq(fi.elem_size * fi.count, fi.size);
        ck_assert_int_eq(fi.kind, f[i].kind);
        ck_assert_ptr_eq(fi.layout, f[i].layout);
        ck_assert_str_eq(fi.name, f[i].name);
        ck_assert_int_eq(rtm_layout_find(l, f[i].name), (long)i);
    }
    ck_assert_msg(rtm_layout_size(l) == size, "%s: size %zu, C says %zu", name,
                  rtm_layout_size(l), size);
    ck_assert_msg(rtm_layout_align(l) == align, "%s: align %zu, C says %zu", name,
                  rtm_layout_align(l), align);
    ck_assert_str_eq(rtm_layout_name(l), name);
    return l;
}

#define SAME_AS_C(T, fields, ...)                                                        \
    do {                                                                                 \
        const expect e_[] = {__VA_ARGS__};                                               \
        ck_assert_uint_eq(N(e_), N(fields));                                             \
        same_as_c(#T, fields, N(fields), e_, sizeof(T), alignof(T));                     \
    } while (0)

/* ---- a dozen records ------------------------------------------------------- */

typedef struct r_mixed { int8_t a; int64_t b; int16_t c; float d; uint8_t e; } r_mixed;
typedef struct r_bools { bool a; int32_t b; bool c; bool d; double e; bool f; } r_bools;
typedef struct r_arrays { uint8_t tag; int32_t v[3]; uint16_t w[5]; double x[2]; uint8_t tail[7]; } r_arrays;
typedef struct r_ptrs { void *p; uint8_t a; void *q[2]; uint32_t c; } r_ptrs;
typedef struct r_floats { float a; double b; float c; float d; double e; float f; } r_floats;
typedef struct r_tail { uint64_t a; uint8_t b; uint8_t c; uint8_t d; } r_tail;
typedef struct r_strs { rtm_str s; uint8_t a; rtm_str t[2]; uint32_t len; } r_strs;
typedef struct r_handles { uint8_t a; rtm_handle h; uint16_t b; rtm_handle hs[3]; } r_handles;
typedef struct r_syms { rtm_sym s; uint8_t a; rtm_sym t[5]; uint64_t x; bool b; } r_syms;
typedef struct r_one { uint8_t a; } r_one;
typedef struct r_shorts { int16_t a; uint8_t b; int16_t c[3]; uint8_t d; } r_shorts;
typedef struct r_big { uint8_t head; uint8_t big[1000003]; int64_t after; uint16_t odd[37]; } r_big;

START_TEST(layout_mixed_scalars)
{
    const rtm_field f[] = {{"a", RTM_KIND_I8, 0, NULL}, {"b", RTM_KIND_I64, 0, NULL},
                           {"c", RTM_KIND_I16, 0, NULL}, {"d", RTM_KIND_F32, 0, NULL},
                           {"e", RTM_KIND_U8, 0, NULL}};
    SAME_AS_C(r_mixed, f, E(r_mixed, a), E(r_mixed, b), E(r_mixed, c), E(r_mixed, d), E(r_mixed, e));
}
END_TEST

START_TEST(layout_bools)
{
    const rtm_field f[] = {{"a", RTM_KIND_BOOL, 0, NULL}, {"b", RTM_KIND_I32, 0, NULL},
                           {"c", RTM_KIND_BOOL, 1, NULL}, {"d", RTM_KIND_BOOL, 0, NULL},
                           {"e", RTM_KIND_F64, 0, NULL},  {"f", RTM_KIND_BOOL, 0, NULL}};
    SAME_AS_C(r_bools, f, E(r_bools, a), E(r_bools, b), E(r_bools, c), E(r_bools, d),
              E(r_bools, e), E(r_bools, f));
}
END_TEST

START_TEST(layout_arrays)
{
    const rtm_field f[] = {{"tag", RTM_KIND_U8, 0, NULL}, {"v", RTM_KIND_I32, 3, NULL},
                           {"w", RTM_KIND_U16, 5, NULL},  {"x", RTM_KIND_F64, 2, NULL},
                           {"tail", RTM_KIND_U8, 7, NULL}};
    SAME_AS_C(r_arrays, f, E(r_arrays, tag), E(r_arrays, v), E(r_arrays, w), E(r_arrays, x),
              E(r_arrays, tail));
}
END_TEST

START_TEST(layout_pointers)
{
    const rtm_field f[] = {{"p", RTM_KIND_PTR, 0, NULL}, {"a", RTM_KIND_U8, 0, NULL},
                           {"q", RTM_KIND_PTR, 2, NULL}, {"c", RTM_KIND_U32, 0, NULL}};
    SAME_AS_C(r_ptrs, f, E(r_ptrs, p), E(r_ptrs, a), E(r_ptrs, q), E(r_ptrs, c));
}
END_TEST

START_TEST(layout_float_mix)
{
    const rtm_field f[] = {{"a", RTM_KIND_F32, 0, NULL}, {"b", RTM_KIND_F64, 0, NULL},
                           {"c", RTM_KIND_F32, 0, NULL}, {"d", RTM_KIND_F32, 0, NULL},
                           {"e", RTM_KIND_F64, 0, NULL}, {"f", RTM_KIND_F32, 0, NULL}};
    SAME_AS_C(r_floats, f, E(r_floats, a), E(r_floats, b), E(r_floats, c), E(r_floats, d),
              E(r_floats, e), E(r_floats, f));
}
END_TEST

START_TEST(layout_u8_tail)
{
    const rtm_field f[] = {{"a", RTM_KIND_U64, 0, NULL}, {"b", RTM_KIND_U8, 0, NULL},
                           {"c", RTM_KIND_U8, 0, NULL},  {"d", RTM_KIND_U8, 0, NULL}};
    SAME_AS_C(r_tail, f, E(r_tail, a), E(r_tail, b), E(r_tail, c), E(r_tail, d));
}
END_TEST

START_TEST(layout_string_slices)
{
    const rtm_field f[] = {{"s", RTM_KIND_STR, 0, NULL}, {"a", RTM_KIND_U8, 0, NULL},
                           {"t", RTM_KIND_STR, 2, NULL}, {"len", RTM_KIND_U32, 0, NULL}};
    SAME_AS_C(r_strs, f, E(r_strs, s), E(r_strs, a), E(r_strs, t), E(r_strs, len));
}
END_TEST

START_TEST(layout_handles)
{
    const rtm_field f[] = {{"a", RTM_KIND_U8, 0, NULL}, {"h", RTM_KIND_HANDLE, 0, NULL},
                           {"b", RTM_KIND_U16, 0, NULL}, {"hs", RTM_KIND_HANDLE, 3, NULL}};
    SAME_AS_C(r_handles, f, E(r_handles, a), E(r_handles, h), E(r_handles, b), E(r_handles, hs));
}
END_TEST

START_TEST(layout_symbols)
{
    const rtm_field f[] = {{"s", RTM_KIND_SYM, 0, NULL}, {"a", RTM_KIND_U8, 0, NULL},
                           {"t", RTM_KIND_SYM, 5, NULL}, {"x", RTM_KIND_U64, 0, NULL},
                           {"b", RTM_KIND_BOOL, 0, NULL}};
    SAME_AS_C(r_syms, f, E(r_syms, s), E(r_syms, a), E(r_syms, t), E(r_syms, x), E(r_syms, b));
}
END_TEST

START_TEST(layout_single_byte_and_shorts)
{
    const rtm_field one[] = {{"a", RTM_KIND_U8, 0, NULL}};
    SAME_AS_C(r_one, one, E(r_one, a));
    const rtm_field f[] = {{"a", RTM_KIND_I16, 0, NULL}, {"b", RTM_KIND_U8, 0, NULL},
                           {"c", RTM_KIND_I16, 3, NULL}, {"d", RTM_KIND_U8, 0, NULL}};
    SAME_AS_C(r_shorts, f, E(r_shorts, a), E(r_shorts, b), E(r_shorts, c), E(r_shorts, d));
}
END_TEST

START_TEST(layout_big_arrays)
{
    const rtm_field f[] = {{"head", RTM_KIND_U8, 0, NULL}, {"big", RTM_KIND_U8, 1000003, NULL},
                           {"after", RTM_KIND_I64, 0, NULL}, {"odd", RTM_KIND_U16, 37, NULL}};
    SAME_AS_C(r_big, f, E(r_big, head), E(r_big, big), E(r_big, after), E(r_big, odd));
}
END_TEST

/* Nested records, arrays of them, and nesting three deep. */
typedef struct r_inner { uint8_t a; double b; } r_inner;
typedef struct r_outer { uint8_t x; r_inner in; uint16_t y; r_inner arr[3]; uint8_t z; } r_outer;
typedef struct r_a { uint16_t a; uint8_t b; } r_a;
typedef struct r_b { r_a a; uint8_t c; r_a d[2]; } r_b;
typedef struct r_c { uint8_t x; r_b b; float y; r_b bb[2]; rtm_str s; } r_c;

START_TEST(layout_nested_records)
{
    const rtm_field fi[] = {{"a", RTM_KIND_U8, 0, NULL}, {"b", RTM_KIND_F64, 0, NULL}};
    const rtm_layout *inner = same_as_c("r_inner", fi, 2,
                                        (expect[]){E(r_inner, a), E(r_inner, b)},
                                        sizeof(r_inner), alignof(r_inner));
    const rtm_field fo[] = {{"x", RTM_KIND_U8, 0, NULL}, {"in", RTM_KIND_RECORD, 0, inner},
                            {"y", RTM_KIND_U16, 0, NULL}, {"arr", RTM_KIND_RECORD, 3, inner},
                            {"z", RTM_KIND_U8, 0, NULL}};
    SAME_AS_C(r_outer, fo, E(r_outer, x), E(r_outer, in), E(r_outer, y), E(r_outer, arr),
              E(r_outer, z));
}
END_TEST

START_TEST(layout_nested_three_deep)
{
    const rtm_field fa[] = {{"a", RTM_KIND_U16, 0, NULL}, {"b", RTM_KIND_U8, 0, NULL}};
    const rtm_layout *a = same_as_c("r_a", fa, 2, (expect[]){E(r_a, a), E(r_a, b)},
                                    sizeof(r_a), alignof(r_a));
    const rtm_field fb[] = {{"a", RTM_KIND_RECORD, 0, a}, {"c", RTM_KIND_U8, 0, NULL},
                            {"d", RTM_KIND_RECORD, 2, a}};
    const rtm_layout *b = same_as_c("r_b", fb, 3, (expect[]){E(r_b, a), E(r_b, c), E(r_b, d)},
                                    sizeof(r_b), alignof(r_b));
    const rtm_field fc[] = {{"x", RTM_KIND_U8, 0, NULL}, {"b", RTM_KIND_RECORD, 0, b},
                            {"y", RTM_KIND_F32, 0, NULL}, {"bb", RTM_KIND_RECORD, 2, b},
                            {"s", RTM_KIND_STR, 0, NULL}};
    SAME_AS_C(r_c, fc, E(r_c, x), E(r_c, b), E(r_c, y), E(r_c, bb), E(r_c, s));
}
END_TEST

/* Every kind once, in an order that makes padding everywhere. */
typedef struct r_all {
    bool bo; int64_t i64; int8_t i8; double f64; int16_t i16; void *ptr; int32_t i32;
    rtm_str str; uint8_t u8; rtm_handle h; uint16_t u16; uint64_t u64; uint32_t u32;
    float f32; rtm_sym sym; uint8_t tail;
} r_all;

START_TEST(layout_every_kind)
{
    const rtm_field f[] = {
        {"bo", RTM_KIND_BOOL, 0, NULL},   {"i64", RTM_KIND_I64, 0, NULL},
        {"i8", RTM_KIND_I8, 0, NULL},     {"f64", RTM_KIND_F64, 0, NULL},
        {"i16", RTM_KIND_I16, 0, NULL},   {"ptr", RTM_KIND_PTR, 0, NULL},
        {"i32", RTM_KIND_I32, 0, NULL},   {"str", RTM_KIND_STR, 0, NULL},
        {"u8", RTM_KIND_U8, 0, NULL},     {"h", RTM_KIND_HANDLE, 0, NULL},
        {"u16", RTM_KIND_U16, 0, NULL},   {"u64", RTM_KIND_U64, 0, NULL},
        {"u32", RTM_KIND_U32, 0, NULL},   {"f32", RTM_KIND_F32, 0, NULL},
        {"sym", RTM_KIND_SYM, 0, NULL},   {"tail", RTM_KIND_U8, 0, NULL}};
    SAME_AS_C(r_all, f, E(r_all, bo), E(r_all, i64), E(r_all, i8), E(r_all, f64), E(r_all, i16),
              E(r_all, ptr), E(r_all, i32), E(r_all, str), E(r_all, u8), E(r_all, h),
              E(r_all, u16), E(r_all, u64), E(r_all, u32), E(r_all, f32), E(r_all, sym),
              E(r_all, tail));
}
END_TEST

/* Arrays of every length 2..300 of three element types, each between two
 * bytes: C guarantees sizeof(T[n]) == n * sizeof(T), so the tail's offset and
 * the size follow from the compiled element type. */
START_TEST(layout_array_lengths)
{
    static const struct { rtm_kind kind; size_t size, align; } elems[] = {
        {RTM_KIND_U8, 1, 1}, {RTM_KIND_I16, sizeof(int16_t), alignof(int16_t)},
        {RTM_KIND_STR, sizeof(rtm_str), alignof(rtm_str)}};
    for (size_t k = 0; k < N(elems); k++) {
        for (size_t n = 2; n <= 300; n++) {
            const rtm_field f[] = {{"head", RTM_KIND_U8, 0, NULL}, {"v", elems[k].kind, n, NULL},
                                   {"tail", RTM_KIND_U8, 0, NULL}};
            const rtm_layout *l = rtm_layout_new(ctx, NULL, f, 3);
            ck_assert_ptr_nonnull(l);
            size_t a = elems[k].align, v = a, tail = v + n * elems[k].size;
            ck_assert_int_eq(rtm_layout_offset(l, "v"), (long)v);
            ck_assert_int_eq(rtm_layout_offset(l, "tail"), (long)tail);
            ck_assert_uint_eq(rtm_layout_size(l), (tail + 1 + a - 1) / a * a);
            ck_assert_uint_eq(rtm_layout_align(l), a);
        }
    }
}
END_TEST

/* ---- lookups and info ------------------------------------------------------ */

START_TEST(layout_lookup_many_fields)
{
    enum { NF = 3000 };
    static rtm_field f[NF];
    static char names[NF][16];
    for (size_t i = 0; i < NF; i++) {
        snprintf(names[i], sizeof names[i], "f%zu", i);
        f[i] = (rtm_field){names[i], (i % 3) ? RTM_KIND_U32 : RTM_KIND_U8, 0, NULL};
    }
    const rtm_layout *l = rtm_layout_new(ctx, "wide", f, NF);
    ck_assert_ptr_nonnull(l);
    size_t end = 0;
    for (size_t i = 0; i < NF; i++) {
        ck_assert_int_eq(rtm_layout_find(l, names[i]), (long)i);
        ck_assert_int_eq(rtm_layout_find_n(l, names[i], strlen(names[i])), (long)i);
        rtm_field_info fi;
        ck_assert_int_eq(rtm_layout_field(l, i, &fi), RTM_OK);
        ck_assert_uint_ge(fi.offset, end);
        ck_assert_uint_eq(fi.offset % fi.elem_size, 0);
        end = fi.offset + fi.size;
    }
    ck_assert_uint_ge(rtm_layout_size(l), end);
    ck_assert_int_eq(rtm_layout_find(l, "f3000"), -1);
    ck_assert_int_eq(rtm_layout_find(l, "f"), -1);
    ck_assert_int_eq(rtm_layout_find(l, ""), -1);
    /* a name given with its length, not terminated */
    ck_assert_int_eq(rtm_layout_find_n(l, "f12xyz", 3), 12);
    ck_assert_int_eq(rtm_layout_find_n(l, "f12", 2), 1);
}
END_TEST

START_TEST(layout_queries_on_null_and_misses)
{
    ck_assert_uint_eq(rtm_layout_size(NULL), 0);
    ck_assert_uint_eq(rtm_layout_align(NULL), 0);
    ck_assert_ptr_null(rtm_layout_name(NULL));
    ck_assert_uint_eq(rtm_layout_field_count(NULL), 0);
    ck_assert_int_eq(rtm_layout_find(NULL, "a"), -1);
    ck_assert_int_eq(rtm_layout_find_n(NULL, "a", 1), -1);
    ck_assert_int_eq(rtm_layout_offset(NULL, "a"), -1);
    rtm_field_info fi;
    ck_assert_int_eq(rtm_layout_field(NULL, 0, &fi), RTM_EINVAL);

    const rtm_field f[] = {{"a", RTM_KIND_U8, 0, NULL}, {"b", RTM_KIND_U32, 0, NULL}};
    const rtm_layout *l = rtm_layout_new(ctx, NULL, f, 2);
    ck_assert_ptr_nonnull(l);
    ck_assert_str_eq(rtm_layout_name(l), "");
    ck_assert_int_eq(rtm_layout_find(l, NULL), -1);
    ck_assert_int_eq(rtm_layout_find_n(l, NULL, 0), -1);
    ck_assert_int_eq(rtm_layout_offset(l, "c"), -1);
    ck_assert_int_eq(rtm_layout_offset(l, NULL), -1);
    memset(&fi, 0x5A, sizeof fi);
    rtm_field_info before = fi;
    ck_assert_int_eq(rtm_layout_field(l, 2, &fi), RTM_EINVAL);
    ck_assert_int_eq(memcmp(&fi, &before, sizeof fi), 0);
    ck_assert_int_eq(rtm_layout_field(l, 0, NULL), RTM_EINVAL);
    ck_assert_int_eq(rtm_layout_field(l, (size_t)-1, &fi), RTM_EINVAL);
    /* a pointer that is not a layout is not taken for one */
    char junk[sizeof(void *) * 32] = {0};
    ck_assert_uint_eq(rtm_layout_size((const rtm_layout *)(void *)junk), 0);
}
END_TEST

START_TEST(layout_name_and_fields_are_copied)
{
    char lname[8] = "rec", a[8] = "alpha", b[8] = "beta";
    rtm_field f[] = {{a, RTM_KIND_I32, 0, NULL}, {b, RTM_KIND_I64, 0, NULL}};
    const rtm_layout *l = rtm_layout_new(ctx, lname, f, 2);
    ck_assert_ptr_nonnull(l);
    memset(lname, 'x', 7);
    memset(a, 'y', 7);
    memset(b, 'z', 7);
    f[0].kind = RTM_KIND_U8;
    ck_assert_str_eq(rtm_layout_name(l), "rec");
    ck_assert_int_eq(rtm_layout_find(l, "alpha"), 0);
    ck_assert_int_eq(rtm_layout_offset(l, "beta"), 8);
    ck_assert_uint_eq(rtm_layout_size(l), 16);
}
END_TEST

/* ---- bad input: exact statuses, nothing lost -------------------------------- */

static void expect_einval(const char *why, const rtm_field *f, size_t n)
{
    rtm_stats before, after;
    rtm_ctx_stats(ctx, &before);
    rtm_ctx_clear_error(ctx);
    ck_assert_msg(rtm_layout_new(ctx, "bad", f, n) == NULL, "%s: accepted", why);
    ck_assert_msg(rtm_ctx_error(ctx) == RTM_EINVAL, "%s: %s", why,
                  rtm_status_str(rtm_ctx_error(ctx)));
    rtm_ctx_stats(ctx, &after);
    ck_assert_uint_eq(after.page_bytes, before.page_bytes); /* nothing kept */
    ck_assert_uint_eq(after.errors, before.errors + 1);
    ck_assert_int_eq(rtm_ctx_check(ctx), RTM_OK);
}

START_TEST(layout_bad_input)
{
    const rtm_field ok[] = {{"a", RTM_KIND_U8, 0, NULL}};
    ck_assert_ptr_null(rtm_layout_new(NULL, "x", ok, 1));
    expect_einval("NULL fields", NULL, 1);
    expect_einval("no fields", ok, 0);
    expect_einval("too many fields", ok, (size_t)RTM_LAYOUT_MAX_FIELDS + 1);
    expect_einval("SIZE_MAX fields", ok, SIZE_MAX);

    const rtm_field null_name[] = {{"a", RTM_KIND_U8, 0, NULL}, {NULL, RTM_KIND_U8, 0, NULL}};
    expect_einval("NULL name", null_name, 2);
    const rtm_field empty_name[] = {{"", RTM_KIND_U8, 0, NULL}};
    expect_einval("empty name", empty_name, 1);
    const rtm_field dup[] = {{"a", RTM_KIND_U8, 0, NULL}, {"b", RTM_KIND_U8, 0, NULL},
                             {"a", RTM_KIND_I64, 0, NULL}};
    expect_einval("duplicate name", dup, 3);
    const rtm_field kind0[] = {{"a", (rtm_kind)0, 0, NULL}};
    expect_einval("kind 0", kind0, 1);
    const rtm_field kind99[] = {{"a", (rtm_kind)99, 0, NULL}};
    expect_einval("kind 99", kind99, 1);
    const rtm_field kindneg[] = {{"a", (rtm_kind)-1, 0, NULL}};
    expect_einval("kind -1", kindneg, 1);

    const rtm_field no_layout[] = {{"r", RTM_KIND_RECORD, 0, NULL}};
    expect_einval("record without a layout", no_layout, 1);
    const rtm_layout *inner = rtm_layout_new(ctx, "inner", ok, 1);
    ck_assert_ptr_nonnull(inner);
    const rtm_field stray[] = {{"x", RTM_KIND_U32, 0, inner}};
    expect_einval("layout on a scalar", stray, 1);
    char junk[256] = {0};
    const rtm_field not_layout[] = {{"r", RTM_KIND_RECORD, 0, (const rtm_layout *)(void *)junk}};
    expect_einval("record of a non-layout", not_layout, 1);

    rtm_ctx *other = rtm_ctx_new(NULL);
    const rtm_layout *theirs = rtm_layout_new(other, "theirs", ok, 1);
    ck_assert_ptr_nonnull(theirs);
    const rtm_field foreign[] = {{"r", RTM_KIND_RECORD, 0, theirs}};
    expect_einval("record of another context", foreign, 1);
    rtm_ctx_destroy(other);

    const rtm_field huge[] = {{"a", RTM_KIND_U64, SIZE_MAX / 4, NULL}};
    expect_einval("count overflowing the size", huge, 1);
    const rtm_field wrap[] = {{"a", RTM_KIND_STR, SIZE_MAX / 16 + 1, NULL}};
    expect_einval("count wrapping to a small size", wrap, 1);
    const rtm_field too_big[] = {{"a", RTM_KIND_U8, RTM_MAX_ALLOC, NULL}};
    expect_einval("record past RTM_MAX_ALLOC", too_big, 1);
    const rtm_field sum_too_big[] = {{"a", RTM_KIND_U8, RTM_MAX_ALLOC / 2, NULL},
                                     {"b", RTM_KIND_U8, RTM_MAX_ALLOC / 2, NULL}};
    expect_einval("fields adding past RTM_MAX_ALLOC", sum_too_big, 2);
    const rtm_field rec_big[] = {{"r", RTM_KIND_RECORD, RTM_MAX_ALLOC, inner}};
    expect_einval("array of records past RTM_MAX_ALLOC", rec_big, 1);

    /* Still usable, and a very large but representable record is fine. */
    const rtm_field large[] = {{"a", RTM_KIND_U8, 0, NULL},
                               {"b", RTM_KIND_F64, (size_t)1 << 40, NULL}};
    const rtm_layout *l = rtm_layout_new(ctx, "large", large, 2);
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(rtm_layout_size(l), 8 + ((size_t)8 << 40));
    ck_assert_int_eq(rtm_layout_offset(l, "b"), 8);
}
END_TEST

/* ---- memory: the page source, the limit, the context's end ------------------- */

static const rtm_field two[] = {{"a", RTM_KIND_U8, 0, NULL}, {"b", RTM_KIND_STR, 4, NULL}};

START_TEST(layout_fault_every_k)
{
    /* A context, then layouts until one fails; with every k the failing
     * request reports RTM_ENOMEM, keeps nothing, and the next succeeds. */
    for (long k = 2; k <= 12; k++) {
        rtm_test_pages tp;
        rtm_test_pages_init(&tp, k, false);
        rtm_config cfg = {0, NULL, &tp.source, 0};
        rtm_ctx *c = rtm_ctx_new(&cfg);
        ck_assert_ptr_nonnull(c);
        int failed = 0;
        for (int i = 0; i < 12; i++) {
            long held = atomic_load(&tp.held_ranges);
            const rtm_layout *l = rtm_layout_new(c, "k", two, 2);
            if (l == NULL) {
                failed++;
                ck_assert_int_eq(rtm_ctx_error(c), RTM_ENOMEM);
                ck_assert_int_eq(atomic_load(&tp.held_ranges), held);
            } else {
                ck_assert_int_eq(rtm_layout_offset(l, "b"), 8);
            }
            ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
        }
        ck_assert_int_eq(failed, 1);
        rtm_ctx_destroy(c);
        ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    }
}
END_TEST

START_TEST(layout_limit)
{
    rtm_config cfg = {3 * 4096 + 65536, NULL, NULL, 0};
    rtm_ctx *c = rtm_ctx_new(&cfg);
    ck_assert_ptr_nonnull(c);
    int made = 0;
    while (rtm_layout_new(c, "l", two, 2) != NULL) made++;
    ck_assert_int_gt(made, 0);
    ck_assert_int_eq(rtm_ctx_error(c), RTM_ELIMIT);
    ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
    rtm_ctx_destroy(c);
}
END_TEST

START_TEST(layout_context_releases_all)
{
    rtm_test_pages tp;
    rtm_test_pages_init(&tp, 0, false);
    rtm_config cfg = {0, NULL, &tp.source, 0};
    rtm_ctx *c = rtm_ctx_new(&cfg);
    rtm_stats before, after;
    rtm_ctx_stats(c, &before);
    ck_assert_uint_eq(before.layouts_live, 0);
    ck_assert_uint_eq(before.layout_bytes, 0);
    const rtm_layout *prev = NULL;
    for (int i = 0; i < 100; i++) {
        rtm_field f[] = {{"x", RTM_KIND_U8, 0, NULL},
                         {"r", prev ? RTM_KIND_RECORD : RTM_KIND_U16, 0, prev}};
        prev = rtm_layout_new(c, "chain", f, 2);
        ck_assert_ptr_nonnull(prev);
    }
    /* Every page the layouts took shows in their figures. */
    rtm_ctx_stats(c, &after);
    ck_assert_uint_eq(after.layouts_live, 100);
    ck_assert_uint_eq(after.layout_bytes, after.page_bytes - before.page_bytes);
    ck_assert_int_eq(rtm_ctx_check(c), RTM_OK);
    rtm_ctx_destroy(c);
    ck_assert_int_eq(atomic_load(&tp.held_ranges), 0);
    ck_assert_int_eq(atomic_load(&tp.held_bytes), 0);
}
END_TEST

static Suite *layout_suite(void)
{
    Suite *s = suite_create("layout");
    TCase *c = tcase_create("same as C");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, layout_mixed_scalars);
    tcase_add_test(c, layout_bools);
    tcase_add_test(c, layout_arrays);
    tcase_add_test(c, layout_pointers);
    tcase_add_test(c, layout_float_mix);
    tcase_add_test(c, layout_u8_tail);
    tcase_add_test(c, layout_string_slices);
    tcase_add_test(c, layout_handles);
    tcase_add_test(c, layout_symbols);
    tcase_add_test(c, layout_single_byte_and_shorts);
    tcase_add_test(c, layout_big_arrays);
    tcase_add_test(c, layout_nested_records);
    tcase_add_test(c, layout_nested_three_deep);
    tcase_add_test(c, layout_every_kind);
    tcase_add_test(c, layout_array_lengths);
    suite_add_tcase(s, c);

    TCase *q = tcase_create("lookups and bad input");
    tcase_add_checked_fixture(q, setup, teardown);
    tcase_add_test(q, layout_lookup_many_fields);
    tcase_add_test(q, layout_queries_on_null_and_misses);
    tcase_add_test(q, layout_name_and_fields_are_copied);
    tcase_add_test(q, layout_bad_input);
    suite_add_tcase(s, q);

    TCase *m = tcase_create("memory");
    tcase_add_test(m, layout_fault_every_k);
    tcase_add_test(m, layout_limit);
    tcase_add_test(m, layout_context_releases_all);
    suite_add_tcase(s, m);
    return s;
}

RTM_TEST_MAIN(layout_suite)
