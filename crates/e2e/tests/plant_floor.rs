//! End to end, for the plant floor: phones and tablets, a keyboard alone, forced colours,
//! another language and its formats, and the configuration problems page — each checked by
//! axe-core as well.

use anyhow::{Result, bail};
use e2e::aim;
use e2e::scenario::{
    assert_no_token_stored, screenshot, sign_in, stack, stack_with, with_browser, with_browser_in,
};
use e2e::selectors::{QUICK_FILTER, ROWS, SELECTED_ROWS, SIGN_IN, STATUS, in_script};
use e2e::{assert_accessible, click, downloads, text_of, wait_for, wait_for_text, wait_until};
use fantoccini::{Client, Locator};

/// How the signed-in page is laid out now: the top bar's height, whether the navigation shows,
/// where the grid's first row starts, and the page's width (a wider page scrolls sideways).
async fn layout(client: &Client) -> Result<serde_json::Value> {
    Ok(client
        .execute(
            &in_script("const box = s => document.querySelector(s).getBoundingClientRect();
             return { bar: box('.topbar').height, nav: getComputedStyle(document.querySelector('nav.lookups')).display,
                      row: box(SEL.rows).top, page: document.documentElement.scrollWidth,
                      menu: document.querySelector('button.menu').getAttribute('aria-expanded') };"),
            vec![],
        )
        .await?)
}

/// On a phone the header stays one line, the navigation folds behind a menu button and the
/// grid gets the screen; the menu opens, takes a person to another lookup and folds again. A
/// tablet-sized window keeps the side navigation.
#[tokio::test]
async fn on_a_phone_the_navigation_folds_and_the_grid_gets_the_screen() {
    let stack = stack("e2e-phone").await;
    with_browser(|client| async move {
        client.set_window_size(390, 844).await?;
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let phone = layout(&client).await?;
        let number = |v: &serde_json::Value, key: &str| v[key].as_f64().unwrap_or(f64::MAX);
        if number(&phone, "bar") > 64.0 || phone["nav"] != "none" || number(&phone, "row") > 422.0 || number(&phone, "page") > 390.0 {
            bail!("on a phone the header is one line, the navigation folded, rows in the top half, no sideways page: {phone}");
        }
        assert_accessible(&client, "a lookup grid on a phone").await?;
        screenshot(&client, "phone").await?;
        // Scrolled sideways, the key column stays in view; the others pass under it.
        let pinned = client
            .execute(
                &in_script(
                    "const v = document.querySelector(SEL.viewport); v.scrollLeft = 300;
                 const row = document.querySelector(SEL.rows), head = document.querySelector(SEL.headers);
                 const left = v.getBoundingClientRect().left;
                 return { key: row.cells[0].getBoundingClientRect().left - left,
                          header: head.getBoundingClientRect().left - left,
                          next: row.cells[1].getBoundingClientRect().left - left, scrolled: v.scrollLeft };",
                ),
                vec![],
            )
            .await?;
        let at = |key: &str| pinned[key].as_f64().unwrap_or(f64::MAX);
        if at("scrolled") < 100.0 || at("key").abs() > 2.0 || at("header").abs() > 2.0 || at("next") > -50.0 {
            bail!("the key column and its header stay at the left while the rest scrolls: {pinned}");
        }
        client
            .execute(&in_script("document.querySelector(SEL.viewport).scrollLeft = 0"), vec![])
            .await?;

        click(&client, "button.menu").await?;
        let open = layout(&client).await?;
        if open["nav"] == "none" || open["menu"] != "true" {
            bail!("the menu button opens the navigation: {open}");
        }
        e2e::portal::open_lookup(&client, 1, "Items").await?;
        let after = layout(&client).await?;
        if after["nav"] != "none" || after["menu"] != "false" {
            bail!("choosing a page folds the navigation again: {after}");
        }

        client.set_window_size(820, 1180).await?;
        wait_until("a tablet keeps the side navigation", || async { Ok(layout(&client).await?["nav"] == "block") }).await?;
        screenshot(&client, "tablet").await?;
        Ok(())
    })
    .await;
}

/// Presses `key` (text, or a `fantoccini::key::Key`) on whatever has the focus.
async fn press(client: &Client, key: &str) -> Result<()> {
    client.active_element().await?.send_keys(key).await?;
    Ok(())
}

/// Tabs (forward, or back with Shift) until the focus is on an element matching `css`, which
/// must then show that it has the focus (an outline), as a keyboard user needs to see.
async fn tab_to(client: &Client, css: &str, back: bool) -> Result<()> {
    use fantoccini::key::Key;
    let tab = if back {
        format!("{}{}", char::from(Key::Shift), char::from(Key::Tab))
    } else {
        char::from(Key::Tab).to_string()
    };
    for _ in 0..60 {
        press(client, &tab).await?;
        let focus = client
            .execute(
                "const e = document.activeElement; if (!e || !e.matches(arguments[0])) return null;
                 const s = getComputedStyle(e); return { outline: s.outlineStyle, width: parseFloat(s.outlineWidth) };",
                vec![serde_json::json!(css)],
            )
            .await?;
        if !focus.is_null() {
            if focus["outline"] == "none" || focus["width"].as_f64().unwrap_or(0.0) <= 0.0 {
                bail!("{css} has the focus but does not show it: {focus}");
            }
            return Ok(());
        }
    }
    bail!("Tab never reached {css}")
}

/// A keyboard-only person: sign in, open a lookup, filter, sort, select, copy, export, sign out
/// — every control reached with Tab and showing its focus, the grid one Tab stop driven by keys.
#[tokio::test]
async fn a_keyboard_alone_signs_in_filters_sorts_selects_copies_exports_and_signs_out() {
    use fantoccini::key::Key;
    let _ = std::fs::remove_dir_all(downloads());
    let stack = stack("e2e-keyboard").await;
    with_browser(|client| async move {
        let enter = char::from(Key::Enter).to_string();
        client.goto(&format!("{}/", stack.portal_origin)).await?;
        wait_for(&client, SIGN_IN).await?;
        tab_to(&client, SIGN_IN, false).await?;
        press(&client, &enter).await?;
        // AIM's own form is the authority's page, not the portal's.
        aim::submit_form(&client, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;

        tab_to(&client, "nav.lookups a[href='/lookups/1']", false).await?;
        press(&client, &enter).await?;
        wait_until("the items lookup shows", || async {
            Ok(text_of(&client, "#lookup-title").await? == "Items")
        })
        .await?;
        e2e::grid::wait_for_rows(&client).await?;
        tab_to(&client, QUICK_FILTER, false).await?;
        press(&client, "vanilla").await?;
        wait_for_text(&client, STATUS, &["match"]).await?;

        tab_to(&client, "table.grid", false).await?;
        let arrow = |key: Key| char::from(key).to_string();
        for key in [Key::Down, Key::Up, Key::Right] {
            press(&client, &arrow(key)).await?;
        }
        press(&client, &enter).await?;
        wait_until("the second column sorts ascending", || async {
            let sort = client
                .execute(
                    &in_script("return document.querySelectorAll(SEL.headers)[1].getAttribute('aria-sort')"),
                    vec![],
                )
                .await?;
            Ok(sort == "ascending")
        })
        .await?;
        // ↓ from the header is the column's filter; typing filters; ↓ goes on to the first row.
        press(&client, &arrow(Key::Down)).await?;
        let focused = client
            .execute("return document.activeElement.getAttribute('aria-label')", vec![])
            .await?;
        if !focused.as_str().is_some_and(|l| l.starts_with("Filter ")) {
            bail!("↓ from a header should be that column's filter, not {focused}");
        }
        press(&client, "VANILLA").await?;
        press(&client, &arrow(Key::Down)).await?;
        press(&client, " ").await?;
        e2e::grid::selected(&client).await?;
        // In forced colours (a Windows contrast theme) the selected and the active row still
        // stand out: the theme drops our backgrounds and shadows.
        e2e::cdp(
            &client,
            "Emulation.setEmulatedMedia",
            serde_json::json!({ "features": [{ "name": "forced-colors", "value": "active" }] }),
        )
        .await?;
        let forced = client
            .execute(
                &in_script(
                    "const cell = s => getComputedStyle(document.querySelector(s));
                 return { selected: cell(SEL.selectedRows + ' td').backgroundColor,
                          other: cell('tr[aria-selected=false] td').backgroundColor,
                          active: cell('tr.active td').outlineStyle,
                          forced: matchMedia('(forced-colors: active)').matches };",
                ),
                vec![],
            )
            .await?;
        if forced["forced"] != true || forced["selected"] == forced["other"] || forced["active"] == "none" {
            bail!("in forced colours the selected and the active row must stand out: {forced}");
        }
        assert_accessible(&client, "a lookup grid in forced colours").await?;
        screenshot(&client, "forced-colors").await?;
        e2e::cdp(
            &client,
            "Emulation.setEmulatedMedia",
            serde_json::json!({ "features": [] }),
        )
        .await?;
        press(&client, &format!("{}c", char::from(Key::Control))).await?;
        wait_for_text(&client, ".grid-notice", &["“"]).await?;

        tab_to(&client, "button.export", true).await?;
        press(&client, &enter).await?;
        let file = downloads().join("Items.csv");
        wait_until("the CSV is downloaded", || async {
            Ok(std::fs::metadata(&file).is_ok_and(|m| m.len() > 0))
        })
        .await?;

        tab_to(&client, "button#sign-out", true).await?;
        press(&client, &enter).await?;
        wait_for_text(&client, "#notice", &["signed out"]).await?;
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

/// Pastes the clipboard with Ctrl+V into a text box added to the page (as into a spreadsheet's
/// cell) and returns what arrived; the box is removed again.
async fn paste(client: &Client) -> Result<String> {
    client
        .execute(
            "const box = document.createElement('textarea'); box.id = 'pasted';
             document.body.append(box); box.focus();",
            vec![],
        )
        .await?;
    press(client, &format!("{}v", char::from(fantoccini::key::Key::Control))).await?;
    let deadline = std::time::Instant::now() + e2e::WAIT;
    let pasted = loop {
        let value = client
            .execute("return document.getElementById('pasted').value", vec![])
            .await?;
        match value.as_str() {
            Some(text) if !text.is_empty() => break text.to_owned(),
            _ if std::time::Instant::now() > deadline => bail!("nothing was pasted"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    };
    client
        .execute("document.getElementById('pasted').remove()", vec![])
        .await?;
    Ok(pasted)
}

/// Signs alice in and shows the Items whose text holds "vanilla"; returns the grid's headers.
async fn vanilla_items(client: &Client, stack: &devstack::Stack) -> Result<Vec<String>> {
    sign_in(client, stack, "PLANT\\alice", "alice-demo").await?;
    e2e::grid::wait_for_rows(client).await?;
    e2e::portal::open_lookup(client, 1, "Items").await?;
    e2e::grid::filter(client, "vanilla").await?;
    wait_for_text(client, STATUS, &["match"]).await?;
    Ok(first_row_and_headers(client).await?.1)
}

/// Rows out of the grid as a spreadsheet takes them: Copy rows (no selection: every row the
/// filter shows) pastes as a table whose first line is the grid's column labels and whose rows
/// are the CSV export's, cell for cell (the MES's text, not the grid's local formats); with a
/// row selected, Ctrl+Shift+C in the grid copies that row alone. The totals under the grid add
/// up the same rows: all shown, then the selected one.
#[tokio::test]
async fn copied_rows_paste_as_a_table_under_the_grids_headers() {
    use fantoccini::key::Key;
    let _ = std::fs::remove_dir_all(downloads());
    let stack = stack("e2e-copy-rows").await;
    with_browser(|client| async move {
        let headers = vanilla_items(&client, &stack).await?;

        click(&client, "button.copy-rows").await?;
        wait_for_text(&client, ".grid-notice", &["rows with their headers"]).await?;
        let table = e2e::delimited(&paste(&client).await?, '\t');
        click(&client, "button.export").await?;
        let file = downloads().join("Items.csv");
        wait_until("the CSV is downloaded", || async { Ok(std::fs::metadata(&file).is_ok_and(|m| m.len() > 0)) }).await?;
        let exported = e2e::delimited(&std::fs::read_to_string(&file)?, ',');
        if table.first() != Some(&headers) || table.len() < 3 || table[1..] != exported[1..] {
            bail!("the pasted table should be the headers {headers:?} over the exported rows {exported:?}, not {table:?}");
        }
        // Totals: the unit costs the CSV holds, added up, with their two decimals.
        let cost = exported[0].iter().position(|c| c == "unit_cost").expect("unit_cost exported");
        let sum_of = |rows: &[Vec<String>]| rows.iter().map(|r| r[cost].parse::<f64>().unwrap_or(f64::NAN)).sum::<f64>();
        click(&client, "details.grid-totals summary").await?;
        let said = wait_for_text(&client, "table.totals", &["Over the rows shown", "Sum"]).await?;
        let sum = format!("{:.2}", sum_of(&exported[1..]));
        if !said.contains(&sum) {
            bail!("the totals add up the {} rows shown to {sum}: {said}", exported.len() - 1);
        }

        e2e::grid::pick(&client, 1).await?;
        e2e::grid::selected(&client).await?;
        client.execute("document.querySelector('table.grid').focus()", vec![]).await?;
        press(&client, &format!("{}{}c", char::from(Key::Control), char::from(Key::Shift))).await?;
        wait_for_text(&client, ".grid-notice", &["1 row with its headers"]).await?;
        let one = e2e::delimited(&paste(&client).await?, '\t');
        if one.len() != 2 || one[0] != headers || one[1] != exported[2] {
            bail!("with a row selected, the copy is that row under the headers: {one:?}");
        }
        let one_cost = format!("{:.2}", sum_of(&exported[2..3]));
        let said = wait_for_text(&client, "table.totals", &["Over the selected rows (1)"]).await?;
        if !said.contains(&one_cost) {
            bail!("with a row selected, the totals are its own ({one_cost}): {said}");
        }
        assert_accessible(&client, "the grid with its totals").await?;
        Ok(())
    })
    .await;
}

/// The quick filter's text.
async fn quick_filter_text(client: &Client) -> Result<String> {
    let value = client
        .execute(
            &in_script("return document.querySelector(SEL.quickFilter).value"),
            vec![],
        )
        .await?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// Waits until the page is lookup `title` with exactly `selected` (first cells) selected.
async fn shows_selected(client: &Client, title: &str, selected: &[&str]) -> Result<()> {
    wait_until(&format!("{title} with {selected:?} selected"), || async {
        Ok(text_of(client, "#lookup-title").await? == title
            && client.find(Locator::Css(SELECTED_ROWS)).await.is_ok()
            && e2e::grid::selected(client).await? == selected)
    })
    .await
}

/// A keyboard-wedge scanner works wherever the focus is (config.json's `scan`): a lot label, a
/// GS1 code in brackets or as scanners send it, an item's GS1 code and a printed portal address
/// each open their lookup with the row selected and shown; a scan typed into the quick filter
/// is taken back out, one into a question's field stays as its answer; a code of no configured
/// kind and a lot that is not there are said in words. The same characters typed by a person at a person's pace are typing: they stay in
/// the box and open nothing.
#[tokio::test]
async fn a_scan_opens_its_row_wherever_the_focus_is_and_typing_stays_typing() {
    use e2e::scanner::{scan, type_by_hand};
    let stack = stack_with("e2e-scan", |o| {
        o.config_patch = Some(e2e::scanner::room_to_scan())
    })
    .await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        click(&client, QUICK_FILTER).await?;
        type_by_hand(&client, "L26-0000042").await?;
        wait_until("the typed lot is in the filter", || async {
            Ok(quick_filter_text(&client).await? == "L26-0000042")
        })
        .await?;
        let path = client.current_url().await?.path().to_owned();
        let notice = text_of(&client, ".scan-notice").await?;
        if path != "/" || !notice.is_empty() {
            bail!("typing by hand must not scan: at {path}, notice {notice:?}");
        }

        scan(&client, "(01)09501101530003").await?;
        wait_for_text(
            &client,
            ".scan-notice",
            &["(01)09501101530003", "not a kind of code"],
        )
        .await?;
        if quick_filter_text(&client).await? != "L26-0000042" || client.current_url().await?.path() != "/" {
            bail!("a scan into the quick filter is taken back out, and a GTIN alone opens nothing here");
        }

        scan(&client, "L26-0000042").await?;
        shows_selected(&client, "Lots", &["L26-0000042"]).await?;
        wait_for_text(&client, ".grid-notice", &["Found “L26-0000042”"]).await?;
        let at = client.current_url().await?;
        if at.path() != "/lookups/2"
            || !at
                .query()
                .unwrap_or_default()
                .contains("find=lot_no%3AL26-0000042")
        {
            bail!("the scan is the address (a bookmark finds the lot again): {at}");
        }
        if !quick_filter_text(&client).await?.is_empty() {
            bail!("the scan must not land in the new page's filter");
        }
        assert_accessible(&client, "a lot found by a scan").await?;
        screenshot(&client, "scanned").await?;

        scan(&client, "010950110153000310L26-0000007").await?;
        shows_selected(&client, "Lots", &["L26-0000007"]).await?;
        scan(&client, "(240)ITM-000011").await?;
        shows_selected(&client, "Items", &["ITM-000011"]).await?;
        scan(
            &client,
            &format!("{}/lookups/1?find=item_id:ITM-000003", stack.portal_origin),
        )
        .await?;
        shows_selected(&client, "Items", &["ITM-000003"]).await?;
        scan(&client, "L26-9999999").await?;
        wait_for_text(
            &client,
            ".grid-notice",
            &["“L26-9999999” is not among these", "rows (lot_no)"],
        )
        .await?;
        if client.find(Locator::Css(SELECTED_ROWS)).await.is_ok() {
            bail!("a lot that is not there selects nothing");
        }
        // A question's field takes a scan as its answer: it stays there, and its Enter asks.
        e2e::portal::open_lookup(&client, 8, "Lots of an item").await?;
        click(&client, "#ask-item_id").await?;
        scan(&client, "ITM-000011").await?;
        wait_until("the question is asked with the scanned item", || async {
            let at = client.current_url().await?;
            Ok(at.path() == "/lookups/8" && at.query().unwrap_or_default().contains("p.item_id=ITM-000011"))
        })
        .await?;
        Ok(())
    })
    .await;
}

/// A `scan` section that would take typing for scans is said on the signed-in page, field by
/// field, and scanning stays off: the fastest keys are typing, in the box they were typed into.
#[tokio::test]
async fn a_scan_section_with_problems_is_said_and_scans_stay_typing() {
    let patch = serde_json::json!({ "scan": { "key_gap_ms": 400, "targets": [{ "lookup": "Pallets", "column": "sscc" }] } });
    let stack = stack_with("e2e-scan-config", |o| o.config_patch = Some(patch)).await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let said = wait_for_text(
            &client,
            ".warnings",
            &["scan.key_gap_ms", "scan.targets[0].lookup"],
        )
        .await?;
        click(&client, QUICK_FILTER).await?;
        e2e::scanner::scan(&client, "L26-0000042").await?;
        wait_until("the keys stay in the filter", || async {
            Ok(quick_filter_text(&client).await? == "L26-0000042")
        })
        .await?;
        if client.current_url().await?.path() != "/" {
            bail!("with its settings refused, a scan opens nothing ({said})");
        }
        Ok(())
    })
    .await;
}

/// A shared terminal (config.json's `station`, here 8 s with a 4 s warning): left alone, the
/// portal counts down in a dialog whose one large button keeps the person signed in; left
/// alone again, it signs out as the person would — the refresh token revoked at AIM, AIM's
/// session ended, the rows and the question gone from the page and the address — and the next
/// Sign in meets AIM's form instead of the previous person's session.
#[tokio::test]
async fn an_idle_station_counts_down_signs_out_and_the_next_person_meets_the_form() {
    let patch = serde_json::json!({ "station": { "idle_seconds": 8, "warning_seconds": 4 } });
    let stack = stack_with("e2e-station", |o| o.config_patch = Some(patch)).await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        wait_for(&client, "[data-state=idle-warning] button.still-here").await?;
        let said = text_of(&client, "[role=alertdialog]").await?;
        if !said.contains("Signing out in") {
            bail!("the countdown says when: {said}");
        }
        assert_accessible(&client, "the idle countdown").await?;
        screenshot(&client, "station-countdown").await?;
        let focused = client
            .execute("return document.activeElement.className", vec![])
            .await?;
        if focused != "still-here" {
            bail!("the button has the focus (Enter or Space keeps the session): {focused}");
        }
        press(&client, " ").await?;
        wait_until("the countdown goes", || async {
            Ok(client
                .find(Locator::Css("[data-state=idle-warning]"))
                .await
                .is_err())
        })
        .await?;
        // The limit starts again: no countdown for the next 4 s.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        if client
            .find(Locator::Css("[data-state=idle-warning]"))
            .await
            .is_ok()
            || client.find(Locator::Css(ROWS)).await.is_err()
            || stack
                .aim
                .counters
                .revocations
                .load(std::sync::atomic::Ordering::Relaxed)
                != 0
        {
            bail!("I'm still here starts the limit again and keeps the person signed in, rows and all");
        }

        wait_for_text(&client, "#notice", &["signed out"]).await?;
        let at = client.current_url().await?;
        if at.path() != "/signed-out" || at.query().is_some() {
            bail!("the rows' address is gone after the sign-out: {at}");
        }
        if stack
            .aim
            .counters
            .revocations
            .load(std::sync::atomic::Ordering::Relaxed)
            != 1
        {
            bail!("the sign-out revokes the refresh token at AIM");
        }
        assert_no_token_stored(&client, &stack).await?;
        click(&client, SIGN_IN).await?;
        wait_for(&client, "input#username").await?;
        Ok(())
    })
    .await;
}

/// Paper: Print opens a sheet of every row the filter shows — not only the rows on screen — in
/// their order and shown columns, under the lookup's name and the time. Printed to PDF by the
/// browser it runs over several pages with the column headers at the top of each and the portal
/// around it left off; Escape closes it.
#[tokio::test]
async fn the_print_layout_puts_every_shown_row_on_paper_with_the_headers_on_each_page() {
    let stack = stack("e2e-print").await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        e2e::portal::open_lookup(&client, 2, "Lots").await?;
        let status = wait_for_text(&client, STATUS, &[" rows"]).await?;
        let (first, headers) = first_row_and_headers(&client).await?;
        click(&client, "button.print").await?;
        wait_for(&client, ".print-sheet table.print-table tbody tr").await?;
        let sheet = client
            .execute(
                "const rows = [...document.querySelectorAll('.print-sheet tbody tr')];
                 return { rows: rows.length, first: rows[0].cells[0].textContent,
                          last: rows[rows.length - 1].cells[0].textContent,
                          about: document.querySelector('.print-about').textContent };",
                vec![],
            )
            .await?;
        let rows = sheet["rows"].as_u64().unwrap_or_default();
        if rows < 100 || !status.contains(&rows.to_string()) || sheet["first"] != first[0].as_str() {
            bail!("the sheet holds every shown row in order ({status}): {sheet}");
        }
        if !sheet["about"].as_str().unwrap_or_default().contains("printed") {
            bail!("the sheet says when it was printed: {sheet}");
        }
        assert_accessible(&client, "the print sheet").await?;
        screenshot(&client, "print").await?;
        let pdf = client
            .print(fantoccini::wd::PrintConfiguration::default())
            .await?;
        // The PDF's text comes out with spaces and line breaks where the glyphs were laid out:
        // compared without any.
        let squashed = |text: &str| text.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        let pages: Vec<String> = pdf_extract::extract_text_from_mem_by_pages(&pdf)?
            .iter()
            .map(|p| squashed(p))
            .collect();
        let last = squashed(sheet["last"].as_str().unwrap_or_default());
        if pages.len() < 2
            || !pages[0].contains("Lots")
            || !pages[0].contains(&squashed(&first[0]))
            || pages[0].contains("Signout")
            || !pages[pages.len() - 1].contains(&last)
        {
            bail!(
                "{} pages: the sheet alone, from the first lot to the last: {:?}",
                pages.len(),
                pages.first()
            );
        }
        for (n, page) in pages.iter().enumerate() {
            if !headers[..3].iter().all(|h| page.contains(&squashed(h))) {
                bail!(
                    "page {} lacks the column headers {:?}: {page:?}",
                    n + 1,
                    &headers[..3]
                );
            }
        }
        press(&client, &char::from(fantoccini::key::Key::Escape).to_string()).await?;
        wait_until("Escape closes the sheet", || async {
            Ok(client.find(Locator::Css(".print-sheet")).await.is_err())
        })
        .await
    })
    .await;
}

