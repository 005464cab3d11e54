//! `IPAMConfiguration` / `IPAMConfig` rules (spec §1.3): the name must be `default` (clientv3),
//! `maxBlocksPerHost` may not be negative (Go validator), the CRD's ranges and enum, and the two
//! cross-field rules only `calicoctl ipam configure` applies. Also `BlockAffinity`'s one rule.

use crate::model::{ApiGroup, BlockAffinity, IpamConfiguration, Spanned, IPAM_CONFIG_NAME};
use crate::yaml::Pos;

use super::{metadata, CalicoError, Finding, Layer, Options};

const MAX_BLOCKS_PER_HOST_V3: i64 = 1_000_000;
const MAX_BLOCKS_PER_HOST_V1: i64 = i32::MAX as i64;
const MAX_IP_COOLDOWN_SECONDS: i64 = 1200;
const KUBEVIRT_PERSISTENCE: [&str; 2] = ["Enabled", "Disabled"];

pub(super) fn check(config: &IpamConfiguration, options: &Options, out: &mut Vec<Finding>) {
    let layers = options.layers;
    if options.check_metadata
        && (layers.contains(Layer::GoValidator) || layers.contains(Layer::Crd))
    {
        metadata::check(&config.origin, &config.meta, out);
    }
    if options.check_metadata && config.name() != IPAM_CONFIG_NAME {
        let pos = config
            .meta
            .name
            .as_ref()
            .map_or(config.origin.pos, |n| n.pos);
        let finding = Finding::new(
            Layer::ClientV3,
            "ipam-config-name",
            pos,
            format!(
                "the IPAM configuration must be named `default`; Calico's IPAM only reads that object, so `{}` would have no effect",
                config.name()
            ),
            // clientv3 returns a plain error here, not a validation error with fields.
            CalicoError::Text(
                "Cannot create an IPAMConfiguration resource with a name other than \"default\""
                    .to_owned(),
            ),        );
        out.push(match &config.meta.name {
            Some(name) => finding.with_fix("rename it to `default`", "default", super::span(name)),
            None => finding,
        });
    }
    if let Some(max) = &config.max_blocks_per_host {
        if max.value < 0 {
            out.push(range(
                Layer::GoValidator,
                max,
                "maxBlocksPerHost",
                0,
                CalicoError::field(
                    "MaxBlocksPerHost",
                    max.value.to_string(),
                    "must be greater than or equal to 0",
                ),
            ));
        }
    }
    let max_blocks_limit = match config.api {
        ApiGroup::CrdV1 => MAX_BLOCKS_PER_HOST_V1,
        _ => MAX_BLOCKS_PER_HOST_V3,
    };
    for (field, key, high) in [
        (
            &config.max_blocks_per_host,
            "maxBlocksPerHost",
            max_blocks_limit,
        ),
        (
            &config.ip_cooldown_seconds,
            "ipCooldownSeconds",
            MAX_IP_COOLDOWN_SECONDS,
        ),
    ] {
        let Some(value) = field else { continue };
        let bound = if value.value < 0 {
            Some(("greater than or equal to 0".to_owned(), 0))
        } else if value.value > high {
            Some((format!("less than or equal to {high}"), high))
        } else {
            None
        };
        if let Some((text, nearest)) = bound {
            let path = format!("spec.{key}");
            out.push(range(
                Layer::Crd,
                value,
                key,
                nearest,
                CalicoError::api(
                    &path,
                    format!("Invalid value: {}", value.value),
                    format!("{path} in body should be {text}"),
                ),
            ));
        }
    }
    if let Some(mode) = &config.kube_virt_vm_address_persistence {
        if !KUBEVIRT_PERSISTENCE.contains(&mode.value.as_str()) {
            out.push(Finding::new(
                Layer::Crd,
                "ipam-config-range",
                mode.pos,
                format!(
                    "`kubeVirtVMAddressPersistence` must be Enabled or Disabled, not `{}`",
                    mode.value
                ),
                CalicoError::api(
                    "spec.kubeVirtVMAddressPersistence",
                    format!("Unsupported value: \"{}\"", mode.value),
                    "supported values: \"Enabled\", \"Disabled\"",
                ),
            ));
        }
    }
    ipam_configure(config, out);
    if config.api != ApiGroup::CrdV1 && config.auto_allocate_blocks.is_none() {
        // The v3 field has no `omitempty`: a manifest without it, applied through calicoctl, very
        // likely stores the Go zero value false, while kubectl gets the CRD default true
        // (spec §7.32; inferred from the code, not exercised).
        out.push(
            Finding::new(
                Layer::Planner,
                "ipam-config-auto-allocate-unset",
                config.spec_pos,
                "`autoAllocateBlocks` is not set: `kubectl apply` stores the default true, but calicoctl very likely stores false, and then nodes never claim new blocks; write it out",
                CalicoError::NotCalico,
            )
            .with_fix("add `autoAllocateBlocks: true` to the spec", "autoAllocateBlocks: true", None),
        );
    }
}

