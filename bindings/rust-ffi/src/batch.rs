//! [`Batch`]: rows of a `#[repr(C)]` struct stored as columns (structure of
//! arrays), over a run-time layout built from the struct by [`record!`](crate::record).

use std::any::TypeId;
use std::ffi::{CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::mem::{align_of, size_of, MaybeUninit};
use std::os::raw::c_void;
use std::ptr::{self, NonNull};

use crate::context::Context;
use crate::error::{check, Error, Result};
use crate::intern::Symbol;
use crate::kernels::{self, Cmp, Kernel, Selection};
use crate::pool::Key;
use crate::sys;

/// The kind of a field or column (`rtm_kind`).
///
/// ```
/// use rtmem::batch::{Kind, Value};
/// assert_eq!(<f64 as Value>::KIND, Kind::F64);
/// assert_eq!(<[u16; 4] as Value>::COUNT, 4);
/// assert_eq!(Kind::from_raw(Kind::Sym.raw()), Some(Kind::Sym));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `i8`
    I8,
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `u8`
    U8,
    /// `u16`
    U16,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// A raw pointer.
    Ptr,
    /// An interned symbol (`Option<Symbol>`, a `u32` id).
    Sym,
    /// A pool key ([`Key`], an `rtm_handle`).
    Handle,
    /// `bool`
    Bool,
    /// A string slice (`rtm_str`), not made by this crate.
    Str,
    /// A nested record.
    Record,
}

impl Kind {
    /// The `rtm_kind` value.
    pub fn raw(self) -> sys::rtm_kind {
        use Kind::*;
        match self {
            I8 => sys::RTM_KIND_I8,
            I16 => sys::RTM_KIND_I16,
            I32 => sys::RTM_KIND_I32,
            I64 => sys::RTM_KIND_I64,
            U8 => sys::RTM_KIND_U8,
            U16 => sys::RTM_KIND_U16,
            U32 => sys::RTM_KIND_U32,
            U64 => sys::RTM_KIND_U64,
            F32 => sys::RTM_KIND_F32,
            F64 => sys::RTM_KIND_F64,
            Ptr => sys::RTM_KIND_PTR,
            Sym => sys::RTM_KIND_SYM,
            Handle => sys::RTM_KIND_HANDLE,
            Bool => sys::RTM_KIND_BOOL,
            Str => sys::RTM_KIND_STR,
            Record => sys::RTM_KIND_RECORD,
        }
    }

    /// The kind of an `rtm_kind` value, `None` for an unknown one.
    pub fn from_raw(k: sys::rtm_kind) -> Option<Kind> {
        use Kind::*;
        [I8, I16, I32, I64, U8, U16, U32, U64, F32, F64, Ptr, Sym, Handle, Bool, Str, Record]
            .iter()
            .copied()
            .find(|kind| kind.raw() == k)
    }
}

/// A type a [`record!`](crate::record) field may have: the numbers, `bool`,
/// `Option<Symbol>`, raw pointers, pool [`Key`]s, fixed arrays of these, and
/// other records.
///
/// # Safety
/// `KIND` and `COUNT` must describe the type's C layout exactly, and every
/// bit pattern a column of that kind can hold must be a valid value.
pub unsafe trait Value: Copy + 'static {
    /// The kind of one element.
    const KIND: Kind;
    /// How many elements: 1, or N for `[T; N]` (flattened for nested arrays).
    const COUNT: usize = 1;
    /// The layout of a record kind, made in `ctx`; `None` for the others.
    #[doc(hidden)]
    fn nested_layout(_ctx: &Context) -> Result<Option<NonNull<sys::rtm_layout>>> {
        Ok(None)
    }
}

/// A type whose batch column may be viewed as a slice of it: the numbers,
/// `bool` and `Option<Symbol>`.
///
/// # Safety
/// As [`Value`], with `COUNT` 1.
pub unsafe trait Column: Value {}

macro_rules! scalar {
    ($($t:ty => $k:ident),* $(,)?) => {$(
        unsafe impl Value for $t { const KIND: Kind = Kind::$k; }
        unsafe impl Column for $t {}
    )*};
}

