//! [`Interner`]: strings to dense 32-bit [`Symbol`]s, from any thread.

use std::ffi::CString;
use std::fmt;
use std::num::NonZeroU32;
use std::os::raw::c_char;
use std::ptr::{self, NonNull};

use crate::error::{check, Error, Result};
use crate::sys;

/// An interned string's id: the same id for equal strings, forever, within
/// one interner. Four bytes, and `Option<Symbol>` too.
///
/// The keyword sets have fixed ids, which [`keywords`](crate::keywords)
/// names, so a parser can `match` on symbols:
///
/// ```
/// use rtmem::{keywords::lua, Interner};
///
/// let interner = Interner::with_keywords(&["lua"])?;
/// let sym = interner.intern("local");
/// let what = match sym {
///     lua::LOCAL => "a declaration",
///     lua::FUNCTION => "a function",
///     _ => "a name",
/// };
/// assert_eq!(what, "a declaration");
/// # Ok::<(), rtmem::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Symbol(NonZeroU32);

impl Symbol {
    /// The id (`rtm_sym`), never 0.
    ///
    /// ```
    /// use rtmem::Symbol;
    /// let s = rtmem::keywords::python::DEF;
    /// assert_eq!(s.id(), rtmem::sys::RTM_KW_PYTHON_DEF);
    /// assert_eq!(Symbol::from_id(s.id()), Some(s));
    /// assert_eq!(Symbol::from_id(0), None);
    /// assert_eq!(std::mem::size_of::<Option<Symbol>>(), 4);
    /// ```
    pub fn id(self) -> u32 {
        self.0.get()
    }

    /// The symbol of an id; `None` for 0 (`rtm_sym`'s "none").
    pub fn from_id(id: u32) -> Option<Symbol> {
        NonZeroU32::new(id).map(Symbol)
    }

    pub(crate) const fn keyword(id: u32) -> Symbol {
        match NonZeroU32::new(id) {
            Some(n) => Symbol(n),
            None => panic!("keyword ids start at 1"),
        }
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Symbol({})", self.0)
    }
}

/// A string interner (`rtm_interner`): maps strings to [`Symbol`]s and back
/// to a stable copy of the string.
///
/// Every method takes `&self` and is safe from any number of threads at
/// once: the interner is [`Send`] and [`Sync`], so share it through an
/// [`Arc`](std::sync::Arc) (or a scoped borrow). Looking up a string already
/// present takes no lock. Ids are never recycled; strings live until the
/// interner is dropped.
///
/// ```
/// use std::sync::Arc;
/// use rtmem::Interner;
///
/// let interner = Arc::new(Interner::new()?);
/// let workers: Vec<_> = (0..4)
///     .map(|_| {
///         let interner = Arc::clone(&interner);
///         std::thread::spawn(move || interner.intern("spam"))
///     })
///     .collect();
/// let ids: Vec<_> = workers.into_iter().map(|t| t.join().unwrap()).collect();
/// assert!(ids.iter().all(|&s| s == ids[0]));
/// assert_eq!(interner.resolve(ids[0]), "spam");
/// # Ok::<(), rtmem::Error>(())
/// ```
pub struct Interner {
    raw: NonNull<sys::rtm_interner>,
    /// A standalone interner, destroyed on drop; else a context's own.
    owned: bool,
}

// SAFETY: every rtm_interner function but destroy (run by Drop, with no
// other reference left) and add_keywords (which takes &mut self) is
// thread-safe.
unsafe impl Send for Interner {}
unsafe impl Sync for Interner {}

impl Interner {
    /// A standalone interner with no keywords. Its memory comes from the OS's
    /// pages, with its own accounting ([`Interner::stats`]).
    pub fn new() -> Result<Interner> {
        Interner::with_keywords::<&str>(&[])
    }

    /// A standalone interner seeded with shipped keyword sets (`"python"`,
    /// `"lua"`, `"c"`, `"javascript"`, `"rust"`), at their fixed ids.
    /// [`Error::InvalidArgument`] for another name.
    ///
    /// ```
    /// use rtmem::{keywords, Interner};
    /// let i = Interner::with_keywords(&["python", "rust"])?;
    /// assert_eq!(i.get("def"), Some(keywords::python::DEF));
    /// assert_eq!(i.get("fn"), Some(keywords::rust::FN));
    /// assert!(Interner::with_keywords(&["klingon"]).is_err());
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn with_keywords<S: AsRef<str>>(sets: &[S]) -> Result<Interner> {
        let names = c_strings(sets)?;
        let list = null_terminated(&names);
        let mut raw = ptr::null_mut();
        // SAFETY: the list and strings live across the call. The C library
        // says why it failed: a name that is no set, or no memory.
        check(unsafe {
            sys::rtm_interner_new_ex(if names.is_empty() { ptr::null() } else { list.as_ptr() }, &mut raw)
        })?;
        let raw = NonNull::new(raw).expect("rtm_interner_new_ex: RTM_OK with an interner");
        Ok(Interner { raw, owned: true })
    }

