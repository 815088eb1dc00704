//! [`Pool`]: typed object pools, with RAII [`Handle`]s and checked [`Key`]s.

use std::cell::Cell;
use std::ffi::CString;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::mem::{self, align_of, size_of, ManuallyDrop};
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};

use crate::context::Context;
use crate::error::{check, Error, Rejected, Result};
use crate::sys;

/// One object of a pool: the value, and the links of the list of keyed
/// values (so that dropping the pool drops them). A slot on the pool's free
/// list links through `next`.
#[repr(C)]
struct Slot<T> {
    value: T,
    prev: *mut Slot<T>,
    next: *mut Slot<T>,
}

/// What handles need of their pool: the C pool, and the free list of slots
/// that handles gave back, which acquire reuses without calling into C.
struct Shared<T> {
    raw: NonNull<sys::rtm_pool>,
    free: Cell<*mut Slot<T>>,
    nfree: Cell<usize>,
    /// At most a slab's worth of slots wait on the free list.
    max_free: usize,
    /// Acquires served from the free list, and releases onto it (which the
    /// C pool's counters do not see).
    reused: Cell<u64>,
    recycled: Cell<u64>,
}

impl<T> Shared<T> {
    #[inline(always)]
    fn take(&self) -> *mut Slot<T> {
        let s = self.free.get();
        if !s.is_null() {
            // SAFETY: a slot on the free list: live to C, ours to reuse.
            self.free.set(unsafe { (*s).next });
            self.nfree.set(self.nfree.get() - 1);
            self.reused.set(self.reused.get() + 1);
            return s;
        }
        // SAFETY: the pool is live, on its owner thread.
        unsafe { sys::rtm_pool_alloc(self.raw.as_ptr()) as *mut Slot<T> }
    }

    /// SAFETY: s is a slot of this pool whose value is gone.
    #[inline(always)]
    unsafe fn give(&self, s: *mut Slot<T>) {
        let n = self.nfree.get();
        if n < self.max_free {
            (*s).next = self.free.get();
            self.free.set(s);
            self.nfree.set(n + 1);
            self.recycled.set(self.recycled.get() + 1);
        } else {
            sys::rtm_pool_free(self.raw.as_ptr(), s as *mut _);
        }
    }

    /// Gives the free list back to the C pool.
    fn flush(&self) {
        let mut s = self.free.replace(ptr::null_mut());
        self.nfree.set(0);
        while !s.is_null() {
            // SAFETY: slots on the free list are this pool's, live to C.
            unsafe {
                let next = (*s).next;
                sys::rtm_pool_free(self.raw.as_ptr(), s as *mut _);
                s = next;
            }
        }
    }
}