scalar! {
    i8 => I8, i16 => I16, i32 => I32, i64 => I64,
    u8 => U8, u16 => U16, u32 => U32, u64 => U64,
    f32 => F32, f64 => F64, bool => Bool, Option<Symbol> => Sym,
}

// Pointers and keys may be stored in rows (any bits are a valid value), but
// their columns are not handed out as slices.
unsafe impl<T: 'static> Value for *const T {
    const KIND: Kind = Kind::Ptr;
}
unsafe impl<T: 'static> Value for *mut T {
    const KIND: Kind = Kind::Ptr;
}
unsafe impl<T: 'static> Value for Key<T> {
    const KIND: Kind = Kind::Handle;
}

unsafe impl<T: Value, const N: usize> Value for [T; N] {
    const KIND: Kind = T::KIND;
    const COUNT: usize = N * T::COUNT;
    fn nested_layout(ctx: &Context) -> Result<Option<NonNull<sys::rtm_layout>>> {
        T::nested_layout(ctx)
    }
}

/// One field of a [`Record`], as [`record!`](crate::record) describes it.
#[derive(Clone, Copy)]
#[doc(hidden)]
pub struct FieldDesc {
    pub name: &'static str,
    pub kind: Kind,
    pub count: usize,
    pub offset: usize,
    pub size: usize,
    pub nested: fn(&Context) -> Result<Option<NonNull<sys::rtm_layout>>>,
}

impl fmt::Debug for FieldDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldDesc")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("count", &self.count)
            .field("offset", &self.offset)
            .field("size", &self.size)
            .finish()
    }
}

impl FieldDesc {
    #[doc(hidden)]
    pub fn of<T: Value>(name: &'static str, offset: usize) -> FieldDesc {
        FieldDesc {
            name,
            kind: T::KIND,
            count: T::COUNT,
            offset,
            size: size_of::<T>(),
            nested: T::nested_layout,
        }
    }
}

/// A `#[repr(C)]` row type whose run-time layout rtmem can build: declare it
/// with [`record!`](crate::record), which implements this trait.
///
/// # Safety
/// `FIELDS` must list every field in declaration order with its exact type;
/// [`record!`](crate::record) does so. (The layout built from it is also checked against
/// the struct's real size, alignment and offsets.)
pub unsafe trait Record: Copy + 'static {
    /// The struct's name.
    const NAME: &'static str;
    /// Its fields.
    #[doc(hidden)]
    fn fields() -> Vec<FieldDesc>;
}

