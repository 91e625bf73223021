//! Totals under the grid (folded until asked for, so a filter keystroke over a million rows
//! does not add them up): the sum, least and greatest of each shown number column over the
//! selected rows, or every row the filter shows. The arithmetic is `grid_model::totals`.

use super::format::decimal;
use super::rows_grid::Grid;
use crate::grid_model::interaction::chosen_rows;
use crate::grid_model::totals::totals;
use crate::words::{GridWord, count, fill, w};
use leptos::prelude::*;

impl Grid {
    /// The totals' fold and, while open, their table.
    pub(super) fn totals(self) -> impl IntoView {
        let open = RwSignal::new(false);
        let table = move || {
            open.get().then(|| {
                let rows = self.order.with(|order| self.selected.with(|s| chosen_rows(order, s)));
                let selected = self.selected.with(|s| !s.is_empty());
                let (labels, sums) = self.hidden.with(|h| {
                    self.data.with(|d| {
                        let sums = totals(d, &rows, h);
                        (sums.iter().map(|t| d.columns[t.column].label.clone()).collect::<Vec<_>>(), sums)
                    })
                });
                let over = match selected {
                    true => fill(GridWord::TotalsOverSelected, &[("rows", &count(rows.len()))]),
                    false => fill(GridWord::TotalsOverShown, &[("rows", &count(rows.len()))]),
                };
                if sums.is_empty() {
                    return view! { <p class="muted">{w(GridWord::TotalsNone)}</p> }.into_any();
                }
                let line = |word, value: &dyn Fn(&crate::grid_model::totals::ColumnTotal) -> Option<f64>| {
                    let cells = sums
                        .iter()
                        .map(|t| view! { <td class="num">{value(t).map(|v| decimal(v, t.decimals)).unwrap_or_default()}</td> })
                        .collect_view();
                    view! { <tr><th scope="row">{w(word)}</th>{cells}</tr> }
                };
                let some = |t: &crate::grid_model::totals::ColumnTotal, v: f64| (t.values > 0).then_some(v);
                view! {
                    <table class="totals">
                        <caption>{over}</caption>
                        <thead><tr><td></td>{labels.into_iter().map(|l| view! { <th scope="col">{l}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {line(GridWord::TotalSum, &|t| Some(t.sum))}
                            {line(GridWord::TotalMin, &|t| some(t, t.min))}
                            {line(GridWord::TotalMax, &|t| some(t, t.max))}
                        </tbody>
                    </table>
                }
                .into_any()
            })
        };
        view! {
            <details class="grid-totals" on:toggle=move |ev| open.set(is_open(&ev))>
                <summary>{w(GridWord::Totals)}</summary>
                {table}
            </details>
        }
    }
}

/// Whether the `<details>` a toggle event came from is open now.
fn is_open(ev: &web_sys::Event) -> bool {
    ev.target()
        .and_then(|t| js_sys::Reflect::get(&t, &"open".into()).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}
