//! The engine's queued events, and their 8-byte packed form in the queue.
//! Flow completions are not events here: their times move, so they live in
//! the [`super::clock::FlowClock`].

use crate::ids::TaskId;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Event {
    TaskDone(TaskId),
    /// A transfer's latency phase is over: its bandwidth phase starts.
    Activate(u32),
    Background,
}

/// What the engine was doing when a flow's completion fell due (for
/// messages): a finish past the end of time is an overflow.
pub(super) const FLOW_DOING: &str = "a transfer streamed its bytes";

impl Event {
    /// What the engine was doing when this event fell due (for messages).
    pub(super) fn doing(self) -> &'static str {
        match self {
            Event::TaskDone(_) => "a compute op ran",
            Event::Activate(_) => {
                "a transfer waited out its latency, overhead and retransmission timeouts"
            }
            Event::Background => "background traffic arrived",
        }
    }
}

/// An [`Event`] packed into one u64 — 2 tag bits, 62 of payload — so queue
/// entries are 16 bytes with their time: the queue moves tens of millions.
#[derive(Copy, Clone, Debug)]
pub(super) struct Packed(u64);

impl From<Event> for Packed {
    fn from(e: Event) -> Packed {
        Packed(match e {
            Event::TaskDone(t) => u64::from(t.0),
            Event::Activate(x) => 1 << 62 | u64::from(x),
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
            _ => Event::Background,
        }
    }
}
