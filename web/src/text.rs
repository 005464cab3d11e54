//! Positions in the manifest text: the core speaks 1-based lines and columns counted in
//! characters; the browser's textarea selection counts UTF-16 code units. Only text handling
//! lives here, no IPAM rule.

use ipam_core::TextEdit;

/// The number of lines the editor shows (a trailing newline opens one more, empty line).
pub fn line_count(text: &str) -> usize {
    text.split('\n').count()
}

/// The byte offset of a 1-based line and character column, clamped to the text: a column past
/// the end of its line means the end of that line, a line past the end means the end of text.
pub fn byte_offset(text: &str, line: u32, column: u32) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_text = &text[start..line_end];
    let skip = column.max(1) as usize - 1;
    start
        + line_text
            .char_indices()
            .nth(skip)
            .map_or(line_text.len(), |(i, _)| i)
}

/// The text with `edit` applied. An edit whose end lies before its start is applied as an
/// insertion at its start.
pub fn apply_edit(text: &str, edit: &TextEdit) -> String {
    let start = byte_offset(text, edit.start.line, edit.start.column);
    let end = byte_offset(text, edit.end.line, edit.end.column).max(start);
    let mut out = String::with_capacity(text.len() + edit.new_text.len());
    out.push_str(&text[..start]);
    out.push_str(&edit.new_text);
    out.push_str(&text[end..]);
    out
}

/// The 1-based `line` as a UTF-16 range `(start, end)` for `setSelectionRange`, without its
/// newline; `None` when the text has fewer lines.
pub fn line_range_utf16(text: &str, line: u32) -> Option<(u32, u32)> {
    let mut offset = 0u32;
    for (n, content) in text.split('\n').enumerate() {
        let len = content.encode_utf16().count() as u32;
        if n + 1 == line as usize {
            return Some((offset, offset + len));
        }
        offset += len + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipam_core::yaml::Pos;

    fn edit(start: (u32, u32), end: (u32, u32), new_text: &str) -> TextEdit {
        TextEdit {
            start: Pos {
                line: start.0,
                column: start.1,
            },
            end: Pos {
                line: end.0,
                column: end.1,
            },
            new_text: new_text.to_owned(),
        }
    }

    #[test]
    fn replaces_a_value_on_a_later_line() {
        let text = "kind: IPPool\nspec:\n  cidr: 10.1.1.0/16\n";
        let fixed = apply_edit(text, &edit((3, 9), (3, 20), "10.1.0.0/16"));
        assert_eq!(fixed, "kind: IPPool\nspec:\n  cidr: 10.1.0.0/16\n");
    }

    #[test]
    fn counts_columns_in_characters() {
        let text = "name: \"é\" x: 1\n";
        assert_eq!(
            apply_edit(text, &edit((1, 11), (1, 12), "y")),
            "name: \"é\" y: 1\n"
        );
    }

    #[test]
    fn inserts_and_clamps() {
        assert_eq!(apply_edit("a\nb", &edit((2, 1), (2, 1), "- ")), "a\n- b");
        assert_eq!(apply_edit("a\nb", &edit((9, 1), (9, 1), "\nc")), "a\nb\nc");
        assert_eq!(apply_edit("ab", &edit((1, 40), (1, 1), "!")), "ab!");
    }

    #[test]
    fn selects_lines_in_utf16_units() {
        let text = "😀 a\nsecond\n";
        assert_eq!(line_range_utf16(text, 1), Some((0, 4)));
        assert_eq!(line_range_utf16(text, 2), Some((5, 11)));
        assert_eq!(line_range_utf16(text, 3), Some((12, 12)));
        assert_eq!(line_range_utf16(text, 4), None);
        assert_eq!(line_count(text), 3);
    }
}
