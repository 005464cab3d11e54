//! DEVELOPMENT FIXTURE, compiled only with `--features fixture` (never in `make dist`).
//!
//! A hand-written simulation of `static/examples/healthy-cluster.yaml`, used in place of an
//! empty simulation so the allocation table, utilization bars, address map and tunnel list can
//! be looked at and tested (tests/e2e/fixture.test.mjs with FIXTURE_DIST) while the core's
//! simulator is being written. The numbers are plausible, not computed: nothing here is an IPAM
//! rule, and none of it reaches users.

use std::net::IpAddr;

use ipam_core::simulate::{
    AddressSource, AddressUse, BlockRelation, BlockView, PodAllocation, PoolUsage, Simulation,
    TunnelAllocation, TunnelKind,
};
use ipam_core::yaml::Pos;
use ipam_core::Diagnostic;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("fixture address")
}

#[allow(clippy::too_many_arguments)]
fn pod(
    name: &str,
    node: &str,
    addr: &str,
    source: AddressSource,
    pool: &str,
    block: &str,
    relation: BlockRelation,
    why: &str,
    line: u32,
) -> PodAllocation {
    PodAllocation {
        namespace: "default".into(),
        name: name.into(),
        node: node.into(),
        ips: vec![ip(addr)],
        source,
        pool: Some(pool.into()),
        block: Some(block.into()),
        relation: Some(relation),
        explanation: why.into(),
        file: None,
        line: Some(line),
    }
}

fn pod_use(name: &str, is_static: bool) -> AddressUse {
    AddressUse::Pod {
        namespace: "default".into(),
        name: name.into(),
        is_static,
    }
}

/// The fixture when `sim` is empty, else `sim` unchanged. `text` is the planned input: a fix
/// with an edit is offered for its first `natOutgoing: true`, to exercise "Apply fix".
pub fn fill(sim: Simulation, text: &str) -> Simulation {
    if !sim.pods.is_empty() || !sim.pools.is_empty() {
        return sim;
    }
    let auto = AddressSource::Auto;
    let pods = vec![
        pod("web-0", "node-1", "10.244.0.17", auto, "default-ipv4-ippool", "10.244.0.0/26", BlockRelation::Affine,
            "Automatic assignment on node-1 took the first free address of its affine block, after the reserved 10.244.0.0/28.", 48),
        pod("web-1", "node-2", "10.244.37.65", auto, "default-ipv4-ippool", "10.244.37.64/26", BlockRelation::Affine,
            "Automatic assignment on node-2 took the next free address of its affine block.", 48),
        pod("web-2", "node-1", "10.244.0.18", auto, "default-ipv4-ippool", "10.244.0.0/26", BlockRelation::Affine,
            "Round-robin placed the pod on node-1; its affine block had free addresses.", 48),
        pod("database", "node-1", "10.245.0.10", AddressSource::Static, "static-ips", "10.245.0.0/28", BlockRelation::NewlyClaimed,
            "cni.projectcalico.org/ipAddrs requested 10.245.0.10; node-1 claimed its block.", 65),
        PodAllocation {
            namespace: "default".into(),
            name: "overflow".into(),
            node: "node-2".into(),
            ips: vec![],
            source: AddressSource::None,
            pool: None,
            block: None,
            relation: None,
            explanation: "No pool selected node-2 for this pod (fixture row showing a failure).".into(),
            file: None,
            line: None,
        },
    ];
    let tunnels = vec![
        TunnelAllocation {
            node: "node-1".into(),
            kind: TunnelKind::Ipip,
            ip: ip("10.244.0.16"),
        },
        TunnelAllocation {
            node: "node-2".into(),
            kind: TunnelKind::Ipip,
            ip: ip("10.244.37.64"),
        },
    ];
    let blocks = vec![
        BlockView {
            cidr: "10.244.0.0/26".into(),
            pool: "default-ipv4-ippool".into(),
            affinity: Some("host:node-1".into()),
            size: 64,
            used: vec![
                (
                    ip("10.244.0.16"),
                    AddressUse::Tunnel {
                        node: "node-1".into(),
                        kind: TunnelKind::Ipip,
                    },
                ),
                (ip("10.244.0.17"), pod_use("web-0", false)),
                (ip("10.244.0.18"), pod_use("web-2", false)),
                (ip("10.244.0.19"), AddressUse::Cooldown),
            ],
            reserved: vec!["10.244.0.0/28".into()],
        },
        BlockView {
            cidr: "10.244.37.64/26".into(),
            pool: "default-ipv4-ippool".into(),
            affinity: Some("host:node-2".into()),
            size: 64,
            used: vec![
                (
                    ip("10.244.37.64"),
                    AddressUse::Tunnel {
                        node: "node-2".into(),
                        kind: TunnelKind::Ipip,
                    },
                ),
                (ip("10.244.37.65"), pod_use("web-1", false)),
            ],
            reserved: vec![],
        },
        BlockView {
            cidr: "10.245.0.0/28".into(),
            pool: "static-ips".into(),
            affinity: Some("host:node-1".into()),
            size: 16,
            used: vec![(ip("10.245.0.10"), pod_use("database", true))],
            reserved: vec![],
        },
    ];
    let pools = vec![
        PoolUsage {
            name: "default-ipv4-ippool".into(),
            cidr: "10.244.0.0/16".into(),
            capacity: 65536,
            in_use: 5,
            reserved: 16,
            available: 65515,
        },
        PoolUsage {
            name: "static-ips".into(),
            cidr: "10.245.0.0/24".into(),
            capacity: 256,
            in_use: 1,
            reserved: 0,
            available: 255,
        },
        PoolUsage {
            name: "v6".into(),
            cidr: "fd00:10:244::/48".into(),
            capacity: 1 << 80,
            in_use: 0,
            reserved: 0,
            available: 1 << 80,
        },
    ];
    let mut diagnostics = sim.diagnostics;
    diagnostics.push(
        Diagnostic::warning(
            "static-ip-unprotected",
            "fixture: 10.245.0.10 could be taken by automatic assignment first",
        )
        .calico(
            "resource already exists: 10.245.0.10 with error: Address already assigned in block",
        ),
    );
    if let Some((n, line)) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim() == "natOutgoing: true")
    {
        let line_no = n as u32 + 1;
        let column = line.find("true").unwrap_or(0) as u32 + 1;
        diagnostics.push(
            Diagnostic::info("fixture-fix", "fixture: a fix that turns natOutgoing off")
                .at(
                    None,
                    Pos {
                        line: line_no,
                        column,
                    },
                )
                .with_fix("Set natOutgoing to false", "natOutgoing: false")
                .with_edit(
                    Pos {
                        line: line_no,
                        column,
                    },
                    Pos {
                        line: line_no,
                        column: column + 4,
                    },
                    "false",
                ),
        );
    }
    Simulation {
        pods,
        tunnels,
        blocks,
        pools,
        diagnostics,
    }
}
