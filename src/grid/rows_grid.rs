//! [`RowsGrid`]: the grid over rows already in (or arriving): virtual scrolling, sorting, quick
//! and per-column filters, column hiding and resizing, selection, keyboard (`keys.rs`), copy
//! cell, CSV export, and the state mirrored in the address bar.
//!
//! The grid's state is one [`Grid`] of signals (`Copy`), so the view, the effects, the keyboard
//! and each row are small functions of it rather than closures inside one component.

use super::browser::{
    clicked_column, copy_text, download, grid_number, mark_active, title_if_cut, visible_height,
};
use super::format;
use super::header::{ColumnMenu, FilterCells, HeaderCells};
use crate::grid_model::find::Find;
use crate::grid_model::interaction::{Arrived, RowsArea, RowsWindow, chosen_rows, pick, status_line};
use crate::grid_model::links::{self, CellLink, Followed};
use crate::grid_model::{Column, Density, GridData, GridState, SelectedRow, SortKey};
use crate::nav::{query as current_query, replace_query};
use crate::words::{GridWord, count, fill, w};
use leptos::html::{Div, Table};
use leptos::prelude::*;
use mes_client::SelectionMode;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Cells that lead to other lookups, and what following one does (the portal's page opens the
/// lookup; an embedded grid shows it in its place).
#[derive(Clone)]
pub struct GridLinks {
    /// config.json's links, resolved.
    pub cells: Arc<Vec<CellLink>>,
    /// Called with the link followed.
    pub follow: Callback<Followed>,
}

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
    /// Name of the exported CSV and Excel files, without `.csv` or `.xlsx`.
    #[prop(optional, into)]
    export_name: Option<String>,
    /// The plant's time zone (the Web API's): the Excel file's times are on its clock.
    #[prop(optional)]
    time_zone: Option<String>,
    /// Mirror sort, filters, hidden columns and selection in the query string (`sort`, `q`,
    /// `f.<column>`, `hide`, `sel`: a reload or a sign-in comes back to it); off when embedded.
    #[prop(optional)]
    sync_url: bool,
    /// Cells that lead to other lookups (Enter on one, or a click, follows it).
    #[prop(optional)]
    links: Option<GridLinks>,
    /// Called with the row (an index into `data`) a click, Enter or Space picks.
    #[prop(optional)]
    on_pick: Option<Callback<u32>>,
    /// A row to find (a scanned code, the address's `find`): answered once every row is in.
    #[prop(optional)]
    find: Option<RwSignal<Option<Find>>>,
) -> impl IntoView {
    let initial_query = if sync_url { current_query() } else { String::new() };
    let initial = data.with_untracked(|d| GridState::from_query(d, &initial_query));
    let g = Grid::new(data, mode, on_select, on_select_rows, &initial).with_links(links, on_pick);
    g.follow_the_address_bar(initial_query, sync_url);
    g.follow_criteria_and_marks();
    g.follow_finds(find);
    let columns = data.with_untracked(|d| d.columns.clone());
    let column_count = g.column_count;
    let no_rows = move || g.data.with(|d| d.is_complete() && d.is_empty());
    let aria_multi = (mode == SelectionMode::Multi).then_some("true");
    let name = export_name.unwrap_or_else(|| "lookup".into());
    let (hidden, viewport, table) = (g.hidden, g.viewport, g.table);
    let pinned = Memo::new(move |_| g.pinned_column());
    view! {
        {g.tools(columns.clone(), (name, time_zone), sync_url)}
        <p class="grid-status" role="status" aria-live="polite">{move || g.status()}<span class="grid-notice">{move || g.notice.get()}</span></p>
        {move || no_rows().then(|| view! { <div class="state" role="status"><h2>{w(GridWord::NoRows)}</h2><p>{w(GridWord::NoRowsText)}</p></div> })}
        // Overflow and a height limit are set here too, so the grid scrolls (and stays bounded)
        // inside pages that do not load portal.css.
        <div class="grid-viewport" node_ref=viewport style:overflow="auto" style:max-height="min(70vh, 40rem)"
            on:scroll=move |_| g.on_scroll()>
            <table class="grid" role="grid" tabindex="0" node_ref=table aria-multiselectable=aria_multi
                data-density=move || (g.density.get() == Density::Comfortable).then_some("comfortable")
                aria-rowcount=move || g.shown_rows_tracked() + 1 aria-colcount=column_count
                aria-activedescendant=move || g.active_id()
                on:keydown=move |ev| g.on_key(ev)>
                <thead>
                    <tr role="row" aria-rowindex="1"><HeaderCells columns=columns.clone() sort=g.sort hidden=hidden widths=g.widths grid=g.grid pinned=pinned /></tr>
                    <tr class="filters"><FilterCells columns=columns filters=g.column_filters hidden=hidden grid=g.grid pinned=pinned /></tr>
                </thead>
                // A cell whose text is cut off shows all of it as a tooltip; one listener for
                // every cell rather than a title copied into each.
                <tbody on:mouseover=|ev| title_if_cut(&ev)>
                    <tr class="spacer" aria-hidden="true"><td colspan=column_count style:height=move || g.space_above()></td></tr>
                    // Rows carry the hidden-columns generation in their key: hiding a column
                    // renders the rows again, so a cell needs no reactive code of its own.
                    <For each=move || g.visible_rows() key=|item| *item children=move |(pos, row, _)| g.row_view(pos, row) />
                    <tr class="spacer" aria-hidden="true"><td colspan=column_count style:height=move || g.space_below()></td></tr>
                </tbody>
            </table>
        </div>
        {g.totals()}
    }
}

