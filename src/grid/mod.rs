//! The lookup grid: [`LookupGrid`] fetches one MES lookup, streams its rows into a
//! [`RowsGrid`] and shows a distinct state for every failure. Data is rendered as text, never as
//! HTML.
//!
//! - `rows_grid.rs` — [`RowsGrid`]: the grid's signals, keyboard, body rows and tools.
//! - `failure.rs` — [`FailureView`]: what a failed lookup says, one view per kind of failure.
//! - `header.rs` — the column headers (sort, resize), the filter row and the column menu.
//! - `browser.rs` — what the grid asks of the browser: address bar, clipboard, download, sizes.
//!
//! The arithmetic (row window, keys, selection, URL state, status line) is in
//! [`crate::grid_model`], tested natively.

mod browser;
mod failure;
pub mod format;
mod header;
mod keys;
mod rows_grid;

pub use failure::FailureView;
pub use rows_grid::{RowsGrid, RowsGridProps};

use crate::grid_model::{GridData, SelectedRow};
use crate::session::use_portal;
use crate::words::{GridWord, w};
use leptos::prelude::*;
use leptos::task::spawn_local;
use mes_client::{LookupDefinition, MesError, Rows, RowsTarget};
use std::sync::Arc;

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
        Self {
            data,
            first_rows: None,
            last_notice: 0.0,
            current: Box::new(|| true),
        }
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
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
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
    let lookup = Arc::new(lookup);
    let load = RwSignal::new(Load::Loading);
    let attempt = RwSignal::new(0u32);
    let fetch = Fetch {
        portal: use_portal(),
        lookup: lookup.clone(),
        load,
        attempt,
        generation: StoredValue::new(0),
        owner: Owner::current(),
    };
    fetch.run();
    let retry = Callback::new(move |()| {
        attempt.update(|a| *a += 1);
        fetch.run();
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
                <button class="secondary reload" on:click=move |_| retry.run(()) title=w(GridWord::ReloadRowsHint)>{w(GridWord::ReloadRows)}</button>
            </div>
            {move || match load.get() {
                Load::Loading => view! {
                    <div class="skeleton" role="status" aria-busy="true">{w(GridWord::LoadingFromMes)}</div>
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

/// One lookup grid's requests to the MES: each `run` starts a new one, and only the newest
/// may change the grid (an older answer still arriving is dropped with its rows).
#[derive(Clone)]
struct Fetch {
    portal: crate::session::Portal,
    lookup: Arc<LookupDefinition>,
    load: RwSignal<Load>,
    attempt: RwSignal<u32>,
    /// Which request is the newest.
    generation: StoredValue<u64>,
    /// The grid's owner: rows of a request live under it, not under the request's task.
    owner: Option<Owner>,
}

impl Fetch {
    /// Asks the MES again; the rows so far stay until the new ones arrive.
    fn run(&self) {
        let Self {
            portal,
            lookup,
            load,
            attempt,
            generation,
            owner,
        } = self.clone();
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
            match result {
                Ok(()) => {
                    mark_answer(data.with_untracked(GridData::heap_bytes));
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
}

/// A User Timing mark (visible in the browser's performance tools; `cargo xtask bench` reads
/// them): `mes-lookup-start`, `-first-rows` (the first rows are in the grid), `-answer` (every
/// row is in; see [`mark_answer`]).
fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// `mes-lookup-answer`, with what the decoded rows hold in memory as its detail (`{ bytes }`).
fn mark_answer(bytes: usize) {
    use wasm_bindgen::JsCast;
    let Some(performance) = web_sys::window().and_then(|w| w.performance()) else {
        return;
    };
    let (detail, options) = (js_sys::Object::new(), js_sys::Object::new());
    let _ = js_sys::Reflect::set(
        &detail,
        &"bytes".into(),
        &wasm_bindgen::JsValue::from_f64(bytes as f64),
    );
    let _ = js_sys::Reflect::set(&options, &"detail".into(), &detail);
    // `mark(name, { detail })`: web-sys has it only behind its unstable-API flag.
    match js_sys::Reflect::get(&performance, &"mark".into()).map(|f| f.dyn_into::<js_sys::Function>()) {
        Ok(Ok(mark)) => {
            let _ = mark.call2(&performance, &"mes-lookup-answer".into(), &options);
        }
        _ => {
            let _ = performance.mark("mes-lookup-answer");
        }
    }
}

crate::on_demand::part!(
    grid,
    /// A lookup's page in the portal.
    pub fn lookup_page(lookup: mes_client::LookupDefinition) {
        view! { <LookupGrid lookup=lookup /> }.into_any()
    }
);
