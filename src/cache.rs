//! The per-file cache, as ruff keeps one: what parsing a file produced (its
//! syntax tree, syntax errors, suppression comments and literal secrets),
//! stored under the user's cache directory and keyed by the file's content
//! and the dbprov build. A file whose content is unchanged is not parsed
//! again; evaluation always runs, since what a file means depends on the
//! others (which services are enabled, which names collide).
//!
//! Entries are written atomically (a temporary file, then a rename) and
//! checked on reading (their key, a checksum, spans inside the file): a
//! damaged or foreign entry is a miss. The tree's accessors are total, so
//! even a forged entry cannot crash the evaluator.
//!
//! Entries of edited files and of older builds are never read again: once a
//! day a run removes the entries written more than [`MAX_AGE`] ago (a file
//! unchanged that long is parsed once more), and `dbprov clean` removes them
//! all.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use crate::model::literals::{LiteralSecret, SecretKind};
use crate::parse::SyntaxError;
use crate::source::{FileId, Span};
use crate::suppress::{Selector, Suppression};
use crate::syntax::FileAst;

/// Bumped whenever what an entry holds changes shape.
const FORMAT: u32 = 2;
const MAGIC: &[u8; 8] = b"dbprovc\0";

/// Entries written longer ago than this are removed by the daily sweep.
pub const MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// How often a run sweeps the cache: the time of the last sweep is the
/// modification time of this file in the cache directory.
const SWEEP_EVERY: Duration = Duration::from_secs(24 * 3600);
const SWEEP_MARKER: &str = "last-sweep";

/// A temporary file older than this belongs to a run that was killed.
const STALE_TMP: Duration = Duration::from_secs(3600);

/// Where entries live, when caching is on.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
}

/// What parsing one file produced, without the file's text and id.
pub struct Entry {
    pub syntax: Option<FileAst>,
    pub errors: Vec<SyntaxError>,
    pub suppressions: Vec<Suppression>,
    pub literal_secrets: Vec<LiteralSecret>,
}

/// The cache's key for content `bytes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key(u64, u64);

