//! The rules of the IPPool write paths that need more than the object itself: clientv3's
//! `validateAndSetDefaults` with the old object and the other pools (spec §1.1.2 P4–P8), the
//! CRD's transition rules (C15), and kube-controllers' priority order and `Allocatable`
//! conditions (spec §1.1.4). The single-object rules come from [`crate::validate`].

use std::cmp::Ordering;

use ipnet::IpNet;

use crate::model::{IpPool, Spanned};
use crate::net::{AllowedUse, Family};
use crate::validate::{self, CalicoError, Finding};

use super::object::{Condition, PoolObject};
use super::{ErrorKind, WriteError};

const CIDR_FIELD: &str = "IPPool.Spec.CIDR";
const BLOCK_SIZE_FIELD: &str = "IPPool.Spec.BlockSize";
const ALLOWED_USES_FIELD: &str = "IPPool.Spec.AllowedUses";

/// Go's `net.ParseCIDR`: an address with a prefix length (a bare address is not a CIDR).
pub(crate) fn parse_cidr(text: &str) -> Option<IpNet> {
    text.parse().ok()
}

/// Calico's overlap test (`IsNetOverlap`): either network contains the other's base address.
pub(crate) fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// clientv3 `cidrChangeOK` (v3.32+): whether an update may change the stored CIDR text. It may
/// when the texts are identical, or when both parse to the same network and the new text is that
/// network's canonical form (an update that only normalises what a direct write stored).
pub fn cidr_change_ok(old: &str, new: &str) -> bool {
    if old == new {
        return true;
    }
    let (Some(old_net), Some(new_net)) = (parse_cidr(old), parse_cidr(new)) else {
        return false;
    };
    old_net.trunc() == new_net.trunc() && new == new_net.trunc().to_string()
}

/// A Go `ErroredField`.
fn field(name: &str, value: impl Into<String>, reason: impl Into<String>) -> CalicoError {
    CalicoError::Field {
        name: name.to_owned(),
        value: value.into(),
        reason: reason.into(),
    }
}

/// The block size clientv3 compares on update: the stored number (0 when unset).
fn block_size_of(pool: &IpPool) -> i64 {
    pool.spec.block_size.as_ref().map_or(0, |b| b.value)
}

fn uses_of(pool: &IpPool) -> Vec<String> {
    let uses = pool.spec.allowed_use_texts();
    if uses.is_empty() {
        AllowedUse::DEFAULT
            .iter()
            .map(|u| u.as_str().to_owned())
            .collect()
    } else {
        uses.into_iter().map(str::to_owned).collect()
    }
}

/// clientv3 `validateAndSetDefaults(new, old)` (spec §1.1.2, §1.1.3): normalises and defaults
/// `new`, then checks what needs the old object (P4 CIDR, P5 block size, P8 LoadBalancer use) or,
/// on create, the other pools (P6 overlap, against every pool of another name, disabled ones
/// included). Returns the pool clientv3 hands on, or its `ErrorValidation`: the CIDR checks
/// P1/P2 and P8 return at once, the others are collected and reported together, in Calico's order.
pub fn validate_and_set_defaults(
    new: &IpPool,
    old: Option<&IpPool>,
    others: Option<&[&IpPool]>,
) -> Result<IpPool, WriteError> {
    let (stored, findings) = validate::clientv3_pool_defaults(new);
    let (masking, fatal): (Vec<&Finding>, Vec<&Finding>) = findings
        .iter()
        .filter(|f| f.layer == validate::Layer::ClientV3)
        .partition(|f| f.code == "pool-cidr-not-masked");
    if let Some(first) = fatal.first() {
        return Err(WriteError::validation(vec![first.error.clone()]));
    }
    let cidr = stored
        .spec
        .cidr
        .as_ref()
        .map_or_else(String::new, |c| c.value.clone());
    let mut errors = Vec::new();
    if let Some(old) = old {
        let old_cidr = old.spec.cidr.as_ref().map_or("", Spanned::as_str);
        if !cidr_change_ok(old_cidr, &cidr) {
            errors.push(field(
                CIDR_FIELD,
                cidr.clone(),
                "IPPool CIDR cannot be modified",
            ));
        }
        let was_load_balancer = old
            .spec
            .allowed_use_texts()
            .contains(&AllowedUse::LoadBalancer.as_str());
        let new_uses = uses_of(&stored);
        if was_load_balancer
            && new_uses
                .iter()
                .any(|u| u != AllowedUse::LoadBalancer.as_str())
        {
            return Err(WriteError::validation(vec![field(
                ALLOWED_USES_FIELD,
                format!("[{}]", new_uses.join(" ")),
                // The typo is Calico's.
                "IPPool allowed use cannot be changed from LoadBalacer to Workload or Tunnel",
            )]));
        }
        let new_size = block_size_of(&stored);
        if block_size_of(old) != new_size {
            errors.push(field(
                BLOCK_SIZE_FIELD,
                new_size.to_string(),
                "IPPool BlockSize cannot be modified",
            ));
        }
    }
    if let (None, Some(others), Some(net)) = (old, others, parse_cidr(&cidr)) {
        for other in others.iter().filter(|o| o.name() != new.name()) {
            let other_cidr = other.spec.cidr.as_ref().map_or("", Spanned::as_str);
            // Calico skips (and logs) a stored pool whose CIDR does not parse.
            let Some(other_net) = parse_cidr(other_cidr) else {
                continue;
            };
            if overlaps(&other_net, &net) {
                errors.push(field(
                    CIDR_FIELD,
                    cidr.clone(),
                    format!(
                        "IPPool({}) CIDR overlaps with IPPool({}) CIDR {other_cidr}",
                        new.name(),
                        other.name()
                    ),
                ));
            }
        }
    }
    errors.extend(masking.iter().map(|f| f.error.clone()));
    if errors.is_empty() {
        Ok(stored)
    } else {
        Err(WriteError::validation(errors))
    }
}

