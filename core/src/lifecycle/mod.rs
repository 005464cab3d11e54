//! The IPPool lifecycle as Calico's write paths run it (spec §1.0, §1.1): create, update, delete,
//! get and list through clientv3 (calicoctl, the Calico API server), through kube-apiserver with
//! Calico's CRDs, and the kube-controllers IPPool controller that marks overlapping pools and
//! finalizes deleted ones (v3 CRD mode, v3.32+).
//!
//! A [`PoolStore`] is one datastore's pools plus the cluster's IPAM state ([`Ipam`]), so pool
//! writes see existing blocks (P7), deletions release affinities (spec §1.1.5), and IPAM sees
//! every pool write (disabled, deleting and `Allocatable=False` pools, spec §3.2).
//!
//! Reviewing changes against a live cluster: load the live pools with [`PoolStore::load`] (no
//! checks, bookkeeping kept), the live blocks with [`PoolStore::ipam_op`], then write each changed
//! pool with [`PoolStore::apply`] (create when new, update otherwise, as `calicoctl apply`) and
//! collect the [`WriteError`]s: each carries Calico's exact error text. [`review`] does exactly
//! that for pools alone.
//!
//! Single-object rules (CIDR syntax, CEL rules, selectors, names) come from
//! [`crate::validate`]; this module adds only what needs the stored objects ([`rules`]).

mod object;
mod rules;

use ipnet::IpNet;

use crate::ipam::Ipam;
use crate::model::{IpPool, Origin, Resource};
use crate::net::Family;
use crate::validate::{self, CalicoError, CrdRunner, Layer, Layers, Options};

pub use object::{go_spec, is_zero, spec_json, Condition, PoolObject, POOL_FINALIZER};
pub use rules::{
    cidr_change_ok, controller_conditions, ipam_pool, pool_priority_sort, read_defaults,
    transition_errors, update_validation, validate_and_set_defaults, PoolPriority,
};

/// Which code path writes the pools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WritePath {
    /// clientv3 (`calicoctl`, the Calico API server) on a datastore: its defaults and checks,
    /// the Go validator, then the CRD rules (in process on etcd, by kube-apiserver on
    /// Kubernetes).
    ClientV3(Datastore),
    /// kube-apiserver with Calico's CRDs (`kubectl`, controller-runtime clients): CRD defaults,
    /// schema and CEL rules with transition rules; no clientv3 normalisation or overlap check.
    ApiServer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Datastore {
    Etcd,
    Kubernetes,
}

/// The Go error type of a refused write (`libcalico-go/lib/errors`, or kube-apiserver's reasons).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `ErrorValidation`, or kube-apiserver's `Invalid`.
    Validation,
    /// `ErrorResourceAlreadyExists`, or kube-apiserver's `AlreadyExists`.
    AlreadyExists,
    /// `ErrorResourceDoesNotExist`, or kube-apiserver's `NotFound`.
    DoesNotExist,
    /// `ErrorResourceUpdateConflict`, or kube-apiserver's `Conflict`.
    UpdateConflict,
}

/// A write Calico refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteError {
    pub kind: ErrorKind,
    /// Calico's error text, exactly (`err.Error()`).
    pub message: String,
    /// The errored fields, when the error is a validation error.
    pub errors: Vec<CalicoError>,
}

impl WriteError {
    fn other(kind: ErrorKind, message: String) -> WriteError {
        WriteError {
            kind,
            message,
            errors: Vec::new(),
        }
    }

    /// Whether an errored field has this name (`IPPool.Spec.CIDR`, `spec.cidr`, …).
    pub fn has_field(&self, name: &str) -> bool {
        self.errors.iter().any(|e| match e {
            CalicoError::Field { name: n, .. } => n == name,
            CalicoError::Api { path, .. } => path == name,
            _ => false,
        })
    }
}

/// One datastore's IPPools, the IPAM state they govern, and (optionally) the kube-controllers
/// IPPool controller reconciling them after every change.
#[derive(Clone, Debug)]
pub struct PoolStore {
    path: WritePath,
    controller: bool,
    pools: PoolsByName,
    ipam: Ipam,
    last_version: u64,
    last_uid: u64,
}

