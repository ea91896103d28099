//! PATCH semantics shared by every resource: a field left out keeps its value, a field sent
//! as `null` clears it.

use serde::{Deserialize, Deserializer};

/// Tells a present `null` (Some(None)) from a missing field (None).
pub(crate) fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A field that may be left out of a PATCH but has no "none" to clear it to: a present
/// `null` is refused (400 naming the field) instead of being read as "left out".
pub(crate) fn not_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    // Read as an Option first: asked for a value outright, some types (enums) report a
    // `null` as malformed JSON rather than as the wrong type at this field.
    match Option::<T>::deserialize(d)? {
        Some(v) => Ok(Some(v)),
        None => Err(serde::de::Error::invalid_type(
            serde::de::Unexpected::Unit,
            &"a value (null clears nothing here; leave the field out to keep it)",
        )),
    }
}
