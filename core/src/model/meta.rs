//! `metadata`: name, namespace, labels and annotations, each with its position.

use crate::selector::Labels;
use crate::yaml::{Node, Pos};

use super::fields::{Reader, Spanned};

/// A resource's `metadata`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// Where `metadata` is written; `None` when the document has none.
    pub pos: Option<Pos>,
    pub name: Option<Spanned<String>>,
    pub namespace: Option<Spanned<String>>,
    /// Labels in written order (a repeated key keeps its last value).
    pub labels: Vec<(Spanned<String>, Spanned<String>)>,
    /// Annotations in written order, values raw as written.
    pub annotations: Vec<(Spanned<String>, Spanned<String>)>,
}

impl Meta {
    /// Reads the `metadata` object found at `path` under `parent` (`metadata` of a document, or of
    /// a pod template).
    pub(crate) fn read(reader: &mut Reader<'_>, parent: &Node, path: &str) -> Meta {
        let Some(node) = reader.object(parent, "metadata", path) else {
            return Meta::default();
        };
        let path = super::fields::join(path, "metadata");
        Meta {
            pos: Some(node.pos),
            name: reader.string(node, "name", &path),
            namespace: reader.string(node, "namespace", &path),
            labels: reader.string_map(node, "labels", &path),
            annotations: reader.string_map(node, "annotations", &path),
        }
    }

    /// The name, or "" when there is none.
    pub fn name(&self) -> &str {
        self.name.as_ref().map_or("", Spanned::as_str)
    }

    pub fn labels(&self) -> Labels {
        self.labels
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect()
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| v.as_str())
    }

    /// An annotation's value with its position.
    pub fn annotation(&self, key: &str) -> Option<&Spanned<String>> {
        self.annotations
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| v)
    }
}
