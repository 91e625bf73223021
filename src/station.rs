//! Station mode for shared terminals (config.json's `station`): after `idle_seconds` without a
//! key, a tap, a click or a scroll in any of the portal's tabs, a countdown with one large
//! "I'm still here" button, then the ordinary sign-out — the refresh token revoked, AIM's
//! session ended, every tab told — so the next person at the terminal meets AIM's form, never
//! the previous person's session. Time is read from the clock, not counted by timers, so a
//! hidden tab (whose timers the browser slows) counts its time too and acts when shown.
//!
//! Part of the signed-in shell (loaded on demand), never of the first page.

use crate::session::Portal;
use crate::words::{FloorWord, fill, w};
use leptos::html::Button;
use leptos::prelude::*;
use mes_client::StationSettings;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// The portal's tabs tell each other of activity here (nothing else is sent: no name, no token).
const CHANNEL: &str = "mes-portal-activity";

/// How often a tab tells the others that its person is active, at most (milliseconds).
const TELL_EVERY: f64 = 5_000.0;

/// Watches for activity and signs out after the station's limit; shows the countdown.
#[component]
pub fn IdleWatch(settings: StationSettings, portal: Portal) -> impl IntoView {
    let minutes = (settings.idle_seconds / 60).max(1);
    let settings = StoredValue::new(settings);
    let last = StoredValue::new(js_sys::Date::now());
    let told = StoredValue::new(0.0_f64);
    let left = RwSignal::new(None::<i64>);
    let channel = web_sys::BroadcastChannel::new(CHANNEL).ok();
    let tell = channel.clone();
    let active = StoredValue::new_local(move || {
        let now = js_sys::Date::now();
        last.set_value(now);
        if now - told.get_value() > TELL_EVERY {
            told.set_value(now);
            if let Some(channel) = &tell {
                let _ = channel.post_message(&"active".into());
            }
        }
    });
    let check = move || {
        let (seconds, warn) = settings.with_value(|s| s.countdown(js_sys::Date::now() - last.get_value()));
        if seconds <= 0 {
            left.set(None);
            portal.sign_out();
        } else {
            left.set(warn.then_some(seconds));
        }
    };
    // A person's own activity counts until the countdown shows; then only the button does.
    let handles: Vec<_> = ["pointerdown", "keydown", "wheel", "touchstart"]
        .into_iter()
        .map(|name| {
            window_event_listener_untyped(name, move |_| {
                if left.get_untracked().is_none() {
                    active.with_value(|a| a());
                }
            })
        })
        .collect();
    let shown = window_event_listener_untyped("visibilitychange", move |_| check());
    let from_other_tabs =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| {
            last.set_value(js_sys::Date::now());
            left.set(None);
        });
    if let Some(channel) = &channel {
        channel.set_onmessage(Some(from_other_tabs.as_ref().unchecked_ref()));
    }
    let ticking = set_interval_with_handle(check, Duration::from_secs(1)).ok();
    let owned = send_wrapper::SendWrapper::new((channel, from_other_tabs));
    on_cleanup(move || {
        handles.into_iter().for_each(|h| h.remove());
        shown.remove();
        if let Some(t) = ticking {
            t.clear();
        }
        let (channel, _listener) = owned.take();
        if let Some(channel) = channel {
            channel.close();
        }
    });
    let keep = Callback::new(move |()| {
        active.with_value(|a| a());
        left.set(None);
    });
    view! { <Countdown left=left minutes=minutes keep=keep /> }
}

/// The countdown dialog while `left` holds the seconds left: made once per countdown (only its
/// seconds change, so its button keeps the focus); the button calls `keep`.
#[component]
fn Countdown(left: RwSignal<Option<i64>>, minutes: u32, keep: Callback<()>) -> impl IntoView {
    let button = NodeRef::<Button>::new();
    Effect::new(move |_| {
        if let Some(b) = button.get() {
            let _ = b.focus();
        }
    });
    let minutes = minutes.to_string();
    let showing = Memo::new(move |_| left.with(Option::is_some));
    move || {
        let minutes = minutes.clone();
        showing.get().then(|| view! {
            <div class="idle-overlay">
                <div class="card idle" role="alertdialog" aria-modal="true" aria-labelledby="idle-title" aria-describedby="idle-text" data-state="idle-warning">
                    <h2 id="idle-title">{w(FloorWord::IdleTitle)}</h2>
                    <p id="idle-text">{move || fill(FloorWord::IdleText, &[("minutes", &minutes), ("seconds", &left.get().unwrap_or(0).to_string())])}</p>
                    <button class="still-here" node_ref=button on:click=move |_| keep.run(())>{w(FloorWord::StillHere)}</button>
                </div>
            </div>
        })
    }
}