    /// SAFETY: raw is a context's interner, which outlives the result.
    pub(crate) unsafe fn borrowed(raw: *mut sys::rtm_interner) -> Interner {
        Interner { raw: NonNull::new(raw).expect("a context has an interner"), owned: false }
    }

    /// The symbol of `s`, interning a copy the first time.
    ///
    /// # Panics
    /// When the string cannot be stored: the context's limit or the OS's
    /// memory is exhausted, the 4-billion id space is used up, or `s` is
    /// longer than 1 GiB. [`Interner::try_intern`] returns those as errors.
    pub fn intern(&self, s: &str) -> Symbol {
        match self.try_intern(s) {
            Ok(sym) => sym,
            Err(e) => panic!("rtmem: cannot intern a string of {} bytes: {e}", s.len()),
        }
    }

    /// The symbol of `s`, interning a copy the first time, or why it could
    /// not be stored: [`Error::Limit`] (the context's limit, or the id
    /// space), [`Error::OutOfMemory`], [`Error::InvalidArgument`] (longer
    /// than 1 GiB). A string already present is always found.
    ///
    /// ```
    /// let ctx = rtmem::Context::builder().limit(512 << 10).build()?;
    /// let interner = ctx.interner();
    /// let mut n = 0;
    /// let err = loop {
    ///     match interner.try_intern(&format!("name{n}")) {
    ///         Ok(_) => n += 1,
    ///         Err(e) => break e,
    ///     }
    /// };
    /// assert_eq!(err, rtmem::Error::Limit);
    /// assert_eq!(interner.resolve(interner.try_intern("name0")?), "name0");
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    #[inline]
    pub fn try_intern(&self, s: &str) -> Result<Symbol> {
        let mut out: sys::rtm_sym = 0;
        // SAFETY: s is valid for s.len() bytes (which need no NUL).
        let st =
            unsafe { sys::rtm_intern_ex(self.raw.as_ptr(), s.as_ptr() as *const c_char, s.len(), &mut out) };
        check(st)?;
        Symbol::from_id(out).ok_or(Error::InvalidArgument)
    }

    /// The symbol of `s` if it was interned; never inserts.
    #[inline]
    pub fn get(&self, s: &str) -> Option<Symbol> {
        if s.len() > sys::RTM_INTERN_MAX_LEN {
            return None; // never interned; and the C call would record EINVAL
        }
        // SAFETY: as try_intern.
        Symbol::from_id(unsafe {
            sys::rtm_intern_find(self.raw.as_ptr(), s.as_ptr() as *const c_char, s.len())
        })
    }

    /// The string of a symbol of this interner.
    ///
    /// # Panics
    /// When `sym` is not a symbol this interner handed out (one of another
    /// interner), or its bytes are not UTF-8 (interned through the C API).
    /// [`Interner::try_resolve`] returns `None` instead.
    pub fn resolve(&self, sym: Symbol) -> &str {
        match self.try_resolve(sym) {
            Some(s) => s,
            None => panic!("rtmem: {sym:?} is not a string of this interner"),
        }
    }

