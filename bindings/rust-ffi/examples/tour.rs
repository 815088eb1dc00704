//! A tour of the crate (the example of README.md): `cargo run --example tour`.

use rtmem::{keywords::lua, Arena, Batch, Context, Pool};

rtmem::record! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Particle { pub x: f64, pub v: f64, pub alive: bool }
}

fn main() -> Result<(), rtmem::Error> {
    let ctx = Context::builder().limit(64 << 20).keywords(&["lua"]).build()?;

    let ast = Arena::new(&ctx)?; // a syntax tree's memory, freed at once
    let name: &str = ast.alloc_str("counter");

    let sym = ctx.interner().intern("local"); // keywords have fixed ids
    assert_eq!(sym, lua::LOCAL);

    let pool = Pool::new(&ctx)?; // objects of one type
    let mut h = pool.acquire(String::from("x"));
    h.push('!'); // dropping `h` drops the String and frees the slot

    let mut ps = Batch::new(&ctx)?; // structure of arrays
    ps.extend_from_slice(&[Particle { x: 1.0, v: 1.0, alive: true }; 1000])?;
    let x = ps.column::<f64>("x")?.to_vec();
    rtmem::kernels::axpy(0.5, &x, ps.column_mut("v")?)?; // v += 0.5 x
    assert_eq!(ps.get(999).map(|p| p.v), Some(1.5));

    let st = ctx.stats();
    println!("{name} {h}: {} bytes in use, {} held from the pages", st.bytes_in_use, st.page_bytes);
    Ok(())
}
