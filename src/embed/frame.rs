//! A lookup grid inside a page of another site, by iframe: `/embed/lookup?name=Lots&selection=multi`
//! (docs/embedding.md). The page shows the grid and its states only, after making sure who frames
//! it; `mes-embed-host.js` is the other end.
//!
//! Who may frame it is config.json's `embed_origins`, enforced twice: the web server's
//! `Content-Security-Policy: frame-ancestors` (the browser then refuses any other framing page),
//! and here — nothing is shown and nothing is said until the framing page (the window's parent,
//! nobody else) has said hello from an allowed origin; where the browser names the framing
//! origin (`location.ancestorOrigins`) it must be allowed too.
//!
//! The messages, all plain objects with a `type`:
//! - parent → frame: `mes-hello`; `mes-lookup` with `lookup` (a name from config.json) and
//!   optionally `selection` (`single`/`multi`). Anything else, from anyone else, is ignored.
//! - frame → parent, to its exact origin, never `*`: `mes-ready`; `mes-height` with `height`
//!   (CSS pixels, for auto-sizing); `mes-state` with `state` (`starting`, `signed-out`,
//!   `signing-in`, `signed-in`, `problem`); `mes-select` with `values` and `rows` (as the
//!   `mes-select` DOM event's detail). Tokens never cross: they stay in this frame's memory.
//!
//! An invalid config.json cannot say who may frame: the frame then shows its problems as the
//! portal does (config.json is public, and the list offers nothing to click) and tells a parent
//! that said hello — and that the browser confirms as the framing origin, where it can —
//! `mes-state` `problem` and its height, nothing else.

use super::{EmbedOptions, embedded_grid, selection_detail, start_embedded_portal};
use crate::grid_model::SelectedRow;
use crate::session::{Phase, Portal};
use crate::words::{RareWord, Word, fill, w};
use leptos::prelude::*;
use mes_client::SelectionMode;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

/// The path of the framed grid.
pub const PATH: &str = "/embed/lookup";

/// Who frames this page, as far as it knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// Not in a frame: someone opened the address itself.
    NotFramed,
    /// Framed; the parent has not said hello yet (or before config.json is read).
    Waiting,
    /// The parent said hello from this origin, which config.json allows.
    Allowed(String),
    /// The framing page's origin is not allowed: nothing is shown, nothing is said.
    Refused,
    /// The parent said hello from this origin, but config.json is invalid, so nobody can say who
    /// may frame: the frame shows the problems (config.json is public; there is nothing to act
    /// on) and tells this origin only that there is a problem.
    Unchecked(String),
}

impl Host {
    /// The origin this frame talks to: an allowed parent, or one told of a configuration problem.
    fn talking_to(&self) -> Option<&str> {
        match self {
            Host::Allowed(origin) | Host::Unchecked(origin) => Some(origin),
            _ => None,
        }
    }
}

/// What a message from the parent asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FromHost {
    /// The parent is there and wants to talk.
    Hello,
    /// Show this lookup instead.
    Lookup(EmbedOptions),
}

/// Reads a message's data; `None` for anything that is not one of the known shapes.
fn from_host(data: &JsValue) -> Option<FromHost> {
    let field = |name: &str| {
        js_sys::Reflect::get(data, &JsValue::from_str(name))
            .ok()
            .filter(|v| !v.is_undefined())
    };
    if !data.is_object() {
        return None;
    }
    match field("type")?.as_string()?.as_str() {
        "mes-hello" => Some(FromHost::Hello),
        "mes-lookup" => {
            let lookup = field("lookup")?
                .as_string()
                .filter(|l| !l.trim().is_empty() && l.len() <= 200)?;
            let selection = match field("selection") {
                None => None,
                Some(given) => Some(SelectionMode::from_name(&given.as_string()?)?),
            };
            let params = match field("params").filter(|p| !p.is_null()) {
                None => Default::default(),
                Some(given) => super::answers_from_js(&given).ok()?,
            };
            Some(FromHost::Lookup(EmbedOptions {
                lookup,
                selection,
                params,
            }))
        }
        _ => None,
    }
}

/// The options in this page's address (`name`, `selection`, the question's `p.<name>`).
fn options_from_address() -> EmbedOptions {
    let query = crate::nav::query();
    let params = web_sys::UrlSearchParams::new_with_str(&query).ok();
    let get = |key: &str| params.as_ref().and_then(|p| p.get(key));
    let selection = get("selection").as_deref().and_then(SelectionMode::from_name);
    EmbedOptions {
        lookup: get("name").unwrap_or_default(),
        selection,
        params: crate::grid_model::question::from_query(&query),
    }
}

/// The origin the browser says frames this page (`location.ancestorOrigins[0]`; Chromium and
/// Safari have it).
fn ancestor_origin() -> Option<String> {
    let location = web_sys::window()?.location();
    let list = js_sys::Reflect::get(&location, &JsValue::from_str("ancestorOrigins")).ok()?;
    let first = js_sys::Reflect::get(&list, &JsValue::from_f64(0.0)).ok()?;
    first.as_string()
}

