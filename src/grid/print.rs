//! The print layout: the rows the grid shows — in their order, in the shown columns, formatted
//! as on screen — as one plain table whose header row is on every printed page (a `<thead>`,
//! which browsers repeat), under the lookup's name, its question, when it was printed and how
//! many rows. A virtual grid printed as it is would give only the rows on screen. The sheet
//! covers the page until closed; the print style sheet prints it alone. At most [`PRINT_MAX`]
//! rows: a longer list says on paper that it is the first part.

use super::format;
use super::rows_grid::Grid;
use crate::grid_model::links::question_words;
use crate::words::{GridWord, count, fill, w};
use leptos::html::Button;
use leptos::prelude::*;

/// The most rows a sheet holds (about a hundred pages).
pub const PRINT_MAX: usize = 5_000;

/// One printed row: each shown cell's text as on screen, and its alignment class.
type PrintedRow = Vec<(String, Option<&'static str>)>;

impl Grid {
    /// The shown columns' labels and the first [`PRINT_MAX`] shown rows, with how many are shown.
    fn printed(self) -> (Vec<String>, Vec<PrintedRow>, usize) {
        self.order.with_untracked(|order| {
            self.hidden.with_untracked(|hidden| {
                self.data.with_untracked(|d| {
                    let shown: Vec<usize> = d.shown_columns(hidden).collect();
                    let labels = shown.iter().map(|&c| d.columns[c].label.clone()).collect();
                    let rows = order
                        .iter()
                        .take(PRINT_MAX)
                        .map(|&row| {
                            shown
                                .iter()
                                .map(|&c| {
                                    let cell = d.raw(row as usize, c);
                                    (format::shown(&cell), format::class_of(&cell))
                                })
                                .collect()
                        })
                        .collect();
                    (labels, rows, order.len())
                })
            })
        })
    }
}

/// What the sheet says above the rows: the question (the address's), when, and how many rows —
/// the first part only, or the first rows of a cut answer, said as such.
fn about(grid: Grid, printed: usize, shown: usize) -> String {
    let question = question_words(&crate::nav::query());
    let when = js_sys::Date::new_0()
        .to_locale_string(crate::words::locale(), &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default();
    let mut parts = vec![fill(GridWord::PrintedAt, &[("time", &when)])];
    if !question.is_empty() {
        parts.insert(0, question);
    }
    parts.push(if printed < shown {
        fill(
            GridWord::PrintFirst,
            &[("printed", &count(printed)), ("rows", &count(shown))],
        )
    } else {
        fill(GridWord::RowsTotal, &[("rows", &count(shown))])
    });
    if let Some(limit) = grid.data.with_untracked(|d| d.cut()) {
        parts.push(fill(GridWord::CsvCut, &[("rows", &count(limit as usize))]));
    }
    parts.join(" · ")
}

/// The print sheet over the page: Print (the browser's print dialog) and Close (or Escape).
#[component]
pub(super) fn PrintSheet(grid: Grid, title: String) -> impl IntoView {
    let (labels, rows, shown) = grid.printed();
    let about = about(grid, rows.len(), shown);
    let close = move || grid.printing.set(false);
    let print = NodeRef::<Button>::new();
    Effect::new(move |_| {
        if let Some(b) = print.get() {
            let _ = b.focus();
        }
    });
    // The portal may make its content again: the sheet's texts are kept, not moved into it.
    let sheet = std::sync::Arc::new((title, about, labels, rows));
    view! {
        <leptos::portal::Portal>
            {let sheet = sheet.clone(); move || {
                let (title, about, labels, rows) = &*sheet;
                view! {
                    <div class="print-sheet" role="dialog" aria-modal="true" aria-labelledby="print-title"
                        on:keydown=move |ev| if ev.key() == "Escape" { close() }>
                        <div class="print-tools">
                            <button class="print-now" node_ref=print on:click=|_| { let _ = window().print(); }>{w(GridWord::PrintNow)}</button>
                            <button class="secondary print-close" on:click=move |_| close()>{w(GridWord::PrintClose)}</button>
                        </div>
                        <h1 id="print-title">{title.clone()}</h1>
                        <p class="print-about">{about.clone()}</p>
                        <table class="print-table">
                            <thead><tr>{labels.iter().map(|l| view! { <th scope="col">{l.clone()}</th> }).collect_view()}</tr></thead>
                            <tbody>
                                {rows.iter().map(|cells| view! {
                                    <tr>{cells.iter().map(|(text, class)| view! { <td class=*class>{text.clone()}</td> }).collect_view()}</tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
            }}
        </leptos::portal::Portal>
    }
}
