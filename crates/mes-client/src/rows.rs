//! MES V3 answers: a JSON array of objects whose keys are the stored procedure's columns.
//!
//! Decoded straight from bytes into columns — per column one text arena with end offsets, a kind
//! per cell and, while every value is a number, the numbers as `f64` — keeping the column order
//! the server sent. [`RowsDecoder`] takes the answer in pieces as they arrive, so a grid can show
//! the first rows while the rest is still on the wire: it finds where each row object ends (a
//! small structural scan that tracks strings and nesting) and serde_json decodes that object into
//! the columns. No `serde_json::Value` per cell, no map per row.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::collections::HashMap;
use std::fmt::{self, Write as _};

/// What a cell holds, one byte per cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// `null`, or the row lacks the column.
    Null,
    /// `false`.
    False,
    /// `true`.
    True,
    /// A number; its text is as serde_json writes it.
    Number,
    /// A string.
    Text,
    /// An object or an array, kept as compact JSON text.
    Json,
}

/// One cell, borrowed from its column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// `null`, or missing from the row.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as text (`12`, `-0.5`, `1e300`).
    Number(&'a str),
    /// A string, unescaped.
    Text(&'a str),
    /// An object or array, as compact JSON.
    Json(&'a str),
}

impl<'a> Cell<'a> {
    /// The cell as JSON text would write it (strings quoted and escaped).
    pub fn to_json(&self) -> String {
        match self {
            Cell::Null => "null".into(),
            Cell::Bool(b) => b.to_string(),
            Cell::Number(t) | Cell::Json(t) => (*t).to_owned(),
            Cell::Text(t) => serde_json::to_string(t).unwrap_or_default(),
        }
    }

    /// The cell as plain text: empty for null, `true`/`false`, numbers and JSON as written.
    pub fn text(&self) -> &'a str {
        match self {
            Cell::Null => "",
            Cell::Bool(true) => "true",
            Cell::Bool(false) => "false",
            Cell::Number(t) | Cell::Text(t) | Cell::Json(t) => t,
        }
    }
}

/// One column: its name, the text of every cell in one arena with where each cell ends, and the
/// cells' kinds (one byte a cell, none while every cell is of one kind). A number is kept as the
/// MES wrote it and read as `f64` when asked for (a sort reads each once): a column holds
/// about what its values take in the JSON, without the keys.
#[derive(Debug, Clone, Default)]
pub struct ColumnData {
    name: String,
    text: String,
    ends: Vec<u32>,
    /// One per cell, or empty while every cell is of the kind `first_kind`.
    kinds: Vec<CellKind>,
    /// The first cell's kind (`None`: no cells).
    first_kind: Option<CellKind>,
    numeric: bool,
    any_number: bool,
    /// Every cell's text is ASCII (case-insensitive search can then scan the arena in place).
    ascii: bool,
}

/// Equal when the cells are: a column may keep its kinds one a cell or as one for all.
impl PartialEq for ColumnData {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.text == other.text
            && self.ends == other.ends
            && (0..self.len()).all(|row| self.kind(row) == other.kind(row))
            && (self.numeric, self.any_number, self.ascii) == (other.numeric, other.any_number, other.ascii)
    }
}

impl ColumnData {
    fn new(name: String, nulls: usize) -> Self {
        let mut column = Self {
            name,
            numeric: true,
            ascii: true,
            ..Self::default()
        };
        for _ in 0..nulls {
            column.push_null();
        }
        column
    }

    /// The column's name as the server sent it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether every value is a number or null, and at least one is a number.
    pub fn is_numeric(&self) -> bool {
        self.numeric && self.any_number
    }

    /// The kind of `row`'s cell.
    pub fn kind(&self, row: usize) -> CellKind {
        match self.first_kind {
            Some(kind) if self.kinds.is_empty() && row < self.len() => kind,
            _ => self.kinds[row],
        }
    }

    /// `row`'s cell text: a string unescaped, a number or JSON as written, empty for null and for
    /// booleans (see [`ColumnData::cell`]).
    pub fn text(&self, row: usize) -> &str {
        let start = if row == 0 { 0 } else { self.ends[row - 1] as usize };
        &self.text[start..self.ends[row] as usize]
    }

