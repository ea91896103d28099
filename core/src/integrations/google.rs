//! Google Ads lead form webhooks: the `WebhookLead` JSON Google posts, its key check, and its
//! mapping onto a lead.
//!
//! The body has no signature; `google_key` (typed by the advertiser on the form) is the only
//! proof, compared in constant time with the tenant's `google_ads.webhook_key`. Every field
//! is optional and unknown fields are ignored (Google adds fields over time).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AdLead, EXTERNAL_ID_MAX, clean_id, id_text};
use crate::crypto::ct_eq;
use crate::ingest::{Normalized, Target};

/// One answer of the form: `column_id` is a standard id (`EMAIL`, `FULL_NAME`, …) or, for a
/// custom question, an id of the advertiser's; `column_name` is the question as shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserColumn {
    #[serde(default)]
    pub column_name: Option<String>,
    #[serde(default)]
    pub string_value: Option<String>,
    #[serde(default)]
    pub column_id: Option<String>,
}

/// `POST /api/v1/hooks/google/{tenant}`: Google's `WebhookLead`. Ids arrive as JSON numbers
/// (int64) or strings and are kept as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookLead {
    /// Unique across all forms: a lead is stored once per tenant whatever the retries.
    #[serde(default)]
    pub lead_id: Option<String>,
    #[serde(default)]
    pub user_column_data: Vec<UserColumn>,
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub form_id: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub campaign_id: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub adgroup_id: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub creative_id: Option<String>,
    #[serde(default, deserialize_with = "id_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub asset_group_id: Option<String>,
    /// Must equal the tenant's `google_ads.webhook_key`.
    #[serde(default)]
    pub google_key: Option<String>,
    /// `true` for the form's "send test data": stored flagged, outside SLA and analytics.
    #[serde(default)]
    pub is_test: bool,
    #[serde(default)]
    pub gcl_id: Option<String>,
    #[serde(default)]
    pub lead_stage: Option<String>,
    #[serde(default)]
    pub lead_submit_time: Option<String>,
}

/// Whether the key Google sent is the tenant's. Empty keys never match (a form saved
/// without one, or a tenant without one), and the comparison takes the same time wherever
/// the two differ.
pub fn key_matches(presented: Option<&str>, expected: &str) -> bool {
    match presented {
        Some(p) if !p.is_empty() && !expected.is_empty() => {
            ct_eq(p.as_bytes(), expected.as_bytes())
        }
        _ => false,
    }
}

/// Why a delivery cannot become a lead (answered 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("lead_id is missing or not an id (visible characters, at most {EXTERNAL_ID_MAX})")]
    NoLeadId,
}

/// Standard column ids that are lead fields; the first value that cleans wins, so a work
/// e-mail fills `email` only when the form asked for no personal one.
const LEAD_COLUMNS: &[(&str, Target)] = &[
    ("FULL_NAME", Target::Name),
    ("FIRST_NAME", Target::FirstName),
    ("LAST_NAME", Target::LastName),
    ("EMAIL", Target::Email),
    ("PHONE_NUMBER", Target::Phone),
    ("COMPANY_NAME", Target::Company),
];

/// Lead fields a second, weaker column may fill.
const FALLBACK_COLUMNS: &[(&str, Target)] =
    &[("WORK_EMAIL", Target::Email), ("WORK_PHONE", Target::Phone)];

/// Standard column ids kept in `custom` under a fixed key (the id in lower case), so every
/// form's city is `custom.city` whatever the question's wording.
const CUSTOM_COLUMNS: &[&str] = &[
    "POSTAL_CODE",
    "CITY",
    "REGION",
    "COUNTRY",
    "STREET_ADDRESS",
    "JOB_TITLE",
    "WORK_EMAIL",
    "WORK_PHONE",
];

/// The key `custom` holds the Google Ads ids under.
pub const IDS_KEY: &str = "google_ads";

