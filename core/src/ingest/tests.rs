//! End-to-end tables: one real-shaped body per plugin and format of `wordpress-payloads.md`,
//! through `parse_body` → `normalize` → `check_spam`.

use super::Normalized;

/// A lead field by its name, so tables can list expected fields as text.
pub(super) fn field<'a>(n: &'a Normalized, name: &str) -> Option<&'a str> {
    let v = match name {
        "name" => &n.name,
        "first_name" => &n.first_name,
        "last_name" => &n.last_name,
        "email" => &n.email,
        "phone" => &n.phone,
        "message" => &n.message,
        "company" => &n.company,
        "form_name" => &n.form_name,
        "page_url" => &n.page_url,
        "referrer" => &n.referrer,
        "utm_source" => &n.utm_source,
        "utm_medium" => &n.utm_medium,
        "utm_campaign" => &n.utm_campaign,
        "utm_term" => &n.utm_term,
        "utm_content" => &n.utm_content,
        "gclid" => &n.gclid,
        "fbclid" => &n.fbclid,
        "ip" => &n.ip,
        "user_agent" => &n.user_agent,
        other => panic!("no lead field {other}"),
    };
    v.as_deref()
}

use serde_json::{Value, json};

use super::spam::Keywords;
use super::{SpamRules, check_spam, normalize, parse_body, parse_query};

const LEAD_FIELDS: &[&str] = &[
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

/// PHP's `urlencode`: letters, digits and `-_.` stay, a space is `+`, everything else `%XX`.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// PHP's `http_build_query` as WordPress uses it: nested keys with percent-encoded brackets,
/// lists with explicit indexes, booleans as `1`/`0`, nulls left out.
fn http_build_query(v: &Value) -> String {
    fn walk(prefix: String, v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    walk(format!("{prefix}%5B{}%5D", urlencode(k)), v, out);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(format!("{prefix}%5B{i}%5D"), v, out);
                }
            }
            Value::String(s) => out.push(format!("{prefix}={}", urlencode(s))),
            Value::Number(n) => out.push(format!("{prefix}={n}")),
            Value::Bool(b) => out.push(format!("{prefix}={}", u8::from(*b))),
            Value::Null => {}
        }
    }
    let mut out = Vec::new();
    if let Value::Object(o) = v {
        for (k, v) in o {
            walk(urlencode(k), v, &mut out);
        }
    }
    out.join("&")
}

#[test]
fn http_build_query_matches_php() {
    let v = json!({"fields": {"email": {"value": "jane@example.com"}}, "checkbox": ["A", "B"],
                   "names": {"first_name": "Jane Q"}, "1.3": "x"});
    assert_eq!(
        http_build_query(&v),
        "1.3=x&checkbox%5B0%5D=A&checkbox%5B1%5D=B\
         &fields%5Bemail%5D%5Bvalue%5D=jane%40example.com&names%5Bfirst_name%5D=Jane+Q"
    );
}

