//! A lookup grid inside a page that is not the portal (`mountLookupGrid`, for plain HTML/JS).
//!
//! The page must be served from the portal's origin: `config.json`, the registered redirect URI
//! and the tokens all belong to that origin. Sign-in runs in a popup that lands on the portal's
//! `/callback`, which hands the answer back (see `mes_client::browser::relay_callback_to_opener`);
//! the tokens stay in this page's memory, in one session for all the page's grids
//! ([`page_portal`]). Selections are emitted as a `mes-select` DOM event.

pub mod frame;

use crate::grid::{LookupGrid, RowsGrid};
use crate::grid_model::links::Followed;
use crate::grid_model::{GridData, SelectedRow};
use crate::on_demand::on_demand;
use crate::pages::{ProblemView, Starting};
use crate::session::{Phase, Portal};
use crate::words::{GridWord, Word, around, fill, w};
use leptos::prelude::*;
use mes_client::SelectionMode;
use mes_client::ask::Answers;
use wasm_bindgen::{JsCast, JsValue};

/// The DOM event fired on the host element when the selection changes. `detail` is
/// `{ values: string[], rows: object[] }`: the value column of each selected row, and each
/// selected row as `{ column key: the MES's text }`.
pub const SELECT_EVENT: &str = "mes-select";

/// What the host page asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmbedOptions {
    /// The lookup's `name` in config.json.
    pub lookup: String,
    /// Overrides the lookup's selection mode.
    pub selection: Option<SelectionMode>,
    /// The question's values, by parameter name (checked by the grid, which says what is wrong).
    pub params: Answers,
}

impl EmbedOptions {
    /// Reads `{ lookup: "Lots", selection?: "single" | "multi", params?: { name: value } }`.
    pub fn from_js(options: &JsValue) -> Result<Self, String> {
        let lookup = option(options, "lookup")
            .and_then(|l| l.as_string())
            .filter(|l| !l.trim().is_empty())
            .ok_or("options.lookup must name a lookup from config.json")?;
        let params = match option(options, "params") {
            None => Answers::new(),
            Some(given) => answers_from_js(&given).map_err(|why| format!("options.params {why}"))?,
        };
        Ok(Self {
            lookup,
            selection: selection_mode(options)?,
            params,
        })
    }
}

/// A question's values from a plain object of texts (a number is taken as its text); an
/// embedding page's `params` and a frame's `mes-lookup` message.
pub fn answers_from_js(given: &JsValue) -> Result<Answers, String> {
    if !given.is_object() || js_sys::Array::is_array(given) {
        return Err("must be an object of parameter names and values".into());
    }
    let mut answers = Answers::new();
    for entry in js_sys::Object::entries(given.unchecked_ref()).iter() {
        let pair = js_sys::Array::from(&entry);
        let name = pair.get(0).as_string().unwrap_or_default();
        let value = pair.get(1);
        // A number as JavaScript writes it (Rust's float printing stays out of the first load).
        let number = value
            .dyn_ref::<js_sys::Number>()
            .filter(|n| n.value_of().is_finite());
        let text = match (
            value.as_string(),
            number.and_then(|n| n.to_string_with_radix(10).ok()),
        ) {
            (Some(text), _) => text,
            (None, Some(n)) => String::from(n),
            _ => return Err(format!("{name} must be text or a number")),
        };
        if answers.len() >= 50 || name.len() > 200 || text.len() > mes_client::ask::MAX_VALUE_CHARS {
            return Err("is too large".into());
        }
        answers.insert(name, text);
    }
    Ok(answers)
}

