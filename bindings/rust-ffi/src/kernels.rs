//! The column kernels (`rtm_col_*`): sums, means, minimum and maximum,
//! compares into a [`Selection`], gathers and `y = a*x + y`, over any slice
//! (a [`Batch`](crate::Batch) column, an [`AlignedBuf`](crate::AlignedBuf), a
//! `Vec`). Each runs the best of the C library's scalar, SSE2, AVX2 and
//! AVX-512 paths, chosen once for the CPU, and every path gives bit-identical
//! results.
//!
//! ```
//! use rtmem::kernels::{self, Cmp};
//!
//! let x: Vec<f64> = (0..1000).map(|i| i as f64).collect();
//! assert_eq!(kernels::sum(&x)?, 499_500.0);
//! assert_eq!(kernels::mean(&x), Some(499.5));
//! assert_eq!(kernels::min(&x), Some(0.0));
//! let big = kernels::select(&x, Cmp::Ge, 990.0);
//! assert_eq!(big.count(), 10);
//! assert_eq!(kernels::gather(&x, &big.indices())?[0], 990.0);
//! # Ok::<(), rtmem::Error>(())
//! ```

use std::os::raw::c_void;

use crate::error::{check, Error, Result};
use crate::sys;

/// A comparison for [`select`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `x < v`
    Lt,
    /// `x <= v`
    Le,
    /// `x == v`
    Eq,
    /// `x != v`
    Ne,
    /// `x >= v`
    Ge,
    /// `x > v`
    Gt,
}

