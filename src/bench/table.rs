//! Printing `fabsim collective` results: an nccl-tests style table, CSV, or
//! one JSON object per size, and the busiest links.

use super::measure::Measurement;
use crate::fabric::LinkStats;
use crate::topology::Cluster;
use std::fmt::Write;

/// The nccl-tests style table (GB = 1e9 bytes).
pub fn table(cluster: &Cluster, rows: &[Measurement]) -> String {
    let mut s = String::new();
    if let Some(first) = rows.first() {
        let _ = writeln!(
            s,
            "# fabsim collective: {} ({}), {} ranks, on {} [{} GPUs]",
            first.op,
            first.algorithm,
            first.ranks,
            cluster.name,
            cluster.num_gpus()
        );
    }
    let _ = writeln!(
        s,
        "#{:>14} {:>8} {:>14} {:>12} {:>12}",
        "size(B)", "chunks", "time(us)", "algbw(GB/s)", "busbw(GB/s)"
    );
    for m in rows {
        let _ = writeln!(
            s,
            "{:>15} {:>8} {:>14.2} {:>12.3} {:>12.3}",
            m.bytes,
            m.chunks,
            m.time_s * 1e6,
            m.algbw_gbps,
            m.busbw_gbps
        );
    }
    s
}

/// CSV with a header row. Writing into memory fails only if the CSV writer
/// itself does.
pub fn csv(rows: &[Measurement]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "op",
        "algorithm",
        "ranks",
        "bytes",
        "chunks",
        "time_s",
        "algbw_GBps",
        "busbw_GBps",
    ])?;
    for m in rows {
        w.write_record([
            m.op.to_string(),
            m.algorithm.to_string(),
            m.ranks.to_string(),
            m.bytes.to_string(),
            m.chunks.to_string(),
            format!("{:e}", m.time_s),
            m.algbw_gbps.to_string(),
            m.busbw_gbps.to_string(),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The `top` links that carried the most bytes, busiest first.
pub fn busiest_links(
    cluster: &Cluster,
    links: &[LinkStats],
    makespan_s: f64,
    top: usize,
) -> String {
    let mut order: Vec<usize> = (0..links.len()).filter(|&i| links[i].bytes > 0.0).collect();
    order.sort_by(|&a, &b| links[b].bytes.total_cmp(&links[a].bytes).then(a.cmp(&b)));
    let mut s = String::new();
    let _ = writeln!(s, "# busiest links");
    let _ = writeln!(
        s,
        "#{:>29} {:>16} {:>8} {:>10}",
        "link", "bytes", "busy%", "peak_flows"
    );
    for &i in order.iter().take(top) {
        let l = &links[i];
        let busy = if makespan_s > 0.0 {
            100.0 * l.busy.as_secs_f64() / makespan_s
        } else {
            0.0
        };
        let _ = writeln!(
            s,
            "{:>30} {:>16.0} {:>8.1} {:>10}",
            cluster.link_name(crate::ids::LinkId::from_index(i)),
            l.bytes,
            busy,
            l.peak_flows
        );
    }
    s
}
