//! A grid framed by another site's page, as the tests see it from the host page — a page object:
//! what the frame says (its host element's `state`), signing in through its popup, its rows.

use crate::selectors::{EMBEDDED_SIGN_IN, ROWS};
use crate::{click, wait_until};
use anyhow::{Result, bail};
use fantoccini::Client;
use std::time::Duration;

/// The framing element's `state` attribute (what the frame last said), or `None`.
pub async fn state(client: &Client) -> Result<Option<String>> {
    let state = client
        .execute(
            "return document.querySelector('mes-lookup-frame').getAttribute('state')",
            vec![],
        )
        .await?;
    Ok(state.as_str().map(str::to_owned))
}

/// Signs in through the frame's button and the authority's popup; back on the host page.
pub async fn sign_in(client: &Client) -> Result<()> {
    let host = client.window().await?;
    press_sign_in(client).await?;
    client.enter_parent_frame().await?;
    crate::aim::sign_in_in_popup(client, host, "PLANT\\alice", "alice-demo").await?;
    wait_until("the frame says it is signed in", || async {
        Ok(state(client).await?.as_deref() == Some("signed-in"))
    })
    .await
}

/// On a host page whose framed grid says it is signed out: presses its Sign in button, and stays
/// inside the frame.
pub async fn press_sign_in(client: &Client) -> Result<()> {
    wait_until("the frame says it is signed out", || async {
        Ok(state(client).await?.as_deref() == Some("signed-out"))
    })
    .await?;
    client.enter_frame(0).await?;
    click(client, EMBEDDED_SIGN_IN).await?;
    Ok(())
}

/// Waits up to a minute for the framed grid (frame 0) to say its session ended, with no rows;
/// `why_not` describes the situation for the failure message.
pub async fn says_the_session_ended<F, Fut>(client: &Client, why_not: F) -> Result<()>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let started = std::time::Instant::now();
    while state(client).await?.as_deref() != Some("signed-out") {
        if started.elapsed() > Duration::from_secs(60) {
            bail!(
                "the framed grid still says {:?} a minute after the sign-out ({})",
                state(client).await?,
                why_not().await
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    client.enter_frame(0).await?;
    let said = crate::text_of(client, "[data-state=signed-out]").await?;
    let rows = client.find(fantoccini::Locator::Css(ROWS)).await.is_ok();
    client.enter_parent_frame().await?;
    if !said.contains("session has ended") || rows {
        bail!("the frame should say the session ended, and show no rows: {said}");
    }
    Ok(())
}

/// On a host page: waits for rows in its framed grid (frame 0), then is back on the host page.
pub async fn wait_for_rows(client: &Client) -> Result<()> {
    client.enter_frame(0).await?;
    crate::grid::wait_for_rows(client).await?;
    client.enter_parent_frame().await?;
    Ok(())
}
