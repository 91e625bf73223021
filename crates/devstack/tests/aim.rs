//! The AIM stand-in over real HTTP: every behaviour a real authority shows that the portal relies on.

mod common;
use common::*;
use devstack::store::{RegisteredClient, put_client};
use devstack::{Stack, StackOptions};
use reqwest::StatusCode;

#[tokio::test]
async fn discovery_and_jwks_describe_a_strict_authority() {
    let stack = stack("aim-discovery").await;
    let doc: serde_json::Value = http()
        .get(format!("{}/.well-known/openid-configuration", stack.issuer))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["issuer"], stack.issuer.as_str());
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "revocation_endpoint",
    ] {
        assert!(
            doc[endpoint]
                .as_str()
                .is_some_and(|u| u.starts_with(&stack.issuer)),
            "{endpoint}"
        );
    }
    let jwks: serde_json::Value = http()
        .get(doc["jwks_uri"].as_str().expect("uri"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str(), key["use"].as_str()),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert!(key["kid"].is_string() && key["n"].as_str().is_some_and(|n| n.len() > 300));
    stack.stop().await;
}

#[tokio::test]
async fn the_signing_key_survives_a_restart() {
    let options = StackOptions::for_tests("aim-key");
    let first = Stack::start(options.clone()).await.expect("stack");
    let jwks = |issuer: String| async move {
        http()
            .get(format!("{issuer}/.well-known/openid-configuration/jwks"))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("text")
    };
    let before = jwks(first.issuer.clone()).await;
    first.stop().await;
    let second = Stack::start(options).await.expect("stack");
    assert_eq!(before, jwks(second.issuer.clone()).await);
    second.stop().await;
}

