//! A text field with the editing keys a shell user expects: one line (scrolled sideways
//! when longer than its box), or several for free text such as notes.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    text: String,
    /// Cursor position in characters, not bytes, so multi-byte names edit correctly.
    cursor: usize,
    /// Alt-Enter starts a new line (notes); a one-line field keeps none.
    multiline: bool,
}

impl LineInput {
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let cursor = text.chars().count();
        LineInput {
            text,
            cursor,
            multiline: false,
        }
    }

    /// A field whose text may span lines (Alt-Enter breaks one).
    pub fn multiline(text: impl Into<String>) -> Self {
        LineInput {
            multiline: true,
            ..LineInput::new(text)
        }
    }

    /// The same field drawn as dots, cursor in place, so a secret never shows while typed.
    pub fn masked(&self) -> LineInput {
        LineInput {
            text: "•".repeat(self.text.chars().count()),
            cursor: self.cursor,
            multiline: false,
        }
    }

    pub fn is_multiline(&self) -> bool {
        self.multiline
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn set(&mut self, text: impl Into<String>) {
        let multiline = self.multiline;
        *self = LineInput::new(text);
        self.multiline = multiline;
    }

    /// What a one-line box `width` characters wide shows, and where its cursor sits in it:
    /// the text scrolled so the cursor is always inside, a `…` where text is cut off on
    /// either side.
    pub fn window(&self, width: usize) -> (String, usize) {
        let chars: Vec<char> = self.text.chars().collect();
        let n = chars.len();
        if width < 3 {
            return (String::new(), 0);
        }
        if n < width {
            return (chars.iter().collect(), self.cursor);
        }
        // The cursor keeps one column after it: the `…` of text cut on the right, or its
        // own place after the last character. Text cut on the left shows a `…` first.
        let mut start = (self.cursor + 2).saturating_sub(width);
        if start > 0 {
            start += 1;
        }
        let lead = usize::from(start > 0);
        let end = (start + width - lead).min(n);
        let mut shown = String::new();
        if lead == 1 {
            shown.push('…');
        }
        shown.extend(&chars[start..end]);
        if end < n {
            shown.pop();
            shown.push('…');
        }
        (shown, self.cursor - start + lead)
    }

    /// The rows a box `width` characters wide shows of a multi-line text (each line broken
    /// at the width), and the cursor's (row, column) among them.
    pub fn rows(&self, width: usize) -> (Vec<String>, (usize, usize)) {
        let width = width.max(1);
        let mut rows = Vec::new();
        let mut at = (0, 0);
        let mut i = 0;
        for line in self.text.split('\n') {
            let chars: Vec<char> = line.chars().collect();
            let first = rows.len();
            if chars.is_empty() {
                rows.push(String::new());
            }
            for chunk in chars.chunks(width) {
                rows.push(chunk.iter().collect());
            }
            // The cursor is on this line: its row and column within it.
            if self.cursor >= i && self.cursor <= i + chars.len() {
                let off = self.cursor - i;
                let (r, c) = (off / width, off % width);
                // At the very end of a full row the cursor starts the next one.
                if r + first >= rows.len() {
                    rows.push(String::new());
                }
                at = (first + r, c);
            }
            i += chars.len() + 1;
        }
        (rows, at)
    }

    fn byte_at(&self, char_idx: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_idx)
            .map(|(b, _)| b)
            .unwrap_or(self.text.len())
    }

    pub fn insert_str(&mut self, s: &str) {
        // Pasted text may hold newlines or tabs; a one-line field keeps neither, a
        // multi-line one keeps the line breaks.
        let multiline = self.multiline;
        let s = s.replace("\r\n", "\n");
        for c in s
            .chars()
            .filter(|c| !c.is_control() || (multiline && *c == '\n'))
        {
            let at = self.byte_at(self.cursor);
            self.text.insert(at, c);
            self.cursor += 1;
        }
    }

    /// Applies an editing key. Returns false for keys it does not use, so the caller can
    /// give them another meaning (Enter, Esc, Tab).
    pub fn handle(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
            }
            KeyCode::Char('w') if ctrl => {
                let chars: Vec<char> = self.text.chars().collect();
                let mut start = self.cursor;
                while start > 0 && chars[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && chars[start - 1] != ' ' {
                    start -= 1;
                }
                let (a, b) = (self.byte_at(start), self.byte_at(self.cursor));
                self.text.replace_range(a..b, "");
                self.cursor = start;
            }
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.text.chars().count(),
            KeyCode::Enter if self.multiline && key.modifiers.contains(KeyModifiers::ALT) => {
                self.insert_str("\n")
            }
            KeyCode::Char(c) if !ctrl => self.insert_str(&c.to_string()),
            KeyCode::Backspace => {
                if self.cursor > 0 {
                    self.cursor -= 1;
                    let at = self.byte_at(self.cursor);
                    self.text.remove(at);
                }
            }
            KeyCode::Delete => {
                if self.cursor < self.text.chars().count() {
                    let at = self.byte_at(self.cursor);
                    self.text.remove(at);
                }
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.text.chars().count()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.text.chars().count(),
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn edits_by_character_not_byte() {
        let mut i = LineInput::new("café");
        assert!(i.handle(&key(KeyCode::Left)));
        assert!(i.handle(&key(KeyCode::Backspace)));
        assert_eq!(i.text(), "caé");
        i.handle(&key(KeyCode::Char('f')));
        assert_eq!(i.text(), "café");
        i.handle(&KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
        assert_eq!(i.text(), "é");
        assert!(!i.handle(&key(KeyCode::Enter)));
    }

    #[test]
    fn a_long_line_shows_its_tail_with_the_cursor_inside() {
        let mut i = LineInput::new("abcdefghijklmnopqrstuvwxyz");
        // Cursor at the end: the tail, cut on the left, the cursor in the last column.
        assert_eq!(i.window(10), ("…tuvwxyz".to_string(), 8));
        i.handle(&key(KeyCode::Home));
        assert_eq!(i.window(10), ("abcdefghi…".to_string(), 0));
        for _ in 0..12 {
            i.handle(&key(KeyCode::Right));
        }
        let (shown, col) = i.window(10);
        assert_eq!(shown, "…fghijklm…");
        assert_eq!(shown.chars().nth(col), Some('m'), "{shown} {col}");
        // Short text is shown whole.
        assert_eq!(LineInput::new("abc").window(10), ("abc".to_string(), 3));
    }

    #[test]
    fn a_multiline_field_breaks_rows_and_keeps_line_breaks() {
        let mut i = LineInput::multiline("");
        i.insert_str("first line\r\nsecond");
        assert_eq!(i.text(), "first line\nsecond");
        i.handle(&KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
        i.insert_str("x");
        assert_eq!(i.text(), "first line\nsecond\nx");
        let (rows, at) = i.rows(6);
        assert_eq!(rows, ["first ", "line", "second", "x"]);
        assert_eq!(at, (3, 1));
        // A plain Enter is left to the form (submit).
        assert!(!i.handle(&key(KeyCode::Enter)));
        assert!(!LineInput::new("a").handle(&KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)));
    }

    #[test]
    fn paste_drops_control_characters() {
        let mut i = LineInput::default();
        i.insert_str("a\nb\tc");
        assert_eq!(i.text(), "abc");
    }
}
