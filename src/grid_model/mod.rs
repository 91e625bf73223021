//! The lookup grid's data model, free of any UI: display text, column kinds, sorting and
//! filtering over an index, so 100,000 rows never move in memory.

pub mod cells;
pub mod find;
pub mod interaction;
pub mod links;
pub mod question;
pub mod state;
pub mod totals;
pub mod xlsx;

pub use interaction::{BUFFER_ROWS, Density, ROW_HEIGHT};
pub use state::GridState;

use crate::words::{GridWord, fill, w};
use mes_client::{Cell, CellKind, ColumnData, Rows};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// The name–value pairs of a query string (with or without `?`), decoded: the grid's state,
/// its question and the trail all live in the page's query.
fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
}

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
#[derive(Debug, Default)]
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
    /// The answer was cut at this many rows: the MES had more.
    cut: Option<u32>,
    /// Collation ranks of text columns, made at their first sort.
    ranks: RankCache,
}

/// Per column of the answer: the row count it was made for, and each row's rank in caseless
/// order (equal texts, equal ranks). Made once per column (again only while rows still arrive),
/// so a text sort is a sort of integers.
#[derive(Debug, Default)]
struct RankCache(Mutex<HashMap<usize, Ranks>>);

/// The row count the ranks were made for, and the ranks.
type Ranks = (usize, Arc<[u32]>);

/// A selected row, as handed to `on_select_rows` and to embedding pages.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectedRow {
    /// The value column's text (empty when the lookup has no value column).
    pub value: String,
    /// `(column key, the MES's text)` for every shown column, in order.
    pub cells: Vec<(String, String)>,
}

/// `ent_name` → "Ent name"; the MES's `*_utc` and `*_local` time columns say which they are
/// (`due_at_utc` → "Due at (UTC)", `due_at_local` → "Due at (local time)").
pub fn header_label(key: &str) -> String {
    let (base, zone) = match (key.strip_suffix("_utc"), key.strip_suffix("_local")) {
        (Some(base), _) if !base.is_empty() => (base, Some(GridWord::Utc)),
        (_, Some(base)) if !base.is_empty() => (base, Some(GridWord::LocalTime)),
        _ => (key, None),
    };
    let spaced = base.replace('_', " ");
    let mut chars = spaced.trim().chars();
    let label = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => key.to_owned(),
    };
    match zone {
        Some(word) => fill(word, &[("column", &label)]),
        None => label,
    }
}