#[tokio::test]
async fn authorize_refuses_unknown_clients_and_redirects_without_redirecting() {
    let stack = stack("aim-refuse").await;
    let (_, challenge) = pkce();
    for (extra, what) in [
        ([("client_id", "intruder")], "unknown client"),
        (
            [("redirect_uri", "https://evil.example/callback")],
            "foreign redirect",
        ),
    ] {
        let response = http()
            .get(authorize_url(&stack))
            .query(&authorize_params(&stack, &challenge, &extra))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
        assert!(
            response.headers().get("location").is_none(),
            "{what}: never redirect to an unregistered address"
        );
    }
    // A redirect URI that only starts like the registered one is not it.
    let almost = format!("{}/callback/../evil", stack.portal_origin);
    let response = http()
        .get(authorize_url(&stack))
        .query(&authorize_params(
            &stack,
            &challenge,
            &[("redirect_uri", &almost)],
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    stack.stop().await;
}

#[tokio::test]
async fn authorize_requires_pkce_s256_and_code_flow() {
    let stack = stack("aim-pkce").await;
    let (_, challenge) = pkce();
    for (extra, error) in [
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge_method", "")], "invalid_request"),
        (vec![("response_type", "token")], "unsupported_response_type"),
    ] {
        let response = http()
            .get(authorize_url(&stack))
            .query(&authorize_params(&stack, &challenge, &extra))
            .send()
            .await
            .expect("get");
        assert!(response.status().is_redirection(), "{extra:?}");
        let query = redirect_query(response.headers());
        assert_eq!(query.get("error").map(String::as_str), Some(error), "{extra:?}");
        assert_eq!(query.get("state").map(String::as_str), Some("st-1"));
        assert_eq!(
            query.get("iss"),
            Some(&stack.issuer),
            "RFC 9207 iss on errors too"
        );
    }
    stack.stop().await;
}

#[tokio::test]
async fn sso_session_skips_the_form_and_prompt_none_without_it_says_login_required() {
    let stack = stack("aim-sso").await;
    let (_, challenge) = pkce();
    let silent = authorize_params(&stack, &challenge, &[("prompt", "none")]);
    let response = http()
        .get(authorize_url(&stack))
        .query(&silent)
        .send()
        .await
        .expect("get");
    let query = redirect_query(response.headers());
    assert_eq!(query.get("error").map(String::as_str), Some("login_required"));
    assert!(!query.contains_key("code"));

    let (query, cookie) = log_in(
        &stack,
        &authorize_params(&stack, &challenge, &[]),
        "PLANT\\alice",
        "alice-demo",
    )
    .await;
    assert!(query.contains_key("code"));
    assert_eq!(query.get("iss"), Some(&stack.issuer));
    let cookie = cookie.expect("SSO cookie");
    let again = http()
        .get(authorize_url(&stack))
        .query(&silent)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    assert!(again.status().is_redirection());
    assert!(
        redirect_query(again.headers()).contains_key("code"),
        "the session signs in without a form"
    );
    // prompt=login shows the form even with a session.
    let forced = http()
        .get(authorize_url(&stack))
        .query(&authorize_params(&stack, &challenge, &[("prompt", "login")]))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(forced.status(), StatusCode::OK);
    assert!(forced.text().await.expect("html").contains("name=\"password\""));
    stack.stop().await;
}

#[tokio::test]
async fn wrong_password_shows_the_form_again_and_cancel_is_access_denied() {
    let stack = stack("aim-login").await;
    let (_, challenge) = pkce();
    let request = authorize_request(&stack, &authorize_params(&stack, &challenge, &[]));
    let wrong = devstack::form_login::submit(&request, "PLANT\\alice", "wrong", "login", None)
        .await
        .expect("post");
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("The user name or password is incorrect."));
    let cancel = devstack::form_login::submit(&request, "", "", "cancel", None)
        .await
        .expect("post");
    assert_eq!(
        callback_params(&cancel).get("error").map(String::as_str),
        Some("access_denied")
    );
    stack.stop().await;
}

#[tokio::test]
async fn the_login_form_needs_its_own_csrf_token() {
    let stack = stack("aim-csrf").await;
    let (_, challenge) = pkce();
    let mut form = authorize_params(&stack, &challenge, &[]);
    form.extend([
        ("username".into(), "PLANT\\alice".into()),
        ("password".into(), "alice-demo".into()),
        ("action".into(), "login".into()),
    ]);
    // Posted from elsewhere: no form was shown, so there is no CSRF cookie and no token.
    let forged = http()
        .post(authorize_url(&stack))
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(
        forged.status(),
        StatusCode::OK,
        "the form again, not a redirect with a code"
    );
    assert!(
        forged
            .text()
            .await
            .expect("html")
            .contains("did not come from this page")
    );
    // A token in the form that is not the cookie's.
    form.push(("csrf".into(), "guessed".into()));
    let guessed = http()
        .post(authorize_url(&stack))
        .header("cookie", "aim.csrf=other")
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(guessed.status(), StatusCode::OK);
    assert_eq!(
        stack
            .aim
            .counters
            .code_exchanges
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    assert!(stack.aim.issued_tokens().is_empty());
    // The real form works.
    let (query, _) = log_in(
        &stack,
        &authorize_params(&stack, &challenge, &[]),
        "PLANT\\alice",
        "alice-demo",
    )
    .await;
    assert!(query.contains_key("code"));
    stack.stop().await;
}

#[tokio::test]
async fn login_form_escapes_what_it_echoes() {
    let stack = stack("aim-xss").await;
    let (_, challenge) = pkce();
    let hostile = "\"><script>alert(1)</script>";
    let html = http()
        .get(authorize_url(&stack))
        .query(&authorize_params(&stack, &challenge, &[("state", hostile)]))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("html");
    assert!(!html.contains("<script>alert"), "state is escaped");
    assert!(html.contains("&lt;script&gt;"));
    stack.stop().await;
}

#[tokio::test]
async fn codes_are_single_use_and_bound_to_redirect_uri_and_verifier() {
    let stack = stack("aim-code").await;
    let (verifier, challenge) = pkce();
    let params = authorize_params(&stack, &challenge, &[]);
    let (query, _) = log_in(&stack, &params, "PLANT\\alice", "alice-demo").await;
    let code = query["code"].clone();
    let redirect = redirect_uri(&stack);
    let base = |code: &str, redirect: &str, verifier: &str| {
        vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".into(), code.into()),
            ("redirect_uri".into(), redirect.into()),
            ("client_id".into(), "mes-portal".into()),
            ("code_verifier".into(), verifier.into()),
        ]
    };
    let post = |form: Vec<(String, String)>| {
        let stack_token = format!("{}/connect/token", stack.issuer);
        async move { http().post(stack_token).form(&form).send().await.expect("token") }
    };
    let wrong_redirect = post(base(&code, "http://127.0.0.1:1/callback", &verifier)).await;
    assert_eq!(wrong_redirect.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = wrong_redirect.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant");
    // The refused attempt spent the code.
    let replay = post(base(&code, &redirect, &verifier)).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);

    let (query, _) = log_in(&stack, &params, "PLANT\\alice", "alice-demo").await;
    let mut missing = base(&query["code"], &redirect, &verifier);
    missing.retain(|(k, _)| k != "code_verifier");
    let answer: serde_json::Value = post(missing).await.json().await.expect("json");
    assert_eq!(answer["error"], "invalid_request");

    let (query, _) = log_in(&stack, &params, "PLANT\\alice", "alice-demo").await;
    let ok = post(base(&query["code"], &redirect, &verifier)).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()["cache-control"], "no-store");
    let tokens: serde_json::Value = ok.json().await.expect("json");
    let id = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(
        tokens["id_token"].as_str().expect("id"),
    )
    .expect("jwt")
    .claims;
    assert_eq!(
        (id["aud"].as_str(), id["nonce"].as_str()),
        (Some("mes-portal"), Some("no-1"))
    );
    let access = jsonwebtoken::decode_header(tokens["access_token"].as_str().expect("at")).expect("header");
    assert_eq!(access.typ.as_deref(), Some("at+jwt"));
    let claims = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(
        tokens["access_token"].as_str().expect("at"),
    )
    .expect("jwt")
    .claims;
    assert_eq!(claims["aud"], "mes-web-api");
    assert_eq!(claims["preferred_username"], "PLANT\\alice");
    assert_eq!(
        claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat"),
        3600
    );
    stack.stop().await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let stack = stack("aim-refresh").await;
    let tokens = user_tokens(&stack, "PLANT\\alice", "alice-demo").await;
    let first = tokens["refresh_token"].as_str().expect("refresh").to_owned();
    let refresh = |t: String| {
        let url = format!("{}/connect/token", stack.issuer);
        async move {
            http()
                .post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", t.as_str()),
                    ("client_id", "mes-portal"),
                ])
                .send()
                .await
                .expect("refresh")
        }
    };
    let rotated: serde_json::Value = refresh(first.clone()).await.json().await.expect("json");
    let second = rotated["refresh_token"].as_str().expect("rotated").to_owned();
    assert_ne!(first, second);
    assert!(rotated["access_token"].is_string());
    // Someone replays the first token: refused, and the whole family with it.
    let reuse = refresh(first).await;
    assert_eq!(reuse.status(), StatusCode::BAD_REQUEST);
    let family = refresh(second).await;
    assert_eq!(
        family.status(),
        StatusCode::BAD_REQUEST,
        "the legitimate holder is signed out too"
    );
    let body: serde_json::Value = family.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant");
    stack.stop().await;
}

