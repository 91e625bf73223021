//! Automatic retries: the wait before each, and the countdown that shows it. Shared by every view
//! that waits for something to come back (a part's file, the MES, the authority).

use crate::words::{Word, fill};
use leptos::prelude::*;

/// Seconds to wait before automatic retry number `attempt` (5, 10, 20, 40, then 60), or longer
/// when the server asked for a longer wait (`Retry-After`, already capped by mes-client).
pub fn backoff_seconds(attempt: u32, asked: Option<u64>) -> u32 {
    let own = (5u32 << attempt.min(4)).min(60);
    own.max(asked.map_or(0, |s| u32::try_from(s).unwrap_or(u32::MAX)))
}

/// "Trying again in N s…", then `retry`: outages end by themselves, and a screen left open on
/// the plant floor should come back without anyone touching it. `asked`: the wait the server
/// asked for, if longer than the portal's own.
#[component]
pub fn RetryCountdown(
    retry: Callback<()>,
    attempt: u32,
    #[prop(optional_no_strip)] asked: Option<u64>,
) -> impl IntoView {
    let left = RwSignal::new(backoff_seconds(attempt, asked));
    let handle = set_interval_with_handle(
        move || {
            let n = left.get_untracked().saturating_sub(1);
            left.set(n);
            if n == 0 {
                retry.run(());
            }
        },
        std::time::Duration::from_secs(1),
    )
    .ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
    view! { <p class="countdown">{move || fill(Word::Countdown, &[("seconds", &left.get().to_string())])}</p> }
}
