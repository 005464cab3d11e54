//! `IPPool` (spec §1.1): the spec as written, and the pool Calico stores after its defaults.

use ipnet::IpNet;

use crate::net::{AllowedUse, AssignmentMode, BlockSize, EncapMode, Family, PoolCidr};
use crate::yaml::{Node, Pos};

use super::fields::{ApiGroup, Origin, Reader, Spanned};
use super::meta::Meta;

/// An `IPPool` document (`projectcalico.org/v3` or `crd.projectcalico.org/v1`).
#[derive(Clone, Debug, PartialEq)]
pub struct IpPool {
    pub origin: Origin,
    pub api: ApiGroup,
    pub meta: Meta,
    pub spec: IpPoolSpec,
}

/// `spec` exactly as written: every field keeps its text and position, so validation can quote it
/// and point at it. Unset fields are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpPoolSpec {
    /// Where `spec` is written (the document when there is no `spec`).
    pub pos: Pos,
    pub cidr: Option<Spanned<String>>,
    pub block_size: Option<Spanned<i64>>,
    pub ipip_mode: Option<Spanned<String>>,
    pub vxlan_mode: Option<Spanned<String>>,
    pub nat_outgoing: Option<Spanned<bool>>,
    pub disabled: Option<Spanned<bool>>,
    pub disable_bgp_export: Option<Spanned<bool>>,
    pub node_selector: Option<Spanned<String>>,
    pub namespace_selector: Option<Spanned<String>>,
    pub allowed_uses: Option<Spanned<Vec<Spanned<String>>>>,
    pub assignment_mode: Option<Spanned<String>>,
    /// The APIv1 `ipip` object, which may not be set (Go `mustBeNil`).
    pub legacy_ipip: Option<Pos>,
    /// The APIv1 `nat-outgoing` flag, which may not be true (Go `mustBeFalse`).
    pub legacy_nat_outgoing: Option<Spanned<bool>>,
}

impl IpPoolSpec {
    pub(crate) fn read(reader: &mut Reader<'_>, root: &Node, doc_pos: Pos) -> IpPoolSpec {
        let Some(spec) = reader.object(root, "spec", "") else {
            return IpPoolSpec {
                pos: doc_pos,
                ..IpPoolSpec::default()
            };
        };
        let path = "spec";
        IpPoolSpec {
            pos: spec.pos,
            cidr: reader.string(spec, "cidr", path),
            block_size: reader.integer(spec, "blockSize", path),
            ipip_mode: reader.string(spec, "ipipMode", path),
            vxlan_mode: reader.string(spec, "vxlanMode", path),
            nat_outgoing: reader.boolean(spec, "natOutgoing", path),
            disabled: reader.boolean(spec, "disabled", path),
            disable_bgp_export: reader.boolean(spec, "disableBGPExport", path),
            node_selector: reader.string(spec, "nodeSelector", path),
            namespace_selector: reader.string(spec, "namespaceSelector", path),
            allowed_uses: reader.string_list(spec, "allowedUses", path),
            assignment_mode: reader.string(spec, "assignmentMode", path),
            legacy_ipip: Reader::child(spec, "ipip").map(|node| node.pos),
            legacy_nat_outgoing: reader.boolean(spec, "nat-outgoing", path),
        }
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled.as_ref().is_some_and(|d| d.value)
    }

    /// The allowed uses as written (empty when unset).
    pub fn allowed_use_texts(&self) -> Vec<&str> {
        self.allowed_uses
            .as_ref()
            .map(|uses| uses.value.iter().map(Spanned::as_str).collect())
            .unwrap_or_default()
    }
}

impl IpPool {
    pub(crate) fn read(reader: &mut Reader<'_>, origin: Origin, root: &Node) -> IpPool {
        IpPool {
            api: ApiGroup::of(&origin.api_version),
            meta: Meta::read(reader, root, ""),
            spec: IpPoolSpec::read(reader, root, origin.pos),
            origin,
        }
    }

    pub fn name(&self) -> &str {
        self.meta.name()
    }

    /// The pool as Calico stores and reads it (spec §1.1.3): CIDR canonical, `blockSize` 26/122
    /// when 0, `nodeSelector` `all()` when empty, `allowedUses` Workload+Tunnel when empty,
    /// `assignmentMode` Automatic, encapsulation `Never` when empty.
    ///
    /// `None` when a field cannot be given its type: no CIDR, a CIDR with host bits, a block size
    /// out of range, or an unknown mode or use. Rules that need more than one field (CEL rules,
    /// selector syntax) are validation's business, not this type's.
    pub fn effective(&self) -> Option<Pool> {
        let spec = &self.spec;
        let cidr: PoolCidr = spec.cidr.as_ref()?.value.parse().ok()?;
        let prefix = u8::try_from(spec.block_size.as_ref().map_or(0, |b| b.value)).ok()?;
        let block_size = BlockSize::or_default(cidr.family(), prefix)?;
        let encap = |mode: &Option<Spanned<String>>| {
            mode.as_ref()
                .map_or(Some(EncapMode::Never), |m| EncapMode::parse(&m.value))
        };
        let mut allowed_uses = spec
            .allowed_use_texts()
            .into_iter()
            .map(AllowedUse::parse)
            .collect::<Option<Vec<_>>>()?;
        if allowed_uses.is_empty() {
            allowed_uses = AllowedUse::DEFAULT.to_vec();
        }
        let assignment_mode = match &spec.assignment_mode {
            None => AssignmentMode::Automatic,
            Some(mode) => AssignmentMode::parse(&mode.value)?,
        };
        let node_selector = match spec.node_selector.as_ref().map(Spanned::as_str) {
            None | Some("") => "all()".to_owned(),
            Some(text) => text.to_owned(),
        };
        Some(Pool {
            name: self.name().to_owned(),
            cidr,
            block_size,
            ipip_mode: encap(&spec.ipip_mode)?,
            vxlan_mode: encap(&spec.vxlan_mode)?,
            nat_outgoing: spec.nat_outgoing.as_ref().is_some_and(|v| v.value),
            disabled: spec.is_disabled(),
            disable_bgp_export: spec.disable_bgp_export.as_ref().is_some_and(|v| v.value),
            node_selector,
            namespace_selector: spec
                .namespace_selector
                .as_ref()
                .map_or_else(String::new, |s| s.value.clone()),
            allowed_uses,
            assignment_mode,
        })
    }
}

/// A pool as Calico stores it, every default applied and every field typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    pub name: String,
    pub cidr: PoolCidr,
    pub block_size: BlockSize,
    pub ipip_mode: EncapMode,
    pub vxlan_mode: EncapMode,
    pub nat_outgoing: bool,
    pub disabled: bool,
    pub disable_bgp_export: bool,
    /// Selector text; `all()` when unset. Parsed where it is used, since a pool written straight
    /// to the CRD may carry one that does not parse (spec §7.17).
    pub node_selector: String,
    /// Selector text; empty (matches every namespace) when unset.
    pub namespace_selector: String,
    pub allowed_uses: Vec<AllowedUse>,
    pub assignment_mode: AssignmentMode,
}

impl Pool {
    pub fn family(&self) -> Family {
        self.cidr.family()
    }

    pub fn net(&self) -> IpNet {
        self.cidr.net()
    }

    pub fn allows(&self, intended: AllowedUse) -> bool {
        self.allowed_uses.contains(&intended)
    }
}
