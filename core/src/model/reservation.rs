//! `IPReservation` (spec §1.2).

use ipnet::IpNet;

use crate::net::parse_cidr_or_ip;
use crate::yaml::{Node, Pos};

use super::fields::{ApiGroup, Origin, Reader, Spanned};
use super::meta::Meta;

#[derive(Clone, Debug, PartialEq)]
pub struct IpReservation {
    pub origin: Origin,
    pub api: ApiGroup,
    pub meta: Meta,
    /// Where `spec` is written (the document when there is no `spec`).
    pub spec_pos: Pos,
    /// `spec.reservedCIDRs` as written.
    pub reserved_cidrs: Option<Spanned<Vec<Spanned<String>>>>,
}

impl IpReservation {
    pub(crate) fn read(reader: &mut Reader<'_>, origin: Origin, root: &Node) -> IpReservation {
        let meta = Meta::read(reader, root, "");
        let spec = reader.object(root, "spec", "");
        IpReservation {
            api: ApiGroup::of(&origin.api_version),
            spec_pos: spec.map_or(origin.pos, |s| s.pos),
            reserved_cidrs: spec.and_then(|s| reader.string_list(s, "reservedCIDRs", "spec")),
            meta,
            origin,
        }
    }

    pub fn name(&self) -> &str {
        self.meta.name()
    }

    /// The entries as written (empty when unset).
    pub fn entries(&self) -> &[Spanned<String>] {
        self.reserved_cidrs
            .as_ref()
            .map_or(&[], |list| list.value.as_slice())
    }

    /// The networks IPAM reserves, read as Calico's IPAM reader does (spec §1.2): each entry is
    /// trimmed, empty ones skipped, parsed as a CIDR or a bare IP and masked to its network;
    /// entries that do not parse are skipped.
    pub fn effective_cidrs(&self) -> Vec<IpNet> {
        self.entries()
            .iter()
            .map(|entry| entry.value.trim())
            .filter(|text| !text.is_empty())
            .filter_map(parse_cidr_or_ip)
            .map(|net| net.trunc())
            .collect()
    }
}
