//! Table-driven tests of the lifecycle engine: the pure rules first, then sequences of writes
//! through each write path.

use super::*;
use crate::ipam::AutoAssignArgs;
use crate::net::AllowedUse;

/// A pool request from a YAML spec written inline, e.g. `cidr: 10.0.0.0/24, blockSize: 26`.
fn pool(name: &str, spec: &str) -> PoolObject {
    let text = format!(
        "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {{name: {name}}}\nspec: {{{spec}}}\n"
    );
    match PoolObject::from_text(&text) {
        Ok(object) => object,
        Err(e) => panic!("test pool {name} does not parse: {e}"),
    }
}

/// A create case: the pools already stored, the pool to create, the error expected.
type CreateCase = (
    &'static [(&'static str, &'static str)],
    (&'static str, &'static str),
    Option<&'static str>,
);

/// A controller step: a write, its argument, and the expected `Allocatable` status of pools.
type ControllerStep = (
    &'static str,
    &'static str,
    &'static [(&'static str, Option<bool>)],
);

fn error_text<T>(result: Result<T, WriteError>) -> Option<String> {
    result.err().map(|e| e.message)
}

#[test]
fn cidr_change_ok_allows_only_identical_or_canonicalising_changes() {
    let table = [
        ("10.0.0.0/24", "10.0.0.0/24", true),
        ("10.0.0.0/24", "10.0.1.0/24", false),
        // Normalising a non-canonical stored text is allowed.
        ("2001:CAFE:42::/56", "2001:cafe:42::/56", true),
        ("2001:cafe:42::00/56", "2001:cafe:42::/56", true),
        ("10.0.0.1/24", "10.0.0.0/24", true),
        // Introducing a non-canonical text is not, even for the same network.
        ("2001:cafe:42::/56", "2001:cafe:42:0:0::/56", false),
        ("2001:cafe:42::/56", "2001:CAFE:42::/56", false),
        // Nothing that does not parse.
        ("2001:cafe:::bad/56", "2001:cafe::/56", false),
        ("10.0.0.0/24", "10.0.0.0", false),
        // The same base with another prefix is another network.
        ("10.0.0.0/24", "10.0.0.0/25", false),
        ("2001:db8::/32", "2001:0db8::/32", false),
        ("fd00::/48", "fd00:1::/48", false),
        ("2001:0db8:0000:0000::/64", "2001:db8::/64", true),
    ];
    for (old, new, allowed) in table {
        assert_eq!(cidr_change_ok(old, new), allowed, "{old} -> {new}");
    }
}

#[test]
fn update_validation_reports_calicos_texts() {
    let table: [(&str, &str, Option<&str>); 6] = [
        ("cidr: 192.168.1.0/24, blockSize: 26", "cidr: 192.168.1.0/24, blockSize: 26", None),
        (
            "cidr: \"2001:0db8:85a3:0000:0000:0000:0000:0000/64\", blockSize: 122",
            "cidr: \"2001:db8:85a3::/64\", blockSize: 122",
            None,
        ),
        (
            "cidr: 10.0.0.0/24",
            "cidr: 10.0.1.0/24",
            // The old object is compared as given: its unset block size differs from the
            // defaulted new one.
            Some("error with the following fields:\n-  IPPool.Spec.CIDR = '10.0.1.0/24' (IPPool CIDR cannot be modified)\n-  IPPool.Spec.BlockSize = '26' (IPPool BlockSize cannot be modified)\n"),
        ),
        (
            "cidr: 10.0.0.0/24, blockSize: 26",
            "cidr: 10.0.0.0/24, blockSize: 28",
            Some("error with field IPPool.Spec.BlockSize = '28' (IPPool BlockSize cannot be modified)"),
        ),
        (
            "cidr: 10.0.0.0/24, blockSize: 26, allowedUses: [LoadBalancer]",
            "cidr: 10.0.0.0/24, blockSize: 26, allowedUses: [LoadBalancer, Workload]",
            Some("error with field IPPool.Spec.AllowedUses = '[LoadBalancer Workload]' (IPPool allowed use cannot be changed from LoadBalacer to Workload or Tunnel)"),
        ),
        (
            // The reverse change is not this check's business.
            "cidr: 10.0.0.0/24, blockSize: 26",
            "cidr: 10.0.0.0/24, blockSize: 26, allowedUses: [LoadBalancer]",
            None,
        ),
    ];
    for (old, new, expected) in table {
        let result = update_validation(&pool("p", old).pool, &pool("p", new).pool);
        assert_eq!(error_text(result).as_deref(), expected, "{old} -> {new}");
    }
}

