/*
 * buf.c: aligned, growable byte buffers.
 *
 * A buffer's header lives at the start of a page of its own, so the rtm_buf
 * pointer never moves. While the data fits, it lives in the rest of that
 * page (inline), at the first offset aligned as asked; past that, or for an
 * alignment of a page or more, the data has a page range of its own, which
 * grows with _rtm_pages_remap: the kernel moves the pages, nothing is copied
 * (a page source without remap gets a fresh range and a copy).
 *
 * Under ASan the bytes in [len, cap) are poisoned, so a write past the
 * length is reported as an overflow of the buffer.
 */
#include "internal.h"
#include "track.h"

#include <string.h>

#define BUF_PAGE ((size_t)RTM_OS_PAGE)

struct rtm_buf {
    rtm_owned owned;
    char *data;   /* NULL while cap is 0 */
    size_t len, cap;
    size_t align;
    size_t range; /* bytes of the data's own page range; 0: inline or none */
};

#define BUF_OF(o) ((rtm_buf *)(void *)((char *)(o) - offsetof(rtm_buf, owned)))

/* Where inline data starts in the header's page, for an alignment. */
static inline size_t inline_offset(size_t align) { return rtm_align_up(sizeof(rtm_buf), align); }

static inline size_t range_align(const rtm_buf *b) { return b->align > BUF_PAGE ? b->align : BUF_PAGE; }

static inline rtm_ctx *buf_ctx(const rtm_buf *b) { return b->owned.ctx; }

/* ---- poisoning the part past the length ----------------------------------- */

static inline void tail_poison(rtm_buf *b, size_t from)
{
    if (from < b->cap) rtm_track_noaccess(b->data + from, b->cap - from);
}

static inline void tail_open(rtm_buf *b, size_t from, size_t to)
{
    if (from < to) rtm_track_undefined(b->data + from, to - from);
}

/* ---- growth ----------------------------------------------------------------- */

/* Makes the capacity at least want (<= RTM_MAX_ALLOC). Nothing changes on
 * failure. */
static RTM_COLD rtm_status buf_grow(rtm_buf *b, size_t want, const char *where)
{
    rtm_ctx *ctx = buf_ctx(b);
    size_t size = _rtm_pages_round(want);
    rtm_status why = RTM_OK;
    if (b->range != 0) {
        /* Let the pages move; the tools must not see the old range poisoned. */
        rtm_track_internal(b->data, b->range);
        char *q = _rtm_pages_remap(ctx, b->data, b->range, size, range_align(b), &why);
        if (q != NULL) {
            b->data = q;
            b->range = b->cap = size;
            tail_poison(b, b->len);
            return RTM_OK;
        }
        tail_poison(b, b->len);
        if (why != RTM_EINVAL) return _rtm_fail(ctx, why, where);
        /* The source cannot remap: copy below. */
    }
    char *q = _rtm_pages_alloc(ctx, size, range_align(b), RTM_PAGES_MAY_COLLECT, &why);
    if (q == NULL) return _rtm_fail(ctx, why, where);
    if (b->len != 0) memcpy(q, b->data, b->len);
    if (b->range != 0) {
        rtm_track_internal(b->data, b->range);
        _rtm_pages_free(ctx, b->data, b->range);
    } else if (b->cap != 0) {
        rtm_track_noaccess(b->data, b->cap); /* the inline area, unused now */
    }
    b->data = q;
    b->range = b->cap = size;
    tail_poison(b, b->len);
    return RTM_OK;
}

/* Room for len + n bytes, at least doubling: appends cost O(1) amortized. */
static rtm_status buf_room(rtm_buf *b, size_t n, size_t *end, const char *where)
{
    if (rtm_add_overflow(b->len, n, end) || *end > RTM_MAX_ALLOC)
        return _rtm_fail(buf_ctx(b), RTM_EINVAL, where);
    if (RTM_LIKELY(*end <= b->cap)) return RTM_OK;
    size_t want = b->cap * 2;
    if (want < *end) want = *end;
    if (want > RTM_MAX_ALLOC) want = RTM_MAX_ALLOC;
    return buf_grow(b, want, where);
}

/* ---- the API ------------------------------------------------------------------ */

static const rtm_owned_ops buf_ops;

rtm_buf *rtm_buf_new(rtm_ctx *ctx, size_t align)
{
    if (ctx == NULL) return NULL;
    if (align == 0) align = RTM_SIMD_ALIGN;
    if (!rtm_is_pow2(align) || align > RTM_BUF_MAX_ALIGN)
        return _rtm_fail_null(ctx, RTM_EINVAL, "rtm_buf_new");
    if (align < RTM_SIMD_ALIGN) align = RTM_SIMD_ALIGN;
    rtm_status why = RTM_OK;
    rtm_buf *b = _rtm_pages_alloc(ctx, BUF_PAGE, BUF_PAGE, RTM_PAGES_MAY_COLLECT, &why);
    if (b == NULL) return _rtm_fail_null(ctx, why, "rtm_buf_new");
    rtm_track_internal(b, sizeof *b);
    memset(b, 0, sizeof *b);
    b->align = align;
    if (inline_offset(align) < BUF_PAGE) {
        b->data = (char *)b + inline_offset(align);
        b->cap = BUF_PAGE - inline_offset(align);
        tail_poison(b, 0);
    }
    _rtm_owned_link(ctx, &b->owned, &buf_ops);
    return b;
}

