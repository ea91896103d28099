//! Spam rules: tenant keywords on word boundaries, filled honeypot fields, too many links.

use super::{Normalized, Payload};

pub struct SpamRules<'a> {
    /// Lower-case words or phrases, matched case-insensitively on word boundaries.
    pub keywords: &'a [String],
    /// Field names that only bots fill in (lower-case, compared loosely like field names).
    pub honeypot_fields: &'a [String],
    /// More links than this in the message (and other free text) is spam.
    pub max_links: usize,
}

/// The reason a submission is spam (`keyword:<word>`, `honeypot:<field>`, `links:<n>`), or
/// `None` when it looks clean.
pub fn check_spam(_p: &Payload, _n: &Normalized, _rules: &SpamRules<'_>) -> Option<String> {
    None
}
