//! End to end: the built portal (trunk, release), the devstack stand-ins on three loopback
//! origins, and headless Chromium driven over WebDriver. `cargo xtask test` builds the portal
//! and sets MES_PORTAL_DIST; run alone, these tests say how to get there.

use anyhow::{Context as _, Result, anyhow, bail};
use devstack::{Stack, StackOptions};
use e2e::scenario::{
    assert_no_token_stored, grid_rows, screenshot, sign_in, stack, stack_with, with_browser,
};
use e2e::{assert_accessible, downloads, submit_aim_form, text_of, wait_for, wait_for_text, wait_until};
use fantoccini::{Client, Locator};
use std::time::Duration;

#[tokio::test]
async fn an_mes_user_signs_in_sees_entities_and_no_token_is_stored() {
    let stack = stack("e2e-user").await;
    let origin = stack.portal_origin.clone();
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        assert_eq!(text_of(&client, "#signed-in-as").await?, "PLANT\\alice");
        let rows = grid_rows(&client).await?;
        let names: Vec<&str> = rows.iter().filter_map(|r| r.get(1).map(String::as_str)).collect();
        if !(names.contains(&"Riverside Plant") && names.contains(&"Receiving Line 1")) {
            bail!("entity names missing from the grid: {names:?}");
        }
        let url = client.current_url().await?;
        if url.as_str() != format!("{origin}/") {
            bail!("after sign-in the address should be the portal's root, not {url}");
        }
        assert_no_token_stored(&client, &stack).await?;
        assert_accessible(&client, "a lookup grid").await?;
        screenshot(&client, "grid").await?;
        // The system's dark scheme is followed, and stays readable (axe checks the contrast).
        let background = "return getComputedStyle(document.querySelector('main')).backgroundColor + ' ' + getComputedStyle(document.querySelector('table.grid td')).color";
        let light = client.execute(background, vec![]).await?;
        e2e::cdp(&client, "Emulation.setEmulatedMedia", serde_json::json!({ "features": [{ "name": "prefers-color-scheme", "value": "dark" }] }))
            .await?;
        let dark = client.execute(background, vec![]).await?;
        if dark == light {
            bail!("the dark scheme changes nothing: {dark}");
        }
        assert_accessible(&client, "a lookup grid in the dark scheme").await?;
        screenshot(&client, "dark").await?;
        // Nothing moves on its own (no transitions, animations or smooth scrolling), so there is
        // nothing for prefers-reduced-motion to turn off; this keeps it so.
        let motion = client
            .execute(
                "const moving = [...document.querySelectorAll('*')].filter(e => { const s = getComputedStyle(e);
                     return s.transitionDuration.split(',').some(d => parseFloat(d) > 0)
                         || s.animationName !== 'none' || s.scrollBehavior === 'smooth'; });
                 return moving.map(e => e.tagName + '.' + e.className).concat(document.getAnimations().map(a => String(a.id)));",
                vec![],
            )
            .await?;
        if motion != serde_json::json!([]) {
            bail!("something moves, so prefers-reduced-motion needs handling: {motion}");
        }
        e2e::cdp(&client, "Emulation.setEmulatedMedia", serde_json::json!({ "features": [] })).await?;

        // The quick filter finds rows beyond the first screen.
        wait_for(&client, "input[type=search]").await?.send_keys("packaging line 1").await?;
        wait_until("the filter shows only Packaging Line 1 rows", || async {
            let rows = grid_rows(&client).await?;
            Ok(!rows.is_empty() && rows.iter().all(|r| r[1].to_lowercase().contains("packaging")))
        })
        .await?;

        // Reload: signed in again through AIM's session, without the form, and still nothing stored.
        client.refresh().await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        if client.find(Locator::Css("input#password")).await.is_ok() {
            bail!("the reload showed the login form");
        }
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn an_aim_account_that_is_not_an_mes_user_sees_a_plain_denial() {
    let stack = stack("e2e-denied").await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\victor", "victor-demo").await?;
        let denial = text_of(&client, "[data-state=denied]").await?;
        for expected in [
            "Access denied",
            "PLANT\\victor",
            "You do not have permission to make the request",
        ] {
            if !denial.contains(expected) {
                bail!("the denial does not say {expected:?}: {denial}");
            }
        }
        assert_no_token_stored(&client, &stack).await?;
        assert_accessible(&client, "the MES denial").await?;
        screenshot(&client, "denied").await?;
        Ok(())
    })
    .await;
}

