//! `IPAMConfiguration` (`projectcalico.org/v3`) and `IPAMConfig` (`crd.projectcalico.org/v1`),
//! the cluster-wide IPAM settings (spec §1.3).

use crate::yaml::{Node, Pos};

pub use crate::ipam::IpamConfig;

use super::fields::{ApiGroup, Origin, Reader, Spanned};
use super::meta::Meta;

/// The only name the IPAM library reads.
pub const IPAM_CONFIG_NAME: &str = "default";

/// The per-host block cap Calico applies when `maxBlocksPerHost` is 0.
pub const DEFAULT_MAX_BLOCKS_PER_HOST: u32 = 20;

#[derive(Clone, Debug, PartialEq)]
pub struct IpamConfiguration {
    pub origin: Origin,
    pub api: ApiGroup,
    pub meta: Meta,
    /// Where `spec` is written (the document when there is no `spec`).
    pub spec_pos: Pos,
    pub strict_affinity: Option<Spanned<bool>>,
    pub auto_allocate_blocks: Option<Spanned<bool>>,
    pub max_blocks_per_host: Option<Spanned<i64>>,
    pub ip_cooldown_seconds: Option<Spanned<i64>>,
    pub kube_virt_vm_address_persistence: Option<Spanned<String>>,
}

impl IpamConfiguration {
    pub(crate) fn read(reader: &mut Reader<'_>, origin: Origin, root: &Node) -> IpamConfiguration {
        let meta = Meta::read(reader, root, "");
        let spec = reader.object(root, "spec", "");
        let path = "spec";
        let mut config = IpamConfiguration {
            api: ApiGroup::of(&origin.api_version),
            spec_pos: spec.map_or(origin.pos, |s| s.pos),
            meta,
            strict_affinity: None,
            auto_allocate_blocks: None,
            max_blocks_per_host: None,
            ip_cooldown_seconds: None,
            kube_virt_vm_address_persistence: None,
            origin,
        };
        if let Some(spec) = spec {
            config.strict_affinity = reader.boolean(spec, "strictAffinity", path);
            config.auto_allocate_blocks = reader.boolean(spec, "autoAllocateBlocks", path);
            config.max_blocks_per_host = reader.integer(spec, "maxBlocksPerHost", path);
            config.ip_cooldown_seconds = reader.integer(spec, "ipCooldownSeconds", path);
            config.kube_virt_vm_address_persistence =
                reader.string(spec, "kubeVirtVMAddressPersistence", path);
        }
        config
    }

    pub fn name(&self) -> &str {
        self.meta.name()
    }

    /// True when the IPAM library reads this object (its name is `default`).
    pub fn is_in_effect(&self) -> bool {
        self.name() == IPAM_CONFIG_NAME
    }

    /// The settings this object gives, with the CRD defaults for unset fields (strictAffinity
    /// false, autoAllocateBlocks true). Out-of-range numbers, which no write path accepts, read
    /// as 0.
    pub fn effective(&self) -> IpamConfig {
        let non_negative = |field: &Option<Spanned<i64>>| {
            field
                .as_ref()
                .and_then(|f| u32::try_from(f.value).ok())
                .unwrap_or(0)
        };
        IpamConfig {
            strict_affinity: self.strict_affinity.as_ref().is_some_and(|f| f.value),
            auto_allocate_blocks: self.auto_allocate_blocks.as_ref().is_none_or(|f| f.value),
            max_blocks_per_host: non_negative(&self.max_blocks_per_host),
            ip_cooldown_seconds: non_negative(&self.ip_cooldown_seconds),
        }
    }
}
