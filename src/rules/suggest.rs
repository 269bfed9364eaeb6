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

/// Edit distance over characters, counting a swap of two neighbours as one
/// edit (optimal string alignment): `nmae` is one edit from `name`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
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
