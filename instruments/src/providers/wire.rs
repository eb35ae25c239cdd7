//! Typed, borrowing, lenient reading of provider JSON: the building blocks of the
//! per-provider wire structs.
//!
//! The wire structs name only the fields the conventions need; everything else is skipped
//! by the parser without being built. Strings are borrowed from the body when they have no
//! escapes. No field type fails on an unexpected JSON type: [`Scalar`] takes any value,
//! [`Lenient`] is `None` for anything but an object, [`Seq`] is empty for anything but an
//! array, so a body the parsers read a field of the wrong type from still yields every other
//! field (as the `serde_json::Value` walk they replace did).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// Any JSON value, kept when it is a scalar.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) enum Scalar<'a> {
    /// The key was not there.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A string without escapes, borrowed from the body.
    Str(&'a str),
    /// A string with escapes, unescaped. (Two variants, not a `Cow`: a `Scalar` is 24 bytes
    /// instead of 32, and the wire structs made of them are moved while they are read.)
    OwnedStr(Box<str>),
    /// `true` / `false`.
    Bool(bool),
    /// A negative integer.
    Int(i64),
    /// A non-negative integer.
    UInt(u64),
    /// A number with a fraction or exponent.
    Float(f64),
    /// An array or an object (skipped).
    Composite,
}

