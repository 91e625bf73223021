//! A lookup grid inside a page that is not the portal (`mountLookupGrid`, for plain HTML/JS).
//!
//! The page must be served from the portal's origin: `config.json`, the registered redirect URI
//! and the tokens all belong to that origin. Sign-in runs in a popup that lands on the portal's
//! `/callback`, which hands the answer back (see `mes_client::browser::relay_callback_to_opener`);
//! the tokens stay in this page's memory. Selections are emitted as a `mes-select` DOM event.

use crate::grid::{LookupGrid, RowsGrid};
use crate::grid_model::{GridData, SelectedRow};
use crate::pages::{AuthorityUnavailable, ConfigInvalid, SignInFailed, Starting};
use crate::session::{AuthState, Portal};
use leptos::prelude::*;
use mes_client::SelectionMode;
use wasm_bindgen::{JsCast, JsValue};

/// The DOM event fired on the host element when the selection changes. `detail` is
/// `{ values: string[], rows: object[] }`: the value column of each selected row, and each
/// selected row as `{ column key: shown text }`.
pub const SELECT_EVENT: &str = "mes-select";

/// What the host page asks for.
#[derive(Clone, Debug, Default)]
pub struct EmbedOptions {
    /// The lookup's `name` in config.json.
    pub lookup: String,
    /// Overrides the lookup's selection mode.
    pub selection: Option<SelectionMode>,
}

impl EmbedOptions {
    /// Reads `{ lookup: "Lots", selection?: "single" | "multi" }`.
    pub fn from_js(options: &JsValue) -> Result<Self, String> {
        let get = |key: &str| js_sys::Reflect::get(options, &JsValue::from_str(key)).ok().and_then(|v| v.as_string());
        let lookup = get("lookup").filter(|l| !l.trim().is_empty()).ok_or("options.lookup must name a lookup from config.json")?;
        let selection = match get("selection").as_deref() {
            None => None,
            Some("single") => Some(SelectionMode::Single),
            Some("multi") => Some(SelectionMode::Multi),
            Some(other) => return Err(format!("options.selection must be \"single\" or \"multi\", not \"{other}\"")),
        };
        Ok(Self { lookup, selection })
    }
}

fn select_event(rows: &[SelectedRow]) -> Option<web_sys::CustomEvent> {
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
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_detail(&detail);
    web_sys::CustomEvent::new_with_event_init_dict(SELECT_EVENT, &init).ok()
}

/// The embedded grid with its own sign-in states.
#[component]
pub fn EmbeddedLookup(options: EmbedOptions, host: web_sys::HtmlElement) -> impl IntoView {
    let portal = use_context::<Portal>().expect("mount provides the portal context");
    let host = send_wrapper::SendWrapper::new(host);
    let on_rows = Callback::new(move |rows: Vec<SelectedRow>| {
        if let Some(event) = select_event(&rows) {
            let _ = host.dispatch_event(&event);
        }
    });
    move || match portal.auth.get() {
        AuthState::Starting => view! { <Starting /> }.into_any(),
        AuthState::ConfigInvalid(issues) => view! { <ConfigInvalid issues=issues /> }.into_any(),
        AuthState::AuthorityUnavailable { why, authority } => view! { <AuthorityUnavailable why=why authority=authority /> }.into_any(),
        AuthState::SignedOut(notice) => view! {
            <div class="state" data-state="signed-out">
                {notice.map(|n| view! { <p role="status">{n}</p> })}
                <p>"Sign in to the MES to see this lookup. A sign-in window opens; it closes by itself."</p>
                <div class="actions"><button class="sign-in" on:click=move |_| portal.sign_in(None)>"Sign in"</button></div>
            </div>
        }
        .into_any(),
        AuthState::Redirecting => view! {
            <p class="muted" role="status" data-state="signing-in">"Finish signing in in the window that opened…"</p>
        }
        .into_any(),
        AuthState::SignInFailed(why) => view! { <SignInFailed why=why /> }.into_any(),
        AuthState::SignedIn(state) => {
            let lookup = state.config.lookups.iter().find(|l| l.name == options.lookup).cloned();
            match lookup {
                Some(mut lookup) => {
                    if let Some(mode) = options.selection {
                        lookup.selection = mode;
                    }
                    view! { <LookupGrid lookup=lookup on_select_rows=on_rows sync_url=false /> }.into_any()
                }
                None => view! {
                    <div class="state bad" role="alert" data-state="no-such-lookup">
                        <h2>"No such lookup"</h2>
                        <p>"config.json has no lookup named " <code>{options.lookup.clone()}</code> "."</p>
                    </div>
                }
                .into_any(),
            }
        }
    }
}