/// The shown cells of the first grid row and the header labels.
async fn first_row_and_headers(client: &Client) -> Result<(Vec<String>, Vec<String>)> {
    let value = client
        .execute(
            &in_script(
                "const text = e => e.firstChild ? e.firstChild.textContent : '';
             const row = document.querySelector(SEL.rows);
             return [row ? [...row.cells].map(text) : [],
                     [...document.querySelectorAll(SEL.headers + '[role=columnheader]')].map(text)];",
            ),
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(value)?)
}

/// A browser set to German gets the portal in German (the page's `lang` too), numbers and times
/// as German writes them, local and UTC times told apart, and still the MES's own text in the
/// CSV export; axe checks the German pages.
#[tokio::test]
async fn in_a_german_browser_the_portal_speaks_german_and_exports_what_the_mes_sent() {
    let stack = stack("e2e-german").await;
    let _ = std::fs::remove_dir_all(downloads());
    with_browser_in(Some("de-DE,de"), |client| async move {
        client.goto(&stack.portal_origin).await?;
        let button = wait_for_text(&client, SIGN_IN, &["Anmelden"]).await?;
        let lang = client
            .execute("return document.documentElement.lang", vec![])
            .await?;
        if lang != "de" {
            bail!("the page should say it is German (lang={lang}); the button says {button}");
        }
        assert_accessible(&client, "the sign-in page in German").await?;
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let status = wait_for_text(&client, STATUS, &["Zeilen"]).await?;
        let (cells, headers) = first_row_and_headers(&client).await?;
        let at = |label: &str| headers.iter().position(|h| h == label);
        let Some(local) = at("Last edit at (Ortszeit)") else {
            bail!("the local-time column should say so: {headers:?}");
        };
        let time = &cells[local];
        let german_time = time.len() == 20
            && time.char_indices().all(|(i, c)| match i {
                2 | 5 => c == '.',
                10 => c == ',',
                11 => c == ' ',
                14 | 17 => c == ':',
                _ => c.is_ascii_digit(),
            });
        if !german_time {
            bail!("German formats expected (dd.mm.yyyy, hh:mm:ss): {cells:?} ({status})");
        }
        for word in [
            "Zeilen filtern",
            "Spalten",
            "CSV exportieren",
            "Abmelden",
            "Nachschlagelisten",
        ] {
            if !client.source().await?.contains(word) {
                bail!("{word} should be on the German page");
            }
        }
        assert_accessible(&client, "a lookup grid in German").await?;

        click(&client, "button.export").await?;
        let file = downloads().join("Entities.csv");
        wait_until("the CSV is downloaded", || async {
            Ok(std::fs::metadata(&file).is_ok_and(|m| m.len() > 0))
        })
        .await?;
        let csv = std::fs::read_to_string(&file)?;
        // The time is the last column (a description before it may hold quoted commas).
        let row = csv.lines().nth(1).unwrap_or_default();
        let raw_time = row
            .rsplit(',')
            .next()
            .filter(|_| local + 1 == headers.len())
            .unwrap_or_default();
        if raw_time.len() != 19 || raw_time.as_bytes()[10] != b'T' {
            bail!("the CSV keeps what the MES sent (ISO times): {row:?}");
        }
        // Lots: quantities with a decimal comma, UTC told from local time in header and cell.
        client
            .find(Locator::Css("nav a[href='/lookups/2']"))
            .await?
            .click()
            .await?;
        wait_for_text(&client, "table.grid thead", &["Created at (UTC)"]).await?;
        e2e::grid::wait_for_rows(&client).await?;
        let (cells, headers) = first_row_and_headers(&client).await?;
        let cell = |label: &str| {
            headers
                .iter()
                .position(|h| h == label)
                .and_then(|i| cells.get(i))
                .cloned()
                .unwrap_or_default()
        };
        let (qty, utc, local) = (
            cell("Qty"),
            cell("Created at (UTC)"),
            cell("Created at (Ortszeit)"),
        );
        if !qty.contains(',')
            || qty.contains('.')
            || !utc.ends_with(" UTC")
            || local.is_empty()
            || local.contains("UTC")
        {
            bail!("German quantities and marked UTC times expected: {headers:?} {cells:?}");
        }
        screenshot(&client, "german").await?;
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

/// A browser that prefers a language whose translation is listed but missing (the server
/// answers its SPA page, HTML, for the file) gets English words with a warning that names the
/// file — and still its own formats.
#[tokio::test]
async fn a_missing_translation_leaves_english_words_local_formats_and_a_warning() {
    let stack = stack_with("e2e-missing-translation", |o| {
        o.config_patch = Some(serde_json::json!({ "translations": ["de", "fr"] }))
    })
    .await;
    with_browser_in(Some("fr-FR,fr"), |client| async move {
        client.goto(&stack.portal_origin).await?;
        wait_for_text(&client, SIGN_IN, &["Sign in"]).await?;
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        let warning = wait_for_text(&client, ".warnings", &["locales/fr.json"]).await?;
        e2e::grid::wait_for_rows(&client).await?;
        let (cells, headers) = first_row_and_headers(&client).await?;
        let local = headers.iter().position(|h| h == "Last edit at (local time)");
        let time = local.and_then(|i| cells.get(i)).cloned().unwrap_or_default();
        // French: 01/03/2026 06:30:15.
        if time.len() != 19 || &time[2..3] != "/" || &time[10..11] != " " {
            bail!("French formats with English words expected: {headers:?} {cells:?}");
        }
        assert_accessible(&client, "a lookup grid with a warning about its translation").await?;
        if !warning.contains("English") {
            bail!("the warning should say what the portal does instead: {warning}");
        }
        Ok(())
    })
    .await;
}

/// A config.json with problems is a page that lists every one, in plain words, accessible.
#[tokio::test]
async fn a_broken_configuration_is_a_plain_accessible_list_of_every_problem() {
    let patch = serde_json::json!({
        "language": "../../etc",
        "translations": ["de", "x/y"],
        "lookups": [{ "name": "Lots", "web_api": "Nope", "endpoint": "" }],
    });
    let stack = stack_with("e2e-broken-config", |o| o.config_patch = Some(patch)).await;
    with_browser(|client| async move {
        client.goto(&stack.portal_origin).await?;
        let list = wait_for_text(&client, "ul.config-problems", &["lookups[0].endpoint"]).await?;
        for field in [
            "language",
            "translations[1]",
            "lookups[0].web_api",
            "lookups[0].endpoint",
        ] {
            if !list.contains(field) {
                bail!("{field} should be listed: {list}");
            }
        }
        assert_accessible(&client, "the configuration problems page").await?;
        if stack.aim.issued_tokens().len() + usize::from(client.find(Locator::Css(SIGN_IN)).await.is_ok())
            != 0
        {
            bail!("nothing should start with a broken configuration");
        }
        Ok(())
    })
    .await;
}

/// A grid embedded in a narrow host (a phone, a side panel) stays inside it: the tools wrap, the
/// rows scroll sideways inside the grid, the host page never does; axe checks it there.
#[tokio::test]
async fn an_embedded_grid_fits_a_narrow_host() {
    let stack = stack("e2e-narrow-host").await;
    with_browser(|client| async move {
        client.set_window_size(360, 800).await?;
        client.goto(&format!("{}/examples/embed.html", stack.portal_origin)).await?;
        wait_for(&client, &format!("#checklist {ROWS}")).await?;
        // And a host narrower than the page: a 240 px side panel.
        for (width, menu) in [("auto", false), ("240px", false), ("240px", true)] {
            let fit = client
                .execute(
                    &in_script("const host = document.querySelector('#checklist');
                     host.style.width = arguments[0];
                     host.querySelector('details.columns').open = arguments[1];
                     const viewport = host.querySelector(SEL.viewport);
                     const outside = [...host.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right
                         > host.getBoundingClientRect().right + 1 && !viewport.contains(e))
                         .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
                     return { outside, page: document.documentElement.scrollWidth <= innerWidth,
                              rows_scroll: viewport.scrollWidth > viewport.clientWidth };"),
                    vec![width.into(), menu.into()],
                )
                .await?;
            if fit != serde_json::json!({ "outside": [], "page": true, "rows_scroll": true }) {
                bail!("at {width} (column menu open: {menu}) the grid should stay in its host and scroll its rows: {fit}");
            }
        }
        assert_accessible(&client, "an embedded grid in a narrow host").await?;
        Ok(())
    })
    .await;
}

/// An Excel serial date (days since 1899-12-30, the time as a fraction) as ISO 8601 text to
/// the second, as the MES writes a wall-clock time.
fn excel_serial_text(serial: f64) -> String {
    let seconds = (serial * 86_400.0).round() as i64 - 25_569 * 86_400;
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let (day, month) = (
        doy - (153 * mp + 2) / 5 + 1,
        if mp < 10 { mp + 3 } else { mp - 9 },
    );
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// One sheet's XML out of an .xlsx file.
fn sheet_xml(bytes: &[u8], sheet: usize) -> Result<String> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    let mut xml = String::new();
    zip.by_name(&format!("xl/worksheets/sheet{sheet}.xml"))?
        .read_to_string(&mut xml)?;
    Ok(xml)
}

/// Export Excel gives a workbook a spreadsheet reads as typed cells: the grid's headers (frozen,
/// with an autofilter over the rows), the rows the CSV holds in the same order, numbers as
/// numbers, times as dates — the MES's UTC times on the plant's clock (the Web API's zone,
/// +01:00), equal to the MES's own local times — and a second sheet saying what the rows are.
#[tokio::test]
async fn the_excel_export_opens_with_typed_cells_on_the_plants_clock() {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    let _ = std::fs::remove_dir_all(downloads());
    let stack = stack("e2e-xlsx").await;
    with_browser(|client| async move {
        let headers = vanilla_items(&client, &stack).await?;
        click(&client, "button.export").await?;
        let csv = downloads().join("Items.csv");
        wait_until("the CSV is downloaded", || async {
            Ok(std::fs::metadata(&csv).is_ok_and(|m| m.len() > 0))
        })
        .await?;
        let exported = e2e::delimited(&std::fs::read_to_string(&csv)?, ',');

        click(&client, "button.export-xlsx").await?;
        wait_for_text(&client, ".grid-notice", &["Excel file of"]).await?;
        let file = downloads().join("Items.xlsx");
        wait_until("the Excel file is downloaded", || async {
            Ok(std::fs::metadata(&file).is_ok_and(|m| m.len() > 0))
        })
        .await?;
        let bytes = std::fs::read(&file)?;
        let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes.clone()))?;
        let names = book.sheet_names();
        if names != ["Items", "About these rows"] {
            bail!("the workbook's sheets are the rows and what they are: {names:?}");
        }
        let sheet = book.worksheet_range_at(0).expect("a first sheet")?;
        let rows: Vec<&[Data]> = sheet.rows().collect();
        let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
        if header != headers || rows.len() != exported.len() {
            bail!(
                "the sheet is the grid's headers {headers:?} over {} rows: {header:?}, {} rows",
                exported.len() - 1,
                rows.len() - 1
            );
        }
        let column = |name: &str| {
            exported[0]
                .iter()
                .position(|c| c == name)
                .expect("exported column")
        };
        let (id, cost, utc, local) = (
            column("item_id"),
            column("unit_cost"),
            column("last_edit_at_utc"),
            column("last_edit_at_local"),
        );
        for (row, csv_row) in rows[1..].iter().zip(&exported[1..]) {
            let typed = match (&row[id], &row[cost], &row[utc], &row[local]) {
                (Data::String(i), Data::Float(c), Data::DateTime(u), Data::DateTime(l)) => {
                    *i == csv_row[id]
                        && Some(*c) == csv_row[cost].parse().ok()
                        && excel_serial_text(u.as_f64()) == csv_row[local]
                        && excel_serial_text(l.as_f64()) == csv_row[local]
                }
                _ => false,
            };
            if !typed {
                bail!(
                    "a row's cells are text, a number and dates on the plant's clock ({csv_row:?}): {row:?}"
                );
            }
        }
        let xml = sheet_xml(&bytes, 1)?;
        let filter = format!(
            "<autoFilter ref=\"A1:{}{}\"",
            char::from(b'A' + headers.len() as u8 - 1),
            rows.len()
        );
        if !xml.contains("state=\"frozen\"") || !xml.contains(&filter) {
            bail!(
                "the header row is frozen and filters the rows ({filter}): {}",
                &xml[..xml.len().min(1500)]
            );
        }
        let about = book.worksheet_range_at(1).expect("a second sheet")?;
        let said: Vec<String> = about.rows().map(|r| r[0].to_string()).collect();
        let total = format!("{} rows", rows.len() - 1);
        if said.first().map(String::as_str) != Some("Items")
            || !said.iter().any(|l| l.starts_with("exported "))
            || !said.contains(&total)
        {
            bail!("the second sheet names the lookup, when and {total}: {said:?}");
        }
        assert_accessible(&client, "the grid after an Excel export").await?;
        Ok(())
    })
    .await;
}

/// Waits until the address is path `path` with `station=PACK-1` in its query.
async fn at_the_station(client: &Client, path: &str) -> Result<()> {
    wait_until(&format!("{path} at station PACK-1"), || async {
        let at = client.current_url().await?;
        Ok(at.path() == path && at.query_pairs().any(|(k, v)| k == "station" && v == "PACK-1"))
    })
    .await
}

/// A named station (config.json's `station.stations`, its bookmark `?station=PACK-1`): the
/// header names it, the job queue opens asked for the station's entity, and the address keeps
/// the station from page to page. "Next user" signs out as the idle limit does — the refresh
/// token revoked, AIM's session ended — and comes back at the station's address; the next
/// person meets AIM's form and then the same station, its queue filtered again.
#[tokio::test]
async fn next_user_signs_out_at_once_and_the_station_stays() {
    let (ent, jobs) = {
        let probe = stack("e2e-next-user-data").await;
        probe.mes.with_db(|db| {
            db.query_row(
                "SELECT CAST(e.ent_id AS TEXT), (SELECT COUNT(*) FROM job WHERE run_ent_id = e.ent_id) FROM entity e
                 WHERE e.restricted = 0 AND EXISTS (SELECT 1 FROM job WHERE run_ent_id = e.ent_id) LIMIT 1",
                [],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
        }).expect("an entity that runs jobs")
    };
    let patch = serde_json::json!({ "station": { "idle_seconds": 600, "stations": [
        { "name": "PACK-1", "title": "Packaging Line 1", "parameters": { "ent_id": ent } } ] } });
    let stack = stack_with("e2e-next-user", |o| o.config_patch = Some(patch)).await;
    with_browser(|client| async move {
        let queue = |client: Client| {
            let (ent, jobs) = (ent.clone(), jobs);
            async move {
                e2e::portal::open_lookup(&client, 6, "Job queue").await?;
                let said = format!("{} rows", mes_portal::words::count(usize::try_from(jobs)?));
                wait_until(&format!("the queue of the station's entity: {said}"), || async {
                    Ok(e2e::grid::status(&client).await? == said)
                })
                .await?;
                let asked = client
                    .execute("return document.querySelector('#ask-ent_id').value", vec![])
                    .await?;
                if asked != ent.as_str() {
                    bail!("the question is asked for the station's entity {ent}: {asked}");
                }
                at_the_station(&client, "/lookups/6").await
            }
        };
        client
            .goto(&format!("{}/?station=PACK-1", stack.portal_origin))
            .await?;
        click(&client, SIGN_IN).await?;
        aim::submit_form(&client, "PLANT\\alice", "alice-demo").await?;
        wait_for_text(&client, "#station-name", &["Packaging Line 1"]).await?;
        queue(client.clone()).await?;
        assert_accessible(&client, "a named station").await?;
        screenshot(&client, "station-next-user").await?;

        click(&client, "#next-user").await?;
        wait_for_text(&client, "#notice", &["signed out"]).await?;
        at_the_station(&client, "/signed-out").await?;
        let revoked = stack
            .aim
            .counters
            .revocations
            .load(std::sync::atomic::Ordering::Relaxed);
        if revoked != 1 {
            bail!("Next user revokes the refresh token at AIM ({revoked} revocations)");
        }
        assert_no_token_stored(&client, &stack).await?;
        click(&client, SIGN_IN).await?;
        wait_for(&client, "input#username").await?;
        aim::submit_form(&client, "PLANT\\alice", "alice-demo").await?;
        wait_for_text(&client, "#station-name", &["Packaging Line 1"]).await?;
        at_the_station(&client, "/").await?;
        queue(client.clone()).await?;
        Ok(())
    })
    .await;
}

/// Where a scrolled grid stands: its first body row's height, the row (its `aria-rowindex`) at
/// the top of the viewport just under the sticky header, and the viewport's scroll position.
async fn scrolled_rows(client: &Client, to: f64) -> Result<serde_json::Value> {
    client
        .execute(
            &in_script(
                "const v = document.querySelector(SEL.viewport); v.scrollTop = arguments[0];
                 return new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {
                   const head = document.querySelector('table.grid thead tr.filters th').getBoundingClientRect();
                   const box = v.getBoundingClientRect();
                   const at = document.elementFromPoint(box.left + 20, head.bottom + 5);
                   const row = at && at.closest('tr[role=row]');
                   done({ height: document.querySelector(SEL.rows).getBoundingClientRect().height,
                          top: row ? Number(row.getAttribute('aria-rowindex')) : 0, scrolled: v.scrollTop });
                 })));",
            ),
            vec![serde_json::json!(to)],
        )
        .await
        .map_err(Into::into)
}

