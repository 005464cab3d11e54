//! The IPReservation address filter (spec §1.2, §3.1): reserved CIDRs masked to their network,
//! with Calico's three predicates and the counts utilization needs.

use std::net::IpAddr;

use ipnet::IpNet;

use super::addr::{intersection_size, net_base, net_covers, net_size, nets_overlap};
use crate::net::{parse_cidr_or_ip, Family};

/// Parses `IPReservation.spec.reservedCIDRs` entries the way IPAM reads them: whitespace is
/// trimmed, empty and malformed entries are skipped, and each entry is masked to its network
/// (so `10.0.0.5/24` reserves the whole `/24`).
pub fn parse_reserved_cidrs<'a>(entries: impl IntoIterator<Item = &'a str>) -> Vec<IpNet> {
    entries
        .into_iter()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .filter_map(parse_cidr_or_ip)
        .map(|net| net.trunc())
        .collect()
}

/// Drops every CIDR that lies inside another listed CIDR, keeping the first of identical ones,
/// and otherwise keeps the input order. Aligned networks either nest or are disjoint, so after
/// sorting by (family, base, prefix) one sweep that remembers the last kept network finds every
/// nested one: O(n log n) rather than comparing all pairs.
pub fn dedupe_cidrs(cidrs: &[IpNet]) -> Vec<IpNet> {
    let mut order: Vec<usize> = (0..cidrs.len()).collect();
    order.sort_by_key(|&i| {
        cidrs
            .get(i)
            .map(|c| (Family::of_net(c), net_base(c), c.prefix_len(), i))
    });
    let mut keep = vec![false; cidrs.len()];
    let mut current: Option<IpNet> = None;
    for index in order {
        let Some(cidr) = cidrs.get(index) else {
            continue;
        };
        if current.is_some_and(|cover| net_covers(&cover, cidr)) {
            continue;
        }
        if let Some(flag) = keep.get_mut(index) {
            *flag = true;
        }
        current = Some(*cidr);
    }
    cidrs
        .iter()
        .zip(keep)
        .filter(|(_, kept)| *kept)
        .map(|(cidr, _)| *cidr)
        .collect()
}

/// The union of all reserved CIDRs in the cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReservationSet {
    cidrs: Vec<IpNet>,
    /// `cidrs` without nested entries, for counting without double counting.
    outermost: Vec<IpNet>,
}

impl ReservationSet {
    /// A set of already-parsed networks; each is masked to its network.
    pub fn new(cidrs: impl IntoIterator<Item = IpNet>) -> ReservationSet {
        let cidrs: Vec<IpNet> = cidrs.into_iter().map(|net| net.trunc()).collect();
        let outermost = dedupe_cidrs(&cidrs);
        ReservationSet { cidrs, outermost }
    }

