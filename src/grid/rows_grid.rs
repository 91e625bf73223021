//! [`RowsGrid`]: the grid over rows already in (or arriving): virtual scrolling, sorting, quick
//! and per-column filters, column hiding and resizing, selection, keyboard, copy cell, CSV
//! export, and the state mirrored in the address bar.

use super::browser::{
    clicked_column, column_width, copy_text, download, filter_input, grid_number, mark_active, title_if_cut,
    visible_height,
};
use super::format;
use super::header::{ColumnMenu, FilterCells, HeaderCells, MIN_COLUMN_WIDTH};
use crate::grid_model::interaction::{
    KeyAction, KeyContext, filter_key, key_action, page_rows, pick, row_window, scroll_to_show, status_line,
    step_column,
};
use crate::grid_model::{GridData, GridState, ROW_HEIGHT, SelectedRow, SortKey, toggle_sort};
use crate::nav::{query as current_query, replace_query};
use crate::words::{GridWord, fill, w};
use leptos::ev::KeyboardEvent;
use leptos::html::{Div, Table};
use leptos::prelude::*;
use mes_client::SelectionMode;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What the shown rows are chosen by: sort keys, the quick filter, the column filters.
type Criteria = (Vec<SortKey>, String, Vec<(usize, String)>);

/// The grid over prepared rows. [`super::LookupGrid`] fetches and then shows this; tests and
/// embedders (`mountRowsGrid`) give it data directly.
#[component]
pub fn RowsGrid(
    /// The rows to show; they may still be arriving (see [`GridData::is_complete`]).
    data: RwSignal<GridData>,
    /// Single or multi selection.
    mode: SelectionMode,
    /// Receives the value column of the selected rows on every change.
    #[prop(optional)]
    on_select: Option<Callback<Vec<String>>>,
    /// Receives the selected rows (every shown column) on every change.
    #[prop(optional)]
    on_select_rows: Option<Callback<Vec<SelectedRow>>>,
    /// Name of the exported CSV file, without `.csv`.
    #[prop(optional, into)]
    export_name: Option<String>,
    /// Mirror sort, filters, hidden columns and selection in the page's query string (`sort`, `q`,
    /// `f.<column>`, `hide`, `sel`), so a reload or a sign-in round trip comes back to the same
    /// grid. Off for embedded grids.
    #[prop(optional)]
    sync_url: bool,
) -> impl IntoView {
    let initial_query = if sync_url { current_query() } else { String::new() };
    let initial = data.with_untracked(|d| GridState::from_query(d, &initial_query));
    let columns = data.with_untracked(|d| d.columns.clone());
    let columns_for_keys = columns.clone();
    let column_count = columns.len();
    let column_filters = RwSignal::new(initial.column_filters.clone());
    let active_filters = move || -> Vec<(usize, String)> {
        column_filters.with(|c| {
            c.iter()
                .enumerate()
                .filter(|(_, t)| !t.trim().is_empty())
                .map(|(i, t)| (i, t.clone()))
                .collect()
        })
    };
    let sort = RwSignal::new(initial.sort.clone());
    let filter = RwSignal::new(initial.filter.clone());
    let order =
        RwSignal::new(Arc::new(data.with_untracked(|d| {
            d.view_filtered(&initial.sort, &initial.filter, &active_filters())
        })));
    let selected = RwSignal::new(initial.selected.clone());
    let hidden = RwSignal::new(initial.hidden.clone());
    let widths = RwSignal::new(vec![None::<i32>; column_count]);
    let grid = grid_number();
    let active = RwSignal::new(None::<usize>);
    let active_column = RwSignal::new(0usize);
    // The keyboard position is in the header row (sorting by keyboard), not a body row.
    let in_header = RwSignal::new(false);
    // The element `aria-activedescendant` names: a header cell or a body cell.
    let active_id = move || {
        if in_header.get() {
            Some(format!("g{grid}-col-{}", active_column.get()))
        } else {
            active
                .get()
                .map(|pos| format!("g{grid}-cell-{pos}-{}", active_column.get()))
        }
    };
    let notice = RwSignal::new(String::new());
    let scroll_top = RwSignal::new(0.0f64);
    let viewport_height = RwSignal::new(600.0f64);
    let viewport = NodeRef::<Div>::new();
    let table = NodeRef::<Table>::new();

    // Selected rows named in the address bar are found once every row is in.
    let wanted_selection = GridState::names_selection(&initial_query);
    Effect::new(move |resolved: Option<bool>| {
        let complete = data.with(GridData::is_complete);
        if complete && resolved != Some(true) && wanted_selection {
            selected.set(data.with_untracked(|d| GridState::from_query(d, &initial_query).selected));
        }
        complete
    });
    if sync_url {
        Effect::new(move |_| {
            let state = GridState {
                sort: sort.get(),
                filter: filter.get(),
                selected: selected.get(),
                column_filters: column_filters.get(),
                hidden: hidden.get(),
            };
            // Not before every row is in: the selection is not known until then.
            let query = data.with(|d| d.is_complete().then(|| state.to_query(d, &current_query())));
            if let Some(query) = query {
                replace_query(&query);
            }
        });
    }
    // Sorting or filtering starts the keyboard position afresh; rows arriving do not.
    Effect::new(move |previous: Option<Criteria>| {
        let criteria = (sort.get(), filter.get(), active_filters());
        let view = data.with(|d| d.view_filtered(&criteria.0, &criteria.1, &criteria.2));
        if let Some(previous) = previous {
            if previous != criteria {
                active.set(None);
            }
            order.set(Arc::new(view));
        }
        criteria
    });
    Effect::new(move |_| {
        if let Some(el) = viewport.get() {
            viewport_height.set(visible_height(&el));
        }
    });
    // The active cell is marked by one effect, not by a closure in every cell.
    Effect::new(move |previous: Option<Option<String>>| {
        let id = active_id();
        if let Some(Some(old)) = &previous {
            mark_active(table.get().map(web_sys::Element::from).as_ref(), old, false);
        }
        if let Some(new) = &id {
            mark_active(table.get().map(web_sys::Element::from).as_ref(), new, true);
        }
        id
    });

    let emit = move || {
        let rows: Vec<u32> = selected.with_untracked(|s| s.iter().copied().collect());
        if let Some(cb) = on_select {
            cb.run(data.with_untracked(|d| rows.iter().map(|&i| d.value(i as usize).to_owned()).collect()));
        }
        if let Some(cb) = on_select_rows {
            cb.run(data.with_untracked(|d| rows.iter().map(|&i| d.selected_row(i as usize)).collect()));
        }
    };
    let pick_row = move |row: u32| {
        selected.update(|s| pick(s, row, mode));
        emit();
    };
    let copy_active = move || {
        let Some(pos) = active.get_untracked() else {
            notice.set(w(GridWord::PickCellFirst).into());
            return;
        };
        let row = order.with_untracked(|o| o.get(pos).copied());
        let column = active_column.get_untracked();
        let text = row.and_then(|r| {
            data.with_untracked(|d| (column < d.columns.len()).then(|| d.cell(r as usize, column).to_owned()))
        });
        if let Some(text) = text {
            copy_text(text, notice);
        }
    };

    let window = move || {
        let order = order.get();
        let (first, last) = row_window(scroll_top.get(), viewport_height.get(), order.len());
        (first, last, order)
    };
    // Whole pixels: formatting an f64 would pull float printing into the wasm.
    let top_space = move || format!("{}px", window().0 * ROW_HEIGHT as usize);
    let bottom_space = move || {
        let (_, last, order) = window();
        format!("{}px", (order.len() - last) * ROW_HEIGHT as usize)
    };
    let hidden_generation = RwSignal::new(0u32);
    Effect::new(move |previous: Option<()>| {
        hidden.track();
        if previous.is_some() {
            hidden_generation.update(|g| *g += 1);
        }
    });
    let visible = move || {
        let (first, last, order) = window();
        let generation = hidden_generation.get();
        (first..last)
            .map(|pos| (pos, order[pos], generation))
            .collect::<Vec<_>>()
    };
    let scroll_to = move |pos: usize| {
        if let Some(el) = viewport.get_untracked()
            && let Some(top) = scroll_to_show(pos, f64::from(el.scroll_top()), f64::from(el.client_height()))
        {
            el.set_scroll_top(top as i32);
        }
        // The scroll event comes a frame later; render the new window now.
        if let Some(el) = viewport.get_untracked() {
            scroll_top.set(f64::from(el.scroll_top()));
        }
    };
    let on_key = move |ev: KeyboardEvent| {
        // Keys typed into a column filter are its text, but for the ones that leave it.
        use wasm_bindgen::JsCast;
        let rows = order.with_untracked(|o| o.len());
        if ev
            .target()
            .is_some_and(|t| t.dyn_ref::<web_sys::HtmlInputElement>().is_some())
        {
            let Some(action) = filter_key(&ev.key(), rows) else {
                return;
            };
            ev.prevent_default();
            if let Some(table) = table.get_untracked() {
                let _ = table.focus();
            }
            match action {
                KeyAction::Row(pos) => {
                    in_header.set(false);
                    active.set(Some(pos));
                    scroll_to(pos);
                }
                _ => in_header.set(true),
            }
            return;
        }
        let current = active.get_untracked();
        let header = in_header.get_untracked();
        let at = KeyContext {
            command: ev.ctrl_key() || ev.meta_key(),
            alt: ev.alt_key(),
            shift: ev.shift_key(),
            header,
            current,
            rows,
            page: page_rows(viewport_height.get_untracked()),
        };
        let Some(action) = key_action(&ev.key(), &at) else {
            return;
        };
        ev.prevent_default();
        let row = match action {
            KeyAction::Row(pos) => {
                in_header.set(false);
                pos
            }
            KeyAction::Column(right) => {
                active_column
                    .update(|c| *c = hidden.with_untracked(|h| step_column(*c, right, column_count, h)));
                if header {
                    return;
                }
                current.unwrap_or(0)
            }
            KeyAction::Header => {
                in_header.set(true);
                return;
            }
            KeyAction::Filter => {
                let column = active_column.get_untracked();
                if let Some(input) = filter_input(
                    table.get_untracked().map(web_sys::Element::from).as_ref(),
                    grid,
                    column,
                ) {
                    let _ = input.focus();
                }
                return;
            }
            KeyAction::Sort(additive) => {
                let column = active_column.get_untracked();
                sort.update(|s| *s = toggle_sort(s, column, additive));
                return;
            }
            KeyAction::Copy => return copy_active(),
            KeyAction::Pick => {
                if let Some(row) = current.and_then(|pos| order.with_untracked(|o| o.get(pos).copied())) {
                    pick_row(row);
                }
                return;
            }
            KeyAction::Clear => {
                selected.set(BTreeSet::new());
                return emit();
            }
            KeyAction::Resize(delta) => {
                let column = active_column.get_untracked();
                let now = widths
                    .with_untracked(|w| w.get(column).copied().flatten())
                    .unwrap_or_else(|| {
                        column_width(
                            table.get_untracked().map(web_sys::Element::from).as_ref(),
                            grid,
                            column,
                        )
                    });
                let width = (now + delta).max(MIN_COLUMN_WIDTH);
                widths.update(|w| w[column] = Some(width));
                let label = columns_for_keys.get(column).map_or("", |c| c.label.as_str());
                notice.set(fill(
                    GridWord::ColumnWidth,
                    &[("column", label), ("width", &width.to_string())],
                ));
                return;
            }
        };
        active.set(Some(row));
        scroll_to(row);
    };

    let total = move || data.with(GridData::len);
    let complete = move || data.with(GridData::is_complete);
    let status = move || {
        status_line(
            order.with(|o| o.len()),
            total(),
            complete(),
            selected.with(|s| s.len()),
        )
    };
    let aria_multi = (mode == SelectionMode::Multi).then_some("true");
    let export = {
        let file = format!("{}.csv", export_name.unwrap_or_else(|| "lookup".into()));
        move |_| {
            let csv = order.with_untracked(|o| data.with_untracked(|d| d.to_csv(o)));
            if let Err(why) = download(&file, &csv) {
                leptos::logging::warn!("CSV export failed: {why}");
            }
        }
    };
    let row_view = move |(pos, row, _): (usize, u32, u32)| {
        let active_now = active
            .with_untracked(|a| *a == Some(pos))
            .then(|| active_column.get_untracked());
        // In the person's locale (numbers, dates, Yes/No); copy and CSV keep the MES's text.
        let shown: Vec<(usize, String, Option<&'static str>)> = data.with_untracked(|d| {
            hidden.with_untracked(|h| {
                (0..column_count.min(d.columns.len()))
                    .filter(|i| !h.contains(i))
                    .map(|i| {
                        let cell = d.raw(row as usize, i);
                        (i, format::shown(&cell), format::class_of(&cell))
                    })
                    .collect()
            })
        });
        let cells = shown
            .into_iter()
            .map(|(i, text, class)| {
                view! {
                    <td role="gridcell" id=format!("g{grid}-cell-{pos}-{i}") aria-colindex=i + 1 class=class
                        data-active=(active_now == Some(i)).then_some("")>{text}</td>
                }
            })
            .collect_view();
        view! {
            <tr role="row" id=format!("g{grid}-row-{pos}") aria-rowindex=pos + 2
                aria-selected=move || selected.with(|s| s.contains(&row)).to_string()
                class:active=move || active.get() == Some(pos)
                on:click=move |ev| {
                    if let Some(i) = clicked_column(&ev) {
                        active_column.set(i);
                    }
                    in_header.set(false);
                    active.set(Some(pos));
                    pick_row(row);
                }>
                {cells}
            </tr>
        }
    };

    view! {
        <div class="grid-tools">
            <input type="search" placeholder=w(GridWord::FilterRows) aria-label=w(GridWord::FilterRows)
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev)) />
            <ColumnMenu columns=columns.clone() hidden=hidden />
            <button class="secondary copy-cell" on:click=move |_| copy_active() title=w(GridWord::CopyCellHint)>{w(GridWord::CopyCell)}</button>
            <button class="secondary export" on:click=export title=w(GridWord::ExportCsvHint)>{w(GridWord::ExportCsv)}</button>
        </div>
        <p class="grid-status" role="status" aria-live="polite">{status}<span class="grid-notice">{move || notice.get()}</span></p>
        {move || (complete() && total() == 0).then(|| view! { <div class="state" role="status"><h2>{w(GridWord::NoRows)}</h2><p>{w(GridWord::NoRowsText)}</p></div> })}
        // Overflow and a height limit are set here too, so the grid scrolls (and stays bounded)
        // inside pages that do not load portal.css.
        <div class="grid-viewport" node_ref=viewport style:overflow="auto" style:max-height="min(70vh, 40rem)"
            on:scroll=move |_| if let Some(el) = viewport.get_untracked() {
                scroll_top.set(f64::from(el.scroll_top()));
                viewport_height.set(visible_height(&el));
            }>
            <table class="grid" role="grid" tabindex="0" node_ref=table aria-multiselectable=aria_multi
                aria-rowcount=move || order.with(|o| o.len()) + 1 aria-colcount=column_count
                aria-activedescendant=active_id
                on:keydown=on_key>
                <thead>
                    <tr role="row" aria-rowindex="1"><HeaderCells columns=columns.clone() sort=sort hidden=hidden widths=widths grid=grid /></tr>
                    <tr class="filters"><FilterCells columns=columns filters=column_filters hidden=hidden grid=grid /></tr>
                </thead>
                // A cell whose text is cut off shows all of it as a tooltip; one listener for
                // every cell rather than a title copied into each.
                <tbody on:mouseover=|ev| title_if_cut(&ev)>
                    <tr class="spacer" aria-hidden="true"><td colspan=column_count style:height=top_space></td></tr>
                    // Rows carry the hidden-columns generation in their key: hiding a column
                    // renders the rows again, so a cell needs no reactive code of its own.
                    <For each=visible key=|item| *item children=row_view />
                    <tr class="spacer" aria-hidden="true"><td colspan=column_count style:height=bottom_space></td></tr>
                </tbody>
            </table>
        </div>
    }
}
