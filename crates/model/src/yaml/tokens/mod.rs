//! One document's events from the fast reader, kept so that it can be
//! read twice: straight into a typed object (a Pod of a live dump, with no
//! `Value` tree and no line index), and, when that does not read cleanly,
//! replayed into the [`Builder`] as if the reader had sent them there.

use std::borrow::Cow;

use yaml_rust2::parser::Event;
use yaml_rust2::scanner::TScalarStyle;

mod de;

pub(crate) use de::Cursor;

use super::fast::Sink;
use super::{Builder, Resolved, key_text, resolve};
use crate::json::Head;

#[derive(Debug, Clone, PartialEq)]
enum Token<'t> {
    Scalar(Cow<'t, str>, TScalarStyle),
    MappingStart,
    MappingEnd,
    SequenceStart,
    SequenceEnd,
    DocumentStart,
    DocumentEnd,
    /// Any other event (the reader sends none inside a document), kept
    /// as sent.
    Other(Box<Event>),
}

/// The events of one document, with their lines.
#[derive(Default)]
pub(crate) struct Tokens<'t> {
    tokens: Vec<(Token<'t>, usize)>,
}

impl Tokens<'_> {
    /// Room for the events of `text` (a line holds one to three), up to
    /// what a Pod needs: a larger item grows as it is read.
    pub(super) fn for_text(text: &str) -> Self {
        Tokens {
            tokens: Vec::with_capacity((text.len() / 8 + 8).min(1 << 12)),
        }
    }
}

impl<'t> Sink<'t> for Tokens<'t> {
    fn event(&mut self, ev: Event, line: usize) {
        let token = match ev {
            Event::MappingStart(0, None) => Token::MappingStart,
            Event::MappingEnd => Token::MappingEnd,
            Event::SequenceStart(0, None) => Token::SequenceStart,
            Event::SequenceEnd => Token::SequenceEnd,
            Event::DocumentStart => Token::DocumentStart,
            Event::DocumentEnd => Token::DocumentEnd,
            ev => Token::Other(Box::new(ev)),
        };
        self.tokens.push((token, line));
    }

    fn scalar(&mut self, text: Cow<'t, str>, style: TScalarStyle, line: usize) {
        self.tokens.push((Token::Scalar(text, style), line));
    }
}

impl<'t> Tokens<'t> {
    /// Sends the events to `builder`, exactly as the reader would have.
    pub(super) fn replay(self, builder: &mut Builder) {
        for (token, line) in self.tokens {
            let ev = match token {
                Token::Scalar(text, style) => Event::Scalar(text.into_owned(), style, 0, None),
                Token::MappingStart => Event::MappingStart(0, None),
                Token::MappingEnd => Event::MappingEnd,
                Token::SequenceStart => Event::SequenceStart(0, None),
                Token::SequenceEnd => Event::SequenceEnd,
                Token::DocumentStart => Event::DocumentStart,
                Token::DocumentEnd => Event::DocumentEnd,
                Token::Other(ev) => *ev,
            };
            builder.event(ev, line);
        }
    }

    /// Where the document's node starts: after its `DocumentStart`.
    fn root(&self) -> usize {
        usize::from(matches!(
            self.tokens.first(),
            Some((Token::DocumentStart, _))
        ))
    }

    /// What [`Builder`] charges for the document: a value per scalar that
    /// is not a key and per collection, and the text of every scalar.
    pub(super) fn cost(&self) -> (usize, usize) {
        // Per open collection: for a mapping, whether its next node is a key.
        let mut stack: Vec<Option<bool>> = Vec::new();
        let (mut nodes, mut bytes) = (0, 0);
        for (token, _) in &self.tokens {
            let is_key = stack.last() == Some(&Some(true));
            match token {
                Token::Scalar(text, _) => {
                    bytes += text.len();
                    nodes += usize::from(!is_key);
                }
                Token::MappingStart | Token::SequenceStart => nodes += 1,
                _ => {}
            }
            let starts_node = matches!(
                token,
                Token::Scalar(..) | Token::MappingStart | Token::SequenceStart
            );
            if let (true, Some(Some(key_next))) = (starts_node, stack.last_mut()) {
                *key_next = !*key_next;
            }
            match token {
                Token::MappingStart => stack.push(Some(true)),
                Token::SequenceStart => stack.push(None),
                Token::MappingEnd | Token::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        (nodes, bytes)
    }

    /// Whether the document's node is a mapping.
    pub(super) fn is_mapping(&self) -> bool {
        matches!(self.tokens.get(self.root()), Some((Token::MappingStart, _)))
    }

    /// The [`Head`] of the document when its node is a mapping: its
    /// `apiVersion` and `kind` when strings, the lines of its `metadata`
    /// and `metadata.name` keys.
    pub(crate) fn head(&self) -> Option<Head<'_>> {
        let root = self.root();
        let mut head = Head::default();
        for (key, line, value) in self.entries(root)? {
            match key.as_ref() {
                "apiVersion" => head.api_version = self.text_at(value),
                "kind" => head.kind = self.text_at(value),
                "metadata" => {
                    head.metadata_line = Some(line);
                    head.name_line = self
                        .entries(value)
                        .into_iter()
                        .flatten()
                        .find(|(key, ..)| key == "name")
                        .map(|(_, line, _)| line);
                }
                _ => {}
            }
        }
        Some(head)
    }

    /// The entries (key, its line, where its value starts) of the mapping
    /// starting at `at`; `None` when no mapping starts there.
    fn entries(
        &self,
        at: usize,
    ) -> Option<impl Iterator<Item = (Cow<'_, str>, usize, usize)> + '_> {
        if !matches!(self.tokens.get(at), Some((Token::MappingStart, _))) {
            return None;
        }
        let mut i = at + 1;
        Some(std::iter::from_fn(move || {
            let (Token::Scalar(text, style), line) = self.tokens.get(i)? else {
                return None;
            };
            let value = i + 1;
            i = end_of_node(&self.tokens, value);
            let key = key_text(Cow::Borrowed(text.as_ref()), *style, None);
            Some((key, *line, value))
        }))
    }

    /// The scalar at `at` when it resolves to a string.
    fn text_at(&self, at: usize) -> Option<&str> {
        match self.tokens.get(at) {
            Some((Token::Scalar(text, style), _)) => {
                matches!(resolve(text, *style, None), Resolved::Text).then_some(text.as_ref())
            }
            _ => None,
        }
    }

    /// A deserializer of the document's node; [`Cursor::finished`] tells
    /// whether a read took all of it.
    pub(crate) fn de(&self) -> Cursor<'_, 't> {
        Cursor::new(&self.tokens, self.root())
    }
}

/// Where the node starting at `at` ends: the index after it.
fn end_of_node(tokens: &[(Token, usize)], at: usize) -> usize {
    let mut depth = 0usize;
    let mut i = at;
    while let Some((token, _)) = tokens.get(i) {
        i += 1;
        match token {
            Token::MappingStart | Token::SequenceStart => depth += 1,
            Token::MappingEnd | Token::SequenceEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 {
            break;
        }
    }
    i
}
