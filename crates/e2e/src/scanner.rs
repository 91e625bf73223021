//! A keyboard-wedge barcode scanner as the tests drive it: the code's keys pressed back to back
//! (a scanner "types" a code within milliseconds) and Enter, sent to whatever has the focus —
//! and a person typing the same characters at a person's pace, for the difference.

use anyhow::Result;
use fantoccini::Client;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use std::time::Duration;

/// Keys down and up for `text`, then Enter, with `every` between keys.
fn keys(text: &str, every: Option<Duration>) -> KeyActions {
    let mut actions = KeyActions::new("scanner".into());
    for c in text.chars().chain([char::from(Key::Enter)]) {
        if let Some(pause) = every {
            actions = actions.pause(pause);
        }
        actions = actions
            .then(KeyAction::Down { value: c })
            .then(KeyAction::Up { value: c });
    }
    actions
}

/// Scans `code` as a keyboard-wedge scanner does: its characters back to back, then Enter.
pub async fn scan(client: &Client, code: &str) -> Result<()> {
    client.perform_actions(keys(code, None)).await?;
    client.release_actions().await?;
    Ok(())
}

/// config.json's `scan` for the scanning tests: the longest pause between a code's keys that
/// config.json allows (100 ms, not the demo's 50), so that a busy test machine pausing
/// WebDriver's keys now and then is not taken for typing. A scanner sends its keys a few
/// milliseconds apart.
pub fn room_to_scan() -> serde_json::Value {
    serde_json::json!({ "scan": { "key_gap_ms": 100 } })
}

/// Types `text` and Enter as a person does (a quick typist: 250 ms between keys).
pub async fn type_by_hand(client: &Client, text: &str) -> Result<()> {
    client
        .perform_actions(keys(text, Some(Duration::from_millis(250))))
        .await?;
    client.release_actions().await?;
    Ok(())
}