/// One grid's state: the rows, what the person chose (sort, filters, hidden columns, widths,
/// selection), where the keyboard is, and the elements it needs. Signals and node refs only,
/// so it is `Copy` and every handler takes it whole.
#[derive(Clone, Copy)]
pub(super) struct Grid {
    pub(super) data: RwSignal<GridData>,
    pub(super) mode: SelectionMode,
    on_select: Option<Callback<Vec<String>>>,
    on_select_rows: Option<Callback<Vec<SelectedRow>>>,
    /// This grid's number on the page, for element ids (`g{n}-…`).
    pub(super) grid: u32,
    pub(super) column_count: usize,
    pub(super) sort: RwSignal<Vec<SortKey>>,
    pub(super) filter: RwSignal<String>,
    pub(super) column_filters: RwSignal<Vec<String>>,
    /// The shown rows (indices into `data`) in their shown order.
    pub(super) order: RwSignal<Arc<Vec<u32>>>,
    pub(super) selected: RwSignal<BTreeSet<u32>>,
    pub(super) hidden: RwSignal<BTreeSet<usize>>,
    /// Raised each time columns are hidden or shown: part of each row's key.
    hidden_generation: RwSignal<u32>,
    pub(super) widths: RwSignal<Vec<Option<i32>>>,
    /// The keyboard's row (a position in `order`) and column.
    pub(super) active: RwSignal<Option<usize>>,
    pub(super) active_column: RwSignal<usize>,
    /// The keyboard position is in the header row (sorting by keyboard), not a body row.
    pub(super) in_header: RwSignal<bool>,
    /// A short message after the status line (copied, column width).
    pub(super) notice: RwSignal<String>,
    /// The print sheet is open.
    pub(super) printing: RwSignal<bool>,
    /// An Excel file is being made.
    pub(super) exporting: RwSignal<bool>,
    /// How tall the rows are (the window and the scroll are computed in their height).
    pub(super) density: RwSignal<Density>,
    /// The column the person pinned; `None`: the first shown one.
    pub(super) pinned: RwSignal<Option<usize>>,
    scroll_top: RwSignal<f64>,
    pub(super) viewport_height: RwSignal<f64>,
    /// The viewport's whole height (it can be taller than the window).
    client_height: RwSignal<f64>,
    viewport: NodeRef<Div>,
    pub(super) table: NodeRef<Table>,
    /// Cells that lead to other lookups.
    links: StoredValue<Option<GridLinks>>,
    /// Told of each row picked.
    pub(super) on_pick: Option<Callback<u32>>,
}