#[test]
fn clientv3_defaults_and_normalises_what_it_stores() {
    let table = [
        (
            "cidr: 10.0.0.0/16",
            serde_json::json!({"cidr": "10.0.0.0/16", "blockSize": 26, "nodeSelector": "all()",
                "allowedUses": ["Workload", "Tunnel"], "assignmentMode": "Automatic",
                "ipipMode": "Never", "vxlanMode": "Never"}),
        ),
        (
            "cidr: \"2001:DB8:0::/64\", vxlanMode: Always",
            serde_json::json!({"cidr": "2001:db8::/64", "blockSize": 122, "nodeSelector": "all()",
                "allowedUses": ["Workload", "Tunnel"], "assignmentMode": "Automatic",
                "ipipMode": "Never", "vxlanMode": "Always"}),
        ),
    ];
    for (spec, expected) in table {
        let mut store = PoolStore::new(WritePath::ClientV3(Datastore::Etcd));
        let created = store.create(&pool("p", spec));
        let created = created.unwrap_or_else(|e| panic!("{spec}: {}", e.message));
        assert_eq!(spec_json(&created.pool.spec), expected, "{spec}");
    }
}

#[test]
fn clientv3_create_refusals() {
    let table: [CreateCase; 6] = [
        (
            &[("a", "cidr: 1.2.3.0/24")],
            ("b", "cidr: 1.2.0.0/16"),
            Some("error with field IPPool.Spec.CIDR = '1.2.0.0/16' (IPPool(b) CIDR overlaps with IPPool(a) CIDR 1.2.3.0/24)"),
        ),
        // A disabled pool still blocks an overlapping one.
        (
            &[("a", "cidr: 1.2.3.0/24, disabled: true")],
            ("b", "cidr: 1.2.3.128/25"),
            Some("error with field IPPool.Spec.CIDR = '1.2.3.128/25' (IPPool(b) CIDR overlaps with IPPool(a) CIDR 1.2.3.0/24)"),
        ),
        // The same name is not an overlap: the datastore refuses the duplicate.
        (
            &[("a", "cidr: 1.2.3.0/24")],
            ("a", "cidr: 1.2.3.0/24"),
            Some("resource already exists: IPPool(a) with error: key already exists"),
        ),
        (
            &[],
            ("a", "cidr: 1.2.3.0/24, blockSize: 19"),
            // A /24 is also smaller than a /19 block, and the CEL rules report every violation.
            Some("error with the following fields:\n-  spec = '<nil>' (blockSize must be between 20 and 32 for IPv4 pools, and between 116 and 128 for IPv6 pools)\n-  spec = '<nil>' (IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.)\n"),
        ),
        (
            &[],
            ("a", "cidr: 1.2.3.1/24"),
            Some("error with field IPPool.Spec.CIDR = '1.2.3.0/24' (IPPool CIDR is not strictly masked)"),
        ),
        (&[("a", "cidr: 1.2.3.0/24")], ("b", "cidr: 1.2.4.0/24"), None),
    ];
    for (existing, (name, spec), expected) in table {
        let mut store = PoolStore::new(WritePath::ClientV3(Datastore::Etcd));
        for (other, other_spec) in existing {
            store.load(pool(other, other_spec));
        }
        let result = store.create(&pool(name, spec));
        assert_eq!(error_text(result).as_deref(), expected, "{name}: {spec}");
    }
}

#[test]
fn clientv3_create_refuses_blocks_of_another_size_until_they_are_gone() {
    let mut store = PoolStore::new(WritePath::ClientV3(Datastore::Etcd));
    assert!(store.create(&pool("p", "cidr: 1.2.3.0/26")).is_ok());
    store.ipam_op(|ipam| ipam.set_node("host", Default::default()));
    let (v4, _, result) = store.ipam_op(|ipam| {
        ipam.auto_assign(&AutoAssignArgs {
            num4: 1,
            hostname: "host".into(),
            intended_use: Some(AllowedUse::Workload),
            ..AutoAssignArgs::default()
        })
    });
    assert!(result.is_ok());
    let Some(address) = v4.and_then(|a| a.ips.first().map(|n| n.addr())) else {
        panic!("no address assigned");
    };
    // Deleting keeps the allocation (and so its /26 block).
    assert!(store.delete("p", None).is_ok());
    let conflict = "error with field IPPool.Spec.BlockSize = '28' (IPPool blocksSize conflicts with existing allocations that use a different blockSize)";
    for spec in [
        "cidr: 1.2.3.0/26, blockSize: 28",
        "cidr: 1.2.2.0/23, blockSize: 28",
    ] {
        let result = store.create(&pool("p", spec));
        assert_eq!(error_text(result).as_deref(), Some(conflict), "{spec}");
    }
    let (released, result) =
        store.ipam_op(|ipam| ipam.release_ips(&[crate::ipam::ReleaseOptions::address(address)]));
    assert!(result.is_ok() && released.unallocated.is_empty());
    assert!(store
        .create(&pool("p", "cidr: 1.2.3.0/26, blockSize: 28"))
        .is_ok());
}

