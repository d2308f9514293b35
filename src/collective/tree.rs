//! Pipelined reduce-then-broadcast trees: NCCL's "tree" algorithm.
//!
//! A [`Trees`] machine runs several trees at once, each over all ranks and
//! each carrying its own share of the buffer (on its own ECMP channel). In a
//! tree, a rank sends chunk c to its parent once every child has sent it
//! chunk c; the root starts broadcasting chunk c once it has reduced it;
//! every tree edge carries its chunks one after another, so chunks pipeline.
//!
//! [`double_tree`] is the flat double binary tree: tree 0 puts rank i at heap
//! position i, tree 1 at position n−1−i, so most ranks that are leaves of
//! one tree are inner nodes of the other; each tree moves half the buffer.
//! The NCCL-like trees (chains inside hosts under a double binary tree of
//! hosts) are built in `nccl.rs` from the same machine.
//!
//! For n = 2 the double tree is one exchange each way twice: 2(α + S/(2B)).

use super::{Machine, Message, part_bytes};
use crate::ids::GpuId;

const UP: u64 = 0;
const DOWN: u64 = 1;
/// `parent` of a tree's root.
pub const ROOT: u32 = u32::MAX;

/// One tree: the rank at each position, each position's parent position
/// ([`ROOT`] for the root), the bytes it reduces and its ECMP channel.
pub struct TreeShape {
    pub ranks: Vec<GpuId>,
    pub parent: Vec<u32>,
    pub bytes: u64,
    pub channel: u32,
}

/// Per-tree, per-position state.
struct TreeState {
    shape: TreeShape,
    /// Children of position p: `kids[kid_start[p]..kid_start[p + 1]]`.
    kid_start: Vec<u32>,
    kids: Vec<u32>,
    /// Chunks the parent has received from child p.
    up_recv: Vec<u64>,
    up_next: Vec<u64>,
    up_busy: Vec<bool>,
    /// Chunks position p holds in the broadcast phase.
    down_have: Vec<u64>,
    down_next: Vec<u64>,
    down_busy: Vec<bool>,
}

impl TreeState {
    fn new(shape: TreeShape) -> Self {
        let n = shape.ranks.len();
        let mut count = vec![0u32; n + 1];
        for &p in &shape.parent {
            if p != ROOT {
                count[p as usize + 1] += 1;
            }
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let mut fill = count.clone();
        let mut kids = vec![0u32; n.saturating_sub(1)];
        for (c, &p) in shape.parent.iter().enumerate() {
            if p != ROOT {
                kids[fill[p as usize] as usize] = c as u32;
                fill[p as usize] += 1;
            }
        }
        TreeState {
            shape,
            kid_start: count,
            kids,
            up_recv: vec![0; n],
            up_next: vec![0; n],
            up_busy: vec![false; n],
            down_have: vec![0; n],
            down_next: vec![0; n],
            down_busy: vec![false; n],
        }
    }

    fn children(&self, p: usize) -> &[u32] {
        &self.kids[self.kid_start[p] as usize..self.kid_start[p + 1] as usize]
    }

    fn is_root(&self, p: usize) -> bool {
        self.shape.parent[p] == ROOT
    }
}

pub struct Trees {
    trees: Vec<TreeState>,
    chunks: u64,
    n: u64,
    delivered_down: u64,
    scratch: Vec<u32>,
}

/// The flat double binary tree over `ranks`, each tree carrying half of
/// `bytes` in `chunks` pipelined chunks.
pub fn double_tree(ranks: Vec<GpuId>, bytes: u64, chunks: u32) -> Trees {
    let n = ranks.len();
    let heap: Vec<u32> = (0..n as u32)
        .map(|p| if p == 0 { ROOT } else { (p - 1) / 2 })
        .collect();
    let mirrored: Vec<GpuId> = ranks.iter().rev().copied().collect();
    Trees::new(
        vec![
            TreeShape {
                ranks,
                parent: heap.clone(),
                bytes: part_bytes(bytes, 2, 0),
                channel: 0,
            },
            TreeShape {
                ranks: mirrored,
                parent: heap,
                bytes: part_bytes(bytes, 2, 1),
                channel: 1,
            },
        ],
        chunks,
    )
}

impl Trees {
    /// Trees over the same `n` ranks (in any position order), each cut into
    /// `chunks` pipelined chunks.
    pub fn new(shapes: Vec<TreeShape>, chunks: u32) -> Self {
        let n = shapes.first().map_or(0, |s| s.ranks.len()) as u64;
        Trees {
            trees: shapes.into_iter().map(TreeState::new).collect(),
            chunks: u64::from(chunks),
            n,
            delivered_down: 0,
            scratch: Vec::new(),
        }
    }