    /// The string of `sym`, or `None` when this interner did not hand it out
    /// (or its bytes are not UTF-8). The string lives as long as the
    /// interner.
    ///
    /// ```
    /// let a = rtmem::Interner::new()?;
    /// let b = rtmem::Interner::new()?;
    /// let x = a.intern("x");
    /// assert_eq!(a.try_resolve(x), Some("x"));
    /// let y = b.intern("y");
    /// let z = b.intern("z");
    /// assert_eq!(a.try_resolve(z), None); // a holds one string only
    /// # let _ = y;
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn try_resolve(&self, sym: Symbol) -> Option<&str> {
        self.resolve_bytes(sym).and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The bytes of `sym` (strings interned from C may hold any bytes), or
    /// `None` when this interner did not hand it out.
    pub fn resolve_bytes(&self, sym: Symbol) -> Option<&[u8]> {
        let mut len = 0usize;
        // SAFETY: the pointer, when not NULL, is valid for len bytes for as
        // long as the interner lives, and the bytes never change.
        unsafe {
            let p = sys::rtm_sym_str(self.raw.as_ptr(), sym.id(), &mut len);
            if p.is_null() {
                None
            } else {
                Some(std::slice::from_raw_parts(p as *const u8, len))
            }
        }
    }

    /// Whether `sym` is a keyword of this interner: a word of a set it was
    /// seeded with, or of its own list ([`Interner::add_keywords`]).
    pub fn is_keyword(&self, sym: Symbol) -> bool {
        // SAFETY: a compare on a live interner.
        unsafe { sys::rtm_sym_is_keyword(self.raw.as_ptr(), sym.id()) != 0 }
    }

    /// Adds the caller's own keywords at the next ids, in order (a word
    /// already present keeps its id). Only before any ordinary string is
    /// interned ([`Error::InvalidArgument`] after), so keywords stay first;
    /// `&mut self` makes sure no other thread is using the interner.
    ///
    /// ```
    /// let mut i = rtmem::Interner::new()?;
    /// i.add_keywords(&["let", "in"])?;
    /// let sym = i.intern("in");
    /// assert!(i.is_keyword(sym));
    /// assert!(!i.is_keyword(i.intern("out")));
    /// assert_eq!(i.add_keywords(&["late"]), Err(rtmem::Error::InvalidArgument));
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn add_keywords<S: AsRef<str>>(&mut self, words: &[S]) -> Result<()> {
        let words = c_strings(words)?;
        let list = null_terminated(&words);
        // SAFETY: &mut self: no other thread uses the interner now.
        check(unsafe { sys::rtm_interner_add_keywords(self.raw.as_ptr(), list.as_ptr()) })
    }

    /// The interner's figures.
    ///
    /// ```
    /// let i = rtmem::Interner::new()?;
    /// i.intern("a");
    /// i.intern("a");
    /// let st = i.stats();
    /// assert_eq!(st.strings, 1);
    /// assert_eq!(st.bytes_saved, 2); // "a" and its NUL, found once
    /// # Ok::<(), rtmem::Error>(())
    /// ```
    pub fn stats(&self) -> InternerStats {
        let mut st = std::mem::MaybeUninit::<sys::rtm_stats>::zeroed();
        // SAFETY: fills the struct (its intern_* fields; the rest zero).
        let st = unsafe {
            sys::rtm_interner_stats(self.raw.as_ptr(), st.as_mut_ptr());
            st.assume_init()
        };
        InternerStats {
            strings: st.intern_strings,
            string_bytes: st.intern_string_bytes,
            table_bytes: st.intern_table_bytes,
            lookups: st.intern_lookups,
            hits: st.intern_hits,
            bytes_saved: st.intern_bytes_saved,
        }
    }

    /// The `rtm_interner` pointer, for the C API. Still owned by `self`.
    pub fn as_ptr(&self) -> *mut sys::rtm_interner {
        self.raw.as_ptr()
    }
}

impl Drop for Interner {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: no reference to the interner or its strings is left.
            unsafe { sys::rtm_interner_destroy(self.raw.as_ptr()) }
        }
    }
}

impl fmt::Debug for Interner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interner").field("strings", &self.stats().strings).finish()
    }
}

/// An interner's figures ([`Interner::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InternerStats {
    /// Strings held (keywords included).
    pub strings: u64,
    /// Their bytes, NULs included.
    pub string_bytes: u64,
    /// Everything else held: table, id map, headers, slack.
    pub table_bytes: u64,
    /// Lookups (intern and get).
    pub lookups: u64,
    /// Lookups that found their string.
    pub hits: u64,
    /// `len + 1` for every intern that found its string.
    pub bytes_saved: u64,
}

/// One of the keyword sets rtmem ships, as [`keywords`](crate::keywords)
/// lists them.
///
/// ```
/// use rtmem::keywords::{self, lua};
///
/// assert_eq!(lua::SET.name(), "lua");
/// assert_eq!(lua::SET.len(), 22);
/// assert!(lua::SET.words().any(|(w, s)| w == "local" && s == lua::LOCAL));
/// assert!(lua::SET.flags(lua::LOCAL) & keywords::HARD != 0);
/// assert_eq!(keywords::python::SET.flags(lua::LOCAL), 0); // not a Python word
/// ```
#[derive(Clone, Copy)]
pub struct KeywordSet {
    name: &'static str,
    index: u32,
    words: &'static [(&'static str, Symbol, u32)],
}

