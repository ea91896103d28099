//! Spam rules: tenant keywords on word boundaries, filled honeypot fields, too many links.

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};
use serde_json::{Map, Value};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use super::clean::{self, is_invisible};
use super::payload::MAX_DEPTH;
use super::shape::{filled, loose, loose_into};
use super::{Normalized, Payload};

pub struct SpamRules<'a> {
    /// The tenant's words or phrases, compiled once ([`Keywords::new`]); matched
    /// case-insensitively on word boundaries, after folding.
    pub keywords: &'a Keywords,
    /// Field names that only bots fill in (lower-case, compared loosely like field names).
    pub honeypot_fields: &'a [String],
    /// More links than this in the message (and other free text) is spam.
    pub max_links: usize,
}

/// Honeypot names plugins and themes use, in loose form; checked besides the tenant's own.
/// `website` is deliberately absent: it is a honeypot only when hidden, which the payload
/// cannot tell, and a real "Website" field is common.
pub const HONEYPOT_NAMES: &[&str] = &[
    "honeypot",
    "hp",
    "hpfield",
    "websitehp",
    "faxonly",
    "leaveempty",
    "leavethisempty",
    "leaveblank",
    "leavethisblank",
    "donotfill",
    "dontfill",
    "akhptextarea",
];
/// Loose-name fragments that mark a honeypot wherever they appear (`my_honeypot_2`, Fluent
/// Forms' `item__3__fluent_checkme_`).
const HONEYPOT_FRAGMENTS: &[&str] = &["honeypot", "fluentcheckme"];

/// Custom keys whose values are metadata, not text the visitor typed; links there (a bot's
/// user agent often carries one) say nothing about spam.
const NOT_FREE_TEXT: &[&str] = &[
    "useragent",
    "httpuseragent",
    "browser",
    "sourceurl",
    "pageurl",
    "url",
    "referer",
    "referrer",
    "wphttpreferer",
];

/// The reason a submission is spam (`keyword:<word>`, `honeypot:<field>`, `links:<n>`), or
/// `None` when it looks clean. Rules are tried in that order — honeypot, keyword, links —
/// and the first that matches gives the reason.
///
/// - honeypot: a field anywhere in the payload whose loose name is one of the tenant's
///   `honeypot_fields` or [`HONEYPOT_NAMES`] (or contains `honeypot`), or an Elementor field
///   of type `honeypot`, holding anything at all. The reason names it by its bracket path
///   (`fields[hp]`).
/// - keyword: whole words only (`casino` matches "Casino!" but not "casinos"), Unicode-aware,
///   case-insensitive; a phrase matches across any run of whitespace. Searched in the name,
///   first/last name, message, company and every string in `custom`. The reason carries the
///   keyword as configured.
/// - links: `http://`, `https://`, their defanged `hxxp://` and `hxxps://`, and `www.` (not
///   counting the `www.` right after a scheme) in the message, name, company and free text in
///   `custom`; a word with none of these but a defanged dot (`evil[.]test`, `evil(dot)test`)
///   is one link too. A one-word custom value is a URL field (a "Website" input), not prose,
///   and is not counted.
///
/// Texts and keywords are folded alike before keywords are searched, so look-alike spellings
/// meet: NFKC (full-width and other compatibility forms become plain letters), invisible
/// characters dropped (zero-width spaces, soft hyphens, bidi controls), lower case, and every
/// letter or digit replaced by its UTS #39 confusable skeleton (Cyrillic `і` is `i`, `0` is
/// `o`) where that skeleton is letters or digits too, so word boundaries stay where they were.
///
/// The keyword list comes compiled (the daemon compiles a tenant's list once, with its
/// ingest profile), so the check is linear in the size of the texts whatever the list.
pub fn check_spam(p: &Payload, n: &Normalized, rules: &SpamRules<'_>) -> Option<String> {
    let keywords = rules.keywords;
    let own: Vec<String> = rules.honeypot_fields.iter().map(|f| loose(f)).collect();
    if let Some(field) = honeypot(&p.fields, &own, "", 0) {
        // The path is made of the sender's field names: stored and shown, so made safe.
        let (field, _) = clean::cap(clean::single_line(&field).into_owned(), HONEYPOT_PATH_MAX);
        return Some(format!("honeypot:{field}"));
    }

    let texts: Vec<&str> = [&n.name, &n.first_name, &n.last_name, &n.message, &n.company]
        .into_iter()
        .filter_map(|s| s.as_deref())
        .collect();
    if !keywords.is_empty() {
        let mut all = texts.clone();
        strings(&n.custom, &mut all, 0);
        // All texts folded into one and searched once for every keyword. They are kept
        // apart by a newline, which no folded keyword contains (folding makes every
        // whitespace run one space) and which is no word character: no match spans two
        // texts, and a text's edge is a word boundary.
        let mut hay = String::with_capacity(all.iter().map(|t| t.len() + 1).sum());
        for t in &all {
            fold_into(&mut hay, t);
            hay.push('\n');
        }
        if let Some(keyword) = keywords.first_in(&hay) {
            return Some(format!("keyword:{keyword}"));
        }
    }

    let mut prose = texts;
    free_text(&n.custom, &mut prose, 0);
    let links: usize = prose.iter().map(|t| count_links(t)).sum();
    (links > rules.max_links).then(|| format!("links:{links}"))
}

