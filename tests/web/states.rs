//! The states: every MES failure in its own plain words, the retry countdown, a configuration
//! with problems.

use super::*;

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
