//! Builds the C library from the repository's sources with its own CMake
//! build (the `rtmem_static` target), and links it statically with libffi and
//! pthread. Needs `cmake` and a C compiler; no crate from any registry.
//!
//! It also writes two files into OUT_DIR:
//!  - `keywords.rs`: the keyword ids of `include/rtmem_keywords.h` (itself
//!    generated from `runtime/intern/keywords.txt`), as Rust constants;
//!  - `librtmem_probe.a`: a table of the C compiler's `sizeof`, `_Alignof`,
//!    `offsetof` and constant values for every struct, field, enum and macro
//!    constant of the public headers, and the address of every function,
//!    found by reading the headers. The test
//!    `tests/sys_layout.rs` compares it with the `sys` module, entry by entry,
//!    so the bindings cannot drift from the header unnoticed.
//!
//! Environment:
//!  - `RTMEM_SOURCE_DIR`: the root of an rtmem source tree (default: the tree
//!    this crate sits in, `../..`).
//!  - `CC`: the C compiler for CMake and the probe (default `cc`).
//!  - `RTMEM_SANITIZE`: `address` (ASan + UBSan) or `thread`, the CMake
//!    option `RTM_SANITIZE`; the Rust side must then link the sanitizer's
//!    runtime (see the crate's README).

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = match env::var_os("RTMEM_SOURCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => manifest.join("..").join(".."),
    };
    let header = root.join("include").join("rtmem.h");
    if !header.is_file() {
        fail(&format!(
            "no rtmem source tree at {} (set RTMEM_SOURCE_DIR to the root of one)",
            root.display()
        ));
    }
    println!("cargo:rerun-if-env-changed=RTMEM_SOURCE_DIR");
    println!("cargo:rerun-if-env-changed=CC");
    println!("cargo:rerun-if-env-changed=RTMEM_SANITIZE");
    for part in ["include", "runtime", "cmake", "CMakeLists.txt"] {
        println!("cargo:rerun-if-changed={}", root.join(part).display());
    }

    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    build_library(&root, &out);
    let kw_header = root.join("include").join("rtmem_keywords.h");
    write_keywords(&kw_header, &out.join("keywords.rs"));
    build_probe(&root, &out);

    println!("cargo:rustc-link-search=native={}", out.join("cmake-build").display());
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=rtmem");
    println!("cargo:rustc-link-lib=dylib=ffi");
    println!("cargo:rustc-link-lib=dylib=pthread");
    println!("cargo:rustc-link-lib=dylib=m");
    println!("cargo:include={}", root.join("include").display());
}

fn fail(msg: &str) -> ! {
    eprintln!("rtmem build: {msg}");
    std::process::exit(1);
}

fn run(cmd: &mut Command, what: &str) {
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!("{what} failed ({s}): {cmd:?}")),
        Err(e) => fail(&format!("{what}: cannot run {cmd:?}: {e}")),
    }
}

/// Configures (once) and builds `rtmem_static` in OUT_DIR/cmake-build: a
/// Debug build (with the library's internal assertions) for unoptimized
/// profiles, Release otherwise.
fn build_library(root: &Path, out: &Path) {
    let dir = out.join("cmake-build");
    let opt = env::var("OPT_LEVEL").unwrap_or_else(|_| "0".into());
    let build_type = if opt == "0" { "Debug" } else { "Release" };
    if !dir.join("CMakeCache.txt").is_file() {
        let mut c = Command::new("cmake");
        c.arg("-S").arg(root).arg("-B").arg(&dir);
        c.arg(format!("-DCMAKE_BUILD_TYPE={build_type}"));
        for off in ["RTM_BUILD_TESTS", "RTM_BUILD_BENCH", "RTM_BUILD_EXAMPLES"] {
            c.arg(format!("-D{off}=OFF"));
        }
        if let Ok(cc) = env::var("CC") {
            c.arg(format!("-DCMAKE_C_COMPILER={cc}"));
        }
        if let Ok(san) = env::var("RTMEM_SANITIZE") {
            c.arg(format!("-DRTM_SANITIZE={san}"));
        }
        run(&mut c, "cmake configure (is cmake installed?)");
    }
    let jobs = env::var("NUM_JOBS").unwrap_or_else(|_| "2".into());
    run(
        Command::new("cmake").arg("--build").arg(&dir).args([
            "--target",
            "rtmem_static",
            "--parallel",
            &jobs,
        ]),
        "cmake --build",
    );
    if !dir.join("librtmem.a").is_file() {
        fail(&format!("cmake built no librtmem.a in {}", dir.display()));
    }
}

// ---- keywords.rs ---------------------------------------------------------------------