#[test]
fn clientv3_update_checks_bookkeeping_then_version() {
    let mut store = PoolStore::new(WritePath::ClientV3(Datastore::Etcd));
    let created = store
        .create(&pool("p", "cidr: 10.0.0.0/24"))
        .unwrap_or_else(|e| panic!("{}", e.message));
    let with = |edit: fn(&mut PoolObject)| {
        let mut request = created.clone();
        edit(&mut request);
        request
    };
    let table: [(PoolObject, Option<&str>); 4] = [
        (
            with(|r| r.resource_version = None),
            Some("error with field Metadata.ResourceVersion = '' (field must be set for an Update request)"),
        ),
        (
            with(|r| r.creation_timestamp = None),
            Some("error with field Metadata.CreationTimestamp = '0001-01-01 00:00:00 +0000 UTC' (field must be set for an Update request)"),
        ),
        (
            with(|r| r.uid = None),
            Some("error with field Metadata.UID = '' (field must be set for an Update request)"),
        ),
        (
            with(|r| r.resource_version = Some("stale".into())),
            Some("update conflict: IPPool(p)"),
        ),
    ];
    for (request, expected) in table {
        assert_eq!(error_text(store.update(&request)).as_deref(), expected);
    }
    let nat = serde_json::Map::from_iter([("natOutgoing".into(), true.into())]);
    let edited = created
        .with_spec_fields(&nat)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(store.update(&edited).is_ok());
    // The first update changed the version, so the original object is now stale.
    assert_eq!(
        error_text(store.update(&edited)).as_deref(),
        Some("update conflict: IPPool(p)")
    );
}

#[test]
fn clientv3_delete_disables_releases_affinities_and_returns_the_disabled_pool() {
    let mut store = PoolStore::new(WritePath::ClientV3(Datastore::Etcd));
    assert!(store.create(&pool("p", "cidr: 10.0.0.0/24")).is_ok());
    store.ipam_op(|ipam| ipam.set_node("host", Default::default()));
    let (_, _, result) = store.ipam_op(|ipam| {
        ipam.auto_assign(&AutoAssignArgs {
            num4: 1,
            hostname: "host".into(),
            intended_use: Some(AllowedUse::Workload),
            ..AutoAssignArgs::default()
        })
    });
    assert!(result.is_ok());
    let deleted = store
        .delete("p", None)
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert!(deleted.pool.spec.is_disabled());
    assert!(store.ipam().pools().is_empty());
    // The block stays (it holds an address) but belongs to no host any more.
    let blocks = store.ipam().list_blocks(None);
    assert_eq!(blocks.len(), 1);
    assert!(blocks.iter().all(|b| b.affinity.is_none()));
    assert!(store.ipam().list_affinities(None, None, None).is_empty());
    assert_eq!(
        error_text(store.delete("p", None)).as_deref(),
        Some("resource does not exist: IPPool(p) with error: ippools.projectcalico.org \"p\" not found")
    );
}

#[test]
fn clientv3_reads_apply_defaults_to_raw_backend_writes() {
    let mut store = PoolStore::new(WritePath::ClientV3(Datastore::Etcd));
    let raw = pool("raw", "cidr: 10.0.0.0/24, ipipMode: \"\", vxlanMode: \"\"");
    assert!(store.backend_create(raw).is_ok());
    let read = store.get("raw").unwrap_or_else(|e| panic!("{}", e.message));
    let spec = spec_json(&read.pool.spec);
    for (key, value) in [
        ("ipipMode", "Never"),
        ("vxlanMode", "Never"),
        ("nodeSelector", "all()"),
        ("assignmentMode", "Automatic"),
    ] {
        assert_eq!(spec[key], value, "{key}");
    }
    assert_eq!(spec["blockSize"], 26);
    // The stored object itself is untouched.
    let stored = store.stored("raw").map(|p| spec_json(&p.pool.spec));
    assert_eq!(stored.map(|s| s.get("blockSize").is_none()), Some(true));
}

