//! The selector syntax tree: evaluation (spec §5.3) and Calico's `String()` form.

use super::Labels;

/// The value comparisons of the grammar that take a single string literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comparison {
    Equal,
    NotEqual,
    Contains,
    StartsWith,
    EndsWith,
}

impl Comparison {
    /// The operator with the spacing Calico prints around it.
    fn canonical(self) -> &'static str {
        match self {
            Comparison::Equal => " == ",
            Comparison::NotEqual => " != ",
            Comparison::Contains => " contains ",
            Comparison::StartsWith => " starts with ",
            Comparison::EndsWith => " ends with ",
        }
    }

    fn holds(self, actual: Option<&str>, expected: &str) -> bool {
        match (self, actual) {
            // Calico treats a missing label as "not equal" to any value.
            (Comparison::NotEqual, None) => true,
            (_, None) => false,
            (Comparison::Equal, Some(actual)) => actual == expected,
            (Comparison::NotEqual, Some(actual)) => actual != expected,
            (Comparison::Contains, Some(actual)) => actual.contains(expected),
            (Comparison::StartsWith, Some(actual)) => actual.starts_with(expected),
            (Comparison::EndsWith, Some(actual)) => actual.ends_with(expected),
        }
    }
}

/// A node of a parsed selector. Parentheses leave no trace: they only shape the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    All,
    Global,
    Has(String),
    Compare {
        label: String,
        comparison: Comparison,
        value: String,
    },
    /// `label in {…}` or, when `negated`, `label not in {…}`; `values` are sorted and unique,
    /// which is how Calico stores (and therefore prints) a set.
    InSet {
        label: String,
        values: Vec<String>,
        negated: bool,
    },
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

impl Node {
    pub(crate) fn matches(&self, labels: &Labels) -> bool {
        match self {
            Node::All | Node::Global => true,
            Node::Has(label) => labels.contains_key(label),
            Node::Compare {
                label,
                comparison,
                value,
            } => comparison.holds(labels.get(label).map(String::as_str), value),
            Node::InSet {
                label,
                values,
                negated,
            } => match labels.get(label) {
                Some(actual) => values.binary_search(actual).is_ok() != *negated,
                // A missing label is in no set, so `not in` holds for it.
                None => *negated,
            },
            Node::Not(operand) => !operand.matches(labels),
            Node::And(operands) => operands.iter().all(|operand| operand.matches(labels)),
            Node::Or(operands) => operands.iter().any(|operand| operand.matches(labels)),
        }
    }

    /// Appends Calico's `String()` form of this node to `out`.
    pub(crate) fn write_canonical(&self, out: &mut String) {
        match self {
            Node::All => out.push_str("all()"),
            Node::Global => out.push_str("global()"),
            Node::Has(label) => {
                out.push_str("has(");
                out.push_str(label);
                out.push(')');
            }
            Node::Compare {
                label,
                comparison,
                value,
            } => {
                out.push_str(label);
                out.push_str(comparison.canonical());
                write_quoted(out, value);
            }
            Node::InSet {
                label,
                values,
                negated,
            } => {
                out.push_str(label);
                out.push_str(if *negated { " not in {" } else { " in {" });
                for (index, value) in values.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    write_quoted(out, value);
                }
                out.push('}');
            }
            Node::Not(operand) => {
                out.push('!');
                operand.write_canonical(out);
            }
            Node::And(operands) => write_joined(out, operands, " && "),
            Node::Or(operands) => write_joined(out, operands, " || "),
        }
    }

    /// Calico's `PrefixVisitor`: prepends `prefix` to every label name.
    pub(crate) fn prefix_labels(&mut self, prefix: &str) {
        match self {
            Node::All | Node::Global => {}
            Node::Has(label) | Node::Compare { label, .. } | Node::InSet { label, .. } => {
                label.insert_str(0, prefix);
            }
            Node::Not(operand) => operand.prefix_labels(prefix),
            Node::And(operands) | Node::Or(operands) => {
                for operand in operands {
                    operand.prefix_labels(prefix);
                }
            }
        }
    }
}

/// Calico wraps a value in double quotes unless it contains one; then it uses single quotes.
/// (A parsed value never holds both kinds, because literals have no escapes.)
fn write_quoted(out: &mut String, value: &str) {
    let quote = if value.contains('"') { '\'' } else { '"' };
    out.push(quote);
    out.push_str(value);
    out.push(quote);
}

/// `&&` and `||` chains always print inside parentheses, even at the top level.
fn write_joined(out: &mut String, operands: &[Node], separator: &str) {
    out.push('(');
    for (index, operand) in operands.iter().enumerate() {
        if index > 0 {
            out.push_str(separator);
        }
        operand.write_canonical(out);
    }
    out.push(')');
}
