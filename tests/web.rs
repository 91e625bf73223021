//! Portal components in a real browser (headless Chromium): the grid's virtualization at
//! 100,000 rows, sorting, filtering, keyboard selection, ARIA, and every failure state.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use mes_client::{MesError, Rows, SelectionMode};
use mes_portal::grid::FailureView;
use mes_portal::grid_model::GridData;
use mes_portal::{Portal, RowsGrid};
use std::sync::{Arc, Mutex};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

// Where the grid's parts are: the list the e2e suites and the bench read too.
#[allow(dead_code)]
#[path = "../crates/e2e/src/selectors.rs"]
mod selectors;
use selectors::{HEADERS, QUICK_FILTER, ROWS, STATUS, VIEWPORT};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().and_then(|w| w.document()).expect("document")
}

/// A fresh container in the page.
fn container() -> web_sys::HtmlElement {
    let div: web_sys::HtmlElement = document().create_element("div").expect("div").unchecked_into();
    document()
        .body()
        .expect("body")
        .append_child(&div)
        .expect("append");
    div
}

fn all(root: &web_sys::Element, css: &str) -> Vec<web_sys::Element> {
    let list = root.query_selector_all(css).expect("selector");
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into().ok())
        .collect()
}

fn one(root: &web_sys::Element, css: &str) -> web_sys::Element {
    root.query_selector(css)
        .expect("selector")
        .unwrap_or_else(|| panic!("no {css}"))
}

/// The grid's body rows under `root`.
fn rows(root: &web_sys::Element) -> Vec<web_sys::Element> {
    all(root, ROWS)
}

/// The grid's column headers under `root`.
fn headers(root: &web_sys::Element) -> Vec<web_sys::Element> {
    all(root, HEADERS)
}

fn rows_json(n: usize) -> Rows {
    let mut text = String::from("[");
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        // Reverse numeric order and a text column, so sorting visibly changes the first row.
        text.push_str(&format!(
            r#"{{"item_id":"ITM-{i:06}","qty":{},"item_desc":"Item {}","uom_id":"EA","price":{}.5}}"#,
            n - i,
            i % 97,
            i % 13
        ));
    }
    text.push(']');
    Rows::from_json(text.as_bytes()).expect("rows")
}

/// The cell or header the grid's `aria-activedescendant` names, without the grid's number.
fn active_descendant(table: &web_sys::Element) -> Option<String> {
    table
        .get_attribute("aria-activedescendant")
        .map(|id| local_id(&id).to_owned())
}

/// `g3-cell-1-0` → `cell-1-0`: an element id without its grid's number.
fn local_id(id: &str) -> &str {
    id.split_once('-').map_or(id, |(_, rest)| rest)
}