/// The grid's sort, filter and selection as the page shows them.
async fn grid_state(client: &Client) -> Result<serde_json::Value> {
    Ok(client
        .execute(
            "return { sort: [...document.querySelectorAll('table.grid th[aria-sort]')].map(th => th.getAttribute('aria-sort')),
                      filter: document.querySelector('input[type=search]')?.value,
                      selected: [...document.querySelectorAll('tr[aria-selected=true]')].map(r => r.cells[0].textContent) };",
            vec![],
        )
        .await?)
}

/// Sorts by the first column descending, filters, selects the first row shown.
async fn shape_grid(client: &Client, filter: &str) -> Result<serde_json::Value> {
    let header = wait_for(client, "table.grid thead tr[role=row] th").await?;
    header.click().await?;
    header.click().await?;
    wait_for(client, "input[type=search]")
        .await?
        .send_keys(filter)
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    wait_for(client, "table.grid tbody tr[role=row]")
        .await?
        .click()
        .await?;
    wait_until("a row is selected", || async {
        Ok(client.find(Locator::Css("tr[aria-selected=true]")).await.is_ok())
    })
    .await?;
    grid_state(client).await
}

/// The stand-ins shared between the scenario and the test body (which stops and starts them).
async fn shared_stack(name: &str) -> std::sync::Arc<tokio::sync::Mutex<Stack>> {
    shared_stack_with(name, |_| {}).await
}

/// [`shared_stack`] with `tune` applied to the test defaults.
async fn shared_stack_with(
    name: &str,
    tune: impl FnOnce(&mut StackOptions),
) -> std::sync::Arc<tokio::sync::Mutex<Stack>> {
    std::sync::Arc::new(tokio::sync::Mutex::new(stack_with(name, tune).await))
}

