//! The hooks through which noise perturbs a simulation, and the quiet
//! default. The engine calls them; `crate::noise` implements them.

use crate::ids::GpuId;
use crate::units::SimTime;

/// Hooks through which noise models perturb a run. The defaults change
/// nothing.
pub trait Perturb {
    /// The actual duration of a compute op of nominal length `nominal`.
    fn compute_time(&mut self, _gpu: GpuId, nominal: SimTime) -> SimTime {
        nominal
    }
    /// Extra delay a transfer pays before its bandwidth phase (latency
    /// jitter, software overhead jitter, loss and retransmission timeouts).
    fn transfer_delay(&mut self, _src: GpuId, _dst: GpuId, _bytes: u64) -> SimTime {
        SimTime::ZERO
    }
    /// The next background (cross-traffic) flow arriving after `now`.
    fn next_background(&mut self, _now: SimTime) -> Option<BackgroundFlow> {
        None
    }
    /// True if `transfer_delay` always returns zero, so the engine may skip
    /// calling it (it runs once per transfer).
    fn transfers_are_quiet(&self) -> bool {
        false
    }
}

/// No noise.
pub struct Quiet;
impl Perturb for Quiet {
    fn transfers_are_quiet(&self) -> bool {
        true
    }
}

/// A cross-traffic flow that is not part of the job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackgroundFlow {
    /// When it starts.
    pub at: SimTime,
    /// Sending GPU.
    pub src: GpuId,
    /// Receiving GPU.
    pub dst: GpuId,
    /// Payload, bytes.
    pub bytes: u64,
}