    /// `row`'s cell.
    pub fn cell(&self, row: usize) -> Cell<'_> {
        match self.kind(row) {
            CellKind::Null => Cell::Null,
            CellKind::False => Cell::Bool(false),
            CellKind::True => Cell::Bool(true),
            CellKind::Number => Cell::Number(self.text(row)),
            CellKind::Text => Cell::Text(self.text(row)),
            CellKind::Json => Cell::Json(self.text(row)),
        }
    }

    /// Every cell's text, one after another (see [`ColumnData::ends`]).
    pub fn arena(&self) -> &str {
        &self.text
    }

    /// Where each row's cell text ends in [`ColumnData::arena`] (it starts where the previous
    /// row's ends).
    pub fn ends(&self) -> &[u32] {
        &self.ends
    }

    /// Whether every cell's text is ASCII.
    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// `row`'s number in a numeric column (`-∞` for null, so nulls sort first); `None` in
    /// other columns.
    pub fn number(&self, row: usize) -> Option<f64> {
        if !self.numeric || row >= self.len() {
            return None;
        }
        Some(match self.kind(row) {
            CellKind::Number => self.text(row).parse().unwrap_or(f64::NEG_INFINITY),
            _ => f64::NEG_INFINITY,
        })
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn end_cell(&mut self, kind: CellKind) {
        let start = self.ends.last().map_or(0, |&e| e as usize);
        self.ascii = self.ascii && self.text.as_bytes()[start..].is_ascii();
        let before = self.len();
        // The arena stays below 4 GiB: answers are limited far below that.
        self.ends.push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        match self.first_kind {
            None => self.first_kind = Some(kind),
            Some(first) if self.kinds.is_empty() && first != kind => {
                self.kinds = vec![first; before];
                self.kinds.push(kind);
            }
            Some(_) if !self.kinds.is_empty() => self.kinds.push(kind),
            Some(_) => {}
        }
        match kind {
            CellKind::Null => {}
            CellKind::Number => self.any_number = true,
            _ => self.numeric = false,
        }
    }

    fn push_null(&mut self) {
        self.end_cell(CellKind::Null);
    }

    /// Adds a cell from its JSON text (`raw` is one valid JSON value): a string unescaped, a
    /// number as written (one too large for `f64` is an error), an object or array written
    /// compactly.
    fn push_raw(&mut self, raw: &str) -> Result<(), serde_json::Error> {
        match raw.as_bytes().first() {
            Some(b'"') => {
                let inner = &raw[1..raw.len() - 1];
                if inner.contains('\\') {
                    let text: String = serde_json::from_str(raw)?;
                    self.text.push_str(&text);
                } else {
                    self.text.push_str(inner);
                }
                self.end_cell(CellKind::Text);
            }
            Some(b'n') => self.push_null(),
            Some(b't') => self.end_cell(CellKind::True),
            Some(b'f') => self.end_cell(CellKind::False),
            Some(b'{' | b'[') => {
                let value: serde_json::Value = serde_json::from_str(raw)?;
                let _ = write!(self.text, "{value}");
                self.end_cell(CellKind::Json);
            }
            // A number too large for `f64` is refused, as serde_json refuses it.
            _ => match raw.parse::<f64>() {
                Ok(n) if n.is_finite() => {
                    self.text.push_str(raw);
                    self.end_cell(CellKind::Number);
                }
                _ => {
                    return Err(de::Error::custom(format!(
                        "a number too large for a double ({} characters)",
                        raw.len()
                    )));
                }
            },
        }
        Ok(())
    }

    fn truncate(&mut self, rows: usize) {
        if self.len() <= rows {
            return;
        }
        let end = if rows == 0 {
            0
        } else {
            self.ends[rows - 1] as usize
        };
        self.text.truncate(end);
        self.ends.truncate(rows);
        self.kinds.truncate(rows);
        if rows == 0 {
            self.first_kind = None;
        }
    }
}

/// A lookup result, by column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    columns: Vec<ColumnData>,
    index: HashMap<String, usize>,
    len: usize,
}

impl Rows {
    /// Decodes a whole MES V3 answer. Anything but an array of objects is an error naming what
    /// was found.
    pub fn from_json(body: &[u8]) -> Result<Self, String> {
        let mut rows = Rows::default();
        let mut decoder = RowsDecoder::default();
        decoder.push(body, &mut rows)?;
        decoder.finish()?;
        rows.shrink_to_fit();
        Ok(rows)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The columns, in the order the server first sent them.
    pub fn columns(&self) -> &[ColumnData] {
        &self.columns
    }

    /// The column names, in order.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    /// Index of a column by name (MES names are case-insensitive).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// A column by name (MES names are case-insensitive).
    pub fn column(&self, name: &str) -> Option<&ColumnData> {
        self.column_index(name).map(|i| &self.columns[i])
    }

    /// One row's cells, in column order.
    pub fn row(&self, row: usize) -> impl Iterator<Item = Cell<'_>> {
        self.columns.iter().map(move |c| c.cell(row))
    }

    /// Keeps the first `rows` rows (an answer cut at a row limit: the row past the limit only
    /// told that there were more).
    pub fn truncate(&mut self, rows: usize) {
        if rows >= self.len {
            return;
        }
        for column in &mut self.columns {
            column.truncate(rows);
        }
        self.len = rows;
    }

