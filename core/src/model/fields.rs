//! Field values that remember where they were written, and the reader that turns a document's
//! YAML nodes into typed fields.
//!
//! A field of the wrong type never stops the build: the reader reports it as a located `schema`
//! diagnostic (with the text kube-apiserver prints for the same mistake) and treats the field as
//! absent, so one typo does not hide every other finding about the resource.

use std::collections::HashMap;
use std::fmt;

use crate::diagnostic::{Diagnostic, ResourceRef};
use crate::manifest::Document;
use crate::yaml::{Node, Pos};

/// A value together with the position of the YAML node it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    /// Where the node starts.
    pub pos: Pos,
    /// Where the node ends (exclusive), so a fix can replace exactly its text.
    pub end: Pos,
}

impl<T> Spanned<T> {
    /// A value with a start position only (its end is unknown and set equal to the start).
    pub fn new(value: T, pos: Pos) -> Spanned<T> {
        Spanned {
            value,
            pos,
            end: pos,
        }
    }

    /// A value read from `node`, spanning all of it.
    pub fn of(value: T, node: &Node) -> Spanned<T> {
        Spanned {
            value,
            pos: node.pos,
            end: node.end,
        }
    }
}

impl Spanned<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

/// Where a resource came from: enough to place and attribute any diagnostic about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: Option<String>,
    pub api_version: String,
    pub kind: String,
    pub resource: ResourceRef,
    /// The position of the document itself.
    pub pos: Pos,
}

impl Origin {
    pub fn of(doc: &Document) -> Origin {
        Origin {
            file: doc.file.clone(),
            api_version: doc.api_version.clone(),
            kind: doc.kind.clone(),
            resource: doc.resource(),
            pos: doc.pos,
        }
    }

    /// Places `diagnostic` at `pos` in this resource's file and names the resource.
    pub fn locate(&self, diagnostic: Diagnostic, pos: Pos) -> Diagnostic {
        diagnostic
            .at(self.file.as_deref(), pos)
            .about(self.resource.clone())
    }

    /// The API group of the apiVersion (`projectcalico.org` for `projectcalico.org/v3`).
    pub fn group(&self) -> &str {
        self.api_version
            .split_once('/')
            .map_or("", |(group, _)| group)
    }
}

/// Which API a Calico resource was written against. Both carry the same spec fields; they differ in
/// who validates a write (spec §1.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApiGroup {
    /// `projectcalico.org/v3`: written through calicoctl or the Calico API server (or the v3 CRDs).
    ProjectCalicoV3,
    /// `crd.projectcalico.org/v1`: the backing CRDs, normally written with `kubectl`.
    CrdV1,
    /// Anything else (including no apiVersion at all); treated like v3.
    Other,
}

impl ApiGroup {
    pub fn of(api_version: &str) -> ApiGroup {
        match api_version {
            "projectcalico.org/v3" => ApiGroup::ProjectCalicoV3,
            "crd.projectcalico.org/v1" => ApiGroup::CrdV1,
            _ => ApiGroup::Other,
        }
    }
}

/// Reads typed fields out of one document, collecting `schema` diagnostics for wrong types.
pub(crate) struct Reader<'o> {
    origin: &'o Origin,
    pub diagnostics: Vec<Diagnostic>,
}

/// The JSON type name Kubernetes uses in its schema errors.
fn k8s_type_name(node: &Node) -> &'static str {
    match node.type_name() {
        "list" => "array",
        other => other,
    }
}

