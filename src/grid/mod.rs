//! The lookup grid: [`LookupGrid`] fetches one MES lookup, streams its rows into a
//! [`RowsGrid`] and shows a distinct state for every failure. Data is rendered as text, never as
//! HTML.
//!
//! - `rows_grid.rs` — [`RowsGrid`]: the grid's signals, keyboard, body rows and tools.
//! - `failure.rs` — [`FailureView`]: what a failed lookup says, one view per kind of failure.
//! - `question.rs` — the question above the grid: a field per declared parameter.
//! - `header.rs` — the column headers (sort, resize), the filter row and the column menu.
//! - `browser.rs` — what the grid asks of the browser: address bar, clipboard, download, sizes.
//!
//! The arithmetic (row window, keys, selection, URL state, status line) is in
//! [`crate::grid_model`], tested natively.

pub(crate) mod browser;
mod detail;
mod failure;
mod find;
pub mod format;
mod header;
mod keys;
mod print;
mod question;
mod rows_grid;
mod totals;
mod xlsx;

pub use failure::FailureView;
pub use rows_grid::{GridLinks, RowsGrid, RowsGridProps};

use crate::grid_model::find::Find;
use crate::grid_model::links::{self, Followed};
use crate::grid_model::{GridData, SelectedRow, question as asked};
use crate::session::{Wanted, use_portal};
use crate::words::{GridWord, count, fill, w};
use leptos::prelude::*;
use leptos::task::spawn_local;
use mes_client::ask::{Answers, ParamProblem, ParamProblemKind, max_rows_for, more_rows};
use mes_client::{LookupDefinition, MesError, Rows, RowsTarget};
use question::QuestionForm;
use std::sync::Arc;

#[derive(Clone, Debug)]
enum Load {
    Loading,
    /// Rows are showing; more may still be arriving.
    Rows(RwSignal<GridData>),
    Failed(MesError),
    /// The question lacks a required value: nothing was asked.
    Unasked,
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
/// A lookup with parameters shows its question above the grid; an answer cut at the lookup's
/// row limit says so, and the person may ask for more.
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
    /// Mirror the grid's state and question in the address bar (off when the grid is embedded
    /// in another page).
    #[prop(default = true)]
    sync_url: bool,
    /// The question's values when the address does not hold them (an embedding page's
    /// `params`).
    #[prop(optional)]
    answers: Option<Answers>,
    /// What following a linked cell does when the grid does not own the address (an embedded
    /// grid shows that lookup in its place); without it, such a grid has no links.
    #[prop(optional)]
    on_link: Option<Callback<Followed>>,
    /// Rows to find (an embedding page's scans); the portal's page reads its `find` from the
    /// address.
    #[prop(optional)]
    find: Option<RwSignal<Option<Find>>>,
) -> impl IntoView {
    let lookup = Arc::new(lookup);
    let find = find
        .unwrap_or_else(|| RwSignal::new(sync_url.then(|| Find::from_query(&crate::nav::query())).flatten()));
    // The question: the address's (the portal's page) or the embedding page's.
    let first = if sync_url {
        asked::from_query(&crate::nav::query())
    } else {
        answers.unwrap_or_default()
    };
    let draft = RwSignal::new(asked::with_defaults(&lookup, first.clone()));
    let fetch = Fetch::new(lookup.clone(), first);
    let problems = fetch.problems;
    fetch.run();
    let (load, attempt) = (fetch.load, fetch.attempt);
    let (retry, ask, more) = fetch.callbacks(draft, sync_url);
    let form = (!lookup.parameters.is_empty()).then(|| {
        view! { <QuestionForm lookup=lookup.clone() draft=draft problems=problems ask=ask /> }
    });
    let (title, endpoint) = (lookup.name.clone(), lookup.endpoint.clone());
    let grid_lookup = lookup.clone();
    let links = grid_links(sync_url, on_link);
    let trail = sync_url.then(|| view! { <Trail /> });
    view! {
        <section class="lookup" aria-labelledby="lookup-title">
            <div class="lookup-head">
                <h1 id="lookup-title">{title}</h1>
                <span class="muted">{endpoint}</span>
                <button class="secondary reload" on:click=move |_| retry.run(()) title=w(GridWord::ReloadRowsHint)>{w(GridWord::ReloadRows)}</button>
            </div>
            {trail}
            {form}
            {move || match load.get() {
                Load::Loading => view! {
                    <div class="skeleton" role="status" aria-busy="true">{w(GridWord::LoadingFromMes)}</div>
                }.into_any(),
                Load::Unasked => view! { <FillIn lookup=grid_lookup.clone() problems=problems /> }.into_any(),
                Load::Failed(error) => view! {
                    <FailureView error=error retry=retry attempt=attempt.get_untracked() />
                }.into_any(),
                Load::Rows(data) => view! {
                    <CutNotice lookup=grid_lookup.clone() data=data more=more />
                    <Answer data=data lookup=grid_lookup.clone() on_select=on_select on_select_rows=on_select_rows
                        sync_url=sync_url links=links.clone() find=find />
                }.into_any(),
            }}
        </section>
    }
}

