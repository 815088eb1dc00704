/*
 * layout.c: records declared at run time, laid out by libffi.
 *
 * Each field becomes one element of a struct ffi_type, and libffi's
 * ffi_get_struct_offsets computes the offsets, the size (tail padding
 * included) and the alignment exactly as the platform's C ABI does. Scalars
 * map to libffi's own types; rtm_str and rtm_handle are small struct types;
 * a nested record is the nested layout's own struct type; a fixed array is
 * a struct type built from power-of-two blocks (see array_type).
 *
 * A layout lives in one block of context pages (no malloc anywhere), is
 * immutable once made, and is freed with its context.
 */
#include "layout.h"

#include <string.h>

_Static_assert(sizeof(_Bool) == 1, "RTM_KIND_BOOL is laid out as one byte (libffi's uint8)");

/* ---- the struct kinds ----------------------------------------------------
 * rtm_str and rtm_handle are laid out as the structs they are. Their types
 * are shared by every layout of the process and initialized once, by
 * libffi, before any layout reads them. */

#if SIZE_MAX == UINT64_MAX
#  define FFI_TYPE_SIZE_T (&ffi_type_uint64)
#else
#  define FFI_TYPE_SIZE_T (&ffi_type_uint32)
#endif

static ffi_type *str_elements[] = {&ffi_type_pointer, FFI_TYPE_SIZE_T, NULL};
static ffi_type str_type = {0, 0, FFI_TYPE_STRUCT, str_elements};
static ffi_type *handle_elements[] = {&ffi_type_uint64, NULL};
static ffi_type handle_type = {0, 0, FFI_TYPE_STRUCT, handle_elements};
static pthread_once_t struct_kinds_once = PTHREAD_ONCE_INIT;
static bool struct_kinds_ok;

static void struct_kinds_init(void)
{
    size_t offsets[2];
    struct_kinds_ok = ffi_get_struct_offsets(FFI_DEFAULT_ABI, &str_type, offsets) == FFI_OK &&
                      ffi_get_struct_offsets(FFI_DEFAULT_ABI, &handle_type, offsets) == FFI_OK;
}

/* The type of one element of a field of this kind (records aside). */
static ffi_type *kind_type(rtm_kind kind)
{
    switch (kind) {
    case RTM_KIND_I8: return &ffi_type_sint8;
    case RTM_KIND_I16: return &ffi_type_sint16;
    case RTM_KIND_I32: return &ffi_type_sint32;
    case RTM_KIND_I64: return &ffi_type_sint64;
    case RTM_KIND_U8: return &ffi_type_uint8;
    case RTM_KIND_U16: return &ffi_type_uint16;
    case RTM_KIND_U32: return &ffi_type_uint32;
    case RTM_KIND_U64: return &ffi_type_uint64;
    case RTM_KIND_F32: return &ffi_type_float;
    case RTM_KIND_F64: return &ffi_type_double;
    case RTM_KIND_PTR: return &ffi_type_pointer;
    case RTM_KIND_SYM: return &ffi_type_uint32;
    case RTM_KIND_HANDLE: return &handle_type;
    case RTM_KIND_BOOL: return &ffi_type_uint8;
    case RTM_KIND_STR: return &str_type;
    case RTM_KIND_RECORD: break;
    }
    return NULL;
}

/* ---- names ----------------------------------------------------------------- */

/* FNV-1a: short names, few of them; good enough and branch-free. */
static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

long rtm_layout_find_n(const rtm_layout *l, const char *field, size_t len)
{
    if (!_rtm_layout_valid(l) || field == NULL) return -1;
    uint32_t h = name_hash(field, len);
    for (uint32_t i = h & l->hash_mask;; i = (i + 1) & l->hash_mask) {
        uint32_t e = l->hash[i];
        if (e == 0) return -1;
        const rtm_lfield *f = &l->fields[e - 1];
        if (f->hash == h && f->name_len == len && memcmp(f->name, field, len) == 0)
            return (long)(e - 1);
    }
}

long rtm_layout_find(const rtm_layout *l, const char *field)
{
    if (field == NULL) return -1;
    return rtm_layout_find_n(l, field, strlen(field));
}

/* ---- planning: validate every field and size the block ------------------- */

