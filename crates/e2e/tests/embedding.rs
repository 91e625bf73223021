//! End to end, a lookup grid in another site's page: `mes-embed-host.js` and the framed
//! `/embed/lookup` page on a second loopback origin, sign-in by popup, selections reaching the
//! host page, a site config.json does not list refused by the browser (frame-ancestors) and by
//! the page itself, forged messages ignored, no token on the host page.

use anyhow::{Context as _, Result, bail};
use e2e::scenario::{assert_no_token_stored, screenshot, stack, stack_with, with_browser};
use e2e::{assert_accessible, submit_aim_form, text_of, wait_for, wait_until};
use fantoccini::{Client, Locator};
use std::time::Duration;

/// The framing element's `state` attribute (what the frame last said), or `None`.
async fn frame_state(client: &Client) -> Result<Option<String>> {
    let state = client.execute("return document.querySelector('mes-lookup-frame').getAttribute('state')", vec![]).await?;
    Ok(state.as_str().map(str::to_owned))
}

/// Signs in through the frame's button and the authority's popup; back on the host page.
async fn sign_in_in_frame(client: &Client) -> Result<()> {
    let host = client.window().await?;
    wait_until("the frame says it is signed out", || async { Ok(frame_state(client).await?.as_deref() == Some("signed-out")) }).await?;
    client.enter_frame(0).await?;
    wait_for(client, "button.sign-in").await?.click().await?;
    client.enter_parent_frame().await?;
    wait_until("the sign-in popup opens", || async { Ok(client.windows().await?.len() == 2) }).await?;
    let popup = client.windows().await?.into_iter().find(|w| *w != host).context("popup")?;
    client.switch_to_window(popup).await?;
    submit_aim_form(client, "PLANT\\alice", "alice-demo").await?;
    wait_until("the popup closes", || async { Ok(client.windows().await?.len() == 1) }).await?;
    client.switch_to_window(host).await?;
    wait_until("the frame says it is signed in", || async { Ok(frame_state(client).await?.as_deref() == Some("signed-in")) }).await
}

/// Another site's page shows a lookup with two lines of HTML: the frame signs in by popup, sizes
/// itself to its content, reports selections as `mes-select` on the element, changes lookup when
/// the element's attribute changes (same session), ignores messages from anyone but its parent,
/// and no token reaches the host page.
#[tokio::test]
async fn another_sites_page_shows_a_framed_lookup_and_hears_its_selections() {
    let stack = stack("e2e-framed").await;
    let site = stack.other_site_origin.clone().expect("the examples' other site is served");
    with_browser(|client| async move {
        client.goto(&format!("{site}/")).await?;
        sign_in_in_frame(&client).await?;
        client.enter_frame(0).await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let title = text_of(&client, "#lookup-title").await?;
        let rows = client.find_all(Locator::Css("table.grid tbody tr[role=row]")).await?;
        rows[0].click().await?;
        rows[1].click().await?;
        let first = client.execute("return document.querySelector('table.grid tbody tr[role=row] td').textContent", vec![]).await?;
        assert_accessible(&client, "a lookup framed by another site").await?;
        client.enter_parent_frame().await?;
        let first = first.as_str().unwrap_or_default().to_owned();
        wait_until("the host page hears the selection", || async {
            let picked = text_of(&client, "#picked").await?;
            Ok(picked.contains(&first) && picked.contains(", "))
        })
        .await?;
        let height: f64 = serde_json::from_value(
            client.execute("return document.querySelector('mes-lookup-frame iframe').getBoundingClientRect().height", vec![]).await?,
        )?;
        if title != "Lots" || height < 300.0 {
            bail!("the frame should show Lots, sized to its content: {title}, {height} px");
        }
        screenshot(&client, "framed").await?;

        // Forged: a sibling frame of the host page asks the grid for another lookup and tells the
        // host of a selection; both must be ignored (only the parent, only the frame count).
        client
            .execute(
                "const evil = document.createElement('iframe'); document.body.append(evil);
                 const grid = document.querySelector('mes-lookup-frame iframe').contentWindow;
                 evil.contentWindow.eval(`parent.postMessage({ type: 'mes-select', values: ['FORGED'], rows: [] }, '*');`);
                 evil.contentWindow.grid = grid;
                 evil.contentWindow.eval(`grid.postMessage({ type: 'mes-lookup', lookup: 'Users' }, '*');`);",
                vec![],
            )
            .await?;
        tokio::time::sleep(Duration::from_millis(700)).await;
        client.enter_frame(0).await?;
        let still = text_of(&client, "#lookup-title").await?;
        client.enter_parent_frame().await?;
        if still != "Lots" || text_of(&client, "#picked").await?.contains("FORGED") {
            bail!("a forged message was obeyed: the frame shows {still}");
        }
        // The host page itself may change the lookup: the element's attribute, same session.
        client.find(Locator::Css("#show-items")).await?.click().await?;
        client.enter_frame(0).await?;
        wait_until("the frame shows Items", || async { Ok(text_of(&client, "#lookup-title").await? == "Items") }).await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        client.enter_parent_frame().await?;
        if frame_state(&client).await?.as_deref() != Some("signed-in") || client.windows().await?.len() != 1 {
            bail!("changing the lookup must not ask for a new sign-in");
        }
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

/// A site config.json does not list: the browser refuses to frame the page (frame-ancestors,
/// reported to the portal server), so the element never hears a word.
#[tokio::test]
async fn a_site_that_is_not_listed_cannot_frame_a_lookup() {
    let mut stack = stack("e2e-framed-refused").await;
    let site = stack.serve_disallowed_site().await.expect("a second site");
    let reports = std::sync::Arc::new(tokio::sync::Mutex::new(stack));
    let shared = reports.clone();
    with_browser(|client| async move {
        client.goto(&format!("{site}/")).await?;
        wait_until("the browser reports the refused framing", || async {
            Ok(shared.lock().await.csp_reports().iter().any(|r| r.contains("frame-ancestors")))
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        if frame_state(&client).await?.is_some() {
            bail!("a refused frame must say nothing");
        }
        Ok(())
    })
    .await;
}

/// With a misconfigured server (no frame-ancestors), the page itself refuses a site config.json
/// does not list: it says why inside the frame, offers no sign-in, and tells the host nothing.
#[tokio::test]
async fn the_framed_page_itself_refuses_a_site_that_is_not_listed() {
    let mut stack = stack_with("e2e-framed-page-refuses", |o| o.hostile = true).await;
    let site = stack.serve_disallowed_site().await.expect("a second site");
    with_browser(|client| async move {
        client.goto(&format!("{site}/")).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        client.enter_frame(0).await?;
        let refused = wait_for(&client, "[data-state=frame-refused]").await?.text().await?;
        let sign_in = client.find(Locator::Css("button.sign-in")).await.is_ok();
        assert_accessible(&client, "a framed lookup refusing its host").await?;
        client.enter_parent_frame().await?;
        if sign_in || !refused.contains("embed_origins") || frame_state(&client).await?.is_some() {
            bail!("the page must refuse plainly and say nothing to its host: {refused}");
        }
        Ok(())
    })
    .await;
}
