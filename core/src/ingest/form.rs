//! `application/x-www-form-urlencoded` decoding and PHP bracket nesting.
//!
//! WordPress plugins build their bodies with PHP's `http_build_query`, so the reader follows
//! what PHP's own request parser does with them (`main/php_variables.c`), except where PHP
//! would silently lose data or mangle a name: see the notes on [`Charset`], [`insert`] and
//! [`split_name`].

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::payload::{BodyError, MAX_DEPTH, MAX_FIELDS, MAX_INDEX};

/// How the percent-decoded bytes of a form body become text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    /// UTF-8, unless any name or value is not valid UTF-8: then the whole body is read as
    /// Latin-1. Per body, not per value, because a sender uses one encoding for the whole body,
    /// and reading some values one way and some the other would garble the valid-looking ones.
    Utf8OrLatin1,
    /// Every byte is the code point of the same number, so no byte can be lost.
    Latin1,
    /// Latin-1 except 0x80..=0x9F, where Windows-1252 has printable characters (€, curly
    /// quotes) that a site declaring it really means.
    Windows1252,
}

impl Charset {
    /// The charset a `charset=` parameter names. Unknown names fall back to UTF-8 with the
    /// Latin-1 safety net: decoding as something else would need an encoding table we do not
    /// carry, and the safety net still keeps every byte.
    pub(crate) fn from_param(param: Option<&str>) -> Charset {
        let Some(name) = param else {
            return Charset::Utf8OrLatin1;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1"
            | "iso-ir-100" | "csisolatin1" => Charset::Latin1,
            "windows-1252" | "cp1252" | "x-cp1252" => Charset::Windows1252,
            _ => Charset::Utf8OrLatin1,
        }
    }

