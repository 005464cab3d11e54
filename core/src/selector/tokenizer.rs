//! The selector tokenizer (spec §5.1), a byte-for-byte port of Calico's rules.
//!
//! Calico scans bytes, not characters, and every byte it acts on is ASCII, so every position
//! where this tokenizer cuts the text is a character boundary of the UTF-8 input.

use std::fmt;

use super::SelectorError;

/// Calico's `MaxLabelLength`: longer label names are rejected by the tokenizer.
pub(crate) const MAX_LABEL_LENGTH: usize = 512;

/// The token kinds of Calico's `tokenizer` package; `Display` prints Calico's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Label,
    StringLiteral,
    LBrace,
    RBrace,
    Comma,
    Eq,
    Ne,
    In,
    Not,
    NotIn,
    Contains,
    StartsWith,
    EndsWith,
    All,
    Has,
    LParen,
    RParen,
    And,
    Or,
    Global,
    Eof,
}

impl TokenKind {
    /// The Go constant name, which Calico's error messages print.
    pub(crate) fn go_name(self) -> &'static str {
        match self {
            TokenKind::Label => "TokLabel",
            TokenKind::StringLiteral => "TokStringLiteral",
            TokenKind::LBrace => "TokLBrace",
            TokenKind::RBrace => "TokRBrace",
            TokenKind::Comma => "TokComma",
            TokenKind::Eq => "TokEq",
            TokenKind::Ne => "TokNe",
            TokenKind::In => "TokIn",
            TokenKind::Not => "TokNot",
            TokenKind::NotIn => "TokNotIn",
            TokenKind::Contains => "TokContains",
            TokenKind::StartsWith => "TokStartsWith",
            TokenKind::EndsWith => "TokEndsWith",
            TokenKind::All => "TokAll",
            TokenKind::Has => "TokHas",
            TokenKind::LParen => "TokLParen",
            TokenKind::RParen => "TokRParen",
            TokenKind::And => "TokAnd",
            TokenKind::Or => "TokOr",
            TokenKind::Global => "TokGlobal",
            TokenKind::Eof => "TokEOF",
        }
    }
}

/// One token: its kind, its value (label name or string contents, else empty) and the byte
/// offset where it starts in the selector text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub kind: TokenKind,
    pub value: &'a str,
    pub offset: usize,
}

/// Calico's `Token.String()`, `Kind(Value)`, which its parser errors embed.
impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.kind.go_name(), self.value)
    }
}

/// Splits `text` into tokens ending with an `Eof` token, or returns the first lexical error.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token<'_>>, SelectorError> {
    let mut lexer = Lexer {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

/// Label names consist of these bytes only (Calico's `identifierChar`).
pub(crate) fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'/' | b'-')
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token<'a>>,
}

impl<'a> Lexer<'a> {
    fn run(&mut self) -> Result<(), SelectorError> {
        loop {
            self.pos = self.skip_whitespace(self.pos);
            let start = self.pos;
            let Some(&byte) = self.bytes.get(start) else {
                self.push(TokenKind::Eof, "", start);
                return Ok(());
            };
            match byte {
                b'(' => self.punctuation(TokenKind::LParen),
                b')' => self.punctuation(TokenKind::RParen),
                b'{' => self.punctuation(TokenKind::LBrace),
                b'}' => self.punctuation(TokenKind::RBrace),
                b',' => self.punctuation(TokenKind::Comma),
                b'"' | b'\'' => self.string_literal(byte)?,
                b'=' => self.doubled(b'=', TokenKind::Eq, "expected ==")?,
                b'&' => self.doubled(b'&', TokenKind::And, "expected &&")?,
                b'|' => self.doubled(b'|', TokenKind::Or, "expected ||")?,
                b'!' => {
                    if self.bytes.get(start + 1) == Some(&b'=') {
                        self.push(TokenKind::Ne, "", start);
                        self.pos = start + 2;
                    } else {
                        self.punctuation(TokenKind::Not);
                    }
                }
                _ => self.word()?,
            }
        }
    }

    fn push(&mut self, kind: TokenKind, value: &'a str, offset: usize) {
        self.tokens.push(Token {
            kind,
            value,
            offset,
        });
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        // Cuts are always next to ASCII bytes, so `get` cannot fail; an empty string keeps the
        // lexer panic-free even if that reasoning were ever wrong.
        self.text.get(start..end).unwrap_or("")
    }

    fn rest_starts_with(&self, at: usize, prefix: &str) -> bool {
        self.bytes
            .get(at..)
            .is_some_and(|rest| rest.starts_with(prefix.as_bytes()))
    }

    /// Calico's whitespace is space and TAB only; newlines are not skipped.
    fn skip_whitespace(&self, mut at: usize) -> usize {
        while matches!(self.bytes.get(at), Some(b' ' | b'\t')) {
            at += 1;
        }
        at
    }

