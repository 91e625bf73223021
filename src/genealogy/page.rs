//! The lot genealogy page: a lot and a direction (kept in the address), the walk's tree growing
//! as each lot's call answers (three at a time, through the session like any lookup, so a
//! renewal is shared), repeats and loops marked, a missing branch said with why and asked
//! again on request, and the affected lots exported.

use super::export::{state_word, to_csv};
use crate::session::{Wanted, use_portal};
use crate::words::{TraceWord, count, fill, w};
use leptos::prelude::*;
use leptos::task::spawn_local;
use mes_client::ask::{DEFAULT_MAX_ROWS, is_cut, max_rows_for};
use mes_client::genealogy::{Direction, GenealogyDefinition, LotState, Walk};
use mes_client::{LookupDefinition, MesError, Rows};
use std::sync::Arc;

/// Calls running at once: enough to keep a slow line busy, few enough not to crowd the MES.
const AT_ONCE: usize = 3;

/// The lot and direction in the address: `?lot=…&dir=used|from`.
fn from_address() -> (String, Direction) {
    let query = crate::nav::query();
    let params = web_sys::UrlSearchParams::new_with_str(&query).ok();
    let get = |key: &str| params.as_ref().and_then(|p| p.get(key));
    let direction = get("dir")
        .as_deref()
        .and_then(Direction::from_name)
        .unwrap_or(Direction::WhereUsed);
    (get("lot").unwrap_or_default().trim().to_owned(), direction)
}

/// One walk's calls: `pump` starts calls while fewer than [`AT_ONCE`] run; each answer goes
/// into the walk and starts the next. A new walk (a new `generation`) leaves the old calls'
/// answers unread.
#[derive(Clone)]
struct Tracer {
    portal: crate::session::Portal,
    definition: Arc<GenealogyDefinition>,
    lookup: Arc<LookupDefinition>,
    walk: RwSignal<Option<Walk>>,
    /// Calls under way (read by no view).
    running: StoredValue<usize>,
    generation: StoredValue<u64>,
}

impl Tracer {
    fn start(&self, lot: &str, direction: Direction) {
        self.generation.update_value(|g| *g += 1);
        self.running.set_value(0);
        self.walk.set(Some(Walk::new(lot, direction, &self.definition)));
        self.pump();
    }

    fn pump(&self) {
        while self.running.get_value() < AT_ONCE {
            let Some(Some((node, lot))) = self.walk.try_update(|w| w.as_mut().and_then(Walk::next_to_ask))
            else {
                return;
            };
            self.running.update_value(|n| *n += 1);
            let this = self.clone();
            let generation = self.generation.get_value();
            spawn_local(async move { this.ask(node, lot, generation).await });
        }
    }

    async fn ask(self, node: usize, lot: String, generation: u64) {
        let Some(direction) = self.walk.with_untracked(|w| w.as_ref().map(|w| w.direction)) else {
            return;
        };
        let query = self.definition.query(direction, &lot);
        let mut rows = Rows::default();
        let result = self
            .portal
            .run_lookup(
                &self.lookup,
                &query,
                Wanted::Rows {
                    max_rows: max_rows_for(DEFAULT_MAX_ROWS),
                },
                &mut rows,
            )
            .await;
        if self.generation.try_get_value() != Some(generation) {
            return; // a newer walk owns the page
        }
        let definition = self.definition.clone();
        self.walk.update(|walk| {
            let Some(walk) = walk else { return };
            match result {
                Ok(()) => {
                    if is_cut(rows.len(), DEFAULT_MAX_ROWS) {
                        rows.truncate(DEFAULT_MAX_ROWS as usize);
                        walk.truncated = true;
                    }
                    walk.answered(node, &rows, &definition);
                }
                Err(e) => walk.failed(node, why(&e).to_owned()),
            }
        });
        self.running.update_value(|n| *n = n.saturating_sub(1));
        self.pump();
    }