/// A cell's text as the MES sent it: strings and numbers as written, `true`/`false`, empty for
/// null. Copy, CSV, sorting, filters and the selection event use this; the grid shows cells in
/// the person's locale (`grid::format`).
pub fn display<'a>(cell: Cell<'a>) -> &'a str {
    cell.text()
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
        Self {
            display_columns: display_columns.to_vec(),
            value_column: value_column.map(str::to_owned),
            ..Self::default()
        }
    }

    /// The rows as the MES sent them: every column, shown or not.
    pub fn rows(&self) -> &Rows {
        &self.rows
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
            self.display_columns
                .iter()
                .filter_map(|c| rows.column_index(c))
                .collect()
        };
        self.value = self.value_column.as_deref().and_then(|c| rows.column_index(c));
        self.columns = self
            .picked
            .iter()
            .map(|&c| {
                let column = &rows.columns()[c];
                let kind = if column.is_numeric() {
                    ColumnKind::Number
                } else {
                    ColumnKind::Text
                };
                Column {
                    key: column.name().to_owned(),
                    label: header_label(column.name()),
                    kind,
                }
            })
            .collect();
    }

    /// Marks the answer complete: every row is in (and the columns give back what they reserved
    /// for more).
    pub fn set_complete(&mut self) {
        self.complete = true;
        self.rows.shrink_to_fit();
    }

    /// Marks the answer complete, as an answer to a question limited to `limit` rows: one past
    /// the limit says the MES had more, and goes (see [`mes_client::ask::is_cut`]).
    pub fn set_complete_within(&mut self, limit: u32) {
        if mes_client::ask::is_cut(self.rows.len(), limit) {
            self.rows.truncate(limit as usize);
            self.cut = Some(limit);
            self.refresh();
        }
        self.set_complete();
    }

    /// Whether every row is in.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The limit the answer was cut at, when the MES had more rows than were asked for.
    pub fn cut(&self) -> Option<u32> {
        self.cut
    }

    /// What the decoded rows hold on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.rows.heap_bytes()
    }

    /// Shown column `column` of `row`, as the MES sent it (see [`display`]).
    pub fn raw(&self, row: usize, column: usize) -> Cell<'_> {
        self.rows.columns()[self.picked[column]].cell(row)
    }

    /// Shown column `column` of `row`, as text (see [`display`]).
    pub fn cell(&self, row: usize, column: usize) -> &str {
        display(self.rows.columns()[self.picked[column]].cell(row))
    }

    /// The value column's text of `row` (empty without a value column).
    pub fn value(&self, row: usize) -> &str {
        self.value
            .map_or("", |v| display(self.rows.columns()[v].cell(row)))
    }

    fn number(&self, row: usize, column: usize) -> f64 {
        self.rows.columns()[self.picked[column]]
            .number(row)
            .unwrap_or(f64::NEG_INFINITY)
    }

    /// One row as `(column key, the MES's text)` pairs, with its value-column value: what an
    /// embedding page receives when the row is selected.
    pub fn selected_row(&self, row: usize) -> SelectedRow {
        let cells = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.key.clone(), self.cell(row, i).to_owned()))
            .collect();
        SelectedRow {
            value: self.value(row).to_owned(),
            cells,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The caseless rank of every row in shown column `column` (see [`RankCache`]).
    fn ranks(&self, column: usize) -> Arc<[u32]> {
        let source = self.picked[column];
        let mut cache = self.ranks.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((len, ranks)) = cache.get(&source)
            && *len == self.len()
        {
            return ranks.clone();
        }
        let ranks: Arc<[u32]> = collation_ranks(&self.rows.columns()[source], self.len()).into();
        cache.insert(source, (self.len(), ranks.clone()));
        ranks
    }

    /// Row indexes to show: rows matching every word of `filter`, sorted by `sort` (stable, so
    /// equal rows keep the server's order).
    pub fn view(&self, sort: &[SortKey], filter: &str) -> Vec<u32> {
        self.view_filtered(sort, filter, &[])
    }

    /// Like [`GridData::view`], with per-column conditions as well (see [`ColumnFilter`]).
    ///
    /// The quick filter's rule: `filter` is split at any whitespace into words; a row matches
    /// when every word appears, in any case, inside the MES's text of one of its columns
    /// (hidden columns count; numbers and times as the MES wrote them; booleans as `true`/`false`
    /// and as shown, Yes/No in the portal's language).
    pub fn view_filtered(&self, sort: &[SortKey], filter: &str, columns: &[(usize, String)]) -> Vec<u32> {
        let conditions: Vec<(usize, ColumnFilter)> = columns
            .iter()
            .filter(|(c, _)| *c < self.columns.len())
            .filter_map(|(c, text)| Some((*c, ColumnFilter::parse(text)?)))
            .collect();
        let passing = self.quick_filter(filter);
        let mut order: Vec<u32> = (0..self.len() as u32)
            .filter(|&i| passing.as_ref().is_none_or(|p| p[i as usize]))
            .filter(|&i| conditions.iter().all(|(c, f)| f.matches(self, i as usize, *c)))
            .collect();
        let sort: Vec<&SortKey> = sort.iter().filter(|k| k.column < self.columns.len()).collect();
        if sort.is_empty() {
            return order;
        }
        match sort.as_slice() {
            // One column, the common case: keys and rows sorted in place (no buffer beside
            // them: at a million rows every copy is megabytes of wasm memory for good); a text
            // column's rank and its row packed into one integer.
            [key] if self.columns[key.column].kind == ColumnKind::Text => {
                let rank = self.sort_key(key);
                let mut packed: Vec<u64> = order
                    .iter()
                    .map(|&row| (rank(row) << 32) | u64::from(row))
                    .collect();
                packed.sort_unstable();
                order = packed.into_iter().map(|key| key as u32).collect();
            }
            [key] => {
                let number = self.sort_key(key);
                let mut keyed: Vec<(u64, u32)> = order.iter().map(|&row| (number(row), row)).collect();
                keyed.sort_unstable();
                order = keyed.into_iter().map(|(_, row)| row).collect();
            }
            // Several: the last key sorted first, each stable pass keeping the order of the
            // ones after it; rows equal in every key keep the server's order.
            _ => {
                for key in sort.iter().rev() {
                    let bytes = match self.columns[key.column].kind {
                        ColumnKind::Number => 8,
                        ColumnKind::Text => 4,
                    };
                    radix_sort(&mut order, bytes, self.sort_key(key));
                }
            }
        }
        order
    }

    /// A row's key for sorting by `key`, as an integer that sorts as the rows should (descending
    /// turned around): a number's bits in `f64::total_cmp`'s order, or a text's collation rank
    /// (which fits in 32 bits).
    fn sort_key(&self, key: &SortKey) -> Box<dyn Fn(u32) -> u64 + '_> {
        let (column, descending) = (key.column, key.descending);
        match self.columns[column].kind {
            ColumnKind::Number => Box::new(move |row| {
                let bits = number_bits(self.number(row as usize, column));
                if descending { !bits } else { bits }
            }),
            ColumnKind::Text => {
                let ranks = self.ranks(column);
                Box::new(move |row| {
                    let rank = ranks[row as usize];
                    u64::from(if descending { u32::MAX - rank } else { rank })
                })
            }
        }
    }

    /// Which rows the quick filter lets through (`None`: no words, all of them). Each word is
    /// looked for column by column: in an ASCII column by one scan over its text arena, so
    /// 100,000 rows cost a pass over their bytes, not a search per cell.
    fn quick_filter(&self, filter: &str) -> Option<Vec<bool>> {
        let words: Vec<String> = filter.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            return None;
        }
        let mut passing = vec![true; self.len()];
        let mut found = vec![false; self.len()];
        for word in &words {
            // Rows already out need not be looked at: they count as found for this word.
            for (hit, pass) in found.iter_mut().zip(&passing) {
                *hit = !pass;
            }
            for &source in &self.picked {
                let column = &self.rows.columns()[source];
                if column.is_ascii() && word.is_ascii() {
                    mark_in_arena(column, word.as_bytes(), &mut found);
                } else {
                    for (row, hit) in found.iter_mut().enumerate() {
                        *hit = *hit || contains_caseless(display(column.cell(row)), word);
                    }
                    continue;
                }
                // Booleans, which the arena does not hold, match as sent and as shown (Yes/No).
                for (yes, sent) in [(true, "true"), (false, "false")] {
                    let shown = w(if yes { GridWord::Yes } else { GridWord::No }).to_lowercase();
                    if sent.contains(word.as_str()) || shown.contains(word.as_str()) {
                        let kind = if yes { CellKind::True } else { CellKind::False };
                        for (row, hit) in found.iter_mut().enumerate() {
                            *hit = *hit || column.kind(row) == kind;
                        }
                    }
                }
            }
            for (pass, hit) in passing.iter_mut().zip(&found) {
                *pass = *pass && *hit;
            }
        }
        Some(passing)
    }

    /// The filtered rows, in view order, as CSV (RFC 4180; cells that a spreadsheet would run as
    /// formulas are prefixed with `'`). A cut answer ends with a line that says so: a file of the
    /// first rows never passes for the whole list.
    pub fn to_csv(&self, order: &[u32]) -> String {
        let mut out = String::new();
        let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
            let fields: Vec<String> = cells.map(mes_client::csv_field).collect();
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        };
        line(&mut out, &mut self.columns.iter().map(|c| c.key.as_str()));
        for &i in order {
            line(
                &mut out,
                &mut (0..self.columns.len()).map(|c| self.cell(i as usize, c)),
            );
        }
        if let Some(limit) = self.cut {
            let said = fill(
                GridWord::CsvCut,
                &[("rows", &crate::words::count(limit as usize))],
            );
            line(&mut out, &mut std::iter::once(said.as_str()));
        }
        out
    }
    /// The shown columns' indexes: all but those in `hidden`, in order.
    pub fn shown_columns<'a>(&'a self, hidden: &'a BTreeSet<usize>) -> impl Iterator<Item = usize> + 'a {
        (0..self.columns.len()).filter(move |c| !hidden.contains(c))
    }

    /// `rows` (in the order given) as tab-separated text with a header row of the shown
    /// columns' labels, for the clipboard: Excel, LibreOffice and Google Sheets paste it as a
    /// table. Columns in `hidden` are left out; cells are the MES's text (guarded as in
    /// [`mes_client::tsv_field`]); a cut answer ends with a line that says so, as the CSV does.
    pub fn to_tsv(&self, rows: &[u32], hidden: &BTreeSet<usize>) -> String {
        let shown: Vec<usize> = self.shown_columns(hidden).collect();
        let mut out = String::new();
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            let fields: Vec<String> = cells.map(mes_client::tsv_field).collect();
            out.push_str(&fields.join("\t"));
            out.push_str("\r\n");
        };
        line(&mut shown.iter().map(|&c| self.columns[c].label.as_str()));
        for &i in rows {
            line(&mut shown.iter().map(|&c| self.cell(i as usize, c)));
        }
        if let Some(limit) = self.cut {
            let said = fill(
                GridWord::CsvCut,
                &[("rows", &crate::words::count(limit as usize))],
            );
            line(&mut std::iter::once(said.as_str()));
        }
        out
    }
}

