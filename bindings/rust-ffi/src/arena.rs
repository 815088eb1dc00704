//! [`Arena`]: bump allocation, released all at once.

use std::fmt;
use std::marker::PhantomData;
use std::mem::{align_of, needs_drop, size_of};
use std::ptr::{self, NonNull};

use crate::context::Context;
use crate::error::{Error, Rejected, Result};
use crate::sys;

/// A bump arena of a [`Context`] (`rtm_arena`): allocation is a pointer bump
/// and a compare, and everything is freed at once by [`Arena::reset`] or
/// when the arena is dropped (its chunks then go to the context's cache, for
/// the next arena).
///
/// The fast path runs in Rust, over the cursor the C arena exposes at its
/// start (`struct rtm_arena_cursor`): no call into C per allocation, only
/// when a chunk is full.
///
/// ```
/// use rtmem::{Arena, Context};
///
/// #[derive(Debug)]
/// struct Node<'a> { value: i64, next: Option<&'a Node<'a>> }
///
/// let ctx = Context::new()?;
/// let arena = Arena::new(&ctx)?;
/// let mut list: Option<&Node> = None;
/// for value in 0..1000 {
///     list = Some(arena.alloc(Node { value, next: list }));
/// }
/// let sum: i64 = std::iter::successors(list, |n| n.next).map(|n| n.value).sum();
/// assert_eq!(sum, 999 * 1000 / 2);
/// # Ok::<(), rtmem::Error>(())
/// ```
///
/// # Lifetimes
///
/// Every reference the arena hands out borrows the arena, and the arena
/// borrows its context, so the compiler rejects any use of arena memory after
/// it is freed. [`reset`](Arena::reset) takes `&mut self`, so no reference
/// may live across it:
///
/// ```compile_fail,E0502
/// let ctx = rtmem::Context::new().unwrap();
/// let mut arena = rtmem::Arena::new(&ctx).unwrap();
/// let x = arena.alloc(1u32);
/// arena.reset();
/// *x += 1; // error: `arena` is borrowed by `x`
/// ```
///
/// and no reference outlives the context (or the arena):
///
/// ```compile_fail,E0597
/// let r: &mut u32;
/// {
///     let ctx = rtmem::Context::new().unwrap();
///     let arena = rtmem::Arena::new(&ctx).unwrap();
///     r = arena.alloc(1);
/// } // error: `ctx` (and `arena`) dropped while borrowed
/// *r += 1;
/// ```
///
/// # Types with `Drop` are rejected at compile time
///
/// An arena never runs destructors: a reset frees memory without looking at
/// it. So every allocating method requires a type with no drop glue
/// (`std::mem::needs_drop::<T>()` false), and using one with a `String`, a
/// `Vec`, a `Box` or any type that implements `Drop` fails to build:
///
/// ```compile_fail,E0080
/// let ctx = rtmem::Context::new().unwrap();
/// let arena = rtmem::Arena::new(&ctx).unwrap();
/// let s = arena.alloc(String::from("leaked")); // error: T needs drop
/// ```
///
/// Keep strings in the arena with [`alloc_str`](Arena::alloc_str), and values
/// that need dropping in a [`Pool`](crate::Pool).
///
/// An arena belongs to its context's thread; it is neither `Send` nor `Sync`:
///
/// ```compile_fail,E0277
/// fn send<T: Send>(_: T) {}
/// let ctx = rtmem::Context::new().unwrap();
/// send(rtmem::Arena::new(&ctx).unwrap());
/// ```
pub struct Arena<'ctx> {
    raw: NonNull<sys::rtm_arena>,
    ctx: &'ctx Context,
    /// Not Send or Sync (the raw pointer already says so; this says why).
    _owner_thread: PhantomData<*mut ()>,
}

/// The compile-time check that `T` has no drop glue.
struct NoDrop<T>(PhantomData<T>);

impl<T> NoDrop<T> {
    const OK: () = assert!(
        !needs_drop::<T>(),
        "rtmem::Arena never runs destructors: allocate types without Drop (see the Arena docs)"
    );
}