    fn retry_missing(&self) {
        self.walk.update(|walk| {
            if let Some(walk) = walk {
                walk.retry_missing();
            }
        });
        self.pump();
    }
}

/// Why a branch is missing, in a few words (the grid's failure states say more).
fn why(error: &MesError) -> &'static str {
    match error {
        MesError::AuthorityOffline { .. } => w(TraceWord::WhyOffline),
        MesError::Unreachable { .. } => w(TraceWord::WhyUnreachable),
        MesError::Denied { .. } => w(TraceWord::WhyDenied),
        MesError::SessionExpired => w(TraceWord::WhyExpired),
        _ => w(TraceWord::WhyOther),
    }
}

/// The page.
#[component]
pub fn Genealogy(definition: GenealogyDefinition) -> impl IntoView {
    let lookup = LookupDefinition::plain(w(TraceWord::Title), &definition.web_api, &definition.endpoint);
    let tracer = Tracer {
        portal: use_portal(),
        definition: Arc::new(definition),
        lookup: Arc::new(lookup),
        walk: RwSignal::new(None),
        running: StoredValue::new(0),
        generation: StoredValue::new(0),
    };
    let (lot, direction) = from_address();
    let (typed, way, problem) = (
        RwSignal::new(lot.clone()),
        RwSignal::new(direction),
        RwSignal::new(false),
    );
    if !lot.is_empty() {
        tracer.start(&lot, direction);
    }
    let starter = tracer.clone();
    let trace = move || {
        let lot = typed.get_untracked().trim().to_owned();
        problem.set(lot.is_empty());
        if lot.is_empty() {
            return;
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("lot", &lot)
            .append_pair("dir", way.get_untracked().name())
            .finish();
        if crate::nav::query().trim_start_matches('?') != query {
            crate::nav::push_query(&query);
        }
        starter.start(&lot, way.get_untracked());
    };
    let radio = move |value: Direction, label: &'static str| {
        view! {
            <label class="choice">
                <input type="radio" name="trace-direction" value=value.name()
                    prop:checked=move || way.get() == value on:change=move |_| way.set(value) />
                {label}
            </label>
        }
    };
    view! {
        <section class="genealogy" aria-labelledby="trace-title">
            <div class="lookup-head"><h1 id="trace-title">{w(TraceWord::Title)}</h1></div>
            <p class="muted">{w(TraceWord::Intro)}</p>
            <form class="question" novalidate on:submit=move |ev| { ev.prevent_default(); trace(); }>
                <div class="fields">
                    <div class="field">
                        <label for="trace-lot">{w(TraceWord::Lot)}</label>
                        <input id="trace-lot" type="text" autocomplete="off" spellcheck="false"
                            aria-invalid=move || problem.get().then_some("true")
                            prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
                    </div>
                    <fieldset class="field directions">
                        <legend>{w(TraceWord::Direction)}</legend>
                        {radio(Direction::WhereUsed, w(TraceWord::WhereUsed))}
                        {radio(Direction::WhereFrom, w(TraceWord::WhereFrom))}
                    </fieldset>
                </div>
                <button type="submit" class="ask">{w(TraceWord::Trace)}</button>
                <div class="problems" role="alert">{move || problem.get().then(|| view! { <p>{w(TraceWord::NeedsLot)}</p> })}</div>
            </form>
            <WalkView tracer=tracer />
        </section>
    }
}