impl Grid {
    fn new(
        data: RwSignal<GridData>,
        mode: SelectionMode,
        on_select: Option<Callback<Vec<String>>>,
        on_select_rows: Option<Callback<Vec<SelectedRow>>>,
        initial: &GridState,
    ) -> Self {
        let column_count = data.with_untracked(|d| d.columns.len());
        let filters = active_filters(&initial.column_filters);
        let order = data.with_untracked(|d| d.view_filtered(&initial.sort, &initial.filter, &filters));
        Self {
            data,
            mode,
            on_select,
            on_select_rows,
            grid: grid_number(),
            column_count,
            sort: RwSignal::new(initial.sort.clone()),
            filter: RwSignal::new(initial.filter.clone()),
            column_filters: RwSignal::new(initial.column_filters.clone()),
            order: RwSignal::new(Arc::new(order)),
            selected: RwSignal::new(initial.selected.clone()),
            hidden: RwSignal::new(initial.hidden.clone()),
            hidden_generation: RwSignal::new(0),
            widths: RwSignal::new(vec![None; column_count]),
            active: RwSignal::new(None),
            active_column: RwSignal::new(0),
            in_header: RwSignal::new(false),
            notice: RwSignal::new(String::new()),
            printing: RwSignal::new(false),
            exporting: RwSignal::new(false),
            density: RwSignal::new(initial.density),
            pinned: RwSignal::new(initial.pinned),
            scroll_top: RwSignal::new(0.0),
            viewport_height: RwSignal::new(600.0),
            client_height: RwSignal::new(600.0),
            viewport: NodeRef::new(),
            table: NodeRef::new(),
            links: StoredValue::new(None),
            on_pick: None,
        }
    }

