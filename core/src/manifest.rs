//! From input texts to Kubernetes documents: every YAML/JSON document (and every item of a
//! `kind: List`) with its kind, name, namespace and position.

use serde::Serialize;

use crate::diagnostic::{Diagnostic, ResourceRef};
use crate::yaml::{self, Node, Pos};

/// One input text, named as the user knows it (a path, `-`, or a tab name in the page).
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    pub name: Option<&'a str>,
    pub text: &'a str,
    /// Where the bytes the text was read from stopped being UTF-8 (see [`text_from_bytes`]).
    pub invalid_utf8_at: Option<usize>,
}

impl<'a> Source<'a> {
    pub fn new(name: Option<&'a str>, text: &'a str) -> Source<'a> {
        Source {
            name,
            text,
            invalid_utf8_at: None,
        }
    }

    /// The source of a text [`text_from_bytes`] made, with the offset it returned.
    pub fn with_invalid_utf8_at(self, at: Option<usize>) -> Source<'a> {
        Source {
            invalid_utf8_at: at,
            ..self
        }
    }
}

/// The text of bytes read from a file or a pipe. Bytes that are not UTF-8 become U+FFFD so that
/// the rest can still be checked; the byte offset of the first of them is returned too, so that
/// [`parse`] reports the spot: kubectl refuses the whole file.
pub fn text_from_bytes(bytes: Vec<u8>) -> (String, Option<usize>) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            (
                String::from_utf8_lossy(error.as_bytes()).into_owned(),
                Some(at),
            )
        }
    }
}

/// The line and column (in characters, as the YAML parser counts) of a byte offset of `text`.
fn pos_of_offset(text: &str, offset: usize) -> Pos {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let saturate = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Pos {
        line: saturate(before.matches('\n').count().saturating_add(1)),
        column: saturate(before[line_start..].chars().count().saturating_add(1)),
    }
}

/// One Kubernetes document.
#[derive(Clone, Debug)]
pub struct Document {
    pub file: Option<String>,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub pos: Pos,
    pub node: Node,
}

impl Document {
    pub fn resource(&self) -> ResourceRef {
        ResourceRef {
            kind: self.kind.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
        }
    }

    /// A diagnostic about this document, located at `node` (or the document itself).
    pub fn locate(&self, diagnostic: Diagnostic, node: Option<&Node>) -> Diagnostic {
        let pos = node.map_or(self.pos, |n| n.pos);
        diagnostic
            .at(self.file.as_deref(), pos)
            .about(self.resource())
    }
}

/// What the page and `check` list for each parsed resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceSummary {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub file: Option<String>,
    pub line: u32,
}

impl From<&Document> for ResourceSummary {
    fn from(doc: &Document) -> ResourceSummary {
        ResourceSummary {
            kind: doc.kind.clone(),
            name: doc.name.clone(),
            namespace: doc.namespace.clone(),
            file: doc.file.clone(),
            line: doc.pos.line,
        }
    }
}

