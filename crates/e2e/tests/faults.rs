//! End to end, outages and the session's life: AIM offline (during use, at start, at the click,
//! while a token expires, with and without refresh tokens), the MES stopped, key rotation,
//! renewal in two tabs, expired sessions and refresh tokens, sign-out with and without AIM's
//! end-session endpoint. Each ends with the audit that no token leaked.

use anyhow::{Context as _, Result, bail};
use devstack::Stack;
use e2e::grid;
use e2e::scenario::{
    assert_no_token_stored, screenshot, shared_stack, shared_stack_with, sign_in, stack, stack_with,
    until_access_tokens_expire, with_browser,
};
use e2e::selectors::{QUICK_FILTER, SIGN_IN, in_script};
use e2e::{assert_accessible, click, text_of, wait_for, wait_for_text, wait_until};
use fantoccini::{Client, Locator};
use std::time::Duration;

/// The grid's sort, filter and selection as the page shows them.
async fn grid_state(client: &Client) -> Result<serde_json::Value> {
    Ok(client
        .execute(
            &in_script("return { sort: [...document.querySelectorAll(SEL.headers + '[aria-sort]')].map(th => th.getAttribute('aria-sort')),
                      filter: document.querySelector(SEL.quickFilter)?.value,
                      selected: [...document.querySelectorAll(SEL.selectedRows)].map(r => r.cells[0].textContent) };"),
            vec![],
        )
        .await?)
}

/// Sorts by the first column descending, filters, selects the first row shown.
async fn shape_grid(client: &Client, filter: &str) -> Result<serde_json::Value> {
    grid::sort_by(client, 0).await?;
    grid::sort_by(client, 0).await?;
    grid::filter(client, filter).await?;
    // The grid mirrors its filter in the address once it has applied it (a filter every row
    // matches leaves the status line as it was, so that cannot say).
    wait_until("the filter applies", || async {
        let url = client.current_url().await?;
        Ok(url.query().is_some_and(|q| q.contains(&format!("q={filter}"))))
    })
    .await?;
    grid::wait_for_rows(client).await?;
    grid::pick(client, 0).await?;
    grid::selected(client).await?;
    grid_state(client).await
}

/// After an outage: the rows are back with the sort, filter and selection of `before`, and
/// nothing leaked.
async fn back_as_before(
    client: &Client,
    before: &serde_json::Value,
    stack: &tokio::sync::Mutex<Stack>,
) -> Result<()> {
    e2e::grid::wait_for_rows(client).await?;
    let after = grid_state(client).await?;
    if &after != before {
        bail!("the grid changed over the outage: {before} → {after}");
    }
    assert_no_token_stored(client, &*stack.lock().await).await
}

#[tokio::test]
async fn aim_going_offline_shows_a_plain_state_and_the_portal_recovers_by_itself() {
    let shared = shared_stack("e2e-offline").await;
    with_browser(|client| async move {
        {
            let s = shared.lock().await;
            sign_in(&client, &s, "PLANT\\alice", "alice-demo").await?;
        }
        e2e::grid::wait_for_rows(&client).await?;
        client
            .find(Locator::Css("nav.lookups a[href='/lookups/1']"))
            .await?
            .click()
            .await?;
        wait_until("the items lookup shows", || async {
            Ok(text_of(&client, "#lookup-title").await? == "Items")
        })
        .await?;
        let before = shape_grid(&client, "ITM").await?;
        shared.lock().await.stop_aim().await;
        // Ask again: the MES cannot verify the token and answers 500; one call shows it.
        click(&client, "button.reload").await?;
        let offline = text_of(&client, "[data-state=authority-offline]").await?;
        if !offline.contains("AVEVA Identity Manager is offline") || !offline.contains("Trying again in") {
            bail!("unexpected offline text: {offline}");
        }
        screenshot(&client, "authority-offline").await?;
        assert_accessible(&client, "AIM offline").await?;
        assert_no_token_stored(&client, &*shared.lock().await)
            .await
            .context("in the offline state")?;
        shared.lock().await.start_aim().await?;
        // The automatic retry (5 s backoff) brings the rows back without a reload, as they were.
        back_as_before(&client, &before, &shared).await
    })
    .await;
}

