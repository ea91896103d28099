//! Reading a submission body into a nested JSON object.

use serde_json::{Map, Value};

use super::form::{self, Charset};
use super::payload::{BodyError, MAX_DEPTH, MAX_FIELDS, Payload};

/// The form variable in which Ninja Forms can send the whole submission as a JSON string.
pub const JSON_FIELD: &str = "json";
/// Names under which the API key may travel in a query string next to the fields; they do not
/// count as fields when deciding whether a body is just a [`JSON_FIELD`].
pub const KEY_PARAMS: &[&str] = &["api_key", "key"];

/// Decodes `body` by its content type (sniffing when it is missing or `text/plain`).
///
/// - `application/json` (also `text/json`, `application/*+json`): a JSON object; an array or
///   scalar is [`BodyError::Malformed`]. A UTF-8 byte-order mark is skipped.
/// - `application/x-www-form-urlencoded`: PHP bracket nesting (see [`payload_from_pairs`]),
///   UTF-8 unless `charset=` says Latin-1/Windows-1252 or the bytes are not UTF-8. A body that
///   starts with `{` and parses as a JSON object is JSON (WordPress's cURL transport labels
///   string bodies as forms). A body that is only a [`JSON_FIELD`] variable holding a JSON
///   object becomes that object (Ninja Forms).
/// - `text/plain`, an empty or missing content type: a JSON object if it parses as one, else a
///   form if it looks like `k=v&…`, else [`BodyError::Malformed`].
/// - `multipart/form-data`: [`BodyError::Unsupported`] — not because it cannot be read, but
///   because the caller parses multipart itself (it has the boundary and the file parts) and
///   hands the text fields to [`payload_from_pairs`]; answer 415 only if the caller does not.
/// - anything else (`application/xml`, `image/png`, …): [`BodyError::Unsupported`].
///
/// Over [`MAX_DEPTH`] or [`MAX_FIELDS`] is [`BodyError::Malformed`], so hostile input costs
/// bounded work and memory.
pub fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<Payload, BodyError> {
    let (mime, charset) = split_content_type(content_type.unwrap_or(""));
    let charset = Charset::from_param(charset.as_deref());
    let fields = match mime.as_str() {
        "application/json" | "text/json" => json_object(body)?,
        m if m.starts_with("application/") && m.ends_with("+json") => json_object(body)?,
        "application/x-www-form-urlencoded" => {
            if first_non_space(body) == Some(b'{')
                && let Ok(fields) = json_object(body)
            {
                fields
            } else {
                form_fields(body, charset)?
            }
        }
        "" | "text/plain" => sniff(body, charset)?,
        "multipart/form-data" => {
            return Err(BodyError::Unsupported(
                "multipart/form-data is parsed by the caller, which passes its fields to \
                 payload_from_pairs"
                    .into(),
            ));
        }
        other => {
            return Err(BodyError::Unsupported(format!(
                "content type {other} is not supported; send JSON or a form"
            )));
        }
    };
    Ok(Payload {
        fields,
        files: Vec::new(),
    })
}

/// Builds the nested object from flat `(name, value)` pairs with PHP bracket nesting
/// (`fields[email][value]`, `checkbox[]`, `names[first_name]`).
///
/// Explicit indexes `0..n` and `[]` make arrays, any other key an object; a repeated name keeps
/// all its values as an array (PHP would keep only the last). A pair alone (besides
/// [`KEY_PARAMS`]) named [`JSON_FIELD`] holding a JSON object becomes that object. Never fails:
/// pairs past [`MAX_FIELDS`] or nested deeper than [`MAX_DEPTH`] are dropped, as PHP drops
/// them. Use [`try_payload_from_pairs`] to refuse such input instead.
pub fn payload_from_pairs(pairs: &[(String, String)]) -> Payload {
    let fields = form::build(pairs, false).unwrap_or_default();
    Payload {
        fields: unwrap_json_field(fields.clone()).unwrap_or(fields),
        files: Vec::new(),
    }
}

