//! The result shapes of the contract, serialized identically by the CLI (`--format json`) and the
//! page's JS API.

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Summary};
use crate::simulate::{AddressSource, Simulation};

/// `check`: `{"diagnostics": [...], "summary": {"errors", "warnings", "infos"}}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckReport {
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
}

impl CheckReport {
    pub fn new(diagnostics: Vec<Diagnostic>) -> CheckReport {
        let summary = Summary::of(&diagnostics);
        CheckReport {
            diagnostics,
            summary,
        }
    }

    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }
}

/// `simulate`: the contract's JSON shape of a cluster run. Counts are decimal strings because
/// IPv6 pools exceed 64 bits; addresses are canonical text without a prefix length.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimulationReport {
    pub pods: Vec<PodReport>,
    pub tunnels: Vec<TunnelReport>,
    pub blocks: Vec<BlockReport>,
    pub pools: Vec<PoolReport>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodReport {
    pub namespace: String,
    pub name: String,
    pub node: String,
    pub ips: Vec<String>,
    pub source: AddressSource,
    pub pool: Option<String>,
    pub block: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TunnelReport {
    pub node: String,
    pub kind: &'static str,
    pub ip: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockReport {
    pub cidr: String,
    pub pool: String,
    pub affinity: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PoolReport {
    pub name: String,
    pub cidr: String,
    pub capacity: String,
    pub in_use: String,
    pub reserved: String,
    pub available: String,
}

impl From<&Simulation> for SimulationReport {
    fn from(sim: &Simulation) -> SimulationReport {
        SimulationReport {
            pods: sim
                .pods
                .iter()
                .map(|p| PodReport {
                    namespace: p.namespace.clone(),
                    name: p.name.clone(),
                    node: p.node.clone(),
                    ips: p.ips.iter().map(ToString::to_string).collect(),
                    source: p.source,
                    pool: p.pool.clone(),
                    block: p.block.clone(),
                })
                .collect(),
            tunnels: sim
                .tunnels
                .iter()
                .map(|t| TunnelReport {
                    node: t.node.clone(),
                    kind: t.kind.as_str(),
                    ip: t.ip.to_string(),
                })
                .collect(),
            blocks: sim
                .blocks
                .iter()
                .map(|b| BlockReport {
                    cidr: b.cidr.clone(),
                    pool: b.pool.clone(),
                    affinity: b.affinity.clone(),
                })
                .collect(),
            pools: sim
                .pools
                .iter()
                .map(|p| PoolReport {
                    name: p.name.clone(),
                    cidr: p.cidr.clone(),
                    capacity: p.capacity.to_string(),
                    in_use: p.in_use.to_string(),
                    reserved: p.reserved.to_string(),
                    available: p.available.to_string(),
                })
                .collect(),
            diagnostics: sim.diagnostics.clone(),
        }
    }
}