/// A pool of `T`s in a [`Context`] (`rtm_pool`): O(1) acquire and release
/// from slabs of the context's pages, objects packed at their alignment.
///
/// Values are held two ways:
///  - by [`Handle`] ([`Pool::acquire`]): a unique owner, like a `Box` that
///    borrows the pool. Dropping it drops the value and frees the slot.
///  - by [`Key`] ([`Pool::insert`]): a copyable, generation-checked id, like
///    a slotmap key. [`get`](Pool::get), [`get_mut`](Pool::get_mut) and
///    [`remove`](Pool::remove) return `None` for a key whose value was
///    removed, or that belongs to another pool, instead of the wrong object.
///
/// Values of any type may be pooled: their `Drop` runs when the handle is
/// dropped, the key removed, or the pool dropped (keyed values left then).
/// Each slot holds the value and two list links (16 bytes) for that.
///
/// A dropped handle's slot goes on the pool's free list (at most a slab's
/// worth, some 64 KiB), from which the next [`acquire`](Pool::acquire) takes
/// it: in the steady state, handles make no call into C. The C library
/// counts those slots as live (in [`Context::stats`]) until
/// [`trim`](Pool::trim) or the pool's drop gives them back; [`Pool::stats`]
/// and [`Pool::len`] count them apart.
///
/// ```
/// use rtmem::{Context, Pool};
///
/// struct Token { text: String, line: u32 }
///
/// let ctx = Context::new()?;
/// let pool = Pool::new(&ctx)?;
/// let mut t = pool.acquire(Token { text: "let".into(), line: 1 });
/// t.line += 1;                                // DerefMut
/// assert_eq!((t.text.as_str(), t.line), ("let", 2));
/// drop(t);                                    // drops the String, frees the slot
///
/// let k = pool.insert(Token { text: "x".into(), line: 3 });
/// assert_eq!(pool.get(k).map(|t| t.line), Some(3));
/// let mut pool = pool;
/// assert_eq!(pool.remove(k).map(|t| t.text), Some("x".to_string()));
/// assert!(pool.get(k).is_none());             // stale: caught, not reused
/// # Ok::<(), rtmem::Error>(())
/// ```
///
/// A handle cannot outlive its pool:
///
/// ```compile_fail,E0597
/// let ctx = rtmem::Context::new().unwrap();
/// let h;
/// {
///     let pool = rtmem::Pool::new(&ctx).unwrap();
///     h = pool.acquire(5u32);
/// } // error: `pool` dropped while borrowed
/// assert_eq!(*h, 5);
/// ```
///
/// nor can a pool outlive its context:
///
/// ```compile_fail,E0597
/// let pool;
/// {
///     let ctx = rtmem::Context::new().unwrap();
///     pool = rtmem::Pool::<u32>::new(&ctx).unwrap();
/// } // error: `ctx` dropped while borrowed
/// drop(pool);
/// ```
///
/// and [`get_mut`](Pool::get_mut) and [`remove`](Pool::remove) take
/// `&mut self`, so no reference from [`get`](Pool::get) survives a removal:
///
/// ```compile_fail,E0502
/// let ctx = rtmem::Context::new().unwrap();
/// let mut pool = rtmem::Pool::new(&ctx).unwrap();
/// let k = pool.insert(String::from("a"));
/// let s: &String = pool.get(k).unwrap();
/// pool.remove(k); // error: `pool` is borrowed by `s`
/// println!("{s}");
/// ```
pub struct Pool<'ctx, T> {
    shared: Shared<T>,
    ctx: &'ctx Context,
    /// The first keyed value (NULL: none), a doubly-linked list.
    keyed: Cell<*mut Slot<T>>,
    _owns: PhantomData<T>,
}

