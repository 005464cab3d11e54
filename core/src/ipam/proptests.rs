//! Property tests of the allocator: random sequences of Calico's operations on small random
//! clusters, with the allocator's invariants checked after every step.
//!
//! The pools are small (blocks of 1 to 8 addresses, pools of 8 to 32 addresses) so that
//! exhaustion, the per-host block limit, borrowing and reclaiming all happen within a few dozen
//! operations. The pools never overlap, so every block belongs to exactly one pool and the
//! utilization figures can be checked exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use proptest::prelude::*;

use super::*;
use crate::net::{AllowedUse, Family};
use crate::selector::Labels;

const HOSTS: [&str; 3] = ["node-a", "node-b", "node-c"];
const HANDLES: [&str; 4] = ["h0", "h1", "h2", "h3"];

/// A pool as generated: which slot of the address plan it takes, and its shape.
#[derive(Clone, Debug)]
struct PoolPlan {
    v6: bool,
    prefix_extra: u8,
    block_extra: u8,
    disabled: bool,
    uses: u8,
    zone_a_only: bool,
}

#[derive(Clone, Debug)]
struct ClusterPlan {
    pools: Vec<PoolPlan>,
    /// (pool index, offset, prefix length below the block size) of each reserved CIDR.
    reservations: Vec<(usize, u32, u8)>,
    strict_affinity: bool,
    max_blocks_per_host: u32,
    cooldown: u32,
}

#[derive(Clone, Debug)]
enum Op {
    AutoAssign {
        host: usize,
        num4: usize,
        num6: usize,
        handle: usize,
        use_: u8,
        /// Restrict the request to this pool (by index), if any.
        only_pool: Option<usize>,
        windows: bool,
    },
    AssignIp {
        pool: usize,
        offset: u32,
        host: usize,
        handle: usize,
    },
    /// Releases the n-th address currently held (modulo), or an address that is not.
    ReleaseIp {
        pick: usize,
        foreign: bool,
    },
    ReleaseByHandle {
        handle: usize,
    },
    ClaimAffinity {
        pool: usize,
        offset: u32,
        extra_bits: u8,
        host: usize,
    },
    /// Releases the affinity of the n-th existing block (modulo) for a host.
    ReleaseAffinity {
        pick: usize,
        host: usize,
        require_empty: bool,
    },
    ReleaseHostAffinities {
        host: usize,
        require_empty: bool,
    },
    AdvanceClock {
        seconds: u16,
    },
}

fn pool_plan() -> impl Strategy<Value = PoolPlan> {
    (
        any::<bool>(),
        0u8..=2,
        0u8..=4,
        prop::bool::weighted(0.15),
        0u8..8,
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(v6, prefix_extra, block_extra, disabled, uses, zone_a_only)| PoolPlan {
                v6,
                prefix_extra,
                block_extra,
                disabled,
                uses,
                zone_a_only,
            },
        )
}

fn cluster_plan() -> impl Strategy<Value = ClusterPlan> {
    (
        prop::collection::vec(pool_plan(), 1..=4),
        prop::collection::vec((0usize..4, 0u32..256, 0u8..=3), 0..=3),
        any::<bool>(),
        prop_oneof![Just(0u32), 1u32..=3],
        prop_oneof![Just(0u32), Just(30u32)],
    )
        .prop_map(
            |(pools, reservations, strict_affinity, max_blocks_per_host, cooldown)| ClusterPlan {
                pools,
                reservations,
                strict_affinity,
                max_blocks_per_host,
                cooldown,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0usize..3, 0usize..=4, 0usize..=3, 0usize..4, 0u8..8, prop::option::weighted(0.2, 0usize..4), prop::bool::weighted(0.1))
            .prop_map(|(host, num4, num6, handle, use_, only_pool, windows)| Op::AutoAssign {
                host, num4, num6, handle, use_, only_pool, windows,
            }),
        3 => (0usize..4, 0u32..512, 0usize..3, 0usize..4)
            .prop_map(|(pool, offset, host, handle)| Op::AssignIp { pool, offset, host, handle }),
        3 => (any::<usize>(), prop::bool::weighted(0.1))
            .prop_map(|(pick, foreign)| Op::ReleaseIp { pick, foreign }),
        1 => (0usize..4).prop_map(|handle| Op::ReleaseByHandle { handle }),
        1 => (0usize..4, 0u32..512, 0u8..=2, 0usize..3)
            .prop_map(|(pool, offset, extra_bits, host)| Op::ClaimAffinity { pool, offset, extra_bits, host }),
        1 => (any::<usize>(), 0usize..3, any::<bool>())
            .prop_map(|(pick, host, require_empty)| Op::ReleaseAffinity { pick, host, require_empty }),
        1 => (0usize..3, any::<bool>())
            .prop_map(|(host, require_empty)| Op::ReleaseHostAffinities { host, require_empty }),
        1 => (0u16..60).prop_map(|seconds| Op::AdvanceClock { seconds }),
    ]
}