/// Posts `message` to the parent, to `origin` exactly.
fn tell(origin: &str, message: &js_sys::Object) {
    if let Some(parent) = web_sys::window().and_then(|w| w.parent().ok().flatten()) {
        let _ = parent.post_message(message, origin);
    }
}

/// `{ type, [key]: value }`.
fn message(kind: &str, fields: &[(&str, JsValue)]) -> js_sys::Object {
    let object = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&object, &JsValue::from_str("type"), &JsValue::from_str(kind));
    for (key, value) in fields {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object
}

/// The framed grid's page.
#[component]
pub fn FrameApp() -> impl IntoView {
    let window = web_sys::window().expect("a page has a window");
    // The grid's height must not follow the frame's (portal.css, `html[data-framed]`): the frame
    // follows the grid's, through `mes-height`.
    if let Some(root) = window.document().and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-framed", "");
    }
    let framed = window
        .parent()
        .ok()
        .flatten()
        .is_some_and(|p| !js_sys::Object::is(&p, &window));
    let host = RwSignal::new(if framed { Host::Waiting } else { Host::NotFramed });
    let options = RwSignal::new(options_from_address());
    // A hello that came before config.json was read, by origin.
    let hello_from = RwSignal::new(None::<String>);
    listen_to_the_parent(&window, host, hello_from, options);
    let portal = start_embedded_portal();
    decide_when_greeted(portal, host, hello_from, ancestor_origin());
    tell_the_state(portal, host);
    tell_the_height(host);
    check_the_session(portal, host);
    let on_rows = selections_to_the_parent(host);
    // config.json's embed_limits for the allowed site: the lookup and selection it asks for.
    let refused_lookup = Memo::new(move |_| {
        let Host::Allowed(origin) = host.get() else {
            return None;
        };
        let asked = options.get();
        let config = portal.phase.with(Phase::config)?;
        (!config.may_show(&origin, &asked.lookup, asked.selection)).then_some(asked.lookup)
    });

    move || {
        // Only an allowed site is refused a lookup (the memo is `None` for any other host).
        if let Some(lookup) = refused_lookup.get() {
            return view! {
                <div class="state bad" role="alert" data-state="lookup-refused">
                    <p>{fill(RareWord::FrameLookupRefused, &[("lookup", &lookup)])}</p>
                </div>
            }
            .into_any();
        }
        let config_invalid = portal.phase.with(Phase::config_invalid);
        match host.get() {
        // An invalid config.json is shown as the portal shows it, even before a hello.
        Host::Allowed(_) | Host::Unchecked(_) => embedded_grid(options, on_rows),
        Host::Waiting if config_invalid => embedded_grid(options, on_rows),
        Host::Waiting => view! { <p class="muted" role="status">{w(RareWord::FrameWaiting)}</p> }.into_any(),
        Host::NotFramed => view! {
            <div class="card"><h1>{w(Word::PortalName)}</h1><p>{w(RareWord::FrameNotFramed)}</p>
            <p><a class="button" href="/">{w(RareWord::FrameOpenPortal)}</a></p></div>
        }
        .into_any(),
        Host::Refused => view! {
            <div class="state bad" role="alert" data-state="frame-refused"><p>{w(RareWord::FrameRefused)}</p></div>
        }
        .into_any(),
    }
    }
}

/// Listens to the parent window only, and to it only in known shapes: a hello while waiting
/// (its origin is noted), a lookup change from the allowed origin.
fn listen_to_the_parent(
    window: &web_sys::Window,
    host: RwSignal<Host>,
    hello_from: RwSignal<Option<String>>,
    options: RwSignal<EmbedOptions>,
) {
    let parent = window.parent().ok().flatten();
    let listener = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        let from_parent = match (ev.source(), &parent) {
            (Some(source), Some(parent)) => js_sys::Object::is(&source, parent),
            _ => false,
        };
        if !from_parent {
            return;
        }
        match (from_host(&ev.data()), host.get_untracked()) {
            (Some(FromHost::Hello), Host::Waiting) => hello_from.set(Some(ev.origin())),
            (Some(FromHost::Lookup(new)), Host::Allowed(origin)) if origin == ev.origin() => options.set(new),
            _ => {}
        }
    });
    let _ = window.add_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
    // The page is the frame's for its whole life: the listener stays with it.
    listener.forget();
}

