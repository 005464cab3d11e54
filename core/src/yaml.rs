//! A span-aware YAML (and so JSON) tree, built from `saphyr-parser` events.
//!
//! Every node keeps the position where it starts, so each later diagnostic can point at
//! the exact YAML node it is about. The builder is iterative and bounded: nesting depth,
//! alias expansion and document count are capped, so hostile input ends in a located
//! `yaml-syntax` error instead of a stack overflow, a hang or an exhausted memory.

use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};

/// A 1-based line and column in one input text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    fn from_marker(marker: &saphyr_parser::Marker) -> Pos {
        Pos {
            line: saturate(marker.line()),
            column: saturate(marker.col() + 1),
        }
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One YAML node with the position of its first character and of the character after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
    /// Where the node ends (exclusive): lets a fix replace exactly this node's text.
    pub end: Pos,
}

/// The shape of a node. Scalars keep their source text; their type is resolved on demand by
/// the accessors below, with the YAML 1.2 core schema (which JSON also follows).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scalar {
    pub text: String,
    /// True for quoted and block scalars: their text is always a string, never a number,
    /// boolean or null.
    pub quoted: bool,
}

impl Node {
    /// The value under `key` in a mapping (the last one, as Kubernetes' decoders keep).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a path of mapping keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// True for an explicit or implicit YAML null (`~`, `null`, or nothing at all).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s) if !s.quoted && is_null_text(&s.text))
    }

    /// The text of a scalar that resolves to a string (not null, bool or number).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) if s.quoted => Some(&s.text),
            Value::Scalar(s)
                if !is_null_text(&s.text)
                    && parse_bool(&s.text).is_none()
                    && parse_int(&s.text).is_none()
                    && !is_float(&s.text) =>
            {
                Some(&s.text)
            }
            _ => None,
        }
    }

    /// The source text of any non-null scalar, whatever type it resolves to.
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) if s.quoted || !is_null_text(&s.text) => Some(&s.text),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar(s) if !s.quoted => parse_bool(&s.text),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match &self.value {
            Value::Scalar(s) if !s.quoted => parse_int(&s.text),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// A short name of the node's type for schema messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Seq(_) => "list",
            Value::Map(_) => "object",
            Value::Scalar(_) if self.is_null() => "null",
            Value::Scalar(_) if self.as_bool().is_some() => "boolean",
            Value::Scalar(_) if self.as_i64().is_some() => "integer",
            Value::Scalar(s) if !s.quoted && is_float(&s.text) => "number",
            Value::Scalar(_) => "string",
        }
    }

    /// Converts the tree to JSON, resolving scalar types with the core schema.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.scalar_text().unwrap_or("").to_owned(), v.to_json()))
                    .collect(),
            ),
            Value::Scalar(_) if self.is_null() => J::Null,
            Value::Scalar(s) => {
                if let Some(b) = self.as_bool() {
                    J::Bool(b)
                } else if let Some(i) = self.as_i64() {
                    J::from(i)
                } else if let Some(f) = (!s.quoted).then(|| parse_float(&s.text)).flatten() {
                    serde_json::Number::from_f64(f).map_or(J::Null, J::Number)
                } else {
                    J::String(s.text.clone())
                }
            }
        }
    }
}

fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Whether `parse_float` reads `text` as a number, decided by the syntax alone: `.inf`/`.nan`
/// or Rust's float grammar, `[+-]? (d+ | d+ '.' d* | d* '.' d+) ([eE] [+-]? d+)?`, which
/// `str::parse` accepts whatever the magnitude. Only `to_json` needs the value; the checks that
/// need just the type use this, so the site carries no float parser (its tables are 7 KB
/// gzipped).
fn is_float(text: &str) -> bool {
    if matches!(
        text,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN"
    ) {
        return true;
    }
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut count = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        count += digits(&mut i);
    }
    if count == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn parse_float(text: &str) -> Option<f64> {
    let looks_numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        _ if looks_numeric => text.parse().ok(),
        _ => None,
    }
}

/// A YAML document of one input text.
#[derive(Clone, Debug)]
pub struct YamlDocument {
    pub root: Node,
}