/// Mostly `AutoAssign`, so that one host's requests follow each other with nothing freed in
/// between, as the pods of a plan do.
fn assign_heavy_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (0usize..3, 0usize..=2, 0usize..=1, 0usize..4)
            .prop_map(|(host, num4, num6, handle)| Op::AutoAssign {
                host, num4, num6, handle, use_: 0, only_pool: None, windows: false,
            }),
        1 => op(),
    ]
}

/// The pool of slot `index`: IPv4 pools are /27../29 at 10.<index>.0.0, IPv6 pools
/// /123../125 at fd00:<index>::, so no two pools overlap. Blocks are 1 to 8 addresses, so a
/// pool holds 1 to 32 blocks and fills up within a few dozen requests.
fn build_pool(index: usize, plan: &PoolPlan) -> Pool {
    let (cidr, prefix, block) = if plan.v6 {
        let prefix = 123 + plan.prefix_extra;
        (
            format!("fd00:{index}::/{prefix}"),
            prefix,
            125 + plan.block_extra.min(3),
        )
    } else {
        let prefix = 27 + plan.prefix_extra;
        (
            format!("10.{index}.0.0/{prefix}"),
            prefix,
            28 + plan.block_extra,
        )
    };
    let mut pool = Pool::new(format!("pool-{index}"), cidr).unwrap_or_else(|| unreachable!());
    // A pool never has blocks larger than itself (Calico refuses such a pool).
    pool.block_size = block.max(prefix);
    pool.disabled = plan.disabled;
    pool.allowed_uses = [
        AllowedUse::Workload,
        AllowedUse::Tunnel,
        AllowedUse::LoadBalancer,
    ]
    .into_iter()
    .enumerate()
    .filter(|(bit, _)| plan.uses & (1 << bit) != 0)
    .map(|(_, use_)| use_)
    .collect();
    if pool.allowed_uses.is_empty() {
        pool.allowed_uses = AllowedUse::DEFAULT.to_vec();
    }
    if plan.zone_a_only {
        pool.node_selector = "zone == 'a'".to_owned();
    }
    pool
}

/// The `offset`-th address of a network (wrapping inside it).
fn nth_address(net: &IpNet, offset: u32) -> IpAddr {
    let size = net_size(net);
    let offset = u128::from(offset) % size.max(1);
    match net {
        IpNet::V4(n) => {
            let base = u32::from(n.network());
            IpAddr::from(std::net::Ipv4Addr::from(base.wrapping_add(offset as u32)))
        }
        IpNet::V6(n) => {
            let base = u128::from(n.network());
            IpAddr::from(std::net::Ipv6Addr::from(base.wrapping_add(offset)))
        }
    }
}

fn masked(ip: IpAddr, prefix: u8) -> IpNet {
    IpNet::new(ip, prefix)
        .unwrap_or_else(|_| unreachable!())
        .trunc()
}

fn build(plan: &ClusterPlan) -> Ipam {
    let mut ipam = Ipam::new();
    ipam.set_now(1_000);
    let pools: Vec<Pool> = plan
        .pools
        .iter()
        .enumerate()
        .map(|(i, p)| build_pool(i, p))
        .collect();
    let reservations: Vec<IpNet> = plan
        .reservations
        .iter()
        .filter_map(|&(pool, offset, below)| {
            let pool = pools.get(pool % pools.len())?;
            let prefix = pool
                .block_size
                .saturating_add(below)
                .min(pool.family().bits());
            Some(masked(nth_address(&pool.cidr, offset), prefix))
        })
        .collect();
    ipam.set_reservations(ReservationSet::new(reservations));
    ipam.set_pools(pools);
    ipam.set_config(IpamConfig {
        strict_affinity: plan.strict_affinity,
        auto_allocate_blocks: true,
        max_blocks_per_host: plan.max_blocks_per_host,
        ip_cooldown_seconds: plan.cooldown,
    });
    for (i, host) in HOSTS.iter().enumerate() {
        let zone = if i == 0 { "a" } else { "b" };
        let labels: Labels = [("zone".to_owned(), zone.to_owned())].into_iter().collect();
        ipam.set_node(*host, labels);
    }
    ipam
}

