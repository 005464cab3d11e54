//! The selector parser (grammar of spec §5.2), with Calico's error texts.

use super::ast::{Comparison, Node};
use super::tokenizer::{tokenize, Token, TokenKind};
use super::SelectorError;

/// How deeply parentheses may nest: both those written in the selector and those its canonical
/// form prints around every `&&` and `||` chain, so that the canonical form of any accepted
/// selector parses again. Calico has no limit, but a recursive descent parser needs one so that
/// hostile input cannot exhaust the stack; real selectors nest a few levels at most.
pub const MAX_NESTING: usize = 256;

/// Parses a whole selector; blank text is `all()`.
pub(crate) fn parse(text: &str) -> Result<Node, SelectorError> {
    // Calico tokenizes the whole text before parsing, so a lexical error anywhere wins over a
    // grammar error earlier in the text.
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        depth: 0,
        end: text.len(),
    };
    if parser.peek().kind == TokenKind::Eof {
        return Ok(Node::All);
    }
    let parsed = parser.or_expression()?;
    let rest = tokens.get(parser.pos..).unwrap_or_default();
    if rest.len() != 1 {
        let listed: Vec<String> = rest.iter().map(Token::to_string).collect();
        let message = format!(
            "unexpected content at end of selector [{}]",
            listed.join(" ")
        );
        return Err(SelectorError::new(message, parser.peek().offset));
    }
    Ok(parsed.node)
}

fn too_deep(offset: usize) -> SelectorError {
    let message =
        format!("selector nested too deeply: more than {MAX_NESTING} levels of parentheses");
    SelectorError::new(message, offset)
}

/// A parsed subexpression and how deeply the parentheses of its canonical form nest.
struct Parsed {
    node: Node,
    groups: usize,
}

impl Parsed {
    fn leaf(node: Node) -> Self {
        Parsed { node, groups: 0 }
    }
}

struct Parser<'t, 'a> {
    tokens: &'t [Token<'a>],
    /// The index of the next token to read.
    pos: usize,
    /// How many written parentheses are open at `pos`.
    depth: usize,
    /// The text length: where the (always present) end-of-input token sits.
    end: usize,
}

