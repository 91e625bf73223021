//! What the grid asks of the browser: the clipboard, a download, element sizes, ids (the
//! address bar is `crate::nav`'s).

use crate::grid_model::ROW_HEIGHT;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

/// Offers `text` as a CSV file download.
pub(crate) fn download(file: &str, text: &str) -> Result<(), String> {
    offer(
        file,
        &wasm_bindgen::JsValue::from_str(text),
        "text/csv;charset=utf-8",
    )
}

/// Offers `content` (a string or bytes) of type `mime` as a file download (a Blob URL clicked
/// through a temporary link).
pub(super) fn offer(file: &str, content: &wasm_bindgen::JsValue, mime: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(content);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(|_| "no Blob")?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| "no object URL")?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| "no link")?
        .unchecked_into();
    link.set_href(&url);
    link.set_download(file);
    link.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// This grid's number for element ids (`g3-cell-…`), so several grids on one page never share
/// an id (`aria-activedescendant` names the active cell by id).
pub(super) fn grid_number() -> u32 {
    static GRIDS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    GRIDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The element of this grid with id `id`, looked up inside the grid's table (`grid`), so a grid
/// in a shadow root (`<mes-lookup-grid>`) finds its own elements too.
pub(super) fn by_id(grid: Option<&web_sys::Element>, id: &str) -> Option<web_sys::HtmlElement> {
    grid?.query_selector(&format!("#{id}")).ok()??.dyn_into().ok()
}

/// Marks (or unmarks) the active cell `id` of the grid's table for styling.
pub(super) fn mark_active(grid: Option<&web_sys::Element>, id: &str, active: bool) {
    let Some(cell) = by_id(grid, id) else { return };
    let _ = if active {
        cell.set_attribute("data-active", "")
    } else {
        cell.remove_attribute("data-active")
    };
}

/// Height the row window is computed for: the viewport's, but never more than the window's, so
/// the DOM stays bounded even when no stylesheet limits the viewport (an embedding page).
pub(super) fn visible_height(el: &web_sys::HtmlElement) -> f64 {
    let window = web_sys::window()
        .and_then(|w| w.inner_height().ok())
        .and_then(|h| h.as_f64())
        .unwrap_or(1000.0);
    f64::from(el.client_height()).min(window).max(ROW_HEIGHT)
}

/// Puts `text` on the clipboard; `notice` then says `done`, or `refused` when the browser
/// would not.
pub(super) fn copy_text(text: &str, notice: RwSignal<String>, done: String, refused: String) {
    let Some(window) = web_sys::window() else { return };
    let promise = window.navigator().clipboard().write_text(text);
    spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(_) => notice.set(done),
            Err(_) => notice.set(refused),
        }
    });
}

/// The cell an event happened in, if any.
fn event_cell(ev: &web_sys::Event) -> Option<web_sys::HtmlElement> {
    let target: web_sys::Element = ev.target()?.dyn_into().ok()?;
    target.closest("td[role=gridcell]").ok()??.dyn_into().ok()
}

/// The column (0-based, from `aria-colindex`) of the cell a click landed in.
pub(super) fn clicked_column(ev: &web_sys::MouseEvent) -> Option<usize> {
    let index: usize = event_cell(ev)?.get_attribute("aria-colindex")?.parse().ok()?;
    index.checked_sub(1)
}

/// Gives the cell under the pointer its whole text as a tooltip when the text is cut off (and no
/// tooltip when it fits).
pub(super) fn title_if_cut(ev: &web_sys::MouseEvent) {
    let Some(cell) = event_cell(ev) else { return };
    if cell.scroll_width() > cell.client_width() {
        cell.set_title(&cell.text_content().unwrap_or_default());
    } else {
        let _ = cell.remove_attribute("title");
    }
}

/// The rendered width of column `column` of the grid numbered `number` (its header,
/// `g{number}-col-{column}`, inside the grid's table); 120 px if it is not there.
pub(super) fn column_width(grid: Option<&web_sys::Element>, number: u32, column: usize) -> i32 {
    by_id(grid, &format!("g{number}-col-{column}")).map_or(120, |th| th.offset_width())
}

/// The filter box of column `column` of the grid numbered `number` (`g{number}-filter-{column}`).
pub(super) fn filter_input(
    grid: Option<&web_sys::Element>,
    number: u32,
    column: usize,
) -> Option<web_sys::HtmlElement> {
    by_id(grid, &format!("g{number}-filter-{column}"))
}
