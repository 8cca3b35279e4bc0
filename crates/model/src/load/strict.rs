//! Unknown fields, found the way the API server's strict field validation
//! finds them (`kubectl apply --validate=strict`, kubectl's default).
//!
//! The `k8s-openapi` types do not reject unknown fields: their generated
//! `Deserialize` impls call `deserialize_struct(NAME, FIELDS, visitor)` and
//! skip any other key with `IgnoredAny`. [`De`] wraps the deserializer (the
//! approach of the `serde_ignored` crate), tracks the path of every value and
//! records a key whose value is skipped together with the FIELDS of the struct
//! that skipped it, so that the list of known fields comes from the same
//! generated code that reads the object: no hand-written field tables.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::yaml::{child_index, child_key};

/// A key that no field of its object has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unknown {
    /// Path of the key itself (`spec.podSelecter`).
    pub path: String,
    pub field: String,
    /// The fields the object does have.
    pub known: &'static [&'static str],
}

impl Unknown {
    pub fn message(&self) -> String {
        match closest(&self.field, self.known) {
            Some(name) => format!("unknown field {:?} (did you mean {name}?)", self.field),
            // A short list helps (an ingress rule's `to` for an egress rule's
            // `from`); a PodSpec's forty fields would not.
            None if self.known.len() <= 12 => format!(
                "unknown field {:?} (known fields: {})",
                self.field,
                self.known.join(", ")
            ),
            None => format!("unknown field {:?}", self.field),
        }
    }
}

/// The known field `field` is most probably a misspelling of.
pub(crate) fn closest<'k>(field: &str, known: &[&'k str]) -> Option<&'k str> {
    let lower = field.to_ascii_lowercase();
    if let Some(k) = known.iter().find(|k| k.to_ascii_lowercase() == lower) {
        return Some(k);
    }
    let limit = (field.chars().count() / 3).max(1);
    known
        .iter()
        .map(|k| {
            (
                strsim::damerau_levenshtein(&lower, &k.to_ascii_lowercase()),
                *k,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k)
}

pub(crate) type Found = RefCell<Vec<Unknown>>;

/// A deserializer that records unknown fields into `found`.
pub(crate) struct De<'f, D> {
    inner: D,
    path: String,
    found: &'f Found,
    /// Set when this value belongs to a key of a struct: the key and the
    /// struct's fields, recorded if the struct skips the value.
    pending: Option<(String, &'static [&'static str])>,
}

impl<'f, D> De<'f, D> {
    /// `path` is the path of the value within its document (`items[3]`).
    pub fn new(inner: D, path: String, found: &'f Found) -> Self {
        De {
            inner,
            path,
            found,
            pending: None,
        }
    }

    fn visitor<V>(&self, inner: V, known: Option<&'static [&'static str]>) -> Vis<'f, V> {
        Vis {
            inner,
            path: self.path.clone(),
            found: self.found,
            known,
        }
    }
}

