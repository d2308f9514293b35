//! Partitions: errors, serde forms, and the balanced partitioner against
//! the uniform split and a brute-force optimum (proptest).

use super::*;
use proptest::prelude::*;

fn layers(times: &[(u64, u64)]) -> Vec<Layer> {
    times
        .iter()
        .enumerate()
        .map(|(i, &(f, b))| Layer {
            name: format!("l{i}"),
            forward: SimTime::from_us(f),
            backward: SimTime::from_us(b),
            backward_weight: SimTime::ZERO,
            activation_bytes: 0,
            grad_bytes: 0,
            param_bytes: 0,
            stash_bytes: 0,
            tensor_allreduce_bytes: 0,
            tensor_allreduces: 0,
            tensor_allreduces_backward: 0,
            flops_forward: 0.0,
            backward_working_bytes: 0,
            optimizer_step: crate::units::SimTime::ZERO,
        })
        .collect()
}

fn no_cut(_: usize) -> SimTime {
    SimTime::ZERO
}

fn slowest(l: &[Layer], counts: &[usize], cut: &dyn Fn(usize) -> SimTime) -> SimTime {
    stage_costs(l, counts, cut).into_iter().max().unwrap()
}

/// Every composition of n into k positive parts.
fn compositions(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k == 1 {
        return vec![vec![n]];
    }
    (1..=n.saturating_sub(k - 1))
        .flat_map(|first| {
            compositions(n - first, k - 1)
                .into_iter()
                .map(move |mut rest| {
                    rest.insert(0, first);
                    rest
                })
        })
        .collect()
}

#[test]
fn uniform_gives_the_remainder_to_the_first_stages() {
    let l = layers(&[(1, 1); 10]);
    let got = partition(&PartitionSpec::Uniform, &l, 4, &no_cut).unwrap();
    assert_eq!(got, vec![3, 3, 2, 2]);
}

#[test]
fn errors_say_what_is_wrong() {
    let l = layers(&[(1, 1); 4]);
    let p = |spec: PartitionSpec, parts| partition(&spec, &l, parts, &no_cut);
    assert_eq!(
        p(PartitionSpec::Uniform, 5),
        Err(PartitionError::TooManyParts {
            parts: 5,
            layers: 4
        })
    );
    assert_eq!(p(PartitionSpec::Balanced, 0), Err(PartitionError::NoParts));
    let e = p(PartitionSpec::Explicit(vec![2, 3]), 2).unwrap_err();
    assert_eq!(e, PartitionError::WrongSum { sum: 5, layers: 4 });
    assert!(e.to_string().contains("sum to 5") && e.to_string().contains("has 4"));
    assert_eq!(
        p(PartitionSpec::Explicit(vec![4, 0]), 2),
        Err(PartitionError::EmptyStage { index: 1 })
    );
    assert_eq!(
        p(PartitionSpec::Explicit(vec![1, 1, 2]), 2),
        Err(PartitionError::WrongLength { len: 3, parts: 2 })
    );
    assert_eq!(p(PartitionSpec::Explicit(vec![1, 3]), 2), Ok(vec![1, 3]));
}

#[test]
fn serde_forms() {
    let u: PartitionSpec = serde_json::from_str("\"uniform\"").unwrap();
    let b: PartitionSpec = serde_json::from_str("\"balanced\"").unwrap();
    let e: PartitionSpec = serde_json::from_str("[4, 3, 3, 4]").unwrap();
    assert_eq!(u, PartitionSpec::Uniform);
    assert_eq!(b, PartitionSpec::Balanced);
    assert_eq!(e, PartitionSpec::Explicit(vec![4, 3, 3, 4]));
    assert_eq!(serde_json::to_string(&e).unwrap(), "[4,3,3,4]");
    let err = serde_json::from_str::<PartitionSpec>("\"even\"").unwrap_err();
    assert!(
        err.to_string().contains("unknown partition 'even'"),
        "{err}"
    );
    let y: PartitionSpec = serde_saphyr::from_str("[2, 2]").unwrap();
    assert_eq!(y, PartitionSpec::Explicit(vec![2, 2]));
    let y: PartitionSpec = serde_saphyr::from_str("balanced").unwrap();
    assert_eq!(y, PartitionSpec::Balanced);
}

#[test]
fn balanced_moves_layers_away_from_a_heavy_layer_and_a_costly_cut() {
    // One heavy layer first: it gets a stage to itself.
    let l = layers(&[(30, 60), (5, 10), (5, 10), (5, 10), (5, 10), (5, 10)]);
    let got = partition(&PartitionSpec::Balanced, &l, 2, &no_cut).unwrap();
    assert_eq!(got, vec![1, 5]);
    // Uniform layers, but cutting after layer 1 is very expensive.
    let l = layers(&[(1, 1); 4]);
    let cut = |i: usize| SimTime::from_us(if i == 1 { 100 } else { 0 });
    let got = partition(&PartitionSpec::Balanced, &l, 2, &cut).unwrap();
    assert_ne!(got, vec![2, 2]);
}

proptest! {
    #[test]
    fn balanced_is_never_worse_than_uniform(
        times in prop::collection::vec((0u64..50, 0u64..100), 1..40),
        parts in 1usize..10,
        cuts in prop::collection::vec(0u64..40, 40),
    ) {
        let l = layers(&times);
        prop_assume!(parts <= l.len());
        let cut = |i: usize| SimTime::from_us(cuts[i]);
        let b = partition(&PartitionSpec::Balanced, &l, parts, &cut).unwrap();
        let u = partition(&PartitionSpec::Uniform, &l, parts, &cut).unwrap();
        prop_assert_eq!(b.len(), parts);
        prop_assert_eq!(b.iter().sum::<usize>(), l.len());
        prop_assert!(b.iter().all(|&c| c > 0));
        prop_assert!(slowest(&l, &b, &cut) <= slowest(&l, &u, &cut));
    }

    #[test]
    fn balanced_equals_the_brute_force_optimum(
        times in prop::collection::vec((0u64..50, 0u64..100), 1..=8),
        parts in 1usize..=8,
        cuts in prop::collection::vec(0u64..40, 8),
    ) {
        let l = layers(&times);
        prop_assume!(parts <= l.len());
        let cut = |i: usize| SimTime::from_us(cuts[i]);
        let b = partition(&PartitionSpec::Balanced, &l, parts, &cut).unwrap();
        let best = compositions(l.len(), parts)
            .iter()
            .map(|c| slowest(&l, c, &cut))
            .min()
            .unwrap();
        prop_assert_eq!(slowest(&l, &b, &cut), best);
    }
}
