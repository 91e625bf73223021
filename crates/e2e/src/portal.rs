//! The portal's own page as the tests see it — a page object: signing in from its Sign in
//! button, opening a lookup from the navigation, signing out in a tab of its own, landing at
//! `/signed-out`.

use crate::selectors::{SIGN_IN, SIGN_OUT};
use crate::{click, text_of, wait_until};
use anyhow::Result;
use fantoccini::Client;

/// Signs in through the portal at `origin`: its Sign in button, then AIM's form.
pub async fn sign_in_at(client: &Client, origin: &str, user: &str, password: &str) -> Result<()> {
    client.goto(&format!("{origin}/")).await?;
    click(client, SIGN_IN).await?;
    crate::aim::submit_form(client, user, password).await
}

/// Opens lookup `index` from the navigation and waits until its page, titled `title`, shows
/// rows.
pub async fn open_lookup(client: &Client, index: usize, title: &str) -> Result<()> {
    click(client, &format!("nav.lookups a[href='/lookups/{index}']")).await?;
    wait_until(&format!("the {title} lookup shows"), || async {
        Ok(text_of(client, "#lookup-title").await? == title)
    })
    .await?;
    crate::grid::wait_for_rows(client).await?;
    Ok(())
}

/// On a host page with a signed-in framed grid: a portal tab at `origin` signs the same person in
/// through the authority's session (no form), signs out — clicking `confirm` on the authority's
/// page when it asks (a sign-out by GET) — and is closed; back on the host page's tab.
pub async fn sign_out_in_a_tab(client: &Client, origin: &str, confirm: Option<&str>) -> Result<()> {
    let host_tab = client.window().await?;
    let portal_tab = client.new_window(true).await?;
    client.switch_to_window(portal_tab.handle.clone()).await?;
    client.goto(&format!("{origin}/")).await?;
    crate::grid::wait_for_rows(client).await?;
    click(client, SIGN_OUT).await?;
    if let Some(confirm) = confirm {
        click(client, confirm).await?;
    }
    back_at_signed_out(client, origin).await?;
    client.close_window().await?;
    client.switch_to_window(host_tab).await?;
    Ok(())
}

/// Waits until the page is the portal's `/signed-out` at `origin`, back from the authority.
pub async fn back_at_signed_out(client: &Client, origin: &str) -> Result<()> {
    wait_until("back at the portal, signed out", || async {
        Ok(client
            .current_url()
            .await?
            .as_str()
            .starts_with(&format!("{origin}/signed-out")))
    })
    .await
}
