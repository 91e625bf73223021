//! The lookup grid's data model, free of any UI: display text, column kinds, sorting and
//! filtering over an index, so 100,000 rows never move in memory.

use mes_client::{Cell, Rows};
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

/// Rows ready to show, by column (see [`Rows`]): the shown columns picked from the answer, and
/// sorting and filtering over `u32` row indexes. Cells are shown straight from the answer's
/// text arenas; nothing is copied per row. While an answer streams in, the rows grow under it
/// ([`GridData::rows_mut`], then [`GridData::refresh`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GridData {
    /// Shown columns, in order.
    pub columns: Vec<Column>,
    rows: Rows,
    /// For each shown column, its index in `rows`.
    picked: Vec<usize>,
    /// The value column's index in `rows`.
    value: Option<usize>,
    display_columns: Vec<String>,
    value_column: Option<String>,
    /// Every row is in (the answer ended).
    complete: bool,
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

/// A cell as shown: text as sent, numbers as written, `Yes`/`No` for booleans, empty for null.
pub fn display<'a>(cell: Cell<'a>) -> &'a str {
    match cell {
        Cell::Bool(true) => "Yes",
        Cell::Bool(false) => "No",
        other => other.text(),
    }
}

impl GridData {
    /// All rows at once: picks the columns (`display_columns`, or all in server order) and the
    /// value column. Configured columns the answer lacks are left out rather than shown empty.
    pub fn new(rows: Rows, display_columns: &[String], value_column: Option<&str>) -> Self {
        let mut data = Self::streaming(display_columns, value_column);
        data.rows = rows;
        data.complete = true;
        data.refresh();
        data
    }

    /// No rows yet: they arrive through [`GridData::rows_mut`].
    pub fn streaming(display_columns: &[String], value_column: Option<&str>) -> Self {
        Self { display_columns: display_columns.to_vec(), value_column: value_column.map(str::to_owned), ..Self::default() }
    }

    /// The rows, to decode more into; call [`GridData::refresh`] afterwards.
    pub fn rows_mut(&mut self) -> &mut Rows {
        &mut self.rows
    }

    /// Picks the shown columns again (new ones may have arrived) and their kinds.
    pub fn refresh(&mut self) {
        let rows = &self.rows;
        self.picked = if self.display_columns.is_empty() {
            (0..rows.columns().len()).collect()
        } else {
            self.display_columns.iter().filter_map(|c| rows.column_index(c)).collect()
        };
        self.value = self.value_column.as_deref().and_then(|c| rows.column_index(c));
        self.columns = self
            .picked
            .iter()
            .map(|&c| {
                let column = &rows.columns()[c];
                let kind = if column.is_numeric() { ColumnKind::Number } else { ColumnKind::Text };
                Column { key: column.name().to_owned(), label: header_label(column.name()), kind }
            })
            .collect();
    }

    /// Marks the answer complete: every row is in.
    pub fn set_complete(&mut self) {
        self.complete = true;
    }

