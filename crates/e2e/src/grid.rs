//! The lookup grid as the tests see it — a page object: where its parts are (`ROWS`, `HEADERS`,
//! `STATUS`), and what a test waits for or reads there, so a change to the grid's markup is one
//! change here rather than one per test.

use crate::{text_of, wait_for};
use anyhow::{Result, anyhow};
use fantoccini::Client;
use fantoccini::elements::Element;

/// The grid's body rows (not the spacers that stand in for rows out of view).
pub const ROWS: &str = "table.grid tbody tr[role=row]";
/// The column headers.
pub const HEADERS: &str = "table.grid thead tr[role=row] th";
/// The status line (how many rows, whether more are coming, how many are selected).
pub const STATUS: &str = ".grid-status";

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
