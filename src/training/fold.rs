//! Folding identical data-parallel replicas: simulate replica 0 and let it
//! stand for all d, when that is provably exact; refuse otherwise.
//!
//! The proof is structural. Replica r's GPUs are replica 0's moved by the
//! placement (GPU(r, s, k) ↦ GPU(0, s, k)); its ops have the same times
//! (op times never depend on r) and, without noise, the same perturbations.
//! Every flow of the job is checked — pipeline hops, every pair inside a
//! tensor group, the tied-embedding pair, every edge of every gradient ring:
//! - its route is two links through one switch, the only shortest path
//!   (so no ECMP hash can change it), so each link it crosses belongs to
//!   one GPU (the sender's uplink, the receiver's downlink);
//! - the map φ that sends each link of a GPU of replica r to the link of
//!   the same role of its replica-0 GPU is well defined (every flow that
//!   crosses a link maps it to the same image), one-to-one inside each
//!   replica, and keeps bandwidth, latency and each route's delay.
//!
//! Then every link L carries exactly one member of each flow orbit whose
//! representative crosses φ(L) (for the member of L's replica: φ is
//! one-to-one there; the others' links belong to other replicas), with the
//! same capacity: max-min rates, and so all times, are those of replica 0.
//! A gradient ring over the d replicas is rotation-symmetric when its
//! pieces are equal (bytes divisible by d): rank r receives step i when it
//! sends it, so replica 0's view is a chain of 2(d−1) sends (d−1 for
//! ZeRO-1's reduce-scatter and all-gather) of bytes/d over a loopback route:
//! its own uplink as on edge 0 → 1 and its own downlink as on edge
//! d−1 → 0 (φ of edge r → r+1's links).
//!
//! It refuses: one replica; noise (it differs per replica); gradient
//! algorithms other than a one-chunk ring; unequal ring pieces; any route
//! that is not a unique two-link path (e.g. across a shared spine); a φ
//! that is not well defined or not one-to-one. What it does not fold:
//! tensor ranks (their collectives would need the same proof per
//! algorithm).

use super::{Parallelism, TrainingJob, buckets};
use crate::collective::Algorithm;
use crate::ids::{GpuId, LinkId, TaskId};
use crate::schedule::stage_of_virtual;
use crate::topology::{Cluster, LinkKind, Route};
use std::collections::HashMap;

/// What a folded plan needs beyond its graph.
#[derive(Clone, Debug, Default)]
pub struct Fold {
    /// Replicas replica 0 stands for.
    pub replicas: u32,
    /// Per cluster GPU: the replica-0 GPU that stands for it (itself for
    /// GPUs outside the job).
    pub representative: Vec<GpuId>,
    /// Each link of replicas 1.. that the job uses, with the replica-0
    /// link whose history it shares.
    pub link_images: Vec<(LinkId, LinkId)>,
    /// Per gradient-ring GPU of replica 0: its loopback route.
    pub loopbacks: Vec<(GpuId, Route)>,
    /// Per gradient collective of the plan: the first task of its chain,
    /// its name and bytes.
    pub rings: Vec<(TaskId, String, u64)>,
}

/// Why replicas are not folded (the plan then expands every replica).
pub type Refusal = &'static str;

const NONE: u32 = u32::MAX;

/// The proof under construction: φ, and the replica of each GPU.
struct Proof<'c> {
    cluster: &'c Cluster,
    /// Per cluster GPU: its replica (NONE outside the job).
    replica: Vec<u32>,
    representative: Vec<GpuId>,
    /// φ per link (NONE until a flow crosses it).
    phi: Vec<u32>,
    /// (replica, image) → link: φ is one-to-one inside a replica.
    preimage: HashMap<(u32, u32), u32>,
}

