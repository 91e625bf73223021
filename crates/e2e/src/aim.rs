//! The authority's pages as the tests see them — a page object: its sign-in form (devstack's
//! AIM) and the popup an embedded or framed grid opens for it.

use crate::{click, type_into, wait_until};
use anyhow::{Result, anyhow};
use fantoccini::Client;

/// Fills and submits AIM's sign-in form (in whichever window shows it).
pub async fn submit_form(client: &Client, user: &str, password: &str) -> Result<()> {
    type_into(client, "input#username", user).await?;
    type_into(client, "input#password", password).await?;
    click(client, "button#sign-in").await?;
    Ok(())
}

/// After a click in the window `host` that opened the authority's sign-in popup: signs in there
/// as `user` at devstack's AIM, waits for the popup to hand the answer to its opener and close
/// itself, and comes back to `host`.
pub async fn sign_in_in_popup(
    client: &Client,
    host: fantoccini::wd::WindowHandle,
    user: &str,
    password: &str,
) -> Result<()> {
    in_sign_in_popup(client, host, || submit_form(client, user, password)).await
}

/// [`sign_in_in_popup`] at any authority: `sign_in` fills its pages in the popup.
pub async fn in_sign_in_popup<F, Fut>(
    client: &Client,
    host: fantoccini::wd::WindowHandle,
    sign_in: F,
) -> Result<()>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    switch_to_sign_in_popup(client, &host).await?;
    sign_in().await?;
    // The popup relays the answer to the page and closes itself.
    wait_until("the popup closes", || async {
        Ok(client.windows().await?.len() == 1)
    })
    .await?;
    client.switch_to_window(host).await?;
    Ok(())
}

/// Waits for the sign-in popup opened from the window `host` and switches to it.
pub async fn switch_to_sign_in_popup(client: &Client, host: &fantoccini::wd::WindowHandle) -> Result<()> {
    wait_until("the sign-in popup opens", || async {
        Ok(client.windows().await?.len() == 2)
    })
    .await?;
    let popup = client
        .windows()
        .await?
        .into_iter()
        .find(|w| w != host)
        .ok_or_else(|| anyhow!("no popup"))?;
    client.switch_to_window(popup).await?;
    Ok(())
}