#[tokio::test]
async fn revocation_ends_a_refresh_family() {
    let stack = stack("aim-revoke").await;
    let tokens = user_tokens(&stack, "PLANT\\alice", "alice-demo").await;
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let revoked = http()
        .post(format!("{}/connect/revocation", stack.issuer))
        .form(&[("token", refresh), ("client_id", "mes-portal")])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    let after = token(
        &stack,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "mes-portal"),
        ],
    )
    .await;
    assert_eq!(after.status(), StatusCode::BAD_REQUEST);
    stack.stop().await;
}

async fn stack_with_service_client(name: &str, secret: &str) -> Stack {
    let options = StackOptions::for_tests(name);
    let db = devstack::store::open(&options.data_dir.join("aim.sqlite")).expect("store");
    put_client(
        &db,
        &RegisteredClient {
            client_id: "scheduler".into(),
            secret_hash: Some(devstack::util::hash_secret(secret)),
            redirect_uris: vec![],
            post_logout_uris: vec![],
            allowed_origins: vec![],
            token_lifetime: 86_400,
        },
    )
    .expect("register");
    let stored: String = rusqlite::Connection::open(options.data_dir.join("aim.sqlite"))
        .expect("db")
        .query_row(
            "SELECT secret_hash FROM clients WHERE client_id = 'scheduler'",
            [],
            |r| r.get(0),
        )
        .expect("hash");
    assert!(
        stored.starts_with("$argon2") && !stored.contains(secret),
        "secrets are stored hashed"
    );
    Stack::start(options).await.expect("stack")
}

#[tokio::test]
async fn client_credentials_with_post_and_basic_authentication() {
    let stack = stack_with_service_client("aim-s2s", "s3cret-value").await;
    let post = token(
        &stack,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "scheduler"),
            ("client_secret", "s3cret-value"),
            ("scope", "system"),
        ],
    )
    .await;
    assert_eq!(post.status(), StatusCode::OK);
    let answer: serde_json::Value = post.json().await.expect("json");
    assert_eq!(
        answer["expires_in"], 86_400,
        "24 h by default, as the site registration script"
    );
    let claims = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(
        answer["access_token"].as_str().expect("at"),
    )
    .expect("jwt")
    .claims;
    assert_eq!(
        (claims["client_id"].as_str(), claims["scope"].as_str()),
        (Some("scheduler"), Some("system"))
    );
    assert_eq!(
        claims["sub"].as_str(),
        Some("scheduler"),
        "RFC 9068: the client is its own token's subject"
    );
    assert!(
        claims.get("preferred_username").is_none(),
        "no user in a service token"
    );

    let basic = http()
        .post(format!("{}/connect/token", stack.issuer))
        .basic_auth("scheduler", Some("s3cret-value"))
        .form(&[("grant_type", "client_credentials"), ("scope", "system")])
        .send()
        .await
        .expect("basic");
    assert_eq!(basic.status(), StatusCode::OK);

    let bad = token(
        &stack,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "scheduler"),
            ("client_secret", "wrong"),
            ("scope", "system"),
        ],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        bad.json::<serde_json::Value>().await.expect("json")["error"],
        "invalid_client"
    );
    let scope = token(
        &stack,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "scheduler"),
            ("client_secret", "s3cret-value"),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(
        scope.json::<serde_json::Value>().await.expect("json")["error"],
        "invalid_scope"
    );
    let public = token(
        &stack,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "mes-portal"),
            ("scope", "system"),
        ],
    )
    .await;
    assert_eq!(
        public.json::<serde_json::Value>().await.expect("json")["error"],
        "unauthorized_client",
        "the portal cannot get service tokens"
    );
    stack.stop().await;
}

