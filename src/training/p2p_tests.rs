//! Blocking pipeline p2p (`p2p.rs`) against a closed form and against an
//! independent rendezvous simulation of Megatron-LM's schedule loops
//! (megatron/schedules.py at 6985e58938), written here as programs of ops
//! and communication calls rather than as task-graph edges.

use super::tests::{hop_fabric, job_with_virtual_stages, makespan, uniform};
use super::*;
use crate::schedule::{Op, OpKind, Shape};

/// A transfer: (kind of the op that sends it, virtual stage it leaves,
/// microbatch).
type Xfer = (OpKind, u32, u32);

enum Step {
    Run(OpKind),
    /// One `_communicate` call: its transfers, none of which may be missing.
    Call(Vec<Xfer>),
}

/// Stage `s`'s program, transcribing Megatron's loops: warm-up forwards,
/// the steady 1F1B state (one call per op, or with `paired` one call per
/// forward-backward pair), the cool-down backwards. Warm-up sends and
/// receives share one call, as in `p2p.rs`.
fn program(order: &[Op], s: u32, p: u32, warmup: usize, paired: bool) -> Vec<Step> {
    let last = p * (order.iter().map(|o| o.virtual_stage).max().unwrap_or(0) + 1) - 1;
    let j = |o: &Op| o.virtual_stage * p + s;
    let send = |o: &Op| match o.kind {
        OpKind::Forward if j(o) < last => Some((OpKind::Forward, j(o), o.microbatch)),
        OpKind::Backward if j(o) > 0 => Some((OpKind::Backward, j(o), o.microbatch)),
        _ => None,
    };
    let recv = |o: Option<&Op>| match o {
        Some(o) if o.kind == OpKind::Forward && j(o) > 0 => {
            Some((OpKind::Forward, j(o) - 1, o.microbatch))
        }
        Some(o) if o.kind == OpKind::Backward && j(o) < last => {
            Some((OpKind::Backward, j(o) + 1, o.microbatch))
        }
        _ => None,
    };
    let steady = (order.len() - 2 * warmup) / 2;
    let mut prog = vec![Step::Call(recv(order.first()).into_iter().collect())];
    for i in 0..warmup {
        let mut call: Vec<Xfer> = send(&order[i]).into_iter().collect();
        call.extend(recv(order.get(i + 1)));
        if paired && i + 1 == warmup && steady > 0 {
            call.extend(recv(order.get(warmup + 1)));
        }
        prog.push(Step::Run(order[i].kind));
        prog.push(Step::Call(call));
    }
    for k in 0..steady {
        let (f, b) = (&order[warmup + 2 * k], &order[warmup + 2 * k + 1]);
        let next = order.get(warmup + 2 * k + 2);
        if paired {
            let mut call: Vec<Xfer> = send(f).into_iter().chain(send(b)).collect();
            call.extend(recv(next));
            if next.is_some_and(|o| o.kind == OpKind::Forward) {
                call.extend(recv(order.get(warmup + 2 * k + 3)));
            }
            prog.extend([Step::Run(f.kind), Step::Run(b.kind), Step::Call(call)]);
        } else {
            let first: Vec<Xfer> = send(f).into_iter().chain(recv(Some(b))).collect();
            let second: Vec<Xfer> = send(b).into_iter().chain(recv(next)).collect();
            prog.extend([
                Step::Run(f.kind),
                Step::Call(first),
                Step::Run(b.kind),
                Step::Call(second),
            ]);
        }
    }
    for i in warmup + 2 * steady..order.len() {
        let call = send(&order[i]).into_iter().chain(recv(order.get(i + 1)));
        prog.push(Step::Run(order[i].kind));
        prog.push(Step::Call(call.collect()));
    }
    prog
}

