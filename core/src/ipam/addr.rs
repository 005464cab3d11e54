//! Address arithmetic on `u128`, so that IPv4 and IPv6 share one code path and no operation can
//! overflow or panic whatever the input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::net::Family;

/// The address as an unsigned number (IPv4 in the low 32 bits).
pub fn addr_to_u128(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The address of `family` with numeric value `value`; `None` when it does not fit the family.
pub fn u128_to_addr(family: Family, value: u128) -> Option<IpAddr> {
    match family {
        Family::V4 => u32::try_from(value)
            .ok()
            .map(|v| IpAddr::V4(Ipv4Addr::from(v))),
        Family::V6 => Some(IpAddr::V6(Ipv6Addr::from(value))),
    }
}

/// A network from an address and a prefix length, host bits cleared; `None` for a prefix that
/// is too long for the family.
pub fn masked_net(addr: IpAddr, prefix: u8) -> Option<IpNet> {
    let net = match addr {
        IpAddr::V4(v4) => IpNet::V4(Ipv4Net::new(v4, prefix).ok()?),
        IpAddr::V6(v6) => IpNet::V6(Ipv6Net::new(v6, prefix).ok()?),
    };
    Some(net.trunc())
}

/// Number of host bits of a network (0 for a /32 or /128).
pub fn host_bits(net: &IpNet) -> u32 {
    u32::from(net.max_prefix_len().saturating_sub(net.prefix_len()))
}

/// Number of addresses in `net`, saturating at `u128::MAX` for `::/0`.
pub fn net_size(net: &IpNet) -> u128 {
    1u128.checked_shl(host_bits(net)).unwrap_or(u128::MAX)
}

/// The numeric value of the network's first address.
pub fn net_base(net: &IpNet) -> u128 {
    addr_to_u128(net.network())
}

/// The numeric value of the network's last address.
pub fn net_last(net: &IpNet) -> u128 {
    addr_to_u128(net.broadcast())
}

/// Whether two networks of the same family share at least one address. Aligned networks either
/// nest or are disjoint, so testing both base addresses is enough.
pub fn nets_overlap(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Whether `outer` contains every address of `inner` (same family only).
pub fn net_covers(outer: &IpNet, inner: &IpNet) -> bool {
    Family::of_net(outer) == Family::of_net(inner)
        && outer.prefix_len() <= inner.prefix_len()
        && outer.contains(&inner.network())
}

/// Number of addresses the two networks have in common.
pub fn intersection_size(a: &IpNet, b: &IpNet) -> u128 {
    if net_covers(a, b) {
        net_size(b)
    } else if net_covers(b, a) {
        net_size(a)
    } else {
        0
    }
}

/// Calico's datastore name for a CIDR: `.`, `:` and `/` replaced by `-`.
pub fn dashed(net: &IpNet) -> String {
    net.to_string().replace(['.', ':', '/'], "-")
}
