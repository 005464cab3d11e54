//! Every generated manifest is re-checked here the way the page does it: applied to the input,
//! planned again, and required to add no error or warning; the capacity planner's arithmetic is
//! compared with the simulator's run on small clusters.

use super::capacity::{self, CapacityRequest, FailureReason};
use super::*;
use crate::net::Family;
use crate::simulate::{AddressSource, BlockRelation};

const HEALTHY: &str = include_str!("../../../static/examples/healthy-cluster.yaml");

const AUTOMATIC: &str = "\
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pods
spec:
  cidr: 10.1.0.0/16
  ipipMode: Always
---
apiVersion: v1
kind: Node
metadata:
  name: node-1
---
apiVersion: v1
kind: Node
metadata:
  name: node-2
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  namespace: data
spec:
  nodeName: node-2
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: cache, namespace: data}
spec:
  replicas: 1
  template:
    spec: {nodeName: node-1}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 4
  template:
    metadata:
      labels: {app: web}
";

fn simulate(text: &str) -> crate::Simulation {
    crate::plan(&[Source::new(None, text)]).1
}

fn problems(text: &str) -> Vec<(&'static str, String)> {
    crate::check(&[Source::new(None, text)])
        .diagnostics
        .into_iter()
        .filter(|d| d.severity != Severity::Info)
        .map(|d| (d.code, d.message))
        .collect()
}

