//! A limit reached is an `Err` from every part, never a panic or an abort,
//! and the context stays consistent and usable afterwards.

use rtmem::{record, AlignedBuf, Arena, Batch, Context, Error, Pool};

record! {
    #[derive(Clone, Copy)]
    struct Row { a: f64, b: i64 }
}

#[test]
fn every_part_reports_the_limit_as_err() {
    let ctx = Context::builder().limit(4 << 20).build().unwrap();
    let arena = Arena::new(&ctx).unwrap();
    let pool = Pool::new(&ctx).unwrap();
    let mut buf = AlignedBuf::new(&ctx).unwrap();
    let mut batch = Batch::<Row>::new(&ctx).unwrap();

    // Fill the context through the arena until the limit refuses.
    let mut chunks = 0;
    loop {
        match arena.try_alloc_slice_fill_with(16 << 10, |i| i as u8) {
            Ok(_) => chunks += 1,
            Err(e) => {
                assert_eq!(e, Error::Limit);
                break;
            }
        }
    }
    assert!(chunks > 100);

    // Now every part that needs new pages says so.
    let big = [0u8; 60_000];
    let rejected = pool.try_acquire(big).map(|_| ()).unwrap_err();
    assert_eq!(rejected.error, Error::Limit);
    assert_eq!(buf.extend_from_slice(&[1u8; 1 << 20]), Err(Error::Limit));
    let rows = vec![Row { a: 1.0, b: 2 }; 100_000];
    assert_eq!(batch.extend_from_slice(&rows), Err(Error::Limit));
    let mut n = 0;
    let e = loop {
        match ctx.interner().try_intern(&format!("name number {n}")) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(e, Error::Limit);
    assert_eq!(Arena::new(&ctx).map(|_| ()).unwrap_err(), Error::Limit);
    assert_eq!(ctx.last_error(), Some(Error::Limit));
    assert!(ctx.stats().limit_hits >= 6);
    assert!(ctx.check().is_ok(), "consistent after every failure");
    assert!(batch.is_empty() && buf.is_empty() && pool.is_empty(), "failed calls changed nothing");

    // Freeing the arena makes room again.
    drop(arena);
    ctx.trim();
    let h = pool.acquire(big);
    assert_eq!(h.len(), 60_000);
    buf.extend_from_slice(&[1u8; 1 << 20]).unwrap();
    batch.extend_from_slice(&rows[..1000]).unwrap();
    assert!(ctx.check().is_ok());
}

#[test]
fn bad_arguments_are_err() {
    let ctx = Context::new().unwrap();
    assert_eq!(AlignedBuf::with_align(&ctx, 3).unwrap_err(), Error::InvalidArgument);
    assert_eq!(Pool::<u8>::with_limit(&ctx, 0).unwrap_err(), Error::InvalidArgument);
    let arena = Arena::new(&ctx).unwrap();
    assert_eq!(arena.try_alloc_slice_copy(&[0u64; 0]).map(|s| s.len()), Ok(0));
    #[repr(align(8192))]
    #[derive(Clone, Copy)]
    struct TooAligned;
    // A ZST takes no room, whatever its alignment...
    assert!(arena.try_alloc(TooAligned).is_ok());
    #[repr(align(8192))]
    #[derive(Clone, Copy)]
    struct TooAlignedData(u8);
    // ...but one with data cannot be aligned past 4096 by an arena.
    let r = arena.try_alloc(TooAlignedData(1)).map(|_| ()).unwrap_err();
    assert_eq!((r.error, r.value.0), (Error::InvalidArgument, 1));
    assert!(ctx.check().is_ok());
}
