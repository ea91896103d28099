//! Meta Lead Ads: the webhook verification handshake, the signature over the raw body, the
//! `leadgen` change list of a `page` notification, and the mapping of a lead's `field_data`
//! (as the Graph API returns it) onto a lead.
//!
//! One Meta app delivers every page's leads to one callback URL, signed with the app's
//! secret, so a notification is routed to its tenant by page id.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::{AdLead, clean_id, id_text};
use crate::crypto::ct_eq;
use crate::ingest::{Normalized, Target};

/// The header Meta signs a delivery in: `sha256=<hex HMAC-SHA256(app secret, raw body)>`.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// Whether `header` is the signature of `body` under the app secret. The body must be the
/// bytes as received (before any JSON parsing); the comparison is constant-time
/// (`Mac::verify_slice`). An empty secret verifies nothing.
pub fn signature_valid(app_secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    if app_secret.is_empty() {
        return false;
    }
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The header value Meta would send for `body`: what tests and a local stand-in sign with.
pub fn signature(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(app_secret) {
        Ok(m) => m,
        // HMAC takes a key of any length; this arm is never taken.
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The longest `hub.challenge` echoed back. Meta sends an integer; anything longer or
/// other than visible ASCII is refused, so the endpoint never reflects arbitrary text.
pub const CHALLENGE_MAX: usize = 128;

/// The verification handshake (`GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`):
/// the challenge to echo when the mode is `subscribe` and the token is the platform's
/// `meta_verify_token` (constant-time); `None` (403) otherwise, or when no token is set.
pub fn handshake<'a>(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&'a str>,
    expected: Option<&str>,
) -> Option<&'a str> {
    let expected = expected.filter(|e| !e.is_empty())?;
    let token = token?;
    let challenge = challenge?;
    let challenge_ok = !challenge.is_empty()
        && challenge.len() <= CHALLENGE_MAX
        && challenge.bytes().all(|b| b.is_ascii_graphic());
    (mode == Some("subscribe") && ct_eq(token.as_bytes(), expected.as_bytes()) && challenge_ok)
        .then_some(challenge)
}

/// `POST /api/v1/hooks/meta`: a `page` notification. Entries and changes may be batched
/// (up to 1000); unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entry {
    /// The page id.
    #[serde(default, deserialize_with = "id_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub id: Option<String>,
    #[serde(default)]
    pub time: Option<i64>,
    #[serde(default)]
    pub changes: Vec<ChangeItem>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeItem {
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub value: Value,
}

/// One new lead a notification announces: what the Graph fetch needs, and the ad ids as
/// the webhook gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leadgen {
    pub page_id: String,
    pub leadgen_id: String,
    pub form_id: Option<String>,
    pub ad_id: Option<String>,
    pub adgroup_id: Option<String>,
    /// Unix seconds.
    pub created_time: Option<i64>,
}

#[derive(Deserialize)]
struct LeadgenValue {
    #[serde(default, deserialize_with = "id_text")]
    leadgen_id: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    page_id: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    form_id: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    ad_id: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    adgroup_id: Option<String>,
    #[serde(default)]
    created_time: Option<i64>,
}

/// The `leadgen` changes of a notification, in order; other fields, other objects and
/// changes without a usable lead or page id are skipped. The page id is the change's own
/// `page_id`, else its entry's `id`. Organic and test leads carry ad ids of `0` or none:
/// those are left out.
pub fn leadgens(n: &Notification) -> Vec<Leadgen> {
    if n.object.as_deref().is_some_and(|o| o != "page") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for e in &n.entry {
        for c in &e.changes {
            if c.field.as_deref() != Some("leadgen") {
                continue;
            }
            let Ok(v) = serde_json::from_value::<LeadgenValue>(c.value.clone()) else {
                continue;
            };
            let page = v.page_id.as_deref().or(e.id.as_deref()).and_then(clean_id);
            let lead = v.leadgen_id.as_deref().and_then(clean_id);
            let (Some(page_id), Some(leadgen_id)) = (page, lead) else {
                continue;
            };
            let ad = |id: Option<String>| id.as_deref().and_then(clean_id).filter(|i| i != "0");
            out.push(Leadgen {
                page_id,
                leadgen_id,
                form_id: ad(v.form_id),
                ad_id: ad(v.ad_id),
                adgroup_id: ad(v.adgroup_id),
                created_time: v.created_time,
            });
        }
    }
    out
}

