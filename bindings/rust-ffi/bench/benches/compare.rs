//! rtmem's Rust API against Rust's own answers to the same jobs:
//!
//!   arena     Arena::alloc of 40-byte structs   vs bumpalo::Bump::alloc, Box::new
//!   pool      Pool handles (acquire + drop)     vs Box::new + drop, a Vec-backed
//!             Pool keys (insert + remove)          slotmap-style free list, and
//!                                                  the C pool's own raw path
//!   interner  Interner::intern                  vs HashMap<String, u32> + Vec<String>
//!
//! Every contender runs in the same process, interleaved round by round so
//! that noise hits all of them alike; each row is the median over the rounds
//! of ns per operation, and its ratio to the rtmem row of its group.
//!
//!   cargo bench --offline --config 'source.crates-io.replace-with="debian"' \
//!     --config 'source.debian.directory="/usr/share/cargo/registry"'
//!
//! `RTM_BENCH_ROUNDS` sets the rounds (default 201).

use std::collections::HashMap;
use std::time::Instant;

use bumpalo::Bump;
use rtmem::{Arena, Context, Interner, Pool};

/// Keeps the optimizer from dropping a value (std::hint::black_box is newer
/// than Debian 12's Rust).
#[inline(always)]
fn sink<T>(x: &T) {
    // SAFETY: an empty asm statement that may read the pointer and memory.
    unsafe { std::arch::asm!("/* {0} */", in(reg) x as *const T, options(nostack, preserves_flags)) }
}

#[derive(Clone, Copy)]
#[allow(dead_code)]
struct Node {
    a: u64,
    b: u64,
    c: u64,
    d: u64,
    e: u64,
}

impl Node {
    #[inline(always)]
    fn new(i: u64) -> Node {
        Node { a: i, b: i + 1, c: i + 2, d: i + 3, e: i + 4 }
    }
}

const _: () = assert!(std::mem::size_of::<Node>() == 40);

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Times `f`, which does `ops` operations, in ns per operation.
#[inline(always)]
fn time(ops: usize, f: impl FnOnce()) -> f64 {
    let t0 = Instant::now();
    f();
    t0.elapsed().as_nanos() as f64 / ops as f64
}

struct Group {
    name: &'static str,
    rows: Vec<(&'static str, Vec<f64>)>,
}

impl Group {
    fn new(name: &'static str, contenders: &[&'static str]) -> Group {
        Group { name, rows: contenders.iter().map(|c| (*c, Vec::new())).collect() }
    }

    fn add(&mut self, i: usize, ns: f64) {
        self.rows[i].1.push(ns);
    }

    /// Prints the rows; the first is the reference. Returns the medians.
    fn print(&mut self) -> Vec<f64> {
        let medians: Vec<f64> = self.rows.iter_mut().map(|(_, v)| median(v)).collect();
        for ((who, _), m) in self.rows.iter().zip(&medians) {
            println!("{:<36} {:<34} {:8.2} ns/op  {:6.2}x", self.name, who, m, m / medians[0]);
        }
        medians
    }
}

fn machine() {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    println!(
        "machine: {model}, {cores} cores online, rtmem {} (C library: Release build)",
        rtmem::sys::RTM_VERSION
    );
}

// ---- arena ------------------------------------------------------------------------------

const ARENA_OPS: usize = 10_000;

fn bench_arena(rounds: usize) -> (f64, f64) {
    let ctx = Context::new().unwrap();
    let mut arena = Arena::new(&ctx).unwrap();
    let mut bump = Bump::new();
    let mut boxes: Vec<Box<Node>> = Vec::with_capacity(ARENA_OPS);
    let mut alloc = Group::new(
        "alloc 40-byte struct",
        &["rtmem Arena::alloc", "bumpalo Bump::alloc", "Box::new (glibc malloc)"],
    );
    let mut release = Group::new(
        "free them all, per object",
        &["rtmem Arena::reset", "bumpalo Bump::reset", "drop(Box) (glibc free)"],
    );
    for _ in 0..rounds {
        alloc.add(
            0,
            time(ARENA_OPS, || {
                for i in 0..ARENA_OPS as u64 {
                    sink(&arena.alloc(Node::new(i)));
                }
            }),
        );
        release.add(0, time(ARENA_OPS, || arena.reset()));
        alloc.add(
            1,
            time(ARENA_OPS, || {
                for i in 0..ARENA_OPS as u64 {
                    sink(&bump.alloc(Node::new(i)));
                }
            }),
        );
        release.add(1, time(ARENA_OPS, || bump.reset()));
        alloc.add(
            2,
            time(ARENA_OPS, || {
                for i in 0..ARENA_OPS as u64 {
                    boxes.push(Box::new(Node::new(i)));
                }
            }),
        );
        sink(&boxes);
        release.add(2, time(ARENA_OPS, || boxes.clear()));
    }
    let a = alloc.print();
    release.print();
    (a[0], a[1])
}

