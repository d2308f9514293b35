//! The scenario file's schema, as written: its sections, their defaults
//! and the YAML spans errors point at. Checking the values and building a
//! [`super::Scenario`] from them is the parent module's job.

use crate::collective::Algorithm;
use crate::noise::NoiseSpec;
use crate::partition::PartitionSpec;
use crate::schedule::Schedule;
use crate::training::{P2p, Placement};
use crate::units::ByteSize;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::PathBuf;

/// A scenario file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Defaults to the file name without extension.
    pub name: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The topology file, relative to this file.
    pub topology: Spanned<PathBuf>,
    /// The workload file, relative to this file.
    pub workload: Spanned<PathBuf>,
    /// Degrees of parallelism (`data: auto`: see `conveniences`).
    pub parallelism: Option<Spanned<super::conveniences::ParallelismYaml>>,
    /// Samples per step over all replicas (a replica's batch: ÷ data).
    pub global_batch: Option<Spanned<u32>>,
    /// How ranks map onto GPUs.
    #[serde(default)]
    pub placement: Placement,
    /// `pipeline:` — schedule, microbatches and partition.
    #[serde(default)]
    pub pipeline: PipelineSection,
    /// `collective:` — the data-parallel gradient collective.
    #[serde(default)]
    pub collective: CollectiveSection,
    /// `trials:` — how many iterations to simulate.
    #[serde(default)]
    pub trials: TrialsSection,
    /// The random seed the trials derive from.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// `noise:` — compute noise, link jitter and background traffic.
    #[serde(default)]
    pub noise: NoiseSpec,
    /// One compute efficiency for analytical workloads instead of the
    /// shape-aware kernel model (overrides the workload's; alias `mfu`).
    #[serde(alias = "mfu")]
    pub compute_efficiency: Option<Spanned<f64>>,
    /// Activation recompute: none (default), selective or full.
    #[serde(default)]
    pub recompute: Option<Spanned<crate::workload::Recompute>>,
    /// How to turn the topology's prices into a cost per hour.
    #[serde(default)]
    pub cost: CostSection,
    /// Simulate even when the memory estimate exceeds the GPU's memory.
    #[serde(default)]
    pub allow_oversubscribed_memory: bool,
}

/// `cost:` — the cluster's hourly cost is capex / (`amortization_years` ×
/// 8766 h) + `power_per_gpu_hour` × GPUs (both from the topology's prices).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostSection {
    /// Years over which capex is spread (default 4).
    #[serde(default = "default_amortization")]
    pub amortization_years: Spanned<f64>,
}

fn default_amortization() -> Spanned<f64> {
    spanned(4.0)
}

impl Default for CostSection {
    fn default() -> Self {
        CostSection {
            amortization_years: default_amortization(),
        }
    }
}

fn default_seed() -> u64 {
    1
}

/// `pipeline:` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSection {
    /// Microbatches per iteration (default 1).
    #[serde(default = "one_spanned")]
    pub microbatches: Spanned<u32>,
    /// The schedule (default `1f1b`).
    #[serde(default = "default_schedule")]
    pub schedule: Spanned<Schedule>,
    /// How layers split into stages (default: balanced).
    #[serde(default = "default_partition")]
    pub partition: Spanned<PartitionSpec>,
    /// Model chunks per GPU, for the interleaved schedule.
    #[serde(default = "one_spanned")]
    pub virtual_stages: Spanned<u32>,
    /// Whether pipeline transfers block the compute stream (default
    /// `async`; `blocking` is Megatron-LM 2021, 1f1b and interleaved only).
    #[serde(default = "default_p2p")]
    pub p2p: Spanned<P2p>,
}

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned {
        value,
        referenced: serde_saphyr::Location::UNKNOWN,
        defined: serde_saphyr::Location::UNKNOWN,
    }
}
fn zero_spanned() -> Spanned<u8> {
    spanned(0)
}
fn one_spanned() -> Spanned<u32> {
    spanned(1)
}
fn default_schedule() -> Spanned<Schedule> {
    spanned(Schedule::OneFOneB)
}
fn default_p2p() -> Spanned<P2p> {
    spanned(P2p::Async)
}
fn default_partition() -> Spanned<PartitionSpec> {
    spanned(PartitionSpec::default())
}

impl Default for PipelineSection {
    fn default() -> Self {
        PipelineSection {
            microbatches: one_spanned(),
            schedule: default_schedule(),
            partition: default_partition(),
            virtual_stages: one_spanned(),
            p2p: default_p2p(),
        }
    }
}

/// The data-parallel gradient collective.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectiveSection {
    /// The all-reduce algorithm (default `ring`).
    #[serde(default = "default_algorithm")]
    pub algorithm: Algorithm,
    /// Pieces each bucket's buffer is cut into (default 1).
    #[serde(default = "default_one")]
    pub chunks: u32,
    /// All-reduce each layer's (bucket's) gradients as soon as its backward
    /// is done, overlapping the rest of the backward.
    #[serde(default = "default_true")]
    pub overlap: bool,
    /// Gradient bucket size (PyTorch DDP's default is 25MiB); absent: one
    /// bucket per layer.
    pub bucket_bytes: Option<ByteSize>,
    /// Algorithm of tensor-parallel all-reduces.
    #[serde(default = "default_algorithm")]
    pub tensor_algorithm: Algorithm,
    /// Overlap tensor-parallel communication with the op's compute
    /// (Megatron-Core's TP comm overlap); default off.
    #[serde(default)]
    pub tensor_overlap: bool,
    /// ZeRO stage: 0 (off) or 1 (optimizer state sharded over the
    /// data-parallel replicas; gradients reduce-scattered, parameters
    /// all-gathered).
    #[serde(default = "zero_spanned")]
    pub zero: Spanned<u8>,
}

fn default_algorithm() -> Algorithm {
    Algorithm::Nccl
}
fn default_one() -> u32 {
    1
}
fn default_true() -> bool {
    true
}

impl Default for CollectiveSection {
    fn default() -> Self {
        CollectiveSection {
            algorithm: default_algorithm(),
            chunks: 1,
            overlap: true,
            bucket_bytes: None,
            tensor_algorithm: default_algorithm(),
            tensor_overlap: false,
            zero: spanned(0),
        }
    }
}

/// How many trials (training iterations) to simulate.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialsSection {
    /// ceil(samples_per_epoch / batch_size) iterations per epoch.
    pub epochs: Option<Spanned<u64>>,
    /// An explicit number of trials (wins over `epochs`).
    pub count: Option<Spanned<u64>>,
}