impl<'ctx> Arena<'ctx> {
    /// A new arena of `ctx` (`rtm_arena_new`), taking its first chunk from
    /// the context's cache when it has one. [`Error::Limit`] or
    /// [`Error::OutOfMemory`] when the chunk cannot be had.
    pub fn new(ctx: &'ctx Context) -> Result<Arena<'ctx>> {
        // SAFETY: ctx is live and used from its thread.
        let raw = unsafe { sys::rtm_arena_new(ctx.as_ptr()) };
        match NonNull::new(raw) {
            Some(raw) => Ok(Arena { raw, ctx, _owner_thread: PhantomData }),
            None => Err(ctx.error_or(Error::OutOfMemory)),
        }
    }

    /// The bump itself: `size` (> 0) bytes aligned to `align`, or NULL with
    /// the error recorded on the context.
    #[inline(always)]
    fn bump(&self, size: usize, align: usize) -> *mut u8 {
        debug_assert!(size > 0 && align.is_power_of_two());
        let n = (size + (sys::RTM_ARENA_GRAIN - 1)) & !(sys::RTM_ARENA_GRAIN - 1);
        if align <= sys::RTM_ARENA_MAX_ALIGN && n <= sys::RTM_ARENA_CHUNK_MAX {
            let cur = self.raw.as_ptr() as *mut sys::rtm_arena_cursor;
            // SAFETY: an arena begins with its cursor (rtmem.h); we hold the
            // arena, on its owner thread. ptr <= end, both grain-aligned (or
            // both NULL in a tracking build, which fails the test).
            unsafe {
                let mut p = (*cur).ptr as usize;
                if align > sys::RTM_ARENA_GRAIN {
                    p = (p + (align - 1)) & !(align - 1);
                }
                if p + n <= (*cur).end as usize {
                    (*cur).ptr = (p + n) as *mut _;
                    return p as *mut u8;
                }
            }
        }
        self.bump_slow(size, align)
    }

    #[cold]
    #[inline(never)]
    fn bump_slow(&self, size: usize, align: usize) -> *mut u8 {
        // SAFETY: as bump; the C side grows the arena or records an error.
        unsafe { sys::rtm_arena_alloc_slow(self.raw.as_ptr(), size, align) as *mut u8 }
    }

    /// Room for `count` values of `T`, or why not. ZSTs and empty slices
    /// take no room.
    #[inline(always)]
    fn room<T>(&self, count: usize) -> Result<NonNull<T>> {
        let size = match size_of::<T>().checked_mul(count) {
            Some(s) if s <= sys::RTM_MAX_ALLOC => s,
            _ => return Err(Error::InvalidArgument),
        };
        if size == 0 {
            return Ok(NonNull::dangling());
        }
        match NonNull::new(self.bump(size, align_of::<T>())) {
            Some(p) => Ok(p.cast()),
            None => Err(self.failure()),
        }
    }

    #[cold]
    fn failure(&self) -> Error {
        self.ctx.error_or(Error::OutOfMemory)
    }

    /// Moves `value` into the arena and returns it, valid until the arena is
    /// reset or dropped.
    ///
    /// # Panics
    /// When the arena cannot grow (the context's limit, or no memory), as
    /// `Box::new` would; [`Arena::try_alloc`] returns the error instead.
    ///
    /// ```
    /// let ctx = rtmem::Context::new()?;
    /// let arena = rtmem::Arena::new(&ctx)?;
    /// let point = arena.alloc((1.5f64, -2.0f64));
    /// point.0 += 1.0;
    /// assert_eq!(*point, (2.5, -2.0));
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub fn alloc<T>(&self, value: T) -> &mut T {
        match self.try_alloc(value) {
            Ok(r) => r,
            Err(e) => alloc_failed(e.error, size_of::<T>()),
        }
    }

    /// As [`alloc`](Arena::alloc), but a failure gives the value back, with
    /// the error ([`Error::Limit`], [`Error::OutOfMemory`], or
    /// [`Error::InvalidArgument`] for a type aligned to more than 4096).
    ///
    /// ```
    /// use rtmem::{Arena, Context, Error};
    ///
    /// let ctx = Context::builder().limit(1 << 20).build()?;
    /// let arena = Arena::new(&ctx)?;
    /// let err = loop {
    ///     if let Err(e) = arena.try_alloc([0u8; 4096]) {
    ///         break e;
    ///     }
    /// };
    /// assert_eq!(err.error, Error::Limit);
    /// assert_eq!(err.value.len(), 4096);     // the value comes back
    /// assert!(ctx.check().is_ok());          // and the context is fine
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub fn try_alloc<T>(&self, value: T) -> std::result::Result<&mut T, Rejected<T>> {
        #[allow(clippy::let_unit_value)]
        let () = NoDrop::<T>::OK;
        match self.room::<T>(1) {
            Ok(p) => {
                // SAFETY: fresh, aligned room for one T, borrowed from &self.
                unsafe {
                    ptr::write(p.as_ptr(), value);
                    Ok(&mut *p.as_ptr())
                }
            }
            Err(error) => Err(Rejected { error, value }),
        }
    }

    /// A copy of `s` in the arena.
    ///
    /// # Panics
    /// As [`alloc`](Arena::alloc); [`Arena::try_alloc_str`] does not.
    ///
    /// ```
    /// let ctx = rtmem::Context::new()?;
    /// let arena = rtmem::Arena::new(&ctx)?;
    /// let name = arena.alloc_str("identifier");
    /// name.make_ascii_uppercase();
    /// assert_eq!(name, "IDENTIFIER");
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_str(&self, s: &str) -> &mut str {
        self.try_alloc_str(s).unwrap_or_else(|e| alloc_failed(e, s.len()))
    }

    /// A copy of `s` in the arena, or why not.
    #[allow(clippy::mut_from_ref)]
    pub fn try_alloc_str(&self, s: &str) -> Result<&mut str> {
        let bytes = self.try_alloc_slice_copy(s.as_bytes())?;
        // SAFETY: a copy of a str's bytes is UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked_mut(bytes) })
    }

    /// A copy of `src` in the arena.
    ///
    /// # Panics
    /// As [`alloc`](Arena::alloc); [`Arena::try_alloc_slice_copy`] does not.
    ///
    /// ```
    /// let ctx = rtmem::Context::new()?;
    /// let arena = rtmem::Arena::new(&ctx)?;
    /// let xs = arena.alloc_slice_copy(&[3, 1, 2]);
    /// xs.sort();
    /// assert_eq!(xs, &[1, 2, 3]);
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_slice_copy<T: Copy>(&self, src: &[T]) -> &mut [T] {
        self.try_alloc_slice_copy(src).unwrap_or_else(|e| alloc_failed(e, std::mem::size_of_val(src)))
    }

    /// A copy of `src` in the arena, or why not.
    #[allow(clippy::mut_from_ref)]
    pub fn try_alloc_slice_copy<T: Copy>(&self, src: &[T]) -> Result<&mut [T]> {
        // Copy types never need drop; no NoDrop check needed.
        let p = self.room::<T>(src.len())?;
        // SAFETY: fresh room for src.len() values, not overlapping src.
        unsafe {
            ptr::copy_nonoverlapping(src.as_ptr(), p.as_ptr(), src.len());
            Ok(std::slice::from_raw_parts_mut(p.as_ptr(), src.len()))
        }
    }

    /// A slice of `len` values, value `i` being `f(i)`.
    ///
    /// # Panics
    /// As [`alloc`](Arena::alloc), and when `len` values would pass
    /// `RTM_MAX_ALLOC` bytes; [`Arena::try_alloc_slice_fill_with`] does not.
    ///
    /// ```
    /// let ctx = rtmem::Context::new()?;
    /// let arena = rtmem::Arena::new(&ctx)?;
    /// let squares = arena.alloc_slice_fill_with(5, |i| (i * i) as u32);
    /// assert_eq!(squares, &[0, 1, 4, 9, 16]);
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_slice_fill_with<T, F: FnMut(usize) -> T>(&self, len: usize, f: F) -> &mut [T] {
        self.try_alloc_slice_fill_with(len, f)
            .unwrap_or_else(|e| alloc_failed(e, len.saturating_mul(size_of::<T>())))
    }

    /// A slice of `len` values made by `f`, or why not
    /// ([`Error::InvalidArgument`] when the size overflows). `f` is not
    /// called when the room cannot be had.
    #[allow(clippy::mut_from_ref)]
    pub fn try_alloc_slice_fill_with<T, F: FnMut(usize) -> T>(
        &self,
        len: usize,
        mut f: F,
    ) -> Result<&mut [T]> {
        #[allow(clippy::let_unit_value)]
        let () = NoDrop::<T>::OK;
        let p = self.room::<T>(len)?;
        // SAFETY: fresh room for len values. If f panics, the values written
        // so far are simply abandoned: T has no drop glue.
        unsafe {
            for i in 0..len {
                ptr::write(p.as_ptr().add(i), f(i));
            }
            Ok(std::slice::from_raw_parts_mut(p.as_ptr(), len))
        }
    }

    /// Frees everything in the arena and keeps its chunks, so the next round
    /// of the same work takes no memory from the page source
    /// (`rtm_arena_reset`). Takes `&mut self`: nothing allocated before may
    /// be used after.
    ///
    /// ```
    /// let ctx = rtmem::Context::new()?;
    /// let mut arena = rtmem::Arena::new(&ctx)?;
    /// for round in 0..3 {
    ///     let xs = arena.alloc_slice_fill_with(10_000, |i| i as u64 + round);
    ///     assert_eq!(xs[9_999], 9_999 + round);
    ///     arena.reset();
    /// }
    /// assert_eq!(ctx.stats().arena_bytes_used, 0);
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn reset(&mut self) {
        // SAFETY: &mut self: no reference into the arena is alive.
        unsafe { sys::rtm_arena_reset(self.raw.as_ptr()) }
    }

    /// Runs `f` with the arena and then frees everything `f` allocated in it
    /// (`rtm_arena_save` / `rtm_arena_rewind`): scoped temporaries. What `f`
    /// returns cannot borrow from the arena, so nothing freed escapes:
    ///
    /// ```
    /// let ctx = rtmem::Context::new()?;
    /// let mut arena = rtmem::Arena::new(&ctx)?;
    /// let kept = arena.alloc(1u8) as *const u8;
    /// let used = ctx.stats().arena_bytes_used;
    /// let total = arena.scope(|tmp| {
    ///     let xs = tmp.alloc_slice_fill_with(1000, |i| i as u64);
    ///     xs.iter().sum::<u64>()
    /// });
    /// assert_eq!(total, 999 * 1000 / 2);
    /// assert_eq!(ctx.stats().arena_bytes_used, used);
    /// # let _ = kept;
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    ///
    /// ```compile_fail
    /// let ctx = rtmem::Context::new().unwrap();
    /// let mut arena = rtmem::Arena::new(&ctx).unwrap();
    /// let escaped = arena.scope(|tmp| tmp.alloc(5u32)); // error: borrowed data escapes
    /// ```
    pub fn scope<R>(&mut self, f: impl FnOnce(&Arena<'ctx>) -> R) -> R {
        // SAFETY: &mut self; the mark is this arena's and still valid when
        // the rewind runs (nothing else can reset or rewind in between).
        let mark = unsafe { sys::rtm_arena_save(self.raw.as_ptr()) };
        let out = f(self);
        // SAFETY: f's borrows have ended (R cannot hold one).
        let st = unsafe { sys::rtm_arena_rewind(self.raw.as_ptr(), mark) };
        debug_assert_eq!(st, sys::RTM_OK);
        out
    }

    /// The context this arena belongs to.
    pub fn context(&self) -> &'ctx Context {
        self.ctx
    }

    /// The `rtm_arena` pointer, for the C API. Still owned by `self`.
    pub fn as_ptr(&self) -> *mut sys::rtm_arena {
        self.raw.as_ptr()
    }
}

#[cold]
#[inline(never)]
fn alloc_failed(e: Error, bytes: usize) -> ! {
    panic!("rtmem: arena allocation of {bytes} bytes failed: {e}")
}

impl Drop for Arena<'_> {
    fn drop(&mut self) {
        // SAFETY: no reference into the arena is alive (they borrow it).
        unsafe { sys::rtm_arena_destroy(self.raw.as_ptr()) }
    }
}