/// Maps a `WebhookLead` onto lead fields:
/// - standard columns by `column_id` (FULL_NAME, FIRST_NAME, LAST_NAME, EMAIL, PHONE_NUMBER,
///   COMPANY_NAME → the lead's fields; POSTAL_CODE, CITY, REGION, COUNTRY, STREET_ADDRESS,
///   JOB_TITLE → `custom` under the id in lower case);
/// - any other column (custom questions) into `custom` by its `column_name` (its id when
///   Google sent no name);
/// - `gcl_id` → `gclid`; the lead, form, campaign, ad group, creative and asset group ids,
///   the lead stage and submit time into `custom.google_ads`;
/// - values are cleaned and capped as website ingest does; a value that does not clean (a
///   phone without digits) stays in `custom`.
pub fn map_lead(w: &WebhookLead) -> Result<AdLead, Unusable> {
    let external_id = w
        .lead_id
        .as_deref()
        .and_then(clean_id)
        .ok_or(Unusable::NoLeadId)?;
    let mut n = Normalized::default();
    // Lead fields first, in table order, then the fallbacks, so the outcome does not depend
    // on the order of the columns.
    let value_of = |c: &UserColumn| c.string_value.clone().unwrap_or_default();
    let id_of = |c: &UserColumn| {
        c.column_id
            .as_deref()
            .unwrap_or("")
            .trim()
            .to_ascii_uppercase()
    };
    let mut used = vec![false; w.user_column_data.len()];
    for table in [LEAD_COLUMNS, FALLBACK_COLUMNS] {
        for (id, target) in table {
            for (i, c) in w.user_column_data.iter().enumerate() {
                if !used[i] && id_of(c) == *id && n.put(*target, &value_of(c)) {
                    used[i] = true;
                }
            }
        }
    }
    for (i, c) in w.user_column_data.iter().enumerate() {
        if used[i] {
            continue;
        }
        let id = id_of(c);
        let value = Value::String(value_of(c));
        let standard =
            CUSTOM_COLUMNS.contains(&id.as_str()) || LEAD_COLUMNS.iter().any(|(l, _)| *l == id);
        let key = if standard {
            id.to_ascii_lowercase()
        } else {
            match c.column_name.as_deref().map(str::trim) {
                Some(name) if !name.is_empty() => name.to_string(),
                _ if !id.is_empty() => c.column_id.clone().unwrap_or_default(),
                _ => "question".to_string(),
            }
        };
        n.put_custom(&key, &value);
    }
    if let Some(g) = w.gcl_id.as_deref() {
        n.put(Target::Gclid, g);
    }
    n.complete_name();
    let mut ids = Map::new();
    ids.insert("lead_id".into(), Value::String(external_id.clone()));
    for (k, v) in [
        ("form_id", &w.form_id),
        ("campaign_id", &w.campaign_id),
        ("adgroup_id", &w.adgroup_id),
        ("creative_id", &w.creative_id),
        ("asset_group_id", &w.asset_group_id),
    ] {
        if let Some(id) = v.as_deref().and_then(clean_id) {
            ids.insert(k.into(), Value::String(id));
        }
    }
    for (k, v) in [
        ("lead_stage", &w.lead_stage),
        ("lead_submit_time", &w.lead_submit_time),
        ("api_version", &w.api_version),
    ] {
        if let Some(v) = v {
            ids.insert(k.into(), Value::String(v.clone()));
        }
    }
    n.put_custom(IDS_KEY, &Value::Object(ids));
    Ok(AdLead {
        external_id,
        is_test: w.is_test,
        fields: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Google's "send test data" body, as its testing page shows it.
    const TEST_DATA: &str = r#"{"lead_id":"Cj0KCQjwit_8BRCoARIsAIx3Rj7g-AeL6z35IWb6VYiZUygtTfwD3hDlgSGmY-XTTlK3lfV1wcuIwIAaAmMxEALw_wcB",
 "campaign_id":123456,"adgroup_id":0,"creative_id":0,
 "gcl_id":"Cj0KCQjwit_8BRCoARIsAIx3Rj7g-AeL6z35IWb6VYiZUygtTfwD3hDlgSGmY-XTTlK3lfV1wcuIwIAaAmMxEALw_wcB",
 "user_column_data":[
  {"column_name":"Full Name","string_value":"FirstName LastName","column_id":"FULL_NAME"},
  {"column_name":"User Phone","string_value":"1-650-555-0123","column_id":"PHONE_NUMBER"},
  {"column_name":"User Email","string_value":"test@example.com","column_id":"EMAIL"}],
 "api_version":"1.0","form_id":123456789,"google_key":"testkey","is_test":true}"#;

    fn parse(s: &str) -> WebhookLead {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn googles_test_data_maps() {
        let w = parse(TEST_DATA);
        assert!(key_matches(w.google_key.as_deref(), "testkey"));
        let l = map_lead(&w).unwrap();
        assert!(l.is_test);
        assert!(l.external_id.starts_with("Cj0KCQjwit_8BRCoAR"));
        let n = &l.fields;
        assert_eq!(n.name.as_deref(), Some("FirstName LastName"));
        assert_eq!(n.email.as_deref(), Some("test@example.com"));
        // Reduced to digits as website ingest does; E.164 is the daemon's (tenant country).
        assert_eq!(n.phone.as_deref(), Some("16505550123"));
        assert_eq!(n.gclid.as_deref(), w.gcl_id.as_deref());
        assert_eq!(
            n.custom[IDS_KEY],
            json!({"lead_id": l.external_id, "form_id": "123456789", "campaign_id": "123456",
                   "adgroup_id": "0", "creative_id": "0", "api_version": "1.0"})
        );
        // Nothing of the answers is left over in `custom` but the ids.
        assert_eq!(n.custom.len(), 1, "{:?}", n.custom);
    }

    #[test]
    fn every_standard_column_lands_in_its_place() {
        // (column_id, value, where it lands: a lead field, or `custom.<key>`)
        let table: &[(&str, &str, &str, &str)] = &[
            ("FULL_NAME", " Jane  Doe ", "name", "Jane  Doe"),
            ("FIRST_NAME", "Jane", "first_name", "Jane"),
            ("LAST_NAME", "Doe", "last_name", "Doe"),
            ("EMAIL", " Jane@Example.COM ", "email", "jane@example.com"),
            ("PHONE_NUMBER", "+1 (650) 555-0199", "phone", "+16505550199"),
            (
                "COMPANY_NAME",
                "Acme Home Care",
                "company",
                "Acme Home Care",
            ),
            ("POSTAL_CODE", "94043", "custom.postal_code", "94043"),
            ("CITY", "Mountain View", "custom.city", "Mountain View"),
            ("REGION", "CA", "custom.region", "CA"),
            ("COUNTRY", "US", "custom.country", "US"),
            (
                "STREET_ADDRESS",
                "1600 Amphitheatre Pkwy",
                "custom.street_address",
                "1600 Amphitheatre Pkwy",
            ),
            ("JOB_TITLE", "Nurse", "custom.job_title", "Nurse"),
        ];
        let cols: Vec<Value> = table
            .iter()
            .map(|(id, v, _, _)| json!({"column_name": format!("Q {id}"), "string_value": v, "column_id": id}))
            .collect();
        let body = json!({"lead_id": "L-1", "user_column_data": cols, "google_key": "k",
                          "form_id": 9007199254740993u64, "campaign_id": 17, "adgroup_id": 18,
                          "creative_id": 19, "gcl_id": "gclid-1", "is_test": false});
        let l = map_lead(&serde_json::from_value(body).unwrap()).unwrap();
        assert!(!l.is_test);
        let lead = serde_json::to_value(lead_of(&l.fields)).unwrap();
        for (id, _, place, want) in table {
            let got = match place.strip_prefix("custom.") {
                Some(k) => &l.fields.custom[k],
                None => &lead[place],
            };
            assert_eq!(got, &json!(want), "{id} → {place}");
        }
        assert_eq!(l.fields.gclid.as_deref(), Some("gclid-1"));
        let ids = &l.fields.custom[IDS_KEY];
        assert_eq!(
            ids["form_id"],
            json!("9007199254740993"),
            "no float on the way"
        );
        assert_eq!(
            (&ids["campaign_id"], &ids["adgroup_id"], &ids["creative_id"]),
            (&json!("17"), &json!("18"), &json!("19"))
        );
    }

    /// The mapped fields as a lead's JSON names them.
    fn lead_of(n: &Normalized) -> Value {
        json!({"name": n.name, "first_name": n.first_name, "last_name": n.last_name,
               "email": n.email, "phone": n.phone, "company": n.company})
    }

    #[test]
    fn custom_questions_go_by_name_and_weaker_columns_only_fill_gaps() {
        let body = json!({"lead_id": "L-2", "user_column_data": [
            {"column_name": "What is your budget?", "string_value": "$5k", "column_id": "budget_q1"},
            {"string_value": "Tuesdays", "column_id": "345001"},
            {"column_name": "Work e-mail", "string_value": "jane@work.example", "column_id": "WORK_EMAIL"},
            {"column_name": "Work phone", "string_value": "650 555 0100", "column_id": "WORK_PHONE"},
            {"column_name": "Phone", "string_value": "no digits", "column_id": "PHONE_NUMBER"},
            {"column_name": "First", "string_value": "Jane", "column_id": "FIRST_NAME"},
            {"column_name": "Last", "string_value": "Doe", "column_id": "LAST_NAME"}]});
        let l = map_lead(&serde_json::from_value(body).unwrap()).unwrap();
        let n = &l.fields;
        assert_eq!(n.custom["What is your budget?"], json!("$5k"));
        assert_eq!(n.custom["345001"], json!("Tuesdays"));
        // No personal e-mail: the work one fills it; the phone that did not clean stays.
        assert_eq!(n.email.as_deref(), Some("jane@work.example"));
        assert_eq!(n.phone.as_deref(), Some("6505550100"));
        assert_eq!(n.custom["phone_number"], json!("no digits"));
        assert_eq!(n.name.as_deref(), Some("Jane Doe"), "from first and last");
        assert!(n.custom.get("work_email").is_none(), "used, not copied");
    }

    #[test]
    fn keys_and_lead_ids_are_checked() {
        assert!(key_matches(Some("s3cret"), "s3cret"));
        assert!(!key_matches(Some("s3cret"), "s3creT"));
        assert!(!key_matches(Some("s3cre"), "s3cret"));
        assert!(!key_matches(None, "s3cret"));
        assert!(!key_matches(Some(""), ""), "an empty key never matches");
        // Google's 2019 test body: no columns, empty key; readable, but no lead id.
        let old = parse(r#"{"google_key":"","form_id":2,"campaign_id":1}"#);
        assert!(!key_matches(old.google_key.as_deref(), "k"));
        assert_eq!(map_lead(&old), Err(Unusable::NoLeadId));
        let long = WebhookLead {
            lead_id: Some("x".repeat(EXTERNAL_ID_MAX + 1)),
            ..Default::default()
        };
        assert_eq!(map_lead(&long), Err(Unusable::NoLeadId));
        // Unknown fields are ignored (forward compatibility), as Google asks.
        let newer = parse(r#"{"lead_id":"L","google_key":"k","new_field":{"x":1}}"#);
        assert_eq!(newer.lead_id.as_deref(), Some("L"));
    }

    #[test]
    fn hostile_text_is_cleaned_like_website_ingest() {
        let body = json!({"lead_id": "L-3", "user_column_data": [
            {"column_id": "FULL_NAME", "string_value": "Eve\u{1b}[31m\u{202e}Red"},
            {"column_name": "Note\u{7}", "column_id": "q9", "string_value": "a\u{0}b"}]});
        let l = map_lead(&serde_json::from_value(body).unwrap()).unwrap();
        assert_eq!(l.fields.name.as_deref(), Some("Eve[31mRed"));
        assert_eq!(l.fields.custom["Note"], json!("ab"));
    }
}
