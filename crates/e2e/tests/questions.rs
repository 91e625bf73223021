//! End to end: asking the MES with parameters and honest row limits — the question's form above
//! a grid (keyboard first, checked before anything is sent), the question in the address (Back
//! and a bookmark ask it again), a required parameter's empty state, an answer cut at the
//! lookup's row limit said plainly (status line, notice, CSV), with more asked for; and a lot's
//! genealogy walked both ways, exported, with a branch out mid-walk.

use anyhow::{Result, bail};
use devstack::Stack;
use e2e::grid;
use e2e::scenario::{assert_no_token_stored, screenshot, sign_in, stack, stack_with, with_browser};
use e2e::{assert_accessible, click, downloads, text_of, wait_for, wait_for_text, wait_until};
use fantoccini::{Client, Locator};
use std::sync::atomic::Ordering;

/// The devstack's lookups with a question (see `devstack::web::portal_config`).
const JOB_QUEUE: usize = 6;
const WORK_ORDERS_RELEASED: usize = 7;
const LOTS_OF_AN_ITEM: usize = 8;
const CONSUMPTION: usize = 9;
/// The devstack's plant time zone (`time_zone` of its Web API), seconds east of UTC.
const PLANT_OFFSET: i64 = 3_600;

fn count(stack: &Stack, sql: &str, values: &[&dyn rusqlite::ToSql]) -> usize {
    stack
        .mes
        .with_db(|db| db.query_row(sql, values, |r| r.get::<_, i64>(0)))
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

/// Waits until the grid's status line says `rows` rows, whole.
async fn wait_for_whole(client: &Client, rows: usize) -> Result<()> {
    let said = format!("{} rows", mes_portal::words::count(rows));
    wait_until(&format!("the status line to say \"{said}\""), || async {
        Ok(grid::status(client).await? == said)
    })
    .await
}

async fn address(client: &Client) -> Result<String> {
    Ok(client.current_url().await?.to_string())
}

/// Sets a field the way the person's typing would (date-time fields take keys in the browser's
/// own locale format, which a test should not depend on).
async fn set_field(client: &Client, id: &str, value: &str) -> Result<()> {
    client
        .execute(
            "const f = document.getElementById(arguments[0]); f.value = arguments[1];
             f.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![id.into(), value.into()],
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_question_narrows_the_rows_and_the_address_asks_it_again() {
    let stack = stack("e2e-questions").await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        grid::wait_for_rows(&client).await?;
        let origin = stack.portal_origin.clone();
        client
            .goto(&format!("{origin}/lookups/{WORK_ORDERS_RELEASED}"))
            .await?;
        let all = count(&stack, "SELECT COUNT(*) FROM wo", &[]);
        wait_for_whole(&client, all).await?;
        // Keyboard first: a choice, some text, Enter in the text field asks.
        client
            .find(Locator::Css("select#ask-state"))
            .await?
            .select_by_value("Released")
            .await?;
        let item: String = stack.mes.with_db(|db| {
            db.query_row(
                "SELECT item_id FROM wo WHERE state = 'Released' LIMIT 1",
                [],
                |r| r.get(0),
            )
        })?;
        let field = wait_for(&client, "input#ask-item_id").await?;
        field.send_keys(&format!("{item}\u{E007}")).await?;
        let narrowed = count(
            &stack,
            "SELECT COUNT(*) FROM wo WHERE state = 'Released' AND item_id = ?1",
            &[&item],
        );
        wait_for_whole(&client, narrowed).await?;
        let rows = grid::rows(&client).await?;
        if rows.is_empty()
            || !rows
                .iter()
                .all(|r| r.iter().any(|c| c == "Released") && r.contains(&item))
        {
            bail!("every row should be a released work order of {item}: {rows:?}");
        }
        let asked = address(&client).await?;
        if !(asked.contains("p.state=Released") && asked.contains(&format!("p.item_id={item}"))) {
            bail!("the address should hold the question: {asked}");
        }
        assert_accessible(&client, "a lookup with its question").await?;
        screenshot(&client, "question").await?;

        // Back: the question before (none), all rows again; Forward: the question again.
        client.back().await?;
        wait_for_whole(&client, all).await?;
        client.forward().await?;
        wait_for_whole(&client, narrowed).await?;

        // A bookmark of a date range asks the same question, read in the plant's time zone.
        let (from, to): (i64, i64) = stack.mes.with_db(|db| {
            db.query_row(
                "SELECT release_time_at FROM wo ORDER BY release_time_at LIMIT 1 OFFSET 5",
                [],
                |r| r.get(0),
            )
            .map(|a: i64| (a, a + 5 * 86_400))
        })?;
        let in_range = count(
            &stack,
            "SELECT COUNT(*) FROM wo WHERE release_time_at BETWEEN ?1 AND ?2",
            &[&from, &to],
        );
        let local = |t: i64| devstack::seed::format_time(t, PLANT_OFFSET);
        let bookmark = format!(
            "{origin}/lookups/{WORK_ORDERS_RELEASED}?p.release_from={}&p.release_to={}",
            local(from),
            local(to)
        );
        client.goto(&bookmark).await?;
        wait_for_whole(&client, in_range).await?;
        let shown = client
            .execute("return document.getElementById('ask-release_from').value", vec![])
            .await?;
        if !shown.as_str().is_some_and(|v| local(from).starts_with(v)) {
            bail!(
                "the form should show the bookmarked start {}: {shown}",
                local(from)
            );
        }
        // On a phone the form is one column, inside the screen.
        client.set_window_size(390, 844).await?;
        let fits = client
            .execute(
                "const form = document.querySelector('form.question');
                 const fields = [...form.querySelectorAll('input, select, button')].map(e => e.getBoundingClientRect());
                 return { page: document.documentElement.scrollWidth, right: Math.max(...fields.map(r => r.right)),
                          lefts: new Set(fields.map(r => Math.round(r.left))).size };",
                vec![],
            )
            .await?;
        let number = |k: &str| fits[k].as_f64().unwrap_or(f64::MAX);
        if number("page") > 390.0 || number("right") > 390.0 || number("lefts") != 1.0 {
            bail!("at 390 px the question should be one column inside the screen: {fits}");
        }
        screenshot(&client, "question-phone").await?;
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_question_is_checked_before_it_is_sent_and_a_required_one_waits_to_be_filled_in() {
    let stack = stack("e2e-question-checks").await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        grid::wait_for_rows(&client).await?;
        let origin = stack.portal_origin.clone();
        // A required parameter: the lookup says what it needs and asks nothing.
        let before = stack.mes.requests.load(Ordering::Relaxed);
        client.goto(&format!("{origin}/lookups/{CONSUMPTION}")).await?;
        wait_for_text(&client, "[data-state=fill-in]", &["Consumed lot"]).await?;
        assert_accessible(&client, "a lookup waiting for its question").await?;
        if stack.mes.requests.load(Ordering::Relaxed) != before {
            bail!("nothing should be asked before the required lot is given");
        }
        let field = wait_for(&client, "input#ask-lot_no").await?;
        field.send_keys("L26-RAW-TOM-01\u{E007}").await?;
        wait_for_whole(&client, 2).await?;
        let used_in: Vec<String> = grid::rows(&client)
            .await?
            .iter()
            .flat_map(|r| r.iter().filter(|c| c.starts_with("L26-MIX-")).cloned())
            .collect();
        if used_in != ["L26-MIX-0001", "L26-MIX-0002"] {
            bail!("the raw tomatoes went into the two sauce bases: {used_in:?}");
        }

        // A value the MES could not take is refused in words, and nothing is sent.
        client.goto(&format!("{origin}/lookups/{JOB_QUEUE}")).await?;
        grid::wait_for_rows(&client).await?;
        // The entity's choices come from the Entities lookup: that call is done before counting.
        wait_for(&client, "datalist#ask-ent_id-choices option").await?;
        let asked = address(&client).await?;
        let before = stack.mes.requests.load(Ordering::Relaxed);
        set_field(&client, "ask-lastNhrs", "0").await?;
        client
            .find(Locator::Css("form.question button.ask"))
            .await?
            .click()
            .await?;
        let said = wait_for_text(&client, "[data-state=question-problems]", &["Last hours"]).await?;
        if !said.contains("whole number of hours") {
            bail!("the problem should be said in words: {said}");
        }
        let invalid = client
            .execute(
                "return document.getElementById('ask-lastNhrs').getAttribute('aria-invalid')",
                vec![],
            )
            .await?;
        if invalid != "true" {
            bail!("the field should be marked invalid: {invalid}");
        }
        assert_accessible(&client, "a question with a problem").await?;
        if stack.mes.requests.load(Ordering::Relaxed) != before || address(&client).await? != asked {
            bail!("a question with a problem is neither sent nor put in the address");
        }
        screenshot(&client, "question-problem").await?;
        // An edited address naming a parameter the lookup does not have asks nothing.
        client
            .goto(&format!("{origin}/lookups/{JOB_QUEUE}?p.qty=5"))
            .await?;
        wait_for_text(
            &client,
            "[data-state=question-problems]",
            &["“qty” is not a parameter of this lookup"],
        )
        .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_cut_answer_says_so_everywhere_and_a_whole_one_does_not() {
    // More lots than the lookup's 500, fewer than the next step's 5,000.
    let stack = stack_with("e2e-row-limits", |o| o.seed_rows = 1_000).await;
    let _ = std::fs::remove_dir_all(downloads());
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        grid::wait_for_rows(&client).await?;
        let origin = stack.portal_origin.clone();
        let lots = count(&stack, "SELECT COUNT(*) FROM lot", &[]);
        client
            .goto(&format!("{origin}/lookups/{LOTS_OF_AN_ITEM}"))
            .await?;
        // The lookup asks for 500 rows; the MES has more.
        let notice = wait_for_text(&client, "[data-state=cut]", &["The first 500 rows only"]).await?;
        if !notice.contains("Item, Status") {
            bail!("the notice should name what narrows the question: {notice}");
        }
        wait_until("the status line says the list is cut", || async {
            Ok(grid::status(&client).await? == "the first 500 rows — the MES has more")
        })
        .await?;
        assert_accessible(&client, "a cut answer").await?;
        screenshot(&client, "cut").await?;
        click(&client, "button.export").await?;
        let file = downloads().join("Lots of an item.csv");
        wait_until("the CSV is downloaded", || async {
            Ok(std::fs::metadata(&file).is_ok_and(|m| m.len() > 0))
        })
        .await?;
        let csv = std::fs::read_to_string(&file)?;
        let lines: Vec<&str> = csv.lines().collect();
        if lines.len() != 502 || !lines[501].starts_with("Cut: these are the first 500 rows") {
            bail!(
                "the CSV should hold the 500 rows and say it is cut: {} lines, last {:?}",
                lines.len(),
                lines.last()
            );
        }
        // More, up to the next step: the whole list, and nothing says it is cut.
        client
            .find(Locator::Css("[data-state=cut] button.more"))
            .await?
            .click()
            .await?;
        wait_for_whole(&client, lots).await?;
        if client.find(Locator::Css("[data-state=cut]")).await.is_ok() {
            bail!("a whole answer must not say it is cut");
        }
        // A narrower question: whole at once.
        let field = wait_for(&client, "input#ask-item_id").await?;
        field.send_keys("RM-TOMATO\u{E007}").await?;
        wait_for_whole(&client, 1).await?;
        if client.find(Locator::Css("[data-state=cut]")).await.is_ok() {
            bail!("a whole answer must not say it is cut");
        }
        let text = text_of(&client, "main").await?;
        if text.contains("MES has more") {
            bail!("nothing on the page may say the list is cut: {text}");
        }
        Ok(())
    })
    .await;
}

/// The lots of the genealogy tree, in the order shown, with each one's state.
async fn tree(client: &Client) -> Result<Vec<(String, String)>> {
    let value = client
        .execute(
            "return [...document.querySelectorAll('ul.trace li')].map(li => [li.dataset.lot, li.dataset.state]);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(value)?)
}

/// Waits until the walk has asked everything it will.
async fn walked(client: &Client) -> Result<String> {
    wait_until("the walk to finish", || async {
        let status = text_of(client, "[data-state=trace-status]")
            .await
            .unwrap_or_default();
        Ok(status.contains("generations"))
    })
    .await?;
    text_of(client, "[data-state=trace-status]").await
}

#[tokio::test]
async fn a_lots_genealogy_is_walked_both_ways_exported_and_a_branch_out_is_said_and_asked_again() {
    let stack = stack("e2e-genealogy").await;
    let _ = std::fs::remove_dir_all(downloads());
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        grid::wait_for_rows(&client).await?;
        let origin = stack.portal_origin.clone();
        // Where-used, from a raw lot, with one sauce base's call failing mid-walk.
        stack.mes.fail_lookups_naming(Some("L26-MIX-0002"));
        client
            .find(Locator::Css("nav a[href='/genealogy']"))
            .await?
            .click()
            .await?;
        wait_for(&client, "input#trace-lot")
            .await?
            .send_keys("L26-RAW-TOM-01\u{E007}")
            .await?;
        let status = walked(&client).await?;
        let lots = tree(&client).await?;
        let states: Vec<(&str, &str)> = lots.iter().map(|(l, s)| (l.as_str(), s.as_str())).collect();
        if states
            != [
                ("L26-RAW-TOM-01", "done"),
                ("L26-MIX-0001", "done"),
                ("L26-FG-0001", "done"),
                ("L26-FG-0002", "done"),
                ("L26-MIX-0002", "missing"),
            ]
        {
            bail!("the branch that answered is kept, the other said missing: {states:?} ({status})");
        }
        wait_for_text(&client, "[data-state=trace-missing]", &["Missing branches: 1"]).await?;
        if !address(&client)
            .await?
            .ends_with("/genealogy?lot=L26-RAW-TOM-01&dir=used")
        {
            bail!("the address should hold the lot and direction");
        }
        assert_accessible(&client, "a genealogy walk with a branch missing").await?;
        // The MES answers again: the missing branch is asked again, and the walk completes.
        stack.mes.fail_lookups_naming(None);
        client
            .find(Locator::Css("button.retry-missing"))
            .await?
            .click()
            .await?;
        wait_until("the missing branch comes in", || async {
            Ok(tree(&client).await?.iter().any(|(l, _)| l == "L26-FG-0003"))
        })
        .await?;
        let status = walked(&client).await?;
        if status != "5 lots in 2 generations"
            || client
                .find(Locator::Css("[data-state=trace-missing]"))
                .await
                .is_ok()
        {
            bail!("the whole walk: {status}");
        }
        let repeat = tree(&client)
            .await?
            .into_iter()
            .filter(|(l, _)| l == "L26-FG-0002")
            .map(|(_, s)| s)
            .collect::<Vec<_>>();
        if repeat != ["done", "repeat"] {
            bail!("FG-0002 is reached twice and walked once: {repeat:?}");
        }
        screenshot(&client, "genealogy").await?;
        client
            .find(Locator::Css(".genealogy button.export"))
            .await?
            .click()
            .await?;
        let file = downloads().join("genealogy L26-RAW-TOM-01.csv");
        wait_until("the CSV is downloaded", || async {
            Ok(std::fs::metadata(&file).is_ok_and(|m| m.len() > 0))
        })
        .await?;
        let csv = std::fs::read_to_string(&file)?;
        let affected: Vec<&str> = csv.lines().skip(1).filter_map(|l| l.split(',').nth(1)).collect();
        if affected
            != [
                "L26-MIX-0001",
                "L26-MIX-0002",
                "L26-FG-0001",
                "L26-FG-0002",
                "L26-FG-0003",
            ]
        {
            bail!("every lot that may hold the raw tomatoes, once: {csv}");
        }

        // Where-from, from a finished lot, by its address: three generations back to the raw lots.
        client
            .goto(&format!("{origin}/genealogy?lot=L26-FG-0002&dir=from"))
            .await?;
        let status = walked(&client).await?;
        let lots: Vec<String> = tree(&client).await?.into_iter().map(|(l, _)| l).collect();
        for lot in [
            "L26-MIX-0001",
            "L26-MIX-0002",
            "L26-PKG-JAR-01",
            "L26-RAW-TOM-01",
            "L26-RAW-SUG-01",
            "L26-RAW-SALT-01",
        ] {
            if !lots.iter().any(|l| l == lot) {
                bail!("{lot} went into L26-FG-0002: {lots:?} ({status})");
            }
        }
        // A rework loop is marked, and the walk ends.
        client
            .goto(&format!("{origin}/genealogy?lot=L26-RW-A&dir=used"))
            .await?;
        walked(&client).await?;
        let states = tree(&client).await?;
        if states.last().map(|(l, s)| (l.as_str(), s.as_str())) != Some(("L26-RW-A", "loop")) {
            bail!("the loop back to the start is marked: {states:?}");
        }
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

/// The first linked cell of the grid whose link opens lookup `lookup`: its text and address.
async fn first_link_to(client: &Client, lookup: usize) -> Result<(String, String)> {
    let value = client
        .execute(
            "const a = [...document.querySelectorAll('table.grid a.cell-link')]
                 .find(a => a.getAttribute('href').startsWith(`/lookups/${arguments[0]}?`));
             return a ? [a.textContent, a.getAttribute('href')] : null;",
            vec![lookup.into()],
        )
        .await?;
    serde_json::from_value::<Option<(String, String)>>(value)?
        .ok_or_else(|| anyhow::anyhow!("no cell links to lookup {lookup}"))
}

#[tokio::test]
async fn a_linked_cell_opens_its_lookup_and_the_trail_leads_back() {
    use fantoccini::key::Key;
    let stack = stack("e2e-links").await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        grid::wait_for_rows(&client).await?;
        let origin = stack.portal_origin.clone();
        // Lots: an item cell opens "Lots of an item" with that item.
        client.goto(&format!("{origin}/lookups/2")).await?;
        grid::wait_for_rows(&client).await?;
        let (item, href) = first_link_to(&client, LOTS_OF_AN_ITEM).await?;
        if href != format!("/lookups/{LOTS_OF_AN_ITEM}?p.item_id={item}") {
            bail!("the link's address is its lookup and question: {href}");
        }
        assert_accessible(&client, "a grid with linked cells").await?;
        client
            .find(Locator::Css(&format!("table.grid a.cell-link[href='{href}']")))
            .await?
            .click()
            .await?;
        let lots = count(&stack, "SELECT COUNT(*) FROM lot WHERE item_id = ?1", &[&item]);
        wait_for_whole(&client, lots).await?;
        let here = address(&client).await?;
        if !here.ends_with(&format!("/lookups/{LOTS_OF_AN_ITEM}?p.item_id={item}&trail=2")) {
            bail!("the address holds the question and the trail: {here}");
        }
        let shown = client
            .execute("return document.getElementById('ask-item_id').value", vec![])
            .await?;
        if shown != item.as_str() {
            bail!("the form shows the question the link asked: {shown}");
        }
        wait_for_text(&client, "nav.trail", &["Lots"]).await?;

        // Keyboard: the grid's first cell is a lot; Enter on it follows its link.
        wait_for(&client, "table.grid")
            .await?
            .send_keys(&char::from(Key::Down).to_string())
            .await?;
        let (lot, _) = first_link_to(&client, CONSUMPTION).await?;
        client
            .active_element()
            .await?
            .send_keys(&char::from(Key::Enter).to_string())
            .await?;
        wait_until("Enter on a linked cell opens its lookup", || async {
            Ok(address(&client)
                .await?
                .contains(&format!("/lookups/{CONSUMPTION}?p.lot_no=")))
        })
        .await?;
        let trail = wait_for_text(&client, "nav.trail", &["Lots of an item"]).await?;
        if !trail.contains(&format!("item_id = {item}")) {
            bail!("the trail names each step's question: {trail}");
        }
        let here = address(&client).await?;
        if !here.contains(&format!("p.lot_no={lot}")) {
            bail!("the first row's lot {lot} is the question: {here}");
        }
        // Back to the lots of the item, forward again; the trail's first step leads to Lots.
        client.back().await?;
        wait_for_whole(&client, lots).await?;
        client.forward().await?;
        wait_until("forward again", || async {
            Ok(address(&client).await?.contains("p.lot_no="))
        })
        .await?;
        client
            .find(Locator::Css("nav.trail li:first-child a"))
            .await?
            .click()
            .await?;
        wait_until("the trail leads back to Lots", || async {
            Ok(address(&client).await?.ends_with("/lookups/2"))
        })
        .await?;
        grid::wait_for_rows(&client).await?;
        if client.find(Locator::Css("nav.trail")).await.is_ok() {
            bail!("the start of the trail has no trail");
        }
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_rows_detail_shows_every_column_beside_the_grid_and_as_a_sheet_on_a_phone() {
    let stack = stack("e2e-row-detail").await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        grid::wait_for_rows(&client).await?;
        let origin = stack.portal_origin.clone();
        client.goto(&format!("{origin}/lookups/3")).await?;
        grid::wait_for_rows(&client).await?;
        // The record is read whole by its key (`v3/wo/key`): its values now, a change since the
        // list was read marked with what the list said.
        let first = grid::rows(&client).await?.first().and_then(|r| r.first().cloned()).unwrap_or_default();
        let listed: String = stack.mes.with_db(|db| {
            db.query_row("SELECT state FROM wo WHERE wo_id = ?1", [&first], |r| r.get(0))
        })?;
        stack.mes.with_db(|db| db.execute("UPDATE wo SET state = 'On hold' WHERE wo_id = ?1", [&first]))?;
        grid::pick(&client, 0).await?;
        wait_for(&client, "aside[data-state=row-detail]").await?;
        let changed = wait_for_text(&client, "aside.detail dd[data-column=state][data-changed]", &["On hold"]).await?;
        if !changed.contains(&format!("listed: {listed}")) {
            bail!("the state read now, with what the list said: {changed}");
        }
        let shape = client
            .execute(
                "const aside = document.querySelector('aside.detail').getBoundingClientRect();
                 const grid = document.querySelector('.grid-viewport').getBoundingClientRect();
                 return { beside: aside.left >= grid.right, columns: [...document.querySelectorAll('aside.detail dt')].length,
                          wo: document.querySelector('aside.detail dd[data-column=wo_id]').textContent };",
                vec![],
            )
            .await?;
        // wo_id, wo_desc, item_id, req_qty, state, and each time as UTC, local and as sent.
        if shape["beside"] != true || shape["columns"] != 11 || shape["wo"] != first.as_str() {
            bail!("every column of the first work order, beside the grid: {shape} (first row {first})");
        }
        assert_accessible(&client, "a row's detail beside the grid").await?;
        screenshot(&client, "detail").await?;
        // Its item leads to the item's lots, as the grid's cell does.
        click(&client, "aside.detail dd[data-column=item_id] a.cell-link").await?;
        wait_until("the detail's link opens its lookup", || async {
            Ok(address(&client).await?.contains(&format!("/lookups/{LOTS_OF_AN_ITEM}?p.item_id=")))
        })
        .await?;

        // On a phone: a sheet over the grid, the keyboard in it; Escape gives it back to the grid.
        client.set_window_size(390, 844).await?;
        client.goto(&format!("{origin}/lookups/3")).await?;
        grid::wait_for_rows(&client).await?;
        grid::pick(&client, 1).await?;
        wait_for(&client, "aside[data-state=row-detail]").await?;
        let sheet = client
            .execute(
                "const r = document.querySelector('aside.detail').getBoundingClientRect();
                 const page = document.documentElement;
                 return { covers: r.left === 0 && r.top === 0 && r.width >= page.clientWidth - 1 && r.height >= page.clientHeight - 1,
                          page: document.documentElement.scrollWidth, focused: document.activeElement.className };",
                vec![],
            )
            .await?;
        if sheet["covers"] != true || sheet["page"].as_f64().unwrap_or(f64::MAX) > 390.0 || sheet["focused"] != "secondary close" {
            bail!("on a phone the detail is a sheet over the screen with the keyboard in it: {sheet}");
        }
        assert_accessible(&client, "a row's detail as a sheet on a phone").await?;
        screenshot(&client, "detail-phone").await?;
        client
            .active_element()
            .await?
            .send_keys(&char::from(fantoccini::key::Key::Escape).to_string())
            .await?;
        wait_until("the sheet closes and the grid has the keyboard", || async {
            let gone = client.find(Locator::Css("aside.detail")).await.is_err();
            let focused = client.execute("return document.activeElement.tagName", vec![]).await?;
            Ok(gone && focused == "TABLE")
        })
        .await?;
        Ok(())
    })
    .await;
}

/// A `/key` that answers several records: the detail says the record could not be read, why,
/// and shows the row as the list gave it; Read again asks again.
#[tokio::test]
async fn a_record_the_mes_answers_wrongly_is_said_and_the_row_stays_as_listed() {
    let stack = stack_with("e2e-record-unread", |o| o.hostile = true).await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        grid::wait_for_rows(&client).await?;
        let lookups = stack.portal_config()["lookups"].clone();
        let index = lookups
            .as_array()
            .and_then(|l| l.iter().position(|l| l["name"] == "Hostile: key-answers-array"))
            .ok_or_else(|| anyhow::anyhow!("the hostile lookup with a record"))?;
        client
            .goto(&format!("{}/lookups/{index}", stack.portal_origin))
            .await?;
        grid::wait_for_rows(&client).await?;
        let before = stack.mes.requests.load(Ordering::Relaxed);
        grid::pick(&client, 0).await?;
        let said = wait_for_text(&client, "[data-state=record-unread]", &["could not be read"]).await?;
        if !said.contains("2 records where the key names one") {
            bail!("why the record could not be read: {said}");
        }
        let lot = text_of(&client, "aside.detail dd[data-column=lot_no]").await?;
        if lot != "L-0000" {
            bail!("the row as listed stays: {lot}");
        }
        assert_accessible(&client, "a record that could not be read").await?;
        let asked = stack.mes.requests.load(Ordering::Relaxed);
        client
            .find(Locator::Css("[data-state=record-unread] button"))
            .await?
            .click()
            .await?;
        wait_until("Read again asks the MES again", || async {
            Ok(stack.mes.requests.load(Ordering::Relaxed) > asked)
        })
        .await?;
        wait_for(&client, "[data-state=record-unread]").await?;
        if asked <= before {
            bail!("the record was asked for");
        }
        Ok(())
    })
    .await;
}

/// A choice read from another lookup: the job queue's entity offers the entities the person may
/// see, by name; one picked narrows the queue. When that lookup cannot be read, the field says
/// so and takes typing.
#[tokio::test]
async fn a_choice_offers_another_lookups_values_and_takes_typing_when_they_cannot_be_read() {
    let stack = stack("e2e-choices-from").await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        grid::wait_for_rows(&client).await?;
        let origin = stack.portal_origin.clone();
        client.goto(&format!("{origin}/lookups/{JOB_QUEUE}")).await?;
        grid::wait_for_rows(&client).await?;
        let offered = "return [...document.querySelectorAll('datalist#ask-ent_id-choices option')].map(o => [o.value, o.textContent])";
        wait_until("the entities are offered", || async {
            Ok(client.execute(offered, vec![]).await?.as_array().is_some_and(|o| !o.is_empty()))
        })
        .await?;
        let offered: Vec<(String, String)> = serde_json::from_value(client.execute(offered, vec![]).await?)?;
        let visible: Vec<(String, String)> = stack.mes.with_db(|db| {
            let mut q = db.prepare(
                "SELECT CAST(ent_id AS TEXT), ent_name FROM entity WHERE restricted = 0
                   OR ent_id IN (SELECT ent_id FROM user_ent_grant WHERE user_id = 'PLANT\\alice') ORDER BY rowid",
            )?;
            let rows = q.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        if offered != visible {
            bail!("the entities alice may see, by name: {offered:?} (the MES: {visible:?})");
        }
        let (ent, name) = stack.mes.with_db(|db| {
            db.query_row(
                "SELECT CAST(e.ent_id AS TEXT), e.ent_name FROM entity e JOIN job j ON j.run_ent_id = e.ent_id
                 WHERE e.restricted = 0 LIMIT 1",
                [],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
        })?;
        if !offered.contains(&(ent.clone(), name)) {
            bail!("an entity that runs jobs is offered: {ent}");
        }
        let jobs = count(&stack, "SELECT COUNT(*) FROM job WHERE run_ent_id = ?1", &[&ent]);
        set_field(&client, "ask-ent_id", &ent).await?;
        click(&client, "form.question button.ask").await?;
        wait_for_whole(&client, jobs).await?;
        assert_accessible(&client, "a choice offered from another lookup").await?;

        // Without the privilege to list entities, the field says so and still takes a value.
        stack.mes.with_db(|db| {
            db.execute(
                "DELETE FROM user_priv WHERE user_id = 'PLANT\\alice' AND priv = 'view_entities'",
                [],
            )
        })?;
        client.refresh().await?;
        wait_for_text(&client, "[data-state=choices-unread]", &["type the value"]).await?;
        wait_for_whole(&client, jobs).await?;
        assert_accessible(&client, "a choice whose list could not be read").await?;
        Ok(())
    })
    .await;
}

/// The Web APIs page's connection test asks what a grid would: a lookup whose question its
/// defaults answer, with them (here the first lookup needs a lot, which the test cannot know).
#[tokio::test]
async fn the_connection_test_asks_a_lookup_with_its_questions_defaults() {
    let stack = stack_with("e2e-probe", |o| {
        o.config_patch = Some(serde_json::json!({
            "links": [],
            "lookups": [
                { "name": "Consumption of a lot", "web_api": "MES", "endpoint": "v3/item_cons/filter",
                  "parameters": [ { "name": "lot_no", "label": "Consumed lot", "required": true } ] },
                { "name": "Jobs of the last day", "web_api": "MES", "endpoint": "v3/job/filter",
                  "parameters": [ { "name": "lastNhrs", "kind": "last_hours", "default": "24" } ] }
            ]
        }))
    })
    .await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, "[data-state=fill-in]").await?;
        client.goto(&format!("{}/web-apis", stack.portal_origin)).await?;
        wait_for(&client, "#web-api-0 button.test-connection")
            .await?
            .click()
            .await?;
        let said = wait_for_text(
            &client,
            "#web-api-0 ol.checklist li[data-step='2']",
            &["v3/job/filter"],
        )
        .await?;
        let steps = client
            .execute(
                "return [...document.querySelectorAll('#web-api-0 ol.checklist li')].map(li => li.className)",
                vec![],
            )
            .await?;
        if steps != serde_json::json!(["passed", "passed", "passed", "passed"]) {
            bail!("every step passes, asking the job queue of the last day: {steps} ({said})");
        }
        Ok(())
    })
    .await;
}