impl<'ctx, T> Pool<'ctx, T> {
    /// An empty pool of `ctx` with no cap. No memory is taken until the
    /// first value. [`Error::InvalidArgument`] for a `T` larger than 1 MiB
    /// (use the heap) or aligned to more than 4096.
    pub fn new(ctx: &'ctx Context) -> Result<Pool<'ctx, T>> {
        Pool::make(ctx, 0)
    }

    /// An empty pool that holds at most `max_live` values at once; past
    /// that, [`try_acquire`](Pool::try_acquire) and
    /// [`try_insert`](Pool::try_insert) fail with [`Error::Limit`].
    pub fn with_limit(ctx: &'ctx Context, max_live: usize) -> Result<Pool<'ctx, T>> {
        if max_live == 0 {
            return Err(Error::InvalidArgument);
        }
        Pool::make(ctx, max_live)
    }

    fn make(ctx: &'ctx Context, cap: usize) -> Result<Pool<'ctx, T>> {
        let name = CString::new(std::any::type_name::<T>()).unwrap_or_default();
        let ty = sys::rtm_type {
            name: name.as_ptr(),
            size: size_of::<Slot<T>>(),
            align: align_of::<Slot<T>>(),
            layout: ptr::null(),
            init: None,
            fini: None,
            ctor: None,
            dtor: None,
            ud: ptr::null_mut(),
            cap,
            flags: 0,
        };
        // SAFETY: ty is valid for the call, which copies it (and the name).
        let raw = unsafe { sys::rtm_pool_new(ctx.as_ptr(), &ty) };
        let raw = NonNull::new(raw).ok_or_else(|| ctx.error_or(Error::OutOfMemory))?;
        let mut info = mem::MaybeUninit::<sys::rtm_pool_info>::zeroed();
        // SAFETY: a live pool; the call fills info.
        let info = unsafe {
            sys::rtm_pool_stats(raw.as_ptr(), info.as_mut_ptr());
            info.assume_init()
        };
        let max_free = (info.slab_bytes / info.stride.max(1)) as usize;
        let shared = Shared {
            raw,
            free: Cell::new(ptr::null_mut()),
            nfree: Cell::new(0),
            max_free,
            reused: Cell::new(0),
            recycled: Cell::new(0),
        };
        Ok(Pool { shared, ctx, keyed: Cell::new(ptr::null_mut()), _owns: PhantomData })
    }

    #[cold]
    fn failure(&self) -> Error {
        self.ctx.error_or(Error::OutOfMemory)
    }

    /// Moves `value` into the pool and returns its owner.
    ///
    /// # Panics
    /// When the pool cannot grow (its cap, the context's limit, no memory);
    /// [`Pool::try_acquire`] returns the error and the value instead.
    #[inline]
    pub fn acquire(&self, value: T) -> Handle<'_, T> {
        match self.try_acquire(value) {
            Ok(h) => h,
            Err(e) => pool_failed(e.error),
        }
    }

    /// Moves `value` into the pool and returns its owner, or gives the value
    /// back with the error ([`Error::Limit`], [`Error::OutOfMemory`]).
    #[inline]
    pub fn try_acquire(&self, value: T) -> std::result::Result<Handle<'_, T>, Rejected<T>> {
        let slot = self.shared.take();
        match NonNull::new(slot) {
            Some(slot) => {
                // SAFETY: a free slot, sized and aligned for Slot<T>.
                unsafe { ptr::addr_of_mut!((*slot.as_ptr()).value).write(value) };
                Ok(Handle { slot, shared: &self.shared })
            }
            None => Err(Rejected { error: self.failure(), value }),
        }
    }

    /// Moves `value` into the pool and returns its key.
    ///
    /// # Panics
    /// As [`acquire`](Pool::acquire); [`Pool::try_insert`] does not.
    #[inline]
    pub fn insert(&self, value: T) -> Key<T> {
        match self.try_insert(value) {
            Ok(k) => k,
            Err(e) => pool_failed(e.error),
        }
    }

    /// Moves `value` into the pool and returns its key, or gives the value
    /// back with the error.
    ///
    /// ```
    /// use rtmem::{Context, Error, Pool};
    /// let ctx = Context::new()?;
    /// let pool = Pool::with_limit(&ctx, 2)?;
    /// let a = pool.try_insert('a').unwrap();
    /// let _b = pool.try_insert('b').unwrap();
    /// let c = pool.try_insert('c').unwrap_err();
    /// assert_eq!((c.error, c.value), (Error::Limit, 'c'));
    /// let mut pool = pool;
    /// pool.remove(a);
    /// assert!(pool.try_insert('c').is_ok());
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn try_insert(&self, value: T) -> std::result::Result<Key<T>, Rejected<T>> {
        // SAFETY: the pool is live; a handle it returns is live until
        // released, and rtm_pool_acquire_obj gives its slot with it.
        unsafe {
            let mut obj = ptr::null_mut();
            let mut h = sys::rtm_pool_acquire_obj(self.shared.raw.as_ptr(), &mut obj);
            if h.bits == 0 && self.shared.nfree.get() > 0 {
                // The free list's slots count against the cap and the
                // limit: give them back and try again.
                self.shared.flush();
                h = sys::rtm_pool_acquire_obj(self.shared.raw.as_ptr(), &mut obj);
            }
            if h.bits == 0 {
                return Err(Rejected { error: self.failure(), value });
            }
            let slot = obj as *mut Slot<T>;
            debug_assert!(!slot.is_null());
            let head = self.keyed.get();
            ptr::write(slot, Slot { value, prev: ptr::null_mut(), next: head });
            if !head.is_null() {
                (*head).prev = slot;
            }
            self.keyed.set(slot);
            Ok(Key { bits: h.bits, _t: PhantomData })
        }
    }

    /// The slot of a live key of this pool, or NULL. A stale or foreign key
    /// is recorded on the context (RTM_ESTALE / RTM_EFOREIGN), as in C.
    #[inline]
    fn slot(&self, key: Key<T>) -> *mut Slot<T> {
        // SAFETY: rtm_pool_get checks the handle (pool identity, slot range,
        // generation) before touching memory; keys only come from insert.
        unsafe {
            sys::rtm_pool_get(self.shared.raw.as_ptr(), sys::rtm_handle { bits: key.bits }) as *mut Slot<T>
        }
    }

    /// The value of `key`, or `None` if it was removed or is another pool's.
    #[inline]
    pub fn get(&self, key: Key<T>) -> Option<&T> {
        let s = self.slot(key);
        // SAFETY: a live keyed slot; &self keeps remove (which takes &mut)
        // away while the reference lives.
        unsafe { s.as_ref().map(|s| &s.value) }
    }

    /// The value of `key`, mutably, or `None` (as [`get`](Pool::get)).
    #[inline]
    pub fn get_mut(&mut self, key: Key<T>) -> Option<&mut T> {
        let s = self.slot(key);
        // SAFETY: as get, and &mut self makes the reference unique.
        unsafe { s.as_mut().map(|s| &mut s.value) }
    }

    /// Whether `key` names a value of this pool.
    pub fn contains_key(&self, key: Key<T>) -> bool {
        !self.slot(key).is_null()
    }

    /// Takes the value of `key` out of the pool; the key and every copy of
    /// it go stale. `None` if it was already removed or is another pool's.
    pub fn remove(&mut self, key: Key<T>) -> Option<T> {
        let s = self.slot(key);
        if s.is_null() {
            return None;
        }
        // SAFETY: a live keyed slot, unlinked, read once, then released.
        unsafe {
            self.unlink(s);
            let value = ptr::read(ptr::addr_of!((*s).value));
            let st = sys::rtm_pool_release(self.shared.raw.as_ptr(), sys::rtm_handle { bits: key.bits });
            debug_assert_eq!(st, sys::RTM_OK);
            Some(value)
        }
    }

    unsafe fn unlink(&self, s: *mut Slot<T>) {
        let (prev, next) = ((*s).prev, (*s).next);
        if prev.is_null() {
            self.keyed.set(next);
        } else {
            (*prev).next = next;
        }
        if !next.is_null() {
            (*next).prev = prev;
        }
    }

    /// Values live in the pool now, held by handles and by keys.
    pub fn len(&self) -> usize {
        self.stats().live as usize
    }

    /// Gives the slots of dropped handles back to the C pool (which may then
    /// give empty slabs back to the page source, see [`Context::trim`]).
    ///
    /// ```
    /// let ctx = rtmem::Context::new()?;
    /// let pool = rtmem::Pool::new(&ctx)?;
    /// drop((0..100).map(|i| pool.acquire(i)).collect::<Vec<_>>());
    /// assert_eq!(pool.len(), 0);
    /// assert_eq!(pool.stats().cached, 100);          // kept for the next acquire
    /// assert_eq!(ctx.stats().pool_objects_live, 100); // live, as C sees them
    /// pool.trim();
    /// assert_eq!(ctx.stats().pool_objects_live, 0);
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn trim(&self) {
        self.shared.flush();
    }

    /// Keeps up to `slabs` emptied slabs for the next growth (1 when made),
    /// for pools that fill and empty the same slabs over and over, bursts
    /// of many values: without it, each burst past the first asks the page
    /// source for the slabs again and faults them in. [`Context::trim`]
    /// gives them back. [`Error::InvalidArgument`] for 0.
    ///
    /// ```
    /// let ctx = rtmem::Context::new()?;
    /// let pool = rtmem::Pool::new(&ctx)?;
    /// pool.keep_slabs(64)?;
    /// let burst = || {
    ///     drop((0..20_000u64).map(|i| pool.acquire(i)).collect::<Vec<_>>());
    ///     pool.trim(); // the slots go back to the C pool, which keeps the slabs
    /// };
    /// burst();
    /// let made = pool.stats().misses; // slabs made by the first burst
    /// burst();
    /// burst();
    /// assert_eq!(pool.stats().misses, made, "no slab made again");
    /// assert_eq!(pool.keep_slabs(0), Err(rtmem::Error::InvalidArgument));
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn keep_slabs(&self, slabs: usize) -> Result<()> {
        // SAFETY: a live pool, used by this thread only (Pool is not Sync).
        check(unsafe { sys::rtm_pool_keep_slabs(self.shared.raw.as_ptr(), slabs) })
    }

    /// Whether the pool holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pool's figures (`rtm_pool_stats`).
    ///
    /// ```
    /// let ctx = rtmem::Context::new()?;
    /// let pool = rtmem::Pool::new(&ctx)?;
    /// let hs: Vec<_> = (0..100u64).map(|i| pool.acquire(i)).collect();
    /// let st = pool.stats();
    /// assert_eq!((st.live, st.acquires), (100, 100));
    /// drop(hs);
    /// assert_eq!(pool.stats().releases, 100);
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn stats(&self) -> PoolStats {
        let mut info = mem::MaybeUninit::<sys::rtm_pool_info>::zeroed();
        // SAFETY: fills the struct for a live pool.
        let i = unsafe {
            let st = sys::rtm_pool_stats(self.shared.raw.as_ptr(), info.as_mut_ptr());
            debug_assert_eq!(st, sys::RTM_OK);
            info.assume_init()
        };
        let cached = self.shared.nfree.get() as u64;
        let (reused, recycled) = (self.shared.reused.get(), self.shared.recycled.get());
        PoolStats {
            stride: i.stride,
            live: i.live - cached,
            cached,
            peak: i.peak,
            acquires: i.acquires + reused,
            releases: i.releases + recycled,
            hits: i.hits + reused,
            misses: i.misses,
            slabs: i.slabs,
            slab_bytes: i.slab_bytes,
            bad_releases: i.bad_releases,
        }
    }

    /// The `rtm_pool` pointer, for the C API. Still owned by `self`.
    pub fn as_ptr(&self) -> *mut sys::rtm_pool {
        self.shared.raw.as_ptr()
    }
}

impl<T> Drop for Pool<'_, T> {
    fn drop(&mut self) {
        // SAFETY: no handle is alive (they borrow the pool); the free list
        // and the keyed values are freed, then the pool is empty when
        // destroyed.
        self.shared.flush();
        unsafe {
            let mut s = self.keyed.replace(ptr::null_mut());
            while !s.is_null() {
                let next = (*s).next;
                ptr::drop_in_place(ptr::addr_of_mut!((*s).value));
                let st = sys::rtm_pool_free(self.shared.raw.as_ptr(), s as *mut _);
                debug_assert_eq!(st, sys::RTM_OK);
                s = next;
            }
            sys::rtm_pool_destroy(self.shared.raw.as_ptr());
        }
    }
}