/// Calls `$forward!` with the `Deserializer` methods that every wrapper here
/// only forwards (all but `deserialize_struct` and `deserialize_ignored_any`,
/// which `De` handles itself), so the list is written once.
macro_rules! forwarded_de_methods {
    ($forward:ident) => {
        $forward! {
            deserialize_any();
            deserialize_bool();
            deserialize_i8();
            deserialize_i16();
            deserialize_i32();
            deserialize_i64();
            deserialize_i128();
            deserialize_u8();
            deserialize_u16();
            deserialize_u32();
            deserialize_u64();
            deserialize_u128();
            deserialize_f32();
            deserialize_f64();
            deserialize_char();
            deserialize_str();
            deserialize_string();
            deserialize_bytes();
            deserialize_byte_buf();
            deserialize_option();
            deserialize_unit();
            deserialize_unit_struct(name: &'static str);
            deserialize_newtype_struct(name: &'static str);
            deserialize_seq();
            deserialize_tuple(len: usize);
            deserialize_tuple_struct(name: &'static str, len: usize);
            deserialize_map();
            deserialize_enum(name: &'static str, variants: &'static [&'static str]);
            deserialize_identifier();
        }
    };
}

macro_rules! forward_de {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self $(, $arg: $ty)*, visitor: V) -> Result<V::Value, D::Error> {
                let v = self.visitor(visitor, None);
                self.inner.$method($($arg,)* v)
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for De<'_, D> {
    type Error = D::Error;

    forwarded_de_methods!(forward_de);

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let v = self.visitor(visitor, Some(fields));
        self.inner.deserialize_struct(name, fields, v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        if let Some((field, known)) = self.pending {
            self.found.borrow_mut().push(Unknown {
                path: self.path,
                field,
                known,
            });
        }
        self.inner.deserialize_ignored_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A visitor that hands out tracking maps, sequences and deserializers.
struct Vis<'f, V> {
    inner: V,
    path: String,
    found: &'f Found,
    /// The fields of the struct being visited; `None` for a plain map.
    known: Option<&'static [&'static str]>,
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.inner.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Vis<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit! {
        visit_bool(bool);
        visit_i8(i8);
        visit_i16(i16);
        visit_i32(i32);
        visit_i64(i64);
        visit_i128(i128);
        visit_u8(u8);
        visit_u16(u16);
        visit_u32(u32);
        visit_u64(u64);
        visit_u128(u128);
        visit_f32(f32);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.inner.visit_some(De::new(d, self.path, self.found))
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.inner
            .visit_newtype_struct(De::new(d, self.path, self.found))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(Seq {
            inner: seq,
            path: self.path,
            found: self.found,
            index: 0,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Map {
            inner: map,
            path: self.path,
            found: self.found,
            known: self.known,
            key: None,
        })
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        // No k8s-openapi type nests objects inside an enum.
        self.inner.visit_enum(data)
    }
}

struct Seq<'f, A> {
    inner: A,
    path: String,
    found: &'f Found,
    index: usize,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let path = child_index(&self.path, self.index);
        self.index += 1;
        self.inner.next_element_seed(Seed {
            inner: seed,
            path,
            found: self.found,
            pending: None,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct Map<'f, A> {
    inner: A,
    path: String,
    found: &'f Found,
    known: Option<&'static [&'static str]>,
    /// The key whose value comes next.
    key: Option<String>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.key = None;
        self.inner.next_key_seed(KeySeed {
            inner: seed,
            key: &mut self.key,
        })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        let key = self.key.take().unwrap_or_default();
        let path = child_key(&self.path, &key);
        let pending = self.known.map(|known| (key, known));
        self.inner.next_value_seed(Seed {
            inner: seed,
            path,
            found: self.found,
            pending,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct Seed<'f, T> {
    inner: T,
    path: String,
    found: &'f Found,
    pending: Option<(String, &'static [&'static str])>,
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T::Value, D::Error> {
        self.inner.deserialize(De {
            inner: d,
            path: self.path,
            found: self.found,
            pending: self.pending,
        })
    }
}

/// Deserializes a map key while keeping a copy of its text.
struct KeySeed<'k, T> {
    inner: T,
    key: &'k mut Option<String>,
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T::Value, D::Error> {
        self.inner.deserialize(KeyDe {
            inner: d,
            key: self.key,
        })
    }
}

struct KeyDe<'k, D> {
    inner: D,
    key: &'k mut Option<String>,
}

macro_rules! forward_key_de {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self $(, $arg: $ty)*, visitor: V) -> Result<V::Value, D::Error> {
                self.inner.$method($($arg,)* KeyVis { inner: visitor, key: self.key })
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDe<'_, D> {
    type Error = D::Error;

    forwarded_de_methods!(forward_key_de);
    forward_key_de! {
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_ignored_any();
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

struct KeyVis<'k, V> {
    inner: V,
    key: &'k mut Option<String>,
}

macro_rules! forward_key_visit {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                *self.key = Some(v.to_string());
                self.inner.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVis<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    // Manifest keys are strings; numbers and booleans only in odd YAML.
    forward_key_visit! {
        visit_bool(bool);
        visit_i64(i64);
        visit_u64(u64);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'de str);
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        *self.key = Some(v.clone());
        self.inner.visit_string(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_field() {
        let known = &["podSelector", "policyTypes", "ingress", "egress"];
        assert_eq!(closest("podSelecter", known), Some("podSelector"));
        assert_eq!(closest("podselector", known), Some("podSelector"));
        assert_eq!(closest("ingres", known), Some("ingress"));
        assert_eq!(closest("selector", known), None);
        assert_eq!(closest("to", &["from", "ports"]), None);
    }
}