impl<'a> Parser<'_, 'a> {
    /// The token `ahead` places after the current one. The token list always ends with `Eof`,
    /// and reading past it keeps yielding `Eof`.
    fn peek_at(&self, ahead: usize) -> Token<'a> {
        self.tokens.get(self.pos + ahead).copied().unwrap_or(Token {
            kind: TokenKind::Eof,
            value: "",
            offset: self.end,
        })
    }

    fn peek(&self) -> Token<'a> {
        self.peek_at(0)
    }

    fn remaining(&self) -> usize {
        self.tokens.len().saturating_sub(self.pos)
    }

    /// `andExpr ( "||" andExpr )*`.
    fn or_expression(&mut self) -> Result<Parsed, SelectorError> {
        let start = self.peek().offset;
        let mut operands = vec![self.and_expression()?];
        while self.peek().kind == TokenKind::Or {
            self.pos += 1;
            operands.push(self.and_expression()?);
        }
        combine(operands, Node::Or, start)
    }

    /// `unary ( "&&" unary )*`.
    fn and_expression(&mut self) -> Result<Parsed, SelectorError> {
        let start = self.peek().offset;
        let mut operands = vec![self.operation()?];
        while self.peek().kind == TokenKind::And {
            self.pos += 1;
            operands.push(self.operation()?);
        }
        combine(operands, Node::And, start)
    }

    /// `"!"* primary`: the `!`s collapse to a single negation or none.
    fn operation(&mut self) -> Result<Parsed, SelectorError> {
        let mut negated = false;
        while self.peek().kind == TokenKind::Not {
            negated = !negated;
            self.pos += 1;
        }
        let token = self.peek();
        let parsed = match token.kind {
            TokenKind::Has => {
                self.pos += 1;
                Parsed::leaf(Node::Has(token.value.to_owned()))
            }
            TokenKind::All => {
                self.pos += 1;
                Parsed::leaf(Node::All)
            }
            TokenKind::Global => {
                self.pos += 1;
                Parsed::leaf(Node::Global)
            }
            TokenKind::Label => Parsed::leaf(self.label_operation(token)?),
            TokenKind::LParen => self.parenthesised(token)?,
            _ => {
                return Err(SelectorError::new(
                    format!("unexpected token: {token}"),
                    token.offset,
                ))
            }
        };
        // A negation prints as a bare `!`, so it adds no parentheses.
        Ok(if negated {
            Parsed {
                node: Node::Not(Box::new(parsed.node)),
                groups: parsed.groups,
            }
        } else {
            parsed
        })
    }

    /// `"(" orExpr ")"`. The group leaves no node behind: the canonical form prints only the
    /// parentheses that `&&` and `||` chains need.
    fn parenthesised(&mut self, open: Token<'a>) -> Result<Parsed, SelectorError> {
        if self.depth >= MAX_NESTING {
            return Err(too_deep(open.offset));
        }
        self.pos += 1;
        self.depth += 1;
        let inner = self.or_expression()?;
        self.depth -= 1;
        let close = self.peek();
        if close.kind != TokenKind::RParen {
            return Err(SelectorError::new("expected )", close.offset));
        }
        self.pos += 1;
        Ok(inner)
    }

    /// `LABEL op STRING` or `LABEL ("in" | "not in") "{" … "}"`.
    fn label_operation(&mut self, label: Token<'a>) -> Result<Node, SelectorError> {
        // Calico wants at least three tokens (label, operator, operand) before looking at them;
        // the last token is always `Eof`, so fewer means the label ends the selector.
        if self.remaining() < 3 {
            return Err(SelectorError::new(
                "unexpected end of string looking for op",
                self.peek_at(1).offset,
            ));
        }
        let operator = self.peek_at(1);
        let operand = self.peek_at(2);
        let comparison = match operator.kind {
            TokenKind::Eq => Comparison::Equal,
            TokenKind::Ne => Comparison::NotEqual,
            TokenKind::Contains => Comparison::Contains,
            TokenKind::StartsWith => Comparison::StartsWith,
            TokenKind::EndsWith => Comparison::EndsWith,
            TokenKind::In | TokenKind::NotIn => {
                return self.set_operation(label, operator.kind == TokenKind::NotIn)
            }
            _ => {
                return Err(SelectorError::new(
                    format!("expected == or != not: {operator}"),
                    operator.offset,
                ))
            }
        };
        if operand.kind != TokenKind::StringLiteral {
            return Err(SelectorError::new("expected string", operand.offset));
        }
        self.pos += 3;
        Ok(Node::Compare {
            label: label.value.to_owned(),
            comparison,
            value: operand.value.to_owned(),
        })
    }

    /// The set after `in` / `not in`: `{` [ STRING ( "," STRING )* [ "," ] ] `}`.
    fn set_operation(&mut self, label: Token<'a>, negated: bool) -> Result<Node, SelectorError> {
        let open = self.peek_at(2);
        if open.kind != TokenKind::LBrace {
            return Err(SelectorError::new("expected set literal", open.offset));
        }
        self.pos += 3;
        let mut values = Vec::new();
        while self.peek().kind == TokenKind::StringLiteral {
            values.push(self.peek().value.to_owned());
            self.pos += 1;
            if self.peek().kind != TokenKind::Comma {
                break;
            }
            self.pos += 1;
        }
        let close = self.peek();
        if close.kind != TokenKind::RBrace {
            return Err(SelectorError::new("expected }", close.offset));
        }
        self.pos += 1;
        // Calico keeps a set sorted and without duplicates; it prints it that way too.
        values.sort_unstable();
        values.dedup();
        Ok(Node::InSet {
            label: label.value.to_owned(),
            values,
            negated,
        })
    }
}

/// One operand stands for itself, as in Calico; several form an `&&` or `||` node, which the
/// canonical form wraps in parentheses.
fn combine(
    mut operands: Vec<Parsed>,
    make: fn(Vec<Node>) -> Node,
    start: usize,
) -> Result<Parsed, SelectorError> {
    if operands.len() == 1 {
        if let Some(only) = operands.pop() {
            return Ok(only);
        }
    }
    let groups = 1 + operands.iter().map(|p| p.groups).max().unwrap_or(0);
    if groups > MAX_NESTING {
        return Err(too_deep(start));
    }
    let nodes = operands.into_iter().map(|p| p.node).collect();
    Ok(Parsed {
        node: make(nodes),
        groups,
    })
}
