//! The selector parser (grammar of spec §5.2), with Calico's error texts.

use super::ast::{Comparison, Node};
use super::tokenizer::{tokenize, Token, TokenKind};
use super::SelectorError;

/// How many parentheses may be open at once. Calico has no limit, but a recursive descent
/// parser needs one so that hostile input cannot exhaust the stack; real selectors nest a few
/// levels at most.
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
    let node = parser.or_expression()?;
    let rest = tokens.get(parser.pos..).unwrap_or_default();
    if rest.len() != 1 {
        let listed: Vec<String> = rest.iter().map(Token::to_string).collect();
        let message = format!(
            "unexpected content at end of selector [{}]",
            listed.join(" ")
        );
        return Err(SelectorError::new(message, parser.peek().offset));
    }
    Ok(node)
}

struct Parser<'t, 'a> {
    tokens: &'t [Token<'a>],
    pos: usize,
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

    /// `andExpr ( "||" andExpr )*`; a single operand is returned bare, as Calico does.
    fn or_expression(&mut self) -> Result<Node, SelectorError> {
        let mut operands = vec![self.and_expression()?];
        while self.peek().kind == TokenKind::Or {
            self.pos += 1;
            operands.push(self.and_expression()?);
        }
        Ok(collapse(operands, Node::Or))
    }

    /// `unary ( "&&" unary )*`.
    fn and_expression(&mut self) -> Result<Node, SelectorError> {
        let mut operands = vec![self.operation()?];
        while self.peek().kind == TokenKind::And {
            self.pos += 1;
            operands.push(self.operation()?);
        }
        Ok(collapse(operands, Node::And))
    }

    /// `"!"* primary`: the `!`s collapse to a single negation or none.
    fn operation(&mut self) -> Result<Node, SelectorError> {
        let mut negated = false;
        while self.peek().kind == TokenKind::Not {
            negated = !negated;
            self.pos += 1;
        }
        let token = self.peek();
        let node = match token.kind {
            TokenKind::Has => {
                self.pos += 1;
                Node::Has(token.value.to_owned())
            }
            TokenKind::All => {
                self.pos += 1;
                Node::All
            }
            TokenKind::Global => {
                self.pos += 1;
                Node::Global
            }
            TokenKind::Label => self.label_operation(token)?,
            TokenKind::LParen => self.parenthesised(token)?,
            _ => {
                return Err(SelectorError::new(
                    format!("unexpected token: {token}"),
                    token.offset,
                ))
            }
        };
        Ok(if negated {
            Node::Not(Box::new(node))
        } else {
            node
        })
    }

    fn parenthesised(&mut self, open: Token<'a>) -> Result<Node, SelectorError> {
        if self.depth >= MAX_NESTING {
            let message = format!(
                "selector nested too deeply: more than {MAX_NESTING} levels of parentheses"
            );
            return Err(SelectorError::new(message, open.offset));
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

/// One operand stands for itself; several form an `&&` or `||` node.
fn collapse(mut operands: Vec<Node>, combine: fn(Vec<Node>) -> Node) -> Node {
    if operands.len() == 1 {
        if let Some(only) = operands.pop() {
            return only;
        }
    }
    combine(operands)
}