    /// The tools above the grid: the quick filter, the column menu, copy, CSV and Excel export
    /// (as `name`.csv and `name`.xlsx, times on the clock of `zone`) and, on the portal's page
    /// (`page`), Print — the sheet titled `name`, opened by the button or by the browser's own
    /// print command.
    fn tools(
        self,
        columns: Vec<Column>,
        (name, zone): (String, Option<String>),
        page: bool,
    ) -> impl IntoView {
        let filter = self.filter;
        let file = format!("{name}.csv");
        let xlsx = (name.clone(), zone);
        let printing = self.printing;
        if page {
            let before = window_event_listener_untyped("beforeprint", move |_| printing.set(true));
            on_cleanup(move || before.remove());
        }
        let print = page.then(|| view! {
            <button class="secondary print" on:click=move |_| printing.set(true) title=w(GridWord::PrintHint)>{w(GridWord::Print)}</button>
        });
        let sheet = move || {
            printing
                .get()
                .then(|| view! { <super::print::PrintSheet grid=self title=name.clone() /> })
        };
        view! {
            {sheet}
            <div class="grid-tools">
                <input type="search" placeholder=w(GridWord::FilterRows) aria-label=w(GridWord::FilterRows)
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev)) />
                <ColumnMenu columns=columns hidden=self.hidden pinned=self.pinned grid=self.grid />
                <button class="secondary density" aria-pressed=move || (self.density.get() == Density::Comfortable).to_string()
                    on:click=move |_| self.toggle_density() title=w(GridWord::TallRowsHint)>{w(GridWord::TallRows)}</button>
                <button class="secondary copy-cell" on:click=move |_| self.copy_active() title=w(GridWord::CopyCellHint)>{w(GridWord::CopyCell)}</button>
                <button class="secondary copy-rows" on:click=move |_| self.copy_rows() title=w(GridWord::CopyRowsHint)>{w(GridWord::CopyRows)}</button>
                <button class="secondary export" on:click=move |_| self.export_csv(&file) title=w(GridWord::ExportCsvHint)>{w(GridWord::ExportCsv)}</button>
                <button class="secondary export-xlsx" on:click=move |_| self.export_xlsx(xlsx.0.clone(), xlsx.1.clone())
                    aria-busy=move || self.exporting.get().then_some("true") title=w(GridWord::ExportXlsxHint)>{w(GridWord::ExportXlsx)}</button>
                {print}
            </div>
        }
    }

    /// Selected rows named in the address bar are found once every row is in; with `sync_url`,
    /// the grid's state goes back into the address bar (once every row is in: the selection is
    /// not known until then).
    fn follow_the_address_bar(self, initial_query: String, sync_url: bool) {
        let data = self.data;
        if GridState::names_selection(&initial_query) {
            let selected = self.selected;
            Effect::new(move |resolved: Option<bool>| {
                let complete = data.with(GridData::is_complete);
                if complete && resolved != Some(true) {
                    selected.set(data.with_untracked(|d| GridState::from_query(d, &initial_query).selected));
                }
                complete
            });
        }
        if sync_url {
            Effect::new(move |_| {
                let state = GridState {
                    sort: self.sort.get(),
                    filter: self.filter.get(),
                    selected: self.selected.get(),
                    column_filters: self.column_filters.get(),
                    hidden: self.hidden.get(),
                    density: self.density.get(),
                    pinned: self.pinned.get(),
                };
                let query = data.with(|d| d.is_complete().then(|| state.to_query(d, &current_query())));
                if let Some(query) = query {
                    replace_query(&query);
                }
            });
        }
    }

    /// The shown rows follow the rows, sort and filters (sorting or filtering starts the
    /// keyboard position afresh; rows arriving do not); the viewport's height is measured; the
    /// active cell is marked by one effect, not by a closure in every cell; hiding a column
    /// renders the rows again.
    fn follow_criteria_and_marks(self) {
        Effect::new(move |previous: Option<Criteria>| {
            let criteria = (
                self.sort.get(),
                self.filter.get(),
                self.column_filters.with(|c| active_filters(c)),
            );
            let view = self
                .data
                .with(|d| d.view_filtered(&criteria.0, &criteria.1, &criteria.2));
            if let Some(previous) = previous {
                if previous != criteria {
                    self.active.set(None);
                }
                self.order.set(Arc::new(view));
            }
            criteria
        });
        Effect::new(move |_| {
            if let Some(el) = self.viewport.get() {
                self.viewport_height.set(visible_height(&el));
                self.client_height.set(f64::from(el.client_height()));
            }
        });
        Effect::new(move |previous: Option<Option<String>>| {
            let id = self.active_id();
            let table = self.table_element();
            if let Some(Some(old)) = &previous {
                mark_active(table.as_ref(), old, false);
            }
            if let Some(new) = &id {
                mark_active(table.as_ref(), new, true);
            }
            id
        });
        Effect::new(move |previous: Option<()>| {
            self.hidden.track();
            self.pinned.track();
            if previous.is_some() {
                self.hidden_generation.update(|g| *g += 1);
            }
        });
    }

    /// The element `aria-activedescendant` names: a header cell or a body cell.
    fn active_id(self) -> Option<String> {
        let grid = self.grid;
        let column = self.active_column.get();
        if self.in_header.get() {
            Some(format!("g{grid}-col-{column}"))
        } else {
            self.active
                .get()
                .map(|pos| format!("g{grid}-cell-{pos}-{column}"))
        }
    }

    /// The table as a DOM element (the grid finds its cells inside it, shadow root or not).
    pub(super) fn table_element(self) -> Option<web_sys::Element> {
        self.table.get_untracked().map(web_sys::Element::from)
    }

    /// How many rows are shown (filtered), untracked.
    pub(super) fn shown_rows(self) -> usize {
        self.order.with_untracked(|o| o.len())
    }

    /// The column that stays in view scrolling sideways: the pinned one if shown, else the first
    /// shown column.
    pub(super) fn pinned_column(self) -> Option<usize> {
        self.hidden.with(|h| {
            let shown = |c: &usize| !h.contains(c);
            self.pinned
                .get()
                .filter(shown)
                .or_else(|| (0..self.column_count).find(shown))
        })
    }

    /// Compact or comfortable rows, the active row kept in view.
    fn toggle_density(self) {
        self.density.update(|d| {
            *d = match d {
                Density::Compact => Density::Comfortable,
                Density::Comfortable => Density::Compact,
            }
        });
        if let Some(pos) = self.active.get_untracked() {
            self.scroll_to(pos);
        }
    }

    /// The status line: rows shown, arrived, selected (tracked).
    fn status(self) -> String {
        let selected = self.selected.with(|s| s.len());
        let arrived = self.data.with(arrived);
        status_line(
            self.shown_rows_tracked(),
            self.data.with(GridData::len),
            arrived,
            selected,
        )
    }

    fn shown_rows_tracked(self) -> usize {
        self.order.with(|o| o.len())
    }

    /// Tells the embedder which rows are selected: their values, and whole rows.
    pub(super) fn emit(self) {
        let rows: Vec<u32> = self.selected.with_untracked(|s| s.iter().copied().collect());
        if let Some(cb) = self.on_select {
            cb.run(
                self.data
                    .with_untracked(|d| rows.iter().map(|&i| d.value(i as usize).to_owned()).collect()),
            );
        }
        if let Some(cb) = self.on_select_rows {
            cb.run(
                self.data
                    .with_untracked(|d| rows.iter().map(|&i| d.selected_row(i as usize)).collect()),
            );
        }
    }

    /// Selects (or, in multi mode, toggles) a row and says so.
    pub(super) fn pick_row(self, row: u32) {
        let mode = self.mode;
        self.selected.update(|s| pick(s, row, mode));
        self.emit();
        if let Some(on_pick) = self.on_pick {
            on_pick.run(row);
        }
    }

    /// Copies the active cell's text as the MES sent it.
    pub(super) fn copy_active(self) {
        let Some(pos) = self.active.get_untracked() else {
            self.notice.set(w(GridWord::PickCellFirst).into());
            return;
        };
        let row = self.order.with_untracked(|o| o.get(pos).copied());
        let column = self.active_column.get_untracked();
        let text = row.and_then(|r| {
            self.data
                .with_untracked(|d| (column < d.columns.len()).then(|| d.cell(r as usize, column).to_owned()))
        });
        if let Some(text) = text {
            let shown: String = if text.chars().count() > 40 {
                text.chars().take(40).chain(['…']).collect()
            } else {
                text.clone()
            };
            let (done, refused) = (
                fill(GridWord::Copied, &[("text", &shown)]),
                fill(GridWord::CopyRefused, &[("text", &shown)]),
            );
            copy_text(&text, self.notice, done, refused);
        }
    }

    /// Copies the selected rows, or with none selected every shown row, in the shown order and
    /// the shown columns, with a header row, as tab-separated text (a spreadsheet pastes it as
    /// a table).
    pub(super) fn copy_rows(self) {
        let rows = self
            .order
            .with_untracked(|order| self.selected.with_untracked(|s| chosen_rows(order, s)));
        let text = self
            .hidden
            .with_untracked(|h| self.data.with_untracked(|d| d.to_tsv(&rows, h)));
        let done = match rows.len() {
            1 => w(GridWord::RowCopied).into(),
            n => fill(GridWord::RowsCopied, &[("rows", &count(n))]),
        };
        copy_text(&text, self.notice, done, w(GridWord::RowsCopyRefused).into());
    }

    /// Downloads the shown rows, in their shown order, as CSV with the MES's text.
    fn export_csv(self, file: &str) {
        let csv = self
            .order
            .with_untracked(|o| self.data.with_untracked(|d| d.to_csv(o)));
        if let Err(why) = download(file, &csv) {
            leptos::logging::warn!("CSV export failed: {why}");
        }
    }

    /// Scrolls so the row at `pos` is in view, and renders the new window now (the scroll event
    /// comes a frame later).
    pub(super) fn scroll_to(self, pos: usize) {
        let Some(el) = self.viewport.get_untracked() else {
            return;
        };
        let area = RowsArea {
            rows: self.order.with_untracked(|o| o.len()),
            row: self.density.get_untracked().row_height(),
            height: f64::from(el.client_height()),
            viewport: f64::from(el.client_height()),
        };
        if let Some(top) = area.scroll_to_show(pos, f64::from(el.scroll_top())) {
            el.set_scroll_top(top as i32);
        }
        self.scroll_top.set(f64::from(el.scroll_top()));
    }

    fn on_scroll(self) {
        if let Some(el) = self.viewport.get_untracked() {
            self.scroll_top.set(f64::from(el.scroll_top()));
            self.viewport_height.set(visible_height(&el));
            self.client_height.set(f64::from(el.client_height()));
        }
    }

    /// The rows in view (positions, spacers), and the order they are positions in.
    fn window(self) -> (RowsWindow, Arc<Vec<u32>>) {
        let order = self.order.get();
        let area = RowsArea {
            rows: order.len(),
            row: self.density.get().row_height(),
            height: self.viewport_height.get(),
            viewport: self.client_height.get(),
        };
        (area.window(self.scroll_top.get()), order)
    }

    // Whole pixels: formatting an f64 would pull float printing into the wasm.
    fn space_above(self) -> String {
        format!("{}px", self.window().0.above)
    }

    fn space_below(self) -> String {
        format!("{}px", self.window().0.below)
    }

    /// The rows to render: position, row index and the hidden-columns generation (the key).
    fn visible_rows(self) -> Vec<(usize, u32, u32)> {
        let (window, order) = self.window();
        let generation = self.hidden_generation.get();
        (window.first..window.last)
            .map(|pos| (pos, order[pos], generation))
            .collect()
    }

    /// One body row: its cells in the person's locale (numbers, dates, Yes/No; copy and CSV
    /// keep the MES's text), rendered once per key; only its selected and active marks react.
    fn row_view(self, pos: usize, row: u32) -> impl IntoView {
        let grid = self.grid;
        let active_now = self
            .active
            .with_untracked(|a| *a == Some(pos))
            .then(|| self.active_column.get_untracked());
        let pinned = untrack(|| self.pinned_column());
        type Shown = (usize, String, Option<&'static str>, Option<(Followed, String)>);
        let shown: Vec<Shown> = self.data.with_untracked(|d| {
            self.hidden.with_untracked(|h| {
                (0..self.column_count.min(d.columns.len()))
                    .filter(|i| !h.contains(i))
                    .map(|i| {
                        let cell = d.raw(row as usize, i);
                        (
                            i,
                            format::shown(&cell),
                            format::class_of(&cell),
                            self.link_at(d, row, i),
                        )
                    })
                    .collect()
            })
        });
        let cells = shown
            .into_iter()
            .map(|(i, text, class, link)| {
                let follow = self.links.with_value(|l| l.as_ref().map(|l| l.follow));
                let content = match (link, follow) {
                    (Some((followed, name)), Some(follow)) => cell_link(followed, &name, text, follow, true),
                    _ => text.into_any(),
                };
                view! {
                    <td role="gridcell" id=format!("g{grid}-cell-{pos}-{i}") aria-colindex=i + 1 class=class
                        data-active=(active_now == Some(i)).then_some("") data-pinned=(pinned == Some(i)).then_some("")>{content}</td>
                }
            })
            .collect_view();
        let (selected, active, active_column, in_header) =
            (self.selected, self.active, self.active_column, self.in_header);
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
                    self.pick_row(row);
                }>
                {cells}
            </tr>
        }
    }
}