/// Declares a `#[repr(C)]` struct usable as a [`Batch`] row (and as a
/// field of another record), implementing [`Record`] and [`Value`] for it.
/// Fields may be numbers, `bool`, `Option<Symbol>`, raw pointers, pool
/// [`Key`]s, fixed arrays and other records. Derive `Clone` and `Copy`.
///
/// ```
/// rtmem::record! {
///     /// A point.
///     #[derive(Clone, Copy, Debug, PartialEq)]
///     pub struct Vec2 { pub x: f32, pub y: f32 }
/// }
/// rtmem::record! {
///     #[derive(Clone, Copy, Debug, PartialEq)]
///     pub struct Body { pub pos: Vec2, pub mass: f64, pub tags: [u8; 3], pub alive: bool }
/// }
///
/// let ctx = rtmem::Context::new()?;
/// let mut bodies = rtmem::Batch::<Body>::new(&ctx)?;
/// bodies.push(Body { pos: Vec2 { x: 1.0, y: 2.0 }, mass: 5.0, tags: [1, 2, 3], alive: true })?;
/// let names: Vec<String> = bodies.columns().into_iter().map(|c| c.name).collect();
/// assert_eq!(names, ["pos.x", "pos.y", "mass", "tags[0]", "tags[1]", "tags[2]", "alive"]);
/// assert_eq!(bodies.column::<f32>("pos.y")?, &[2.0]);
/// # Ok::<(), rtmem::Error>(())
/// ```
#[macro_export]
macro_rules! record {
    (
        $(#[$m:meta])*
        $vis:vis struct $name:ident {
            $($(#[$fm:meta])* $fvis:vis $field:ident : $ty:ty),* $(,)?
        }
    ) => {
        $(#[$m])*
        #[repr(C)]
        $vis struct $name {
            $($(#[$fm])* $fvis $field: $ty,)*
        }

        unsafe impl $crate::Record for $name {
            const NAME: &'static str = stringify!($name);
            fn fields() -> ::std::vec::Vec<$crate::batch::FieldDesc> {
                ::std::vec![$(
                    $crate::batch::FieldDesc::of::<$ty>(
                        stringify!($field),
                        $crate::__rtm_offset_of!($name, $field),
                    ),
                )*]
            }
        }

        unsafe impl $crate::batch::Value for $name {
            const KIND: $crate::batch::Kind = $crate::batch::Kind::Record;
            fn nested_layout(
                ctx: &$crate::Context,
            ) -> $crate::Result<::std::option::Option<::std::ptr::NonNull<$crate::sys::rtm_layout>>> {
                $crate::batch::layout_of::<$name>(ctx).map(|l| ::std::option::Option::Some(l.raw()))
            }
        }
    };
}

/// `offsetof`, for [`record!`](crate::record) (the compiler's `offset_of!` is newer than
/// the Rust this crate supports).
#[doc(hidden)]
#[macro_export]
macro_rules! __rtm_offset_of {
    ($t:ty, $f:ident) => {{
        let u = ::std::mem::MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        // SAFETY: addr_of! takes the field's address without reading it.
        let field = unsafe { ::std::ptr::addr_of!((*base).$f) };
        field as usize - base as usize
    }};
}

/// The run-time layout (`rtm_layout`) of a record type in a context. Made
/// once per type and context (layouts live as long as their context), and
/// checked against the struct: the same size and alignment, and every field
/// at the same offset with the same size. `Copy`; borrows the context.
#[derive(Clone, Copy)]
pub struct Layout<'ctx> {
    raw: NonNull<sys::rtm_layout>,
    _ctx: PhantomData<&'ctx Context>,
}

impl<'ctx> Layout<'ctx> {
    /// `sizeof` of the C struct.
    pub fn size(self) -> usize {
        // SAFETY: a live layout.
        unsafe { sys::rtm_layout_size(self.raw.as_ptr()) }
    }

    /// `_Alignof` of the C struct.
    pub fn align(self) -> usize {
        // SAFETY: a live layout.
        unsafe { sys::rtm_layout_align(self.raw.as_ptr()) }
    }

    /// `offsetof` a field, `None` when there is none.
    pub fn offset(self, field: &str) -> Option<usize> {
        // SAFETY: the name is passed with its length.
        let i = unsafe { sys::rtm_layout_find_n(self.raw.as_ptr(), field.as_ptr() as *const _, field.len()) };
        if i < 0 {
            return None;
        }
        let mut info = MaybeUninit::<sys::rtm_field_info>::uninit();
        // SAFETY: i is in range; the call fills info.
        unsafe {
            check(sys::rtm_layout_field(self.raw.as_ptr(), i as usize, info.as_mut_ptr())).ok()?;
            Some(info.assume_init().offset)
        }
    }

    /// The `rtm_layout` pointer, for the C API.
    pub fn raw(self) -> NonNull<sys::rtm_layout> {
        self.raw
    }
}

impl fmt::Debug for Layout<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Layout").field("size", &self.size()).field("align", &self.align()).finish()
    }
}

/// The layout of `R` in `ctx`, made (and checked) on first use.
///
/// ```
/// rtmem::record! {
///     #[derive(Clone, Copy)]
///     struct Pair { a: u8, b: f64 }
/// }
/// let ctx = rtmem::Context::new()?;
/// let l = rtmem::batch::layout_of::<Pair>(&ctx)?;
/// assert_eq!((l.size(), l.align()), (16, 8));
/// assert_eq!(l.offset("b"), Some(8));
/// assert_eq!(l.offset("c"), None);
/// # Ok::<(), rtmem::Error>(())
/// ```
pub fn layout_of<R: Record>(ctx: &Context) -> Result<Layout<'_>> {
    let ty = TypeId::of::<R>();
    if let Some(raw) = ctx.layout_cached(ty) {
        return Ok(Layout { raw, _ctx: PhantomData });
    }
    let descs = R::fields();
    let names: Vec<CString> = descs
        .iter()
        .map(|d| CString::new(d.name).map_err(|_| Error::InvalidArgument))
        .collect::<Result<_>>()?;
    let mut fields = Vec::with_capacity(descs.len());
    for (d, n) in descs.iter().zip(&names) {
        let nested = match (d.nested)(ctx)? {
            Some(l) => l.as_ptr() as *const sys::rtm_layout,
            None => ptr::null(),
        };
        fields.push(sys::rtm_field { name: n.as_ptr(), kind: d.kind.raw(), count: d.count, layout: nested });
    }
    let name = CString::new(R::NAME).map_err(|_| Error::InvalidArgument)?;
    // SAFETY: fields and names live across the call, which copies them.
    let raw = unsafe { sys::rtm_layout_new(ctx.as_ptr(), name.as_ptr(), fields.as_ptr(), fields.len()) };
    let raw = NonNull::new(raw).ok_or_else(|| ctx.error_or(Error::OutOfMemory))?;
    let layout = Layout { raw, _ctx: PhantomData };
    // The C compiler's layout (by libffi) must be the Rust struct's own.
    if layout.size() != size_of::<R>() || layout.align() != align_of::<R>() {
        return Err(Error::Type);
    }
    for (i, d) in descs.iter().enumerate() {
        let mut info = MaybeUninit::<sys::rtm_field_info>::uninit();
        // SAFETY: i < field count; the call fills info.
        let info = unsafe {
            check(sys::rtm_layout_field(raw.as_ptr(), i, info.as_mut_ptr()))?;
            info.assume_init()
        };
        if info.offset != d.offset || info.size != d.size {
            return Err(Error::Type);
        }
    }
    ctx.layout_cache(ty, raw);
    Ok(layout)
}

/// A column of a batch ([`Batch::columns`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnInfo {
    /// `"x"`, `"a[2]"`, `"pos.y"`.
    pub name: String,
    /// The kind of its values.
    pub kind: Kind,
    /// Bytes per value.
    pub width: usize,
    /// Where the value sits in a row.
    pub offset: usize,
}

/// Rows of a record `R`, stored as columns (`rtm_batch`): one aligned array
/// per leaf field, so a kernel runs over one field of every row at memory
/// speed. Rows go in and out as `R` values, one at a time or in bulk (a
/// cache-blocked transpose); columns come out as slices.
///
/// ```
/// use rtmem::{kernels::{self, Cmp}, Batch, Context};
///
/// rtmem::record! {
///     #[derive(Clone, Copy, Debug, PartialEq)]
///     pub struct Trade { pub price: f64, pub qty: i64, pub buy: bool }
/// }
///
/// let ctx = Context::new()?;
/// let mut trades = Batch::new(&ctx)?;
/// let rows: Vec<Trade> = (0..1000)
///     .map(|i| Trade { price: 100.0 + i as f64, qty: i % 7, buy: i % 2 == 0 })
///     .collect();
/// trades.extend_from_slice(&rows)?;
///
/// let price: &[f64] = trades.column("price")?;
/// assert_eq!(price.as_ptr() as usize % 32, 0);         // SIMD-aligned
/// assert_eq!(kernels::max(price), Some(1099.0));
/// assert_eq!(kernels::sum(trades.column::<i64>("qty")?)?, rows.iter().map(|t| t.qty).sum());
///
/// // Filter: the rows whose price is at least 1090, as a new batch.
/// let dear = trades.select("price", Cmp::Ge, 1090.0)?;
/// let top = trades.gather(&dear.indices())?;
/// assert_eq!(top.len(), 10);
/// assert_eq!(top.get(0), Some(rows[990]));
/// # Ok::<(), rtmem::Error>(())
/// ```
///
/// A column slice cannot be held across a growth of the batch:
///
/// ```compile_fail,E0502
/// rtmem::record! { #[derive(Clone, Copy)] struct P { x: f64 } }
/// let ctx = rtmem::Context::new().unwrap();
/// let mut b = rtmem::Batch::new(&ctx).unwrap();
/// b.push(P { x: 1.0 }).unwrap();
/// let xs: &[f64] = b.column("x").unwrap();
/// b.push(P { x: 2.0 }).unwrap(); // error: `b` is borrowed by `xs`
/// assert_eq!(xs[0], 1.0);
/// ```
pub struct Batch<'ctx, R: Record> {
    raw: NonNull<sys::rtm_batch>,
    ctx: &'ctx Context,
    _rows: PhantomData<R>,
}