/// `options[key]`, unless it is missing, `undefined` or `null`.
fn option(options: &JsValue, key: &str) -> Option<JsValue> {
    js_sys::Reflect::get(options, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// `options.selection`: `"single"`, `"multi"`, or not given.
fn selection_mode(options: &JsValue) -> Result<Option<SelectionMode>, String> {
    let Some(given) = option(options, "selection") else {
        return Ok(None);
    };
    let name = given.as_string().unwrap_or_default();
    match SelectionMode::from_name(&name) {
        Some(mode) => Ok(Some(mode)),
        None => Err(format!(
            "options.selection must be \"single\" or \"multi\", not \"{name}\""
        )),
    }
}

/// A bubbling event named `name` with `detail`, for the host element.
fn host_event(name: &str, detail: &js_sys::Object) -> Option<web_sys::CustomEvent> {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_detail(detail);
    web_sys::CustomEvent::new_with_event_init_dict(name, &init).ok()
}

/// Fires `mes-select` on `host` for every change of the selection.
fn report_selections(host: send_wrapper::SendWrapper<web_sys::HtmlElement>) -> Callback<Vec<SelectedRow>> {
    Callback::new(move |rows: Vec<SelectedRow>| {
        if let Some(event) = select_event(&rows) {
            let _ = host.dispatch_event(&event);
        }
    })
}

fn select_event(rows: &[SelectedRow]) -> Option<web_sys::CustomEvent> {
    host_event(SELECT_EVENT, &selection_detail(rows))
}

/// `{ values: string[], rows: object[] }` for a selection: each row's value column, and each row
/// as `{ column key: the MES's text }`.
pub fn selection_detail(rows: &[SelectedRow]) -> js_sys::Object {
    let values = js_sys::Array::new();
    let objects = js_sys::Array::new();
    for row in rows {
        values.push(&JsValue::from_str(&row.value));
        let object = js_sys::Object::new();
        for (key, text) in &row.cells {
            let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), &JsValue::from_str(text));
        }
        objects.push(&object);
    }
    let detail = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&detail, &JsValue::from_str("values"), &values);
    let _ = js_sys::Reflect::set(&detail, &JsValue::from_str("rows"), &objects);
    detail
}

/// The embedded grid with its own sign-in states. `options` may change (a custom element's
/// attribute, a framing page's message): the grid shows the new lookup in the same session.
/// `on_rows` receives every change of the selection.
#[component]
pub fn EmbeddedLookup(options: RwSignal<EmbedOptions>, on_rows: Callback<Vec<SelectedRow>>) -> impl IntoView {
    let portal = use_context::<Portal>().expect("mount provides the portal context");
    let embed_options = options;
    move || {
        match portal.phase.get() {
        Phase::Starting => view! { <Starting /> }.into_any(),
        Phase::Problem(problem, _) => view! { <ProblemView problem=problem /> }.into_any(),
        Phase::SignedOut { notice, .. } => view! {
            <div class="state" data-state="signed-out">
                {notice.map(|n| view! { <p role="status">{n}</p> })}
                <p>{w(Word::EmbedSignIn)}</p>
                <div class="actions"><button class="sign-in" on:click=move |_| portal.sign_in(None)>{w(Word::SignIn)}</button></div>
            </div>
        }
        .into_any(),
        Phase::Redirecting(_) => view! {
            <p class="muted" role="status" data-state="signing-in">{w(Word::EmbedFinishing)}</p>
        }
        .into_any(),
        Phase::SignedIn(state) => {
            let options = options.get();
            let lookup = state.config().lookups.iter().find(|l| l.name == options.lookup).cloned();
            match lookup {
                Some(mut lookup) => {
                    if let Some(mode) = options.selection {
                        lookup.selection = mode;
                    }
                    // A linked cell shows its lookup here, in the same grid (the frame's
                    // embed_limits are checked again for it).
                    let names: Vec<String> = state.config().lookups.iter().map(|l| l.name.clone()).collect();
                    let on_link = Callback::new(move |followed: Followed| {
                        if let Some(name) = names.get(followed.lookup) {
                            embed_options.update(|o| {
                                o.lookup = name.clone();
                                o.params = Answers::from([(followed.parameter.clone(), followed.value.clone())]);
                            });
                        }
                    });
                    // A scan on the page (no focus needed) finds its row here when config.json's
                    // scan names this lookup for it; the page hears of it as a selection.
                    let find = RwSignal::new(None);
                    match state.config().scan() {
                        Ok(Some(scan)) => {
                            let name = lookup.name.clone();
                            crate::scan::listen(&scan.clone(), move |code| crate::scan::find_in_grid(&code, &scan, &name, find));
                        }
                        Ok(None) => {}
                        Err(issues) => leptos::logging::warn!("config.json's scan is not used: {issues:?}"),
                    }
                    view! { <LookupGrid lookup=lookup on_select_rows=on_rows sync_url=false answers=options.params.clone() on_link=on_link find=find /> }.into_any()
                }
                None => {
                    let (before, after) = around(Word::NoSuchLookupText, "name");
                    view! {
                        <div class="state bad" role="alert" data-state="no-such-lookup">
                            <h2>{w(Word::NoSuchLookup)}</h2>
                            <p>{before}<code>{options.lookup.clone()}</code>{after}</p>
                        </div>
                    }
                    .into_any()
                }
            }
        }
    }
    }
}

