//! End to end, for the plant floor: phones and tablets, a keyboard alone, forced colours,
//! another language and its formats, and the configuration problems page — each checked by
//! axe-core as well.

use anyhow::{Result, bail};
use e2e::aim;
use e2e::scenario::{
    assert_no_token_stored, screenshot, sign_in, stack, stack_with, with_browser, with_browser_in,
};
use e2e::selectors::{QUICK_FILTER, ROWS, SIGN_IN, STATUS, in_script};
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

        click(&client, "button.menu").await?;
        let open = layout(&client).await?;
        if open["nav"] == "none" || open["menu"] != "true" {
            bail!("the menu button opens the navigation: {open}");
        }
        click(&client, "nav.lookups a[href='/lookups/1']").await?;
        wait_until("the items lookup shows", || async { Ok(text_of(&client, "#lookup-title").await? == "Items") }).await?;
        e2e::grid::wait_for_rows(&client).await?;
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

/// Rows out of the grid as a spreadsheet takes them: Copy rows (no selection: every row the
/// filter shows) pastes as a table whose first line is the grid's column labels and whose rows
/// are the CSV export's, cell for cell (the MES's text, not the grid's local formats); with a
/// row selected, Ctrl+Shift+C in the grid copies that row alone.
#[tokio::test]
async fn copied_rows_paste_as_a_table_under_the_grids_headers() {
    use fantoccini::key::Key;
    let _ = std::fs::remove_dir_all(downloads());
    let stack = stack("e2e-copy-rows").await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        click(&client, "nav.lookups a[href='/lookups/1']").await?;
        wait_until("the items lookup shows", || async { Ok(text_of(&client, "#lookup-title").await? == "Items") }).await?;
        e2e::grid::wait_for_rows(&client).await?;
        e2e::grid::filter(&client, "vanilla").await?;
        wait_for_text(&client, STATUS, &["match"]).await?;
        let (_, headers) = first_row_and_headers(&client).await?;

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

        e2e::grid::pick(&client, 1).await?;
        e2e::grid::selected(&client).await?;
        client.execute("document.querySelector('table.grid').focus()", vec![]).await?;
        press(&client, &format!("{}{}c", char::from(Key::Control), char::from(Key::Shift))).await?;
        wait_for_text(&client, ".grid-notice", &["1 row with its headers"]).await?;
        let one = e2e::delimited(&paste(&client).await?, '\t');
        if one.len() != 2 || one[0] != headers || one[1] != exported[2] {
            bail!("with a row selected, the copy is that row under the headers: {one:?}");
        }
        Ok(())
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