/// Longest honeypot field path kept in a spam reason (characters).
const HONEYPOT_PATH_MAX: usize = 200;

/// A tenant's keyword list, folded and compiled into one Aho-Corasick automaton. A search
/// walks the automaton from each place a keyword may start (a word's first character; any
/// character that is not a letter or digit when a keyword starts with one), so the cost is
/// the text's length times at most the longest keyword, whatever the list: a search per
/// keyword was 500 passes and, with matches failing the word-boundary test at every
/// position, quadratic.
#[derive(Debug, Clone)]
pub struct Keywords {
    /// As configured (trimmed), in list order: the reason names the first that matches.
    configured: Vec<String>,
    /// Per pattern of the automaton: the index of its keyword in `configured`, and whether
    /// its last character is a word character (then a word boundary must follow it, as with
    /// regex `\b`; one at its start is where the search starts).
    patterns: Vec<(usize, bool)>,
    matcher: Option<NFA>,
    /// Some pattern starts with a character that is not a word character (`$$$`), so a
    /// match may start inside a word.
    free_start: bool,
    /// The folded patterns, searched one by one if the automaton could not be built.
    fallback: Vec<String>,
}

impl Keywords {
    pub fn new(list: &[String]) -> Keywords {
        let mut configured = Vec::with_capacity(list.len());
        let mut patterns = Vec::with_capacity(list.len());
        let mut needles: Vec<String> = Vec::with_capacity(list.len());
        let mut free_start = false;
        for keyword in list {
            let needle = fold(keyword);
            configured.push(keyword.trim().to_owned());
            // Two spellings that fold alike are one pattern: the earlier keyword names it.
            let (Some(first), Some(last)) = (needle.chars().next(), needle.chars().next_back())
            else {
                continue;
            };
            if needles.contains(&needle) {
                continue;
            }
            free_start |= !is_word_char(first);
            patterns.push((configured.len() - 1, is_word_char(last)));
            needles.push(needle);
        }
        // Standard semantics: every pattern that ends at a state is reported there, so one
        // that fails the boundary test never hides another.
        let matcher = if needles.is_empty() {
            None
        } else {
            NFA::builder()
                .match_kind(MatchKind::Standard)
                .build(&needles)
                .ok()
        };
        let fallback = if matcher.is_none() {
            needles
        } else {
            Vec::new()
        };
        Keywords {
            configured,
            patterns,
            matcher,
            free_start,
            fallback,
        }
    }

    /// No keyword that can match anything.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The first keyword, in list order, found in the folded `hay` on word boundaries.
    fn first_in(&self, hay: &str) -> Option<&str> {
        let Some(nfa) = &self.matcher else {
            return self
                .fallback
                .iter()
                .zip(&self.patterns)
                .find(|(needle, _)| contains_word(hay, needle))
                .map(|(_, (k, _))| self.configured[*k].as_str());
        };
        let start = nfa.start_state(Anchored::Yes).ok()?;
        let bytes = hay.as_bytes();
        let mut best: Option<usize> = None;
        let mut prev_word = false;
        for (i, c) in hay.char_indices() {
            let word = is_word_char(c);
            // A keyword starting with a word character starts a word; inside one, none
            // can start.
            let may_start = if word { !prev_word } else { self.free_start };
            prev_word = word;
            if !may_start {
                continue;
            }
            let mut sid = start;
            for (j, &b) in bytes[i..].iter().enumerate() {
                sid = nfa.next_state(Anchored::Yes, sid, b);
                if nfa.is_dead(sid) {
                    break;
                }
                if !nfa.is_match(sid) {
                    continue;
                }
                let end = i + j + 1;
                for m in 0..nfa.match_len(sid) {
                    let pid = nfa.match_pattern(sid, m);
                    // A state also holds the patterns that are its suffixes: those start
                    // later, and are looked for from there.
                    if nfa.pattern_len(pid) != end - i {
                        continue;
                    }
                    let (k, word_last) = self.patterns[pid.as_usize()];
                    if best.is_some_and(|b| k >= b) {
                        continue;
                    }
                    if !word_last || hay[end..].chars().next().is_none_or(|c| !is_word_char(c)) {
                        best = Some(k);
                    }
                }
            }
            if best == Some(0) {
                break;
            }
        }
        best.map(|k| self.configured[k].as_str())
    }
}