/* The element type of a field (NULL: the field is invalid). */
static ffi_type *field_elem_type(rtm_ctx *ctx, const rtm_field *f)
{
    if (f->kind == RTM_KIND_RECORD) {
        if (!_rtm_layout_valid(f->layout) || _rtm_layout_ctx(f->layout) != ctx) return NULL;
        return (ffi_type *)&f->layout->type;
    }
    if (f->layout != NULL) return NULL;
    return kind_type(f->kind);
}

static unsigned bit_count(size_t x) { return (unsigned)__builtin_popcountll((unsigned long long)x); }

typedef struct plan {
    size_t names;     /* bytes of the name copies, NULs included */
    size_t types;     /* ffi_types for arrays */
    size_t elements;  /* element pointers for those types */
    size_t slots;     /* hash slots */
} plan;

/* Checks every field; RTM_OK and the plan, or RTM_EINVAL. */
static rtm_status plan_fields(rtm_ctx *ctx, const char *name, const rtm_field *fields, size_t n,
                              plan *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->names = strlen(name) + 1;
    size_t bound = 0; /* an upper bound of the record's size */
    for (size_t i = 0; i < n; i++) {
        const rtm_field *f = &fields[i];
        if (f->name == NULL || f->name[0] == '\0') return RTM_EINVAL;
        ffi_type *elem = field_elem_type(ctx, f);
        if (elem == NULL) return RTM_EINVAL;
        size_t count = f->count ? f->count : 1, bytes;
        if (rtm_mul_overflow(count, elem->size, &bytes) || bytes > RTM_MAX_ALLOC)
            return RTM_EINVAL;
        bound += bytes + elem->alignment; /* both terms under 2^47: no overflow */
        if (bound > RTM_MAX_ALLOC) return RTM_EINVAL;
        if (count > 1) {
            /* see array_type: one block type per bit above the lowest, and
             * one struct of the blocks unless count is a power of two */
            unsigned blocks = rtm_bit_length(count) - 1, joins = bit_count(count) > 1;
            pl->types += blocks + joins;
            pl->elements += 3 * (size_t)blocks + (joins ? bit_count(count) + 1 : 0);
        }
        if (rtm_add_overflow(pl->names, strlen(f->name) + 1, &pl->names)) return RTM_EINVAL;
    }
    pl->slots = 4;
    while (pl->slots < 2 * n) pl->slots *= 2;
    return RTM_OK;
}

/* ---- building ---------------------------------------------------------------- */

/* Carves the layout's block in order. Sizes were bounded by the plan. */
typedef struct bump {
    char *at;
} bump;

static void *bump_take(bump *b, size_t size, size_t align)
{
    char *p = (char *)rtm_align_ptr((uintptr_t)b->at, align);
    b->at = p + size;
    return p;
}

static size_t block_bytes(size_t n, const plan *pl)
{
    /* every piece rounded up to 16 is more than bump_take's padding */
    size_t total = sizeof(rtm_layout) + 16;
    total += n * sizeof(rtm_lfield) + 16;
    total += n * sizeof(size_t) + 16;                  /* offsets from libffi */
    total += pl->slots * sizeof(uint32_t) + 16;
    total += (n + 1) * sizeof(ffi_type *) + 16;        /* the struct's elements */
    total += pl->types * sizeof(ffi_type) + 16;
    total += pl->elements * sizeof(ffi_type *) + 16;
    total += pl->names;
    return total;
}

/* The type of T[count], as libffi sees it. A struct of count T would need
 * count element pointers; instead T[count] is built from power-of-two blocks
 * B0 = T, B(i+1) = struct {Bi, Bi}, as the struct of the Bi of the bits set in
 * count. Every block's size is a multiple of T's alignment and its alignment
 * is T's, so no padding appears between blocks: the struct has exactly the
 * size and alignment of the array, and libffi computes each block. */
