//! Unknown fields, found the way the API server's strict field validation
//! finds them (`kubectl apply --validate=strict`, kubectl's default).
//!
//! The `k8s-openapi` types do not reject unknown fields: their generated
//! `Deserialize` impls call `deserialize_struct(NAME, FIELDS, visitor)` and
//! skip any other key with `IgnoredAny`. [`De`] wraps the deserializer (the
//! approach of the `serde_ignored` crate), tracks the path of every value and
//! records a key whose value is skipped together with the FIELDS of the struct
//! that skipped it, so that the list of known fields comes from the same
//! generated code that reads the object: no hand-written field tables. It
//! also records the path of a type error, as `serde_path_to_error` would,
//! from the same chain of path segments: both are formatted only when
//! reported, so a value read without trouble costs no allocation here.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt::{self, Write as _};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

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

/// The path of the value being read, kept as a chain of borrowed segments
/// on the stack: a path string is formatted only when something is
/// reported (an unknown field, a type error), never per value.
#[derive(Clone, Copy)]
pub(crate) enum Chain<'a> {
    Root,
    Key { parent: &'a Chain<'a>, key: &'a str },
    Index { parent: &'a Chain<'a>, index: usize },
}

impl Chain<'_> {
    /// `spec.ingress[0].from`, as `child_key`/`child_index` build it.
    pub fn path(&self) -> String {
        let mut segments = Vec::new();
        let mut at = self;
        loop {
            match at {
                Chain::Root => break,
                Chain::Key { parent, .. } | Chain::Index { parent, .. } => {
                    segments.push(at);
                    at = parent;
                }
            }
        }
        let mut path = String::new();
        for segment in segments.into_iter().rev() {
            match segment {
                Chain::Key { key, .. } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                Chain::Index { index, .. } => {
                    let _ = write!(path, "[{index}]");
                }
                Chain::Root => {}
            }
        }
        path
    }

    fn key(&self) -> &str {
        match self {
            Chain::Key { key, .. } => key,
            _ => "",
        }
    }
}

/// What one typed deserialization found: the unknown fields (when asked
/// to look for them) and the path of the first error, set by the innermost
/// wrapper the error passes through (as `serde_path_to_error` does).
#[derive(Default)]
pub(crate) struct Found {
    unknown: RefCell<Vec<Unknown>>,
    error: RefCell<Option<String>>,
    /// Whether unknown fields are recorded (`--validate=ignore` drops them).
    strict: bool,
    /// Whether a key repeated in one mapping is looked for. A `Value` cannot
    /// hold one (its parser has refused it); text read straight into a type
    /// can, and the generated `Deserialize` impls keep the last silently.
    duplicates: Option<Cell<bool>>,
}

impl Found {
    pub fn new(strict: bool) -> Self {
        Found {
            strict,
            ..Found::default()
        }
    }

    /// For text read straight into a type, where only a clean read counts:
    /// unknown fields and repeated keys are both looked for.
    pub fn exact() -> Self {
        Found {
            strict: true,
            duplicates: Some(Cell::new(false)),
            ..Found::default()
        }
    }

    /// Whether the read met anything a diagnostic would report: an unknown
    /// field, a repeated key or an error.
    pub fn any(&self) -> bool {
        !self.unknown.borrow().is_empty()
            || self.error.borrow().is_some()
            || self.duplicates.as_ref().is_some_and(Cell::get)
    }

    pub fn unknown(&mut self) -> Vec<Unknown> {
        std::mem::take(self.unknown.get_mut())
    }

    /// The path of the error the deserialization returned, `""` at the root.
    pub fn error_path(&mut self) -> String {
        self.error.get_mut().take().unwrap_or_default()
    }

    fn trigger<E>(&self, chain: &Chain, err: E) -> E {
        let mut error = self.error.borrow_mut();
        if error.is_none() {
            *error = Some(chain.path());
        }
        err
    }
}

/// A deserializer that records unknown fields and error paths into `found`.
pub(crate) struct De<'f, 'c, D> {
    inner: D,
    chain: Chain<'c>,
    found: &'f Found,
    /// The fields of the struct this value is an entry of, recorded with
    /// the entry's key if the struct skips the value.
    pending: Option<&'static [&'static str]>,
}

impl<'f, D> De<'f, 'static, D> {
    /// A deserializer for a whole object (its paths start at the object).
    pub fn new(inner: D, found: &'f Found) -> Self {
        De::at(inner, Chain::Root, found)
    }
}