#[tokio::test]
async fn cors_only_for_the_registered_portal_origin() {
    let stack = stack("aim-cors").await;
    let preflight = |origin: String| {
        let url = format!("{}/connect/token", stack.issuer);
        async move {
            http()
                .request(reqwest::Method::OPTIONS, url)
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type")
                .send()
                .await
                .expect("preflight")
        }
    };
    let allowed = preflight(stack.portal_origin.clone()).await;
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some(stack.portal_origin.as_str())
    );
    let foreign = preflight("https://evil.example".into()).await;
    assert!(foreign.headers().get("access-control-allow-origin").is_none());
    let discovery = http()
        .get(format!("{}/.well-known/openid-configuration", stack.issuer))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("get");
    assert!(discovery.headers().get("access-control-allow-origin").is_none());
    stack.stop().await;
}

#[tokio::test]
async fn end_session_clears_the_sso_session_and_returns_only_to_registered_addresses() {
    let stack = stack("aim-logout").await;
    let (_, challenge) = pkce();
    let (_, cookie) = log_in(
        &stack,
        &authorize_params(&stack, &challenge, &[]),
        "PLANT\\alice",
        "alice-demo",
    )
    .await;
    let cookie = cookie.expect("cookie");
    let tokens = user_tokens(&stack, "PLANT\\alice", "alice-demo").await;
    let id_token = tokens["id_token"].as_str().expect("id");
    let registered = format!("{}/signed-out", stack.portal_origin);
    let out = http()
        .get(format!("{}/connect/endsession", stack.issuer))
        .query(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", registered.as_str()),
            ("state", "s9"),
        ])
        .header("cookie", &cookie)
        .send()
        .await
        .expect("logout");
    assert!(out.status().is_redirection());
    assert_eq!(
        out.headers()["location"].to_str().expect("loc"),
        format!("{registered}?state=s9")
    );
    assert!(out.headers().get_all("set-cookie").iter().any(|c| {
        c.to_str()
            .is_ok_and(|c| c.starts_with("aim.sso=;") && c.contains("Max-Age=0"))
    }));
    let silent = http()
        .get(authorize_url(&stack))
        .query(&authorize_params(&stack, &challenge, &[("prompt", "none")]))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(
        redirect_query(silent.headers()).get("error").map(String::as_str),
        Some("login_required"),
        "the session is gone"
    );
    let foreign = http()
        .get(format!("{}/connect/endsession", stack.issuer))
        .query(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ])
        .send()
        .await
        .expect("logout");
    assert_eq!(
        foreign.status(),
        StatusCode::OK,
        "an unregistered return address gets a page, not a redirect"
    );
    stack.stop().await;
}

#[tokio::test]
async fn garbage_at_the_token_endpoint_is_a_clear_4xx() {
    let stack = stack("aim-garbage").await;
    let url = format!("{}/connect/token", stack.issuer);
    for body in [
        "",
        "%%%&&&===",
        "grant_type=authorization_code&grant_type=refresh_token&client_id=mes-portal",
        &"a=".repeat(50_000),
        "\u{0}\u{1}binary",
    ] {
        let response = http()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .expect("post");
        assert!(
            response.status().is_client_error(),
            "{:?} → {}",
            &body[..body.len().min(30)],
            response.status()
        );
        let json: serde_json::Value = response.json().await.expect("OAuth error JSON");
        assert!(json["error"].is_string());
    }
    for (path, body) in [
        ("connect/authorize", "%%%&&&==="),
        ("connect/authorize", "client_id=mes-portal&client_id=x"),
        ("connect/revocation", "%%%"),
        ("connect/revocation", "token=x"),
    ] {
        let response = http()
            .post(format!("{}/{path}", stack.issuer))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("post");
        assert!(
            response.status().is_client_error(),
            "{path} {body:?} → {}",
            response.status()
        );
    }
    let odd = http()
        .get(format!("{}/connect/endsession", stack.issuer))
        .query(&[
            ("id_token_hint", "garbage"),
            ("post_logout_redirect_uri", "javascript:alert(1)"),
        ])
        .send()
        .await
        .expect("get");
    assert_eq!(
        odd.status(),
        StatusCode::OK,
        "a page, never a redirect to what was asked"
    );
    let unknown = token(&stack, &[("grant_type", "password"), ("client_id", "mes-portal")]).await;
    assert_eq!(
        unknown.json::<serde_json::Value>().await.expect("json")["error"],
        "unsupported_grant_type"
    );
    stack.stop().await;
}