fn first_cells(root: &web_sys::Element) -> Vec<String> {
    rows(root)
        .first()
        .map(|r| {
            all(r, "td")
                .iter()
                .map(|c| c.text_content().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// Dispatches a keydown and returns it (to check whether a handler prevented its default).
fn key(target: &web_sys::Element, key: &str) -> web_sys::KeyboardEvent {
    alt_key(target, key, false)
}

/// A keydown of `key`, with Alt held when `alt`.
fn alt_key(target: &web_sys::Element, key: &str, alt: bool) -> web_sys::KeyboardEvent {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_alt_key(alt);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    target.dispatch_event(&event).expect("dispatch");
    event
}

/// Rows arriving while the grid shows: the first ones are there at once, the status says the
/// answer is still coming, a sort set meanwhile applies to what is in and to what comes, the
/// keyboard position stays, and the end of the answer is said plainly.
#[wasm_bindgen_test]
async fn rows_that_are_still_arriving_show_sort_and_say_so() {
    let text = {
        let rows = rows_json(3_000);
        let mut out = String::from("[");
        for r in 0..rows.len() {
            let cells: Vec<String> = rows
                .column_names()
                .zip(rows.row(r))
                .map(|(c, v)| format!("\"{c}\":{}", v.to_json()))
                .collect();
            out.push_str(&format!(
                "{}{{{}}}",
                if r > 0 { "," } else { "" },
                cells.join(",")
            ));
        }
        out + "]"
    };
    let data = RwSignal::new(GridData::streaming(&[], Some("item_id")));
    let mut decoder = mes_client::RowsDecoder::default();
    let body = text.as_bytes();
    let third = body.len() / 3;
    let feed = |piece: &[u8], decoder: &mut mes_client::RowsDecoder| {
        data.update(|d| {
            decoder.push(piece, d.rows_mut()).expect("rows");
            d.refresh();
        })
    };
    feed(&body[..third], &mut decoder);
    let root = container();
    let _mounted = mount_to(
        root.clone(),
        move || view! { <RowsGrid data=data mode=SelectionMode::Single /> },
    );
    leptos::task::tick().await;
    let so_far = data.with_untracked(|d| d.len());
    assert!(so_far > 500 && so_far < 3_000, "{so_far} rows in the first third");
    let status = || one(&root, STATUS).text_content().unwrap_or_default();
    assert!(status().ends_with("rows so far…"), "{}", status());
    assert_eq!(first_cells(&root)[0], "ITM-000000");
    assert!(
        all(&root, "[role=status] h2").is_empty(),
        "no \"No rows\" while rows arrive"
    );

    // Sort by quantity (descending in the data: the first row has the most) while rows arrive.
    let quantity = headers(&root)[1].clone();
    quantity.dyn_ref::<web_sys::HtmlElement>().expect("th").click();
    leptos::task::tick().await;
    assert_eq!(
        first_cells(&root)[0],
        format!("ITM-{:06}", so_far - 1),
        "the smallest quantity so far first"
    );
    let table = one(&root, "table[role=grid]");
    key(&table, "ArrowDown");
    leptos::task::tick().await;
    assert!(table.get_attribute("aria-activedescendant").is_some());

    feed(&body[third..], &mut decoder);
    decoder.finish().expect("complete");
    data.update(GridData::set_complete);
    leptos::task::tick().await;
    assert_eq!(status(), "3,000 rows");
    assert_eq!(
        first_cells(&root)[0],
        "ITM-002999",
        "rows that came later are sorted in"
    );
    assert!(
        table.get_attribute("aria-activedescendant").is_some(),
        "rows arriving do not move the keyboard position"
    );
}

#[wasm_bindgen_test]
async fn a_hundred_thousand_rows_keep_the_dom_bounded() {
    let data = RwSignal::new(GridData::new(rows_json(100_000), &[], Some("item_id")));
    let root = container();
    let _mounted = mount_to(
        root.clone(),
        move || view! { <RowsGrid data=data mode=SelectionMode::Single /> },
    );
    leptos::task::tick().await;
    let table = one(&root, "table[role=grid]");
    assert_eq!(table.get_attribute("aria-rowcount").as_deref(), Some("100001"));
    let rendered = rows(&root).len();
    assert!((10..=80).contains(&rendered), "{rendered} rows in the DOM");
    assert_eq!(first_cells(&root)[0], "ITM-000000");
    assert_eq!(one(&root, STATUS).text_content().as_deref(), Some("100,000 rows"));

    // Scroll far down: still bounded, and the rows there are rendered with their positions.
    let viewport: web_sys::HtmlElement = one(&root, VIEWPORT).unchecked_into();
    viewport.set_scroll_top(34 * 50_000);
    viewport
        .dispatch_event(&web_sys::Event::new("scroll").expect("event"))
        .expect("scroll");
    leptos::task::tick().await;
    let rows = rows(&root);
    assert!(rows.len() <= 80, "{} rows after scrolling", rows.len());
    let index: usize = rows[0]
        .get_attribute("aria-rowindex")
        .and_then(|v| v.parse().ok())
        .expect("aria-rowindex");
    assert!(
        (49_000..50_002).contains(&index),
        "first rendered row index {index}"
    );
}

#[wasm_bindgen_test]
async fn header_clicks_sort_numbers_numerically_and_set_aria_sort() {
    let data = RwSignal::new(GridData::new(rows_json(500), &[], Some("item_id")));
    let root = container();
    let _mounted = mount_to(
        root.clone(),
        move || view! { <RowsGrid data=data mode=SelectionMode::Single /> },
    );
    leptos::task::tick().await;
    let qty: web_sys::HtmlElement = all(&root, "th")[1].clone().unchecked_into();
    assert_eq!(qty.get_attribute("aria-sort").as_deref(), Some("none"));
    qty.click();
    leptos::task::tick().await;
    assert_eq!(qty.get_attribute("aria-sort").as_deref(), Some("ascending"));
    assert_eq!(
        first_cells(&root)[1],
        "1",
        "numeric, not text order (\"1\" < \"10\" < \"2\")"
    );
    qty.click();
    leptos::task::tick().await;
    assert_eq!(qty.get_attribute("aria-sort").as_deref(), Some("descending"));
    assert_eq!(first_cells(&root)[1], "500");
}

#[wasm_bindgen_test]
async fn quick_filter_narrows_rows_and_says_how_many_match() {
    let data = RwSignal::new(GridData::new(rows_json(500), &[], None));
    let root = container();
    let _mounted = mount_to(
        root.clone(),
        move || view! { <RowsGrid data=data mode=SelectionMode::Single /> },
    );
    leptos::task::tick().await;
    let input: web_sys::HtmlInputElement = one(&root, QUICK_FILTER).unchecked_into();
    input.set_value("ITM-00048");
    input
        .dispatch_event(&web_sys::Event::new("input").expect("event"))
        .expect("input");
    leptos::task::tick().await;
    let rows = rows(&root);
    assert_eq!(
        rows.len(),
        10,
        "ITM-000480 to ITM-000489, whatever the case typed"
    );
    assert!(
        rows.iter()
            .all(|r| r.text_content().unwrap_or_default().contains("ITM-00048"))
    );
    assert_eq!(
        one(&root, STATUS).text_content().as_deref(),
        Some("10 of 500 rows match")
    );
}

#[wasm_bindgen_test]
async fn keyboard_moves_and_picks_and_the_selection_is_reported() {
    let data = RwSignal::new(GridData::new(rows_json(50), &[], Some("item_id")));
    let picked = Arc::new(Mutex::new(Vec::<Vec<String>>::new()));
    let sink = picked.clone();
    let root = container();
    let _mounted = mount_to(root.clone(), move || {
        let on_select = Callback::new(move |values: Vec<String>| sink.lock().expect("lock").push(values));
        view! { <RowsGrid data=data mode=SelectionMode::Multi on_select=on_select /> }
    });
    leptos::task::tick().await;
    let table = one(&root, "table[role=grid]");
    assert_eq!(
        table.get_attribute("aria-multiselectable").as_deref(),
        Some("true")
    );
    let _ = key(&table, "ArrowDown");
    let _ = key(&table, "ArrowDown");
    leptos::task::tick().await;
    assert_eq!(active_descendant(&table).as_deref(), Some("cell-1-0"));
    leptos::task::tick().await;
    let marked: Vec<String> = all(&root, "td[data-active]")
        .iter()
        .map(|c| local_id(&c.id()).to_owned())
        .collect();
    assert_eq!(
        marked,
        ["cell-1-0"],
        "exactly the active cell is marked for the eye"
    );
    let _ = key(&table, "Enter");
    let _ = key(&table, "End");
    leptos::task::tick().await;
    let _ = key(&table, "Enter");
    leptos::task::tick().await;
    let selected = |root: &web_sys::Element| -> Vec<String> {
        all(root, "tr[aria-selected=true]")
            .iter()
            .filter_map(|r| r.get_attribute("id"))
            .map(|id| local_id(&id).to_owned())
            .collect()
    };
    assert_eq!(
        picked.lock().expect("lock").last().cloned(),
        Some(vec!["ITM-000001".to_owned(), "ITM-000049".to_owned()])
    );
    assert!(selected(&root).contains(&"row-49".to_owned()));
    let _ = key(&table, "Home");
    leptos::task::tick().await;
    assert_eq!(
        selected(&root),
        ["row-1"],
        "row 1 stays selected while scrolled away and back"
    );
    let _ = key(&table, "Escape");
    leptos::task::tick().await;
    assert!(all(&root, "tr[aria-selected=true]").is_empty());
    assert_eq!(picked.lock().expect("lock").last().cloned(), Some(vec![]));

    // Sorting by keyboard: up from the first row into the header row, across, Enter sorts (again
    // reverses), down comes back to the rows; the header cell is what aria-activedescendant names.
    let _ = key(&table, "ArrowUp");
    leptos::task::tick().await;
    assert_eq!(
        active_descendant(&table).as_deref(),
        Some("col-0"),
        "up from row 0 is the header row"
    );
    let _ = key(&table, "ArrowRight");
    leptos::task::tick().await;
    assert_eq!(active_descendant(&table).as_deref(), Some("col-1"));
    let qty = headers(&root)[1].clone();
    assert!(
        qty.has_attribute("data-active"),
        "the active header cell is marked"
    );
    assert!(key(&table, "Enter").default_prevented());
    leptos::task::tick().await;
    assert_eq!(qty.get_attribute("aria-sort").as_deref(), Some("ascending"));
    assert_eq!(first_cells(&root)[1], "1", "qty ascending");
    let _ = key(&table, "Enter");
    leptos::task::tick().await;
    assert_eq!(qty.get_attribute("aria-sort").as_deref(), Some("descending"));
    // Down goes through the column's filter (its own keys) to the first row.
    let _ = key(&table, "ArrowDown");
    let filter = one(&root, "input.column-filter:focus");
    let _ = key(&filter, "ArrowDown");
    leptos::task::tick().await;
    assert_eq!(
        active_descendant(&table).as_deref(),
        Some("cell-0-1"),
        "down, down returns to the first row"
    );
    assert!(!qty.has_attribute("data-active"));
}

#[wasm_bindgen_test]
async fn every_failure_has_its_own_plain_state_and_hostile_text_stays_text() {
    let hostile = r#"<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>"#;
    let cases = [
        (
            MesError::Denied {
                message: hostile.into(),
                identity: Some("PLANT\\victor".into()),
            },
            "denied",
            "Access denied",
        ),
        (
            MesError::AuthorityOffline {
                message: "AIM unreachable".into(),
                retry_after: None,
            },
            "authority-offline",
            "AVEVA Identity Manager is offline",
        ),
        (
            MesError::SessionExpired,
            "session-expired",
            "Your session has expired",
        ),
        (
            MesError::Unreachable {
                url: "https://mes.test/mesmw/api/v3/entity".into(),
                reason: "Failed to fetch".into(),
            },
            "unreachable",
            "https://mes.test/mesmw/api/v3/entity",
        ),
        (
            MesError::UnexpectedResponse {
                status: 200,
                content_type: "text/html".into(),
                reason: "expected JSON".into(),
                first_bytes: hostile.into(),
            },
            "unexpected",
            "Unexpected answer",
        ),
        (
            MesError::NotFound {
                message: "No HTTP resource".into(),
            },
            "not-found",
            "does not know this lookup",
        ),
        (
            MesError::ServerError {
                status: 502,
                message: "Bad gateway".into(),
            },
            "server-error",
            "HTTP 502",
        ),
        (
            MesError::NotConfigured {
                message: hostile.into(),
            },
            "not-configured",
            "not set up correctly",
        ),
    ];
    for (error, state, words) in cases {
        let root = container();
        let _mounted = mount_to(root.clone(), move || {
            provide_context(Portal::new());
            view! { <FailureView error=error retry=Callback::new(|_| ()) attempt=0 /> }
        });
        leptos::task::tick().await;
        let shown = one(&root, &format!("[data-state={state}]"));
        let text = shown.text_content().unwrap_or_default();
        assert!(text.contains(words), "{state}: {text}");
        assert_eq!(shown.get_attribute("role").as_deref(), Some("alert"));
        assert!(
            all(&root, "img, script").is_empty(),
            "{state}: MES text became markup"
        );
    }
    let pwned = js_sys::Reflect::get(&web_sys::window().expect("window"), &"__pwned".into()).expect("get");
    assert!(pwned.is_undefined(), "a hostile payload ran");
}

/// The offline card's countdown doubles to a minute, and waits at least as long as the authority
/// or the MES asked (`Retry-After`, carried by `MesError::AuthorityOffline`).
#[wasm_bindgen_test]
async fn the_countdown_waits_at_least_what_the_server_asked() {
    use mes_portal::retry::backoff_seconds;
    let own: Vec<u32> = (0..7).map(|attempt| backoff_seconds(attempt, None)).collect();
    assert_eq!(own, [5, 10, 20, 40, 60, 60, 60]);
    assert_eq!(backoff_seconds(0, Some(90)), 90, "longer than the own wait");
    assert_eq!(backoff_seconds(3, Some(10)), 40, "shorter: the own wait stands");
    let root = container();
    let _mounted = mount_to(root.clone(), move || {
        provide_context(Portal::new());
        let error = MesError::AuthorityOffline {
            message: "429 from AIM".into(),
            retry_after: Some(120),
        };
        view! { <FailureView error=error retry=Callback::new(|_| ()) attempt=0 /> }
    });
    leptos::task::tick().await;
    let countdown = one(&root, "[data-state=authority-offline] .countdown")
        .text_content()
        .unwrap_or_default();
    assert!(countdown.contains("120 s"), "{countdown}");
}

#[wasm_bindgen_test]
async fn column_filters_compare_numbers_and_columns_can_be_hidden() {
    let data = RwSignal::new(GridData::new(rows_json(500), &[], None));
    let root = container();
    let _mounted = mount_to(
        root.clone(),
        move || view! { <RowsGrid data=data mode=SelectionMode::Single /> },
    );
    leptos::task::tick().await;
    let qty: web_sys::HtmlInputElement = all(&root, "input.column-filter")[1].clone().unchecked_into();
    assert_eq!(qty.get_attribute("aria-label").as_deref(), Some("Filter Qty"));
    // Keys typed into a filter stay there (no grid navigation, nothing prevented), but for the
    // ones that leave it.
    let table: web_sys::HtmlElement = one(&root, "table[role=grid]").unchecked_into();
    for k in [" ", "Home", "End", "ArrowLeft", "a", "Backspace"] {
        assert!(
            !key(&qty, k).default_prevented(),
            "{k:?} typed in a filter was taken by the grid"
        );
    }
    leptos::task::tick().await;
    assert_eq!(table.get_attribute("aria-activedescendant"), None);
    // The keyboard path: the grid is the Tab stop; ↓ from a column's header goes into its
    // filter, Enter from there to the first row, ↑ or Escape back to the header.
    assert_eq!(
        qty.get_attribute("tabindex").as_deref(),
        Some("-1"),
        "no Tab stop of its own"
    );
    table.focus().expect("focus");
    let active = || document().active_element().map(|e| e.id()).unwrap_or_default();
    for k in ["ArrowDown", "ArrowRight", "ArrowUp"] {
        key(&table, k);
        leptos::task::tick().await;
    }
    assert_eq!(
        active_descendant(&table).as_deref(),
        Some("col-1"),
        "in the header row"
    );
    assert!(key(&table, "ArrowDown").default_prevented());
    assert_eq!(
        local_id(&active()),
        "filter-1",
        "↓ from Qty's header is Qty's filter"
    );
    assert!(key(&qty, "Enter").default_prevented());
    leptos::task::tick().await;
    assert_eq!(
        (active().is_empty(), active_descendant(&table).as_deref()),
        (true, Some("cell-0-1"))
    );
    assert_eq!(
        document().active_element().map(|e| e.tag_name()).as_deref(),
        Some("TABLE"),
        "back in the grid"
    );
    key(&table, "ArrowUp");
    key(&table, "ArrowDown");
    assert!(key(&qty, "Escape").default_prevented());
    leptos::task::tick().await;
    assert_eq!(
        active_descendant(&table).as_deref(),
        Some("col-1"),
        "Escape: the header again"
    );
    qty.set_value(">490");
    qty.dispatch_event(&web_sys::Event::new("input").expect("event"))
        .expect("input");
    leptos::task::tick().await;
    assert_eq!(
        one(&root, STATUS).text_content().as_deref(),
        Some("10 of 500 rows match"),
        "qty = 500 - i, numerically"
    );
    let visible = |root: &web_sys::Element| {
        headers(root)
            .iter()
            .filter(|th| !th.class_list().contains("hidden"))
            .count()
    };
    assert_eq!(visible(&root), 5);
    let boxes = all(&root, "details.columns input[type=checkbox]");
    let description: web_sys::HtmlElement = boxes[2].clone().unchecked_into();
    description.click();
    leptos::task::tick().await;
    assert_eq!(visible(&root), 4);
    let first_row = rows(&root)[0].clone();
    assert_eq!(
        all(&first_row, "td").len(),
        4,
        "the cells of a hidden column are not rendered"
    );
}

#[wasm_bindgen_test]
async fn a_bad_configuration_is_a_page_listing_every_problem() {
    let text = r#"{"client":{"authority":"http://aim.plant.example/identitymanager","client_id":"","redirect_uri":"/callback","scopes":["profile"]},
        "web_apis":[{"name":"MES","base_address":"https://mes/mesmw/","request_uri":"api","authentication_mode":"User Access Token",
        "authority":"https://aim/identitymanager","client_id":"mes-portal","client_secret":"s3cret"}],
        "lookups":[{"name":"Entities","web_api":"nope","endpoint":"v3/entity"}]}"#;
    let issues = mes_client::PortalConfig::from_json(text, mes_client::Runtime::Browser)
        .expect_err("broken")
        .errors;
    // Six problems of the file, and a User Access Token Web API on another authority than the
    // portal's (it would get the person's token).
    assert_eq!(issues.len(), 7);
    let root = container();
    let _mounted = mount_to(
        root.clone(),
        move || view! { <mes_portal::pages::ConfigInvalid issues=issues /> },
    );
    leptos::task::tick().await;
    let items: Vec<String> = all(&root, "ul.config-problems li")
        .iter()
        .map(|li| li.text_content().unwrap_or_default())
        .collect();
    assert_eq!(items.len(), 7, "{items:?}");
    assert!(
        items
            .iter()
            .any(|i| i.starts_with("web_apis[0].authority") && i.contains("portal's authority")),
        "{items:?}"
    );
    assert!(
        items
            .iter()
            .any(|i| i.starts_with("client.authority") && i.contains("only https"))
    );
    assert!(
        items
            .iter()
            .any(|i| i.starts_with("web_apis[0].client_secret") && i.contains("must not be in a browser"))
    );
    assert!(
        !root.text_content().unwrap_or_default().contains("s3cret"),
        "the secret is never echoed"
    );
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .expect("window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("timeout");
    });
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .expect("sleep");
}

fn set_query(query: &str) {
    let window = web_sys::window().expect("window");
    let path = window.location().pathname().expect("path");
    window
        .history()
        .expect("history")
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("{path}{query}")))
        .expect("url");
}

