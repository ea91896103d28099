//! Mapping a payload's field names onto lead fields.

use serde_json::{Map, Value};

use super::Payload;

/// The lead fields found in a payload; everything unmapped is in `custom`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Normalized {
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: Option<String>,
    pub company: Option<String>,
    pub form_name: Option<String>,
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub gclid: Option<String>,
    pub fbclid: Option<String>,
    pub custom: Map<String, Value>,
}

impl Normalized {
    /// A lead needs at least one way to reach the person.
    pub fn has_contact(&self) -> bool {
        self.name.is_some() || self.email.is_some() || self.phone.is_some()
    }
}

pub fn normalize(_p: &Payload) -> Normalized {
    Normalized::default()
}