/// A sign-in by form with `scope`, then the code exchange: the code and the token answer.
async fn tokens_for_scope(stack: &Stack, scope: &str) -> (String, serde_json::Value) {
    let (verifier, challenge) = pkce();
    let (query, _) = log_in(
        stack,
        &authorize_params(stack, &challenge, &[("scope", scope)]),
        "PLANT\\alice",
        "alice-demo",
    )
    .await;
    let code = query.get("code").expect("code").clone();
    let redirect = redirect_uri(stack);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("client_id", devstack::PORTAL_CLIENT_ID),
        ("code_verifier", verifier.as_str()),
    ];
    let answer = token(stack, &form).await;
    assert_eq!(answer.status(), 200);
    (code, answer.json().await.expect("json"))
}

fn claims_of(token: &str) -> serde_json::Value {
    jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(token)
        .expect("jwt")
        .claims
}

#[tokio::test]
async fn a_replayed_code_revokes_what_it_issued() {
    let stack = stack("aim-code-replay").await;
    let (code, tokens) = tokens_for_scope(&stack, "openid offline_access mes-web-api").await;
    let refresh = tokens["refresh_token"].as_str().expect("refresh token");
    let redirect = redirect_uri(&stack);
    let again = token(
        &stack,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect),
            ("client_id", "mes-portal"),
            ("code_verifier", "x"),
        ],
    )
    .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let after = token(
        &stack,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "mes-portal"),
        ],
    )
    .await;
    assert_eq!(
        after.status(),
        StatusCode::BAD_REQUEST,
        "the refresh token from the replayed code is revoked"
    );
    stack.stop().await;
}

#[tokio::test]
async fn access_tokens_are_for_the_api_the_client_asked_for() {
    let stack = stack("aim-audience").await;
    let (_, with_api) = tokens_for_scope(&stack, "openid mes-web-api").await;
    assert_eq!(
        claims_of(with_api["access_token"].as_str().expect("at"))["aud"],
        "mes-web-api"
    );
    let (_, without) = tokens_for_scope(&stack, "openid profile").await;
    assert_eq!(
        claims_of(without["access_token"].as_str().expect("at"))["aud"],
        "mes-portal",
        "not for the MES"
    );
    let mes = http()
        .get(format!("{}api/v3/entity", stack.mes_base))
        .bearer_auth(without["access_token"].as_str().expect("at"))
        .send()
        .await
        .expect("mes");
    assert_eq!(
        mes.status(),
        StatusCode::UNAUTHORIZED,
        "the MES refuses a token meant for someone else"
    );
    stack.stop().await;
}

#[tokio::test]
async fn refreshes_bring_an_id_token_of_the_same_subject_and_expire() {
    let mut options = StackOptions::for_tests("aim-refresh-expiry");
    options.refresh_token_lifetime = 2;
    let stack = Stack::start(options).await.expect("stack");
    let (_, first) = tokens_for_scope(&stack, "openid offline_access mes-web-api").await;
    let signed_in = claims_of(first["id_token"].as_str().expect("id token"));
    let refreshed = token(
        &stack,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().expect("rt")),
            ("client_id", "mes-portal"),
        ],
    )
    .await;
    assert_eq!(refreshed.status(), 200);
    let refreshed: serde_json::Value = refreshed.json().await.expect("json");
    let renewed = claims_of(
        refreshed["id_token"]
            .as_str()
            .expect("OIDC Core 12.2: an ID token with the refresh"),
    );
    for same in ["iss", "sub", "aud", "auth_time"] {
        assert_eq!(renewed[same], signed_in[same], "{same}");
    }
    assert!(renewed.get("nonce").is_none() && renewed["iat"].is_number());
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let late = token(
        &stack,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refreshed["refresh_token"].as_str().expect("rt")),
            ("client_id", "mes-portal"),
        ],
    )
    .await;
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    assert!(late.text().await.expect("body").contains("expired"));
    stack.stop().await;
}

