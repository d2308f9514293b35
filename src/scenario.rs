//! Scenario files: what to run — a topology, a workload, parallelism, a
//! pipeline schedule, the gradient collective, trials, a seed and noise —
//! loaded, overridden with `--set path=value`, and validated into a
//! [`Scenario`] that can build its training job.
//!
//! Paths in a scenario are relative to the scenario file. Every error names
//! the file, the YAML path and the line (or the `--set` that caused it).
//! Running trials is `run.rs`'s job, not this module's.

use crate::collective::Algorithm;
use crate::input::{InputError, Source};
use crate::noise::NoiseModel;
use crate::partition;
use crate::schedule::Schedule;
use crate::topology::Cluster;
use crate::training::{DataParallel, Parallelism, Placement, TrainingJob};
use crate::units::SimTime;
use crate::workload::Workload;
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};

/// A loaded, validated scenario.
#[derive(Debug)]
pub struct Scenario {
    /// The scenario's name (default: the file name without extension).
    pub name: String,
    /// Free text from the scenario file.
    pub description: String,
    /// The scenario file.
    pub file: PathBuf,
    /// The topology file, resolved against the scenario's folder.
    pub topology_file: PathBuf,
    /// The workload file, resolved against the scenario's folder.
    pub workload_file: PathBuf,
    /// The cluster it runs on.
    pub cluster: Cluster,
    /// The model being trained.
    pub workload: Workload,
    /// Degrees of parallelism.
    pub parallelism: Parallelism,
    /// How ranks map onto GPUs.
    pub placement: Placement,
    /// The pipeline schedule.
    pub schedule: Schedule,
    /// Microbatches per iteration.
    pub microbatches: u32,
    /// Virtual stages (model chunks) per GPU; 1 unless interleaved.
    pub virtual_stages: u32,
    /// Layers per virtual stage, in order.
    pub partition: Vec<usize>,
    /// Gradient synchronisation across replicas.
    pub data_parallel: DataParallel,
    /// The tensor-parallel collectives' algorithm.
    pub tensor_algorithm: Algorithm,
    /// Whether tensor-parallel communication overlaps the op's compute rather than following it.
    pub tensor_overlap: bool,
    /// Whether pipeline transfers block the compute stream.
    pub p2p: crate::training::P2p,
    /// Iterations to simulate.
    pub trials: u64,
    /// The random seed the trials derive from.
    pub seed: u64,
    /// Compute noise, link jitter and background traffic.
    pub noise: NoiseModel,
    /// Years over which capex is spread in the cost per hour.
    pub amortization_years: f64,
    /// Simulate even if the memory estimate does not fit.
    pub allow_oversubscribed_memory: bool,
    /// The training iteration, built once at load (validating its
    /// collectives needs it) and shared by every trial of the run.
    plan: crate::training::TrainingPlan,
}

/// Runtime overrides from the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `path=value` pairs, applied in order.
    pub set: Vec<String>,
    /// `--trials`: replaces the scenario's trial count.
    pub trials: Option<u64>,
    /// `--seed`: replaces the scenario's seed.
    pub seed: Option<u64>,
}

impl Scenario {
    /// Loads `file`, applies `overrides`, loads the topology and workload it
    /// names, and validates everything.
    pub fn load(file: &Path, overrides: &Overrides) -> Result<Scenario, crate::input::LoadError> {
        let src = Source::read(file)?;
        let split = overrides::split(&overrides.set);
        let spec: ScenarioFile = if split.scenario.is_empty() {
            src.parse()?
        } else {
            // Parse first so errors in the file itself keep their lines.
            src.parse::<ScenarioFile>()?;
            overrides::apply_overrides(&src, &split.scenario)?
        };
        Ok(Self::from_spec(&src, spec, overrides, &split)?)
    }

