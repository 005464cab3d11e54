//! Edits of the user's YAML text: setting one nested key of a mapping (an annotation on a pod or
//! a pod template) without rewriting anything else, in block style or flow style as written.

use crate::diagnostic::TextEdit;
use crate::yaml::{Node, Pos};

/// The byte offset of a 1-based line and character column, clamped to the text.
fn byte_offset(text: &str, pos: Pos) -> usize {
    let mut start = 0;
    for _ in 1..pos.line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = &text[start..line_end];
    let skip = pos.column.max(1) as usize - 1;
    start + line.char_indices().nth(skip).map_or(line.len(), |(i, _)| i)
}

/// The text with `edit` applied; an edit whose end lies before its start is an insertion.
pub fn apply_edit(text: &str, edit: &TextEdit) -> String {
    let start = byte_offset(text, edit.start);
    let end = byte_offset(text, edit.end).max(start);
    let mut out = String::with_capacity(text.len() + edit.new_text.len());
    out.push_str(&text[..start]);
    out.push_str(&edit.new_text);
    out.push_str(&text[end..]);
    out
}

fn char_at(text: &str, pos: Pos) -> Option<char> {
    text[byte_offset(text, pos)..].chars().next()
}

/// The edit that makes `map` (a mapping written in `text`) hold `value` (YAML scalar text) at
/// the nested `path` of keys, creating the missing mappings. `None` when the text is shaped in a
/// way this cannot edit safely (a key with an empty value, a mapping that starts mid-line).
pub(crate) fn set_entry(text: &str, map: &Node, path: &[&str], value: &str) -> Option<TextEdit> {
    let (first, rest) = path.split_first()?;
    let entries = map.as_map()?;
    if let Some((_, child)) = entries
        .iter()
        .rev()
        .find(|(k, _)| k.as_str() == Some(first))
    {
        if rest.is_empty() {
            // An empty value (`key:`) has no text to replace.
            if child.pos == child.end {
                return None;
            }
            return Some(TextEdit {
                start: child.pos,
                end: child.end,
                new_text: value.to_owned(),
            });
        }
        return child
            .as_map()
            .and_then(|_| set_entry(text, child, rest, value));
    }
    if char_at(text, map.pos) == Some('{') {
        // A flow mapping: the new entry goes just before its closing brace.
        let close = Pos {
            line: map.end.line,
            column: map.end.column.checked_sub(1)?,
        };
        if char_at(text, close) != Some('}') {
            return None;
        }
        let separator = if entries.is_empty() { "" } else { ", " };
        return Some(TextEdit {
            start: close,
            end: close,
            new_text: format!("{separator}{}", flow_entry(path, value)),
        });
    }
    // A block mapping: the new entry goes on its own line before the first one, at its
    // indentation, so it belongs to the same mapping whatever follows.
    let (first_key, _) = entries.first()?;
    let line_start = Pos {
        line: first_key.pos.line,
        column: 1,
    };
    let before = &text[byte_offset(text, line_start)..byte_offset(text, first_key.pos)];
    if !before.chars().all(|c| c == ' ') {
        return None;
    }
    let indent = before.len();
    Some(TextEdit {
        start: line_start,
        end: line_start,
        new_text: block_entry(path, value, indent),
    })
}

fn flow_entry(path: &[&str], value: &str) -> String {
    match path.split_first() {
        Some((key, [])) => format!("{key}: {value}"),
        Some((key, rest)) => format!("{key}: {{{}}}", flow_entry(rest, value)),
        None => String::new(),
    }
}

fn block_entry(path: &[&str], value: &str, indent: usize) -> String {
    let mut out = String::new();
    for (depth, key) in path.iter().enumerate() {
        let pad = " ".repeat(indent + 2 * depth);
        if depth + 1 == path.len() {
            out.push_str(&format!("{pad}{key}: {value}\n"));
        } else {
            out.push_str(&format!("{pad}{key}:\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    const KEY: [&str; 3] = ["metadata", "annotations", "a/b"];

    fn set(text: &str) -> Option<String> {
        let (docs, error) = parse_documents(text);
        assert!(error.is_none());
        let edit = set_entry(text, &docs[0].root, &KEY, "'[\"10.0.0.1\"]'")?;
        Some(apply_edit(text, &edit))
    }

    fn annotation(text: &str) -> Option<String> {
        let (docs, error) = parse_documents(text);
        assert!(error.is_none(), "{text}");
        docs[0]
            .root
            .at(&KEY)
            .and_then(|n| n.as_str())
            .map(str::to_owned)
    }

    #[test]
    fn adds_replaces_and_nests_in_block_and_flow_style() {
        for text in [
            "kind: Pod\nmetadata:\n  name: p\nspec: {}\n",
            "kind: Pod\nmetadata:\n  name: p\n  annotations:\n    x: y\n",
            "kind: Pod\nmetadata:\n  name: p\n  annotations:\n    a/b: '[\"9.9.9.9\"]'\n",
            "kind: Pod\nmetadata: {name: p}\n",
            "kind: Pod\nmetadata: {name: p, annotations: {}}\n",
            "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}}",
            "kind: Pod\nmetadata:\n    name: p\n    annotations: {x: y}\n",
        ] {
            let edited = set(text).unwrap_or_else(|| panic!("no edit for {text}"));
            assert_eq!(
                annotation(&edited).as_deref(),
                Some("[\"10.0.0.1\"]"),
                "{edited}"
            );
            // Nothing else changed: the name is still there.
            let (docs, _) = parse_documents(&edited);
            assert_eq!(
                docs[0]
                    .root
                    .at(&["metadata", "name"])
                    .and_then(Node::as_str),
                Some("p")
            );
        }
    }

    #[test]
    fn refuses_shapes_it_cannot_edit_safely() {
        assert_eq!(
            set("kind: Pod\nmetadata:\n  name: p\n  annotations:\n    a/b:\n"),
            None
        );
        assert_eq!(set("kind: Pod\nmetadata: 5\n"), None);
    }
}