    /// A word boundary is the end of input or any byte that cannot continue a label name.
    fn is_word_boundary(&self, at: usize) -> bool {
        self.bytes.get(at).is_none_or(|&b| !is_identifier_byte(b))
    }

    fn punctuation(&mut self, kind: TokenKind) {
        self.push(kind, "", self.pos);
        self.pos += 1;
    }

    /// `==`, `&&` and `||`: the second character is mandatory.
    fn doubled(&mut self, second: u8, kind: TokenKind, message: &str) -> Result<(), SelectorError> {
        let start = self.pos;
        if self.bytes.get(start + 1) == Some(&second) {
            self.push(kind, "", start);
            self.pos = start + 2;
            Ok(())
        } else {
            Err(SelectorError::new(message, start))
        }
    }

    /// A quoted string runs to the next identical quote; there are no escapes.
    fn string_literal(&mut self, quote: u8) -> Result<(), SelectorError> {
        let start = self.pos;
        let body = start + 1;
        let close = self
            .bytes
            .get(body..)
            .and_then(|rest| rest.iter().position(|&b| b == quote))
            .map(|length| body + length)
            .ok_or_else(|| SelectorError::new("unterminated string", start))?;
        let value = self.slice(body, close);
        self.push(TokenKind::StringLiteral, value, start);
        self.pos = close + 1;
        Ok(())
    }

    /// Everything that is not punctuation: operators after a label, `has(`, `all(`, `global(`,
    /// or a label name.
    fn word(&mut self) -> Result<(), SelectorError> {
        let start = self.pos;
        let last = self.tokens.last().copied();
        if let Some(label) = last.filter(|t| t.kind == TokenKind::Label) {
            return self.operator_after_label(label.value);
        }
        if self.rest_starts_with(start, "has(") {
            let at = self.skip_whitespace(start + "has(".len());
            let (name, after) = self.identifier(at)?;
            let at = self.skip_whitespace(after);
            if self.bytes.get(at) != Some(&b')') {
                return Err(SelectorError::new("no closing ')' after has(", at));
            }
            self.push(TokenKind::Has, name, start);
            self.pos = at + 1;
            return Ok(());
        }
        for (function, kind) in [("all(", TokenKind::All), ("global(", TokenKind::Global)] {
            if self.rest_starts_with(start, function) {
                let at = self.skip_whitespace(start + function.len());
                if self.bytes.get(at) != Some(&b')') {
                    let message = format!("no closing ')' after {function}");
                    return Err(SelectorError::new(message, at));
                }
                self.push(kind, "", start);
                self.pos = at + 1;
                return Ok(());
            }
        }
        let (name, after) = self.identifier(start)?;
        self.push(TokenKind::Label, name, start);
        self.pos = after;
        Ok(())
    }

    /// Right after a label only an operator keyword may follow (Calico's keyword order matters:
    /// `contains`, `starts with`, `ends with`, `not in`, then `in`).
    fn operator_after_label(&mut self, label: &str) -> Result<(), SelectorError> {
        let start = self.pos;
        let candidates: [(&[&str], TokenKind); 5] = [
            (&["contains"], TokenKind::Contains),
            (&["starts", "with"], TokenKind::StartsWith),
            (&["ends", "with"], TokenKind::EndsWith),
            (&["not", "in"], TokenKind::NotIn),
            (&["in"], TokenKind::In),
        ];
        for (words, kind) in candidates {
            if let Some(after) = self.keyword(start, words) {
                self.push(kind, "", start);
                self.pos = after;
                return Ok(());
            }
        }
        // Go's `%q` of a label name: label bytes never need escaping, so this is exact.
        let message = format!("expected operator after label \"{label}\"");
        Err(SelectorError::new(message, start))
    }

    /// Matches a keyword of one or more words at `at`, returning the position after it.
    ///
    /// Calico's single-word form checks the word boundary right after the word, but its
    /// multi-word form skips whitespace after every word, the last one included, before the
    /// boundary check; so `a starts with x` fails here while `a contains x` does not.
    fn keyword(&self, at: usize, words: &[&str]) -> Option<usize> {
        let mut pos = at;
        for word in words {
            if !self.rest_starts_with(pos, word) {
                return None;
            }
            pos += word.len();
            if words.len() > 1 {
                pos = self.skip_whitespace(pos);
            }
        }
        self.is_word_boundary(pos).then_some(pos)
    }

    /// Calico's `cutIdentifier`: a run of 1 to 512 label bytes starting at `at`.
    fn identifier(&self, at: usize) -> Result<(&'a str, usize), SelectorError> {
        let mut end = at;
        while self.bytes.get(end).is_some_and(|&b| is_identifier_byte(b)) {
            end += 1;
        }
        let name = self.slice(at, end);
        if name.is_empty() {
            Err(SelectorError::new("expected identifier", at))
        } else if name.len() > MAX_LABEL_LENGTH {
            Err(SelectorError::new(format!("label too long: {name}"), at))
        } else {
            Ok((name, end))
        }
    }
}
