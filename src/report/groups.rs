//! Which collectives a plot shows, so that plots stay readable with a
//! hundred collectives: series are grouped by what they carry (gradient
//! buckets, tensor-parallel activations), and within a group only the `k`
//! slowest by p99 get a colour; the rest are summarised.
//!
//! It decides nothing about drawing; `cdf.svg` and the HTML report both
//! use it so they show the same series.

/// What a collective carries, read from its name: the planner names
/// tensor-parallel collectives `tensor F …`/`tensor B …`
/// (`training::tensor`); every other collective in the report is a
/// gradient bucket's all-reduce (or reduce-scatter / all-gather under
/// ZeRO).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Gradient,
    Tensor,
}

impl Group {
    pub fn of(name: &str) -> Group {
        if name.starts_with("tensor ") {
            Group::Tensor
        } else {
            Group::Gradient
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Group::Gradient => "gradient buckets (data parallel)",
            Group::Tensor => "tensor-parallel collectives",
        }
    }
}

/// Series per group (in group order, groups without series left out),
/// each as indices into the input in input order.
pub fn by_group(names: &[&str]) -> Vec<(Group, Vec<usize>)> {
    let mut groups: Vec<(Group, Vec<usize>)> = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let g = Group::of(n);
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
    fn groups_by_name_and_keeps_order() {
        let names = ["block1", "tensor F all-reduce", "embedding", "tensor B"];
        assert_eq!(
            by_group(&names),
            vec![(Group::Gradient, vec![0, 2]), (Group::Tensor, vec![1, 3])]
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