/// Why a text could not be read as YAML, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.pos.line, self.pos.column, self.message)
    }
}

/// Bounds that keep hostile input cheap.
pub const MAX_DEPTH: usize = 128;
/// The most nodes that alias expansion may add across one text ("billion laughs" guard).
pub const MAX_ALIAS_NODES: usize = 1_000_000;

/// Parses every document of `text`. Documents before a syntax error are kept, so a mistake in
/// the last document does not hide what came before it.
pub fn parse_documents(text: &str) -> (Vec<YamlDocument>, Option<SyntaxError>) {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_event() {
            None => break,
            Some(Ok((event, span))) => {
                if let Err(err) = builder.on_event(event, span) {
                    return (builder.documents, Some(err));
                }
            }
            Some(Err(err)) => return (builder.documents, Some(scan_error(&err))),
        }
    }
    (builder.documents, None)
}

fn scan_error(err: &ScanError) -> SyntaxError {
    let marker = err.marker();
    SyntaxError {
        pos: Pos {
            line: saturate(marker.line()),
            column: saturate(marker.col() + 1),
        },
        // The scanner has its own, deeper limit on flow nesting (`[[[[...`), which it reaches
        // before the builder sees the events; say what it means in the builder's words.
        message: if err.info() == "recursion limit exceeded" {
            format!("nesting deeper than {MAX_DEPTH} levels")
        } else {
            err.info().to_owned()
        },
    }
}

enum Frame {
    Seq(Node),
    Map { node: Node, key: Option<Node> },
}

#[derive(Default)]
struct Builder {
    documents: Vec<YamlDocument>,
    stack: Vec<(Frame, usize)>,
    anchors: Vec<(usize, Node)>,
    alias_nodes: usize,
}

impl Builder {
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<(), SyntaxError> {
        let pos = Pos::from_marker(&span.start);
        let end = Pos::from_marker(&span.end);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => Ok(()),
            Event::DocumentStart(_) => {
                self.anchors.clear();
                Ok(())
            }
            Event::DocumentEnd => Ok(()),
            Event::Scalar(text, style, anchor, _tag) => {
                let node = Node {
                    value: Value::Scalar(Scalar {
                        text: text.into_owned(),
                        quoted: style != ScalarStyle::Plain,
                    }),
                    pos,
                    end,
                };
                self.finish(node, anchor, pos)
            }
            Event::SequenceStart(anchor, _) => self.open(
                Frame::Seq(Node {
                    value: Value::Seq(Vec::new()),
                    pos,
                    end,
                }),
                anchor,
                pos,
            ),
            Event::MappingStart(anchor, _) => self.open(
                Frame::Map {
                    node: Node {
                        value: Value::Map(Vec::new()),
                        pos,
                        end,
                    },
                    key: None,
                },
                anchor,
                pos,
            ),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((frame, anchor)) = self.stack.pop() else {
                    return Ok(());
                };
                let mut node = match frame {
                    Frame::Seq(node) => node,
                    Frame::Map { node, .. } => node,
                };
                node.end = end;
                self.finish(node, anchor, pos)
            }
            Event::Alias(id) => {
                let Some(target) = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n)
                else {
                    return Err(SyntaxError {
                        pos,
                        message: "alias refers to an unknown anchor".into(),
                    });
                };
                self.alias_nodes = self.alias_nodes.saturating_add(count_nodes(target));
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(SyntaxError {
                        pos,
                        message: format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing to expand them (alias bomb?)"
                        ),
                    });
                }
                let mut copy = target.clone();
                copy.pos = pos;
                copy.end = end;
                self.finish(copy, 0, pos)
            }
        }
    }

    fn open(&mut self, frame: Frame, anchor: usize, pos: Pos) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError {
                pos,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        self.stack.push((frame, anchor));
        Ok(())
    }

    /// Attaches a completed node to its parent, or ends the document when it is the root.
    fn finish(&mut self, node: Node, anchor: usize, _pos: Pos) -> Result<(), SyntaxError> {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
        match self.stack.last_mut() {
            None => self.documents.push(YamlDocument { root: node }),
            Some((Frame::Seq(seq), _)) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some((Frame::Map { node: map, key }, _)) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    if let Value::Map(entries) = &mut map.value {
                        entries.push((k, node));
                    }
                }
            },
        }
        Ok(())
    }
}

