//! Asynchronous PipeDream (Narayanan et al. SOSP 2019) with weight stashing:
//! N minibatches flow through the pipeline in 1F1B order with no flush, and
//! every stage updates its weights after each backward. Each "microbatch"
//! of the [`Shape`] is a whole minibatch (training.rs does not scale op
//! times by 1/N for this schedule).
//!
//! Stage s (0-based) keeps p−s weight versions (one per minibatch in
//! flight). Uniform stages, no communication: makespan (N+p−1)(F+B).

use super::{Shape, one_f_one_b};

/// The op order is 1F1B's: warm-up p−s−1 forwards, then one forward and one
/// backward in turn. What differs is the update rule, not the order.
pub fn order(shape: Shape) -> Vec<Vec<super::Op>> {
    one_f_one_b::order(shape)
}