fn allowed_use(code: u8) -> Option<AllowedUse> {
    match code {
        0..=4 => Some(AllowedUse::Workload),
        5 => Some(AllowedUse::Tunnel),
        6 => Some(AllowedUse::LoadBalancer),
        _ => None,
    }
}

/// The addresses the test believes are allocated, with the handle each was given under.
type Held = BTreeMap<IpAddr, Option<String>>;

fn apply(ipam: &mut Ipam, held: &mut Held, op: &Op) -> Result<(), TestCaseError> {
    match op {
        Op::AutoAssign {
            host,
            num4,
            num6,
            handle,
            use_,
            only_pool,
            windows,
        } => {
            let restrict = |family: Family| -> Vec<IpNet> {
                only_pool
                    .and_then(|i| ipam.pools().get(i % ipam.pools().len()))
                    .filter(|p| p.family() == family)
                    .map(|p| vec![p.cidr])
                    .unwrap_or_default()
            };
            let args = AutoAssignArgs {
                num4: *num4,
                num6: *num6,
                handle: Some(HANDLES[*handle].into()),
                hostname: HOSTS[*host].to_owned(),
                ipv4_pools: restrict(Family::V4),
                ipv6_pools: restrict(Family::V6),
                intended_use: allowed_use(*use_),
                windows_host: *windows,
                host_reserved_attr_ipv4s: windows.then(HostReservedAttr::windows),
                ..AutoAssignArgs::default()
            };
            let (v4, v6, _) = ipam.auto_assign(&args);
            for assignments in [v4, v6].into_iter().flatten() {
                prop_assert!(assignments.ips.len() <= assignments.num_requested);
                for net in assignments.ips {
                    let ip = net.addr();
                    // The core property: an address is never handed out while it is held.
                    prop_assert!(
                        !held.contains_key(&ip),
                        "{ip} handed out again while held by {:?}",
                        held.get(&ip)
                    );
                    let block = ipam.block_for_ip(ip);
                    prop_assert_eq!(block.map(|b| b.cidr().prefix_len()), Some(net.prefix_len()));
                    held.insert(ip, Some(HANDLES[*handle].to_owned()));
                }
            }
        }
        Op::AssignIp {
            pool,
            offset,
            host,
            handle,
        } => {
            let Some(cidr) = ipam.pools().get(pool % ipam.pools().len()).map(|p| p.cidr) else {
                return Ok(());
            };
            let ip = nth_address(&cidr, *offset);
            let mut args = AssignIpArgs::new(ip, HOSTS[*host]);
            args.handle = Some(HANDLES[*handle].into());
            args.intended_use = Some(AllowedUse::Workload);
            let was_held = held.contains_key(&ip);
            if ipam.assign_ip(&args).is_ok() {
                prop_assert!(!was_held, "AssignIP gave out {ip}, which is held");
                held.insert(ip, Some(HANDLES[*handle].to_owned()));
            }
        }
        Op::ReleaseIp { pick, foreign } => {
            let ip = if *foreign || held.is_empty() {
                // 10.9.0.0/24 is outside every pool slot, so nothing there is allocated.
                nth_address(
                    &masked("10.9.0.0".parse().unwrap_or_else(|_| unreachable!()), 24),
                    *pick as u32,
                )
            } else {
                let index = pick % held.len();
                *held.keys().nth(index).unwrap_or_else(|| unreachable!())
            };
            let (outcome, _) = ipam.release_ips(&[ReleaseOptions::address(ip)]);
            if outcome.released > 0 {
                prop_assert!(
                    held.remove(&ip).is_some(),
                    "released {ip}, which was not held"
                );
            } else {
                prop_assert!(!held.contains_key(&ip), "{ip} is held but was not released");
            }
        }
        Op::ReleaseByHandle { handle } => {
            let handle = HANDLES[*handle];
            let expected = held
                .values()
                .filter(|h| h.as_deref() == Some(handle))
                .count();
            match ipam.release_by_handle(handle) {
                Ok(released) => prop_assert_eq!(released, expected),
                Err(_) => prop_assert_eq!(expected, 0),
            }
            held.retain(|_, h| h.as_deref() != Some(handle));
        }
        Op::ClaimAffinity {
            pool,
            offset,
            extra_bits,
            host,
        } => {
            let Some(pool) = ipam.pools().get(pool % ipam.pools().len()).cloned() else {
                return Ok(());
            };
            let prefix = pool
                .block_size
                .saturating_sub(*extra_bits)
                .max(pool.cidr.prefix_len());
            let cidr = masked(nth_address(&pool.cidr, *offset), prefix);
            if let Ok((claimed, failed)) = ipam.claim_affinity(&cidr, HOSTS[*host]) {
                prop_assert!(claimed.len() + failed.len() <= 1 << extra_bits);
                for block in claimed {
                    prop_assert!(net_covers_or_eq(&cidr, &block));
                }
            }
        }
        Op::ReleaseAffinity {
            pick,
            host,
            require_empty,
        } => {
            let blocks: Vec<IpNet> = ipam.list_blocks(None).iter().map(|b| b.cidr()).collect();
            if let Some(cidr) = blocks.get(pick % blocks.len().max(1)) {
                let _ = ipam.release_affinity(cidr, HOSTS[*host], *require_empty);
            }
        }
        Op::ReleaseHostAffinities {
            host,
            require_empty,
        } => {
            let _ = ipam.release_host_affinities(HOSTS[*host], *require_empty);
        }
        Op::AdvanceClock { seconds } => ipam.advance_clock(i64::from(*seconds)),
    }
    Ok(())
}