impl<'c> Proof<'c> {
    fn new(job: &TrainingJob, cluster: &'c Cluster) -> Self {
        let Parallelism {
            data: d,
            pipeline: p,
            tensor: t,
            ..
        } = job.parallelism;
        let n = cluster.num_gpus();
        let mut replica = vec![NONE; n];
        let mut representative: Vec<GpuId> = (0..n).map(GpuId::from_index).collect();
        for r in 0..d {
            for s in 0..p {
                for k in 0..t {
                    let g = job.gpu(r, s, k).index();
                    replica[g] = r;
                    representative[g] = job.gpu(0, s, k);
                }
            }
        }
        Proof {
            cluster,
            replica,
            representative,
            phi: vec![NONE; cluster.links().len()],
            preimage: HashMap::new(),
        }
    }

    /// The route of a→b, if it is the unique two-link path through one
    /// switch (intra-host links preferred, as the router does).
    fn unique_route(&self, a: GpuId, b: GpuId) -> Result<Route, Refusal> {
        const NOT_UNIQUE: Refusal = "a route is not a unique two-link path through one switch";
        let c = self.cluster;
        let route = c.route(a, b, 0);
        let [first, last] = route.links[..] else {
            return Err(NOT_UNIQUE);
        };
        let (an, bn) = (c.gpu(a).node, c.gpu(b).node);
        // Switches joined to both a and b, by first link out of a.
        let mut firsts: Vec<LinkId> = c
            .out_links(an)
            .iter()
            .copied()
            .filter(|&l| {
                let y = c.link(l).to;
                c.out_links(bn).iter().any(|&m| c.link(m).to == y)
            })
            .collect();
        if firsts
            .iter()
            .any(|&l| c.link(l).kind == LinkKind::IntraHost)
        {
            firsts.retain(|&l| c.link(l).kind == LinkKind::IntraHost);
        }
        let x = c.link(first).to;
        let into_b = c
            .out_links(bn)
            .iter()
            .filter(|&&m| c.link(m).to == x)
            .count();
        if firsts != [first] || into_b != 1 || c.link(last).to != bn {
            return Err(NOT_UNIQUE);
        }
        Ok(route)
    }

    /// Records φ(link) = image for a link of `replica`.
    fn map(&mut self, link: LinkId, image: LinkId, replica: u32) -> Result<(), Refusal> {
        let c = self.cluster;
        let (l, m) = (c.link(link), c.link(image));
        if l.bandwidth != m.bandwidth || l.latency != m.latency || l.kind != m.kind {
            return Err("a link of one replica differs from its image in replica 0");
        }
        match self.phi[link.index()] {
            NONE => {
                self.phi[link.index()] = image.0;
                if self
                    .preimage
                    .insert((replica, image.0), link.0)
                    .is_some_and(|other| other != link.0)
                {
                    return Err("two links of one replica share an image in replica 0");
                }
                Ok(())
            }
            old if old == image.0 => Ok(()),
            _ => Err("routes of the replicas differ"),
        }
    }

    /// Flow a→b and its image: first link ↦ `image.0`, last ↦ `image.1`,
    /// with the same delay.
    fn flow(&mut self, a: GpuId, b: GpuId, image: (LinkId, LinkId, u64)) -> Result<(), Refusal> {
        let route = self.unique_route(a, b)?;
        if delay(&route) != image.2 {
            return Err("routes of the replicas differ in latency");
        }
        self.map(route.links[0], image.0, self.replica[a.index()])?;
        self.map(route.links[1], image.1, self.replica[b.index()])
    }

    /// Every replica's copy of the flow (0,·)→(0,·) given by `ends(r)`.
    fn orbit(&mut self, d: u32, ends: impl Fn(u32) -> (GpuId, GpuId)) -> Result<(), Refusal> {
        let (a, b) = ends(0);
        let rep = self.unique_route(a, b)?;
        let image = (rep.links[0], rep.links[1], delay(&rep));
        for r in 0..d {
            let (a, b) = ends(r);
            self.flow(a, b, image)?;
        }
        Ok(())
    }
}

