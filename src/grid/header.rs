//! The column headers (click to sort, shift-click to add a key; a handle to resize by pointer —
//! by keyboard it is Alt+←/→ in the grid, so the handles are no Tab stops), the row of
//! per-column filters, and the menu that hides columns.

use super::browser::column_width;
use crate::grid_model::{Column, ColumnKind, SortKey, toggle_sort};
use crate::words::{GridWord, fill, w};
use leptos::ev::{MouseEvent, PointerEvent};
use leptos::prelude::*;
use std::collections::BTreeSet;

/// Narrowest a column can be made, in pixels.
pub(super) const MIN_COLUMN_WIDTH: i32 = 48;

/// The header cells: one sort button per column with its resize handle.
#[component]
pub(super) fn HeaderCells(
    columns: Vec<Column>,
    sort: RwSignal<Vec<SortKey>>,
    hidden: RwSignal<BTreeSet<usize>>,
    widths: RwSignal<Vec<Option<i32>>>,
    /// The grid's number, for the header ids (`g3-col-2`).
    grid: u32,
    /// The column that stays in view scrolling sideways.
    pinned: Memo<Option<usize>>,
) -> impl IntoView {
    let column_style =
        move |i: usize| widths.with(|w| w.get(i).copied().flatten().map(|px| format!("{px}px")));
    columns
        .into_iter()
        .enumerate()
        .map(|(i, column)| {
            let label = column.label;
            let key = column.key;
            let state = move || sort.with(|s| s.iter().position(|k| k.column == i).map(|p| (p, s[p].descending, s.len())));
            let aria = move || match state() {
                Some((_, false, _)) => "ascending",
                Some((_, true, _)) => "descending",
                None => "none",
            };
            let mark = move || match state() {
                Some((p, descending, n)) => {
                    let arrow = if descending { "▼" } else { "▲" };
                    if n > 1 { format!("{arrow}{}", p + 1) } else { arrow.to_owned() }
                }
                None => String::new(),
            };
            // A pointer drags the handle; the header itself stays a sort button.
            let drag = StoredValue::new(None::<(i32, i32)>);
            let set_width = move |width: i32| widths.update(|w| w[i] = Some(width.max(MIN_COLUMN_WIDTH)));
            view! {
                <th role="columnheader" scope="col" aria-sort=aria id=format!("g{grid}-col-{i}")
                    title=fill(GridWord::HeaderHint, &[("column", &key)])
                    class:hidden=move || hidden.with(|h| h.contains(&i))
                    data-pinned=move || (pinned.get() == Some(i)).then_some("")
                    style:width=move || column_style(i) style:min-width=move || column_style(i) style:max-width=move || column_style(i)
                    on:click=move |ev: MouseEvent| sort.update(|s| *s = toggle_sort(s, i, ev.shift_key()))>
                    {label}<span class="sort" aria-hidden="true">{mark}</span>
                    <span class="resize" aria-hidden="true" title=w(GridWord::ResizeHint)
                        on:click=|ev: MouseEvent| ev.stop_propagation()
                        on:pointerdown=move |ev: PointerEvent| {
                            use wasm_bindgen::JsCast;
                            ev.stop_propagation();
                            ev.prevent_default();
                            let handle = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
                            // The handle's header, measured where it is (a shadow root too).
                            let table = handle.as_ref().and_then(|h| h.closest("table").ok().flatten());
                            let width = widths.with_untracked(|w| w[i]).unwrap_or_else(|| column_width(table.as_ref(), grid, i));
                            drag.set_value(Some((ev.client_x(), width)));
                            if let Some(el) = handle {
                                let _ = el.set_pointer_capture(ev.pointer_id());
                            }
                        }
                        on:pointermove=move |ev: PointerEvent| if let Some((x, width)) = drag.get_value() {
                            set_width(width + ev.client_x() - x);
                        }
                        on:pointerup=move |_| drag.set_value(None)
                        on:pointercancel=move |_| drag.set_value(None)></span>
                </th>
            }
        })
        .collect_view()
}

/// The filter row: a condition per column (see [`crate::grid_model::ColumnFilter`]), reached
/// from the header row by ↓.
#[component]
pub(super) fn FilterCells(
    columns: Vec<Column>,
    filters: RwSignal<Vec<String>>,
    hidden: RwSignal<BTreeSet<usize>>,
    /// The grid's number, for the inputs' ids (`g3-filter-2`).
    grid: u32,
    /// The column that stays in view scrolling sideways.
    pinned: Memo<Option<usize>>,
) -> impl IntoView {
    columns
        .into_iter()
        .enumerate()
        .map(|(i, column)| {
            let label = fill(GridWord::FilterColumn, &[("column", &column.label)]);
            let hint = w(if column.kind == ColumnKind::Number { GridWord::FilterNumberHint } else { GridWord::FilterTextHint });
            view! {
                <th class:hidden=move || hidden.with(|h| h.contains(&i)) data-pinned=move || (pinned.get() == Some(i)).then_some("")>
                    // Not a Tab stop of its own: the grid is one, and ↓ from a column's header
                    // comes here (↑, ↓, Enter and Escape go back; grid_model::interaction).
                    <input type="text" class="column-filter" size="4" aria-label=label placeholder=hint tabindex="-1"
                        id=format!("g{grid}-filter-{i}")
                        prop:value=move || filters.with(|c| c[i].clone())
                        on:input=move |ev| filters.update(|c| c[i] = event_target_value(&ev)) />
                </th>
            }
        })
        .collect_view()
}

/// The column menu: per column a checkbox that shows or hides it and a radio button that pins
/// it (it stays in view scrolling sideways; unpinned, the first shown column does).
#[component]
pub(super) fn ColumnMenu(
    columns: Vec<Column>,
    hidden: RwSignal<BTreeSet<usize>>,
    pinned: RwSignal<Option<usize>>,
    grid: u32,
) -> impl IntoView {
    let group = format!("g{grid}-pin");
    let items = columns
        .into_iter()
        .enumerate()
        .map(|(i, column)| {
            let pin = fill(GridWord::PinColumn, &[("column", &column.label)]);
            view! {
                <div class="column-choice">
                    <label><input type="checkbox" prop:checked=move || !hidden.with(|h| h.contains(&i))
                        on:change=move |_| hidden.update(|h| if !h.remove(&i) { h.insert(i); }) />" "{column.label}</label>
                    <input type="radio" class="pin" name=group.clone() aria-label=pin.clone() title=pin
                        prop:checked=move || pinned.get() == Some(i) on:change=move |_| pinned.set(Some(i)) />
                </div>
            }
        })
        .collect_view();
    view! {
        <details class="columns"><summary>{w(GridWord::Columns)}</summary><div class="column-menu">
            <div class="column-choice legend" aria-hidden="true"><span>{w(GridWord::ColumnsShown)}</span><span>{w(GridWord::ColumnsPinned)}</span></div>
            {items}
        </div></details>
    }
}
