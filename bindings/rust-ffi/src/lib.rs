//! rtmem: the memory subsystem of a language runtime, from Rust.
//!
//! WIP
#![warn(missing_docs)]

pub mod sys;

mod arena;
mod buf;
mod context;
mod error;
mod intern;
mod pool;

/// The keyword sets rtmem ships, with the fixed ids their words get in an
/// interner seeded with them (generated from `include/rtmem_keywords.h`).
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
pub use buf::AlignedBuf;
pub use context::{ClassStats, Context, ContextBuilder, Stats, StatsFormat};
pub use error::{Error, Rejected, Result};
pub use intern::{Interner, InternerStats, KeywordSet, Symbol};
pub use pool::{Handle, Key, Pool, PoolStats};
