//! A serde `Deserializer` over a document's [`Tokens`](super::Tokens)
//! that presents every value as the parsed path's `&serde_json::Value`
//! would: scalars resolved by the same [`resolve`], keys made by the same
//! [`key_text`], and method by method the same answers, so that a type
//! read either way is the same. What it is unsure of is an error, which
//! sends the document to the parsed path: erring is always safe,
//! disagreeing never is.

use std::borrow::Cow;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use super::Token;
use crate::yaml::{Resolved, key_text, resolve};

/// Reads the tokens from `at` on.
pub(crate) struct Cursor<'a, 't> {
    tokens: &'a [(Token<'t>, usize)],
    at: usize,
}

type Error = de::value::Error;

fn unsure() -> Error {
    de::Error::custom("left to the parsed path")
}

/// A scalar as the parsed path's value has it.
enum Scalar<'a, 't> {
    Text(&'a Cow<'t, str>),
    Null,
    Bool(bool),
    Number(Number),
}

impl<'a, 't> Cursor<'a, 't> {
    pub(super) fn new(tokens: &'a [(Token<'t>, usize)], at: usize) -> Self {
        Cursor { tokens, at }
    }

    /// Whether nothing but the document's end is left.
    pub(crate) fn finished(&self) -> bool {
        self.tokens[self.at..]
            .iter()
            .all(|(t, _)| matches!(t, Token::DocumentEnd))
    }

    fn peek(&self) -> Option<&'a Token<'t>> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn next(&mut self) -> Result<&'a Token<'t>, Error> {
        let token = self.peek().ok_or_else(unsure)?;
        self.at += 1;
        Ok(token)
    }

    fn scalar(token: &'a Token<'t>) -> Option<Scalar<'a, 't>> {
        let Token::Scalar(text, style) = token else {
            return None;
        };
        Some(match resolve(text, *style, None) {
            Resolved::Text => Scalar::Text(text),
            Resolved::Null => Scalar::Null,
            Resolved::Bool(b) => Scalar::Bool(b),
            Resolved::Number(n) => Scalar::Number(n),
        })
    }

    fn visit_text<V: Visitor<'t>>(text: &'a Cow<'t, str>, visitor: V) -> Result<V::Value, Error> {
        match text {
            Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            Cow::Owned(s) => visitor.visit_str(s),
        }
    }

    /// The mapping or sequence whose start was just read, then its end.
    fn visit_map<V: Visitor<'t>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        let value = visitor.visit_map(Entries { cursor: self })?;
        match self.next()? {
            Token::MappingEnd => Ok(value),
            _ => Err(unsure()),
        }
    }

    fn visit_seq<V: Visitor<'t>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        let value = visitor.visit_seq(Items { cursor: self })?;
        match self.next()? {
            Token::SequenceEnd => Ok(value),
            _ => Err(unsure()),
        }
    }

    /// Skips the node that starts here.
    fn skip(&mut self) {
        self.at = super::end_of_node(self.tokens, self.at);
    }
}

fn number<'t, V: Visitor<'t>>(n: Number, visitor: V) -> Result<V::Value, Error> {
    n.deserialize_any(visitor).map_err(de::Error::custom)
}

/// A number is read as its value; anything else is refused.
macro_rules! numbers {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Error> {
                match Cursor::scalar(self.next()?) {
                    Some(Scalar::Number(n)) => number(n, visitor),
                    _ => Err(unsure()),
                }
            }
        )*
    };
}

/// Methods that only refuse.
macro_rules! refused {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
                Err(unsure())
            }
        )*
    };
}

