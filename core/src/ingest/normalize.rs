//! Mapping a payload's field names onto lead fields.
//!
//! Every place a lead field may come from yields a *candidate* with a rank; the best-ranked
//! candidate per lead field wins, and only winners leave `custom`. So the outcome does not
//! depend on key order, and a second e-mail field is kept rather than dropped. Ranks, best
//! first: an exact top-level name; a name inside a known object (Fluent `names`, Elementor
//! `form`); metadata (`__submission`, Elementor `meta`); Elementor advanced fields by
//! type, title, then id; Gravity Forms name sub-ids; numeric ids by value shape; and last, a
//! label that merely mentions e-mail/phone with a value of that shape.

use serde_json::{Map, Value};
use std::borrow::Cow;

use super::Payload;
use super::aliases::{
    self, CREDENTIAL_FIELDS, ELEMENTOR_TYPES, EMAIL_HINTS, GRAVITY_FIRST, GRAVITY_LAST,
    GRAVITY_NAME_SUBS, META_CONTAINERS, PHONE_HINTS, Target,
};
use super::clean;
use super::payload::MAX_DEPTH;
use super::shape::{looks_like_email, looks_like_free_text, loose, loose_into, text};
use crate::phone::{looks_like_phone, normalize_phone};

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
    /// The visitor's address as the site saw it (Gravity `ip`, Elementor `meta[remote_ip]`,
    /// Fluent `__submission.ip`); also left in `custom` where it was found.
    pub ip: Option<String>,
    /// The visitor's browser as the site saw it; also left in `custom` where it was found.
    pub user_agent: Option<String>,
    pub custom: Map<String, Value>,
}

impl Normalized {
    /// Moves the mapped fields and `custom` onto a lead (the daemon's ingest path).
    pub fn fill(self, lead: &mut crate::leads::Lead) {
        lead.name = self.name;
        lead.first_name = self.first_name;
        lead.last_name = self.last_name;
        lead.email = self.email;
        lead.phone = self.phone;
        lead.message = self.message;
        lead.company = self.company;
        lead.form_name = self.form_name;
        lead.page_url = self.page_url;
        lead.referrer = self.referrer;
        lead.utm_source = self.utm_source;
        lead.utm_medium = self.utm_medium;
        lead.utm_campaign = self.utm_campaign;
        lead.utm_term = self.utm_term;
        lead.utm_content = self.utm_content;
        lead.gclid = self.gclid;
        lead.fbclid = self.fbclid;
        lead.ip = self.ip;
        lead.user_agent = self.user_agent;
        lead.custom = Value::Object(self.custom);
    }

    /// A lead needs at least one way to reach the person.
    pub fn has_contact(&self) -> bool {
        self.name.is_some() || self.email.is_some() || self.phone.is_some()
    }

    /// Sets a lead field from a value whose meaning the sender states (an ad platform's
    /// column id, not a form's guessable label), cleaned and capped as [`normalize`] does.
    /// The first value that survives cleaning wins; one that does not (a phone without a
    /// digit, a blank) returns `false` so the caller can keep it in `custom`.
    pub(crate) fn put(&mut self, target: Target, raw: &str) -> bool {
        if self.slot(target).is_some() {
            return false;
        }
        let Some((value, cut)) = clean(target, raw) else {
            return false;
        };
        *self.slot(target) = Some(value);
        if let Some(chars) = cut {
            self.note_cut(target, chars);
        }
        true
    }

    /// Keeps a value in `custom` under `key`, cleaned as [`normalize`] keeps unmapped fields
    /// (a key already there gets underscores in front, never overwritten).
    pub(crate) fn put_custom(&mut self, key: &str, value: &Value) {
        insert_unique(
            &mut self.custom,
            clean::single_line(key).into_owned(),
            safe(value, 0),
        );
    }

    /// `name` from first and last name when the sender gave no whole name, as [`normalize`]
    /// does.
    pub(crate) fn complete_name(&mut self) {
        if self.name.is_some() {
            return;
        }
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .filter_map(|s| s.as_deref())
            .collect();
        if parts.is_empty() {
            return;
        }
        let (name, was) = clean::cap(parts.join(" "), clean::NAME_MAX);
        self.name = Some(name);
        if let Some(chars) = was {
            self.note_cut(Target::Name, chars);
        }
    }

    fn note_cut(&mut self, target: Target, chars: usize) {
        let entry = self
            .custom
            .entry(TRUNCATED_KEY.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(cut) = entry {
            cut.insert(target.field().to_owned(), Value::from(chars));
        }
    }

    fn slot(&mut self, t: Target) -> &mut Option<String> {
        match t {
            Target::Name => &mut self.name,
            Target::FirstName => &mut self.first_name,
            Target::LastName => &mut self.last_name,
            Target::Email => &mut self.email,
            Target::Phone => &mut self.phone,
            Target::Message => &mut self.message,
            Target::Company => &mut self.company,
            Target::FormName => &mut self.form_name,
            Target::PageUrl => &mut self.page_url,
            Target::Referrer => &mut self.referrer,
            Target::UtmSource => &mut self.utm_source,
            Target::UtmMedium => &mut self.utm_medium,
            Target::UtmCampaign => &mut self.utm_campaign,
            Target::UtmTerm => &mut self.utm_term,
            Target::UtmContent => &mut self.utm_content,
            Target::Gclid => &mut self.gclid,
            Target::Fbclid => &mut self.fbclid,
            Target::Ip => &mut self.ip,
            Target::UserAgent => &mut self.user_agent,
        }
    }
}

/// Key under which [`Payload::files`] are listed in `custom`; underscores are added if a form
/// field already has the name.
pub const FILES_KEY: &str = "files";
/// Key under which `custom` records the lead fields that were cut to their cap, each with its
/// length as sent in characters (`{"name": 65000}`); underscores are added like
/// [`FILES_KEY`]. The raw body holds the whole value.
pub const TRUNCATED_KEY: &str = "truncated";

impl Target {
    /// The lead field's name, as in the API.
    fn field(self) -> &'static str {
        match self {
            Target::Name => "name",
            Target::FirstName => "first_name",
            Target::LastName => "last_name",
            Target::Email => "email",
            Target::Phone => "phone",
            Target::Message => "message",
            Target::Company => "company",
            Target::FormName => "form_name",
            Target::PageUrl => "page_url",
            Target::Referrer => "referrer",
            Target::UtmSource => "utm_source",
            Target::UtmMedium => "utm_medium",
            Target::UtmCampaign => "utm_campaign",
            Target::UtmTerm => "utm_term",
            Target::UtmContent => "utm_content",
            Target::Gclid => "gclid",
            Target::Fbclid => "fbclid",
            Target::Ip => "ip",
            Target::UserAgent => "user_agent",
        }
    }