    fn decode(self, bytes: Vec<u8>) -> String {
        match self {
            Charset::Utf8OrLatin1 => {
                String::from_utf8(bytes).unwrap_or_else(|e| latin1(e.as_bytes()))
            }
            Charset::Latin1 => latin1(&bytes),
            Charset::Windows1252 => bytes.iter().map(|&b| cp1252(b)).collect(),
        }
    }
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Windows-1252's printable characters in 0x80..=0x9F; the five holes keep the Latin-1 code
/// point so they survive too.
fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// PHP's `urldecode`: `+` is a space, `%XX` a byte, and a `%` not followed by two hex digits is
/// kept as it is (PHP does not reject it, and neither may we: the lead would be lost).
pub(crate) fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (
                input.get(i + 1).and_then(hex),
                input.get(i + 2).and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn hex(b: &u8) -> Option<u8> {
    char::from(*b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// The non-empty `&`-separated segments of a form body (PHP skips empty ones, as in `a=1&&b=2`).
fn segments(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    body.split(|&b| b == b'&').filter(|s| !s.is_empty())
}

/// Splits a form body into decoded `(name, value)` pairs. A segment without `=` is a name with
/// an empty value, as in PHP.
pub(crate) fn decode_pairs(
    body: &[u8],
    charset: Charset,
) -> Result<Vec<(String, String)>, BodyError> {
    let count = segments(body).count();
    if count > MAX_FIELDS {
        return Err(BodyError::Malformed(format!(
            "too many fields: {count} (at most {MAX_FIELDS})"
        )));
    }
    let raw: Vec<(Vec<u8>, Vec<u8>)> = segments(body)
        .map(|seg| {
            let (name, value) = match seg.iter().position(|&b| b == b'=') {
                Some(eq) => (&seg[..eq], &seg[eq + 1..]),
                None => (seg, &[][..]),
            };
            (percent_decode(name), percent_decode(value))
        })
        .collect();
    let charset = match charset {
        Charset::Utf8OrLatin1
            if raw.iter().any(|(n, v)| {
                std::str::from_utf8(n).is_err() || std::str::from_utf8(v).is_err()
            }) =>
        {
            Charset::Latin1
        }
        other => other,
    };
    Ok(raw
        .into_iter()
        .map(|(n, v)| (charset.decode(n), charset.decode(v)))
        .collect())
}

/// Whether a body reads as `k=v&k=v`: used to sniff bodies with no usable content type, so
/// plain prose ("Hi, please call me") is refused instead of becoming a one-field form.
pub(crate) fn looks_like_form(body: &[u8]) -> bool {
    let mut any = false;
    for seg in segments(body) {
        let Some(eq) = seg.iter().position(|&b| b == b'=') else {
            return false;
        };
        let name = &seg[..eq];
        // An encoder never leaves whitespace raw in a name nor a line break anywhere; a
        // hand-built body may leave spaces raw in values, so those are allowed.
        if name.is_empty()
            || name.iter().any(u8::is_ascii_whitespace)
            || seg.iter().any(u8::is_ascii_control)
        {
            return false;
        }
        any = true;
    }
    any
}

/// One step of a bracketed name: `[key]` or `[]` (append).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Push,
}

/// Splits `a[b][]` into the base name and its bracket steps, the way PHP does: leading spaces
/// are dropped, a step's text is taken up to the first `]`, and anything after a `]` that does
/// not open another `[` is ignored. Unlike PHP, `.` and spaces in the base name are NOT turned
/// into `_`: Gravity Forms' `1.3` must stay `1.3`. A `[` with no closing `]` in the base name
/// keeps the whole name literal (PHP would mangle it). `None` for an empty base name, which PHP
/// drops too.
fn split_name(name: &str) -> Option<(String, Vec<Seg>)> {
    let name = name.trim_start_matches(' ');
    let Some(open) = name.find('[') else {
        return (!name.is_empty()).then(|| (name.to_owned(), Vec::new()));
    };
    let base = &name[..open];
    if base.is_empty() {
        return None;
    }
    if !name[open..].contains(']') {
        return Some((name.to_owned(), Vec::new()));
    }
    let mut segs = Vec::new();
    let mut rest = &name[open..];
    // The loop stops one step past the limit: enough to report "too deep" without doing work
    // proportional to a hostile name.
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else { break };
        let text = &inner[..close];
        segs.push(if text.is_empty() {
            Seg::Push
        } else {
            Seg::Key(text.to_owned())
        });
        if segs.len() > MAX_DEPTH {
            break;
        }
        rest = &inner[close + 1..];
    }
    Some((base.to_owned(), segs))
}

/// A canonical small index (`0`, `7`, `1000`, not `007` or `99999999`), which may become an
/// array position.
fn small_index(key: &str) -> Option<u64> {
    if key.is_empty() || key.len() > 4 || (key.len() > 1 && key.starts_with('0')) {
        return None;
    }
    key.parse::<u64>().ok().filter(|&i| i <= MAX_INDEX)
}

#[derive(Debug)]
enum Node {
    /// Every value sent for the same full name, in order (see [`insert`]).
    Leaf(Vec<String>),
    Branch(Branch),
}

#[derive(Debug, Default)]
struct Branch {
    entries: BTreeMap<String, Node>,
    /// What `[]` appends at: one past the largest small index seen, as PHP does.
    next_index: u64,
}

impl Branch {
    fn key_for(&mut self, seg: &Seg) -> String {
        match seg {
            Seg::Push => {
                let i = self.next_index;
                self.next_index += 1;
                i.to_string()
            }
            Seg::Key(k) => {
                if let Some(i) = small_index(k) {
                    self.next_index = self.next_index.max(i + 1);
                }
                k.clone()
            }
        }
    }
}

/// Stores `value` at `key` + `rest`. PHP keeps only the last value of a repeated name; we keep
/// all of them, in order, as an array (`x=1&x=2` → `["1","2"]`), and readers that need one
/// value take the last, which is what PHP would have had. When a plain value and a bracketed
/// name collide (`a=1&a[b]=2`), PHP lets the later one replace the earlier; we keep the object
/// and file the plain value under the empty key `""`, which no bracket syntax can produce.
fn insert(branch: &mut Branch, key: String, rest: &[Seg], value: String) {
    let node = branch.entries.entry(key);
    let Some((first, tail)) = rest.split_first() else {
        match node.or_insert_with(|| Node::Leaf(Vec::new())) {
            Node::Leaf(values) => values.push(value),
            Node::Branch(b) => insert(b, String::new(), &[], value),
        }
        return;
    };
    let node = node.or_insert_with(|| Node::Branch(Branch::default()));
    if let Node::Leaf(values) = node {
        let values = std::mem::take(values);
        let mut b = Branch::default();
        b.entries.insert(String::new(), Node::Leaf(values));
        *node = Node::Branch(b);
    }
    if let Node::Branch(b) = node {
        let k = b.key_for(first);
        insert(b, k, tail, value);
    }
}

fn to_value(node: Node) -> Value {
    match node {
        Node::Leaf(mut values) if values.len() == 1 => Value::String(values.remove(0)),
        Node::Leaf(values) => Value::Array(values.into_iter().map(Value::String).collect()),
        Node::Branch(b) => branch_value(b),
    }
}

/// An array when the keys are exactly `0..n` (in any order), else an object; so a stray huge
/// index can never allocate a huge array.
fn branch_value(b: Branch) -> Value {
    let n = b.entries.len();
    let mut slots: Vec<Option<Node>> = Vec::new();
    let dense = n > 0
        && b.entries
            .keys()
            .all(|k| small_index(k).is_some_and(|i| i < n as u64));
    if dense {
        slots.resize_with(n, || None);
        let mut entries = b.entries;
        for (k, node) in std::mem::take(&mut entries) {
            if let Some(slot) = small_index(&k).and_then(|i| slots.get_mut(i as usize)) {
                *slot = Some(node);
            }
        }
        // Keys are distinct and all below n, so every slot is filled.
        return Value::Array(slots.into_iter().flatten().map(to_value).collect());
    }
    Value::Object(
        b.entries
            .into_iter()
            .map(|(k, node)| (k, to_value(node)))
            .collect(),
    )
}

/// Builds the nested object from decoded pairs. `strict` refuses input over the limits (a body
/// we were asked to read); otherwise over-limit pairs are dropped, as PHP drops them past
/// `max_input_vars` and `max_input_nesting_level`.
pub(crate) fn build(
    pairs: &[(String, String)],
    strict: bool,
) -> Result<Map<String, Value>, BodyError> {
    if strict && pairs.len() > MAX_FIELDS {
        return Err(BodyError::Malformed(format!(
            "too many fields: {} (at most {MAX_FIELDS})",
            pairs.len()
        )));
    }
    let mut root = Branch::default();
    for (name, value) in pairs.iter().take(MAX_FIELDS) {
        let Some((base, segs)) = split_name(name) else {
            continue;
        };
        if segs.len() > MAX_DEPTH {
            if strict {
                return Err(BodyError::Malformed(format!(
                    "field name nested deeper than {MAX_DEPTH} levels"
                )));
            }
            continue;
        }
        insert(&mut root, base, &segs, value.clone());
    }
    Ok(root
        .entries
        .into_iter()
        .map(|(k, node)| (k, to_value(node)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn built(list: &[(&str, &str)]) -> Value {
        Value::Object(build(&pairs(list), true).expect("within limits"))
    }

    #[test]
    fn percent_decoding_table() {
        let cases: &[(&str, &[u8])] = &[
            ("a+b", b"a b"),
            ("a%20b", b"a b"),
            ("%5B%5d", b"[]"),
            ("100%", b"100%"),
            ("%zz", b"%zz"),
            ("%4", b"%4"),
            ("%E9", b"\xE9"),
            ("%2B", b"+"),
            ("", b""),
        ];
        for (input, want) in cases {
            assert_eq!(percent_decode(input.as_bytes()), *want, "{input}");
        }
    }

    #[test]
    fn charsets() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            ("n=caf%C3%A9", None, "café"),
            ("n=caf%E9", None, "café"),
            ("n=caf%C3%A9", Some("iso-8859-1"), "cafÃ©"),
            ("n=caf%E9", Some("latin1"), "café"),
            ("n=%80uro", Some("windows-1252"), "€uro"),
            ("n=%80uro", Some("latin1"), "\u{80}uro"),
            ("n=%81", Some("cp1252"), "\u{81}"),
            ("n=caf%E9", Some("utf-8"), "café"),
            ("n=caf%E9", Some("shift_jis"), "café"),
        ];
        for (body, cs, want) in cases {
            let got = decode_pairs(body.as_bytes(), Charset::from_param(*cs)).expect("decodes");
            assert_eq!(got, pairs(&[("n", want)]), "{body} {cs:?}");
        }
    }

    #[test]
    fn one_invalid_value_switches_the_whole_body_to_latin1() {
        let got = decode_pairs(b"a=%C3%A9&b=%E9", Charset::Utf8OrLatin1).expect("decodes");
        assert_eq!(got, pairs(&[("a", "Ã©"), ("b", "é")]));
    }

    #[test]
    fn split_name_table() {
        let k = |s: &str| Seg::Key(s.to_owned());
        type Split<'a> = Option<(&'a str, Vec<Seg>)>;
        let cases: Vec<(&str, Split)> = vec![
            ("a", Some(("a", vec![]))),
            ("1.3", Some(("1.3", vec![]))),
            ("first name", Some(("first name", vec![]))),
            ("  a", Some(("a", vec![]))),
            ("a[b][c]", Some(("a", vec![k("b"), k("c")]))),
            ("a[]", Some(("a", vec![Seg::Push]))),
            ("a[][x]", Some(("a", vec![Seg::Push, k("x")]))),
            ("a[b", Some(("a[b", vec![]))),
            ("a[b]c", Some(("a", vec![k("b")]))),
            ("a[b]c[d]", Some(("a", vec![k("b")]))),
            ("a[b][c", Some(("a", vec![k("b")]))),
            ("a[b[c]]", Some(("a", vec![k("b[c")]))),
            ("a[ b ]", Some(("a", vec![k(" b ")]))),
            ("[a]", None),
            ("", None),
            ("   ", None),
        ];
        for (name, want) in cases {
            let want = want.map(|(b, s)| (b.to_owned(), s));
            assert_eq!(split_name(name), want, "{name:?}");
        }
    }

    #[test]
    fn nesting_table() {
        let cases: Vec<(Vec<(&str, &str)>, Value)> = vec![
            (vec![("a[0]", "x"), ("a[1]", "y")], json!({"a": ["x", "y"]})),
            (vec![("a[1]", "y"), ("a[0]", "x")], json!({"a": ["x", "y"]})),
            (vec![("a[]", "x"), ("a[]", "y")], json!({"a": ["x", "y"]})),
            (vec![("a[0]", "x"), ("a[]", "y")], json!({"a": ["x", "y"]})),
            (
                vec![("a[1]", "x"), ("a[2]", "y")],
                json!({"a": {"1": "x", "2": "y"}}),
            ),
            (
                vec![("a[0]", "x"), ("a[2]", "y")],
                json!({"a": {"0": "x", "2": "y"}}),
            ),
            (vec![("a[00]", "x")], json!({"a": {"00": "x"}})),
            (vec![("a[b][c]", "x")], json!({"a": {"b": {"c": "x"}}})),
            (
                vec![("a[b][c]", "x"), ("a[b][d]", "y"), ("a[e]", "z")],
                json!({"a": {"b": {"c": "x", "d": "y"}, "e": "z"}}),
            ),
            (
                vec![("a[][n]", "1"), ("a[][n]", "2")],
                json!({"a": [{"n": "1"}, {"n": "2"}]}),
            ),
            (vec![("x", "1"), ("x", "2")], json!({"x": ["1", "2"]})),
            (
                vec![("x", "1"), ("x", "2"), ("x", "3")],
                json!({"x": ["1", "2", "3"]}),
            ),
            (
                vec![("a[b]", "1"), ("a[b]", "2")],
                json!({"a": {"b": ["1", "2"]}}),
            ),
            (
                vec![("a", "1"), ("a[b]", "2")],
                json!({"a": {"": "1", "b": "2"}}),
            ),
            (
                vec![("a[b]", "2"), ("a", "1")],
                json!({"a": {"": "1", "b": "2"}}),
            ),
            (vec![("1", "x"), ("2", "y")], json!({"1": "x", "2": "y"})),
            (vec![("0", "x")], json!({"0": "x"})),
            (vec![("a[99999999]", "x")], json!({"a": {"99999999": "x"}})),
            (
                vec![("a[99999999]", "x"), ("a[]", "y")],
                json!({"a": {"99999999": "x", "0": "y"}}),
            ),
            (
                vec![("a[1000]", "x"), ("a[]", "y")],
                json!({"a": {"1000": "x", "1001": "y"}}),
            ),
            (vec![("[x]", "dropped"), ("k", "")], json!({"k": ""})),
        ];
        for (input, want) in cases {
            assert_eq!(built(&input), want, "{input:?}");
        }
    }

    #[test]
    fn depth_limit_is_exact() {
        let name = |depth: usize| format!("a{}", "[x]".repeat(depth));
        let ok = build(&pairs(&[(&name(MAX_DEPTH), "v")]), true).expect("32 levels are fine");
        let mut v = ok.get("a").expect("a");
        for _ in 0..MAX_DEPTH {
            v = v.get("x").expect("nested x");
        }
        assert_eq!(v, "v");
        assert!(matches!(
            build(&pairs(&[(&name(MAX_DEPTH + 1), "v")]), true),
            Err(BodyError::Malformed(_))
        ));
        let lenient = build(&pairs(&[(&name(MAX_DEPTH + 1), "v"), ("b", "w")]), false)
            .expect("lenient never fails");
        assert_eq!(Value::Object(lenient), json!({"b": "w"}));
    }

    #[test]
    fn a_very_deep_name_costs_no_more_than_the_limit() {
        let name = format!("a{}", "[x]".repeat(20_000));
        let (_, segs) = split_name(&name).expect("has a base");
        assert_eq!(segs.len(), MAX_DEPTH + 1);
    }

    #[test]
    fn field_limit_is_exact() {
        let body = |n: usize| {
            (0..n)
                .map(|i| format!("f{i}=v"))
                .collect::<Vec<_>>()
                .join("&")
        };
        let ok = decode_pairs(body(MAX_FIELDS).as_bytes(), Charset::Utf8OrLatin1)
            .expect("1000 fields are fine");
        assert_eq!(ok.len(), MAX_FIELDS);
        assert!(matches!(
            decode_pairs(body(MAX_FIELDS + 1).as_bytes(), Charset::Utf8OrLatin1),
            Err(BodyError::Malformed(_))
        ));
        let many: Vec<(String, String)> = (0..=MAX_FIELDS)
            .map(|i| (format!("f{i}"), "v".to_owned()))
            .collect();
        assert!(build(&many, true).is_err());
        assert_eq!(build(&many, false).expect("lenient").len(), MAX_FIELDS);
    }

    #[test]
    fn looks_like_form_table() {
        let cases: &[(&str, bool)] = &[
            ("a=1", true),
            ("a=1&b=2", true),
            ("a=&b=", true),
            ("fields%5Bemail%5D%5Bvalue%5D=x%40y.z", true),
            ("a=1&&b=2", true),
            ("Hi, please call me", false),
            ("Name: Jane\nEmail: j@x.y", false),
            ("a=1&hello", false),
            ("=1", false),
            ("a b=1", false),
            ("a=hello world", true),
            ("a=line\nbreak", false),
            ("", false),
            ("&&", false),
        ];
        for (body, want) in cases {
            assert_eq!(looks_like_form(body.as_bytes()), *want, "{body:?}");
        }
    }
}
