//! One component per file. Components take props and report intent through callbacks; only the
//! root (`app.rs`) dispatches actions.
//!
//! Planned, not yet built: `generators.rs`, the panel that writes IPPool, IPReservation and
//! annotation manifests (per-ordinal pools for StatefulSets, a reservation for a static IP, the
//! fixed pool CIDR). It needs generator entry points in `ipam-core` and will sit in the results
//! pane after the address map; the page must not invent manifests on its own.

pub mod address_map;
pub mod allocations;
pub mod block_detail;
pub mod diagnostics;
pub mod editor;
pub mod embed_bar;
pub mod gallery;
pub mod gutter;
pub mod header;
pub mod line_marks;
pub mod pool_usage;
pub mod resources;
pub mod summary;
pub mod tunnels;

use std::rc::Rc;

use crate::state::Plan;

/// The simulated cluster's nodes in order of first appearance, each with a colour class
/// (`node-0` … `node-7`, repeating) shared by every view.
#[derive(Debug, PartialEq)]
pub struct Palette {
    nodes: Vec<String>,
}

pub const NODE_COLOURS: usize = 8;

impl Palette {
    pub fn of(plan: &Plan) -> Rc<Palette> {
        let mut nodes: Vec<String> = Vec::new();
        let mut add = |name: &str| {
            if !name.is_empty() && !nodes.iter().any(|n| n == name) {
                nodes.push(name.to_owned());
            }
        };
        for doc in plan.analysis.documents.iter().filter(|d| d.kind == "Node") {
            add(&doc.name);
        }
        let sim = &plan.simulation;
        sim.tunnels.iter().for_each(|t| add(&t.node));
        sim.pods.iter().for_each(|p| add(&p.node));
        for block in &sim.blocks {
            if let Some(node) = block.affinity.as_deref().and_then(affinity_node) {
                add(node);
            }
        }
        Rc::new(Palette { nodes })
    }

    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// The colour class of `node`; unknown nodes get a neutral class.
    pub fn class(&self, node: &str) -> String {
        match self.nodes.iter().position(|n| n == node) {
            Some(i) => format!("node-{}", i % NODE_COLOURS),
            None => "node-none".to_owned(),
        }
    }
}

/// The node of a block affinity such as `host:node-1`.
pub fn affinity_node(affinity: &str) -> Option<&str> {
    affinity.strip_prefix("host:")
}

/// A count with thin-space thousands separators (counts may exceed 64 bits).
pub fn count(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() * 4 / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// `part / whole` as a percentage with one decimal, for display only.
pub fn percent(part: u128, whole: u128) -> String {
    if whole == 0 {
        return "0%".to_owned();
    }
    let p = part as f64 / whole as f64 * 100.0;
    if p > 0.0 && p < 0.1 {
        "<0.1%".to_owned()
    } else if part < whole && p >= 99.95 {
        ">99.9%".to_owned()
    } else {
        format!("{p:.1}%")
    }
}
