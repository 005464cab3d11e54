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
}

impl<'a> Source<'a> {
    pub fn new(name: Option<&'a str>, text: &'a str) -> Source<'a> {
        Source { name, text }
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
