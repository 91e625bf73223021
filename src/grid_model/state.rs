//! What a grid remembers through the address bar: sort, quick filter, column filters, hidden
//! columns and selection, as query parameters that name columns and value-column values (not
//! positions), so a reload of changed data or a sign-in round trip comes back to the same grid.
//!
//! `sort=ent_name:desc,ent_id:asc&q=text&f.ent_id=>10&hide=description&density=comfortable&sel=v1&sel=v2`; other
//! parameters of the page are kept as they are.

use super::interaction::Density;
use super::{GridData, SortKey, query_pairs as pairs};
use std::collections::{BTreeSet, HashSet};

/// A grid's state, by column index and row index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GridState {
    /// Sort keys, in order.
    pub sort: Vec<SortKey>,
    /// The quick filter's text.
    pub filter: String,
    /// Selected rows.
    pub selected: BTreeSet<u32>,
    /// Per-column filter text, by column index.
    pub column_filters: Vec<String>,
    /// Hidden columns, by index.
    pub hidden: BTreeSet<usize>,
    /// How tall the rows are.
    pub density: Density,
    /// The column the person pinned (it stays in view scrolling sideways); `None`: the first
    /// shown one.
    pub pinned: Option<usize>,
}

/// The parameters a grid owns in the query.
fn owned(name: &str) -> bool {
    matches!(name, "sort" | "q" | "sel" | "hide" | "density" | "pin") || name.starts_with("f.")
}

impl GridState {
    /// Reads the state from a query string (with or without `?`). Unknown columns and values
    /// are left out: the address bar is anyone's to edit.
    pub fn from_query(data: &GridData, query: &str) -> Self {
        let position = |key: &str| data.columns.iter().position(|c| c.key == key);
        let mut state = Self {
            column_filters: vec![String::new(); data.columns.len()],
            ..Self::default()
        };
        let mut wanted: HashSet<String> = HashSet::new();
        for (name, value) in pairs(query) {
            match name.as_str() {
                "sort" => {
                    state.sort = value
                        .split(',')
                        .filter_map(|part| {
                            let (key, direction) = part.split_once(':').unwrap_or((part, "asc"));
                            Some(SortKey {
                                column: position(key)?,
                                descending: direction == "desc",
                            })
                        })
                        .collect();
                }
                "q" => state.filter = value,
                "sel" => {
                    wanted.insert(value);
                }
                "hide" => state.hidden = value.split(',').filter_map(position).collect(),
                "density" if value == "comfortable" => state.density = Density::Comfortable,
                "pin" => state.pinned = position(&value),
                _ => {
                    if let Some(column) = name.strip_prefix("f.").and_then(position) {
                        state.column_filters[column] = value;
                    }
                }
            }
        }
        if !wanted.is_empty() {
            state.selected = (0..data.len())
                .filter(|&i| !data.value(i).is_empty() && wanted.contains(data.value(i)))
                .map(|i| i as u32)
                .collect();
        }
        state
    }

    /// Whether `query` names selected rows (which are found only once every row is in).
    pub fn names_selection(query: &str) -> bool {
        pairs(query).any(|(name, value)| name == "sel" && !value.is_empty())
    }