impl<T> fmt::Debug for Pool<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool").field("type", &std::any::type_name::<T>()).field("live", &self.len()).finish()
    }
}

#[cold]
#[inline(never)]
fn pool_failed(e: Error) -> ! {
    panic!("rtmem: pool allocation failed: {e}")
}

/// A pool's figures ([`Pool::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Bytes per object in a slab (the value and its links, aligned).
    pub stride: u64,
    /// Values live now (not counting `cached`), and the most ever (counting it).
    pub live: u64,
    /// Slots of dropped handles on the pool's free list ([`Pool::trim`]).
    pub cached: u64,
    /// See `live`.
    pub peak: u64,
    /// Acquires and inserts, ever (from the free list or the C pool).
    pub acquires: u64,
    /// Releases (handle drops, removals), ever.
    pub releases: u64,
    /// Acquires served by a free slot (of the free list or a slab).
    pub hits: u64,
    /// Acquires that had to grow the pool.
    pub misses: u64,
    /// Slabs held now.
    pub slabs: u64,
    /// The size of one.
    pub slab_bytes: u64,
    /// Stale or foreign keys caught.
    pub bad_releases: u64,
}

/// The owner of one value in a [`Pool`]: `Deref`s to it, and dropping it
/// drops the value and frees the slot. It borrows the pool, so it cannot
/// outlive it.
///
/// ```
/// let ctx = rtmem::Context::new()?;
/// let pool = rtmem::Pool::new(&ctx)?;
/// let h = pool.acquire(vec![1, 2, 3]);
/// assert_eq!(h.len(), 3);
/// let v: Vec<i32> = h.into_inner(); // moves the value out, frees the slot
/// assert_eq!(v, [1, 2, 3]);
/// assert!(pool.is_empty());
/// # Ok::<(), rtmem::Error>(())
/// ```
pub struct Handle<'p, T> {
    slot: NonNull<Slot<T>>,
    shared: &'p Shared<T>,
}

