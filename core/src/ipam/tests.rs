//! Engine-level tests: whole operations against a small cluster, table-driven where the rule
//! has several inputs.

use std::net::IpAddr;

use super::*;
use crate::net::{AllowedUse, Family};
use crate::selector::Labels;

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn pool(cidr: &str, block_size: u8) -> Pool {
    let mut pool = Pool::new(format!("pool-{}", dashed(&net(cidr))), cidr).unwrap();
    pool.block_size = block_size;
    pool
}

fn cluster(pools: Vec<Pool>, hosts: &[&str], config: IpamConfig) -> Ipam {
    let mut ipam = Ipam::new();
    ipam.set_now(1_000);
    ipam.set_pools(pools);
    ipam.set_config(config);
    for host in hosts {
        ipam.set_node(*host, Labels::new());
    }
    ipam
}

fn strict() -> IpamConfig {
    IpamConfig {
        strict_affinity: true,
        ..IpamConfig::default()
    }
}

fn request(host: &str, num4: usize) -> AutoAssignArgs {
    AutoAssignArgs {
        num4,
        hostname: host.to_owned(),
        intended_use: Some(AllowedUse::Workload),
        ..AutoAssignArgs::default()
    }
}

/// Auto-assigns IPv4 addresses and returns them (panics on an error, as a test should).
fn take(ipam: &mut Ipam, host: &str, num: usize) -> Vec<String> {
    let (v4, _, result) = ipam.auto_assign(&request(host, num));
    result.unwrap();
    v4.unwrap()
        .ips
        .iter()
        .map(|n| n.addr().to_string())
        .collect()
}

#[test]
fn a_fresh_block_hands_out_from_its_base_and_reuses_released_addresses_last() {
    let mut ipam = cluster(vec![pool("10.0.0.0/30", 30)], &["a"], IpamConfig::default());
    assert_eq!(take(&mut ipam, "a", 2), ["10.0.0.0", "10.0.0.1"]);
    let (done, result) = ipam.release_ips(&[ReleaseOptions::address(ip("10.0.0.0"))]);
    result.unwrap();
    assert_eq!(done.released, 1);
    assert_eq!(
        take(&mut ipam, "a", 3),
        ["10.0.0.2", "10.0.0.3", "10.0.0.0"]
    );
}

#[test]
fn reservations_shrink_what_auto_assign_can_hand_out() {
    let cases: &[(&[&str], usize)] = &[
        (&[], 64),
        (
            &["10.0.0.1/32", "10.0.0.32/30", "11.0.0.0/30", "10.0.0.17/32"],
            58,
        ),
        (&["10.0.0.5/26"], 0),
    ];
    for (reserved, expected) in cases {
        let mut ipam = cluster(vec![pool("10.0.0.0/26", 26)], &["a"], IpamConfig::default());
        ipam.set_reservations(ReservationSet::from_texts(reserved.iter().copied()));
        let got = take(&mut ipam, "a", 64);
        assert_eq!(got.len(), *expected, "{reserved:?}");
        let reservations = ReservationSet::from_texts(reserved.iter().copied());
        assert!(got.iter().all(|a| !reservations.matches_ip(&ip(a))));
    }
}

#[test]
fn strict_affinity_stops_borrowing_from_another_hosts_block() {
    for (strict_affinity, expected, msgs) in [
        (false, 1, vec![]),
        (
            true,
            0,
            vec!["No more free affine blocks and strict affinity enabled".to_owned()],
        ),
    ] {
        let config = IpamConfig {
            strict_affinity,
            ..IpamConfig::default()
        };
        let mut ipam = cluster(vec![pool("10.0.0.0/28", 28)], &["a", "b"], config);
        take(&mut ipam, "a", 1);
        let (v4, _, result) = ipam.auto_assign(&request("b", 1));
        result.unwrap();
        let v4 = v4.unwrap();
        assert_eq!(v4.ips.len(), expected, "strict={strict_affinity}");
        assert_eq!(v4.msgs, msgs);
    }
}

#[test]
fn the_block_cap_is_a_hard_error_even_without_strict_affinity() {
    let mut ipam = cluster(vec![pool("10.0.0.0/24", 30)], &["a"], IpamConfig::default());
    let mut args = request("a", 9);
    args.max_blocks_per_host = 2;
    let (v4, _, result) = ipam.auto_assign(&args);
    let error = result.unwrap_err();
    assert!(error.is_sentinel("ErrBlockLimit"));
    assert_eq!(error.message, ERR_BLOCK_LIMIT);
    let v4 = v4.unwrap();
    assert_eq!(v4.ips.len(), 8);
    assert_eq!(
        v4.partial_fulfillment_error().unwrap(),
        "Assigned 8 out of 9 requested IPv4 addresses; Need to allocate an IPAM block but could not - limit of 2 blocks reached for this node"
    );
}

