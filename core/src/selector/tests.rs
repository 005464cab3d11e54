//! Unit tests of the selector language. Most rows come from Calico's own parser and tokenizer
//! tests, so a failure here means the planner would disagree with Calico about a pool.

use super::tokenizer::{tokenize, TokenKind, MAX_LABEL_LENGTH};
use super::{selects, Labels, Selector, SelectorError, MAX_NESTING};

/// One row of an evaluation table: selector text, label pairs, and whether it matches.
type EvaluationRow = (&'static str, &'static [(&'static str, &'static str)], bool);

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

fn parse_ok(text: &str) -> Selector {
    match Selector::parse(text) {
        Ok(selector) => selector,
        Err(e) => panic!("{text:?} should parse but failed: {e:?}"),
    }
}

fn parse_err(text: &str) -> SelectorError {
    match Selector::parse(text) {
        Ok(selector) => panic!("{text:?} should not parse but gave {selector:?}"),
        Err(e) => e,
    }
}

#[test]
fn evaluation_follows_calico_including_missing_labels() {
    // Each row: selector, labels, whether it matches. The canonical form must agree, because
    // Calico stores and compares selectors by their printed form.
    let rows: &[EvaluationRow] = &[
        (r#"a == "b""#, &[("a", "b")], true),
        (r#"a == "b""#, &[("a", "b"), ("c", "d")], true),
        (r#"a == "b""#, &[], false),
        (r#"a == "b""#, &[("a", "c")], false),
        (r#"a == "B""#, &[("a", "b")], false),
        (r#"a == "b" && c == "d""#, &[("a", "b"), ("c", "d")], true),
        (r#"a == "b" && c == "d""#, &[("a", "b")], false),
        (r#"a == "b" || c == "d""#, &[("c", "d")], true),
        (r#"a == "b" || c == "d""#, &[("a", "e"), ("c", "e")], false),
        // A missing label is "not equal" to anything and "not in" any set.
        (r#"a != "a""#, &[], true),
        (r#"a != "b""#, &[("a", "a")], true),
        (r#"a != "a""#, &[("a", "a")], false),
        (r#"a not in {"d", "e"}"#, &[], true),
        (r#"a not in {"d", "e"}"#, &[("a", "a")], true),
        (r#"a not in {"d", "e"}"#, &[("a", "d")], false),
        (r#"a in {"'", '"', "c"}"#, &[("a", "\"")], true),
        (r#"a in {"'", '"', "c"}"#, &[("a", "'")], true),
        (r#"a in {"'", '"', "c"}"#, &[], false),
        (r#"a in {}"#, &[("a", "")], false),
        (r#"a not in {}"#, &[("a", "")], true),
        (r#"a contains "a""#, &[("a", "bab")], true),
        (r#"a contains "a""#, &[("b", "aaa")], false),
        (r#"a contains """#, &[("a", "x")], true),
        (r#"a starts with "a""#, &[("a", "abb")], true),
        (r#"a starts with "a""#, &[("a", "baa")], false),
        (r#"a ends with "a""#, &[("a", "bba")], true),
        (r#"a ends with "a""#, &[("a", "aab")], false),
        (r#"a ends with "a""#, &[], false),
        ("has(a)", &[("a", "")], true),
        ("has(a)", &[("b", "a")], false),
        ("!has(a)", &[("b", "b")], true),
        ("!!has(b)", &[("a", "b")], false),
        ("!!! has(a)", &[("a", "b")], false),
        ("! !!has(a)", &[("a", "b")], false),
        ("", &[("a", "b")], true),
        (" \t", &[], true),
        ("all()", &[], true),
        (" global()", &[("a", "b")], true),
        // `!` binds to one comparison, tighter than `&&` and `||`.
        (
            r#"!a == "a1" && b == "b1""#,
            &[("a", "a1"), ("b", "b1")],
            false,
        ),
        (
            r#"! a == 'a1' || ! b == 'b1'"#,
            &[("a", "a1"), ("b", "b1")],
            false,
        ),
        (
            r#"a == 'a1' || b != 'b1'"#,
            &[("a", "a1"), ("b", "b1")],
            true,
        ),
        ("!(!has(a) || has(b))", &[("a", "a")], true),
        ("has(a) && !has(b) || has(c)", &[("c", "")], true),
        ("has(a) && (!has(b) || has(c))", &[("c", "")], false),
        (
            "kubernetes.io/hostname == 'node-1'",
            &[("kubernetes.io/hostname", "node-1")],
            true,
        ),
        ("a == 'é'", &[("a", "é")], true),
    ];
    for (text, pairs, expected) in rows {
        let selector = parse_ok(text);
        let labels = labels(pairs);
        assert_eq!(
            selector.matches(&labels),
            *expected,
            "{text:?} on {labels:?}"
        );
        let reparsed = parse_ok(&selector.canonical());
        assert_eq!(
            reparsed.matches(&labels),
            *expected,
            "canonical form {:?} of {text:?} on {labels:?}",
            selector.canonical()
        );
    }
}

#[test]
fn canonical_form_matches_calico_string() {
    let rows = [
        ("", "all()"),
        (" all() ", "all()"),
        (" (all() )", "all()"),
        ("((((has(a)))))", "has(a)"),
        ("! (has( b)||! has(a ))", "!(has(b) || !has(a))"),
        (r#"! (a == "b"&&! c != "d")"#, r#"!(a == "b" && !c != "d")"#),
        (r#"a == "'""#, r#"a == "'""#),
        (r#"a == '"'"#, r#"a == '"'"#),
        (r#"a contains '"'"#, r#"a contains '"'"#),
        (r#"a startswith '"'"#, r#"a starts with '"'"#),
        (r#"a endswith "'""#, r#"a ends with "'""#),
        (r#"a!='"'"#, r#"a != '"'"#),
        (r#"a in {"d", "a", "b"}"#, r#"a in {"a", "b", "d"}"#),
        (
            r#"a in {"z", "z", "x", "y", "x", "a"}"#,
            r#"a in {"a", "x", "y", "z"}"#,
        ),
        (r#"a notin{'"',}"#, r#"a not in {'"'}"#),
        ("a in {}", "a in {}"),
        (
            "a == 'x' && b == 'y' && c == 'z'",
            r#"(a == "x" && b == "y" && c == "z")"#,
        ),
        (
            "a == 'x' || b == 'y' && c == 'z'",
            r#"(a == "x" || (b == "y" && c == "z"))"#,
        ),
        // Redundant negations cancel when parsed, and a negated group keeps its parentheses.
        ("!!has(a)", "has(a)"),
        ("!(k == 'v')", r#"!k == "v""#),
        (
            "!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
            r#"!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})"#,
        ),
        ("global( )", "global()"),
    ];
    for (input, expected) in rows {
        let canonical = parse_ok(input).canonical();
        assert_eq!(canonical, expected, "canonical form of {input:?}");
        assert_eq!(
            parse_ok(&canonical).canonical(),
            canonical,
            "the canonical form of {input:?} must be a fixed point"
        );
    }
}

#[test]
fn prefix_labels_renames_every_label_like_calicos_prefix_visitor() {
    let rows = [
        ("k != 'v'", r#"visited/k != "v""#),
        ("k starts with 'v'", r#"visited/k starts with "v""#),
        ("k not in {'v'}", r#"visited/k not in {"v"}"#),
        (
            "k == 'v' && x == 'y'",
            r#"(visited/k == "v" && visited/x == "y")"#,
        ),
        (
            "!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
            r#"!(!((visited/k == "v" && has(visited/t)) || all()) && visited/a in {"b", "c"})"#,
        ),
    ];
    for (input, expected) in rows {
        let mut selector = parse_ok(input);
        selector.prefix_labels("visited/");
        assert_eq!(selector.canonical(), expected, "prefixed form of {input:?}");
    }
}

#[test]
fn errors_carry_calicos_message_and_the_offending_byte_offset() {
    let long_label = "a".repeat(MAX_LABEL_LENGTH + 1);
    let too_long = format!("{long_label} == 'x'");
    let too_long_message = format!("label too long: {long_label}");
    let rows: &[(&str, &str, usize)] = &[
        // Lexical errors.
        ("label == 'value", "unterminated string", 9),
        (r#""FOO'"#, "unterminated string", 0),
        (r#"label = "value""#, "expected ==", 6),
        ("thing=hello &", "expected ==", 5),
        (r#"foo == "bar" &"#, "expected &&", 13),
        (r#"a == "b" | has(foo)"#, "expected ||", 9),
        ("all(", "no closing ')' after all(", 4),
        ("global( x", "no closing ')' after global(", 8),
        ("has( foo ", "no closing ')' after has(", 9),
        ("has()", "expected identifier", 4),
        ("%", "expected identifier", 0),
        (r#"a == "b" && %"#, "expected identifier", 12),
        ("é", "expected identifier", 0),
        // A newline is not whitespace to Calico.
        ("a == 'b'\n", "expected identifier", 8),
        ("a b", r#"expected operator after label "a""#, 2),
        (
            "label ends withs 'v'",
            r#"expected operator after label "label""#,
            6,
        ),
        (
            "label inf 'v'",
            r#"expected operator after label "label""#,
            6,
        ),
        // The multi-word operators need a word boundary after the trailing whitespace too.
        ("a starts with x", r#"expected operator after label "a""#, 2),
        (&too_long, &too_long_message, 0),
        // Grammar errors.
        ("b", "unexpected end of string looking for op", 1),
        ("a ", "unexpected end of string looking for op", 2),
        ("all", "unexpected end of string looking for op", 3),
        ("b == b", "expected string", 5),
        ("a contains x", "expected string", 11),
        ("foo != ||", "expected string", 7),
        (r#"foo in """#, "expected set literal", 7),
        (r#"foo in {"", ||"#, "expected }", 12),
        ("foo in {,}", "expected }", 8),
        ("a (", "expected == or != not: TokLParen()", 2),
        ("has (x)", "expected == or != not: TokLParen()", 4),
        ("a 'x'", "expected == or != not: TokStringLiteral(x)", 2),
        ("'b1' == b", "unexpected token: TokStringLiteral(b1)", 0),
        ("!", "unexpected token: TokEOF()", 1),
        ("(", "unexpected token: TokEOF()", 1),
        (")", "unexpected token: TokRParen()", 0),
        ("()", "unexpected token: TokRParen()", 1),
        ("has(foo) &&", "unexpected token: TokEOF()", 11),
        (r#"(a == "foo""#, "expected )", 11),
        (
            r#"a == "b" c"#,
            "unexpected content at end of selector [TokLabel(c) TokEOF()]",
            9,
        ),
        (
            "has(x) has(y)",
            "unexpected content at end of selector [TokHas(y) TokEOF()]",
            7,
        ),
        (
            "all() )",
            "unexpected content at end of selector [TokRParen() TokEOF()]",
            6,
        ),
    ];
    for (text, message, offset) in rows {
        let error = parse_err(text);
        assert_eq!(
            (error.message.as_str(), error.offset),
            (*message, *offset),
            "error for {text:?}"
        );
        assert_eq!(
            error.to_string(),
            *message,
            "Display of the error for {text:?}"
        );
    }
}

#[test]
fn a_label_of_exactly_the_maximum_length_is_accepted() {
    let text = format!("{} == 'x'", "a".repeat(MAX_LABEL_LENGTH));
    parse_ok(&text);
}

#[test]
fn tokenizer_matches_calicos_token_stream() {
    // Operator keywords are only keywords right after a label, and multi-word ones may be run
    // together; everything else word-like is a label.
    use TokenKind::*;
    let rows: &[(&str, &[(TokenKind, &str)])] = &[
        (
            "contains contains 'contains'",
            &[
                (Label, "contains"),
                (Contains, ""),
                (StringLiteral, "contains"),
            ],
        ),
        (
            "endswith ends  with\"v\"",
            &[(Label, "endswith"), (EndsWith, ""), (StringLiteral, "v")],
        ),
        (
            r#"a notin"bar"&&!has(foo)||b in"c""#,
            &[
                (Label, "a"),
                (NotIn, ""),
                (StringLiteral, "bar"),
                (And, ""),
                (Not, ""),
                (Has, "foo"),
                (Or, ""),
                (Label, "b"),
                (In, ""),
                (StringLiteral, "c"),
            ],
        ),
        (
            "a not in {} != ,",
            &[
                (Label, "a"),
                (NotIn, ""),
                (LBrace, ""),
                (RBrace, ""),
                (Ne, ""),
                (Comma, ""),
            ],
        ),
        ("has( calico/k8s_ns )", &[(Has, "calico/k8s_ns")]),
        ("all( ) global()", &[(All, ""), (Global, "")]),
        ("(a)", &[(LParen, ""), (Label, "a"), (RParen, "")]),
    ];
    for (text, expected) in rows {
        let tokens = match tokenize(text) {
            Ok(tokens) => tokens,
            Err(e) => panic!("{text:?} should tokenize but failed: {e:?}"),
        };
        let mut kinds: Vec<(TokenKind, &str)> = tokens.iter().map(|t| (t.kind, t.value)).collect();
        assert_eq!(kinds.pop(), Some((Eof, "")), "{text:?} must end with EOF");
        assert_eq!(kinds, *expected, "tokens of {text:?}");
    }
}

#[test]
fn selects_treats_an_empty_selector_as_match_all_and_reports_parse_errors() {
    let east = labels(&[("region", "east")]);
    assert_eq!(selects("", &east), Ok(true));
    assert_eq!(selects("", &Labels::new()), Ok(true));
    assert_eq!(selects(r#"region == "east""#, &east), Ok(true));
    assert_eq!(selects(r#"region == "east""#, &Labels::new()), Ok(false));
    // A namespace Calico cannot read is evaluated with no labels, so negative tests match.
    assert_eq!(selects("!has(region)", &Labels::new()), Ok(true));
    assert!(selects("region == ", &east).is_err());
    assert!(selects(r#"region === "east""#, &east).is_err());
}

#[test]
fn nesting_up_to_the_limit_parses_and_deeper_nesting_is_an_error() {
    let nested = |depth: usize| format!("{}has(a){}", "(".repeat(depth), ")".repeat(depth));
    let at_limit = parse_ok(&nested(MAX_NESTING));
    assert!(at_limit.matches(&labels(&[("a", "")])));
    assert_eq!(at_limit.canonical(), "has(a)");

    let error = parse_err(&nested(MAX_NESTING + 1));
    assert_eq!(error.offset, MAX_NESTING);
    assert!(error.message.contains("nested too deeply"), "{error:?}");
}

#[test]
fn hostile_input_is_rejected_or_handled_without_exhausting_the_stack() {
    // Deep nesting must stop at the limit rather than recurse 100k times.
    let error = parse_err(&"(".repeat(100_000));
    assert!(error.message.contains("nested too deeply"), "{error:?}");
    let error = parse_err(&"!(".repeat(100_000));
    assert!(error.message.contains("nested too deeply"), "{error:?}");

    // Long flat chains and runs of `!` are iterative, so they are simply valid.
    let negations = format!("{}has(a)", "!".repeat(100_001));
    assert!(!parse_ok(&negations).matches(&labels(&[("a", "")])));
    let chain = vec!["a == 'x'"; 50_000].join(" && ");
    let selector = parse_ok(&chain);
    assert!(selector.matches(&labels(&[("a", "x")])));
    assert_eq!(parse_ok(&selector.canonical()), selector);

    // Arbitrary bytes never panic.
    for text in [
        "\u{0}",
        "a == '\u{1F600}'",
        "a in {'x'",
        "has(",
        "!=",
        "{}",
        "a in",
        "\"",
    ] {
        let _ = Selector::parse(text);
    }
}

#[test]
fn the_deepest_tree_the_limit_allows_is_evaluated_printed_and_reparsed() {
    // Every level adds an `||`, an `&&` and a `!` node, the most the grammar allows per written
    // parenthesis, so this is the deepest tree a selector can produce; the recursive walks over
    // it must fit comfortably in a test thread's stack. Its canonical form prints two groups
    // per level, and that form must parse again, so the limit counts printed groups too.
    let with_levels = |levels: usize| {
        format!(
            "{}has(x){}",
            "has(a) || has(b) && !(".repeat(levels),
            ")".repeat(levels)
        )
    };
    let levels = MAX_NESTING / 2;
    let selector = parse_ok(&with_levels(levels));
    let copy = selector.clone();
    assert_eq!(copy, selector);
    assert!(selector.matches(&labels(&[("a", "")])));
    // With `b` but no `a`, each level negates the one inside it, so the result alternates.
    let with_b_and_x = labels(&[("b", ""), ("x", "")]);
    assert_eq!(selector.matches(&with_b_and_x), levels % 2 == 0);
    let reparsed = parse_ok(&selector.canonical());
    assert_eq!(reparsed.canonical(), selector.canonical());
    assert!(!format!("{selector:?}").is_empty());

    // One more level would print more than the limit; the outermost `&&` chain, which starts
    // after `has(a) || `, is where that happens.
    let error = parse_err(&with_levels(levels + 1));
    assert!(error.message.contains("nested too deeply"), "{error:?}");
    assert_eq!(error.offset, "has(a) || ".len());
}