impl Cmp {
    fn raw(self) -> sys::rtm_cmp {
        match self {
            Cmp::Lt => sys::RTM_CMP_LT,
            Cmp::Le => sys::RTM_CMP_LE,
            Cmp::Eq => sys::RTM_CMP_EQ,
            Cmp::Ne => sys::RTM_CMP_NE,
            Cmp::Ge => sys::RTM_CMP_GE,
            Cmp::Gt => sys::RTM_CMP_GT,
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// The element types the kernels take: `i32`, `i64`, `f32`, `f64`.
pub trait Kernel: Copy + sealed::Sealed {
    /// What [`sum`] gives: `i64` for integers (summed exactly, in 128
    /// bits), `f64` for floating point (compensated summation).
    type Sum: Copy;
    #[doc(hidden)]
    unsafe fn sum_raw(x: *const Self, n: usize, out: *mut Self::Sum) -> sys::rtm_status;
    #[doc(hidden)]
    unsafe fn mean_raw(x: *const Self, n: usize, out: *mut f64) -> sys::rtm_status;
    #[doc(hidden)]
    unsafe fn min_raw(x: *const Self, n: usize, out: *mut Self) -> sys::rtm_status;
    #[doc(hidden)]
    unsafe fn max_raw(x: *const Self, n: usize, out: *mut Self) -> sys::rtm_status;
    #[doc(hidden)]
    unsafe fn cmp_raw(x: *const Self, n: usize, op: sys::rtm_cmp, v: Self, bits: *mut u64)
        -> sys::rtm_status;
}

macro_rules! kernel {
    ($t:ty, $sum:ty, $s:ident, $mean:ident, $min:ident, $max:ident, $cmp:ident) => {
        impl sealed::Sealed for $t {}
        impl Kernel for $t {
            type Sum = $sum;
            unsafe fn sum_raw(x: *const $t, n: usize, out: *mut $sum) -> sys::rtm_status {
                sys::$s(x, n, out)
            }
            unsafe fn mean_raw(x: *const $t, n: usize, out: *mut f64) -> sys::rtm_status {
                sys::$mean(x, n, out)
            }
            unsafe fn min_raw(x: *const $t, n: usize, out: *mut $t) -> sys::rtm_status {
                sys::$min(x, n, out)
            }
            unsafe fn max_raw(x: *const $t, n: usize, out: *mut $t) -> sys::rtm_status {
                sys::$max(x, n, out)
            }
            unsafe fn cmp_raw(
                x: *const $t,
                n: usize,
                op: sys::rtm_cmp,
                v: $t,
                bits: *mut u64,
            ) -> sys::rtm_status {
                sys::$cmp(x, n, op, v, bits)
            }
        }
    };
}

kernel!(i32, i64, rtm_col_sum_i32, rtm_col_mean_i32, rtm_col_min_i32, rtm_col_max_i32, rtm_col_cmp_i32);
kernel!(i64, i64, rtm_col_sum_i64, rtm_col_mean_i64, rtm_col_min_i64, rtm_col_max_i64, rtm_col_cmp_i64);
kernel!(f32, f64, rtm_col_sum_f32, rtm_col_mean_f32, rtm_col_min_f32, rtm_col_max_f32, rtm_col_cmp_f32);
kernel!(f64, f64, rtm_col_sum_f64, rtm_col_mean_f64, rtm_col_min_f64, rtm_col_max_f64, rtm_col_cmp_f64);

/// The sum of `x` (0 for an empty slice). Integers are summed exactly; an
/// `i64` sum that does not fit gives [`Error::Limit`] (an `i32` slice needs
/// more than 2^32 values for that). Floating point never fails: NaN and
/// infinities propagate as IEEE 754 says, and the result is within about
/// one unit in the last place of the exact sum.
///
/// ```
/// assert_eq!(rtmem::kernels::sum(&[i64::MAX, 1]), Err(rtmem::Error::Limit));
/// assert_eq!(rtmem::kernels::sum(&[1e100f64, 1.0, -1e100]), Ok(1.0));
/// ```
pub fn sum<T: Kernel>(x: &[T]) -> Result<T::Sum> {
    let mut out = std::mem::MaybeUninit::<T::Sum>::zeroed();
    // SAFETY: x is valid for x.len() values; out for one.
    let st = unsafe { T::sum_raw(x.as_ptr(), x.len(), out.as_mut_ptr()) };
    check(st)?;
    // SAFETY: written on RTM_OK.
    Ok(unsafe { out.assume_init() })
}

/// The mean of `x`, `None` when it is empty.
pub fn mean<T: Kernel>(x: &[T]) -> Option<f64> {
    let mut out = 0.0;
    // SAFETY: as sum.
    (unsafe { T::mean_raw(x.as_ptr(), x.len(), &mut out) } == sys::RTM_OK).then_some(out)
}

/// The smallest value, `None` when `x` is empty. For floating point, a NaN
/// anywhere gives NaN, and -0.0 is less than +0.0 (IEEE 754 minimum).
pub fn min<T: Kernel>(x: &[T]) -> Option<T> {
    let mut out = std::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: as sum; written on RTM_OK.
    unsafe { (T::min_raw(x.as_ptr(), x.len(), out.as_mut_ptr()) == sys::RTM_OK).then(|| out.assume_init()) }
}

/// The largest value, `None` when `x` is empty (IEEE 754 maximum).
pub fn max<T: Kernel>(x: &[T]) -> Option<T> {
    let mut out = std::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: as min.
    unsafe { (T::max_raw(x.as_ptr(), x.len(), out.as_mut_ptr()) == sys::RTM_OK).then(|| out.assume_init()) }
}

/// Which values of `x` satisfy `x[i] op v`, as a bitmap. Floating point
/// compares as C does: NaN makes every operator false but `Ne`.
pub fn select<T: Kernel>(x: &[T], op: Cmp, v: T) -> Selection {
    let mut bits = vec![0u64; sys::RTM_SEL_WORDS(x.len())];
    // SAFETY: bits holds RTM_SEL_WORDS(len) words.
    let st = unsafe { T::cmp_raw(x.as_ptr(), x.len(), op.raw(), v, bits.as_mut_ptr()) };
    debug_assert_eq!(st, sys::RTM_OK);
    Selection { bits, len: x.len() }
}

/// `out[k] = col[idx[k]]` for every k. [`Error::InvalidArgument`] when an
/// index is out of range (nothing is returned then). Values of 4 or 8
/// bytes (the kernel types, and `u32`/`u64`).
///
/// ```
/// let col = [10u64, 20, 30, 40];
/// assert_eq!(rtmem::kernels::gather(&col, &[3, 0, 3])?, vec![40, 10, 40]);
/// assert!(rtmem::kernels::gather(&col, &[4]).is_err());
/// # Ok::<(), rtmem::Error>(())
/// ```
pub fn gather<T: Gather>(col: &[T], idx: &[u32]) -> Result<Vec<T>> {
    let mut out: Vec<T> = Vec::with_capacity(idx.len());
    let (c, i, o) = (col.as_ptr() as *const c_void, idx.as_ptr(), out.as_mut_ptr() as *mut c_void);
    // SAFETY: out has room for idx.len() values and overlaps nothing; the C
    // side writes all of them or, on error, none.
    let st = unsafe {
        match std::mem::size_of::<T>() {
            4 => sys::rtm_col_gather_32(c, col.len(), i, idx.len(), o),
            8 => sys::rtm_col_gather_64(c, col.len(), i, idx.len(), o),
            _ => unreachable!("Gather is for 4- and 8-byte values"),
        }
    };
    check(st)?;
    // SAFETY: all idx.len() values were written.
    unsafe { out.set_len(idx.len()) };
    Ok(out)
}

/// Values [`gather`] moves: any 4- or 8-byte plain number.
pub trait Gather: Copy + sealed::Sealed {}
impl sealed::Sealed for u32 {}
impl sealed::Sealed for u64 {}
impl Gather for i32 {}
impl Gather for i64 {}
impl Gather for u32 {}
impl Gather for u64 {}
impl Gather for f32 {}
impl Gather for f64 {}

/// `y[i] = a * x[i] + y[i]`: the product rounded, then the sum (never a
/// fused multiply-add, so every path agrees). [`Error::InvalidArgument`] when
/// the lengths differ.
///
/// ```
/// let mut y = vec![1.0; 4];
/// rtmem::kernels::axpy(2.0, &[1.0, 2.0, 3.0, 4.0], &mut y)?;
/// assert_eq!(y, [3.0, 5.0, 7.0, 9.0]);
/// # Ok::<(), rtmem::Error>(())
/// ```
pub fn axpy(a: f64, x: &[f64], y: &mut [f64]) -> Result<()> {
    if x.len() != y.len() {
        return Err(Error::InvalidArgument);
    }
    // SAFETY: both valid for len values; &mut y cannot overlap &x.
    check(unsafe { sys::rtm_col_axpy_f64(a, x.as_ptr(), y.as_mut_ptr(), x.len()) })
}

/// A bitmap over the values of a column, from [`select`]: bit i says
/// whether value i was selected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    bits: Vec<u64>,
    len: usize,
}

impl Selection {
    /// How many values were selected (`rtm_sel_count`).
    pub fn count(&self) -> usize {
        // SAFETY: bits holds RTM_SEL_WORDS(len) words.
        unsafe { sys::rtm_sel_count(self.bits.as_ptr(), self.len) }
    }

    /// The positions selected, in increasing order (`rtm_sel_indices`), as
    /// [`gather`] and [`Batch::gather`](crate::Batch::gather) take them.
    pub fn indices(&self) -> Vec<u32> {
        let mut idx: Vec<u32> = Vec::with_capacity(self.count());
        // SAFETY: room for count() indices; len fits in u32 (checked below).
        let n = if self.len as u64 > u32::MAX as u64 + 1 {
            0
        } else {
            unsafe { sys::rtm_sel_indices(self.bits.as_ptr(), self.len, idx.as_mut_ptr()) }
        };
        assert!(n <= idx.capacity());
        // SAFETY: n indices written.
        unsafe { idx.set_len(n) };
        idx
    }

    /// Whether value i was selected.
    pub fn contains(&self, i: usize) -> bool {
        i < self.len && self.bits[i / 64] >> (i % 64) & 1 != 0
    }

    /// The number of values the selection is over.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is over no values.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bitmap: bit i % 64 of word i / 64 for value i.
    pub fn words(&self) -> &[u64] {
        &self.bits
    }
}

/// A SIMD path of the kernels.
///
/// ```
/// use rtmem::kernels::Simd;
/// println!("kernels run on {} (best here: {})", Simd::active().name(), Simd::best().name());
/// assert!(["scalar", "sse2", "avx2", "avx512"].contains(&Simd::active().name()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Simd(sys::rtm_simd);

impl Simd {
    /// The path in use (`rtm_simd_active`).
    pub fn active() -> Simd {
        // SAFETY: no arguments.
        Simd(unsafe { sys::rtm_simd_active() })
    }

    /// The best this CPU supports (`rtm_simd_best`).
    pub fn best() -> Simd {
        // SAFETY: no arguments.
        Simd(unsafe { sys::rtm_simd_best() })
    }

    /// `"scalar"`, `"sse2"`, `"avx2"` or `"avx512"`.
    pub fn name(self) -> &'static str {
        // SAFETY: a static string for any value.
        unsafe { std::ffi::CStr::from_ptr(sys::rtm_simd_name(self.0)) }.to_str().unwrap_or("unknown")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_sums_are_exact() {
        let x: Vec<i32> = (0..10_001).map(|i| if i % 2 == 0 { i32::MAX } else { i32::MIN }).collect();
        let exact: i64 = x.iter().map(|&v| v as i64).sum();
        assert_eq!(sum(&x), Ok(exact));
        assert_eq!(sum::<i64>(&[]), Ok(0));
        assert_eq!(sum(&[i64::MIN, -1]), Err(Error::Limit));
    }

    #[test]
    fn empty_slices() {
        assert_eq!(mean::<f64>(&[]), None);
        assert_eq!(min::<i32>(&[]), None);
        assert_eq!(max::<f32>(&[]), None);
        assert_eq!(select::<i64>(&[], Cmp::Eq, 0).count(), 0);
        assert!(gather::<f64>(&[], &[]).unwrap().is_empty());
    }

    #[test]
    fn floats_follow_ieee() {
        assert!(sum(&[1.0, f64::NAN]).unwrap().is_nan());
        assert_eq!(min(&[0.0f32, -0.0]).map(f32::to_bits), Some((-0.0f32).to_bits()));
        assert!(max(&[1.0, f64::NAN, 2.0]).unwrap().is_nan());
        let s = select(&[1.0, f64::NAN, 3.0], Cmp::Ne, 1.0);
        assert_eq!(s.indices(), [1, 2]);
        assert_eq!(mean(&[1.0f32, 2.0]), Some(1.5));
    }

    #[test]
    fn selections() {
        let x: Vec<i64> = (0..200).collect();
        let s = select(&x, Cmp::Lt, 70);
        assert_eq!(s.len(), 200);
        assert_eq!(s.count(), 70);
        assert!(s.contains(69) && !s.contains(70) && !s.contains(1000));
        assert_eq!(s.words().len(), 4);
        assert_eq!(s.indices(), (0..70).collect::<Vec<u32>>());
        for (op, n) in [(Cmp::Le, 71), (Cmp::Eq, 1), (Cmp::Ne, 199), (Cmp::Ge, 130), (Cmp::Gt, 129)] {
            assert_eq!(select(&x, op, 70).count(), n, "{op:?}");
        }
    }

    #[test]
    fn gather_and_axpy_check_their_arguments() {
        assert_eq!(gather(&[1i32, 2], &[2]), Err(Error::InvalidArgument));
        assert_eq!(gather(&[1.5f32, 2.5], &[1, 1, 0]).unwrap(), [2.5, 2.5, 1.5]);
        let mut y = [0.0; 3];
        assert_eq!(axpy(1.0, &[1.0], &mut y), Err(Error::InvalidArgument));
    }

    #[test]
    fn simd_paths_have_names() {
        assert!(["scalar", "sse2", "avx2", "avx512"].contains(&Simd::active().name()));
        assert!(["scalar", "sse2", "avx2", "avx512"].contains(&Simd::best().name()));
    }
}