#[test]
fn the_block_cap_takes_the_more_restrictive_limit() {
    let cases = [
        (0, 0, 20),
        (0, 3, 3),
        (2, 0, 2),
        (3, 2, 2),
        (2, 3, 2),
        (5, 5, 5),
    ];
    for (requested, configured, expected) in cases {
        assert_eq!(
            effective_block_cap(requested, configured),
            expected,
            "{requested}/{configured}"
        );
    }
}

#[test]
fn a_host_borrows_only_once_every_block_of_the_pool_exists() {
    let mut ipam = cluster(
        vec![pool("10.0.0.0/25", 26)],
        &["a", "b"],
        IpamConfig::default(),
    );
    take(&mut ipam, "a", 1);
    take(&mut ipam, "b", 1);
    // 63 from its own block, then one borrowed from b's block.
    assert_eq!(take(&mut ipam, "a", 64).len(), 64);
    let (v4, _, result) = ipam.auto_assign(&request("a", 63));
    result.unwrap();
    let v4 = v4.unwrap();
    assert_eq!(v4.ips.len(), 62, "the rest of b's block");
    assert_eq!(
        v4.msgs,
        vec!["No IPs available in pools: [10.0.0.0/25]".to_owned()]
    );
}

#[test]
fn assign_ip_errors_use_calicos_texts() {
    let mut tunnel_only = pool("20.0.0.0/24", 26);
    tunnel_only.allowed_uses = vec![AllowedUse::Tunnel];
    let setup = || {
        let mut ipam = cluster(
            vec![pool("10.0.0.0/24", 26), tunnel_only.clone()],
            &["a", "b"],
            strict(),
        );
        ipam.assign_ip(&AssignIpArgs::new(ip("10.0.0.1"), "a"))
            .unwrap();
        let mut unaffine = Block::new(net("10.0.0.64/26"), None).unwrap();
        unaffine.affinity = None;
        ipam.insert_block(unaffine);
        ipam
    };
    let mut workload_use = AssignIpArgs::new(ip("20.0.0.1"), "a");
    workload_use.intended_use = Some(AllowedUse::Workload);
    let cases = [
        (
            AssignIpArgs::new(ip("30.0.0.1"), "a"),
            "The provided IP address is not in a configured pool\n".to_owned(),
        ),
        (
            workload_use,
            "IP address 20.0.0.1 is in IP pool \"pool-20-0-0-0-24\", which is not allowed for use \"Workload\" (allowedUses: [Tunnel])".to_owned(),
        ),
        (
            AssignIpArgs::new(ip("10.0.0.1"), "a"),
            "resource already exists: 10.0.0.1 with error: Address already assigned in block"
                .to_owned(),
        ),
        (
            AssignIpArgs::new(ip("10.0.0.2"), "b"),
            "Block host affinity does not match".to_owned(),
        ),
        (
            AssignIpArgs::new(ip("10.0.0.65"), "b"),
            "Attempt to assign from block 10.0.0.64/26 with no affinity".to_owned(),
        ),
    ];
    for (args, expected) in cases {
        let mut ipam = setup();
        assert_eq!(ipam.assign_ip(&args).unwrap_err().message, expected);
    }
}

#[test]
fn cooldown_blocks_reuse_until_it_has_elapsed() {
    let config = IpamConfig {
        ip_cooldown_seconds: 30,
        ..IpamConfig::default()
    };
    let mut ipam = cluster(vec![pool("10.0.0.0/30", 30)], &["a"], config);
    ipam.assign_ip(&AssignIpArgs::new(ip("10.0.0.1"), "a"))
        .unwrap();
    ipam.release_ips(&[ReleaseOptions::address(ip("10.0.0.1"))])
        .1
        .unwrap();
    let again = AssignIpArgs::new(ip("10.0.0.1"), "a");
    assert!(ipam.assign_ip(&again).is_err());
    assert_eq!(
        ipam.get_assignment_attributes(ip("10.0.0.1"))
            .unwrap_err()
            .message,
        "address 10.0.0.1 is in cooldown"
    );
    ipam.advance_clock(30);
    ipam.assign_ip(&again).unwrap();
}

