//! The Calico IPAM model and allocator (spec §3): blocks with their ordered free lists,
//! affinities, handles, reservations, AutoAssign, AssignIP, release and utilization.
//!
//! [`Ipam`] holds a cluster's IPAM state and runs Calico's operations serially with an explicit
//! clock. Everything is data in, data out: no I/O, no system time, no panics.

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
    EnsureBlockArgs, IpamAssignments, IpamConfig, PoolUtilization, ReleaseOutcome,
    AFFINITY_TYPE_HOST, AFFINITY_TYPE_VIRTUAL, LOAD_BALANCER_HOST,
};
pub use utilization::PoolSpace;

#[cfg(test)]
mod tests;
