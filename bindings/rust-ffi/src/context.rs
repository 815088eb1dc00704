//! [`Context`]: owns an `rtm_ctx` and every byte its parts hand out.

use std::any::TypeId;
use std::cell::{Cell, RefCell};
use std::ffi::CString;
use std::fmt;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr::{self, NonNull};

use crate::error::{check, Error, Result};
use crate::intern::Interner;
use crate::sys;

/// A memory context: the heap, arenas, pools, buffers, batches and interner
/// of one interpreter, and the metrics of all of them.
///
/// Every object made from a context borrows it (`Arena<'ctx>`,
/// `Pool<'ctx, T>`, ...), so the borrow checker makes sure none outlives it;
/// dropping the context frees everything at once (`rtm_ctx_destroy`).
///
/// A context is [`Send`] but not [`Sync`]: it belongs to one thread at a
/// time, like a `lua_State`, and may be moved to another thread when nothing
/// borrows it. Its [interner](Context::interner) is the exception: that one
/// may be used from any thread.
///
/// ```
/// use rtmem::{Arena, Context};
///
/// let ctx = Context::builder().limit(16 << 20).keywords(&["python"]).build()?;
/// let arena = Arena::new(&ctx)?;
/// let n: &mut u64 = arena.alloc(42);
/// *n += 1;
/// assert_eq!(*n, 43);
/// let stats = ctx.stats();
/// assert_eq!(stats.arenas_live, 1);
/// assert_eq!(stats.limit_bytes, 16 << 20);
/// assert!(stats.page_bytes <= 16 << 20);
/// # Ok::<(), rtmem::Error>(())
/// ```
///
/// A context cannot be shared between threads:
///
/// ```compile_fail,E0277
/// fn shared<T: Sync>(_: &T) {}
/// let ctx = rtmem::Context::new().unwrap();
/// shared(&ctx);
/// ```
pub struct Context {
    raw: NonNull<sys::rtm_ctx>,
    interner: Interner,
    /// Layouts made for row types (Batch), by type: layouts live as long as
    /// the context, so each type gets one.
    layouts: RefCell<Vec<(TypeId, NonNull<sys::rtm_layout>)>>,
    _not_sync: PhantomData<Cell<()>>,
}

// SAFETY: an rtm_ctx may be used from any one thread at a time; everything
// that borrows it is !Send, so a context moves only when nothing uses it.
unsafe impl Send for Context {}

impl Context {
    /// A context with the defaults: no limit, the OS's pages, no keywords.
    ///
    /// ```
    /// let ctx = rtmem::Context::new()?;
    /// assert_eq!(ctx.stats().limit_bytes, 0);
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn new() -> Result<Context> {
        Context::builder().build()
    }

    /// A [`ContextBuilder`], to set a limit, keyword sets or debug checks.
    pub fn builder() -> ContextBuilder {
        ContextBuilder::default()
    }

    /// A snapshot of everything the context holds (`rtm_ctx_stats`).
    pub fn stats(&self) -> Stats {
        let mut st = std::mem::MaybeUninit::<sys::rtm_stats>::zeroed();
        // SAFETY: the context is live; rtm_ctx_stats fills the whole struct.
        unsafe {
            sys::rtm_ctx_stats(self.raw.as_ptr(), st.as_mut_ptr());
            Stats::from_raw(&st.assume_init())
        }
    }

