//! fabsim: a discrete-event simulator of GPU training clusters and their
//! fabrics.
//!
//! The data flows one way: **load** (`scenario`, `topology`, `workload`,
//! `noise`) → **plan** (`training` and `schedule` build a `plan::TaskGraph`;
//! `collective` algorithms unroll inside it as they run) → **simulate**
//! (`engine` over the `fabric`'s max-min flows) → **measure** (`run`,
//! `pipeline_metrics`, `memory`, `bench` for a lone collective) →
//! **export** (`report`, `timeline`). `sweep` repeats the whole for a grid.
//! No module imports one further up the flow (`tests/architecture.rs`).
//! Every public item is documented (`missing_docs` below; CI denies
//! warnings).
//!
//! # Load a scenario, simulate it, read the metrics
//!
//! ```
//! use fabsim::run::{run, RunOptions};
//! use fabsim::scenario::{Overrides, Scenario};
//! use std::path::Path;
//!
//! // MNIST MLP, data parallel on 4 hosts, a ring all-reduce per layer, no noise.
//! let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/kccb-mnist.yaml");
//! let overrides = Overrides { trials: Some(20), ..Overrides::default() };
//! let scenario = Scenario::load(&file, &overrides)?;
//! let result = run(&scenario, &RunOptions::default())?;
//!
//! let summary = &result.summary;
//! assert_eq!(summary.iteration.count, 20);
//! // Without noise every trial takes the same time.
//! assert_eq!(summary.iteration.min_s, summary.iteration.max_s);
//! // One gradient all-reduce per layer (fc1..fc4), each measured per trial.
//! assert_eq!(summary.collectives.len(), 4);
//! for c in &summary.collectives {
//!     assert!(c.latency.p50_s > 0.0 && c.latency.p50_s <= summary.iteration.p50_s);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Time one collective alone, like nccl-tests
//!
//! ```
//! use fabsim::bench::measure::measure;
//! use fabsim::collective::{Algorithm, CollectiveOp, CollectiveSpec};
//! use fabsim::ids::GpuId;
//! use std::path::Path;
//!
//! let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/kccb-4host.yaml");
//! let cluster = fabsim::topology::load(&file)?;
//! let spec = CollectiveSpec {
//!     name: "ar".into(),
//!     op: CollectiveOp::AllReduce,
//!     algorithm: Algorithm::Ring,
//!     ranks: (0..4).map(GpuId).collect(),
//!     bytes: 64 << 20,
//!     chunks: 1,
//! };
//! let m = measure(&cluster, &spec)?;
//! // nccl-tests' bus bandwidth: algbw × 2(n−1)/n, below the 100 Gbps NIC.
//! assert!(m.busbw_gbps > 10.0 && m.busbw_gbps < 12.5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod bench;
pub mod collective;
pub mod engine;
pub mod exit;
pub mod fabric;
pub mod ids;
pub mod input;
pub mod memory;
pub mod noise;
pub mod output;
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
pub mod validation;
pub mod workload;