/// Whether `hay[start..end]` has no word character touching an edge that is itself a word
/// character.
fn bounded(hay: &str, start: usize, end: usize, word_first: bool, word_last: bool) -> bool {
    let before_ok = !word_first
        || hay[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_word_char(c));
    let after_ok = !word_last || hay[end..].chars().next().is_none_or(|c| !is_word_char(c));
    before_ok && after_ok
}

fn is_honeypot_name(l: &str, own: &[String]) -> bool {
    !l.is_empty()
        && (own.iter().any(|o| o == l)
            || HONEYPOT_NAMES.contains(&l)
            || HONEYPOT_FRAGMENTS.iter().any(|f| l.contains(f)))
}

fn honeypot(
    fields: &Map<String, Value>,
    own: &[String],
    parent: &str,
    depth: usize,
) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut name = String::new();
    for (key, value) in fields {
        // Built only for a match or a nested object: most fields are neither.
        let path = || {
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}[{key}]")
            }
        };
        loose_into(&mut name, key);
        if is_honeypot_name(&name, own) && filled(value) {
            return Some(path());
        }
        let Value::Object(obj) = value else { continue };
        // An Elementor entry names itself inside: `fields[field_x][type]=honeypot`, or an id.
        let inner_name = ["type", "id"].iter().any(|k| {
            obj.get(*k)
                .and_then(Value::as_str)
                .is_some_and(|s| is_honeypot_name(&loose(s), own))
        });
        let path = path();
        if inner_name && obj.get("value").is_some_and(filled) {
            return Some(path);
        }
        if let Some(found) = honeypot(obj, own, &path, depth + 1) {
            return Some(found);
        }
    }
    None
}

/// Every string in `custom`, however nested.
fn strings<'a>(map: &'a Map<String, Value>, out: &mut Vec<&'a str>, depth: usize) {
    for v in map.values() {
        string_values(v, out, depth);
    }
}

fn string_values<'a>(v: &'a Value, out: &mut Vec<&'a str>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|i| string_values(i, out, depth + 1)),
        Value::Object(o) => strings(o, out, depth + 1),
        _ => {}
    }
}

/// Strings in `custom` that read as prose: more than one word, under a key that is not
/// metadata.
fn free_text<'a>(map: &'a Map<String, Value>, out: &mut Vec<&'a str>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for (k, v) in map {
        if NOT_FREE_TEXT.contains(&loose(k).as_str()) {
            continue;
        }
        let mut found = Vec::new();
        match v {
            Value::Object(o) => free_text(o, out, depth + 1),
            _ => string_values(v, &mut found, depth + 1),
        }
        out.extend(
            found
                .into_iter()
                .filter(|s| s.trim().contains(char::is_whitespace)),
        );
    }
}

