//! The shape-aware compute model: the time of each kernel of a transformer
//! block, layer norm to MLP, from its shapes on the GPU preset.
//!
//! - A GEMM of m × n × k (batched `batch` times) is a roofline: the slower
//!   of its math, `2·m·n·k / (peak × gemm_fraction × q)`, and its memory
//!   traffic, `(m·k + k·n + m·n)·d / (HBM × hbm_fraction)`. `q` is tile and
//!   wave quantization (NVIDIA, "Matrix Multiplication Background User's
//!   Guide", §3): the output is cut into `tile_m × tile_n` tiles, one per SM
//!   per wave, and q = useful tile area / (waves × SMs × tile area). Small
//!   or skinny GEMMs (attention's k = head dim, a short sequence, a wide t)
//!   fall below peak by these two mechanisms, large ones approach
//!   `gemm_fraction`.
//! - Element-wise kernels (LayerNorm, fused scale-mask-softmax, GeLU,
//!   dropout, residual adds, cross-entropy) are memory-bound: bytes moved /
//!   (HBM × hbm_fraction). Their bytes follow Megatron-LM's fused kernels
//!   (bias-GeLU, bias-dropout-add, scale-mask-softmax): each reads its
//!   inputs once and writes its outputs once; dropout writes a 1-byte mask.
//! - Flash attention fuses the attention core: its two GEMMs at the GEMM
//!   rate with no s² tensor in memory.
//!
//! Constants come from [`crate::topology::gpu::ComputeProfile`]. This
//! module knows nothing of layers, stashes or communication.

use crate::topology::gpu::ComputeProfile;

/// One kernel's cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cost {
    /// Time at the modelled rate, seconds.
    pub secs: f64,
    /// Floating-point operations.
    pub flops: f64,
}

impl std::ops::Add for Cost {
    type Output = Cost;
    fn add(self, o: Cost) -> Cost {
        Cost {
            secs: self.secs + o.secs,
            flops: self.flops + o.flops,
        }
    }
}

impl std::iter::Sum for Cost {
    fn sum<I: Iterator<Item = Cost>>(iter: I) -> Cost {
        iter.fold(Cost::default(), |a, b| a + b)
    }
}

/// The GPU as the kernels see it.
#[derive(Debug, Clone, Copy)]
pub struct Gpu {
    /// Dense peak for the model's dtype, FLOP/s.
    pub peak: f64,
    /// Datasheet HBM bandwidth, bytes/s.
    pub hbm: f64,
    /// Tile shape, SM count and efficiency fractions.
    pub profile: ComputeProfile,
    /// Bytes per element of the model's dtype.
    pub elem: f64,
}

impl Gpu {
    /// Tile and wave quantization of an m × n output, `batch` times.
    pub fn quantization(&self, m: f64, n: f64, batch: f64) -> f64 {
        let p = &self.profile;
        let (tm, tn) = (p.tile_m as f64, p.tile_n as f64);
        let tiles = (m / tm).ceil() * (n / tn).ceil() * batch;
        let sms = f64::from(p.sms.max(1));
        let waves = (tiles / sms).ceil();
        if waves <= 0.0 {
            return 1.0;
        }
        (m * n * batch) / (waves * sms * tm * tn)
    }

    /// A (batched) GEMM producing m × n from an m × k and a k × n operand.
    pub fn gemm(&self, m: f64, n: f64, k: f64, batch: f64) -> Cost {
        let flops = 2.0 * m * n * k * batch;
        let rate = self.peak * self.profile.gemm_fraction * self.quantization(m, n, batch);
        let bytes = (m * k + k * n + m * n) * batch * self.elem;
        Cost {
            secs: (flops / rate).max(self.memory(bytes).secs),
            flops,
        }
    }

    /// A memory-bound kernel moving `bytes`.
    pub fn memory(&self, bytes: f64) -> Cost {
        Cost {
            secs: bytes / (self.hbm * self.profile.hbm_fraction),
            flops: 0.0,
        }
    }