impl KeywordSet {
    pub(crate) const fn from_raw(
        name: &'static str,
        index: u32,
        words: &'static [(&'static str, Symbol, u32)],
    ) -> KeywordSet {
        KeywordSet { name, index, words }
    }

    /// The name the builders take (`"python"`, ...).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// How many words the set has.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether it has none (never, for a shipped set).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Every word and its symbol, in id order.
    pub fn words(&self) -> impl Iterator<Item = (&'static str, Symbol)> {
        self.words.iter().map(|&(w, s, _)| (w, s))
    }

    /// The `keywords::HARD` / `SOFT` / `RESERVED` flags of `sym` in this
    /// set (`rtm_keyword_flags`), 0 when it is not one of its words.
    pub fn flags(&self, sym: Symbol) -> u32 {
        // SAFETY: a table read.
        unsafe { sys::rtm_keyword_flags(self.index, sym.id()) }
    }
}

impl fmt::Debug for KeywordSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeywordSet").field("name", &self.name).field("words", &self.words.len()).finish()
    }
}

pub(crate) fn c_strings<S: AsRef<str>>(items: &[S]) -> Result<Vec<CString>> {
    items.iter().map(|s| CString::new(s.as_ref()).map_err(|_| Error::InvalidArgument)).collect()
}

pub(crate) fn null_terminated(items: &[CString]) -> Vec<*const c_char> {
    items.iter().map(|s| s.as_ptr()).chain(std::iter::once(ptr::null())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keywords;

    #[test]
    fn intern_get_resolve() {
        let i = Interner::new().unwrap();
        assert_eq!(i.get("x"), None);
        let x = i.intern("x");
        assert_eq!(i.intern("x"), x);
        assert_eq!(i.get("x"), Some(x));
        assert_ne!(i.intern("y"), x);
        assert_eq!(i.resolve(x), "x");
        let empty = i.intern("");
        assert_eq!(i.resolve(empty), "");
        let nul = i.intern("a\0b");
        assert_eq!(i.resolve(nul), "a\0b");
        assert_ne!(nul, i.intern("a"));
    }

    #[test]
    fn keywords_sit_at_their_ids() {
        let i = Interner::with_keywords(&["python", "lua"]).unwrap();
        for set in [keywords::python::SET, keywords::lua::SET] {
            for (w, s) in set.words() {
                assert_eq!(i.get(w), Some(s), "{w}");
                assert_eq!(i.resolve(s), w);
                assert!(i.is_keyword(s));
            }
        }
        // Not seeded with Rust's: its words are ordinary strings there.
        let f = i.intern("fn");
        assert_ne!(f, keywords::rust::FN);
        assert!(!i.is_keyword(f));
        assert!(f.id() > sys::RTM_KW_COUNT);
    }

    #[test]
    fn every_set_is_listed() {
        let names: Vec<_> = keywords::ALL_SETS.iter().map(|s| s.name()).collect();
        assert_eq!(names, ["python", "lua", "c", "javascript", "rust"]);
        let total: usize = keywords::ALL_SETS.iter().map(|s| s.len()).sum();
        assert!(total >= sys::RTM_KW_COUNT as usize, "shared words count once per set");
        assert_eq!(keywords::python::IF, keywords::lua::IF);
    }

    #[test]
    fn foreign_symbols_resolve_to_none() {
        let i = Interner::new().unwrap();
        assert_eq!(i.try_resolve(Symbol::from_id(sys::RTM_SYM_MAX).unwrap()), None);
        assert_eq!(Symbol::from_id(0), None);
    }

    #[test]
    #[should_panic(expected = "not a string of this interner")]
    fn resolve_panics_on_a_foreign_symbol() {
        let i = Interner::new().unwrap();
        i.resolve(Symbol::from_id(123_456).unwrap());
    }

    #[test]
    fn stats_count() {
        let i = Interner::new().unwrap();
        let before = i.stats();
        i.intern("abc");
        i.intern("abc");
        assert!(i.get("zzz").is_none());
        let st = i.stats();
        assert_eq!(st.strings, before.strings + 1);
        assert_eq!(st.hits, before.hits + 1);
        assert_eq!(st.lookups, before.lookups + 3);
        assert_eq!(st.bytes_saved, before.bytes_saved + 4);
    }

    #[test]
    fn context_interner_counts_in_context_stats() {
        let ctx = crate::Context::builder().keywords(&["c"]).build().unwrap();
        let i = ctx.interner();
        assert_eq!(i.get("while"), Some(keywords::c::WHILE));
        let before = ctx.stats().intern_strings;
        i.intern("brand new");
        assert_eq!(ctx.stats().intern_strings, before + 1);
    }
}