    /// Gives back what the columns reserved for rows that did not come (once the answer is whole).
    pub fn shrink_to_fit(&mut self) {
        for c in &mut self.columns {
            c.name.shrink_to_fit();
            c.text.shrink_to_fit();
            c.ends.shrink_to_fit();
            c.kinds.shrink_to_fit();
        }
    }

    /// Heap bytes held (arenas, offsets, kinds): what the answer costs once decoded.
    pub fn heap_bytes(&self) -> usize {
        self.columns
            .iter()
            .map(|c| c.name.capacity() + c.text.capacity() + 4 * c.ends.capacity() + c.kinds.capacity())
            .sum()
    }

    /// Decodes the row object `bytes` begins with into the columns and says how many bytes it
    /// took; on error (also when the object goes on past `bytes`) nothing of the row stays.
    fn push_object(&mut self, bytes: &[u8]) -> Result<usize, String> {
        self.push_object_from(serde_json::Deserializer::from_slice(bytes), bytes)
    }

    /// [`Rows::push_object`] over text already known to be UTF-8 (checked once for a whole
    /// piece, not again for each value).
    fn push_object_text(&mut self, text: &str) -> Result<usize, String> {
        self.push_object_from(serde_json::Deserializer::from_str(text), text.as_bytes())
    }

    fn push_object_from<'de, R: serde_json::de::Read<'de>>(
        &mut self,
        mut de: serde_json::Deserializer<R>,
        input: &[u8],
    ) -> Result<usize, String> {
        let width = self.columns.len();
        // Where the row's last value ends (or the `{`, for a row with none).
        let start = input.as_ptr() as usize;
        let mut end = start + 1;
        let outcome = de.deserialize_map(RowVisitor {
            rows: self,
            end: &mut end,
        });
        match outcome {
            Ok(()) => {
                self.len += 1;
                for column in &mut self.columns {
                    if column.len() < self.len {
                        column.push_null();
                    }
                }
                // serde_json has read up to the closing `}`: past the last value, whitespace.
                let after_value = end - start;
                let close = input[after_value..].iter().position(|&b| b == b'}').unwrap_or(0);
                Ok(after_value + close + 1)
            }
            Err(e) => {
                let len = self.len;
                self.columns.truncate(width);
                self.index.retain(|_, i| *i < width);
                for column in &mut self.columns {
                    column.truncate(len);
                }
                Err(format!("row {}: {e}", self.len + 1))
            }
        }
    }
}

/// A key, borrowed from the input unless it had escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a column name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct RowVisitor<'a> {
    rows: &'a mut Rows,
    /// The address just past the last value read (the values are borrowed from the input).
    end: &'a mut usize,
}

impl<'de> Visitor<'de> for RowVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let rows = self.rows;
        let mut position = 0;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let key = key.as_str();
            // Rows nearly always list columns in the same order: try the expected slot first.
            let column = if rows.columns.get(position).is_some_and(|c| c.name == key) {
                position
            } else if let Some(&i) = rows.index.get(key) {
                i
            } else {
                rows.columns.push(ColumnData::new(key.to_owned(), rows.len));
                rows.index.insert(key.to_owned(), rows.columns.len() - 1);
                rows.columns.len() - 1
            };
            let target = &mut rows.columns[column];
            // A duplicated key: the last value wins, as in JSON.parse.
            target.truncate(rows.len);
            // The value's text as the MES wrote it (serde_json has checked it is JSON); a number
            // keeps its digits, a string without escapes is copied as it is.
            let raw: &'de serde_json::value::RawValue = map.next_value()?;
            let text = raw.get();
            *self.end = text.as_ptr() as usize + text.len();
            target.push_raw(text).map_err(de::Error::custom)?;
            position = column + 1;
        }
        Ok(())
    }
}

/// Where the decoder is in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Place {
    /// Before the `[` (a UTF-8 byte order mark and whitespace may come first).
    #[default]
    Start,
    /// After `[`: a row or `]`.
    FirstRow,
    /// Inside a row object.
    InRow,
    /// After a row: `,` or `]`.
    AfterRow,
    /// After `,`: a row.
    NextRow,
    /// After `]`: only whitespace.
    End,
}

/// Decodes an MES answer given in pieces (`push` each as it arrives, then `finish`): whole rows
/// go into a [`Rows`] as soon as their closing `}` is in; a row split across pieces waits in a
/// small buffer. Errors name the row or the byte, never quote the data.
#[derive(Debug, Clone, Default)]
pub struct RowsDecoder {
    place: Place,
    /// The start of a row that continues in the next piece.
    carry: Vec<u8>,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Bytes seen so far.
    offset: usize,
    /// One record is wanted (a `/key` answer): a bare object is the answer.
    record: bool,
    /// The answer is a bare object, not an array.
    bare: bool,
    /// Rows decoded so far.
    rows_read: usize,
}

