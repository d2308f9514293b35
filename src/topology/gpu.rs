//! GPU models: named presets with published peak numbers, and the inline
//! `gpu:` form of a topology file.
//!
//! Peaks are NVIDIA's published **dense** (no 2:4 sparsity) tensor-core
//! throughputs per data type; fp32 is the non-tensor vector peak. Memory
//! sizes are the marketing numbers in GB = 1e9 bytes (an "80GB" H100 has
//! 80e9 bytes here, although its HBM is really 80 GiB); HBM bandwidths are
//! the datasheet TB/s with TB = 1e12 bytes.
//!
//! In YAML `gpu:` is either a preset name (`gpu: H100-SXM`, matched
//! case-insensitively) or an inline spec:
//!
//! ```yaml
//! gpu:
//!   name: my-gpu
//!   memory: 80GB
//!   hbm_bandwidth: 3.35TB/s
//!   peak_tflops: { fp32: 67, bf16: 989.4 }   # TFLOP/s, dense
//! ```
//! In `peak_tflops`, `fp32` and `bf16` are required; `tf32` defaults to
//! `fp32`, `fp16` to `bf16` and `fp8` to `fp16`. This module does not model
//! clocks, power limits or achieved (vs. peak) efficiency.

use super::{GpuSpec, PeakFlops};
use crate::input::{InputError, Source};
use crate::units::{Bandwidth, ByteSize};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// Constants of the shape-aware compute model for one GPU, and where they
/// come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComputeProfile {
    /// Streaming multiprocessors: the preset's datasheet count.
    pub sms: u32,
    /// GEMM output tile height (rows) of one threadblock: 256 × 128 is the
    /// largest tensor-core tile of cuBLAS/CUTLASS on Ampere and Hopper, the
    /// one NVIDIA's "Matrix Multiplication Background User's Guide" uses
    /// for tile and wave quantization.
    pub tile_m: u64,
    /// GEMM output tile width, columns.
    pub tile_n: u64,
    /// The share of the dense peak a large, tile-aligned GEMM sustains:
    /// 0.80. The published ceiling is higher: the best A100-SXM GEMM of a
    /// shape sweep runs 267.9 of 312 TFLOP/s, 0.859 (S. Bekman,
    /// ml-engineering, compute/accelerator/README.md, "Maximum Achievable
    /// Matmul FLOPS comparison table", 6912 × 16384 × 2048, CUDA 12.1). 0.80
    /// is an assumption below that best-shape ceiling, not a measurement of
    /// the shapes or the CUDA 11 libraries of a given run. A plain PyTorch
    /// `a @ b` of 8192 × 8192 × 8192 in fp16 on an A100 80GB measures 230
    /// TFLOP/s, 0.737 (mli/transformers-benchmarks, README "MatMul FP32 /
    /// FP16", NGC PyTorch 22.07, CUDA 11.7; form factor not stated); the
    /// model gives that shape 0.80 × 0.998 (one partial wave) × 312 = 249,
    /// between the two published figures (tested in `workload::kernels`).
    /// Lowering the fraction to 0.737 would move every A100 row of the
    /// SC'21 suite by about 4–6 %; one measurement of unknown form factor,
    /// against a higher best-of-sweep one, does not settle it, so the
    /// assumption stands. A third figure points the other way: NVIDIA's
    /// CUTLASS profiler example (NVIDIA/cutlass media/docs/profiler.md at
    /// 6fbc0d3, an sm80 `s16816gemm_f16_256x128_32x3` kernel; the GPU is
    /// not named, 108 SMs assumed) runs a 3456 × 4096 × 8192 fp16 GEMM at
    /// 235.1 TFLOP/s, where this model's tail wave (448 tiles on 108 SMs, 5
    /// waves) gives 200: the wave model looks pessimistic for partial waves.
    /// With these constants fabsim meets the Korthikanti et al. 2022 suite
    /// (same cluster, Megatron-LM of 2022; mean |error| 2.6 %), while the
    /// SC'21 suite's 2021 stack ran 8–10 % slower for the same per-replica
    /// runs; a per-shape cuBLAS 11.3 (NGC PyTorch 20.12) measurement is what
    /// would tell whether that gap is the GEMM rate.
    pub gemm_fraction: f64,
    /// The share of the datasheet HBM bandwidth the element-wise kernels
    /// sustain: 0.80. Streaming kernels measure more: 1.80 of 2.039 TB/s
    /// (0.88) on an A100-SXM4-80GB, about 0.90 at best per NVIDIA (NVIDIA
    /// developer forum, "Trouble to reach peak bandwidth of A100", 2025,
    /// Nsight Compute). 0.80 is an assumption below that ceiling for
    /// kernels with row reductions (softmax, LayerNorm) and random numbers
    /// (dropout), not a measurement of them.
    pub hbm_fraction: f64,
}