impl Grid {
    fn with_links(self, links: Option<GridLinks>, on_pick: Option<Callback<u32>>) -> Self {
        Self {
            links: StoredValue::new(links),
            on_pick,
            ..self
        }
    }

    /// Where cell (`row`, shown column `column`) leads, with the lookup's name: `None` for a
    /// column without a link or an empty cell.
    fn link_at(self, data: &GridData, row: u32, column: usize) -> Option<(Followed, String)> {
        let key = &data.columns.get(column)?.key;
        let value = data.cell(row as usize, column);
        self.links
            .with_value(|l| links::followed(&l.as_ref()?.cells, key, value))
    }

    fn follow(self, followed: Followed) {
        if let Some(follow) = self.links.with_value(|l| l.as_ref().map(|l| l.follow)) {
            follow.run(followed);
        }
    }

    /// Follows the link of the keyboard's cell, if it has one; whether it did.
    pub(super) fn follow_active(self) -> bool {
        let Some(pos) = self.active.get_untracked() else {
            return false;
        };
        let row = self.order.with_untracked(|o| o.get(pos).copied());
        let column = self.active_column.get_untracked();
        let link = row.and_then(|row| self.data.with_untracked(|d| self.link_at(d, row, column)));
        match link {
            Some((followed, _)) => {
                self.follow(followed);
                true
            }
            None => false,
        }
    }
}