impl<'ctx, R: Record> Batch<'ctx, R> {
    /// An empty batch with columns aligned to 32 bytes.
    pub fn new(ctx: &'ctx Context) -> Result<Batch<'ctx, R>> {
        Batch::with_align(ctx, sys::RTM_SIMD_ALIGN)
    }

    /// An empty batch with columns aligned to `align`: a power of two from
    /// 32 to 4096 ([`Error::InvalidArgument`] otherwise).
    pub fn with_align(ctx: &'ctx Context, align: usize) -> Result<Batch<'ctx, R>> {
        let layout = layout_of::<R>(ctx)?;
        // SAFETY: the layout is ctx's.
        let raw = unsafe { sys::rtm_batch_new_aligned(ctx.as_ptr(), layout.raw.as_ptr(), align) };
        match NonNull::new(raw) {
            Some(raw) => Ok(Batch { raw, ctx, _rows: PhantomData }),
            None => Err(ctx.error_or(Error::OutOfMemory)),
        }
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        // SAFETY: a live batch.
        unsafe { sys::rtm_batch_len(self.raw.as_ptr()) }
    }

    /// Whether it holds no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows it has room for.
    pub fn capacity(&self) -> usize {
        // SAFETY: a live batch.
        unsafe { sys::rtm_batch_cap(self.raw.as_ptr()) }
    }

    /// Makes room for `additional` more rows.
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        let rows = self.len().checked_add(additional).ok_or(Error::InvalidArgument)?;
        // SAFETY: a live batch; &mut self: no column slice is alive.
        check(unsafe { sys::rtm_batch_reserve(self.raw.as_ptr(), rows) })
    }

    /// Forgets every row, keeping the room.
    pub fn clear(&mut self) {
        // SAFETY: as reserve.
        unsafe { sys::rtm_batch_clear(self.raw.as_ptr()) }
    }

    /// Appends a row. [`Error::Limit`] / [`Error::OutOfMemory`] leave the
    /// batch unchanged.
    pub fn push(&mut self, row: R) -> Result<()> {
        // SAFETY: row is a valid R, the layout's C form.
        check(unsafe { sys::rtm_batch_push(self.raw.as_ptr(), &row as *const R as *const c_void) })
    }

    /// Appends rows in bulk (the AoS to SoA transpose, cache-blocked).
    pub fn extend_from_slice(&mut self, rows: &[R]) -> Result<()> {
        // SAFETY: rows holds rows.len() Rs one after the other.
        check(unsafe { sys::rtm_batch_push_n(self.raw.as_ptr(), rows.as_ptr() as *const c_void, rows.len()) })
    }

    /// Row `i`, `None` past the end.
    pub fn get(&self, i: usize) -> Option<R> {
        if i >= self.len() {
            return None;
        }
        let mut row = MaybeUninit::<R>::uninit();
        // SAFETY: i < len; the call writes every byte of the row (padding
        // zeroed), from values that came from valid Rs.
        unsafe {
            check(sys::rtm_batch_get(self.raw.as_ptr(), i, row.as_mut_ptr() as *mut c_void)).ok()?;
            Some(row.assume_init())
        }
    }

    /// Overwrites row `i`. [`Error::InvalidArgument`] past the end.
    pub fn set(&mut self, i: usize, row: R) -> Result<()> {
        if i >= self.len() {
            return Err(Error::InvalidArgument);
        }
        // SAFETY: as push.
        check(unsafe { sys::rtm_batch_set(self.raw.as_ptr(), i, &row as *const R as *const c_void) })
    }

    /// Every row, in order (the bulk SoA to AoS transpose).
    pub fn to_vec(&self) -> Vec<R> {
        let n = self.len();
        let mut v: Vec<R> = Vec::with_capacity(n);
        // SAFETY: room for n rows; all are written on RTM_OK.
        unsafe {
            let st = sys::rtm_batch_get_n(self.raw.as_ptr(), 0, n, v.as_mut_ptr() as *mut c_void);
            assert_eq!(st, sys::RTM_OK, "rtm_batch_get_n of every row");
            v.set_len(n);
        }
        v
    }

    /// A new batch of the rows `idx` (in that order; repeats allowed), as
    /// [`Selection::indices`] gives them. [`Error::InvalidArgument`] for an
    /// index past the end.
    pub fn gather(&self, idx: &[u32]) -> Result<Batch<'ctx, R>> {
        let out = Batch::new(self.ctx)?;
        // SAFETY: same layout and context; idx valid for its length.
        check(unsafe {
            sys::rtm_batch_gather(out.raw.as_ptr(), self.raw.as_ptr(), idx.as_ptr(), idx.len())
        })?;
        Ok(out)
    }