    /// The longest value kept, in characters (see `clean.rs`).
    fn max_chars(self) -> usize {
        match self {
            Target::Name | Target::FirstName | Target::LastName => clean::NAME_MAX,
            Target::Email => clean::EMAIL_MAX,
            Target::Phone => clean::PHONE_MAX,
            Target::Message => clean::MESSAGE_MAX,
            Target::Company | Target::FormName => clean::COMPANY_MAX,
            Target::PageUrl | Target::Referrer => clean::URL_MAX,
            Target::UtmSource
            | Target::UtmMedium
            | Target::UtmCampaign
            | Target::UtmTerm
            | Target::UtmContent
            | Target::Gclid
            | Target::Fbclid => clean::UTM_MAX,
            Target::Ip => clean::IP_MAX,
            Target::UserAgent => clean::USER_AGENT_MAX,
        }
    }
}

const RANK_TOP: u32 = 0;
const RANK_NESTED: u32 = 100;
const RANK_META: u32 = 150;
const RANK_ELEMENTOR_TYPE: u32 = 200;
const RANK_ELEMENTOR_TITLE: u32 = 300;
const RANK_ELEMENTOR_ID: u32 = 400;
const RANK_GRAVITY_NAME: u32 = 500;
const RANK_SHAPE: u32 = 600;
const RANK_HINT: u32 = 700;

/// Where a candidate came from, so a winner can be taken out of `custom`.
#[derive(Debug, Clone)]
enum Origin<'a> {
    Top(&'a str),
    Sub(&'a str, &'a str),
}

#[derive(Debug)]
struct Candidate<'a> {
    target: Target,
    rank: u32,
    value: String,
    /// The value's length as sent (characters) when it was cut to the field's cap.
    cut: Option<usize>,
    origin: Origin<'a>,
}

#[derive(Default)]
struct Candidates<'a>(Vec<Candidate<'a>>);

impl<'a> Candidates<'a> {
    /// Adds a candidate if its value survives the target's clean-up (a phone with no digit
    /// does not, and then stays in `custom`).
    fn push(&mut self, target: Target, rank: u32, raw: &str, origin: Origin<'a>) {
        if let Some((value, cut)) = clean(target, raw) {
            self.0.push(Candidate {
                target,
                rank,
                value,
                cut,
                origin,
            });
        }
    }
}

/// The stored form of a value for a lead field (see `clean.rs`): controls and invisible
/// characters removed (the message keeps its line breaks), trimmed, cut to the field's cap;
/// with the length as sent when it was cut. `None` when nothing is left.
fn clean(target: Target, raw: &str) -> Option<(String, Option<usize>)> {
    let text = match target {
        Target::Message => clean::multi_line(raw),
        _ => clean::single_line(raw),
    };
    let text = text.trim();
    let value = match target {
        Target::Email => {
            let lower = text.to_lowercase();
            let bare = lower.strip_prefix("mailto:").unwrap_or(&lower).trim();
            (!bare.is_empty()).then(|| bare.to_owned())
        }
        Target::Phone => normalize_phone(text),
        _ => (!text.is_empty()).then(|| text.to_owned()),
    }?;
    Some(clean::cap(value, target.max_chars()))
}

/// Maps a payload onto lead fields. Rules (the tables are in `aliases.rs`):
/// - names compare loosely: case, `-`, `_`, spaces and other punctuation ignored, CF7's
///   `your-` prefix dropped;
/// - control characters and invisible format characters removed (the message keeps line
///   breaks, as `\n`), see `clean.rs`;
/// - e-mail trimmed and lower-cased; phone reduced to digits with a leading `+` kept; other
///   text trimmed; blank values are absent;
/// - each lead field cut to its cap in characters; the cut fields are listed with their
///   length as sent under [`TRUNCATED_KEY`] in `custom`;
/// - `name` is kept as given; only when it is absent and first/last are present does it become
///   `"first last"`;
/// - `ip` and `user_agent` are exposed and also stay in `custom`;
/// - everything else, and every mapped-looking field that lost to a better one, stays in
///   `custom` under its original key with its original value, less control and invisible
///   characters (strings keep their line breaks and are not trimmed); the API key never does;
/// - uploaded file names are listed under [`FILES_KEY`].
pub fn normalize(p: &Payload) -> Normalized {
    let mut cands = Candidates::default();
    let mut gravity: Vec<(u64, Option<u32>, &str, &Value)> = Vec::new();
    let mut credentials: Vec<&str> = Vec::new();

    let mut l = String::new();
    for (key, value) in &p.fields {
        loose_into(&mut l, key);
        if CREDENTIAL_FIELDS.contains(&l.as_str()) {
            credentials.push(key);
            continue;
        }
        if let Some((major, sub)) = gravity_id(key) {
            gravity.push((major, sub, key, value));
            continue;
        }
        match value {
            Value::Object(obj) if l == "fields" => elementor_fields(&mut cands, key, obj),
            Value::Object(obj) if META_CONTAINERS.contains(&l.as_str()) => {
                meta(&mut cands, key, obj);
            }
            Value::Object(obj) if l == "form" => {
                if let Some(name) = obj.get("name").and_then(text) {
                    let origin = Origin::Sub(key, "name");
                    cands.push(Target::FormName, RANK_NESTED, &name, origin);
                }
            }
            Value::Object(obj)
                if matches!(aliases::FIELDS.get(&l), Some((Target::Name, _)))
                    && !obj.contains_key("value") =>
            {
                nested_by_name(&mut cands, key, obj);
            }
            _ => top_level(&mut cands, key, &l, value),
        }
    }
    gravity_fields(&mut cands, &mut gravity);
    resolve(cands, p, &credentials)
}

