//! The lookup grid's data model, free of any UI: display text, column kinds, sorting and
//! filtering over an index, so 100,000 rows never move in memory.

use mes_client::Rows;
use serde_json::Value;
use std::cmp::Ordering;

/// How a column's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Every value is a number (or empty).
    Number,
    /// Text, compared without regard to case.
    Text,
}

/// One shown column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The MES column name.
    pub key: String,
    /// What the header says.
    pub label: String,
    /// How it sorts and aligns.
    pub kind: ColumnKind,
}

/// Rows ready to show: text per cell, numbers where the column is numeric.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GridData {
    /// Shown columns, in order.
    pub columns: Vec<Column>,
    /// `cells[row][column]`, as shown.
    pub cells: Vec<Vec<String>>,
    /// `numbers[row][column]` for number columns.
    numbers: Vec<Vec<f64>>,
    /// The value column's text per row (what a selection yields).
    pub values: Vec<String>,
    /// Lowercased row text for the quick filter.
    search: Vec<String>,
}

/// A selected row, as handed to `on_select_rows` and to embedding pages.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectedRow {
    /// The value column's text (empty when the lookup has no value column).
    pub value: String,
    /// `(column key, shown text)` for every shown column, in order.
    pub cells: Vec<(String, String)>,
}

/// `ent_name` → "Ent name".
pub fn header_label(key: &str) -> String {
    let spaced = key.replace('_', " ");
    let mut chars = spaced.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => key.to_owned(),
    }
}

