//! Portal components in a real browser (headless Chromium), one file per feature: the grid
//! (`grid.rs`: virtualization at 100,000 rows, sorting, filtering, keyboard selection, ARIA, the
//! address), the states (`states.rs`: every failure, the countdown, a bad configuration) and
//! grids over a page's own rows (`embedding.rs`). The helpers here are shared.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use mes_client::{MesError, Rows, SelectionMode};
use mes_portal::grid::FailureView;
use mes_portal::grid_model::GridData;
use mes_portal::{Portal, RowsGrid};
use std::sync::{Arc, Mutex};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

mod embedding;
mod grid;
mod states;

// Where the grid's parts are: the portal's list, which the e2e suites and the bench read too.
use mes_portal::selectors::{HEADERS, QUICK_FILTER, ROWS, STATUS, VIEWPORT};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().and_then(|w| w.document()).expect("document")
}

/// A fresh container in the page.
fn container() -> web_sys::HtmlElement {
    let div: web_sys::HtmlElement = document().create_element("div").expect("div").unchecked_into();
    document()
        .body()
        .expect("body")
        .append_child(&div)
        .expect("append");
    div
}

fn all(root: &web_sys::Element, css: &str) -> Vec<web_sys::Element> {
    let list = root.query_selector_all(css).expect("selector");
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into().ok())
        .collect()
}

fn one(root: &web_sys::Element, css: &str) -> web_sys::Element {
    root.query_selector(css)
        .expect("selector")
        .unwrap_or_else(|| panic!("no {css}"))
}

/// The grid's body rows under `root`.
fn rows(root: &web_sys::Element) -> Vec<web_sys::Element> {
    all(root, ROWS)
}

/// The grid's column headers under `root`.
fn headers(root: &web_sys::Element) -> Vec<web_sys::Element> {
    all(root, HEADERS)
}

fn rows_json(n: usize) -> Rows {
    let mut text = String::from("[");
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        // Reverse numeric order and a text column, so sorting visibly changes the first row.
        text.push_str(&format!(
            r#"{{"item_id":"ITM-{i:06}","qty":{},"item_desc":"Item {}","uom_id":"EA","price":{}.5}}"#,
            n - i,
            i % 97,
            i % 13
        ));
    }
    text.push(']');
    Rows::from_json(text.as_bytes()).expect("rows")
}

/// The cell or header the grid's `aria-activedescendant` names, without the grid's number.
fn active_descendant(table: &web_sys::Element) -> Option<String> {
    table
        .get_attribute("aria-activedescendant")
        .map(|id| local_id(&id).to_owned())
}

/// `g3-cell-1-0` → `cell-1-0`: an element id without its grid's number.
fn local_id(id: &str) -> &str {
    id.split_once('-').map_or(id, |(_, rest)| rest)
}

fn first_cells(root: &web_sys::Element) -> Vec<String> {
    rows(root)
        .first()
        .map(|r| {
            all(r, "td")
                .iter()
                .map(|c| c.text_content().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// Dispatches a keydown and returns it (to check whether a handler prevented its default).
fn key(target: &web_sys::Element, key: &str) -> web_sys::KeyboardEvent {
    alt_key(target, key, false)
}

/// A keydown of `key`, with Alt held when `alt`.
fn alt_key(target: &web_sys::Element, key: &str, alt: bool) -> web_sys::KeyboardEvent {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_alt_key(alt);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    target.dispatch_event(&event).expect("dispatch");
    event
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .expect("window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("timeout");
    });
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .expect("sleep");
}

fn set_query(query: &str) {
    let window = web_sys::window().expect("window");
    let path = window.location().pathname().expect("path");
    window
        .history()
        .expect("history")
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("{path}{query}")))
        .expect("url");
}

/// Waits for a new task (a zero timeout), as the stream reader does between pieces.
async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .expect("window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
            .expect("timeout");
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.expect("tick");
}
