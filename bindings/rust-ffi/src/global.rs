//! [`GlobalHeap`]: a `GlobalAlloc` over an rtmem context heap.

use std::alloc::{GlobalAlloc, Layout};
use std::fmt;
use std::os::raw::c_void;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::context::Stats;
use crate::error::{check, Result};
use crate::sys;

/// A [`GlobalAlloc`] whose memory comes from the small-object heap of an
/// rtmem context (`rtm_alloc` / `rtm_free`, sized frees, no per-object
/// header), made on first use. Install it to serve every allocation of the
/// program from rtmem, within an optional limit, with rtmem's [`Stats`]:
///
/// ```
/// use rtmem::GlobalHeap;
///
/// #[global_allocator]
/// static HEAP: GlobalHeap = GlobalHeap::with_limit(1 << 30);
///
/// fn main() {
///     let v: Vec<u64> = (0..1000).collect();
///     let st = HEAP.stats().expect("in use since the first allocation");
///     assert!(st.heap_bytes_in_use >= 8000);
///     assert_eq!(st.limit_bytes, 1 << 30);
///     # drop(v);
/// }
/// ```
///
/// A context heap belongs to one thread at a time, and a block may be freed
/// by another thread than the one that allocated it, so every call takes a
/// lock (an uncontended futex: two atomic operations). Alignments up to 16
/// are the heap's own; larger ones are served by over-allocating and keeping
/// the block's start just before the aligned address. When the heap cannot
/// serve a request (the limit, or no memory), `alloc` returns null and Rust
/// reports an allocation error, as with any allocator.
pub struct GlobalHeap {
    limit: usize,
    ctx: AtomicPtr<sys::rtm_ctx>,
    lock: Mutex<()>,
}

/// The heap's natural alignment: 8, and 16 for sizes that are multiples of 16.
const HEAP_ALIGN: usize = 16;

impl GlobalHeap {
    /// A heap with no limit. `const`, for a `static`.
    pub const fn new() -> GlobalHeap {
        GlobalHeap::with_limit(0)
    }

    /// A heap whose context never holds more than `bytes` (0: no limit).
    pub const fn with_limit(bytes: usize) -> GlobalHeap {
        GlobalHeap { limit: bytes, ctx: AtomicPtr::new(ptr::null_mut()), lock: Mutex::new(()) }
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        // Nothing panics while holding it; take it even if poisoned.
        self.lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The context, made on first use (under the lock).
    fn ctx(&self, _held: &MutexGuard<'_, ()>) -> *mut sys::rtm_ctx {
        let mut ctx = self.ctx.load(Ordering::Relaxed);
        if ctx.is_null() {
            let cfg = sys::rtm_config {
                limit_bytes: self.limit,
                keywords: ptr::null(),
                pages: ptr::null(),
                flags: 0,
            };
            // SAFETY: cfg is valid; rtm_ctx_new allocates nothing from Rust.
            ctx = unsafe { sys::rtm_ctx_new(&cfg) };
            self.ctx.store(ctx, Ordering::Release);
        }
        ctx
    }

    /// The context's stats; `None` before the first allocation. Any thread.
    pub fn stats(&self) -> Option<Stats> {
        let ctx = self.ctx.load(Ordering::Acquire);
        if ctx.is_null() {
            return None;
        }
        let mut st = std::mem::MaybeUninit::<sys::rtm_stats>::zeroed();
        // SAFETY: a live context; stats may be read from any thread.
        unsafe {
            sys::rtm_ctx_stats(ctx, st.as_mut_ptr());
            Some(Stats::from_raw(&st.assume_init()))
        }
    }

    /// Verifies the heap's invariants (`rtm_ctx_check`); `Ok` before first use.
    pub fn check(&self) -> Result<()> {
        let g = self.lock();
        let ctx = self.ctx.load(Ordering::Relaxed);
        if ctx.is_null() {
            return Ok(());
        }
        // SAFETY: a live context, under the lock.
        let st = unsafe { sys::rtm_ctx_check(ctx) };
        drop(g);
        check(st)
    }
}

impl Default for GlobalHeap {
    fn default() -> Self {
        GlobalHeap::new()
    }
}

/// The size asked of the heap for a layout it aligns by itself, or None.
#[inline]
fn direct_size(l: Layout) -> Option<usize> {
    if l.align() <= 8 {
        Some(l.size())
    } else if l.align() == HEAP_ALIGN {
        l.size().checked_add(HEAP_ALIGN - 1).map(|s| s & !(HEAP_ALIGN - 1))
    } else {
        None
    }
}

/// Over-aligned blocks: size + align bytes from the heap; the aligned
/// address leaves at least 8 bytes before it, where the block's start goes.
unsafe fn alloc_over(ctx: *mut sys::rtm_ctx, l: Layout, zero: bool) -> *mut u8 {
    let total = match l.size().checked_add(l.align()) {
        Some(t) => t,
        None => return ptr::null_mut(),
    };
    let raw = if zero { sys::rtm_calloc(ctx, 1, total) } else { sys::rtm_alloc(ctx, total) } as usize;
    if raw == 0 {
        return ptr::null_mut();
    }
    let aligned = (raw + 8 + l.align() - 1) & !(l.align() - 1);
    *((aligned - 8) as *mut usize) = raw;
    aligned as *mut u8
}

unsafe fn free_over(ctx: *mut sys::rtm_ctx, p: *mut u8, l: Layout) {
    let raw = *((p as usize - 8) as *const usize);
    sys::rtm_free(ctx, raw as *mut c_void, l.size() + l.align());
}

unsafe impl GlobalAlloc for GlobalHeap {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let g = self.lock();
        let ctx = self.ctx(&g);
        if ctx.is_null() {
            return ptr::null_mut();
        }
        match direct_size(l) {
            Some(size) => sys::rtm_alloc(ctx, size) as *mut u8,
            None => alloc_over(ctx, l, false),
        }
    }

    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let g = self.lock();
        let ctx = self.ctx(&g);
        if ctx.is_null() {
            return ptr::null_mut();
        }
        match direct_size(l) {
            Some(size) => sys::rtm_calloc(ctx, 1, size) as *mut u8,
            None => alloc_over(ctx, l, true),
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        let g = self.lock();
        let ctx = self.ctx(&g);
        match direct_size(l) {
            Some(size) => sys::rtm_free(ctx, p as *mut c_void, size),
            None => free_over(ctx, p, l),
        }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        let new = match Layout::from_size_align(new_size, l.align()) {
            Ok(n) => n,
            Err(_) => return ptr::null_mut(),
        };
        if let (Some(old), Some(newsz)) = (direct_size(l), direct_size(new)) {
            let g = self.lock();
            let ctx = self.ctx(&g);
            // In place when the size class allows, else moved; the old block
            // is untouched on failure, as GlobalAlloc requires.
            return sys::rtm_realloc(ctx, p as *mut c_void, old, newsz) as *mut u8;
        }
        let q = self.alloc(new);
        if !q.is_null() {
            ptr::copy_nonoverlapping(p, q, l.size().min(new_size));
            self.dealloc(p, l);
        }
        q
    }
}