/// Mounts a lookup grid into `element`; returns a function that removes it again.
pub fn mount(element: web_sys::HtmlElement, options: &JsValue) -> Result<js_sys::Function, JsValue> {
    // The element form without its `update`: the grid, and its events, in the host element.
    let controller = mount_element(element.clone(), element, options)?;
    Ok(js_sys::Reflect::get(&controller, &"unmount".into())?.unchecked_into())
}

/// Mounts a lookup grid into `container` (a `<mes-lookup-grid>`'s shadow root) with its events on
/// `host` (the element itself). Returns `{ update(options), unmount() }`: `update` shows another
/// lookup in the same session (the element's attributes changed); wrong options throw.
pub fn mount_element(
    container: web_sys::HtmlElement,
    host: web_sys::HtmlElement,
    options: &JsValue,
) -> Result<js_sys::Object, JsValue> {
    let thrown = |e: String| JsValue::from(js_sys::Error::new(&e));
    let first = EmbedOptions::from_js(options).map_err(thrown)?;
    let _ = host.set_attribute("data-mes-lookup", &first.lookup);
    // The page's session first, so that it belongs to no grid.
    page_portal();
    let options = RwSignal::new(first);
    let host = send_wrapper::SendWrapper::new(host);
    let events = host.clone();
    let handle = leptos::mount::mount_to(container, move || {
        embedded_portal(options, report_selections(events))
    });
    let update = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue) -> Result<(), JsValue>>::new(
        move |next: JsValue| {
            let next = EmbedOptions::from_js(&next).map_err(thrown)?;
            let _ = host.set_attribute("data-mes-lookup", &next.lookup);
            options.set(next);
            Ok(())
        },
    );
    let controller = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&controller, &"update".into(), &update.into_js_value());
    let _ = js_sys::Reflect::set(
        &controller,
        &"unmount".into(),
        &wasm_bindgen::closure::Closure::once_into_js(move || {
            drop(handle);
            // Made outside the mounted view (so `update` can reach it): gone with it.
            options.dispose();
        }),
    );
    Ok(controller)
}

/// The page's embedded portal (popup sign-in, no routing) showing the lookup `options` names;
/// the grid's code loads on demand.
pub fn embedded_portal(options: RwSignal<EmbedOptions>, on_rows: Callback<Vec<SelectedRow>>) -> AnyView {
    start_embedded_portal();
    embedded_grid(options, on_rows)
}

thread_local! {
    /// This page's embedded session and the owner its signals live under.
    static PAGE_SESSION: std::cell::OnceCell<(Owner, Portal)> = const { std::cell::OnceCell::new() };
}

