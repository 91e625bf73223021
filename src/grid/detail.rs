//! A row's detail: every column of the record the MES sent (the hidden and the undisplayed
//! ones too), each in the person's locale with the MES's own text a copy away, its links
//! followed from here as from the grid. Beside the grid on a wide screen; a full-screen sheet
//! on a phone, where a wide row would otherwise need sideways scrolling.

use super::format;
use super::rows_grid::{GridLinks, cell_link};
use crate::grid_model::links;
use crate::grid_model::{GridData, header_label};
use crate::words::{GridWord, fill, w};
use leptos::prelude::*;

/// The detail of the row `row` (an index into `data`) while it is `Some`; Close (or Escape)
/// sets it back to `None` and gives the keyboard back to the grid.
#[component]
pub fn RowDetail(
    data: RwSignal<GridData>,
    row: RwSignal<Option<u32>>,
    links: Option<GridLinks>,
) -> impl IntoView {
    let close_button = NodeRef::<leptos::html::Button>::new();
    let close = move || {
        row.set(None);
        give_the_keyboard_back();
    };
    // On a phone the sheet covers the grid: the keyboard goes to it.
    Effect::new(move |_| {
        if row.get().is_some()
            && is_narrow()
            && let Some(button) = close_button.get()
        {
            let _ = button.focus();
        }
    });
    move || {
        let shown = row.get()?;
        let fields = data
            .with_untracked(|d| (shown as usize) < d.len())
            .then(|| fields(data, shown, links.as_ref()))?;
        let title = data.with_untracked(|d| d.value(shown as usize).to_owned());
        Some(view! {
            <aside class="detail" data-state="row-detail" aria-labelledby="detail-title"
                on:keydown=move |ev| if ev.key() == "Escape" { ev.prevent_default(); close(); }>
                <div class="detail-head">
                    <h2 id="detail-title">{if title.is_empty() { w(GridWord::RowDetail).to_owned() } else { fill(GridWord::RowDetailOf, &[("value", &title)]) }}</h2>
                    <button class="secondary close" node_ref=close_button on:click=move |_| close()>{w(GridWord::Close)}</button>
                </div>
                <dl>{fields}</dl>
            </aside>
        })
    }
}

/// Each column of the row: its label, and its value (a link where config.json links it).
fn fields(data: RwSignal<GridData>, row: u32, links: Option<&GridLinks>) -> Vec<AnyView> {
    let cells: Vec<(String, String, String)> = data.with_untracked(|d| {
        d.rows()
            .columns()
            .iter()
            .map(|c| {
                let cell = c.cell(row as usize);
                (c.name().to_owned(), format::shown(&cell), cell.text().to_owned())
            })
            .collect()
    });
    cells
        .into_iter()
        .map(|(name, shown, text)| {
            let link = links.and_then(|l| Some((links::followed(&l.cells, &name, &text)?, l.follow)));
            let value = match link {
                Some(((followed, lookup), follow)) => cell_link(followed, &lookup, shown, follow, false),
                None => shown.into_any(),
            };
            view! { <dt>{header_label(&name)}</dt><dd data-column=name>{value}</dd> }.into_any()
        })
        .collect()
}

/// Whether the page is phone-narrow (where the detail is a sheet over the grid).
fn is_narrow() -> bool {
    web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|width| width.as_f64())
        .is_some_and(|width| width <= 800.0)
}

/// Focus back on the grid after the detail closes (the grid is the page's one table).
fn give_the_keyboard_back() {
    use wasm_bindgen::JsCast;
    let table = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("main table.grid").ok().flatten())
        .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(table) = table {
        let _ = table.focus();
    }
}
