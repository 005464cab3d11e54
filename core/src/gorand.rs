//! Go's `hash/fnv` FNV-1 32, `math/rand` (legacy source) and `math/big` `Int.Rand`, bit-exact, as
//! Calico's `randomBlockGenerator` uses them to choose which block a host claims (spec §3.5).
//!
//! STUB: the interface other modules code against; the full implementation replaces it.

use ipnet::IpNet;

/// The blocks of `pool` (prefix `block_prefix`) in the order Calico tries them for `host`:
/// a rotation starting at the host-seeded random index. Lazy: a /8 with /32 blocks or a /48
/// IPv6 pool is never enumerated beyond what the caller takes.
pub fn block_rotation(pool: IpNet, block_prefix: u8, host: &str) -> impl Iterator<Item = IpNet> {
    let _ = host;
    pool.subnets(block_prefix).into_iter().flatten()
}
