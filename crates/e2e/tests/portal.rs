//! End to end: the built portal (trunk, release), the devstack stand-ins on three loopback
//! origins, and headless Chromium driven over WebDriver — signing in, lookups, denial, the Web
//! APIs and Diagnostics pages, streaming answers, a part that does not arrive. `cargo xtask test`
//! builds the portal and sets MES_PORTAL_DIST; run alone, these tests say how to get there.

use anyhow::{Result, bail};
use e2e::aim;
use e2e::grid;
use e2e::scenario::{
    assert_no_token_stored, screenshot, shared_stack, sign_in, stack, stack_with, with_browser,
};
use e2e::selectors::{SIGN_IN, STATUS};
use e2e::{assert_accessible, click, downloads, text_of, wait_for, wait_for_text, wait_until};
use fantoccini::{Client, Locator};
use std::time::Duration;

#[tokio::test]
async fn an_mes_user_signs_in_sees_entities_and_no_token_is_stored() {
    let stack = stack("e2e-user").await;
    let origin = stack.portal_origin.clone();
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        assert_eq!(text_of(&client, "#signed-in-as").await?, "PLANT\\alice");
        let rows = grid::rows(&client).await?;
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
        grid::filter(&client, "packaging line 1").await?;
        wait_until("the filter shows only Packaging Line 1 rows", || async {
            let rows = grid::rows(&client).await?;
            Ok(!rows.is_empty() && rows.iter().all(|r| r[1].to_lowercase().contains("packaging")))
        })
        .await?;

        // Reload: signed in again through AIM's session, without the form, and still nothing stored.
        client.refresh().await?;
        e2e::grid::wait_for_rows(&client).await?;
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
        e2e::grid::wait_for_rows(&client).await?;
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
        e2e::grid::wait_for_rows(&client).await?;
        grid::filter(&client, "packaging line 1").await?;
        wait_until("the filter applies", || async {
            Ok(e2e::grid::status(&client).await?.contains("match"))
        })
        .await?;
        click(&client, "button.export").await?;
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

/// A large answer on a slow line: the first rows show while the rest is on the wire, the status
/// says so, the grid scrolls and sorts meanwhile, and the end is said plainly with every row.
#[tokio::test]
async fn rows_show_while_a_large_answer_is_still_arriving() {
    let stack = stack_with("e2e-streaming", |o| o.seed_rows = 5_000).await;
    with_browser(|client| async move {
        // The 5,000 generated items and the genealogy's few (devstack::seed::GENEALOGY), read
        // before any answer streams: the MES holds its database while it writes one.
        let (items, lowest, highest): (i64, String, String) = stack.mes.with_db(|db| {
            db.query_row("SELECT COUNT(*), MIN(item_id), MAX(item_id) FROM item", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
        })?;
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        // About 1.2 MB in 64 kB pieces, 150 ms apart: some three seconds on the wire.
        stack.mes.set_piece_delay(Duration::from_millis(150));
        wait_for(&client, "nav.lookups a[href='/lookups/1']")
            .await?
            .click()
            .await?;
        let status = wait_for_text(&client, STATUS, &["rows so far…"]).await?;
        let shown = grid::rows(&client).await?;
        if shown.is_empty() || !shown[0][0].starts_with("ITM-") {
            bail!("while the answer arrives ({status}) the first rows should show: {shown:?}");
        }
        // Sorting meanwhile applies to what is in and to what comes.
        grid::sort_by(&client, 0).await?;
        let still = e2e::grid::status(&client).await?;
        if !still.contains("so far") {
            bail!("the answer should still be arriving after the sort click: {still}");
        }
        let all = format!("{} rows", mes_portal::words::count(usize::try_from(items)?));
        wait_for_text(&client, STATUS, &[all.as_str()]).await?;
        if e2e::grid::status(&client).await?.contains("so far") {
            bail!("a complete answer must not say \"so far\"");
        }
        let first = grid::rows(&client).await?;
        if first.first().map(|r| r[0].as_str()) != Some(lowest.as_str()) {
            bail!(
                "sorted ascending by item id over all {items} rows, the first is {lowest}: {:?}",
                first.first()
            );
        }
        grid::sort_by(&client, 0).await?;
        wait_until("descending, the last item id of all comes first", || async {
            Ok(grid::rows(&client).await?.first().map(|r| r[0].clone()) == Some(highest.clone()))
        })
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
        // The sign-in page needs the main wasm alone: with every part's file refused it works.
        e2e::cdp(&client, "Network.enable", serde_json::json!({})).await?;
        let parts = serde_json::json!({ "urls": ["*-bundle_*.wasm", "*-split_*.wasm", "*-chunk_*.wasm"] });
        e2e::cdp(&client, "Network.setBlockedURLs", parts).await?;
        client.goto(&format!("{}/", stack.portal_origin)).await?;
        wait_for(&client, SIGN_IN).await?;
        let fetched = client
            .execute("return performance.getEntriesByType('resource').filter(e => e.responseStatus > 0).map(e => e.name).filter(n => n.endsWith('.wasm') && !n.endsWith('_bg.wasm'))", vec![])
            .await?;
        let fetched: Vec<String> = serde_json::from_value(fetched)?;
        if !fetched.is_empty() {
            bail!("no part's file should have arrived: {fetched:?}");
        }

        // The grid's file alone refused: signed in, the shell works, the grid says it is missing.
        e2e::cdp(&client, "Network.setBlockedURLs", serde_json::json!({ "urls": ["*bundle_grid.wasm"] })).await?;
        click(&client, SIGN_IN).await?;
        aim::submit_form(&client, "PLANT\\alice", "alice-demo").await?;
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
        e2e::grid::wait_for_rows(&client).await?;
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

/// The sign-in code leaves the address bar the moment the page is back from AIM, not after the
/// code exchange: with a slow token endpoint the address is plain `/callback` while the exchange
/// is still under way (an address bar is read over shoulders, by extensions and in history).
#[tokio::test]
async fn the_sign_in_code_leaves_the_address_bar_before_the_exchange() {
    let stack = stack("e2e-code-leaves").await;
    stack.aim.set_exchange_delay(Duration::from_secs(6));
    let portal = stack.portal_origin.clone();
    with_browser(|client| async move {
        client.goto(&format!("{portal}/")).await?;
        click(&client, SIGN_IN).await?;
        aim::submit_form(&client, "PLANT\\alice", "alice-demo").await?;
        wait_until("back at the portal", || async {
            Ok(client.current_url().await?.as_str().starts_with(&portal))
        })
        .await?;
        // The page needs a moment to start; AIM answers the exchange only after 6 s.
        let landed = std::time::Instant::now();
        loop {
            let during = client.current_url().await?;
            if during.query().is_none() {
                if during.path() != "/callback" {
                    bail!("the page left /callback before the exchange ended: {during}");
                }
                break;
            }
            if landed.elapsed() > Duration::from_secs(4) {
                bail!("the address kept the sign-in parameters while the exchange ran: {during}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if client.find(Locator::Css(e2e::selectors::ROWS)).await.is_ok() {
            bail!("the exchange should still be under way");
        }
        grid::wait_for_rows(&client).await?;
        Ok(())
    })
    .await;
}

/// config.json's `client.silent_sign_in: false`: a new visit shows the Sign in button without
/// asking the authority first (no `prompt=none` trip); the button then signs in as ever.
#[tokio::test]
async fn a_site_without_the_silent_try_shows_the_button_without_asking_the_authority() {
    let stack = stack_with("e2e-no-silent", |o| {
        o.config_patch = Some(serde_json::json!({ "client": { "silent_sign_in": false } }))
    })
    .await;
    with_browser(|client| async move {
        client.goto(&format!("{}/", stack.portal_origin)).await?;
        wait_for(&client, SIGN_IN).await?;
        let authorize = |log: Vec<String>| {
            log.iter()
                .filter(|l| l.contains(" GET ") && l.contains("/authorize?"))
                .count()
        };
        if authorize(stack.aim.request_log()) != 0 {
            bail!(
                "the page asked the authority before the button: {:?}",
                stack.aim.request_log()
            );
        }
        if !client.current_url().await?.as_str().ends_with('/') {
            bail!("the page should not have gone anywhere");
        }
        click(&client, SIGN_IN).await?;
        aim::submit_form(&client, "PLANT\\alice", "alice-demo").await?;
        grid::wait_for_rows(&client).await?;
        if authorize(stack.aim.request_log()) != 1 {
            bail!(
                "one trip to the authority, from the button: {:?}",
                stack.aim.request_log()
            );
        }
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}
