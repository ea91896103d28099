//! Spreadsheet exports: the rule that keeps a cell from being read as a formula.
//!
//! Excel, LibreOffice Calc and Google Sheets evaluate a CSV cell that starts with `=`, `+`,
//! `-` or `@` as a formula, and one that starts with a tab or a carriage return may be
//! read the same way once the spreadsheet strips it. A lead's fields come from anyone who
//! can fill in a web form, so an export that writes them verbatim lets that person run a
//! formula (`=HYPERLINK(...)` leaking other cells, DDE `cmd|' /C calc'!A0`) on the machine
//! of whoever opens the file. OWASP's CSV-injection advice is followed: such a cell gets a
//! single quote in front — which spreadsheets take as "this is text" and do not show — and
//! every cell is written inside double quotes with its own quotes doubled (the export's
//! CSV writer does that part), so a separator or quote inside a value cannot start a cell
//! of its own.
//!
//! Beyond OWASP's list: blanks before the trigger do not hide it (spreadsheets skip them),
//! NUL is a trigger (OWASP's ASVS lists it), and so are the full-width forms of the four
//! signs (`＝＋－＠`): quoting them costs nothing and holds should a spreadsheet fold them
//! to ASCII (East Asian input settings do that for typed text).
//!
//! A value that already starts with `'` gets one more, so that every exported cell starting
//! with `'` had exactly one added: a reader gets the original back by dropping it, and a
//! spreadsheet shows the original's own quote instead of swallowing it. The price is
//! that a value that merely looks like a formula — a phone number written `+1 555 0100`, a
//! note starting with `- ` — shows up as `'+1 555 0100` in a text editor, and in a
//! spreadsheet as the text `+1 555 0100` (not a number).

use std::borrow::Cow;

/// Characters that make a cell a formula when they lead it, after any blanks.
const FORMULA_SIGNS: [char; 8] = [
    '=', '+', '-', '@', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
];

/// Characters that are dangerous as the very first one of a cell.
const LEADING_CONTROLS: [char; 3] = ['\t', '\r', '\0'];

/// Whether a spreadsheet could read `cell` as a formula.
pub fn is_formula_like(cell: &str) -> bool {
    if cell.starts_with(LEADING_CONTROLS) {
        return true;
    }
    cell.trim_start_matches(char::is_whitespace)
        .starts_with(FORMULA_SIGNS)
}

/// Whether `cell` gets a `'` in front in an export: it could be read as a formula, or it
/// starts with `'` itself (see the module's notes).
pub fn needs_quote(cell: &str) -> bool {
    cell.starts_with('\'') || is_formula_like(cell)
}

/// `cell` as it goes into a spreadsheet export: unchanged, or with one `'` in front when
/// [`needs_quote`]. The text after the quote is always the original.
pub fn spreadsheet_cell(cell: &str) -> Cow<'_, str> {
    if needs_quote(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn triggers_get_one_quote() {
        for (input, out) in [
            ("=1+1", "'=1+1"),
            ("+1 555 0100", "'+1 555 0100"),
            ("-2+3", "'-2+3"),
            (
                "@SUM(1+1)*cmd|' /C calc'!A0",
                "'@SUM(1+1)*cmd|' /C calc'!A0",
            ),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("\tplain", "'\tplain"),
            ("\0x", "'\0x"),
            (
                "   =HYPERLINK(\"http://x\")",
                "'   =HYPERLINK(\"http://x\")",
            ),
            ("\u{a0}\u{3000}@x", "'\u{a0}\u{3000}@x"),
            ("\n=2", "'\n=2"),
            ("\u{ff1d}1+1", "'\u{ff1d}1+1"),
            ("=", "'="),
            ("'=already quoted", "''=already quoted"),
            ("'plain", "''plain"),
        ] {
            assert_eq!(spreadsheet_cell(input), out, "{input:?}");
        }
    }

    #[test]
    fn other_text_is_unchanged_and_borrowed() {
        for input in [
            "",
            "Ada Lovelace",
            "a=1",
            "1-2",
            "ada+tag@example.com",
            "a'b",
            "   ",
            "\nline",
            "555-0100",
        ] {
            let out = spreadsheet_cell(input);
            assert!(matches!(out, Cow::Borrowed(_)), "{input:?}");
            assert_eq!(out, input);
        }
    }

    proptest! {
        #[test]
        fn output_never_starts_a_formula_and_keeps_the_text(s in "\\PC*|[ \t\r\n'=+@-]{0,3}\\PC{0,8}") {
            let out = spreadsheet_cell(&s);
            prop_assert!(!is_formula_like(&out));
            // Reversible: a leading quote is always an added one.
            let original = if out.starts_with('\'') { out.strip_prefix('\'') } else { Some(&*out) };
            prop_assert_eq!(original, Some(s.as_str()));
        }
    }
}