static ffi_type *array_type(bump *b, ffi_type *elem, size_t count)
{
    ffi_type *block[64];
    size_t offsets[64];
    unsigned top = rtm_bit_length(count) - 1;
    block[0] = elem;
    for (unsigned i = 1; i <= top; i++) {
        ffi_type *t = bump_take(b, sizeof *t, _Alignof(ffi_type));
        ffi_type **el = bump_take(b, 3 * sizeof *el, _Alignof(ffi_type *));
        el[0] = el[1] = block[i - 1];
        el[2] = NULL;
        *t = (ffi_type){0, 0, FFI_TYPE_STRUCT, el};
        if (ffi_get_struct_offsets(FFI_DEFAULT_ABI, t, offsets) != FFI_OK) return NULL;
        block[i] = t;
    }
    if (bit_count(count) == 1) return block[top];
    ffi_type *t = bump_take(b, sizeof *t, _Alignof(ffi_type));
    ffi_type **el = bump_take(b, (bit_count(count) + 1) * sizeof *el, _Alignof(ffi_type *));
    size_t k = 0;
    for (unsigned i = top + 1; i-- > 0;)
        if ((count >> i) & 1) el[k++] = block[i];
    el[k] = NULL;
    *t = (ffi_type){0, 0, FFI_TYPE_STRUCT, el};
    if (ffi_get_struct_offsets(FFI_DEFAULT_ABI, t, offsets) != FFI_OK) return NULL;
    return t;
}

static char *copy_name(bump *b, const char *s, size_t len)
{
    char *d = bump_take(b, len + 1, 1);
    memcpy(d, s, len + 1);
    return d;
}

/* Fills the block; RTM_OK, or RTM_EINVAL for a duplicate name (or a type
 * libffi refused, which the plan should have made impossible). */
static rtm_status build(rtm_layout *l, bump *b, const char *name, const rtm_field *fields,
                        size_t n, const plan *pl)
{
    rtm_ctx *ctx = l->owned.ctx;
    l->fields = bump_take(b, n * sizeof *l->fields, _Alignof(rtm_lfield));
    size_t *offsets = bump_take(b, n * sizeof *offsets, _Alignof(size_t));
    l->hash = bump_take(b, pl->slots * sizeof *l->hash, _Alignof(uint32_t));
    memset(l->hash, 0, pl->slots * sizeof *l->hash);
    l->hash_mask = (uint32_t)(pl->slots - 1);
    ffi_type **elements = bump_take(b, (n + 1) * sizeof *elements, _Alignof(ffi_type *));

    for (size_t i = 0; i < n; i++) {
        const rtm_field *f = &fields[i];
        rtm_lfield *lf = &l->fields[i];
        ffi_type *elem = field_elem_type(ctx, f);
        lf->count = f->count ? f->count : 1;
        lf->kind = f->kind;
        lf->layout = f->kind == RTM_KIND_RECORD ? f->layout : NULL;
        lf->elem_size = elem->size;
        elements[i] = lf->count > 1 ? array_type(b, elem, lf->count) : elem;
        if (elements[i] == NULL) return RTM_EINVAL;
        lf->name_len = strlen(f->name);
        lf->name = copy_name(b, f->name, lf->name_len);
        lf->hash = name_hash(lf->name, lf->name_len);
        if (rtm_layout_find_n(l, lf->name, lf->name_len) >= 0) return RTM_EINVAL;
        uint32_t slot = lf->hash & l->hash_mask;
        while (l->hash[slot] != 0) slot = (slot + 1) & l->hash_mask;
        l->hash[slot] = (uint32_t)i + 1;
    }
    elements[n] = NULL;
    l->name = copy_name(b, name, strlen(name));

    l->type = (ffi_type){0, 0, FFI_TYPE_STRUCT, elements};
    if (ffi_get_struct_offsets(FFI_DEFAULT_ABI, &l->type, offsets) != FFI_OK) return RTM_EINVAL;
    for (size_t i = 0; i < n; i++) {
        l->fields[i].offset = offsets[i];
        l->fields[i].size = elements[i]->size;
    }
    l->size = l->type.size;
    l->align = l->type.alignment;
    return RTM_OK;
}

/* ---- the owned object -------------------------------------------------------- */

static void layout_destroy(rtm_owned *o)
{
    rtm_layout *l = (rtm_layout *)o;
    _rtm_owned_unlink(o);
    l->magic = 0;
    _rtm_pages_free(o->ctx, l, l->bytes);
}

