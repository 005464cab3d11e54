//! Networks indexed for Calico's overlap test, shared by the validator's pool-overlap rule and
//! the controller's `CIDROverlap` marking in the cluster run.

use ipnet::IpNet;

use crate::net::Family;
use crate::sorted_chunks::SortedChunks;

/// A network as (address width, base address, prefix length): ordered by base within a family.
type NetKey = (u8, u128, u8);

fn key(net: &IpNet) -> NetKey {
    let base = match net {
        IpNet::V4(v4) => u128::from(u32::from(v4.network())),
        IpNet::V6(v6) => u128::from(v6.network()),
    };
    (Family::of_net(net).bits(), base, net.prefix_len())
}

/// Networks, each with an index of the caller's (a pool's position), ordered by key and, within
/// a key, by index. Aligned networks nest or are disjoint, so the networks overlapping another
/// are those that contain its base address at some prefix no longer than its own, and those
/// that lie within its range: one look-up per prefix length and one range scan, not a
/// comparison with every network.
#[derive(Default)]
pub(crate) struct NetIndex {
    nets: SortedChunks<(NetKey, usize)>,
}

impl NetIndex {
    pub fn insert(&mut self, net: &IpNet, index: usize) {
        self.nets.insert((key(&net.trunc()), index));
    }

    /// The indices of the networks overlapping `net`: first those containing it, shortest
    /// prefix first, then those within its range, in key order (a network with `net`'s own
    /// base and a shorter prefix comes in both). Within one network, by index.
    pub fn overlapping<'a>(&'a self, net: &IpNet) -> impl Iterator<Item = usize> + 'a {
        let net = net.trunc();
        let (width, base, prefix) = key(&net);
        let containing = (0..=prefix)
            .filter_map(move |p| IpNet::new(net.network(), p).ok())
            .flat_map(move |outer| {
                let outer = key(&outer.trunc());
                self.nets.range((outer, 0)..=(outer, usize::MAX))
            });
        let last = key(&IpNet::from(net.broadcast())).1;
        let within = self
            .nets
            .range(((width, base, 0), 0)..=((width, last, u8::MAX), usize::MAX));
        containing.chain(within).map(|&(_, index)| index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn finds_containing_and_contained_networks_only() {
        let mut index = NetIndex::default();
        for (i, text) in [
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.1.2.0/24",
            "11.0.0.0/8",
            "fd00::/8",
        ]
        .iter()
        .enumerate()
        {
            index.insert(&net(text), i);
        }
        let found = |text: &str| {
            let mut found: Vec<usize> = index.overlapping(&net(text)).collect();
            found.sort_unstable();
            found.dedup();
            found
        };
        assert_eq!(found("10.1.0.0/16"), [0, 1, 2]);
        assert_eq!(found("10.1.3.0/24"), [0, 1]);
        assert_eq!(found("10.0.0.0/7"), [0, 1, 2, 3]);
        assert_eq!(found("12.0.0.0/8"), [] as [usize; 0]);
        assert_eq!(found("fd00:1::/32"), [4]);
        assert_eq!(found("0.0.0.0/0"), [0, 1, 2, 3]);
    }
}
