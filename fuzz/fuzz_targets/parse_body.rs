//! Any bytes under any content type: `parse_body` never panics, and what it accepts
//! normalises without breaking an invariant.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let ct = common::CONTENT_TYPES[usize::from(selector) % common::CONTENT_TYPES.len()];
    if let Ok(p) = echo5_core::ingest::parse_body(ct, body) {
        common::check(&p);
    }
});