    /// The stats, written by the C library as JSON or in Prometheus's text
    /// format (`rtm_stats_write`).
    ///
    /// ```
    /// use rtmem::{Context, StatsFormat};
    ///
    /// let ctx = Context::new()?;
    /// let json = ctx.write_stats(StatsFormat::Json)?;
    /// assert!(json.trim_start().starts_with('{'));
    /// assert!(json.contains("\"page_bytes\""));
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn write_stats(&self, format: StatsFormat) -> Result<String> {
        extern "C" {
            fn open_memstream(ptr: *mut *mut c_char, size: *mut usize) -> *mut sys::FILE;
            fn fclose(f: *mut sys::FILE) -> c_int;
            fn free(p: *mut c_void);
        }
        let fmt = match format {
            StatsFormat::Json => sys::RTM_STATS_JSON,
            StatsFormat::Prometheus => sys::RTM_STATS_PROMETHEUS,
        };
        let mut buf: *mut c_char = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: open_memstream owns buf until fclose; we free it after.
        unsafe {
            let f = open_memstream(&mut buf, &mut len);
            if f.is_null() {
                return Err(Error::OutOfMemory);
            }
            let rc = sys::rtm_stats_write(self.raw.as_ptr(), f, fmt);
            let closed = fclose(f);
            let text = if buf.is_null() {
                String::new()
            } else {
                String::from_utf8_lossy(std::slice::from_raw_parts(buf as *const u8, len)).into_owned()
            };
            free(buf as *mut c_void);
            if rc != 0 || closed != 0 {
                return Err(Error::OutOfMemory);
            }
            Ok(text)
        }
    }

    /// Verifies every internal invariant of every part (`rtm_ctx_check`):
    /// `Err(InvalidArgument)` means a bug in rtmem or corrupted memory.
    /// O(memory held).
    pub fn check(&self) -> Result<()> {
        // SAFETY: the context is live and owned by this thread.
        check(unsafe { sys::rtm_ctx_check(self.raw.as_ptr()) })
    }

    /// Returns empty heap pages, cached arena chunks and empty pool slabs to
    /// the page source (`rtm_ctx_trim`).
    pub fn trim(&self) {
        // SAFETY: as check.
        unsafe { sys::rtm_ctx_trim(self.raw.as_ptr()) }
    }

    /// Why the last failing call on this context failed, if one has
    /// (`rtm_ctx_error`). The safe API returns its errors as values; this is
    /// the context's own record, which C code sharing the context also sets.
    pub fn last_error(&self) -> Option<Error> {
        // SAFETY: the context is live.
        Error::from_status(unsafe { sys::rtm_ctx_error(self.raw.as_ptr()) })
    }

    /// Forgets the last error (`rtm_ctx_clear_error`).
    pub fn clear_error(&self) {
        // SAFETY: the context is live.
        unsafe { sys::rtm_ctx_clear_error(self.raw.as_ptr()) }
    }

    /// The context's own interner, seeded with the builder's keyword sets. It
    /// lives as long as the context, and (unlike the context) may be used
    /// from any thread, e.g. from scoped threads:
    ///
    /// ```
    /// let ctx = rtmem::Context::builder().keywords(&["lua"]).build()?;
    /// let interner = ctx.interner();
    /// let ids: Vec<_> = std::thread::scope(|s| {
    ///     let t = s.spawn(|| interner.intern("shared"));
    ///     let here = interner.intern("shared");
    ///     vec![here, t.join().unwrap()]
    /// });
    /// assert_eq!(ids[0], ids[1]);
    /// assert_eq!(interner.get("while"), Some(rtmem::keywords::lua::WHILE));
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn interner(&self) -> &Interner {
        &self.interner
    }

    /// The `rtm_ctx` pointer, for calling the C API directly. It stays owned
    /// by this `Context`: do not destroy it.
    pub fn as_ptr(&self) -> *mut sys::rtm_ctx {
        self.raw.as_ptr()
    }

    pub(crate) fn layout_cached(&self, ty: TypeId) -> Option<NonNull<sys::rtm_layout>> {
        self.layouts.borrow().iter().find(|(t, _)| *t == ty).map(|&(_, l)| l)
    }

    pub(crate) fn layout_cache(&self, ty: TypeId, l: NonNull<sys::rtm_layout>) {
        self.layouts.borrow_mut().push((ty, l));
    }

