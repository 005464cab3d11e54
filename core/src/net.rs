//! Address types that carry Calico's invariants, so later code cannot forget them: a pool CIDR
//! never holds host bits, a block size is always in Calico's range for its family, and uses and
//! modes are enums rather than strings.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::Serialize;

/// The hasher for maps and sets keyed by networks (blocks by CIDR). FxHash, which the other
/// maps use, mixes addresses poorly on 32-bit targets such as the page's wasm32: an IPv4
/// address is hashed as its bytes read as a little-endian word, so blocks that differ in their
/// last octet differ only in the word's top bits, which its multiply cannot spread down. 60 000
/// consecutive /32 blocks got 32 768 distinct slots and 4 distinct tags, 55 probe groups per
/// insert, and the page spent nearly half of such a plan in those look-ups. foldhash (fixed
/// seed, so runs stay deterministic) mixes every input bit on every target.
pub(crate) type NetHasher = foldhash::fast::FixedState;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Family {
    #[serde(rename = "IPv4")]
    V4,
    #[serde(rename = "IPv6")]
    V6,
}

impl Family {
    pub fn of_net(net: &IpNet) -> Family {
        match net {
            IpNet::V4(_) => Family::V4,
            IpNet::V6(_) => Family::V6,
        }
    }

    pub fn of_addr(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// Address width in bits.
    pub fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    /// Calico's version number, as in `IPv4`/`IPv6` messages.
    pub fn version(self) -> u8 {
        match self {
            Family::V4 => 4,
            Family::V6 => 6,
        }
    }
}

/// A CIDR with no host bits set: what an IPPool's `cidr` must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolCidr(IpNet);

/// Why a text is not a pool CIDR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CidrError {
    /// Not a CIDR at all (Calico: `IPPool CIDR must be a valid subnet`).
    Invalid,
    /// A CIDR with host bits; carries the masked network Calico would store.
    NotMasked(PoolCidr),
}

impl PoolCidr {
    /// Accepts only strictly masked networks.
    pub fn new(net: IpNet) -> Result<PoolCidr, CidrError> {
        let masked = PoolCidr(net.trunc());
        if masked.0 == net {
            Ok(masked)
        } else {
            Err(CidrError::NotMasked(masked))
        }
    }

    /// The network of `net`, host bits cleared (what Calico does to reservations and requested
    /// pool CIDRs).
    pub fn masked(net: IpNet) -> PoolCidr {
        PoolCidr(net.trunc())
    }

    pub fn net(&self) -> IpNet {
        self.0
    }

    pub fn family(&self) -> Family {
        Family::of_net(&self.0)
    }

    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }

    pub fn contains(&self, addr: &IpAddr) -> bool {
        self.0.contains(addr)
    }

    /// Calico's overlap test: either network contains the other's base address.
    pub fn overlaps(&self, other: &PoolCidr) -> bool {
        self.0.contains(&other.0.network()) || other.0.contains(&self.0.network())
    }
}

impl FromStr for PoolCidr {
    type Err = CidrError;

    /// Parses Go-style CIDR text (`net.ParseCIDR`); surrounding whitespace is not accepted.
    fn from_str(text: &str) -> Result<PoolCidr, CidrError> {
        let net: IpNet = text.parse().map_err(|_| CidrError::Invalid)?;
        PoolCidr::new(net)
    }
}

impl fmt::Display for PoolCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for PoolCidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A block prefix length within Calico's range for its family: 20..=32 (IPv4) or 116..=128 (IPv6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct BlockSize(u8);

impl BlockSize {
    pub const DEFAULT_V4: BlockSize = BlockSize(26);
    pub const DEFAULT_V6: BlockSize = BlockSize(122);

    /// `None` when out of range; 0 is not accepted here (use [`BlockSize::or_default`]).
    pub fn new(family: Family, prefix: u8) -> Option<BlockSize> {
        let range = match family {
            Family::V4 => 20..=32,
            Family::V6 => 116..=128,
        };
        range.contains(&prefix).then_some(BlockSize(prefix))
    }