impl RowsDecoder {
    /// A decoder for one record (a `/key` answer): one object, or an array holding exactly one;
    /// [`RowsDecoder::finish`] refuses none or several.
    pub fn record() -> Self {
        Self {
            record: true,
            ..Self::default()
        }
    }

    /// Decodes what `bytes` completes; rows go into `rows`. A row is decoded straight from the
    /// piece; the one the piece ends inside waits in a small buffer, and the next piece's bytes
    /// up to its closing `}` are found by a structural scan (strings and nesting) and added.
    pub fn push(&mut self, bytes: &[u8], rows: &mut Rows) -> Result<(), String> {
        let mut i = 0;
        if self.place == Place::InRow {
            let Some(close) = self.scan_row(bytes) else {
                self.carry.extend_from_slice(bytes);
                self.offset += bytes.len();
                return Ok(());
            };
            self.carry.extend_from_slice(&bytes[..=close]);
            let object = std::mem::take(&mut self.carry);
            rows.push_object(&object)?;
            self.row_done();
            i = close + 1;
        }
        // The piece's UTF-8 checked once; a character cut at its end belongs to a row that
        // waits for the next piece anyway.
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        };
        while i < bytes.len() {
            let b = bytes[i];
            let at = self.offset + i;
            let row_starts = match (self.place, b) {
                (Place::FirstRow | Place::NextRow, b'{') => true,
                (Place::Start, b'{') if self.record => {
                    self.bare = true;
                    true
                }
                _ => false,
            };
            if row_starts {
                let decoded = match text.get(i..) {
                    Some(rest) => rows.push_object_text(rest),
                    None => Err(String::new()),
                };
                if let Ok(used) = decoded {
                    self.row_done();
                    i += used;
                    continue;
                }
                // Wrong, or cut off by the piece's end: the structural scan tells; a whole row
                // is decoded again from its bytes (its error names what is wrong).
                (self.place, self.depth, self.in_string, self.escaped) = (Place::InRow, 0, false, false);
                if let Some(close) = self.scan_row(&bytes[i..]) {
                    rows.push_object(&bytes[i..=i + close])?;
                    self.row_done();
                    i += close + 1;
                    continue;
                }
                // The rest of the piece is the start of a row.
                self.carry.extend_from_slice(&bytes[i..]);
                break;
            }
            match (self.place, b) {
                (_, b' ' | b'\n' | b'\r' | b'\t') => {}
                // A UTF-8 byte order mark (some IIS setups write one) is not JSON but harmless.
                (Place::Start, 0xEF | 0xBB | 0xBF) if at < 3 && b"\xEF\xBB\xBF"[at] == b => {}
                (Place::Start, b'[') => self.place = Place::FirstRow,
                (Place::FirstRow | Place::AfterRow, b']') => self.place = Place::End,
                (Place::AfterRow, b',') => self.place = Place::NextRow,
                (Place::Start, _) if self.record => {
                    return Err(format!("not a JSON object (byte {at} is not '{{')"));
                }
                (Place::Start, _) => return Err(format!("not a JSON array (byte {at} is not '[')")),
                (Place::FirstRow | Place::NextRow, b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
                    return Err(format!("row {} is not an object", rows.len() + 1));
                }
                (Place::End, _) => {
                    let what = if self.bare { "record" } else { "array" };
                    return Err(format!("text after the end of the {what} (byte {at})"));
                }
                _ => return Err(format!("not valid JSON at byte {at}")),
            }
            i += 1;
        }
        self.offset += bytes.len();
        Ok(())
    }

    /// A row is in: after it, `,` or `]` (or, for a bare record, the end).
    fn row_done(&mut self) {
        self.rows_read += 1;
        self.place = if self.bare { Place::End } else { Place::AfterRow };
    }

    /// Follows a row object through `bytes` (strings, escapes, nesting: the state carries over
    /// from the piece before); the index of its closing `}`, if it is in `bytes`.
    fn scan_row(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < bytes.len() {
            if self.in_string {
                // Skip to the next quote or backslash.
                if self.escaped {
                    self.escaped = false;
                } else if let Some(n) = bytes[i..].iter().position(|&c| c == b'"' || c == b'\\') {
                    i += n;
                    if bytes[i] == b'\\' {
                        self.escaped = true;
                    } else {
                        self.in_string = false;
                    }
                } else {
                    return None;
                }
            } else {
                match bytes[i] {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth = self.depth.saturating_sub(1);
                        if self.depth == 0 {
                            return Some(i);
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        None
    }

    /// Checks that the answer ended where it may: after the closing `]` (or, for one record,
    /// after its object), holding exactly one record where one is wanted.
    pub fn finish(&self) -> Result<(), String> {
        match self.place {
            Place::End if self.record && self.rows_read != 1 => {
                Err(format!("{} records where the key names one", self.rows_read))
            }
            Place::End => Ok(()),
            Place::Start if self.offset == 0 => Err("the answer is empty".into()),
            Place::Start if self.record => Err("not a JSON object".into()),
            Place::Start => Err("not a JSON array".into()),
            _ if self.bare => Err("the answer ends before the record's closing }".into()),
            _ => Err("the answer ends before the closing ]".into()),
        }
    }

    /// Whether it reads one record ([`RowsDecoder::record`]).
    pub fn wants_record(&self) -> bool {
        self.record
    }

    /// Bytes taken so far.
    pub fn bytes_read(&self) -> usize {
        self.offset
    }
}

/// One CSV field (RFC 4180) that a spreadsheet will not run: text starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return is prefixed with `'` unless it is a number. Shared by the
/// portal's export and `mes-lookup --format csv`.
pub fn csv_field(text: &str) -> String {
    quoted_if(formula_guarded(text), &[',', '"', '\n', '\r'])
}

/// One field of tab-separated text as spreadsheets paste it (Excel, LibreOffice, Google
/// Sheets): guarded against formulas as [`csv_field`], and in double quotes (`"` doubled) when
/// it holds a tab, a line break or a quote — a pasted table keeps its rows and columns.
pub fn tsv_field(text: &str) -> String {
    quoted_if(formula_guarded(text), &['\t', '"', '\n', '\r'])
}

/// `text`, prefixed with `'` when a spreadsheet would run it as a formula (it starts with `=`,
/// `+`, `-`, `@`, a tab or a carriage return and is not a number).
fn formula_guarded(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn quoted_if(field: String, specials: &[char]) -> String {
    if field.contains(specials) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

/// Text that is safe to print on a terminal: control characters (C0, DEL, C1 — escape sequences
/// start with them) and the bidirectional overrides that reorder what is shown become spaces.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| if unsafe_on_terminal(c) { ' ' } else { c })
        .collect()
}

/// Whether `c` may not reach a terminal as it is: a control character (C0, DEL, C1 — escape
/// sequences start with them) or a bidirectional override that reorders what is shown.
pub fn unsafe_on_terminal(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// [`terminal_safe`], keeping line breaks and tabs (text in a quoted CSV field may hold them,
/// and they move no cursor a person cannot see).
pub fn terminal_safe_lines(text: &str) -> String {
    text.chars()
        .map(|c| {
            if unsafe_on_terminal(c) && !matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// JSON text with every character [`unsafe_on_terminal`] written as a `\uXXXX` escape: the same
/// data to a JSON reader, inert on a terminal. (serde_json escapes C0 only; these characters can
/// stand only inside strings, so the escapes keep the text valid.)
pub fn json_terminal_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if unsafe_on_terminal(c) && !c.is_ascii_whitespace() {
            out += &format!("\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_on_a_terminal_keep_their_data_but_no_escape_sequence() {
        assert_eq!(terminal_safe_lines("a\u{1b}[2J\nb\u{202E}c\u{9b}"), "a [2J\nb c ");
        let json = serde_json::Value::String("x\u{1b}y\u{202E}z\u{85}\u{7f}".into()).to_string();
        let safe = json_terminal_safe(&json);
        assert!(!safe.chars().any(unsafe_on_terminal), "{safe:?}");
        assert_eq!(
            serde_json::from_str::<String>(&safe).expect("still JSON"),
            "x\u{1b}y\u{202E}z\u{85}\u{7f}",
            "the same data"
        );
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(csv_field("+1+cmd"), "'+1+cmd");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("-12.5"), "-12.5", "numbers stay numbers");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn tsv_fields_keep_a_pasted_table_whole() {
        assert_eq!(tsv_field("a,b"), "a,b", "commas are data in tab-separated text");
        assert_eq!(tsv_field("a\tb"), "\"a\tb\"");
        assert_eq!(tsv_field("line 1\nline 2"), "\"line 1\nline 2\"");
        assert_eq!(tsv_field("12\" pipe"), "\"12\"\" pipe\"");
        assert_eq!(tsv_field("=1+1"), "'=1+1");
        assert_eq!(tsv_field("-3"), "-3");
        assert_eq!(tsv_field("\tx"), "\"'\tx\"");
    }

    #[test]
    fn terminal_text_has_no_escape_sequences_or_reordering() {
        assert_eq!(terminal_safe("red\u{1b}[31m!\u{7}"), "red [31m! ");
        assert_eq!(
            terminal_safe("a\u{9b}2Jb"),
            "a 2Jb",
            "C1 control sequence introducer"
        );
        assert_eq!(terminal_safe("abc\u{202E}fed"), "abc fed");
        assert_eq!(terminal_safe("Läuft – ok"), "Läuft – ok");
    }

    fn cells(rows: &Rows, row: usize) -> Vec<Cell<'_>> {
        rows.row(row).collect()
    }

    #[test]
    fn keeps_server_column_order_and_fills_gaps() {
        let rows = Rows::from_json(
            br#"[{"ent_name":"Line 1","ent_id":1},{"ent_id":2,"ent_name":"Line 2","extra":true},{}]"#,
        )
        .expect("rows");
        assert_eq!(
            rows.column_names().collect::<Vec<_>>(),
            ["ent_name", "ent_id", "extra"]
        );
        assert_eq!(
            cells(&rows, 0),
            [Cell::Text("Line 1"), Cell::Number("1"), Cell::Null]
        );
        assert_eq!(
            cells(&rows, 1),
            [Cell::Text("Line 2"), Cell::Number("2"), Cell::Bool(true)]
        );
        assert_eq!(cells(&rows, 2), [Cell::Null, Cell::Null, Cell::Null]);
        assert_eq!(rows.column_index("ENT_ID"), Some(1));
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn cells_keep_their_kind_and_numbers_their_value() {
        let rows =
            Rows::from_json(br#"[{"n":1.5,"t":"a\"b\u00e9","j":{"x":[1,2]},"b":false,"m":1},{"n":-2,"t":"","j":[],"b":null,"m":"x"}]"#)
                .expect("rows");
        assert_eq!(
            cells(&rows, 0),
            [
                Cell::Number("1.5"),
                Cell::Text("a\"bé"),
                Cell::Json(r#"{"x":[1,2]}"#),
                Cell::Bool(false),
                Cell::Number("1")
            ]
        );
        assert_eq!(
            cells(&rows, 1),
            [
                Cell::Number("-2"),
                Cell::Text(""),
                Cell::Json("[]"),
                Cell::Null,
                Cell::Text("x")
            ]
        );
        let n = &rows.columns()[0];
        assert!(n.is_numeric());
        assert_eq!((n.number(0), n.number(1)), (Some(1.5), Some(-2.0)));
        assert!(
            !rows.columns()[4].is_numeric(),
            "a text value makes the column text"
        );
        assert_eq!(rows.columns()[4].number(0), None);
        assert!(!rows.columns()[3].is_numeric(), "booleans are not numbers");
        let nulls = Rows::from_json(br#"[{"a":null},{"a":3}]"#).expect("rows");
        assert!(nulls.columns()[0].is_numeric());
        assert_eq!(
            nulls.columns()[0].number(0),
            Some(f64::NEG_INFINITY),
            "null sorts first"
        );
        assert_eq!(Cell::Text("a\"").to_json(), r#""a\"""#);
        assert_eq!(Cell::Json("[1]").text(), "[1]");
    }

    #[test]
    fn empty_array_is_no_rows() {
        assert_eq!(Rows::from_json(b"[]").expect("empty"), Rows::default());
        assert_eq!(
            Rows::from_json(b"\xEF\xBB\xBF [ ]\n").expect("BOM and whitespace"),
            Rows::default()
        );
    }

    #[test]
    fn wrong_shapes_are_errors() {
        for body in [
            &br#"{"Message":"x"}"#[..],
            b"[[1,2]]",
            b"[1]",
            b"<html>",
            br#"[{"a":1}"#,
            b"[] trailing",
            b"\xff\xfe",
            b"",
            br#"[{"a":1},]"#,
            br#"[,{"a":1}]"#,
            br#"[{"a":1}{"a":2}]"#,
            br#"[{"a":1]"#,
            br#"[{"a":tru}]"#,
            b"[{\"a\":\"\xff\"}]",
            b"\xBB[]",
            b" \xEF\xBB\xBF[]",
            b"\xEF\xEF[]",
            b"\xEF\xBB\xBF\xBF[]",
        ] {
            assert!(
                Rows::from_json(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            Rows::from_json(b"[] x"),
            Err("text after the end of the array (byte 3)".into())
        );
        assert_eq!(Rows::from_json(b"[1]"), Err("row 1 is not an object".into()));
        let bad_text =
            Rows::from_json(b"[{\"a\":\"ok\"},{\"a\":\"\xff\"},{\"a\":\"ok\"}]").expect_err("not UTF-8");
        assert!(
            bad_text.starts_with("row 2:"),
            "the row with the bad byte is named: {bad_text}"
        );
        assert_eq!(
            Rows::from_json(b" <"),
            Err("not a JSON array (byte 1 is not '[')".into())
        );
        assert_eq!(Rows::from_json(b""), Err("the answer is empty".into()));
        assert_eq!(
            Rows::from_json(b"  \n"),
            Err("not a JSON array".into()),
            "only whitespace"
        );
    }

    #[test]
    fn a_broken_row_leaves_nothing_behind() {
        let mut rows = Rows::default();
        let mut decoder = RowsDecoder::default();
        let error = decoder
            .push(br#"[{"a":1},{"a":2,"new":x}"#, &mut rows)
            .expect_err("row 2 is broken");
        assert!(error.starts_with("row 2:"), "{error}");
        assert_eq!(
            (rows.len(), rows.columns().len()),
            (1, 1),
            "the first row stays, the broken one and its new column do not"
        );
        assert_eq!(cells(&rows, 0), [Cell::Number("1")]);
        assert_eq!(
            (rows.columns()[0].arena(), rows.columns()[0].ends()),
            ("1", &[1u32][..]),
            "nor its text"
        );
    }

    #[test]
    fn columns_expose_their_arena_offsets_and_flags() {
        let rows = Rows::from_json(r#"[{"a":"xy","b":"é"},{"a":"","b":null},{"a":"z","b":7}]"#.as_bytes())
            .expect("rows");
        let (a, b) = (&rows.columns()[0], &rows.columns()[1]);
        assert_eq!((a.name(), a.arena(), a.ends()), ("a", "xyz", &[2u32, 2, 3][..]));
        assert_eq!((b.name(), b.arena(), b.ends()), ("b", "é7", &[2u32, 2, 3][..]));
        assert!(
            a.is_ascii() && !b.is_ascii(),
            "one non-ASCII cell makes the column non-ASCII"
        );
        assert_eq!((a.text(2), b.text(2), b.kind(1)), ("z", "7", CellKind::Null));
        assert_eq!((rows.column_index("B"), rows.column_index("c")), (Some(1), None));
        assert!(!rows.is_empty() && Rows::default().is_empty());
        // Whole answers are shrunk to fit: name, text, a 4-byte end per cell, and a kind byte
        // per cell in a column of several kinds (`b` here; every cell of `a` is text).
        let held: usize = rows
            .columns()
            .iter()
            .map(|c| c.name().len() + c.arena().len() + 4 * c.ends().len())
            .sum();
        assert_eq!(rows.heap_bytes(), held + 3);
        assert_eq!(Rows::default().heap_bytes(), 0);
        let numbers = Rows::from_json(br#"[{"n":1},{"n":2},{"n":3}]"#).expect("rows");
        assert_eq!(
            cells(&numbers, 2),
            [Cell::Number("3")],
            "every row keeps its own cell"
        );
        assert_eq!(
            numbers.heap_bytes(),
            1 + 3 + 3 * 4,
            "the name, the text \"123\", per row an end; numbers are read from their text"
        );
        assert_eq!(numbers.columns()[0].number(1), Some(2.0));
    }

    #[test]
    fn a_column_a_broken_row_brought_is_forgotten_with_it() {
        let mut rows = Rows::default();
        rows.push_object(br#"{"a":1}"#).expect("row 1");
        assert!(rows.push_object(br#"{"a":2,"new":x}"#).is_err());
        rows.push_object(br#"{"new":3,"a":4}"#)
            .expect("a later row may bring the column for real");
        assert_eq!(
            rows.column_names().collect::<Vec<_>>(),
            ["a", "new"],
            "and the names still find their columns"
        );
        assert_eq!(cells(&rows, 0), [Cell::Number("1"), Cell::Null]);
        assert_eq!(cells(&rows, 1), [Cell::Number("4"), Cell::Number("3")]);
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let rows = Rows::from_json(br#"[{"a":1,"a":"two"},{"a":3}]"#).expect("rows");
        assert_eq!(rows.column_names().collect::<Vec<_>>(), ["a"]);
        assert_eq!(cells(&rows, 0), [Cell::Text("two")]);
        assert_eq!(cells(&rows, 1), [Cell::Number("3")]);
    }

    /// The same answer cut at every byte, and byte by byte, decodes to the same rows.
    #[test]
    fn pieces_decode_like_the_whole() {
        let body = "\u{feff}[ {\"a\":\"x}\\\"{]\",\"b\":[1,{\"c\":\"}\"}],\"d\":-1.25e2} ,\n{\"b\":null,\"a\":\"ü\"},{} ]".as_bytes();
        let whole = Rows::from_json(body).expect("whole");
        assert_eq!(whole.len(), 3);
        assert_eq!(
            cells(&whole, 0),
            [
                Cell::Text("x}\"{]"),
                Cell::Json(r#"[1,{"c":"}"}]"#),
                Cell::Number("-1.25e2")
            ],
            "a number as the MES wrote it"
        );
        for cut in 0..body.len() {
            let (mut rows, mut decoder) = (Rows::default(), RowsDecoder::default());
            decoder.push(&body[..cut], &mut rows).expect("first piece");
            decoder.push(&body[cut..], &mut rows).expect("second piece");
            decoder.finish().expect("complete");
            assert_eq!(rows, whole, "cut at {cut}");
        }
        let (mut rows, mut decoder) = (Rows::default(), RowsDecoder::default());
        for byte in body.chunks(1) {
            decoder.push(byte, &mut rows).expect("a byte");
        }
        decoder.finish().expect("complete");
        assert_eq!(rows, whole);
        assert_eq!(decoder.bytes_read(), body.len());
    }

    #[test]
    fn a_string_ending_in_a_backslash_does_not_hide_the_next_quote() {
        let body = br#"[{"e":"end\\","f":"}{"},{"e":"\\\""}]"#;
        let whole = Rows::from_json(body).expect("whole");
        assert_eq!(cells(&whole, 0), [Cell::Text("end\\"), Cell::Text("}{")]);
        assert_eq!(cells(&whole, 1), [Cell::Text("\\\""), Cell::Null]);
        for cut in 0..body.len() {
            let (mut rows, mut decoder) = (Rows::default(), RowsDecoder::default());
            decoder
                .push(&body[..cut], &mut rows)
                .and_then(|()| decoder.push(&body[cut..], &mut rows))
                .expect("pieces");
            decoder.finish().expect("complete");
            assert_eq!(rows, whole, "cut at {cut}");
        }
    }

    #[test]
    fn rows_arrive_as_soon_as_they_are_complete() {
        let (mut rows, mut decoder) = (Rows::default(), RowsDecoder::default());
        decoder.push(br#"[{"a":1},{"a":"#, &mut rows).expect("piece");
        assert_eq!(rows.len(), 1, "the first row is usable before the rest arrives");
        assert_eq!(
            decoder.finish(),
            Err("the answer ends before the closing ]".into())
        );
        decoder.push(br#"2}]"#, &mut rows).expect("piece");
        decoder.finish().expect("complete");
        assert_eq!(rows.len(), 2);
    }

    /// A `/key` answer is one object (or an array of exactly one); none, several, or a list
    /// decoder given an object are refused, naming what was found.
    #[test]
    fn one_record_is_one_object() {
        let record = |body: &[u8]| {
            let (mut rows, mut decoder) = (Rows::default(), RowsDecoder::record());
            for piece in body.chunks(3) {
                decoder.push(piece, &mut rows)?;
            }
            decoder.finish().map(|()| rows)
        };
        let one = record(br#" {"wo_id":"WO-1","qty":2} "#).expect("an object");
        assert_eq!((one.len(), one.columns()[0].text(0)), (1, "WO-1"));
        assert_eq!(record(br#"[{"wo_id":"WO-1"}]"#).map(|r| r.len()), Ok(1));
        assert_eq!(
            record(br#"[{"wo_id":"WO-1"},{"wo_id":"WO-2"}]"#).map(|r| r.len()),
            Err("2 records where the key names one".into())
        );
        assert_eq!(
            record(b"[]").map(|r| r.len()),
            Err("0 records where the key names one".into())
        );
        assert_eq!(
            record(br#"{"a":1} {"a":2}"#).map(|r| r.len()),
            Err("text after the end of the record (byte 8)".into())
        );
        assert_eq!(
            record(br#"{"a":1"#).map(|r| r.len()),
            Err("the answer ends before the record's closing }".into())
        );
        assert_eq!(
            record(b"<html>").map(|r| r.len()),
            Err("not a JSON object (byte 0 is not '{')".into())
        );
        assert_eq!(
            Rows::from_json(br#"{"a":1}"#),
            Err("not a JSON array (byte 0 is not '[')".into()),
            "a list is never read from a bare object"
        );
    }
}

#[cfg(test)]
mod speed {
    /// `MES_ROWS_JSON=answer.json cargo test --release -p mes-client --lib speed -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn decode_speed() {
        let path = std::env::var("MES_ROWS_JSON").expect("MES_ROWS_JSON");
        let body = std::fs::read(path).expect("file");
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let mut rows = super::Rows::default();
            let mut decoder = super::RowsDecoder::default();
            for piece in body.chunks(64 * 1024) {
                decoder.push(piece, &mut rows).expect("rows");
            }
            let s = t.elapsed().as_secs_f64();
            println!(
                "{} rows, {:.0} MB/s, {} MB held",
                rows.len(),
                body.len() as f64 / 1e6 / s,
                rows.heap_bytes() / 1_000_000
            );
        }
    }
}
