//! The Calico IPAM model and allocator (spec §3): blocks with their ordered free lists,
//! affinities, handles, reservations, AutoAssign, AssignIP, release and utilization.
//!
//! [`Ipam`] holds a cluster's IPAM state and runs Calico's operations serially with an explicit
//! clock. Everything is data in, data out: no I/O, no system time, no panics.
//!
//! A whole-cluster simulation sets pools (in accessor order: Calico lists them by name), nodes,
//! reservations and the configuration, then replays pod and tunnel requests:
//!
//! ```
//! use ipam_core::ipam::{AutoAssignArgs, Ipam, IpamConfig, Pool};
//! use ipam_core::net::AllowedUse;
//!
//! let mut ipam = Ipam::new();
//! ipam.set_pools(vec![Pool::new("default-ipv4-ippool", "10.244.0.0/16").unwrap()]);
//! ipam.set_config(IpamConfig::default());
//! ipam.set_node("node-1", Default::default());
//! let (v4, _v6, result) = ipam.auto_assign(&AutoAssignArgs {
//!     num4: 1,
//!     hostname: "node-1".into(),
//!     handle: Some("k8s-pod-network.abc".into()),
//!     intended_use: Some(AllowedUse::Workload),
//!     ..AutoAssignArgs::default()
//! });
//! assert!(result.is_ok());
//! // node-1's first block is 10.244.84.128/26 (spec §3.5); its base address is handed out first.
//! assert_eq!(v4.unwrap().ips[0].to_string(), "10.244.84.128/26");
//! ```

mod addr;
mod block;
mod engine;
mod errors;
mod pool;
mod reservations;
mod types;
mod utilization;
mod walk;

/// The network type of every CIDR in this API, re-exported so callers need no `ipnet` dependency.
pub use ipnet::IpNet;

pub use addr::{dashed, net_size};
pub use block::{
    AllocationAttribute, Block, BlockRelease, HostReservedAttr, ReleaseOptions,
    WINDOWS_RESERVED_HANDLE,
};
pub use engine::{effective_block_cap, max_prefix_len, DeterminedPools, Ipam};
pub use errors::{
    IpamError, IpamErrorKind, ERR_BLOCK_LIMIT, ERR_NO_QUALIFIED_POOL, ERR_STRICT_AFFINITY,
    ERR_USE_REQUIRED,
};
pub use pool::Pool;
pub use reservations::{dedupe_cidrs, parse_reserved_cidrs, ReservationSet};
pub use types::{
    saturate_i64, AffinityState, AssignIpArgs, AutoAssignArgs, BlockAffinity, BlockUtilization,
    EnsureBlockArgs, Handle, HandleBlocks, IpamAssignments, IpamConfig, OwnerAttrs,
    PoolUtilization, ReleaseOutcome, AFFINITY_TYPE_HOST, AFFINITY_TYPE_VIRTUAL, LOAD_BALANCER_HOST,
};
pub use utilization::PoolSpace;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