fn count_nodes(node: &Node) -> usize {
    // An explicit stack: a deep tree must not overflow ours.
    let mut count = 0usize;
    let mut pending = vec![node];
    while let Some(n) = pending.pop() {
        count += 1;
        match &n.value {
            Value::Scalar(_) => {}
            Value::Seq(items) => pending.extend(items.iter()),
            Value::Map(entries) => pending.extend(entries.iter().flat_map(|(k, v)| [k, v])),
        }
    }
    count
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_float_agrees_with_parse_float() {
        let mut cases: Vec<String> = [
            "",
            ".",
            "+",
            "-",
            "e",
            "1",
            "-1",
            "+1",
            "1.",
            ".5",
            "-.5",
            "+.5",
            "1.5",
            "1e5",
            "1E5",
            "1e+5",
            "1e-5",
            "1e",
            "1e+",
            "e5",
            ".e5",
            "1.e5",
            ".5e5",
            "1.5.2",
            "--1",
            "+-1",
            "1-",
            "1e5e5",
            "1ee5",
            "1e5.0",
            "00.00",
            "1e400",
            "-1e400",
            "1e-400",
            "123456789012345678901234567890",
            ".inf",
            "-.inf",
            "+.inf",
            ".nan",
            ".NaN",
            "+.Inf",
            "-.nan",
            "inf",
            "nan",
            "infinity",
            "1_000",
            "0x10",
            " 1",
            "1 ",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every string of up to four characters over the alphabet the grammar uses.
        let alphabet = ['1', '.', '-', '+', 'e', 'E'];
        let mut frontier = vec![String::new()];
        for _ in 0..4 {
            frontier = frontier
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            cases.extend(frontier.iter().cloned());
        }
        for case in &cases {
            assert_eq!(
                super::is_float(case),
                super::parse_float(case).is_some(),
                "{case:?}"
            );
        }
    }

    use super::*;

    #[test]
    fn keeps_positions_and_types() {
        let (docs, err) = parse_documents("a: 1\nb:\n  - 'x'\n  - true\n---\nc: ~\n");
        assert!(err.is_none());
        assert_eq!(docs.len(), 2);
        let b = docs[0].root.get("b").unwrap();
        assert_eq!(b.pos, Pos { line: 3, column: 3 });
        assert_eq!(b.as_seq().unwrap()[0].as_str(), Some("x"));
        assert_eq!(b.as_seq().unwrap()[1].as_bool(), Some(true));
        assert_eq!(docs[0].root.get("a").unwrap().as_i64(), Some(1));
        assert!(docs[1].root.get("c").unwrap().is_null());
    }

    #[test]
    fn scalar_ends_are_exact() {
        let (docs, _) = parse_documents("a: hello\nb: 'x y'\n");
        let a = docs[0].root.get("a").unwrap();
        assert_eq!((a.pos.column, a.end.line, a.end.column), (4, 1, 9));
        let b = docs[0].root.get("b").unwrap();
        assert_eq!((b.pos.column, b.end.column), (4, 9));
    }

    #[test]
    fn reads_json() {
        let (docs, err) = parse_documents(r#"{"kind": "Pod", "n": [1, "2"]}"#);
        assert!(err.is_none());
        assert_eq!(docs[0].root.get("kind").unwrap().as_str(), Some("Pod"));
    }

    #[test]
    fn locates_syntax_errors() {
        let (docs, err) = parse_documents("a: 1\n---\nb: [1, 2\n");
        assert_eq!(docs.len(), 1);
        let err = err.unwrap();
        assert!(err.pos.line >= 3, "{err}");
    }

    #[test]
    fn refuses_alias_bombs() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let (_, err) = parse_documents(&text);
        assert!(err.unwrap().message.contains("alias"));
    }

    #[test]
    fn refuses_deep_nesting() {
        let text = "[".repeat(10_000);
        let (_, err) = parse_documents(&text);
        assert!(err.is_some());
    }
}
