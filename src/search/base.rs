//! The base scenario every candidate of a search starts from: the search
//! file's `scenario:` section merged over a minimal scenario, written into
//! the search's scratch folder. Candidates then differ only by `--set`
//! overrides (see `Search::overrides`).

use super::{Hardware, spec};
use crate::input::{InputError, Source};
use crate::scenario::ScenarioFile;
use std::path::Path;

/// Writes the scenario every candidate starts from: the search's
/// `scenario:` section over a minimal scenario; checks it parses.
pub(super) fn base_scenario(
    src: &Source,
    f: &spec::SearchFile,
    workload: &Path,
    hw: &[Hardware],
    base: &Path,
) -> Result<ScenarioFile, InputError> {
    let topo = hw
        .iter()
        .find(|h| h.invalid.is_none())
        .or(hw.first())
        .and_then(|h| h.topology.file_name())
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut tree = serde_json::json!({
        "name": f.name.clone().unwrap_or_else(|| "search".into()),
        "topology": topo,
        "workload": workload,
        "trials": { "count": f.trials.unwrap_or(1).max(1) },
        "seed": f.seed.unwrap_or(1),
    });
    if let Some(extra) = &f.scenario {
        merge(&mut tree, &extra.value);
    }
    let text = serde_json::to_string_pretty(&tree).map_err(|e| src.error(e.to_string()))?;
    let parsed: ScenarioFile = Source::from_text(base, text.clone()).parse().map_err(|e| {
        let at = f
            .scenario
            .as_ref()
            .map_or_else(|| src.error(""), |s| src.error_at(s, ""));
        InputError {
            message: format!(
                "the scenario section is not a valid scenario: {}",
                e.message
            ),
            ..at
        }
        .with_path(
            e.yaml_path
                .map_or("scenario".into(), |p| format!("scenario.{p}")),
        )
    })?;
    std::fs::write(base, text).map_err(|e| InputError::file(base, format!("cannot write: {e}")))?;
    Ok(parsed)
}

/// Deep-merges `extra` into `tree` (maps merge, anything else replaces).
fn merge(tree: &mut serde_json::Value, extra: &serde_json::Value) {
    match (tree, extra) {
        (serde_json::Value::Object(t), serde_json::Value::Object(e)) => {
            for (k, v) in e {
                merge(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
            }
        }
        (t, e) => *t = e.clone(),
    }
}
