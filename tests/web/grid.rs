//! The grid: rows arriving, 100,000 rows in a bounded DOM, sorting, filters, keyboard, the
//! address, resizing and copying, cells in the person's locale.

use super::*;

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