    /// Calico's default for a family (clientv3 applies it when `blockSize` is 0 or absent).
    pub fn default_for(family: Family) -> BlockSize {
        match family {
            Family::V4 => BlockSize::DEFAULT_V4,
            Family::V6 => BlockSize::DEFAULT_V6,
        }
    }

    /// 0 means the default; anything else must be in range.
    pub fn or_default(family: Family, prefix: u8) -> Option<BlockSize> {
        if prefix == 0 {
            Some(BlockSize::default_for(family))
        } else {
            BlockSize::new(family, prefix)
        }
    }

    pub fn prefix_len(self) -> u8 {
        self.0
    }
}

/// What addresses of a pool may be used for (`spec.allowedUses`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum AllowedUse {
    Workload,
    Tunnel,
    LoadBalancer,
}

impl AllowedUse {
    pub fn parse(text: &str) -> Option<AllowedUse> {
        match text {
            "Workload" => Some(AllowedUse::Workload),
            "Tunnel" => Some(AllowedUse::Tunnel),
            "LoadBalancer" => Some(AllowedUse::LoadBalancer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AllowedUse::Workload => "Workload",
            AllowedUse::Tunnel => "Tunnel",
            AllowedUse::LoadBalancer => "LoadBalancer",
        }
    }

    /// Calico's default when `allowedUses` is empty.
    pub const DEFAULT: [AllowedUse; 2] = [AllowedUse::Workload, AllowedUse::Tunnel];
}

/// `spec.assignmentMode`: `Manual` pools are never chosen implicitly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub enum AssignmentMode {
    #[default]
    Automatic,
    Manual,
}

impl AssignmentMode {
    pub fn parse(text: &str) -> Option<AssignmentMode> {
        match text {
            "Automatic" => Some(AssignmentMode::Automatic),
            "Manual" => Some(AssignmentMode::Manual),
            _ => None,
        }
    }
}

/// `spec.ipipMode` / `spec.vxlanMode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub enum EncapMode {
    #[default]
    Never,
    Always,
    CrossSubnet,
}

impl EncapMode {
    /// The empty string is Calico's unset value and means `Never`.
    pub fn parse(text: &str) -> Option<EncapMode> {
        match text {
            "" | "Never" => Some(EncapMode::Never),
            "Always" => Some(EncapMode::Always),
            "CrossSubnet" => Some(EncapMode::CrossSubnet),
            _ => None,
        }
    }

    pub fn enabled(self) -> bool {
        self != EncapMode::Never
    }
}

/// Parses Go's `net.ParseIP` forms (no prefix, no surrounding whitespace). An IPv4-mapped IPv6
/// literal counts as IPv4, as Go's `To4()` treats it.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let addr: IpAddr = text.parse().ok()?;
    Some(match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    })
}

/// Go's `ParseCIDROrIP`: a CIDR, or a bare address as a /32 or /128.
pub fn parse_cidr_or_ip(text: &str) -> Option<IpNet> {
    if text.contains('/') {
        text.parse().ok()
    } else {
        parse_ip(text).map(IpNet::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_cidr_refuses_host_bits_and_offers_the_mask() {
        assert!("10.0.0.0/24".parse::<PoolCidr>().is_ok());
        match "10.0.0.1/24".parse::<PoolCidr>() {
            Err(CidrError::NotMasked(m)) => assert_eq!(m.to_string(), "10.0.0.0/24"),
            other => panic!("{other:?}"),
        }
        assert_eq!("x".parse::<PoolCidr>(), Err(CidrError::Invalid));
    }

    #[test]
    fn block_size_range() {
        assert!(BlockSize::new(Family::V4, 19).is_none());
        assert!(BlockSize::new(Family::V4, 32).is_some());
        assert!(BlockSize::new(Family::V6, 115).is_none());
        assert_eq!(
            BlockSize::or_default(Family::V6, 0),
            Some(BlockSize::DEFAULT_V6)
        );
    }

    #[test]
    fn mapped_ipv6_is_ipv4() {
        assert_eq!(parse_ip("::ffff:10.0.0.1"), "10.0.0.1".parse().ok());
        assert!(parse_ip("10.0.0.1/32").is_none());
        assert_eq!(
            parse_cidr_or_ip("10.0.0.1").unwrap().to_string(),
            "10.0.0.1/32"
        );
    }
}