/// [`payload_from_pairs`], but input over the limits is [`BodyError::Malformed`] (HTTP 400),
/// like a form body given to [`parse_body`].
pub fn try_payload_from_pairs(pairs: &[(String, String)]) -> Result<Payload, BodyError> {
    let fields = form::build(pairs, true)?;
    Ok(Payload {
        fields: unwrap_json_field(fields.clone())?,
        files: Vec::new(),
    })
}

/// Reads a URL query string (with or without its leading `?`) like a UTF-8 form body: the
/// fields of a GET submission (Ninja Forms' default). [`KEY_PARAMS`] are left in; the caller
/// takes the key from them and [`super::normalize`] never stores them.
pub fn parse_query(query: &str) -> Result<Payload, BodyError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    Ok(Payload {
        fields: form_fields(query.as_bytes(), Charset::Utf8OrLatin1)?,
        files: Vec::new(),
    })
}

/// The lower-cased media type and the `charset` parameter, if any.
fn split_content_type(ct: &str) -> (String, Option<String>) {
    let mut parts = ct.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_owned())
    });
    (mime, charset)
}

fn first_non_space(body: &[u8]) -> Option<u8> {
    strip_bom(body)
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace())
}

fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

fn sniff(body: &[u8], charset: Charset) -> Result<Map<String, Value>, BodyError> {
    match first_non_space(body) {
        None => Err(BodyError::Malformed("empty body".into())),
        Some(b'{') => json_object(body).or_else(|json_err| {
            if form::looks_like_form(body) {
                form_fields(body, charset)
            } else {
                Err(json_err)
            }
        }),
        Some(b'[') => json_object(body),
        Some(_) if form::looks_like_form(strip_bom(body)) => form_fields(strip_bom(body), charset),
        Some(_) => Err(BodyError::Malformed(
            "body is neither a JSON object nor form fields".into(),
        )),
    }
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, BodyError> {
    let value: Value = serde_json::from_slice(strip_bom(body))
        .map_err(|e| BodyError::Malformed(format!("invalid JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(BodyError::Malformed(format!(
            "JSON body must be an object, not {}",
            kind(&value)
        )));
    };
    check_json_limits(&fields)?;
    Ok(fields)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_json_limits(fields: &Map<String, Value>) -> Result<(), BodyError> {
    let mut leaves = 0;
    for v in fields.values() {
        walk_limits(v, 0, &mut leaves)?;
    }
    Ok(())
}

fn walk_limits(v: &Value, depth: usize, leaves: &mut usize) -> Result<(), BodyError> {
    if depth > MAX_DEPTH {
        return Err(BodyError::Malformed(format!(
            "JSON nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let children: Box<dyn Iterator<Item = &Value>> = match v {
        Value::Array(a) if !a.is_empty() => Box::new(a.iter()),
        Value::Object(o) if !o.is_empty() => Box::new(o.values()),
        _ => {
            *leaves += 1;
            if *leaves > MAX_FIELDS {
                return Err(BodyError::Malformed(format!(
                    "too many fields (at most {MAX_FIELDS})"
                )));
            }
            return Ok(());
        }
    };
    for child in children {
        walk_limits(child, depth + 1, leaves)?;
    }
    Ok(())
}

fn form_fields(body: &[u8], charset: Charset) -> Result<Map<String, Value>, BodyError> {
    let pairs = form::decode_pairs(body, charset)?;
    unwrap_json_field(form::build(&pairs, true)?)
}

/// Ninja Forms' "JSON in one variable": when the only field (key parameters aside) is
/// [`JSON_FIELD`] and it holds a JSON object, that object is the submission; the key
/// parameters are carried into it so the caller still finds them. A `json` field that is not a
/// JSON object stays an ordinary field. Over-limit JSON is an error, as in a JSON body.
fn unwrap_json_field(fields: Map<String, Value>) -> Result<Map<String, Value>, BodyError> {
    let mut others = fields.keys().filter(|k| !KEY_PARAMS.contains(&k.as_str()));
    let only_json =
        others.next().map(String::as_str) == Some(JSON_FIELD) && others.next().is_none();
    let Some(Value::String(text)) = fields.get(JSON_FIELD).filter(|_| only_json) else {
        return Ok(fields);
    };
    if first_non_space(text.as_bytes()) != Some(b'{') {
        return Ok(fields);
    }
    let Ok(Value::Object(mut inner)) = serde_json::from_str::<Value>(text) else {
        return Ok(fields);
    };
    check_json_limits(&inner)?;
    for (k, v) in fields {
        if k != JSON_FIELD && !inner.contains_key(&k) {
            inner.insert(k, v);
        }
    }
    Ok(inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(ct: Option<&str>, body: &str) -> Value {
        match parse_body(ct, body.as_bytes()) {
            Ok(p) => {
                assert!(p.files.is_empty());
                Value::Object(p.fields)
            }
            Err(e) => panic!("{ct:?} {body:?}: {e}"),
        }
    }

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
    const JSON: Option<&str> = Some("application/json");

    #[test]
    fn content_types_table() {
        let cases: &[(Option<&str>, &str, Value)] = &[
            (JSON, r#"{"a":"1"}"#, json!({"a": "1"})),
            (
                Some("application/json; charset=UTF-8"),
                r#"{"a":"é"}"#,
                json!({"a": "é"}),
            ),
            (
                Some("Application/JSON;charset=utf-8"),
                r#"{"a":1}"#,
                json!({"a": 1}),
            ),
            (Some("text/json"), r#"{"a":true}"#, json!({"a": true})),
            (
                Some("application/vnd.api+json"),
                r#"{"a":null}"#,
                json!({"a": null}),
            ),
            (JSON, "\u{FEFF}{\"a\":\"1\"}", json!({"a": "1"})),
            (JSON, "  {}  ", json!({})),
            (FORM, "a=1&b=two+words", json!({"a": "1", "b": "two words"})),
            (
                Some("application/x-www-form-urlencoded; charset=UTF-8"),
                "n=caf%C3%A9",
                json!({"n": "café"}),
            ),
            (FORM, "", json!({})),
            (FORM, r#"{"a":"1"}"#, json!({"a": "1"})),
            (FORM, " \n{\"a\":[\"x\"]}", json!({"a": ["x"]})),
            (FORM, "{a}=1", json!({"{a}": "1"})),
            (Some("text/plain"), r#"{"a":"1"}"#, json!({"a": "1"})),
            (
                Some("text/plain; charset=utf-8"),
                "a=1&b=2",
                json!({"a": "1", "b": "2"}),
            ),
            (
                Some("text/plain; charset=iso-8859-1"),
                "n=caf%E9",
                json!({"n": "café"}),
            ),
            (None, r#"{"a":"1"}"#, json!({"a": "1"})),
            (None, "a=1", json!({"a": "1"})),
            (Some(""), "a=1", json!({"a": "1"})),
            (None, "{x}=1", json!({"{x}": "1"})),
        ];
        for (ct, body, want) in cases {
            assert_eq!(ok(*ct, body), *want, "{ct:?} {body:?}");
        }
    }

    #[test]
    fn refusals_table() {
        use BodyError::{Malformed as M, Unsupported as U};
        type Kind = fn(String) -> BodyError;
        let cases: &[(Option<&str>, &str, Kind)] = &[
            (JSON, "[1,2]", M),
            (JSON, "\"text\"", M),
            (JSON, "42", M),
            (JSON, "null", M),
            (JSON, "", M),
            (JSON, "a=1", M),
            (JSON, "{\"a\":", M),
            (Some("text/plain"), "[{\"a\":1}]", M),
            (Some("text/plain"), "Hi, please call me back", M),
            (Some("text/plain"), "", M),
            (Some("text/plain"), "   ", M),
            (None, "{\"a\":", M),
            (None, "Name: Jane\nEmail: jane@example.com", M),
            (Some("application/xml"), "<a/>", U),
            (Some("image/png"), "\u{89}PNG", U),
            (Some("text/html"), "<p>", U),
            (Some("multipart/form-data; boundary=x"), "--x--", U),
        ];
        for (ct, body, kind) in cases {
            let got = parse_body(*ct, body.as_bytes());
            let want_kind = kind(String::new());
            match (&got, &want_kind) {
                (Err(M(_)), M(_)) | (Err(U(_)), U(_)) => {}
                _ => panic!("{ct:?} {body:?}: got {got:?}, want {want_kind:?}"),
            }
        }
    }

    #[test]
    fn multipart_message_points_at_the_caller() {
        let Err(BodyError::Unsupported(msg)) =
            parse_body(Some("multipart/form-data; boundary=b"), b"")
        else {
            panic!("multipart must be Unsupported");
        };
        assert!(msg.contains("payload_from_pairs"), "{msg}");
    }

    #[test]
    fn invalid_utf8_json_is_malformed_but_latin1_form_is_read() {
        assert!(matches!(
            parse_body(JSON, b"{\"n\":\"caf\xE9\"}"),
            Err(BodyError::Malformed(_))
        ));
        let p = parse_body(FORM, b"n=caf\xE9").expect("raw latin1 byte in a form");
        assert_eq!(p.fields.get("n"), Some(&json!("café")));
        let p = parse_body(FORM, b"n=caf%E9").expect("percent-encoded latin1");
        assert_eq!(p.fields.get("n"), Some(&json!("café")));
    }

    #[test]
    fn json_field_unwrapping_table() {
        let inner = r#"{"name":"Jane","email":"jane@example.com"}"#;
        let enc = |s: &str| {
            s.bytes()
                .map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        };
        let unwrapped = json!({"name": "Jane", "email": "jane@example.com"});
        let cases: Vec<(String, Value)> = vec![
            (format!("json={}", enc(inner)), unwrapped.clone()),
            (
                format!("api_key=e5_x&json={}", enc(inner)),
                json!({"name": "Jane", "email": "jane@example.com", "api_key": "e5_x"}),
            ),
            (
                format!("json={}&other=1", enc(inner)),
                json!({"json": inner, "other": "1"}),
            ),
            ("json=%5B1%5D".into(), json!({"json": "[1]"})),
            ("json=not+json".into(), json!({"json": "not json"})),
            ("json=%7B".into(), json!({"json": "{"})),
        ];
        for (body, want) in cases {
            assert_eq!(ok(FORM, &body), want, "{body}");
            assert_eq!(ok(None, &body), want, "sniffed {body}");
        }
        let pairs = vec![("json".to_owned(), inner.to_owned())];
        assert_eq!(Value::Object(payload_from_pairs(&pairs).fields), unwrapped);
        let q = parse_query(&format!("?key=e5_y&json={}", enc(inner))).expect("query");
        assert_eq!(
            Value::Object(q.fields),
            json!({"name": "Jane", "email": "jane@example.com", "key": "e5_y"})
        );
    }

    fn nested_json(depth: usize) -> String {
        // `depth` containers below the top-level field.
        format!(
            "{{\"a\":{}1{}}}",
            "{\"x\":".repeat(depth),
            "}".repeat(depth)
        )
    }

    #[test]
    fn json_depth_limit_is_exact() {
        assert!(parse_body(JSON, nested_json(MAX_DEPTH).as_bytes()).is_ok());
        assert!(matches!(
            parse_body(JSON, nested_json(MAX_DEPTH + 1).as_bytes()),
            Err(BodyError::Malformed(_))
        ));
        // Past serde_json's own recursion limit: still an error, not a stack overflow.
        assert!(matches!(
            parse_body(JSON, nested_json(10_000).as_bytes()),
            Err(BodyError::Malformed(_))
        ));
        let arrays = |n: usize| format!("{{\"a\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        assert!(parse_body(JSON, arrays(MAX_DEPTH).as_bytes()).is_ok());
        let deep_array = arrays(MAX_DEPTH + 1);
        assert!(matches!(
            parse_body(JSON, deep_array.as_bytes()),
            Err(BodyError::Malformed(_))
        ));
    }

    #[test]
    fn json_field_limit_is_exact() {
        let body = |n: usize| {
            let items = (0..n).map(|i| format!("\"f{i}\":1")).collect::<Vec<_>>();
            format!("{{{}}}", items.join(","))
        };
        assert_eq!(
            parse_body(JSON, body(MAX_FIELDS).as_bytes())
                .expect("1000 fields")
                .fields
                .len(),
            MAX_FIELDS
        );
        assert!(matches!(
            parse_body(JSON, body(MAX_FIELDS + 1).as_bytes()),
            Err(BodyError::Malformed(_))
        ));
        let flat_array = format!("{{\"a\":[{}]}}", vec!["1"; MAX_FIELDS + 1].join(","));
        assert!(matches!(
            parse_body(JSON, flat_array.as_bytes()),
            Err(BodyError::Malformed(_))
        ));
    }

    #[test]
    fn form_limits() {
        let deep = format!("a{}=v", "%5Bx%5D".repeat(MAX_DEPTH + 1));
        assert!(matches!(
            parse_body(FORM, deep.as_bytes()),
            Err(BodyError::Malformed(_))
        ));
        let fine = format!("a{}=v", "%5Bx%5D".repeat(MAX_DEPTH));
        assert!(parse_body(FORM, fine.as_bytes()).is_ok());
        let many = (0..=MAX_FIELDS)
            .map(|i| format!("f{i}=v"))
            .collect::<Vec<_>>()
            .join("&");
        assert!(matches!(
            parse_body(FORM, many.as_bytes()),
            Err(BodyError::Malformed(_))
        ));
        assert!(matches!(
            parse_body(None, many.as_bytes()),
            Err(BodyError::Malformed(_))
        ));
        let huge = parse_body(FORM, b"a%5B99999999%5D=x").expect("huge index");
        assert_eq!(huge.fields.get("a"), Some(&json!({"99999999": "x"})));
        let pairs: Vec<(String, String)> = (0..=MAX_FIELDS)
            .map(|i| (format!("f{i}"), "v".to_owned()))
            .collect();
        assert!(try_payload_from_pairs(&pairs).is_err());
        assert_eq!(payload_from_pairs(&pairs).fields.len(), MAX_FIELDS);
    }

    #[test]
    fn php_encoded_brackets_equal_literal_brackets() {
        let encoded = parse_body(
            FORM,
            b"fields%5Bemail%5D%5Bvalue%5D=jane%40example.com&checkbox%5B0%5D=A&checkbox%5B1%5D=B",
        )
        .expect("encoded");
        let literal = parse_body(
            FORM,
            b"fields[email][value]=jane%40example.com&checkbox[]=A&checkbox[]=B",
        )
        .expect("literal");
        assert_eq!(encoded, literal);
        assert_eq!(
            Value::Object(encoded.fields),
            json!({"fields": {"email": {"value": "jane@example.com"}}, "checkbox": ["A", "B"]})
        );
    }

    #[test]
    fn no_input_panics() {
        // A cheap stand-in for fuzzing: every short byte string under every content type.
        let alphabet: &[u8] = b"{}[]=&%5B%5D\"a0:,\xE9 ";
        let cts = [None, JSON, FORM, Some("text/plain")];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..4000 {
            let len = (state % 24) as usize;
            let mut body = Vec::with_capacity(len);
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                body.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            for ct in cts {
                let _ = parse_body(ct, &body);
            }
            let text = String::from_utf8_lossy(&body).into_owned();
            let _ = parse_query(&text);
            let _ = payload_from_pairs(&[(text.clone(), text)]);
        }
    }
}
