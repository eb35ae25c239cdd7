//! Values as users hold them, turned into OpenTelemetry attribute values: the one place
//! where a borrowed `&str`, a `String`, a `Cow<str>` or a number becomes a [`Value`].
//!
//! Every value-taking API of llmetry (association properties, the conversation id) goes
//! through [`AttributeValue`] or [`AttributeText`], so they accept the same types, of any
//! lifetime. Strings are copied once into a reference-counted `Arc<str>`: the value is then
//! cloned onto every span started beneath for the price of a counter increment.

use std::borrow::Cow;
use std::sync::Arc;

use opentelemetry::{StringValue, Value};

/// Anything that can become an attribute value: text (`&str` of any lifetime, `String`,
/// `&String`, `Cow<str>`, `Box<str>`, `Arc<str>`), integers (kept as integers), floats,
/// `bool`, and OpenTelemetry's own [`Value`] and [`StringValue`].
///
/// What [`set_association_properties`](crate::set_association_properties) and
/// [`with_association_properties`](crate::with_association_properties) take as values, so a
/// borrowed parameter works as well as a literal:
///
/// ```
/// use llmetry::AttributeValue;
/// use opentelemetry::Value;
///
/// fn props(incident_id: &str, user: &String, attempt: u32) -> Vec<Value> {
///     vec![
///         incident_id.into_attribute_value(),
///         user.into_attribute_value(),
///         attempt.into_attribute_value(),
///         true.into_attribute_value(),
///     ]
/// }
/// let user = "u-42".to_owned();
/// assert_eq!(
///     props("INC-7", &user, 3),
///     [Value::from("INC-7"), Value::from("u-42"), Value::I64(3), Value::Bool(true)]
/// );
/// ```
///
/// Integers that do not fit an `i64` (a `u64` or `u128` above `i64::MAX`) are written as
/// their decimal text rather than cut or wrapped.
pub trait AttributeValue {
    /// The OpenTelemetry value (strings reference-counted, integers as `i64`).
    ///
    /// ```
    /// use llmetry::AttributeValue;
    /// assert_eq!(u64::MAX.into_attribute_value().as_str(), "18446744073709551615");
    /// assert_eq!(2.5f32.into_attribute_value(), opentelemetry::Value::F64(2.5));
    /// ```
    fn into_attribute_value(self) -> Value;
}

/// Text that can become an attribute value: `&str` of any lifetime, `String`, `&String`,
/// `Cow<str>`, `Box<str>`, `Arc<str>`, [`StringValue`].
///
/// What [`set_conversation_id`](crate::set_conversation_id) and
/// [`with_conversation_id`](crate::with_conversation_id) take:
///
/// ```
/// use llmetry::AttributeText;
/// use std::borrow::Cow;
///
/// fn conversation(id: &str) -> String {
///     id.into_string_value().to_string()
/// }
/// assert_eq!(conversation("conv-1"), "conv-1");
/// assert_eq!(Cow::Borrowed("conv-2").into_string_value().as_str(), "conv-2");
/// ```
pub trait AttributeText {
    /// The text as a cheaply cloned [`StringValue`].
    ///
    /// ```
    /// use llmetry::AttributeText;
    /// let id = String::from("conv-1");
    /// assert_eq!((&id).into_string_value().as_str(), "conv-1");
    /// assert_eq!(id.into_string_value().as_str(), "conv-1");
    /// ```
    fn into_string_value(self) -> StringValue;
}

fn shared(s: &str) -> StringValue {
    StringValue::from(Arc::<str>::from(s))
}

impl AttributeText for &str {
    fn into_string_value(self) -> StringValue {
        shared(self)
    }
}

impl AttributeText for &&str {
    fn into_string_value(self) -> StringValue {
        shared(self)
    }
}

impl AttributeText for String {
    fn into_string_value(self) -> StringValue {
        StringValue::from(Arc::<str>::from(self))
    }
}

impl AttributeText for &String {
    fn into_string_value(self) -> StringValue {
        shared(self)
    }
}

impl AttributeText for Cow<'_, str> {
    fn into_string_value(self) -> StringValue {
        match self {
            Cow::Borrowed(s) => shared(s),
            Cow::Owned(s) => s.into_string_value(),
        }
    }
}

impl AttributeText for &Cow<'_, str> {
    fn into_string_value(self) -> StringValue {
        shared(self)
    }
}

impl AttributeText for Box<str> {
    fn into_string_value(self) -> StringValue {
        StringValue::from(Arc::<str>::from(self))
    }
}

impl AttributeText for Arc<str> {
    fn into_string_value(self) -> StringValue {
        StringValue::from(self)
    }
}

impl AttributeText for &Arc<str> {
    fn into_string_value(self) -> StringValue {
        StringValue::from(Arc::clone(self))
    }
}

impl AttributeText for StringValue {
    fn into_string_value(self) -> StringValue {
        // An owned `String` inside would be copied on every clone: share it instead.
        shared(self.as_str())
    }
}