impl Cache {
    /// The cache directory: `$DBPROV_CACHE_DIR`, else `$XDG_CACHE_HOME/dbprov`,
    /// else `~/.cache/dbprov`; `None` when none can be named.
    pub fn from_env() -> Option<Cache> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let dir = match var("DBPROV_CACHE_DIR") {
            Some(d) => PathBuf::from(d),
            None => match var("XDG_CACHE_HOME") {
                Some(d) => PathBuf::from(d).join("dbprov"),
                None => PathBuf::from(var("HOME")?).join(".cache").join("dbprov"),
            },
        };
        Some(Cache::at(dir))
    }

    pub fn at(dir: PathBuf) -> Cache {
        Cache { dir }
    }

    /// The key of a file's content, for this build of dbprov: a 64-bit hash
    /// of the build and the content, and the content's length.
    pub fn key(bytes: &[u8]) -> Key {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        build_id().hash(&mut h);
        h.write(bytes);
        Key(h.finish(), bytes.len() as u64)
    }

    fn path(&self, key: Key) -> PathBuf {
        let name = format!("{:016x}{:016x}", key.0, key.1);
        self.dir.join(&name[..2]).join(&name[2..])
    }

    /// The entry stored for `key`, given the file's id and text (which the
    /// tree refers to); `None` when there is none or it does not check out.
    pub fn load(&self, key: Key, file: FileId, text: &std::sync::Arc<str>) -> Option<Entry> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        decode(&bytes, key, file, text)
    }

    /// Stores `entry` for `key`; failures only cost the next run a parse.
    pub fn store(&self, key: Key, entry: &Entry) {
        let path = self.path(key);
        let Some(parent) = path.parent() else { return };
        if std::fs::create_dir_all(parent).is_err() {
            return;
        }
        let bytes = encode(entry, key);
        let tmp = parent.join(format!(
            "{TMP_PREFIX}{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let written = std::fs::File::create(&tmp).and_then(|mut f| f.write_all(&bytes));
        if written.is_err() || std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// What `Cache::clean` removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub files: u64,
    pub bytes: u64,
}

impl Cache {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Removes old entries if the last sweep was a day ago or more (or never
    /// happened); errors are ignored, a sweep only saves disk space.
    pub fn sweep_if_due(&self, now: SystemTime) {
        let marker = self.dir.join(SWEEP_MARKER);
        let last = std::fs::metadata(&marker).and_then(|m| m.modified());
        if last.is_ok_and(|t| now.duration_since(t).unwrap_or_default() < SWEEP_EVERY) {
            return;
        }
        if !self.dir.is_dir() || std::fs::File::create(&marker).is_err() {
            return;
        }
        self.remove_entries(|name, modified| {
            let age = now.duration_since(modified).unwrap_or_default();
            match name.starts_with(TMP_PREFIX) {
                true => age > STALE_TMP,
                false => age > MAX_AGE,
            }
        });
    }

    /// Removes every entry (and the directory, if nothing else is in it).
    /// Only what the cache writes is touched: a cache directory pointed at
    /// the wrong place loses no other file.
    pub fn clean(&self) -> Cleaned {
        let cleaned = self.remove_entries(|_, _| true);
        let _ = std::fs::remove_file(self.dir.join(SWEEP_MARKER));
        let _ = std::fs::remove_dir(&self.dir);
        cleaned
    }

    /// Removes the entries (and temporary files) `doomed(name, modified)`
    /// picks, and shard directories left empty.
    fn remove_entries(&self, doomed: impl Fn(&str, SystemTime) -> bool) -> Cleaned {
        let mut cleaned = Cleaned::default();
        let Ok(shards) = std::fs::read_dir(&self.dir) else {
            return cleaned;
        };
        for shard in shards.flatten() {
            let name = shard.file_name();
            if !name.to_str().is_some_and(is_shard_name) {
                continue;
            }
            let Ok(files) = std::fs::read_dir(shard.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name();
                let Some(name) = name.to_str() else { continue };
                if !(is_entry_name(name) || name.starts_with(TMP_PREFIX)) {
                    continue;
                }
                let Ok(meta) = f.metadata() else { continue };
                let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                if meta.is_file()
                    && doomed(name, modified)
                    && std::fs::remove_file(f.path()).is_ok()
                {
                    cleaned.files += 1;
                    cleaned.bytes += meta.len();
                }
            }
            // Fails, as it should, while anything is left in it.
            let _ = std::fs::remove_dir(shard.path());
        }
        cleaned
    }
}

const TMP_PREFIX: &str = ".tmp-";

/// A shard directory: the first two hex digits of its entries' keys.
fn is_shard_name(name: &str) -> bool {
    name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An entry: the other 30 hex digits of its key.
fn is_entry_name(name: &str) -> bool {
    name.len() == 30 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Identifies this build: the version, and the executable's size and
/// modification time (a rebuild during development changes them).
fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe()
            .and_then(std::fs::metadata)
            .map(|m| {
                let modified = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                format!("{}-{modified}", m.len())
            })
            .unwrap_or_default();
        format!("{}-{FORMAT}-{exe}", env!("CARGO_PKG_VERSION"))
    })
}

struct Out(Vec<u8>);

impl Out {
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bool(&mut self, v: bool) {
        self.0.push(v as u8);
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn span(&mut self, s: Span) {
        self.u32(s.start);
        self.u32(s.end);
    }
}

struct In<'a> {
    bytes: &'a [u8],
    file: FileId,
}

impl<'a> In<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bool(&mut self) -> Option<bool> {
        match self.take(1)?[0] {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn span(&mut self) -> Option<Span> {
        let (start, end) = (self.u32()?, self.u32()?);
        (start <= end).then_some(Span {
            file: self.file,
            start,
            end,
        })
    }
    /// A count of items each at least `min` bytes long: a damaged count
    /// cannot make the reader allocate more than the entry holds.
    fn count(&mut self, min: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n.saturating_mul(min) <= self.bytes.len()).then_some(n)
    }
}

/// Detects a damaged entry (not a forged one: the reader trusts nothing).
/// A multiply-rotate hash over 8-byte words, several times faster than
/// SipHash on the ~10 KB each file's entry takes.
fn checksum(payload: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = payload.len() as u64;
    let mut words = payload.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    for &b in words.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    // Final mixing, so that every input bit reaches every output bit.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

fn encode(entry: &Entry, key: Key) -> Vec<u8> {
    let mut o = Out(Vec::new());
    o.u64(key.0);
    o.u64(key.1);
    o.u32(entry.errors.len() as u32);
    for e in &entry.errors {
        o.span(e.span);
        o.str(&e.message);
    }
    o.u32(entry.suppressions.len() as u32);
    for s in &entry.suppressions {
        o.u32(s.line);
        o.bool(s.standalone);
        o.bool(s.file_level);
        o.u32(s.selectors.len() as u32);
        for sel in &s.selectors {
            o.str(&sel.text);
            o.span(sel.span);
        }
    }
    o.u32(entry.literal_secrets.len() as u32);
    for l in &entry.literal_secrets {
        o.span(l.span);
        o.bool(l.key_span.is_some());
        if let Some(k) = l.key_span {
            o.span(k);
        }
        match &l.kind {
            SecretKind::PasswordAttribute { key } => {
                o.0.push(0);
                o.str(key);
            }
            SecretKind::DsnWithCredentials { scheme, user } => {
                o.0.push(1);
                o.str(scheme);
                o.str(user);
            }
        }
    }
    o.bool(entry.syntax.is_some());
    if let Some(ast) = &entry.syntax {
        ast.encode(&mut o.0);
    }
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&checksum(&o.0).to_le_bytes());
    out.extend_from_slice(&o.0);
    out
}

fn decode(bytes: &[u8], key: Key, file: FileId, text: &std::sync::Arc<str>) -> Option<Entry> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (sum, payload) = rest.split_at_checked(8)?;
    if u64::from_le_bytes(sum.try_into().ok()?) != checksum(payload) {
        return None;
    }
    let mut i = In {
        bytes: payload,
        file,
    };
    if Key(i.u64()?, i.u64()?) != key {
        return None;
    }
    let len = text.len() as u32;
    let inside = |s: Span| s.end <= len;
    let mut errors = Vec::new();
    for _ in 0..i.count(12)? {
        let span = i.span().filter(|s| inside(*s))?;
        errors.push(SyntaxError {
            span,
            message: i.str()?,
        });
    }
    let mut suppressions = Vec::new();
    for _ in 0..i.count(10)? {
        let line = i.u32()?;
        let standalone = i.bool()?;
        let file_level = i.bool()?;
        let mut selectors = Vec::new();
        for _ in 0..i.count(12)? {
            let text = i.str()?;
            let span = i.span().filter(|s| inside(*s))?;
            selectors.push(Selector {
                text,
                span,
                used: Default::default(),
            });
        }
        suppressions.push(Suppression {
            file,
            line,
            standalone,
            file_level,
            selectors,
        });
    }
    let mut literal_secrets = Vec::new();
    for _ in 0..i.count(14)? {
        let span = i.span().filter(|s| inside(*s))?;
        let key_span = match i.bool()? {
            true => Some(i.span().filter(|s| inside(*s))?),
            false => None,
        };
        let kind = match i.take(1)?[0] {
            0 => SecretKind::PasswordAttribute { key: i.str()? },
            1 => SecretKind::DsnWithCredentials {
                scheme: i.str()?,
                user: i.str()?,
            },
            _ => return None,
        };
        literal_secrets.push(LiteralSecret {
            span,
            key_span,
            kind,
        });
    }
    let syntax = match i.bool()? {
        true => {
            let (ast, used) = FileAst::decode(i.bytes, file, text.clone())?;
            i.bytes = &i.bytes[used..];
            Some(ast)
        }
        false => None,
    };
    if !i.bytes.is_empty() {
        return None;
    }
    Some(Entry {
        syntax,
        errors,
        suppressions,
        literal_secrets,
    })
}

#[cfg(test)]
mod tests;
