//! Sweep filters: a list of conditions, all of which a grid point must meet
//! to be run (the others are dropped: no row).
//!
//! ```yaml
//! filter:
//!   - { path: pipeline.microbatches, op: ge, other: parallelism.pipeline }
//!   - { path: parallelism.pipeline, op: divides, value: 80 }
//!   - { path: pipeline.schedule, op: ne, value: gpipe }
//! ```
//! `path` (and `other`) name an axis path — the point's value — or any
//! value of the base scenario (`topology.X`/`workload.X`: of the files the
//! base scenario names). A condition compares it with `value` or with the
//! value at `other`. `op` is `eq`, `ne` (any values), `lt`, `le`, `gt`,
//! `ge` (numbers) or `divides` (integers: `path` divides the other side,
//! e.g. the pipeline depth divides 80 layers). Conditions are checked for
//! every point before anything runs; a path that resolves nowhere, or a
//! number comparison of non-numbers, is an error of the sweep file.

use serde::Deserialize;
use serde_json::Value;

/// How a condition compares its two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Less than (numbers).
    Lt,
    /// At most (numbers).
    Le,
    /// Greater than (numbers).
    Gt,
    /// At least (numbers).
    Ge,
    /// `path` divides the other side (integers).
    Divides,
}

impl Op {
    /// The op as the sweep file writes it (`gt`), for messages.
    fn word(self) -> String {
        format!("{self:?}").to_lowercase()
    }
}

/// One condition, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The left side: an axis path or a base-scenario value.
    pub path: String,
    /// The comparison.
    pub op: Op,
    /// The right side as a literal (exactly one of `value` and `other`).
    pub value: Option<Value>,
    /// The right side as another path.
    pub other: Option<String>,
}

impl Condition {
    /// Whether the condition holds, with `lookup` resolving paths.
    pub fn holds(&self, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<bool, String> {
        let left = lookup(&self.path).ok_or_else(|| {
            format!(
                "the filter path {} is neither an axis nor a value of the base files",
                self.path
            )
        })?;
        let right = match (&self.value, &self.other) {
            (Some(v), None) => v.clone(),
            (None, Some(p)) => lookup(p).ok_or_else(|| {
                format!("the filter path {p} is neither an axis nor a value of the base files")
            })?,
            _ => {
                return Err("a condition takes exactly one of `value: V` and `other: path`".into());
            }
        };
        let num = |v: &Value| {
            v.as_f64()
                .ok_or_else(|| format!("`{}` compares numbers, and {v} is not one", self.op.word()))
        };
        Ok(match self.op {
            Op::Eq => left == right,
            Op::Ne => left != right,
            Op::Lt => num(&left)? < num(&right)?,
            Op::Le => num(&left)? <= num(&right)?,
            Op::Gt => num(&left)? > num(&right)?,
            Op::Ge => num(&left)? >= num(&right)?,
            Op::Divides => {
                let int = |v: &Value| {
                    v.as_u64().ok_or_else(|| {
                        format!("divides compares whole numbers ≥ 0, and {v} is not one")
                    })
                };
                let (a, b) = (int(&left)?, int(&right)?);
                a != 0 && b % a == 0
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lookup(p: &str) -> Option<Value> {
        match p {
            "p" => Some(json!(4)),
            "m" => Some(json!(8)),
            "s" => Some(json!("1f1b")),
            _ => None,
        }
    }

    fn c(path: &str, op: Op, value: Option<Value>, other: Option<&str>) -> Condition {
        Condition {
            path: path.into(),
            op,
            value,
            other: other.map(String::from),
        }
    }

    #[test]
    fn ops() {
        assert!(c("m", Op::Ge, None, Some("p")).holds(&lookup).unwrap());
        assert!(!c("m", Op::Lt, None, Some("p")).holds(&lookup).unwrap());
        assert!(
            c("p", Op::Divides, Some(json!(80)), None)
                .holds(&lookup)
                .unwrap()
        );
        assert!(
            !c("p", Op::Divides, Some(json!(81)), None)
                .holds(&lookup)
                .unwrap()
        );
        assert!(
            c("s", Op::Ne, Some(json!("gpipe")), None)
                .holds(&lookup)
                .unwrap()
        );
        assert!(c("s", Op::Lt, Some(json!(1)), None).holds(&lookup).is_err());
        assert!(
            c("nope", Op::Eq, Some(json!(1)), None)
                .holds(&lookup)
                .is_err()
        );
    }
}