    /// The error the context recorded, or `fallback` if it recorded none
    /// (after a call that returned NULL without a status).
    pub(crate) fn error_or(&self, fallback: Error) -> Error {
        self.last_error().unwrap_or(fallback)
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: nothing borrows the context any more (every object made
        // from it borrows it), so nothing can use what this frees.
        unsafe { sys::rtm_ctx_destroy(self.raw.as_ptr()) }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.stats();
        f.debug_struct("Context")
            .field("page_bytes", &st.page_bytes)
            .field("limit_bytes", &st.limit_bytes)
            .field("bytes_in_use", &st.bytes_in_use)
            .finish()
    }
}

/// Builds a [`Context`] (`rtm_config`).
///
/// ```
/// let ctx = rtmem::Context::builder()
///     .limit(8 << 20)                 // never hold more than 8 MiB
///     .keywords(&["python", "lua"])   // pre-seed the interner
///     .debug(true)                    // poison, full ownership checks
///     .build()?;
/// assert!(ctx.interner().is_keyword(rtmem::keywords::python::DEF));
/// # Ok::<(), rtmem::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ContextBuilder {
    limit: usize,
    keywords: Vec<String>,
    debug: bool,
}

impl ContextBuilder {
    /// The most bytes the context may hold from its page source; 0 (the
    /// default) means no limit. An allocation that would pass it fails with
    /// [`Error::Limit`].
    pub fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// Keyword sets to pre-seed the context's interner with: names of the
    /// shipped sets, `"python"`, `"lua"`, `"c"`, `"javascript"`, `"rust"`
    /// (see [`keywords`](crate::keywords)).
    pub fn keywords<S: AsRef<str>>(mut self, sets: &[S]) -> Self {
        self.keywords.extend(sets.iter().map(|s| s.as_ref().to_string()));
        self
    }

    /// `RTM_CTX_DEBUG`: poison freed memory, and check every free for double
    /// frees, wrong sizes and foreign pointers.
    pub fn debug(mut self, on: bool) -> Self {
        self.debug = on;
        self
    }

    /// Makes the context.
    ///
    /// Errors: [`Error::InvalidArgument`] for a keyword set that does not
    /// exist; [`Error::Limit`] when a limit is set too small to hold the
    /// context itself; [`Error::OutOfMemory`] when the OS refuses the pages.
    ///
    /// ```
    /// use rtmem::{Context, Error};
    /// let e = Context::builder().keywords(&["cobol"]).build().unwrap_err();
    /// assert_eq!(e, Error::InvalidArgument);
    /// assert_eq!(Context::builder().limit(100).build().unwrap_err(), Error::Limit);
    /// ```
    pub fn build(self) -> Result<Context> {
        let names: Vec<CString> = self
            .keywords
            .iter()
            .map(|k| CString::new(k.as_str()).map_err(|_| Error::InvalidArgument))
            .collect::<Result<_>>()?;
        let mut list: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
        list.push(ptr::null());
        let cfg = sys::rtm_config {
            limit_bytes: self.limit,
            keywords: if names.is_empty() { ptr::null() } else { list.as_ptr() },
            pages: ptr::null(),
            flags: if self.debug { sys::RTM_CTX_DEBUG } else { 0 },
        };
        // The C library says why it failed: an unknown keyword set, a limit
        // too small for the context, or no memory.
        let mut raw = ptr::null_mut();
        // SAFETY: cfg and the strings it points to live across the call,
        // which copies what it keeps.
        check(unsafe { sys::rtm_ctx_new_ex(&cfg, &mut raw) })?;
        let raw = NonNull::new(raw).expect("rtm_ctx_new_ex: RTM_OK with a context");
        // SAFETY: the context is live; its interner lives as long as it.
        let interner = unsafe { Interner::borrowed(sys::rtm_ctx_interner(raw.as_ptr())) };
        Ok(Context { raw, interner, layouts: RefCell::new(Vec::new()), _not_sync: PhantomData })
    }
}