/// One answer of a Meta lead: `values` is a list (multiple choice gives several).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldData {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// A lead as `GET /v{N}/{leadgen_id}?fields=…` answers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphLead {
    #[serde(default, deserialize_with = "id_text")]
    pub id: Option<String>,
    /// `2015-02-28T08:49:14+0000` (no colon in the offset).
    #[serde(default)]
    pub created_time: Option<String>,
    #[serde(default)]
    pub field_data: Vec<FieldData>,
    #[serde(default, deserialize_with = "id_text")]
    pub form_id: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    pub ad_id: Option<String>,
    #[serde(default)]
    pub ad_name: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    pub adset_id: Option<String>,
    #[serde(default)]
    pub adset_name: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    pub campaign_id: Option<String>,
    #[serde(default)]
    pub campaign_name: Option<String>,
    #[serde(default)]
    pub is_organic: Option<bool>,
    #[serde(default)]
    pub platform: Option<String>,
}

/// The Graph API's time format for leads.
pub fn parse_created_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `field_data` names that are lead fields; the first value that cleans wins, so a work
/// e-mail fills `email` only when the form asked for no personal one.
const LEAD_FIELDS: &[(&str, Target)] = &[
    ("full_name", Target::Name),
    ("first_name", Target::FirstName),
    ("last_name", Target::LastName),
    ("email", Target::Email),
    ("phone_number", Target::Phone),
    ("company_name", Target::Company),
    ("work_email", Target::Email),
    ("work_phone_number", Target::Phone),
];

/// The key `custom` holds the Meta ids and names under.
pub const IDS_KEY: &str = "meta_ads";

/// Why a Graph lead cannot become a lead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("the lead has no id")]
    NoLeadId,
}

