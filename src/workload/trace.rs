//! YAML layer traces: `layers: [{ name, forward, backward, activation_bytes,
//! grad_bytes, backward_weight?, param_bytes?, stash_bytes? }]`, measured
//! per whole minibatch on one GPU.
//!
//! Defaults: `param_bytes` = `grad_bytes`, `stash_bytes` = `activation_bytes`,
//! `backward_weight` = `backward_weight_fraction` × `backward` when the file
//! gives a fraction, else 0 (unknown). Shared validation of a finished layer
//! list (unique names, W ≤ backward) lives here too and is used by the CSV
//! reader. This module does not read files.

use super::Layer;
use crate::input::{InputError, Source};
use crate::units::{ByteSize, SimTime};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// One layer of a YAML trace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    name: Spanned<String>,
    forward: SimTime,
    backward: SimTime,
    #[serde(default)]
    backward_weight: Option<Spanned<SimTime>>,
    activation_bytes: ByteSize,
    grad_bytes: ByteSize,
    #[serde(default)]
    param_bytes: Option<ByteSize>,
    #[serde(default)]
    stash_bytes: Option<ByteSize>,
}

/// `backward_weight` for a layer without one: fraction × backward, or 0.
pub fn default_backward_weight(backward: SimTime, fraction: Option<f64>) -> SimTime {
    match fraction {
        Some(f) => SimTime::from_secs_round(backward.as_secs_f64() * f),
        None => SimTime::ZERO,
    }
}

/// A trace layer with the defaults applied and no tensor parallelism.
#[allow(clippy::too_many_arguments)]
pub fn trace_layer(
    name: String,
    forward: SimTime,
    backward: SimTime,
    backward_weight: SimTime,
    activation_bytes: u64,
    grad_bytes: u64,
    param_bytes: Option<u64>,
    stash_bytes: Option<u64>,
) -> Layer {
    Layer {
        name,
        forward,
        backward,
        backward_weight,
        activation_bytes,
        grad_bytes,
        param_bytes: param_bytes.unwrap_or(grad_bytes),
        stash_bytes: stash_bytes.unwrap_or(activation_bytes),
        tensor_allreduce_bytes: 0,
        tensor_allreduces: 0,
        tensor_allreduces_backward: 0,
        flops_forward: 0.0,
        backward_working_bytes: 0,
        optimizer_step: crate::units::SimTime::ZERO,
    }
}

/// Converts and validates the `layers:` list.
pub fn layers_from_yaml(
    src: &Source,
    layers: &Spanned<Vec<LayerSpec>>,
    bw_fraction: Option<f64>,
) -> Result<Vec<Layer>, InputError> {
    let mut out = Vec::with_capacity(layers.value.len());
    for (i, spec) in layers.value.iter().enumerate() {
        let name = spec.name.value.trim();
        if name.is_empty() {
            return Err(src
                .error_at(&spec.name, "a layer needs a non-empty name")
                .with_path(format!("layers[{i}].name")));
        }
        if let Some(prev) = out.iter().position(|l: &Layer| l.name == name) {
            return Err(src
                .error_at(
                    &spec.name,
                    format!("layer name `{name}` is used twice (also layers[{prev}])"),
                )
                .with_path(format!("layers[{i}].name")));
        }
        let backward_weight = match &spec.backward_weight {
            Some(w) if w.value > spec.backward => {
                return Err(src
                    .error_at(
                        w,
                        format!(
                            "backward_weight ({}) is part of backward ({}) and cannot exceed it",
                            w.value, spec.backward
                        ),
                    )
                    .with_path(format!("layers[{i}].backward_weight")));
            }
            Some(w) => w.value,
            None => default_backward_weight(spec.backward, bw_fraction),
        };
        out.push(trace_layer(
            name.to_string(),
            spec.forward,
            spec.backward,
            backward_weight,
            spec.activation_bytes.0,
            spec.grad_bytes.0,
            spec.param_bytes.map(|b| b.0),
            spec.stash_bytes.map(|b| b.0),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::tests::yaml;
    use super::*;

    const HEAD: &str = "name: t\nbatch_size: 64\nsamples_per_epoch: 60000\n";

    #[test]
    fn mnist_layers_load_exactly_with_defaults() {
        let w = yaml(&format!(
            "{HEAD}layers:\n  - {{ name: fc1, forward: 20us, backward: 40us, activation_bytes: 65536, grad_bytes: 803840 }}\n  - {{ name: fc4, forward: 2us, backward: 4us, activation_bytes: 2560, grad_bytes: 2600, param_bytes: 1KiB, stash_bytes: 25MiB, backward_weight: 1us }}\n"
        ))
        .unwrap();
        let l = &w.layers[0];
        assert_eq!(l.forward, SimTime::from_us(20));
        assert_eq!(l.backward, SimTime::from_us(40));
        assert_eq!(l.backward_weight, SimTime::ZERO);
        assert_eq!((l.activation_bytes, l.grad_bytes), (65536, 803840));
        assert_eq!((l.param_bytes, l.stash_bytes), (803840, 65536));
        assert_eq!((l.tensor_allreduces, l.tensor_allreduce_bytes), (0, 0));
        let l = &w.layers[1];
        assert_eq!((l.param_bytes, l.stash_bytes), (1024, 25 << 20));
        assert_eq!(l.backward_weight, SimTime::from_us(1));
    }

    #[test]
    fn backward_weight_fraction_fills_missing_w() {
        let w = yaml(&format!(
            "{HEAD}backward_weight_fraction: 0.5\nlayers:\n  - {{ name: a, forward: 1us, backward: 3us, activation_bytes: 1, grad_bytes: 1 }}\n  - {{ name: b, forward: 1us, backward: 3us, backward_weight: 2us, activation_bytes: 1, grad_bytes: 1 }}\n"
        ))
        .unwrap();
        assert_eq!(w.layers[0].backward_weight, SimTime::from_ns(1500));
        assert_eq!(w.layers[1].backward_weight, SimTime::from_us(2));
    }

    #[test]
    fn bad_layers_are_reported_at_their_line() {
        let e = yaml(&format!(
            "{HEAD}layers:\n  - {{ name: a, forward: 1us, backward: 2us, activation_bytes: 1, grad_bytes: 1 }}\n  - {{ name: b, forward: 20, backward: 2us, activation_bytes: 1, grad_bytes: 1 }}\n"
        ))
        .unwrap_err();
        assert_eq!(e.line, Some(6));
        assert_eq!(e.yaml_path.as_deref(), Some("layers[1].forward"));
        assert!(e.message.contains("no unit"), "{e}");
        let e = yaml(&format!(
            "{HEAD}layers:\n  - {{ name: a, forward: 1us, backward: 2us, activation_bytes: 1, grad_bytes: 1, flops: 3 }}\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("unknown field `flops`"), "{e}");
        assert_eq!(e.line, Some(5));
        let e = yaml(&format!(
            "{HEAD}layers:\n  - {{ name: a, forward: 1us, backward: 2us, activation_bytes: 1, grad_bytes: 1 }}\n  - {{ name: a, forward: 1us, backward: 2us, activation_bytes: 1, grad_bytes: 1 }}\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("used twice"), "{e}");
        assert_eq!(e.yaml_path.as_deref(), Some("layers[1].name"));
        let e = yaml(&format!(
            "{HEAD}layers:\n  - {{ name: a, forward: 1us, backward: 2us, backward_weight: 3us, activation_bytes: 1, grad_bytes: 1 }}\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("cannot exceed"), "{e}");
        assert_eq!(e.line, Some(5));
    }
}
