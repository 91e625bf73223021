//! `LookupGrid`: one MES lookup as a virtualized, sortable, filterable, selectable grid, with a
//! distinct state for every failure. Data is rendered as text, never as HTML.

use crate::grid_model::{ColumnKind, GridData, SelectedRow, SortKey, toggle_sort};
use crate::pages::FailureView;
use crate::session::use_portal;
use leptos::ev::{KeyboardEvent, MouseEvent, PointerEvent};
use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use mes_client::{LookupDefinition, MesError, Rows, RowsTarget, SelectionMode};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Height of one row in pixels; must match `--row` in portal.css.
pub const ROW_HEIGHT: f64 = 34.0;
/// Rows rendered beyond the visible ones, above and below.
pub const BUFFER_ROWS: usize = 8;

#[derive(Clone, Debug)]
enum Load {
    Loading,
    /// Rows are showing; more may still be arriving.
    Rows(RwSignal<GridData>),
    Failed(MesError),
}

/// Where a streamed answer's rows go: the grid's data, with the page told at the first rows and
/// then at most every 100 ms (each notice re-filters and re-sorts what is in). Reading stops
/// when the data is gone (the grid was removed) or `current` says a newer request took over.
pub(crate) struct GridTarget {
    data: RwSignal<GridData>,
    /// Called once, when the first rows are in.
    first_rows: Option<Box<dyn FnOnce()>>,
    last_notice: f64,
    current: Box<dyn Fn() -> bool>,
}

impl GridTarget {
    /// Rows into `data`, for as long as it exists.
    pub(crate) fn new(data: RwSignal<GridData>) -> Self {
        Self { data, first_rows: None, last_notice: 0.0, current: Box::new(|| true) }
    }

    /// Calls `show` once, when the first rows are in.
    pub(crate) fn on_first_rows(mut self, show: impl FnOnce() + 'static) -> Self {
        self.first_rows = Some(Box::new(show));
        self
    }
}