    /// Whether every row is in.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// What the decoded rows hold on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.rows.heap_bytes()
    }

    /// Shown column `column` of `row`, as shown.
    pub fn cell(&self, row: usize, column: usize) -> &str {
        display(self.rows.columns()[self.picked[column]].cell(row))
    }

    /// The value column's text of `row` (empty without a value column).
    pub fn value(&self, row: usize) -> &str {
        self.value.map_or("", |v| display(self.rows.columns()[v].cell(row)))
    }

    fn number(&self, row: usize, column: usize) -> f64 {
        self.rows.columns()[self.picked[column]].number(row).unwrap_or(f64::NEG_INFINITY)
    }

    /// One row as `(column key, shown text)` pairs, with its value-column value: what an
    /// embedding page receives when the row is selected.
    pub fn selected_row(&self, row: usize) -> SelectedRow {
        let cells = self.columns.iter().enumerate().map(|(i, c)| (c.key.clone(), self.cell(row, i).to_owned())).collect();
        SelectedRow { value: self.value(row).to_owned(), cells }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn compare(&self, a: usize, b: usize, key: &SortKey) -> Ordering {
        let order = match self.columns[key.column].kind {
            ColumnKind::Number => self.number(a, key.column).total_cmp(&self.number(b, key.column)),
            ColumnKind::Text => caseless(self.cell(a, key.column), self.cell(b, key.column)),
        };
        if key.descending { order.reverse() } else { order }
    }

    /// Row indexes to show: rows matching every word of `filter`, sorted by `sort` (stable, so
    /// equal rows keep the server's order).
    pub fn view(&self, sort: &[SortKey], filter: &str) -> Vec<u32> {
        self.view_filtered(sort, filter, &[])
    }

    /// Like [`GridData::view`], with per-column conditions as well (see [`ColumnFilter`]).
    ///
    /// The quick filter's rule: `filter` is split at any whitespace into words; a row matches
    /// when every word appears, in any case, inside the shown text of one of its columns
    /// (hidden columns count; `Yes`/`No` for booleans, numbers as written).
    pub fn view_filtered(&self, sort: &[SortKey], filter: &str, columns: &[(usize, String)]) -> Vec<u32> {
        let words: Vec<String> = filter.split_whitespace().map(str::to_lowercase).collect();
        let conditions: Vec<(usize, ColumnFilter)> = columns
            .iter()
            .filter(|(c, _)| *c < self.columns.len())
            .filter_map(|(c, text)| Some((*c, ColumnFilter::parse(text)?)))
            .collect();
        let shown = self.columns.len();
        let mut order: Vec<u32> = (0..self.len() as u32)
            .filter(|&i| words.iter().all(|w| (0..shown).any(|c| contains_caseless(self.cell(i as usize, c), w))))
            .filter(|&i| conditions.iter().all(|(c, f)| f.matches(self, i as usize, *c)))
            .collect();
        let sort: Vec<&SortKey> = sort.iter().filter(|k| k.column < self.columns.len()).collect();
        match sort.as_slice() {
            [] => {}
            [key] => self.sort_by_one(&mut order, key),
            keys => order.sort_by(|&a, &b| {
                keys.iter().map(|k| self.compare(a as usize, b as usize, k)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
            }),
        }
        order
    }

    /// One sort key, the common case: numbers by value; text by an 8-byte caseless prefix
    /// computed once per row, comparing whole texts only when prefixes tie. The row index breaks
    /// the last ties, so the unstable sort keeps equal rows in the server's order.
    fn sort_by_one(&self, order: &mut [u32], key: &SortKey) {
        let column = key.column;
        let directed = |o: Ordering| if key.descending { o.reverse() } else { o };
        match self.columns[column].kind {
            ColumnKind::Number => {
                order.sort_unstable_by(|&a, &b| {
                    directed(self.number(a as usize, column).total_cmp(&self.number(b as usize, column))).then(a.cmp(&b))
                });
            }
            ColumnKind::Text => {
                let mut keyed: Vec<(u64, u32)> = order.iter().map(|&i| (prefix_key(self.cell(i as usize, column)), i)).collect();
                keyed.sort_unstable_by(|&(ka, a), &(kb, b)| {
                    directed(ka.cmp(&kb).then_with(|| caseless(self.cell(a as usize, column), self.cell(b as usize, column))))
                        .then(a.cmp(&b))
                });
                for (slot, (_, i)) in order.iter_mut().zip(keyed) {
                    *slot = i;
                }
            }
        }
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
            line(&mut out, &mut (0..self.columns.len()).map(|c| self.cell(i as usize, c)));
        }
        out
    }
}