/// Review E12: a rotated refresh token keeps its family's expiry (IdentityServer's default
/// absolute expiration) — refreshing does not keep a session alive for ever.
#[tokio::test]
async fn a_rotated_refresh_token_expires_with_its_family_not_later() {
    let mut options = StackOptions::for_tests("aim-refresh-absolute");
    options.refresh_token_lifetime = 3;
    let stack = Stack::start(options).await.expect("stack");
    let (_, first) = tokens_for_scope(&stack, "openid offline_access mes-web-api").await;
    let refresh = |rt: String| {
        let stack = &stack;
        async move {
            token(
                stack,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt.as_str()),
                    ("client_id", "mes-portal"),
                ],
            )
            .await
        }
    };
    tokio::time::sleep(std::time::Duration::from_millis(1800)).await;
    let rotated = refresh(first["refresh_token"].as_str().expect("rt").to_owned()).await;
    assert_eq!(rotated.status(), 200);
    let rotated: serde_json::Value = rotated.json().await.expect("json");
    // 3.3 s after the sign-in: past the family's 3 s, though the rotated token is 1.5 s old.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let late = refresh(rotated["refresh_token"].as_str().expect("rt").to_owned()).await;
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    assert!(late.text().await.expect("body").contains("expired"));
    stack.stop().await;
}

/// Review E12: an authorize request with a parameter twice is refused (RFC 6749 §3.1) — a
/// last-wins reading would let a second redirect_uri or state slip past; and a person's sign-in
/// never gets `system`, the scope that makes a token a service token.
#[tokio::test]
async fn authorize_refuses_repeated_parameters_and_the_system_scope() {
    let stack = stack("aim-authorize-strict").await;
    let (_, challenge) = pkce();
    let mut params = authorize_params(&stack, &challenge, &[]);
    params.push(("redirect_uri".into(), "http://127.0.0.1:9/steal".into()));
    let twice = http()
        .get(authorize_url(&stack))
        .query(&params)
        .send()
        .await
        .expect("get");
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
    assert!(twice.text().await.expect("page").contains("repeated"));
    let system = http()
        .get(authorize_url(&stack))
        .query(&authorize_params(
            &stack,
            &challenge,
            &[("scope", "openid system")],
        ))
        .send()
        .await
        .expect("get");
    assert!(system.status().is_redirection());
    assert_eq!(
        redirect_query(system.headers()).get("error").map(String::as_str),
        Some("invalid_scope")
    );
    stack.stop().await;
}

#[tokio::test]
async fn aim_sessions_expire() {
    let mut options = StackOptions::for_tests("aim-session-expiry");
    options.aim_session_lifetime = 1;
    let stack = Stack::start(options).await.expect("stack");
    let (_, challenge) = pkce();
    let (_, cookie) = log_in(
        &stack,
        &authorize_params(&stack, &challenge, &[]),
        "PLANT\\alice",
        "alice-demo",
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let silent = http()
        .get(authorize_url(&stack))
        .query(&authorize_params(&stack, &challenge, &[("prompt", "none")]))
        .header("cookie", cookie.expect("cookie"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        redirect_query(silent.headers()).get("error").map(String::as_str),
        Some("login_required")
    );
    stack.stop().await;
}

#[tokio::test]
async fn only_the_client_a_token_was_issued_to_can_revoke_it() {
    let stack = stack_with_service_client("aim-revoke-client", "s3cret-value").await;
    let (_, tokens) = tokens_for_scope(&stack, "openid offline_access mes-web-api").await;
    let refresh = tokens["refresh_token"].as_str().expect("rt");
    let other = http()
        .post(format!("{}/connect/revocation", stack.issuer))
        .form(&[("token", refresh), ("client_id", "scheduler")])
        .send()
        .await
        .expect("revoke");
    assert_eq!(other.status(), StatusCode::OK, "RFC 7009: the same answer");
    let still = token(
        &stack,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "mes-portal"),
        ],
    )
    .await;
    assert_eq!(
        still.status(),
        StatusCode::OK,
        "another client's revocation did nothing"
    );
    stack.stop().await;
}