/// Folded for keyword matching (see [`check_spam`]): NFKC, invisible characters and
/// controls dropped, lower case, confusable skeletons, every whitespace run made one space
/// and none at either end, so "Free\n  Money" and "ＦＲＥＥ mоnеy" meet "free money".
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(&mut out, s);
    out
}
/// [`fold`], appended to `out`. It runs over every text of every submission, so ASCII (the
/// usual case) takes a byte-wise path: NFKC and skeletons leave ASCII as it is.
fn fold_into(out: &mut String, s: &str) {
    let start = out.len();
    // A space is owed before the next character: whitespace was seen after some text.
    let mut gap = false;
    if s.is_ascii()
        && !s
            .bytes()
            .any(|b| b.is_ascii_control() && !is_ascii_space(b))
    {
        // Whole words copied, then lower-cased in place.
        let words = s
            .split(|c: char| c.is_ascii_whitespace() || c == '\u{0B}')
            .filter(|w| !w.is_empty());
        for (i, w) in words.enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(w);
        }
        out[start..].make_ascii_lowercase();
        return;
    }
    if s.is_ascii() {
        for b in s.bytes() {
            if b.is_ascii_whitespace() || b == 0x0b {
                gap = out.len() > start;
            } else if !b.is_ascii_control() {
                if gap {
                    out.push(' ');
                    gap = false;
                }
                out.push(char::from(b.to_ascii_lowercase()));
            }
        }
        return;
    }
    let mut folded = String::with_capacity(s.len());
    // What each character folds to, computed once per text: a text uses few distinct
    // characters, and a skeleton costs two decompositions and table searches. Slots are
    // picked by the code point's low bits; a clash just computes again. NUL is ASCII, so
    // never looked up, which makes it a safe "empty" key.
    let mut cache: Vec<(char, String, bool)> = vec![('\0', String::new(), false); 512];
    // Whether some folded character may compose with its neighbour (a mark, a Hangul jamo):
    // only then is the NFC pass needed.
    let mut composable = false;
    let mut ascii = [0u8; 4];
    for c in s.chars() {
        let folds: &str = if c.is_ascii() {
            if c.is_ascii_whitespace() || c == '\u{0B}' {
                " "
            } else if c.is_ascii_control() {
                continue;
            } else {
                c.to_ascii_lowercase().encode_utf8(&mut ascii)
            }
        } else {
            let slot = &mut cache[(c as usize) & 511];
            if slot.0 != c {
                slot.0 = c;
                slot.1.clear();
                fold_compat(&mut slot.1, c);
                slot.2 = slot.1.chars().any(|f| {
                    !f.is_ascii()
                        && (f.general_category_group() == GeneralCategoryGroup::Mark
                            || matches!(f, '\u{1100}'..='\u{11FF}' | '\u{A960}'..='\u{A97F}' | '\u{D7B0}'..='\u{D7FF}'))
                });
            }
            composable |= slot.2;
            &slot.1
        };
        for f in folds.chars() {
            if f == ' ' {
                gap = !folded.is_empty();
            } else {
                if gap {
                    folded.push(' ');
                    gap = false;
                }
                folded.push(f);
            }
        }
    }
    // Skeletons come decomposed (`é` is `e` + U+0301), and so do compatibility forms:
    // composed again (NFC after the per-character NFKD makes the whole NFKC), an accented
    // letter is one word character as it was typed.
    if !composable || is_nfc_quick(folded.chars()) == IsNormalized::Yes {
        out.push_str(&folded);
    } else {
        out.extend(folded.nfc());
    }
}

/// ASCII whitespace as folding sees it: `char::is_whitespace`'s ASCII part (VT included).
fn is_ascii_space(b: u8) -> bool {
    b.is_ascii_whitespace() || b == 0x0b
}

/// One character outside ASCII, folded into `out`: its compatibility decomposition (NFKD:
/// `ｖ` is `v`, `ﬁ` is `fi`, `¨` is a space and a mark), each part dropped if invisible or
/// a control, a single space if whitespace, else [`fold_char`]ed.
fn fold_compat(out: &mut String, c: char) {
    for d in std::iter::once(c).nfkd() {
        if d.is_whitespace() {
            out.push(' ');
        } else if !(d.is_control() || is_invisible(d)) {
            fold_char(out, d);
        }
    }
}

/// One visible character, folded: lower case, and for a letter or digit outside ASCII its
/// confusable skeleton when that is made of letters, digits and marks (a skeleton such as
/// `ʔ` → `?` would move a word boundary, so the letter stays). ASCII is left alone: `m` →
/// `rn` and `0` → `o` would make keywords match words nobody meant.
fn fold_char(out: &mut String, c: char) {
    for l in c.to_lowercase() {
        if l.is_ascii() || !l.is_alphanumeric() {
            out.push(l);
            continue;
        }
        let mut buf = [0u8; 4];
        let mark = out.len();
        let mut wordy = true;
        for k in unicode_security::skeleton(l.encode_utf8(&mut buf)) {
            for kl in k.to_lowercase() {
                wordy &= is_word_char(kl) && kl != '_';
                out.push(kl);
            }
        }
        if !wordy || out.len() == mark {
            out.truncate(mark);
            out.push(l);
        }
    }
}