/// Larger rows for fingers and gloves: the button makes every row 48 px high and the grid keeps
/// rendering the rows that are in view at any scroll position (its window is computed in the
/// rows' height, not the compact one's); the choice stays in the address, so a reload keeps it.
#[tokio::test]
async fn larger_rows_for_gloves_stay_in_step_with_the_scroll() {
    let stack = stack("e2e-density").await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        e2e::portal::open_lookup(&client, 2, "Lots").await?;
        click(&client, "button.density").await?;
        wait_for(&client, "button.density[aria-pressed=true]").await?;
        for _ in 0..2 {
            let at = scrolled_rows(&client, 48.0 * 100.0).await?;
            let (height, top) = (
                at["height"].as_f64().unwrap_or(0.0),
                at["top"].as_f64().unwrap_or(0.0),
            );
            // Row 100 (aria-rowindex 102, after the header row) is at the top, give or take one.
            if (height - 48.0).abs() > 1.0 || (top - 102.0).abs() > 1.0 {
                bail!("48 px rows, and scrolled by 100 of them the 100th at the top: {at}");
            }
            assert_accessible(&client, "larger rows").await?;
            let url = client.current_url().await?;
            if !url
                .query_pairs()
                .any(|(k, v)| k == "density" && v == "comfortable")
            {
                bail!("the address keeps the larger rows: {url}");
            }
            client.refresh().await?;
            e2e::grid::wait_for_rows(&client).await?;
            wait_for(&client, "button.density[aria-pressed=true]").await?;
        }
        Ok(())
    })
    .await;
}