impl RowsTarget for GridTarget {
    fn update(&mut self, decode: &mut dyn FnMut(&mut Rows)) -> bool {
        let rows = self.data.try_update_untracked(|d| {
            decode(d.rows_mut());
            d.refresh();
            d.len()
        });
        let Some(rows) = rows else { return false };
        let now = now_ms();
        if rows > 0
            && let Some(show) = self.first_rows.take()
        {
            self.last_notice = now;
            show();
        } else if now - self.last_notice > 100.0 {
            self.last_notice = now;
            self.data.notify();
        }
        (self.current)()
    }
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// A lookup grid. Fetches with the signed-in person's token and shows rows or a plain failure.
/// Rows show as soon as the first ones are decoded; the rest fill in while the answer arrives.
#[component]
pub fn LookupGrid(
    /// Which MES endpoint, columns and selection mode.
    lookup: LookupDefinition,
    /// Called with the value column of the selected rows whenever the selection changes.
    #[prop(optional)]
    on_select: Option<Callback<Vec<String>>>,
    /// Called with the selected rows (every shown column) whenever the selection changes.
    #[prop(optional)]
    on_select_rows: Option<Callback<Vec<SelectedRow>>>,
    /// Mirror the grid's state in the address bar (off when the grid is embedded in another page).
    #[prop(default = true)]
    sync_url: bool,
) -> impl IntoView {
    let portal = use_portal();
    let lookup = Arc::new(lookup);
    let load = RwSignal::new(Load::Loading);
    let attempt = RwSignal::new(0u32);
    let generation = StoredValue::new(0u64);
    let owner = Owner::current();

    let fetch = {
        let lookup = lookup.clone();
        move || {
            let lookup = lookup.clone();
            let this = generation.get_value() + 1;
            generation.set_value(this);
            if !matches!(load.get_untracked(), Load::Rows(_)) {
                load.set(Load::Loading);
            }
            let fresh = GridData::streaming(&lookup.display_columns, lookup.value_column.as_deref());
            let data = match &owner {
                Some(owner) => owner.with(|| RwSignal::new(fresh)),
                None => RwSignal::new(fresh),
            };
            // The grid shown so far (an earlier answer) gives way when the new rows arrive.
            let show = move || {
                mark("mes-lookup-first-rows");
                if let Load::Rows(old) = load.get_untracked() {
                    old.dispose();
                }
                load.set(Load::Rows(data));
            };
            spawn_local(async move {
                mark("mes-lookup-start");
                let mut target = GridTarget {
                    current: Box::new(move || generation.try_get_value() == Some(this)),
                    ..GridTarget::new(data).on_first_rows(show)
                };
                let result = portal.run_lookup(&lookup, &mut target).await;
                if generation.try_get_value() != Some(this) {
                    data.dispose();
                    return; // a newer request owns the grid
                }
                mark("mes-lookup-answer");
                match result {
                    Ok(()) => {
                        if let Some(show) = target.first_rows.take() {
                            show(); // no rows at all: the grid says so
                        }
                        data.update(GridData::set_complete);
                        attempt.set(0);
                    }
                    Err(e) => {
                        if let Load::Rows(old) = load.get_untracked() {
                            old.dispose();
                        }
                        data.dispose();
                        load.set(Load::Failed(e));
                    }
                }
            });
        }
    };
    fetch();
    let retry = Callback::new({
        let fetch = fetch.clone();
        move |()| {
            attempt.update(|a| *a += 1);
            fetch();
        }
    });

    let title = lookup.name.clone();
    let export_name = lookup.name.clone();
    let endpoint = lookup.endpoint.clone();
    let mode = lookup.selection;
    view! {
        <section class="lookup" aria-labelledby="lookup-title">
            <div class="lookup-head">
                <h1 id="lookup-title">{title}</h1>
                <span class="muted">{endpoint}</span>
                <button class="secondary reload" on:click=move |_| retry.run(()) title="Ask the MES again">"Reload rows"</button>
            </div>
            {move || match load.get() {
                Load::Loading => view! {
                    <div class="skeleton" role="status" aria-busy="true">"Loading rows from the MES…"</div>
                }.into_any(),
                Load::Failed(error) => view! {
                    <FailureView error=error retry=retry attempt=attempt.get_untracked() />
                }.into_any(),
                Load::Rows(data) => RowsGrid(RowsGridProps {
                    data,
                    mode,
                    on_select,
                    on_select_rows,
                    export_name: Some(export_name.clone()),
                    sync_url,
                }).into_any(),
            }}
        </section>
    }
}

/// A User Timing mark (visible in the browser's performance tools; `cargo xtask bench` reads
/// them): `mes-lookup-start`, `-answer` (fetched and decoded), `-ready` (grid data prepared).
fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// What the grid remembers through the address bar.
#[derive(Clone, Debug, Default, PartialEq)]
struct GridState {
    sort: Vec<SortKey>,
    filter: String,
    selected: BTreeSet<u32>,
    /// Per-column filter text, by column index.
    column_filters: Vec<String>,
    /// Hidden columns, by index.
    hidden: BTreeSet<usize>,
}

fn current_query() -> String {
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

impl GridState {
    /// `sort=ent_name:desc,ent_id:asc&q=text&sel=v1&sel=v2&f.ent_id=>10&hide=description` (column
    /// keys and value-column values, so it survives a reload of changed data).
    fn from_query(data: &GridData, query: &str) -> Self {
        let Ok(params) = web_sys::UrlSearchParams::new_with_str(query) else { return Self::default() };
        let sort = params
            .get("sort")
            .unwrap_or_default()
            .split(',')
            .filter_map(|part| {
                let (key, dir) = part.split_once(':').unwrap_or((part, "asc"));
                let column = data.columns.iter().position(|c| c.key == key)?;
                Some(SortKey { column, descending: dir == "desc" })
            })
            .collect();
        let wanted: std::collections::HashSet<String> = params.get_all("sel").iter().filter_map(|v| v.as_string()).collect();
        let selected = if wanted.is_empty() {
            BTreeSet::new()
        } else {
            (0..data.len()).filter(|&i| !data.value(i).is_empty() && wanted.contains(data.value(i))).map(|i| i as u32).collect()
        };
        let column_filters = data.columns.iter().map(|c| params.get(&format!("f.{}", c.key)).unwrap_or_default()).collect();
        let hide = params.get("hide").unwrap_or_default();
        let hidden = hide.split(',').filter_map(|key| data.columns.iter().position(|c| c.key == key)).collect();
        Self { sort, filter: params.get("q").unwrap_or_default(), selected, column_filters, hidden }
    }

    fn write_query(&self, data: &GridData) {
        let Ok(params) = web_sys::UrlSearchParams::new_with_str(&current_query()) else { return };
        let sort: Vec<String> =
            self.sort.iter().map(|k| format!("{}:{}", data.columns[k.column].key, if k.descending { "desc" } else { "asc" })).collect();
        for name in ["sort", "q", "sel", "hide"] {
            params.delete(name);
        }
        for column in &data.columns {
            params.delete(&format!("f.{}", column.key));
        }
        if !sort.is_empty() {
            params.set("sort", &sort.join(","));
        }
        if !self.filter.is_empty() {
            params.set("q", &self.filter);
        }
        for &row in &self.selected {
            if let Some(value) = ((row as usize) < data.len() && !data.value(row as usize).is_empty()).then(|| data.value(row as usize)) {
                params.append("sel", value);
            }
        }
        for (column, text) in data.columns.iter().zip(&self.column_filters) {
            if !text.trim().is_empty() {
                params.set(&format!("f.{}", column.key), text);
            }
        }
        let hidden: Vec<&str> = self.hidden.iter().filter_map(|&i| data.columns.get(i)).map(|c| c.key.as_str()).collect();
        if !hidden.is_empty() {
            params.set("hide", &hidden.join(","));
        }
        let Some(window) = web_sys::window() else { return };
        let path = window.location().pathname().unwrap_or_default();
        let query = String::from(params.to_string());
        let url = if query.is_empty() { path } else { format!("{path}?{query}") };
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    }
}

/// Offers `text` as a file download (a Blob URL clicked through a temporary link).
fn download(file: &str, text: &str) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv;charset=utf-8");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(|_| "no Blob")?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| "no object URL")?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a").map_err(|_| "no link")?.unchecked_into();
    link.set_href(&url);
    link.set_download(file);
    link.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// This grid's number for element ids (`g3-cell-…`), so several grids on one page never share
/// an id (`aria-activedescendant` names the active cell by id).
fn grid_number() -> u32 {
    static GRIDS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    GRIDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// `41000` → "41,000".
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Height the row window is computed for: the viewport's, but never more than the window's, so
/// the DOM stays bounded even when no stylesheet limits the viewport (an embedding page).
fn visible_height(el: &web_sys::HtmlElement) -> f64 {
    let window = web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(1000.0);
    f64::from(el.client_height()).min(window).max(ROW_HEIGHT)
}

/// Puts `text` on the clipboard; the outcome is reported through `notice`.
fn copy_text(text: String, notice: RwSignal<String>) {
    let Some(window) = web_sys::window() else { return };
    let promise = window.navigator().clipboard().write_text(&text);
    spawn_local(async move {
        let shown: String = if text.chars().count() > 40 { text.chars().take(40).chain(['…']).collect() } else { text };
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(_) => notice.set(format!("Copied “{shown}”")),
            Err(_) => notice.set(format!("The browser did not allow copying “{shown}”; select the text and copy it instead.")),
        }
    });
}

/// The rendered width of the header whose resize handle is `handle` (120 px if unknown).
fn header_width(handle: Option<web_sys::EventTarget>) -> i32 {
    use wasm_bindgen::JsCast;
    handle
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|e| e.parent_element())
        .and_then(|th| th.dyn_into::<web_sys::HtmlElement>().ok())
        .map_or(120, |th| th.offset_width())
}