void *rtm_buf_data(const rtm_buf *b) { return b ? b->data : NULL; }
size_t rtm_buf_len(const rtm_buf *b) { return b ? b->len : 0; }
size_t rtm_buf_cap(const rtm_buf *b) { return b ? b->cap : 0; }
size_t rtm_buf_align(const rtm_buf *b) { return b ? b->align : 0; }

rtm_status rtm_buf_reserve(rtm_buf *b, size_t cap)
{
    if (b == NULL) return RTM_EINVAL;
    if (cap > RTM_MAX_ALLOC) return _rtm_fail(buf_ctx(b), RTM_EINVAL, "rtm_buf_reserve");
    if (cap <= b->cap) return RTM_OK;
    return buf_grow(b, cap, "rtm_buf_reserve");
}

rtm_status rtm_buf_resize(rtm_buf *b, size_t len)
{
    if (b == NULL) return RTM_EINVAL;
    if (len > RTM_MAX_ALLOC) return _rtm_fail(buf_ctx(b), RTM_EINVAL, "rtm_buf_resize");
    if (len > b->cap) {
        rtm_status s = buf_grow(b, len, "rtm_buf_resize");
        if (s != RTM_OK) return s;
    }
    if (len > b->len) {
        tail_open(b, b->len, len);
        memset(b->data + b->len, 0, len - b->len);
    }
    b->len = len;
    tail_poison(b, len);
    return RTM_OK;
}

rtm_status rtm_buf_append(rtm_buf *b, const void *data, size_t len)
{
    if (b == NULL) return RTM_EINVAL;
    if (len == 0) return RTM_OK;
    if (data == NULL) return _rtm_fail(buf_ctx(b), RTM_EINVAL, "rtm_buf_append");
    /* The source may be the buffer itself, which growing may move. */
    const char *src = data;
    bool self = b->data != NULL && src >= b->data && src < b->data + b->len;
    size_t self_off = self ? (size_t)(src - b->data) : 0;
    size_t end;
    rtm_status s = buf_room(b, len, &end, "rtm_buf_append");
    if (s != RTM_OK) return s;
    if (self) src = b->data + self_off;
    tail_open(b, b->len, end);
    memmove(b->data + b->len, src, len);
    b->len = end;
    return RTM_OK;
}

void *rtm_buf_extend(rtm_buf *b, size_t n)
{
    if (b == NULL) return NULL;
    if (n == 0) return _rtm_fail_null(buf_ctx(b), RTM_EINVAL, "rtm_buf_extend");
    size_t end;
    if (buf_room(b, n, &end, "rtm_buf_extend") != RTM_OK) return NULL;
    char *p = b->data + b->len;
    tail_open(b, b->len, end);
    b->len = end;
    return p;
}

void rtm_buf_clear(rtm_buf *b)
{
    if (b == NULL) return;
    b->len = 0;
    tail_poison(b, 0);
}

void rtm_buf_destroy(rtm_buf *b)
{
    if (b == NULL) return;
    rtm_ctx *ctx = buf_ctx(b);
    _rtm_owned_unlink(&b->owned);
    if (b->range != 0) {
        rtm_track_internal(b->data, b->range);
        _rtm_pages_free(ctx, b->data, b->range);
    }
    rtm_track_internal(b, BUF_PAGE);
    _rtm_pages_free(ctx, b, BUF_PAGE);
}

/* ---- the buffer as an owned object ---------------------------------------- */

static void buf_destroy_owned(rtm_owned *o) { rtm_buf_destroy(BUF_OF(o)); }

static rtm_status buf_check(rtm_owned *o)
{
    const rtm_buf *b = BUF_OF(o);
    if (!rtm_is_pow2(b->align) || b->align < RTM_SIMD_ALIGN || b->align > RTM_BUF_MAX_ALIGN)
        return RTM_EINVAL;
    if (b->len > b->cap || ((uintptr_t)b->data & (b->align - 1)) != 0) return RTM_EINVAL;
    if (b->range != 0) /* its own range, all of it usable */
        return b->cap == b->range && b->range % BUF_PAGE == 0 ? RTM_OK : RTM_EINVAL;
    if (b->data == NULL) /* none yet */
        return b->cap == 0 && b->len == 0 ? RTM_OK : RTM_EINVAL;
    size_t off = inline_offset(b->align);
    return b->data == (const char *)b + off && b->cap == BUF_PAGE - off ? RTM_OK : RTM_EINVAL;
}

static void buf_stats(const rtm_owned *o, rtm_stats *out)
{
    const rtm_buf *b = BUF_OF(o);
    out->bufs_live += 1;
    out->buf_bytes += BUF_PAGE + b->range;
    out->bytes_in_use += b->len;
}

static const rtm_owned_ops buf_ops = {
    "buffer", RTM_ORDER_BUF, buf_destroy_owned, buf_check, NULL, buf_stats, NULL,
};