impl Drop for GlobalHeap {
    fn drop(&mut self) {
        // A heap in a local variable (a static is never dropped): every
        // block it served must be gone, as for any allocator.
        let ctx = *self.ctx.get_mut();
        if !ctx.is_null() {
            // SAFETY: &mut self: no other use.
            unsafe { sys::rtm_ctx_destroy(ctx) }
        }
    }
}

impl fmt::Debug for GlobalHeap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GlobalHeap")
            .field("limit", &self.limit)
            .field("started", &!self.ctx.load(Ordering::Relaxed).is_null())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_every_alignment_and_frees_it_all() {
        let heap = GlobalHeap::new();
        assert!(heap.stats().is_none());
        let mut blocks = Vec::new();
        for &align in &[1usize, 2, 8, 16, 32, 64, 4096, 1 << 16] {
            for &size in &[1usize, 7, 16, 24, 100, 4096, 9000, 100_000] {
                let l = Layout::from_size_align(size, align).unwrap();
                let p = unsafe { heap.alloc(l) };
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0, "size {size} align {align}");
                unsafe { ptr::write_bytes(p, 0xAB, size) };
                let z = unsafe { heap.alloc_zeroed(l) };
                assert!(unsafe { std::slice::from_raw_parts(z, size) }.iter().all(|&b| b == 0));
                blocks.push((p, l));
                blocks.push((z, l));
            }
        }
        assert!(heap.check().is_ok());
        for (p, l) in blocks {
            unsafe { heap.dealloc(p, l) };
        }
        let st = heap.stats().unwrap();
        assert_eq!(st.heap_blocks_in_use, 0);
        assert_eq!(st.heap_bytes_in_use, 0);
        assert_eq!(st.heap_bad_frees, 0);
    }

    #[test]
    fn realloc_keeps_the_contents() {
        let heap = GlobalHeap::new();
        for &align in &[8usize, 16, 64] {
            let l = Layout::from_size_align(10, align).unwrap();
            let mut p = unsafe { heap.alloc(l) };
            let mut size = 10;
            unsafe { ptr::copy_nonoverlapping(b"0123456789".as_ptr(), p, 10) };
            for &next in &[20usize, 300, 70_000, 12] {
                p = unsafe { heap.realloc(p, Layout::from_size_align(size, align).unwrap(), next) };
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0);
                assert_eq!(unsafe { std::slice::from_raw_parts(p, 10) }, b"0123456789");
                size = next;
            }
            unsafe { heap.dealloc(p, Layout::from_size_align(size, align).unwrap()) };
        }
        assert_eq!(heap.stats().unwrap().heap_blocks_in_use, 0);
        assert!(heap.check().is_ok());
    }

    #[test]
    fn the_limit_gives_null_not_an_abort() {
        let heap = GlobalHeap::with_limit(1 << 20);
        let l = Layout::from_size_align(64 << 10, 8).unwrap();
        let mut got = Vec::new();
        loop {
            let p = unsafe { heap.alloc(l) };
            if p.is_null() {
                break;
            }
            got.push(p);
        }
        assert!(!got.is_empty() && got.len() < 16);
        let st = heap.stats().unwrap();
        assert!(st.limit_hits >= 1);
        for p in got {
            unsafe { heap.dealloc(p, l) };
        }
        assert!(!unsafe { heap.alloc(l) }.is_null(), "usable again");
    }
}