/// A JSON value as plain text.
pub fn display(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "Yes" } else { "No" }.to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl GridData {
    /// Picks the columns (`display_columns`, or all in server order) and prepares every cell.
    /// Configured columns the answer lacks are left out rather than shown empty.
    pub fn new(rows: &Rows, display_columns: &[String], value_column: Option<&str>) -> Self {
        let picked: Vec<usize> = if display_columns.is_empty() {
            (0..rows.columns.len()).collect()
        } else {
            display_columns.iter().filter_map(|c| rows.column_index(c)).collect()
        };
        let value_index = value_column.and_then(|c| rows.column_index(c));
        let kinds: Vec<ColumnKind> = picked
            .iter()
            .map(|&c| {
                let mut any = false;
                let numeric = rows.rows.iter().all(|r| match &r[c] {
                    Value::Number(_) => {
                        any = true;
                        true
                    }
                    Value::Null => true,
                    _ => false,
                });
                if numeric && any { ColumnKind::Number } else { ColumnKind::Text }
            })
            .collect();
        let columns = picked
            .iter()
            .zip(&kinds)
            .map(|(&c, &kind)| Column { key: rows.columns[c].clone(), label: header_label(&rows.columns[c]), kind })
            .collect();
        let mut data = GridData { columns, ..Default::default() };
        for row in &rows.rows {
            let cells: Vec<String> = picked.iter().map(|&c| display(&row[c])).collect();
            let numbers = picked
                .iter()
                .zip(&kinds)
                .map(|(&c, k)| if *k == ColumnKind::Number { row[c].as_f64().unwrap_or(f64::NEG_INFINITY) } else { 0.0 })
                .collect();
            data.search.push(cells.join("\u{1f}").to_lowercase());
            data.values.push(value_index.map(|v| display(&row[v])).unwrap_or_default());
            data.cells.push(cells);
            data.numbers.push(numbers);
        }
        data
    }

    /// One row as `(column key, shown text)` pairs, with its value-column value: what an
    /// embedding page receives when the row is selected.
    pub fn selected_row(&self, row: usize) -> SelectedRow {
        let cells = self.columns.iter().zip(&self.cells[row]).map(|(c, text)| (c.key.clone(), text.clone())).collect();
        SelectedRow { value: self.values[row].clone(), cells }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    fn compare(&self, a: usize, b: usize, key: &SortKey) -> Ordering {
        let order = match self.columns[key.column].kind {
            ColumnKind::Number => self.numbers[a][key.column].total_cmp(&self.numbers[b][key.column]),
            ColumnKind::Text => caseless(&self.cells[a][key.column], &self.cells[b][key.column]),
        };
        if key.descending { order.reverse() } else { order }
    }

    /// Row indexes to show: rows matching every word of `filter`, sorted by `sort` (stable, so
    /// equal rows keep the server's order).
    pub fn view(&self, sort: &[SortKey], filter: &str) -> Vec<u32> {
        self.view_filtered(sort, filter, &[])
    }

    /// Like [`GridData::view`], with per-column conditions as well (see [`ColumnFilter`]).
    pub fn view_filtered(&self, sort: &[SortKey], filter: &str, columns: &[(usize, String)]) -> Vec<u32> {
        let words: Vec<String> = filter.split_whitespace().map(str::to_lowercase).collect();
        let conditions: Vec<(usize, ColumnFilter)> = columns
            .iter()
            .filter(|(c, _)| *c < self.columns.len())
            .filter_map(|(c, text)| Some((*c, ColumnFilter::parse(text)?)))
            .collect();
        let mut order: Vec<u32> = (0..self.len() as u32)
            .filter(|&i| words.iter().all(|w| self.search[i as usize].contains(w.as_str())))
            .filter(|&i| conditions.iter().all(|(c, f)| f.matches(self, i as usize, *c)))
            .collect();
        let sort: Vec<&SortKey> = sort.iter().filter(|k| k.column < self.columns.len()).collect();
        if !sort.is_empty() {
            order.sort_by(|&a, &b| {
                sort.iter().map(|k| self.compare(a as usize, b as usize, k)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
            });
        }
        order
    }

    /// The filtered rows, in view order, as CSV (RFC 4180; cells that a spreadsheet would run as
    /// formulas are prefixed with `'`).
    pub fn to_csv(&self, order: &[u32]) -> String {
        let mut out = String::new();
        let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
            let fields: Vec<String> = cells.map(mes_client::csv_field).collect();
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        };
        line(&mut out, &mut self.columns.iter().map(|c| c.key.as_str()));
        for &i in order {
            line(&mut out, &mut self.cells[i as usize].iter().map(String::as_str));
        }
        out
    }
}

/// Compares without regard to ASCII case, without allocating.
fn caseless(a: &str, b: &str) -> Ordering {
    a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// A per-column condition typed by a person: `>10`, `<=5`, `=3`, `10..20`, or plain text
/// (contained, any case). Number columns compare as numbers; text columns compare as text
/// without regard to case, which orders ISO dates (`>2026-03`) chronologically.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnFilter {
    /// The cell contains this text.
    Contains(String),
    /// The cell compares to the bound this way.
    Compare(Ordering, bool, String),
    /// Between two bounds, inclusive.
    Between(String, String),
}

impl ColumnFilter {
    /// Reads what was typed; `None` when empty.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        let bound = |rest: &str| rest.trim().to_owned();
        Some(if let Some(rest) = t.strip_prefix(">=") {
            Self::Compare(Ordering::Greater, true, bound(rest))
        } else if let Some(rest) = t.strip_prefix("<=") {
            Self::Compare(Ordering::Less, true, bound(rest))
        } else if let Some(rest) = t.strip_prefix('>') {
            Self::Compare(Ordering::Greater, false, bound(rest))
        } else if let Some(rest) = t.strip_prefix('<') {
            Self::Compare(Ordering::Less, false, bound(rest))
        } else if let Some(rest) = t.strip_prefix('=') {
            Self::Compare(Ordering::Equal, true, bound(rest))
        } else if let Some((low, high)) = t.split_once("..") {
            Self::Between(low.trim().to_owned(), high.trim().to_owned())
        } else {
            Self::Contains(t.to_lowercase())
        })
    }

    fn compare(data: &GridData, row: usize, column: usize, bound: &str) -> Option<Ordering> {
        match data.columns[column].kind {
            ColumnKind::Number => {
                let value = data.numbers[row][column];
                (value != f64::NEG_INFINITY).then_some(())?;
                Some(value.total_cmp(&bound.parse::<f64>().ok()?))
            }
            ColumnKind::Text => Some(caseless(&data.cells[row][column], bound)),
        }
    }

    /// Whether row `row` passes in `column`.
    pub fn matches(&self, data: &GridData, row: usize, column: usize) -> bool {
        match self {
            Self::Contains(text) => data.cells[row][column].to_lowercase().contains(text.as_str()),
            Self::Compare(direction, or_equal, bound) => match Self::compare(data, row, column, bound) {
                Some(Ordering::Equal) => *or_equal,
                Some(order) => order == *direction && *direction != Ordering::Equal,
                None => false,
            },
            Self::Between(low, high) => {
                matches!(Self::compare(data, row, column, low), Some(Ordering::Greater | Ordering::Equal))
                    && matches!(Self::compare(data, row, column, high), Some(Ordering::Less | Ordering::Equal))
            }
        }
    }
}

/// One sort criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// Index into [`GridData::columns`].
    pub column: usize,
    /// Descending when true.
    pub descending: bool,
}

