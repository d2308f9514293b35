//! The link map φ that every fold rests on, and the route checks that build
//! it.
//!
//! GPUs fall into copies (a replica, a tensor rank, a ring rank: whatever
//! is folded). Every flow of the expanded run is checked against the flow
//! that stands for it (its image): its route must be the unique two-link
//! path through one switch (so no ECMP hash can change it, and each link
//! it crosses belongs to one GPU: the sender's uplink, the receiver's
//! downlink), with the same delay as the image's; its first link maps to
//! the image's first, its last to the image's last. φ must be well defined
//! (every flow crossing a link maps it to the same image), keep bandwidth,
//! latency and kind, and be one-to-one inside each copy.
//!
//! Why that suffices: take a link L of copy c and a flow F crossing φ(L).
//! Every orbit (a flow and its members) has exactly one member whose
//! sender, and one whose receiver, is in c; that member crosses a link of c
//! with image φ(L), which is L since φ is one-to-one inside c. Conversely
//! two members of one orbit never share a link (their senders differ, and
//! so do their receivers). So the flows on L are in one-to-one
//! correspondence with those on φ(L), over links of equal capacity: the
//! max-min rates, and so all times, of the images are those of the members.
//!
//! It does not decide which flows a job has (the callers list them) nor
//! whether their start times and sizes agree (the callers check that).

use crate::ids::{GpuId, LinkId};
use crate::topology::{Cluster, LinkKind, Route};
use std::collections::HashMap;

/// Why a fold is refused (the plan then expands everything).
pub type Refusal = &'static str;

pub(super) const NONE: u32 = u32::MAX;

/// The image of a flow: its first and last link and its delay (ps).
pub(super) type Image = (LinkId, LinkId, u64);

/// The proof under construction: φ, and the copy of each GPU.
pub(super) struct Proof<'c> {
    pub(super) cluster: &'c Cluster,
    /// Per cluster GPU: its copy (NONE outside what is folded).
    copy: Vec<u32>,
    /// φ per link (NONE until a flow crosses it).
    phi: Vec<u32>,
    /// (copy, image) → link: φ is one-to-one inside a copy.
    preimage: HashMap<(u32, u32), u32>,
}

impl<'c> Proof<'c> {
    pub(super) fn new(cluster: &'c Cluster, copy: Vec<u32>) -> Self {
        Proof {
            cluster,
            copy,
            phi: vec![NONE; cluster.links().len()],
            preimage: HashMap::new(),
        }
    }

    /// The route of a→b, if it is the unique two-link path through one
    /// switch (intra-host links preferred, as the router does).
    pub(super) fn unique_route(&self, a: GpuId, b: GpuId) -> Result<Route, Refusal> {
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

    /// The image a→b's own route gives (for a flow that stands for itself
    /// and others).
    pub(super) fn image(&self, a: GpuId, b: GpuId) -> Result<Image, Refusal> {
        let r = self.unique_route(a, b)?;
        Ok((r.links[0], r.links[1], delay(&r)))
    }

    /// Records φ(link) = image for a link of `copy`.
    fn map(&mut self, link: LinkId, image: LinkId, copy: u32) -> Result<(), Refusal> {
        let c = self.cluster;
        let (l, m) = (c.link(link), c.link(image));
        if l.bandwidth != m.bandwidth || l.latency != m.latency || l.kind != m.kind {
            return Err("a link differs from the link that stands for it");
        }
        match self.phi[link.index()] {
            NONE => {
                self.phi[link.index()] = image.0;
                if self
                    .preimage
                    .insert((copy, image.0), link.0)
                    .is_some_and(|other| other != link.0)
                {
                    return Err("two links of one copy share the link that stands for them");
                }
                Ok(())
            }
            old if old == image.0 => Ok(()),
            _ => Err("routes of the folded copies differ"),
        }
    }

    /// Flow a→b is a member of the orbit of `image`: first link ↦
    /// `image.0`, last ↦ `image.1`, with the same delay.
    pub(super) fn flow(&mut self, a: GpuId, b: GpuId, image: Image) -> Result<(), Refusal> {
        let route = self.unique_route(a, b)?;
        if delay(&route) != image.2 {
            return Err("routes of the folded copies differ in latency");
        }
        self.map(route.links[0], image.0, self.copy[a.index()])?;
        self.map(route.links[1], image.1, self.copy[b.index()])
    }

    /// Rings that all stand for `rings[0]`, each a rotation-symmetric ring
    /// of equal pieces (checked by the caller): rank 0 of `rings[0]`
    /// receives step i when it sends it, so its view is a chain of sends
    /// over a loopback route: its own uplink as on edge 0 → 1 and its own
    /// downlink as on edge n−1 → 0; every edge of every ring maps onto it.
    pub(super) fn ring_loopback(&mut self, rings: &[Vec<GpuId>]) -> Result<Route, Refusal> {
        let ring = &rings[0];
        let n = ring.len();
        let out = self.unique_route(ring[0], ring[1 % n])?;
        let into = self.unique_route(ring[n - 1], ring[0])?;
        let image = (out.links[0], into.links[1], delay(&out));
        for ring in rings {
            for i in 0..n {
                self.flow(ring[i], ring[(i + 1) % n], image)?;
            }
        }
        Ok(Route {
            links: vec![image.0, image.1],
            latency: out.latency,
            overhead: out.overhead,
        })
    }

    /// Each link some flow crosses that is not its own image, with its
    /// image.
    pub(super) fn link_images(&self) -> Vec<(LinkId, LinkId)> {
        self.phi
            .iter()
            .enumerate()
            .filter(|&(l, &m)| m != NONE && m as usize != l)
            .map(|(l, &m)| (LinkId::from_index(l), LinkId(m)))
            .collect()
    }
}

fn delay(r: &Route) -> u64 {
    (r.latency + r.overhead).ps()
}