/// The decision, once config.json is read and a hello came: the origin is allowed (listed in
/// `embed_origins`, and `ancestor` agrees) and told the grid is ready, or refused. When
/// config.json is invalid, a parent whose origin the browser confirms is told of the problem.
fn decide_when_greeted(
    portal: Portal,
    host: RwSignal<Host>,
    hello_from: RwSignal<Option<String>>,
    ancestor: Option<String>,
) {
    Effect::new(move |_| {
        let Some(origin) = hello_from.get() else { return };
        if host.get_untracked() != Host::Waiting {
            return;
        }
        if portal.phase.with(Phase::config_invalid) {
            if ancestor.as_deref().is_none_or(|a| a == origin) {
                host.set(Host::Unchecked(origin));
            }
            return;
        }
        let Some(config) = portal.phase.with(Phase::config) else {
            return;
        };
        if config.may_frame(&origin, ancestor.as_deref()) {
            host.set(Host::Allowed(origin.clone()));
            tell(&origin, &message("mes-ready", &[]));
        } else {
            host.set(Host::Refused);
        }
    });
}

/// How often a framed grid that is shown asks the authority whether its session still stands.
const SESSION_CHECK: std::time::Duration = std::time::Duration::from_secs(20);

/// Whether the page is shown (a hidden tab or window asks the authority nothing).
fn page_shown() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
}

/// A framed grid lives on another site, so a sign-out in a portal tab never reaches it: browsers
/// partition storage and BroadcastChannel by top-level site. While it is shown, and whenever it
/// comes back into view, it asks the authority whether its session still stands (one refresh;
/// an authority that ends refresh tokens with its session — docs/deploy.md §1 — refuses it
/// after a sign-out anywhere) and shows the signed-out state when it does not. An outage changes
/// nothing here: the grid's own calls say so.
fn check_the_session(portal: Portal, host: RwSignal<Host>) {
    let check = move || {
        if !matches!(host.get_untracked(), Host::Allowed(_)) || !page_shown() {
            return;
        }
        let Phase::SignedIn(state) = portal.phase.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let ended = matches!(state.session.check_with_authority().await, Err(e) if !e.is_outage());
            let still_this_session = matches!(portal.phase.get_untracked(), Phase::SignedIn(now) if std::sync::Arc::ptr_eq(&now, &state));
            if ended && still_this_session {
                portal.session_ended(w(RareWord::FrameSessionEnded).into());
            }
        });
    };
    set_interval(check, SESSION_CHECK);
    let on_shown = Closure::<dyn FnMut()>::new(check);
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        let _ =
            document.add_event_listener_with_callback("visibilitychange", on_shown.as_ref().unchecked_ref());
    }
    // The page is the frame's for its whole life: the listener stays with it.
    on_shown.forget();
}

/// Tells the allowed parent every change of the sign-in state (`mes-state`).
fn tell_the_state(portal: Portal, host: RwSignal<Host>) {
    Effect::new(move |_| {
        let Some(origin) = host.get().talking_to().map(str::to_owned) else {
            return;
        };
        let state = match portal.phase.get() {
            Phase::Starting => "starting",
            Phase::SignedOut { .. } => "signed-out",
            Phase::Redirecting(_) => "signing-in",
            Phase::SignedIn(_) => "signed-in",
            Phase::Problem(..) => "problem",
        };
        tell(
            &origin,
            &message("mes-state", &[("state", JsValue::from_str(state))]),
        );
    });
}

/// Tells the allowed parent the page's height whenever it changes (`mes-height`), so the frame
/// fits its content.
fn tell_the_height(host: RwSignal<Host>) {
    Effect::new(move |observer: Option<Option<web_sys::ResizeObserver>>| {
        if let Some(Some(existing)) = observer {
            return Some(existing);
        }
        let origin = host.get().talking_to()?.to_owned();
        let report = Closure::<dyn FnMut(js_sys::Array)>::new(move |_entries: js_sys::Array| {
            // The body's own height (not the document's, which is never less than the frame).
            let height = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.body())
                .map(|b| b.scroll_height());
            if let Some(height) = height {
                tell(
                    &origin,
                    &message("mes-height", &[("height", JsValue::from_f64(f64::from(height)))]),
                );
            }
        });
        let observer = web_sys::ResizeObserver::new(report.as_ref().unchecked_ref()).ok()?;
        report.forget();
        let body = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())?;
        observer.observe(&body);
        Some(observer)
    });
}

/// The grid's selections, told to the allowed parent as `mes-select` (the element's event
/// detail, with its type: the same shape for both).
fn selections_to_the_parent(host: RwSignal<Host>) -> Callback<Vec<SelectedRow>> {
    Callback::new(move |rows: Vec<SelectedRow>| {
        if let Host::Allowed(origin) = host.get_untracked() {
            let detail = selection_detail(&rows);
            let _ = js_sys::Reflect::set(&detail, &"type".into(), &"mes-select".into());
            tell(&origin, &detail);
        }
    })
}

crate::on_demand::part!(
    frame,
    /// The framed grid's page for another site (`/embed/lookup`).
    pub fn frame_page() {
        view! { <FrameApp /> }.into_any()
    }
);
