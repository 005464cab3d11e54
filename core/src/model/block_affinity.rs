//! `BlockAffinity`: an internal IPAM object, modelled only so that its one validation rule can be
//! checked (users do not normally write it).

use crate::yaml::{Node, Pos};

use super::fields::{Origin, Reader, Spanned};
use super::meta::Meta;

#[derive(Clone, Debug, PartialEq)]
pub struct BlockAffinity {
    pub origin: Origin,
    pub meta: Meta,
    pub spec_pos: Pos,
    pub state: Option<Spanned<String>>,
    pub node: Option<Spanned<String>>,
    pub affinity_type: Option<Spanned<String>>,
    pub cidr: Option<Spanned<String>>,
    /// `spec.deleted`: a boolean in the current API, the string "true" in older ones.
    pub deleted: Option<Spanned<bool>>,
}

impl BlockAffinity {
    pub(crate) fn read(reader: &mut Reader<'_>, origin: Origin, root: &Node) -> BlockAffinity {
        let meta = Meta::read(reader, root, "");
        let spec = reader.object(root, "spec", "");
        let path = "spec";
        let field =
            |reader: &mut Reader<'_>, key: &str| spec.and_then(|s| reader.string(s, key, path));
        let deleted = spec
            .and_then(|s| Reader::child(s, "deleted"))
            .and_then(|node| match (node.as_bool(), node.as_str()) {
                (Some(flag), _) => Some(Spanned::of(flag, node)),
                (None, Some(text)) => Some(Spanned::of(text == "true", node)),
                (None, None) => {
                    reader.wrong_type(node, "spec.deleted", "boolean");
                    None
                }
            });
        BlockAffinity {
            spec_pos: spec.map_or(origin.pos, |s| s.pos),
            state: field(reader, "state"),
            node: field(reader, "node"),
            affinity_type: field(reader, "type"),
            cidr: field(reader, "cidr"),
            deleted,
            meta,
            origin,
        }
    }
}