/// `#define RTM_... 12u` lines of the keywords header become `u32` constants
/// (of the `sys` module), and the X-macro lists `X(RTM_KW_LUA_AND, "and",
/// RTM_KW_HARD)` become the words of each set.
fn write_keywords(header: &Path, dest: &Path) {
    let text =
        fs::read_to_string(header).unwrap_or_else(|e| fail(&format!("reading {}: {e}", header.display())));
    let mut consts = String::new();
    let mut table = String::new();
    // (set name, [(constant, "word", flags)])
    type Words = Vec<(String, String, String)>;
    let mut sets: Vec<(String, Words)> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("#define ") {
            let mut it = rest.split_whitespace();
            let (name, value) = match (it.next(), it.next()) {
                (Some(n), Some(v)) => (n, v),
                _ => continue,
            };
            if let Some(set) = name.strip_prefix("RTM_KEYWORDS_").and_then(|s| s.strip_suffix("(X)")) {
                sets.push((set.to_ascii_lowercase(), Vec::new()));
                continue;
            }
            let digits = value.trim_end_matches('u');
            if name.starts_with("RTM_") && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                writeln!(consts, "pub const {name}: u32 = {digits};").unwrap();
                writeln!(table, "    (\"{name}\", {name} as u64),").unwrap();
            }
        } else if let Some(rest) = t.strip_prefix("X(") {
            // X(RTM_KW_LUA_AND, "and", RTM_KW_HARD) \
            let rest = rest.trim_end_matches('\\').trim().trim_end_matches(')');
            let mut parts = rest.splitn(3, ',');
            let (k, w, f) = match (parts.next(), parts.next(), parts.next()) {
                (Some(k), Some(w), Some(f)) => (k.trim(), w.trim(), f.trim()),
                _ => fail(&format!("unreadable keyword line: {line}")),
            };
            match sets.last_mut() {
                Some((_, words)) => words.push((k.into(), w.into(), f.into())),
                None => fail(&format!("keyword outside a set: {line}")),
            }
        }
    }
    if sets.is_empty() {
        fail(&format!("no keyword sets in {}", header.display()));
    }
    let mut s = String::from("// Generated by build.rs from include/rtmem_keywords.h. Do not edit.\n");
    s.push_str("#[doc(hidden)]\npub mod raw {\n");
    s.push_str(&consts);
    s.push_str("    /// Every constant above, by name (for the layout test).\n");
    s.push_str("    pub const KEYWORD_CONSTANTS: &[(&str, u64)] = &[\n");
    s.push_str(&table);
    s.push_str("    ];\n}\n");
    // One module of symbol constants per set, and the set's word list.
    for (set, words) in &sets {
        let upper = set.to_ascii_uppercase();
        writeln!(s, "/// The `{set}` keyword set, with the ids the interner gives its words.").unwrap();
        writeln!(s, "pub mod {set} {{").unwrap();
        writeln!(s, "    use crate::intern::{{KeywordSet, Symbol}};").unwrap();
        writeln!(s, "    use super::raw::*;").unwrap();
        writeln!(
            s,
            "    /// The set itself: its name, index and words.\n    pub const SET: KeywordSet = KeywordSet::from_raw(\"{set}\", RTM_KWSET_{upper}, WORDS);"
        )
        .unwrap();
        s.push_str("    /// `(word, symbol, RTM_KW_* flags)` for every word of the set, in id order.\n");
        s.push_str("    pub const WORDS: &[(&str, Symbol, u32)] = &[\n");
        for (k, w, f) in words {
            writeln!(s, "        ({w}, Symbol::keyword({k}), {f}),").unwrap();
        }
        s.push_str("    ];\n");
        let prefix = format!("RTM_KW_{upper}_");
        for (k, w, _) in words {
            let short = k.strip_prefix(&prefix).unwrap_or_else(|| fail(&format!("{k} not in {set}")));
            writeln!(s, "    /// `{}`", w.trim_matches('"')).unwrap();
            // A constant name may start with a digit or `_` after the prefix
            // (`RTM_KW_C__BOOL`): keep it a valid, upper-case identifier.
            let ident = if short.starts_with(|c: char| c.is_ascii_digit()) {
                format!("_{short}")
            } else {
                short.to_string()
            };
            writeln!(
                s,
                "    #[allow(non_upper_case_globals)]\n    pub const {ident}: Symbol = Symbol::keyword({k});"
            )
            .unwrap();
        }
        s.push_str("}\n");
    }
    s.push_str("/// Every shipped set.\npub const ALL_SETS: &[crate::intern::KeywordSet] = &[");
    for (set, _) in &sets {
        write!(s, "{set}::SET, ").unwrap();
    }
    s.push_str("];\n");
    fs::write(dest, s).unwrap_or_else(|e| fail(&format!("writing {}: {e}", dest.display())));
}