/// The embedded portal of this page: one session for every grid on it — one sign-in (one
/// popup), one renewal, one sign-out. Started with the first grid, under an owner of its own,
/// so it outlives any one grid: removing the grid that signed in leaves the others signed in,
/// and a grid added later starts signed in. Call it outside any grid's reactive owner the first
/// time (the mount functions do), or its owner would be that grid's child.
pub fn page_portal() -> Portal {
    PAGE_SESSION.with(|page| {
        page.get_or_init(|| {
            let owner = Owner::new();
            let portal = owner.with(|| {
                let portal = Portal::embedded();
                let signed_out = move || portal.signed_out_elsewhere();
                if let Err(why) = mes_client::browser::on_sign_out_elsewhere(signed_out) {
                    leptos::logging::warn!("sign-out in other tabs will not reach this page's grids: {why}");
                }
                // wasm-bindgen's own spawn: this may run before the first mount sets up leptos's.
                wasm_bindgen_futures::spawn_local(portal.start(|| ()));
                portal
            });
            (owner, portal)
        })
        .1
    })
}

/// The page's embedded portal (see [`page_portal`]), provided as context to the grid being
/// mounted.
pub fn start_embedded_portal() -> Portal {
    let portal = page_portal();
    provide_context(portal);
    portal
}

/// The lookup `options` names with the embedded portal's sign-in states; its code loads on
/// demand.
pub fn embedded_grid(options: RwSignal<EmbedOptions>, on_rows: Callback<Vec<SelectedRow>>) -> AnyView {
    let grid = on_demand(w(Word::PartGrid), move || {
        Box::pin(embedded_lookup(options, on_rows))
    });
    view! { <div class="mes-embed">{grid}</div> }.into_any()
}

/// Where `mountRowsGrid`'s rows come from. Each is decoded a piece at a time while the page
/// keeps its turns: the first rows show at once, and nothing is copied whole into wasm.
#[derive(Clone, Debug)]
pub enum RowsSource {
    /// MES answer JSON text (`[{…}, …]`), read as it is held in the page.
    Json(js_sys::JsString),
    /// Rows given as objects, written out as JSON a batch at a time.
    Rows(js_sys::Array),
    /// A body stream (`response.body`, `blob.stream()`), decoded while it arrives.
    Stream(web_sys::ReadableStream),
}

/// What `mountRowsGrid` is given: rows the host page has, or is receiving.
#[derive(Clone, Debug)]
pub struct RowsOptions {
    /// The rows.
    pub source: RowsSource,
    /// Column keys to show, in order (all, in the answer's order, when empty).
    pub columns: Vec<String>,
    /// The column whose value a selection reports.
    pub value: Option<String>,
    /// Single (the default) or multi selection.
    pub selection: SelectionMode,
}

impl RowsOptions {
    /// Reads `{ json: "[…]" | rows: [{…}] | stream: ReadableStream, columns?: string[],
    /// value?: string, selection?: "single" | "multi" }`.
    pub fn from_js(options: &JsValue) -> Result<Self, String> {
        let get = |key: &str| option(options, key);
        let source = match (get("json"), get("rows"), get("stream")) {
            (Some(json), None, None) => RowsSource::Json(
                json.dyn_into()
                    .map_err(|_| "options.json must be the JSON text of the rows")?,
            ),
            (None, Some(rows), None) if js_sys::Array::is_array(&rows) => {
                RowsSource::Rows(rows.unchecked_into())
            }
            (None, Some(_), None) => return Err("options.rows must be an array of row objects".into()),
            (None, None, Some(stream)) => RowsSource::Stream(
                stream
                    .dyn_into()
                    .map_err(|_| "options.stream must be a ReadableStream (response.body, blob.stream())")?,
            ),
            _ => return Err(
                "give one of options.json (JSON text), options.rows (an array of objects) or options.stream"
                    .into(),
            ),
        };
        let columns = match get("columns") {
            None => Vec::new(),
            Some(list) if js_sys::Array::is_array(&list) => js_sys::Array::from(&list)
                .iter()
                .map(|c| c.as_string().ok_or("options.columns must list column names"))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("options.columns must be an array of column names".into()),
        };
        let value = get("value")
            .map(|v| v.as_string().ok_or("options.value must name a column"))
            .transpose()?;
        let selection = selection_mode(options)?.unwrap_or(SelectionMode::Single);
        Ok(Self {
            source,
            columns,
            value,
            selection,
        })
    }
}

