//! The Pareto front of monthly cost against SLA-violation minutes.

/// Indexes of the non-dominated points of (index, cost, sla_minutes), cheapest first. A point
/// is dominated when another costs no more and violates no more, and is better in one; of
/// exact ties the first index stays.
pub fn front(points: &[(usize, f64, f64)]) -> Vec<usize> {
    let mut p: Vec<&(usize, f64, f64)> = points.iter().collect();
    p.sort_by(|a, b| {
        a.1.total_cmp(&b.1)
            .then(a.2.total_cmp(&b.2))
            .then(a.0.cmp(&b.0))
    });
    let mut best_sla = f64::INFINITY;
    let mut out = Vec::new();
    for &&(i, _, sla) in &p {
        if sla < best_sla {
            best_sla = sla;
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_non_dominated_points_cheapest_first() {
        // (cost, sla): a(10, 50) b(20, 10) c(15, 60: dominated by a) d(30, 10: by b) e(40, 0).
        let pts = [
            (0, 10.0, 50.0),
            (1, 20.0, 10.0),
            (2, 15.0, 60.0),
            (3, 30.0, 10.0),
            (4, 40.0, 0.0),
        ];
        assert_eq!(front(&pts), vec![0, 1, 4]);
    }

    #[test]
    fn exact_ties_keep_one() {
        assert_eq!(front(&[(3, 5.0, 1.0), (1, 5.0, 1.0)]), vec![1]);
        assert!(front(&[]).is_empty());
    }
}
