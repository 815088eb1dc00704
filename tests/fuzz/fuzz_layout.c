/* fuzz_layout.c: rtm_layout_new on field lists made from the fuzzer's bytes
 * (every kind, bad kinds, arrays of any length, records nested in records,
 * empty, duplicate and missing names, layouts of another context), checked
 * against the C layout rules computed here independently: each field at the
 * next multiple of its alignment, an array as count elements, the record
 * aligned to its strictest field and padded to a multiple of that. A
 * rejected list must give RTM_EINVAL exactly when the rules say it is
 * invalid, and the context must stay consistent either way.
 *
 * Built with clang's libFuzzer in the ASan build (fuzz.cmake); ctest runs a
 * fixed number of inputs from a fixed seed, so a run is repeatable. */
#include "rtmem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 24
#define MAX_NESTED 4

/* size and alignment of one element of a kind on x86-64 (SysV) */
static int elem_of(rtm_kind k, const rtm_layout *l, size_t *size, size_t *align)
{
    switch (k) {
    case RTM_KIND_I8: case RTM_KIND_U8: case RTM_KIND_BOOL: *size = *align = 1; return 1;
    case RTM_KIND_I16: case RTM_KIND_U16: *size = *align = 2; return 1;
    case RTM_KIND_I32: case RTM_KIND_U32: case RTM_KIND_F32: case RTM_KIND_SYM:
        *size = *align = 4; return 1;
    case RTM_KIND_I64: case RTM_KIND_U64: case RTM_KIND_F64: case RTM_KIND_PTR:
    case RTM_KIND_HANDLE: *size = *align = 8; return 1;
    case RTM_KIND_STR: *size = 16; *align = 8; return 1;
    case RTM_KIND_RECORD:
        if (l == NULL) return 0;
        *size = rtm_layout_size(l);
        *align = rtm_layout_align(l);
        return 1;
    }
    return 0;
}

static const rtm_field *cur_fields; /* the list being checked, for the report */
static size_t cur_n;

static void fail(const char *what, size_t i)
{
    fprintf(stderr, "fuzz_layout: %s (field %zu) in:\n", what, i);
    for (size_t k = 0; k < cur_n; k++)
        fprintf(stderr, "  [%zu] name %s%s%s kind %d count %zu layout %p\n", k,
                cur_fields[k].name ? "\"" : "", cur_fields[k].name ? cur_fields[k].name : "NULL",
                cur_fields[k].name ? "\"" : "", (int)cur_fields[k].kind, cur_fields[k].count,
                (const void *)cur_fields[k].layout);
    abort();
}

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static unsigned take(input *in)
{
    if (in->n == 0) return 0;
    in->n--;
    return *in->p++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in = {data, size};
    rtm_ctx *ctx = rtm_ctx_new(NULL), *other = rtm_ctx_new(NULL);
    if (ctx == NULL || other == NULL) abort();
    const rtm_field inner[] = {{"a", RTM_KIND_U8, 0, NULL}, {"b", RTM_KIND_F64, 3, NULL}};
    const rtm_layout *foreign = rtm_layout_new(other, "foreign", inner, 2);
    const rtm_layout *made[MAX_NESTED] = {rtm_layout_new(ctx, "seed", inner, 2)};
    size_t nmade = 1;
    static const char *const names[] = {"x", "y", "z", "w", "next", "kids", "", NULL};

    while (in.n > 0 && nmade < MAX_NESTED) {
        rtm_field f[MAX_FIELDS];
        size_t n = take(&in) % (MAX_FIELDS + 1);
        int valid = n > 0, used[8] = {0};
        size_t offset = 0, align = 1;
        size_t expect_offset[MAX_FIELDS];
        for (size_t i = 0; i < n; i++) {
            unsigned k = take(&in), c = take(&in), nm = take(&in);
            f[i].kind = (rtm_kind)(k % (RTM_KIND_LAST + 2)); /* 0 and LAST+1: invalid */
            f[i].count = c < 200 ? c % 9 : c < 250 ? (size_t)c * 1000 : (size_t)1 << (c - 200);
            f[i].layout = NULL;
            if (f[i].kind == RTM_KIND_RECORD) {
                unsigned pick = take(&in) % (nmade + 2);
                f[i].layout = pick < nmade ? made[pick] : pick == nmade ? foreign : NULL;
            } else if (take(&in) % 16 == 0) {
                f[i].layout = made[0]; /* a layout given with another kind */
            }
            /* names: mostly distinct "f<i>", some from a small set (repeats,
             * the empty name, NULL) */
            static char own[MAX_FIELDS][8];
            if (nm % 4 != 0) {
                snprintf(own[i], sizeof own[i], "f%zu", i);
                f[i].name = own[i];
            } else {
                unsigned j = (nm / 4) % 8;
                f[i].name = names[j];
                if (names[j] == NULL || names[j][0] == '\0' || used[j]++) valid = 0;
            }
            size_t es, ea, count = f[i].count ? f[i].count : 1;
            if (!elem_of(f[i].kind, f[i].layout, &es, &ea) || f[i].layout == foreign ||
                (f[i].kind != RTM_KIND_RECORD && f[i].layout != NULL)) {
                valid = 0;
                continue;
            }
            if (!valid) continue;
            offset = (offset + ea - 1) & ~(ea - 1);
            expect_offset[i] = offset;
            /* a record past RTM_MAX_ALLOC bytes is refused (checked here
             * without overflowing: each step stays below 2^47) */
            if (es != 0 && count > RTM_MAX_ALLOC / es) { valid = 0; continue; }
            offset += es * count;
            if (offset > RTM_MAX_ALLOC) { valid = 0; continue; }
            if (ea > align) align = ea;
        }
        size_t expect_size = (offset + align - 1) & ~(align - 1);
        if (valid && expect_size > RTM_MAX_ALLOC) valid = 0;

        cur_fields = f;
        cur_n = n;
        rtm_ctx_clear_error(ctx);
        rtm_layout *l = rtm_layout_new(ctx, (take(&in) & 1) ? "rec" : NULL, n ? f : NULL, n);
        if (l == NULL) {
            rtm_status why = rtm_ctx_error(ctx);
            /* the rules' only rejections here are invalid lists, or a record
             * past RTM_MAX_ALLOC (EINVAL as well) */
            if (valid && why != RTM_EINVAL) fail("a valid list rejected", 0);
            if (why != RTM_EINVAL && why != RTM_ELIMIT && why != RTM_ENOMEM) fail("status", 0);
        } else {
            if (!valid) fail("an invalid list accepted", 0);
            if (rtm_layout_size(l) != expect_size) fail("size", n);
            if (rtm_layout_align(l) != align) fail("align", n);
            if (rtm_layout_field_count(l) != n) fail("count", n);
            for (size_t i = 0; i < n; i++) {
                rtm_field_info fi;
                if (rtm_layout_field(l, i, &fi) != RTM_OK) fail("field info", i);
                if (fi.offset != expect_offset[i]) fail("offset", i);
                if (fi.kind != f[i].kind || fi.count != (f[i].count ? f[i].count : 1)) fail("kind", i);
                if (strcmp(fi.name, f[i].name) != 0) fail("name", i);
                if (rtm_layout_find(l, f[i].name) != (long)i) fail("find", i);
                if (rtm_layout_offset(l, f[i].name) != (long)expect_offset[i]) fail("offset by name", i);
            }
            made[nmade++] = l;
        }
        if (rtm_ctx_check(ctx) != RTM_OK) fail("context check", 0);
    }
    rtm_ctx_destroy(other);
    rtm_ctx_destroy(ctx);
    return 0;
}