fn net_covers_or_eq(outer: &IpNet, inner: &IpNet) -> bool {
    outer.contains(&inner.network()) && outer.prefix_len() <= inner.prefix_len()
}

/// The invariants that hold after every operation.
fn check_invariants(ipam: &Ipam, held: &Held) -> Result<(), TestCaseError> {
    let blocks = ipam.list_blocks(None);
    let mut in_use: BTreeSet<IpAddr> = BTreeSet::new();
    for block in &blocks {
        let cidr = block.cidr();
        prop_assert!(block.is_consistent(), "block {cidr} is inconsistent");
        // Every block lies in the pool it was carved from, at that pool's block size.
        let pool = ipam
            .pools()
            .iter()
            .find(|p| p.cidr.contains(&cidr.network()));
        let Some(pool) = pool else {
            return Err(TestCaseError::fail(format!("block {cidr} is in no pool")));
        };
        prop_assert!(
            net_covers_or_eq(&pool.cidr, &cidr),
            "{cidr} is not inside {}",
            pool.cidr
        );
        prop_assert_eq!(
            cidr.prefix_len(),
            pool.block_size,
            "{} has the wrong size",
            cidr
        );
        for ip in block.in_use_ips() {
            prop_assert!(cidr.contains(&ip));
            prop_assert!(in_use.insert(ip), "{ip} is allocated in two blocks");
        }
        // A block with a host affinity has the matching affinity record.
        if let Some((kind, host)) = block.affinity.as_deref().and_then(|a| a.split_once(':')) {
            let records = ipam.list_affinities(Some(host), Some(kind), None);
            prop_assert!(
                records.iter().any(|r| r.cidr == cidr),
                "block {cidr} is affine to {kind}:{host} without an affinity record"
            );
        }
    }
    // Block CIDRs never overlap one another.
    for (i, a) in blocks.iter().enumerate() {
        for b in &blocks[i + 1..] {
            prop_assert!(
                !a.cidr().contains(&b.cidr().network()) && !b.cidr().contains(&a.cidr().network()),
                "blocks {} and {} overlap",
                a.cidr(),
                b.cidr()
            );
        }
    }
    // Every affinity record names an existing block owned by that host.
    for record in ipam.list_affinities(None, None, None) {
        let block = ipam.block(&record.cidr);
        let owner = format!("{}:{}", record.affinity_type, record.host);
        prop_assert_eq!(
            block.and_then(|b| b.affinity.clone()),
            Some(owner),
            "affinity record for {} points at a block that is not its host's",
            record.cidr
        );
    }
    // Every address the test holds is allocated (never silently freed or reused).
    for ip in held.keys() {
        prop_assert!(in_use.contains(ip), "{ip} was handed out but is not in use");
    }
    // The handle index agrees with the blocks.
    for (handle, per_block) in ipam.handles() {
        for (cidr, count) in per_block.iter() {
            let actual = ipam
                .block(&cidr)
                .map_or(0, |b| b.ips_by_handle(handle).len());
            prop_assert_eq!(actual, count, "handle {} in {}", handle, cidr);
        }
    }
    for pool in ipam.pools() {
        // A pool never holds more blocks than fit in it.
        let count = blocks
            .iter()
            .filter(|b| pool.cidr.contains(&b.cidr().network()))
            .count() as u128;
        let fit = 1u128 << (pool.block_size - pool.cidr.prefix_len());
        prop_assert!(
            count <= fit,
            "{} blocks in {}, room for {}",
            count,
            pool.cidr,
            fit
        );
    }
    check_utilization(ipam, &blocks)
}

