//! [`AlignedBuf`]: a growable byte buffer with SIMD-aligned data.

use std::fmt;
use std::io;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

use crate::context::Context;
use crate::error::{check, Error, Result};
use crate::sys;

/// A growable byte buffer of a [`Context`] (`rtm_buf`) whose data is aligned
/// to 32 bytes (`RTM_SIMD_ALIGN`) or any larger power of two asked for, up to
/// 2 MiB. It derefs to `[u8]`; growing it may move the data, which the borrow
/// checker accounts for (growth takes `&mut self`).
///
/// Growth returns a [`Result`]: reaching the context's limit is an `Err`,
/// and the buffer is then unchanged.
///
/// ```
/// use rtmem::{AlignedBuf, Context};
///
/// let ctx = Context::new()?;
/// let mut buf = AlignedBuf::with_align(&ctx, 64)?;
/// buf.extend_from_slice(b"hello, ")?;
/// buf.extend_from_slice(b"world")?;
/// assert_eq!(&buf[..], b"hello, world");
/// assert_eq!(buf.as_ptr() as usize % 64, 0);
/// buf[0] = b'H';
/// assert!(buf.starts_with(b"Hello"));
/// # Ok::<(), rtmem::Error>(())
/// ```
///
/// A slice of the buffer cannot be held across a growth:
///
/// ```compile_fail,E0502
/// let ctx = rtmem::Context::new().unwrap();
/// let mut buf = rtmem::AlignedBuf::new(&ctx).unwrap();
/// buf.extend_from_slice(b"abc").unwrap();
/// let head: &[u8] = &buf[..1];
/// buf.extend_from_slice(&[0; 100_000]).unwrap(); // error: `buf` is borrowed
/// assert_eq!(head, b"a");
/// ```
pub struct AlignedBuf<'ctx> {
    raw: NonNull<sys::rtm_buf>,
    ctx: &'ctx Context,
}

impl<'ctx> AlignedBuf<'ctx> {
    /// An empty buffer aligned to 32 bytes.
    pub fn new(ctx: &'ctx Context) -> Result<AlignedBuf<'ctx>> {
        AlignedBuf::with_align(ctx, sys::RTM_SIMD_ALIGN)
    }

    /// An empty buffer whose data is aligned to `align` (a power of two; a
    /// smaller one than 32 is raised to 32). [`Error::InvalidArgument`] for
    /// any other value or one over 2 MiB.
    pub fn with_align(ctx: &'ctx Context, align: usize) -> Result<AlignedBuf<'ctx>> {
        if !align.is_power_of_two() || align > sys::RTM_BUF_MAX_ALIGN {
            return Err(Error::InvalidArgument);
        }
        // SAFETY: ctx is live, on its thread.
        let raw = unsafe { sys::rtm_buf_new(ctx.as_ptr(), align) };
        match NonNull::new(raw) {
            Some(raw) => Ok(AlignedBuf { raw, ctx }),
            None => Err(ctx.error_or(Error::OutOfMemory)),
        }
    }

    /// The data's alignment.
    pub fn align(&self) -> usize {
        // SAFETY: a live buffer.
        unsafe { sys::rtm_buf_align(self.raw.as_ptr()) }
    }

    /// The bytes it can hold without growing.
    pub fn capacity(&self) -> usize {
        // SAFETY: a live buffer.
        unsafe { sys::rtm_buf_cap(self.raw.as_ptr()) }
    }

    /// Appends a copy of `data`. The capacity at least doubles when it grows.
    /// [`Error::Limit`] / [`Error::OutOfMemory`] leave the buffer unchanged.
    pub fn extend_from_slice(&mut self, data: &[u8]) -> Result<()> {
        // SAFETY: data is valid for its length; it cannot alias the buffer
        // (that would need a borrow of self while &mut self is held).
        self.status(unsafe { sys::rtm_buf_append(self.raw.as_ptr(), data.as_ptr() as *const _, data.len()) })
    }

    /// Sets the length; new bytes are zero.
    ///
    /// ```
    /// let ctx = rtmem::Context::new()?;
    /// let mut buf = rtmem::AlignedBuf::new(&ctx)?;
    /// buf.resize(1000)?;
    /// assert!(buf.iter().all(|&b| b == 0));
    /// buf.resize(10)?;
    /// assert_eq!(buf.len(), 10);
    /// assert!(buf.capacity() >= 1000);
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn resize(&mut self, len: usize) -> Result<()> {
        // SAFETY: a live buffer.
        self.status(unsafe { sys::rtm_buf_resize(self.raw.as_ptr(), len) })
    }

    /// Makes room for `additional` more bytes.
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        let want = self.len().checked_add(additional).ok_or(Error::InvalidArgument)?;
        // SAFETY: a live buffer.
        self.status(unsafe { sys::rtm_buf_reserve(self.raw.as_ptr(), want) })
    }

    /// Empties it, keeping the capacity.
    pub fn clear(&mut self) {
        // SAFETY: a live buffer.
        unsafe { sys::rtm_buf_clear(self.raw.as_ptr()) }
    }

    fn status(&self, s: sys::rtm_status) -> Result<()> {
        check(s)
    }

    /// The context it belongs to.
    pub fn context(&self) -> &'ctx Context {
        self.ctx
    }
}