#[wasm_bindgen_test]
async fn sort_filters_and_hidden_columns_travel_in_the_address_and_come_back() {
    set_query("");
    let data = RwSignal::new(GridData::new(rows_json(500), &[], None));
    let root = container();
    let grid = mount_to(
        root.clone(),
        move || view! { <RowsGrid data=data mode=SelectionMode::Single sync_url=true /> },
    );
    leptos::task::tick().await;
    let qty: web_sys::HtmlInputElement = all(&root, "input.column-filter")[1].clone().unchecked_into();
    qty.set_value(">490");
    qty.dispatch_event(&web_sys::Event::new("input").expect("event"))
        .expect("input");
    let hide_description: web_sys::HtmlElement = all(&root, "details.columns input[type=checkbox]")[2]
        .clone()
        .unchecked_into();
    hide_description.click();
    let qty_header: web_sys::HtmlElement = headers(&root)[1].clone().unchecked_into();
    qty_header.click();
    leptos::task::tick().await;
    let search = web_sys::window()
        .expect("window")
        .location()
        .search()
        .expect("search");
    for part in ["sort=qty%3Aasc", "f.qty=%3E490", "hide=item_desc"] {
        assert!(search.contains(part), "{part} missing from {search}");
    }
    drop(grid);

    // A reload (or a sign-in round trip) mounts the grid again from the address.
    let again = container();
    let _grid = mount_to(
        again.clone(),
        move || view! { <RowsGrid data=data mode=SelectionMode::Single sync_url=true /> },
    );
    leptos::task::tick().await;
    assert_eq!(
        one(&again, STATUS).text_content().as_deref(),
        Some("10 of 500 rows match")
    );
    let qty: web_sys::HtmlInputElement = all(&again, "input.column-filter")[1].clone().unchecked_into();
    assert_eq!(qty.value(), ">490");
    assert_eq!(all(&again, &format!("{HEADERS}:not(.hidden)")).len(), 4);
    assert_eq!(first_cells(&again)[1], "491", "qty > 490, ascending");
    set_query("");
}