/// Letters, digits, `_` and combining marks (which the skeleton's decomposition splits off
/// accented letters: `é` is `e` + U+0301, and `cafés` must not hold the word `café`).
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    c.is_alphanumeric() || c.general_category_group() == GeneralCategoryGroup::Mark
}

/// Whether `needle` occurs in `hay` with no word character touching it. An edge of the needle
/// that is not itself a word character (`$$$`, `viagra!`) needs no boundary there, as with
/// regex `\b`.
fn contains_word(hay: &str, needle: &str) -> bool {
    let (Some(first), Some(last)) = (needle.chars().next(), needle.chars().next_back()) else {
        return false;
    };
    let (word_first, word_last) = (is_word_char(first), is_word_char(last));
    let mut from = 0;
    while let Some(pos) = hay.get(from..).and_then(|h| h.find(needle)) {
        let start = from + pos;
        if bounded(hay, start, start + needle.len(), word_first, word_last) {
            return true;
        }
        // Overlapping matches matter ("ab ab" in "xab ab ab"), so step one character.
        from = start + first.len_utf8();
    }
    false
}

/// Links in `text`: each `http://`, `https://`, `hxxp://`, `hxxps://` and `www.` (ASCII,
/// any case) where the `www.` neither follows a scheme nor a word character; and a word with
/// none of those that holds a defanged dot (`evil[.]test`) counts once.
fn count_links(text: &str) -> usize {
    // No link spans whitespace, so counting over the whole text is counting word by word.
    let links = links_in(text);
    if !text.bytes().any(|b| matches!(b, b'[' | b'(' | b'{')) {
        return links;
    }
    let defanged = text
        .split(char::is_whitespace)
        .filter(|word| links_in(word) == 0 && defanged(word))
        .count();
    links + defanged
}

/// The links [`count_links`] finds in one word. Compared byte-wise, without lower-casing a
/// copy: no character outside ASCII lower-cases to one of these letters.
fn links_in(text: &str) -> usize {
    let b = text.as_bytes();
    let at = |i: usize, pat: &[u8]| {
        b.get(i..i + pat.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(pat))
    };
    let mut n = 0;
    for i in 0..b.len() {
        match b[i].to_ascii_lowercase() {
            b'h' if at(i, b"http://")
                || at(i, b"https://")
                || at(i, b"hxxp://")
                || at(i, b"hxxps://") =>
            {
                n += 1
            }
            b'w' if at(i, b"www.")
                && !(i >= 3 && &b[i - 3..i] == b"://")
                && text[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !is_word_char(c)) =>
            {
                n += 1
            }
            _ => {}
        }
    }
    n
}