    /// The columns: names, kinds, widths, offsets in the row.
    pub fn columns(&self) -> Vec<ColumnInfo> {
        // SAFETY: a live batch; col < count.
        let n = unsafe { sys::rtm_batch_columns(self.raw.as_ptr()) };
        (0..n)
            .map(|col| unsafe {
                let mut c = MaybeUninit::<sys::rtm_column_info>::uninit();
                let st = sys::rtm_batch_column_info(self.raw.as_ptr(), col, c.as_mut_ptr());
                assert_eq!(st, sys::RTM_OK);
                let c = c.assume_init();
                ColumnInfo {
                    name: CStr::from_ptr(c.name).to_string_lossy().into_owned(),
                    kind: Kind::from_raw(c.kind).unwrap_or(Kind::Record),
                    width: c.width,
                    offset: c.offset,
                }
            })
            .collect()
    }

    /// The number of the column called `name` (`"x"`, `"a[2]"`, `"pos.y"`).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns().iter().position(|c| c.name == name)
    }

    fn column_ptr<T: Column>(&self, name: &str) -> Result<*mut T> {
        let name = CString::new(name).map_err(|_| Error::InvalidArgument)?;
        // SAFETY: a live batch; NUL-terminated name. Reads only.
        let col = unsafe { sys::rtm_batch_column_index(self.raw.as_ptr(), name.as_ptr()) };
        if col < 0 {
            return Err(Error::InvalidArgument);
        }
        // SAFETY: col is in range; the kind is checked by the C side.
        let p = unsafe { sys::rtm_batch_column_as(self.raw.as_ptr(), col as usize, T::KIND.raw()) };
        NonNull::new(p as *mut T).map(NonNull::as_ptr).ok_or(Error::Type)
    }

    /// The values of column `name`, one per row. [`Error::InvalidArgument`]
    /// when there is no such column, [`Error::Type`] when its kind is not
    /// `T`'s (an `f32` column is not an `f64` slice).
    pub fn column<T: Column>(&self, name: &str) -> Result<&[T]> {
        let p = self.column_ptr::<T>(name)?;
        // SAFETY: the column holds len values of T's kind, aligned, valid
        // until the batch grows, which needs &mut self.
        Ok(unsafe { std::slice::from_raw_parts(p, self.len()) })
    }

    /// The values of column `name`, to change in place.
    ///
    /// ```
    /// rtmem::record! { #[derive(Clone, Copy)] struct P { x: f64, y: f64 } }
    /// let ctx = rtmem::Context::new()?;
    /// let mut b = rtmem::Batch::new(&ctx)?;
    /// b.extend_from_slice(&[P { x: 1.0, y: 0.5 }, P { x: 2.0, y: 0.5 }])?;
    /// let x = b.column::<f64>("x")?.to_vec();
    /// rtmem::kernels::axpy(2.0, &x, b.column_mut("y")?)?;   // y += 2x
    /// assert_eq!(b.get(1).unwrap().y, 4.5);
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn column_mut<T: Column>(&mut self, name: &str) -> Result<&mut [T]> {
        let p = self.column_ptr::<T>(name)?;
        // SAFETY: as column; &mut self makes it unique, and writing Ts keeps
        // every value valid for the row's field.
        Ok(unsafe { std::slice::from_raw_parts_mut(p, self.len()) })
    }

    /// The rows whose column `name` compares `op` to `v` (a kernel over the
    /// column), as a selection for [`gather`](Batch::gather).
    pub fn select<T: Column + Kernel>(&self, name: &str, op: Cmp, v: T) -> Result<Selection> {
        Ok(kernels::select(self.column::<T>(name)?, op, v))
    }

    /// The `rtm_batch` pointer, for the C API. Still owned by `self`.
    pub fn as_ptr(&self) -> *mut sys::rtm_batch {
        self.raw.as_ptr()
    }
}