    fn emit(&self, t: usize, dir: u64, p: usize, c: u64, out: &mut Vec<Message>) {
        let s = &self.trees[t];
        let parent = s.shape.parent[p] as usize;
        let (src, dst) = if dir == UP { (p, parent) } else { (parent, p) };
        let id = ((t as u64 * 2 + dir) * self.n) + p as u64;
        out.push(Message {
            conn: id as u32,
            src: s.shape.ranks[src],
            dst: s.shape.ranks[dst],
            channel: s.shape.channel,
            bytes: part_bytes(s.shape.bytes, self.chunks, c),
            token: id,
        });
    }

    /// Position p sends its next chunk up if every one of its children has sent it.
    fn pump_up(&mut self, t: usize, p: usize, out: &mut Vec<Message>) {
        let s = &self.trees[t];
        if s.is_root(p) || s.up_busy[p] || s.up_next[p] == self.chunks {
            return;
        }
        let c = s.up_next[p];
        if s.children(p).iter().all(|&q| s.up_recv[q as usize] > c) {
            self.trees[t].up_busy[p] = true;
            self.trees[t].up_next[p] += 1;
            self.emit(t, UP, p, c, out);
        }
    }

    /// The parent of p sends p the next chunk if it has it.
    fn pump_down(&mut self, t: usize, p: usize, out: &mut Vec<Message>) {
        let s = &self.trees[t];
        if s.down_busy[p] || s.down_next[p] == self.chunks {
            return;
        }
        let c = s.down_next[p];
        if s.down_have[s.shape.parent[p] as usize] > c {
            self.trees[t].down_busy[p] = true;
            self.trees[t].down_next[p] += 1;
            self.emit(t, DOWN, p, c, out);
        }
    }

    fn pump_children(&mut self, t: usize, p: usize, out: &mut Vec<Message>) {
        let mut kids = std::mem::take(&mut self.scratch);
        kids.clear();
        kids.extend_from_slice(self.trees[t].children(p));
        for &q in &kids {
            self.pump_down(t, q as usize, out);
        }
        self.scratch = kids;
    }

    fn root_reduced(&mut self, t: usize, root: usize, out: &mut Vec<Message>) {
        let s = &self.trees[t];
        let have = s
            .children(root)
            .iter()
            .map(|&q| s.up_recv[q as usize])
            .min()
            .unwrap_or(self.chunks);
        self.trees[t].down_have[root] = have;
        self.pump_children(t, root, out);
    }
}

impl Machine for Trees {
    fn num_connections(&self) -> u32 {
        (2 * self.trees.len() as u64 * self.n) as u32
    }

    fn start(&mut self, out: &mut Vec<Message>) {
        for t in 0..self.trees.len() {
            for p in 0..self.n as usize {
                self.pump_up(t, p, out);
            }
        }
    }

    fn delivered(&mut self, token: u64, out: &mut Vec<Message>) -> bool {
        let p = (token % self.n) as usize;
        let td = token / self.n;
        let (t, dir) = ((td / 2) as usize, td % 2);
        if dir == UP {
            self.trees[t].up_busy[p] = false;
            self.trees[t].up_recv[p] += 1;
            self.pump_up(t, p, out);
            let parent = self.trees[t].shape.parent[p] as usize;
            if self.trees[t].is_root(parent) {
                self.root_reduced(t, parent, out);
            } else {
                self.pump_up(t, parent, out);
            }
        } else {
            self.delivered_down += 1;
            self.trees[t].down_busy[p] = false;
            self.trees[t].down_have[p] += 1;
            self.pump_down(t, p, out);
            self.pump_children(t, p, out);
        }
        self.is_done()
    }

    fn is_done(&self) -> bool {
        self.delivered_down == self.trees.len() as u64 * self.n.saturating_sub(1) * self.chunks
    }
}