fn delay(r: &Route) -> u64 {
    (r.latency + r.overhead).ps()
}

/// Proves that the replicas of `job` on `cluster` may be folded (see the
/// module doc), or says why not.
pub fn prove(job: &TrainingJob, cluster: &Cluster, quiet: bool) -> Result<Fold, Refusal> {
    let Parallelism {
        data: d,
        pipeline: p,
        tensor: t,
        ..
    } = job.parallelism;
    if d < 2 {
        return Err("one replica");
    }
    if !quiet {
        return Err("noise differs per replica");
    }
    let dp = &job.data_parallel;
    if dp.algorithm != Algorithm::Ring || dp.chunks != 1 {
        return Err("gradient collectives are not one-chunk rings");
    }
    let mut proof = Proof::new(job, cluster);
    let v = job.all_virtual_stages();
    for j in 0..v.saturating_sub(1) {
        let (s, s2) = (stage_of_virtual(j, p), stage_of_virtual(j + 1, p));
        for k in 0..t {
            if job.gpu(0, s, k) != job.gpu(0, s2, k) {
                proof.orbit(d, |r| (job.gpu(r, s, k), job.gpu(r, s2, k)))?;
                proof.orbit(d, |r| (job.gpu(r, s2, k), job.gpu(r, s, k)))?;
            }
        }
    }
    for s in 0..p {
        for k in 0..t {
            for k2 in (0..t).filter(|&k2| k2 != k) {
                proof.orbit(d, |r| (job.gpu(r, s, k), job.gpu(r, s, k2)))?;
            }
        }
    }
    let tied = job
        .workload
        .model
        .as_ref()
        .map_or(0, |m| m.tied_embedding_bytes);
    if p > 1 && tied > 0 {
        for k in 0..t {
            proof.orbit(d, |r| (job.gpu(r, 0, k), job.gpu(r, p - 1, k)))?;
            proof.orbit(d, |r| (job.gpu(r, p - 1, k), job.gpu(r, 0, k)))?;
        }
    }
    let mut loopbacks = Vec::new();
    for s in 0..p {
        for k in 0..t {
            loopbacks.push(ring_loopback(&mut proof, d, |r| job.gpu(r % d, s, k))?);
        }
    }
    for j in 0..job.all_virtual_stages() {
        let range = job.layers(j);
        let layers = &job.workload.layers[range.clone()];
        for group in buckets(layers, range.start, dp.bucket_bytes) {
            let bytes: u64 = group
                .iter()
                .map(|&l| job.workload.layers[l].grad_bytes)
                .sum();
            if !bytes.is_multiple_of(u64::from(d)) {
                return Err("a gradient bucket does not split into equal ring pieces");
            }
        }
    }
    let link_images = proof
        .phi
        .iter()
        .enumerate()
        .filter(|&(l, &m)| m != NONE && m as usize != l)
        .map(|(l, &m)| (LinkId::from_index(l), LinkId(m)))
        .collect();
    Ok(Fold {
        replicas: d,
        representative: proof.representative,
        link_images,
        loopbacks,
        rings: Vec::new(),
    })
}

/// The loopback route of ring rank 0 (`gpu(0)`): its uplink as on edge
/// 0 → 1, its downlink as on edge d−1 → 0; every edge r → r+1 maps onto it.
fn ring_loopback(
    proof: &mut Proof,
    d: u32,
    gpu: impl Fn(u32) -> GpuId,
) -> Result<(GpuId, Route), Refusal> {
    let out = proof.unique_route(gpu(0), gpu(1))?;
    let into = proof.unique_route(gpu(d - 1), gpu(0))?;
    let image = (out.links[0], into.links[1], delay(&out));
    for r in 0..d {
        proof.flow(gpu(r), gpu(r + 1), image)?;
    }
    let route = Route {
        links: vec![image.0, image.1],
        latency: out.latency,
        overhead: out.overhead,
    };
    Ok((gpu(0), route))
}