/// The `update_validation` view: clientv3 `validateAndSetDefaults(new, old)` on update, where
/// the overlap check does not run.
pub fn update_validation(old: &IpPool, new: &IpPool) -> Result<IpPool, WriteError> {
    validate_and_set_defaults(new, Some(old), None)
}

/// The defaults clientv3 applies when it reads a pool (`convertIpPoolFromStorage`, spec §1.1.3
/// item 3): the create-time defaults, with the CIDR text left as stored.
pub fn read_defaults(pool: &IpPool) -> IpPool {
    let (mut read, _) = validate::clientv3_pool_defaults(pool);
    read.spec.cidr = pool.spec.cidr.clone();
    // clientv3 defaults nothing when the CIDR is missing or does not parse; reading still
    // defaults the fields that do not depend on it.
    if pool
        .spec
        .cidr
        .as_ref()
        .and_then(|c| parse_cidr(&c.value))
        .is_none()
    {
        let pos = pool.spec.pos;
        let spec = &mut read.spec;
        if spec
            .node_selector
            .as_ref()
            .is_none_or(|s| s.value.is_empty())
        {
            spec.node_selector = Some(Spanned::new("all()".to_owned(), pos));
        }
        for mode in [&mut spec.ipip_mode, &mut spec.vxlan_mode] {
            if mode.as_ref().is_none_or(|m| m.value.is_empty()) {
                *mode = Some(Spanned::new("Never".to_owned(), pos));
            }
        }
        if spec.assignment_mode.is_none() {
            spec.assignment_mode = Some(Spanned::new("Automatic".to_owned(), pos));
        }
    }
    read
}

/// The CRD transition rules (C15): `cidr` and `blockSize` must equal their old values. Like every
/// transition rule, each runs only when the field is set in both the old and the new object.
pub fn transition_errors(old: &IpPool, new: &IpPool) -> Vec<CalicoError> {
    let mut errors = Vec::new();
    if let (Some(before), Some(after)) = (&old.spec.cidr, &new.spec.cidr) {
        if before.value != after.value {
            errors.push(CalicoError::Api {
                path: "spec.cidr".into(),
                kind: "Invalid value: \"string\"".into(),
                detail:
                    "CIDR cannot be changed; follow IP pool migration guide to avoid corruption."
                        .into(),
            });
        }
    }
    if let (Some(before), Some(after)) = (&old.spec.block_size, &new.spec.block_size) {
        if before.value != after.value {
            errors.push(CalicoError::Api {
                path: "spec.blockSize".into(),
                kind: "Invalid value: \"integer\"".into(),
                detail:
                    "Block size cannot be changed; follow IP pool migration guide to avoid corruption."
                        .into(),
            });
        }
    }
    errors
}

/// clientv3 Create's check of existing blocks (P7): a block that overlaps the pool with a prefix
/// length other than the pool's block size refuses the pool.
pub fn block_size_conflict(pool: &IpPool, blocks: &[IpNet]) -> Option<WriteError> {
    let net = parse_cidr(pool.spec.cidr.as_ref()?.as_str())?;
    let size = block_size_of(pool);
    blocks
        .iter()
        .filter(|b| Family::of_net(b) == Family::of_net(&net))
        .any(|b| i64::from(b.prefix_len()) != size && overlaps(b, &net))
        .then(|| {
            WriteError::validation(vec![field(
                BLOCK_SIZE_FIELD,
                size.to_string(),
                "IPPool blocksSize conflicts with existing allocations that use a different blockSize",
            )])
        })
}

