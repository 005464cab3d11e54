//! The selector parser: any text parses or fails cleanly, and what parses prints a canonical
//! form that parses again to an equivalent selector.
//!
//! The canonical form is Calico's `String()`, which is not always a fixed point: Calico folds a
//! run of `!` into one negation but keeps a negation inside parentheses, so `!(!has(o))` prints
//! as `!!has(o)`, which parses (and prints) as `has(o)`. The form is therefore checked for
//! meaning (both select the same label sets) and for reaching a fixed point on the second round.
#![no_main]

use ipam_core::selector::{Labels, Selector};
use libfuzzer_sys::fuzz_target;

/// Label sets to evaluate both selectors on, built from the words of the selector text so that
/// its `has()`, `==` and `in` tests see both matching and missing labels.
fn label_sets(text: &str) -> Vec<Labels> {
    let mut words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || "./_-".contains(c)))
        .filter(|w| !w.is_empty())
        .collect();
    words.sort_unstable();
    words.dedup();
    words.truncate(8);
    let mut sets = vec![Labels::new()];
    for round in 0..8usize {
        let labels: Labels = words
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + round) % 3 != 0)
            .map(|(i, w)| {
                let value = words[(i + round) % words.len()];
                (w.to_string(), value.to_string())
            })
            .collect();
        sets.push(labels);
    }
    sets
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(selector) = Selector::parse(&text) {
        let canonical = selector.canonical();
        let again = Selector::parse(&canonical).expect("the canonical form parses");
        for labels in label_sets(&canonical) {
            assert_eq!(
                selector.matches(&labels),
                again.matches(&labels),
                "{text:?} and its canonical form {canonical:?} disagree on {labels:?}"
            );
        }
        let second = again.canonical();
        let third = Selector::parse(&second)
            .expect("the second canonical form parses")
            .canonical();
        assert_eq!(second, third, "no fixed point from {text:?}");
    }
});
