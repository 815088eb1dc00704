//! The `sys` module matches `include/rtmem.h`: for every struct of the
//! header, its size, alignment and the offset of every field; for every enum,
//! its size and the value of every enumerator; for every macro constant, its
//! value; for every scalar typedef, its size; for every exported function, a
//! declaration that links to the same symbol.
//!
//! The C side is a table that `build.rs` generates by reading the headers
//! and that the C compiler fills in (`sizeof`, `_Alignof`, `offsetof`, the
//! constants themselves, `&function`). The Rust side is the list below. The test fails
//! when a value differs, when the header has an item the list lacks (a new
//! struct, field or constant not mirrored in `sys`), and when the list names
//! an item the header does not have.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::mem::{align_of, size_of, MaybeUninit};
use std::os::raw::{c_char, c_ulonglong};

use rtmem::sys::*;

#[repr(C)]
#[derive(Clone, Copy)]
struct ProbeEntry {
    name: *const c_char,
    value: c_ulonglong,
    text: *const c_char,
}

#[link(name = "rtmem_probe", kind = "static")]
extern "C" {
    fn rtmrs_probe(out: *mut ProbeEntry, cap: usize) -> usize;
}

#[derive(Debug, PartialEq)]
enum Value {
    Num(u64),
    Text(String),
}

fn c_side() -> BTreeMap<String, Value> {
    let n = unsafe { rtmrs_probe(std::ptr::null_mut(), 0) };
    let mut v = vec![ProbeEntry { name: std::ptr::null(), value: 0, text: std::ptr::null() }; n];
    assert_eq!(unsafe { rtmrs_probe(v.as_mut_ptr(), n) }, n);
    let mut m = BTreeMap::new();
    for e in v {
        let name = unsafe { CStr::from_ptr(e.name) }.to_str().unwrap().to_string();
        let value = if e.text.is_null() {
            Value::Num(e.value)
        } else {
            Value::Text(unsafe { CStr::from_ptr(e.text) }.to_str().unwrap().to_string())
        };
        assert!(m.insert(name.clone(), value).is_none(), "{name} twice in the probe");
    }
    m
}

/// offsetof, without `core::mem::offset_of!` (Rust 1.77; the crate builds
/// with Debian 12's 1.63): the field's address in an uninitialized value,
/// taken without making a reference.
macro_rules! offset_of {
    ($t:ty, $f:ident) => {{
        let u = MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        // SAFETY: addr_of! computes the address without reading.
        let field = unsafe { std::ptr::addr_of!((*base).$f) };
        field as usize - base as usize
    }};
}