fn range(
    layer: Layer,
    value: &Spanned<i64>,
    key: &str,
    nearest: i64,
    error: CalicoError,
) -> Finding {
    Finding::new(
        layer,
        "ipam-config-range",
        value.pos,
        format!("`{key}: {}` is out of range", value.value),
        error,
    )
    .with_fix(
        format!("use `{key}: {nearest}`"),
        nearest.to_string(),
        super::span(value),
    )
}

/// `SetIPAMConfig`'s cross-field rules (spec §1.3), which only `calicoctl ipam configure` applies.
fn ipam_configure(config: &IpamConfiguration, out: &mut Vec<Finding>) {
    let effective = config.effective();
    let at = |field: &Option<Spanned<bool>>| field.as_ref().map_or(config.spec_pos, |f| f.pos);
    if !effective.strict_affinity && !effective.auto_allocate_blocks {
        out.push(Finding::new(
            Layer::IpamConfigure,
            "ipam-config-strict-auto",
            at(&config.auto_allocate_blocks),
            "with both `strictAffinity` and `autoAllocateBlocks` false, nodes never claim new blocks and only borrow addresses from other nodes' blocks; enable one of them",
            CalicoError::Text("Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time".to_owned()),
        ));
    }
    if effective.max_blocks_per_host > 0 && !effective.strict_affinity {
        let pos: Pos = config
            .max_blocks_per_host
            .as_ref()
            .map_or(config.spec_pos, |f| f.pos);
        out.push(Finding::new(
            Layer::IpamConfigure,
            "ipam-config-max-blocks-strict",
            pos,
            "`maxBlocksPerHost` is meant to be used with `strictAffinity: true`; without it nodes borrow addresses past the limit",
            CalicoError::Text("MaxBlocksPerHost requires StrictAffinity to be enabled".to_owned()),
        ));
    }
}

/// `BlockAffinity`: `spec.deleted` may not be true (Go validator).
pub(super) fn check_block_affinity(
    affinity: &BlockAffinity,
    options: &Options,
    out: &mut Vec<Finding>,
) {
    if options.check_metadata
        && (options.layers.contains(Layer::GoValidator) || options.layers.contains(Layer::Crd))
    {
        metadata::check(&affinity.origin, &affinity.meta, out);
    }
    if let Some(deleted) = affinity.deleted.as_ref().filter(|d| d.value) {
        let text =
            |field: &Option<Spanned<String>>| field.as_ref().map_or("", |f| f.as_str()).to_owned();
        let value = format!(
            "{{{} {} {} {} true}}",
            text(&affinity.state),
            text(&affinity.node),
            text(&affinity.affinity_type),
            text(&affinity.cidr)
        );
        out.push(Finding::new(
            Layer::GoValidator,
            "block-affinity-deleted",
            deleted.pos,
            "a BlockAffinity may not be written with `deleted: true`; that state is internal to Calico's IPAM",
            CalicoError::field("Spec.Deleted", value, "spec.Deleted cannot be set to \"true\""),
        ));
    }
}