/// Reads every document of every source. Syntax errors become `yaml-syntax` diagnostics and
/// documents that are not Kubernetes objects become `schema` diagnostics; nothing panics.
pub fn parse(sources: &[Source<'_>]) -> (Vec<Document>, Vec<Diagnostic>) {
    let mut documents = Vec::new();
    let mut diagnostics = Vec::new();
    for source in sources {
        if let Some(at) = source.invalid_utf8_at {
            diagnostics.push(
                Diagnostic::error(
                    "yaml-syntax",
                    "invalid YAML: this byte is not UTF-8, so kubectl refuses the file (the planner reads bad bytes as U+FFFD and checks the rest)",
                )
                .at(source.name, pos_of_offset(source.text, at)),
            );
        }
        let (yaml_docs, error) = yaml::parse_documents(source.text);
        for doc in yaml_docs {
            collect(source.name, doc.root, &mut documents, &mut diagnostics);
        }
        if let Some(err) = error {
            diagnostics.push(
                Diagnostic::error("yaml-syntax", format!("invalid YAML: {}", err.message))
                    .at(source.name, err.pos),
            );
        }
    }
    (documents, diagnostics)
}

fn collect(
    file: Option<&str>,
    root: Node,
    documents: &mut Vec<Document>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if root.is_null() {
        return; // An empty document, such as a trailing `---`.
    }
    if root.as_map().is_none() {
        diagnostics.push(
            Diagnostic::error(
                "schema",
                format!(
                    "a manifest document must be an object, found a {}",
                    root.type_name()
                ),
            )
            .at(file, root.pos),
        );
        return;
    }
    let Some(kind) = root.get("kind").and_then(Node::as_str).map(str::to_owned) else {
        let pos = root.get("kind").map_or(root.pos, |k| k.pos);
        diagnostics.push(Diagnostic::error("schema", "the document has no `kind`").at(file, pos));
        return;
    };
    if kind == "List" || kind.ends_with("List") && root.get("items").is_some() {
        match root.get("items").map(|items| (items, items.as_seq())) {
            Some((_, Some(items))) => {
                for item in items {
                    collect(file, item.clone(), documents, diagnostics);
                }
            }
            Some((items, None)) if !items.is_null() => diagnostics.push(
                Diagnostic::error("schema", format!("`items` of a {kind} must be a list"))
                    .at(file, items.pos),
            ),
            _ => {}
        }
        return;
    }
    let text_at = |path: &[&str]| root.at(path).and_then(Node::scalar_text).map(str::to_owned);
    documents.push(Document {
        file: file.map(str::to_owned),
        api_version: text_at(&["apiVersion"]).unwrap_or_default(),
        name: text_at(&["metadata", "name"]).unwrap_or_default(),
        namespace: text_at(&["metadata", "namespace"]),
        kind,
        pos: root.pos,
        node: root,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_located_in_characters_and_the_rest_is_read() {
        // "é" is two bytes but one column: the bad byte 0xff is at byte 35, line 2, column 19.
        let bytes = b"kind: Namespace\nmetadata: {name: \xc3\xa9\xff}\n".to_vec();
        let (text, at) = text_from_bytes(bytes);
        assert_eq!(at, Some(35));
        let source = Source::new(Some("x.yaml"), &text).with_invalid_utf8_at(at);
        let (docs, diags) = parse(&[source]);
        assert_eq!(docs.len(), 1);
        let syntax: Vec<_> = diags.iter().filter(|d| d.code == "yaml-syntax").collect();
        assert_eq!(syntax.len(), 1, "{diags:?}");
        assert_eq!((syntax[0].line, syntax[0].column), (Some(2), Some(19)));
        assert_eq!(text_from_bytes(b"ok".to_vec()), ("ok".to_owned(), None));
    }

    #[test]
    fn lists_documents_and_list_items() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: a, namespace: ns}\n---\nkind: Namespace\nmetadata:\n  name: ns\n";
        let (docs, diags) = parse(&[Source::new(Some("x.yaml"), text)]);
        assert!(diags.is_empty(), "{diags:?}");
        let names: Vec<_> = docs
            .iter()
            .map(|d| (d.kind.as_str(), d.name.as_str(), d.pos.line))
            .collect();
        assert_eq!(names, [("Pod", "a", 4), ("Namespace", "ns", 7)]);
        assert_eq!(docs[0].namespace.as_deref(), Some("ns"));
    }

    #[test]
    fn reports_missing_kind_and_bad_yaml() {
        let (_, diags) = parse(&[Source::new(None, "metadata: {}\n---\nkind: [\n")]);
        let codes: Vec<_> = diags.iter().map(|d| (d.code, d.line)).collect();
        assert_eq!(codes[0], ("schema", Some(1)));
        assert_eq!(codes[1].0, "yaml-syntax");
    }
}
