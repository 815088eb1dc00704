//! rtmem, the memory subsystem of a language runtime, from Rust: the C
//! library (built from this repository's sources and linked statically) with
//! safe wrappers whose lifetimes make misuse a compile error.
//!
//! One [`Context`] per interpreter owns every byte its parts hand out:
//!
//! | type | C object | what for |
//! |------|----------|----------|
//! | [`Context`] | `rtm_ctx` | the owner of everything: limit, keyword sets, [`Stats`] |
//! | [`Arena<'ctx>`](Arena) | `rtm_arena` | bump allocation of syntax trees; freed at once |
//! | [`Pool<'ctx, T>`](Pool) | `rtm_pool` | objects of one type: RAII [`Handle`]s and checked [`Key`]s |
//! | [`Interner`] | `rtm_interner` | strings to [`Symbol`]s, from any thread; [`keywords`] |
//! | [`Batch<'ctx, R>`](Batch) | `rtm_batch` | rows of a [`record!`] as SIMD-aligned columns; [`kernels`] |
//! | [`AlignedBuf<'ctx>`](AlignedBuf) | `rtm_buf` | a byte buffer aligned for SIMD |
//! | [`GlobalHeap`] | the context heap | a `#[global_allocator]` over rtmem |
//!
//! Every object borrows its context, and every reference into an object
//! borrows the object, so nothing outlives what it points into; the
//! `compile_fail` examples on each type show the rules. Failures are values:
//! `Result<_, `[`Error`]`>`, an enum over the C library's statuses (a
//! method that returns a bare reference, like [`Arena::alloc`], has a `try_`
//! twin that returns the error instead of panicking).
//!
//! ```
//! use rtmem::{Arena, Context, Pool};
//!
//! let ctx = Context::builder().limit(64 << 20).keywords(&["lua"]).build()?;
//!
//! // A syntax tree in an arena.
//! enum Expr<'a> { Num(f64), Add(&'a Expr<'a>, &'a Expr<'a>) }
//! let ast = Arena::new(&ctx)?;
//! let one = ast.alloc(Expr::Num(1.0));
//! let sum = ast.alloc(Expr::Add(one, one));
//! fn eval(e: &Expr) -> f64 { match e { Expr::Num(n) => *n, Expr::Add(a, b) => eval(a) + eval(b) } }
//! assert_eq!(eval(sum), 2.0);
//!
//! // Names as symbols; keywords at fixed ids.
//! let names = ctx.interner();
//! assert_eq!(names.intern("local"), rtmem::keywords::lua::LOCAL);
//!
//! // Objects in a pool.
//! let pool = Pool::new(&ctx)?;
//! let mut obj = pool.acquire(vec![1, 2, 3]);
//! obj.push(4);
//! assert_eq!(obj.len(), 4);
//!
//! assert_eq!(ctx.stats().pools_live, 1);
//! # Ok::<(), rtmem::Error>(())
//! ```
//!
//! The raw C API is in [`sys`], checked against `include/rtmem.h` by the
//! crate's tests.
#![warn(missing_docs)]

pub mod sys;

mod arena;
pub mod batch;
mod buf;
mod context;
mod error;
mod global;
mod intern;
pub mod kernels;
mod pool;

/// The keyword sets rtmem ships, with the fixed ids their words get in an
/// interner seeded with them (generated from `include/rtmem_keywords.h`):
/// `keywords::python::DEF`, `keywords::lua::LOCAL`, ...
pub mod keywords {
    include!(concat!(env!("OUT_DIR"), "/keywords.rs"));
    /// Flag of [`KeywordSet::flags`](crate::KeywordSet::flags): never a name.
    pub const HARD: u32 = raw::RTM_KW_HARD;
    /// Flag: a keyword only in some positions or modes.
    pub const SOFT: u32 = raw::RTM_KW_SOFT;
    /// Flag: reserved for future use (always with `HARD`).
    pub const RESERVED: u32 = raw::RTM_KW_RESERVED;
}

pub use arena::Arena;
pub use batch::{Batch, Record};
pub use buf::AlignedBuf;
pub use context::{ClassStats, Context, ContextBuilder, Stats, StatsFormat};
pub use error::{Error, Rejected, Result};
pub use global::GlobalHeap;
pub use intern::{Interner, InternerStats, KeywordSet, Symbol};
pub use pool::{Handle, Key, Pool, PoolStats};