    fn from_spec(
        src: &Source,
        spec: ScenarioFile,
        overrides: &Overrides,
        split: &overrides::Split,
    ) -> Result<Scenario, InputError> {
        let (topology_file, workload_file) = input_files(src, &spec)?;
        let cluster = overrides::load_topology(&topology_file, &split.topology)?;
        let parallelism = conveniences::parallelism(src, &spec, &cluster, &topology_file)?;
        let workload_set =
            conveniences::workload_overrides(src, &spec, parallelism, &split.workload)?;
        let options = model_options::options(src, &spec, parallelism)?;
        let workload =
            overrides::load_workload(&workload_file, &workload_set, &cluster.gpu, &options)?;
        conveniences::trace_batch_matches(src, &spec, parallelism, &workload, || {
            overrides::load_workload(&workload_file, &split.workload, &cluster.gpu, &options)
        })?;
        let pipe = &spec.pipeline;
        if pipe.microbatches.value == 0 {
            return Err(src
                .error_at(&pipe.microbatches, "microbatches must be at least 1")
                .with_path("pipeline.microbatches"));
        }
        let v = pipe.virtual_stages.value;
        if v == 0 {
            return Err(src
                .error_at(&pipe.virtual_stages, "virtual_stages must be at least 1")
                .with_path("pipeline.virtual_stages"));
        }
        check_p2p(src, pipe)?;
        let parts = (parallelism.pipeline * v) as usize;
        let m = pipe.microbatches.value;
        let partition = {
            let cut = cut_time(&cluster, &workload, parallelism, spec.placement, m);
            partition::partition(&pipe.partition.value, &workload.layers, parts, &cut).map_err(
                |e| {
                    src.error_at(&pipe.partition, e.to_string())
                        .with_path("pipeline.partition")
                },
            )?
        };
        let trials = trials(src, &spec, overrides, &workload)?;
        bounds::check(src, &spec, &workload, trials)?;
        let noise = spec.noise.check(src)?;
        let zero = &spec.collective.zero;
        if zero.value > 1 {
            return Err(src
                .error_at(zero, format!("zero must be 0 or 1, not {}", zero.value))
                .with_path("collective.zero"));
        }
        let name = spec.name.clone().unwrap_or_else(|| {
            src.file.file_stem().map_or_else(
                || "scenario".to_string(),
                |s| s.to_string_lossy().into_owned(),
            )
        });
        let mut scenario = Scenario {
            name,
            description: spec.description.clone(),
            file: src.file.clone(),
            topology_file,
            workload_file,
            cluster,
            workload,
            parallelism,
            placement: spec.placement,
            schedule: pipe.schedule.value,
            microbatches: pipe.microbatches.value,
            virtual_stages: v,
            partition,
            data_parallel: DataParallel {
                algorithm: spec.collective.algorithm,
                chunks: spec.collective.chunks.max(1),
                overlap: spec.collective.overlap,
                bucket_bytes: spec.collective.bucket_bytes.map(|b| b.0),
                zero: spec.collective.zero.value,
            },
            tensor_algorithm: spec.collective.tensor_algorithm,
            tensor_overlap: spec.collective.tensor_overlap,
            p2p: pipe.p2p.value,
            trials,
            seed: overrides.seed.unwrap_or(spec.seed),
            noise,
            amortization_years: spec.cost.amortization_years.value,
            allow_oversubscribed_memory: spec.allow_oversubscribed_memory,
            plan: crate::training::TrainingPlan::default(),
        };
        scenario.job().check().map_err(|e| {
            src.error_at(&spec.pipeline.schedule, e.to_string())
                .with_path("pipeline")
        })?;
        scenario.plan = scenario
            .job()
            .build_on(&scenario.cluster, scenario.noise.is_quiet());
        scenario.check_collectives(src)?;
        Ok(scenario)
    }

    /// The training job this scenario describes.
    pub fn job(&self) -> TrainingJob<'_> {
        TrainingJob {
            workload: &self.workload,
            parallelism: self.parallelism,
            placement: self.placement,
            schedule: self.schedule,
            microbatches: self.microbatches,
            virtual_stages: self.virtual_stages,
            partition: self.partition.clone(),
            data_parallel: self.data_parallel.clone(),
            tensor_algorithm: self.tensor_algorithm,
            tensor_overlap: self.tensor_overlap,
            p2p: self.p2p,
        }
    }

    /// The training iteration's plan (built once, at load).
    pub fn plan(&self) -> &crate::training::TrainingPlan {
        &self.plan
    }

    /// Minibatches one replica trains per iteration: one, or m when each of
    /// the m "microbatches" is a whole minibatch (PipeDream). A search's
    /// step is one of them.
    pub fn minibatches_per_replica(&self) -> u32 {
        if self.schedule.microbatch_is_minibatch() {
            self.microbatches
        } else {
            1
        }
    }

    /// Minibatches one iteration trains over all replicas, so throughput,
    /// model FLOPs and cost per token count all of them.
    pub fn minibatches_per_iteration(&self) -> f64 {
        f64::from(self.minibatches_per_replica()) * f64::from(self.parallelism.data)
    }

    /// The same scenario with every replica expanded, even where folding
    /// them is exact (to test folding against).
    pub fn unfolded(mut self) -> Self {
        self.plan = self.job().build();
        self
    }

    /// Every collective of the plan must be runnable (e.g. halving-doubling
    /// needs 2^k ranks): reported against `collective.algorithm`.
    fn check_collectives(&self, src: &Source) -> Result<(), InputError> {
        for spec in self.plan.graph.collectives() {
            crate::collective::validate(spec, &self.cluster).map_err(|e| {
                src.error(format!("collective '{}': {e}", spec.name))
                    .with_path("collective.algorithm")
            })?;
        }
        Ok(())
    }
}

