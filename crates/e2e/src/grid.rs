//! The lookup grid as the tests see it — a page object in the shape of leptos's e2e fixtures:
//! where its parts are (`ROWS`, `HEADERS`, `STATUS`, from [`crate::selectors`]), what a test
//! waits for and reads there (`wait_for_rows`, `rows`, `status`, `selected`) and what it does
//! (`filter`, `sort_by`, `pick`), so a change to the grid's markup is one change here rather
//! than one per test.

use crate::{click, text_of, wait_for, wait_until};
use anyhow::{Result, anyhow};
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};

pub use crate::selectors::{HEADERS, QUICK_FILTER, ROWS, SELECTED_ROWS, STATUS, VIEWPORT};

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

/// How many MES answers the grids of this page have taken in whole (the portal's
/// `mes-lookup-answer` User Timing marks).
pub async fn answers(client: &Client) -> Result<u64> {
    let count = client
        .execute(
            "return performance.getEntriesByName('mes-lookup-answer').length",
            vec![],
        )
        .await?;
    Ok(count.as_u64().unwrap_or(0))
}

/// Presses the grid's Reload and waits until the MES's new answer is in whole, or the grid shows
/// a state instead (a failure, a renewal): the old rows stay while it loads, so rows alone would
/// not say the new answer came.
pub async fn reload(client: &Client) -> Result<()> {
    let before = answers(client).await?;
    click(client, "button.reload").await?;
    wait_until("the grid's new answer, or a state in its place", || async {
        Ok(answers(client).await? > before || client.find(Locator::Css("[data-state]")).await.is_ok())
    })
    .await
}

/// Types `text` into the quick filter (after what is there).
pub async fn filter(client: &Client, text: &str) -> Result<()> {
    wait_for(client, QUICK_FILTER).await?.send_keys(text).await?;
    Ok(())
}

/// Clicks the header of column `column` (from 0): sorts by it, or turns its order round.
pub async fn sort_by(client: &Client, column: usize) -> Result<()> {
    let header = format!("{HEADERS}:nth-child({})", column + 1);
    click(client, &header).await?;
    Ok(())
}

/// Clicks the shown row at `position` (from 0, among the rendered rows): selects it.
pub async fn pick(client: &Client, position: usize) -> Result<()> {
    let rows = client.find_all(Locator::Css(ROWS)).await?;
    let row = rows
        .get(position)
        .ok_or_else(|| anyhow!("no row {position} among {} shown", rows.len()))?;
    row.click().await?;
    Ok(())
}

/// The first cell's text of each selected row, once at least one is selected.
pub async fn selected(client: &Client) -> Result<Vec<String>> {
    wait_for(client, SELECTED_ROWS).await?;
    let script =
        format!("return [...document.querySelectorAll('{SELECTED_ROWS}')].map(r => r.cells[0].textContent);");
    let value = client.execute(&script, vec![]).await?;
    serde_json::from_value(value).map_err(|e| anyhow!("selected rows: {e}"))
}

#[cfg(test)]
mod tests {
    use crate::selectors::*;

    #[test]
    fn every_selector_fits_in_a_quoted_script_string() {
        for selector in [ROWS, SELECTED_ROWS, HEADERS, STATUS, VIEWPORT, QUICK_FILTER] {
            assert!(!selector.contains(['\'', '\\', '\n']), "{selector}");
            assert!(in_script("return SEL;").contains(selector));
        }
    }
}