/// What `&serde_json::Value` answers for each method, the value being
/// the token at the cursor; anything it refuses is an error here too.
impl<'t> Deserializer<'t> for &mut Cursor<'_, 't> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Error> {
        let token = self.next()?;
        match Cursor::scalar(token) {
            Some(Scalar::Null) => visitor.visit_unit(),
            Some(Scalar::Bool(b)) => visitor.visit_bool(b),
            Some(Scalar::Number(n)) => number(n, visitor),
            Some(Scalar::Text(text)) => Cursor::visit_text(text, visitor),
            None => match token {
                Token::MappingStart => self.visit_map(visitor),
                Token::SequenceStart => self.visit_seq(visitor),
                _ => Err(unsure()),
            },
        }
    }

    fn deserialize_option<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek().and_then(Cursor::scalar) {
            Some(Scalar::Null) => {
                self.at += 1;
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'t>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_bool<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Error> {
        match Cursor::scalar(self.next()?) {
            Some(Scalar::Bool(b)) => visitor.visit_bool(b),
            _ => Err(unsure()),
        }
    }

    fn deserialize_str<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Error> {
        match Cursor::scalar(self.next()?) {
            Some(Scalar::Text(text)) => Cursor::visit_text(text, visitor),
            _ => Err(unsure()),
        }
    }

    fn deserialize_string<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_unit<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Error> {
        match Cursor::scalar(self.next()?) {
            Some(Scalar::Null) => visitor.visit_unit(),
            _ => Err(unsure()),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'t>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_seq<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.next()? {
            Token::SequenceStart => self.visit_seq(visitor),
            _ => Err(unsure()),
        }
    }

    fn deserialize_tuple<V: Visitor<'t>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'t>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.next()? {
            Token::MappingStart => self.visit_map(visitor),
            _ => Err(unsure()),
        }
    }

    fn deserialize_struct<V: Visitor<'t>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.next()? {
            Token::MappingStart => self.visit_map(visitor),
            Token::SequenceStart => self.visit_seq(visitor),
            _ => Err(unsure()),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, Error> {
        self.skip();
        visitor.visit_unit()
    }

    /// Bytes, enums and 128-bit numbers: no Kubernetes object read here
    /// has them, and the parsed path reads whatever might.
    fn deserialize_bytes<V: Visitor<'t>>(self, _: V) -> Result<V::Value, Error> {
        Err(unsure())
    }

    fn deserialize_byte_buf<V: Visitor<'t>>(self, _: V) -> Result<V::Value, Error> {
        Err(unsure())
    }

    fn deserialize_enum<V: Visitor<'t>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Error> {
        Err(unsure())
    }

    fn deserialize_i128<V: Visitor<'t>>(self, _: V) -> Result<V::Value, Error> {
        Err(unsure())
    }

    fn deserialize_u128<V: Visitor<'t>>(self, _: V) -> Result<V::Value, Error> {
        Err(unsure())
    }

    numbers! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_f32 deserialize_f64
    }
}

/// A mapping's entries, up to its end (which the cursor's caller reads).
struct Entries<'c, 'a, 't> {
    cursor: &'c mut Cursor<'a, 't>,
}

impl<'t> MapAccess<'t> for Entries<'_, '_, 't> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'t>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.cursor.peek() {
            Some(Token::Scalar(text, style)) => {
                self.cursor.at += 1;
                seed.deserialize(Key(key_text(text.clone(), *style, None)))
                    .map(Some)
            }
            _ => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'t>>(&mut self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(&mut *self.cursor)
    }
}

/// A sequence's items, up to its end.
struct Items<'c, 'a, 't> {
    cursor: &'c mut Cursor<'a, 't>,
}

impl<'t> SeqAccess<'t> for Items<'_, '_, 't> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'t>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.cursor.peek() {
            Some(Token::SequenceEnd) | None => Ok(None),
            Some(_) => seed.deserialize(&mut *self.cursor).map(Some),
        }
    }
}

/// A mapping key, as serde_json's map key deserializer presents one: a
/// string (keys here are strings, and the parsed path's are too).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserializer<'de> for Key<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// Keys read as numbers, booleans or enums: left to the parsed path.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Error> {
        Err(unsure())
    }

    refused! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct
        map struct identifier ignored_any
    }
}