impl<R: Record> Drop for Batch<'_, R> {
    fn drop(&mut self) {
        // SAFETY: no column slice is alive (they borrow the batch).
        unsafe { sys::rtm_batch_destroy(self.raw.as_ptr()) }
    }
}

impl<R: Record> fmt::Debug for Batch<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch").field("row", &R::NAME).field("len", &self.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pool;

    crate::record! {
        #[derive(Clone, Copy, Debug, PartialEq)]
        struct Inner { a: u8, b: i16 }
    }
    crate::record! {
        /// Every kind a row may hold.
        #[derive(Clone, Copy, Debug, PartialEq)]
        struct Wide {
            i8_: i8, i16_: i16, i32_: i32, i64_: i64,
            u8_: u8, u16_: u16, u32_: u32, u64_: u64,
            f32_: f32, f64_: f64, flag: bool, sym: Option<Symbol>,
            key: Key<u32>, ptr: *const u8, arr: [f32; 3], grid: [[u16; 2]; 2],
            inner: Inner, inners: [Inner; 2],
        }
    }

    fn wide(i: u32, key: Key<u32>) -> Wide {
        Wide {
            i8_: (i as i8).wrapping_neg(),
            i16_: -(i as i16),
            i32_: -(i as i32),
            i64_: -(i as i64),
            u8_: i as u8,
            u16_: i as u16,
            u32_: i,
            u64_: i as u64 * 3,
            f32_: i as f32 / 2.0,
            f64_: i as f64 / 4.0,
            flag: i % 3 == 0,
            sym: Symbol::from_id(i),
            key,
            ptr: ptr::null(),
            arr: [i as f32; 3],
            grid: [[1, 2], [3, i as u16]],
            inner: Inner { a: 7, b: -(i as i16) },
            inners: [Inner { a: 1, b: 2 }, Inner { a: i as u8, b: 4 }],
        }
    }

    #[test]
    fn every_kind_round_trips() {
        let ctx = Context::new().unwrap();
        let pool = Pool::new(&ctx).unwrap();
        let key = pool.insert(5u32);
        let mut b = Batch::new(&ctx).unwrap();
        let rows: Vec<Wide> = (0..300).map(|i| wide(i, key)).collect();
        b.push(rows[0]).unwrap();
        b.extend_from_slice(&rows[1..]).unwrap();
        assert_eq!(b.len(), 300);
        assert!(b.capacity() >= 300);
        assert_eq!(b.get(299), Some(rows[299]));
        assert_eq!(b.get(300), None);
        assert_eq!(b.to_vec(), rows);
        assert_eq!(b.column::<Option<Symbol>>("sym").unwrap()[5], Symbol::from_id(5));
        assert!(b.column::<bool>("flag").unwrap()[3]);
        assert_eq!(b.column::<u16>("grid[3]").unwrap()[9], 9);
        assert_eq!(b.column::<i16>("inners[1].b").unwrap()[0], 4);
        let cols = b.columns();
        assert_eq!(cols.len(), 14 + 3 + 4 + 2 + 4);
        assert_eq!(cols[b.column_index("inner.b").unwrap()].kind, Kind::I16);
        assert_eq!(pool.get(b.get(0).unwrap().key), Some(&5));
        assert!(ctx.check().is_ok());
    }

    #[test]
    fn layouts_match_the_rust_structs_and_are_cached() {
        let ctx = Context::new().unwrap();
        let l = layout_of::<Wide>(&ctx).unwrap();
        assert_eq!(l.size(), size_of::<Wide>());
        assert_eq!(l.align(), align_of::<Wide>());
        assert_eq!(l.offset("inners"), Some(crate::__rtm_offset_of!(Wide, inners)));
        let again = layout_of::<Wide>(&ctx).unwrap();
        assert_eq!(l.raw(), again.raw());
    }

    #[derive(Clone, Copy)]
    #[repr(C)]
    struct Lying {
        a: u8,
        b: u64,
    }
    // A hand-written, wrong description: b is said to be at offset 1.
    unsafe impl Record for Lying {
        const NAME: &'static str = "Lying";
        fn fields() -> Vec<FieldDesc> {
            vec![FieldDesc::of::<u8>("a", 0), FieldDesc::of::<u64>("b", 1)]
        }
    }

    #[test]
    fn a_layout_that_differs_from_the_struct_is_refused() {
        let ctx = Context::new().unwrap();
        assert_eq!(layout_of::<Lying>(&ctx).unwrap_err(), Error::Type);
        assert_eq!(Batch::<Lying>::new(&ctx).unwrap_err(), Error::Type);
    }

    crate::record! {
        #[derive(Clone, Copy, Debug, PartialEq)]
        struct P { x: f64, n: i32 }
    }

    #[test]
    fn column_errors() {
        let ctx = Context::new().unwrap();
        let mut b = Batch::<P>::new(&ctx).unwrap();
        b.push(P { x: 1.0, n: 2 }).unwrap();
        assert_eq!(b.column::<f32>("x").unwrap_err(), Error::Type);
        assert_eq!(b.column::<f64>("nope").unwrap_err(), Error::InvalidArgument);
        assert_eq!(b.column::<f64>("x\0").unwrap_err(), Error::InvalidArgument);
        assert_eq!(b.set(1, P { x: 0.0, n: 0 }), Err(Error::InvalidArgument));
        b.set(0, P { x: 3.0, n: 4 }).unwrap();
        assert_eq!(b.get(0), Some(P { x: 3.0, n: 4 }));
        assert_eq!(b.gather(&[1]).unwrap_err(), Error::InvalidArgument);
        assert_eq!(Batch::<P>::with_align(&ctx, 16).unwrap_err(), Error::InvalidArgument);
        b.clear();
        assert!(b.is_empty());
        assert!(b.column::<f64>("x").unwrap().is_empty());
    }

    #[test]
    fn aligned_columns_and_growth() {
        let ctx = Context::new().unwrap();
        let mut b = Batch::<P>::with_align(&ctx, 64).unwrap();
        for i in 0..10_000 {
            b.push(P { x: i as f64, n: i }).unwrap();
        }
        let x = b.column::<f64>("x").unwrap();
        assert_eq!(x.as_ptr() as usize % 64, 0);
        assert_eq!(kernels::sum(x).unwrap(), (0..10_000).map(|i| i as f64).sum::<f64>());
        assert_eq!(kernels::mean(b.column::<i32>("n").unwrap()), Some(4999.5));
        b.reserve(50_000).unwrap();
        assert!(b.capacity() >= 60_000);
        assert_eq!(ctx.stats().batch_rows, 10_000);
    }

    #[test]
    fn limit_gives_err_and_keeps_the_rows() {
        let ctx = Context::builder().limit(2 << 20).build().unwrap();
        let mut b = Batch::<P>::new(&ctx).unwrap();
        let rows: Vec<P> = (0..1000).map(|i| P { x: i as f64, n: i }).collect();
        let err = loop {
            if let Err(e) = b.extend_from_slice(&rows) {
                break e;
            }
        };
        assert_eq!(err, Error::Limit);
        assert_eq!(b.len() % 1000, 0, "a failed push_n adds nothing");
        assert_eq!(b.get(b.len() - 1), Some(rows[999]));
        assert_eq!(b.reserve(usize::MAX), Err(Error::InvalidArgument));
        assert!(ctx.check().is_ok());
    }

    #[test]
    fn kinds_round_trip() {
        for k in 1..=sys::RTM_KIND_LAST {
            assert_eq!(Kind::from_raw(k).unwrap().raw(), k);
        }
        assert_eq!(Kind::from_raw(0), None);
    }
}