impl ComputeProfile {
    const fn with_sms(sms: u32) -> Self {
        ComputeProfile {
            sms,
            tile_m: 256,
            tile_n: 128,
            gemm_fraction: 0.80,
            hbm_fraction: 0.80,
        }
    }
}

/// The compute profile of `gpu`: its preset's, or the A100 profile for an
/// inline spec.
pub fn compute_profile(gpu: &GpuSpec) -> ComputeProfile {
    let sms = PRESETS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(gpu.name.trim()))
        .map_or(108, |p| p.sms);
    ComputeProfile::with_sms(sms)
}

/// NCCL's own ceiling on a GPU generation's NVLink bus bandwidth, bytes/s:
/// its tuner caps compute capability 8.0 (A100) at 235 GB/s, NVIDIA's
/// measured peak (NCCL src/graph/tuning.cc, from 2.7 on: `if (compCap80)
/// busBw = std::min(busBw, 235.0f)`). `None` for GPUs NCCL does not cap, and
/// for inline specs.
pub fn nccl_nvlink_cap(gpu: &GpuSpec) -> Option<f64> {
    PRESETS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(gpu.name.trim()))
        .and_then(|p| p.nccl_nvlink_cap)
        .map(|gb| gb * 1e9)
}

/// One row of the preset table: TFLOP/s (dense), GB, TB/s, SMs.
struct Preset {
    name: &'static str,
    fp32: f64,
    tf32: f64,
    bf16: f64,
    fp16: f64,
    fp8: f64,
    memory_gb: u64,
    hbm_tb_per_s: f64,
    sms: u32,
    /// NCCL's ceiling on NVLink bus bandwidth, GB/s (see [`nccl_nvlink_cap`]).
    nccl_nvlink_cap: Option<f64>,
}

const PRESETS: &[Preset] = &[
    // A100 has no fp8 tensor cores: fp8 work runs at the fp16 rate.
    Preset {
        name: "A100-SXM4-40GB",
        fp32: 19.5,
        tf32: 156.0,
        bf16: 312.0,
        fp16: 312.0,
        fp8: 312.0,
        memory_gb: 40,
        hbm_tb_per_s: 1.555,
        sms: 108,
        nccl_nvlink_cap: Some(235.0),
    },
    Preset {
        name: "A100-SXM4-80GB",
        fp32: 19.5,
        tf32: 156.0,
        bf16: 312.0,
        fp16: 312.0,
        fp8: 312.0,
        memory_gb: 80,
        hbm_tb_per_s: 2.039,
        sms: 108,
        nccl_nvlink_cap: Some(235.0),
    },
    Preset {
        name: "H100-SXM",
        fp32: 67.0,
        tf32: 494.7,
        bf16: 989.4,
        fp16: 989.4,
        fp8: 1978.9,
        memory_gb: 80,
        hbm_tb_per_s: 3.35,
        sms: 132,
        nccl_nvlink_cap: None,
    },
    Preset {
        name: "H100-PCIe",
        fp32: 51.2,
        tf32: 378.0,
        bf16: 756.0,
        fp16: 756.0,
        fp8: 1513.0,
        memory_gb: 80,
        hbm_tb_per_s: 2.0,
        sms: 114,
        nccl_nvlink_cap: None,
    },
    // Same compute as H100-SXM; more and faster HBM3e.
    Preset {
        name: "H200-SXM",
        fp32: 67.0,
        tf32: 494.7,
        bf16: 989.4,
        fp16: 989.4,
        fp8: 1978.9,
        memory_gb: 141,
        hbm_tb_per_s: 4.8,
        sms: 132,
        nccl_nvlink_cap: None,
    },
    // HGX B200 per-GPU figures (dense = half the sparse datasheet numbers).
    Preset {
        name: "B200",
        fp32: 80.0,
        tf32: 1125.0,
        bf16: 2250.0,
        fp16: 2250.0,
        fp8: 4500.0,
        memory_gb: 192,
        hbm_tb_per_s: 8.0,
        sms: 148,
        nccl_nvlink_cap: None,
    },
];