impl fmt::Debug for Arena<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Arena").field("raw", &self.raw).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    #[repr(C)]
    struct Node {
        a: u64,
        b: u64,
        c: u64,
        d: u64,
        e: u32,
    }

    #[test]
    fn values_are_aligned_and_distinct() {
        let ctx = Context::new().unwrap();
        let arena = Arena::new(&ctx).unwrap();
        let mut prev = 0usize;
        for i in 0..10_000u64 {
            let n = arena.alloc(Node { a: i, b: i, c: i, d: i, e: i as u32 });
            let addr = n as *const Node as usize;
            assert_eq!(addr % align_of::<Node>(), 0);
            assert_ne!(addr, prev);
            prev = addr;
            assert_eq!(n.a, i);
        }
        #[repr(align(64))]
        struct Line([u8; 64]);
        let l = arena.alloc(Line([7; 64]));
        assert_eq!(l as *const Line as usize % 64, 0);
        assert_eq!(l.0[63], 7);
        assert_eq!(ctx.stats().arenas_live, 1);
        assert!(ctx.check().is_ok());
    }

    #[test]
    fn zero_sized_and_empty() {
        let ctx = Context::new().unwrap();
        let arena = Arena::new(&ctx).unwrap();
        let used = ctx.stats().arena_bytes_used;
        let unit: &mut () = arena.alloc(());
        *unit = ();
        assert_eq!(arena.alloc_str(""), "");
        assert!(arena.alloc_slice_copy::<u64>(&[]).is_empty());
        assert!(arena.alloc_slice_fill_with(0, |_| 1u8).is_empty());
        assert_eq!(ctx.stats().arena_bytes_used, used, "nothing bumped");
    }

    #[test]
    fn large_values_take_the_slow_path() {
        let ctx = Context::new().unwrap();
        let arena = Arena::new(&ctx).unwrap();
        let big = arena.alloc_slice_fill_with(3 << 20, |i| (i % 251) as u8); // > a chunk
        assert_eq!(big.len(), 3 << 20);
        assert_eq!(big[1000], (1000 % 251) as u8);
        let small = arena.alloc(5u8);
        assert_eq!(*small, 5);
    }

    #[test]
    fn limit_gives_err_and_the_arena_stays_usable() {
        let ctx = Context::builder().limit(1 << 20).build().unwrap();
        let mut arena = Arena::new(&ctx).unwrap();
        let mut n = 0;
        let err = loop {
            match arena.try_alloc_slice_fill_with(1000, |i| i as u64) {
                Ok(_) => n += 1,
                Err(e) => break e,
            }
        };
        assert!(n > 10);
        assert_eq!(err, Error::Limit);
        assert!(ctx.stats().limit_hits >= 1);
        assert!(ctx.check().is_ok());
        assert_eq!(arena.try_alloc_str("too much".repeat(1 << 18).as_str()).unwrap_err(), Error::Limit);
        arena.reset();
        assert_eq!(*arena.alloc(9u32), 9, "usable after a reset");
    }

    #[test]
    fn overflowing_sizes_are_invalid() {
        let ctx = Context::new().unwrap();
        let arena = Arena::new(&ctx).unwrap();
        let e = arena.try_alloc_slice_fill_with(usize::MAX / 2, |_| 0u64).unwrap_err();
        assert_eq!(e, Error::InvalidArgument);
        let e = arena.try_alloc_slice_fill_with(1 << 47, |_| 0u8).unwrap_err();
        assert_eq!(e, Error::InvalidArgument);
        assert!(ctx.check().is_ok());
    }

    #[test]
    #[should_panic(expected = "arena allocation")]
    fn alloc_panics_when_the_limit_is_reached() {
        let ctx = Context::builder().limit(1 << 20).build().unwrap();
        let arena = Arena::new(&ctx).unwrap();
        loop {
            arena.alloc([0u64; 512]);
        }
    }

    #[test]
    fn reset_reuses_the_chunks() {
        let ctx = Context::new().unwrap();
        let mut arena = Arena::new(&ctx).unwrap();
        arena.alloc_slice_fill_with(100_000, |i| i as u32);
        let reserves = ctx.stats().page_reserves;
        for _ in 0..5 {
            arena.reset();
            arena.alloc_slice_fill_with(100_000, |i| i as u32);
        }
        assert_eq!(ctx.stats().page_reserves, reserves, "no new pages after a reset");
    }

    #[test]
    fn dropped_arenas_feed_the_cache() {
        let ctx = Context::new().unwrap();
        drop(Arena::new(&ctx).unwrap());
        let hits = ctx.stats().arena_cache_hits;
        let a = Arena::new(&ctx).unwrap();
        assert_eq!(ctx.stats().arena_cache_hits, hits + 1);
        drop(a);
        assert_eq!(ctx.stats().arenas_live, 0);
    }

    #[test]
    fn scope_rewinds() {
        let ctx = Context::new().unwrap();
        let mut arena = Arena::new(&ctx).unwrap();
        let before = ctx.stats().arena_bytes_used;
        let n = arena.scope(|a| a.alloc_slice_fill_with(50_000, |i| i as u64).len());
        assert_eq!(n, 50_000);
        assert_eq!(ctx.stats().arena_bytes_used, before);
        // Another scope.
        let v = arena.scope(|a| {
            let x = *a.alloc(3u64);
            x + 1
        });
        assert_eq!(v, 4);
        assert!(ctx.check().is_ok());
    }
}