/// The answer's grid and, on the portal's page, the detail of the row picked (beside the grid,
/// or a sheet over it on a phone).
#[component]
fn Answer(
    data: RwSignal<GridData>,
    lookup: Arc<LookupDefinition>,
    on_select: Option<Callback<Vec<String>>>,
    on_select_rows: Option<Callback<Vec<SelectedRow>>>,
    sync_url: bool,
    links: Option<GridLinks>,
    find: RwSignal<Option<Find>>,
) -> impl IntoView {
    let shown = RwSignal::new(None::<u32>);
    let on_pick = sync_url.then(|| Callback::new(move |row: u32| shown.set(Some(row))));
    view! {
        <div class="answer" class:with-detail=move || shown.with(Option::is_some)>
            <div class="answer-grid">
                {RowsGrid(RowsGridProps {
                    data,
                    mode: lookup.selection,
                    on_select,
                    on_select_rows,
                    export_name: Some(lookup.name.clone()),
                    time_zone: plant_zone(&lookup),
                    sync_url,
                    links: links.clone(),
                    on_pick,
                    find: Some(find),
                })}
            </div>
            {sync_url.then(|| view! { <detail::RowDetail lookup=lookup data=data row=shown links=links /> })}
        </div>
    }
}

/// The time zone of the lookup's Web API, as config.json names it.
fn plant_zone(lookup: &LookupDefinition) -> Option<String> {
    let config = use_portal().phase.with_untracked(crate::session::Phase::config)?;
    config.web_api(&lookup.web_api)?.time_zone.clone()
}

/// config.json's links for this grid, and what following one does: the portal's page opens the
/// lookup (a new history entry, the trail grown by this page); an embedded grid calls `on_link`.
fn grid_links(sync_url: bool, on_link: Option<Callback<Followed>>) -> Option<GridLinks> {
    let portal = use_portal();
    let config = portal.phase.with_untracked(crate::session::Phase::config)?;
    let cells = Arc::new(links::resolve(&config.links, &config.lookups));
    if cells.is_empty() {
        return None;
    }
    let follow = if sync_url {
        Callback::new(move |followed: Followed| {
            let here = portal
                .route
                .with_untracked(crate::route::Route::lookup)
                .unwrap_or(0);
            portal.navigate_to(&links::follow(&followed, here, &crate::nav::query()));
        })
    } else {
        on_link?
    };
    Some(GridLinks { cells, follow })
}

/// The lookups followed to this one (the address's `trail`), each a link back.
#[component]
fn Trail() -> impl IntoView {
    let portal = use_portal();
    let steps = links::trail(&crate::nav::query());
    let names: Vec<String> = portal
        .phase
        .with_untracked(crate::session::Phase::config)
        .map(|c| c.lookups.iter().map(|l| l.name.clone()).collect())
        .unwrap_or_default();
    (!steps.is_empty()).then(|| {
        let items = (0..steps.len())
            .map(|at| {
                let (lookup, question) = &steps[at];
                let address = links::step_address(&steps, at);
                let name = names.get(*lookup).cloned().unwrap_or_else(|| lookup.to_string());
                let words = links::question_words(question);
                let text = if words.is_empty() { name } else { format!("{name} ({words})") };
                let to = address.clone();
                view! {
                    <li><a href=address on:click=move |ev| { ev.prevent_default(); portal.navigate_to(&to); }>{text}</a></li>
                }
            })
            .collect_view();
        view! { <nav class="trail" aria-label=w(GridWord::Trail)><ol>{items}</ol></nav> }
    })
}

/// Where the grid would be while the question cannot be sent: what it needs, or (for a lookup
/// without a form, given values by an embedding page) what is wrong.
#[component]
fn FillIn(lookup: Arc<LookupDefinition>, problems: RwSignal<Vec<ParamProblem>>) -> impl IntoView {
    move || {
        let found = problems.get();
        if found.is_empty() {
            view! {
                <div class="state" data-state="fill-in" role="status">
                    <h2>{w(GridWord::FillInTitle)}</h2>
                    <p>{fill(GridWord::FillInText, &[("parameters", &asked::labels(&lookup, true))])}</p>
                </div>
            }
            .into_any()
        } else if lookup.parameters.is_empty() {
            view! {
                <div class="state bad" data-state="question-problems" role="alert">
                    <h2>{w(GridWord::FixQuestion)}</h2>
                    <ul>{found.iter().map(|p| view! { <li>{asked::problem_text(&lookup, p)}</li> }).collect_view()}</ul>
                </div>
            }
            .into_any()
        } else {
            ().into_any()
        }
    }
}

