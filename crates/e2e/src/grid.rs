//! The lookup grid as the tests see it — a page object: where its parts are (`ROWS`, `HEADERS`,
//! `STATUS`, from [`crate::selectors`]), and what a test waits for, reads or does there, so a
//! change to the grid's markup is one change here rather than one per test.

use crate::{text_of, wait_for};
use anyhow::{Result, anyhow};
use fantoccini::Client;
use fantoccini::elements::Element;

pub use crate::selectors::{HEADERS, QUICK_FILTER, ROWS, STATUS, VIEWPORT};

/// Waits until the grid shows rows; the first one.
pub async fn wait_for_rows(client: &Client) -> Result<Element> {
    wait_for(client, ROWS).await
}

/// The status line's text.
pub async fn status(client: &Client) -> Result<String> {
    text_of(client, STATUS).await
}

/// Texts of the rendered grid cells, row by row.
pub async fn rows(client: &Client) -> Result<Vec<Vec<String>>> {
    let script = format!(
        "return [...document.querySelectorAll('{ROWS}')].map(r => [...r.cells].map(c => c.textContent));"
    );
    let value = client.execute(&script, vec![]).await?;
    serde_json::from_value(value).map_err(|e| anyhow!("grid rows: {e}"))
}

#[cfg(test)]
mod tests {
    use crate::selectors::*;

    #[test]
    fn every_selector_fits_in_a_quoted_script_string() {
        for selector in [ROWS, HEADERS, STATUS, VIEWPORT, QUICK_FILTER] {
            assert!(!selector.contains(['\'', '\\', '\n']), "{selector}");
            assert!(in_script("return SEL;").contains(selector));
        }
    }
}