enum Via {
    Body(Option<&'static str>),
    Query,
}

struct Case {
    what: &'static str,
    via: Via,
    body: String,
    want: &'static [(&'static str, &'static str)],
    custom: Value,
}

const JSON_UTF8: Via = Via::Body(Some("application/json; charset=UTF-8"));
const JSON: Via = Via::Body(Some("application/json"));
const FORM: Via = Via::Body(Some("application/x-www-form-urlencoded"));
const TEXT: Via = Via::Body(Some("text/plain"));
const NONE: Via = Via::Body(None);

const CF7: &str = r#"{"your-name":"Jane Doe","your-email":"jane@example.com","your-tel":"(555) 010-2000","your-message":"Hi","checkbox-1":["A","B"]}"#;
const CF7_WANT: &[(&str, &str)] = &[
    ("name", "Jane Doe"),
    ("email", "jane@example.com"),
    ("phone", "5550102000"),
    ("message", "Hi"),
];

const GRAVITY: &str = r#"{"id":"41","form_id":"2","date_created":"2026-05-01 10:22:03","source_url":"https://example.org/contact/","ip":"203.0.113.9","user_agent":"Mozilla/5.0","1.3":"Jane","1.6":"Doe","2":"jane@example.com","3":"(555) 010-2000","4":"Please call after 5pm"}"#;
const GRAVITY_WANT: &[(&str, &str)] = &[
    ("name", "Jane Doe"),
    ("first_name", "Jane"),
    ("last_name", "Doe"),
    ("email", "jane@example.com"),
    ("phone", "5550102000"),
    ("message", "Please call after 5pm"),
    ("page_url", "https://example.org/contact/"),
    ("ip", "203.0.113.9"),
    ("user_agent", "Mozilla/5.0"),
];

const ELEMENTOR_SIMPLE: &str =
    "Name=Jane+Doe&Email=jane%40example.com&Message=Hi&form_id=4f2a1b7&form_name=Contact";
const ELEMENTOR_ADVANCED: &str = "form[id]=4f2a1b7&form[name]=Contact&fields[email][title]=Email&fields[email][value]=jane%40example.com&meta[page_url][value]=https%3A%2F%2Fexample.org%2F";

fn elementor_full() -> Value {
    let field = |id: &str, ty: &str, title: &str, value: &str| {
        json!({"id": id, "type": ty, "title": title, "value": value, "raw_value": value,
               "required": "1"})
    };
    let meta = |title: &str, value: &str| json!({"title": title, "value": value});
    json!({
        "form": {"id": "4f2a1b7", "name": "Contact"},
        "fields": {
            "name": field("name", "text", "Name", "Jane Doe"),
            "email": field("email", "email", "Email", "Jane@Example.com"),
            "field_7a1": field("field_7a1", "tel", "Mobile", "+1 555 010 2000"),
            "message": field("message", "textarea", "Message", "Hi\r\nCall me"),
            "field_9c2": field("field_9c2", "select", "Budget", "10k"),
            "field_hp1": field("field_hp1", "honeypot", "", ""),
        },
        "meta": {
            "date": meta("Date", "May 1, 2026"),
            "time": meta("Time", "10:22 am"),
            "page_url": meta("Page URL", "https://example.org/contact/"),
            "user_agent": meta("User Agent", "Mozilla/5.0"),
            "remote_ip": meta("Remote IP", "203.0.113.9"),
            "credit": meta("Powered by", "Elementor"),
        }
    })
}

fn fluent() -> Value {
    json!({
        "names": {"first_name": "Jane", "last_name": "Doe"},
        "email": "jane@example.com",
        "phone": "(555) 010-2000",
        "message": "Hi",
        "__submission": {"id": "12", "form_id": "3", "serial_number": "7",
                         "source_url": "https://example.org/contact/", "ip": "203.0.113.9",
                         "browser": "Chrome", "created_at": "2026-05-01 10:22:03"}
    })
}

const NINJA: &str = r#"{"name":"Jane Doe","email":"jane@example.com","phone":"555-010-2000","message":"Hi","utm_source":"google","gclid":"abc123"}"#;
const NINJA_WANT: &[(&str, &str)] = &[
    ("name", "Jane Doe"),
    ("email", "jane@example.com"),
    ("phone", "5550102000"),
    ("message", "Hi"),
    ("utm_source", "google"),
    ("gclid", "abc123"),
];

fn cases() -> Vec<Case> {
    let cf7: Value = serde_json::from_str(CF7).unwrap_or_default();
    let gravity: Value = serde_json::from_str(GRAVITY).unwrap_or_default();
    let ninja: Value = serde_json::from_str(NINJA).unwrap_or_default();
    let cf7_custom = json!({"checkbox-1": ["A", "B"]});
    let gravity_custom = json!({"id": "41", "form_id": "2", "date_created": "2026-05-01 10:22:03",
                                "ip": "203.0.113.9", "user_agent": "Mozilla/5.0"});
    let elementor_full_want: &[(&str, &str)] = &[
        ("name", "Jane Doe"),
        ("email", "jane@example.com"),
        ("phone", "+15550102000"),
        // The textarea's CRLF is stored as one `\n` (see `clean.rs`).
        ("message", "Hi\nCall me"),
        ("form_name", "Contact"),
        ("page_url", "https://example.org/contact/"),
        ("user_agent", "Mozilla/5.0"),
        ("ip", "203.0.113.9"),
    ];
    let full = elementor_full();
    let elementor_full_custom = json!({
        "form": {"id": "4f2a1b7"},
        "fields": {"field_9c2": full["fields"]["field_9c2"], "field_hp1": full["fields"]["field_hp1"]},
        "meta": {"date": full["meta"]["date"], "time": full["meta"]["time"],
                 "user_agent": full["meta"]["user_agent"], "remote_ip": full["meta"]["remote_ip"],
                 "credit": full["meta"]["credit"]},
    });
    let fluent_want: &[(&str, &str)] = &[
        ("name", "Jane Doe"),
        ("first_name", "Jane"),
        ("last_name", "Doe"),
        ("email", "jane@example.com"),
        ("phone", "5550102000"),
        ("message", "Hi"),
        ("page_url", "https://example.org/contact/"),
        ("ip", "203.0.113.9"),
        ("user_agent", "Chrome"),
    ];
    let fluent_custom = json!({"__submission": {"id": "12", "form_id": "3", "serial_number": "7",
        "ip": "203.0.113.9", "browser": "Chrome", "created_at": "2026-05-01 10:22:03"}});
    let wpforms = json!({
        "Name": "Jane Doe", "Email": "Jane@Example.com", "Phone": "+1 (555) 010-2000",
        "Services": "Tours||Pricing", "Preferred Date": {"value": "05/01/2026", "unix": 1777593600},
        "Message": "Hi", "utm_campaign": "spring",
    });
    let wpforms_want: &[(&str, &str)] = &[
        ("name", "Jane Doe"),
        ("email", "jane@example.com"),
        ("phone", "+15550102000"),
        ("message", "Hi"),
        ("utm_campaign", "spring"),
    ];
    vec![
        Case { what: "CF7 to Webhook, JSON", via: JSON_UTF8, body: CF7.into(), want: CF7_WANT, custom: cf7_custom.clone() },
        Case { what: "CF7 custom template, text/plain", via: TEXT, body: CF7.into(), want: CF7_WANT, custom: cf7_custom.clone() },
        Case { what: "CF7 to Any API, JSON with headers replaced", via: NONE, body: CF7.into(), want: CF7_WANT, custom: cf7_custom.clone() },
        Case { what: "CF7 JSON labelled as a form by cURL", via: FORM, body: CF7.into(), want: CF7_WANT, custom: cf7_custom.clone() },
        Case { what: "CF7 to Any API, params", via: FORM, body: http_build_query(&cf7), want: CF7_WANT, custom: cf7_custom.clone() },
        Case {
            what: "CF7 to Any API, unescaped unicode JSON",
            via: NONE,
            body: r#"{"your-name":"Zoë Ångström","your-email":"ZOË@Example.com","your-message":"Grüße 👋"}"#.into(),
            want: &[("name", "Zoë Ångström"), ("email", "zoë@example.com"), ("message", "Grüße 👋")],
            custom: json!({}),
        },
        Case { what: "WPForms, form", via: FORM, body: http_build_query(&wpforms), want: wpforms_want,
               custom: json!({"Services": "Tours||Pricing", "Preferred Date": {"value": "05/01/2026", "unix": "1777593600"}}) },
        Case { what: "WPForms, JSON", via: JSON, body: wpforms.to_string(), want: wpforms_want,
               custom: json!({"Services": "Tours||Pricing", "Preferred Date": {"value": "05/01/2026", "unix": 1777593600}}) },
        Case {
            what: "WPForms, Latin-1 form",
            via: Via::Body(Some("application/x-www-form-urlencoded; charset=ISO-8859-1")),
            body: "Name=Ren%E9e+Fa%FFe&Email=renee%40example.com&Message=Caf%E9%3F".into(),
            want: &[("name", "Renée Faÿe"), ("email", "renee@example.com"), ("message", "Café?")],
            custom: json!({}),
        },
        Case { what: "Gravity Forms, JSON", via: JSON, body: GRAVITY.into(), want: GRAVITY_WANT, custom: gravity_custom.clone() },
        Case { what: "Gravity Forms, form", via: FORM, body: http_build_query(&gravity), want: GRAVITY_WANT, custom: gravity_custom.clone() },
        Case { what: "Gravity Forms, GET", via: Via::Query, body: http_build_query(&gravity), want: GRAVITY_WANT, custom: gravity_custom },
        Case {
            what: "Elementor, simple",
            via: FORM,
            body: ELEMENTOR_SIMPLE.into(),
            want: &[("name", "Jane Doe"), ("email", "jane@example.com"), ("message", "Hi"), ("form_name", "Contact")],
            custom: json!({"form_id": "4f2a1b7"}),
        },
        Case {
            what: "Elementor, advanced (doc example, literal brackets)",
            via: FORM,
            body: ELEMENTOR_ADVANCED.into(),
            want: &[("email", "jane@example.com"), ("form_name", "Contact"), ("page_url", "https://example.org/")],
            custom: json!({"form": {"id": "4f2a1b7"}}),
        },
        Case { what: "Elementor, advanced (PHP-encoded)", via: FORM, body: http_build_query(&full), want: elementor_full_want, custom: elementor_full_custom },
        Case { what: "Fluent Forms, JSON", via: JSON, body: fluent().to_string(), want: fluent_want, custom: fluent_custom.clone() },
        Case { what: "Fluent Forms, form", via: FORM, body: http_build_query(&fluent()), want: fluent_want, custom: fluent_custom },
        Case {
            what: "Ninja Forms, GET with the key in the query",
            via: Via::Query,
            body: format!("?api_key=e5_0123456789abcdefghijklmnopqrstuv&{}", http_build_query(&ninja)),
            want: NINJA_WANT,
            custom: json!({}),
        },
        Case { what: "Ninja Forms, POST form", via: FORM, body: http_build_query(&ninja), want: NINJA_WANT, custom: json!({}) },
        Case { what: "Ninja Forms, JSON args", via: JSON, body: NINJA.into(), want: NINJA_WANT, custom: json!({}) },
        Case { what: "Ninja Forms, JSON in a form variable", via: FORM, body: format!("json={}", urlencode(NINJA)), want: NINJA_WANT, custom: json!({}) },
        Case {
            what: "Ninja Forms, JSON variable on a GET",
            via: Via::Query,
            body: format!("key=e5_0123456789abcdefghijklmnopqrstuv&json={}", urlencode(NINJA)),
            want: NINJA_WANT,
            custom: json!({}),
        },
    ]
}

#[test]
fn every_plugin_and_format() {
    let keywords = Keywords::new(&["casino".to_owned()]);
    let clean = SpamRules {
        keywords: &keywords,
        honeypot_fields: &[],
        max_links: 2,
    };
    let cases = cases();
    assert_eq!(cases.len(), 22);
    for case in cases {
        let parsed = match case.via {
            Via::Body(ct) => parse_body(ct, case.body.as_bytes()),
            Via::Query => parse_query(&case.body),
        };
        let payload = parsed.unwrap_or_else(|e| panic!("{}: {e}", case.what));
        let n = normalize(&payload);
        for f in LEAD_FIELDS {
            let want = case.want.iter().find(|(k, _)| k == f).map(|(_, v)| *v);
            assert_eq!(field(&n, f), want, "{}: {f}", case.what);
        }
        assert_eq!(
            Value::Object(n.custom.clone()),
            case.custom,
            "{}: custom",
            case.what
        );
        assert!(n.has_contact(), "{}", case.what);
        assert_eq!(
            check_spam(&payload, &n, &clean),
            None,
            "{}: spam",
            case.what
        );
    }
}

#[test]
fn spam_through_the_whole_pipeline() {
    let keywords = Keywords::new(&["casino".to_owned(), "free money".to_owned()]);
    let rules = SpamRules {
        keywords: &keywords,
        honeypot_fields: &["company_website".to_owned()],
        max_links: 1,
    };
    let cases: &[(&str, &str)] = &[
        ("Name=J&Message=Best+Casino+bonus", "keyword:casino"),
        ("Name=J&Message=FREE%0A+money", "keyword:free money"),
        ("Name=J&Message=casinos+nearby", ""),
        ("Name=J&Company+Website=x", "honeypot:Company Website"),
        ("Name=J&Company+Website=", ""),
        ("Name=J&_hp=x&Message=casino", "honeypot:_hp"),
        (
            "fields%5Bname%5D%5Bvalue%5D=J&fields%5Bf9%5D%5Btype%5D=honeypot&fields%5Bf9%5D%5Bvalue%5D=x",
            "honeypot:fields[f9]",
        ),
        ("Name=J&Message=http%3A%2F%2Fa.test+www.b.test", "links:2"),
        ("Name=J&Message=see+http%3A%2F%2Fa.test", ""),
    ];
    for (body, want) in cases {
        let p = parse_body(Some("application/x-www-form-urlencoded"), body.as_bytes())
            .unwrap_or_else(|e| panic!("{body}: {e}"));
        let n = normalize(&p);
        let got = check_spam(&p, &n, &rules).unwrap_or_default();
        assert_eq!(got, *want, "{body}");
    }
}

#[test]
fn a_body_without_contact_is_recognisable() {
    let cases: &[(&str, bool)] = &[
        ("message=Hi", false),
        ("company=Acme&website=https%3A%2F%2Fa.test", false),
        ("name=J", true),
        ("phone=555+010+2000", true),
        ("phone=none", false),
        ("1=jane%40example.com", true),
        ("email=+", false),
    ];
    for (body, want) in cases {
        let p = parse_body(None, body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(normalize(&p).has_contact(), *want, "{body}");
    }
}

#[test]
fn normalize_is_idempotent_on_its_own_output() {
    // Feeding the mapped fields back in (as the admin API might on an edit) changes nothing.
    for case in cases() {
        let payload = match case.via {
            Via::Body(ct) => parse_body(ct, case.body.as_bytes()),
            Via::Query => parse_query(&case.body),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", case.what));
        let n = normalize(&payload);
        let mut again = serde_json::Map::new();
        for f in LEAD_FIELDS {
            if let Some(v) = field(&n, f) {
                again.insert((*f).to_owned(), Value::String(v.to_owned()));
            }
        }
        let m = normalize(&super::Payload {
            fields: again,
            files: Vec::new(),
        });
        for f in LEAD_FIELDS {
            assert_eq!(field(&m, f), field(&n, f), "{}: {f}", case.what);
        }
    }
}
