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
        let Some(t) = report.timeline else {
            return Ok(());
        };
        let f = match self {
            Timeline::Text => crate::timeline::write_text,
            Timeline::Chrome => crate::timeline::write_chrome,
            Timeline::Svg => crate::timeline::write_svg,
        };
        f(w, report.cluster, t.graph, t.outcome, &t.gpus)?;
        Ok(())
    }
}
