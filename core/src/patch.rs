//! PATCH semantics shared by every resource: a field left out keeps its value, a field sent
//! as `null` clears it.

use serde::{Deserialize, Deserializer};

/// Tells a present `null` (Some(None)) from a missing field (None).
pub(crate) fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
