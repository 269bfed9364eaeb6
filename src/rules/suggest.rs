//! "Did you mean" suggestions.

/// The candidate nearest to `input`: a candidate that `input` is a prefix of
/// (`postgres` → `postgresql`), else the smallest edit distance within a third
/// of the longer word.
pub fn nearest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = input.to_lowercase();
    if lower.len() >= 3 {
        if let Some(c) = candidates
            .iter()
            .find(|c| c.starts_with(&lower) || lower.starts_with(*c))
        {
            return Some(c);
        }
    }
    candidates
        .iter()
        .map(|c| (distance(&lower, &c.to_lowercase()), *c))
        .filter(|(d, c)| *d <= (c.chars().count().max(input.chars().count()) / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest() {
        let fields = ["type", "name", "user", "port", "extraConfig"];
        assert_eq!(nearest("usr", &fields), Some("user"));
        assert_eq!(nearest("nmae", &fields), Some("name"));
        assert_eq!(nearest("zzzzzz", &fields), None);
        let types = ["postgresql", "redis", "mongodb"];
        assert_eq!(nearest("postgres", &types), Some("postgresql"));
        assert_eq!(nearest("mongo", &types), Some("mongodb"));
        assert_eq!(nearest("mysql", &types), None);
    }
}
