//! fabsim: a discrete-event simulator of GPU training clusters and their fabrics.

pub mod collective;
pub mod engine;
pub mod fabric;
pub mod ids;
pub mod input;
pub mod memory;
pub mod noise;
pub mod partition;
pub mod pipeline_metrics;
pub mod plan;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schedule;
pub mod search;
pub mod sweep;
pub mod timeline;
pub mod topology;
pub mod training;
pub mod units;
pub mod workload;