/// The DOM event fired on the host element once every row is in: `detail` is `{ rows: number }`.
pub const ROWS_EVENT: &str = "mes-rows";

fn rows_event(rows: usize) -> Option<web_sys::CustomEvent> {
    let detail = js_sys::Object::new();
    let _ = js_sys::Reflect::set(
        &detail,
        &JsValue::from_str("rows"),
        &JsValue::from_f64(rows as f64),
    );
    host_event(ROWS_EVENT, &detail)
}

/// Shows rows the host page has (`mountRowsGrid`): the same grid as a lookup's, with no sign-in
/// and no MES call. Wrong options throw; rows that are not an MES-style answer, and a stream that
/// breaks off, become a plain error in the grid's place. Returns a function that removes it.
pub fn mount_rows(element: web_sys::HtmlElement, options: &JsValue) -> Result<js_sys::Function, JsValue> {
    let options = RowsOptions::from_js(options).map_err(|e| JsValue::from(js_sys::Error::new(&e)))?;
    let _ = element.set_attribute("data-mes-lookup", "rows");
    let host = send_wrapper::SendWrapper::new(element.clone());
    let options = send_wrapper::SendWrapper::new(options);
    let handle = leptos::mount::mount_to(element, move || {
        let grid = on_demand(w(Word::PartRowsGrid), move || {
            Box::pin(rows_grid((*options).clone(), (*host).clone()))
        });
        view! { <div class="mes-embed">{grid}</div> }
    });
    let unmount = wasm_bindgen::closure::Closure::once_into_js(move || drop(handle));
    Ok(unmount.unchecked_into())
}

/// The grid over the host page's rows, decoded a piece at a time whatever their source: the
/// grid mounts with the first rows (they name the columns) and keeps up while the rest comes.
pub(crate) fn rows_view(options: RowsOptions, host: web_sys::HtmlElement) -> AnyView {
    let RowsOptions {
        source,
        columns,
        value,
        selection,
    } = options;
    let host = send_wrapper::SendWrapper::new(host);
    let complete = {
        let host = host.clone();
        move |data: RwSignal<GridData>| {
            if let Some(event) = rows_event(data.with_untracked(GridData::len)) {
                let _ = host.dispatch_event(&event);
            }
        }
    };
    let broken = RwSignal::new(None::<String>);
    let ready = RwSignal::new(false);
    let data = RwSignal::new(GridData::streaming(&columns, value.as_deref()));
    let shown = Shown { ready, broken };
    leptos::task::spawn_local(read_rows(source, data, shown, complete));
    let on_rows = report_selections(host);
    (move || match broken.get() {
        Some(why) => view! {
            <div class="state bad" role="alert" data-state="rows-unreadable">
                <h2>{w(Word::RowsUnreadable)}</h2>
                <p>{why}</p>
            </div>
        }
        .into_any(),
        None if !ready.get() => {
            view! { <div class="skeleton" role="status" aria-busy="true">{w(GridWord::LoadingRows)}</div> }
                .into_any()
        }
        None => view! { <RowsGrid data=data mode=selection on_select_rows=on_rows /> }.into_any(),
    })
    .into_any()
}

/// How far a host page's rows have come: the grid can mount (its first rows are in), or why
/// they cannot be read.
#[derive(Clone, Copy)]
struct Shown {
    ready: RwSignal<bool>,
    broken: RwSignal<Option<String>>,
}