fn top_level<'a>(cands: &mut Candidates<'a>, key: &'a str, l: &str, value: &Value) {
    let Some(t) = text(value) else { return };
    let origin = Origin::Top(key);
    if let Some((target, i)) = aliases::FIELDS.get(l) {
        cands.push(target, RANK_TOP + i, &t, origin);
    } else if let Some(target) = hinted(key, &t) {
        cands.push(target, RANK_HINT, &t, origin);
    }
}

/// A label that mentions e-mail or phone, with a value of that shape (`Work Email`). Words
/// are compared by prefix, not substring, so `Hotel` is not a `tel`.
fn hinted(label: &str, value: &str) -> Option<Target> {
    let lower = label.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).collect();
    let mentions = |hints: &[&str]| words.iter().any(|w| hints.iter().any(|h| w.starts_with(h)));
    if mentions(EMAIL_HINTS) && looks_like_email(value) {
        Some(Target::Email)
    } else if mentions(PHONE_HINTS) && looks_like_phone(value) {
        Some(Target::Phone)
    } else {
        None
    }
}

/// Fluent's `names[first_name]`/`names[last_name]`, or any `name[first]`-style object.
fn nested_by_name<'a>(cands: &mut Candidates<'a>, key: &'a str, obj: &'a Map<String, Value>) {
    for (sub, v) in obj {
        let (Some((target, i)), Some(t)) = (aliases::FIELDS.get(&loose(sub)), text(v)) else {
            continue;
        };
        if matches!(target, Target::Name | Target::FirstName | Target::LastName) {
            cands.push(target, RANK_NESTED + i, &t, Origin::Sub(key, sub));
        }
    }
}

/// Fluent's `__submission` and Elementor's `meta[<key>][value]`.
fn meta<'a>(cands: &mut Candidates<'a>, key: &'a str, obj: &'a Map<String, Value>) {
    for (sub, v) in obj {
        let l = loose(sub);
        let found = aliases::FIELDS.get(&l).or_else(|| aliases::META.get(&l));
        if let (Some((target, i)), Some(t)) = (found, text(v)) {
            cands.push(target, RANK_META + i, &t, Origin::Sub(key, sub));
        }
    }
}

/// Elementor's advanced data: `fields[<id>][id|type|title|value|raw_value]`. The type is the
/// surest sign (the site owner picked an e-mail input), then the label, then the id (which is
/// `name`/`email`/`message` on Elementor's default form and random otherwise). A `fields`
/// object of plain values is read like top-level fields.
fn elementor_fields<'a>(cands: &mut Candidates<'a>, key: &'a str, obj: &'a Map<String, Value>) {
    for (id, entry) in obj {
        let origin = Origin::Sub(key, id);
        let Value::Object(e) = entry else {
            if let (Some((target, i)), Some(t)) = (aliases::FIELDS.get(&loose(id)), text(entry)) {
                cands.push(target, RANK_NESTED + i, &t, origin);
            }
            continue;
        };
        let Some(value) = e
            .get("value")
            .and_then(text)
            .or_else(|| e.get("raw_value").and_then(text))
        else {
            continue;
        };
        let ty = e
            .get("type")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if ty == "honeypot" {
            continue;
        }
        let title = e.get("title").and_then(Value::as_str).unwrap_or_default();
        let own_id = e.get("id").and_then(Value::as_str).unwrap_or(id);
        let best = ELEMENTOR_TYPES
            .iter()
            .find(|(_, t)| *t == ty)
            .map(|(target, _)| (*target, RANK_ELEMENTOR_TYPE))
            .or_else(|| {
                aliases::FIELDS
                    .get(&loose(title))
                    .map(|(t, i)| (t, RANK_ELEMENTOR_TITLE + i))
            })
            .or_else(|| {
                aliases::FIELDS
                    .get(&loose(own_id))
                    .map(|(t, i)| (t, RANK_ELEMENTOR_ID + i))
            })
            .or_else(|| hinted(title, &value).map(|t| (t, RANK_HINT)));
        if let Some((target, rank)) = best {
            cands.push(target, rank, &value, origin);
        }
    }
}

/// `"3"` → (3, None), `"1.3"` → (1, Some(3)); anything else is not a Gravity Forms field id.
fn gravity_id(key: &str) -> Option<(u64, Option<u32>)> {
    let all_digits =
        |s: &str| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
    match key.split_once('.') {
        None if all_digits(key) => Some((key.parse().ok()?, None)),
        Some((major, sub)) if all_digits(major) && all_digits(sub) => {
            Some((major.parse().ok()?, Some(sub.parse().ok()?)))
        }
        _ => None,
    }
}