impl<'a> Scalar<'a> {
    /// The string, empty or not (`Value::as_str`).
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            Scalar::OwnedStr(s) => Some(s),
            _ => None,
        }
    }

    /// The string, owned (moved out when it was already owned).
    pub(crate) fn into_string(self) -> Option<String> {
        match self {
            Scalar::Str(s) => Some(s.to_owned()),
            Scalar::OwnedStr(s) => Some(s.into_string()),
            _ => None,
        }
    }

    /// A non-empty string.
    pub(crate) fn non_empty(&self) -> Option<&str> {
        self.as_str().filter(|s| !s.is_empty())
    }

    /// A non-empty string, owned (moved out when it was already owned).
    pub(crate) fn into_non_empty(self) -> Option<String> {
        match self {
            Scalar::Str(s) if !s.is_empty() => Some(s.to_owned()),
            Scalar::OwnedStr(s) if !s.is_empty() => Some(s.into_string()),
            _ => None,
        }
    }

    /// An integer, also from a float with no fractional part (`100.0`); a `u64` above
    /// `i64::MAX` saturates.
    pub(crate) fn int(&self) -> Option<i64> {
        match *self {
            Scalar::Int(i) => Some(i),
            Scalar::UInt(u) => Some(i64::try_from(u).unwrap_or(i64::MAX)),
            Scalar::Float(f) if f.is_finite() && f.fract() == 0.0 => Some(f as i64),
            _ => None,
        }
    }

    /// A number as `f64`.
    pub(crate) fn float(&self) -> Option<f64> {
        match *self {
            Scalar::Int(i) => Some(i as f64),
            Scalar::UInt(u) => Some(u as f64),
            Scalar::Float(f) => Some(f),
            _ => None,
        }
    }

    /// A boolean.
    pub(crate) fn bool(&self) -> Option<bool> {
        match *self {
            Scalar::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Present and not `null`.
    pub(crate) fn is_set(&self) -> bool {
        !matches!(self, Scalar::Absent | Scalar::Null)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar<'a>, E> {
                Ok(if v >= 0 {
                    Scalar::UInt(v as u64)
                } else {
                    Scalar::Int(v)
                })
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::UInt(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Str(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::OwnedStr(v.into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar<'a>, E> {
                Ok(Scalar::OwnedStr(v.into_boxed_str()))
            }
            fn visit_unit<E>(self) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar<'a>, D::Error> {
                Scalar::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Composite)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Composite)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An object read as `T`; `None` for any other JSON value.
#[derive(Debug)]
pub(crate) struct Lenient<T>(pub(crate) Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<T> Lenient<T> {
    /// The object, if it was one.
    pub(crate) fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

/// Skips whatever a visitor was handed and yields `value`.
macro_rules! skip_others {
    ($value:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Lenient<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Lenient<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| Lenient(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lenient<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Lenient(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Lenient<T>, D::Error> {
                Lenient::deserialize(d)
            }
            skip_others!(Lenient(None));
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An object field that also says whether its key was there: [`Field::Absent`] (the
/// default, for a missing key), [`Field::Null`], or [`Field::Value`] (an object read as `T`,
/// or `Lenient(None)` for any other value). For the few fields whose absence and `null` mean
/// different things (OpenAI `prompt_tokens_details`: absent reads as 0 cached tokens, as in
/// Python).
#[derive(Debug, Default)]
pub(crate) enum Field<T> {
    #[default]
    Absent,
    Null,
    Value(Lenient<T>),
}

impl<T> Field<T> {
    /// The object, if it was one.
    pub(crate) fn get(&self) -> Option<&T> {
        match self {
            Field::Value(l) => l.get(),
            _ => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Field<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
                    .map(|t| Field::Value(Lenient(Some(t))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Value(Lenient(None)))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Field<T>, D::Error> {
                Field::deserialize(d)
            }
            fn visit_unit<E>(self) -> Result<Field<T>, E> {
                Ok(Field::Null)
            }
            fn visit_none<E>(self) -> Result<Field<T>, E> {
                Ok(Field::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Field<T>, E> {
                Ok(Field::Value(Lenient(None)))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Field<T>, E> {
                Ok(Field::Value(Lenient(None)))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Field<T>, E> {
                Ok(Field::Value(Lenient(None)))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Field<T>, E> {
                Ok(Field::Value(Lenient(None)))
            }
            fn visit_str<E>(self, _: &str) -> Result<Field<T>, E> {
                Ok(Field::Value(Lenient(None)))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// The number of floats in an embedding: the length of an array of numbers, or of a
/// `base64` string of little-endian `f32`s (`encoding_format: "base64"`, what the Python
/// and many other OpenAI clients ask for) its decoded byte length / 4. `None` for anything
/// else.
#[derive(Debug, Default)]
pub(crate) struct VectorLen(pub(crate) Option<usize>);

impl<'de> Deserialize<'de> for VectorLen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = VectorLen;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<VectorLen, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(VectorLen(Some(n)))
            }
            fn visit_str<E>(self, v: &str) -> Result<VectorLen, E> {
                let v = v.trim_end();
                let padding = v.bytes().rev().take_while(|&b| b == b'=').count();
                let bytes = (v.len() / 4 * 3).saturating_sub(padding);
                Ok(VectorLen((!v.is_empty()).then_some(bytes / 4)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<VectorLen, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(VectorLen(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<VectorLen, D::Error> {
                VectorLen::deserialize(d)
            }
            fn visit_bool<E>(self, _: bool) -> Result<VectorLen, E> {
                Ok(VectorLen(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<VectorLen, E> {
                Ok(VectorLen(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<VectorLen, E> {
                Ok(VectorLen(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<VectorLen, E> {
                Ok(VectorLen(None))
            }
            fn visit_unit<E>(self) -> Result<VectorLen, E> {
                Ok(VectorLen(None))
            }
            fn visit_none<E>(self) -> Result<VectorLen, E> {
                Ok(VectorLen(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// An array read as `Vec<T>`; empty for any other JSON value. `T` should itself be lenient
/// ([`Scalar`], [`Lenient`]) so that one odd element does not fail the whole body.
#[derive(Debug)]
pub(crate) struct Seq<T>(pub(crate) Vec<T>);

impl<T> Default for Seq<T> {
    fn default() -> Self {
        Seq(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Seq<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Seq<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Seq<T>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
                while let Some(t) = seq.next_element::<T>()? {
                    out.push(t);
                }
                Ok(Seq(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seq<T>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Seq(Vec::new()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Seq<T>, D::Error> {
                Seq::deserialize(d)
            }
            skip_others!(Seq(Vec::new()));
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A string or an array of strings (`stop`), as a list: a non-empty string is one element,
/// the strings of an array are the elements, anything else is empty.
#[derive(Debug, Default)]
pub(crate) struct StrList(pub(crate) Vec<String>);

impl<'de> Deserialize<'de> for StrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<StrList, E> {
                Ok(StrList(if v.is_empty() {
                    Vec::new()
                } else {
                    vec![v.to_owned()]
                }))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrList, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Scalar<'de>>()? {
                    if let Some(s) = s.into_string() {
                        out.push(s);
                    }
                }
                Ok(StrList(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrList, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StrList(Vec::new()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<StrList, D::Error> {
                StrList::deserialize(d)
            }
            fn visit_bool<E>(self, _: bool) -> Result<StrList, E> {
                Ok(StrList(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<StrList, E> {
                Ok(StrList(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<StrList, E> {
                Ok(StrList(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<StrList, E> {
                Ok(StrList(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<StrList, E> {
                Ok(StrList(Vec::new()))
            }
            fn visit_none<E>(self) -> Result<StrList, E> {
                Ok(StrList(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The length of an array; `None` for any other JSON value. Elements are skipped, not built.
#[derive(Debug, Default)]
pub(crate) struct Count(pub(crate) Option<usize>);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(Some(n)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Count, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Count(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Count, D::Error> {
                Count::deserialize(d)
            }
            skip_others!(Count(None));
        }
        d.deserialize_any(V)
    }
}

/// Reads a whole body as `T`. A body that is valid UTF-8 (every JSON body a provider sends)
/// is checked once and read as `&str`, so serde_json does not validate each string and key
/// again (its `&[u8]` reader does, about 70 instructions per string); other bytes are read as
/// they are (serde_json skips over strings it does not keep without checking them).
pub(crate) fn read_body<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}

/// A raw JSON field as a `Value` (for the rich, rarely large parts: content blocks, tool
/// definitions, schemas). `None` when absent.
pub(crate) fn value(raw: Option<&RawValue>) -> Option<Value> {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
}

/// A JSON value that is mostly a string (a chat message's `content`): a string is read at
/// once, anything else is kept as its raw text, read when needed. `null` is `Absent`, as
/// `Option<&RawValue>` reads it.
#[derive(Debug, Default)]
pub(crate) enum StrOrRaw<'a> {
    /// Absent or `null`.
    #[default]
    Absent,
    /// A string ([`Scalar::Str`] or [`Scalar::OwnedStr`]).
    Str(Scalar<'a>),
    /// Any other value, as its text.
    Raw(&'a RawValue),
}

impl StrOrRaw<'_> {
    /// The value as a [`Value`] (`None` when absent or `null`).
    pub(crate) fn value(&self) -> Option<Value> {
        match self {
            StrOrRaw::Absent => None,
            StrOrRaw::Str(s) => s.as_str().map(Value::from),
            StrOrRaw::Raw(raw) => value(Some(raw)),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for StrOrRaw<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Some(raw) = Option::<&'de RawValue>::deserialize(d)? else {
            return Ok(StrOrRaw::Absent);
        };
        // A string serde cannot read (a lone surrogate escape) stays raw, as it was.
        Ok(match raw_str_scalar(raw) {
            Some(s) => StrOrRaw::Str(s),
            None => StrOrRaw::Raw(raw),
        })
    }
}

/// A raw JSON field that is a string: the string (unescaped), else `None`.
pub(crate) fn raw_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    raw_str_scalar(raw).and_then(|s| match s {
        Scalar::Str(s) => Some(Cow::Borrowed(s)),
        Scalar::OwnedStr(s) => Some(Cow::Owned(s.into_string())),
        _ => None,
    })
}

/// [`raw_str`] as a [`Scalar::Str`] or [`Scalar::OwnedStr`].
fn raw_str_scalar(raw: &RawValue) -> Option<Scalar<'_>> {
    if !raw.get().starts_with('"') {
        return None;
    }
    serde_json::from_str::<Scalar<'_>>(raw.get())
        .ok()
        .filter(|s| matches!(s, Scalar::Str(_) | Scalar::OwnedStr(_)))
}

/// For `#[serde(deserialize_with)]`: a raw field kept even when it is `null` (with
/// `#[serde(default)]`, `None` only when the key is absent).
pub(crate) fn keep_null<'de: 'a, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<&'a RawValue>, D::Error> {
    <&'a RawValue>::deserialize(d).map(Some)
}