impl AttributeText for &StringValue {
    fn into_string_value(self) -> StringValue {
        shared(self.as_str())
    }
}

/// Every text type is a value (a string value).
macro_rules! text_values {
    ($($t:ty),* $(,)?) => {$(
        impl AttributeValue for $t {
            fn into_attribute_value(self) -> Value {
                Value::String(self.into_string_value())
            }
        }
    )*};
}

text_values!(
    &str,
    &&str,
    String,
    &String,
    Cow<'_, str>,
    &Cow<'_, str>,
    Box<str>,
    Arc<str>,
    &Arc<str>,
    StringValue,
    &StringValue,
);

/// Integers that always fit an `i64`.
macro_rules! small_ints {
    ($($t:ty),* $(,)?) => {$(
        impl AttributeValue for $t {
            fn into_attribute_value(self) -> Value {
                Value::I64(i64::from(self))
            }
        }
        impl AttributeValue for &$t {
            fn into_attribute_value(self) -> Value {
                Value::I64(i64::from(*self))
            }
        }
    )*};
}

small_ints!(i8, i16, i32, i64, u8, u16, u32);

/// Integers that may not fit an `i64`: kept as integers when they do, else decimal text.
macro_rules! wide_ints {
    ($($t:ty),* $(,)?) => {$(
        impl AttributeValue for $t {
            fn into_attribute_value(self) -> Value {
                match i64::try_from(self) {
                    Ok(v) => Value::I64(v),
                    Err(_) => Value::String(StringValue::from(self.to_string())),
                }
            }
        }
        impl AttributeValue for &$t {
            fn into_attribute_value(self) -> Value {
                (*self).into_attribute_value()
            }
        }
    )*};
}

wide_ints!(u64, usize, isize, i128, u128);

impl AttributeValue for f64 {
    fn into_attribute_value(self) -> Value {
        Value::F64(self)
    }
}

impl AttributeValue for &f64 {
    fn into_attribute_value(self) -> Value {
        Value::F64(*self)
    }
}

impl AttributeValue for f32 {
    fn into_attribute_value(self) -> Value {
        Value::F64(f64::from(self))
    }
}

impl AttributeValue for &f32 {
    fn into_attribute_value(self) -> Value {
        Value::F64(f64::from(*self))
    }
}

impl AttributeValue for bool {
    fn into_attribute_value(self) -> Value {
        Value::Bool(self)
    }
}

impl AttributeValue for &bool {
    fn into_attribute_value(self) -> Value {
        Value::Bool(*self)
    }
}

impl AttributeValue for Value {
    fn into_attribute_value(self) -> Value {
        match self {
            Value::String(s) => Value::String(s.into_string_value()),
            other => other,
        }
    }
}

impl AttributeValue for &Value {
    fn into_attribute_value(self) -> Value {
        self.clone().into_attribute_value()
    }
}

/// Association properties of mixed value types in one call, where an array of pairs would
/// need one value type: `"key" => value` pairs, each value anything [`AttributeValue`]
/// takes (borrowed or owned text, integers, floats, bools). Keys are string literals or
/// any `AsRef<str>` expression. It gives an array of `(String, Value)` pairs, for
/// [`set_association_properties`](crate::set_association_properties) and
/// [`with_association_properties`](crate::with_association_properties).
///
/// ```rust,standalone_crate
/// use opentelemetry_sdk::trace::InMemorySpanExporter;
///
/// #[llmetry::workflow(name = "rca")]
/// fn rca(incident_id: &str, user: &String, attempt: u32) {
///     llmetry::set_association_properties(llmetry::association_properties! {
///         "incident_id" => incident_id,
///         "user_id" => user,
///         "attempt" => attempt,
///         "dry_run" => false,
///     });
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let spans = InMemorySpanExporter::default();
/// let telemetry = llmetry::init()
///     .exporter(spans.clone())
///     .silence_init_message(true)
/// #   .env_source(llmetry::EnvSource::from_pairs([("OTEL_SERVICE_NAME", "doc")]))
///     .install()?;
/// rca("INC-7", &"u-42".to_owned(), 3);
/// telemetry.flush()?;
/// let span = &spans.get_finished_spans()?[0];
/// let attr = |k: &str| {
///     let key = format!("traceloop.association.properties.{k}");
///     span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.clone())
/// };
/// assert_eq!(attr("incident_id"), Some("INC-7".into()));
/// assert_eq!(attr("user_id"), Some("u-42".into()));
/// assert_eq!(attr("attempt"), Some(opentelemetry::Value::I64(3)));
/// assert_eq!(attr("dry_run"), Some(opentelemetry::Value::Bool(false)));
/// telemetry.shutdown()?;
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! association_properties {
    ($($key:expr => $value:expr),* $(,)?) => {
        [$((
            ::std::string::String::from(::core::convert::AsRef::<str>::as_ref(&$key)),
            $crate::AttributeValue::into_attribute_value($value),
        )),*]
    };
}
