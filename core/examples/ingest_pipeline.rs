//! CPU cost of the ingest pipeline's pure steps on the ingest benchmark's body (the same
//! ~1 KB Contact Form 7 JSON `bench/ingest.sh` posts), beside a baseline measured in the
//! same run (copying the body), so numbers from noisy machines can be compared.
//!
//! usage: cargo run --release -p echo5-core --example ingest_pipeline [iterations]

use echo5_core::ingest::spam::{Keywords, check_spam};
use echo5_core::ingest::{SpamRules, normalize, parse_body};
use std::hint::black_box;
use std::time::Instant;

const MSG: &str = "My mother is 84 and needs help with bathing, meals and medication reminders a few days a week. \
She lives alone in Springfield and we worry about falls. Do you have caregivers available on weekday mornings? \
We would also like to know about your rates, whether you accept long-term care insurance, and how soon someone \
could visit for an assessment. Please call me after 5pm or reply by e-mail. Thank you so much for your help.";

fn body(n: usize) -> Vec<u8> {
    format!(
        r#"{{"your-name":"Jane Doe {n}","your-email":"jane.{n}@example.com","your-tel":"(555) 010-{:04}","your-message":"{MSG}","page_url":"https://www.openarms.example/contact/","utm_source":"google","utm_medium":"cpc","utm_campaign":"home-care-search","gclid":"Cj0KCQjw{n}","checkbox-1":["Bathing","Meals"]}}"#,
        n % 10_000
    )
    .into_bytes()
}

fn time(label: &str, iters: usize, mut f: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    for i in 0..iters {
        f(i);
    }
    let ns = start.elapsed().as_nanos() as f64 / iters as f64;
    println!("{label:<34} {:>9.0} ns/body", ns);
    ns
}

fn main() {
    let iters: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let bodies: Vec<Vec<u8>> = (0..1_000).map(body).collect();
    let keywords: Vec<String> = ["casino", "crypto loan", "seo services"]
        .map(String::from)
        .to_vec();
    // Compiled once, as the daemon does per tenant.
    let compiled = Keywords::new(&keywords);
    let rules = SpamRules {
        keywords: &compiled,
        honeypot_fields: &[],
        max_links: 3,
    };
    let ct = Some("application/json");
    let payloads: Vec<_> = bodies
        .iter()
        .map(|b| parse_body(ct, b).expect("the bench body parses"))
        .collect();
    let normalized: Vec<_> = payloads.iter().map(normalize).collect();
    println!("body: {} bytes", bodies[0].len());

    let base = time("baseline: copy the body", iters, |i| {
        black_box(bodies[i % 1_000].clone());
    });
    let parse = time("parse_body (JSON)", iters, |i| {
        black_box(parse_body(ct, &bodies[i % 1_000]).ok());
    });
    let norm = time("normalize", iters, |i| {
        black_box(normalize(&payloads[i % 1_000]));
    });
    let spam = time("check_spam (3 keywords)", iters, |i| {
        black_box(check_spam(
            &payloads[i % 1_000],
            &normalized[i % 1_000],
            &rules,
        ));
    });
    println!(
        "pipeline = {:.1}x the baseline copy",
        (parse + norm + spam) / base
    );
    big_inputs(iters);
}

/// The spam check on the largest inputs a submission can carry: the longest keyword list a
/// tenant may configure (500) against a ~60 KB message, the same message in Cyrillic (the
/// non-ASCII folding path), and a list built to make a search-per-keyword scan quadratic
/// (`a`, `aa`, … against one 60 KB word of `a`). The list is compiled once, as the daemon
/// does; building it is timed on its own.
fn big_inputs(iters: usize) {
    let reps = (iters / 20_000).max(3);
    let keywords: Vec<String> = (0..500)
        .map(|i| match i % 3 {
            0 => format!("spamword{i}"),
            1 => format!("cheap offer {i}"),
            _ => format!("crypto{i} deal"),
        })
        .collect();
    let mut message = String::new();
    while message.len() < 60_000 {
        message.push_str(MSG);
        message.push(' ');
    }
    let mut cyrillic = String::new();
    while cyrillic.len() < 60_000 {
        cyrillic.push_str("Здравствуйте, моей маме нужна помощь по утрам в будние дни. ");
    }
    let pathological: Vec<String> = (1..=100).map(|k| "a".repeat(k)).collect();
    let word = "a".repeat(60_000);
    let start = Instant::now();
    for _ in 0..reps {
        black_box(Keywords::new(&keywords));
    }
    let us = start.elapsed().as_micros() as f64 / reps as f64;
    println!("{:<34} {us:>9.0} us", "Keywords::new (500 keywords)");
    for (label, kws, text) in [
        ("check_spam (500 keywords, 60 KB)", &keywords, &message),
        ("check_spam (500 kw, 60 KB Cyrillic)", &keywords, &cyrillic),
        ("check_spam (a..a x100, 60 KB a)", &pathological, &word),
    ] {
        let fields = serde_json::json!({"name": "Jane", "message": text});
        let body = serde_json::to_vec(&fields).expect("json");
        let p = parse_body(Some("application/json"), &body).expect("parses");
        let n = normalize(&p);
        let compiled = Keywords::new(kws);
        let rules = SpamRules {
            keywords: &compiled,
            honeypot_fields: &[],
            max_links: 3,
        };
        let start = Instant::now();
        for _ in 0..reps {
            black_box(check_spam(&p, &n, &rules));
        }
        let us = start.elapsed().as_micros() as f64 / reps as f64;
        println!("{label:<34} {us:>9.0} us/body");
    }
}
