//! `links.csv`: per directed link, bytes carried over all trials, the
//! fraction of simulated time it was busy, and the most flows it carried at
//! once — sorted busiest first, so the hot link is the first row.

use super::{Exporter, Report};
use crate::ids::LinkId;
use std::io::Write;

pub struct LinksCsv;

impl Exporter for LinksCsv {
    fn file_name(&self) -> String {
        "links.csv".into()
    }
    fn export(&self, report: &Report, w: &mut dyn Write) -> Result<(), super::ExportError> {
        let acc = report.links;
        let mut order: Vec<usize> = (0..acc.links.len()).collect();
        order.sort_by(|&a, &b| {
            acc.links[b]
                .bytes
                .total_cmp(&acc.links[a].bytes)
                .then(a.cmp(&b))
        });
        let mut out = csv::Writer::from_writer(w);
        out.write_record([
            "link",
            "from",
            "to",
            "kind",
            "bandwidth_Bps",
            "bytes",
            "busy_fraction",
            "peak_flows",
        ])?;
        let total = acc.time.as_secs_f64();
        for i in order {
            let id = LinkId::from_index(i);
            let link = report.cluster.link(id);
            let t = &acc.links[i];
            let busy = if total > 0.0 {
                t.busy.as_secs_f64() / total
            } else {
                0.0
            };
            out.write_record([
                report.cluster.link_name(id),
                report.cluster.node(link.from).name.clone(),
                report.cluster.node(link.to).name.clone(),
                serde_json::to_value(link.kind)?
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                link.bandwidth.bytes_per_sec().to_string(),
                format!("{:.0}", t.bytes),
                format!("{busy:.6}"),
                t.peak_flows.to_string(),
            ])?;
        }
        out.flush()?;
        Ok(())
    }
}
