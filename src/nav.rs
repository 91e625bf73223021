//! The address bar: the one place the portal reads the page's path and query and writes history
//! (tidy holds it). A path means a [`Route`]; a grid keeps its state in the query.

use crate::route::Route;
use leptos::prelude::*;

/// The page's route.
pub fn route() -> Route {
    Route::parse(&pathname())
}

/// The page's path (`/lookups/1`), `/` if unknown.
pub fn pathname() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".into())
}

/// The page's query string, with its `?`, or empty.
pub fn query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// The page's origin (`https://mesportal.plant.example`), or empty.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The shared terminal this page is at: the address's `station` (a name from config.json's
/// `station.stations`). Every address the portal writes keeps it ([`with_station`]), so it
/// stays through lookups, sign-outs and sign-ins: the terminal's bookmark names it once.
pub fn station() -> Option<String> {
    form_urlencoded::parse(query().trim_start_matches('?').as_bytes())
        .find(|(k, _)| k == "station")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// `url` (a path, with a query if any) with this page's station added, unless it names one.
pub fn with_station(url: &str) -> String {
    let Some(name) = station() else {
        return url.to_owned();
    };
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    if form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "station") {
        return url.to_owned();
    }
    let mut out = form_urlencoded::Serializer::new(query.to_owned());
    out.append_pair("station", &name);
    format!("{path}?{}", out.finish())
}

/// A new history entry for `path`, without loading anything.
pub fn push(path: &str) {
    let path = with_station(path);
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
}

/// A new history entry of this path with `query` (without `?`): a question asked, so Back
/// goes to the one before.
pub fn push_query(query: &str) {
    push(&here_with(query));
}

/// This page's path with `query` (without `?`; empty: none).
fn here_with(query: &str) -> String {
    let path = pathname();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

/// The current history entry becomes `url` (a path, with a query if any): so a sign-in code
/// never stays in history or the address bar, and a grid's state follows it without new
/// entries.
pub fn replace(url: &str) {
    let url = with_station(url);
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// The current entry's query becomes `query` (without `?`; empty removes it), the path staying.
pub fn replace_query(query: &str) {
    replace(&here_with(query));
}

/// Calls `to` with the new route whenever the person goes back or forward; removed with the
/// reactive owner.
pub fn on_back_forward(to: impl Fn(Route) + Clone + 'static) {
    let listener = window_event_listener(leptos::ev::popstate, move |_| to(route()));
    on_cleanup(move || listener.remove());
}