/// Mounts a lookup grid into `element`; returns a function that removes it again.
pub fn mount(element: web_sys::HtmlElement, options: &JsValue) -> Result<js_sys::Function, JsValue> {
    let options = EmbedOptions::from_js(options).map_err(|e| JsValue::from(js_sys::Error::new(&e)))?;
    let _ = element.set_attribute("data-mes-lookup", &options.lookup);
    let host = element.clone();
    let handle = leptos::mount::mount_to(element, move || {
        let portal = Portal::embedded();
        provide_context(portal);
        if let Err(why) = mes_client::browser::on_sign_out_elsewhere(move || portal.signed_out_elsewhere()) {
            leptos::logging::warn!("sign-out in other tabs will not reach this grid: {why}");
        }
        leptos::task::spawn_local(portal.start());
        view! { <div class="mes-embed"><EmbeddedLookup options=options host=host /></div> }
    });
    let unmount = wasm_bindgen::closure::Closure::once_into_js(move || drop(handle));
    Ok(unmount.unchecked_into())
}

/// What `mountRowsGrid` is given: rows the host page fetched itself.
#[derive(Clone, Debug, Default)]
pub struct RowsOptions {
    /// The rows as MES answer JSON text (`[{…}, …]`).
    pub json: String,
    /// Column keys to show, in order (all, in the answer's order, when empty).
    pub columns: Vec<String>,
    /// The column whose value a selection reports.
    pub value: Option<String>,
    /// Single (the default) or multi selection.
    pub selection: SelectionMode,
}

impl RowsOptions {
    /// Reads `{ json: "[…]" | rows: [{…}], columns?: string[], value?: string, selection?: … }`.
    /// Rows given as objects are written out as JSON once and decoded like an MES answer.
    pub fn from_js(options: &JsValue) -> Result<Self, String> {
        let get = |key: &str| js_sys::Reflect::get(options, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null());
        let json = match (get("json"), get("rows")) {
            (Some(json), None) => json.as_string().ok_or("options.json must be the JSON text of the rows")?,
            (None, Some(rows)) if js_sys::Array::is_array(&rows) => js_sys::JSON::stringify(&rows)
                .ok()
                .and_then(|t| t.as_string())
                .ok_or("options.rows could not be written as JSON (a cycle, or a BigInt)")?,
            (None, Some(_)) => return Err("options.rows must be an array of row objects".into()),
            _ => return Err("give options.json (JSON text) or options.rows (an array of objects), not both or neither".into()),
        };
        let columns = match get("columns") {
            None => Vec::new(),
            Some(list) if js_sys::Array::is_array(&list) => js_sys::Array::from(&list)
                .iter()
                .map(|c| c.as_string().ok_or("options.columns must list column names"))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("options.columns must be an array of column names".into()),
        };
        let value = get("value").map(|v| v.as_string().ok_or("options.value must name a column")).transpose()?;
        let selection = match get("selection").map(|v| v.as_string()) {
            None => SelectionMode::Single,
            Some(Some(mode)) if mode == "single" => SelectionMode::Single,
            Some(Some(mode)) if mode == "multi" => SelectionMode::Multi,
            Some(other) => return Err(format!("options.selection must be \"single\" or \"multi\", not {:?}", other.unwrap_or_default())),
        };
        Ok(Self { json, columns, value, selection })
    }
}

/// Shows rows the host page already has (`mountRowsGrid`): the same grid as a lookup's, with
/// no sign-in and no MES call. Returns a function that removes it.
pub fn mount_rows(element: web_sys::HtmlElement, options: &JsValue) -> Result<js_sys::Function, JsValue> {
    let fail = |e: String| JsValue::from(js_sys::Error::new(&e));
    let options = RowsOptions::from_js(options).map_err(fail)?;
    let rows =
        mes_client::Rows::from_json(options.json.as_bytes()).map_err(|e| fail(format!("the rows are not an MES-style answer: {e}")))?;
    let _ = element.set_attribute("data-mes-lookup", "rows");
    let host = send_wrapper::SendWrapper::new(element.clone());
    let handle = leptos::mount::mount_to(element, move || {
        let data = RwSignal::new(GridData::new(rows, &options.columns, options.value.as_deref()));
        let on_rows = Callback::new(move |rows: Vec<SelectedRow>| {
            if let Some(event) = select_event(&rows) {
                let _ = host.dispatch_event(&event);
            }
        });
        view! { <div class="mes-embed"><RowsGrid data=data mode=options.selection on_select_rows=on_rows /></div> }
    });
    let unmount = wasm_bindgen::closure::Closure::once_into_js(move || drop(handle));
    Ok(unmount.unchecked_into())
}

/// Panic handling for pages that embed grids: the host page stays, each grid says it stopped.
pub fn install_panic_notice() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
        let Ok(grids) = document.query_selector_all("[data-mes-lookup]") else { return };
        for i in 0..grids.length() {
            if let Some(el) = grids.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                el.set_text_content(Some("This MES lookup stopped because of an internal error. Reload the page to try again."));
            }
        }
    }));
}