// ---- pool -------------------------------------------------------------------------------

const POOL_OPS: usize = 1000;
/// A working set larger than a pool's free list (a slab's worth of slots).
const POOL_BIG: usize = 20_000;

/// A slotmap-style free list over a Vec: generation-checked keys, the
/// baseline a Rust program would write for handles.
struct SlotMap<T> {
    slots: Vec<Slot<T>>,
    free: u32,
}

enum Slot<T> {
    Full { gen: u32, value: T },
    Free { gen: u32, next: u32 },
}

#[derive(Clone, Copy)]
struct SlotKey {
    index: u32,
    gen: u32,
}

const NONE: u32 = u32::MAX;

impl<T> SlotMap<T> {
    fn new() -> Self {
        SlotMap { slots: Vec::new(), free: NONE }
    }

    #[inline]
    fn insert(&mut self, value: T) -> SlotKey {
        if self.free != NONE {
            let index = self.free;
            let slot = &mut self.slots[index as usize];
            if let Slot::Free { gen, next } = *slot {
                self.free = next;
                *slot = Slot::Full { gen, value };
                return SlotKey { index, gen };
            }
            unreachable!()
        }
        let index = self.slots.len() as u32;
        self.slots.push(Slot::Full { gen: 0, value });
        SlotKey { index, gen: 0 }
    }

    #[inline]
    fn remove(&mut self, k: SlotKey) -> Option<T> {
        let slot = self.slots.get_mut(k.index as usize)?;
        match slot {
            Slot::Full { gen, .. } if *gen == k.gen => {
                let old = std::mem::replace(slot, Slot::Free { gen: k.gen + 1, next: self.free });
                self.free = k.index;
                match old {
                    Slot::Full { value, .. } => Some(value),
                    Slot::Free { .. } => unreachable!(),
                }
            }
            _ => None,
        }
    }
}

fn bench_pool(rounds: usize) -> (f64, f64) {
    let ctx = Context::new().unwrap();
    let pool = Pool::new(&ctx).unwrap();
    // A pool that keeps a burst's slabs (Pool::keep_slabs) does not ask the
    // page source for them again, nor fault them in, on every round.
    let kept = Pool::new(&ctx).unwrap();
    kept.keep_slabs(64).unwrap();
    let mut keyed = Pool::new(&ctx).unwrap();
    let mut slotmap = SlotMap::new();
    let mut handles = Vec::with_capacity(POOL_OPS);
    let mut boxes: Vec<Box<Node>> = Vec::with_capacity(POOL_OPS);
    let mut keys = Vec::with_capacity(POOL_OPS);
    let mut skeys = Vec::with_capacity(POOL_OPS);
    let mut g = Group::new(
        "acquire + release a 40-byte object",
        &[
            "rtmem Pool::acquire + drop(Handle)",
            "Box::new + drop (glibc)",
            "rtmem Pool::insert + remove (Key)",
            "Vec slotmap insert + remove",
            "C rtm_pool_alloc + rtm_pool_free",
        ],
    );
    let raw = pool.as_ptr();
    let mut ptrs: Vec<*mut std::os::raw::c_void> = Vec::with_capacity(POOL_OPS);
    for _ in 0..rounds {
        g.add(
            0,
            time(POOL_OPS, || {
                for i in 0..POOL_OPS as u64 {
                    handles.push(pool.acquire(Node::new(i)));
                }
                sink(&handles);
                handles.clear();
            }),
        );
        g.add(
            1,
            time(POOL_OPS, || {
                for i in 0..POOL_OPS as u64 {
                    boxes.push(Box::new(Node::new(i)));
                }
                sink(&boxes);
                boxes.clear();
            }),
        );
        g.add(
            2,
            time(POOL_OPS, || {
                for i in 0..POOL_OPS as u64 {
                    keys.push(keyed.insert(Node::new(i)));
                }
                for k in keys.drain(..) {
                    sink(&keyed.remove(k));
                }
            }),
        );
        g.add(
            3,
            time(POOL_OPS, || {
                for i in 0..POOL_OPS as u64 {
                    skeys.push(slotmap.insert(Node::new(i)));
                }
                for k in skeys.drain(..) {
                    sink(&slotmap.remove(k));
                }
            }),
        );
        g.add(
            4,
            time(POOL_OPS, || unsafe {
                for _ in 0..POOL_OPS {
                    ptrs.push(rtmem::sys::rtm_pool_alloc(raw));
                }
                for p in ptrs.drain(..) {
                    rtmem::sys::rtm_pool_free(raw, p);
                }
            }),
        );
    }
    let m = g.print();

    // Past the free list: most acquires and releases go through C.
    let mut big = Group::new(
        "the same, 20,000 live at once",
        &[
            "rtmem Pool::acquire + drop(Handle)",
            "Box::new + drop (glibc)",
            "C rtm_pool_alloc + rtm_pool_free",
            "rtmem Pool, keep_slabs(64)",
        ],
    );
    handles.reserve(POOL_BIG);
    boxes.reserve(POOL_BIG);
    ptrs.reserve(POOL_BIG);
    for _ in 0..rounds / 4 + 1 {
        big.add(
            0,
            time(POOL_BIG, || {
                for i in 0..POOL_BIG as u64 {
                    handles.push(pool.acquire(Node::new(i)));
                }
                sink(&handles);
                handles.clear();
            }),
        );
        big.add(
            1,
            time(POOL_BIG, || {
                for i in 0..POOL_BIG as u64 {
                    boxes.push(Box::new(Node::new(i)));
                }
                sink(&boxes);
                boxes.clear();
            }),
        );
        big.add(
            2,
            time(POOL_BIG, || unsafe {
                for _ in 0..POOL_BIG {
                    ptrs.push(rtmem::sys::rtm_pool_alloc(raw));
                }
                for p in ptrs.drain(..) {
                    rtmem::sys::rtm_pool_free(raw, p);
                }
            }),
        );
        big.add(
            3,
            time(POOL_BIG, || {
                for i in 0..POOL_BIG as u64 {
                    handles.push(kept.acquire(Node::new(i)));
                }
                sink(&handles);
                handles.clear();
            }),
        );
    }
    big.print();
    (m[0], m[1])
}