/// Narrowest a column can be dragged to, in pixels.
const MIN_COLUMN_WIDTH: i32 = 48;

/// The grid over prepared rows: virtual scrolling, sorting, quick and per-column filters, column
/// hiding and resizing, selection, keyboard, copy cell, CSV export.
/// [`LookupGrid`] fetches and then shows this; tests and embedders can give it data directly.
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
    let mut initial = data.with_untracked(|d| GridState::from_query(d, &initial_query));
    let column_count = data.with_untracked(|d| d.columns.len());
    initial.column_filters.resize(column_count, String::new());
    let column_filters = RwSignal::new(initial.column_filters.clone());
    let active_filters = move || -> Vec<(usize, String)> {
        column_filters.with(|c| c.iter().enumerate().filter(|(_, t)| !t.trim().is_empty()).map(|(i, t)| (i, t.clone())).collect())
    };
    let sort = RwSignal::new(initial.sort.clone());
    let filter = RwSignal::new(initial.filter.clone());
    let order = RwSignal::new(Arc::new(data.with_untracked(|d| d.view_filtered(&initial.sort, &initial.filter, &active_filters()))));
    let selected = RwSignal::new(initial.selected.clone());
    let hidden = RwSignal::new(initial.hidden.clone());
    let widths = RwSignal::new(vec![None::<i32>; column_count]);
    // Selected rows named in the address bar are found once every row is in.
    Effect::new(move |resolved: Option<bool>| {
        let complete = data.with(GridData::is_complete);
        if complete && resolved != Some(true) && !initial.selected.is_empty() {
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
            data.with(|d| {
                if d.is_complete() {
                    state.write_query(d)
                }
            });
        });
    }
    let active = RwSignal::new(None::<usize>);
    let active_column = RwSignal::new(0usize);
    let notice = RwSignal::new(String::new());
    let scroll_top = RwSignal::new(0.0f64);
    let viewport_height = RwSignal::new(600.0f64);
    let viewport = NodeRef::<Div>::new();

    // Sorting or filtering starts the keyboard position afresh; rows arriving do not.
    Effect::new(move |previous: Option<(Vec<SortKey>, String, Vec<(usize, String)>)>| {
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

    let emit = move || {
        let rows: Vec<u32> = selected.with_untracked(|s| s.iter().copied().collect());
        if let Some(cb) = on_select {
            cb.run(data.with_untracked(|d| rows.iter().map(|&i| d.value(i as usize).to_owned()).collect()));
        }
        if let Some(cb) = on_select_rows {
            cb.run(data.with_untracked(|d| rows.iter().map(|&i| d.selected_row(i as usize)).collect()));
        }
    };
    let pick = {
        let emit = emit.clone();
        move |row: u32| {
            selected.update(|s| match mode {
                SelectionMode::Single => {
                    let was = s.contains(&row);
                    s.clear();
                    if !was {
                        s.insert(row);
                    }
                }
                SelectionMode::Multi => {
                    if !s.remove(&row) {
                        s.insert(row);
                    }
                }
            });
            emit();
        }
    };
    let copy_active = move || {
        let Some(pos) = active.get_untracked() else {
            notice.set("Pick a cell first (click it, or move to it with the arrow keys).".into());
            return;
        };
        let row = order.with_untracked(|o| o.get(pos).copied());
        let column = active_column.get_untracked();
        if let Some(text) =
            row.and_then(|r| data.with_untracked(|d| (column < d.columns.len()).then(|| d.cell(r as usize, column).to_owned())))
        {
            copy_text(text, notice);
        }
    };

    let window = move || {
        let order = order.get();
        let first = ((scroll_top.get() / ROW_HEIGHT) as usize).saturating_sub(BUFFER_ROWS).min(order.len());
        let count = (viewport_height.get() / ROW_HEIGHT).ceil() as usize + 2 * BUFFER_ROWS;
        let last = (first + count).min(order.len());
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
        (first..last).map(|pos| (pos, order[pos], generation)).collect::<Vec<_>>()
    };
    // The active cell is marked by one effect, not by a closure in every cell.
    let grid = grid_number();
    Effect::new(move |previous: Option<Option<String>>| {
        let id = active.get().map(|pos| format!("g{grid}-cell-{pos}-{}", active_column.get()));
        let document = web_sys::window().and_then(|w| w.document());
        if let (Some(document), Some(Some(old))) = (&document, &previous)
            && let Some(cell) = document.get_element_by_id(old)
        {
            let _ = cell.remove_attribute("data-active");
        }
        if let (Some(document), Some(new)) = (&document, &id)
            && let Some(cell) = document.get_element_by_id(new)
        {
            let _ = cell.set_attribute("data-active", "");
        }
        id
    });

    let scroll_to = move |pos: usize| {
        if let Some(el) = viewport.get_untracked() {
            let top = pos as f64 * ROW_HEIGHT;
            let header = 2.0 * ROW_HEIGHT; // labels and column filters
            let view_h = f64::from(el.client_height());
            let current = f64::from(el.scroll_top());
            if top < current {
                el.set_scroll_top(top as i32);
            } else if top + ROW_HEIGHT * 2.0 > current + view_h - header {
                el.set_scroll_top((top + ROW_HEIGHT * 2.0 - view_h + header) as i32);
            }
            // The scroll event comes a frame later; render the new window now.
            scroll_top.set(f64::from(el.scroll_top()));
        }
    };
    // The next shown column left (-1) or right (+1) of `from`.
    let step_column = move |from: usize, right: bool| -> usize {
        hidden.with_untracked(|h| {
            let mut candidates: Box<dyn Iterator<Item = usize>> =
                if right { Box::new(from + 1..column_count) } else { Box::new((0..from).rev()) };
            candidates.find(|c| !h.contains(c)).unwrap_or(from)
        })
    };
    let on_key = {
        let pick = pick.clone();
        let emit = emit.clone();
        let copy_active = copy_active.clone();
        move |ev: KeyboardEvent| {
            // Keys typed into a column filter are text, not grid navigation.
            use wasm_bindgen::JsCast;
            if ev.target().is_some_and(|t| t.dyn_ref::<web_sys::HtmlInputElement>().is_some()) {
                return;
            }
            let len = order.with_untracked(|o| o.len());
            if len == 0 {
                return;
            }
            let page = ((viewport_height.get_untracked() / ROW_HEIGHT) as usize).saturating_sub(2).max(1);
            let current = active.get_untracked();
            let next = match ev.key().as_str() {
                "ArrowDown" => Some(current.map_or(0, |a| (a + 1).min(len - 1))),
                "ArrowUp" => Some(current.map_or(0, |a| a.saturating_sub(1))),
                "PageDown" => Some(current.map_or(0, |a| (a + page).min(len - 1))),
                "PageUp" => Some(current.map_or(0, |a| a.saturating_sub(page))),
                "Home" => Some(0),
                "End" => Some(len - 1),
                "ArrowLeft" | "ArrowRight" => {
                    active_column.update(|c| *c = step_column(*c, ev.key() == "ArrowRight"));
                    Some(current.unwrap_or(0))
                }
                "c" | "C" if ev.ctrl_key() || ev.meta_key() => {
                    ev.prevent_default();
                    copy_active();
                    None
                }
                "Enter" | " " => {
                    if let Some(pos) = current {
                        ev.prevent_default();
                        pick(order.with_untracked(|o| o[pos]));
                    }
                    None
                }
                "Escape" => {
                    selected.set(BTreeSet::new());
                    emit();
                    None
                }
                _ => None,
            };
            if let Some(pos) = next {
                ev.prevent_default();
                active.set(Some(pos));
                scroll_to(pos);
            }
        }
    };

    let total = move || data.with(GridData::len);
    let complete = move || data.with(GridData::is_complete);
    let status = move || {
        let (shown, total) = (order.with(|o| o.len()), total());
        let chosen = selected.with(|s| s.len());
        let rows = match (complete(), shown == total) {
            (false, true) => format!("{} rows so far…", grouped(total)),
            (false, false) => format!("{} of {} rows so far match…", grouped(shown), grouped(total)),
            (true, true) => format!("{} rows", grouped(total)),
            (true, false) => format!("{} of {} rows match", grouped(shown), grouped(total)),
        };
        if chosen > 0 { format!("{rows} · {} selected", grouped(chosen)) } else { rows }
    };
    let columns = data.with_untracked(|d| d.columns.clone());
    let column_style = move |i: usize| widths.with(|w| w[i].map(|px| format!("{px}px")));
    let headers = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let label = column.label.clone();
            let key = column.key.clone();
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
            // Drag (pointer) or arrow keys on the handle; the header itself stays a sort button.
            let drag = StoredValue::new(None::<(i32, i32)>);
            let resize_label = format!("Resize column {label}");
            view! {
                <th role="columnheader" scope="col" aria-sort=aria title=format!("{key} — click to sort, shift-click to add")
                    class:hidden=move || hidden.with(|h| h.contains(&i))
                    style:width=move || column_style(i) style:min-width=move || column_style(i) style:max-width=move || column_style(i)
                    on:click=move |ev: MouseEvent| sort.update(|s| *s = toggle_sort(s, i, ev.shift_key()))>
                    {label}<span class="sort" aria-hidden="true">{mark}</span>
                    <span class="resize" role="separator" aria-orientation="vertical" tabindex="0" aria-label=resize_label
                        aria-valuenow=move || widths.with(|w| w[i]) title="Drag, or use the arrow keys, to change the width"
                        on:click=|ev: MouseEvent| ev.stop_propagation()
                        on:pointerdown=move |ev: PointerEvent| {
                            use wasm_bindgen::JsCast;
                            ev.stop_propagation();
                            ev.prevent_default();
                            drag.set_value(Some((ev.client_x(), widths.with_untracked(|w| w[i]).unwrap_or_else(|| header_width(ev.target())))));
                            if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                                let _ = el.set_pointer_capture(ev.pointer_id());
                            }
                        }
                        on:pointermove=move |ev: PointerEvent| if let Some((x, width)) = drag.get_value() {
                            widths.update(|w| w[i] = Some((width + ev.client_x() - x).max(MIN_COLUMN_WIDTH)));
                        }
                        on:pointerup=move |_| drag.set_value(None)
                        on:pointercancel=move |_| drag.set_value(None)
                        on:keydown=move |ev: KeyboardEvent| {
                            let delta = match ev.key().as_str() { "ArrowLeft" => -16, "ArrowRight" => 16, _ => return };
                            ev.stop_propagation();
                            ev.prevent_default();
                            let now = widths.with_untracked(|w| w[i]).unwrap_or_else(|| header_width(ev.target()));
                            widths.update(|w| w[i] = Some((now + delta).max(MIN_COLUMN_WIDTH)));
                        }></span>
                </th>
            }
        })
        .collect_view();
    let filter_cells = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let label = format!("Filter {}", column.label);
            let hint = if column.kind == ColumnKind::Number { ">10, <=5, 10..20" } else { "text, or >2026-03" };
            view! {
                <th class:hidden=move || hidden.with(|h| h.contains(&i))>
                    <input type="text" class="column-filter" size="4" aria-label=label placeholder=hint
                        prop:value=move || column_filters.with(|c| c[i].clone())
                        on:input=move |ev| column_filters.update(|c| c[i] = event_target_value(&ev)) />
                </th>
            }
        })
        .collect_view();
    let column_menu = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let label = column.label.clone();
            view! {
                <label><input type="checkbox" prop:checked=move || !hidden.with(|h| h.contains(&i))
                    on:change=move |_| hidden.update(|h| if !h.remove(&i) { h.insert(i); }) />" "{label}</label>
            }
        })
        .collect_view();
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

    view! {
        <div class="grid-tools">
            <input type="search" placeholder="Filter rows…" aria-label="Filter rows"
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev)) />
            <details class="columns"><summary>"Columns"</summary><div class="column-menu">{column_menu}</div></details>
            <button class="secondary copy-cell" on:click=move |_| copy_active() title="The highlighted cell (Ctrl+C in the grid)">"Copy cell"</button>
            <button class="secondary export" on:click=export title="The rows that match the filter, in the order shown">"Export CSV"</button>
        </div>
        <p class="grid-status" role="status" aria-live="polite">{status}<span class="grid-notice">{move || notice.get()}</span></p>
        {move || (complete() && total() == 0).then(|| view! { <div class="state" role="status"><h2>"No rows"</h2><p>"The MES answered with an empty list for this lookup."</p></div> })}
        // Overflow and a height limit are set here too, so the grid scrolls (and stays bounded)
        // inside pages that do not load portal.css.
        <div class="grid-viewport" node_ref=viewport style:overflow="auto" style:max-height="min(70vh, 40rem)"
            on:scroll=move |_| if let Some(el) = viewport.get_untracked() {
                scroll_top.set(f64::from(el.scroll_top()));
                viewport_height.set(visible_height(&el));
            }>
            <table class="grid" role="grid" tabindex="0" aria-multiselectable=aria_multi
                aria-rowcount=move || order.with(|o| o.len()) + 1 aria-colcount=column_count
                aria-activedescendant=move || active.get().map(|p| format!("g{grid}-cell-{p}-{}", active_column.get()))
                on:keydown=on_key>
                <thead><tr role="row" aria-rowindex="1">{headers}</tr><tr class="filters">{filter_cells}</tr></thead>
                <tbody>
                    <tr class="spacer" aria-hidden="true"><td colspan=column_count style:height=top_space></td></tr>
                    // Rows carry the hidden-columns generation in their key: hiding a column
                    // renders the rows again, so a cell needs no reactive code of its own.
                    <For each=visible key=|item| *item let:item>
                        {
                            let (pos, row, _) = item;
                            let active_now = active.with_untracked(|a| *a == Some(pos)).then(|| active_column.get_untracked());
                            let shown: Vec<(usize, String, bool)> = data.with_untracked(|d| {
                                hidden.with_untracked(|h| {
                                    (0..column_count.min(d.columns.len()))
                                        .filter(|i| !h.contains(i))
                                        .map(|i| (i, d.cell(row as usize, i).to_owned(), d.columns[i].kind == ColumnKind::Number))
                                        .collect()
                                })
                            });
                            let cells = shown.into_iter().map(|(i, text, number)| {
                                let class = number.then_some("num");
                                view! {
                                    <td role="gridcell" id=format!("g{grid}-cell-{pos}-{i}") aria-colindex=i + 1 class=class
                                        data-active=(active_now == Some(i)).then_some("")
                                        on:click=move |_| active_column.set(i)
                                        title=text.clone()>{text.clone()}</td>
                                }
                            }).collect_view();
                            let pick = pick.clone();
                            view! {
                                <tr role="row" id=format!("g{grid}-row-{pos}") aria-rowindex=pos + 2
                                    aria-selected=move || selected.with(|s| s.contains(&row)).to_string()
                                    class:active=move || active.get() == Some(pos)
                                    on:click=move |_| { active.set(Some(pos)); pick(row); }>
                                    {cells}
                                </tr>
                            }
                        }
                    </For>
                    <tr class="spacer" aria-hidden="true"><td colspan=column_count style:height=bottom_space></td></tr>
                </tbody>
            </table>
        </div>
    }
}