fn rust_side() -> BTreeMap<String, Value> {
    let mut m = BTreeMap::new();
    macro_rules! num {
        ($k:expr, $v:expr) => {
            assert!(m.insert($k, Value::Num($v as u64)).is_none(), "{} listed twice", $k);
        };
    }
    macro_rules! structs {
        ($($s:ident { $($f:ident),* $(,)? })*) => {$(
            num!(format!("size {}", stringify!($s)), size_of::<$s>());
            num!(format!("align {}", stringify!($s)), align_of::<$s>());
            $(num!(format!("offset {}.{}", stringify!($s), stringify!($f)), offset_of!($s, $f));)*
        )*};
    }
    macro_rules! enums {
        ($($t:ident { $($c:ident),* $(,)? })*) => {$(
            num!(format!("size {}", stringify!($t)), size_of::<$t>());
            $(num!(format!("const {}", stringify!($c)), $c);)*
        )*};
    }
    macro_rules! consts {
        ($($c:ident),* $(,)?) => {$(num!(format!("const {}", stringify!($c)), $c);)*};
    }
    macro_rules! typedefs {
        ($($t:ident),* $(,)?) => {$(num!(format!("size {}", stringify!($t)), size_of::<$t>());)*};
    }

    structs! {
        rtm_page_source { reserve, release, remap, ud, flags }
        rtm_config { limit_bytes, keywords, pages, flags }
        rtm_arena_cursor { ptr, end }
        rtm_arena_mark { arena, serial, pos }
        rtm_arena_lease { cur, arena, ticket }
        rtm_arena_lease_step { p, cur }
        rtm_field { name, kind, count, layout }
        rtm_str { ptr, len }
        rtm_field_info { name, kind, count, offset, size, elem_size, layout }
        rtm_handle { bits }
        rtm_type { name, size, align, layout, init, fini, ctor, dtor, ud, cap, flags }
        rtm_pool_info {
            name, size, align, stride, cap, live, peak, acquires, releases, hits, misses,
            slabs, slab_bytes, retired, bad_releases,
        }
        rtm_column_info { name, kind, width, offset }
        rtm_class_stats { block_size, allocs, frees, live_blocks, pages }
        rtm_stats {
            size, version, page_bytes, page_bytes_peak, page_reserves, page_releases,
            page_failures, limit_bytes, limit_hits, collect_calls, errors, bytes_in_use,
            heap_bytes_in_use, heap_bytes_peak, heap_blocks_in_use, heap_allocs, heap_frees,
            heap_reallocs, heap_reallocs_in_place, heap_pages, heap_large_blocks,
            heap_large_bytes, heap_bad_frees, classes, lua_allocs_by_tag, arenas_live,
            arena_bytes_used, arena_chunk_bytes, arena_chunks, arena_cache_chunks,
            arena_cache_bytes, arena_cache_hits, arena_cache_misses, bufs_live, buf_bytes,
            pools_live, pool_objects_live, pool_slabs, pool_bytes, pool_hits, pool_misses,
            pool_leaked, intern_strings, intern_string_bytes, intern_table_bytes,
            intern_lookups, intern_hits, intern_bytes_saved, batches_live, batch_rows,
            batch_bytes, layouts_live, layout_bytes,
        }
    }
    enums! {
        rtm_status { RTM_OK, RTM_ENOMEM, RTM_ELIMIT, RTM_EINVAL, RTM_ESTALE, RTM_EFOREIGN, RTM_ETYPE }
        rtm_visit_kind { RTM_VISIT_HEAP_BLOCK, RTM_VISIT_LARGE_BLOCK, RTM_VISIT_ARENA_CHUNK, RTM_VISIT_POOL_SLAB }
        rtm_kind {
            RTM_KIND_I8, RTM_KIND_I16, RTM_KIND_I32, RTM_KIND_I64, RTM_KIND_U8, RTM_KIND_U16,
            RTM_KIND_U32, RTM_KIND_U64, RTM_KIND_F32, RTM_KIND_F64, RTM_KIND_PTR, RTM_KIND_SYM,
            RTM_KIND_HANDLE, RTM_KIND_BOOL, RTM_KIND_STR, RTM_KIND_RECORD,
        }
        rtm_simd { RTM_SIMD_SCALAR, RTM_SIMD_SSE2, RTM_SIMD_AVX2, RTM_SIMD_AVX512 }
        rtm_cmp { RTM_CMP_LT, RTM_CMP_LE, RTM_CMP_EQ, RTM_CMP_NE, RTM_CMP_GE, RTM_CMP_GT }
        rtm_stats_format { RTM_STATS_JSON, RTM_STATS_PROMETHEUS }
    }
    consts! {
        RTM_VERSION_MAJOR, RTM_VERSION_MINOR, RTM_VERSION_PATCH, RTM_STATUS_COUNT,
        RTM_PAGES_ZEROED, RTM_CTX_DEBUG, RTM_SMALL_MAX, RTM_HEAP_CLASSES, RTM_MAX_ALLOC,
        RTM_ARENA_GRAIN, RTM_ARENA_MAX_ALIGN, RTM_ARENA_CHUNK_MIN, RTM_ARENA_CHUNK_MAX,
        RTM_ARENA_CACHE_MAX, RTM_SIMD_ALIGN, RTM_BUF_MAX_ALIGN, RTM_KIND_LAST,
        RTM_LAYOUT_MAX_FIELDS, RTM_HANDLE_POOL_BITS, RTM_HANDLE_GEN_BITS, RTM_HANDLE_SLOT_BITS,
        RTM_POOL_CONCURRENT, RTM_POOL_MAX_SIZE, RTM_POOL_MAX_ALIGN, RTM_INTERN_MAX_LEN,
        RTM_SYM_MAX, RTM_BATCH_MAX_COLUMNS, RTM_BATCH_PAD, RTM_STATS_VERSION, RTM_LUA_TAGS,
    }
    typedefs! { rtm_sym }
    // Every exported function: the same symbol as the C side's.
    macro_rules! functions {
        ($($f:ident),* $(,)?) => {$(num!(format!("fn {}", stringify!($f)), $f as *const () as usize);)*};
    }
    functions! {
        rtm_status_str, rtm_page_source_os, rtm_ctx_new, rtm_ctx_new_ex, rtm_ctx_destroy,
        rtm_ctx_error, rtm_ctx_clear_error, rtm_ctx_trim, rtm_ctx_check, rtm_ctx_set_collect,
        rtm_ctx_set_error_hook, rtm_ctx_visit, rtm_alloc, rtm_calloc, rtm_realloc, rtm_free,
        rtm_free_checked, rtm_lua_alloc, rtm_arena_new, rtm_arena_alloc, rtm_arena_alloc_slow,
        rtm_arena_alloc_n, rtm_arena_alloc_zero, rtm_arena_strdup, rtm_arena_save,
        rtm_arena_rewind, rtm_arena_reset, rtm_arena_destroy, rtm_arena_lease_open,
        rtm_arena_lease_close, rtm_arena_lease_alloc_slow, rtm_buf_new, rtm_buf_data,
        rtm_buf_len, rtm_buf_cap, rtm_buf_align, rtm_buf_reserve, rtm_buf_resize,
        rtm_buf_append, rtm_buf_extend, rtm_buf_clear, rtm_buf_destroy, rtm_layout_new,
        rtm_layout_size, rtm_layout_align, rtm_layout_name, rtm_layout_field_count,
        rtm_layout_find, rtm_layout_find_n, rtm_layout_offset, rtm_layout_field, rtm_pool_new,
        rtm_pool_destroy, rtm_pool_acquire, rtm_pool_acquire_obj, rtm_pool_get, rtm_pool_release,
        rtm_pool_alloc, rtm_pool_free, rtm_pool_stats, rtm_pool_keep_slabs, rtm_handle_scope_end,
        rtm_ctx_interner,
        rtm_interner_new, rtm_interner_new_ex, rtm_interner_destroy, rtm_intern, rtm_intern_ex,
        rtm_intern_find,
        rtm_sym_str, rtm_sym_is_keyword, rtm_interner_add_keywords, rtm_interner_error,
        rtm_interner_clear_error, rtm_keyword_set_find, rtm_keyword_flags,
        rtm_interner_stats_sized, rtm_batch_new, rtm_batch_new_aligned, rtm_batch_destroy,
        rtm_batch_len, rtm_batch_cap, rtm_batch_layout, rtm_batch_reserve, rtm_batch_clear,
        rtm_batch_push, rtm_batch_push_n, rtm_batch_get, rtm_batch_get_n, rtm_batch_set,
        rtm_batch_gather, rtm_batch_columns, rtm_batch_column_info, rtm_batch_column,
        rtm_batch_column_as, rtm_batch_column_by_name, rtm_batch_column_index,
        rtm_simd_active, rtm_simd_best, rtm_simd_name, rtm_simd_select, rtm_col_sum_i32,
        rtm_col_sum_i64, rtm_col_sum_f32, rtm_col_sum_f64, rtm_col_mean_i32, rtm_col_mean_i64,
        rtm_col_mean_f32, rtm_col_mean_f64, rtm_col_min_i32, rtm_col_min_i64, rtm_col_min_f32,
        rtm_col_min_f64, rtm_col_max_i32, rtm_col_max_i64, rtm_col_max_f32, rtm_col_max_f64,
        rtm_col_cmp_i32, rtm_col_cmp_i64, rtm_col_cmp_f32, rtm_col_cmp_f64, rtm_sel_count,
        rtm_sel_indices, rtm_col_gather_32, rtm_col_gather_64, rtm_col_axpy_f64,
        rtm_ctx_stats_sized, rtm_stats_write,
    }
    num!("const RTM_HANDLE_NULL.bits".to_string(), RTM_HANDLE_NULL.bits);
    m.insert("const RTM_VERSION".into(), Value::Text(RTM_VERSION.into()));
    // rtmem_keywords.h: generated into sys by build.rs from the header's text.
    for &(name, value) in KEYWORD_CONSTANTS {
        num!(format!("const {name}"), value);
    }
    m
}