/// Runs the programs: a transfer moves for `c` once both its ends have
/// posted their call; a call ends when all its transfers have arrived.
fn rendezvous(schedule: Schedule, shape: Shape, (f, b): (SimTime, SimTime), c: SimTime) -> SimTime {
    let (p, m, v) = (shape.stages, shape.microbatches, shape.virtual_stages);
    let orders = schedule.order(shape);
    let progs: Vec<Vec<Step>> = (0..p)
        .map(|s| {
            let warmup = match schedule {
                Schedule::Interleaved if m == p => (m * v) as usize,
                Schedule::Interleaved => (((p - s - 1) * 2 + (v - 1) * p).min(m * v)) as usize,
                _ => (p - s - 1).min(m) as usize,
            };
            let paired = schedule == Schedule::Interleaved && m != p;
            program(&orders[s as usize], s, p, warmup, paired)
        })
        .collect();
    let mut posted: BTreeMap<Xfer, Vec<SimTime>> = BTreeMap::new();
    let n = p as usize;
    let (mut pc, mut clock, mut waiting) =
        (vec![0usize; n], vec![SimTime::ZERO; n], vec![false; n]);
    let mut progress = true;
    while progress {
        progress = false;
        for s in 0..n {
            while let Some(step) = progs[s].get(pc[s]) {
                match step {
                    Step::Run(kind) => clock[s] += if *kind == OpKind::Forward { f } else { b },
                    Step::Call(xfers) => {
                        if !waiting[s] {
                            for x in xfers {
                                posted.entry(*x).or_default().push(clock[s]);
                            }
                            waiting[s] = true;
                            progress = true;
                        }
                        if !xfers.iter().all(|x| posted[x].len() == 2) {
                            break;
                        }
                        for x in xfers {
                            let both = &posted[x];
                            clock[s] = clock[s].max(both[0].max(both[1]) + c);
                        }
                        waiting[s] = false;
                    }
                }
                pc[s] += 1;
                progress = true;
            }
        }
    }
    assert!(
        pc.iter().zip(&progs).all(|(&i, pr)| i == pr.len()),
        "the programs deadlock"
    );
    clock.into_iter().max().unwrap()
}

fn blocking(w: &Workload, p: u32, m: u32, v: u32, schedule: Schedule) -> TrainingJob<'_> {
    let mut j = job_with_virtual_stages(w, p, 1, m, v, schedule);
    j.p2p = P2p::Blocking;
    j
}

#[test]
fn two_stage_1f1b_blocking_pays_one_more_hop() {
    // p = 2, m = 2, F = 20 µs, B = 40 µs, a hop c. Asynchronous: 3F + 3B +
    // 2c. Blocking: stage 0's B(0) also waits for F(1)'s send, which moves
    // only when stage 1 has finished B(0) (its call); stage 1's F(1) waits
    // for B(0)'s send likewise: 3F + 3B + 3c.
    let (f, b) = (SimTime::from_us(20), SimTime::from_us(40));
    let (c, hop) = hop_fabric(2);
    let w = uniform(2, 2, f, b, 0, 0);
    let asynchronous = job_with_virtual_stages(&w, 2, 1, 2, 1, Schedule::OneFOneB);
    assert_eq!(makespan(&c, &asynchronous), f * 3 + b * 3 + hop * 2);
    assert_eq!(
        makespan(&c, &blocking(&w, 2, 2, 1, Schedule::OneFOneB)),
        f * 3 + b * 3 + hop * 3
    );
}

#[test]
fn blocking_p2p_matches_a_rendezvous_simulation_of_megatrons_loops() {
    let (f, b) = (SimTime::from_us(10), SimTime::from_us(20));
    let (c, hop) = hop_fabric(8);
    let cases = [
        (Schedule::OneFOneB, 2u32, 8u32, 1u32),
        (Schedule::OneFOneB, 4, 4, 1),
        (Schedule::OneFOneB, 4, 16, 1),
        (Schedule::OneFOneB, 3, 7, 1),
        (Schedule::Interleaved, 2, 4, 2),
        (Schedule::Interleaved, 4, 8, 2),
        (Schedule::Interleaved, 4, 4, 3),
        (Schedule::Interleaved, 4, 12, 3),
    ];
    for (schedule, p, m, v) in cases {
        let w = uniform((p * v) as usize, m, f, b, 0, 0);
        let shape = Shape {
            stages: p,
            microbatches: m,
            virtual_stages: v,
        };
        let want = rendezvous(schedule, shape, (f, b), hop);
        let got = makespan(&c, &blocking(&w, p, m, v, schedule));
        assert_eq!(got, want, "{schedule} p={p} m={m} v={v}");
        let asynchronous = makespan(&c, &job_with_virtual_stages(&w, p, 1, m, v, schedule));
        assert!(got > asynchronous, "{schedule} p={p} m={m} v={v}");
    }
}

#[test]
fn blocking_is_refused_outside_megatrons_schedules() {
    for s in [Schedule::OneFOneB, Schedule::Interleaved] {
        assert!(P2p::Blocking.supports(s));
    }
    for s in [
        Schedule::Gpipe,
        Schedule::Naive,
        Schedule::Pipedream,
        Schedule::ZbH1,
    ] {
        assert!(!P2p::Blocking.supports(s) && P2p::Async.supports(s), "{s}");
    }
}