#[tokio::test]
async fn the_signing_key_rolls_over_with_the_old_one_still_published() {
    let stack = stack("aim-rotation").await;
    let jwks = |stack: &Stack| {
        let url = format!("{}/.well-known/openid-configuration/jwks", stack.issuer);
        async move {
            http()
                .get(url)
                .send()
                .await
                .expect("jwks")
                .json::<serde_json::Value>()
                .await
                .expect("json")
        }
    };
    let before = jwks(&stack).await;
    let old_kid = before["keys"][0]["kid"].as_str().expect("kid").to_owned();
    let new_kid = stack.aim.rotate_key().expect("rotate");
    let after = jwks(&stack).await;
    let kids: Vec<&str> = after["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()]);
    let (_, tokens) = tokens_for_scope(&stack, "openid mes-web-api").await;
    let header = jsonwebtoken::decode_header(tokens["access_token"].as_str().expect("at")).expect("header");
    assert_eq!(
        header.kid.as_deref(),
        Some(new_kid.as_str()),
        "new tokens are signed with the new key"
    );
    stack.stop().await;
}

#[tokio::test]
async fn end_session_by_post_keeps_the_hint_out_of_the_url() {
    let stack = stack("aim-logout-post").await;
    let (_, challenge) = pkce();
    let (_, cookie) = log_in(
        &stack,
        &authorize_params(&stack, &challenge, &[]),
        "PLANT\\alice",
        "alice-demo",
    )
    .await;
    let (_, tokens) = tokens_for_scope(&stack, "openid mes-web-api").await;
    let registered = format!("{}/signed-out", stack.portal_origin);
    let out = http()
        .post(format!("{}/connect/endsession", stack.issuer))
        .header("cookie", cookie.expect("cookie"))
        .form(&[
            ("id_token_hint", tokens["id_token"].as_str().expect("id")),
            ("client_id", "mes-portal"),
            ("post_logout_redirect_uri", registered.as_str()),
        ])
        .send()
        .await
        .expect("logout");
    assert!(out.status().is_redirection(), "{}", out.status());
    assert_eq!(out.headers()["location"].to_str().expect("loc"), registered);
    assert!(
        stack
            .aim
            .request_log()
            .iter()
            .any(|l| l == "server POST /identitymanager/connect/endsession"),
        "{:?}",
        stack.aim.request_log()
    );
    stack.stop().await;
}

/// The confirmation page's CSRF value and cookie.
fn confirmation_form(page: &str, set_cookie: &reqwest::header::HeaderMap) -> (String, String) {
    let csrf = page
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the confirmation form carries a CSRF value")
        .to_owned();
    let cookie = set_cookie
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("aim.csrf="))
        .and_then(|c| c.split(';').next())
        .expect("and sets its cookie")
        .to_owned();
    (csrf, cookie)
}