/// After an outage: the rows are back with the sort, filter and selection of `before`, and
/// nothing leaked.
async fn back_as_before(
    client: &Client,
    before: &serde_json::Value,
    stack: &tokio::sync::Mutex<Stack>,
) -> Result<()> {
    wait_for(client, "table.grid tbody tr[role=row]").await?;
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
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
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
        client.find(Locator::Css("button.reload")).await?.click().await?;
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
        wait_for(&client, "button#sign-in").await?;
        assert_accessible(&client, "the sign-in page").await?;

        // AIM goes away between loading the page and pressing the button.
        shared.lock().await.stop_aim().await;
        client.find(Locator::Css("button#sign-in")).await?.click().await?;
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
        wait_for(&client, "button#sign-in").await?.click().await?;
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
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let before = shape_grid(&client, "line").await?;
        shared.lock().await.stop_mes().await;
        client.find(Locator::Css("button.reload")).await?.click().await?;
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
    client.find(Locator::Css("button.reload")).await?.click().await?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    wait_for(client, "table.grid tbody tr[role=row]")
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
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let first = client.window().await?;
        let second = client.new_window(true).await?;
        client.switch_to_window(second.handle.clone()).await?;
        client.goto(&format!("{}/lookups/2", stack.portal_origin)).await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        tokio::time::sleep(Duration::from_secs(6)).await;
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
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
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
        wait_for(&client, "table.grid tbody tr[role=row]").await?;

        client.switch_to_window(first_tab).await?;
        wait_for(&client, "button#sign-out").await?.click().await?;
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
        wait_for(&client, "button#sign-in").await?;

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

/// The text of each checklist step of the first Web API's connection test, once it settles.
async fn connection_test(client: &Client) -> Result<Vec<(String, String)>> {
    async fn read(client: &Client) -> Result<Vec<(String, String)>> {
        let value = client
            .execute(
                "return [...document.querySelectorAll('#web-api-0 ol.checklist li')].map(li => [li.className, li.textContent]);",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(value)?)
    }
    wait_for(client, "#web-api-0 button.test-connection")
        .await?
        .click()
        .await?;
    wait_until("the connection test settles", || async {
        Ok(read(client)
            .await?
            .iter()
            .all(|(class, _)| class != "running" && class != "waiting"))
    })
    .await?;
    read(client).await
}

#[tokio::test]
async fn web_apis_page_tests_the_connection_and_diagnostics_show_claims_not_tokens() {
    let shared = shared_stack("e2e-webapis").await;
    with_browser(|client| async move {
        let origin = shared.lock().await.portal_origin.clone();
        {
            let s = shared.lock().await;
            sign_in(&client, &s, "PLANT\\alice", "alice-demo").await?;
        }
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        client
            .find(Locator::Css("nav a[href='/web-apis']"))
            .await?
            .click()
            .await?;
        let steps = connection_test(&client).await?;
        if !steps.iter().all(|(class, _)| class == "passed") {
            bail!("a good definition should pass every step: {steps:?}");
        }
        if !steps[3].1.contains("PLANT\\alice") {
            bail!("the last step names the MES user: {steps:?}");
        }
        screenshot(&client, "web-apis").await?;
        assert_accessible(&client, "Web APIs after a connection test").await?;

        // AIM offline: the first step fails and says so; the others are not run.
        shared.lock().await.stop_aim().await;
        let steps = connection_test(&client).await?;
        if steps[0].0 != "failed" || !steps[1..].iter().all(|(class, _)| class == "skipped") {
            bail!("with AIM down the checklist should stop at step 1: {steps:?}");
        }
        shared.lock().await.start_aim().await?;

        client.goto(&format!("{origin}/diagnostics")).await?;
        let claims = text_of(&client, "#access-claims").await?;
        assert_accessible(&client, "Diagnostics").await?;
        for expected in ["PLANT\\alice", "mes-web-api", "offline_access", "mes-portal"] {
            if !claims.contains(expected) {
                bail!("diagnostics should show {expected}: {claims}");
            }
        }
        let page = client.source().await?;
        let s = shared.lock().await;
        for token in s.aim.issued_tokens() {
            if page.contains(&token[token.len().saturating_sub(24)..]) {
                bail!("a token appears on the diagnostics page");
            }
        }
        assert_no_token_stored(&client, &s).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_non_mes_user_fails_the_last_step_and_export_downloads_the_filtered_rows() {
    let stack = stack("e2e-export").await;
    let _ = std::fs::remove_dir_all(downloads());
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        wait_for(&client, "input[type=search]")
            .await?
            .send_keys("packaging line 1")
            .await?;
        wait_until("the filter applies", || async {
            Ok(text_of(&client, ".grid-status").await?.contains("match"))
        })
        .await?;
        client.find(Locator::Css("button.export")).await?.click().await?;
        let file = downloads().join("Entities.csv");
        wait_until("the CSV is downloaded", || async {
            Ok(std::fs::metadata(&file).is_ok_and(|m| m.len() > 0))
        })
        .await?;
        let csv = std::fs::read_to_string(&file)?;
        let lines: Vec<&str> = csv.lines().collect();
        if lines.first() != Some(&"ent_id,ent_name,description,parent_ent_id,can_run_jobs,last_edit_at_local")
        {
            bail!("unexpected CSV header: {:?}", lines.first());
        }
        if lines.len() < 2 || !lines[1..].iter().all(|l| l.to_lowercase().contains("packaging")) {
            bail!("the CSV should hold exactly the filtered rows: {csv}");
        }

        client
            .find(Locator::Css("button#sign-out"))
            .await?
            .click()
            .await?;
        wait_for(&client, "#notice").await?;
        sign_in(&client, &stack, "PLANT\\victor", "victor-demo").await?;
        wait_for(&client, "[data-state=denied]").await?;
        client
            .find(Locator::Css("nav a[href='/web-apis']"))
            .await?
            .click()
            .await?;
        let steps = connection_test(&client).await?;
        let classes: Vec<&str> = steps.iter().map(|(c, _)| c.as_str()).collect();
        if classes != ["passed", "passed", "passed", "failed"] || !steps[3].1.contains("PLANT\\victor") {
            bail!("victor's token is fine but he is no MES user: {steps:?}");
        }
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
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let name_header = "table.grid th:nth-child(2)";
        wait_for(&client, name_header).await?.click().await?;
        client.find(Locator::Css(name_header)).await?.click().await?;
        client.find(Locator::Css("input[type=search]")).await?.send_keys("line").await?;
        wait_until("the filter applies", || async { Ok(text_of(&client, ".grid-status").await?.contains("match")) }).await?;
        client.find(Locator::Css("table.grid tbody tr[role=row]")).await?.click().await?;
        let picked = text_of(&client, "tr[aria-selected=true] td:first-child").await?;
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
        tokio::time::sleep(Duration::from_secs(6)).await; // the access token expires
        client.find(Locator::Css("button.reload")).await?.click().await?;
        wait_for(&client, "[data-state=session-expired]").await?;
        wait_for(&client, "[data-state=session-expired] button").await?.click().await?;

        // Back through AIM (its session needs no form) to the same grid, state intact.
        wait_for(&client, "table.grid tbody tr[aria-selected=true]").await?;
        let sort = client.find(Locator::Css(name_header)).await?.attr("aria-sort").await?;
        let filter = client.find(Locator::Css("input[type=search]")).await?.prop("value").await?;
        let selected = text_of(&client, "tr[aria-selected=true] td:first-child").await?;
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
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
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
        tokio::time::sleep(Duration::from_secs(6)).await;
        client.find(Locator::Css("button.reload")).await?.click().await?;
        // No click needed: the portal goes through AIM (prompt=none) and comes back with rows.
        renewed_silently(&client, &stack.aim, exchanges).await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
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

#[tokio::test]
async fn a_plain_page_embeds_a_grid_signs_in_through_a_popup_and_gets_select_events() {
    let stack = stack("e2e-embed").await;
    with_browser(|client| async move {
        client
            .goto(&format!("{}/examples/embed.html", stack.portal_origin))
            .await?;
        // mountRowsGrid, from the built mes-embed.js: the page's own rows, with no sign-in.
        let checklist = wait_for_text(
            &client,
            "#checklist table.grid tbody",
            &["Count open lots on the line", "Yes", "No"],
        )
        .await?;
        if checklist.lines().filter(|l| !l.trim().is_empty()).count() < 3 {
            bail!("the page's three checklist rows should show: {checklist:?}");
        }
        let host = client.window().await?;
        wait_for(&client, "#lots button.sign-in").await?.click().await?;
        // The authority's form opens in a popup window.
        wait_until("the sign-in popup opens", || async {
            Ok(client.windows().await?.len() == 2)
        })
        .await?;
        let popup = client
            .windows()
            .await?
            .into_iter()
            .find(|w| *w != host)
            .context("popup")?;
        client.switch_to_window(popup).await?;
        submit_aim_form(&client, "PLANT\\alice", "alice-demo").await?;
        // The popup relays the answer to the page and closes itself.
        wait_until("the popup closes", || async {
            Ok(client.windows().await?.len() == 1)
        })
        .await?;
        client.switch_to_window(host).await?;
        wait_for(&client, "#lots table.grid tbody tr[role=row]").await?;
        if !client
            .current_url()
            .await?
            .as_str()
            .ends_with("/examples/embed.html")
        {
            bail!("the host page's address changed");
        }
        // Pick two lots: the page hears about it through the mes-select event.
        let rows = client
            .find_all(Locator::Css("#lots table.grid tbody tr[role=row]"))
            .await?;
        rows[0].click().await?;
        rows[2].click().await?;
        let first = grid_rows(&client).await?[0][0].clone();
        wait_until("the page shows the picked lots", || async {
            let picked = text_of(&client, "#picked").await?;
            Ok(picked.contains(&first) && picked.contains(", "))
        })
        .await?;
        let detail_rows = client
            .execute("return document.getElementById('picked').dataset.rows", vec![])
            .await?;
        if detail_rows != serde_json::json!("2") {
            bail!("the event should carry two rows, got {detail_rows}");
        }
        // Clicking rows scrolled the grid sideways; show it from its first column.
        client
            .execute(
                "document.querySelector('#lots .grid-viewport').scrollLeft = 0",
                vec![],
            )
            .await?;
        screenshot(&client, "embedded").await?;
        assert_accessible(&client, "the embedded grids' page").await?;
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

/// What the lookup section shows: its title and `loading` (also rows still arriving), `grid`,
/// `empty`, a failure's `data-state`, or `unknown`.
async fn lookup_outcome(client: &Client) -> Result<(String, String)> {
    let value = client
        .execute(
            "const sec = document.querySelector('section.lookup');
             if (!sec) return ['', 'none'];
             const title = sec.querySelector('#lookup-title')?.textContent ?? '';
             if (sec.querySelector('.skeleton')) return [title, 'loading'];
             const failure = sec.querySelector('[data-state]');
             if (failure) return [title, failure.dataset.state];
             // A grid whose status says 'so far' is still receiving rows: not an outcome yet.
             const status = sec.querySelector('.grid-status')?.textContent ?? '';
             if (sec.querySelector('table.grid tbody tr[role=row]')) return [title, status.includes('so far') ? 'loading' : 'grid'];
             if ([...sec.querySelectorAll('.state h2')].some(h => h.textContent === 'No rows')) return [title, 'empty'];
             return [title, 'unknown'];",
            vec![],
        )
        .await?;
    serde_json::from_value(value).map_err(|e| anyhow!("outcome: {e}"))
}

#[tokio::test]
async fn hostile_mes_answers_become_plain_states_or_text_never_script_panics_or_csp_violations() {
    use devstack::hostile::{Expect, MES_CASES};
    let stack = stack_with("e2e-hostile-mes", |o| o.hostile = true).await;
    let base_lookups = stack.portal_config()["lookups"].as_array().map_or(0, |l| l.len()) - MES_CASES.len();
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let mut failures = Vec::new();
        for (i, case) in MES_CASES.iter().enumerate() {
            let title = format!("Hostile: {}", case.name);
            client.find(Locator::Css(&format!("nav.lookups a[href='/lookups/{}']", base_lookups + i))).await?.click().await?;
            let mut outcome = (String::new(), String::new());
            let _ = wait_until(&format!("{} settles", case.name), || {
                let client = client.clone();
                let title = title.clone();
                async move {
                    let (shown, state) = lookup_outcome(&client).await?;
                    Ok(shown == title && state != "loading" && state != "unknown")
                }
            })
            .await;
            if let Ok(o) = lookup_outcome(&client).await {
                outcome = o;
            }
            let want = match case.expect {
                Expect::Grid => "grid",
                Expect::Empty => "empty",
                Expect::State(s) => s,
            };
            if outcome.0 != title || outcome.1 != want {
                failures.push(format!("{}: expected {want}, the portal showed {:?}", case.name, outcome.1));
            }
            let checks = client.execute("return [window.__pwned === undefined, document.querySelector('.panic') === null]", vec![]).await?;
            if checks != serde_json::json!([true, true]) {
                bail!("{}: script ran or the portal panicked ({checks})", case.name);
            }
        }
        if !failures.is_empty() {
            bail!("hostile answers shown wrongly:\n{}", failures.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let reports = stack.csp_reports();
        if !reports.is_empty() {
            bail!("Content-Security-Policy violations: {reports:?}");
        }
        // Control: an injected inline script is blocked and reported, so silence above means
        // there were no violations, not that reports cannot arrive.
        client
            .execute("const s = document.createElement('script'); s.textContent = 'window.__probe = 1'; document.body.append(s);", vec![])
            .await?;
        wait_until("the blocked probe is reported", || async { Ok(!stack.csp_reports().is_empty()) }).await?;
        if client.execute("return window.__probe === undefined", vec![]).await? != serde_json::json!(true) {
            bail!("the Content-Security-Policy let an inline script run");
        }
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn tampered_sign_in_answers_are_refused_plainly_and_nothing_is_stored() {
    use devstack::hostile::{TAMPERS, Tamper};
    let stack = stack_with("e2e-tamper", |o| o.hostile = true).await;
    let origin = stack.portal_origin.clone();
    with_browser(|client| async move {
        // An honest sign-in first: AIM's session then answers each attempt below without the form.
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let honest_callback = stack.aim.last_callback().context("AIM redirected back")?;
        let mut wrong = Vec::new();
        for &tamper in TAMPERS {
            stack.aim.set_tamper(Some(tamper)).map_err(|e| anyhow!(e))?;
            client.goto(&format!("{origin}/")).await?;
            let (css, expected) = match tamper {
                Tamper::DropState | Tamper::WrongState => ("#sign-in-error", "state mismatch"),
                Tamper::DropIss => ("#sign-in-error", "lacks the issuer"),
                Tamper::WrongIss => ("#sign-in-error", "evil.example"),
                Tamper::AccessDenied => ("#sign-in-error", "refused the sign-in: access_denied"),
                Tamper::BadSignature => ("#sign-in-error", "signature is not valid"),
                Tamper::AlgNone => ("#sign-in-error", "\"none\", which is not accepted"),
                Tamper::WrongAudience => ("#sign-in-error", "not meant for this portal"),
                Tamper::WrongNonce => ("#sign-in-error", "nonce mismatch"),
                Tamper::Expired => ("#sign-in-error", "expired"),
                Tamper::IssuedInFuture => ("#sign-in-error", "dated in the future"),
                Tamper::UnknownKid => ("#sign-in-error", "unknown key"),
                Tamper::WrongIssuerInDiscovery => ("[role=alert] pre", "evil.example"),
            };
            let shown = text_of(&client, css)
                .await
                .unwrap_or_else(|e| format!("nothing ({e})"));
            if !shown.contains(expected) {
                wrong.push(format!("{tamper:?}: expected {expected:?} in {shown:?}"));
            }
            if client
                .execute("return window.__pwned === undefined", vec![])
                .await?
                != serde_json::json!(true)
            {
                bail!("{tamper:?}: markup from the authority ran as script");
            }
            assert_no_token_stored(&client, &stack)
                .await
                .with_context(|| format!("{tamper:?}"))?;
        }
        stack.aim.set_tamper(None).map_err(|e| anyhow!(e))?;
        if !wrong.is_empty() {
            bail!("tampered answers not refused plainly:\n{}", wrong.join("\n"));
        }

        // The honest answer again, replayed: its state was single use.
        client.goto(&honest_callback).await?;
        let replayed = text_of(&client, "#sign-in-error").await?;
        if !replayed.contains("does not belong to a sign-in started here") {
            bail!("a replayed callback: {replayed}");
        }
        assert_no_token_stored(&client, &stack).await?;

        // A link whose path would send the browser to another origin after sign-in.
        client.goto(&format!("{origin}//evil.example/steal")).await?;
        wait_for(&client, "#signed-in-as").await?;
        let url = client.current_url().await?;
        if url.origin().ascii_serialization() != origin || url.as_str().contains("code=") {
            bail!("after sign-in the browser is at {url}");
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
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let before = shape_grid(&client, "line").await?;
        client.execute("window.__sameDocument = true", vec![]).await?;
        shared.lock().await.stop_aim().await;
        tokio::time::sleep(Duration::from_secs(6)).await; // the access token expires
        client.find(Locator::Css("button.reload")).await?.click().await?;
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
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let before = shape_grid(&client, "line").await?;
        shared.lock().await.stop_aim().await;
        tokio::time::sleep(Duration::from_secs(6)).await;
        client.find(Locator::Css("button.reload")).await?.click().await?;
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
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let kid = stack.aim.rotate_key()?;
        tokio::time::sleep(Duration::from_secs(6)).await;
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
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let before = shape_grid(&client, "line").await?;
        tokio::time::sleep(Duration::from_secs(9)).await; // access and refresh token both expire
        client.find(Locator::Css("button.reload")).await?.click().await?;
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
        wait_for(&client, "table.grid tbody tr[aria-selected=true]").await?;
        if grid_state(&client).await? != before {
            bail!("the grid changed over the new sign-in");
        }
        assert_no_token_stored(&client, &stack).await
    })
    .await;
}

#[tokio::test]
async fn sign_out_after_refreshes_ends_the_aim_session_with_no_token_in_any_url() {
    let stack = stack_with("e2e-signout-refreshed", |o| o.user_token_lifetime = 5).await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        for round in 0..2 {
            tokio::time::sleep(Duration::from_secs(6)).await;
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
        wait_for(&client, "button#sign-out").await?.click().await?;
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
        let tokens = stack.aim.issued_tokens();
        for line in &log {
            if line.contains("id_token_hint")
                || tokens
                    .iter()
                    .any(|t| line.contains(&t[t.len().saturating_sub(24)..]))
            {
                bail!("a token travelled in a URL: {line}");
            }
        }
        client.refresh().await?;
        wait_for(&client, "button#sign-in")
            .await
            .context("AIM's session is over: no silent sign-in")?;
        assert_no_token_stored(&client, &stack).await
    })
    .await;
}

#[tokio::test]
async fn without_an_end_session_endpoint_sign_out_is_local_and_says_so() {
    let stack = stack_with("e2e-signout-local", |o| o.aim_end_session = false).await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let logged = stack.aim.request_log().len();
        wait_for(&client, "button#sign-out").await?.click().await?;
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

/// A large answer on a slow line: the first rows show while the rest is on the wire, the status
/// says so, the grid scrolls and sorts meanwhile, and the end is said plainly with every row.
#[tokio::test]
async fn rows_show_while_a_large_answer_is_still_arriving() {
    let stack = stack_with("e2e-streaming", |o| o.seed_rows = 5_000).await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        // About 1.2 MB in 64 kB pieces, 150 ms apart: some three seconds on the wire.
        stack.mes.set_piece_delay(Duration::from_millis(150));
        wait_for(&client, "nav.lookups a[href='/lookups/1']")
            .await?
            .click()
            .await?;
        let status = wait_for_text(&client, ".grid-status", &["rows so far…"]).await?;
        let shown = grid_rows(&client).await?;
        if shown.is_empty() || !shown[0][0].starts_with("ITM-") {
            bail!("while the answer arrives ({status}) the first rows should show: {shown:?}");
        }
        // Sorting meanwhile applies to what is in and to what comes.
        wait_for(&client, "table.grid thead tr[role=row] th:first-child")
            .await?
            .click()
            .await?;
        let still = text_of(&client, ".grid-status").await?;
        if !still.contains("so far") {
            bail!("the answer should still be arriving after the sort click: {still}");
        }
        wait_for_text(&client, ".grid-status", &["5,000 rows"]).await?;
        if text_of(&client, ".grid-status").await?.contains("so far") {
            bail!("a complete answer must not say \"so far\"");
        }
        let first = grid_rows(&client).await?;
        if first.first().map(|r| r[0].as_str()) != Some("ITM-000001") {
            bail!(
                "sorted ascending by item id over all 5,000 rows, the first is ITM-000001: {:?}",
                first.first()
            );
        }
        client
            .find(Locator::Css("table.grid thead tr[role=row] th:first-child"))
            .await?
            .click()
            .await?;
        wait_until(
            "descending, the last item id of all 5,000 comes first",
            || async {
                Ok(grid_rows(&client).await?.first().map(|r| r[0].clone()) == Some("ITM-005000".into()))
            },
        )
        .await?;
        stack.mes.set_piece_delay(Duration::ZERO);
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

/// The first page fetches no on-demand part; a part whose file does not arrive (the network, a
/// server mid-update) is a plain state with the portal around it still working, and comes back
/// by the retry button once the file can be fetched. The release build is really split: with the
/// grid's file blocked there is no grid.
#[tokio::test]
async fn a_part_that_does_not_arrive_is_a_plain_state_and_loads_on_retry() {
    let stack = stack("e2e-parts").await;
    with_browser(|client| async move {
        client.goto(&format!("{}/", stack.portal_origin)).await?;
        wait_for(&client, "button#sign-in").await?;
        let fetched = client
            .execute("return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.endsWith('.wasm'))", vec![])
            .await?;
        let fetched: Vec<String> = serde_json::from_value(fetched)?;
        if fetched.len() != 1 || !fetched[0].ends_with("_bg.wasm") {
            bail!("the sign-in page should fetch the main wasm only: {fetched:?}");
        }

        e2e::cdp(&client, "Network.enable", serde_json::json!({})).await?;
        e2e::cdp(&client, "Network.setBlockedURLs", serde_json::json!({ "urls": ["*split_grid.wasm"] })).await?;
        wait_for(&client, "button#sign-in").await?.click().await?;
        submit_aim_form(&client, "PLANT\\alice", "alice-demo").await?;
        let said = wait_for_text(&client, "[role=alert][data-state=part-not-loaded]", &["could not load the lookup grid"]).await?;
        if !said.contains("Trying again in") {
            bail!("the state should count down to a retry by itself: {said}");
        }
        if client.find(Locator::Css("table.grid")).await.is_ok() {
            bail!("a grid showed although its file was blocked: the build is not split");
        }
        assert_eq!(text_of(&client, "#signed-in-as").await?, "PLANT\\alice", "the shell around the part still works");
        assert_accessible(&client, "a part that did not load").await?;

        e2e::cdp(&client, "Network.setBlockedURLs", serde_json::json!({ "urls": [] })).await?;
        client.find(Locator::XPath("//button[text()='Try again now']")).await?.click().await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}