/// Above a cut answer: that it is cut, what narrows it, and a way to ask for more.
#[component]
fn CutNotice(lookup: Arc<LookupDefinition>, data: RwSignal<GridData>, more: Callback<u32>) -> impl IntoView {
    move || {
        let limit = data.with(GridData::cut)?;
        let narrows = asked::labels(&lookup, false);
        let text = if narrows.is_empty() {
            w(GridWord::CutTextNoParameters).to_owned()
        } else {
            fill(GridWord::CutText, &[("parameters", &narrows)])
        };
        let next = more_rows(limit);
        Some(view! {
            <div class="state warn cut" data-state="cut" role="status">
                <h2>{fill(GridWord::CutTitle, &[("rows", &count(limit as usize))])}</h2>
                <p>{text}</p>
                <div class="actions">
                    {match next {
                        Some(rows) => view! {
                            <button class="secondary more" on:click=move |_| more.run(rows)>
                                {fill(GridWord::AskForMore, &[("rows", &count(rows as usize))])}
                            </button>
                        }.into_any(),
                        None => view! { <p class="muted">{w(GridWord::AtCeiling)}</p> }.into_any(),
                    }}
                </div>
            </div>
        })
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
    /// The question last asked (the values as typed).
    question: RwSignal<Answers>,
    /// The rows asked for: the lookup's limit, or more when the person asked.
    limit: RwSignal<u32>,
    /// What the last check of the question found.
    problems: RwSignal<Vec<ParamProblem>>,
}

impl Fetch {
    /// The requests of a grid of `lookup` whose first question is `question`.
    fn new(lookup: Arc<LookupDefinition>, question: Answers) -> Self {
        Self {
            portal: use_portal(),
            limit: RwSignal::new(lookup.row_limit()),
            lookup,
            load: RwSignal::new(Load::Loading),
            attempt: RwSignal::new(0u32),
            generation: StoredValue::new(0),
            owner: Owner::current(),
            question: RwSignal::new(question),
            problems: RwSignal::new(Vec::new()),
        }
    }

    /// What the grid's buttons do: Reload, Ask (the `draft`), and ask for more rows.
    fn callbacks(
        self,
        draft: RwSignal<Answers>,
        sync_url: bool,
    ) -> (Callback<()>, Callback<()>, Callback<u32>) {
        let (again, asker, attempt) = (self.clone(), self.clone(), self.attempt);
        let retry = Callback::new(move |()| {
            attempt.update(|a| *a += 1);
            again.run();
        });
        let ask = Callback::new(move |()| asker.ask(draft.get_untracked(), sync_url));
        let more = Callback::new(move |rows: u32| {
            self.limit.set(rows);
            self.run();
        });
        (retry, ask, more)
    }

    /// The person asks `answers`: checked, then (in the address too, as a new history entry
    /// when `sync_url`) sent with the lookup's own row limit; or the form says what is wrong.
    fn ask(&self, answers: Answers, sync_url: bool) {
        if let Err(found) = self.lookup.query(&answers) {
            self.problems.set(found);
            return;
        }
        self.problems.set(Vec::new());
        if sync_url && answers != self.question.get_untracked() {
            crate::nav::push_query(&asked::to_query(&crate::nav::query(), &answers));
        }
        self.question.set(answers);
        self.limit.set(self.lookup.row_limit());
        self.attempt.set(0);
        self.run();
    }

    /// Asks the MES again; the rows so far stay until the new ones arrive.
    fn run(&self) {
        let Self {
            portal,
            lookup,
            load,
            attempt,
            generation,
            owner,
            question,
            limit,
            problems,
        } = self.clone();
        let this = generation.get_value() + 1;
        generation.set_value(this);
        let query = match question.with_untracked(|q| lookup.query(q)) {
            Ok(query) => query,
            Err(found) => {
                // A first visit lacking a required value is a form to fill in, not a mistake.
                if found.iter().any(|p| p.kind != ParamProblemKind::Missing) {
                    problems.set(found);
                }
                if let Load::Rows(old) = load.get_untracked() {
                    old.dispose();
                }
                load.set(Load::Unasked);
                return;
            }
        };
        let limit = limit.get_untracked();
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
        let wanted = Wanted::Rows {
            max_rows: max_rows_for(limit),
        };
        spawn_local(async move {
            mark("mes-lookup-start");
            let mut target = GridTarget {
                current: Box::new(move || generation.try_get_value() == Some(this)),
                ..GridTarget::new(data).on_first_rows(show)
            };
            let result = portal.run_lookup(&lookup, &query, wanted, &mut target).await;
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
                    data.update(|d| d.set_complete_within(limit));
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
