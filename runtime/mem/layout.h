/*
 * layout.h: the inside of a layout, for the parts built over layouts (pools,
 * batches) and for white-box tests. Users see only the functions of rtmem.h.
 *
 * A layout is one block of context pages: this header, the fields, their
 * names, a small open-addressing hash of the names, and the libffi types
 * that computed the layout (kept, since a layout nested in another is a
 * struct element of the outer one's ffi_type).
 */
#ifndef RTM_LAYOUT_H
#define RTM_LAYOUT_H

#include "internal.h"

#include <ffi.h>

#define RTM_LAYOUT_MAGIC 0x4C41594Fu /* "LAYO": catches a pointer of the wrong type */

typedef struct rtm_lfield {
    const char *name;         /* NUL-terminated copy */
    size_t name_len;
    uint32_t hash;            /* of the name (rtm_layout_hash) */
    rtm_kind kind;
    size_t count;             /* >= 1 */
    size_t offset;
    size_t size;              /* count * elem_size */
    size_t elem_size;
    const rtm_layout *layout; /* RTM_KIND_RECORD */
} rtm_lfield;

struct rtm_layout {
    rtm_owned owned;          /* in the context's list, RTM_ORDER_LAYOUT */
    uint32_t magic;           /* RTM_LAYOUT_MAGIC */
    uint32_t hash_mask;       /* slots - 1, a power of two minus one */
    size_t bytes;             /* pages held by this layout */
    const char *name;
    size_t size, align;
    size_t nfields;
    rtm_lfield *fields;
    uint32_t *hash;           /* field index + 1 per slot; 0: empty */
    ffi_type type;            /* FFI_TYPE_STRUCT, initialized by libffi */
};

/* A layout pointer that is really a layout (NULL-safe). */
static inline bool _rtm_layout_valid(const rtm_layout *l)
{
    return l != NULL && l->magic == RTM_LAYOUT_MAGIC;
}

/* The context a layout belongs to. */
static inline rtm_ctx *_rtm_layout_ctx(const rtm_layout *l) { return l->owned.ctx; }

#endif /* RTM_LAYOUT_H */