#[tokio::test]
async fn end_session_without_a_hint_asks_the_person_and_a_get_only_authority_refuses_posts() {
    let mut options = StackOptions::for_tests("aim-logout-get");
    options.aim_end_session_post = false;
    let stack = Stack::start(options).await.expect("stack");
    let (_, challenge) = pkce();
    let (_, cookie) = log_in(
        &stack,
        &authorize_params(&stack, &challenge, &[]),
        "PLANT\\alice",
        "alice-demo",
    )
    .await;
    let sso = cookie.expect("cookie");
    let registered = format!("{}/signed-out", stack.portal_origin);
    let endsession = format!("{}/connect/endsession", stack.issuer);
    let still_signed_in = |what: &'static str| {
        let (stack, sso, challenge) = (&stack, sso.clone(), challenge.clone());
        async move {
            let silent = http()
                .get(authorize_url(stack))
                .query(&authorize_params(stack, &challenge, &[("prompt", "none")]))
                .header("cookie", &sso)
                .send()
                .await
                .expect("get");
            let error = redirect_query(silent.headers()).get("error").cloned();
            assert!(
                error.is_none() || error.as_deref() == Some("login_required"),
                "{what}: {error:?}"
            );
            error.is_none()
        }
    };

    let post = http()
        .post(&endsession)
        .header("cookie", &sso)
        .form(&[
            ("client_id", "mes-portal"),
            ("post_logout_redirect_uri", registered.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(
        post.status(),
        StatusCode::NOT_FOUND,
        "GET only, as a certified provider's default"
    );
    assert!(still_signed_in("after the refused POST").await);

    let ask = http()
        .get(&endsession)
        .query(&[
            ("client_id", "mes-portal"),
            ("post_logout_redirect_uri", registered.as_str()),
            ("state", "s1"),
        ])
        .header("cookie", &sso)
        .send()
        .await
        .expect("get");
    assert_eq!(
        ask.status(),
        StatusCode::OK,
        "no hint: a page that asks, not a redirect"
    );
    let headers = ask.headers().clone();
    let page = ask.text().await.expect("page");
    assert!(page.contains("Sign out of AVEVA Identity Manager?"), "{page}");
    assert!(
        still_signed_in("while the page asks").await,
        "nothing ends before the person says so"
    );
    let (csrf, csrf_cookie) = confirmation_form(&page, &headers);
    let confirm = |fields: Vec<(&'static str, String)>, with_cookie: bool| {
        let mut request = http().post(format!("{endsession}/confirm")).form(&fields);
        request = request.header(
            "cookie",
            if with_cookie {
                format!("{sso}; {csrf_cookie}")
            } else {
                sso.clone()
            },
        );
        request.send()
    };
    let fields = |action: &str, csrf: &str| {
        vec![
            ("client_id", "mes-portal".to_owned()),
            ("post_logout_redirect_uri", registered.clone()),
            ("state", "s1".to_owned()),
            ("csrf", csrf.to_owned()),
            ("action", action.to_owned()),
        ]
    };
    let forged = confirm(fields("logout", &csrf), false).await.expect("forged");
    assert_eq!(
        forged.status(),
        StatusCode::OK,
        "without the page's cookie it only asks again"
    );
    assert!(still_signed_in("after a forged confirmation").await);
    let stay = confirm(fields("stay", &csrf), true).await.expect("stay");
    assert!(stay.status().is_redirection());
    assert!(still_signed_in("after 'stay signed in'").await);
    let out = confirm(fields("logout", &csrf), true).await.expect("confirm");
    assert!(out.status().is_redirection(), "{}", out.status());
    assert_eq!(
        out.headers()["location"].to_str().expect("loc"),
        format!("{registered}?state=s1"),
        "back to the registered address of the client it named"
    );
    assert!(
        !still_signed_in("after the confirmation").await,
        "the session is gone"
    );

    let tokens = user_tokens(&stack, "PLANT\\alice", "alice-demo").await;
    let mismatch = http()
        .get(&endsession)
        .query(&[
            ("id_token_hint", tokens["id_token"].as_str().expect("id")),
            ("client_id", "someone-else"),
        ])
        .send()
        .await
        .expect("get");
    assert_eq!(
        mismatch.status(),
        StatusCode::BAD_REQUEST,
        "client_id must be the hint's audience"
    );
    let unregistered = http()
        .get(&endsession)
        .query(&[
            ("client_id", "mes-portal"),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ])
        .send()
        .await
        .expect("get");
    assert_eq!(unregistered.status(), StatusCode::OK);
    stack.stop().await;
}

/// Exchanges the code of an authorization answer's `query` for tokens.
async fn exchange(
    stack: &Stack,
    query: &std::collections::HashMap<String, String>,
    verifier: &str,
) -> serde_json::Value {
    let (code, redirect) = (query.get("code").expect("code").clone(), redirect_uri(stack));
    let answer = token(
        stack,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("client_id", devstack::PORTAL_CLIENT_ID),
            ("code_verifier", verifier),
        ],
    )
    .await;
    answer.json().await.expect("tokens")
}

/// A sign-in by form and its code exchange: the SSO cookie and the token answer.
async fn signed_in_with_cookie(stack: &Stack) -> (String, serde_json::Value) {
    let (verifier, challenge) = pkce();
    let scope = [("scope", "openid offline_access mes-web-api")];
    let (query, cookie) = log_in(
        stack,
        &authorize_params(stack, &challenge, &scope),
        "PLANT\\alice",
        "alice-demo",
    )
    .await;
    (
        cookie.expect("SSO cookie"),
        exchange(stack, &query, &verifier).await,
    )
}

/// Another sign-in in the same AIM session (its cookie, no form): a second client of it, as a
/// grid framed by another site signs in through a popup.
async fn signed_in_again(stack: &Stack, cookie: &str) -> serde_json::Value {
    let (verifier, challenge) = pkce();
    let scope = [("scope", "openid offline_access mes-web-api")];
    let answer = http()
        .get(authorize_url(stack))
        .query(&authorize_params(stack, &challenge, &scope))
        .header("cookie", cookie)
        .send()
        .await
        .expect("authorize");
    exchange(stack, &redirect_query(answer.headers()), &verifier).await
}

/// Whether `refresh_token` still renews.
async fn still_renews(stack: &Stack, refresh_token: &str) -> bool {
    let answer = token(
        stack,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", devstack::PORTAL_CLIENT_ID),
        ],
    )
    .await;
    answer.status() == StatusCode::OK
}

#[tokio::test]
async fn when_so_set_up_ending_the_aim_session_ends_its_refresh_tokens_too() {
    for bound in [false, true] {
        let mut options = StackOptions::for_tests("aim-session-bound");
        options.aim_refresh_tokens_end_with_session = bound;
        let stack = Stack::start(options).await.expect("stack");
        let (cookie, tokens) = signed_in_with_cookie(&stack).await;
        let framed = signed_in_again(&stack, &cookie).await;
        let (_, elsewhere) = signed_in_with_cookie(&stack).await;
        let out = http()
            .get(format!("{}/connect/endsession", stack.issuer))
            .query(&[("id_token_hint", tokens["id_token"].as_str().expect("id"))])
            .header("cookie", &cookie)
            .send()
            .await
            .expect("sign-out");
        assert!(out.status().is_success(), "{}", out.status());
        for (what, tokens) in [
            ("the signing-out client", &tokens),
            ("another client of the session", &framed),
        ] {
            let renews = still_renews(&stack, tokens["refresh_token"].as_str().expect("refresh")).await;
            assert_eq!(renews, !bound, "bound={bound}: {what}");
        }
        let other = elsewhere["refresh_token"].as_str().expect("refresh");
        assert!(
            still_renews(&stack, other).await,
            "bound={bound}: another AIM session is not touched"
        );
        stack.stop().await;
    }
}
