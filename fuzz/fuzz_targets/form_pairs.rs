//! Form pairs as the multipart and GET paths hand them over (`name\0value\0name\0value…`),
//! and the same bytes as a query string.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parts: Vec<&str> = text.split('\0').collect();
    let pairs: Vec<(String, String)> = parts
        .chunks(2)
        .map(|c| {
            (
                c[0].to_string(),
                c.get(1).copied().unwrap_or("").to_string(),
            )
        })
        .collect();
    let lenient = echo5_core::ingest::payload_from_pairs(&pairs);
    common::check(&lenient);
    if let Ok(strict) = echo5_core::ingest::try_payload_from_pairs(&pairs) {
        // Within the limits, strict and lenient read the same thing.
        assert_eq!(strict, lenient);
        common::check(&strict);
    }
    if let Ok(p) = echo5_core::ingest::parse_query(&text) {
        common::check(&p);
    }
});