/// Gravity Forms keys fields by numeric id, which says nothing about the field. Name inputs
/// are recognised by their sub-ids; whole ids by the value's shape: the first e-mail-looking
/// value is the e-mail, the first phone-looking one the phone, the longest free text the
/// message. Ids are taken in numeric order so `"10"` comes after `"9"`.
fn gravity_fields<'a>(
    cands: &mut Candidates<'a>,
    fields: &mut [(u64, Option<u32>, &'a str, &Value)],
) {
    fields.sort_by_key(|(major, sub, _, _)| (*major, *sub));
    let subs_of = |major: u64| {
        fields
            .iter()
            .filter(move |(m, _, _, _)| *m == major)
            .map(|(_, s, _, _)| *s)
    };
    let mut message: Option<(usize, Cow<'_, str>, &str)> = None;
    for (major, sub, key, value) in fields.iter() {
        let Some(t) = text(value) else { continue };
        let origin = Origin::Top(key);
        match sub {
            Some(s) => {
                let is_name =
                    subs_of(*major).all(|s| s.is_some_and(|s| GRAVITY_NAME_SUBS.contains(&s)));
                let target = match *s {
                    GRAVITY_FIRST => Some(Target::FirstName),
                    GRAVITY_LAST => Some(Target::LastName),
                    _ => None,
                };
                if let (true, Some(target)) = (is_name, target) {
                    cands.push(target, RANK_GRAVITY_NAME, &t, origin);
                }
            }
            None if looks_like_email(&t) => cands.push(Target::Email, RANK_SHAPE, &t, origin),
            None if looks_like_phone(&t) => cands.push(Target::Phone, RANK_SHAPE, &t, origin),
            None if looks_like_free_text(&t) => {
                let len = t.chars().count();
                if message.as_ref().is_none_or(|(best, _, _)| len > *best) {
                    message = Some((len, t, key));
                }
            }
            None => {}
        }
    }
    if let Some((_, t, key)) = message {
        cands.push(Target::Message, RANK_SHAPE, &t, Origin::Top(key));
    }
}

fn resolve(mut cands: Candidates, p: &Payload, credentials: &[&str]) -> Normalized {
    // Stable: equal ranks keep payload order.
    cands.0.sort_by_key(|c| (c.target, c.rank));
    let mut n = Normalized::default();
    // Where the winners came from: they leave `custom`, which is built after, so a value
    // that moves into a lead field is never copied into `custom` first.
    let mut taken: Vec<Origin<'_>> = Vec::new();
    let mut cut = Map::new();
    for c in cands.0 {
        let slot = n.slot(c.target);
        if slot.is_some() {
            continue;
        }
        *slot = Some(c.value);
        if let Some(chars) = c.cut {
            cut.insert(c.target.field().to_owned(), Value::from(chars));
        }
        if !c.target.kept_in_custom() {
            taken.push(c.origin);
        }
    }
    let mut custom = Map::new();
    for (key, value) in &p.fields {
        if credentials.contains(&key.as_str())
            || taken
                .iter()
                .any(|o| matches!(o, Origin::Top(k) if k == key))
        {
            continue;
        }
        let put = |custom: &mut Map<String, Value>, value: Value| {
            insert_unique(custom, clean::single_line(key).into_owned(), value);
        };
        let subs: Vec<&str> = taken
            .iter()
            .filter_map(|o| match o {
                Origin::Sub(k, sub) if *k == key => Some(*sub),
                _ => None,
            })
            .collect();
        match value {
            Value::Object(o) if !subs.is_empty() => {
                let mut rest = Map::new();
                for (k, v) in o.iter().filter(|(k, _)| !subs.contains(&k.as_str())) {
                    insert_unique(&mut rest, clean::single_line(k).into_owned(), safe(v, 0));
                }
                if !rest.is_empty() {
                    put(&mut custom, Value::Object(rest));
                }
            }
            _ => put(&mut custom, safe(value, 0)),
        }
    }
    if n.name.is_none() {
        let parts: Vec<&str> = [&n.first_name, &n.last_name]
            .into_iter()
            .filter_map(|s| s.as_deref())
            .collect();
        if !parts.is_empty() {
            let (name, was) = clean::cap(parts.join(" "), clean::NAME_MAX);
            if let Some(chars) = was {
                cut.insert(Target::Name.field().to_owned(), Value::from(chars));
            }
            n.name = Some(name);
        }
    }
    if !p.files.is_empty() {
        let names = p
            .files
            .iter()
            .map(|f| Value::String(clean::single_line(f).into_owned()))
            .collect();
        insert_unique(&mut custom, FILES_KEY.to_owned(), Value::Array(names));
    }
    if !cut.is_empty() {
        insert_unique(&mut custom, TRUNCATED_KEY.to_owned(), Value::Object(cut));
    }
    n.custom = custom;
    n
}

/// Inserts under `key`, or under `_key`, `__key`… when a field already has the name: two
/// keys that differed only by invisible characters stay two fields, and a form's own field
/// named like one of ours is not overwritten.
fn insert_unique(map: &mut Map<String, Value>, mut key: String, value: Value) {
    while map.contains_key(&key) {
        key.insert(0, '_');
    }
    map.insert(key, value);
}

/// A copy of a `custom` value with every string and key clean of control and invisible
/// characters (strings keep line breaks; see `clean.rs`).
fn safe(v: &Value, depth: usize) -> Value {
    match v {
        Value::String(s) => Value::String(clean::multi_line(s).into_owned()),
        Value::Array(items) if depth <= MAX_DEPTH => {
            Value::Array(items.iter().map(|i| safe(i, depth + 1)).collect())
        }
        Value::Object(o) if depth <= MAX_DEPTH => {
            let mut out = Map::new();
            for (k, item) in o {
                insert_unique(
                    &mut out,
                    clean::single_line(k).into_owned(),
                    safe(item, depth + 1),
                );
            }
            Value::Object(out)
        }
        // Deeper than any parser builds: nothing is kept rather than something unclean.
        Value::Array(_) | Value::Object(_) => Value::Null,
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn norm(v: Value) -> Normalized {
        let Value::Object(fields) = v else {
            panic!("test payloads are objects")
        };
        normalize(&Payload {
            fields,
            files: Vec::new(),
        })
    }

    #[test]
    fn name_aliases_table() {
        let cases: &[(&str, &str)] = &[
            ("name", "name"),
            ("Full Name", "name"),
            ("fullname", "name"),
            ("your-name", "name"),
            ("Name", "name"),
            ("first_name", "first_name"),
            ("firstname", "first_name"),
            ("fname", "first_name"),
            ("last_name", "last_name"),
            ("lastname", "last_name"),
            ("lname", "last_name"),
            ("email", "email"),
            ("e-mail", "email"),
            ("your-email", "email"),
            ("email_address", "email"),
            ("Email", "email"),
            ("phone", "phone"),
            ("tel", "phone"),
            ("telephone", "phone"),
            ("your-tel", "phone"),
            ("your-phone", "phone"),
            ("mobile", "phone"),
            ("phone_number", "phone"),
            ("message", "message"),
            ("your-message", "message"),
            ("comments", "message"),
            ("comment", "message"),
            ("enquiry", "message"),
            ("inquiry", "message"),
            ("notes", "message"),
            ("details", "message"),
            ("company", "company"),
            ("Organisation", "company"),
            ("page_url", "page_url"),
            ("source_url", "page_url"),
            ("url", "page_url"),
            ("referer", "referrer"),
            ("referrer", "referrer"),
            ("utm_source", "utm_source"),
            ("UTM-Medium", "utm_medium"),
            ("utm_campaign", "utm_campaign"),
            ("utm_term", "utm_term"),
            ("utm_content", "utm_content"),
            ("gclid", "gclid"),
            ("fbclid", "fbclid"),
            ("form_name", "form_name"),
            ("user_agent", "user_agent"),
            ("ip", "ip"),
            ("remote_ip", "ip"),
        ];
        // Values every target keeps as they are (a phone's digits, an e-mail's lower case).
        for (key, field) in cases {
            let value = match *field {
                "phone" => "5550102000",
                "email" => "jane@example.com",
                _ => "Some Value",
            };
            let n = norm(json!({ *key: value }));
            assert_eq!(
                super::super::tests::field(&n, field),
                Some(value),
                "{key} → {field}"
            );
            let in_custom = n.custom.contains_key(*key);
            assert_eq!(
                in_custom,
                matches!(*field, "ip" | "user_agent"),
                "{key} in custom"
            );
        }
    }

    #[test]
    fn fill_moves_every_field_onto_the_lead() {
        const FIELDS: [&str; 19] = [
            "name",
            "first_name",
            "last_name",
            "email",
            "phone",
            "message",
            "company",
            "form_name",
            "page_url",
            "referrer",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
            "gclid",
            "fbclid",
            "ip",
            "user_agent",
        ];
        // Each field its own value, so a field copied into the wrong place shows.
        let mut payload: Map<String, Value> = FIELDS
            .iter()
            .map(|f| (f.to_string(), json!(format!("v-{f}"))))
            .collect();
        payload.insert("phone".into(), json!("5550102000"));
        payload.insert("email".into(), json!("jane@example.com"));
        payload.insert("colour".into(), json!("red"));
        let n = normalize(&Payload {
            fields: payload,
            files: Vec::new(),
        });
        let want = n.clone();
        let at = chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let id = uuid::Uuid::from_u128(1);
        let mut lead = crate::leads::Lead::blank(id, id, id, at);
        n.fill(&mut lead);
        let got = serde_json::to_value(&lead).unwrap();
        for f in FIELDS {
            let w = super::super::tests::field(&want, f);
            assert!(w.is_some(), "{f} mapped");
            assert_eq!(got[f].as_str(), w, "{f}");
        }
        assert_eq!(lead.custom, Value::Object(want.custom));
        assert_eq!(lead.custom["colour"], json!("red"));
    }

    #[test]
    fn unknown_names_stay_in_custom_untouched() {
        let n = norm(json!({
            "website": "https://acme.test",
            "checkbox-1": ["A", "B"],
            "services": "Tours||Pricing",
            "date": {"value": "05/01/2026", "unix": 1777593600},
            "blank": "",
            "padded": "  x  ",
            "flag": true,
        }));
        assert!(!n.has_contact());
        assert_eq!(
            Value::Object(n.custom),
            json!({
                "website": "https://acme.test",
                "checkbox-1": ["A", "B"],
                "services": "Tours||Pricing",
                "date": {"value": "05/01/2026", "unix": 1777593600},
                "blank": "",
                "padded": "  x  ",
                "flag": true,
            })
        );
    }

    #[test]
    fn values_are_cleaned() {
        let n = norm(json!({
            "name": "  Jane Doe ",
            "email": " Jane.DOE@Example.COM ",
            "phone": "+1 (555) 010-2000",
            "message": "  Hi\nthere  ",
            "company": "   ",
        }));
        assert_eq!(n.name.as_deref(), Some("Jane Doe"));
        assert_eq!(n.email.as_deref(), Some("jane.doe@example.com"));
        assert_eq!(n.phone.as_deref(), Some("+15550102000"));
        assert_eq!(n.message.as_deref(), Some("Hi\nthere"));
        assert_eq!(n.company, None);
        // A blank mapped field is absent, and its empty value is not worth keeping either.
        assert_eq!(Value::Object(n.custom), json!({"company": "   "}));
    }

    #[test]
    fn email_and_phone_edge_cases() {
        let cases: Vec<(Value, Option<&str>, Option<&str>)> = vec![
            (
                json!({"email": "MAILTO:Jane@Example.com"}),
                Some("jane@example.com"),
                None,
            ),
            (json!({"phone": 5550102000_u64}), None, Some("5550102000")),
            (json!({"phone": "call me"}), None, None),
            (
                json!({"email": ["old@example.com", "new@example.com"]}),
                Some("new@example.com"),
                None,
            ),
            (json!({"Work Email": "A@B.co"}), Some("a@b.co"), None),
            (json!({"Work Email": "not an address"}), None, None),
            (
                json!({"Mobile Phone": "555 010 2000"}),
                None,
                Some("5550102000"),
            ),
            (json!({"Hotel": "555 010 2000"}), None, None),
        ];
        for (payload, email, phone) in cases {
            let n = norm(payload.clone());
            assert_eq!(n.email.as_deref(), email, "{payload}");
            assert_eq!(n.phone.as_deref(), phone, "{payload}");
        }
        // A phone field without digits is not a phone, and is kept as sent.
        let n = norm(json!({"phone": "call me", "name": "J"}));
        assert_eq!(n.custom.get("phone"), Some(&json!("call me")));
    }

    #[test]
    fn name_composition() {
        let cases: Vec<(Value, Option<&str>)> = vec![
            (
                json!({"first_name": "Jane", "last_name": "Doe"}),
                Some("Jane Doe"),
            ),
            (json!({"first_name": "Jane"}), Some("Jane")),
            (json!({"last_name": "Doe"}), Some("Doe")),
            (
                json!({"name": "J. Doe", "first_name": "Jane", "last_name": "Doe"}),
                Some("J. Doe"),
            ),
            (json!({"first_name": " ", "last_name": ""}), None),
            (json!({"names": "Jane Doe"}), Some("Jane Doe")),
            (
                json!({"name": {"first": "Jane", "last": "Doe"}}),
                Some("Jane Doe"),
            ),
        ];
        for (payload, want) in cases {
            assert_eq!(norm(payload.clone()).name.as_deref(), want, "{payload}");
        }
    }

    #[test]
    fn a_losing_duplicate_stays_in_custom() {
        let n = norm(json!({"email": "a@x.io", "email_address": "b@x.io", "E-mail": "c@x.io"}));
        // `email` ranks first in the alias list whatever the key order.
        assert!(["a@x.io", "c@x.io"].contains(&n.email.as_deref().unwrap_or("")));
        assert_eq!(n.custom.len(), 2);
        assert_eq!(n.custom.get("email_address"), Some(&json!("b@x.io")));
        let n = norm(json!({"url": "https://a.test/", "source_url": "https://b.test/"}));
        assert_eq!(n.page_url.as_deref(), Some("https://b.test/"));
        assert_eq!(Value::Object(n.custom), json!({"url": "https://a.test/"}));
    }

    #[test]
    fn the_surer_place_then_the_earlier_alias_wins_whatever_the_key_order() {
        // Keys sort alphabetically here: `first_name` (the first alias) comes before
        // `forename` (the fifth), and `fname` (the second) after `first_name`.
        let el = |title: &str, id: &str, value: &str| json!({"id": id, "type": "text", "title": title, "value": value});
        let cases: Vec<(&str, Value, &str)> = vec![
            // Within one place, the earlier alias wins.
            (
                "top",
                json!({"cell": "555 000 1111", "phone": "5550102000"}),
                "5550102000",
            ),
            (
                "nested",
                json!({"names": {"first_name": "Win", "forename": "Lose"}}),
                "Win",
            ),
            (
                "meta",
                json!({"__submission": {"first_name": "Win", "forename": "Lose"}}),
                "Win",
            ),
            (
                "plain fields",
                json!({"fields": {"first_name": "Win", "forename": "Lose"}}),
                "Win",
            ),
            (
                "elementor title",
                json!({"fields": {"a": el("First name", "a", "Win"),
                                  "b": el("Forename", "b", "Lose")}}),
                "Win",
            ),
            (
                "elementor id",
                json!({"fields": {"a": el("", "first_name", "Win"),
                                  "b": el("", "forename", "Lose")}}),
                "Win",
            ),
            // A surer place beats a less sure one, even its second alias against the first.
            (
                "top over nested",
                json!({"fname": "Win", "names": {"first_name": "Lose"}}),
                "Win",
            ),
            (
                "top over meta",
                json!({"fname": "Win", "__submission": {"first_name": "Lose"}}),
                "Win",
            ),
            (
                "top over plain fields",
                json!({"fname": "Win", "fields": {"first_name": "Lose"}}),
                "Win",
            ),
            (
                "nested over meta",
                json!({"__submission": {"first_name": "Lose"},
                       "names": {"fname": "Win"}}),
                "Win",
            ),
            (
                "top over elementor title",
                json!({"fname": "Win", "fields": {"a": el("First name", "a", "Lose")}}),
                "Win",
            ),
            (
                "elementor title over id",
                json!({"fields": {"a": el("", "first_name", "Lose"),
                                  "b": el("Forename", "b", "Win")}}),
                "Win",
            ),
            (
                "top over elementor id",
                json!({"fname": "Win", "fields": {"a": el("", "first_name", "Lose")}}),
                "Win",
            ),
        ];
        for (place, payload, want) in cases {
            let n = norm(payload.clone());
            let got = n.first_name.as_deref().or(n.phone.as_deref());
            assert_eq!(got, Some(want), "{place}: {payload}");
        }
    }

    #[test]
    fn credentials_are_never_stored() {
        let n =
            norm(json!({"api_key": "e5_secret", "key": "e5_secret", "API-Key": "x", "name": "J"}));
        assert_eq!(Value::Object(n.custom), json!({}));
        assert_eq!(n.name.as_deref(), Some("J"));
    }

    #[test]
    fn files_are_listed_in_custom() {
        let with_files = |fields: Value| {
            let Value::Object(fields) = fields else {
                panic!("object")
            };
            let files = vec!["cv.pdf".into(), "photo.jpg".into()];
            Value::Object(normalize(&Payload { fields, files }).custom)
        };
        assert_eq!(
            with_files(json!({"name": "J"})),
            json!({"files": ["cv.pdf", "photo.jpg"]})
        );
        // A form field of the same name is not overwritten.
        assert_eq!(
            with_files(json!({"name": "J", "files": "a form field", "_files": "another"})),
            json!({"files": "a form field", "_files": "another",
                   "__files": ["cv.pdf", "photo.jpg"]})
        );
    }

    #[test]
    fn gravity_id_table() {
        type Id = Option<(u64, Option<u32>)>;
        let cases: &[(&str, Id)] = &[
            ("1", Some((1, None))),
            ("12", Some((12, None))),
            ("1.3", Some((1, Some(3)))),
            ("10.6", Some((10, Some(6)))),
            ("1.", None),
            (".3", None),
            ("1.3.1", None),
            ("a1", None),
            ("1e3", None),
            ("9999999999", None),
            ("", None),
            // Both halves are held to digits and nine of them, though Rust's parser
            // would take a sign or more digits.
            ("+1.3", None),
            ("1.+3", None),
            ("1234567890.3", None),
            ("1.1234567890", None),
        ];
        for (key, want) in cases {
            assert_eq!(gravity_id(key), *want, "{key:?}");
        }
    }

    #[test]
    fn gravity_shapes() {
        let n = norm(json!({
            "1.3": "Jane", "1.6": "Doe", "1.2": "Dr.",
            "4.1": "1 Main St", "4.3": "Springfield", "4.6": "USA",
            "9": "Short note here please",
            "10": "A much longer free text message that should win",
            "11": "jane@example.com", "12": "other@example.com",
            "13": "555-010-2000", "14": "2026-05-01", "15": "Acme",
        }));
        assert_eq!(n.first_name.as_deref(), Some("Jane"));
        assert_eq!(n.last_name.as_deref(), Some("Doe"));
        assert_eq!(n.name.as_deref(), Some("Jane Doe"));
        assert_eq!(n.email.as_deref(), Some("jane@example.com"));
        assert_eq!(n.phone.as_deref(), Some("5550102000"));
        assert_eq!(
            n.message.as_deref(),
            Some("A much longer free text message that should win")
        );
        assert_eq!(
            Value::Object(n.custom),
            json!({
                "1.2": "Dr.",
                "4.1": "1 Main St", "4.3": "Springfield", "4.6": "USA",
                "9": "Short note here please",
                "12": "other@example.com",
                "14": "2026-05-01", "15": "Acme",
            })
        );
    }

    #[test]
    fn numeric_ids_are_taken_in_numeric_order() {
        let n = norm(json!({"10": "late@example.com", "9": "early@example.com"}));
        assert_eq!(n.email.as_deref(), Some("early@example.com"));
        // A short answer is no message, however long it is beside the others.
        let n = norm(json!({"1": "jane@example.com", "2": "Acme Ltd", "3": "2026-05-01"}));
        assert_eq!(n.message, None);
        assert_eq!(
            Value::Object(n.custom),
            json!({"2": "Acme Ltd", "3": "2026-05-01"})
        );
        // Of two free texts of one length, the message is the first.
        let n = norm(json!({"10": "Second note, same size", "9": "First note, same size!"}));
        assert_eq!(n.message.as_deref(), Some("First note, same size!"));
    }

    #[test]
    fn a_named_field_beats_a_shape_guess() {
        let n = norm(json!({"email": "named@example.com", "3": "shaped@example.com"}));
        assert_eq!(n.email.as_deref(), Some("named@example.com"));
        assert_eq!(Value::Object(n.custom), json!({"3": "shaped@example.com"}));
    }

    #[test]
    fn elementor_field_priority() {
        let n = norm(json!({"fields": {
            "field_a1": {"id": "field_a1", "type": "text", "title": "Your Name", "value": "Jane"},
            "field_b2": {"id": "field_b2", "type": "email", "title": "Where to reply", "value": "J@X.io"},
            "message": {"id": "message", "type": "text", "title": "Anything else", "value": "Hi"},
            "field_c3": {"id": "field_c3", "type": "tel", "title": "Phone", "value": "",
                         "raw_value": "555 010 2000"},
            "field_d4": {"id": "field_d4", "type": "honeypot", "title": "", "value": "x"},
            "field_e5": {"id": "field_e5", "type": "text", "title": "Budget", "value": "10k"},
            "field_f6": {"id": "field_f6", "type": "text", "title": "Work Email", "value": "w@x.io"},
        }}));
        assert_eq!(n.name.as_deref(), Some("Jane"));
        assert_eq!(n.email.as_deref(), Some("j@x.io"));
        assert_eq!(n.phone.as_deref(), Some("5550102000"));
        assert_eq!(n.message.as_deref(), Some("Hi"));
        let custom = Value::Object(n.custom);
        assert_eq!(
            custom,
            json!({"fields": {
                "field_d4": {"id": "field_d4", "type": "honeypot", "title": "", "value": "x"},
                "field_e5": {"id": "field_e5", "type": "text", "title": "Budget", "value": "10k"},
                "field_f6": {"id": "field_f6", "type": "text", "title": "Work Email", "value": "w@x.io"},
            }})
        );
    }

    #[test]
    fn a_taken_sub_field_leaves_only_its_own_object() {
        let n = norm(json!({
            "names": {"first_name": "Jane", "title": "Dr"},
            "spouse": {"first_name": "John"},
        }));
        assert_eq!(n.first_name.as_deref(), Some("Jane"));
        assert_eq!(
            Value::Object(n.custom),
            json!({"names": {"title": "Dr"}, "spouse": {"first_name": "John"}})
        );
    }

    /// The parsers stop at `MAX_DEPTH`; a payload built deeper by any other path loses what
    /// lies below rather than being walked without end.
    #[test]
    fn custom_stops_below_the_deepest_nesting_a_parser_builds() {
        let wrap = |inner: Value, levels: usize, array: bool| {
            (0..levels).fold(
                inner,
                |v, _| if array { json!([v]) } else { json!({"k": v}) },
            )
        };
        for array in [true, false] {
            let n = norm(json!({"name": "J", "deep": wrap(json!("x"), MAX_DEPTH + 8, array)}));
            assert_eq!(
                n.custom.get("deep"),
                Some(&wrap(Value::Null, MAX_DEPTH + 1, array)),
                "array: {array}"
            );
            let n = norm(json!({"name": "J", "deep": wrap(json!("x"), MAX_DEPTH + 1, array)}));
            assert_eq!(
                n.custom.get("deep"),
                Some(&wrap(json!("x"), MAX_DEPTH + 1, array)),
                "array: {array}"
            );
        }
    }

    #[test]
    fn plain_fields_object_is_read_like_top_level() {
        let n = norm(json!({"fields": {"email": "a@b.co", "colour": "red"}}));
        assert_eq!(n.email.as_deref(), Some("a@b.co"));
        assert_eq!(
            Value::Object(n.custom),
            json!({"fields": {"colour": "red"}})
        );
    }

    /// Escape sequences, C1 controls, bidi and zero-width characters, and forged log lines,
    /// in every shape a form could send them.
    fn attacks() -> Vec<String> {
        let mut out = vec![
            "Jane\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}Doe".to_owned(),
            "Jane\u{1b}]0;owned title\u{1b}\\Doe".to_owned(),
            "Jane\u{1b}[2J\u{1b}[HDoe".to_owned(),
            "Jane\u{9b}31mDoe\u{9d}0;t\u{9c}".to_owned(),
            "Jane\r\n2026-05-01T00:00:00Z  WARN echo5d: forged".to_owned(),
            "Jane\rDoe\u{85}x\u{2028}y".to_owned(),
            "\u{202E}eoD enaJ\u{202C}\u{2066}\u{2069}".to_owned(),
            "Ja\u{200B}n\u{200C}e\u{200D}\u{2060}\u{FEFF}\u{AD}Doe".to_owned(),
            "\u{7f}\u{0}J\u{1}a\u{8}n\u{1f}e".to_owned(),
            "Jane\u{E0041}\u{E007F}\u{3164}Doe".to_owned(),
        ];
        // Every C0, DEL and C1 control between two letters.
        out.extend(
            (0u32..0x20)
                .chain(0x7f..0xa0)
                .filter_map(char::from_u32)
                .map(|c| format!("J{c}D")),
        );
        out
    }

    fn is_clean_line(s: &str) -> bool {
        s.chars()
            .all(|c| !c.is_control() && !clean::is_invisible(c))
    }

    #[test]
    fn every_single_line_field_is_clean() {
        let single = [
            ("name", "name"),
            ("first_name", "first_name"),
            ("last_name", "last_name"),
            ("company", "company"),
            ("form_name", "form_name"),
            ("page_url", "page_url"),
            ("referer", "referrer"),
            ("utm_source", "utm_source"),
            ("utm_medium", "utm_medium"),
            ("utm_campaign", "utm_campaign"),
            ("utm_term", "utm_term"),
            ("utm_content", "utm_content"),
            ("gclid", "gclid"),
            ("fbclid", "fbclid"),
            ("ip", "ip"),
            ("user_agent", "user_agent"),
        ];
        for attack in attacks() {
            for (key, field) in single {
                let n = norm(json!({ key: attack, "email": format!("a{attack}@b.co") }));
                let got = super::super::tests::field(&n, field).unwrap_or("");
                assert!(is_clean_line(got), "{key} {attack:?} → {got:?}");
                let email = n.email.as_deref().unwrap_or("");
                assert!(is_clean_line(email), "email {attack:?} → {email:?}");
            }
            let n = norm(json!({"name": "J", "message": attack, "notes2": attack,
                                attack.clone(): attack, "nested": {attack.clone(): [attack]}}));
            let message = n.message.as_deref().unwrap_or("");
            assert!(
                message
                    .chars()
                    .all(|c| c == '\n' || is_clean_line(&c.to_string())),
                "message {attack:?} → {message:?}"
            );
            let custom = Value::Object(n.custom).to_string();
            assert!(
                serde_json::from_str::<Value>(&custom).is_ok_and(|v| {
                    let mut texts = Vec::new();
                    every_text(&v, &mut texts);
                    texts.iter().all(|t| {
                        t.chars()
                            .all(|c| c == '\n' || is_clean_line(&c.to_string()))
                    })
                }),
                "custom {attack:?} → {custom}"
            );
        }
    }

    fn every_text(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| every_text(x, out)),
            Value::Object(o) => o.iter().for_each(|(k, x)| {
                out.push(k.clone());
                every_text(x, out)
            }),
            _ => {}
        }
    }

    #[test]
    fn cleaning_keeps_what_was_meant() {
        let n = norm(json!({
            "name": "  Jane\u{200B} \u{202E}Doe\r\n",
            "email": " JANE\u{200D}@Example.COM\u{FEFF} ",
            "phone": "+1\u{200B} (555) 010-2000",
            "message": "Hi,\r\nplease call.\r\rThanks\tJane\u{1b}[2J",
            "company": "Acme\u{AD} Ltd",
        }));
        assert_eq!(n.name.as_deref(), Some("Jane Doe"));
        assert_eq!(n.email.as_deref(), Some("jane@example.com"));
        assert_eq!(n.phone.as_deref(), Some("+15550102000"));
        assert_eq!(
            n.message.as_deref(),
            Some("Hi,\nplease call.\n\nThanks Jane[2J")
        );
        assert_eq!(n.company.as_deref(), Some("Acme Ltd"));
        // Only invisible characters is blank, and a blank field is absent.
        let n = norm(json!({"name": "\u{200B}\u{202E}", "email": "a@b.co"}));
        assert_eq!(n.name, None);
        // Two keys that differ only by invisible characters stay two fields.
        let n = norm(json!({"name": "J", "colour": "red", "col\u{200B}our": "blue"}));
        assert_eq!(
            Value::Object(n.custom),
            json!({"colour": "red", "_colour": "blue"})
        );
    }

    #[test]
    fn long_fields_are_cut_and_recorded() {
        let long = |n: usize| "x".repeat(n);
        let n = norm(json!({
            "name": long(65_000),
            "email": format!("{}@example.com", long(400)),
            "phone": "5".repeat(500),
            "page_url": format!("https://a.test/{}", long(5_000)),
            "referer": format!("https://b.test/{}", "é".repeat(3_000)),
            "utm_source": long(1_000),
            "utm_campaign": long(256),
            "gclid": long(257),
            "company": long(201),
            "user_agent": long(2_000),
            "ip": long(100),
            "message": long(70_000),
        }));
        let chars = |s: &Option<String>| s.as_deref().map_or(0, |s| s.chars().count());
        assert_eq!(chars(&n.name), clean::NAME_MAX);
        assert_eq!(chars(&n.email), clean::EMAIL_MAX);
        assert_eq!(chars(&n.phone), clean::PHONE_MAX);
        assert_eq!(chars(&n.page_url), clean::URL_MAX);
        assert_eq!(chars(&n.referrer), clean::URL_MAX);
        assert_eq!(chars(&n.utm_source), clean::UTM_MAX);
        assert_eq!(chars(&n.utm_campaign), 256);
        assert_eq!(chars(&n.gclid), clean::UTM_MAX);
        assert_eq!(chars(&n.company), clean::COMPANY_MAX);
        assert_eq!(chars(&n.user_agent), clean::USER_AGENT_MAX);
        assert_eq!(chars(&n.ip), clean::IP_MAX);
        assert_eq!(chars(&n.message), clean::MESSAGE_MAX);
        assert!(
            n.name
                .as_deref()
                .is_some_and(|s| s.chars().all(|c| c == 'x'))
        );
        assert_eq!(
            n.custom.get(TRUNCATED_KEY),
            Some(&json!({
                "name": 65_000, "email": 412, "phone": 500, "page_url": 5_015,
                "referrer": 3_015, "utm_source": 1_000, "gclid": 257, "company": 201,
                "user_agent": 2_000, "ip": 100, "message": 70_000,
            }))
        );
        // Kept in `custom` (ip, user agent) is the value as sent, cleaned but not cut.
        assert_eq!(n.custom.get("ip"), Some(&json!(long(100))));
        // A composed name is cut too; nothing cut, nothing recorded.
        let n = norm(json!({"first_name": long(150), "last_name": long(150)}));
        assert_eq!(chars(&n.name), clean::NAME_MAX);
        assert_eq!(n.custom.get(TRUNCATED_KEY), Some(&json!({"name": 301})));
        let n = norm(json!({"name": long(200), "truncated": "a form field"}));
        assert_eq!(
            Value::Object(n.custom),
            json!({"truncated": "a form field"})
        );
        let n = norm(json!({"name": long(201), "truncated": "a form field"}));
        assert_eq!(
            Value::Object(n.custom),
            json!({"truncated": "a form field", "_truncated": {"name": 201}})
        );
    }
}