// ---- the layout probe ----------------------------------------------------------------

/// Removes comments and joins continued lines.
fn strip_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && i + 1 < b.len() && b[i + 1] == b'*' {
            let end = src[i + 2..].find("*/").map(|e| i + 2 + e + 2).unwrap_or(b.len());
            // Keep line structure: a comment spanning lines leaves its newlines.
            out.extend(src[i..end].chars().filter(|&c| c == '\n'));
            out.push(' ');
            i = end;
        } else if b[i] == b'/' && i + 1 < b.len() && b[i + 1] == b'/' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str(&src[start..i.min(b.len())]);
        } else {
            let c = src[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out.replace("\\\n", " ")
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The declared name in one declarator of a struct field: `*const *keywords`,
/// `classes[RTM_HEAP_CLASSES]`, `(*init)(void *ud, void *obj)`.
fn declarator_name(d: &str) -> Option<String> {
    let d = d.trim();
    if let Some(p) = d.find("(*") {
        let rest = &d[p + 2..];
        let end = rest.find(')')?;
        return Some(rest[..end].trim().to_string());
    }
    let d = match d.find('[') {
        Some(p) => &d[..p],
        None => d,
    };
    let last = d.rsplit(|c: char| c.is_whitespace() || c == '*').next()?;
    if is_ident(last) {
        Some(last.to_string())
    } else {
        None
    }
}

/// The entries of the probe for one header: every struct with a body (its
/// size, alignment, and each field's offset), every enum (its size and each
/// enumerator's value), every typedef of a plain type, and every object-like
/// macro with a value.
fn probe_entries(header: &str, entries: &mut Vec<String>) {
    let text = strip_comments(header);
    let mut code = String::new();
    // The `#if` frames around a line. `#ifdef __cplusplus` hides C++ only
    // text (`extern "C" {`, C++ spellings) up to its `#else`, whose branch
    // is C's; every other conditional is read in all its branches (they
    // choose attributes and spellings, which the checks below skip).
    #[derive(PartialEq)]
    enum Frame {
        CxxOnly,
        CBranch,
        Other,
    }
    let mut frames: Vec<Frame> = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let hidden = frames.contains(&Frame::CxxOnly);
        if let Some(pp) = t.strip_prefix('#') {
            let pp = pp.trim_start();
            if pp.starts_with("ifdef __cplusplus") {
                frames.push(Frame::CxxOnly);
                continue;
            } else if pp.starts_with("if") {
                frames.push(Frame::Other);
                continue;
            } else if pp.starts_with("else") {
                if let Some(f @ Frame::CxxOnly) = frames.last_mut() {
                    *f = Frame::CBranch;
                }
                continue;
            } else if pp.starts_with("endif") {
                frames.pop();
                continue;
            }
            if hidden {
                continue;
            }
            if let Some(def) = pp.strip_prefix("define") {
                let def = def.trim_start();
                let name_end =
                    def.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(def.len());
                let (name, value) = def.split_at(name_end);
                let value = value.trim();
                // Function-like macros, empty ones (include guards, attributes
                // spelled out under #if), and the header's own plumbing.
                if value.is_empty() || def[name_end..].starts_with('(') || !name.starts_with("RTM") {
                    continue;
                }
                if matches!(name, "RTM_API" | "RTM_MALLOC_ATTR" | "RTM_WARN_UNUSED") {
                    continue;
                }
                // Defined in several branches: the compiler picks the value.
                if entries.iter().any(|e| {
                    e.contains(&format!("\"const {name}\"")) || e.contains(&format!("\"const {name}.bits\""))
                }) {
                    continue;
                }
                if value.starts_with('"') {
                    entries.push(format!("STR(\"const {name}\", {name})"));
                } else if value.contains('{') {
                    // RTM_HANDLE_NULL, a compound literal: its bits.
                    entries.push(format!("NUM(\"const {name}.bits\", ({name}).bits)"));
                } else {
                    entries.push(format!("NUM(\"const {name}\", {name})"));
                }
            }
            continue;
        }
        if !hidden {
            code.push_str(line);
            code.push('\n');
        }
    }
    // Declarations, split at top-level semicolons, with their bodies; a
    // function definition (static inline) ends at its closing brace.
    let mut decls = Vec::new();
    let (mut depth, mut start, mut open) = (0i32, 0usize, 0usize);
    for (i, c) in code.char_indices() {
        match c {
            '{' => {
                if depth == 0 {
                    open = i;
                }
                depth += 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 && code[start..open].trim_end().ends_with(')') {
                    start = i + 1;
                }
            }
            ';' if depth == 0 => {
                decls.push(code[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    for d in decls {
        let d = d.split_whitespace().collect::<Vec<_>>().join(" ");
        let d = d.as_str();
        let is_typedef = d.starts_with("typedef ");
        let body_d = d.trim_start_matches("typedef ");
        if let Some(decl) = d.strip_prefix("RTM_API ") {
            // A function: its address, to match with the Rust declaration's.
            let name = decl.split('(').next().and_then(declarator_name);
            match name {
                Some(name) => entries.push(format!("NUM(\"fn {name}\", (uintptr_t)&{name})")),
                None => fail(&format!("cannot read the function `{decl}`")),
            }
            continue;
        }
        if let (Some(open), true) =
            (body_d.find('{'), body_d.starts_with("struct ") || body_d.starts_with("enum "))
        {
            let close = body_d.rfind('}').unwrap_or(body_d.len());
            let head: Vec<&str> = body_d[..open].split_whitespace().collect();
            let tag = head.get(1).copied().unwrap_or("");
            let tail = body_d[close + 1..].trim();
            // The name C code uses: the typedef name, or `struct tag`.
            let cname =
                if is_typedef && is_ident(tail) { tail.to_string() } else { format!("{} {}", head[0], tag) };
            let label = if is_typedef && is_ident(tail) { tail.to_string() } else { tag.to_string() };
            let body = &body_d[open + 1..close];
            entries.push(format!("NUM(\"size {label}\", sizeof({cname}))"));
            if head[0] == "struct" {
                entries.push(format!("NUM(\"align {label}\", ALIGNOF({cname}))"));
                for field in body.split(';') {
                    let field = field.trim();
                    if field.is_empty() {
                        continue;
                    }
                    // `uint64_t a, b, c`: the type belongs to the first declarator.
                    let first_comma = if field.contains("(*") { None } else { field.find(',') };
                    let mut names = Vec::new();
                    match first_comma {
                        None => names.extend(declarator_name(field)),
                        Some(_) => {
                            for part in field.split(',') {
                                names.extend(declarator_name(part));
                            }
                        }
                    }
                    if names.is_empty() {
                        fail(&format!("cannot read field `{field}` of {label}"));
                    }
                    for n in names {
                        entries.push(format!("NUM(\"offset {label}.{n}\", offsetof({cname}, {n}))"));
                    }
                }
            } else {
                for e in body.split(',') {
                    let name = e.split('=').next().unwrap().trim();
                    if !name.is_empty() {
                        entries.push(format!("NUM(\"const {name}\", {name})"));
                    }
                }
            }
        } else if is_typedef
            && !body_d.starts_with("struct ")
            && !body_d.starts_with("enum ")
            && !d.contains('(')
        {
            // typedef uint32_t rtm_sym;
            if let Some(name) = declarator_name(body_d) {
                entries.push(format!("NUM(\"size {name}\", sizeof({name}))"));
            }
        }
    }
}

fn build_probe(root: &Path, out: &Path) {
    let mut entries = Vec::new();
    for h in ["rtmem.h", "rtmem_keywords.h"] {
        let path = root.join("include").join(h);
        if let Ok(src) = fs::read_to_string(&path) {
            probe_entries(&src, &mut entries);
        }
    }
    let mut c = String::from(
        "/* Generated by build.rs: what the C compiler says about the public headers. */\n\
         #include <stddef.h>\n#include <stdint.h>\n#include \"rtmem.h\"\n\
         #define ALIGNOF(T) _Alignof(T)\n\
         #define NUM(name, v) { name, (unsigned long long)(v), NULL },\n\
         #define STR(name, v) { name, 0, v },\n\
         struct rtmrs_probe { const char *name; unsigned long long value; const char *text; };\n\
         /* Copies up to cap entries to out and returns how many there are. The\n\
          * table is automatic: RTM_HANDLE_NULL is a compound literal. */\n\
         size_t rtmrs_probe(struct rtmrs_probe *out, size_t cap)\n{\n\
         const struct rtmrs_probe table[] = {\n",
    );
    for e in &entries {
        writeln!(c, "    {e}").unwrap();
    }
    c.push_str(
        "};\n    size_t n = sizeof table / sizeof table[0];\n    \
         for (size_t i = 0; i < n && i < cap; i++) out[i] = table[i];\n    return n;\n}\n",
    );
    let src = out.join("probe.c");
    let obj = out.join("probe.o");
    fs::write(&src, c).unwrap();
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    run(
        Command::new(&cc)
            .args(["-std=c11", "-c", "-fPIC", "-I"])
            .arg(root.join("include"))
            .arg(&src)
            .arg("-o")
            .arg(&obj),
        "compiling the layout probe",
    );
    let lib = out.join("librtmem_probe.a");
    let _ = fs::remove_file(&lib);
    run(Command::new("ar").arg("crs").arg(&lib).arg(&obj), "ar (the layout probe)");
}