#[wasm_bindgen_test]
async fn columns_resize_with_the_keyboard_and_the_active_cell_is_copied() {
    let data = RwSignal::new(GridData::new(rows_json(50), &[], None));
    let root = container();
    let _mounted = mount_to(
        root.clone(),
        move || view! { <RowsGrid data=data mode=SelectionMode::Single /> },
    );
    leptos::task::tick().await;
    let header: web_sys::HtmlElement = headers(&root)[2].clone().unchecked_into();
    let before = header.offset_width();
    // The drag handles are for pointers: hidden from assistive technology and no Tab stops, so
    // the grid is one Tab stop; the keyboard resizes the active column with Alt+←/→.
    let handle = one(&header, ".resize");
    assert_eq!(
        (
            handle.get_attribute("aria-hidden").as_deref(),
            handle.get_attribute("tabindex")
        ),
        (Some("true"), None)
    );
    let stops: Vec<_> = all(&root, "[tabindex]:not([tabindex='-1'])")
        .iter()
        .map(|e| e.tag_name())
        .collect();
    assert_eq!(stops, ["TABLE"], "one Tab stop in the grid's body and headers");
    let third_column: web_sys::HtmlElement = rows(&root)[0]
        .query_selector("td:nth-child(3)")
        .expect("td")
        .expect("td")
        .unchecked_into();
    third_column.click();
    let table = one(&root, "table[role=grid]");
    assert!(alt_key(&table, "ArrowRight", true).default_prevented());
    leptos::task::tick().await;
    assert_eq!(
        header.style().get_property_value("width").expect("width"),
        format!("{}px", before + 16)
    );
    assert!(
        one(&root, ".grid-notice")
            .text_content()
            .unwrap_or_default()
            .ends_with(&format!("{} px wide", before + 16)),
        "it is said"
    );
    for _ in 0..100 {
        alt_key(&table, "ArrowLeft", true);
    }
    leptos::task::tick().await;
    assert_eq!(
        header.style().get_property_value("width").expect("width"),
        "48px",
        "never narrower than 48 px"
    );
    // Text cut off (as portal.css cuts it, which this page does not load) is there as a
    // tooltip; a cell whose text fits has none.
    let row = rows(&root)[1].clone();
    for (column, want) in [(3, Some("Item 1")), (4, None)] {
        let cell: web_sys::HtmlElement = row
            .query_selector(&format!("td:nth-child({column})"))
            .expect("td")
            .expect("td")
            .unchecked_into();
        cell.set_attribute(
            "style",
            "display: inline-block; width: 2.5em; white-space: nowrap; overflow: hidden",
        )
        .expect("style");
        let init = web_sys::MouseEventInit::new();
        init.set_bubbles(true);
        cell.dispatch_event(
            &web_sys::MouseEvent::new_with_mouse_event_init_dict("mouseover", &init).expect("event"),
        )
        .expect("dispatch");
        assert_eq!(
            cell.get_attribute("title").as_deref(),
            want,
            "tooltip of column {column}"
        );
    }
    assert!(
        all(&root, "th[aria-sort=ascending], th[aria-sort=descending]").is_empty(),
        "resizing is not sorting"
    );

    // Click a cell of the third column, move left with the keyboard, copy: the highlighted cell
    // is what is copied.
    let cell: web_sys::HtmlElement = rows(&root)[1]
        .query_selector("td:nth-child(3)")
        .expect("td")
        .expect("td")
        .unchecked_into();
    cell.click();
    leptos::task::tick().await;
    let table = one(&root, "table[role=grid]");
    assert_eq!(
        active_descendant(&table).as_deref(),
        Some("cell-1-2"),
        "the clicked cell"
    );
    key(&table, "ArrowLeft");
    leptos::task::tick().await;
    assert_eq!(active_descendant(&table).as_deref(), Some("cell-1-1"));
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("c");
    init.set_ctrl_key(true);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let copy = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    table.dispatch_event(&copy).expect("dispatch");
    assert!(copy.default_prevented());
    let notice = one(&root, ".grid-notice");
    for _ in 0..40 {
        if notice.text_content().unwrap_or_default().contains('“') {
            break;
        }
        sleep(50).await;
    }
    // Headless browsers may refuse the clipboard; either way the notice names the right cell (qty of row 1 = 49).
    let text = notice.text_content().unwrap_or_default();
    assert!(text.contains("“49”"), "notice: {text}");
}