/// The preset names, in table order.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// The preset called `name` (case-insensitive), if any.
pub fn preset(name: &str) -> Option<GpuSpec> {
    let p = PRESETS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name.trim()))?;
    Some(GpuSpec {
        name: p.name.to_string(),
        peak_flops: PeakFlops {
            fp32: p.fp32 * 1e12,
            tf32: p.tf32 * 1e12,
            bf16: p.bf16 * 1e12,
            fp16: p.fp16 * 1e12,
            fp8: p.fp8 * 1e12,
        },
        memory_bytes: p.memory_gb * 1_000_000_000,
        hbm_bandwidth: Bandwidth::new(p.hbm_tb_per_s * 1e12)?,
    })
}

/// The inline form of `gpu:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineGpu {
    /// The GPU's name.
    pub name: String,
    /// HBM capacity (`80GB` = 80e9 bytes).
    pub memory: ByteSize,
    /// Datasheet HBM bandwidth (`3.35TB/s`).
    pub hbm_bandwidth: Bandwidth,
    /// Dense peaks per data type, TFLOP/s.
    pub peak_tflops: PeakTflops,
}

/// Peak dense TFLOP/s per data type, as written in YAML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeakTflops {
    /// FP32 vector peak, TFLOP/s.
    pub fp32: f64,
    /// BF16 tensor-core peak, TFLOP/s.
    pub bf16: f64,
    /// TF32 tensor-core peak, TFLOP/s (default: `fp32`).
    #[serde(default)]
    pub tf32: Option<f64>,
    /// FP16 tensor-core peak, TFLOP/s (default: `bf16`).
    #[serde(default)]
    pub fp16: Option<f64>,
    /// FP8 tensor-core peak, TFLOP/s (default: `fp16`).
    #[serde(default)]
    pub fp8: Option<f64>,
}

/// `gpu:` as written: a preset name or an inline spec.
#[derive(Debug, Clone)]
pub enum GpuField {
    /// A preset name, e.g. `H100-SXM`.
    Preset(String),
    /// A spec written out in full.
    Inline(Box<InlineGpu>),
}