/// A sort column with what it sorts by.
/// A number's bits as an integer that sorts as the number does (`f64::total_cmp`'s order).
fn number_bits(n: f64) -> u64 {
    let bits = n.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | 1 << 63 }
}

/// Sorts `order` stably by `key` of each row, whose value fits in `bytes` bytes: a least
/// significant digit radix sort, a byte a pass, a pass skipped where every row has the same
/// digit. Linear in the rows: a million rows sort in tens of milliseconds, where comparing
/// them takes hundreds.
fn radix_sort(order: &mut Vec<u32>, bytes: u32, key: impl Fn(u32) -> u64) {
    let mut keyed: Vec<(u64, u32)> = order.iter().map(|&row| (key(row), row)).collect();
    let mut sorted = vec![(0, 0); keyed.len()];
    for pass in 0..bytes {
        let digit = |k: u64| ((k >> (pass * 8)) & 0xFF) as usize;
        let mut counts = [0usize; 256];
        for &(k, _) in &keyed {
            counts[digit(k)] += 1;
        }
        if counts.contains(&keyed.len()) {
            continue;
        }
        let mut next = [0usize; 256];
        for d in 1..256 {
            next[d] = next[d - 1] + counts[d - 1];
        }
        for &(k, row) in &keyed {
            let slot = &mut next[digit(k)];
            sorted[*slot] = (k, row);
            *slot += 1;
        }
        std::mem::swap(&mut keyed, &mut sorted);
    }
    order.clear();
    order.extend(keyed.into_iter().map(|(_, row)| row));
}