/// A header click: plain click sorts by that column alone (ascending, then descending, then
/// unsorted); shift-click adds or cycles it as a further key.
pub fn toggle_sort(sort: &[SortKey], column: usize, additive: bool) -> Vec<SortKey> {
    let current = sort.iter().find(|k| k.column == column).copied();
    let next = match current {
        None => Some(SortKey { column, descending: false }),
        Some(SortKey { descending: false, .. }) => Some(SortKey { column, descending: true }),
        Some(_) => None,
    };
    if additive {
        let mut out: Vec<SortKey> = sort.to_vec();
        match (out.iter().position(|k| k.column == column), next) {
            (Some(i), Some(k)) => out[i] = k,
            (Some(i), None) => {
                out.remove(i);
            }
            (None, Some(k)) => out.push(k),
            (None, None) => {}
        }
        out
    } else {
        next.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Rows {
        Rows::from_json(
            br#"[{"ent_id":10,"ent_name":"packaging Line 2","n":null},{"ent_id":2,"ent_name":"Mixing Line 1","n":"x"},
                {"ent_id":33,"ent_name":"Packaging Line 1","n":true}]"#,
        )
        .expect("rows")
    }

    #[test]
    fn columns_labels_and_kinds() {
        let data = GridData::new(&rows(), &[], Some("ent_id"));
        assert_eq!(data.columns.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(), ["Ent id", "Ent name", "N"]);
        assert_eq!(data.columns[0].kind, ColumnKind::Number);
        assert_eq!(data.columns[1].kind, ColumnKind::Text);
        assert_eq!(data.cells[2], ["33", "Packaging Line 1", "Yes"]);
        assert_eq!(data.values, ["10", "2", "33"]);
        let picked = GridData::new(&rows(), &["ENT_NAME".into(), "missing".into()], None);
        assert_eq!(picked.columns.len(), 1);
        let row = data.selected_row(1);
        assert_eq!(row.value, "2");
        assert_eq!(row.cells[1], ("ent_name".to_owned(), "Mixing Line 1".to_owned()));
    }

    #[test]
    fn sorts_numbers_numerically_and_text_caselessly() {
        let data = GridData::new(&rows(), &[], None);
        assert_eq!(data.view(&[SortKey { column: 0, descending: false }], ""), [1, 0, 2]);
        assert_eq!(data.view(&[SortKey { column: 1, descending: false }], ""), [1, 2, 0]);
        assert_eq!(data.view(&[SortKey { column: 1, descending: true }], ""), [0, 2, 1]);
    }

    #[test]
    fn filter_matches_every_word_anywhere() {
        let data = GridData::new(&rows(), &[], None);
        assert_eq!(data.view(&[], "packaging"), [0, 2]);
        assert_eq!(data.view(&[], "MIXING 1"), [1], "words match anywhere in the row, any case");
        assert_eq!(data.view(&[], "packaging 33"), [2]);
        assert_eq!(data.view(&[], "nothing-like-this"), Vec::<u32>::new());
    }

    #[test]
    fn column_filters_compare_by_type() {
        let rows = Rows::from_json(
            br#"[{"n":5,"d":"2026-01-15T08:00:00","t":"Mixing"},{"n":12,"d":"2026-03-02T10:00:00","t":"Packaging"},
                {"n":null,"d":"2026-06-30T23:00:00","t":"packing"},{"n":100,"d":"","t":"Filling"}]"#,
        )
        .expect("rows");
        let data = GridData::new(&rows, &[], None);
        let view = |c: usize, f: &str| data.view_filtered(&[], "", &[(c, f.to_owned())]);
        assert_eq!(view(0, ">10"), [1, 3], "numbers, not text (\"5\" > \"10\" as text)");
        assert_eq!(view(0, "<=12"), [0, 1], "empty cells never match a comparison");
        assert_eq!(view(0, "=12"), [1]);
        assert_eq!(view(0, "5..12"), [0, 1]);
        assert_eq!(view(0, ">abc"), Vec::<u32>::new(), "a bound that is not a number matches nothing");
        assert_eq!(view(1, ">=2026-03"), [1, 2], "ISO dates compare chronologically as text");
        assert_eq!(view(1, "2026-01..2026-04"), [0, 1]);
        assert_eq!(view(2, "PACK"), [1, 2]);
        assert_eq!(view(2, "  "), [0, 1, 2, 3], "empty = no condition");
        assert_eq!(data.view_filtered(&[], "pack", &[(0, ">10".into())]), [1], "quick filter and column filters combine");
        // Column numbers come from the address bar, which anyone can edit: one past the last
        // column is ignored, not a panic.
        assert_eq!(data.view_filtered(&[], "", &[(3, "x".into())]), [0, 1, 2, 3]);
        assert_eq!(data.view_filtered(&[SortKey { column: 3, descending: true }], "", &[]), [0, 1, 2, 3]);
        assert_eq!(data.view_filtered(&[SortKey { column: 2, descending: false }], "", &[]), [3, 0, 1, 2], "the last column sorts");
        assert!(!data.is_empty() && data.len() == 4);
        assert!(GridData::new(&Rows::default(), &[], None).is_empty());
    }

    #[test]
    fn sort_toggle_cycle_and_multi() {
        let s = toggle_sort(&[], 1, false);
        assert_eq!(s, [SortKey { column: 1, descending: false }]);
        let s = toggle_sort(&s, 1, false);
        assert_eq!(s, [SortKey { column: 1, descending: true }]);
        assert!(toggle_sort(&s, 1, false).is_empty());
        let multi = toggle_sort(&s, 0, true);
        assert_eq!(multi, [SortKey { column: 1, descending: true }, SortKey { column: 0, descending: false }]);
        assert_eq!(toggle_sort(&multi, 2, false), [SortKey { column: 2, descending: false }]);
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let data = GridData::new(&Rows::from_json(br#"[{"a":"x,\"y\"","b":"=HYPERLINK(1)","c":-5}]"#).expect("rows"), &[], None);
        assert_eq!(data.to_csv(&[0]), "a,b,c\r\n\"x,\"\"y\"\"\",'=HYPERLINK(1),-5\r\n");
    }
}