#[test]
fn apiserver_applies_crd_defaults_and_transition_rules() {
    let mut store = PoolStore::new(WritePath::ApiServer);
    let created = store
        .create(&pool("p", "cidr: 10.0.200.0/24, blockSize: 26"))
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(
        spec_json(&created.pool.spec),
        serde_json::json!({"cidr": "10.0.200.0/24", "blockSize": 26, "nodeSelector": "all()",
            "assignmentMode": "Automatic"})
    );
    let table = [
        ("cidr", serde_json::json!("10.0.201.0/24"), "IPPool.projectcalico.org \"p\" is invalid: spec.cidr: Invalid value: \"string\": CIDR cannot be changed; follow IP pool migration guide to avoid corruption."),
        ("blockSize", serde_json::json!(27), "IPPool.projectcalico.org \"p\" is invalid: spec.blockSize: Invalid value: \"integer\": Block size cannot be changed; follow IP pool migration guide to avoid corruption."),
    ];
    for (key, value, expected) in table {
        let change = serde_json::Map::from_iter([(key.to_owned(), value)]);
        let request = created
            .with_spec_fields(&change)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            error_text(store.update(&request)).as_deref(),
            Some(expected)
        );
    }
    // No overlap check without clientv3.
    assert!(store.create(&pool("q", "cidr: 10.0.200.0/25")).is_ok());
}

#[test]
fn pool_priority_sort_orders_by_category_age_then_name() {
    let entry = |name: &str, age: i64, allocatable: Option<bool>, deleting: bool| PoolPriority {
        name: name.to_owned(),
        creation_timestamp: age,
        allocatable,
        deleting,
    };
    let table = [
        (
            vec![
                entry("disabled", -60, Some(false), false),
                entry("active", 0, Some(true), false),
            ],
            vec!["active", "disabled"],
        ),
        (
            vec![
                entry("terminating", -60, Some(true), true),
                entry("active", 0, Some(true), false),
            ],
            vec!["active", "terminating"],
        ),
        (
            vec![
                entry("new", -60, None, false),
                entry("disabled", 0, Some(false), false),
            ],
            vec!["disabled", "new"],
        ),
        (
            vec![
                entry("newer", 0, Some(true), false),
                entry("older", -60, Some(true), false),
            ],
            vec!["older", "newer"],
        ),
        (
            vec![entry("b", 0, None, false), entry("a", 0, None, false)],
            vec!["a", "b"],
        ),
        (
            vec![
                entry("terminating", -60, Some(false), true),
                entry("disabled", -120, Some(false), false),
            ],
            vec!["terminating", "disabled"],
        ),
        (
            vec![
                entry("disabled-2", -60, Some(false), false),
                entry("active", -300, Some(true), false),
                entry("new", 0, None, false),
                entry("disabled-1", -120, Some(false), false),
                entry("terminating", -180, Some(true), true),
            ],
            vec!["active", "terminating", "disabled-1", "disabled-2", "new"],
        ),
    ];
    for (mut pools, expected) in table {
        pool_priority_sort(&mut pools);
        let order: Vec<&str> = pools.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(order, expected);
    }
}

#[test]
fn controller_masks_overlaps_and_hands_priority_on_when_pools_go() {
    let mut store = PoolStore::new(WritePath::ApiServer).with_controller();
    let allocatable = |store: &PoolStore, name: &str| {
        store
            .stored(name)
            .and_then(|p| p.allocatable.as_ref().map(|c| c.status))
    };
    let steps: [ControllerStep; 7] = [
        (
            "create",
            "first cidr: 192.168.1.0/24",
            &[("first", Some(true))],
        ),
        (
            "create",
            "wide cidr: 192.168.0.0/16",
            &[("wide", Some(false))],
        ),
        (
            "create",
            "wide2 cidr: 192.168.0.0/16",
            &[("wide2", Some(false))],
        ),
        (
            "create",
            "other cidr: 192.168.2.0/24",
            &[("other", Some(true))],
        ),
        (
            "delete",
            "first",
            &[
                ("wide", Some(false)),
                ("wide2", Some(false)),
                ("first", None),
            ],
        ),
        (
            "delete",
            "other",
            &[("wide", Some(true)), ("wide2", Some(false))],
        ),
        ("delete", "wide", &[("wide2", Some(true))]),
    ];
    for (op, arg, expected) in steps {
        match op {
            "create" => {
                let (name, spec) = arg.split_once(' ').unwrap_or((arg, ""));
                assert!(store.create(&pool(name, spec)).is_ok(), "{arg}");
            }
            _ => assert!(store.delete(arg, None).is_ok(), "{arg}"),
        }
        for (name, status) in expected {
            assert_eq!(
                allocatable(&store, name),
                *status,
                "after {op} {arg}: {name}"
            );
        }
        // Pools are created a second apart, as the controller tells age by timestamp.
        store.advance_clock(1);
    }
    assert_eq!(
        store.stored("wide2").map(PoolObject::has_finalizer),
        Some(true)
    );
}