impl Deref for AlignedBuf<'_> {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: data holds len initialized bytes (NULL only when the
        // capacity, so the length, is 0).
        unsafe {
            let len = sys::rtm_buf_len(self.raw.as_ptr());
            let p = sys::rtm_buf_data(self.raw.as_ptr()) as *const u8;
            if p.is_null() {
                &[]
            } else {
                std::slice::from_raw_parts(p, len)
            }
        }
    }
}

impl DerefMut for AlignedBuf<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as deref, uniquely borrowed.
        unsafe {
            let len = sys::rtm_buf_len(self.raw.as_ptr());
            let p = sys::rtm_buf_data(self.raw.as_ptr()) as *mut u8;
            if p.is_null() {
                &mut []
            } else {
                std::slice::from_raw_parts_mut(p, len)
            }
        }
    }
}

impl io::Write for AlignedBuf<'_> {
    /// Appends all of `data`, or fails with `ErrorKind::OutOfMemory`.
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.extend_from_slice(data)
            .map(|()| data.len())
            .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for AlignedBuf<'_> {
    fn drop(&mut self) {
        // SAFETY: no slice of the buffer is alive (they borrow it).
        unsafe { sys::rtm_buf_destroy(self.raw.as_ptr()) }
    }
}

impl fmt::Debug for AlignedBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlignedBuf")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("align", &self.align())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn grows_and_stays_aligned() {
        let ctx = Context::new().unwrap();
        for align in [1, 32, 64, 4096, 1 << 20] {
            let mut b = AlignedBuf::with_align(&ctx, align).unwrap();
            assert!(b.is_empty());
            assert_eq!(b.align(), align.max(32));
            for i in 0..2000u32 {
                b.extend_from_slice(&i.to_le_bytes()).unwrap();
                assert_eq!(b.as_ptr() as usize % align.max(32), 0);
            }
            assert_eq!(b.len(), 8000);
            assert_eq!(&b[4 * 1999..], &1999u32.to_le_bytes());
        }
        assert_eq!(ctx.stats().bufs_live, 0);
    }

    #[test]
    fn bad_alignments_are_refused() {
        let ctx = Context::new().unwrap();
        assert_eq!(AlignedBuf::with_align(&ctx, 48).unwrap_err(), Error::InvalidArgument);
        assert_eq!(AlignedBuf::with_align(&ctx, 4 << 20).unwrap_err(), Error::InvalidArgument);
        assert_eq!(AlignedBuf::with_align(&ctx, 0).unwrap_err(), Error::InvalidArgument);
    }

    #[test]
    fn limit_leaves_the_buffer_unchanged() {
        let ctx = Context::builder().limit(1 << 20).build().unwrap();
        let mut b = AlignedBuf::new(&ctx).unwrap();
        b.extend_from_slice(b"keep").unwrap();
        assert_eq!(b.extend_from_slice(&vec![1u8; 2 << 20]), Err(Error::Limit));
        assert_eq!(b.resize(4 << 20), Err(Error::Limit));
        assert_eq!(b.reserve(usize::MAX), Err(Error::InvalidArgument));
        assert_eq!(&b[..], b"keep");
        assert!(ctx.check().is_ok());
        let e = b.write_all(&vec![0u8; 2 << 20]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::OutOfMemory);
    }

    #[test]
    fn io_write_and_clear() {
        let ctx = Context::new().unwrap();
        let mut b = AlignedBuf::new(&ctx).unwrap();
        write!(b, "{}-{}", 1, 2.5).unwrap();
        assert_eq!(&b[..], b"1-2.5");
        let cap = b.capacity();
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.capacity(), cap);
    }
}