/// The stored pools in name order, each under its own name: a vector kept sorted, searched by
/// binary search. A datastore holds a handful of pools, and a vector costs the site far less
/// code than an ordered map.
#[derive(Clone, Debug, Default)]
struct PoolsByName(Vec<PoolObject>);

impl PoolsByName {
    fn position(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|pool| pool.name().cmp(name))
    }

    fn get(&self, name: &str) -> Option<&PoolObject> {
        self.0.get(self.position(name).ok()?)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut PoolObject> {
        let at = self.position(name).ok()?;
        self.0.get_mut(at)
    }

    fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Stores `pool` under its name, replacing the pool of that name.
    fn insert(&mut self, pool: PoolObject) {
        match self.position(pool.name()) {
            Ok(at) => self.0[at] = pool,
            Err(at) => self.0.insert(at, pool),
        }
    }

    fn remove(&mut self, name: &str) -> Option<PoolObject> {
        let at = self.position(name).ok()?;
        Some(self.0.remove(at))
    }

    /// The pools in name order.
    fn values(&self) -> std::slice::Iter<'_, PoolObject> {
        self.0.iter()
    }
}

/// How many reconcile passes the controller gets to settle; each pass either changes something
/// or ends the loop, and a pass can only move pools towards a fixed point.
const MAX_RECONCILE_PASSES: usize = 32;

impl PoolStore {
    pub fn new(path: WritePath) -> PoolStore {
        PoolStore {
            path,
            controller: false,
            pools: PoolsByName::default(),
            ipam: Ipam::new(),
            last_version: 0,
            last_uid: 0,
        }
    }

    /// Runs the kube-controllers IPPool controller after every change (v3 CRD mode).
    pub fn with_controller(mut self) -> PoolStore {
        self.controller = true;
        self.reconcile();
        self
    }

    pub fn path(&self) -> WritePath {
        self.path
    }

    /// The IPAM state (pools as the accessor lists them, blocks, affinities, handles).
    pub fn ipam(&self) -> &Ipam {
        &self.ipam
    }

    /// Runs IPAM operations (allocation, release, loading live blocks); the controller then
    /// reacts to what changed (a deleting pool whose last block is gone is finalized).
    pub fn ipam_op<R>(&mut self, op: impl FnOnce(&mut Ipam) -> R) -> R {
        self.sync_ipam();
        let result = op(&mut self.ipam);
        self.reconcile();
        result
    }

    /// The clock (seconds), shared with IPAM; creation timestamps are read from it.
    pub fn now(&self) -> i64 {
        self.ipam.now()
    }

    pub fn advance_clock(&mut self, seconds: i64) {
        self.ipam.advance_clock(seconds);
        self.reconcile();
    }

    /// The stored object, without any read-time defaults.
    pub fn stored(&self, name: &str) -> Option<&PoolObject> {
        self.pools.get(name)
    }

    /// Stores an object as it is, with no defaults and no checks (a live cluster's pools, or a
    /// test's raw backend write); missing bookkeeping is filled in.
    pub fn load(&mut self, mut object: PoolObject) {
        if object.resource_version.is_none() {
            object.resource_version = Some(self.next_version());
        }
        if object.uid.is_none() {
            object.uid = Some(self.next_uid());
        }
        if object.creation_timestamp.is_none() {
            object.creation_timestamp = Some(self.now());
        }
        self.pools.insert(object);
        self.sync_ipam();
        self.reconcile();
    }

    /// A raw backend create: like [`PoolStore::load`], but refused when the name is taken.
    pub fn backend_create(&mut self, object: PoolObject) -> Result<PoolObject, WriteError> {
        if self.pools.contains_key(object.name()) {
            return Err(self.already_exists(object.name()));
        }
        let name = object.name().to_owned();
        self.load(object);
        self.pools
            .get(&name)
            .cloned()
            .ok_or_else(|| self.does_not_exist(&name))
    }