// ---- interner ---------------------------------------------------------------------------

/// The baseline: a map from owned strings to ids and a vector back.
struct StdInterner {
    ids: HashMap<String, u32>,
    strings: Vec<String>,
}

impl StdInterner {
    fn new() -> Self {
        StdInterner { ids: HashMap::new(), strings: Vec::new() }
    }

    #[inline]
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.to_string());
        self.ids.insert(s.to_string(), id);
        id
    }
}

fn bench_interner(rounds: usize) {
    // Identifiers as a lexer meets them: 20,000 distinct names, drawn with
    // a skew (a few are very common) into a stream of 100,000 tokens.
    let names: Vec<String> = (0..20_000).map(|i| format!("ident_{}_{}", i % 113, i)).collect();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let tokens: Vec<&str> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let r = (x >> 11) as f64 / (1u64 << 53) as f64;
            names[(r * r * names.len() as f64) as usize].as_str()
        })
        .collect();

    let warm = Interner::new().unwrap();
    let mut warm_std = StdInterner::new();
    for n in &names {
        warm.intern(n);
        warm_std.intern(n);
    }
    let mut hits = Group::new(
        "intern a token (all present)",
        &["rtmem Interner::intern", "HashMap<String,u32>+Vec<String>"],
    );
    let mut build = Group::new(
        "intern a new name (fresh table)",
        &["rtmem Interner::intern", "HashMap<String,u32>+Vec<String>"],
    );
    for r in 0..rounds {
        hits.add(
            0,
            time(tokens.len(), || {
                for t in &tokens {
                    sink(&warm.intern(t));
                }
            }),
        );
        hits.add(
            1,
            time(tokens.len(), || {
                for t in &tokens {
                    sink(&warm_std.intern(t));
                }
            }),
        );
        // Fresh tables are costly to make: every fifth round.
        if r % 5 == 0 {
            let fresh = Interner::new().unwrap();
            build.add(
                0,
                time(names.len(), || {
                    for n in &names {
                        sink(&fresh.intern(n));
                    }
                }),
            );
            let mut fresh_std = StdInterner::new();
            build.add(
                1,
                time(names.len(), || {
                    for n in &names {
                        sink(&fresh_std.intern(n));
                    }
                }),
            );
        }
    }
    hits.print();
    build.print();
}

fn main() {
    let rounds: usize = std::env::var("RTM_BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(201);
    // `cargo bench` passes --bench; nothing else is understood.
    machine();
    println!("rounds: {rounds} (median of them per row; ratio to the first row of each group)\n");
    let (arena, bump) = bench_arena(rounds);
    println!();
    let (handle, boxed) = bench_pool(rounds);
    println!();
    bench_interner(rounds / 4 + 1);
    println!();
    println!(
        "targets: Arena::alloc / Bump::alloc = {:.2} (at most 1.10: {}); Box / Pool handle = {:.2} (at least 3: {})",
        arena / bump,
        if arena / bump <= 1.10 { "met" } else { "NOT met" },
        boxed / handle,
        if boxed / handle >= 3.0 { "met" } else { "NOT met" },
    );
}
