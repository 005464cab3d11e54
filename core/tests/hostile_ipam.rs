//! The allocator on whole-address-space pools. Validation refuses `::/0` and `0.0.0.0/0` (they
//! overlap the link-local ranges), so the cluster run never sees them; the engine itself must
//! still handle them within bounds when driven directly: no enumeration of 2^122 blocks, no
//! overflow in sizes that do not fit 128 bits, and every operation answering quickly.

use std::time::{Duration, Instant};

use ipam_core::ipam::{AutoAssignArgs, IpNet, Ipam, IpamConfig, Pool, ReleaseOptions};
use ipam_core::net::AllowedUse;

/// A loose bound for a debug build on a shared machine; the operations take milliseconds.
const BOUND: Duration = Duration::from_secs(10);

fn pool(name: &str, cidr: &str, block_size: u8) -> Pool {
    let mut pool = Pool::new(name, cidr).expect("a CIDR");
    pool.block_size = block_size;
    pool
}

fn cluster(pools: Vec<Pool>, strict: bool) -> Ipam {
    let mut ipam = Ipam::new();
    ipam.set_now(1_000);
    ipam.set_pools(pools);
    ipam.set_config(IpamConfig {
        strict_affinity: strict,
        ..IpamConfig::default()
    });
    for node in ["node-1", "node-2", "node-3"] {
        ipam.set_node(node, Default::default());
    }
    ipam
}

fn request(node: &str, num4: usize, num6: usize, handle: usize) -> AutoAssignArgs {
    AutoAssignArgs {
        num4,
        num6,
        hostname: node.to_owned(),
        handle: Some(format!("pod-{handle}").into()),
        intended_use: Some(AllowedUse::Workload),
        ..AutoAssignArgs::default()
    }
}

/// Runs 60 pods (20 per node) through the cluster and returns how many addresses each family
/// got, asserting the bound and that no address is handed out twice.
fn run_pods(ipam: &mut Ipam, num4: usize, num6: usize) -> (usize, usize) {
    let start = Instant::now();
    let mut seen = std::collections::BTreeSet::new();
    let (mut got4, mut got6) = (0, 0);
    for i in 0..60 {
        let node = ["node-1", "node-2", "node-3"][i % 3];
        let (v4, v6, _) = ipam.auto_assign(&request(node, num4, num6, i));
        for net in v4.iter().chain(v6.iter()).flat_map(|a| a.ips.iter()) {
            assert!(seen.insert(net.addr()), "{} handed out twice", net.addr());
        }
        got4 += v4.map_or(0, |a| a.ips.len());
        got6 += v6.map_or(0, |a| a.ips.len());
    }
    let utilization = ipam.get_utilization(&[]);
    assert!(!utilization.is_empty());
    let elapsed = start.elapsed();
    eprintln!("60 pods and utilization in {elapsed:?}");
    assert!(elapsed < BOUND, "took {elapsed:?}");
    (got4, got6)
}

#[test]
fn whole_ipv6_space_with_122_and_128_blocks() {
    for block_size in [122, 128] {
        for strict in [false, true] {
            let mut ipam = cluster(vec![pool("everything", "::/0", block_size)], strict);
            let (_, got6) = run_pods(&mut ipam, 0, 1);
            // /122 blocks hold 64 addresses; /128 blocks one, so the 20-block limit still lets
            // each node's 20 pods through.
            assert_eq!(got6, 60, "blockSize {block_size}, strict {strict}");
            let usage = &ipam.get_utilization(&[])[0];
            // 2^128 addresses do not fit in u128: the figure saturates instead of overflowing.
            assert_eq!(usage.capacity, u128::MAX);
            assert_eq!(usage.in_use, 60);
            // Claiming the whole space at once is refused, not attempted.
            let everything: IpNet = "::/0".parse().expect("CIDR");
            let refused = ipam.claim_affinity(&everything, "node-1");
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.to_string().contains("too many blocks")),
                "{refused:?}"
            );
            // Releasing addresses and whole handles works as on any pool.
            let held = ipam.ips_by_handle("pod-0").expect("pod-0 holds an address");
            let releases: Vec<ReleaseOptions> =
                held.into_iter().map(ReleaseOptions::address).collect();
            let (outcome, result) = ipam.release_ips(&releases);
            assert!(result.is_ok() && outcome.released == 1, "{outcome:?}");
            assert_eq!(ipam.release_by_handle("pod-1").ok(), Some(1));
        }
    }
}

#[test]
fn whole_ipv4_space_with_single_address_blocks() {
    let mut ipam = cluster(vec![pool("everything", "0.0.0.0/0", 32)], false);
    let (got4, _) = run_pods(&mut ipam, 1, 0);
    assert_eq!(got4, 60);
    let usage = &ipam.get_utilization(&[])[0];
    assert_eq!(usage.capacity, 1u128 << 32);
    assert_eq!(usage.in_use, 60);
    let everything: IpNet = "0.0.0.0/0".parse().expect("CIDR");
    assert!(ipam.claim_affinity(&everything, "node-1").is_err());
}

#[test]
fn both_whole_spaces_dual_stack() {
    let mut ipam = cluster(
        vec![pool("all-v4", "0.0.0.0/0", 26), pool("all-v6", "::/0", 122)],
        true,
    );
    assert_eq!(run_pods(&mut ipam, 1, 1), (60, 60));
}
