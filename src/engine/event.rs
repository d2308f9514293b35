//! The engine's events, and their 16-byte packed form in the queue.

use crate::fabric::FlowId;
use crate::ids::TaskId;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Event {
    TaskDone(TaskId),
    /// A transfer's latency phase is over: its bandwidth phase starts.
    Activate(u32),
    /// A flow's predicted finish, valid if the flow's generation (low 30
    /// bits) still matches.
    FlowDone(FlowId, u32),
    Background,
}

impl Event {
    /// What the engine was doing when this event fell due (for messages).
    pub(super) fn doing(self) -> &'static str {
        match self {
            Event::TaskDone(_) => "a compute op ran",
            Event::Activate(_) => {
                "a transfer waited out its latency, overhead and retransmission timeouts"
            }
            Event::FlowDone(..) => "a transfer streamed its bytes",
            Event::Background => "background traffic arrived",
        }
    }
}

/// Generation bits kept in a packed `FlowDone`: a stale event could only be
/// mistaken for a live one after 2^30 rate changes of one flow in between.
pub(super) const GENERATION_MASK: u32 = (1 << 30) - 1;

/// An [`Event`] packed into one u64 — 2 tag bits, 62 of payload — so queue
/// entries are 16 bytes: the queue moves tens of millions of them.
#[derive(Copy, Clone, Debug)]
pub(super) struct Packed(u64);

impl From<Event> for Packed {
    fn from(e: Event) -> Packed {
        Packed(match e {
            Event::TaskDone(t) => u64::from(t.0),
            Event::Activate(x) => 1 << 62 | u64::from(x),
            Event::FlowDone(f, g) => {
                2 << 62 | u64::from(g & GENERATION_MASK) << 32 | u64::from(f.0)
            }
            Event::Background => 3 << 62,
        })
    }
}

impl From<Packed> for Event {
    fn from(p: Packed) -> Event {
        let low = p.0 as u32;
        match p.0 >> 62 {
            0 => Event::TaskDone(TaskId(low)),
            1 => Event::Activate(low),
            2 => Event::FlowDone(FlowId(low), (p.0 >> 32) as u32 & GENERATION_MASK),
            _ => Event::Background,
        }
    }
}