#[tokio::test]
async fn aim_down_at_start_or_at_the_sign_in_click_is_a_plain_state_with_a_way_back() {
    let shared = shared_stack("e2e-aim-down").await;
    with_browser(|client| async move {
        let origin = shared.lock().await.portal_origin.clone();
        shared.lock().await.stop_aim().await;
        client.goto(&format!("{origin}/")).await?;
        wait_for_text(&client, ".card", &["cannot be reached", "did not answer"])
            .await
            .context("AIM down at start")?;
        assert_accessible(&client, "AIM unreachable at start").await?;
        shared.lock().await.start_aim().await?;
        client
            .find(Locator::XPath("//button[text()='Try again']"))
            .await?
            .click()
            .await?;
        // AIM is back, nobody is signed in there: the sign-in page.
        wait_for(&client, SIGN_IN).await?;
        assert_accessible(&client, "the sign-in page").await?;

        // AIM goes away between loading the page and pressing the button.
        shared.lock().await.stop_aim().await;
        click(&client, SIGN_IN).await?;
        wait_for_text(&client, ".card", &["cannot be reached", "did not answer"])
            .await
            .context("AIM down at the sign-in click")?;
        if client.current_url().await?.origin().ascii_serialization() != origin {
            bail!("AIM down at the sign-in click left the portal");
        }
        shared.lock().await.start_aim().await?;
        client
            .find(Locator::XPath("//button[text()='Try again']"))
            .await?
            .click()
            .await?;
        click(&client, SIGN_IN).await?;
        wait_for(&client, "input#username").await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn mes_stopped_names_its_address_and_the_grid_comes_back_when_it_returns() {
    let shared = shared_stack("e2e-mes-down").await;
    with_browser(|client| async move {
        let mes_base = {
            let s = shared.lock().await;
            sign_in(&client, &s, "PLANT\\alice", "alice-demo").await?;
            s.mes_base.clone()
        };
        e2e::grid::wait_for_rows(&client).await?;
        let before = shape_grid(&client, "line").await?;
        shared.lock().await.stop_mes().await;
        click(&client, "button.reload").await?;
        let down = text_of(&client, "[data-state=unreachable]").await?;
        if !down.contains(&format!("{mes_base}api/v3/entity")) || !down.contains("Trying again in") {
            bail!("the unreachable state should name the address and retry: {down}");
        }
        assert_no_token_stored(&client, &*shared.lock().await)
            .await
            .context("in the unreachable state")?;
        assert_accessible(&client, "the MES unreachable").await?;
        shared.lock().await.start_mes().await?;
        back_as_before(&client, &before, &shared).await
    })
    .await;
}

/// Asks the grid again and requires rows with nothing for the person to notice: no failure
/// state, no login form.
async fn reload_unnoticed(client: &Client, what: &str) -> Result<()> {
    grid::reload(client).await.with_context(|| what.to_owned())?;
    e2e::grid::wait_for_rows(client)
        .await
        .with_context(|| what.to_owned())?;
    if let Ok(state) = client.find(Locator::Css("[data-state]")).await {
        bail!(
            "{what}: the person noticed: {}",
            state.text().await.unwrap_or_default()
        );
    }
    if client.find(Locator::Css("input#password")).await.is_ok() {
        bail!("{what}: the login form showed");
    }
    Ok(())
}

#[tokio::test]
async fn short_lived_tokens_renew_unnoticed_and_two_tabs_never_reuse_a_refresh_token() {
    // Tokens for 5 s: every call renews first (renewal starts 30 s before expiry).
    let stack = stack_with("e2e-renewal", |o| o.user_token_lifetime = 5).await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let first = client.window().await?;
        let second = client.new_window(true).await?;
        client.switch_to_window(second.handle.clone()).await?;
        client.goto(&format!("{}/lookups/2", stack.portal_origin)).await?;
        e2e::grid::wait_for_rows(&client).await?;
        until_access_tokens_expire(&stack).await;
        for round in 0..3 {
            for tab in [&first, &second.handle] {
                client.switch_to_window(tab.clone()).await?;
                reload_unnoticed(&client, &format!("round {round}")).await?;
            }
        }
        let refreshes = stack
            .aim
            .counters
            .refreshes
            .load(std::sync::atomic::Ordering::Relaxed);
        let reused = stack
            .aim
            .counters
            .refresh_reuse
            .load(std::sync::atomic::Ordering::Relaxed);
        if refreshes < 2 || reused != 0 {
            bail!(
                "{refreshes} refreshes, {reused} refresh tokens presented twice (each tab must use its own)"
            );
        }
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn sign_out_revokes_ends_the_aim_session_and_reaches_the_other_tab() {
    let stack = stack("e2e-signout").await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let first_tab = client.window().await?;
        // The first tab's refresh token: AIM issues the ID token, the access token, then it.
        let refresh_token = stack
            .aim
            .issued_tokens()
            .into_iter()
            .find(|t| !t.contains('.'))
            .context("a refresh token was issued")?;

        // A second tab signs in silently through AIM's session.
        let second = client.new_window(true).await?;
        client.switch_to_window(second.handle.clone()).await?;
        client.goto(&format!("{}/lookups/1", stack.portal_origin)).await?;
        e2e::grid::wait_for_rows(&client).await?;

        client.switch_to_window(first_tab).await?;
        click(&client, "button#sign-out").await?;
        wait_until("the first tab says it is signed out", || async {
            Ok(text_of(&client, "#notice").await?.contains("You are signed out."))
        })
        .await?;
        if client.current_url().await?.path() != "/signed-out" {
            bail!("sign-out should come back from AIM to /signed-out");
        }

        client.switch_to_window(second.handle).await?;
        wait_until("the other tab is signed out too", || async {
            Ok(text_of(&client, "#notice").await?.contains("another tab"))
        })
        .await?;
        if client.find(Locator::Css("table.grid")).await.is_ok() {
            bail!("the other tab still shows MES data");
        }
        // AIM's session is over: a reload finds no silent sign-in, only the button.
        client.refresh().await?;
        wait_for(&client, SIGN_IN).await?;

        let answer = reqwest::Client::new()
            .post(format!("{}/connect/token", stack.issuer))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.as_str()),
                ("client_id", "mes-portal"),
            ])
            .send()
            .await?;
        if answer.status() != 400 {
            bail!(
                "the signed-out refresh token still works: HTTP {}",
                answer.status()
            );
        }
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn an_expired_session_signs_in_again_and_comes_back_to_the_same_grid_state() {
    // Every call renews first (renewal starts 30 s before expiry).
    let stack = stack_with("e2e-expiry", |o| o.user_token_lifetime = 5).await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        grid::sort_by(&client, 1).await?;
        grid::sort_by(&client, 1).await?;
        grid::filter(&client, "line").await?;
        wait_until("the filter applies", || async { Ok(grid::status(&client).await?.contains("match")) }).await?;
        grid::pick(&client, 0).await?;
        let picked = grid::selected(&client).await?.join(", ");
        let url = client.current_url().await?;
        if !url.as_str().contains("sort=ent_name%3Adesc")
            || !url.as_str().contains("q=line")
            || !url.as_str().contains(&format!("sel={picked}"))
        {
            bail!("the grid state should be in the address: {url}");
        }

        // The session ends at AIM (refresh tokens revoked); the next MES call cannot renew.
        let http = reqwest::Client::new();
        for token in stack.aim.issued_tokens().into_iter().filter(|t| !t.contains('.')) {
            http.post(format!("{}/connect/revocation", stack.issuer))
                .form(&[("token", token.as_str()), ("client_id", "mes-portal")])
                .send()
                .await?;
        }
        until_access_tokens_expire(&stack).await;
        click(&client, "button.reload").await?;
        wait_for(&client, "[data-state=session-expired]").await?;
        click(&client, "[data-state=session-expired] button").await?;

        // Back through AIM (its session needs no form) to the same grid, state intact.
        let selected = grid::selected(&client).await?.join(", ");
        let name_header = format!("{}:nth-child(2)", grid::HEADERS);
        let sort = client.find(Locator::Css(&name_header)).await?.attr("aria-sort").await?;
        let filter = client.find(Locator::Css(QUICK_FILTER)).await?.prop("value").await?;
        if sort.as_deref() != Some("descending") || filter.as_deref() != Some("line") || selected != picked {
            bail!("grid state after sign-in: sort {sort:?}, filter {filter:?}, selected {selected:?} (was {picked:?})");
        }
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

/// Waits until AIM has exchanged more than `exchanges` codes — a sign-in through its session,
/// started by the portal itself — and requires that no login form was shown for it.
async fn renewed_silently(client: &Client, aim: &devstack::aim::AimState, exchanges: usize) -> Result<()> {
    wait_until("a silent sign-in happened", || async {
        Ok(aim
            .counters
            .code_exchanges
            .load(std::sync::atomic::Ordering::Relaxed)
            > exchanges)
    })
    .await?;
    if client.find(Locator::Css("input#password")).await.is_ok() {
        bail!("the renewal showed the login form");
    }
    Ok(())
}

#[tokio::test]
async fn without_refresh_tokens_an_expired_session_renews_through_aim_by_itself() {
    let stack = stack_with("e2e-silent", |o| {
        o.user_token_lifetime = 5;
        o.refresh_tokens = false;
    })
    .await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        wait_for(&client, "table.grid th:nth-child(2)")
            .await?
            .click()
            .await?;
        if stack.aim.issued_tokens().iter().any(|t| !t.contains('.')) {
            bail!("no refresh token should have been issued");
        }
        let exchanges = stack
            .aim
            .counters
            .code_exchanges
            .load(std::sync::atomic::Ordering::Relaxed);
        until_access_tokens_expire(&stack).await;
        click(&client, "button.reload").await?;
        // No click needed: the portal goes through AIM (prompt=none) and comes back with rows.
        renewed_silently(&client, &stack.aim, exchanges).await?;
        e2e::grid::wait_for_rows(&client).await?;
        let sort = client
            .find(Locator::Css("table.grid th:nth-child(2)"))
            .await?
            .attr("aria-sort")
            .await?;
        if sort.as_deref() != Some("ascending") {
            bail!("the grid state should survive the silent renewal, aria-sort {sort:?}");
        }
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

/// The header's word on the session once it says `health` (ok, busy, warn, bad).
async fn session_health(client: &Client, health: &str) -> Result<String> {
    wait_for_text(client, &format!("#session-health[data-health={health}]"), &[""]).await
}

/// While AIM is down the tab must stay on the portal: a navigation to the authority would show
/// the browser's own error page.
async fn still_on_the_portal(client: &Client, origin: &str) -> Result<()> {
    let url = client.current_url().await?;
    if url.origin().ascii_serialization() != origin {
        bail!("the tab left the portal for {url}");
    }
    Ok(())
}

#[tokio::test]
async fn aim_offline_while_the_token_expires_is_an_outage_and_the_same_grid_returns_without_a_reload() {
    // 5 s tokens with refresh tokens: every call renews first. The MES keeps AIM's keys for an
    // hour, so what the person sees comes from the portal's own renewal, not from the MES's 500.
    let shared = shared_stack_with("e2e-renew-offline", |o| {
        o.user_token_lifetime = 5;
        o.jwks_ttl = Duration::from_secs(3600);
    })
    .await;
    with_browser(|client| async move {
        let origin = shared.lock().await.portal_origin.clone();
        sign_in(&client, &*shared.lock().await, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let before = shape_grid(&client, "line").await?;
        client.execute("window.__sameDocument = true", vec![]).await?;
        shared.lock().await.stop_aim().await;
        until_access_tokens_expire(&*shared.lock().await).await; // the access token expires
        click(&client, "button.reload").await?;
        let offline = text_of(&client, "[data-state=authority-offline]").await?;
        if !offline.contains("AVEVA Identity Manager is offline") || !offline.contains("Trying again in") {
            bail!("expected the authority-offline state, got: {offline}");
        }
        let header = session_health(&client, "warn").await?;
        if !header.contains("AIM offline") {
            bail!("the header should say AIM is offline: {header}");
        }
        still_on_the_portal(&client, &origin).await?;
        assert_no_token_stored(&client, &*shared.lock().await)
            .await
            .context("in the offline state")?;
        shared.lock().await.start_aim().await?;
        back_as_before(&client, &before, &shared).await?;
        if client
            .execute("return window.__sameDocument === true", vec![])
            .await?
            != serde_json::json!(true)
        {
            bail!("the page was reloaded to recover");
        }
        session_health(&client, "ok")
            .await
            .context("the header is back to valid")?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn without_refresh_tokens_aim_offline_at_expiry_never_sends_the_tab_to_a_dead_host() {
    let shared = shared_stack_with("e2e-silent-offline", |o| {
        o.user_token_lifetime = 5;
        o.refresh_tokens = false;
        o.jwks_ttl = Duration::from_secs(3600);
    })
    .await;
    with_browser(|client| async move {
        let origin = shared.lock().await.portal_origin.clone();
        sign_in(&client, &*shared.lock().await, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let before = shape_grid(&client, "line").await?;
        shared.lock().await.stop_aim().await;
        until_access_tokens_expire(&*shared.lock().await).await;
        click(&client, "button.reload").await?;
        text_of(&client, "[data-state=authority-offline]")
            .await
            .context("an outage, not a silent sign-in")?;
        // Two automatic retries (5 s, then 10 s) while AIM stays away: still here, still plain.
        tokio::time::sleep(Duration::from_secs(7)).await;
        still_on_the_portal(&client, &origin).await?;
        text_of(&client, "[data-state=authority-offline]").await?;
        let exchanges = shared
            .lock()
            .await
            .aim
            .counters
            .code_exchanges
            .load(std::sync::atomic::Ordering::Relaxed);
        shared.lock().await.start_aim().await?;
        // The next retry finds AIM and renews through its session, no form, to the same grid.
        let aim = shared.lock().await.aim.clone();
        renewed_silently(&client, &aim, exchanges).await?;
        back_as_before(&client, &before, &shared).await
    })
    .await;
}

#[tokio::test]
async fn aim_rotates_its_signing_key_mid_session_and_nobody_notices() {
    let stack = stack_with("e2e-rotation", |o| o.user_token_lifetime = 5).await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let kid = stack.aim.rotate_key()?;
        until_access_tokens_expire(&stack).await;
        reload_unnoticed(&client, "after the key rotation").await?;
        // The refresh after the rotation came with an ID token signed by the new key, which the
        // portal checked after fetching the keys again.
        let new_key_used = stack.aim.issued_tokens().iter().any(|t| {
            mes_client::decode_unverified(t).is_ok_and(|jwt| jwt.header.kid.as_deref() == Some(kid.as_str()))
        });
        if !new_key_used {
            bail!("no token was signed with the new key {kid}: the scenario proved nothing");
        }
        assert_no_token_stored(&client, &stack).await
    })
    .await;
}

#[tokio::test]
async fn an_expired_refresh_token_ends_the_session_plainly_and_keeps_the_grid() {
    let stack = stack_with("e2e-refresh-expiry", |o| {
        o.user_token_lifetime = 5;
        o.refresh_token_lifetime = 8;
    })
    .await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let before = shape_grid(&client, "line").await?;
        tokio::time::sleep(Duration::from_secs(9)).await; // access and refresh token both expire
        click(&client, "button.reload").await?;
        wait_for(&client, "[data-state=session-expired]").await?;
        assert_accessible(&client, "the session expired").await?;
        let header = session_health(&client, "bad").await?;
        if !header.contains("sign in again") {
            bail!("the header should say the session is over: {header}");
        }
        assert_no_token_stored(&client, &stack)
            .await
            .context("in the expired state")?;
        wait_for(&client, "[data-state=session-expired] button")
            .await?
            .click()
            .await?;
        // AIM's own session needs no form: back to the same grid.
        grid::selected(&client).await?;
        if grid_state(&client).await? != before {
            bail!("the grid changed over the new sign-in");
        }
        assert_no_token_stored(&client, &stack).await
    })
    .await;
}

/// After a sign-out through AIM: no token (nor its hint) in any address AIM logged, AIM's session
/// over (a reload shows the sign-in button, no silent sign-in), nothing left in the browser.
async fn signed_out_of_aim_with_no_token_in_a_url(
    client: &Client,
    stack: &Stack,
    log: &[String],
) -> Result<()> {
    let tokens = stack.aim.issued_tokens();
    for line in log {
        if line.contains("id_token_hint")
            || tokens
                .iter()
                .any(|t| line.contains(&t[t.len().saturating_sub(24)..]))
        {
            bail!("a token travelled in a URL: {line}");
        }
    }
    client.refresh().await?;
    wait_for(client, SIGN_IN)
        .await
        .context("AIM's session is over: no silent sign-in")?;
    assert_no_token_stored(client, stack).await
}

#[tokio::test]
async fn sign_out_after_refreshes_ends_the_aim_session_with_no_token_in_any_url() {
    let stack = stack_with("e2e-signout-refreshed", |o| o.user_token_lifetime = 5).await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        for round in 0..2 {
            until_access_tokens_expire(&stack).await;
            reload_unnoticed(&client, &format!("refresh {round}")).await?;
        }
        let refreshes = stack
            .aim
            .counters
            .refreshes
            .load(std::sync::atomic::Ordering::Relaxed);
        if refreshes < 2 {
            bail!("only {refreshes} refreshes: the scenario needs the ID token to have been renewed");
        }
        click(&client, "button#sign-out").await?;
        // AIM sends the browser back to the registered address only for a valid id_token_hint.
        wait_until("back from AIM at /signed-out", || async {
            Ok(client.current_url().await?.path() == "/signed-out")
        })
        .await?;
        wait_for_text(&client, "#notice", &["You are signed out."]).await?;
        let log = stack.aim.request_log();
        if !log
            .iter()
            .any(|l| l.starts_with("browser POST /identitymanager/connect/endsession"))
        {
            bail!("no POST to the end-session endpoint: {log:#?}");
        }
        signed_out_of_aim_with_no_token_in_a_url(&client, &stack, &log).await
    })
    .await;
}

/// An authority that takes sign-out only by GET (a certified provider's default): config.json's
/// `end_session_method: "get"` sends the person there without the ID token, the authority asks,
/// and the person comes back signed out of both.
#[tokio::test]
async fn sign_out_by_get_ends_the_session_of_a_get_only_authority_with_no_token_in_the_url() {
    let stack = stack_with("e2e-signout-get", |o| {
        o.aim_end_session_post = false;
        o.config_patch = Some(serde_json::json!({ "client": { "end_session_method": "get" } }));
    })
    .await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let logged = stack.aim.request_log().len();
        click(&client, "button#sign-out").await?;
        // Without the ID token as a hint, the authority asks the person first.
        click(&client, "#sign-out-confirm").await?;
        wait_until("back from AIM at /signed-out", || async {
            Ok(client.current_url().await?.path() == "/signed-out")
        })
        .await?;
        wait_for_text(&client, "#notice", &["You are signed out."]).await?;
        let log = stack.aim.request_log()[logged..].to_vec();
        if !log
            .iter()
            .any(|l| l.starts_with("browser GET /identitymanager/connect/endsession?"))
        {
            bail!("no GET to the end-session endpoint: {log:#?}");
        }
        if let Some(post) = log
            .iter()
            .find(|l| l.ends_with("POST /identitymanager/connect/endsession"))
        {
            bail!("a POST to an authority that takes only GET: {post}");
        }
        signed_out_of_aim_with_no_token_in_a_url(&client, &stack, &log).await
    })
    .await;
}

#[tokio::test]
async fn without_an_end_session_endpoint_sign_out_is_local_and_says_so() {
    let stack = stack_with("e2e-signout-local", |o| o.aim_end_session = false).await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let logged = stack.aim.request_log().len();
        click(&client, "button#sign-out").await?;
        let notice = wait_for_text(
            &client,
            "#notice",
            &[
                "signed out of the portal",
                "no sign-out address",
                "close the browser",
            ],
        )
        .await?;
        if client.current_url().await?.path() != "/signed-out" {
            bail!("a local sign-out stays on the portal at /signed-out ({notice})");
        }
        wait_until("the refresh token is revoked", || async {
            Ok(stack.aim.request_log()[logged..]
                .iter()
                .any(|l| l.starts_with("browser POST /identitymanager/connect/revocation")))
        })
        .await?;
        if let Some(line) = stack.aim.request_log()[logged..]
            .iter()
            .find(|l| l.contains("endsession"))
        {
            bail!("the portal used an end-session address the authority does not offer: {line}");
        }
        assert_no_token_stored(&client, &stack).await
    })
    .await;
}
