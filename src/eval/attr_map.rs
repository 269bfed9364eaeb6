//! The attributes of a set, sorted by name in one vector. Most sets have a
//! handful of names: a B-tree gives each of them a node of eleven slots
//! (about 450 bytes), this gives each name its 40 bytes. Sets are built from
//! already-sorted bindings (an append each), and `//` merges two sorted
//! vectors in one pass, so a set of thousands of names stays linear to build.

use std::fmt;
use std::rc::Rc;

use super::value::Attr;

#[derive(Clone, Default)]
pub struct AttrMap {
    entries: Vec<(Rc<str>, Attr)>,
}

impl AttrMap {
    pub fn new() -> AttrMap {
        AttrMap::default()
    }

    pub fn with_capacity(n: usize) -> AttrMap {
        AttrMap {
            entries: Vec::with_capacity(n),
        }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| (**k).cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&Attr> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key`, returning its previous value. Appending in name order is
    /// the fast path (no search, no shift).
    pub fn insert(&mut self, key: Rc<str>, value: Attr) -> Option<Attr> {
        if self.entries.last().is_none_or(|(last, _)| **last < *key) {
            self.entries.push((key, value));
            return None;
        }
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Sets `key` to `value()` unless it is set already.
    pub fn insert_if_absent(&mut self, key: &Rc<str>, value: impl FnOnce() -> Attr) {
        if let Err(i) = self.find(key) {
            self.entries.insert(i, (key.clone(), value()));
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Names and attributes in name order.
    pub fn iter(&self) -> Iter<'_> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Rc<str>> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Attr> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// `self // other`: every name of both, `other`'s attribute where both
    /// have one. One pass over the two sorted vectors.
    pub fn updated(&self, other: &AttrMap) -> AttrMap {
        let (mut l, mut r) = (
            self.entries.iter().peekable(),
            other.entries.iter().peekable(),
        );
        let mut entries = Vec::with_capacity(self.len() + other.len());
        loop {
            let next = match (l.peek(), r.peek()) {
                (Some(a), Some(b)) => match a.0.cmp(&b.0) {
                    std::cmp::Ordering::Less => l.next(),
                    std::cmp::Ordering::Greater => r.next(),
                    std::cmp::Ordering::Equal => {
                        l.next();
                        r.next()
                    }
                },
                (Some(_), None) => l.next(),
                (None, _) => r.next(),
            };
            match next {
                Some(e) => entries.push(e.clone()),
                None => break,
            }
        }
        entries.shrink_to_fit();
        AttrMap { entries }
    }
}

pub type Iter<'a> = std::iter::Map<
    std::slice::Iter<'a, (Rc<str>, Attr)>,
    fn(&'a (Rc<str>, Attr)) -> (&'a Rc<str>, &'a Attr),
>;

impl<'a> IntoIterator for &'a AttrMap {
    type Item = (&'a Rc<str>, &'a Attr);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for AttrMap {
    type Item = (Rc<str>, Attr);
    type IntoIter = std::vec::IntoIter<(Rc<str>, Attr)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// As a `BTreeMap` collects: sorted by name, the last of equal names kept.
impl FromIterator<(Rc<str>, Attr)> for AttrMap {
    fn from_iter<I: IntoIterator<Item = (Rc<str>, Attr)>>(iter: I) -> AttrMap {
        let mut entries: Vec<(Rc<str>, Attr)> = iter.into_iter().collect();
        if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
            // Stable: equal names stay in order, and the last one is kept.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut deduped: Vec<(Rc<str>, Attr)> = Vec::with_capacity(entries.len());
            for e in entries {
                match deduped.last_mut() {
                    Some(last) if last.0 == e.0 => *last = e,
                    _ => deduped.push(e),
                }
            }
            entries = deduped;
        }
        entries.shrink_to_fit();
        AttrMap { entries }
    }
}

impl fmt::Debug for AttrMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::value::{ThunkCell, ThunkState};
    use crate::eval::{Val, V};
    use crate::source::Span;

    fn attr(n: i64) -> Attr {
        Attr {
            value: ThunkCell::done(Val::new(V::Int(n), Span::DETACHED)),
            key_span: Span::DETACHED,
        }
    }

    fn int(a: Option<&Attr>) -> Option<i64> {
        match &*a?.value.0.borrow() {
            ThunkState::Done(Val { v: V::Int(n), .. }) => Some(*n),
            _ => None,
        }
    }

    fn names(m: &AttrMap) -> Vec<&str> {
        m.keys().map(|k| &**k).collect()
    }

    #[test]
    fn inserts_in_any_order_stay_sorted_and_replace() {
        let mut m = AttrMap::new();
        for (k, n) in [("b", 1), ("d", 2), ("a", 3), ("c", 4), ("b", 5)] {
            m.insert(k.into(), attr(n));
        }
        assert_eq!(names(&m), ["a", "b", "c", "d"]);
        assert_eq!(int(m.get("b")), Some(5));
        assert!(m.get("e").is_none());
    }

    #[test]
    fn collect_sorts_and_keeps_the_last_of_equal_names() {
        let m: AttrMap = [("z", 1), ("a", 2), ("z", 3), ("m", 4)]
            .into_iter()
            .map(|(k, n)| (Rc::from(k), attr(n)))
            .collect();
        assert_eq!(names(&m), ["a", "m", "z"]);
        assert_eq!(int(m.get("z")), Some(3));
    }

    #[test]
    fn update_takes_the_right_side_on_equal_names() {
        let l: AttrMap = [("a", 1), ("b", 2), ("d", 3)]
            .into_iter()
            .map(|(k, n)| (Rc::from(k), attr(n)))
            .collect();
        let r: AttrMap = [("b", 20), ("c", 30), ("e", 40)]
            .into_iter()
            .map(|(k, n)| (Rc::from(k), attr(n)))
            .collect();
        let u = l.updated(&r);
        assert_eq!(names(&u), ["a", "b", "c", "d", "e"]);
        assert_eq!(int(u.get("b")), Some(20));
        assert_eq!(int(u.get("d")), Some(3));
        assert_eq!(names(&AttrMap::new().updated(&r)), ["b", "c", "e"]);
        assert_eq!(names(&l.updated(&AttrMap::new())), ["a", "b", "d"]);
    }
}