    /// Create, as the write path does it. Bookkeeping the request carries (a resource version)
    /// is checked as Calico checks it; the stored object gets a new UID and creation time.
    pub fn create(&mut self, request: &PoolObject) -> Result<PoolObject, WriteError> {
        let stored = match self.path {
            WritePath::ClientV3(datastore) => self.clientv3_create(request, datastore)?,
            WritePath::ApiServer => self.apiserver_create(request)?,
        };
        let name = stored.name().to_owned();
        let mut stored = stored;
        stored.resource_version = Some(self.next_version());
        stored.uid = Some(self.next_uid());
        stored.creation_timestamp = Some(self.now());
        stored.deletion_timestamp = None;
        stored.finalizers.clear();
        stored.allocatable = None;
        self.pools.insert(stored);
        self.sync_ipam();
        self.reconcile();
        self.pools
            .get(&name)
            .cloned()
            .ok_or_else(|| self.does_not_exist(&name))
    }

    /// Update with a full object. The request's resource version must match the stored one
    /// (clientv3 also insists that resource version, UID and creation time are set).
    pub fn update(&mut self, request: &PoolObject) -> Result<PoolObject, WriteError> {
        let name = request.name().to_owned();
        let stored = match self.path {
            WritePath::ClientV3(datastore) => self.clientv3_update(request, datastore)?,
            WritePath::ApiServer => self.apiserver_update(request)?,
        };
        let mut stored = stored;
        stored.resource_version = Some(self.next_version());
        self.pools.insert(stored);
        self.sync_ipam();
        self.reconcile();
        self.pools
            .get(&name)
            .cloned()
            .ok_or_else(|| self.does_not_exist(&name))
    }

    /// Create when no pool has the name, else update it with the stored bookkeeping: what
    /// `calicoctl apply` (and `kubectl apply`) does, and what a review of planned pools against a
    /// live cluster replays.
    pub fn apply(&mut self, request: &PoolObject) -> Result<PoolObject, WriteError> {
        match self.pools.get(request.name()) {
            None => {
                let mut fresh = request.clone();
                fresh.resource_version = None;
                self.create(&fresh)
            }
            Some(current) => {
                let mut update = request.clone();
                update.resource_version = current.resource_version.clone();
                update.uid = current.uid.clone();
                update.creation_timestamp = current.creation_timestamp;
                self.update(&update)
            }
        }
    }