impl<'p, T> Handle<'p, T> {
    /// Moves the value out and frees its slot.
    pub fn into_inner(self) -> T {
        let this = ManuallyDrop::new(self);
        // SAFETY: the value is live; read once, then the slot is given back
        // and the handle forgotten (its Drop would drop the value again).
        unsafe {
            let v = ptr::read(ptr::addr_of!((*this.slot.as_ptr()).value));
            this.shared.give(this.slot.as_ptr());
            v
        }
    }
}

impl<T> Deref for Handle<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the handle owns a live value.
        unsafe { &(*self.slot.as_ptr()).value }
    }
}

impl<T> DerefMut for Handle<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: and owns it uniquely.
        unsafe { &mut (*self.slot.as_ptr()).value }
    }
}

impl<T> Drop for Handle<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the value is live and owned; the slot is this pool's, and
        // the pool is live (the handle borrows it).
        unsafe {
            ptr::drop_in_place(ptr::addr_of_mut!((*self.slot.as_ptr()).value));
            self.shared.give(self.slot.as_ptr());
        }
    }
}

impl<T: fmt::Display> fmt::Display for Handle<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: fmt::Debug> fmt::Debug for Handle<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Handle").field(&**self).finish()
    }
}

/// A copyable id of a value in a [`Pool`] (an `rtm_handle`: slot, generation
/// and pool identity in 64 bits). A key never reaches the wrong value: once
/// its value is removed, every copy of it is stale and the pool's lookups
/// return `None` (the C library records `RTM_ESTALE` on the context); a key
/// of another pool gives `None` too (`RTM_EFOREIGN`). Keys may be stored in
/// [`record!`](crate::record) rows (an `RTM_KIND_HANDLE` column).
#[repr(transparent)]
pub struct Key<T> {
    bits: u64,
    _t: PhantomData<fn() -> T>,
}

