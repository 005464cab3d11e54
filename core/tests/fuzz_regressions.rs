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