#[test]
fn windows_blocks_reserve_their_first_three_and_last_address() {
    let mut ipam = cluster(vec![pool("100.0.0.0/24", 26)], &["win"], strict());
    let mut args = request("win", 256);
    args.host_reserved_attr_ipv4s = Some(HostReservedAttr::windows());
    args.windows_host = true;
    let (v4, _, result) = ipam.auto_assign(&args);
    result.unwrap();
    let ips: Vec<IpAddr> = v4.unwrap().ips.iter().map(IpNet::addr).collect();
    assert_eq!(ips.len(), 240);
    for reserved in [
        "100.0.0.0",
        "100.0.0.1",
        "100.0.0.2",
        "100.0.0.63",
        "100.0.0.255",
    ] {
        assert!(!ips.contains(&ip(reserved)), "{reserved}");
    }
}

#[test]
fn windows_nodes_require_strict_affinity() {
    let mut ipam = cluster(
        vec![pool("100.0.0.0/24", 26)],
        &["win"],
        IpamConfig::default(),
    );
    let mut args = request("win", 1);
    args.windows_host = true;
    let (_, _, result) = ipam.auto_assign(&args);
    assert!(result.unwrap_err().is_sentinel("ErrStrictAffinity"));
}

#[test]
fn an_empty_block_of_another_host_is_reclaimed_after_a_minute() {
    let mut ipam = cluster(vec![pool("10.0.0.0/26", 26)], &["a", "b"], strict());
    take(&mut ipam, "a", 1);
    ipam.release_ips(&[ReleaseOptions::address(ip("10.0.0.0"))])
        .1
        .unwrap();
    assert!(take(&mut ipam, "b", 1).is_empty(), "too young to reclaim");
    ipam.advance_clock(60);
    assert_eq!(take(&mut ipam, "b", 1), ["10.0.0.0"]);
    assert_eq!(
        ipam.affine_blocks("b", Family::V4),
        vec![net("10.0.0.0/26")]
    );
    assert!(ipam.affine_blocks("a", Family::V4).is_empty());
}

#[test]
fn affine_blocks_are_listed_in_datastore_name_order() {
    let mut ipam = cluster(
        vec![pool("10.244.0.0/16", 26)],
        &["a"],
        IpamConfig::default(),
    );
    for addr in ["10.244.20.1", "10.244.100.1"] {
        ipam.assign_ip(&AssignIpArgs::new(ip(addr), "a")).unwrap();
    }
    assert_eq!(
        ipam.affine_blocks("a", Family::V4),
        vec![net("10.244.100.0/26"), net("10.244.20.0/26")]
    );
}

#[test]
fn huge_pools_are_never_enumerated() {
    let mut ipam = cluster(
        vec![pool("10.0.0.0/8", 32), pool("fd00::/48", 122)],
        &["a"],
        IpamConfig::default(),
    );
    // Three quarters of the IPv6 pool (2^72 blocks) are reserved: the walk must jump, not crawl.
    ipam.set_reservations(ReservationSet::from_texts([
        "fd00::/49",
        "fd00:0:0:8000::/50",
    ]));
    let (v4, _, result) = ipam.auto_assign(&request("a", 21));
    assert!(result.unwrap_err().is_sentinel("ErrBlockLimit"));
    assert_eq!(v4.unwrap().ips.len(), 20);
    let mut args = request("a", 0);
    args.num6 = 1;
    let (_, v6, result) = ipam.auto_assign(&args);
    result.unwrap();
    let got = v6.unwrap().ips[0];
    assert!(net("fd00:0:0:c000::/50").contains(&got.addr()), "{got}");
}

#[test]
fn utilization_discounts_reservations() {
    let mut ipam = cluster(vec![pool("10.0.0.0/24", 26)], &["a"], IpamConfig::default());
    ipam.assign_ip(&AssignIpArgs::new(ip("10.0.0.5"), "a"))
        .unwrap();
    ipam.set_reservations(ReservationSet::from_texts(["10.0.0.128/25"]));
    let usage = ipam.get_utilization(&["10.0.0.0/24".to_owned()]);
    let pool = &usage[0];
    assert_eq!(
        (pool.capacity, pool.in_use, pool.reserved, pool.available),
        (256, 1, 128, 127)
    );
    let block = &pool.blocks[0];
    assert_eq!(
        (
            block.capacity,
            block.in_use,
            block.reserved,
            block.available
        ),
        (64, 1, 0, 63)
    );
}

