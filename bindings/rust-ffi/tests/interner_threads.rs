//! A shared Interner used from many threads at once: every thread sees the
//! same symbol for the same string, symbols resolve to their strings, and
//! nothing is interned twice.

use std::collections::HashMap;
use std::sync::{Arc, Barrier};
use std::thread;

use rtmem::{keywords, Context, Interner, Symbol};

const THREADS: usize = 8;
const WORDS: usize = 4000;

fn word(i: usize) -> String {
    format!("w{}_{}", i % 97, i)
}

#[test]
fn threads_agree_on_every_symbol() {
    let interner = Arc::new(Interner::with_keywords(&["python"]).unwrap());
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let interner = Arc::clone(&interner);
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                // Each thread walks the words from a different place, so
                // inserts of the same string race.
                let mut seen = Vec::with_capacity(WORDS);
                for k in 0..WORDS {
                    let i = (k + t * WORDS / THREADS) % WORDS;
                    let s = word(i);
                    let sym = interner.intern(&s);
                    assert_eq!(interner.resolve(sym), s);
                    if k % 7 == 0 {
                        assert_eq!(interner.get(&s), Some(sym));
                    }
                    seen.push((i, sym));
                }
                assert_eq!(interner.intern("def"), keywords::python::DEF);
                seen
            })
        })
        .collect();
    let mut ids: HashMap<usize, Symbol> = HashMap::new();
    for w in workers {
        for (i, sym) in w.join().unwrap() {
            let first = *ids.entry(i).or_insert(sym);
            assert_eq!(first, sym, "word {i} got two symbols");
        }
    }
    assert_eq!(ids.len(), WORDS);
    let mut distinct: Vec<u32> = ids.values().map(|s| s.id()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), WORDS, "distinct strings, distinct symbols");
    let st = interner.stats();
    assert_eq!(st.strings as usize, WORDS + keywords::python::SET.len());
    assert_eq!(st.lookups as usize, THREADS * (WORDS + WORDS / 7 + 1) + THREADS);
}

#[test]
fn the_context_interner_is_shared_by_scoped_threads() {
    let ctx = Context::builder().keywords(&["rust"]).build().unwrap();
    let interner = ctx.interner();
    let results: Vec<Vec<Symbol>> = thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| (0..2000).map(|i| interner.intern(&word(i))).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &results[1..] {
        assert_eq!(r, &results[0]);
    }
    assert_eq!(interner.get("fn"), Some(keywords::rust::FN));
    // The context (owner thread) stayed consistent meanwhile.
    assert!(ctx.check().is_ok());
    assert!(ctx.stats().intern_strings >= 2000);
}

#[test]
fn interner_is_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<Interner>();
    both::<Arc<Interner>>();
}