/// `GetUtilization`: per block, capacity = in use + available + reserved addresses that are
/// free; per pool, the same over the pool (reserved addresses may be in use, so the reserved
/// figure overlaps in-use), and nothing is reported as orphaned.
fn check_utilization(ipam: &Ipam, blocks: &[&Block]) -> Result<(), TestCaseError> {
    let reservations = ipam.reservations();
    for usage in ipam.get_utilization(&[]) {
        let mut reserved_in_use = 0u128;
        for b in &usage.blocks {
            let block = blocks.iter().find(|x| x.cidr() == b.cidr);
            let Some(block) = block else {
                return Err(TestCaseError::fail(format!(
                    "{} reported but absent",
                    b.cidr
                )));
            };
            let used = block.in_use_ips();
            let used_reserved =
                used.iter().filter(|ip| reservations.matches_ip(ip)).count() as u128;
            prop_assert_eq!(b.capacity, net_size(&b.cidr));
            prop_assert_eq!(b.in_use, used.len() as u128, "in use of {}", b.cidr);
            prop_assert_eq!(
                b.capacity,
                b.in_use + b.available + (b.reserved - used_reserved),
                "block {} figures: {:?}",
                b.cidr,
                b
            );
            reserved_in_use += used_reserved;
        }
        if usage.name == "orphaned allocation blocks" {
            prop_assert!(
                usage.blocks.is_empty(),
                "orphaned blocks: {:?}",
                usage.blocks
            );
            continue;
        }
        prop_assert_eq!(usage.capacity, net_size(&usage.cidr));
        prop_assert_eq!(usage.reserved, reservations.count_reserved_in(&usage.cidr));
        prop_assert_eq!(
            usage.capacity,
            usage.in_use + usage.available + (usage.reserved - reserved_in_use),
            "pool {} figures: {:?}",
            usage.name,
            usage
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    })]

    #[test]
    fn allocator_invariants_hold_after_every_operation(
        plan in cluster_plan(),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        let mut ipam = build(&plan);
        let mut held = Held::new();
        for op in &ops {
            apply(&mut ipam, &mut held, op)?;
            check_invariants(&ipam, &held)?;
        }
    }

    /// The host walks (engine/host_walks.rs) are a cache: with them, every operation must give
    /// what walking every block afresh gives, down to the blocks' contents and the write count.
    #[test]
    fn host_walks_change_nothing_calico_would_see(
        plan in cluster_plan(),
        ops in prop_oneof![
            prop::collection::vec(op(), 1..120),
            prop::collection::vec(assign_heavy_op(), 1..200),
        ],
    ) {
        let mut walked = build(&plan);
        let mut plain = build(&plan).without_host_walks();
        let (mut walked_held, mut plain_held) = (Held::new(), Held::new());
        for op in &ops {
            apply(&mut walked, &mut walked_held, op)?;
            apply(&mut plain, &mut plain_held, op)?;
            prop_assert_eq!(&walked_held, &plain_held, "after {:?}", op);
            prop_assert_eq!(observe(&walked), observe(&plain), "after {:?}", op);
        }
    }
}

/// Everything about the state that an operation can reveal, as text.
fn observe(ipam: &Ipam) -> String {
    let mut handles: Vec<String> = ipam
        .handles()
        .map(|(handle, blocks)| format!("{handle}: {blocks:?}"))
        .collect();
    handles.sort();
    format!(
        "{:?}\n{:?}\n{handles:?}\nwrites {}",
        ipam.list_blocks(None),
        ipam.list_affinities(None, None, None),
        ipam.writes()
    )
}