fn static_ip(input: &str, target: StaticIpTarget, pool: StaticIpPool) -> Generated {
    let generated = generate(
        input,
        &GenerateRequest::StaticIp(StaticIpRequest { target, pool }),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(generated.is_clean(), "{:?}", generated.diagnostics);
    generated
}

fn pod_ips(sim: &crate::Simulation, pod: &str) -> (Vec<String>, AddressSource) {
    let p = sim
        .pods
        .iter()
        .find(|p| format!("{}/{}", p.namespace, p.name) == pod)
        .unwrap_or_else(|| panic!("no pod {pod}"));
    (p.ips.iter().map(ToString::to_string).collect(), p.source)
}

#[test]
fn a_new_pod_in_a_manual_pool_needs_no_reservation_and_checks_clean() {
    assert!(problems(HEALTHY).is_empty());
    let generated = static_ip(
        HEALTHY,
        StaticIpTarget::NewPod {
            namespace: "default".into(),
            name: "ledger".into(),
            node: "node-2".into(),
        },
        StaticIpPool::Existing("static-ips".into()),
    );
    assert!(!generated.text.contains("IPReservation"));
    assert!(generated.edit.is_none());
    assert!(generated
        .text
        .contains("cni.projectcalico.org/ipAddrs: '[\"10.245.0.16\"]'"));
    let after = generated.apply_to(HEALTHY);
    assert!(problems(&after).is_empty());
    // database holds 10.245.0.10 in node-1's block 10.245.0.0/28; node-2 has no block there, so
    // the first unclaimed block 10.245.0.16/28 is used and becomes node-2's.
    let sim = simulate(&after);
    assert_eq!(
        pod_ips(&sim, "default/ledger"),
        (vec!["10.245.0.16".to_owned()], AddressSource::Static)
    );
}

#[test]
fn a_pod_with_a_static_address_is_told_the_new_one_replaces_it() {
    let generated = static_ip(
        HEALTHY,
        StaticIpTarget::Existing {
            namespace: "default".into(),
            name: "database".into(),
        },
        StaticIpPool::Existing("static-ips".into()),
    );
    assert!(generated
        .notes
        .iter()
        .any(|n| n.contains("default/database already asks for [\"10.245.0.10\"]")));
    let after = generated.apply_to(HEALTHY);
    // The old value is replaced in place, not duplicated.
    assert_eq!(
        after.matches("cni.projectcalico.org/ipAddrs:").count(),
        1 + 1
    );
    assert!(!after.contains("'[\"10.245.0.10\"]'"));
    assert!(problems(&after).is_empty());
}

#[test]
fn an_existing_pod_in_an_automatic_pool_gets_a_reservation_of_exactly_its_address() {
    assert!(problems(AUTOMATIC).is_empty());
    let generated = static_ip(
        AUTOMATIC,
        StaticIpTarget::Existing {
            namespace: "data".into(),
            name: "db".into(),
        },
        StaticIpPool::Existing("pods".into()),
    );
    assert!(generated.edit.is_some());
    let after = generated.apply_to(AUTOMATIC);
    let sim = simulate(&after);
    let (ips, source) = pod_ips(&sim, "data/db");
    assert_eq!(source, AddressSource::Static);
    let ip = &ips[0];
    assert!(
        generated.text.contains(&format!("- {ip}/32")),
        "{}",
        generated.text
    );
    assert!(after.contains(&format!("cni.projectcalico.org/ipAddrs: '[\"{ip}\"]'")));
    // The address is in node-2's block, and no other pod or tunnel has it.
    let block = sim
        .blocks
        .iter()
        .find(|b| b.used.iter().any(|(a, _)| a.to_string() == *ip))
        .unwrap();
    assert_eq!(block.affinity.as_deref(), Some("host:node-2"));
    assert_eq!(
        sim.pods
            .iter()
            .filter(|p| p.ips.iter().any(|a| a.to_string() == *ip))
            .count(),
        1
    );
    assert!(sim.tunnels.iter().all(|t| t.ip.to_string() != *ip));
    assert!(problems(&after).is_empty());
}

#[test]
fn a_one_replica_workload_gets_the_annotation_on_its_template() {
    let generated = static_ip(
        AUTOMATIC,
        StaticIpTarget::Existing {
            namespace: "data".into(),
            name: "cache".into(),
        },
        StaticIpPool::Existing("pods".into()),
    );
    let after = generated.apply_to(AUTOMATIC);
    let sim = simulate(&after);
    let (ips, source) = pod_ips(&sim, "data/cache-0");
    assert_eq!(source, AddressSource::Static);
    assert!(generated.title.contains(&ips[0]));
    // A template that yields several pods is refused: one address belongs to one pod.
    let error = generate(
        AUTOMATIC,
        &GenerateRequest::StaticIp(StaticIpRequest {
            target: StaticIpTarget::Existing {
                namespace: "default".into(),
                name: "web".into(),
            },
            pool: StaticIpPool::Existing("pods".into()),
        }),
    )
    .unwrap_err();
    assert!(error.message.contains("more than one pod"), "{error}");
}

#[test]
fn strict_affinity_keeps_the_address_in_a_block_of_the_pods_node() {
    let input = format!(
        "{AUTOMATIC}---\napiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata: {{name: default}}\nspec: {{strictAffinity: true, autoAllocateBlocks: true}}\n"
    );
    assert!(problems(&input).is_empty(), "{:?}", problems(&input));
    for node in ["node-1", "node-2"] {
        let generated = static_ip(
            &input,
            StaticIpTarget::NewPod {
                namespace: "default".into(),
                name: "fixed".into(),
                node: node.into(),
            },
            StaticIpPool::Existing("pods".into()),
        );
        let sim = simulate(&generated.apply_to(&input));
        let (ips, source) = pod_ips(&sim, "default/fixed");
        assert_eq!(source, AddressSource::Static);
        let pod = sim.pods.iter().find(|p| p.name == "fixed").unwrap();
        assert_eq!(pod.node, node);
        assert_ne!(pod.relation, Some(BlockRelation::Borrowed), "{ips:?}");
    }
}

#[test]
fn a_new_manual_pool_can_hold_the_address() {
    let generated = static_ip(
        AUTOMATIC,
        StaticIpTarget::Existing {
            namespace: "data".into(),
            name: "db".into(),
        },
        StaticIpPool::NewManual {
            name: String::new(),
            cidr: "10.2.0.0/29".into(),
        },
    );
    assert!(generated.text.contains("assignmentMode: Manual"));
    assert!(generated.text.contains("blockSize: 29"));
    assert!(
        generated
            .notes
            .iter()
            .any(|n| n.contains("10.2.0.0 is the first address of its block 10.2.0.0/29")),
        "{:?}",
        generated.notes
    );
    assert!(!generated.text.contains("IPReservation"));
    let sim = simulate(&generated.apply_to(AUTOMATIC));
    assert_eq!(
        pod_ips(&sim, "data/db"),
        (vec!["10.2.0.0".to_owned()], AddressSource::Static)
    );
    // An overlapping CIDR is refused.
    let error = generate(
        AUTOMATIC,
        &GenerateRequest::StaticIp(StaticIpRequest {
            target: StaticIpTarget::Existing {
                namespace: "data".into(),
                name: "db".into(),
            },
            pool: StaticIpPool::NewManual {
                name: String::new(),
                cidr: "10.1.8.0/24".into(),
            },
        }),
    )
    .unwrap_err();
    assert!(error.message.contains("overlaps pool pods"), "{error}");
}

#[test]
fn the_search_skips_used_tunnel_and_reserved_addresses_and_ipv6_works() {
    let input = "\
kind: IPPool
metadata: {name: v6}
spec: {cidr: 'fd00:10::/120', blockSize: 126, vxlanMode: Always}
---
kind: IPReservation
metadata: {name: keep}
spec: {reservedCIDRs: ['fd00:10::1/128']}
---
kind: Pod
metadata: {name: a}
spec: {nodeName: node-1}
";
    assert!(problems(input).is_empty(), "{:?}", problems(input));
    let generated = static_ip(
        input,
        StaticIpTarget::NewPod {
            namespace: "default".into(),
            name: "b".into(),
            node: "node-1".into(),
        },
        StaticIpPool::Existing("v6".into()),
    );
    let sim = simulate(&generated.apply_to(input));
    let taken: Vec<String> = sim
        .tunnels
        .iter()
        .map(|t| t.ip.to_string())
        .chain(pod_ips(&sim, "default/a").0)
        .collect();
    let (ips, _) = pod_ips(&sim, "default/b");
    assert!(!taken.contains(&ips[0]));
    assert_ne!(ips[0], "fd00:10::1");
    assert!(generated.text.contains(&format!("- {}/128", ips[0])));
    assert!(generated.text.contains("name: static-fd00-10--"));
}

#[test]
fn a_range_inside_a_pool_is_reserved_and_addresses_in_use_are_named() {
    let generated = generate(
        AUTOMATIC,
        &GenerateRequest::ReserveRange(ReserveRangeRequest {
            cidr: "10.1.0.0/24".into(),
            name: String::new(),
            as_manual_pool: false,
        }),
    )
    .unwrap();
    assert!(generated.is_clean(), "{:?}", generated.diagnostics);
    assert!(generated.text.contains("name: reserved-10-1-0-0-24"));
    assert!(generated.text.contains("- 10.1.0.0/24"));
    // Nothing of the simulation lies in 10.1.0.0/24; a range around node-1's first block does.
    let sim = simulate(AUTOMATIC);
    let tunnel = sim.tunnels[0].ip;
    let around = format!(
        "{}/24",
        ipnet::Ipv4Net::new(tunnel.to_string().parse().unwrap(), 24)
            .unwrap()
            .trunc()
            .addr()
    );
    let generated = generate(
        AUTOMATIC,
        &GenerateRequest::ReserveRange(ReserveRangeRequest {
            cidr: around,
            name: "mine".into(),
            as_manual_pool: false,
        }),
    )
    .unwrap();
    assert!(generated.is_clean(), "{:?}", generated.diagnostics);
    assert!(
        generated
            .notes
            .iter()
            .any(|n| n.contains(&format!("{tunnel} (ipip tunnel of node-1)"))),
        "{:?}",
        generated.notes
    );
    for (cidr, message) in [
        ("10.1.0.1/24", "host bits"),
        ("10.9.0.0/24", "inside no IP pool"),
        ("10.0.0.0/8", "reaches beyond pool pods"),
        ("garbage", "not a CIDR"),
    ] {
        let error = generate(
            AUTOMATIC,
            &GenerateRequest::ReserveRange(ReserveRangeRequest {
                cidr: cidr.into(),
                name: String::new(),
                as_manual_pool: false,
            }),
        )
        .unwrap_err();
        assert!(error.message.contains(message), "{cidr}: {error}");
    }
}

#[test]
fn a_range_outside_the_pools_becomes_a_manual_pool_that_checks_clean() {
    let generated = generate(
        AUTOMATIC,
        &GenerateRequest::ReserveRange(ReserveRangeRequest {
            cidr: "10.3.0.0/24".into(),
            name: String::new(),
            as_manual_pool: true,
        }),
    )
    .unwrap();
    assert!(generated.is_clean(), "{:?}", generated.diagnostics);
    assert!(generated.text.contains("nodeSelector: '!all()'"));
    let after = generated.apply_to(AUTOMATIC);
    // Automatic assignment never uses it.
    let sim = simulate(&after);
    assert!(sim.blocks.iter().all(|b| b.pool != "manual-10-3-0-0-24"));
    assert!(sim.pools.iter().any(|p| p.name == "manual-10-3-0-0-24"));
}

#[test]
fn generators_refuse_bad_input_without_panicking() {
    for input in ["", "not: [yaml", "kind: Pod\nmetadata: 5\n", HEALTHY] {
        for request in [
            GenerateRequest::StaticIp(StaticIpRequest {
                target: StaticIpTarget::Existing {
                    namespace: "x".into(),
                    name: "y".into(),
                },
                pool: StaticIpPool::Existing("nope".into()),
            }),
            GenerateRequest::StaticIp(StaticIpRequest {
                target: StaticIpTarget::NewPod {
                    namespace: String::new(),
                    name: "p".into(),
                    node: "n".into(),
                },
                pool: StaticIpPool::NewManual {
                    name: String::new(),
                    cidr: "::/0".into(),
                },
            }),
            GenerateRequest::ReserveRange(ReserveRangeRequest {
                cidr: "::/0".into(),
                name: String::new(),
                as_manual_pool: false,
            }),
        ] {
            let _ = generate(input, &request);
        }
    }
}

fn capacity_request(nodes: u64, pods: u64, tunnel: bool, block: u8, pool: u8) -> CapacityRequest {
    CapacityRequest {
        family: Family::V4,
        nodes,
        pods_per_node: pods,
        tunnel_per_node: tunnel,
        block_size: Some(block),
        max_blocks_per_host: 0,
        strict_affinity: false,
        headroom_percent: 0,
        pool_prefix: Some(pool),
    }
}

#[test]
fn a_21_pool_of_26_blocks_serves_32_nodes_and_nodes_33_to_40_borrow() {
    let plan = capacity::plan(&capacity_request(40, 30, true, 26, 21)).unwrap();
    let pool = plan.pool.unwrap();
    assert_eq!(pool.blocks, 32);
    assert_eq!(pool.nodes_that_fit, Some(32));
    assert_eq!(pool.first_borrowing_node, Some(33));
    assert_eq!(pool.nodes_short_of_blocks, 8);
    assert_eq!(pool.first_failure, None);
    assert_eq!(plan.total_blocks, 40);
    // 40 blocks need a /20 (64 blocks of /26); with 100% headroom 80 blocks need a /19.
    assert_eq!(plan.min_pool_prefix, Some(20));
    let doubled = capacity::plan(&CapacityRequest {
        headroom_percent: 100,
        ..capacity_request(40, 30, true, 26, 21)
    })
    .unwrap();
    assert_eq!(doubled.advised_pool_prefix, Some(19));
}

#[test]
fn block_size_advice_respects_the_block_cap() {
    let ask = |pods: u64, limit: u32| {
        capacity::plan(&CapacityRequest {
            block_size: None,
            max_blocks_per_host: limit,
            pool_prefix: None,
            ..capacity_request(10, pods, false, 26, 16)
        })
        .unwrap()
    };
    assert_eq!(ask(110, 0).block_size, 26);
    // 2000 pods need 32 /26 blocks, over the cap of 20: /25 blocks give 16.
    let big = ask(2000, 0);
    assert_eq!((big.block_size, big.blocks_per_node), (25, 16));
    assert!(!big.over_block_limit);
    let capped = capacity::plan(&CapacityRequest {
        max_blocks_per_host: 1,
        ..capacity_request(2, 100, false, 26, 24)
    })
    .unwrap();
    assert!(capped.over_block_limit);
    assert_eq!(
        capped
            .pool
            .unwrap()
            .first_failure
            .map(|f| (f.node, f.reason)),
        Some((1, FailureReason::BlockLimit))
    );
    assert!(capacity::plan(&capacity_request(1, 1, false, 19, 16)).is_err());
    assert!(capacity::plan(&capacity_request(1, 1, false, 26, 27)).is_err());
    let v6 = capacity::plan(&CapacityRequest {
        family: Family::V6,
        block_size: None,
        pool_prefix: Some(0),
        ..capacity_request(u64::MAX, u64::MAX, true, 26, 16)
    })
    .unwrap();
    assert_eq!(v6.block_size, 116);
}

/// The simulator's run of `nodes` nodes and `nodes × pods` pods of one Deployment (spread
/// round-robin) in one pool: the first node that borrowed, how many did, and the node of the
/// first pod that got no address with its diagnostic code.
fn simulated(
    nodes: u64,
    pods: u64,
    tunnel: bool,
    block: u8,
    pool: &str,
    strict: bool,
    limit: u32,
) -> (Option<u128>, u128, Option<(u128, &'static str)>) {
    let mut text = format!(
        "kind: IPPool\nmetadata: {{name: p}}\nspec: {{cidr: '{pool}', blockSize: {block}, ipipMode: {}}}\n",
        if tunnel { "Always" } else { "Never" }
    );
    for n in 1..=nodes {
        text.push_str(&format!("---\nkind: Node\nmetadata: {{name: node-{n}}}\n"));
    }
    text.push_str(&format!(
        "---\nkind: IPAMConfiguration\napiVersion: projectcalico.org/v3\nmetadata: {{name: default}}\nspec: {{strictAffinity: {strict}, autoAllocateBlocks: true, maxBlocksPerHost: {limit}}}\n---\nkind: Deployment\napiVersion: apps/v1\nmetadata: {{name: web}}\nspec: {{replicas: {}}}\n",
        nodes * pods
    ));
    let sim = simulate(&text);
    let index = |node: &str| node.trim_start_matches("node-").parse::<u128>().unwrap();
    let mut borrowers: Vec<u128> = sim
        .pods
        .iter()
        .filter(|p| p.relation == Some(BlockRelation::Borrowed))
        .map(|p| index(&p.node))
        .collect();
    let first_borrower = borrowers.first().copied();
    borrowers.sort();
    borrowers.dedup();
    let code_of = |pod: &str| {
        sim.diagnostics
            .iter()
            .find(|d| {
                d.message.contains(&format!("default/{pod} "))
                    || d.message.contains(&format!("default/{pod}:"))
            })
            .map(|d| d.code)
            .unwrap_or("?")
    };
    let failure = sim
        .pods
        .iter()
        .find(|p| p.source == AddressSource::None)
        .map(|p| (index(&p.node), code_of(&p.name)));
    (first_borrower, borrowers.len() as u128, failure)
}

#[test]
fn the_arithmetic_agrees_with_the_simulator_on_small_clusters() {
    // (nodes, pods per node, tunnel, blockSize, pool, strict, maxBlocksPerHost)
    let cases: &[(u64, u64, bool, u8, &str, bool, u32)] = &[
        (40, 3, false, 26, "10.0.0.0/21", false, 0),
        (5, 40, false, 28, "10.0.0.0/24", false, 0),
        (6, 40, false, 28, "10.0.0.0/24", false, 0),
        (6, 40, true, 28, "10.0.0.0/24", false, 0),
        (3, 30, false, 28, "10.0.0.0/26", false, 0),
        (3, 30, true, 28, "10.0.0.0/26", true, 0),
        (6, 20, false, 28, "10.0.0.0/24", true, 0),
        (2, 40, false, 28, "10.0.0.0/22", true, 2),
        (3, 10, true, 30, "10.0.0.0/26", false, 2),
    ];
    for &(nodes, pods, tunnel, block, pool, strict, limit) in cases {
        let prefix: u8 = pool.rsplit('/').next().unwrap().parse().unwrap();
        let plan = capacity::plan(&CapacityRequest {
            strict_affinity: strict,
            max_blocks_per_host: limit,
            ..capacity_request(nodes, pods, tunnel, block, prefix)
        })
        .unwrap()
        .pool
        .unwrap();
        let (first_borrower, borrowers, failure) =
            simulated(nodes, pods, tunnel, block, pool, strict, limit);
        let case = format!("{nodes} nodes × {pods} pods, tunnel {tunnel}, /{block} in {pool}, strict {strict}, limit {limit}");
        if !strict {
            assert_eq!(plan.first_borrowing_node, first_borrower, "{case}");
            // Borrowers fill the lenders' blocks, which may push the lenders to borrow too.
            assert!(plan.nodes_short_of_blocks <= borrowers, "{case}");
            if pods + u64::from(tunnel) <= 1 << (32 - block) {
                assert_eq!(plan.nodes_short_of_blocks, borrowers, "{case}");
            }
        }
        assert_eq!(
            plan.first_failure.map(|f| (f.node, f.reason.code())),
            failure,
            "{case}"
        );
    }
}