#[test]
fn release_by_handle_deletes_unaffine_blocks_once_empty() {
    let mut ipam = cluster(vec![pool("10.0.0.0/24", 30)], &["a"], IpamConfig::default());
    let mut args = request("a", 5);
    args.handle = Some("h".into());
    args.attrs = OwnerAttrs::from_iter([("pod", "p")]);
    ipam.auto_assign(&args).2.unwrap();
    assert_eq!(ipam.list_blocks(None).len(), 2);
    ipam.release_host_affinities("a", false).unwrap();
    assert_eq!(
        ipam.list_blocks(None).len(),
        2,
        "non-empty blocks stay, unaffine"
    );
    assert_eq!(ipam.release_by_handle("h").unwrap(), 5);
    assert!(ipam.list_blocks(None).is_empty());
    assert!(ipam.ips_by_handle("h").is_err());
}

#[test]
fn load_balancer_addresses_belong_to_the_virtual_owner() {
    let mut lb_pool = pool("192.0.2.0/24", 26);
    lb_pool.allowed_uses = vec![AllowedUse::LoadBalancer];
    let mut ipam = cluster(vec![lb_pool], &[], IpamConfig::default());
    let mut args = request(LOAD_BALANCER_HOST, 1);
    args.intended_use = Some(AllowedUse::LoadBalancer);
    let (v4, _, result) = ipam.auto_assign(&args);
    result.unwrap();
    let got = v4.unwrap().ips[0];
    let block = ipam.block(&got.trunc()).unwrap();
    assert_eq!(block.affinity.as_deref(), Some("virtual:load-balancer"));
    let records = ipam.list_affinities(None, Some(AFFINITY_TYPE_VIRTUAL), None);
    assert_eq!(records.len(), 1);
}

#[test]
fn set_ipam_config_enforces_calicoctls_cross_field_rules() {
    let cases = [
        (
            false,
            false,
            0,
            Some("Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time"),
        ),
        (
            false,
            true,
            5,
            Some("MaxBlocksPerHost requires StrictAffinity to be enabled"),
        ),
        (true, false, 5, None),
        (false, true, 0, None),
    ];
    for (strict_affinity, auto_allocate_blocks, max_blocks_per_host, expected) in cases {
        let mut ipam = Ipam::new();
        let config = IpamConfig {
            strict_affinity,
            auto_allocate_blocks,
            max_blocks_per_host,
            ip_cooldown_seconds: 0,
        };
        let result = ipam.set_ipam_config(config);
        assert_eq!(result.err().map(|e| e.message), expected.map(str::to_owned));
    }
}

#[test]
fn release_affinity_covers_every_block_of_a_cidr_but_keeps_used_ones() {
    let mut ipam = cluster(
        vec![pool("10.0.0.0/24", 26)],
        &["a", "b"],
        IpamConfig::default(),
    );
    let (claimed, failed) = ipam.claim_affinity(&net("10.0.0.0/25"), "a").unwrap();
    assert_eq!((claimed.len(), failed.len()), (2, 0));
    ipam.assign_ip(&AssignIpArgs::new(ip("10.0.0.1"), "a"))
        .unwrap();
    ipam.assign_ip(&AssignIpArgs::new(ip("10.0.0.129"), "b"))
        .unwrap();
    let error = ipam
        .release_affinity(&net("10.0.0.0/24"), "a", true)
        .unwrap_err();
    assert_eq!(error.message, "block '10.0.0.0/26' is not empty");
    ipam.release_affinity(&net("10.0.0.0/24"), "a", false)
        .unwrap();
    assert!(ipam.affine_blocks("a", Family::V4).is_empty());
    assert_eq!(
        ipam.affine_blocks("b", Family::V4),
        vec![net("10.0.0.128/26")]
    );
    assert_eq!(ipam.block(&net("10.0.0.0/26")).unwrap().affinity, None);
    assert!(
        ipam.block(&net("10.0.0.64/26")).is_none(),
        "empty block deleted"
    );
    assert_eq!(
        ipam.release_affinity(&net("10.0.0.0/27"), "a", false)
            .unwrap_err()
            .message,
        "The requested CIDR (10.0.0.0/27) is smaller than the minimum."
    );
}

/// A tiny deterministic generator for the operation soak below.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}