/// Whether a word holds a dot written so that it does not link (`a[.]b`, `a(.)b`, `a{.}b`,
/// `a[dot]b`, `a(dot)b`), between two letters or digits: how spam hides a domain from link
/// counters.
fn defanged(word: &str) -> bool {
    const DOTS: &[&str] = &["[.]", "(.)", "{.}", "[dot]", "(dot)"];
    if !word.bytes().any(|b| matches!(b, b'[' | b'(' | b'{')) {
        return false;
    }
    let lower = word.to_ascii_lowercase();
    DOTS.iter().any(|dot| {
        lower.match_indices(dot).any(|(i, _)| {
            lower[..i]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
                && lower[i + dot.len()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload(v: Value) -> Payload {
        let Value::Object(fields) = v else {
            panic!("test payloads are objects")
        };
        Payload {
            fields,
            files: Vec::new(),
        }
    }

    fn check(v: Value, keywords: &[&str], honeypots: &[&str], max_links: usize) -> Option<String> {
        let p = payload(v);
        let n = super::super::normalize(&p);
        let keywords: Vec<String> = keywords.iter().map(|s| (*s).to_owned()).collect();
        let keywords = Keywords::new(&keywords);
        let honeypot_fields: Vec<String> = honeypots.iter().map(|s| (*s).to_owned()).collect();
        check_spam(
            &p,
            &n,
            &SpamRules {
                keywords: &keywords,
                honeypot_fields: &honeypot_fields,
                max_links,
            },
        )
    }

    #[test]
    fn contains_word_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("casino!", "casino", true),
            ("best casino bonus", "casino", true),
            ("casinos", "casino", false),
            ("thecasino", "casino", false),
            ("casino_bonus", "casino", false),
            ("(casino)", "casino", true),
            ("casino", "casino", true),
            ("free money now", "free money", true),
            ("freemoney", "free money", false),
            ("xab ab ab", "ab ab", true),
            ("café crème", "café", true),
            ("cafés", "café", false),
            ("naïvecafé", "café", false),
            ("deal $$$ now", "$$$", true),
            ("win$$$", "$$$", true),
            ("buy viagra! now", "viagra!", true),
            ("крипто казино здесь", "казино", true),
            ("казиноа", "казино", false),
            ("", "casino", false),
            ("casino", "", false),
        ];
        for (hay, needle, want) in cases {
            assert_eq!(contains_word(hay, needle), *want, "{needle:?} in {hay:?}");
        }
    }

    #[test]
    fn fold_table() {
        let cases: &[(&str, &str)] = &[
            ("Free\n  Money", "free money"),
            ("  \x0bCASINO\tNight\r\n", "casino night"),
            ("\u{a0}Crédit  RAPIDE\u{2003}Now ", "crédit rapide now"),
            ("ÜBER\u{3000}Deal", "über deal"),
            ("", ""),
            (" \t ", ""),
        ];
        for (input, want) in cases {
            assert_eq!(fold(input), *want, "{input:?}");
        }
        let mut out = "x\n".to_owned();
        fold_into(&mut out, "A  B");
        assert_eq!(out, "x\na b", "appends, leaving what is there");
    }

    #[test]
    fn count_links_table() {
        let cases: &[(&str, usize)] = &[
            ("no links here", 0),
            ("see http://a.test", 1),
            ("see https://www.a.test", 1),
            ("www.a.test and WWW.b.test", 2),
            ("HTTPS://a.test http://b.test www.c.test", 3),
            ("awww.cute", 0),
            ("(www.a.test)", 1),
            ("https://a.testhttps://b.test", 2),
        ];
        for (text, want) in cases {
            assert_eq!(count_links(text), *want, "{text:?}");
        }
    }

    #[test]
    fn keyword_table() {
        let cases: Vec<(Value, &[&str], Option<&str>)> = vec![
            (
                json!({"name": "J", "message": "Casino!"}),
                &["casino"],
                Some("keyword:casino"),
            ),
            (
                json!({"name": "J", "message": "best casino bonus"}),
                &["casino"],
                Some("keyword:casino"),
            ),
            (
                json!({"name": "J", "message": "two casinos nearby"}),
                &["casino"],
                None,
            ),
            (
                json!({"name": "J", "message": "Free\n  MONEY inside"}),
                &["free money"],
                Some("keyword:free money"),
            ),
            (
                json!({"name": "Casino King", "email": "a@b.co"}),
                &["casino"],
                Some("keyword:casino"),
            ),
            (
                json!({"name": "J", "company": "SEO Experts Ltd"}),
                &["seo"],
                Some("keyword:seo"),
            ),
            (
                json!({"name": "J", "budget": "crypto only"}),
                &["crypto"],
                Some("keyword:crypto"),
            ),
            (
                json!({"name": "J", "extra": {"nested": ["fine", "crypto deal"]}}),
                &["crypto"],
                Some("keyword:crypto"),
            ),
            (
                json!({"name": "J", "email": "casino@example.com"}),
                &["casino"],
                None,
            ),
            (json!({"name": "J", "message": "hello"}), &["", "  "], None),
            (
                json!({"name": "J", "message": "loans and seo"}),
                &["casino", "seo", "loans"],
                Some("keyword:seo"),
            ),
            (
                json!({"name": "J", "message": "Café offer"}),
                &["CAFÉ"],
                Some("keyword:CAFÉ"),
            ),
        ];
        for (v, keywords, want) in cases {
            assert_eq!(
                check(v.clone(), keywords, &[], 10).as_deref(),
                want,
                "{v} {keywords:?}"
            );
        }
    }

    #[test]
    fn honeypot_table() {
        let cases: Vec<(Value, &[&str], Option<&str>)> = vec![
            (json!({"name": "J", "_hp": "x"}), &[], Some("honeypot:_hp")),
            (json!({"name": "J", "_hp": ""}), &[], None),
            (json!({"name": "J", "_hp": "  "}), &[], None),
            (
                json!({"name": "J", "honeypot": "1"}),
                &[],
                Some("honeypot:honeypot"),
            ),
            (json!({"name": "J", "hp": "x"}), &[], Some("honeypot:hp")),
            (
                json!({"name": "J", "hp_field": "x"}),
                &[],
                Some("honeypot:hp_field"),
            ),
            (
                json!({"name": "J", "website_hp": "x"}),
                &[],
                Some("honeypot:website_hp"),
            ),
            (
                json!({"name": "J", "fax_only": "x"}),
                &[],
                Some("honeypot:fax_only"),
            ),
            (
                json!({"name": "J", "Leave-Empty": "x"}),
                &[],
                Some("honeypot:Leave-Empty"),
            ),
            (
                json!({"name": "J", "my_honeypot_2": "x"}),
                &[],
                Some("honeypot:my_honeypot_2"),
            ),
            (
                json!({"name": "J", "item__3__fluent_checkme_": "x"}),
                &[],
                Some("honeypot:item__3__fluent_checkme_"),
            ),
            (json!({"name": "J", "website": "https://a.test"}), &[], None),
            (
                json!({"name": "J", "website": "https://a.test"}),
                &["website"],
                Some("honeypot:website"),
            ),
            (
                json!({"name": "J", "Confirm-Email": "x"}),
                &["confirm_email"],
                Some("honeypot:Confirm-Email"),
            ),
            (
                json!({"name": "J", "wpforms": {"hp": "x"}}),
                &[],
                Some("honeypot:wpforms[hp]"),
            ),
            (
                json!({"name": "J", "fields": {"field_9": {"id": "field_9", "type": "honeypot", "value": "x"}}}),
                &[],
                Some("honeypot:fields[field_9]"),
            ),
            (
                json!({"name": "J", "fields": {"field_9": {"id": "field_9", "type": "honeypot", "value": ""}}}),
                &[],
                None,
            ),
            (json!({"name": "J", "hp": ["", ""]}), &[], None),
        ];
        for (v, own, want) in cases {
            assert_eq!(
                check(v.clone(), &[], own, 10).as_deref(),
                want,
                "{v} {own:?}"
            );
        }
    }

    #[test]
    fn links_table() {
        let cases: Vec<(Value, usize, Option<&str>)> = vec![
            (
                json!({"name": "J", "message": "see http://a.test and https://b.test"}),
                2,
                None,
            ),
            (
                json!({"name": "J", "message": "http://a.test https://b.test www.c.test"}),
                2,
                Some("links:3"),
            ),
            (
                json!({"name": "J", "message": "one http://a.test"}),
                0,
                Some("links:1"),
            ),
            (
                json!({"name": "J", "message": "hi", "website": "https://acme.test"}),
                0,
                None,
            ),
            (
                json!({"name": "J", "message": "hi", "notes2": "go to www.a.test now"}),
                0,
                Some("links:1"),
            ),
            (
                json!({"name": "J", "user_agent": "Bot (+http://bot.test/info)"}),
                0,
                None,
            ),
            (
                json!({"name": "J", "__submission": {"browser": "x http://a.test y"}}),
                0,
                None,
            ),
            (
                json!({"name": "Visit www.a.test", "message": "http://b.test"}),
                1,
                Some("links:2"),
            ),
        ];
        for (v, max, want) in cases {
            assert_eq!(
                check(v.clone(), &[], &[], max).as_deref(),
                want,
                "{v} max {max}"
            );
        }
    }

    #[test]
    fn rules_apply_in_order() {
        let v = json!({"name": "J", "hp": "x", "message": "casino http://a.test http://b.test"});
        assert_eq!(
            check(v, &["casino"], &[], 1).as_deref(),
            Some("honeypot:hp")
        );
        let v = json!({"name": "J", "message": "casino http://a.test http://b.test"});
        assert_eq!(
            check(v.clone(), &["casino"], &[], 1).as_deref(),
            Some("keyword:casino")
        );
        assert_eq!(check(v, &[], &[], 1).as_deref(), Some("links:2"));
    }

    #[test]
    fn evasions_still_match() {
        let keywords = &["viagra", "casino", "free money", "crypto", "seo"];
        let cases: &[(&str, Option<&str>)] = &[
            ("buy v\u{200B}iagra now", Some("keyword:viagra")),
            ("vi\u{AD}ag\u{AD}ra", Some("keyword:viagra")),
            (
                "v\u{2060}i\u{200D}a\u{200C}g\u{2063}r\u{FEFF}a",
                Some("keyword:viagra"),
            ),
            ("v\u{456}agra", Some("keyword:viagra")),
            ("V\u{406}AGRA!", Some("keyword:viagra")),
            ("ｖｉａｇｒａ", Some("keyword:viagra")),
            ("𝐯𝐢𝐚𝐠𝐫𝐚 here", Some("keyword:viagra")),
            ("ⓒⓐⓢⓘⓝⓞ", Some("keyword:casino")),
            (
                "best \u{441}\u{430}sin\u{43E} in town",
                Some("keyword:casino"),
            ),
            ("\u{202E}casino\u{202C}", Some("keyword:casino")),
            ("\u{2067}cas\u{2069}ino", Some("keyword:casino")),
            ("ｆｒｅｅ\u{3000}ｍｏｎｅｙ", Some("keyword:free money")),
            ("free\u{200B} \u{200B}money", Some("keyword:free money")),
            ("FREE\u{A0}\u{2003}MONEY", Some("keyword:free money")),
            ("cr\u{443}\u{440}to deals", Some("keyword:crypto")),
            ("ＳＥＯ", Some("keyword:seo")),
            ("s\u{435}o services", Some("keyword:seo")),
            // Whole words still: a look-alike inside a longer word is no match.
            ("v\u{456}agras", None),
            ("xｖｉａｇｒａ", None),
            ("ca\u{455}inos", None),
            ("free moneys", None),
            ("seoul trip", None),
            // Ordinary text in other scripts stays clean.
            ("Здравствуйте, нужна сиделка для мамы", None),
            ("母の介護をお願いしたいです", None),
            ("Ich brauche Hilfe für meine Mutter", None),
        ];
        for (message, want) in cases {
            let v = json!({"name": "J", "message": message});
            assert_eq!(check(v, keywords, &[], 10).as_deref(), *want, "{message:?}");
        }
        // A keyword typed with look-alikes meets the plain spelling, and is named as typed.
        let v = json!({"name": "J", "message": "best casino"});
        assert_eq!(
            check(v, &["\u{441}asino"], &[], 10).as_deref(),
            Some("keyword:\u{441}asino")
        );
    }

    #[test]
    fn defanged_links_count() {
        let cases: &[(&str, usize)] = &[
            ("see hxxp://a.test", 1),
            ("see HXXPS://a.test and hxxps://b.test", 2),
            ("evil[.]test", 1),
            ("hxxps://evil[.]test/x", 1),
            ("www[.]evil[.]test", 1),
            ("a(.)b c{.}d e[dot]f g(DOT)h", 4),
            ("[.] alone", 0),
            ("ends with[.]", 0),
            ("hxxp:// hxxps://", 2),
            ("plain words only", 0),
        ];
        for (text, want) in cases {
            assert_eq!(count_links(text), *want, "{text:?}");
        }
        let v = json!({"name": "J", "message": "hxxp://a.test b[.]test hxxps://c.test"});
        assert_eq!(check(v, &[], &[], 2).as_deref(), Some("links:3"));
    }

    #[test]
    fn honeypot_reason_is_clean() {
        let v = json!({"name": "J", "my_honeypot\u{1b}]0;x\u{7}\r\nWARN\u{202E}": "x"});
        let reason = check(v, &[], &[], 10).unwrap_or_default();
        assert_eq!(reason, "honeypot:my_honeypot]0;x WARN");
    }

    proptest::proptest! {
        /// One automaton over the list finds what a search per keyword found: the first
        /// keyword in list order with a whole-word occurrence.
        #[test]
        fn automaton_agrees_with_a_search_per_keyword(
            list in proptest::collection::vec("[ab$ ]{0,4}|casino|ca|é|aé|[аa]{1,3}", 0..12),
            texts in proptest::collection::vec("[ab$ éаｂ\u{301}\u{200B}\n]{0,24}", 1..4),
        ) {
            let mut hay = String::new();
            for t in &texts {
                fold_into(&mut hay, t);
                hay.push('\n');
            }
            let want = list
                .iter()
                .find(|k| contains_word(&hay, &fold(k)))
                .map(|k| k.trim().to_owned());
            let got = Keywords::new(&list).first_in(&hay).map(str::to_owned);
            proptest::prop_assert_eq!(got, want, "{:?} in {:?}", list, hay);
        }
    }
}
