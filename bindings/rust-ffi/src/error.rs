//! [`Error`]: the C library's status codes as a Rust error.

use std::ffi::CStr;
use std::fmt;

use crate::sys;

/// Why a call into rtmem failed: one variant per C status other than
/// `RTM_OK`.
///
/// ```
/// use rtmem::{AlignedBuf, Context, Error};
///
/// let ctx = Context::builder().limit(256 << 10).build()?;
/// let mut buf = AlignedBuf::new(&ctx)?;
/// let err = buf.extend_from_slice(&[0; 1 << 20]).unwrap_err();
/// assert_eq!(err, Error::Limit);
/// assert_eq!(err.to_string(), "limit reached");
/// let boxed: Box<dyn std::error::Error> = err.into();
/// # Ok::<(), rtmem::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// `RTM_ENOMEM`: the page source refused memory.
    OutOfMemory,
    /// `RTM_ELIMIT`: a configured limit (bytes, pool cap, id space) was reached.
    Limit,
    /// `RTM_EINVAL`: a bad argument (zero or absurd size, overflow, wrong name).
    InvalidArgument,
    /// `RTM_ESTALE`: a handle or pointer that was already released.
    Stale,
    /// `RTM_EFOREIGN`: a handle or pointer of another pool or context.
    Foreign,
    /// `RTM_ETYPE`: a field or value of the wrong kind.
    Type,
    /// A status this version of the crate does not know.
    Unknown(u32),
}

/// `Result<T, rtmem::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The error for a C status, or `None` for `RTM_OK`.
    pub fn from_status(s: sys::rtm_status) -> Option<Error> {
        Some(match s {
            sys::RTM_OK => return None,
            sys::RTM_ENOMEM => Error::OutOfMemory,
            sys::RTM_ELIMIT => Error::Limit,
            sys::RTM_EINVAL => Error::InvalidArgument,
            sys::RTM_ESTALE => Error::Stale,
            sys::RTM_EFOREIGN => Error::Foreign,
            sys::RTM_ETYPE => Error::Type,
            other => Error::Unknown(other),
        })
    }

    /// The C status of this error.
    pub fn status(self) -> sys::rtm_status {
        match self {
            Error::OutOfMemory => sys::RTM_ENOMEM,
            Error::Limit => sys::RTM_ELIMIT,
            Error::InvalidArgument => sys::RTM_EINVAL,
            Error::Stale => sys::RTM_ESTALE,
            Error::Foreign => sys::RTM_EFOREIGN,
            Error::Type => sys::RTM_ETYPE,
            Error::Unknown(s) => s,
        }
    }
}

/// `Ok(())` for `RTM_OK`, else the error.
pub(crate) fn check(s: sys::rtm_status) -> Result<()> {
    match Error::from_status(s) {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

impl fmt::Display for Error {
    /// The C library's own words (`rtm_status_str`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: rtm_status_str returns a static NUL-terminated string for
        // any value, never NULL.
        let s = unsafe { CStr::from_ptr(sys::rtm_status_str(self.status())) };
        f.write_str(&s.to_string_lossy())
    }
}

impl std::error::Error for Error {}

/// An error that hands back the value that could not be stored, as
/// [`Arena::try_alloc`](crate::Arena::try_alloc) and
/// [`Pool::try_acquire`](crate::Pool::try_acquire) return it.
///
/// ```
/// use rtmem::{Context, Pool, Error};
///
/// let ctx = Context::new()?;
/// let pool = Pool::with_limit(&ctx, 1)?;
/// let _first = pool.acquire(String::from("kept"));
/// let rejected = pool.try_acquire(String::from("given back")).unwrap_err();
/// assert_eq!(rejected.error, Error::Limit);
/// assert_eq!(rejected.into_inner(), "given back");
/// # Ok::<(), rtmem::Error>(())
/// ```
pub struct Rejected<T> {
    /// Why.
    pub error: Error,
    /// The value, untouched.
    pub value: T,
}

impl<T> Rejected<T> {
    /// The value that was not stored.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> fmt::Debug for Rejected<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected").field("error", &self.error).finish_non_exhaustive()
    }
}

impl<T> fmt::Display for Rejected<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<T> std::error::Error for Rejected<T> {}

impl<T> From<Rejected<T>> for Error {
    fn from(r: Rejected<T>) -> Error {
        r.error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips() {
        assert_eq!(Error::from_status(sys::RTM_OK), None);
        for s in 1..sys::RTM_STATUS_COUNT {
            let e = Error::from_status(s).unwrap();
            assert!(!matches!(e, Error::Unknown(_)), "status {s} has a variant");
            assert_eq!(e.status(), s);
            assert!(!e.to_string().is_empty());
        }
        assert_eq!(Error::from_status(99), Some(Error::Unknown(99)));
        assert_eq!(Error::Unknown(99).to_string(), "unknown status");
    }

    #[test]
    fn messages_are_the_c_librarys() {
        assert_eq!(Error::OutOfMemory.to_string(), "out of memory");
        assert!(check(sys::RTM_OK).is_ok());
        assert_eq!(check(sys::RTM_ESTALE), Err(Error::Stale));
    }
}