/// What kube-controllers' priority order looks at for one pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolPriority {
    pub name: String,
    /// Seconds; smaller is older.
    pub creation_timestamp: i64,
    /// The `Allocatable` condition's status, `None` when the pool has none yet.
    pub allocatable: Option<bool>,
    pub deleting: bool,
}

impl PoolPriority {
    pub fn of(object: &PoolObject) -> PoolPriority {
        PoolPriority {
            name: object.name().to_owned(),
            creation_timestamp: object.creation_timestamp.unwrap_or(0),
            allocatable: object.allocatable.as_ref().map(|c| c.status),
            deleting: object.is_deleting(),
        }
    }

    /// 0: allocatable and not deleting; 1: deleting; 2: `Allocatable=False`; 3: no condition.
    pub fn category(&self) -> u8 {
        match (self.deleting, self.allocatable) {
            (true, _) => 1,
            (false, Some(true)) => 0,
            (false, Some(false)) => 2,
            (false, None) => 3,
        }
    }

    fn cmp_priority(&self, other: &PoolPriority) -> Ordering {
        self.category()
            .cmp(&other.category())
            .then(self.creation_timestamp.cmp(&other.creation_timestamp))
            .then_with(|| self.name.cmp(&other.name))
    }
}

/// kube-controllers `poolSortFunc` (spec §1.1.4): which of overlapping pools keeps priority —
/// active pools first, then deleting ones, then those already marked not allocatable, then new
/// ones; older first within a category, then by name.
pub fn pool_priority_sort(pools: &mut [PoolPriority]) {
    pools.sort_by(PoolPriority::cmp_priority);
}

/// The `Allocatable` condition kube-controllers gives each pool (spec §1.1.4), in the order it
/// walks them. Disabled pools never block others; deleting pools still do; a pool that overlaps
/// an already accepted one is masked.
pub fn controller_conditions(pools: &[&PoolObject]) -> Vec<(String, Condition)> {
    let mut order: Vec<(PoolPriority, &PoolObject)> =
        pools.iter().map(|p| (PoolPriority::of(p), *p)).collect();
    order.sort_by(|a, b| a.0.cmp_priority(&b.0));
    let mut inserted: Vec<IpNet> = Vec::new();
    let mut out = Vec::new();
    for (_, pool) in order {
        let name = pool.name().to_owned();
        if pool.pool.spec.is_disabled() {
            out.push((
                name,
                Condition::new(false, "PoolDisabled", "IPPool.Spec.Disabled is true"),
            ));
            continue;
        }
        // A CIDR that does not parse is logged and skipped by the controller.
        let Some(net) = parse_cidr(pool.cidr_text()) else {
            continue;
        };
        if pool.is_deleting() {
            out.push((
                name,
                Condition::new(false, "Terminating", "IPPool is being deleted"),
            ));
            inserted.push(net);
            continue;
        }
        if inserted.iter().any(|other| overlaps(other, &net)) {
            out.push((
                name,
                Condition::new(
                    false,
                    "CIDROverlap",
                    "CIDR overlaps another pool; disabled to prevent IP allocation conflicts.",
                ),
            ));
        } else {
            out.push((
                name,
                Condition::new(true, "OK", "IPPool is available for IP allocation."),
            ));
            inserted.push(net);
        }
    }
    out
}

/// The IPAM view of a pool as the pool accessor reads it (read-time defaults applied), with the
/// bookkeeping IPAM looks at (spec §3.2). `None` when a field cannot be typed.
pub fn ipam_pool(object: &PoolObject) -> Option<crate::ipam::Pool> {
    let stored = read_defaults(&object.pool).effective()?;
    Some(crate::ipam::Pool {
        cidr_text: object.cidr_text().to_owned(),
        deleting: object.is_deleting(),
        allocatable: object.allocatable.as_ref().is_none_or(|c| c.status),
        ..crate::ipam::Pool::from(&stored)
    })
}

impl WriteError {
    pub(crate) fn validation(errors: Vec<CalicoError>) -> WriteError {
        WriteError {
            kind: ErrorKind::Validation,
            message: validate::render_validation(&errors),
            errors,
        }
    }
}