/// The YAML 1.1 booleans (`yes`, `off`, …) that `kubectl` still reads as booleans, for a plain
/// (unquoted) scalar.
fn yaml_1_1_bool(node: &Node) -> Option<bool> {
    match &node.value {
        crate::yaml::Value::Scalar(scalar) if !scalar.quoted => match scalar.text.as_str() {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Joins a field path the way Kubernetes prints it (`spec.blockSize`).
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl<'o> Reader<'o> {
    pub fn new(origin: &'o Origin) -> Reader<'o> {
        Reader {
            origin,
            diagnostics: Vec::new(),
        }
    }

    /// Reports that the node at `path` should have been of type `expected`.
    pub fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        let found = node.type_name();
        let article = if expected.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        let diagnostic = Diagnostic::error(
            "schema",
            format!("`{path}` must be {article} {expected}, but it is a {found}"),
        )
        .calico(format!(
            "{path}: Invalid value: \"{given}\": {path} in body must be of type {expected}: \"{given}\"",
            given = k8s_type_name(node),
        ));
        self.diagnostics
            .push(self.origin.locate(diagnostic, node.pos));
    }

    /// Reports a value that has the right type but cannot be what it claims to be.
    pub fn invalid(&mut self, pos: Pos, message: String) {
        self.diagnostics.push(
            self.origin
                .locate(Diagnostic::error("schema", message), pos),
        );
    }

    /// A present, non-null child of `parent`.
    pub fn child<'n>(parent: &'n Node, key: &str) -> Option<&'n Node> {
        parent.get(key).filter(|node| !node.is_null())
    }

    /// An object field; absent or null is `None`, any other type is a schema error.
    pub fn object<'n>(&mut self, parent: &'n Node, key: &str, path: &str) -> Option<&'n Node> {
        let node = Reader::child(parent, key)?;
        if node.as_map().is_some() {
            Some(node)
        } else {
            self.wrong_type(node, &join(path, key), "object");
            None
        }
    }

    pub fn string(&mut self, parent: &Node, key: &str, path: &str) -> Option<Spanned<String>> {
        let node = Reader::child(parent, key)?;
        self.string_node(node, || join(path, key))
    }

    /// `node` as a string. Its path is written out only for the diagnostic: most fields are
    /// strings, and building it for each would cost an allocation per field read.
    pub fn string_node(
        &mut self,
        node: &Node,
        path: impl FnOnce() -> String,
    ) -> Option<Spanned<String>> {
        match node.as_str() {
            Some(text) => Some(Spanned::of(text.to_owned(), node)),
            None => {
                self.wrong_type(node, &path(), "string");
                None
            }
        }
    }

    pub fn boolean(&mut self, parent: &Node, key: &str, path: &str) -> Option<Spanned<bool>> {
        let node = Reader::child(parent, key)?;
        match node.as_bool().or_else(|| yaml_1_1_bool(node)) {
            Some(value) => Some(Spanned::of(value, node)),
            None => {
                self.wrong_type(node, &join(path, key), "boolean");
                None
            }
        }
    }

    pub fn integer(&mut self, parent: &Node, key: &str, path: &str) -> Option<Spanned<i64>> {
        let node = Reader::child(parent, key)?;
        match node.as_i64() {
            Some(value) => Some(Spanned::of(value, node)),
            None => {
                self.wrong_type(node, &join(path, key), "integer");
                None
            }
        }
    }

    /// A list of strings; wrong-typed items are reported and skipped.
    pub fn string_list(
        &mut self,
        parent: &Node,
        key: &str,
        path: &str,
    ) -> Option<Spanned<Vec<Spanned<String>>>> {
        let node = Reader::child(parent, key)?;
        let path = join(path, key);
        let Some(items) = node.as_seq() else {
            self.wrong_type(node, &path, "array");
            return None;
        };
        let values = items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| self.string_node(item, || format!("{path}[{index}]")))
            .collect();
        Some(Spanned::of(values, node))
    }

    /// A map of strings to strings (labels, annotations, ConfigMap data), in written order.
    pub fn string_map(
        &mut self,
        parent: &Node,
        key: &str,
        path: &str,
    ) -> Vec<(Spanned<String>, Spanned<String>)> {
        let Some(node) = self.object(parent, key, path) else {
            return Vec::new();
        };
        let path = join(path, key);
        let mut entries: Vec<(Spanned<String>, Spanned<String>)> = Vec::new();
        let mut index_of: HashMap<String, usize> = HashMap::new();
        for (k, v) in node.as_map().unwrap_or_default() {
            let Some(name) = k.scalar_text() else {
                self.wrong_type(k, &path, "string");
                continue;
            };
            let value = if v.is_null() {
                // Kubernetes decodes a null map value as the empty string.
                Some(Spanned::of(String::new(), v))
            } else {
                self.string_node(v, || join(&path, name))
            };
            if let Some(value) = value {
                let entry = (Spanned::of(name.to_owned(), k), value);
                // A repeated key keeps its last value, as Kubernetes' decoders do.
                match index_of.get(name) {
                    Some(&index) => {
                        if let Some(slot) = entries.get_mut(index) {
                            *slot = entry;
                        }
                    }
                    None => {
                        index_of.insert(name.to_owned(), entries.len());
                        entries.push(entry);
                    }
                }
            }
        }
        entries
    }
}