/// The session's hard end, where the authority tells it (`refresh_expires_in`, as Keycloak
/// sends it): with four minutes left of the refresh token's own lifetime, the header says so
/// next to the session's state, so nobody is signed out mid-task without warning.
#[tokio::test]
async fn the_header_warns_before_the_sessions_hard_end() {
    let stack = stack_with("e2e-hard-end", |o| {
        o.refresh_token_lifetime = 240;
        o.aim_tells_refresh_lifetime = true;
    })
    .await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let said = wait_for_text(&client, "#session-end", &["ends in 4 min", "sign in again"]).await?;
        if said.contains("token") {
            bail!("the warning speaks of the session, not of tokens: {said}");
        }
        assert_accessible(&client, "the hard end's warning").await?;
        Ok(())
    })
    .await;
}

/// Any column can be the one that stays: pinned in the column menu, "Item desc" (not the first)
/// stays at the viewport's left edge — its cells and its header — while the grid scrolls
/// sideways past it, and the address keeps the choice through a reload.
#[tokio::test]
async fn a_column_the_person_pins_stays_in_view_scrolling_sideways() {
    let stack = stack("e2e-pin").await;
    with_browser(|client| async move {
        // Narrow enough that the Items scroll sideways, wide enough for the side navigation.
        client.set_window_size(900, 900).await?;
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        e2e::portal::open_lookup(&client, 1, "Items").await?;
        click(&client, "details.columns summary").await?;
        click(&client, "details.columns .column-choice:nth-child(3) input.pin").await?;
        click(&client, "details.columns summary").await?;
        for _ in 0..2 {
            let at = client
                .execute(
                    &in_script(
                        "const v = document.querySelector(SEL.viewport); v.scrollLeft = 600;
                         return new Promise(done => requestAnimationFrame(() => {
                           const left = v.getBoundingClientRect().left;
                           const cell = document.querySelector(SEL.rows).cells[1];
                           const head = document.querySelectorAll(SEL.headers + '[role=columnheader]')[1];
                           done({ cell: cell.getBoundingClientRect().left - left, header: head.getBoundingClientRect().left - left,
                                  first: document.querySelector(SEL.rows).cells[0].getBoundingClientRect().left - left,
                                  scrolled: v.scrollLeft, text: head.textContent });
                         }));",
                    ),
                    vec![],
                )
                .await?;
            let px = |key: &str| at[key].as_f64().unwrap_or(f64::MAX);
            if px("scrolled") < 300.0 || px("cell").abs() > 2.0 || px("header").abs() > 2.0 || px("first") > -50.0 {
                bail!("scrolled sideways, the pinned Item desc stays at the left and the first column goes: {at}");
            }
            let url = client.current_url().await?;
            if !url.query_pairs().any(|(k, v)| k == "pin" && v == "item_desc") {
                bail!("the address keeps the pinned column: {url}");
            }
            client.refresh().await?;
            e2e::grid::wait_for_rows(&client).await?;
        }
        assert_accessible(&client, "a pinned column").await?;
        Ok(())
    })
    .await;
}
