//! Presentation adapter: lays out one claimed block's addresses as cells for the address map.
//!
//! TEMPORARY: this only does address arithmetic on the CIDR texts the core hands out (offset of
//! an address in its block, clipping reservation CIDRs to the block); it decides nothing about
//! IPAM. It goes away once the core offers a per-address view of a block (see the report:
//! `BlockView::addresses`). A block has at most 4096 addresses (blockSize 20 or 116), so this
//! never enumerates more than that, and never a pool.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipam_core::simulate::{AddressUse, BlockView};

/// The most cells a block view draws.
pub const MAX_CELLS: u32 = 4096;

/// One address of a block: what uses it, if anything, and whether a reservation covers it.
pub struct Cell<'a> {
    pub ip: IpAddr,
    pub used: Option<&'a AddressUse>,
    pub reserved: bool,
}

/// A parsed CIDR: its first address as a number, the family's width and the prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    base: u128,
    bits: u32,
    prefix: u32,
}

impl Range {
    pub fn parse(cidr: &str) -> Option<Range> {
        let (addr, prefix) = cidr.split_once('/')?;
        let addr: IpAddr = addr.trim().parse().ok()?;
        let prefix: u32 = prefix.trim().parse().ok()?;
        let (base, bits) = match addr {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        };
        (prefix <= bits).then_some(Range { base, bits, prefix })
    }

    /// The number of addresses, when it fits in a u128 (every prefix but /0 of IPv6).
    pub fn len(self) -> Option<u128> {
        1u128.checked_shl(self.bits - self.prefix)
    }

    fn offset_of(self, ip: IpAddr) -> Option<u32> {
        let n = match (ip, self.bits) {
            (IpAddr::V4(a), 32) => u128::from(u32::from(a)),
            (IpAddr::V6(a), 128) => u128::from(a),
            _ => return None,
        };
        let offset = n.checked_sub(self.base)?;
        (offset < self.len()?).then_some(offset as u32)
    }

    fn addr(self, offset: u32) -> IpAddr {
        let n = self.base + u128::from(offset);
        if self.bits == 32 {
            IpAddr::V4(Ipv4Addr::from(n as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(n))
        }
    }
}

/// The cells of `block`, in address order, or `None` when its CIDR cannot be read or it has more
/// than `MAX_CELLS` addresses.
pub fn block_cells(block: &BlockView) -> Option<Vec<Cell<'_>>> {
    let range = Range::parse(&block.cidr)?;
    let len = range.len().filter(|&n| n <= u128::from(MAX_CELLS))? as u32;
    let mut cells: Vec<Cell<'_>> = (0..len)
        .map(|i| Cell {
            ip: range.addr(i),
            used: None,
            reserved: false,
        })
        .collect();
    for (ip, use_) in &block.used {
        if let Some(i) = range.offset_of(*ip) {
            cells[i as usize].used = Some(use_);
        }
    }
    for reserved in block.reserved.iter().filter_map(|c| Range::parse(c)) {
        if reserved.bits != range.bits {
            continue;
        }
        // Clip the reservation to the block.
        let start = reserved.base.max(range.base);
        let end = reserved
            .len()
            .map_or(u128::MAX, |n| reserved.base.saturating_add(n))
            .min(range.base + u128::from(len));
        for n in start..end.max(start) {
            cells[(n - range.base) as usize].reserved = true;
        }
    }
    Some(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(cidr: &str, used: &[&str], reserved: &[&str]) -> BlockView {
        BlockView {
            cidr: cidr.into(),
            pool: "p".into(),
            affinity: Some("host:node-1".into()),
            size: 0,
            used: used
                .iter()
                .map(|ip| (ip.parse().unwrap(), AddressUse::Cooldown))
                .collect(),
            reserved: reserved.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn lays_out_an_ipv4_block() {
        let b = block(
            "10.0.0.64/26",
            &["10.0.0.64", "10.0.0.127", "10.0.1.0"],
            &["10.0.0.0/28", "10.0.0.120/29"],
        );
        let cells = block_cells(&b).unwrap();
        assert_eq!(cells.len(), 64);
        assert_eq!(cells[0].ip.to_string(), "10.0.0.64");
        assert!(cells[0].used.is_some() && cells[63].used.is_some());
        assert_eq!(cells.iter().filter(|c| c.used.is_some()).count(), 2);
        let reserved: Vec<usize> = (0..64).filter(|&i| cells[i].reserved).collect();
        assert_eq!(reserved, (56..64).collect::<Vec<_>>());
    }

    #[test]
    fn lays_out_an_ipv6_block_and_refuses_big_ones() {
        let b = block("fd00::/122", &["fd00::3f"], &["fd00::/127"]);
        let cells = block_cells(&b).unwrap();
        assert_eq!(cells.len(), 64);
        assert_eq!(cells[63].ip.to_string(), "fd00::3f");
        assert!(cells[1].reserved && !cells[2].reserved);
        assert!(block_cells(&block("fd00::/100", &[], &[])).is_none());
        assert!(block_cells(&block("10.0.0.0/20", &[], &[])).unwrap().len() == 4096);
        assert!(block_cells(&block("nonsense", &[], &[])).is_none());
    }
}