    /// Forward and backward (dgrad + wgrad) of a GEMM Y = X·W with X of
    /// m × k and W of k × n: (forward, input gradient, weight gradient).
    pub fn linear(&self, m: f64, n: f64, k: f64) -> (Cost, Cost, Cost) {
        (
            self.gemm(m, n, k, 1.0),
            self.gemm(m, k, n, 1.0),
            self.gemm(k, n, m, 1.0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a100() -> Gpu {
        Gpu {
            peak: 312e12,
            hbm: 2039e9,
            profile: ComputeProfile {
                sms: 108,
                tile_m: 256,
                tile_n: 128,
                gemm_fraction: 0.8,
                hbm_fraction: 0.8,
            },
            elem: 2.0,
        }
    }

    #[test]
    fn wave_quantization_as_in_nvidias_guide() {
        let g = a100();
        // Exactly one full wave of 108 tiles: no loss.
        assert!((g.quantization(256.0 * 108.0, 128.0, 1.0) - 1.0).abs() < 1e-12);
        // 109 tiles need two waves: 109 / 216 of the machine does work.
        let q = g.quantization(256.0 * 109.0, 128.0, 1.0);
        assert!((q - 109.0 / 216.0).abs() < 1e-12, "{q}");
        // Half a tile wide: half the tile's area is wasted.
        assert!((g.quantization(256.0 * 108.0, 64.0, 1.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn large_gemms_run_at_the_documented_fraction_small_ones_below() {
        let g = a100();
        let n = 256.0 * 108.0;
        let c = g.gemm(n, 128.0 * 64.0, 16384.0, 1.0);
        let achieved = c.flops / c.secs;
        assert!((achieved / 312e12 - 0.8).abs() < 1e-9, "{achieved}");
        // Attention scores with k = 128: memory-bound on the s × s output.
        let s = 2048.0;
        let c = g.gemm(s, s, 128.0, 12.0);
        let bytes = (s * 128.0 * 2.0 + s * s) * 12.0 * 2.0;
        assert!((c.secs / (bytes / (2039e9 * 0.8)) - 1.0).abs() < 1e-9);
        assert!(c.flops / c.secs < 0.8 * 312e12);
    }

    #[test]
    fn a100_gemm_rate_lies_between_the_published_measurements() {
        // The preset's own profile, not the fixture's: an 8192³ fp16 GEMM
        // must fall between a plain PyTorch measurement (230 TFLOP/s,
        // mli/transformers-benchmarks) and the best shape of a cuBLAS sweep
        // (267.9 TFLOP/s, Bekman's MAMF table); see `ComputeProfile`.
        let spec = crate::topology::gpu::preset("A100-SXM4-80GB").unwrap();
        let g = Gpu {
            peak: spec.peak_flops.fp16,
            hbm: spec.hbm_bandwidth.bytes_per_sec(),
            profile: crate::topology::gpu::compute_profile(&spec),
            elem: 2.0,
        };
        let n = 8192.0;
        let c = g.gemm(n, n, n, 1.0);
        let tflops = c.flops / c.secs / 1e12;
        assert!((230.0..=267.9).contains(&tflops), "{tflops}");
        // By hand: 32 × 64 = 2048 tiles of 256 × 128, 19 waves of 108 SMs.
        let q = 2048.0 / (19.0 * 108.0);
        assert!((tflops - 312.0 * 0.8 * q).abs() < 1e-9, "{tflops}");
    }

    #[test]
    fn linear_has_three_gemms_of_equal_flops() {
        let (f, d, w) = a100().linear(2048.0, 4608.0, 12288.0);
        assert_eq!(f.flops, d.flops);
        assert_eq!(f.flops, w.flops);
        assert_eq!(f.flops, 2.0 * 2048.0 * 4608.0 * 12288.0);
    }
}