    /// Delete. clientv3 first disables the pool, releases its block affinities and then deletes
    /// it, returning the disabled object (spec §1.1.5). Through kube-apiserver a pool with a
    /// finalizer is only marked for deletion; the controller finalizes it once no block remains.
    pub fn delete(
        &mut self,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<PoolObject, WriteError> {
        let result = match self.path {
            WritePath::ClientV3(_) => self.clientv3_delete(name, resource_version),
            WritePath::ApiServer => self.apiserver_delete(name, resource_version),
        };
        self.sync_ipam();
        self.reconcile();
        result
    }

    /// Get, as the write path returns it (clientv3 applies its read-time defaults).
    pub fn get(&self, name: &str) -> Result<PoolObject, WriteError> {
        self.pools
            .get(name)
            .map(|p| self.as_read(p))
            .ok_or_else(|| self.does_not_exist(name))
    }

    /// Every pool, in name order, as [`PoolStore::get`] returns each.
    pub fn list(&self) -> Vec<PoolObject> {
        self.pools.values().map(|p| self.as_read(p)).collect()
    }

    // ----- clientv3 -----

    fn as_read(&self, stored: &PoolObject) -> PoolObject {
        match self.path {
            WritePath::ClientV3(_) => PoolObject {
                pool: read_defaults(&stored.pool),
                ..stored.clone()
            },
            WritePath::ApiServer => stored.clone(),
        }
    }

    fn crd_runner(datastore: Datastore) -> CrdRunner {
        match datastore {
            Datastore::Etcd => CrdRunner::InProcess,
            Datastore::Kubernetes => CrdRunner::ApiServer,
        }
    }

    /// `validator.Validate(res)` after clientv3's defaults: the Go validator and the CRD rules.
    fn validator(pool: &IpPool, datastore: Datastore) -> Result<(), WriteError> {
        let options = Options {
            layers: Layers::of(&[Layer::GoValidator, Layer::Crd]),
            check_metadata: true,
            crd_runner: Self::crd_runner(datastore),
        };
        let resource = Resource::IpPool(pool.clone());
        let findings = validate::resource(&resource, &options);
        match validate::rejection(&pool.origin, &findings, &options) {
            None => Ok(()),
            Some(message) => Err(WriteError {
                kind: ErrorKind::Validation,
                message,
                errors: findings
                    .into_iter()
                    .filter(|f| f.severity == crate::Severity::Error)
                    .map(|f| f.error)
                    .collect(),
            }),
        }
    }

    fn clientv3_create(
        &self,
        request: &PoolObject,
        datastore: Datastore,
    ) -> Result<PoolObject, WriteError> {
        let others: Vec<&IpPool> = self.pools.values().map(|p| &p.pool).collect();
        let pool = validate_and_set_defaults(&request.pool, None, Some(&others))?;
        Self::validator(&pool, datastore)?;
        let blocks: Vec<IpNet> = self
            .ipam
            .list_blocks(None)
            .iter()
            .map(|b| b.cidr())
            .collect();
        if let Some(conflict) = rules::block_size_conflict(&pool, &blocks) {
            return Err(conflict);
        }
        if let Some(rv) = request.resource_version.as_ref().filter(|v| !v.is_empty()) {
            return Err(metadata_error(
                "Metadata.ResourceVersion",
                rv,
                "field must not be set for a Create request",
            ));
        }
        if self.pools.contains_key(request.name()) {
            return Err(self.already_exists(request.name()));
        }
        Ok(PoolObject::new(pool))
    }

    fn clientv3_update(
        &self,
        request: &PoolObject,
        datastore: Datastore,
    ) -> Result<PoolObject, WriteError> {
        let name = request.name();
        let current = self.get(name)?;
        let pool = validate_and_set_defaults(&request.pool, Some(&current.pool), None)?;
        Self::validator(&pool, datastore)?;
        let rv = request.resource_version.clone().unwrap_or_default();
        if rv.is_empty() {
            return Err(metadata_error(
                "Metadata.ResourceVersion",
                "",
                "field must be set for an Update request",
            ));
        }
        if request.creation_timestamp.is_none() {
            return Err(metadata_error(
                "Metadata.CreationTimestamp",
                "0001-01-01 00:00:00 +0000 UTC",
                "field must be set for an Update request",
            ));
        }
        if request.uid.as_deref().unwrap_or_default().is_empty() {
            return Err(metadata_error(
                "Metadata.UID",
                "",
                "field must be set for an Update request",
            ));
        }
        self.check_version(name, Some(&rv))?;
        let stored = self.pools.get(name).cloned().unwrap_or(current);
        Ok(PoolObject { pool, ..stored })
    }

    fn clientv3_delete(
        &mut self,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<PoolObject, WriteError> {
        let current = self.get(name)?;
        let mut version = resource_version.filter(|v| !v.is_empty());
        if !current.pool.spec.is_disabled() {
            let mut disabled = current.clone();
            let fields = serde_json::Map::from_iter([("disabled".into(), true.into())]);
            disabled = disabled
                .with_spec_fields(&fields)
                .map_err(|e| WriteError::other(ErrorKind::Validation, e))?;
            if let Some(v) = version {
                disabled.resource_version = Some(v.to_owned());
            }
            self.update(&disabled)?;
            // The delete itself no longer carries the caller's version: the update changed it.
            version = None;
        }
        self.check_version(name, version)?;
        if let Some(net) = rules::parse_cidr(current.cidr_text()) {
            // Affinities of the pool's blocks are released; allocations stay (spec §1.1.5).
            self.sync_ipam();
            let _ = self.ipam.release_pool_affinities(&net);
        }
        self.pools
            .remove(name)
            .ok_or_else(|| self.does_not_exist(name))
    }

    // ----- kube-apiserver -----

    fn apiserver_invalid(origin: &Origin, errors: Vec<CalicoError>) -> WriteError {
        WriteError {
            kind: ErrorKind::Validation,
            message: validate::render_api_error(origin, &errors),
            errors,
        }
    }

    fn crd_errors(pool: &IpPool) -> Vec<CalicoError> {
        let options = Options {
            layers: Layers::of(&[Layer::Crd]),
            check_metadata: true,
            crd_runner: CrdRunner::ApiServer,
        };
        validate::resource(&Resource::IpPool(pool.clone()), &options)
            .into_iter()
            .filter(|f| f.severity == crate::Severity::Error)
            .map(|f| f.error)
            .collect()
    }

    fn apiserver_create(&self, request: &PoolObject) -> Result<PoolObject, WriteError> {
        let pool = validate::crd_pool_defaults(&request.pool);
        let errors = Self::crd_errors(&pool);
        if !errors.is_empty() {
            return Err(Self::apiserver_invalid(&pool.origin, errors));
        }
        if self.pools.contains_key(request.name()) {
            return Err(self.already_exists(request.name()));
        }
        Ok(PoolObject::new(pool))
    }

    fn apiserver_update(&self, request: &PoolObject) -> Result<PoolObject, WriteError> {
        let name = request.name();
        let Some(current) = self.pools.get(name) else {
            return Err(self.does_not_exist(name));
        };
        let pool = validate::crd_pool_defaults(&request.pool);
        let mut errors = Self::crd_errors(&pool);
        errors.extend(transition_errors(&current.pool, &pool));
        if !errors.is_empty() {
            return Err(Self::apiserver_invalid(&pool.origin, errors));
        }
        self.check_version(name, request.resource_version.as_deref())?;
        // Status and finalizers belong to the controller; a spec update keeps them.
        Ok(PoolObject {
            pool,
            ..current.clone()
        })
    }

    fn apiserver_delete(
        &mut self,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<PoolObject, WriteError> {
        self.check_version(name, resource_version)?;
        let now = self.now();
        let Some(current) = self.pools.get_mut(name) else {
            return Err(self.does_not_exist(name));
        };
        if current.finalizers.is_empty() {
            return self
                .pools
                .remove(name)
                .ok_or_else(|| self.does_not_exist(name));
        }
        if current.deletion_timestamp.is_none() {
            current.deletion_timestamp = Some(now);
        }
        let marked = current.clone();
        self.last_version = self.last_version.saturating_add(1);
        if let Some(p) = self.pools.get_mut(name) {
            p.resource_version = Some(self.last_version.to_string());
        }
        Ok(marked)
    }

    // ----- The kube-controllers IPPool controller -----

    /// Reconciles conditions and finalizers until nothing changes (every expectation about the
    /// controller is eventual, so only its fixed point matters).
    fn reconcile(&mut self) {
        if !self.controller {
            return;
        }
        for _ in 0..MAX_RECONCILE_PASSES {
            if !self.reconcile_once() {
                break;
            }
        }
        self.sync_ipam();
    }

    /// One pass; true when something changed.
    fn reconcile_once(&mut self) -> bool {
        let mut changed = false;
        let conditions = {
            let pools: Vec<&PoolObject> = self.pools.values().collect();
            controller_conditions(&pools)
        };
        for (name, condition) in conditions {
            if let Some(pool) = self.pools.get_mut(&name) {
                let differs = pool.allocatable.as_ref().is_none_or(|c| {
                    c.status != condition.status
                        || (!condition.status && c.reason != condition.reason)
                });
                if differs {
                    pool.allocatable = Some(condition);
                    changed = true;
                }
            }
        }
        self.sync_ipam();
        let names: Vec<String> = self.pools.values().map(|p| p.name().to_owned()).collect();
        for name in names {
            changed |= self.reconcile_finalizer(&name);
        }
        changed
    }

    /// Keeps the finalizer on active pools, drops it from masked ones, and finalizes a deleting
    /// pool once its affinities are released and no block remains in its CIDR.
    fn reconcile_finalizer(&mut self, name: &str) -> bool {
        let Some(pool) = self.pools.get(name).cloned() else {
            return false;
        };
        if !pool.is_deleting() {
            let masked = pool.allocatable.as_ref().is_some_and(|c| !c.status);
            let wanted = !masked;
            if wanted == pool.has_finalizer() {
                return false;
            }
            if let Some(p) = self.pools.get_mut(name) {
                if wanted {
                    p.finalizers.push(POOL_FINALIZER.to_owned());
                } else {
                    p.finalizers.retain(|f| f != POOL_FINALIZER);
                }
            }
            return true;
        }
        let mut changed = false;
        if pool.has_finalizer() {
            let Some(net) = rules::parse_cidr(pool.cidr_text()) else {
                return false;
            };
            let _ = self.ipam.release_pool_affinities(&net);
            let in_use = self
                .ipam
                .list_blocks(Some(Family::of_net(&net)))
                .iter()
                .any(|b| net.contains(&b.cidr().network()));
            if in_use {
                return false;
            }
            if let Some(p) = self.pools.get_mut(name) {
                p.finalizers.retain(|f| f != POOL_FINALIZER);
                changed = true;
            }
        }
        // kube-apiserver removes an object marked for deletion once it has no finalizers.
        if self
            .pools
            .get(name)
            .is_some_and(|p| p.is_deleting() && p.finalizers.is_empty())
        {
            self.pools.remove(name);
            changed = true;
        }
        changed
    }

    // ----- Bookkeeping -----

    /// IPAM lists the pools by name with the read-time defaults (spec §3.2); pools whose fields
    /// cannot be typed are left out, as IPAM cannot use them.
    fn sync_ipam(&mut self) {
        let pools = self.pools.values().filter_map(ipam_pool).collect();
        self.ipam.set_pools(pools);
    }

    fn next_version(&mut self) -> String {
        self.last_version = self.last_version.saturating_add(1);
        self.last_version.to_string()
    }

    fn next_uid(&mut self) -> String {
        self.last_uid = self.last_uid.saturating_add(1);
        format!("00000000-0000-0000-0000-{:012}", self.last_uid)
    }

    fn check_version(&self, name: &str, version: Option<&str>) -> Result<(), WriteError> {
        let Some(version) = version.filter(|v| !v.is_empty()) else {
            return Ok(());
        };
        let stored = self
            .pools
            .get(name)
            .and_then(|p| p.resource_version.as_deref());
        if stored == Some(version) {
            return Ok(());
        }
        let message = match self.path {
            WritePath::ClientV3(_) => format!("update conflict: IPPool({name})"),
            WritePath::ApiServer => format!(
                "Operation cannot be fulfilled on ippools.projectcalico.org \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
        };
        Err(WriteError::other(ErrorKind::UpdateConflict, message))
    }

    fn already_exists(&self, name: &str) -> WriteError {
        let message = match self.path {
            WritePath::ClientV3(_) => {
                format!("resource already exists: IPPool({name}) with error: key already exists")
            }
            WritePath::ApiServer => {
                format!("ippools.projectcalico.org \"{name}\" already exists")
            }
        };
        WriteError::other(ErrorKind::AlreadyExists, message)
    }

    fn does_not_exist(&self, name: &str) -> WriteError {
        let message = match self.path {
            WritePath::ClientV3(_) => format!(
                "resource does not exist: IPPool({name}) with error: ippools.projectcalico.org \"{name}\" not found"
            ),
            WritePath::ApiServer => format!("ippools.projectcalico.org \"{name}\" not found"),
        };
        WriteError::other(ErrorKind::DoesNotExist, message)
    }
}

/// What Calico answers when planned pools are written over a live cluster's: the live pools are
/// loaded as they are, then each planned pool is applied in order (created when new, updated
/// otherwise), each seeing the writes before it. Returns each planned pool's name with the
/// stored result or Calico's refusal, in input order.
pub fn review(
    path: WritePath,
    live: &[PoolObject],
    planned: &[PoolObject],
) -> Vec<(String, Result<PoolObject, WriteError>)> {
    let mut store = PoolStore::new(path);
    for pool in live {
        store.load(pool.clone());
    }
    planned
        .iter()
        .map(|pool| (pool.name().to_owned(), store.apply(pool)))
        .collect()
}

fn metadata_error(name: &str, value: &str, reason: &str) -> WriteError {
    WriteError::validation(vec![CalicoError::Field {
        name: name.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }])
}

#[cfg(test)]
mod tests;