/// Maps a Graph lead onto lead fields: `field_data` by name (full_name, first_name,
/// last_name, email, phone_number, company_name, work_email, work_phone_number → the lead's
/// fields; everything else — city, zip_code, state, custom questions — into `custom` under
/// its name, one value as a string, several as a list); the form, ad, ad set and campaign
/// ids and names into `custom.meta_ads`. Cleaned and capped as website ingest does.
pub fn map_lead(g: &GraphLead) -> Result<AdLead, Unusable> {
    let external_id =
        g.id.as_deref()
            .and_then(clean_id)
            .ok_or(Unusable::NoLeadId)?;
    let mut n = Normalized::default();
    let mut used = vec![false; g.field_data.len()];
    for (name, target) in LEAD_FIELDS {
        for (i, f) in g.field_data.iter().enumerate() {
            if !used[i] && f.name.trim().eq_ignore_ascii_case(name) {
                let joined = f.values.join(", ");
                if n.put(*target, &joined) {
                    used[i] = true;
                }
            }
        }
    }
    for (i, f) in g.field_data.iter().enumerate() {
        if used[i] {
            continue;
        }
        let value = match f.values.as_slice() {
            [one] => Value::String(one.clone()),
            many => Value::Array(many.iter().cloned().map(Value::String).collect()),
        };
        let key = if f.name.trim().is_empty() {
            "question"
        } else {
            f.name.trim()
        };
        n.put_custom(key, &value);
    }
    n.complete_name();
    let mut ids = Map::new();
    ids.insert("leadgen_id".into(), Value::String(external_id.clone()));
    for (k, v) in [
        ("form_id", &g.form_id),
        ("ad_id", &g.ad_id),
        ("adset_id", &g.adset_id),
        ("campaign_id", &g.campaign_id),
    ] {
        if let Some(id) = v.as_deref().and_then(clean_id) {
            ids.insert(k.into(), Value::String(id));
        }
    }
    for (k, v) in [
        ("ad_name", &g.ad_name),
        ("adset_name", &g.adset_name),
        ("campaign_name", &g.campaign_name),
        ("platform", &g.platform),
        ("created_time", &g.created_time),
    ] {
        if let Some(v) = v {
            ids.insert(k.into(), Value::String(v.clone()));
        }
    }
    if let Some(o) = g.is_organic {
        ids.insert("is_organic".into(), Value::Bool(o));
    }
    n.put_custom(IDS_KEY, &Value::Object(ids));
    Ok(AdLead {
        external_id,
        is_test: false,
        fields: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The notification of Meta's "retrieving leads" guide.
    const NOTIFICATION: &str = r#"{"object":"page","entry":[{"id":"153125381133","time":1438292065,
  "changes":[{"field":"leadgen","value":{"leadgen_id":"123123123123","page_id":"123123123",
    "form_id":"12312312312","adgroup_id":"12312312312","ad_id":"12312312312","created_time":1440120384}}]}]}"#;

    #[test]
    fn signatures_are_checked_over_the_raw_body() {
        let secret = b"app-secret-0123456789";
        let body = NOTIFICATION.as_bytes();
        let good = signature(secret, body);
        assert!(good.starts_with("sha256=") && good.len() == 7 + 64);
        assert!(signature_valid(secret, body, Some(&good)));
        assert!(signature_valid(
            secret,
            body,
            Some(&good.to_uppercase().replace("SHA256=", "sha256="))
        ));
        // A byte changed, another secret, the sha1 header's form, no header, garbage.
        let mut changed = body.to_vec();
        changed[10] ^= 1;
        assert!(!signature_valid(secret, &changed, Some(&good)));
        assert!(!signature_valid(b"other-secret", body, Some(&good)));
        assert!(!signature_valid(
            secret,
            body,
            Some(&good.replace("sha256=", "sha1="))
        ));
        assert!(!signature_valid(secret, body, None));
        assert!(!signature_valid(secret, body, Some("sha256=zz")));
        assert!(!signature_valid(
            secret,
            body,
            Some(&good[..good.len() - 2])
        ));
        assert!(!signature_valid(b"", body, Some(&signature(b"", body))));
        // A known vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
        assert_eq!(
            signature(b"key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn handshake_table() {
        let ok = |m, t, c, e| handshake(m, t, c, e);
        assert_eq!(
            ok(
                Some("subscribe"),
                Some("meatyhamhock"),
                Some("1158201444"),
                Some("meatyhamhock")
            ),
            Some("1158201444")
        );
        assert_eq!(
            ok(
                Some("unsubscribe"),
                Some("meatyhamhock"),
                Some("1"),
                Some("meatyhamhock")
            ),
            None
        );
        assert_eq!(
            ok(
                Some("subscribe"),
                Some("wrong"),
                Some("1"),
                Some("meatyhamhock")
            ),
            None
        );
        assert_eq!(
            ok(Some("subscribe"), None, Some("1"), Some("meatyhamhock")),
            None
        );
        assert_eq!(
            ok(Some("subscribe"), Some(""), Some("1"), Some("")),
            None,
            "no token set"
        );
        assert_eq!(ok(Some("subscribe"), Some("t"), Some("1"), None), None);
        assert_eq!(ok(Some("subscribe"), Some("t"), None, Some("t")), None);
        assert_eq!(
            ok(Some("subscribe"), Some("t"), Some("<script>"), Some("t")),
            Some("<script>"),
            "visible ASCII is echoed as text/plain"
        );
        assert_eq!(
            ok(Some("subscribe"), Some("t"), Some("a b"), Some("t")),
            None
        );
        let long = "1".repeat(CHALLENGE_MAX + 1);
        assert_eq!(
            ok(Some("subscribe"), Some("t"), Some(&long), Some("t")),
            None
        );
    }

    #[test]
    fn leadgen_changes_are_read_with_their_page() {
        let n: Notification = serde_json::from_str(NOTIFICATION).unwrap();
        assert_eq!(
            leadgens(&n),
            vec![Leadgen {
                page_id: "123123123".into(),
                leadgen_id: "123123123123".into(),
                form_id: Some("12312312312".into()),
                ad_id: Some("12312312312".into()),
                adgroup_id: Some("12312312312".into()),
                created_time: Some(1440120384),
            }]
        );
        // Older deliveries: bare numbers; the entry's id when the change has no page_id;
        // organic leads with ad ids 0; other fields and broken changes skipped; batched.
        let batch = json!({"object": "page", "entry": [
            {"id": 153125381133u64, "time": 1, "changes": [
                {"field": "leadgen", "value": {"leadgen_id": 444444444444444444u64, "form_id": 5, "ad_id": 0, "adgroup_id": 0}},
                {"field": "feed", "value": {"post_id": "1"}},
                {"field": "leadgen", "value": {"page_id": "1"}},
                {"field": "leadgen", "value": "not an object"}]},
            {"id": "2", "changes": [{"field": "leadgen", "value": {"leadgen_id": "9", "page_id": "3"}}]}]});
        let got = leadgens(&serde_json::from_value(batch).unwrap());
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(
            (
                got[0].page_id.as_str(),
                got[0].leadgen_id.as_str(),
                got[0].ad_id.as_ref(),
                got[0].form_id.as_deref()
            ),
            ("153125381133", "444444444444444444", None, Some("5"))
        );
        assert_eq!(
            (got[1].page_id.as_str(), got[1].leadgen_id.as_str()),
            ("3", "9")
        );
        let other: Notification = serde_json::from_value(json!({"object": "user", "entry": [
            {"id": "1", "changes": [{"field": "leadgen", "value": {"leadgen_id": "9", "page_id": "3"}}]}]})).unwrap();
        assert!(leadgens(&other).is_empty());
    }

    #[test]
    fn graph_lead_field_data_maps() {
        let g: GraphLead = serde_json::from_value(json!({
            "id": "1234567890123456", "created_time": "2015-02-28T08:49:14+0000",
            "form_id": "111", "ad_id": 222, "ad_name": "Spring", "adset_id": "333",
            "adset_name": "Seniors", "campaign_id": "444", "campaign_name": "Home care",
            "is_organic": false, "platform": "fb",
            "field_data": [
                {"name": "full_name", "values": ["Jane Doe"]},
                {"name": "email", "values": [" JANE@Example.com "]},
                {"name": "phone_number", "values": ["+15555550123"]},
                {"name": "city", "values": ["Austin"]},
                {"name": "zip_code", "values": ["78701"]},
                {"name": "phone_number_(eg.65xxxxxxxx)", "values": ["65 1234 5678"]},
                {"name": "which_services?", "values": ["bathing", "meals"]},
                {"name": "company_name", "values": ["Doe LLC"]}]}))
        .unwrap();
        let l = map_lead(&g).unwrap();
        assert_eq!(l.external_id, "1234567890123456");
        assert!(!l.is_test);
        let n = &l.fields;
        assert_eq!(n.name.as_deref(), Some("Jane Doe"));
        assert_eq!(n.email.as_deref(), Some("jane@example.com"));
        assert_eq!(n.phone.as_deref(), Some("+15555550123"));
        assert_eq!(n.company.as_deref(), Some("Doe LLC"));
        assert_eq!(n.custom["city"], json!("Austin"));
        assert_eq!(n.custom["zip_code"], json!("78701"));
        assert_eq!(
            n.custom["phone_number_(eg.65xxxxxxxx)"],
            json!("65 1234 5678")
        );
        assert_eq!(n.custom["which_services?"], json!(["bathing", "meals"]));
        let ids = &n.custom[IDS_KEY];
        assert_eq!(
            (
                &ids["form_id"],
                &ids["ad_id"],
                &ids["adset_id"],
                &ids["campaign_id"]
            ),
            (&json!("111"), &json!("222"), &json!("333"), &json!("444"))
        );
        assert_eq!(ids["campaign_name"], json!("Home care"));
        assert_eq!(
            parse_created_time("2015-02-28T08:49:14+0000").map(|t| t.timestamp()),
            Some(1425113354)
        );
        // First and last name only: the whole name is made from them.
        let g: GraphLead = serde_json::from_value(json!({"id": "1", "field_data": [
            {"name": "first_name", "values": ["Jane"]}, {"name": "last_name", "values": ["Doe"]}]}))
        .unwrap();
        assert_eq!(
            map_lead(&g).unwrap().fields.name.as_deref(),
            Some("Jane Doe")
        );
        assert_eq!(map_lead(&GraphLead::default()), Err(Unusable::NoLeadId));
    }
}