#[test]
fn sys_matches_the_header() {
    let c = c_side();
    let rust = rust_side();
    let mut problems = Vec::new();
    for (k, v) in &c {
        match rust.get(k) {
            None => problems.push(format!("{k}: in the header, not in sys (C says {v:?})")),
            Some(r) if r != v => problems.push(format!("{k}: C says {v:?}, Rust says {r:?}")),
            Some(_) => {}
        }
    }
    for k in rust.keys() {
        if !c.contains_key(k) {
            problems.push(format!("{k}: in sys, not in the header"));
        }
    }
    assert!(problems.is_empty(), "sys differs from rtmem.h:\n  {}", problems.join("\n  "));
    // The probe saw the whole header, keywords included.
    assert!(c.len() > 400, "only {} entries probed", c.len());
    assert!(c.contains_key("offset rtm_stats.batch_bytes"));
    assert!(c.contains_key("const RTM_KW_RUST_YIELD"));
}

#[test]
fn static_inline_functions_agree_with_c() {
    // The Rust copies of the header's inline functions, on a real arena: the
    // fast path bumps the C arena's own cursor (the C side reads it back).
    let ctx = rtmem::Context::new().unwrap();
    unsafe {
        let a = rtm_arena_new(ctx.as_ptr());
        assert!(!a.is_null());
        let p = rtm_arena_alloc_inline(a, 40, 8) as usize;
        let q = rtm_arena_alloc(a, 40, 8) as usize; // the exported C function
        assert_eq!(q, p + 40, "C continues where Rust's bump left the cursor");
        let big = rtm_arena_alloc_inline(a, 64, 64) as usize;
        assert_eq!(big % 64, 0);
        assert!(rtm_arena_alloc_inline(a, 0, 8).is_null(), "size 0 fails, through the slow path");
        assert_eq!(rtm_ctx_error(ctx.as_ptr()), RTM_EINVAL);
        assert!(rtm_arena_alloc_inline(a, 8, 3).is_null(), "a bad align fails");

        let mut l = rtm_arena_lease_begin(a);
        assert!(!l.arena.is_null());
        assert!(rtm_arena_alloc(a, 8, 8).is_null(), "a leased arena refuses direct use");
        let x = rtm_arena_lease_alloc(&mut l, 24, 8);
        assert!(!x.is_null());
        rtm_arena_lease_end(&mut l);
        assert!(l.arena.is_null());
        assert!(!rtm_arena_alloc(a, 8, 8).is_null());
        rtm_arena_destroy(a);

        let mut h = rtm_handle { bits: 7 };
        assert_eq!(rtm_handle_take(&mut h).bits, 7);
        assert_eq!(rtm_handle_is_null(h), 1);
        assert_eq!(RTM_SEL_WORDS(65), 2);

        let mut st = MaybeUninit::<rtm_stats>::zeroed();
        rtm_ctx_stats(ctx.as_ptr(), st.as_mut_ptr());
        let st = st.assume_init();
        assert_eq!(st.size as usize, size_of::<rtm_stats>());
        assert_eq!(st.version, RTM_STATS_VERSION);
    }
}