/// `mountRowsGrid`: rows the host page has (objects or JSON text) in the same grid, selections
/// as `mes-select` events with the value column, removal by the returned function, rows that
/// cannot be read shown as an error in the grid's place, and options that are wrong thrown back
/// as errors naming the option.
#[wasm_bindgen_test]
async fn mount_rows_grid_shows_a_pages_own_rows_and_reports_selections() {
    let eval = |source: &str| js_sys::eval(source).expect("eval");
    let root = container();
    let options = eval(
        r#"({ rows: [{ lot: "L-1", qty: 5, note: "<b>not bold</b>" }, { lot: "L-2", qty: 12, note: null }],
              columns: ["lot", "qty", "note"], value: "lot", selection: "multi" })"#,
    );
    let picked = Arc::new(Mutex::new(Vec::<String>::new()));
    let listener = {
        let picked = picked.clone();
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::CustomEvent)>::new(
            move |e: web_sys::CustomEvent| {
                let values = js_sys::Reflect::get(&e.detail(), &"values".into()).expect("values");
                *picked.lock().expect("lock") = js_sys::Array::from(&values)
                    .iter()
                    .filter_map(|v| v.as_string())
                    .collect();
            },
        )
    };
    root.add_event_listener_with_callback("mes-select", listener.as_ref().unchecked_ref())
        .expect("listen");
    let unmount = mes_portal::embed::mount_rows(root.clone(), &options).expect("mounted");
    leptos::task::tick().await;
    assert_eq!(
        first_cells(&root),
        ["L-1", "5", "<b>not bold</b>"],
        "data is text, never markup"
    );
    assert!(all(&root, "b").is_empty());
    assert_eq!(one(&root, STATUS).text_content().as_deref(), Some("2 rows"));
    let rows = rows(&root);
    rows[1].dyn_ref::<web_sys::HtmlElement>().expect("row").click();
    rows[0].dyn_ref::<web_sys::HtmlElement>().expect("row").click();
    leptos::task::tick().await;
    assert_eq!(*picked.lock().expect("lock"), ["L-1", "L-2"]);

    unmount.call0(&JsValue::NULL).expect("unmount");
    assert!(
        all(&root, "table").is_empty(),
        "the returned function removes the grid"
    );

    // JSON text works the same; a number column sorts as numbers.
    let text = container();
    let _unmount = mes_portal::embed::mount_rows(text.clone(), &eval(r#"({ json: '[{"n":10},{"n":9}]' })"#))
        .expect("json");
    leptos::task::tick().await;
    headers(&text)[0]
        .dyn_ref::<web_sys::HtmlElement>()
        .expect("th")
        .click();
    leptos::task::tick().await;
    assert_eq!(first_cells(&text), ["9"]);

    // Rows that are not an MES-style answer are a plain error in the grid's place.
    for bad in ["({ json: '[1,2]' })", "({ json: '<html>' })"] {
        let root = container();
        let _unmount = mes_portal::embed::mount_rows(root.clone(), &eval(bad)).expect(bad);
        leptos::task::tick().await;
        let alert = one(&root, "[role=alert][data-state=rows-unreadable]")
            .text_content()
            .unwrap_or_default();
        assert!(alert.contains("not an MES-style answer"), "{bad}: {alert}");
        assert!(all(&root, "table").is_empty(), "{bad}: no grid");
    }
    // Wrong options throw, naming the option.
    for (bad, says) in [
        ("({})", "give one of options.json"),
        ("({ rows: 'x' })", "options.rows must be an array"),
        ("({ rows: [], selection: 'all' })", "options.selection"),
        ("({ rows: [], columns: 'lot' })", "options.columns"),
    ] {
        let error = mes_portal::embed::mount_rows(container(), &eval(bad)).expect_err(bad);
        let message = String::from(error.unchecked_into::<js_sys::Error>().message());
        assert!(message.contains(says), "{bad}: {message}");
    }
}

/// `mountRowsGrid` with a stream of the page's own: the first rows show before the stream ends,
/// `mes-rows` says when every row is in, and a stream that is not an MES-style answer, or that
/// breaks off, becomes a plain error in the grid's place.
#[wasm_bindgen_test]
async fn mount_rows_grid_reads_a_stream_while_it_arrives() {
    let eval = |source: &str| js_sys::eval(source).expect("eval");
    // A stream the test controls: pieces are pushed by hand.
    eval(
        r#"window.testStream = () => { let c; const s = new ReadableStream({ start(x) { c = x; } });
             return { stream: s, push: t => c.enqueue(new TextEncoder().encode(t)), end: () => c.close(), fail: () => c.error(new Error("reset")) }; }"#,
    );
    let feed = eval("testStream()");
    let push = |text: &str| {
        let push: js_sys::Function = js_sys::Reflect::get(&feed, &"push".into())
            .expect("push")
            .unchecked_into();
        push.call1(&JsValue::NULL, &JsValue::from_str(text))
            .expect("push");
    };
    let root = container();
    let done = Arc::new(Mutex::new(None::<f64>));
    let listener = {
        let done = done.clone();
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::CustomEvent)>::new(
            move |e: web_sys::CustomEvent| {
                *done.lock().expect("lock") = js_sys::Reflect::get(&e.detail(), &"rows".into())
                    .ok()
                    .and_then(|v| v.as_f64());
            },
        )
    };
    root.add_event_listener_with_callback("mes-rows", listener.as_ref().unchecked_ref())
        .expect("listen");
    let options = js_sys::Object::new();
    js_sys::Reflect::set(
        &options,
        &"stream".into(),
        &js_sys::Reflect::get(&feed, &"stream".into()).expect("stream"),
    )
    .expect("set");
    let _unmount = mes_portal::embed::mount_rows(root.clone(), &options).expect("mounted");
    push(r#"[{"lot":"L-1","qty":1},{"lot":"L-2","q"#);
    for _ in 0..5 {
        next_task().await;
    }
    assert_eq!(
        first_cells(&root),
        ["L-1", "1"],
        "the first row shows before the stream ends"
    );
    assert!(
        one(&root, STATUS)
            .text_content()
            .unwrap_or_default()
            .contains("so far")
    );
    assert_eq!(*done.lock().expect("lock"), None);
    push(r#"ty":2}]"#);
    let end: js_sys::Function = js_sys::Reflect::get(&feed, &"end".into())
        .expect("end")
        .unchecked_into();
    end.call0(&JsValue::NULL).expect("end");
    for _ in 0..5 {
        next_task().await;
    }
    assert_eq!(one(&root, STATUS).text_content().as_deref(), Some("2 rows"));
    assert_eq!(
        *done.lock().expect("lock"),
        Some(2.0),
        "mes-rows tells the page every row is in"
    );

    for (script, says) in [
        (
            r#"const f = testStream(); f.push('[{"a":1},'); f.fail(); f.stream"#,
            "broke off",
        ),
        (
            r#"const f = testStream(); f.push('<html>'); f.end(); f.stream"#,
            "not a JSON array",
        ),
        (
            r#"const f = testStream(); f.push('[{"a":1}'); f.end(); f.stream"#,
            "ends before",
        ),
    ] {
        let broken = container();
        let options = js_sys::Object::new();
        js_sys::Reflect::set(
            &options,
            &"stream".into(),
            &eval(&format!("(() => {{ {script} }})()").replace("f.stream", "return f.stream")),
        )
        .expect("set");
        let _unmount = mes_portal::embed::mount_rows(broken.clone(), &options).expect("mounted");
        for _ in 0..5 {
            next_task().await;
        }
        let alert = one(&broken, "[role=alert][data-state=rows-unreadable]")
            .text_content()
            .unwrap_or_default();
        assert!(alert.contains(says), "{script}: {alert}");
    }
}

/// Waits for a new task (a zero timeout), as the stream reader does between pieces.
async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .expect("window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
            .expect("timeout");
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.expect("tick");
}

/// Cells are shown in the person's locale by `Intl` — decimals kept, times not moved between
/// zones, UTC marked — and anything a formatter could change is shown as the MES wrote it.
#[wasm_bindgen_test]
fn cells_are_shown_in_the_locale_without_changing_them() {
    use mes_client::Cell;
    use mes_portal::grid::format::shown_in;
    let de = |cell: Cell<'_>| shown_in(&cell, "de-DE");
    let en = |cell: Cell<'_>| shown_in(&cell, "en-US");
    assert_eq!(
        (de(Cell::Number("1234.50")), en(Cell::Number("1234.50"))),
        ("1234,50".into(), "1234.50".into())
    );
    assert_eq!(de(Cell::Number("-0.125")), "-0,125");
    assert_eq!(
        de(Cell::Number("100234")),
        "100234",
        "identifiers are not grouped"
    );
    assert_eq!(
        shown_in(&Cell::Number("3.5"), "ar-EG"),
        "٣٫٥",
        "the locale's own digits"
    );
    for as_sent in ["1e300", "12345678901234567", "0.1234567890123456"] {
        assert_eq!(
            de(Cell::Number(as_sent)),
            as_sent,
            "a double cannot hold it: shown as sent"
        );
    }
    assert_eq!(
        de(Cell::Text("2026-03-01T06:30:15")),
        "01.03.2026, 06:30:15",
        "wall clock, as written"
    );
    assert_eq!(de(Cell::Text("2026-03-01T06:30:15Z")), "01.03.2026, 06:30:15 UTC");
    assert_eq!(
        en(Cell::Text("2026-03-01T18:30:15Z")),
        "03/01/2026, 06:30:15 PM UTC"
    );
    assert_eq!(
        de(Cell::Text("2026-03-01 06:30:15.25+01:00")),
        "01.03.2026, 06:30:15,25 UTC+01:00"
    );
    assert_eq!(de(Cell::Text("2026-12-31")), "31.12.2026");
    for as_sent in ["2026-02-30T00:00:00", "Lot 2026-03-01", "<b>2026</b>"] {
        assert_eq!(de(Cell::Text(as_sent)), as_sent);
    }
    assert_eq!(
        (en(Cell::Bool(true)), en(Cell::Bool(false)), en(Cell::Null)),
        ("Yes".into(), "No".into(), String::new())
    );
}
