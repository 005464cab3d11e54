//! One component per file. Components take props and report intent through callbacks; only the
//! root (`app.rs`) dispatches actions.
//!
//! `generators.rs` is the Generate panel (after the address map): a static IP for a pod, a
//! reserved range, the capacity planner. Every manifest comes from `ipam_core::generate`; the
//! page invents none.

pub mod address_map;
pub mod allocations;
pub mod block_detail;
pub mod capacity_form;
pub mod diagnostics;
pub mod editor;
pub mod embed_bar;
pub mod existing_input;
pub mod gallery;
pub mod generated_output;
pub mod generators;
pub mod gutter;
pub mod header;
pub mod line_marks;
pub mod pool_usage;
pub mod reserve_form;
pub mod resources;
pub mod static_ip_form;
pub mod summary;
pub mod tunnels;

use std::rc::Rc;

use crate::state::Plan;

/// The simulated cluster's nodes in start order, each with a colour class
/// (`node-0` … `node-7`, repeating) shared by every view.
#[derive(Debug, PartialEq)]
pub struct Palette {
    nodes: Vec<String>,
}

pub const NODE_COLOURS: usize = 8;

impl Palette {
    /// The simulation's nodes in start order, then any node only a block's affinity names.
    pub fn of(plan: &Plan) -> Rc<Palette> {
        let sim = &plan.simulation;
        let mut nodes: Vec<String> = sim.nodes.iter().map(|n| n.name.clone()).collect();
        for block in &sim.blocks {
            if let Some(node) = block.affinity.as_deref().and_then(affinity_node) {
                if !nodes.iter().any(|n| n == node) {
                    nodes.push(node.to_owned());
                }
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
