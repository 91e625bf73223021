//! End to end, a lookup grid in another site's page: `mes-embed-host.js` and the framed
//! `/embed/lookup` page on a second loopback origin, sign-in by popup, selections reaching the
//! host page, a site config.json does not list refused by the browser (frame-ancestors) and by
//! the page itself, forged messages ignored, no token on the host page.

use anyhow::{Result, bail};
use e2e::grid;
use e2e::scenario::{
    assert_no_jwt_stored, assert_no_token_stored, screenshot, stack, stack_with, with_browser,
};
use e2e::selectors::{EMBEDDED_SIGN_IN, ROWS, SWITCH_USER, in_script};
use e2e::{aim, frame};
use e2e::{assert_accessible, click, text_of, wait_for, wait_for_text, wait_until};
use fantoccini::{Client, Locator};
use std::time::Duration;

/// Another site's page shows a lookup with two lines of HTML: the frame signs in by popup, sizes
/// itself to its content, reports selections as `mes-select` on the element, changes lookup when
/// the element's attribute changes (same session), ignores messages from anyone but its parent,
/// and no token reaches the host page.
#[tokio::test]
async fn another_sites_page_shows_a_framed_lookup_and_hears_its_selections() {
    let stack = stack("e2e-framed").await;
    let site = stack
        .other_site_origin
        .clone()
        .expect("the examples' other site is served");
    with_browser(|client| async move {
        client.goto(&format!("{site}/")).await?;
        frame::sign_in(&client).await?;
        client.enter_frame(0).await?;
        e2e::grid::wait_for_rows(&client).await?;
        let title = text_of(&client, "#lookup-title").await?;
        grid::pick(&client, 0).await?;
        grid::pick(&client, 1).await?;
        let first = grid::rows(&client).await?[0][0].clone();
        // Sized to its content: the frame's own page does not scroll.
        wait_until("the frame fits its content", || async {
            Ok(client.execute("return document.documentElement.scrollHeight <= innerHeight + 1", vec![]).await? == true)
        })
        .await?;
        assert_accessible(&client, "a lookup framed by another site").await?;
        client.enter_parent_frame().await?;
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

        // Forged messages, each of a kind only one check stops (waiting on their arrival, not on
        // a clock). The host page logs what reaches it; the frame logs its titles.
        client
            .execute(
                "window.__seen = []; window.__selects = [];
                 addEventListener('message', e => __seen.push(JSON.stringify(e.data)));
                 document.getElementById('lots').addEventListener('mes-select', e => __selects.push(e.detail.values.join()));",
                vec![],
            )
            .await?;
        client.enter_frame(0).await?;
        client
            .execute(
                "window.__titles = []; window.__heard = [];
                 addEventListener('message', e => __heard.push(JSON.stringify(e.data)));
                 new MutationObserver(() => __titles.push(document.querySelector('#lookup-title').textContent))
                     .observe(document.body, { subtree: true, childList: true, characterData: true });",
                vec![],
            )
            .await?;
        client.enter_parent_frame().await?;
        // (a) A sibling frame of the host's own origin (the allowed one) asks the grid for another
        //     lookup: only the grid's "from my parent" check stops it.
        client
            .execute(
                "const evil = document.createElement('iframe'); document.body.append(evil);
                 evil.contentWindow.grid = document.querySelector('mes-lookup-frame iframe').contentWindow;
                 evil.contentWindow.eval(`grid.postMessage({ type: 'mes-lookup', lookup: 'Users' }, '*');`);",
                vec![],
            )
            .await?;
        // (b) A second frame of the portal's origin (the one the host trusts) tells the host of a
        //     selection: only the host's "from the grid's frame" check stops it.
        client
            .execute(
                &format!(
                    "const other = document.createElement('iframe'); other.id = 'portal-too';
                     other.src = '{}/embed/lookup?name=Items'; document.body.append(other);",
                    stack.portal_origin
                ),
                vec![],
            )
            .await?;
        let portal = stack.portal_origin.clone();
        wait_until("the second frame shows a page of the portal's origin", || async {
            client.find(Locator::Id("portal-too")).await?.enter_frame().await?;
            let origin = client.execute("return location.origin", vec![]).await;
            client.enter_parent_frame().await?;
            Ok(origin? == portal.as_str())
        })
        .await?;
        client.find(Locator::Id("portal-too")).await?.enter_frame().await?;
        client
            .execute(
                "parent.postMessage({ type: 'mes-select', values: ['FORGED-B'], rows: [] }, '*');",
                vec![],
            )
            .await?;
        client.enter_parent_frame().await?;
        wait_until("the host page has the forged selection in hand", || async {
            Ok(client.execute("return __seen.some(m => m.includes('FORGED-B'))", vec![]).await? == true)
        })
        .await?;
        if client.execute("return __selects.join('|')", vec![]).await?.to_string().contains("FORGED") {
            bail!("the host obeyed a selection from a frame that is not the grid's");
        }
        // The host page itself may change the lookup: the element's attribute, same session.
        click(&client, "#show-items").await?;
        client.enter_frame(0).await?;
        wait_until("the frame shows Items", || async { Ok(text_of(&client, "#lookup-title").await? == "Items") }).await?;
        let heard = client.execute("return __heard.some(m => m.includes('Users'))", vec![]).await?;
        let titles = client.execute("return __titles.join('|')", vec![]).await?.to_string();
        if heard != true || titles.contains("Users") {
            bail!("the sibling's lookup change must arrive ({heard}) and be ignored: titles {titles}");
        }
        e2e::grid::wait_for_rows(&client).await?;
        client.enter_parent_frame().await?;
        // A question by the host's `params` (the `mes-lookup` message's `params`): the frame
        // asks it, checked like the portal's form.
        client
            .execute(
                "const e = document.querySelector('#lots'); e.setAttribute('params', 'item_id=RM-TOMATO'); e.setAttribute('lookup', 'Lots of an item');",
                vec![],
            )
            .await?;
        client.enter_frame(0).await?;
        wait_until("the frame asks the host's question", || async {
            let rows = grid::rows(&client).await.unwrap_or_default();
            let shown: Vec<String> = rows.iter().map(|r| r.iter().take(2).cloned().collect::<Vec<_>>().join(" ")).collect();
            Ok(text_of(&client, "#lookup-title").await.unwrap_or_default() == "Lots of an item"
                && shown == ["L26-RAW-TOM-01 RM-TOMATO"])
        })
        .await?;
        client.enter_parent_frame().await?;
        client
            .execute("document.querySelector('#lots').setAttribute('params', 'qty=5')", vec![])
            .await?;
        client.enter_frame(0).await?;
        wait_for_text(&client, "[data-state=question-problems]", &["“qty” is not a parameter"]).await?;
        client.enter_parent_frame().await?;
        if frame::state(&client).await?.as_deref() != Some("signed-in") || client.windows().await?.len() != 1 {
            bail!("changing the lookup must not ask for a new sign-in");
        }
        // (c) The grid's own frame, navigated to a page of no origin of ours, tells the host of a
        //     selection: it is the grid's frame, so only the host's origin check stops it.
        client
            .execute(
                "document.querySelector('mes-lookup-frame iframe').src =
                     'data:text/html,<script>parent.postMessage({ type: \\'mes-select\\', values: [\\'FORGED-C\\'], rows: [] }, \\'*\\')</script>';",
                vec![],
            )
            .await?;
        wait_until("the host page has the navigated frame's selection in hand", || async {
            Ok(client.execute("return __seen.some(m => m.includes('FORGED-C'))", vec![]).await? == true)
        })
        .await?;
        if client.execute("return __selects.join('|')", vec![]).await?.to_string().contains("FORGED") {
            bail!("the host obeyed a selection from its grid's frame showing another origin");
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
            Ok(shared
                .lock()
                .await
                .csp_reports()
                .iter()
                .any(|r| r.contains("frame-ancestors")))
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        if frame::state(&client).await?.is_some() {
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
        wait_for(&client, "iframe").await?;
        client.enter_frame(0).await?;
        let refused = wait_for(&client, "[data-state=frame-refused]")
            .await?
            .text()
            .await?;
        let sign_in = client.find(Locator::Css(EMBEDDED_SIGN_IN)).await.is_ok();
        assert_accessible(&client, "a framed lookup refusing its host").await?;
        client.enter_parent_frame().await?;
        if sign_in || !refused.contains("embed_origins") || frame::state(&client).await?.is_some() {
            bail!("the page must refuse plainly and say nothing to its host: {refused}");
        }
        Ok(())
    })
    .await;
}

/// An invalid config.json (here a redirect address on plain http outside loopback): the framed
/// grid shows every problem as the portal does and tells the host page `problem`, instead of
/// waiting for ever.
#[tokio::test]
async fn a_framed_lookup_with_an_invalid_config_says_so_and_tells_the_host() {
    let stack = stack_with("e2e-framed-config", |o| {
        o.config_patch = Some(serde_json::json!({
            "client": { "redirect_uri": "http://portal.plant.example/callback" }
        }))
    })
    .await;
    let site = stack
        .other_site_origin
        .clone()
        .expect("the examples' other site is served");
    with_browser(|client| async move {
        client.goto(&format!("{site}/")).await?;
        wait_until("the host page hears of the problem", || async {
            Ok(frame::state(&client).await?.as_deref() == Some("problem"))
        })
        .await?;
        client.enter_frame(0).await?;
        wait_for_text(&client, "ul.config-problems", &["client.redirect_uri"]).await?;
        if client.find(Locator::Css(EMBEDDED_SIGN_IN)).await.is_ok() {
            bail!("no sign-in with an invalid config.json");
        }
        assert_accessible(&client, "a framed lookup with an invalid config.json").await?;
        client.enter_parent_frame().await?;
        Ok(())
    })
    .await;
}

/// "Sign in as someone else" in an embedded grid: the authority's session is still open in this
/// browser, so the next sign-in must ask for its form (`prompt=login`), or the same person would
/// be signed straight back in.
#[tokio::test]
async fn sign_in_as_someone_else_in_an_embedded_grid_asks_the_authority_for_its_form() {
    let stack = stack("e2e-embed-switch-user").await;
    with_browser(|client| async move {
        client
            .goto(&format!("{}/examples/embed.html", stack.portal_origin))
            .await?;
        let host = client.window().await?;
        click(&client, "#lots button.sign-in").await?;
        aim::sign_in_in_popup(&client, host.clone(), "PLANT\\victor", "victor-demo").await?;
        wait_for(&client, &format!("#lots [data-state=denied] {SWITCH_USER}"))
            .await?
            .click()
            .await?;
        let logged = stack.aim.request_log().len();
        click(&client, "#lots button.sign-in").await?;
        // The form again, though AIM's session is open: someone else signs in.
        aim::sign_in_in_popup(&client, host, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, &format!("#lots {ROWS}")).await?;
        let asked = stack.aim.request_log()[logged..]
            .iter()
            .find(|l| l.contains("/connect/authorize?"))
            .cloned()
            .unwrap_or_default();
        if !asked.contains("prompt=login") {
            bail!("the sign-in after 'someone else' must send prompt=login: {asked}");
        }
        assert_no_token_stored(&client, &stack).await
    })
    .await;
}

/// Runs `script` with `grid` bound to the `<mes-lookup-grid>`'s shadow root.
async fn in_element(client: &Client, script: &str) -> Result<serde_json::Value> {
    Ok(client
        .execute(
            &in_script(&format!(
                "const grid = document.querySelector('mes-lookup-grid').shadowRoot; {script}"
            )),
            vec![],
        )
        .await?)
}

/// `<mes-lookup-grid>` on a page of the portal's origin: its own sign-in by popup, rows in its
/// shadow root untouched by the page's styles, `mes-select` on the element, a lookup change by
/// attribute in the same session, a second grid sharing that session (before and after the first
/// is removed), and removal that leaves nothing behind.
#[tokio::test]
async fn the_lookup_grid_element_keeps_its_styles_follows_its_attributes_and_cleans_up() {
    let stack = stack("e2e-element").await;
    with_browser(|client| async move {
        client.goto(&format!("{}/examples/element.html", stack.portal_origin)).await?;
        let host = client.window().await?;
        wait_until("the element shows its sign-in button", || async {
            Ok(in_element(&client, "return !!(grid && grid.querySelector('button.sign-in'))").await? == true)
        })
        .await?;
        in_element(&client, "grid.querySelector('button.sign-in').click()").await?;
        aim::sign_in_in_popup(&client, host, "PLANT\\alice", "alice-demo").await?;
        wait_until("rows in the element", || async {
            Ok(in_element(&client, "return grid.querySelectorAll(SEL.rows).length").await?.as_u64().unwrap_or(0) > 0)
        })
        .await?;
        // The page's `td { color: red }` and `button { font-family: serif }` stay outside.
        let looks = in_element(
            &client,
            "const cell = getComputedStyle(grid.querySelector('table.grid td'));
             const button = getComputedStyle(grid.querySelector('button.export'));
             const page = getComputedStyle(document.querySelector('.host-table td'));
             return [cell.color, button.fontFamily.includes('serif') && !button.fontFamily.includes('sans'), page.color];",
        )
        .await?;
        if looks[0] == "rgb(200, 0, 0)" || looks[1] == true || looks[2] != "rgb(200, 0, 0)" {
            bail!("the page's styles and the grid's must not meet: {looks}");
        }
        // The grid finds its own elements inside the shadow root: the keyboard's way from a
        // header into its filter, and the active cell's mark.
        in_element(&client, "grid.querySelectorAll(SEL.rows)[0].click()").await?;
        let keyboard = in_element(
            &client,
            "const table = grid.querySelector('table.grid');
             const marked = !!grid.querySelector('td[data-active]');
             table.focus();
             for (const key of ['ArrowUp', 'ArrowDown']) table.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
             const focused = grid.activeElement && grid.activeElement.getAttribute('aria-label');
             grid.activeElement && grid.activeElement.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }));
             return [marked, focused];",
        )
        .await?;
        if keyboard[0] != true || !keyboard[1].as_str().is_some_and(|l| l.starts_with("Filter ")) {
            bail!("inside the shadow root the active cell is marked and ↓ from a header reaches its filter: {keyboard}");
        }
        in_element(&client, "grid.querySelectorAll(SEL.rows)[2].click();").await?;
        let first = in_element(&client, "return grid.querySelector(SEL.rows + ' td').textContent").await?;
        let first = first.as_str().unwrap_or_default().to_owned();
        wait_until("the page hears the selection", || async {
            let picked = text_of(&client, "#picked").await?;
            Ok(picked.contains(&first) && picked.contains(", "))
        })
        .await?;
        assert_accessible(&client, "a page with a lookup grid element").await?;

        click(&client, "#show-items").await?;
        wait_until("the element shows Items in the same session", || async {
            Ok(in_element(&client, "const t = grid.querySelector('#lookup-title'); return t && t.textContent").await? == "Items")
        })
        .await?;
        if client.windows().await?.len() != 1 || in_element(&client, "return !!grid.querySelector('button.sign-in')").await? == true {
            bail!("changing the attribute must not ask for a new sign-in");
        }
        // A question by attribute (`params`, a query string), checked like the portal's form;
        // a linked cell opens its lookup in the same element.
        client
            .execute(
                "const e = document.querySelector('#lots'); e.setAttribute('params', 'item_id=RM-TOMATO'); e.setAttribute('lookup', 'Lots of an item');",
                vec![],
            )
            .await?;
        let rows = "return [...grid.querySelectorAll(SEL.rows)].map(r => r.cells[0].textContent + ' ' + r.cells[1].textContent)";
        wait_until("the element asks its question", || async {
            Ok(in_element(&client, rows).await? == serde_json::json!(["L26-RAW-TOM-01 RM-TOMATO"]))
        })
        .await?;
        in_element(&client, "grid.querySelector('table.grid a.cell-link').click()").await?;
        wait_until("the linked lot's consumption, in the same element", || async {
            let title = in_element(&client, "const t = grid.querySelector('#lookup-title'); return t && t.textContent").await?;
            Ok(title == "Consumption of a lot" && in_element(&client, "return grid.querySelectorAll(SEL.rows).length").await? == 2)
        })
        .await?;
        if client.current_url().await?.as_str() != format!("{}/examples/element.html", stack.portal_origin) {
            bail!("a link in an embedded grid must not move the host page");
        }
        client
            .execute("document.querySelector('#lots').setAttribute('params', 'qty=5')", vec![])
            .await?;
        wait_until("a parameter the lookup does not take is said, and nothing asked", || async {
            let said = in_element(&client, "const p = grid.querySelector('[data-state=question-problems]'); return p && p.textContent").await?;
            Ok(said.as_str().is_some_and(|t| t.contains("“qty” is not a parameter")))
        })
        .await?;
        client
            .execute("const e = document.querySelector('#lots'); e.removeAttribute('params'); e.setAttribute('lookup', 'Lots');", vec![])
            .await?;
        // A second grid on the page shares the session: rows at once, no sign-in, no tokens.
        let issued = stack.aim.issued_tokens().len();
        client
            .execute(
                "const second = document.createElement('mes-lookup-grid');
                 second.id = 'second'; second.setAttribute('lookup', 'Lots');
                 document.querySelector('main').append(second);",
                vec![],
            )
            .await?;
        let second_rows = in_script(
            "const g = document.querySelector('#second').shadowRoot;
             return [g.querySelectorAll(SEL.rows).length, !!g.querySelector('button.sign-in')];",
        );
        wait_until("the second grid shows rows in the same session", || async {
            let seen = client.execute(&second_rows, vec![]).await?;
            Ok(seen[0].as_u64().unwrap_or(0) > 0)
        })
        .await?;
        if stack.aim.issued_tokens().len() != issued || client.windows().await?.len() != 1 {
            bail!("a second grid on the page must not sign in again");
        }
        let gone = client
            .execute(
                "const element = document.querySelector('#lots'); const shadow = element.shadowRoot;
                 element.remove();
                 return [shadow.childNodes.length, document.querySelectorAll('table.grid').length];",
                vec![],
            )
            .await?;
        if gone != serde_json::json!([0, 0]) {
            bail!("removing the element must remove its grid: {gone}");
        }
        // The grid that signed in is gone; the other stays signed in.
        let second = client.execute(&second_rows, vec![]).await?;
        if second[0].as_u64().unwrap_or(0) == 0 || second[1] != false {
            bail!("removing one grid must leave the page's other grids signed in: {second}");
        }
        client.execute("document.querySelector('#second').remove()", vec![]).await?;
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_plain_page_embeds_a_grid_signs_in_through_a_popup_and_gets_select_events() {
    let stack = stack_with("e2e-embed", |o| {
        o.config_patch = Some(e2e::scanner::room_to_scan())
    })
    .await;
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
        click(&client, "#lots button.sign-in").await?;
        // The authority's form opens in a popup window, which hands the answer back and closes.
        aim::sign_in_in_popup(&client, host, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, &format!("#lots {ROWS}")).await?;
        if !client
            .current_url()
            .await?
            .as_str()
            .ends_with("/examples/embed.html")
        {
            bail!("the host page's address changed");
        }
        // Pick two lots: the page hears about it through the mes-select event.
        let rows = client.find_all(Locator::Css(&format!("#lots {ROWS}"))).await?;
        rows[0].click().await?;
        rows[2].click().await?;
        let first = grid::rows(&client).await?[0][0].clone();
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
        // A scanner at the page (config.json's scan names Lots for lot labels): the grid finds
        // the lot, and the page hears of it as the selection, with no click.
        let scanned = grid::rows(&client).await?[5][0].clone();
        e2e::scanner::scan(&client, &scanned).await?;
        wait_until("the page shows the scanned lot alone", || async {
            Ok(text_of(&client, "#picked").await? == scanned)
        })
        .await?;
        // Clicking rows scrolled the grid sideways; show it from its first column.
        client
            .execute(
                &in_script("document.querySelector('#lots ' + SEL.viewport).scrollLeft = 0"),
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

/// The leak audit looks where tokens live in these tests (review item 9): a framed grid's own,
/// partitioned document and storage, and a `<mes-lookup-grid>`'s shadow root. A token-shaped
/// string planted in either is found — the audit reading the top document alone missed both.
#[tokio::test]
async fn the_leak_audit_finds_a_token_in_a_frame_or_a_shadow_root() {
    const PLANTED: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2ln";
    let stack = stack("e2e-audit-reach").await;
    let site = stack.other_site_origin.clone().expect("the examples' other site");
    let portal = stack.portal_origin.clone();
    with_browser(|client| async move {
        client.goto(&format!("{site}/")).await?;
        wait_until("the frame says it is signed out", || async {
            Ok(frame::state(&client).await?.as_deref() == Some("signed-out"))
        })
        .await?;
        assert_no_jwt_stored(&client).await?;
        client.enter_frame(0).await?;
        client
            .execute(&format!("document.body.append('{PLANTED}')"), vec![])
            .await?;
        client.enter_parent_frame().await?;
        if assert_no_jwt_stored(&client).await.is_ok() {
            bail!("the audit missed a token in the framed grid's document");
        }

        client.goto(&format!("{portal}/examples/element.html")).await?;
        wait_until("the element draws in its shadow root", || async {
            Ok(client
                .execute("const g = document.querySelector('mes-lookup-grid'); return !!(g && g.shadowRoot && g.shadowRoot.childElementCount)", vec![])
                .await?
                == true)
        })
        .await?;
        assert_no_jwt_stored(&client).await?;
        client
            .execute(
                &format!("document.querySelector('mes-lookup-grid').shadowRoot.append('{PLANTED}')"),
                vec![],
            )
            .await?;
        if assert_no_jwt_stored(&client).await.is_ok() {
            bail!("the audit missed a token in a shadow root");
        }
        Ok(())
    })
    .await;
}

/// Review E9: config.json's `embed_limits` narrow what a listed site may show. Here the other
/// site may show Lots only: its page shows Lots, and when it asks for Items the frame refuses
/// plainly, naming the lookup, instead of showing it.
#[tokio::test]
async fn embed_limits_keep_a_site_to_the_lookups_it_may_show() {
    let port = e2e::site::free_port().expect("port");
    let site = format!("http://127.0.0.1:{port}");
    let stack = stack_with("e2e-embed-limits", |o| {
        o.other_site_port = port;
        o.config_patch = Some(serde_json::json!({
            "embed_limits": { site.clone(): { "lookups": ["Lots"] } }
        }));
    })
    .await;
    assert_eq!(stack.other_site_origin.as_deref(), Some(site.as_str()));
    with_browser(|client| async move {
        client.goto(&format!("{site}/")).await?;
        wait_until("the frame shows Lots, signed out", || async {
            Ok(frame::state(&client).await?.as_deref() == Some("signed-out"))
        })
        .await?;
        client.enter_frame(0).await?;
        if client
            .find(Locator::Css("[data-state=lookup-refused]"))
            .await
            .is_ok()
        {
            bail!("Lots is allowed for this site");
        }
        client.enter_parent_frame().await?;
        click(&client, "#show-items").await?;
        client.enter_frame(0).await?;
        let said = wait_for(&client, "[data-state=lookup-refused]")
            .await?
            .text()
            .await?;
        if !said.contains("Items") || client.find(Locator::Css(EMBEDDED_SIGN_IN)).await.is_ok() {
            bail!("the frame should refuse Items plainly, with nothing else: {said}");
        }
        assert_accessible(&client, "a framed lookup the site may not show").await?;
        client.enter_parent_frame().await?;
        Ok(())
    })
    .await;
}

/// Review item 8: an authority whose pages send `Cross-Origin-Opener-Policy: same-origin` cuts a
/// sign-in popup loose from its opener the moment its page loads (the opener reads it as closed at
/// once). The frame says so at once, in those words, not "closed"; the popup, back at the
/// portal, hands the answer over on the origin's BroadcastChannel — which reaches a page of the
/// portal's own origin, and here a grid framed by another origin of the same site (127.0.0.1 on
/// another port: browsers partition by site). A grid framed by another *site* cannot hear it:
/// deployed.rs shows that case behind nginx, where the sites have names of their own.
#[tokio::test]
async fn a_popup_cut_loose_by_the_authoritys_opener_policy_hands_its_answer_over_on_the_channel() {
    let stack = stack_with("e2e-coop", |o| o.aim_opener_policy = true).await;
    let site = stack
        .other_site_origin
        .clone()
        .expect("the examples' other site is served");
    let portal = stack.portal_origin.clone();
    with_browser(|client| async move {
        client.goto(&format!("{portal}/examples/embed.html")).await?;
        let host = client.window().await?;
        click(&client, "#lots button.sign-in").await?;
        // The popup, cut loose, hands the answer over on the channel and closes.
        aim::sign_in_in_popup(&client, host, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, &format!("#lots {ROWS}")).await?;
        Ok(())
    })
    .await;
    let stack_ref = &stack;
    with_browser(|client| async move {
        client.goto(&format!("{site}/")).await?;
        let host = client.window().await?;
        frame::press_sign_in(&client).await?;
        // The frame says at once what happened to its window, not that it was closed.
        wait_for_text(
            &client,
            "[data-state=signed-out] [role=status]",
            &["cut its window loose"],
        )
        .await?;
        client.enter_parent_frame().await?;
        aim::sign_in_in_popup(&client, host, "PLANT\\alice", "alice-demo").await?;
        wait_until("the frame says it is signed in", || async {
            Ok(frame::state(&client).await?.as_deref() == Some("signed-in"))
        })
        .await?;
        client.enter_frame(0).await?;
        e2e::grid::wait_for_rows(&client).await?;
        client.enter_parent_frame().await?;
        assert_no_token_stored(&client, stack_ref).await
    })
    .await;
}

/// Mounts rows the page has with `mountRowsGrid` in several ways, each in a new element, and
/// reports for each: the rows `mes-rows` counted, whether the grid showed rows before that event
/// (the first rows painted while the rest was decoded), the first and last rows' text, and, with
/// the grid scrolled to its bottom, the last rendered row's text and whether it is in view.
const MOUNT_ROWS: &str = "const done = arguments[arguments.length - 1];
const lots = n => Array.from({ length: n }, (_, i) => ({ lot: 'L' + i, qty: i % 1000 }));
const frames = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
const mount = (mod, options) => new Promise(resolve => {
  const host = document.createElement('div');
  document.body.append(host);
  let early = null;
  const seen = new MutationObserver(() => {
    if (early === null && host.querySelector(SEL.rows)) early = host.querySelector(SEL.status)?.textContent ?? '';
  });
  seen.observe(host, { subtree: true, childList: true });
  host.addEventListener('mes-rows', async e => {
    seen.disconnect();
    await frames();
    const rows = [...host.querySelectorAll(SEL.rows)];
    const first = rows[0]?.textContent ?? null;
    const vp = host.querySelector(SEL.viewport);
    vp.scrollTop = vp.scrollHeight;
    await frames();
    const shown = [...host.querySelectorAll(SEL.rows)];
    const last = shown[shown.length - 1];
    const [box, row] = [vp.getBoundingClientRect(), last.getBoundingClientRect()];
    resolve({ rows: e.detail.rows, early, first, last: last.textContent,
              lastInView: row.top >= box.top && row.bottom <= box.bottom + 1, height: vp.scrollHeight });
    host.remove();
  }, { once: true });
  mod.mountRowsGrid(host, options);
});
import('/mes-embed.js').then(async mod => {
  const million = JSON.stringify(lots(1000000));
  // A piece of text ends after 262,144 UTF-16 units: here, between an emoji's two halves.
  const split = '[{\"t\":\"' + 'a'.repeat(262136) + '\\u{1F600}\"}]';
  done({
    json: await mount(mod, { json: million }),
    objects: await mount(mod, { rows: lots(5001) }),
    stream: await mount(mod, { stream: new Blob([JSON.stringify(lots(3000))]).stream() }),
    split: await mount(mod, { json: split }),
  });
}, e => done({ error: String(e) }));";

/// `mountRowsGrid` decodes every source a piece at a time (JSON text, row objects, a stream): the
/// grid shows its first rows before every row is in, a million rows all arrive, and the last of
/// them can be scrolled to although a million 34-pixel rows are taller than Chromium lets an
/// element be; a text cut into pieces keeps a character whose two UTF-16 halves straddle a cut.
#[tokio::test]
async fn a_pages_own_rows_show_at_once_on_every_path_and_a_million_scroll_to_their_end() {
    let stack = stack("e2e-rows-paths").await;
    with_browser(|client| async move {
        client
            .goto(&format!("{}/examples/embed.html", stack.portal_origin))
            .await?;
        wait_for(&client, &format!("#checklist {ROWS}")).await?;
        e2e::allow_scripts(&client, 120).await?;
        let got = client.execute_async(&in_script(MOUNT_ROWS), vec![]).await?;
        if got.get("error").is_some() {
            bail!("{got}");
        }
        let (json, objects, stream) = (&got["json"], &got["objects"], &got["stream"]);
        let mut wrong = Vec::new();
        for (path, mounted, rows) in [
            ("json", json, 1_000_000),
            ("rows", objects, 5001),
            ("stream", stream, 3000),
        ] {
            if mounted["rows"] != rows {
                wrong.push(format!("{path}: mes-rows should count {rows} rows: {mounted}"));
            }
            if mounted["first"].as_str().is_none_or(|t| !t.starts_with("L0")) {
                wrong.push(format!("{path}: the first row should be L0: {mounted}"));
            }
        }
        // When the first rows show, the status line counts fewer rows than there are.
        for (path, mounted, all) in [("json", json, "1,000,000"), ("rows", objects, "5,001")] {
            if mounted["early"]
                .as_str()
                .is_none_or(|status| status.contains(all))
            {
                wrong.push(format!(
                    "{path}: the first rows should show before every row is decoded: {}",
                    mounted["early"]
                ));
            }
        }
        if json["last"].as_str().is_none_or(|t| !t.starts_with("L999999")) || json["lastInView"] != true {
            wrong.push(format!(
                "scrolled to the bottom, the millionth row should be in view: {json}"
            ));
        }
        if json["height"].as_f64().is_none_or(|h| h > 20_000_000.0) {
            wrong.push(format!(
                "the scrolling area should stay under the browsers' height caps: {json}"
            ));
        }
        if objects["last"].as_str().is_none_or(|t| !t.starts_with("L5000")) {
            wrong.push(format!(
                "the row objects' batches should join into one list: {objects}"
            ));
        }
        let split = got["split"]["first"].as_str().unwrap_or_default();
        if !split.ends_with('\u{1F600}') || split.contains('\u{FFFD}') {
            let tail: String = split.chars().rev().take(4).collect();
            wrong.push(format!(
                "the emoji across a piece's edge should stay whole: {tail:?} (reversed)"
            ));
        }
        if !wrong.is_empty() {
            bail!("{}", wrong.join("\n"));
        }
        Ok(())
    })
    .await;
}