impl<'f, 'c, D> De<'f, 'c, D> {
    /// A deserializer for the value at `chain`.
    fn at(inner: D, chain: Chain<'c>, found: &'f Found) -> Self {
        De {
            inner,
            chain,
            found,
            pending: None,
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
                let (chain, found) = (self.chain, self.found);
                let v = Vis { inner: visitor, chain: &chain, found, known: None };
                self.inner.$method($($arg,)* v).map_err(|e| found.trigger(&chain, e))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for De<'_, '_, D> {
    type Error = D::Error;

    forwarded_de_methods!(forward_de);

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let (chain, found) = (self.chain, self.found);
        let v = Vis {
            inner: visitor,
            chain: &chain,
            found,
            known: Some(fields),
        };
        self.inner
            .deserialize_struct(name, fields, v)
            .map_err(|e| found.trigger(&chain, e))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let (chain, found) = (self.chain, self.found);
        if let Some(known) = self.pending.filter(|_| found.strict) {
            found.unknown.borrow_mut().push(Unknown {
                path: chain.path(),
                field: chain.key().to_string(),
                known,
            });
        }
        self.inner
            .deserialize_ignored_any(visitor)
            .map_err(|e| found.trigger(&chain, e))
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A visitor that hands out tracking maps, sequences and deserializers.
struct Vis<'f, 'c, V> {
    inner: V,
    chain: &'c Chain<'c>,
    found: &'f Found,
    /// The fields of the struct being visited; `None` for a plain map.
    known: Option<&'static [&'static str]>,
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                let (chain, found) = (self.chain, self.found);
                self.inner.$method(v).map_err(|e| found.trigger(chain, e))
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Vis<'_, '_, V> {
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
        let (chain, found) = (self.chain, self.found);
        self.inner.visit_none().map_err(|e| found.trigger(chain, e))
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        let (chain, found) = (self.chain, self.found);
        self.inner.visit_unit().map_err(|e| found.trigger(chain, e))
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        let (chain, found) = (self.chain, self.found);
        let de = De::at(d, *chain, found);
        self.inner
            .visit_some(de)
            .map_err(|e| found.trigger(chain, e))
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        let (chain, found) = (self.chain, self.found);
        let de = De::at(d, *chain, found);
        self.inner
            .visit_newtype_struct(de)
            .map_err(|e| found.trigger(chain, e))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let (chain, found) = (self.chain, self.found);
        let seq = Seq {
            inner: seq,
            chain,
            found,
            index: 0,
        };
        self.inner
            .visit_seq(seq)
            .map_err(|e| found.trigger(chain, e))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let (chain, found) = (self.chain, self.found);
        let map = Map {
            inner: map,
            chain,
            found,
            known: self.known,
            key: None,
            keys: Vec::new(),
        };
        self.inner
            .visit_map(map)
            .map_err(|e| found.trigger(chain, e))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        // No k8s-openapi type nests objects inside an enum.
        let (chain, found) = (self.chain, self.found);
        self.inner
            .visit_enum(data)
            .map_err(|e| found.trigger(chain, e))
    }
}

struct Seq<'f, 'c, A> {
    inner: A,
    chain: &'c Chain<'c>,
    found: &'f Found,
    index: usize,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<'_, '_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let (parent, found) = (self.chain, self.found);
        let chain = Chain::Index {
            parent,
            index: self.index,
        };
        self.index += 1;
        self.inner
            .next_element_seed(Seed {
                inner: seed,
                chain,
                found,
                pending: None,
            })
            .map_err(|e| found.trigger(parent, e))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct Map<'f, 'c, 'de, A> {
    inner: A,
    chain: &'c Chain<'c>,
    found: &'f Found,
    known: Option<&'static [&'static str]>,
    /// The key whose value comes next: borrowed from the input when the
    /// input lends it (a `serde_json::Value`'s keys), copied otherwise.
    key: Option<Cow<'de, str>>,
    /// The keys read so far, kept only when `found` looks for repeated ones.
    keys: Vec<Cow<'de, str>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<'_, '_, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.key = None;
        let result = self.inner.next_key_seed(KeySeed {
            inner: seed,
            key: &mut self.key,
        });
        if let (Some(repeated), Some(key)) = (&self.found.duplicates, &self.key) {
            if self.keys.contains(key) {
                repeated.set(true);
            }
        }
        result.map_err(|e| match &self.key {
            Some(key) => {
                let chain = Chain::Key {
                    parent: self.chain,
                    key,
                };
                self.found.trigger(&chain, e)
            }
            None => self.found.trigger(self.chain, e),
        })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        let key = self.key.take().unwrap_or_default();
        let (parent, found) = (self.chain, self.found);
        let chain = Chain::Key { parent, key: &key };
        let value = self
            .inner
            .next_value_seed(Seed {
                inner: seed,
                chain,
                found,
                pending: self.known,
            })
            .map_err(|e| found.trigger(parent, e));
        if found.duplicates.is_some() {
            self.keys.push(key);
        }
        value
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct Seed<'f, 'c, T> {
    inner: T,
    chain: Chain<'c>,
    found: &'f Found,
    pending: Option<&'static [&'static str]>,
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, '_, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T::Value, D::Error> {
        let (chain, found) = (self.chain, self.found);
        self.inner
            .deserialize(De {
                inner: d,
                chain,
                found,
                pending: self.pending,
            })
            .map_err(|e| found.trigger(&chain, e))
    }
}

/// Deserializes a map key while keeping its text.
struct KeySeed<'k, 'de, T> {
    inner: T,
    key: &'k mut Option<Cow<'de, str>>,
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, 'de, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T::Value, D::Error> {
        self.inner.deserialize(KeyDe {
            inner: d,
            key: self.key,
        })
    }
}