/* Every field where the hash finds it, in order, inside the record, and the
 * record's size a multiple of its alignment. */
static rtm_status layout_check(rtm_owned *o)
{
    const rtm_layout *l = (const rtm_layout *)o;
    if (l->magic != RTM_LAYOUT_MAGIC || l->nfields == 0 || !rtm_is_pow2(l->align) ||
        l->size % l->align != 0)
        return RTM_EINVAL;
    size_t end = 0;
    for (size_t i = 0; i < l->nfields; i++) {
        const rtm_lfield *f = &l->fields[i];
        if (f->offset < end || f->count == 0 || f->size != f->count * f->elem_size ||
            f->offset + f->size > l->size || f->hash != name_hash(f->name, f->name_len) ||
            rtm_layout_find_n(l, f->name, f->name_len) != (long)i)
            return RTM_EINVAL;
        end = f->offset + f->size;
    }
    return RTM_OK;
}

static void layout_stats(const rtm_owned *o, rtm_stats *out)
{
    const rtm_layout *l = (const rtm_layout *)o;
    out->layouts_live += 1;
    out->layout_bytes += _rtm_pages_round(l->bytes); /* what the page source holds for it */
}

static const rtm_owned_ops layout_ops = {
    "layout", RTM_ORDER_LAYOUT, layout_destroy, layout_check, NULL, layout_stats, NULL,
};

rtm_layout *rtm_layout_new(rtm_ctx *ctx, const char *name, const rtm_field *fields, size_t n)
{
    static const char where[] = "rtm_layout_new";
    if (ctx == NULL) return NULL;
    if (fields == NULL || n == 0 || n > RTM_LAYOUT_MAX_FIELDS)
        return _rtm_fail_null(ctx, RTM_EINVAL, where);
    pthread_once(&struct_kinds_once, struct_kinds_init);
    if (!struct_kinds_ok) return _rtm_fail_null(ctx, RTM_EINVAL, where);
    if (name == NULL) name = "";

    plan pl;
    rtm_status s = plan_fields(ctx, name, fields, n, &pl);
    if (s != RTM_OK) return _rtm_fail_null(ctx, s, where);
    size_t bytes = block_bytes(n, &pl);
    rtm_layout *l = _rtm_pages_alloc(ctx, bytes, RTM_OS_PAGE, RTM_PAGES_MAY_COLLECT, &s);
    if (l == NULL) return _rtm_fail_null(ctx, s, where);

    memset(l, 0, sizeof *l);
    l->owned.ctx = ctx;
    l->bytes = bytes;
    l->nfields = n;
    l->magic = RTM_LAYOUT_MAGIC;
    bump b = {(char *)(l + 1)};
    s = build(l, &b, name, fields, n, &pl);
    rtm_assert((size_t)(b.at - (char *)l) <= bytes);
    if (s != RTM_OK) {
        _rtm_pages_free(ctx, l, bytes);
        return _rtm_fail_null(ctx, s, where);
    }
    _rtm_owned_link(ctx, &l->owned, &layout_ops);
    return l;
}

/* ---- queries ------------------------------------------------------------------ */

size_t rtm_layout_size(const rtm_layout *l) { return _rtm_layout_valid(l) ? l->size : 0; }
size_t rtm_layout_align(const rtm_layout *l) { return _rtm_layout_valid(l) ? l->align : 0; }
const char *rtm_layout_name(const rtm_layout *l) { return _rtm_layout_valid(l) ? l->name : NULL; }
size_t rtm_layout_field_count(const rtm_layout *l) { return _rtm_layout_valid(l) ? l->nfields : 0; }

long rtm_layout_offset(const rtm_layout *l, const char *field)
{
    long i = rtm_layout_find(l, field);
    return i < 0 ? -1 : (long)l->fields[i].offset;
}

rtm_status rtm_layout_field(const rtm_layout *l, size_t i, rtm_field_info *out)
{
    if (!_rtm_layout_valid(l) || out == NULL || i >= l->nfields) return RTM_EINVAL;
    const rtm_lfield *f = &l->fields[i];
    *out = (rtm_field_info){f->name, f->kind, f->count, f->offset, f->size, f->elem_size, f->layout};
    return RTM_OK;
}