impl<T> Key<T> {
    /// The `rtm_handle` bits, for the C API or a script.
    ///
    /// ```
    /// let ctx = rtmem::Context::new()?;
    /// let pool = rtmem::Pool::new(&ctx)?;
    /// let k = pool.insert(1.5f64);
    /// let h = rtmem::sys::rtm_handle { bits: k.to_bits() };
    /// let p = unsafe { rtmem::sys::rtm_pool_get(pool.as_ptr(), h) };
    /// assert_eq!(p as *const f64, pool.get(k).unwrap() as *const f64);
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn to_bits(self) -> u64 {
        self.bits
    }
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Key<T> {}
impl<T> PartialEq for Key<T> {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}
impl<T> Eq for Key<T> {}
impl<T> Hash for Key<T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.bits.hash(h)
    }
}
impl<T> fmt::Debug for Key<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:#x})", self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn handles_drop_their_values() {
        let ctx = Context::new().unwrap();
        let pool = Pool::new(&ctx).unwrap();
        let tracker = Rc::new(());
        let hs: Vec<_> = (0..1000).map(|_| pool.acquire(Rc::clone(&tracker))).collect();
        assert_eq!(Rc::strong_count(&tracker), 1001);
        assert_eq!(pool.len(), 1000);
        drop(hs);
        assert_eq!(Rc::strong_count(&tracker), 1);
        assert!(pool.is_empty());
        assert!(ctx.check().is_ok());
        // The freed slots wait on the pool's free list, then go back to C.
        let st = pool.stats();
        assert_eq!((st.live, st.cached), (0, 1000));
        let reserves = ctx.stats().page_reserves;
        let again: Vec<_> = (0..1000).map(|_| pool.acquire(Rc::clone(&tracker))).collect();
        assert_eq!(pool.stats().cached, 0, "acquire reuses them");
        assert_eq!(pool.stats().acquires, 2000);
        assert_eq!(ctx.stats().pool_hits + ctx.stats().pool_misses, 1000, "C served the first 1000 only");
        assert_eq!(ctx.stats().page_reserves, reserves);
        drop(again);
        pool.trim();
        assert_eq!(pool.stats().cached, 0);
        assert_eq!(ctx.stats().pool_objects_live, 0);
        assert!(ctx.check().is_ok());
    }

    #[test]
    fn keys_are_generation_checked() {
        let ctx = Context::new().unwrap();
        let mut pool = Pool::new(&ctx).unwrap();
        let a = pool.insert(String::from("a"));
        let b = pool.insert(String::from("b"));
        assert_ne!(a, b);
        pool.get_mut(a).unwrap().push('!');
        assert_eq!(pool.get(a).map(String::as_str), Some("a!"));
        assert_eq!(pool.remove(a).as_deref(), Some("a!"));
        assert_eq!(pool.remove(a), None, "a second remove finds nothing");
        assert_eq!(ctx.last_error(), Some(Error::Stale));
        // The slot is reused with a new generation: the old key stays stale.
        let c = pool.insert(String::from("c"));
        assert_ne!(a, c);
        assert!(pool.get(a).is_none());
        assert!(!pool.contains_key(a));
        assert!(pool.contains_key(c));
        assert_eq!(pool.get(b).map(String::as_str), Some("b"));
        assert!(pool.stats().bad_releases == 0, "lookups are not releases");
    }

    #[test]
    fn foreign_keys_are_caught() {
        let ctx = Context::new().unwrap();
        let p1 = Pool::new(&ctx).unwrap();
        let p2 = Pool::new(&ctx).unwrap();
        let k = p1.insert(1u32);
        let _k2 = p2.insert(2u32);
        assert_eq!(p2.get(k), None);
        assert_eq!(ctx.last_error(), Some(Error::Foreign));
        assert_eq!(p1.get(k), Some(&1));
    }

    #[test]
    fn keys_of_a_dropped_pool_are_not_reused() {
        let ctx = Context::new().unwrap();
        let p1 = Pool::new(&ctx).unwrap();
        let k = p1.insert(7u64);
        drop(p1);
        let p2 = Pool::new(&ctx).unwrap();
        let k2 = p2.insert(8u64);
        assert_eq!(p2.get(k), None);
        assert_eq!(p2.get(k2), Some(&8));
    }

    #[test]
    fn dropping_the_pool_drops_keyed_values_without_leaks() {
        let ctx = Context::new().unwrap();
        let tracker = Rc::new(());
        {
            let mut pool = Pool::new(&ctx).unwrap();
            let keys: Vec<_> = (0..100).map(|_| pool.insert(Rc::clone(&tracker))).collect();
            for k in keys.iter().step_by(3) {
                pool.remove(*k);
            }
            assert_eq!(Rc::strong_count(&tracker), 1 + 66);
        }
        assert_eq!(Rc::strong_count(&tracker), 1);
        let st = ctx.stats();
        assert_eq!(st.pool_leaked, 0, "nothing was live when the pool was destroyed");
        assert_eq!(st.pools_live, 0);
        assert!(ctx.check().is_ok());
    }

    #[test]
    fn limit_gives_err_with_the_value() {
        let ctx = Context::new().unwrap();
        let pool = Pool::with_limit(&ctx, 3).unwrap();
        let hs: Vec<_> = (0..3).map(|i| pool.acquire(i)).collect();
        let r = pool.try_acquire(99).unwrap_err();
        assert_eq!((r.error, r.value), (Error::Limit, 99));
        drop(hs);
        assert_eq!(*pool.acquire(4), 4);
        // The three freed slots wait on the free list; keys still get them.
        let keys: Vec<_> = (0..3).map(|i| pool.try_insert(i).unwrap()).collect();
        assert_eq!(pool.try_insert(9).unwrap_err().error, Error::Limit);
        assert_eq!(pool.get(keys[2]), Some(&2));
        assert_eq!(Pool::<u8>::with_limit(&ctx, 0).unwrap_err(), Error::InvalidArgument);
    }

    #[test]
    fn context_limit_gives_err() {
        let ctx = Context::builder().limit(2 << 20).build().unwrap();
        let pool = Pool::new(&ctx).unwrap();
        let mut held = Vec::new();
        let err = loop {
            match pool.try_acquire([0u8; 1000]) {
                Ok(h) => held.push(h),
                Err(e) => break e.error,
            }
        };
        assert_eq!(err, Error::Limit);
        assert!(held.len() > 100);
        assert!(ctx.check().is_ok());
        held.truncate(10);
        assert!(pool.try_acquire([1u8; 1000]).is_ok(), "usable again once slots are free");
    }

    #[test]
    fn unsupported_types_are_refused() {
        let ctx = Context::new().unwrap();
        assert_eq!(Pool::<[u8; 2 << 20]>::new(&ctx).unwrap_err(), Error::InvalidArgument);
        #[repr(align(8192))]
        struct Huge;
        assert_eq!(Pool::<Huge>::new(&ctx).unwrap_err(), Error::InvalidArgument);
        let zst = Pool::new(&ctx).unwrap();
        let h = zst.acquire(());
        assert_eq!(*h, ());
    }

    #[test]
    #[should_panic(expected = "pool allocation failed")]
    fn acquire_panics_past_the_cap() {
        let ctx = Context::new().unwrap();
        let pool = Pool::with_limit(&ctx, 1).unwrap();
        let _a = pool.acquire(1);
        let _b = pool.acquire(2);
    }

    #[test]
    fn aligned_values() {
        #[repr(align(64))]
        struct Line(u8);
        let ctx = Context::new().unwrap();
        let pool = Pool::new(&ctx).unwrap();
        let hs: Vec<_> = (0..100).map(|i| pool.acquire(Line(i))).collect();
        for (i, h) in hs.iter().enumerate() {
            assert_eq!(&**h as *const Line as usize % 64, 0);
            assert_eq!(h.0 as usize, i);
        }
    }
}