/// Compares without regard to ASCII case, without allocating.
fn caseless(a: &str, b: &str) -> Ordering {
    a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// The first 8 bytes, ASCII-lowercased, big-endian, zero-padded: ordered like [`caseless`]
/// wherever two keys differ.
fn prefix_key(text: &str) -> u64 {
    let mut key = [0u8; 8];
    for (slot, byte) in key.iter_mut().zip(text.bytes()) {
        *slot = byte.to_ascii_lowercase();
    }
    u64::from_be_bytes(key)
}

/// Whether `text` contains `needle` (already lowercased) in any case. ASCII text is compared in
/// place; other text is lowercased first.
fn contains_caseless(text: &str, needle: &str) -> bool {
    let (hay, wanted) = (text.as_bytes(), needle.as_bytes());
    let Some(&first) = wanted.first() else { return true };
    if !text.is_ascii() {
        return text.to_lowercase().contains(needle);
    }
    if !needle.is_ascii() || hay.len() < wanted.len() {
        return false;
    }
    let upper = first.to_ascii_uppercase();
    (0..=hay.len() - wanted.len()).any(|i| (hay[i] == first || hay[i] == upper) && hay[i..i + wanted.len()].eq_ignore_ascii_case(wanted))
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
                let value = data.number(row, column);
                (value != f64::NEG_INFINITY).then_some(())?;
                Some(value.total_cmp(&bound.parse::<f64>().ok()?))
            }
            ColumnKind::Text => Some(caseless(data.cell(row, column), bound)),
        }
    }

    /// Whether row `row` passes in `column`.
    pub fn matches(&self, data: &GridData, row: usize, column: usize) -> bool {
        match self {
            Self::Contains(text) => contains_caseless(data.cell(row, column), text),
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
        let data = GridData::new(rows(), &[], Some("ent_id"));
        assert_eq!(data.columns.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(), ["Ent id", "Ent name", "N"]);
        assert_eq!(data.columns[0].kind, ColumnKind::Number);
        assert_eq!(data.columns[1].kind, ColumnKind::Text);
        assert_eq!((0..3).map(|c| data.cell(2, c)).collect::<Vec<_>>(), ["33", "Packaging Line 1", "Yes"]);
        assert_eq!((0..3).map(|r| data.value(r)).collect::<Vec<_>>(), ["10", "2", "33"]);
        let picked = GridData::new(rows(), &["ENT_NAME".into(), "missing".into()], None);
        assert_eq!(picked.columns.len(), 1);
        let row = data.selected_row(1);
        assert_eq!(row.value, "2");
        assert_eq!(row.cells[1], ("ent_name".to_owned(), "Mixing Line 1".to_owned()));
    }

    #[test]
    fn sorts_numbers_numerically_and_text_caselessly() {
        let data = GridData::new(rows(), &[], None);
        assert_eq!(data.view(&[SortKey { column: 0, descending: false }], ""), [1, 0, 2]);
        assert_eq!(data.view(&[SortKey { column: 1, descending: false }], ""), [1, 2, 0]);
        assert_eq!(data.view(&[SortKey { column: 1, descending: true }], ""), [0, 2, 1]);
    }

    #[test]
    fn filter_matches_every_word_anywhere() {
        let data = GridData::new(rows(), &[], None);
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
        let data = GridData::new(rows, &[], None);
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
        assert!(GridData::new(Rows::default(), &[], None).is_empty());
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
    fn text_sorts_past_the_prefix_and_any_case() {
        let rows = Rows::from_json(
            br#"[{"t":"lot-0000000B"},{"t":"LOT-0000000a"},{"t":"lot-00000000"},{"t":"Lot-0000000a"},{"t":""},{"t":"lot"}]"#,
        )
        .expect("rows");
        let data = GridData::new(rows, &[], None);
        assert_eq!(data.view(&[SortKey { column: 0, descending: false }], ""), [4, 5, 2, 1, 3, 0], "ties keep the server's order");
        assert_eq!(data.view(&[SortKey { column: 0, descending: true }], ""), [0, 1, 3, 2, 5, 4]);
    }

    #[test]
    fn quick_filter_reads_shown_text_in_any_case() {
        let rows =
            Rows::from_json(r#"[{"a":"Straße","b":true},{"a":"STRASSE","b":false},{"a":"ÄRGER","b":null}]"#.as_bytes()).expect("rows");
        let data = GridData::new(rows, &[], None);
        assert_eq!(data.view(&[], "straße"), [0]);
        assert_eq!(data.view(&[], "ärger"), [2], "non-ASCII text matches in any case");
        assert_eq!(data.view(&[], "yes"), [0], "booleans match as shown");
        assert_eq!(data.view(&[], "sse\tSTR"), [1], "any whitespace separates words");
        assert!(contains_caseless("abc", "") && !contains_caseless("ab", "abc") && contains_caseless("xAbC", "abc"));
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let data = GridData::new(Rows::from_json(br#"[{"a":"x,\"y\"","b":"=HYPERLINK(1)","c":-5}]"#).expect("rows"), &[], None);
        assert_eq!(data.to_csv(&[0]), "a,b,c\r\n\"x,\"\"y\"\"\",'=HYPERLINK(1),-5\r\n");
    }
}
