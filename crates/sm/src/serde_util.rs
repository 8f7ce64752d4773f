//! Small serde helpers for fields whose `null` must survive a round trip.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// For `Option<serde_json::Value>` fields holding "any JSON": a present `null` becomes
/// `Some(Value::Null)` (plain `Option<Value>` would turn it into `None` and drop it).
pub(crate) fn some_value<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// For `Option<Option<T>>` fields that may be absent (`None`), `null` (`Some(None)`) or a value.
pub(crate) mod nullable {
    use super::*;

    pub(crate) fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }

    pub(crate) fn serialize<S, T>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        T: Serialize,
    {
        match v {
            Some(Some(x)) => x.serialize(s),
            _ => s.serialize_none(),
        }
    }
}
