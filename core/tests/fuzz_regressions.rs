//! Inputs the fuzzers found, kept as tests. Each names the target and the artifact (saved in
//! `fuzz/regressions/<target>/`) and states what was wrong.

use ipam_core::selector::{Labels, Selector};

/// `selector` target, `crash-1fc5b4edfb84f95ead1a8dfa768f7f1b527680a4`: `!!!!!!!(!has(o))`.
/// The harness expected the canonical form to be a fixed point, but Calico's `String()` is not
/// one: a run of `!` folds into one negation while a negation inside parentheses stays, so the
/// selector prints as `!!has(o)`, which parses as `has(o)`. The engine is right to mirror
/// Calico; the harness now checks meaning and a fixed point on the second round.
#[test]
fn negation_inside_parentheses_prints_as_calico_does() {
    let text = "!!!!!!!(!has(o))";
    let selector = Selector::parse(text).expect("parses");
    assert_eq!(selector.canonical(), "!!has(o)");
    let again = Selector::parse(&selector.canonical()).expect("the canonical form parses");
    assert_eq!(again.canonical(), "has(o)");
    let with: Labels = [("o".to_owned(), String::new())].into_iter().collect();
    for labels in [Labels::new(), with] {
        assert_eq!(selector.matches(&labels), again.matches(&labels));
        assert_eq!(selector.matches(&labels), labels.contains_key("o"));
    }
}

/// `simulate` target, `crash-2081d47eecddbe95ac06eb83399d4e0bfe96234e`: two overlapping pools
/// with different block sizes (10.0.2.0/27 with /28 blocks, 10.0.2.0/26 with /26 blocks). The
/// cluster run allocated from both, so the node's VXLAN and IPIP tunnels both got 10.0.2.0 from
/// overlapping blocks, and two pods both got 10.0.2.1. kube-controllers marks the newer pool
/// `CIDROverlap`, so it must allocate nothing (the fixture
/// `tests/fixtures/hostile/overlapping-pools-different-block-sizes.yaml` is the same cluster).
#[test]
fn overlapping_pools_never_hand_out_an_address_twice() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/hostile/overlapping-pools-different-block-sizes.yaml"
    ))
    .expect("fixture");
    let (_, simulation) = ipam_core::plan(&[ipam_core::Source::new(None, &text)]);
    let mut addresses: Vec<std::net::IpAddr> = simulation
        .pods
        .iter()
        .flat_map(|p| p.ips.iter().copied())
        .chain(simulation.tunnels.iter().map(|t| t.ip))
        .collect();
    let handed_out = addresses.len();
    addresses.sort();
    addresses.dedup();
    assert_eq!(
        addresses.len(),
        handed_out,
        "an address was handed out twice"
    );
    // Only the older pool allocates: one tunnel, one pod, one block, all of small-blocks.
    assert_eq!(simulation.tunnels.len(), 1);
    let blocks: Vec<(&str, &str)> = simulation
        .blocks
        .iter()
        .map(|b| (b.cidr.as_str(), b.pool.as_str()))
        .collect();
    assert_eq!(blocks, [("10.0.2.0/28", "small-blocks")]);
    let served: Vec<(&str, Option<&str>)> = simulation
        .pods
        .iter()
        .filter(|p| !p.ips.is_empty())
        .map(|p| (p.name.as_str(), p.pool.as_deref()))
        .collect();
    assert_eq!(served, [("in-small-blocks", Some("small-blocks"))]);
}
