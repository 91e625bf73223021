//! `mountRowsGrid`: a page's own rows, as objects, JSON text or a stream.

use super::*;

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
    // The rows are decoded a piece at a time, as a stream's are: "so far" until every one is in.
    for _ in 0..50 {
        if one(&root, STATUS).text_content().as_deref() == Some("2 rows") {
            break;
        }
        next_task().await;
    }
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
