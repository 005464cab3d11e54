//! An IPPool object as a datastore holds it: the resource ([`IpPool`], spec exactly as stored)
//! plus the bookkeeping Calico's write paths look at (resource version, UID, timestamps,
//! finalizers and the `Allocatable` status condition).
//!
//! Objects come from manifests ([`PoolObject::from_document`]) or JSON
//! ([`PoolObject::from_json`]) and go back to JSON in the shape Go marshals them
//! ([`PoolObject::to_json`], [`spec_json`]): fields at their zero value are left out, as the
//! `omitempty` tags of Calico's types do, so two specs compare equal exactly when Go's would.

use serde_json::{Map, Value};

use crate::manifest::{self, Document, Source};
use crate::model::{self, IpPool, IpPoolSpec, Resource, Spanned};
use crate::yaml::Node;

/// The finalizer kube-controllers keeps on active pools (v3 CRD mode).
pub const POOL_FINALIZER: &str = "projectcalico.org/ippool-finalizer";

/// The `Allocatable` status condition of a pool (spec §1.1.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// `status: True` (true) or `False`.
    pub status: bool,
    /// `OK`, `CIDROverlap`, `PoolDisabled` or `Terminating`.
    pub reason: String,
    pub message: String,
}

impl Condition {
    pub(crate) fn new(status: bool, reason: &str, message: &str) -> Condition {
        Condition {
            status,
            reason: reason.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// One IPPool object with its datastore bookkeeping.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolObject {
    /// The resource; its spec is what the datastore stores (or, for a request, what was sent).
    pub pool: IpPool,
    /// `metadata.resourceVersion`; `None` when unset.
    pub resource_version: Option<String>,
    /// `metadata.uid`; `None` when unset.
    pub uid: Option<String>,
    /// `metadata.creationTimestamp` in seconds on the engine's clock; `None` when unset.
    pub creation_timestamp: Option<i64>,
    /// `metadata.deletionTimestamp`: set while a deletion waits for finalizers.
    pub deletion_timestamp: Option<i64>,
    pub finalizers: Vec<String>,
    /// `status.conditions[type=Allocatable]`, when the pool has one.
    pub allocatable: Option<Condition>,
}

impl PoolObject {
    /// A request object carrying only the resource (no bookkeeping).
    pub fn new(pool: IpPool) -> PoolObject {
        PoolObject {
            pool,
            resource_version: None,
            uid: None,
            creation_timestamp: None,
            deletion_timestamp: None,
            finalizers: Vec::new(),
            allocatable: None,
        }
    }

    pub fn name(&self) -> &str {
        self.pool.name()
    }

    /// The stored CIDR text (empty when unset).
    pub fn cidr_text(&self) -> &str {
        self.pool.spec.cidr.as_ref().map_or("", Spanned::as_str)
    }

    pub fn is_deleting(&self) -> bool {
        self.deletion_timestamp.is_some()
    }

    pub fn has_finalizer(&self) -> bool {
        self.finalizers.iter().any(|f| f == POOL_FINALIZER)
    }

    /// Reads an IPPool document; `Err` names why it is not one.
    pub fn from_document(doc: &Document) -> Result<PoolObject, String> {
        let (resource, _) = model::read(doc);
        let Some(Resource::IpPool(pool)) = resource else {
            return Err(format!("`{}` is not an IPPool", doc.kind));
        };
        let node = &doc.node;
        let text = |path: &[&str]| node.at(path).and_then(Node::scalar_text).map(str::to_owned);
        let mut object = PoolObject::new(pool);
        object.resource_version = text(&["metadata", "resourceVersion"]);
        object.uid = text(&["metadata", "uid"]);
        object.creation_timestamp = node
            .at(&["metadata", "creationTimestamp"])
            .and_then(timestamp);
        object.deletion_timestamp = node
            .at(&["metadata", "deletionTimestamp"])
            .and_then(timestamp);
        object.finalizers = node
            .at(&["metadata", "finalizers"])
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
            .filter_map(Node::scalar_text)
            .map(str::to_owned)
            .collect();
        object.allocatable = node
            .at(&["status", "conditions"])
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
            .find(|c| c.get("type").and_then(Node::scalar_text) == Some("Allocatable"))
            .map(|c| {
                let field = |key| c.get(key).and_then(Node::scalar_text).unwrap_or_default();
                Condition::new(field("status") == "True", field("reason"), field("message"))
            });
        Ok(object)
    }

    /// Reads an IPPool object from JSON (or a YAML text's first document, through
    /// [`PoolObject::from_text`]).
    pub fn from_json(value: &Value) -> Result<PoolObject, String> {
        // Serialising into memory cannot fail; `Value`'s `Display` would do the same through an
        // io::Write adapter, whose error path costs the site's wasm about 2 KB.
        PoolObject::from_text(&serde_json::to_string(value).unwrap_or_default())
    }

    /// Reads the first document of a YAML or JSON text as an IPPool object.
    pub fn from_text(text: &str) -> Result<PoolObject, String> {
        let (documents, problems) = manifest::parse(&[Source::new(None, text)]);
        match documents.first() {
            Some(doc) => PoolObject::from_document(doc),
            None => Err(problems.first().map_or_else(
                || "the text holds no resource".to_owned(),
                |p| p.message.clone(),
            )),
        }
    }

    /// The object as JSON: `apiVersion`, `kind`, the bookkeeping that is set, and the spec as Go
    /// marshals it.
    pub fn to_json(&self) -> Value {
        let mut metadata = Map::new();
        metadata.insert("name".into(), Value::from(self.name()));
        let labels: Map<String, Value> = self
            .pool
            .meta
            .labels
            .iter()
            .map(|(k, v)| (k.value.clone(), Value::from(v.value.clone())))
            .collect();
        if !labels.is_empty() {
            metadata.insert("labels".into(), Value::Object(labels));
        }
        let annotations: Map<String, Value> = self
            .pool
            .meta
            .annotations
            .iter()
            .map(|(k, v)| (k.value.clone(), Value::from(v.value.clone())))
            .collect();
        if !annotations.is_empty() {
            metadata.insert("annotations".into(), Value::Object(annotations));
        }
        if let Some(rv) = &self.resource_version {
            metadata.insert("resourceVersion".into(), Value::from(rv.clone()));
        }
        if let Some(uid) = &self.uid {
            metadata.insert("uid".into(), Value::from(uid.clone()));
        }
        if let Some(ts) = self.creation_timestamp {
            metadata.insert("creationTimestamp".into(), Value::from(ts));
        }
        if let Some(ts) = self.deletion_timestamp {
            metadata.insert("deletionTimestamp".into(), Value::from(ts));
        }
        if !self.finalizers.is_empty() {
            metadata.insert("finalizers".into(), Value::from(self.finalizers.clone()));
        }
        let mut object = Map::new();
        let api_version = match self.pool.origin.api_version.as_str() {
            "" => "projectcalico.org/v3",
            other => other,
        };
        object.insert("apiVersion".into(), Value::from(api_version));
        object.insert("kind".into(), Value::from("IPPool"));
        object.insert("metadata".into(), Value::Object(metadata));
        object.insert("spec".into(), spec_json(&self.pool.spec));
        if let Some(condition) = &self.allocatable {
            let status = if condition.status { "True" } else { "False" };
            object.insert(
                "status".into(),
                serde_json::json!({"conditions": [{
                    "type": "Allocatable",
                    "status": status,
                    "reason": condition.reason,
                    "message": condition.message,
                }]}),
            );
        }
        Value::Object(object)
    }

    /// This object with some spec fields replaced (JSON field names, JSON values; `null` removes
    /// a field), its bookkeeping kept: how a caller edits an object it read before writing it
    /// back.
    pub fn with_spec_fields(&self, fields: &Map<String, Value>) -> Result<PoolObject, String> {
        let mut json = self.to_json();
        let Some(spec) = json.get_mut("spec").and_then(Value::as_object_mut) else {
            return Err("the object has no spec".to_owned());
        };
        for (key, value) in fields {
            if value.is_null() {
                spec.remove(key);
            } else {
                spec.insert(key.clone(), value.clone());
            }
        }
        let mut edited = PoolObject::from_json(&json)?;
        edited.pool.origin = self.pool.origin.clone();
        Ok(edited)
    }
}

/// A timestamp as the engine keeps it: seconds on its clock. A number is taken as is; any other
/// non-empty text (an RFC 3339 time) only says that the timestamp is set, and reads as 0.
fn timestamp(node: &Node) -> Option<i64> {
    if let Some(n) = node.as_i64() {
        return Some(n);
    }
    node.scalar_text().filter(|t| !t.is_empty()).map(|_| 0)
}

/// The spec as Go's `json.Marshal` writes `IPPoolSpec`: `cidr` always, every other field only
/// when it is not its zero value (`omitempty`).
pub fn spec_json(spec: &IpPoolSpec) -> Value {
    let mut out = Map::new();
    out.insert(
        "cidr".into(),
        Value::from(spec.cidr.as_ref().map_or("", Spanned::as_str)),
    );
    let strings = [
        ("vxlanMode", &spec.vxlan_mode),
        ("ipipMode", &spec.ipip_mode),
        ("nodeSelector", &spec.node_selector),
        ("namespaceSelector", &spec.namespace_selector),
    ];
    for (key, field) in strings {
        if let Some(text) = field.as_ref().filter(|t| !t.value.is_empty()) {
            out.insert(key.into(), Value::from(text.value.clone()));
        }
    }
    let flags = [
        ("natOutgoing", &spec.nat_outgoing),
        ("disabled", &spec.disabled),
        ("disableBGPExport", &spec.disable_bgp_export),
    ];
    for (key, field) in flags {
        if field.as_ref().is_some_and(|f| f.value) {
            out.insert(key.into(), Value::from(true));
        }
    }
    if let Some(size) = spec.block_size.as_ref().filter(|s| s.value != 0) {
        out.insert("blockSize".into(), Value::from(size.value));
    }
    let uses = spec.allowed_use_texts();
    if !uses.is_empty() {
        out.insert("allowedUses".into(), Value::from(uses));
    }
    // `assignmentMode` is a pointer: set means written, even when empty.
    if let Some(mode) = &spec.assignment_mode {
        out.insert("assignmentMode".into(), Value::from(mode.value.clone()));
    }
    Value::Object(out)
}

/// A spec JSON with its zero-valued fields removed, so that specs written by hand (which may
/// spell out `natOutgoing: false`) compare with [`spec_json`] output as Go compares structs.
pub fn go_spec(spec: &Value) -> Value {
    match spec {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, value)| key.as_str() == "cidr" || !is_zero(value))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Go's zero value of a JSON field: `false`, `0`, `""`, `[]`, `{}` or `null`.
pub fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}