/// Compares without regard to ASCII case, without allocating: equal bytes are skipped fast.
fn caseless(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    let n = a.len().min(b.len());
    while i < n {
        match a[i..n].iter().zip(&b[i..n]).position(|(x, y)| x != y) {
            None => break,
            Some(skip) => {
                i += skip;
                let (x, y) = (a[i].to_ascii_lowercase(), b[i].to_ascii_lowercase());
                if x != y {
                    return x.cmp(&y);
                }
                i += 1;
            }
        }
    }
    a.len().cmp(&b.len())
}

/// The first 16 bytes, ASCII-lowercased, big-endian, zero-padded: ordered like [`caseless`]
/// wherever two keys differ.
fn prefix_key(text: &str) -> u128 {
    let mut key = [0u8; 16];
    for (slot, byte) in key.iter_mut().zip(text.bytes()) {
        *slot = byte.to_ascii_lowercase();
    }
    u128::from_be_bytes(key)
}

/// Each row's rank in caseless order among the first `len` rows of `column` (as shown): the
/// distinct texts are sorted once (by a 16-byte prefix, then whole), however often each occurs.
fn collation_ranks(column: &ColumnData, len: usize) -> Vec<u32> {
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let mut distinct: Vec<&str> = Vec::new();
    let row_ids: Vec<u32> = (0..len)
        .map(|row| {
            let text = display(column.cell(row));
            *ids.entry(text).or_insert_with(|| {
                distinct.push(text);
                (distinct.len() - 1) as u32
            })
        })
        .collect();
    drop(ids);
    let mut keyed: Vec<(u128, u32)> = distinct
        .iter()
        .enumerate()
        .map(|(i, t)| (prefix_key(t), i as u32))
        .collect();
    keyed.sort_unstable_by(|&(ka, a), &(kb, b)| {
        ka.cmp(&kb)
            .then_with(|| caseless(distinct[a as usize], distinct[b as usize]))
    });
    let mut rank_of = vec![0u32; distinct.len()];
    let mut rank = 0;
    for (n, pair) in keyed.iter().enumerate() {
        if n > 0 && caseless(distinct[keyed[n - 1].1 as usize], distinct[pair.1 as usize]).is_ne() {
            rank += 1;
        }
        rank_of[pair.1 as usize] = rank;
    }
    row_ids.iter().map(|&id| rank_of[id as usize]).collect()
}

