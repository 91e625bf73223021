//! Scanning anywhere: one page-wide keyboard listener (in the capture phase, so no control has
//! to have the focus) that tells a keyboard-wedge scanner's bursts from a person's typing
//! ([`mes_client::scan::Wedge`]) and hands each code on. A burst that turns out to be a scan is
//! taken back out of the text box it typed into, and its suffix (Enter) does not reach the
//! page: a scan never lands in the quick filter or another box by accident. A question's field
//! (inside `form.question`: a lookup's parameters, the genealogy's lot) is the exception — a
//! scan there is meant for it, so it stays, and its Enter asks the question. A person's typing,
//! however fast the keys, is never held back or changed.
//!
//! Loaded with the signed-in shell and the embedded grids, never with the first page.

use crate::grid_model::find::Find;
use crate::words::{FloorWord, fill};
use leptos::prelude::*;
use mes_client::LookupDefinition;
use mes_client::scan::{Keystroke, ScanSettings, Wedge};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// The keyboard's listener and what it remembers between keys.
struct Listening {
    wedge: Wedge,
    /// Where the current burst began.
    typed: Option<Typed>,
}

/// The text box that had the focus when a burst began.
enum Typed {
    /// A question's field: a scan there is the person's answer.
    Answer,
    /// Another box, and what it held then.
    Other(web_sys::Element, wasm_bindgen::JsValue),
}

/// Hands every scanned code to `on_code`, for as long as the current reactive owner lives (the
/// listener is removed with it).
pub fn listen(settings: &ScanSettings, on_code: impl Fn(String) + 'static) {
    let Some(window) = web_sys::window() else { return };
    let state = Rc::new(RefCell::new(Listening {
        wedge: settings.wedge(),
        typed: None,
    }));
    let on_code = Rc::new(on_code);
    let paused = pause_check(state.clone(), on_code.clone());
    let waits = settings.suffix.is_empty();
    let keys = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(move |ev: web_sys::KeyboardEvent| {
        let command = (ev.ctrl_key() || ev.alt_key() || ev.meta_key()) && !ev.get_modifier_state("AltGraph");
        let outcome = state.borrow_mut().wedge.key(&ev.key(), ev.time_stamp(), command);
        match outcome {
            Keystroke::Started => state.borrow_mut().typed = focused_text_box(),
            Keystroke::Scanned(code) => {
                if claim(&state) {
                    ev.prevent_default();
                    ev.stop_propagation();
                    on_code(code);
                }
            }
            Keystroke::Typing => {}
        }
        if waits && let Some(window) = web_sys::window() {
            let gap = state.borrow().wedge.gap_ms() as i32 + 5;
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(paused.as_ref().unchecked_ref(), gap);
        }
    });
    let listener: &js_sys::Function = keys.as_ref().unchecked_ref();
    if window
        .add_event_listener_with_callback_and_bool("keydown", listener, true)
        .is_err()
    {
        return;
    }
    let keys = send_wrapper::SendWrapper::new(keys);
    on_cleanup(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.remove_event_listener_with_callback_and_bool(
                "keydown",
                keys.as_ref().unchecked_ref(),
                true,
            );
        }
    });
}

/// For scanners without a suffix: run a while after each key, ends a code at the pause.
fn pause_check(
    state: Rc<RefCell<Listening>>,
    on_code: Rc<impl Fn(String) + 'static>,
) -> Closure<dyn FnMut()> {
    Closure::new(move || {
        let now = web_sys::window()
            .and_then(|w| w.performance())
            .map_or(0.0, |p| p.now());
        let code = state.borrow_mut().wedge.pause(now);
        if let Some(code) = code
            && claim(&state)
        {
            on_code(code);
        }
    })
}

/// Whether a scan just ended is the listener's to hand on: not when it was typed into a
/// question's field (it is the answer there); otherwise what it typed into a box is put back.
fn claim(state: &RefCell<Listening>) -> bool {
    let typed = state.borrow_mut().typed.take();
    if matches!(typed, Some(Typed::Answer)) {
        return false;
    }
    put_back(typed);
    true
}

/// The text box with the focus (inside shadow roots too): a question's field, or another box
/// with its value now.
fn focused_text_box() -> Option<Typed> {
    let document = web_sys::window()?.document()?;
    let mut element = document.active_element()?;
    while let Some(inner) = element.shadow_root().and_then(|root| root.active_element()) {
        element = inner;
    }
    let name = element.tag_name();
    if name != "INPUT" && name != "TEXTAREA" {
        return None;
    }
    if element.closest("form.question").ok().flatten().is_some() {
        return Some(Typed::Answer);
    }
    let value = js_sys::Reflect::get(&element, &"value".into()).ok()?;
    Some(Typed::Other(element, value))
}

/// Puts back what a text box held before a scan typed into it, and tells the page it changed.
fn put_back(typed: Option<Typed>) {
    let Some(Typed::Other(element, before)) = typed else {
        return;
    };
    let now = js_sys::Reflect::get(&element, &"value".into()).unwrap_or_default();
    if now == before || js_sys::Reflect::set(&element, &"value".into(), &before).is_err() {
        return;
    }
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    if let Ok(event) = web_sys::Event::new_with_event_init_dict("input", &init) {
        let _ = element.dispatch_event(&event);
    }
}

/// What a code scanned on the portal's page opens: a portal address (a printed QR code) is
/// gone to; another code opens the lookup config.json's `scan` names for it, where the grid
/// finds the row and says what it found; a code of no kind named there is said in `notice`.
pub fn open_in_portal(
    code: &str,
    settings: &ScanSettings,
    lookups: &[LookupDefinition],
    go: impl Fn(&str),
    notice: RwSignal<String>,
) {
    let origin = crate::nav::origin();
    if !origin.is_empty()
        && let Some(path) = code.strip_prefix(origin.as_str()).filter(|p| p.starts_with('/'))
    {
        go(path);
        return;
    }
    let target = settings.target_for(code).and_then(|(target, value)| {
        let index = lookups.iter().position(|l| l.name == target.lookup)?;
        Some((index, target.column.clone(), value))
    });
    match target {
        Some((index, column, value)) => {
            go(&Find { column, value }.address(index, &lookups[index]));
        }
        None => notice.set(fill(FloorWord::ScanUnknown, &[("code", code)])),
    }
}

/// What a code scanned beside an embedded grid of `lookup` does: when config.json's `scan`
/// names this lookup for it, the grid finds the row (and tells its page); otherwise nothing
/// (another grid on the page may take it).
pub fn find_in_grid(code: &str, settings: &ScanSettings, lookup: &str, find: RwSignal<Option<Find>>) {
    if let Some((target, value)) = settings.target_for(code).filter(|(t, _)| t.lookup == lookup) {
        find.set(Some(Find {
            column: target.column.clone(),
            value,
        }));
    }
}
