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
use crate::error::{Error, Rejected, Result};
use crate::sys;

/// One object of a pool: the value, and the links of the list of keyed
/// values (so that dropping the pool drops them; unused by handles).
#[repr(C)]
struct Slot<T> {
    value: T,
    prev: *mut Slot<T>,
    next: *mut Slot<T>,
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
    raw: NonNull<sys::rtm_pool>,
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
        match NonNull::new(raw) {
            Some(raw) => Ok(Pool { raw, ctx, keyed: Cell::new(ptr::null_mut()), _owns: PhantomData }),
            None => Err(ctx.error_or(Error::OutOfMemory)),
        }
    }

    #[inline]
    fn take(&self) -> *mut Slot<T> {
        // SAFETY: the pool is live, on its owner thread.
        unsafe { sys::rtm_pool_alloc(self.raw.as_ptr()) as *mut Slot<T> }
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
        let slot = self.take();
        match NonNull::new(slot) {
            Some(slot) => {
                // SAFETY: a fresh slot, sized and aligned for Slot<T>.
                unsafe { ptr::addr_of_mut!((*slot.as_ptr()).value).write(value) };
                Ok(Handle { slot, pool: self.raw, _pool: PhantomData })
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
        // released, and rtm_pool_get gives its slot.
        unsafe {
            let h = sys::rtm_pool_acquire(self.raw.as_ptr());
            if h.bits == 0 {
                return Err(Rejected { error: self.failure(), value });
            }
            let slot = sys::rtm_pool_get(self.raw.as_ptr(), h) as *mut Slot<T>;
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
        unsafe { sys::rtm_pool_get(self.raw.as_ptr(), sys::rtm_handle { bits: key.bits }) as *mut Slot<T> }
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
            let st = sys::rtm_pool_release(self.raw.as_ptr(), sys::rtm_handle { bits: key.bits });
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
            let st = sys::rtm_pool_stats(self.raw.as_ptr(), info.as_mut_ptr());
            debug_assert_eq!(st, sys::RTM_OK);
            info.assume_init()
        };
        PoolStats {
            stride: i.stride,
            live: i.live,
            peak: i.peak,
            acquires: i.acquires,
            releases: i.releases,
            hits: i.hits,
            misses: i.misses,
            slabs: i.slabs,
            slab_bytes: i.slab_bytes,
            bad_releases: i.bad_releases,
        }
    }

    /// The `rtm_pool` pointer, for the C API. Still owned by `self`.
    pub fn as_ptr(&self) -> *mut sys::rtm_pool {
        self.raw.as_ptr()
    }
}

impl<T> Drop for Pool<'_, T> {
    fn drop(&mut self) {
        // SAFETY: no handle is alive (they borrow the pool); the keyed values
        // are dropped and freed, then the pool is empty when destroyed.
        unsafe {
            let mut s = self.keyed.replace(ptr::null_mut());
            while !s.is_null() {
                let next = (*s).next;
                ptr::drop_in_place(ptr::addr_of_mut!((*s).value));
                let st = sys::rtm_pool_free(self.raw.as_ptr(), s as *mut _);
                debug_assert_eq!(st, sys::RTM_OK);
                s = next;
            }
            sys::rtm_pool_destroy(self.raw.as_ptr());
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
    /// Values live now, and the most ever.
    pub live: u64,
    /// See `live`.
    pub peak: u64,
    /// Acquires and inserts, ever.
    pub acquires: u64,
    /// Releases (handle drops, removals), ever.
    pub releases: u64,
    /// Acquires served by a free slot.
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
    pool: NonNull<sys::rtm_pool>,
    _pool: PhantomData<(&'p (), T)>,
}

impl<'p, T> Handle<'p, T> {
    /// Moves the value out and frees its slot.
    pub fn into_inner(self) -> T {
        let this = ManuallyDrop::new(self);
        // SAFETY: the value is live; read once, then the slot is freed and
        // the handle forgotten (its Drop would drop the value again).
        unsafe {
            let v = ptr::read(ptr::addr_of!((*this.slot.as_ptr()).value));
            sys::rtm_pool_free(this.pool.as_ptr(), this.slot.as_ptr() as *mut _);
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
            sys::rtm_pool_free(self.pool.as_ptr(), self.slot.as_ptr() as *mut _);
        }
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