/// The formats of [`Context::write_stats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsFormat {
    /// One JSON object.
    Json,
    /// Prometheus's text exposition format.
    Prometheus,
}

/// One size class of the heap, in [`Stats::classes`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClassStats {
    /// The block size of the class.
    pub block_size: u64,
    /// Blocks allocated and freed in it, ever.
    pub allocs: u64,
    /// See `allocs`.
    pub frees: u64,
    /// Blocks live now.
    pub live_blocks: u64,
    /// Pages it holds.
    pub pages: u64,
}

macro_rules! stats_struct {
    ($($(#[$m:meta])* $field:ident),* $(,)?) => {
        /// A snapshot of a context's metrics (`rtm_stats`): a plain struct,
        /// field for field the C one. The comments of `rtm_stats` in
        /// `rtmem.h` say what each counts.
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Stats {
            $($(#[$m])* pub $field: u64,)*
            /// The heap's size classes (those in use by the C library).
            pub classes: Vec<ClassStats>,
            /// `lua_Alloc` allocations by Lua type tag (0..8, 9 for other).
            pub lua_allocs_by_tag: [u64; sys::RTM_LUA_TAGS],
        }

        impl Stats {
            pub(crate) fn from_raw(s: &sys::rtm_stats) -> Stats {
                Stats {
                    $($field: s.$field,)*
                    classes: s
                        .classes
                        .iter()
                        .take_while(|c| c.block_size != 0)
                        .map(|c| ClassStats {
                            block_size: c.block_size,
                            allocs: c.allocs,
                            frees: c.frees,
                            live_blocks: c.live_blocks,
                            pages: c.pages,
                        })
                        .collect(),
                    lua_allocs_by_tag: s.lua_allocs_by_tag,
                }
            }
        }
    };
}

stats_struct! {
    /// Bytes held from the page source now.
    page_bytes,
    /// The most ever held.
    page_bytes_peak,
    /// Requests to the page source.
    page_reserves,
    /// Ranges given back.
    page_releases,
    /// Requests refused (by the source or the limit).
    page_failures,
    /// The configured limit, 0 for none.
    limit_bytes,
    /// Requests refused by the limit.
    limit_hits,
    /// Calls of the collect hook.
    collect_calls,
    /// Failing calls recorded on the context.
    errors,
    /// Everything handed out, all parts together.
    bytes_in_use,
    /// Heap: the sum of the sizes asked for, live.
    heap_bytes_in_use,
    /// Heap: the most ever in use.
    heap_bytes_peak,
    /// Heap: blocks live.
    heap_blocks_in_use,
    /// Heap: allocations, ever.
    heap_allocs,
    /// Heap: frees, ever.
    heap_frees,
    /// Heap: reallocations, ever.
    heap_reallocs,
    /// Heap: reallocations that stayed in place.
    heap_reallocs_in_place,
    /// Heap: small-object pages held.
    heap_pages,
    /// Heap: large blocks live.
    heap_large_blocks,
    /// Heap: their bytes.
    heap_large_bytes,
    /// Heap: foreign, wrong-size or double frees caught.
    heap_bad_frees,
    /// Arenas live.
    arenas_live,
    /// Bytes bumped in live arenas.
    arena_bytes_used,
    /// Bytes in the chunks of live arenas.
    arena_chunk_bytes,
    /// Chunks of live arenas.
    arena_chunks,
    /// Chunks in the context's arena cache.
    arena_cache_chunks,
    /// Their bytes.
    arena_cache_bytes,
    /// Arena chunks taken from the cache.
    arena_cache_hits,
    /// Arena chunks taken from the page source.
    arena_cache_misses,
    /// Aligned buffers live.
    bufs_live,
    /// Their bytes.
    buf_bytes,
    /// Pools live.
    pools_live,
    /// Objects live in them.
    pool_objects_live,
    /// Slabs they hold.
    pool_slabs,
    /// Their bytes.
    pool_bytes,
    /// Acquires served by a free object.
    pool_hits,
    /// Acquires that grew a pool.
    pool_misses,
    /// Objects live when their pool was destroyed.
    pool_leaked,
    /// Interner: strings.
    intern_strings,
    /// Interner: their bytes, NULs included.
    intern_string_bytes,
    /// Interner: everything else it holds.
    intern_table_bytes,
    /// Interner: lookups.
    intern_lookups,
    /// Interner: lookups that found their string.
    intern_hits,
    /// Interner: the copies found strings saved.
    intern_bytes_saved,
    /// Batches live.
    batches_live,
    /// Rows in them.
    batch_rows,
    /// Their bytes.
    batch_bytes,
    /// Layouts live.
    layouts_live,
    /// The pages they hold.
    layout_bytes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_and_stats() {
        let ctx = Context::new().unwrap();
        let st = ctx.stats();
        assert!(st.page_bytes > 0, "the context lives in its own pages");
        assert_eq!(st.limit_bytes, 0);
        assert_eq!(st.errors, 0);
        assert!(ctx.check().is_ok());
        assert_eq!(ctx.last_error(), None);
    }

    #[test]
    fn limit_is_kept_and_reported() {
        let ctx = Context::builder().limit(1 << 20).build().unwrap();
        assert_eq!(ctx.stats().limit_bytes, 1 << 20);
        assert_eq!(Context::builder().limit(1).build().unwrap_err(), Error::Limit);
    }

    #[test]
    fn keyword_sets_are_checked() {
        assert!(Context::builder().keywords(&["python", "rust"]).build().is_ok());
        assert_eq!(Context::builder().keywords(&["nope"]).build().unwrap_err(), Error::InvalidArgument);
        assert_eq!(Context::builder().keywords(&["py\0thon"]).build().unwrap_err(), Error::InvalidArgument);
    }

    #[test]
    fn stats_formats() {
        let ctx = Context::builder().debug(true).build().unwrap();
        let prom = ctx.write_stats(StatsFormat::Prometheus).unwrap();
        assert!(prom.contains("page_bytes"), "{prom}");
        let json = ctx.write_stats(StatsFormat::Json).unwrap();
        assert!(json.contains("limit_bytes"), "{json}");
    }

    #[test]
    fn errors_are_recorded_and_cleared() {
        let ctx = Context::new().unwrap();
        // A NULL-returning call through the raw API records a status.
        let p = unsafe { sys::rtm_alloc(ctx.as_ptr(), 0) };
        assert!(p.is_null());
        assert_eq!(ctx.last_error(), Some(Error::InvalidArgument));
        assert_eq!(ctx.stats().errors, 1);
        ctx.clear_error();
        assert_eq!(ctx.last_error(), None);
        assert!(ctx.check().is_ok());
    }

    #[test]
    fn heap_classes_show_in_the_stats() {
        let ctx = Context::new().unwrap();
        let p = unsafe { sys::rtm_alloc(ctx.as_ptr(), 40) };
        assert!(!p.is_null());
        let st = ctx.stats();
        assert_eq!(st.heap_blocks_in_use, 1);
        assert!(!st.classes.is_empty());
        let class = st.classes.iter().find(|c| c.live_blocks == 1).expect("a class holds the block");
        assert!(class.block_size >= 40);
        assert_eq!(class.allocs, 1);
        unsafe { sys::rtm_free(ctx.as_ptr(), p, 40) };
        assert_eq!(ctx.stats().heap_blocks_in_use, 0);
        assert!(ctx.check().is_ok());
    }

    #[test]
    fn moves_to_another_thread() {
        let ctx = Context::new().unwrap();
        let ctx = std::thread::spawn(move || {
            ctx.trim();
            ctx
        })
        .join()
        .unwrap();
        assert!(ctx.check().is_ok());
    }
}