/// Marks the rows whose cell in `column` (ASCII) contains `needle` (ASCII, lowercase), looking
/// in the column's arena in place: a row already marked (by another column, or out for an
/// earlier word) is not looked at, so a word most rows match costs one column's pass.
fn mark_in_arena(column: &ColumnData, needle: &[u8], found: &mut [bool]) {
    let (text, ends) = (column.arena().as_bytes(), column.ends());
    if needle.is_empty() {
        return;
    }
    let mut start = 0;
    for (hit, &end) in found.iter_mut().zip(ends) {
        let end = end as usize;
        if !*hit {
            *hit = contains_ascii_caseless(&text[start..end], needle);
        }
        start = end;
    }
}

/// Whether `text` contains `needle` (already lowercased) in any case. ASCII text is compared in
/// place; other text is lowercased first.
fn contains_caseless(text: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if !text.is_ascii() {
        return text.to_lowercase().contains(needle);
    }
    needle.is_ascii() && contains_ascii_caseless(text.as_bytes(), needle.as_bytes())
}

/// Whether ASCII `hay` contains `needle` (ASCII, lowercase) in any case, compared in place.
fn contains_ascii_caseless(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else { return true };
    if hay.len() < needle.len() {
        return false;
    }
    let upper = first.to_ascii_uppercase();
    (0..=hay.len() - needle.len()).any(|i| {
        (hay[i] == first || hay[i] == upper) && hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
    })
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
                matches!(
                    Self::compare(data, row, column, low),
                    Some(Ordering::Greater | Ordering::Equal)
                ) && matches!(
                    Self::compare(data, row, column, high),
                    Some(Ordering::Less | Ordering::Equal)
                )
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
        None => Some(SortKey {
            column,
            descending: false,
        }),
        Some(SortKey {
            descending: false, ..
        }) => Some(SortKey {
            column,
            descending: true,
        }),
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
        assert_eq!(
            data.columns.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(),
            ["Ent id", "Ent name", "N"]
        );
        assert_eq!(data.columns[0].kind, ColumnKind::Number);
        assert_eq!(data.columns[1].kind, ColumnKind::Text);
        assert_eq!(
            (0..3).map(|c| data.cell(2, c)).collect::<Vec<_>>(),
            ["33", "Packaging Line 1", "true"]
        );
        assert_eq!(
            (0..3).map(|r| data.value(r)).collect::<Vec<_>>(),
            ["10", "2", "33"]
        );
        let picked = GridData::new(rows(), &["ENT_NAME".into(), "missing".into()], None);
        assert_eq!(picked.columns.len(), 1);
        let row = data.selected_row(1);
        assert_eq!(row.value, "2");
        assert_eq!(row.cells[1], ("ent_name".to_owned(), "Mixing Line 1".to_owned()));
        let labels: Vec<_> = ["due_at_utc", "due_at_local", "_utc", "local", "ent_name_utcx"]
            .map(header_label)
            .into();
        assert_eq!(
            labels,
            [
                "Due at (UTC)",
                "Due at (local time)",
                "Utc",
                "Local",
                "Ent name utcx"
            ]
        );
    }

    #[test]
    fn sorts_numbers_numerically_and_text_caselessly() {
        let data = GridData::new(rows(), &[], None);
        assert_eq!(
            data.view(
                &[SortKey {
                    column: 0,
                    descending: false
                }],
                ""
            ),
            [1, 0, 2]
        );
        assert_eq!(
            data.view(
                &[SortKey {
                    column: 1,
                    descending: false
                }],
                ""
            ),
            [1, 2, 0]
        );
        assert_eq!(
            data.view(
                &[SortKey {
                    column: 1,
                    descending: true
                }],
                ""
            ),
            [0, 2, 1]
        );
    }

    #[test]
    fn filter_matches_every_word_anywhere() {
        let data = GridData::new(rows(), &[], None);
        assert_eq!(data.view(&[], "packaging"), [0, 2]);
        assert_eq!(
            data.view(&[], "MIXING 1"),
            [1],
            "words match anywhere in the row, any case"
        );
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
        assert_eq!(
            view(0, ">10"),
            [1, 3],
            "numbers, not text (\"5\" > \"10\" as text)"
        );
        assert_eq!(view(0, "<=12"), [0, 1], "empty cells never match a comparison");
        assert_eq!(view(0, "=12"), [1]);
        assert_eq!(view(0, "5..12"), [0, 1]);
        assert_eq!(
            view(0, ">abc"),
            Vec::<u32>::new(),
            "a bound that is not a number matches nothing"
        );
        assert_eq!(
            view(1, ">=2026-03"),
            [1, 2],
            "ISO dates compare chronologically as text"
        );
        assert_eq!(view(1, "2026-01..2026-04"), [0, 1]);
        assert_eq!(view(2, "PACK"), [1, 2]);
        assert_eq!(view(2, "  "), [0, 1, 2, 3], "empty = no condition");
        assert_eq!(
            data.view_filtered(&[], "pack", &[(0, ">10".into())]),
            [1],
            "quick filter and column filters combine"
        );
        // Column numbers come from the address bar, which anyone can edit: one past the last
        // column is ignored, not a panic.
        assert_eq!(data.view_filtered(&[], "", &[(3, "x".into())]), [0, 1, 2, 3]);
        assert_eq!(
            data.view_filtered(
                &[SortKey {
                    column: 3,
                    descending: true
                }],
                "",
                &[]
            ),
            [0, 1, 2, 3]
        );
        assert_eq!(
            data.view_filtered(
                &[SortKey {
                    column: 2,
                    descending: false
                }],
                "",
                &[]
            ),
            [3, 0, 1, 2],
            "the last column sorts"
        );
        assert!(!data.is_empty() && data.len() == 4);
        assert!(GridData::new(Rows::default(), &[], None).is_empty());
    }

    #[test]
    fn sort_toggle_cycle_and_multi() {
        let s = toggle_sort(&[], 1, false);
        assert_eq!(
            s,
            [SortKey {
                column: 1,
                descending: false
            }]
        );
        let s = toggle_sort(&s, 1, false);
        assert_eq!(
            s,
            [SortKey {
                column: 1,
                descending: true
            }]
        );
        assert!(toggle_sort(&s, 1, false).is_empty());
        let multi = toggle_sort(&s, 0, true);
        assert_eq!(
            multi,
            [
                SortKey {
                    column: 1,
                    descending: true
                },
                SortKey {
                    column: 0,
                    descending: false
                }
            ]
        );
        assert_eq!(
            toggle_sort(&multi, 2, false),
            [SortKey {
                column: 2,
                descending: false
            }]
        );
    }

    #[test]
    fn text_sorts_past_the_prefix_and_any_case() {
        let rows = Rows::from_json(
            br#"[{"t":"lot-0000000B"},{"t":"LOT-0000000a"},{"t":"lot-00000000"},{"t":"Lot-0000000a"},{"t":""},{"t":"lot"}]"#,
        )
        .expect("rows");
        let data = GridData::new(rows, &[], None);
        assert_eq!(
            data.view(
                &[SortKey {
                    column: 0,
                    descending: false
                }],
                ""
            ),
            [4, 5, 2, 1, 3, 0],
            "ties keep the server's order"
        );
        assert_eq!(
            data.view(
                &[SortKey {
                    column: 0,
                    descending: true
                }],
                ""
            ),
            [0, 1, 3, 2, 5, 4]
        );
    }

    #[test]
    fn quick_filter_reads_sent_and_shown_text_in_any_case() {
        let rows = Rows::from_json(
            r#"[{"a":"Straße","b":true},{"a":"STRASSE","b":false},{"a":"ÄRGER","b":null}]"#.as_bytes(),
        )
        .expect("rows");
        let data = GridData::new(rows, &[], None);
        assert_eq!(data.view(&[], "straße"), [0]);
        assert_eq!(data.view(&[], "ärger"), [2], "non-ASCII text matches in any case");
        assert_eq!(data.view(&[], "yes"), [0], "booleans match as shown");
        assert_eq!(data.view(&[], "true"), [0], "and as sent");
        assert_eq!(data.view(&[], "sse\tSTR"), [1], "any whitespace separates words");
        // A non-ASCII letter whose lowercase is ASCII (the Kelvin sign is a `k`): such a column
        // is searched cell by cell, not byte by byte in its arena.
        let kelvin = GridData::new(
            Rows::from_json("[{\"t\":\"5 \u{212A}\"},{\"t\":\"5 C\"}]".as_bytes()).expect("rows"),
            &[],
            None,
        );
        assert_eq!(kelvin.view(&[], "k"), [0]);
        assert!(
            contains_caseless("abc", "")
                && !contains_caseless("ab", "abc")
                && contains_caseless("xAbC", "abc")
        );
        assert!(contains_caseless("ABC", "abc"), "as long as the text itself");
        assert!(
            !contains_caseless("xAbD", "abc") && !contains_caseless("a", "b"),
            "the first letter alone is not a match"
        );
    }

    #[test]
    fn streamed_data_knows_when_it_is_complete_and_what_it_holds() {
        let mut data = GridData::streaming(&[], None);
        assert!(!data.is_complete() && data.is_empty() && data.heap_bytes() == 0);
        let mut decoder = mes_client::RowsDecoder::default();
        decoder
            .push(br#"[{"a":"0123456789","b":1.5}"#, data.rows_mut())
            .expect("row");
        data.refresh();
        assert!(!data.is_complete(), "rows in, the answer not ended");
        // Ten text bytes, two offsets and two kinds at least, one number.
        assert!(data.heap_bytes() >= 10 + 2 * 4 + 2 + 8, "{}", data.heap_bytes());
        data.set_complete();
        assert!(data.is_complete());
        assert!(
            GridData::new(Rows::default(), &[], None).is_complete(),
            "all rows at once are complete"
        );
    }

    #[test]
    fn a_word_never_matches_across_two_cells_or_rows() {
        let rows = Rows::from_json(
            br#"[{"a":"xa","b":"bx"},{"a":"","b":"AB"},{"a":"b","b":null},{"a":"abab","b":""}]"#,
        )
        .expect("rows");
        let data = GridData::new(rows, &[], None);
        assert_eq!(
            data.view(&[], "ab"),
            [1, 3],
            "\"xa\" + \"bx\" is not \"ab\", nor is one row's end and the next's start"
        );
        assert_eq!(data.view(&[], "b"), [0, 1, 2, 3]);
        assert_eq!(data.view(&[], "bab"), [3]);
        assert_eq!(
            data.view(&[], "abababa"),
            Vec::<u32>::new(),
            "longer than any text"
        );
    }

    #[test]
    fn sorts_mix_text_ranks_and_numbers_and_follow_new_rows() {
        let rows = Rows::from_json(br#"[{"t":"b","n":2},{"t":"a","n":3},{"t":"B","n":1},{"t":"a","n":1}]"#)
            .expect("rows");
        let mut data = GridData::new(rows, &[], None);
        let by = |c: usize, descending: bool| SortKey {
            column: c,
            descending,
        };
        assert_eq!(
            data.view(&[by(0, false), by(1, false)], ""),
            [3, 1, 2, 0],
            "text, then number"
        );
        assert_eq!(data.view(&[by(0, true), by(1, true)], ""), [0, 2, 1, 3]);
        assert_eq!(
            data.view(&[by(0, false)], ""),
            [1, 3, 0, 2],
            "b and B tie: the server's order"
        );
        // More rows arrive after a sort: the ranks are made again for them.
        let mut decoder = mes_client::RowsDecoder::default();
        decoder
            .push(br#"[{"t":"0","n":9}]"#, data.rows_mut())
            .expect("row");
        data.refresh();
        assert_eq!(data.view(&[by(0, false)], ""), [4, 1, 3, 0, 2]);
    }

    #[test]
    fn the_radix_sort_agrees_with_comparing_numbers_and_keeps_ties_in_order() {
        // Negative, fractional, huge, tiny, repeated and null numbers in a seeded shuffle.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let values: Vec<String> = (0..3000)
            .map(|_| match next() % 7 {
                0 => "null".into(),
                1 => format!("-{}", next() % 1000),
                2 => format!("{}.{}", next() % 50, next() % 100),
                3 => format!("{}e300", next() % 9 + 1),
                4 => format!("-{}e-300", next() % 9 + 1),
                _ => format!("{}", next() % 40),
            })
            .collect();
        let json = format!(
            "[{}]",
            values
                .iter()
                .map(|v| format!(r#"{{"n":{v}}}"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        let data = GridData::new(Rows::from_json(json.as_bytes()).expect("rows"), &[], None);
        for descending in [false, true] {
            let mut expected: Vec<u32> = (0..3000).collect();
            expected.sort_by(|&a, &b| {
                let o = data.number(a as usize, 0).total_cmp(&data.number(b as usize, 0));
                if descending { o.reverse() } else { o }
            });
            let sorted = data.view(
                &[SortKey {
                    column: 0,
                    descending,
                }],
                "",
            );
            assert_eq!(sorted, expected, "descending: {descending}");
        }
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let data = GridData::new(
            Rows::from_json(br#"[{"a":"x,\"y\"","b":"=HYPERLINK(1)","c":-5}]"#).expect("rows"),
            &[],
            None,
        );
        assert_eq!(
            data.to_csv(&[0]),
            "a,b,c\r\n\"x,\"\"y\"\"\",'=HYPERLINK(1),-5\r\n"
        );
    }

    #[test]
    fn copied_rows_are_the_shown_columns_under_their_labels() {
        let mut data = GridData::new(
            Rows::from_json(
                br#"[{"lot_no":"L-1","qty":5,"note":"a\tb"},{"lot_no":"L-2","qty":-1,"note":"=1"}]"#,
            )
            .expect("rows"),
            &[],
            None,
        );
        let hidden = BTreeSet::from([2]);
        assert_eq!(
            data.to_tsv(&[1, 0], &hidden),
            "Lot no\tQty\r\nL-2\t-1\r\nL-1\t5\r\n"
        );
        assert_eq!(
            data.to_tsv(&[1], &BTreeSet::new()),
            "Lot no\tQty\tNote\r\nL-2\t-1\t'=1\r\n"
        );
        data.set_complete_within(1);
        assert!(
            data.to_tsv(&[0], &hidden).ends_with("the MES has more.\r\n"),
            "a cut answer never pastes as the whole list"
        );
    }
}