/// Reads the host page's rows into `data` a piece at a time; `complete` runs once every row
/// is in.
async fn read_rows(
    source: RowsSource,
    data: RwSignal<GridData>,
    shown: Shown,
    complete: impl Fn(RwSignal<GridData>),
) {
    use mes_client::ReadError;
    let Shown { ready, broken } = shown;
    let mut target = crate::grid::GridTarget::new(data).on_first_rows(move || ready.set(true));
    let mut sink = mes_client::RowsSink::new(&mut target);
    let limit = crate::session::lookup_body_limit();
    let read = match source {
        RowsSource::Json(text) => mes_client::read_js_text(&text, &mut sink, limit).await,
        RowsSource::Rows(rows) => read_row_objects(&rows, &mut sink, limit).await,
        RowsSource::Stream(stream) => mes_client::read_body_stream(stream, &mut sink, limit, true)
            .await
            .map_err(|e| match e {
                ReadError::Broken(why) => ReadError::Broken(format!("the stream broke off ({why})")),
                too_large => too_large,
            }),
    };
    let outcome = match read {
        Ok(()) => sink
            .outcome()
            .map_err(|why| fill(Word::RowsNotMesStyle, &[("why", &why)])),
        Err(ReadError::TooLarge) => Err(format!(
            "more than this device's memory lets the grid take ({} MB of JSON)",
            limit / 1_000_000
        )),
        Err(ReadError::Broken(why)) => Err(why),
    };
    match outcome {
        Ok(()) if data.try_update(GridData::set_complete).is_some() => {
            ready.set(true);
            complete(data);
        }
        Ok(()) => {}
        Err(why) => broken.set(Some(why)),
    }
}

/// Row objects written into `sink` as one JSON array, a batch at a time (the browser's
/// `JSON.stringify` writes each batch), yielding like a stream; past `limit` bytes it stops.
async fn read_row_objects(
    rows: &js_sys::Array,
    sink: &mut dyn mes_client::BodySink,
    limit: usize,
) -> Result<(), mes_client::ReadError> {
    const BATCH: u32 = 2000;
    let unwritable = || {
        mes_client::ReadError::Broken(
            "options.rows could not be written as JSON (a cycle, or a BigInt)".into(),
        )
    };
    let mut feed = mes_client::Feed::new(sink, limit, true);
    let (length, mut start) = (rows.length(), 0);
    let mut piece = String::from("[");
    while start < length {
        let end = length.min(start + BATCH);
        let batch = js_sys::JSON::stringify(&rows.slice(start, end))
            .ok()
            .and_then(|t| t.as_string())
            .ok_or_else(unwritable)?;
        // The batch's rows without its brackets, after the rows before them.
        if start > 0 {
            piece.push(',');
        }
        piece.push_str(batch.get(1..batch.len() - 1).ok_or_else(unwritable)?);
        if end == length {
            piece.push(']');
        }
        if !feed.give(piece.as_bytes()).await? {
            return Ok(());
        }
        piece.clear();
        start = end;
    }
    if length == 0 {
        feed.give(b"[]").await?;
    }
    Ok(())
}

/// Panic handling for pages that embed grids: the host page stays, each grid says it stopped.
pub fn install_panic_notice() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Ok(grids) = document.query_selector_all("[data-mes-lookup]") else {
            return;
        };
        for i in 0..grids.length() {
            if let Some(el) = grids.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                // A <mes-lookup-grid> shows its shadow root, not its own children.
                match el.shadow_root() {
                    Some(shadow) => shadow.set_text_content(Some(w(Word::GridStopped))),
                    None => el.set_text_content(Some(w(Word::GridStopped))),
                }
            }
        }
    }));
}

crate::on_demand::part!(
    grid,
    /// `mountLookupGrid`'s grid (and a framed one's), with its own sign-in states.
    pub fn embedded_lookup(options: RwSignal<EmbedOptions>, on_rows: Callback<Vec<SelectedRow>>) {
        view! { <EmbeddedLookup options=options on_rows=on_rows /> }.into_any()
    }
);

crate::on_demand::part!(
    grid,
    /// `mountRowsGrid`'s grid over the host page's rows.
    pub fn rows_grid(options: RowsOptions, host: web_sys::HtmlElement) {
        rows_view(options, host)
    }
);
