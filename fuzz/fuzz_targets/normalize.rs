//! Any JSON object as a payload (with a file list), straight into the normaliser.
#![no_main]

mod common;

use echo5_core::ingest::Payload;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let files = fields
        .get("__fuzz_files")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let n = common::check(&Payload {
        fields: fields.clone(),
        files,
    });
    // Everything not mapped stays: a key that left `custom` was mapped to something.
    for k in fields.keys() {
        if !n.custom.contains_key(k) {
            let l: String = k
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            let credential = matches!(l.trim_start_matches("your"), "apikey" | "key");
            assert!(
                credential
                    || n.name.is_some()
                    || n.email.is_some()
                    || n.phone.is_some()
                    || n.message.is_some()
                    || n.company.is_some()
                    || n.form_name.is_some()
                    || n.page_url.is_some()
                    || n.referrer.is_some()
                    || n.utm_source.is_some()
                    || n.utm_medium.is_some()
                    || n.utm_campaign.is_some()
                    || n.utm_term.is_some()
                    || n.utm_content.is_some()
                    || n.gclid.is_some()
                    || n.fbclid.is_some()
                    || n.first_name.is_some()
                    || n.last_name.is_some(),
                "{k:?} dropped with nothing mapped"
            );
        }
    }
});
