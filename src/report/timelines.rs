//! `timeline.txt`, `timeline.json` (Chrome trace) and `timeline.svg`: one
//! representative trial (trial 0), drawn by [`crate::timeline`].

use super::{Exporter, Report};
use std::io::Write;

/// Which timeline format.
#[derive(Copy, Clone)]
pub enum Timeline {
    Text,
    Chrome,
    Svg,
}

impl Exporter for Timeline {
    fn file_name(&self) -> String {
        match self {
            Timeline::Text => "timeline.txt",
            Timeline::Chrome => "timeline.json",
            Timeline::Svg => "timeline.svg",
        }
        .into()
    }
    fn export(&self, report: &Report, w: &mut dyn Write) -> Result<(), super::ExportError> {
        let t = report.timeline;
        let c = report.cluster;
        match self {
            Timeline::Text => {
                crate::timeline::write_text(w, c, t.graph, t.outcome, &t.gpus, &t.kinds)
            }
            Timeline::Chrome => {
                crate::timeline::write_chrome(w, c, t.graph, t.outcome, &t.gpus, &t.kinds)
            }
            Timeline::Svg => {
                crate::timeline::write_svg(w, c, t.graph, t.outcome, &t.gpus, &t.kinds)
            }
        }?;
        Ok(())
    }
}
