//! The raw C API of `include/rtmem.h`, one item per item of the header.
//!
//! Hand-written, in the header's order. `tests/sys_layout.rs` proves it
//! matches: the size, alignment and field offsets of every struct, and the
//! value of every constant and enumerator, as the C compiler sees them (a
//! probe that `build.rs` generates by reading the header and compiles), and
//! it fails when the header gains an item this module lacks. The keyword ids
//! of `rtmem_keywords.h` are generated from that header by `build.rs`.
//!
//! Every function here is `unsafe` and follows the header's contract
//! comments; the safe API is the rest of the crate. The header's
//! `static inline` functions are written again in Rust below them
//! (`rtm_arena_alloc_inline`, the lease functions, `rtm_ctx_stats`, ...).
#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case, missing_docs)]
#![allow(clippy::missing_safety_doc)]

use std::marker::{PhantomData, PhantomPinned};
use std::os::raw::{c_char, c_int, c_long, c_uint, c_void};

macro_rules! opaque {
    ($($(#[$m:meta])* $name:ident;)*) => {$(
        $(#[$m])*
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
    )*};
}

opaque! {
    /// `FILE` of the C library, for `rtm_stats_write`.
    FILE;
    rtm_ctx;
    rtm_arena;
    rtm_buf;
    rtm_layout;
    rtm_pool;
    rtm_interner;
    rtm_batch;
}

// ---- version ---------------------------------------------------------------------------

pub const RTM_VERSION_MAJOR: c_uint = 0;
pub const RTM_VERSION_MINOR: c_uint = 1;
pub const RTM_VERSION_PATCH: c_uint = 0;
pub const RTM_VERSION: &str = "0.1.0";

// ---- status codes ----------------------------------------------------------------------

pub type rtm_status = c_uint;
pub const RTM_OK: rtm_status = 0;
pub const RTM_ENOMEM: rtm_status = 1;
pub const RTM_ELIMIT: rtm_status = 2;
pub const RTM_EINVAL: rtm_status = 3;
pub const RTM_ESTALE: rtm_status = 4;
pub const RTM_EFOREIGN: rtm_status = 5;
pub const RTM_ETYPE: rtm_status = 6;
pub const RTM_STATUS_COUNT: c_uint = 7;

// ---- page source -----------------------------------------------------------------------

#[repr(C)]
#[derive(Clone, Copy)]
pub struct rtm_page_source {
    pub reserve: Option<unsafe extern "C" fn(ud: *mut c_void, size: usize, align: usize) -> *mut c_void>,
    pub release: Option<unsafe extern "C" fn(ud: *mut c_void, p: *mut c_void, size: usize)>,
    pub remap: Option<
        unsafe extern "C" fn(
            ud: *mut c_void,
            p: *mut c_void,
            old_size: usize,
            new_size: usize,
            align: usize,
        ) -> *mut c_void,
    >,
    pub ud: *mut c_void,
    pub flags: c_uint,
}

pub const RTM_PAGES_ZEROED: c_uint = 1;

// ---- the context -----------------------------------------------------------------------

pub const RTM_CTX_DEBUG: c_uint = 1;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct rtm_config {
    pub limit_bytes: usize,
    pub keywords: *const *const c_char,
    pub pages: *const rtm_page_source,
    pub flags: c_uint,
}

pub type rtm_collect_fn =
    Option<unsafe extern "C" fn(ud: *mut c_void, ctx: *mut rtm_ctx, bytes_wanted: usize)>;
pub type rtm_error_fn = Option<unsafe extern "C" fn(ud: *mut c_void, s: rtm_status, where_: *const c_char)>;

pub type rtm_visit_kind = c_uint;
pub const RTM_VISIT_HEAP_BLOCK: rtm_visit_kind = 1;
pub const RTM_VISIT_LARGE_BLOCK: rtm_visit_kind = 2;
pub const RTM_VISIT_ARENA_CHUNK: rtm_visit_kind = 3;
pub const RTM_VISIT_POOL_SLAB: rtm_visit_kind = 4;
pub type rtm_visit_fn =
    Option<unsafe extern "C" fn(ud: *mut c_void, kind: rtm_visit_kind, p: *mut c_void, size: usize) -> c_int>;

// ---- the heap --------------------------------------------------------------------------

pub const RTM_SMALL_MAX: usize = 8192;
pub const RTM_HEAP_CLASSES: usize = 64;
pub const RTM_MAX_ALLOC: usize = 1 << 46;

// ---- arenas ----------------------------------------------------------------------------

pub const RTM_ARENA_GRAIN: usize = 8;
pub const RTM_ARENA_MAX_ALIGN: usize = 4096;
pub const RTM_ARENA_CHUNK_MIN: usize = 16 << 10;
pub const RTM_ARENA_CHUNK_MAX: usize = 1 << 20;
pub const RTM_ARENA_CACHE_MAX: usize = 8 << 20;

/// Private in C: the cursor an arena begins with, which the inline fast
/// path bumps (and so does [`crate::Arena`]).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rtm_arena_cursor {
    pub ptr: *mut c_char,
    pub end: *mut c_char,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct rtm_arena_mark {
    pub arena: u64,
    pub serial: u64,
    pub pos: usize,
}

#[repr(C)]
pub struct rtm_arena_lease {
    pub cur: rtm_arena_cursor,
    pub arena: *mut rtm_arena,
    pub ticket: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct rtm_arena_lease_step {
    pub p: *mut c_void,
    pub cur: rtm_arena_cursor,
}

// ---- aligned buffers -------------------------------------------------------------------

pub const RTM_SIMD_ALIGN: usize = 32;
pub const RTM_BUF_MAX_ALIGN: usize = 2 << 20;

// ---- layouts ---------------------------------------------------------------------------

pub type rtm_kind = c_uint;
pub const RTM_KIND_I8: rtm_kind = 1;
pub const RTM_KIND_I16: rtm_kind = 2;
pub const RTM_KIND_I32: rtm_kind = 3;
pub const RTM_KIND_I64: rtm_kind = 4;
pub const RTM_KIND_U8: rtm_kind = 5;
pub const RTM_KIND_U16: rtm_kind = 6;
pub const RTM_KIND_U32: rtm_kind = 7;
pub const RTM_KIND_U64: rtm_kind = 8;
pub const RTM_KIND_F32: rtm_kind = 9;
pub const RTM_KIND_F64: rtm_kind = 10;
pub const RTM_KIND_PTR: rtm_kind = 11;
pub const RTM_KIND_SYM: rtm_kind = 12;
pub const RTM_KIND_HANDLE: rtm_kind = 13;
pub const RTM_KIND_BOOL: rtm_kind = 14;
pub const RTM_KIND_STR: rtm_kind = 15;
pub const RTM_KIND_RECORD: rtm_kind = 16;
pub const RTM_KIND_LAST: rtm_kind = RTM_KIND_RECORD;
pub const RTM_LAYOUT_MAX_FIELDS: usize = 65536;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct rtm_field {
    pub name: *const c_char,
    pub kind: rtm_kind,
    pub count: usize,
    pub layout: *const rtm_layout,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct rtm_str {
    pub ptr: *const c_char,
    pub len: usize,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct rtm_field_info {
    pub name: *const c_char,
    pub kind: rtm_kind,
    pub count: usize,
    pub offset: usize,
    pub size: usize,
    pub elem_size: usize,
    pub layout: *const rtm_layout,
}

// ---- pools -----------------------------------------------------------------------------

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct rtm_handle {
    pub bits: u64,
}

pub const RTM_HANDLE_POOL_BITS: c_uint = 18;
pub const RTM_HANDLE_GEN_BITS: c_uint = 22;
pub const RTM_HANDLE_SLOT_BITS: c_uint = 24;
/// `RTM_HANDLE_NULL`, a compound literal in C.
pub const RTM_HANDLE_NULL: rtm_handle = rtm_handle { bits: 0 };

pub const RTM_POOL_CONCURRENT: c_uint = 1;
pub const RTM_POOL_MAX_SIZE: usize = 1 << 20;
pub const RTM_POOL_MAX_ALIGN: usize = 4096;

pub type rtm_obj_fn = Option<unsafe extern "C" fn(ud: *mut c_void, obj: *mut c_void)>;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct rtm_type {
    pub name: *const c_char,
    pub size: usize,
    pub align: usize,
    pub layout: *const rtm_layout,
    pub init: rtm_obj_fn,
    pub fini: rtm_obj_fn,
    pub ctor: rtm_obj_fn,
    pub dtor: rtm_obj_fn,
    pub ud: *mut c_void,
    pub cap: usize,
    pub flags: c_uint,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct rtm_pool_info {
    pub name: *const c_char,
    pub size: u64,
    pub align: u64,
    pub stride: u64,
    pub cap: u64,
    pub live: u64,
    pub peak: u64,
    pub acquires: u64,
    pub releases: u64,
    pub hits: u64,
    pub misses: u64,
    pub slabs: u64,
    pub slab_bytes: u64,
    pub retired: u64,
    pub bad_releases: u64,
}

// ---- the interner ----------------------------------------------------------------------

pub type rtm_sym = u32;
pub const RTM_INTERN_MAX_LEN: usize = 1 << 30;
pub const RTM_SYM_MAX: u32 = 0xFFFF_FFFE;

/// The constants of `rtmem_keywords.h` (`RTM_KW_*`, `RTM_KWSET_*`), generated.
pub use crate::keywords::raw::*;

// ---- batches and kernels ---------------------------------------------------------------

pub const RTM_BATCH_MAX_COLUMNS: usize = 4096;
pub const RTM_BATCH_PAD: usize = 64;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct rtm_column_info {
    pub name: *const c_char,
    pub kind: rtm_kind,
    pub width: usize,
    pub offset: usize,
}

pub type rtm_simd = c_uint;
pub const RTM_SIMD_SCALAR: rtm_simd = 0;
pub const RTM_SIMD_SSE2: rtm_simd = 1;
pub const RTM_SIMD_AVX2: rtm_simd = 2;
pub const RTM_SIMD_AVX512: rtm_simd = 3;

pub type rtm_cmp = c_uint;
pub const RTM_CMP_LT: rtm_cmp = 1;
pub const RTM_CMP_LE: rtm_cmp = 2;
pub const RTM_CMP_EQ: rtm_cmp = 3;
pub const RTM_CMP_NE: rtm_cmp = 4;
pub const RTM_CMP_GE: rtm_cmp = 5;
pub const RTM_CMP_GT: rtm_cmp = 6;

/// `RTM_SEL_WORDS(n)`: the 64-bit words of a selection of n bits.
pub const fn RTM_SEL_WORDS(n: usize) -> usize {
    (n + 63) / 64
}

// ---- metrics ---------------------------------------------------------------------------

pub const RTM_STATS_VERSION: u32 = 1;
pub const RTM_LUA_TAGS: usize = 10;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rtm_class_stats {
    pub block_size: u64,
    pub allocs: u64,
    pub frees: u64,
    pub live_blocks: u64,
    pub pages: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct rtm_stats {
    pub size: u32,
    pub version: u32,
    pub page_bytes: u64,
    pub page_bytes_peak: u64,
    pub page_reserves: u64,
    pub page_releases: u64,
    pub page_failures: u64,
    pub limit_bytes: u64,
    pub limit_hits: u64,
    pub collect_calls: u64,
    pub errors: u64,
    pub bytes_in_use: u64,
    pub heap_bytes_in_use: u64,
    pub heap_bytes_peak: u64,
    pub heap_blocks_in_use: u64,
    pub heap_allocs: u64,
    pub heap_frees: u64,
    pub heap_reallocs: u64,
    pub heap_reallocs_in_place: u64,
    pub heap_pages: u64,
    pub heap_large_blocks: u64,
    pub heap_large_bytes: u64,
    pub heap_bad_frees: u64,
    pub classes: [rtm_class_stats; RTM_HEAP_CLASSES],
    pub lua_allocs_by_tag: [u64; RTM_LUA_TAGS],
    pub arenas_live: u64,
    pub arena_bytes_used: u64,
    pub arena_chunk_bytes: u64,
    pub arena_chunks: u64,
    pub arena_cache_chunks: u64,
    pub arena_cache_bytes: u64,
    pub arena_cache_hits: u64,
    pub arena_cache_misses: u64,
    pub bufs_live: u64,
    pub buf_bytes: u64,
    pub pools_live: u64,
    pub pool_objects_live: u64,
    pub pool_slabs: u64,
    pub pool_bytes: u64,
    pub pool_hits: u64,
    pub pool_misses: u64,
    pub pool_leaked: u64,
    pub intern_strings: u64,
    pub intern_string_bytes: u64,
    pub intern_table_bytes: u64,
    pub intern_lookups: u64,
    pub intern_hits: u64,
    pub intern_bytes_saved: u64,
    pub batches_live: u64,
    pub batch_rows: u64,
    pub batch_bytes: u64,
    pub layouts_live: u64,
    pub layout_bytes: u64,
}

pub type rtm_stats_format = c_uint;
pub const RTM_STATS_JSON: rtm_stats_format = 1;
pub const RTM_STATS_PROMETHEUS: rtm_stats_format = 2;

// ---- functions -------------------------------------------------------------------------

extern "C" {
    pub fn rtm_status_str(s: rtm_status) -> *const c_char;
    pub fn rtm_page_source_os() -> *const rtm_page_source;

    pub fn rtm_ctx_new(cfg: *const rtm_config) -> *mut rtm_ctx;
    pub fn rtm_ctx_new_ex(cfg: *const rtm_config, out: *mut *mut rtm_ctx) -> rtm_status;
    pub fn rtm_ctx_destroy(ctx: *mut rtm_ctx);
    pub fn rtm_ctx_error(ctx: *const rtm_ctx) -> rtm_status;
    pub fn rtm_ctx_clear_error(ctx: *mut rtm_ctx);
    pub fn rtm_ctx_trim(ctx: *mut rtm_ctx);
    pub fn rtm_ctx_check(ctx: *mut rtm_ctx) -> rtm_status;
    pub fn rtm_ctx_set_collect(ctx: *mut rtm_ctx, f: rtm_collect_fn, ud: *mut c_void);
    pub fn rtm_ctx_set_error_hook(ctx: *mut rtm_ctx, f: rtm_error_fn, ud: *mut c_void);
    pub fn rtm_ctx_visit(ctx: *mut rtm_ctx, f: rtm_visit_fn, ud: *mut c_void) -> rtm_status;

    pub fn rtm_alloc(ctx: *mut rtm_ctx, size: usize) -> *mut c_void;
    pub fn rtm_calloc(ctx: *mut rtm_ctx, n: usize, size: usize) -> *mut c_void;
    pub fn rtm_realloc(ctx: *mut rtm_ctx, p: *mut c_void, old_size: usize, new_size: usize) -> *mut c_void;
    pub fn rtm_free(ctx: *mut rtm_ctx, p: *mut c_void, size: usize);
    pub fn rtm_free_checked(ctx: *mut rtm_ctx, p: *mut c_void, size: usize) -> rtm_status;
    pub fn rtm_lua_alloc(ud: *mut c_void, ptr: *mut c_void, osize: usize, nsize: usize) -> *mut c_void;

    pub fn rtm_arena_new(ctx: *mut rtm_ctx) -> *mut rtm_arena;
    /// The exported function behind the header's `rtm_arena_alloc` macro.
    pub fn rtm_arena_alloc(a: *mut rtm_arena, size: usize, align: usize) -> *mut c_void;
    pub fn rtm_arena_alloc_slow(a: *mut rtm_arena, size: usize, align: usize) -> *mut c_void;
    pub fn rtm_arena_alloc_n(a: *mut rtm_arena, count: usize, size: usize, align: usize) -> *mut c_void;
    pub fn rtm_arena_alloc_zero(a: *mut rtm_arena, size: usize, align: usize) -> *mut c_void;
    pub fn rtm_arena_strdup(a: *mut rtm_arena, s: *const c_char, len: usize) -> *mut c_char;
    pub fn rtm_arena_save(a: *mut rtm_arena) -> rtm_arena_mark;
    pub fn rtm_arena_rewind(a: *mut rtm_arena, m: rtm_arena_mark) -> rtm_status;
    pub fn rtm_arena_reset(a: *mut rtm_arena);
    pub fn rtm_arena_destroy(a: *mut rtm_arena);
    pub fn rtm_arena_lease_open(
        a: *mut rtm_arena,
        cur: *mut rtm_arena_cursor,
        ticket: *mut u64,
    ) -> *mut rtm_arena;
    pub fn rtm_arena_lease_close(a: *mut rtm_arena, cur: rtm_arena_cursor, ticket: u64);
    pub fn rtm_arena_lease_alloc_slow(
        a: *mut rtm_arena,
        cur: rtm_arena_cursor,
        ticket: u64,
        size: usize,
        align: usize,
    ) -> rtm_arena_lease_step;

    pub fn rtm_buf_new(ctx: *mut rtm_ctx, align: usize) -> *mut rtm_buf;
    pub fn rtm_buf_data(b: *const rtm_buf) -> *mut c_void;
    pub fn rtm_buf_len(b: *const rtm_buf) -> usize;
    pub fn rtm_buf_cap(b: *const rtm_buf) -> usize;
    pub fn rtm_buf_align(b: *const rtm_buf) -> usize;
    pub fn rtm_buf_reserve(b: *mut rtm_buf, cap: usize) -> rtm_status;
    pub fn rtm_buf_resize(b: *mut rtm_buf, len: usize) -> rtm_status;
    pub fn rtm_buf_append(b: *mut rtm_buf, data: *const c_void, len: usize) -> rtm_status;
    pub fn rtm_buf_extend(b: *mut rtm_buf, n: usize) -> *mut c_void;
    pub fn rtm_buf_clear(b: *mut rtm_buf);
    pub fn rtm_buf_destroy(b: *mut rtm_buf);

    pub fn rtm_layout_new(
        ctx: *mut rtm_ctx,
        name: *const c_char,
        fields: *const rtm_field,
        n: usize,
    ) -> *mut rtm_layout;
    pub fn rtm_layout_size(l: *const rtm_layout) -> usize;
    pub fn rtm_layout_align(l: *const rtm_layout) -> usize;
    pub fn rtm_layout_name(l: *const rtm_layout) -> *const c_char;
    pub fn rtm_layout_field_count(l: *const rtm_layout) -> usize;
    pub fn rtm_layout_find(l: *const rtm_layout, field: *const c_char) -> c_long;
    pub fn rtm_layout_find_n(l: *const rtm_layout, field: *const c_char, len: usize) -> c_long;
    pub fn rtm_layout_offset(l: *const rtm_layout, field: *const c_char) -> c_long;
    pub fn rtm_layout_field(l: *const rtm_layout, i: usize, out: *mut rtm_field_info) -> rtm_status;

    pub fn rtm_pool_new(ctx: *mut rtm_ctx, ty: *const rtm_type) -> *mut rtm_pool;
    pub fn rtm_pool_destroy(p: *mut rtm_pool);
    pub fn rtm_pool_acquire(p: *mut rtm_pool) -> rtm_handle;
    pub fn rtm_pool_acquire_obj(p: *mut rtm_pool, obj: *mut *mut c_void) -> rtm_handle;
    pub fn rtm_pool_get(p: *mut rtm_pool, h: rtm_handle) -> *mut c_void;
    pub fn rtm_pool_release(p: *mut rtm_pool, h: rtm_handle) -> rtm_status;
    pub fn rtm_pool_alloc(p: *mut rtm_pool) -> *mut c_void;
    pub fn rtm_pool_free(p: *mut rtm_pool, obj: *mut c_void) -> rtm_status;
    pub fn rtm_pool_stats(p: *const rtm_pool, out: *mut rtm_pool_info) -> rtm_status;
    pub fn rtm_pool_keep_slabs(p: *mut rtm_pool, n: usize) -> rtm_status;
    pub fn rtm_handle_scope_end(h: *mut rtm_handle);

    pub fn rtm_ctx_interner(ctx: *mut rtm_ctx) -> *mut rtm_interner;
    pub fn rtm_interner_new(keywords: *const *const c_char) -> *mut rtm_interner;
    pub fn rtm_interner_new_ex(keywords: *const *const c_char, out: *mut *mut rtm_interner)
        -> rtm_status;
    pub fn rtm_interner_destroy(i: *mut rtm_interner);
    pub fn rtm_intern(i: *mut rtm_interner, s: *const c_char, len: usize) -> rtm_sym;
    pub fn rtm_intern_ex(i: *mut rtm_interner, s: *const c_char, len: usize, out: *mut rtm_sym)
        -> rtm_status;
    pub fn rtm_intern_find(i: *mut rtm_interner, s: *const c_char, len: usize) -> rtm_sym;
    pub fn rtm_sym_str(i: *mut rtm_interner, sym: rtm_sym, len: *mut usize) -> *const c_char;
    pub fn rtm_sym_is_keyword(i: *mut rtm_interner, sym: rtm_sym) -> c_int;
    pub fn rtm_interner_add_keywords(i: *mut rtm_interner, words: *const *const c_char) -> rtm_status;
    pub fn rtm_interner_error(i: *const rtm_interner) -> rtm_status;
    pub fn rtm_interner_clear_error(i: *mut rtm_interner);
    pub fn rtm_keyword_set_find(name: *const c_char) -> c_int;
    pub fn rtm_keyword_flags(set: c_uint, sym: rtm_sym) -> c_uint;
    pub fn rtm_interner_stats_sized(i: *const rtm_interner, out: *mut rtm_stats, out_size: usize);

    pub fn rtm_batch_new(ctx: *mut rtm_ctx, row: *const rtm_layout) -> *mut rtm_batch;
    pub fn rtm_batch_new_aligned(ctx: *mut rtm_ctx, row: *const rtm_layout, align: usize) -> *mut rtm_batch;
    pub fn rtm_batch_destroy(b: *mut rtm_batch);
    pub fn rtm_batch_len(b: *const rtm_batch) -> usize;
    pub fn rtm_batch_cap(b: *const rtm_batch) -> usize;
    pub fn rtm_batch_layout(b: *const rtm_batch) -> *const rtm_layout;
    pub fn rtm_batch_reserve(b: *mut rtm_batch, rows: usize) -> rtm_status;
    pub fn rtm_batch_clear(b: *mut rtm_batch);
    pub fn rtm_batch_push(b: *mut rtm_batch, row: *const c_void) -> rtm_status;
    pub fn rtm_batch_push_n(b: *mut rtm_batch, rows: *const c_void, n: usize) -> rtm_status;
    pub fn rtm_batch_get(b: *const rtm_batch, i: usize, row: *mut c_void) -> rtm_status;
    pub fn rtm_batch_get_n(b: *const rtm_batch, first: usize, n: usize, rows: *mut c_void) -> rtm_status;
    pub fn rtm_batch_set(b: *mut rtm_batch, i: usize, row: *const c_void) -> rtm_status;
    pub fn rtm_batch_gather(
        dst: *mut rtm_batch,
        src: *const rtm_batch,
        idx: *const u32,
        n: usize,
    ) -> rtm_status;
    pub fn rtm_batch_columns(b: *const rtm_batch) -> usize;
    pub fn rtm_batch_column_info(b: *const rtm_batch, col: usize, out: *mut rtm_column_info) -> rtm_status;
    pub fn rtm_batch_column(b: *mut rtm_batch, col: usize) -> *mut c_void;
    pub fn rtm_batch_column_as(b: *mut rtm_batch, col: usize, kind: rtm_kind) -> *mut c_void;
    pub fn rtm_batch_column_by_name(b: *mut rtm_batch, name: *const c_char) -> *mut c_void;
    pub fn rtm_batch_column_index(b: *const rtm_batch, name: *const c_char) -> c_long;

    pub fn rtm_simd_active() -> rtm_simd;
    pub fn rtm_simd_best() -> rtm_simd;
    pub fn rtm_simd_name(level: rtm_simd) -> *const c_char;
    pub fn rtm_simd_select(level: rtm_simd) -> rtm_status;

    pub fn rtm_col_sum_i32(x: *const i32, n: usize, out: *mut i64) -> rtm_status;
    pub fn rtm_col_sum_i64(x: *const i64, n: usize, out: *mut i64) -> rtm_status;
    pub fn rtm_col_sum_f32(x: *const f32, n: usize, out: *mut f64) -> rtm_status;
    pub fn rtm_col_sum_f64(x: *const f64, n: usize, out: *mut f64) -> rtm_status;
    pub fn rtm_col_mean_i32(x: *const i32, n: usize, out: *mut f64) -> rtm_status;
    pub fn rtm_col_mean_i64(x: *const i64, n: usize, out: *mut f64) -> rtm_status;
    pub fn rtm_col_mean_f32(x: *const f32, n: usize, out: *mut f64) -> rtm_status;
    pub fn rtm_col_mean_f64(x: *const f64, n: usize, out: *mut f64) -> rtm_status;
    pub fn rtm_col_min_i32(x: *const i32, n: usize, out: *mut i32) -> rtm_status;
    pub fn rtm_col_min_i64(x: *const i64, n: usize, out: *mut i64) -> rtm_status;
    pub fn rtm_col_min_f32(x: *const f32, n: usize, out: *mut f32) -> rtm_status;
    pub fn rtm_col_min_f64(x: *const f64, n: usize, out: *mut f64) -> rtm_status;
    pub fn rtm_col_max_i32(x: *const i32, n: usize, out: *mut i32) -> rtm_status;
    pub fn rtm_col_max_i64(x: *const i64, n: usize, out: *mut i64) -> rtm_status;
    pub fn rtm_col_max_f32(x: *const f32, n: usize, out: *mut f32) -> rtm_status;
    pub fn rtm_col_max_f64(x: *const f64, n: usize, out: *mut f64) -> rtm_status;
    pub fn rtm_col_cmp_i32(x: *const i32, n: usize, op: rtm_cmp, v: i32, bits: *mut u64) -> rtm_status;
    pub fn rtm_col_cmp_i64(x: *const i64, n: usize, op: rtm_cmp, v: i64, bits: *mut u64) -> rtm_status;
    pub fn rtm_col_cmp_f32(x: *const f32, n: usize, op: rtm_cmp, v: f32, bits: *mut u64) -> rtm_status;
    pub fn rtm_col_cmp_f64(x: *const f64, n: usize, op: rtm_cmp, v: f64, bits: *mut u64) -> rtm_status;
    pub fn rtm_sel_count(bits: *const u64, n: usize) -> usize;
    pub fn rtm_sel_indices(bits: *const u64, n: usize, idx: *mut u32) -> usize;
    pub fn rtm_col_gather_32(
        col: *const c_void,
        len: usize,
        idx: *const u32,
        n: usize,
        out: *mut c_void,
    ) -> rtm_status;
    pub fn rtm_col_gather_64(
        col: *const c_void,
        len: usize,
        idx: *const u32,
        n: usize,
        out: *mut c_void,
    ) -> rtm_status;
    pub fn rtm_col_axpy_f64(a: f64, x: *const f64, y: *mut f64, n: usize) -> rtm_status;

    pub fn rtm_ctx_stats_sized(ctx: *const rtm_ctx, out: *mut rtm_stats, out_size: usize);
    pub fn rtm_stats_write(ctx: *const rtm_ctx, f: *mut FILE, fmt: rtm_stats_format) -> c_int;
}

// ---- the header's static inline functions, in Rust ---------------------------------------

/// `rtm_arena_alloc_inline` (what C's `rtm_arena_alloc` macro expands to):
/// bumps the arena's cursor, or calls `rtm_arena_alloc_slow`.
#[inline(always)]
pub unsafe fn rtm_arena_alloc_inline(a: *mut rtm_arena, size: usize, align: usize) -> *mut c_void {
    let n = size.wrapping_add(RTM_ARENA_GRAIN - 1) & !(RTM_ARENA_GRAIN - 1);
    if !a.is_null() && align & align.wrapping_sub(1) == 0 && align.wrapping_sub(1) < RTM_ARENA_MAX_ALIGN {
        let c = a as *mut rtm_arena_cursor;
        let mut p = (*c).ptr as usize;
        if align > RTM_ARENA_GRAIN {
            p = (p + (align - 1)) & !(align - 1);
        }
        if n.wrapping_sub(1) < RTM_ARENA_CHUNK_MAX && p + n <= (*c).end as usize {
            (*c).ptr = (p + n) as *mut c_char;
            return p as *mut c_void;
        }
    }
    rtm_arena_alloc_slow(a, size, align)
}

#[inline]
pub unsafe fn rtm_arena_lease_begin(a: *mut rtm_arena) -> rtm_arena_lease {
    let mut cur = rtm_arena_cursor { ptr: std::ptr::null_mut(), end: std::ptr::null_mut() };
    let mut ticket = 0u64;
    let arena = rtm_arena_lease_open(a, &mut cur, &mut ticket);
    rtm_arena_lease { cur, arena, ticket }
}

#[inline]
pub unsafe fn rtm_arena_lease_end(l: *mut rtm_arena_lease) {
    if l.is_null() || (*l).arena.is_null() {
        return;
    }
    rtm_arena_lease_close((*l).arena, (*l).cur, (*l).ticket);
    (*l).cur.ptr = std::ptr::null_mut();
    (*l).cur.end = std::ptr::null_mut();
    (*l).arena = std::ptr::null_mut();
}

#[inline(always)]
pub unsafe fn rtm_arena_lease_alloc(l: *mut rtm_arena_lease, size: usize, align: usize) -> *mut c_void {
    let n = size.wrapping_add(RTM_ARENA_GRAIN - 1) & !(RTM_ARENA_GRAIN - 1);
    if align & align.wrapping_sub(1) == 0 && align.wrapping_sub(1) < RTM_ARENA_MAX_ALIGN {
        let mut p = (*l).cur.ptr as usize;
        if align > RTM_ARENA_GRAIN {
            p = (p + (align - 1)) & !(align - 1);
        }
        if n.wrapping_sub(1) < RTM_ARENA_CHUNK_MAX && p + n <= (*l).cur.end as usize {
            (*l).cur.ptr = (p + n) as *mut c_char;
            return p as *mut c_void;
        }
    }
    let s = rtm_arena_lease_alloc_slow((*l).arena, (*l).cur, (*l).ticket, size, align);
    (*l).cur = s.cur;
    s.p
}

#[inline]
pub unsafe fn rtm_handle_take(h: *mut rtm_handle) -> rtm_handle {
    let out = *h;
    (*h).bits = 0;
    out
}

#[inline]
pub fn rtm_handle_is_null(h: rtm_handle) -> c_int {
    (h.bits == 0) as c_int
}

#[inline]
pub unsafe fn rtm_ctx_stats(ctx: *const rtm_ctx, out: *mut rtm_stats) {
    rtm_ctx_stats_sized(ctx, out, std::mem::size_of::<rtm_stats>())
}

#[inline]
pub unsafe fn rtm_interner_stats(i: *const rtm_interner, out: *mut rtm_stats) {
    rtm_interner_stats_sized(i, out, std::mem::size_of::<rtm_stats>())
}
