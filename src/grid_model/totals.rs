//! Totals under the grid: the sum, the least and the greatest value of each shown number column,
//! over the rows asked for (the selected rows, or every row the filter shows). Cells are summed
//! as the MES wrote them, so the totals show as many decimals as the values have.

use super::{ColumnKind, GridData};
use std::collections::BTreeSet;

/// One number column's totals.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnTotal {
    /// The shown column (an index into `GridData::columns`).
    pub column: usize,
    /// How many of the rows hold a number there (empty cells are left out).
    pub values: usize,
    /// The sum.
    pub sum: f64,
    /// The least value.
    pub min: f64,
    /// The greatest value.
    pub max: f64,
    /// The most decimals among the values (at most 6): what the totals are shown with.
    pub decimals: u32,
}

/// Digits after the decimal point in a number as written (`12.50` → 2, `3e2` → 0).
fn decimals_of(text: &str) -> u32 {
    text.split_once('.')
        .map_or(0, |(_, fraction)| {
            fraction.bytes().take_while(u8::is_ascii_digit).count() as u32
        })
        .min(6)
}

/// The totals of every shown (not `hidden`) number column over `rows`, but the lookup's key.
pub fn totals(data: &GridData, rows: &[u32], hidden: &BTreeSet<usize>) -> Vec<ColumnTotal> {
    data.shown_columns(hidden)
        .filter(|&c| data.columns[c].kind == ColumnKind::Number)
        // The lookup's key (its value column) is a number to name a row, not to add up.
        .filter(|&c| {
            data.value_column
                .as_deref()
                .is_none_or(|key| !data.columns[c].key.eq_ignore_ascii_case(key))
        })
        .map(|column| {
            let mut total = ColumnTotal {
                column,
                values: 0,
                sum: 0.0,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
                decimals: 0,
            };
            for &row in rows {
                let text = data.cell(row as usize, column);
                if let Ok(value) = text.parse::<f64>() {
                    total.values += 1;
                    total.sum += value;
                    total.min = total.min.min(value);
                    total.max = total.max.max(value);
                    total.decimals = total.decimals.max(decimals_of(text));
                }
            }
            total
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mes_client::Rows;

    #[test]
    fn sums_least_and_greatest_of_the_rows_asked_with_their_decimals() {
        let data = GridData::new(
            Rows::from_json(
                br#"[{"lot":"A","qty":1.5,"cost":10,"n":null},{"lot":"B","qty":-0.25,"cost":3,"n":null},{"lot":"C","qty":2,"cost":null,"n":null}]"#,
            )
            .expect("rows"),
            &[],
            None,
        );
        let all = totals(&data, &[0, 1, 2], &BTreeSet::new());
        let qty = &all[0];
        assert_eq!(
            (qty.column, qty.values, qty.sum, qty.min, qty.max, qty.decimals),
            (1, 3, 3.25, -0.25, 2.0, 2)
        );
        let cost = &all[1];
        assert_eq!(
            (cost.values, cost.sum, cost.min, cost.max, cost.decimals),
            (2, 13.0, 3.0, 10.0, 0)
        );
        assert_eq!(
            all.len(),
            2,
            "text columns and columns with no number have no totals"
        );
        let picked = totals(&data, &[1], &BTreeSet::from([2]));
        assert_eq!(picked.len(), 1, "a hidden column has none");
        assert_eq!((picked[0].sum, picked[0].values), (-0.25, 1));
        let keyed = GridData::new(
            Rows::from_json(br#"[{"ent_id":7,"qty":1}]"#).expect("rows"),
            &[],
            Some("ent_id"),
        );
        assert_eq!(
            totals(&keyed, &[0], &BTreeSet::new())[..].len(),
            1,
            "no total of the key"
        );
        assert_eq!(decimals_of("1e-3"), 0);
        assert_eq!(decimals_of("0.1234567"), 6);
    }
}
