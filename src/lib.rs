//! fabsim: a discrete-event simulator of GPU training clusters and their fabrics.

pub mod ids;
pub mod input;
pub mod topology;
pub mod units;
pub mod workload;
