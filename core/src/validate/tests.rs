//! Table-driven tests: input manifests and the codes (and lines) validation reports for them.

use super::*;
use crate::manifest::{parse, Source};
use crate::model::{self, Resource};

/// Every diagnostic of the default view for `text`, as (code, line), sorted.
fn codes(text: &str) -> Vec<(&'static str, u32)> {
    let (docs, problems) = parse(&[Source::new(Some("t.yaml"), text)]);
    assert!(problems.is_empty(), "{problems:?}");
    let (model, schema) = model::build(&docs);
    let mut out: Vec<(&'static str, u32)> = schema
        .iter()
        .chain(check(&model).iter())
        .chain(annotations(&model).iter())
        .map(|d| (d.code, d.line.unwrap_or(0)))
        .collect();
    out.sort();
    out
}

fn pool(spec: &str) -> String {
    format!("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: p\nspec:\n{spec}")
}

#[test]
fn pool_rules_are_reported_at_their_node() {
    let cases: &[(&str, &[(&str, u32)])] = &[
        ("  cidr: 10.0.0.0/16\n", &[]),
        ("  blockSize: 26\n", &[("pool-cidr-missing", 6)]),
        ("  cidr: 10.0.0.0/33\n", &[("pool-cidr-invalid", 6)]),
        ("  cidr: 10.0.0.1/16\n", &[("pool-cidr-not-masked", 6)]),
        (
            "  cidr: 10.0.0.0/16\n  blockSize: 33\n",
            &[("pool-block-size-range", 7)],
        ),
        (
            "  cidr: 10.0.0.0/16\n  blockSize: 200\n",
            &[("pool-block-size-range", 7)],
        ),
        ("  cidr: 10.0.0.0/27\n", &[("pool-too-small", 6)]),
        ("  cidr: 10.0.0.0/27\n  disabled: true\n", &[]),
        (
            "  cidr: fd00::/48\n  ipipMode: Always\n",
            &[("pool-ipip-ipv6", 7)],
        ),
        ("  cidr: fd00::/48\n  vxlanMode: Always\n", &[]),
        (
            "  cidr: 10.0.0.0/16\n  ipipMode: Always\n  vxlanMode: CrossSubnet\n",
            &[("pool-ipip-vxlan", 8)],
        ),
        ("  cidr: 169.254.0.0/15\n", &[("pool-link-local", 6)]),
        ("  cidr: fe80::/64\n", &[("pool-link-local", 6)]),
        (
            "  cidr: 10.0.0.0/16\n  allowedUses: [LoadBalancer]\n  vxlanMode: Always\n",
            &[("pool-lb-encap", 8)],
        ),
        (
            "  cidr: 10.0.0.0/16\n  allowedUses: [LoadBalancer, Tunnel]\n",
            &[("pool-lb-mixed-uses", 7)],
        ),
        (
            "  cidr: 10.0.0.0/16\n  allowedUses: [LoadBalancer]\n  disableBGPExport: true\n",
            &[("pool-lb-bgp-export", 8)],
        ),
        (
            "  cidr: 10.0.0.0/16\n  allowedUses: [LoadBalancer]\n  nodeSelector: '!all()'\n",
            &[("pool-lb-node-selector", 8)],
        ),
        (
            "  cidr: 10.0.0.0/16\n  namespaceSelector: team == 'a'\n",
            &[("pool-tunnel-namespace-selector", 7)],
        ),
        (
            "  cidr: 10.0.0.0/16\n  allowedUses: [Workload]\n  namespaceSelector: team == 'a'\n",
            &[],
        ),
        (
            "  cidr: 10.0.0.0/16\n  nodeSelector: global()\n",
            &[("pool-global-selector", 7)],
        ),
        (
            "  cidr: 10.0.0.0/16\n  allowedUses: [Workload, Garbage]\n",
            &[("pool-unknown-use", 7)],
        ),
        (
            "  cidr: 10.0.0.0/16\n  ipipMode: never\n",
            &[("pool-mode-invalid", 7)],
        ),
        (
            "  cidr: 10.0.0.0/16\n  assignmentMode: ''\n",
            &[("pool-mode-invalid", 7)],
        ),
        (
            "  cidr: 10.0.0.0/16\n  nodeSelector: this is not a selector\n",
            &[("pool-selector-syntax", 7)],
        ),
        (
            "  cidr: 10.0.0.0/16\n  nat-outgoing: true\n",
            &[("pool-legacy-field", 7)],
        ),
        (
            "  cidr: 10.0.0.0/16\n  allowedUses: [Workload, Workload]\n",
            &[("schema", 7)],
        ),
        ("  cidr: 10.0.0.0/16\n  blockSize: '26'\n", &[("schema", 7)]),
    ];
    for (spec, expected) in cases {
        assert_eq!(codes(&pool(spec)), expected.to_vec(), "spec:\n{spec}");
    }
}

#[test]
fn metadata_reservation_and_config_rules() {
    let cases: &[(&str, &[(&str, u32)])] = &[
        (
            "kind: IPPool\nmetadata:\n  name: Pool_1\n  labels: {ok: 'a b'}\n  annotations: {'x$y': v}\nspec: {cidr: 10.0.0.0/16}\n",
            &[("metadata-annotations", 5), ("metadata-labels", 4), ("resource-name", 3)],
        ),
        (
            "kind: IPReservation\nmetadata: {name: r}\nspec:\n  reservedCIDRs: [garbage, 10.0.0.1, 10.0.0.5/24]\n",
            &[
                ("reservation-cidr-invalid", 4),
                ("reservation-cidr-invalid", 4),
                ("reservation-cidr-not-masked", 4),
                ("reservation-outside-pools", 4),
                ("reservation-outside-pools", 4),
            ],
        ),
        (
            "kind: IPAMConfiguration\nmetadata: {name: mine}\nspec:\n  maxBlocksPerHost: -1\n  ipCooldownSeconds: 5000\n",
            &[("ipam-config-auto-allocate-unset", 4), ("ipam-config-name", 2), ("ipam-config-range", 4), ("ipam-config-range", 5)],
        ),
        (
            "kind: IPAMConfig\nmetadata: {name: default}\nspec:\n  strictAffinity: false\n  autoAllocateBlocks: false\n  maxBlocksPerHost: 3\n",
            &[("ipam-config-max-blocks-strict", 6), ("ipam-config-strict-auto", 5)],
        ),
        (
            "kind: Node\nmetadata:\n  name: w\n  labels:\n    kubernetes.io/os: windows\n",
            &[("ipam-config-windows-strict", 5)],
        ),
        (
            "kind: Node\nmetadata: {name: w, labels: {kubernetes.io/os: windows}}\n---\nkind: IPAMConfiguration\nmetadata: {name: default}\nspec: {strictAffinity: true, autoAllocateBlocks: true}\n",
            &[],
        ),
        (
            "kind: IPPool\nmetadata: {name: a}\nspec: {cidr: 10.0.0.0/16}\n---\nkind: IPPool\nmetadata: {name: b}\nspec: {cidr: 10.0.128.0/17, disabled: true}\n",
            &[("pool-overlap", 7)],
        ),
        (
            "kind: ClusterConfiguration\nnetworking: {podSubnet: 10.244.0.0/16}\n---\nkind: IPPool\nmetadata: {name: a}\nspec: {cidr: 10.0.0.0/16}\n",
            &[("pool-outside-cluster-cidr", 6)],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(codes(text), expected.to_vec(), "input:\n{text}");
    }
}

#[test]
fn annotation_rules() {
    let text = "\
kind: Namespace
metadata:
  name: ns
  annotations:
    cni.projectcalico.org/ipv4pools: pool-a
---
kind: Deployment
metadata: {name: d, namespace: ns}
spec:
  template:
    metadata:
      annotations:
        cni.projectcalico.org/ipAddrs: '[\"10.0.0.1/32\"]'
        cni.projectcalico.org/ipFamilies: '[\"ipv4\"]'
";
    assert_eq!(
        codes(text),
        [
            ("annotation-malformed", 5),
            ("annotation-malformed", 13),
            ("annotation-malformed", 14)
        ]
    );
}

fn resource_of(text: &str) -> Resource {
    let (docs, _) = parse(&[Source::new(None, text)]);
    let (resource, _) = model::read(&docs[0]);
    resource.expect("a modelled kind")
}

#[test]
fn write_paths_run_their_own_layers() {
    // Selector syntax is a Go check: a direct CRD write accepts it.
    let bad_selector = resource_of(&pool(
        "  cidr: 10.0.0.0/16\n  nodeSelector: not a selector\n",
    ));
    assert!(resource(&bad_selector, &Options::path(WritePath::Kubectl)).is_empty());
    let found = resource(&bad_selector, &Options::path(WritePath::Calicoctl));
    assert_eq!(
        found.iter().map(|f| f.code).collect::<Vec<_>>(),
        ["pool-selector-syntax"]
    );

    // clientv3 defaults `allowedUses` to Workload+Tunnel before the CEL rules run; the CRD alone
    // does not default it.
    let ns_selector = resource_of(&pool(
        "  cidr: 10.0.0.0/16\n  namespaceSelector: a == 'b'\n",
    ));
    assert!(resource(&ns_selector, &Options::path(WritePath::Kubectl)).is_empty());
    assert_eq!(
        resource(&ns_selector, &Options::path(WritePath::Calicoctl))
            .iter()
            .map(|f| (f.layer, f.code))
            .collect::<Vec<_>>(),
        [(Layer::Crd, "pool-tunnel-namespace-selector")]
    );
}

#[test]
fn rejections_read_like_calico() {
    let unmasked = resource_of(&pool(
        "  cidr: 10.0.0.1/16\n  ipipMode: Always\n  vxlanMode: Always\n",
    ));
    let origin = unmasked.origin().clone();
    let calicoctl = resource(&unmasked, &Options::path(WritePath::Calicoctl));
    assert_eq!(
        rejection(&origin, &calicoctl, &Options::path(WritePath::Calicoctl)).as_deref(),
        Some("error with field IPPool.Spec.CIDR = '10.0.0.0/16' (IPPool CIDR is not strictly masked)")
    );
    let kubectl = resource(&unmasked, &Options::path(WritePath::Kubectl));
    assert_eq!(
        rejection(&origin, &kubectl, &Options::path(WritePath::Kubectl)).as_deref(),
        Some(
            "IPPool.projectcalico.org \"p\" is invalid: [spec: Forbidden: ipipMode and vxlanMode cannot both be enabled, \
             spec: Invalid value: \"object\": IPPool CIDR must be strictly masked]"
        )
    );
    let go_only = Options::new(Layers::of(&[Layer::GoValidator]));
    let two = resource_of(&pool(
        "  cidr: 10.0.0.0/16\n  ipipMode: bad\n  vxlanMode: worse\n",
    ));
    assert_eq!(
        rejection(two.origin(), &resource(&two, &go_only), &go_only).as_deref(),
        Some(
            "error with the following fields:\n\
             -  IPIPMode = 'bad' (Reason: failed to validate Field: IPIPMode because of Tag: ipIpMode )\n\
             -  VXLANMode = 'worse' (Reason: failed to validate Field: VXLANMode because of Tag: vxlanMode )\n"
        )
    );
}

#[test]
fn fixes_carry_the_corrected_text() {
    let (docs, _) = parse(&[Source::new(
        None,
        &pool("  cidr: 10.0.0.1/16\n  blockSize: 19\n"),
    )]);
    let (model, _) = model::build(&docs);
    let diagnostics = check(&model);
    let fix_of = |code: &str| {
        diagnostics
            .iter()
            .find(|d| d.code == code)
            .and_then(|d| d.fix.clone())
            .map(|f| f.replacement)
    };
    assert_eq!(
        fix_of("pool-cidr-not-masked").as_deref(),
        Some("\"10.0.0.0/16\"")
    );
    assert_eq!(fix_of("pool-block-size-range").as_deref(), Some("20"));
}

#[test]
fn every_code_is_documented() {
    let inputs = [
        pool("  cidr: 10.0.0.1/16\n  ipipMode: Always\n  vxlanMode: Always\n  nodeSelector: global()\n"),
        pool("  cidr: 10.0.0.0/16\n  allowedUses: [LoadBalancer, Garbage]\n  ipipMode: x\n  disableBGPExport: true\n"),
        "kind: IPAMConfiguration\nmetadata: {name: x}\nspec: {maxBlocksPerHost: -5, autoAllocateBlocks: false}\n".to_owned(),
    ];
    for text in inputs {
        let (docs, _) = parse(&[Source::new(None, &text)]);
        let (model, _) = model::build(&docs);
        for d in check(&model) {
            assert!(
                codes::find(d.code).is_some() || crate::codes::find(d.code).is_some(),
                "{} is not documented",
                d.code
            );
        }
    }
}

#[test]
fn hostile_input_never_panics() {
    let inputs = [
        "kind: IPPool\nspec: [1, 2]\n",
        "kind: IPPool\nmetadata: 5\nspec: {cidr: ~, blockSize: 99999999999999999999999}\n",
        "kind: IPPool\nspec: {cidr: '::ffff:1.2.3.0/120', blockSize: -1, allowedUses: [[]]}\n",
        "kind: IPReservation\nspec: {reservedCIDRs: {a: b}}\n",
        "kind: IPAMConfig\nspec: {maxBlocksPerHost: 1e99}\n",
        "kind: Pod\nmetadata: {annotations: {cni.projectcalico.org/ipAddrs: '[\"\\u00e9\", 1, {}]'}}\nstatus: {podIPs: [1]}\n",
        "kind: ConfigMap\ndata: {cni_network_config: '{__X__: __'}\n",
        "kind: CronJob\nspec: {jobTemplate: {spec: {parallelism: -3}}}\n",
        "kind: BlockAffinity\nspec: {deleted: [true]}\n",
    ];
    for text in inputs {
        let (docs, _) = parse(&[Source::new(None, text)]);
        let (model, _) = model::build(&docs);
        let _ = check(&model);
        let _ = annotations(&model);
        for doc in &docs {
            if let (Some(r), _) = model::read(doc) {
                for path in [
                    WritePath::Calicoctl,
                    WritePath::Kubectl,
                    WritePath::IpamConfigure,
                ] {
                    let options = Options::path(path);
                    let findings = resource(&r, &options);
                    let _ = rejection(r.origin(), &findings, &options);
                }
            }
        }
    }
}

#[test]
fn overlaps_are_found_in_either_direction_but_not_for_the_same_pool() {
    let pools = |cidrs: &[(&str, &str)]| {
        cidrs
            .iter()
            .map(|(name, cidr)| {
                format!("kind: IPPool\nmetadata: {{name: {name}}}\nspec: {{cidr: '{cidr}'}}\n")
            })
            .collect::<Vec<_>>()
            .join("---\n")
    };
    let overlapping = |cidrs: &[(&str, &str)]| -> Vec<u32> {
        codes(&pools(cidrs))
            .into_iter()
            .filter(|(code, _)| *code == "pool-overlap")
            .map(|(_, line)| line)
            .collect()
    };
    assert_eq!(
        overlapping(&[("a", "10.0.0.0/16"), ("b", "10.0.0.0/8")]),
        [7]
    );
    assert_eq!(
        overlapping(&[("a", "10.0.0.0/8"), ("b", "10.1.0.0/16")]),
        [7]
    );
    assert_eq!(
        overlapping(&[("a", "10.0.0.0/16"), ("a", "10.0.0.0/8")]),
        Vec::<u32>::new()
    );
    assert_eq!(
        overlapping(&[("a", "10.0.0.0/16"), ("b", "10.1.0.0/16")]),
        Vec::<u32>::new()
    );
    assert_eq!(
        overlapping(&[("a", "fd00::/8"), ("b", "10.0.0.0/8"), ("c", "fd00:1::/64")]),
        [11]
    );
}

#[test]
fn many_pools_are_checked_quickly() {
    let text: String = (0..20_000u32)
        .map(|i| {
            format!(
                "kind: IPPool\nmetadata: {{name: p{i}}}\nspec: {{cidr: 10.{}.{}.0/24}}\n---\n",
                i / 256,
                i % 256
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let (docs, _) = parse(&[Source::new(None, &text)]);
    let (model, _) = model::build(&docs);
    let overlaps = check(&model)
        .iter()
        .filter(|d| d.code == "pool-overlap")
        .count();
    assert_eq!(overlaps, 0);
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn in_process_crd_errors_join_the_validator_error() {
    let both = resource_of(&pool(
        "  cidr: 10.0.0.0/16\n  ipipMode: Always\n  vxlanMode: Always\n",
    ));
    let options = Options {
        crd_runner: CrdRunner::InProcess,
        ..Options::new(Layers::of(&[Layer::GoValidator, Layer::Crd]))
    };
    assert_eq!(
        rejection(both.origin(), &resource(&both, &options), &options).as_deref(),
        Some("error with field spec = '<nil>' (ipipMode and vxlanMode cannot both be enabled)")
    );
    let bad_mode = resource_of(&pool("  cidr: 10.0.0.0/16\n  vxlanMode: BadMode\n"));
    assert_eq!(
        rejection(bad_mode.origin(), &resource(&bad_mode, &options), &options).as_deref(),
        Some(
            "error with the following fields:\n\
             -  VXLANMode = 'BadMode' (Reason: failed to validate Field: VXLANMode because of Tag: vxlanMode )\n\
             -  spec.vxlanMode = '<nil>' (supported values: \"Never\", \"Always\", \"CrossSubnet\")\n"
        )
    );
}

#[test]
fn acceptance_follows_the_usual_write_path() {
    let selector = "  cidr: 10.0.0.0/16\n  nodeSelector: not a selector\n";
    assert!(!accepted(&resource_of(&pool(selector))));
    let v1 = pool(selector).replace("projectcalico.org/v3", "crd.projectcalico.org/v1");
    assert!(accepted(&resource_of(&v1)));
    assert!(accepted(&resource_of(&pool("  cidr: 10.0.0.0/16\n"))));
}