/// The walk: its summary, the tree, and what to do about missing branches.
#[component]
fn WalkView(tracer: Tracer) -> impl IntoView {
    let walk = tracer.walk;
    let retry = tracer.clone();
    let summary = move || {
        walk.with(|walk| {
            let walk = walk.as_ref()?;
            let lots = walk.affected().len();
            let generations = walk.nodes().iter().map(|n| n.generation).max().unwrap_or(0);
            let mut said = vec![if walk.is_finished() {
                fill(
                    TraceWord::Reached,
                    &[
                        ("lots", &count(lots)),
                        ("generations", &count(generations as usize)),
                    ],
                )
            } else {
                fill(TraceWord::Asking, &[("lots", &count(lots))])
            }];
            if walk.is_finished() && walk.nodes().len() == 1 && walk.missing() == 0 {
                said.push(w(TraceWord::NoLinks).to_owned());
            }
            if walk.truncated {
                said.push(fill(
                    TraceWord::Truncated,
                    &[("lots", &count(walk.nodes().len()))],
                ));
            }
            Some(said.join(" "))
        })
    };
    let missing = move || walk.with(|w| w.as_ref().map_or(0, Walk::missing));
    let export = move |_| {
        if let Some(csv) = walk.with_untracked(|w| w.as_ref().map(to_csv)) {
            let lot = walk
                .with_untracked(|w| w.as_ref().map(|w| w.nodes()[0].lot.clone()))
                .unwrap_or_default();
            let _ = crate::grid::browser::download(&format!("genealogy {lot}.csv"), &csv);
        }
    };
    view! {
        {move || summary().map(|text| view! { <p class="trace-status" role="status" data-state="trace-status">{text}</p> })}
        {move || (missing() > 0).then(|| {
            let retry = retry.clone();
            view! {
                <div class="state warn" data-state="trace-missing" role="alert">
                    <p>{fill(TraceWord::Missing, &[("branches", &count(missing()))])}</p>
                    <div class="actions"><button class="secondary retry-missing" on:click=move |_| retry.retry_missing()>{w(TraceWord::RetryMissing)}</button></div>
                </div>
            }
        })}
        {move || walk.with(|walk| walk.as_ref().map(|walk| view! {
            <div class="actions"><button class="secondary export" on:click=export>{w(TraceWord::Export)}</button></div>
            <ul class="trace">{lot_view(walk, 0)}</ul>
        }))}
    }
}

/// One lot and, under it, its next generation.
fn lot_view(walk: &Walk, index: usize) -> AnyView {
    let node = &walk.nodes()[index];
    let lot_of = |i: usize| walk.nodes().get(i).map(|n| n.lot.clone()).unwrap_or_default();
    let note = match &node.state {
        LotState::Repeat(first) => fill(TraceWord::RepeatOf, &[("lot", &lot_of(*first))]),
        LotState::Cycle(ancestor) => fill(TraceWord::LoopTo, &[("lot", &lot_of(*ancestor))]),
        LotState::TooDeep => fill(
            TraceWord::TooDeep,
            &[("generations", &count(node.generation as usize - 1))],
        ),
        LotState::Failed(why) => fill(TraceWord::MissingWhy, &[("why", why)]),
        LotState::Waiting | LotState::Asking => format!("{}…", state_word(&node.state)),
        LotState::Done => String::new(),
    };
    let state = match node.state {
        LotState::Done => "done",
        LotState::Waiting | LotState::Asking => "asking",
        LotState::Failed(_) => "missing",
        LotState::Repeat(_) => "repeat",
        LotState::Cycle(_) => "loop",
        LotState::TooDeep => "too-deep",
    };
    let work_order =
        (!node.work_order.is_empty()).then(|| fill(TraceWord::WorkOrder, &[("wo", &node.work_order)]));
    let children: Vec<AnyView> = node.children.iter().map(|&c| lot_view(walk, c)).collect();
    let line = view! {
        <span class="lot">{node.lot.clone()}</span>
        {(!node.item.is_empty()).then(|| view! { " " <span class="item">{node.item.clone()}</span> })}
        {work_order.map(|wo| view! { " " <span class="muted">{wo}</span> })}
        {(!note.is_empty()).then(|| view! { " " <span class="note">{note}</span> })}
    };
    if children.is_empty() {
        view! { <li data-lot=node.lot.clone() data-state=state data-generation=node.generation>{line}</li> }
            .into_any()
    } else {
        view! {
            <li data-lot=node.lot.clone() data-state=state data-generation=node.generation>
                <details open><summary>{line}</summary><ul>{children}</ul></details>
            </li>
        }
        .into_any()
    }
}