#[test]
fn random_operation_sequences_keep_every_block_consistent() {
    let hosts = ["a", "b", "c"];
    let mut rng = Lcg(7);
    for _round in 0..40 {
        let mut ipam = cluster(
            vec![pool("10.0.0.0/28", 30), pool("fd00::/124", 126)],
            &hosts,
            IpamConfig::default(),
        );
        for _step in 0..60 {
            let host = hosts[rng.next(3) as usize];
            let handle = format!("h{}", rng.next(4));
            match rng.next(9) {
                0 | 1 => {
                    let mut args = request(host, rng.next(6) as usize);
                    args.num6 = rng.next(3) as usize;
                    args.handle = Some(handle.into());
                    args.max_blocks_per_host = rng.next(3) as u32;
                    let _ = ipam.auto_assign(&args);
                }
                2 => {
                    let mut args = AssignIpArgs::new(ip(&format!("10.0.0.{}", rng.next(20))), host);
                    args.handle = Some(handle.into());
                    let _ = ipam.assign_ip(&args);
                }
                3 => {
                    let target = ip(&format!("10.0.0.{}", rng.next(20)));
                    let _ = ipam.release_ips(&[ReleaseOptions::address(target)]);
                }
                4 => {
                    let _ = ipam.release_by_handle(&handle);
                }
                5 => {
                    let _ = ipam.release_affinity(&net("10.0.0.0/28"), host, rng.next(2) == 0);
                }
                6 => {
                    let _ = ipam.claim_affinity(&net("10.0.0.4/30"), host);
                    let _ = ipam.release_host_affinities(host, rng.next(2) == 0);
                }
                7 => ipam.set_config(IpamConfig {
                    strict_affinity: rng.next(2) == 0,
                    auto_allocate_blocks: rng.next(4) != 0,
                    max_blocks_per_host: rng.next(3) as u32,
                    ip_cooldown_seconds: rng.next(3) as u32 * 10,
                }),
                _ => {
                    ipam.advance_clock(rng.next(40) as i64);
                    let reserved = format!("10.0.0.{}/31", rng.next(8) * 2);
                    ipam.set_reservations(ReservationSet::from_texts([reserved.as_str()]));
                }
            }
            for block in ipam.list_blocks(None) {
                assert!(block.is_consistent(), "{}", block.cidr());
                if let Some((_, owner)) = block.affinity.as_deref().and_then(|a| a.split_once(':'))
                {
                    let records = ipam.list_affinities(Some(owner), None, None);
                    assert!(
                        records.iter().any(|r| r.cidr == block.cidr()),
                        "{}",
                        block.cidr()
                    );
                }
            }
            for (handle, blocks) in ipam.handles() {
                let counted: usize = blocks.iter().map(|(_, count)| count).sum();
                let live = ipam.ips_by_handle(handle).unwrap().len();
                assert_eq!(live, counted, "handle {handle}");
            }
        }
    }
}

#[test]
fn new_blocks_follow_the_hosts_rotation_and_skip_existing_ones() {
    let mut ipam = cluster(
        vec![pool("10.244.0.0/16", 26)],
        &["node-1", "node-2"],
        IpamConfig::default(),
    );
    // Spec §3.5 worked example: node-1 probes 10.244.84.128/26 first.
    ipam.assign_ip(&AssignIpArgs::new(ip("10.244.84.130"), "node-2"))
        .unwrap();
    assert_eq!(take(&mut ipam, "node-1", 1), ["10.244.84.192"]);
}

#[test]
fn a_block_that_is_already_ours_is_reused_not_recreated() {
    // A block written with this host's affinity but without its affinity record (as a direct
    // datastore write can leave it) must keep its allocations when the host claims it.
    let mut ipam = cluster(vec![pool("10.0.0.0/26", 26)], &["a"], IpamConfig::default());
    let mut block = Block::new(net("10.0.0.0/26"), None).unwrap();
    block.affinity = Some("host:a".to_owned());
    block
        .insert_allocation(&[0, 1], AllocationAttribute::default())
        .unwrap();
    ipam.insert_block(block);
    assert_eq!(take(&mut ipam, "a", 1), ["10.0.0.2"]);
    assert_eq!(
        ipam.block(&net("10.0.0.0/26"))
            .unwrap()
            .allocated_ordinals(),
        vec![0, 1, 2]
    );
    assert_eq!(
        ipam.affine_blocks("a", Family::V4),
        vec![net("10.0.0.0/26")]
    );
}

#[test]
fn a_pods_owner_attributes_are_the_sorted_map_of_its_three_keys() {
    let built = OwnerAttrs::of_pod("default", "node-1", "web-0");
    let inserted = OwnerAttrs::from_iter([
        ("pod", "web-0"),
        ("node", "node-1"),
        ("namespace", "default"),
    ]);
    assert_eq!(built, inserted);
    let pairs: Vec<_> = built.iter().collect();
    assert_eq!(
        pairs,
        [
            ("namespace", "default"),
            ("node", "node-1"),
            ("pod", "web-0")
        ]
    );
}