#[test]
fn controller_keeps_a_deleted_pool_until_its_last_block_is_gone() {
    let mut store = PoolStore::new(WritePath::ApiServer).with_controller();
    assert!(store.create(&pool("p", "cidr: 192.168.1.0/24")).is_ok());
    assert_eq!(store.stored("p").map(PoolObject::has_finalizer), Some(true));
    store.ipam_op(|ipam| ipam.set_node("node", Default::default()));
    let (_, _, result) = store.ipam_op(|ipam| {
        ipam.auto_assign(&AutoAssignArgs {
            num4: 1,
            hostname: "node".into(),
            handle: Some("h".into()),
            intended_use: Some(AllowedUse::Workload),
            ..AutoAssignArgs::default()
        })
    });
    assert!(result.is_ok());
    assert!(store.delete("p", None).is_ok());
    let terminating = store.get("p").unwrap_or_else(|e| panic!("{}", e.message));
    assert!(terminating.is_deleting());
    assert_eq!(
        terminating.allocatable.map(|c| c.reason).as_deref(),
        Some("Terminating")
    );
    // IPAM no longer allocates from it.
    assert!(store.ipam().pools().iter().all(|p| !p.is_enabled()));
    assert!(store.ipam_op(|ipam| ipam.release_by_handle("h")).is_ok());
    assert!(store.get("p").is_err());
}

#[test]
fn review_applies_planned_pools_over_live_ones() {
    let live = [pool("live", "cidr: 10.0.0.0/16, blockSize: 26")];
    let planned = [
        // Unchanged: an update that changes nothing.
        pool("live", "cidr: 10.0.0.0/16, blockSize: 26"),
        pool("live", "cidr: 10.0.0.0/16, blockSize: 24"),
        pool("new", "cidr: 10.0.128.0/17"),
        pool("other", "cidr: 10.1.0.0/16"),
    ];
    let verdicts: Vec<(String, Option<String>)> =
        review(WritePath::ClientV3(Datastore::Etcd), &live, &planned)
            .into_iter()
            .map(|(name, result)| (name, error_text(result)))
            .collect();
    let expected = [
        ("live", None),
        (
            "live",
            Some("error with field IPPool.Spec.BlockSize = '24' (IPPool BlockSize cannot be modified)"),
        ),
        (
            "new",
            Some("error with field IPPool.Spec.CIDR = '10.0.128.0/17' (IPPool(new) CIDR overlaps with IPPool(live) CIDR 10.0.0.0/16)"),
        ),
        ("other", None),
    ];
    let expected: Vec<(String, Option<String>)> = expected
        .iter()
        .map(|(n, e)| ((*n).to_owned(), e.map(str::to_owned)))
        .collect();
    assert_eq!(verdicts, expected);
}

#[test]
fn hostile_inputs_are_refused_not_panicked_on() {
    let texts = [
        "",
        "kind: IPPool",
        "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: x}\nspec: {cidr: [1]}",
        "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: x}\nspec: {cidr: \"::/0\", blockSize: 300}",
        "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: x}\nspec: {cidr: 10.0.0.0/8, blockSize: -1, allowedUses: [Nope]}",
    ];
    for path in [
        WritePath::ClientV3(Datastore::Etcd),
        WritePath::ClientV3(Datastore::Kubernetes),
        WritePath::ApiServer,
    ] {
        let mut store = PoolStore::new(path).with_controller();
        for text in texts {
            if let Ok(object) = PoolObject::from_text(text) {
                let _ = store.create(&object);
                let _ = store.apply(&object);
                let _ = store.delete(object.name(), Some("nope"));
                store.load(object);
                let _ = store.list();
            }
        }
    }
}