    /// A set from raw `reservedCIDRs` texts (see [`parse_reserved_cidrs`]).
    pub fn from_texts<'a>(entries: impl IntoIterator<Item = &'a str>) -> ReservationSet {
        ReservationSet::new(parse_reserved_cidrs(entries))
    }

    pub fn cidrs(&self) -> &[IpNet] {
        &self.cidrs
    }

    pub fn is_empty(&self) -> bool {
        self.cidrs.is_empty()
    }

    /// `reservedIP`: some reserved CIDR contains the address.
    pub fn matches_ip(&self, addr: &IpAddr) -> bool {
        self.cidrs.iter().any(|cidr| cidr.contains(addr))
    }

    /// `reservedSome`: some reserved CIDR overlaps `cidr`.
    pub fn matches_some(&self, cidr: &IpNet) -> bool {
        self.cidrs
            .iter()
            .any(|reserved| nets_overlap(reserved, cidr))
    }

    /// `reservedWhole`: one reserved CIDR covers `cidr`, or the reserved CIDRs inside it (nested
    /// ones dropped) add up to exactly its size.
    pub fn matches_whole_cidr(&self, cidr: &IpNet) -> bool {
        if self.covering(cidr).is_some() {
            return true;
        }
        // No reserved CIDR covers `cidr`, so every one that overlaps it lies inside it (aligned
        // networks nest or are disjoint), and a reserved CIDR holding one of those lies inside it
        // too: the outermost reserved CIDRs inside `cidr` are exactly those left when the nested
        // ones inside it are dropped. Using them is what lets a request's walk over a node's many
        // blocks check each block without allocating or sorting.
        let mut inside = self
            .outermost
            .iter()
            .filter(|reserved| net_covers(cidr, reserved))
            .peekable();
        inside.peek().is_some()
            && inside.fold(0u128, |sum, reserved| {
                sum.saturating_add(net_size(reserved))
            }) == net_size(cidr)
    }

    /// A single reserved CIDR that covers all of `cidr`, if any (the largest one).
    pub fn covering(&self, cidr: &IpNet) -> Option<IpNet> {
        self.cidrs
            .iter()
            .filter(|reserved| net_covers(reserved, cidr))
            .min_by_key(|reserved| reserved.prefix_len())
            .copied()
    }

    /// How many addresses of `cidr` are reserved, without enumerating addresses: aligned networks
    /// either nest or are disjoint, so after dropping nested reservations the intersections add up.
    pub fn count_reserved_in(&self, cidr: &IpNet) -> u128 {
        self.outermost.iter().fold(0u128, |sum, reserved| {
            sum.saturating_add(intersection_size(reserved, cidr))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(texts: &[&str]) -> Vec<IpNet> {
        texts.iter().filter_map(|t| t.parse().ok()).collect()
    }

    #[test]
    fn parsing_trims_masks_and_skips_garbage() {
        let parsed =
            parse_reserved_cidrs(["", "  ", " 10.0.0.5/24 ", "x", "10.0.0.0/33", "fd00::1"]);
        assert_eq!(parsed, nets(&["10.0.0.0/24", "fd00::1/128"]));
    }

    #[test]
    fn dedupe_keeps_order_and_one_of_identical() {
        let input = nets(&["10.0.0.0/25", "10.0.0.0/24", "10.0.0.0/24", "11.0.0.0/8"]);
        assert_eq!(dedupe_cidrs(&input), nets(&["10.0.0.0/24", "11.0.0.0/8"]));
    }

    #[test]
    fn whole_cidr_by_union_of_parts() {
        let set = ReservationSet::new(nets(&["192.168.1.64/26", "192.168.1.0/26"]));
        let cases = [
            ("192.168.1.0/25", true),
            ("192.168.1.96/27", true),
            ("192.168.1.0/24", false),
            ("10.0.0.0/8", false),
        ];
        for (cidr, expected) in cases {
            let net: IpNet = cidr.parse().unwrap_or_else(|_| unreachable!());
            assert_eq!(set.matches_whole_cidr(&net), expected, "{cidr}");
        }
    }

    /// `matches_whole_cidr` counts the set's outermost CIDRs; it must agree with Calico's
    /// definition, which dedupes the reserved CIDRs inside the block on every call.
    #[test]
    fn whole_cidr_agrees_with_deduping_the_cidrs_inside() {
        let by_definition = |set: &ReservationSet, cidr: &IpNet| {
            let inside: Vec<IpNet> = set
                .cidrs()
                .iter()
                .filter(|reserved| net_covers(cidr, reserved))
                .copied()
                .collect();
            let total = dedupe_cidrs(&inside)
                .iter()
                .fold(0u128, |sum, reserved| sum + net_size(reserved));
            set.covering(cidr).is_some() || (!inside.is_empty() && total == net_size(cidr))
        };
        // Every network of 10.0.0.0/28 (31 of them), and sets of up to three, some nested.
        let all: Vec<IpNet> = (0..=4u8)
            .flat_map(|bits| {
                let prefix = 28 + bits;
                (0..1u32 << bits).map(move |i| {
                    let addr = std::net::Ipv4Addr::from(0x0a00_0000 + (i << (4 - bits)));
                    IpNet::new(addr.into(), prefix).unwrap_or_else(|_| unreachable!())
                })
            })
            .collect();
        for a in 0..all.len() {
            for b in a..all.len() {
                for c in b..all.len() {
                    let set = ReservationSet::new([all[a], all[b], all[c]]);
                    for cidr in &all {
                        assert_eq!(
                            set.matches_whole_cidr(cidr),
                            by_definition(&set, cidr),
                            "{cidr} in {:?}",
                            set.cidrs()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn counting_does_not_double_count_nested_reservations() {
        let set = ReservationSet::new(nets(&["10.0.0.0/25", "10.0.0.5/32", "10.0.0.64/26"]));
        let pool: IpNet = "10.0.0.0/24".parse().unwrap_or_else(|_| unreachable!());
        assert_eq!(set.count_reserved_in(&pool), 128);
    }
}