impl<'de> Deserialize<'de> for GpuField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = GpuField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a GPU preset name like H100-SXM, or a mapping { name, memory, hbm_bandwidth, peak_tflops }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<GpuField, E> {
                Ok(GpuField::Preset(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<GpuField, A::Error> {
                InlineGpu::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|g| GpuField::Inline(Box::new(g)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Turns the `gpu:` field into a [`GpuSpec`]; errors point at its line.
pub fn resolve(src: &Source, field: &Spanned<GpuField>) -> Result<GpuSpec, InputError> {
    match &field.value {
        GpuField::Preset(name) => preset(name).ok_or_else(|| {
            src.error_at(
                field,
                format!(
                    "unknown GPU preset '{name}': use one of {}, or an inline spec {{ name, memory, hbm_bandwidth, peak_tflops }}",
                    preset_names().join(", ")
                ),
            )
            .with_path("gpu")
        }),
        GpuField::Inline(g) => {
            let t = &g.peak_tflops;
            let tf32 = t.tf32.unwrap_or(t.fp32);
            let fp16 = t.fp16.unwrap_or(t.bf16);
            let fp8 = t.fp8.unwrap_or(fp16);
            for (key, v) in [("fp32", t.fp32), ("tf32", tf32), ("bf16", t.bf16), ("fp16", fp16), ("fp8", fp8)] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(src
                        .error_at(field, format!("peak_tflops.{key} is {v}: a peak must be a positive number of TFLOP/s"))
                        .with_path(format!("gpu.peak_tflops.{key}")));
                }
            }
            if g.memory.0 == 0 {
                return Err(src
                    .error_at(field, "memory is zero: give the GPU's memory, like 80GB")
                    .with_path("gpu.memory"));
            }
            Ok(GpuSpec {
                name: g.name.clone(),
                peak_flops: PeakFlops {
                    fp32: t.fp32 * 1e12,
                    tf32: tf32 * 1e12,
                    bf16: t.bf16 * 1e12,
                    fp16: fp16 * 1e12,
                    fp8: fp8 * 1e12,
                },
                memory_bytes: g.memory.0,
                hbm_bandwidth: g.hbm_bandwidth,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        gpu: Spanned<GpuField>,
    }

    fn load(text: &str) -> Result<GpuSpec, InputError> {
        let src = Source::from_text("g.yaml", text);
        let doc: Doc = src.parse()?;
        resolve(&src, &doc.gpu)
    }

    #[test]
    fn presets_have_published_numbers() {
        let a = preset("A100-SXM4-40GB").unwrap();
        assert_eq!(a.peak_flops.bf16, 312e12);
        assert_eq!(a.peak_flops.fp8, a.peak_flops.fp16, "A100 has no fp8");
        assert_eq!(a.memory_bytes, 40_000_000_000);
        assert_eq!(a.hbm_bandwidth.bytes_per_sec(), 1.555e12);
        let h = preset("h100-sxm").unwrap();
        assert_eq!(h.name, "H100-SXM");
        assert!((h.peak_flops.fp8 - 1978.9e12).abs() < 1.0);
        assert_eq!(preset("H200-SXM").unwrap().memory_bytes, 141_000_000_000);
        assert_eq!(
            preset("A100-SXM4-80GB").unwrap().memory_bytes,
            80_000_000_000
        );
        for n in preset_names() {
            assert!(preset(n).is_some(), "{n}");
        }
        assert!(preset("V100").is_none());
    }

    #[test]
    fn compute_profiles_follow_the_preset() {
        let a = compute_profile(&preset("A100-SXM4-80GB").unwrap());
        assert_eq!((a.sms, a.tile_m, a.tile_n), (108, 256, 128));
        assert_eq!(compute_profile(&preset("H100-SXM").unwrap()).sms, 132);
        let inline = load("gpu: { name: x, memory: 80GB, hbm_bandwidth: 3TB/s, peak_tflops: { fp32: 60, bf16: 900 } }\n").unwrap();
        assert_eq!(compute_profile(&inline), a);
    }

    #[test]
    fn nccl_caps_a100_nvlink_only() {
        for name in ["A100-SXM4-40GB", "A100-SXM4-80GB"] {
            assert_eq!(nccl_nvlink_cap(&preset(name).unwrap()), Some(235e9));
        }
        assert_eq!(nccl_nvlink_cap(&preset("H100-SXM").unwrap()), None);
        let inline = load("gpu: { name: x, memory: 80GB, hbm_bandwidth: 3TB/s, peak_tflops: { fp32: 60, bf16: 900 } }\n").unwrap();
        assert_eq!(nccl_nvlink_cap(&inline), None);
    }

    #[test]
    fn inline_spec_with_defaults() {
        let g = load("gpu: { name: x, memory: 80GB, hbm_bandwidth: 3TB/s, peak_tflops: { fp32: 60, bf16: 900 } }\n").unwrap();
        assert_eq!(g.name, "x");
        assert_eq!(g.peak_flops.tf32, 60e12);
        assert_eq!(g.peak_flops.fp8, 900e12);
        assert_eq!(g.memory_bytes, 80_000_000_000);
        assert_eq!(g.hbm_bandwidth.bytes_per_sec(), 3e12);
    }

    #[test]
    fn unknown_preset_lists_names_with_line() {
        let e = load("\ngpu: V100\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert_eq!(e.yaml_path.as_deref(), Some("gpu"));
        assert!(e.message.contains("H100-SXM"), "{}", e.message);
        let e = load("gpu: { name: x, memory: 1GB, hbm_bandwidth: 1TB/s, peak_tflops: { fp32: 0, bf16: 1 } }\n").unwrap_err();
        assert!(e.message.contains("fp32"), "{}", e.message);
        let e = load("gpu: { name: x, memory: 1GB, hbm_bandwidth: 1TB/s, peak_tflops: { fp32: 1, bf16: 1 }, clock: 2 }\n").unwrap_err();
        assert!(e.message.contains("unknown field"), "{}", e.message);
    }
}
