//! Which collectives a plot shows, so that plots stay readable with a
//! hundred collectives: series are grouped by what they carry (gradient
//! buckets, tensor-parallel activations, the tied embedding), and within a group only the `k`
//! slowest by p99 get a colour; the rest are summarised.
//!
//! It decides nothing about drawing; `cdf.svg` and the HTML report both
//! use it so they show the same series.

/// What a collective carries: its `kind` (`summary.json`, `cdf.csv`'s
/// `kind` column, the timeline's collective `args.kind`; see
/// [`super::CollectiveKind`]). Folders written before kinds existed have
/// none: their collectives are `Other`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Gradient,
    Tensor,
    Embedding,
    Other,
}

impl Group {
    /// The group of a `kind` word.
    pub fn of_kind(word: &str) -> Group {
        match word {
            "gradient" => Group::Gradient,
            "tensor" => Group::Tensor,
            "embedding" => Group::Embedding,
            _ => Group::Other,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Group::Gradient => "gradient buckets (data parallel)",
            Group::Tensor => "tensor-parallel collectives",
            Group::Embedding => "tied-embedding all-reduce (first and last stage)",
            Group::Other => "collectives",
        }
    }
}

/// Series per group (in group order, groups without series left out),
/// each as indices into `kinds` (one `kind` word per series) in input
/// order.
pub fn by_group(kinds: &[&str]) -> Vec<(Group, Vec<usize>)> {
    let mut groups: Vec<(Group, Vec<usize>)> = Vec::new();
    for (i, k) in kinds.iter().enumerate() {
        let g = Group::of_kind(k);
        match groups.iter_mut().find(|(h, _)| *h == g) {
            Some((_, v)) => v.push(i),
            None => groups.push((g, vec![i])),
        }
    }
    groups.sort_by_key(|(g, _)| *g);
    groups
}

/// Splits `members` (indices into `p99`) into the `k` slowest by p99
/// (slowest first, ties in input order) and the rest (input order).
pub fn top_k(members: &[usize], p99: &[f64], k: usize) -> (Vec<usize>, Vec<usize>) {
    let mut order = members.to_vec();
    order.sort_by(|&a, &b| p99[b].total_cmp(&p99[a]).then(a.cmp(&b)));
    order.truncate(k);
    let rest = members
        .iter()
        .copied()
        .filter(|i| !order.contains(i))
        .collect();
    (order, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_kind_and_keeps_order() {
        let kinds = ["gradient", "tensor", "embedding", "tensor", "gradient", ""];
        assert_eq!(
            by_group(&kinds),
            vec![
                (Group::Gradient, vec![0, 4]),
                (Group::Tensor, vec![1, 3]),
                (Group::Embedding, vec![2]),
                (Group::Other, vec![5]),
            ]
        );
    }

    #[test]
    fn top_k_takes_the_slowest() {
        let p99 = [1.0, 5.0, 3.0, 5.0, 0.5];
        let (top, rest) = top_k(&[0, 1, 2, 3, 4], &p99, 3);
        assert_eq!(top, vec![1, 3, 2]);
        assert_eq!(rest, vec![0, 4]);
        let (all, none) = top_k(&[0, 4], &p99, 8);
        assert_eq!((all, none), (vec![0, 4], vec![]));
    }
}
