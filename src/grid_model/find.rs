//! A row asked for by its value in one column: a scanned code, or the address's
//! `find=<column>:<value>` (so a printed QR code holding such an address opens the row after
//! sign-in). The grid selects every row that holds exactly that value, or says it has none.

use super::GridData;
use super::query_pairs as pairs;
use mes_client::LookupDefinition;

/// A value to find in a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Find {
    /// The column, as the MES names it (case-insensitive).
    pub column: String,
    /// The exact value.
    pub value: String,
}

/// What a find came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// The rows (indexes into the data) that hold the value, in the data's order; never empty.
    Rows(Vec<u32>),
    /// No row holds it; this many rows were searched.
    Missing(usize),
    /// The answer has no such column.
    NoColumn,
}

impl Find {
    /// The address's `find=<column>:<value>`, if it has one (the value may hold `:`).
    pub fn from_query(query: &str) -> Option<Self> {
        let (_, find) = pairs(query).find(|(name, _)| name == "find")?;
        let (column, value) = find.split_once(':')?;
        (!column.is_empty() && !value.is_empty()).then(|| Self {
            column: column.to_owned(),
            value: value.to_owned(),
        })
    }

    /// Where this find is asked of `lookup` (its index `index`): the lookup's page with the
    /// value as its question where the lookup has a parameter of the column's name (so the MES
    /// narrows the answer), and the find.
    pub fn address(&self, index: usize, lookup: &LookupDefinition) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(parameter) = lookup
            .parameters
            .iter()
            .flat_map(|p| p.value_names())
            .find(|n| n.eq_ignore_ascii_case(&self.column))
        {
            query.append_pair(&format!("p.{parameter}"), &self.value);
        }
        query.append_pair("find", &format!("{}:{}", self.column, self.value));
        format!("/lookups/{index}?{}", query.finish())
    }

    /// The rows of `data` that hold exactly the value in the column (every column of the
    /// answer counts, shown or not).
    pub fn in_rows(&self, data: &GridData) -> Found {
        let Some(column) = data.rows().column(&self.column) else {
            return Found::NoColumn;
        };
        let rows: Vec<u32> = (0..data.len())
            .filter(|&row| column.cell(row).text() == self.value)
            .map(|row| row as u32)
            .collect();
        if rows.is_empty() {
            Found::Missing(data.len())
        } else {
            Found::Rows(rows)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mes_client::Rows;

    #[test]
    fn the_address_holds_the_find_and_the_question_where_the_lookup_asks_it() {
        let find = Find::from_query("?p.x=1&find=lot_no%3AL-47%3A11").expect("find");
        assert_eq!((find.column.as_str(), find.value.as_str()), ("lot_no", "L-47:11"));
        assert_eq!(Find::from_query("?find=lot_no:"), None);
        assert_eq!(Find::from_query("?find=L-4711"), None);
        let mut lookup = LookupDefinition::plain("Lots", "mes", "v3/lot/filter");
        assert_eq!(find.address(3, &lookup), "/lookups/3?find=lot_no%3AL-47%3A11");
        lookup.parameters = serde_json::from_str(r#"[{"name":"Lot_No","kind":"text"}]"#).expect("params");
        assert_eq!(
            find.address(3, &lookup),
            "/lookups/3?p.Lot_No=L-47%3A11&find=lot_no%3AL-47%3A11"
        );
    }

    #[test]
    fn every_row_with_exactly_the_value_and_nothing_else() {
        let data = GridData::new(
            Rows::from_json(
                br#"[{"lot_no":"L-1","qty":1},{"lot_no":"L-10","qty":2},{"lot_no":"L-1","qty":3}]"#,
            )
            .expect("rows"),
            &["qty".to_owned()],
            None,
        );
        let find = |column: &str, value: &str| Find {
            column: column.into(),
            value: value.into(),
        };
        assert_eq!(
            find("LOT_NO", "L-1").in_rows(&data),
            Found::Rows(vec![0, 2]),
            "shown or not"
        );
        assert_eq!(
            find("lot_no", "l-1").in_rows(&data),
            Found::Missing(3),
            "exact, case and all"
        );
        assert_eq!(
            find("lot_no", "L-").in_rows(&data),
            Found::Missing(3),
            "no prefix match"
        );
        assert_eq!(find("qty", "2").in_rows(&data), Found::Rows(vec![1]));
        assert_eq!(find("wo_id", "W-1").in_rows(&data), Found::NoColumn);
    }
}