/// The topology and workload files the scenario names, relative to it;
/// each must exist.
fn input_files(src: &Source, spec: &ScenarioFile) -> Result<(PathBuf, PathBuf), InputError> {
    let dir = src.file.parent().unwrap_or(Path::new("."));
    let topology_file = dir.join(&spec.topology.value);
    let workload_file = dir.join(&spec.workload.value);
    let missing = |s: &Spanned<PathBuf>, what: &str, path: &Path| {
        src.error_at(
            s,
            format!("the {what} file {} does not exist", path.display()),
        )
        .with_path(what)
    };
    if !topology_file.is_file() {
        return Err(missing(&spec.topology, "topology", &topology_file));
    }
    if !workload_file.is_file() {
        return Err(missing(&spec.workload, "workload", &workload_file));
    }
    Ok((topology_file, workload_file))
}

/// Trials: `--trials`, else `trials.count`, else whole epochs, else 1;
/// never 0.
fn trials(
    src: &Source,
    spec: &ScenarioFile,
    overrides: &Overrides,
    workload: &Workload,
) -> Result<u64, InputError> {
    let trials = match (overrides.trials, &spec.trials.count, &spec.trials.epochs) {
        (Some(n), _, _) => n,
        (None, Some(c), _) => c.value,
        (None, None, Some(e)) => workload.trials_for_epochs(e.value),
        (None, None, None) => 1,
    };
    if trials == 0 {
        let msg = "the scenario must run at least one trial";
        return Err(match (&spec.trials.count, &spec.trials.epochs) {
            (Some(c), _) => src.error_at(c, msg),
            (_, Some(e)) => src.error_at(e, msg),
            _ => src.error(msg),
        });
    }
    Ok(trials)
}

/// The time to send layer i's activation (one microbatch's share) between
/// the first two pipeline stages, on the GPUs `placement` puts them: what
/// the balanced partitioner charges a cut after layer i. Zero without a
/// pipeline.
fn cut_time<'a>(
    cluster: &'a Cluster,
    workload: &'a Workload,
    par: Parallelism,
    placement: Placement,
    m: u32,
) -> impl Fn(usize) -> SimTime + 'a {
    let route = (par.pipeline > 1).then(|| {
        let (a, b) = (placement.gpu(par, 0, 0, 0), placement.gpu(par, 0, 1, 0));
        cluster.route(a, b, 0)
    });
    let divisor = u64::from(m.max(1)) * u64::from(par.tensor.max(1));
    move |i| match &route {
        None => SimTime::ZERO,
        Some(r) => {
            let bw = r
                .links
                .iter()
                .map(|&l| cluster.link(l).bandwidth)
                .min_by(|x, y| x.bytes_per_sec().total_cmp(&y.bytes_per_sec()));
            let bytes = workload.layers[i].activation_bytes / divisor;
            r.overhead + r.latency + bw.map_or(SimTime::ZERO, |b| b.transfer_time(bytes))
        }
    }
}

pub mod bounds;
pub mod conveniences;
mod file;
mod model_options;
mod overrides;
pub mod show;
pub use file::{CollectiveSection, CostSection, PipelineSection, ScenarioFile, TrialsSection};
pub use overrides::{get_path, set_path};

#[cfg(test)]
mod tests;

/// `pipeline.p2p: blocking` follows Megatron-LM's own schedules only.
fn check_p2p(src: &Source, pipe: &file::PipelineSection) -> Result<(), InputError> {
    if pipe.p2p.value.supports(pipe.schedule.value) {
        return Ok(());
    }
    Err(src
        .error_at(
            &pipe.p2p,
            format!(
                "p2p: blocking follows Megatron-LM's own schedules, 1f1b and interleaved, \
                 not '{}': choose one of those or p2p: async",
                pipe.schedule.value
            ),
        )
        .with_path("pipeline.p2p"))
}
