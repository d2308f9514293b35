//! `fabsim collective`: time one collective on a topology, like nccl-tests
//! (one size or a size sweep), and print a table, CSV or JSON lines. The
//! measuring itself is the library's `bench` module; this file parses and
//! checks the flags.

use anyhow::Context;
use clap::Args;
use fabsim::bench::{measure, table};
use fabsim::collective::{Algorithm, CollectiveOp, CollectiveSpec};
use fabsim::ids::GpuId;
use fabsim::input::ArgError;
use fabsim::output::print as out;
use fabsim::units::parse_bytes;
use std::path::PathBuf;

#[derive(Args)]
pub struct CollectiveArgs {
    /// Topology file.
    #[arg(long)]
    topology: PathBuf,
    #[arg(long, value_enum, default_value = "all-reduce")]
    op: CollectiveOp,
    #[arg(long, value_enum, default_value = "nccl")]
    algorithm: Algorithm,
    /// Buffer size per rank (nccl-tests convention), e.g. 64MiB or 1048576.
    #[arg(long, conflicts_with_all = ["min_bytes", "max_bytes"])]
    bytes: Option<String>,
    /// Smallest size of a sweep.
    #[arg(long, requires = "max_bytes")]
    min_bytes: Option<String>,
    /// Largest size of a sweep.
    #[arg(long, requires = "min_bytes")]
    max_bytes: Option<String>,
    /// Multiply the size by this factor between sweep steps.
    #[arg(long, default_value_t = 2)]
    factor: u64,
    /// Comma-separated global GPU indices, in ring order (default: all GPUs).
    #[arg(long, conflicts_with = "gpus")]
    ranks: Option<String>,
    /// Use the first N GPUs.
    #[arg(long)]
    gpus: Option<usize>,
    /// Cut the buffer into this many pipelined chunks (nccl algorithms:
    /// channels per NIC).
    #[arg(long, default_value_t = 1)]
    chunks: u32,
    /// One JSON object per size, one per line.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV with a header row.
    #[arg(long)]
    csv: bool,
    /// Also list the N busiest links (of the largest size).
    #[arg(long, value_name = "N")]
    links: Option<usize>,
}

pub fn collective(args: &CollectiveArgs) -> anyhow::Result<()> {
    let cluster = fabsim::topology::load(&args.topology)?;
    let size = |flag: &str, v: &str| parse_bytes(v).map_err(|e| ArgError::new(flag, e.to_string()));
    let sizes = match (&args.bytes, &args.min_bytes, &args.max_bytes) {
        (Some(b), _, _) => vec![size("--bytes", b)?],
        (None, Some(lo), Some(hi)) => {
            let (lo, hi) = (size("--min-bytes", lo)?, size("--max-bytes", hi)?);
            if lo == 0 {
                return Err(ArgError::new(
                    "--min-bytes",
                    "must be at least 1 (a sweep multiplies it by --factor)",
                )
                .into());
            }
            if lo > hi {
                return Err(ArgError::new("--min-bytes", "must not exceed --max-bytes").into());
            }
            if args.factor < 2 {
                return Err(ArgError::new("--factor", "must be at least 2").into());
            }
            measure::size_sweep(lo, hi, args.factor)
        }
        _ => {
            return Err(
                ArgError::new("--bytes", "give --bytes B, or --min-bytes and --max-bytes").into(),
            );
        }
    };
    let max_chunks = fabsim::scenario::bounds::MAX_CHUNKS;
    if !(1..=max_chunks).contains(&args.chunks) {
        return Err(ArgError::new(
            "--chunks",
            format!("must be a whole number from 1 to {max_chunks}"),
        )
        .into());
    }
    let ranks = parse_ranks(args, cluster.num_gpus())?;
    let mut rows = Vec::new();
    for bytes in sizes {
        let spec = CollectiveSpec {
            name: args.op.to_string(),
            op: args.op,
            algorithm: args.algorithm,
            ranks: ranks.clone(),
            bytes,
            chunks: args.chunks,
        };
        fabsim::collective::validate(&spec, &cluster)
            .map_err(|e| ArgError::new("--algorithm", e.to_string()))?;
        rows.push(measure::measure(&cluster, &spec).context("simulating the collective")?);
    }
    if args.json {
        let mut text = String::new();
        for m in &rows {
            text += &serde_json::to_string(m)?;
            text.push('\n');
        }
        out(text)?;
    } else if args.csv {
        out(table::csv(&rows)?)?;
    } else {
        out(table::table(&cluster, &rows))?;
    }
    if let (Some(top), Some(last)) = (args.links, rows.last()) {
        out(table::busiest_links(
            &cluster,
            &last.links,
            last.time_s,
            top,
        ))?;
    }
    Ok(())
}

/// `--ranks 0,2,1,3` or `--gpus N`; default all GPUs in index order.
fn parse_ranks(args: &CollectiveArgs, n: usize) -> Result<Vec<GpuId>, ArgError> {
    if let Some(list) = &args.ranks {
        let mut ranks = Vec::new();
        for item in list.split(',') {
            let i: usize = item.trim().parse().map_err(|_| {
                ArgError::new(
                    "--ranks",
                    format!("'{item}' is not a GPU index; write e.g. --ranks 0,2,1,3"),
                )
            })?;
            if i >= n {
                return Err(ArgError::new(
                    "--ranks",
                    format!("GPU {i} does not exist: the topology has GPUs 0..{}", n - 1),
                ));
            }
            ranks.push(GpuId::from_index(i));
        }
        let mut sorted = ranks.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(ArgError::new(
                "--ranks",
                format!("GPU {} is listed twice", w[0]),
            ));
        }
        return Ok(ranks);
    }
    let count = args.gpus.unwrap_or(n);
    if count == 0 || count > n {
        return Err(ArgError::new(
            "--gpus",
            format!("must be between 1 and {n}, the topology's GPU count"),
        ));
    }
    Ok((0..count).map(GpuId::from_index).collect())
}