/// A linked cell's value (shown as `shown`): an `<a>` to the lookup it opens, named for screen
/// readers; a click runs `follow` instead of loading the page. In the grid (`in_grid`) it is
/// no Tab stop of its own (the grid is one; Enter on the cell follows it) and the click does not
/// pick the row.
pub(super) fn cell_link(
    followed: Followed,
    lookup: &str,
    shown: String,
    follow: Callback<Followed>,
    in_grid: bool,
) -> AnyView {
    let label = fill(GridWord::OpenLinked, &[("value", &shown), ("lookup", lookup)]);
    view! {
        <a class="cell-link" href=links::href(&followed) tabindex=in_grid.then_some("-1") aria-label=label
            on:click=move |ev| {
                ev.prevent_default();
                if in_grid {
                    ev.stop_propagation();
                }
                follow.run(followed.clone());
            }>{shown}</a>
    }
    .into_any()
}

/// How much of the answer is in, for the status line.
fn arrived(data: &GridData) -> Arrived {
    match (data.is_complete(), data.cut()) {
        (false, _) => Arrived::SoFar,
        (true, None) => Arrived::Whole,
        (true, Some(_)) => Arrived::Cut,
    }
}

/// The column filters that filter: (column, text) for each non-blank one.
fn active_filters(filters: &[String]) -> Vec<(usize, String)> {
    filters
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.trim().is_empty())
        .map(|(i, t)| (i, t.clone()))
        .collect()
}
