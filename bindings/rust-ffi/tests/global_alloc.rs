//! Every allocation of this test program comes from an rtmem context heap.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::thread;

use rtmem::GlobalHeap;

#[global_allocator]
static HEAP: GlobalHeap = GlobalHeap::new();

/// The tests share one heap and cargo runs them on parallel threads: a test
/// that compares byte counts before and after must not see another's blocks.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn collections_run_on_the_rtmem_heap() {
    let _alone = alone();
    let before = HEAP.stats().expect("the test harness allocated already");
    let mut m: HashMap<String, Vec<u32>> = HashMap::new();
    for i in 0..5000u32 {
        m.entry(format!("key{}", i % 500)).or_default().push(i);
    }
    let tree: BTreeMap<u32, Box<[u8]>> =
        (0..2000).map(|i| (i, vec![i as u8; (i % 300) as usize].into())).collect();
    let big = vec![7u64; 1 << 20]; // a large block, straight from the pages
    let after = HEAP.stats().unwrap();
    assert!(after.heap_allocs >= before.heap_allocs + 5000);
    assert!(after.heap_large_blocks >= 1);
    assert!(after.heap_bytes_in_use >= before.heap_bytes_in_use + (8 << 20));
    assert_eq!(m.len(), 500);
    assert_eq!(tree[&299].len(), 299);
    assert_eq!(big[12345], 7);
    drop((m, tree, big));
    let end = HEAP.stats().unwrap();
    assert!(end.heap_bytes_in_use < after.heap_bytes_in_use - (8 << 20));
    assert_eq!(end.heap_bad_frees, 0);
    assert!(HEAP.check().is_ok());
}

#[test]
fn threads_free_each_others_blocks() {
    let _alone = alone();
    // Blocks made on one thread and freed on another: the heap is locked.
    let made: Vec<Vec<Box<[u64]>>> = (0..4)
        .map(|t| thread::spawn(move || (0..2000).map(|i| vec![t; i % 50 + 1].into_boxed_slice()).collect()))
        .map(|h| h.join().unwrap())
        .collect();
    let sums: Vec<u64> = made
        .into_iter()
        .map(|v| thread::spawn(move || v.iter().map(|b| b[0]).sum()).join().unwrap())
        .collect();
    assert_eq!(sums, [0, 2000, 4000, 6000]);
    assert!(HEAP.check().is_ok());
    assert_eq!(HEAP.stats().unwrap().heap_bad_frees, 0);
}

#[test]
fn over_aligned_values() {
    let _alone = alone();
    #[repr(align(4096))]
    struct Page([u8; 4096]);
    let pages: Vec<Box<Page>> = (0..50).map(|i| Box::new(Page([i as u8; 4096]))).collect();
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(&**p as *const Page as usize % 4096, 0);
        assert_eq!(p.0[4095], i as u8);
    }
}