struct KeyDe<'k, 'de, D> {
    inner: D,
    key: &'k mut Option<Cow<'de, str>>,
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

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDe<'_, 'de, D> {
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

struct KeyVis<'k, 'de, V> {
    inner: V,
    key: &'k mut Option<Cow<'de, str>>,
}

macro_rules! forward_key_visit {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                *self.key = Some(Cow::Owned(v.to_string()));
                self.inner.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVis<'_, 'de, V> {
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
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        *self.key = Some(Cow::Borrowed(v));
        self.inner.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        *self.key = Some(Cow::Owned(v.clone()));
        self.inner.visit_string(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::{apps::v1 as apps, core::v1 as core, networking::v1 as net};
    use serde::Deserialize;
    use serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    /// Every value of `v` that is not a container: its path and JSON pointer.
    fn leaves(v: &Value, at: (String, String), out: &mut Vec<(String, String)>) {
        let (path, pointer) = at;
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let p = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                    leaves(x, (crate::yaml::child_key(&path, k), p), out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let p = format!("{pointer}/{i}");
                    leaves(x, (crate::yaml::child_index(&path, i), p), out);
                }
            }
            _ => out.push((path, pointer)),
        }
    }

    /// The value at `pointer` replaced by one of another type.
    fn broken(v: &Value, pointer: &str) -> Value {
        let mut v = v.clone();
        let leaf = v.pointer_mut(pointer).expect("a leaf");
        *leaf = match leaf {
            Value::String(_) => json!({"not": "a string"}),
            _ => json!("not a number"),
        };
        v
    }

    /// Every type error the typed read of `value` can meet, one leaf at a
    /// time: the path and message must be those serde_path_to_error gives.
    fn errors_as_serde_path_to_error<T: DeserializeOwned>(value: Value) -> usize {
        let mut paths = Vec::new();
        leaves(&value, Default::default(), &mut paths);
        let mut compared = 0;
        for (path, pointer) in &paths {
            let v = broken(&value, pointer);
            let old = serde_path_to_error::deserialize::<_, T>(&v).err();
            let mut found = Found::new(true);
            let new = T::deserialize(De::new(&v, &found)).err();
            match (old, new) {
                (Some(old), Some(new)) => {
                    let want = old.path().to_string();
                    let want = if want == "." { String::new() } else { want };
                    assert_eq!(found.error_path(), want, "{path}");
                    assert_eq!(new.to_string(), old.into_inner().to_string(), "{path}");
                    compared += 1;
                }
                (None, None) => {}
                (old, new) => panic!("{path}: {old:?} vs {new:?}"),
            }
            assert!(found.unknown().is_empty(), "{path}");
        }
        compared
    }

    #[test]
    fn type_errors_are_reported_at_the_path_serde_path_to_error_gives() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "a", "namespace": "n", "labels": {"app.kubernetes.io/name": "x"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "r",
                    "uid": "u", "controller": true}]},
            "spec": {"hostNetwork": false, "nodeName": "n1",
                "containers": [{"name": "c", "image": "i",
                    "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"},
                              {"containerPort": 53, "protocol": "UDP"}],
                    "env": [{"name": "E", "value": "v"}]}]},
            "status": {"phase": "Running", "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}],
                "hostIP": "192.168.0.1"}
        });
        let policy = json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "p", "namespace": "n"},
            "spec": {"podSelector": {"matchLabels": {"app": "web"},
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                    {"namespaceSelector": {}, "podSelector": {"matchLabels": {"x": "y"}}}],
                    "ports": [{"port": 80, "protocol": "TCP"}, {"port": "http", "endPort": 90}]}],
                "egress": [{"to": [], "ports": [{"port": 53, "protocol": "UDP"}]}]}
        });
        let deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "n"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "d"}},
                "template": {"metadata": {"labels": {"app": "d"}},
                    "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080}]}]}}}
        });
        let n = errors_as_serde_path_to_error::<core::Pod>(pod)
            + errors_as_serde_path_to_error::<net::NetworkPolicy>(policy)
            + errors_as_serde_path_to_error::<apps::Deployment>(deployment);
        assert!(n > 40, "{n}");
    }

    #[test]
    fn unknown_fields_carry_their_path_and_are_not_recorded_when_ignored() {
        let v = json!({"metadata": {"name": "a"}, "spec": {"containers": [
            {"name": "c"}, {"name": "d", "portz": [], "image": "i"}]}});
        let mut found = Found::new(true);
        let pod = core::Pod::deserialize(De::new(&v, &found)).unwrap();
        assert_eq!(pod.spec.unwrap().containers.len(), 2);
        let unknown = found.unknown();
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown[0].path, "spec.containers[1].portz");
        assert_eq!(unknown[0].field, "portz");
        assert!(unknown[0].message().contains("did you mean ports?"));
        let mut found = Found::new(false);
        assert!(core::Pod::deserialize(De::new(&v, &found)).is_ok());
        assert!(found.unknown().is_empty());
    }

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
