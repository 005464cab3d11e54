//! The IPAM view of an IPPool (spec §1.1.3, Appendix A): what allocation needs to know, with
//! Calico's read-time defaults already applied.

use ipnet::IpNet;

use crate::net::{AllowedUse, AssignmentMode, BlockSize, EncapMode, Family};
use crate::selector::{selects, Labels, SelectorError};

/// An IP pool as IPAM sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    pub name: String,
    /// The CIDR text as stored; pool listings and messages quote it verbatim.
    pub cidr_text: String,
    /// The pool's network (host bits cleared), used for all address arithmetic.
    pub cidr: IpNet,
    /// Block prefix length (Calico's `blockSize`).
    pub block_size: u8,
    pub node_selector: String,
    pub namespace_selector: String,
    pub allowed_uses: Vec<AllowedUse>,
    pub assignment_mode: AssignmentMode,
    pub disabled: bool,
    /// The pool has a deletion timestamp.
    pub deleting: bool,
    /// The `Allocatable` status condition; `false` means `Allocatable=False` (v3.32+).
    pub allocatable: bool,
    pub ipip_mode: EncapMode,
    pub vxlan_mode: EncapMode,
}

impl Pool {
    /// A pool with Calico's defaults: default block size for the family, `all()` node selector,
    /// `[Workload, Tunnel]`, `Automatic`, enabled and allocatable. `None` if `cidr_text` is not
    /// a CIDR.
    pub fn new(name: impl Into<String>, cidr_text: impl Into<String>) -> Option<Pool> {
        let cidr_text = cidr_text.into();
        let cidr: IpNet = cidr_text.trim().parse().ok()?;
        let family = Family::of_net(&cidr);
        Some(Pool {
            name: name.into(),
            cidr_text,
            cidr: cidr.trunc(),
            block_size: BlockSize::default_for(family).prefix_len(),
            node_selector: "all()".to_owned(),
            namespace_selector: String::new(),
            allowed_uses: AllowedUse::DEFAULT.to_vec(),
            assignment_mode: AssignmentMode::Automatic,
            disabled: false,
            deleting: false,
            allocatable: true,
            ipip_mode: EncapMode::Never,
            vxlan_mode: EncapMode::Never,
        })
    }

    pub fn family(&self) -> Family {
        Family::of_net(&self.cidr)
    }

    /// Usable for allocation: not disabled, not being deleted, not `Allocatable=False`.
    pub fn is_enabled(&self) -> bool {
        !self.disabled && !self.deleting && self.allocatable
    }

    pub fn allows(&self, intended_use: AllowedUse) -> bool {
        self.allowed_uses.contains(&intended_use)
    }

    /// Whether the node selector selects a node with `labels` (empty selector selects all).
    pub fn selects_node(&self, labels: &Labels) -> Result<bool, SelectorError> {
        selects(&self.node_selector, labels)
    }

    /// Whether the namespace selector selects a namespace with `labels`.
    pub fn selects_namespace(&self, labels: &Labels) -> Result<bool, SelectorError> {
        selects(&self.namespace_selector, labels)
    }

    /// The block CIDR holding `ip` in this pool.
    pub fn block_cidr_for(&self, ip: std::net::IpAddr) -> Option<IpNet> {
        super::addr::masked_net(ip, self.block_size)
    }

    /// `allowedUses` as Calico prints it inside `[...]`.
    pub fn allowed_uses_text(&self) -> String {
        self.allowed_uses
            .iter()
            .map(|use_| use_.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl From<&crate::model::Pool> for Pool {
    /// The IPAM view of a stored pool: its defaults are already applied, so this only changes
    /// representation.
    fn from(stored: &crate::model::Pool) -> Pool {
        Pool {
            name: stored.name.clone(),
            cidr_text: stored.cidr.to_string(),
            cidr: stored.cidr.net(),
            block_size: stored.block_size.prefix_len(),
            node_selector: stored.node_selector.clone(),
            namespace_selector: stored.namespace_selector.clone(),
            allowed_uses: stored.allowed_uses.clone(),
            assignment_mode: stored.assignment_mode,
            disabled: stored.disabled,
            deleting: false,
            allocatable: true,
            ipip_mode: stored.ipip_mode,
            vxlan_mode: stored.vxlan_mode,
        }
    }
}
