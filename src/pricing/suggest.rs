//! Near matches for a misspelt instance type ("m5.xlarg" -> m5.xlarge).

/// Levenshtein distance over bytes (instance names are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(!ca.eq_ignore_ascii_case(cb));
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Up to `n` candidates closest to `name`, within a third of its length.
pub fn near_matches<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
    n: usize,
) -> Vec<String> {
    let limit = (name.len() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = candidates
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort();
    scored.dedup();
    scored
        .into_iter()
        .take(n)
        .map(|(_, c)| c.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_first_and_far_ones_dropped() {
        let names = [
            "m5.xlarge",
            "m5.large",
            "m6g.xlarge",
            "c5.xlarge",
            "Standard_D4s_v5",
        ];
        assert_eq!(distance("kitten", "sitting"), 3);
        let got = near_matches("m5.xlarg", names.iter().copied(), 3);
        assert_eq!(got[0], "m5.xlarge");
        assert!(!got.contains(&"Standard_D4s_v5".to_string()));
        assert!(near_matches("zzzzzz", names.iter().copied(), 3).is_empty());
    }
}