    /// `existing` (the page's query) with this state in place of any earlier grid state; empty
    /// parts are left out, and an empty result is the empty string (no `?`).
    pub fn to_query(&self, data: &GridData, existing: &str) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs(existing).filter(|(name, _)| !owned(name)) {
            out.append_pair(&name, &value);
        }
        let sort: Vec<String> = self
            .sort
            .iter()
            .filter_map(|k| data.columns.get(k.column))
            .zip(&self.sort)
            .map(|(c, k)| format!("{}:{}", c.key, if k.descending { "desc" } else { "asc" }))
            .collect();
        if !sort.is_empty() {
            out.append_pair("sort", &sort.join(","));
        }
        if !self.filter.is_empty() {
            out.append_pair("q", &self.filter);
        }
        for (column, text) in data.columns.iter().zip(&self.column_filters) {
            if !text.trim().is_empty() {
                out.append_pair(&format!("f.{}", column.key), text);
            }
        }
        let hidden: Vec<&str> = self
            .hidden
            .iter()
            .filter_map(|&i| data.columns.get(i))
            .map(|c| c.key.as_str())
            .collect();
        if !hidden.is_empty() {
            out.append_pair("hide", &hidden.join(","));
        }
        if let Some(column) = self.pinned.and_then(|c| data.columns.get(c)) {
            out.append_pair("pin", &column.key);
        }
        if self.density == Density::Comfortable {
            out.append_pair("density", "comfortable");
        }
        for &row in &self.selected {
            if (row as usize) < data.len() && !data.value(row as usize).is_empty() {
                out.append_pair("sel", data.value(row as usize));
            }
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mes_client::Rows;

    fn data() -> GridData {
        let rows = Rows::from_json(br#"[{"lot":"L-1","qty":5,"note":"a"},{"lot":"L-2","qty":1,"note":"b"},{"lot":"","qty":2,"note":"c"}]"#)
            .expect("rows");
        GridData::new(rows, &[], Some("lot"))
    }

    #[test]
    fn state_goes_into_the_query_and_comes_back() {
        let data = data();
        let state = GridState {
            sort: vec![
                SortKey {
                    column: 1,
                    descending: true,
                },
                SortKey {
                    column: 0,
                    descending: false,
                },
            ],
            filter: "a b&c".into(),
            selected: [1, 2].into(),
            column_filters: vec![String::new(), ">1".into(), "  ".into()],
            hidden: [2].into(),
            density: Density::Comfortable,
            pinned: Some(1),
        };
        let query = state.to_query(&data, "?view=compact&sort=old&f.lot=x&density=x&pin=lot");
        assert_eq!(
            query,
            "view=compact&sort=qty%3Adesc%2Clot%3Aasc&q=a+b%26c&f.qty=%3E1&hide=note&pin=qty&density=comfortable&sel=L-2"
        );
        let back = GridState::from_query(&data, &format!("?{query}"));
        assert_eq!(back.sort, state.sort);
        assert_eq!(back.filter, "a b&c");
        assert_eq!(
            back.selected,
            [1].into(),
            "a row without a value cannot be named, so it is not kept"
        );
        assert_eq!(back.column_filters, ["", ">1", ""]);
        assert_eq!(back.hidden, [2].into());
        assert_eq!(back.density, Density::Comfortable);
        assert_eq!(
            (back.pinned, GridState::from_query(&data, "pin=gone").pinned),
            (Some(1), None)
        );
        assert_eq!(
            GridState::from_query(&data, "density=huge").density,
            Density::Compact
        );
        assert_eq!(GridState::default().to_query(&data, ""), "");
        let past_the_end = GridState {
            selected: [1, 3, 99].into(),
            ..GridState::default()
        };
        assert_eq!(
            past_the_end.to_query(&data, ""),
            "sel=L-2",
            "rows the data no longer has are left out"
        );
        assert!(GridState::names_selection(&query) && !GridState::names_selection("?vessel=1&sel="));
        assert_eq!(
            GridState::default().to_query(&data, "?q=old&sel=L-1&page=2"),
            "page=2",
            "the grid's own parameters go"
        );
    }

    #[test]
    fn an_edited_address_never_names_what_is_not_there() {
        let data = data();
        let state = GridState::from_query(
            &data,
            "sort=missing:desc,qty:sideways,,:&hide=nope,lot&f.missing=1&sel=L-9&sel=&f.qty=%3C3",
        );
        assert_eq!(
            state.sort,
            [SortKey {
                column: 1,
                descending: false
            }]
        );
        assert_eq!(state.hidden, [0].into());
        assert!(state.selected.is_empty());
        assert_eq!(state.column_filters, ["", "<3", ""]);
        assert_eq!(
            GridState::from_query(&data, "%%%&&=="),
            GridState {
                column_filters: vec![String::new(); 3],
                ..GridState::default()
            }
        );
    }
}
