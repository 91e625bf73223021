//! MES V3 answers: a JSON array of objects whose keys are the stored procedure's columns.
//! Decoded straight into columns + rows, keeping the column order the server sent (no map per row).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

/// A lookup result: column names in the order the server first sent them, and one value per
/// column per row (`Null` where a row lacks the column).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows; each has exactly `columns.len()` values.
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    /// Decodes an MES V3 answer. Anything but an array of objects is an error naming what was found.
    pub fn from_json(body: &[u8]) -> Result<Self, String> {
        // A UTF-8 byte order mark (some IIS setups write one) is not JSON but harmless.
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        let mut de = serde_json::Deserializer::from_slice(body);
        let rows = de.deserialize_seq(RowsVisitor).map_err(|e| e.to_string())?;
        de.end().map_err(|e| e.to_string())?;
        Ok(rows)
    }

    /// Index of a column by name (MES names are case-insensitive).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.eq_ignore_ascii_case(name))
    }
}

struct RowsVisitor;

impl<'de> Visitor<'de> for RowsVisitor {
    type Value = Rows;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of row objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Rows, A::Error> {
        let mut out = Rows::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        while let Some(row) = seq.next_element_seed(RowSeed { columns: &mut out.columns, index: &mut index })? {
            out.rows.push(row);
        }
        let width = out.columns.len();
        for row in &mut out.rows {
            row.resize(width, Value::Null);
        }
        Ok(out)
    }
}

struct RowSeed<'a> {
    columns: &'a mut Vec<String>,
    index: &'a mut HashMap<String, usize>,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = Vec<Value>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = Vec<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Value>, A::Error> {
        let mut row = vec![Value::Null; self.columns.len()];
        let mut position = 0;
        while let Some(key) = map.next_key::<String>()? {
            // Rows nearly always list columns in the same order: try the expected slot first.
            let column = if self.columns.get(position) == Some(&key) {
                position
            } else if let Some(&i) = self.index.get(&key) {
                i
            } else {
                self.columns.push(key.clone());
                self.index.insert(key, self.columns.len() - 1);
                self.columns.len() - 1
            };
            if row.len() <= column {
                row.resize(column + 1, Value::Null);
            }
            row[column] = map.next_value()?; // a duplicated key: the last value wins, as in JSON.parse
            position = column + 1;
        }
        Ok(row)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom("a row is an array, not an object"))
    }
}

/// One CSV field (RFC 4180) that a spreadsheet will not run: text starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return is prefixed with `'` unless it is a number. Shared by the
/// portal's export and `mes-lookup --format csv`.
pub fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
}

/// Text that is safe to print on a terminal: control characters (C0, DEL, C1 — escape sequences
/// start with them) and the bidirectional overrides that reorder what is shown become spaces.
pub fn terminal_safe(text: &str) -> String {
    text.chars().map(|c| if c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(csv_field("+1+cmd"), "'+1+cmd");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("-12.5"), "-12.5", "numbers stay numbers");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn terminal_text_has_no_escape_sequences_or_reordering() {
        assert_eq!(terminal_safe("red\u{1b}[31m!\u{7}"), "red [31m! ");
        assert_eq!(terminal_safe("a\u{9b}2Jb"), "a 2Jb", "C1 control sequence introducer");
        assert_eq!(terminal_safe("abc\u{202E}fed"), "abc fed");
        assert_eq!(terminal_safe("Läuft – ok"), "Läuft – ok");
    }

    #[test]
    fn keeps_server_column_order_and_fills_gaps() {
        let rows =
            Rows::from_json(br#"[{"ent_name":"Line 1","ent_id":1},{"ent_id":2,"ent_name":"Line 2","extra":true},{}]"#).expect("rows");
        assert_eq!(rows.columns, ["ent_name", "ent_id", "extra"]);
        assert_eq!(rows.rows[0], [json!("Line 1"), json!(1), Value::Null]);
        assert_eq!(rows.rows[1], [json!("Line 2"), json!(2), json!(true)]);
        assert_eq!(rows.rows[2], [Value::Null, Value::Null, Value::Null]);
        assert_eq!(rows.column_index("ENT_ID"), Some(1));
    }

    #[test]
    fn empty_array_is_no_rows() {
        assert_eq!(Rows::from_json(b"[]").expect("empty"), Rows::default());
    }

    #[test]
    fn wrong_shapes_are_errors() {
        for body in [&br#"{"Message":"x"}"#[..], b"[[1,2]]", b"[1]", b"<html>", br#"[{"a":1}"#, b"[] trailing", b"\xff\xfe"] {
            assert!(Rows::from_json(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let rows = Rows::from_json(br#"[{"a":1,"a":2}]"#).expect("rows");
        assert_eq!(rows.columns, ["a"]);
        assert_eq!(rows.rows[0], [json!(2)]);
    }
}
