//! Renewal, revocation, service-to-service tokens and the mes-lookup CLI against devstack over
//! real HTTP; request counts are read at the stand-in.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/sign_in.rs"]
mod sign_in;

use devstack::store::{RegisteredClient, put_client};
use devstack::{Stack, StackOptions};
use mes_client::*;
use std::sync::Arc;
use std::sync::atomic::Ordering;

const SECRET: &str = "scheduler-secret-0123456789";

async fn stack(name: &str) -> Stack {
    stack_with(name, |_| {}).await
}

async fn stack_with(name: &str, tune: impl FnOnce(&mut StackOptions)) -> Stack {
    let mut options = StackOptions::for_tests(name);
    tune(&mut options);
    let db = devstack::store::open(&options.data_dir.join("aim.sqlite")).expect("store");
    let client = RegisteredClient {
        client_id: "scheduler".into(),
        secret_hash: Some(devstack::util::hash_secret(SECRET)),
        redirect_uris: vec![],
        post_logout_uris: vec![],
        allowed_origins: vec![],
        token_lifetime: 86_400,
    };
    put_client(&db, &client).expect("register");
    Stack::start(options).await.expect("stack")
}

fn config(stack: &Stack) -> PortalConfig {
    PortalConfig::from_json(&stack.portal_config().to_string(), Runtime::Browser)
        .expect("config")
        .0
}

fn service_api_json(stack: &Stack) -> serde_json::Value {
    serde_json::json!({
        "name": "MES jobs", "base_address": stack.mes_base, "request_uri": "api",
        "authentication_mode": "Service to Service Access Token", "authority": stack.issuer,
        "audience": "mes-web-api", "client_id": "scheduler", "scope": "system", "client_secret": SECRET
    })
}

fn service_api(stack: &Stack) -> WebApiDefinition {
    serde_json::from_value(service_api_json(stack)).expect("api")
}

/// A session over a sign-in, as the portal holds one (native transport).
fn session_of(
    authority: &Authority,
    config: &PortalConfig,
    signed_in: SignedIn,
) -> UserSession<NativeTransport> {
    UserSession::new(NativeTransport::default(), authority, &config.client, signed_in)
}

/// A real sign-in through the AIM form (PKCE, ID token validated).
async fn signed_in(config: &PortalConfig) -> (SignedIn, Authority) {
    sign_in::sign_in(config, "PLANT\\alice", "alice-demo")
        .await
        .expect("sign-in")
}

#[tokio::test]
async fn concurrent_calls_at_expiry_share_exactly_one_refresh() {
    let stack = stack("renew-flight").await;
    let config = config(&stack);
    let (mut done, authority) = signed_in(&config).await;
    let first_refresh = done.tokens.refresh_token.clone().expect("refresh token");
    done.tokens.expires_at = Some(now_seconds()); // about to expire
    let session = Arc::new(session_of(&authority, &config, done));
    let api = config.web_api("MES").expect("api").clone();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (session, api) = (session.clone(), api.clone());
        calls.spawn(async move { session.lookup(&api, "v3/entity").send().await });
    }
    while let Some(result) = calls.join_next().await {
        assert!(result.expect("task").is_ok());
    }
    assert_eq!(
        stack.aim.counters.refreshes.load(Ordering::Relaxed),
        1,
        "8 callers, one refresh"
    );
    let rotated = session.tokens().refresh_token.expect("rotated");
    assert_ne!(
        rotated, first_refresh,
        "the authority rotated the refresh token and the session kept the new one"
    );
    stack.stop().await;
}

#[tokio::test]
async fn renewal_starts_the_margin_before_expiry_and_not_earlier() {
    let stack = stack("renew-margin").await;
    let config = config(&stack);
    let api = config.web_api("MES").expect("api").clone();
    let (mut done, authority) = signed_in(&config).await;
    done.tokens.expires_at = Some(now_seconds() + RENEW_BEFORE_SECONDS + 5);
    let early = session_of(&authority, &config, done.clone());
    early.lookup(&api, "v3/entity").send().await.expect("rows");
    assert_eq!(refreshes(&stack), 0, "outside the margin: no refresh");
    done.tokens.expires_at = Some(now_seconds() + RENEW_BEFORE_SECONDS);
    let due = session_of(&authority, &config, done);
    due.lookup(&api, "v3/entity").send().await.expect("rows");
    assert_eq!(refreshes(&stack), 1, "at the margin: renewed first");
    stack.stop().await;
}

/// Review E4: the margin scales with the token's life. With AIM's 15-second tokens a fixed 30 s
/// margin renewed on every call; now a quarter of the life (3 s) is the margin.
#[tokio::test]
async fn a_short_lived_token_is_renewed_a_quarter_of_its_life_early_not_on_every_call() {
    assert_eq!(renew_margin(Some(15)), 3);
    assert_eq!(renew_margin(Some(3600)), RENEW_BEFORE_SECONDS);
    assert_eq!(renew_margin(None), RENEW_BEFORE_SECONDS);
    let stack = stack_with("renew-short", |o| o.user_token_lifetime = 15).await;
    let config = config(&stack);
    let api = config.web_api("MES").expect("api").clone();
    let (done, authority) = signed_in(&config).await;
    assert_eq!(done.tokens.lifetime, Some(15));
    let session = session_of(&authority, &config, done);
    for _ in 0..3 {
        session.lookup(&api, "v3/entity").send().await.expect("rows");
    }
    assert_eq!(refreshes(&stack), 0, "a fresh 15-second token is used as it is");
    stack.stop().await;
}

/// A token endpoint that takes connections and never answers (a hanging AIM or proxy): the
/// renewal gives up within the token request's limit, well inside the margin, and the person's
/// call goes on with the token that still works — instead of waiting the transport's minute.
#[tokio::test]
async fn a_hanging_token_endpoint_is_an_outage_within_the_margin_while_the_token_still_works() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hanging = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let session = session_expiring_at(
        &authority_at(&hanging, &hanging),
        now_seconds() + RENEW_BEFORE_SECONDS - 2,
    );
    let started = std::time::Instant::now();
    let (token, _) = session.access_token().await.expect("the old token, still valid");
    assert_eq!(token.expose(), "at-secret-1");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(u64::from(TOKEN_REQUEST_SECONDS) + 5),
        "gave up after {:?}",
        started.elapsed()
    );
    assert!(matches!(session.health(), SessionHealth::AuthorityOffline { .. }));
    // Said as what it is: no answer in time, not a network failure.
    match refresh(
        &NativeTransport::default(),
        &format!("{hanging}/connect/token"),
        &ClientId::new("mes-portal"),
        &Secret::new("rt-1"),
        now_seconds(),
    )
    .await
    {
        Err(TokenError::Unreachable(t)) => {
            assert_eq!(t.kind, TransportErrorKind::TimedOut, "{t:?}");
            assert!(
                t.reason.contains(&format!("within {TOKEN_REQUEST_SECONDS} s")),
                "{t:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_401_renews_once_and_a_refused_renewal_is_session_expired() {
    let stack = stack("renew-401").await;
    let config = config(&stack);
    let (mut done, authority) = signed_in(&config).await;
    done.tokens.access_token = Secret::new("revoked-or-garbage"); // the MES answers 401
    let session = session_of(&authority, &config, done);
    let api = config.web_api("MES").expect("api");
    assert!(
        session.lookup(api, "v3/entity").send().await.is_ok(),
        "renewed after the 401"
    );
    assert_eq!(stack.aim.counters.refreshes.load(Ordering::Relaxed), 1);

    // Sign-out revokes the refresh token; after that, a 401 cannot be renewed.
    let tokens = session.tokens();
    assert!(
        revoke_refresh_token(
            &NativeTransport::default(),
            &authority.metadata,
            &ClientId::new("mes-portal"),
            tokens.refresh_token.as_ref().expect("rt")
        )
        .await
        .expect("revoke")
    );
    let (mut done, _) = signed_in(&config).await;
    let refresh = tokens.refresh_token.clone();
    done.tokens.access_token = Secret::new("garbage");
    done.tokens.refresh_token = refresh;
    let session = session_of(&authority, &config, done);
    assert_eq!(
        session.lookup(api, "v3/entity").send().await,
        Err(MesError::SessionExpired)
    );

    // No refresh token at all: the token is used until it expires, then renewal says how to go on.
    let (mut done, _) = signed_in(&config).await;
    done.tokens.refresh_token = None;
    done.tokens.expires_at = Some(now_seconds() + 10);
    let session = session_of(&authority, &config, done.clone());
    assert!(
        session.lookup(api, "v3/entity").send().await.is_ok(),
        "still valid: no early renewal"
    );
    assert!(!session.needs_sign_in());
    assert_eq!(session.renew(0).await.err(), Some(RenewError::NoRefreshToken));
    done.tokens.expires_at = Some(now_seconds().saturating_sub(1));
    let done_at_the_edge = done.clone();
    let expired = session_of(&authority, &config, done);
    assert_eq!(
        expired.lookup(api, "v3/entity").send().await,
        Err(MesError::SessionExpired)
    );
    assert!(expired.needs_sign_in(), "only a sign-in (prompt=none) renews it");
    let mut edge = done_at_the_edge;
    edge.tokens.expires_at = Some(now_seconds());
    let edge = session_of(&authority, &config, edge);
    assert_eq!(
        edge.lookup(api, "v3/entity").send().await,
        Err(MesError::SessionExpired),
        "expired at this second"
    );
    stack.stop().await;
}

#[tokio::test]
async fn service_tokens_are_cached_shared_and_run_as_the_background_user() {
    let stack = stack("service").await;
    let api = service_api(&stack);
    for auth in [ClientAuth::Basic, ClientAuth::Post] {
        let before = stack.aim.counters.client_credentials.load(Ordering::Relaxed);
        let source = Arc::new(
            ServiceTokenSource::for_web_api(NativeTransport::default(), &api, auth)
                .await
                .expect("source"),
        );
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let source = source.clone();
            calls.spawn(async move { source.token().await.map(|t| t.expose().to_owned()) });
        }
        let mut tokens = Vec::new();
        while let Some(t) = calls.join_next().await {
            tokens.push(t.expect("task").expect("token"));
        }
        tokens.dedup();
        assert_eq!(tokens.len(), 1, "{auth:?}: one token for all");
        assert_eq!(
            stack.aim.counters.client_credentials.load(Ordering::Relaxed) - before,
            1,
            "{auth:?}: one request"
        );
        let rows = source.lookup(&api, "v3/entity").send().await.expect("entities");
        assert!(!rows.is_empty());
        // The token names the client as its subject (RFC 9068), yet the MES runs it as its
        // Default Background User; the denial names whom the MES named, nothing assumed here.
        match source.lookup(&api, "v3/user").send().await {
            Err(MesError::Denied {
                identity: None,
                message,
            }) => {
                assert!(
                    message.contains(DEFAULT_BACKGROUND_USER) && message.contains("view_users"),
                    "{message}"
                )
            }
            other => panic!("expected a denial naming the background user: {other:?}"),
        }
    }
    let mut wrong = api.clone();
    wrong.client_secret = Some(Secret::new("wrong"));
    let source = ServiceTokenSource::for_web_api(NativeTransport::default(), &wrong, ClientAuth::Post)
        .await
        .expect("source");
    assert!(
        matches!(source.token().await, Err(ServiceTokenError::Token(TokenError::Refused { ref error, .. })) if error == "invalid_client")
    );
    let mut user_mode = api.clone();
    user_mode.authentication_mode = AuthenticationMode::UserAccessToken;
    assert!(matches!(
        ServiceTokenSource::for_web_api(NativeTransport::default(), &user_mode, ClientAuth::Basic).await,
        Err(ServiceTokenError::Configuration(_))
    ));
    stack.stop().await;
}

fn mes_lookup(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mes-lookup"))
        .args(args)
        .output()
        .expect("mes-lookup");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `--lookup`: the file's lookup, its question checked, its row limit honest (exit 3 when cut).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_asks_a_declared_lookup_and_says_when_its_row_limit_cut_the_answer() {
    let stack = stack("cli-lookup").await;
    let file = std::env::temp_dir().join(format!("mes-lookup-lookups-{}.json", std::process::id()));
    let lookups = serde_json::json!([
        { "name": "Lots of an item", "web_api": "MES jobs", "endpoint": "v3/lot/filter", "max_rows": 5,
          "parameters": [{ "name": "item_id", "label": "Item" }, { "name": "status", "kind": "choice", "choices": ["Released", "Consumed"] }] }
    ]);
    std::fs::write(
        &file,
        serde_json::json!({ "web_apis": [service_api_json(&stack)], "lookups": lookups }).to_string(),
    )
    .expect("write");
    let path = file.to_string_lossy().into_owned();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--config",
            path.as_str(),
            "--lookup",
            "Lots of an item",
            "--format",
            "csv",
        ];
        args.extend_from_slice(extra);
        tokio::task::block_in_place(|| mes_lookup(&args))
    };
    let (code, out, err) = run(&[]);
    assert_eq!(code, 3, "cut: {err}");
    assert_eq!(
        out.lines().count(),
        6,
        "header + the 5 rows of the limit, not the one past it: {out}"
    );
    assert!(
        err.contains("first 5 rows") && err.contains("the MES has more"),
        "{err}"
    );
    let (code, out, err) = run(&["--param", "item_id=RM-TOMATO"]);
    assert_eq!(code, 0, "whole: {err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(err.is_empty(), "a whole answer says nothing: {err}");
    let (code, _, err) = run(&["--max-rows", "100000"]);
    assert_eq!(code, 0, "a limit above the lots: {err}");
    for (param, said) in [
        ("qty=5", "qty is not a parameter"),
        ("status=Lost", "status is not one of its choices"),
    ] {
        let (code, out, err) = run(&["--param", param]);
        assert_eq!(code, 2, "{param}: {err}");
        assert!(out.is_empty() && err.contains(said), "{param}: {err}");
    }
    let (code, _, err) = run(&["--api", "MES jobs"]);
    assert_eq!(code, 2, "{err}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_tables_csv_and_json_and_explains_background_user_denials() {
    let stack = stack("cli").await;
    let file = std::env::temp_dir().join(format!("mes-lookup-{}.json", std::process::id()));
    std::fs::write(
        &file,
        serde_json::json!({ "web_apis": [service_api_json(&stack)] }).to_string(),
    )
    .expect("write");
    let path = file.to_string_lossy().into_owned();
    let run = |extra: &[&str]| {
        let mut args = vec!["--config", path.as_str(), "--api", "mes jobs"];
        args.extend_from_slice(extra);
        mes_lookup(&args)
    };
    let (code, out, err) =
        tokio::task::block_in_place(|| run(&["v3/entity/name", "--param", "ent_name=Packaging Line 1"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines()
            .next()
            .is_some_and(|h| h.starts_with("ent_id  ent_name")),
        "{out}"
    );
    assert!(
        out.contains("Packaging Line 1") && out.ends_with("(1 rows)\n"),
        "{out}"
    );
    let (code, out, _) = tokio::task::block_in_place(|| {
        run(&["v3/item", "--format", "csv", "--max-rows", "3", "--auth", "post"])
    });
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 4, "header + 3 rows");
    assert!(
        out.starts_with("item_id,item_desc,item_class_id,uom_id,unit_cost,last_edit_at_utc,"),
        "{out}"
    );
    let (code, out, _) =
        tokio::task::block_in_place(|| run(&["v3/lot", "--format", "json", "--max-rows", "2"]));
    assert_eq!(code, 0);
    let parsed: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(parsed.as_array().map(Vec::len), Some(2));
    assert!(out.contains("{\"lot_no\": "), "column order kept: {out}");
    let (code, _, err) = tokio::task::block_in_place(|| run(&["v3/user"]));
    assert_eq!(code, 1);
    for token in stack.aim.issued_tokens() {
        assert!(
            !err.contains(&token[token.len().saturating_sub(24)..]),
            "a token reached mes-lookup's stderr: {err}"
        );
    }
    assert!(
        err.contains("Default Background User") && err.contains("attr_id 199") && err.contains("an hour"),
        "{err}"
    );
    let (code, _, err) = mes_lookup(&["--config", "/nonexistent.json", "--api", "x", "v3/entity"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = tokio::task::block_in_place(|| run(&["v3/entity", "--format", "xml"]));
    assert_eq!(code, 2, "{err}");
    let _ = std::fs::remove_file(&file);
    stack.stop().await;
}

fn refreshes(stack: &Stack) -> usize {
    stack.aim.counters.refreshes.load(Ordering::Relaxed)
}

#[tokio::test]
async fn aim_offline_while_the_token_expires_is_an_outage_not_the_end_of_the_session() {
    // The MES keeps AIM's keys for an hour here, so it can still verify while AIM is away.
    let mut stack = stack_with("renew-outage", |o| {
        o.jwks_ttl = std::time::Duration::from_secs(3600)
    })
    .await;
    let config = config(&stack);
    let api = config.web_api("MES").expect("api").clone();
    let (mut done, authority) = signed_in(&config).await;
    async fn lookup(
        session: &UserSession<NativeTransport>,
        api: &WebApiDefinition,
    ) -> Result<Rows, MesError> {
        session.lookup(api, "v3/entity").send().await
    }
    // Warm the MES's key cache, then AIM goes away with the token 10 s from expiry (inside the
    // 30 s renewal margin).
    let warm = session_of(&authority, &config, done.clone());
    assert!(lookup(&warm, &api).await.is_ok());
    stack.stop_aim().await;
    done.tokens.expires_at = Some(now_seconds() + 10);
    let session = session_of(&authority, &config, done.clone());
    assert!(
        lookup(&session, &api).await.is_ok(),
        "the still-valid token is used while AIM is offline"
    );
    assert!(
        matches!(session.health(), SessionHealth::AuthorityOffline { .. }),
        "{:?}",
        session.health()
    );
    assert!(matches!(
        session.renew(0).await,
        Err(RenewError::AuthorityOffline(_))
    ));

    // Expired while AIM is offline: an outage with the refresh token kept, not "session expired".
    done.tokens.expires_at = Some(now_seconds().saturating_sub(1));
    let done_at_the_edge = done.clone();
    let expired = session_of(&authority, &config, done);
    match lookup(&expired, &api).await {
        Err(MesError::AuthorityOffline { message, .. }) => {
            assert!(message.contains("did not answer"), "{message}")
        }
        other => panic!("expected AuthorityOffline, got {other:?}"),
    }
    assert!(
        matches!(
            lookup(&expired, &api).await,
            Err(MesError::AuthorityOffline { .. })
        ),
        "and again on the next call"
    );
    assert_eq!(refreshes(&stack), 0);
    // A token whose expiry is this very second counts as expired.
    let mut at_the_edge = done_at_the_edge;
    at_the_edge.tokens.expires_at = Some(now_seconds());
    let edge = session_of(&authority, &config, at_the_edge);
    assert!(
        matches!(lookup(&edge, &api).await, Err(MesError::AuthorityOffline { .. })),
        "expired at this second"
    );

    // AIM is back: the same session renews by itself and the rows come.
    stack.start_aim().await.expect("aim back");
    assert!(
        lookup(&expired, &api).await.is_ok(),
        "recovers without a new sign-in"
    );
    assert_eq!(refreshes(&stack), 1);
    assert!(
        matches!(expired.health(), SessionHealth::Valid { .. }),
        "{:?}",
        expired.health()
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_refused_refresh_is_shared_by_every_waiter_and_never_presented_again() {
    let stack = stack("renew-refused").await;
    let config = config(&stack);
    let (mut done, authority) = signed_in(&config).await;
    let refresh_token = done.tokens.refresh_token.clone().expect("refresh token");
    assert!(
        revoke_refresh_token(
            &NativeTransport::default(),
            &authority.metadata,
            &ClientId::new("mes-portal"),
            &refresh_token
        )
        .await
        .expect("revoke")
    );
    done.tokens.expires_at = Some(now_seconds()); // every call must renew first
    let session = Arc::new(session_of(&authority, &config, done));
    let api = config.web_api("MES").expect("api").clone();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (session, api) = (session.clone(), api.clone());
        calls.spawn(async move { session.lookup(&api, "v3/entity").send().await });
    }
    while let Some(result) = calls.join_next().await {
        assert_eq!(result.expect("task"), Err(MesError::SessionExpired));
    }
    assert_eq!(refreshes(&stack), 1, "8 callers share one refused refresh");
    assert_eq!(
        session.lookup(&api, "v3/entity").send().await,
        Err(MesError::SessionExpired)
    );
    assert_eq!(
        refreshes(&stack),
        1,
        "a refused refresh token is never presented again"
    );
    match session.health() {
        SessionHealth::Ended(RenewError::Refused(TokenError::Refused { error, .. })) => {
            assert_eq!(error, "invalid_grant")
        }
        other => panic!("{other:?}"),
    }
    stack.stop().await;
}

#[tokio::test]
async fn refreshed_id_tokens_are_validated_kept_for_sign_out_and_found_after_a_key_rotation() {
    let stack = stack_with("renew-id-token", |o| o.hostile = true).await;
    let config = config(&stack);
    let api = config.web_api("MES").expect("api").clone();
    let (mut done, authority) = signed_in(&config).await;
    let first_id_token = done.tokens.id_token.clone().expect("id token");
    done.tokens.expires_at = Some(now_seconds());
    let session = session_of(&authority, &config, done.clone());

    // AIM rolls its key over: the refreshed ID token names a kid the session has not seen.
    let jwks_before = stack.aim.counters.jwks.load(Ordering::Relaxed);
    let new_kid = stack.aim.rotate_key().expect("rotate");
    let (_, generation) = session.renew(0).await.expect("renewed across the key rotation");
    assert_eq!(generation, 1);
    assert!(
        stack.aim.counters.jwks.load(Ordering::Relaxed) > jwks_before,
        "the session fetched the new keys"
    );
    let renewed = session.tokens().id_token.expect("an ID token after the refresh");
    assert_ne!(renewed, first_id_token, "the refreshed one replaces it");
    assert_eq!(
        decode_unverified(renewed.expose())
            .expect("jwt")
            .header
            .kid
            .as_deref(),
        Some(new_kid.as_str())
    );
    assert!(
        session.lookup(&api, "v3/entity").send().await.is_ok(),
        "the MES finds the new kid too"
    );

    // A refreshed ID token with a broken signature, or another nonce, ends the session.
    for (tamper, expected) in [
        (
            devstack::hostile::Tamper::BadSignature,
            IdTokenError::BadSignature,
        ),
        (
            devstack::hostile::Tamper::WrongNonce,
            IdTokenError::RefreshMismatch("the nonce"),
        ),
    ] {
        let (mut fresh, _) = signed_in(&config).await;
        fresh.tokens.expires_at = Some(now_seconds());
        let session = session_of(&authority, &config, fresh);
        stack.aim.set_tamper(Some(tamper)).expect("hostile");
        assert_eq!(session.renew(0).await.err(), Some(RenewError::IdToken(expected)));
        stack.aim.set_tamper(None).expect("hostile");
        assert_eq!(
            session.lookup(&api, "v3/entity").send().await,
            Err(MesError::SessionExpired)
        );
    }

    stack.stop().await;
}

/// A background job's token is kept while it has more than a minute to live and fetched anew
/// within that minute (`SERVICE_RENEW_BEFORE_SECONDS`): with a 2-minute token two calls share
/// one token request, with a 1-minute token each call asks.
#[tokio::test]
async fn a_service_token_is_kept_until_a_minute_before_it_expires() {
    let stack = stack_with("service-cache", |options| {
        let db = devstack::store::open(&options.data_dir.join("aim.sqlite")).expect("store");
        for (id, lifetime) in [("job-120", 120), ("job-60", 60)] {
            put_client(
                &db,
                &RegisteredClient {
                    client_id: id.into(),
                    secret_hash: Some(devstack::util::hash_secret(SECRET)),
                    redirect_uris: vec![],
                    post_logout_uris: vec![],
                    allowed_origins: vec![],
                    token_lifetime: lifetime,
                },
            )
            .expect("register");
        }
    })
    .await;
    for (id, expected) in [("job-120", 1), ("job-60", 2)] {
        let mut json = service_api_json(&stack);
        json["client_id"] = serde_json::json!(id);
        let api: WebApiDefinition = serde_json::from_value(json).expect("api");
        let source = ServiceTokenSource::for_web_api(NativeTransport::default(), &api, ClientAuth::Basic)
            .await
            .expect("source");
        let before = stack.aim.counters.client_credentials.load(Ordering::Relaxed);
        source.token().await.expect("token");
        source.token().await.expect("token");
        let asked = stack.aim.counters.client_credentials.load(Ordering::Relaxed) - before;
        assert_eq!(asked, expected, "{id}: token requests for two calls");
    }
    stack.stop().await;
}

/// AIM away when a background job needs a token: the lookup says the authority is offline (an
/// outage to retry), not that the MES failed.
#[tokio::test]
async fn a_service_lookup_with_aim_away_is_an_authority_outage() {
    let mut stack = stack("service-offline").await;
    let api = service_api(&stack);
    let source = ServiceTokenSource::for_web_api(NativeTransport::default(), &api, ClientAuth::Basic)
        .await
        .expect("source");
    stack.stop_aim().await;
    match source.lookup(&api, "v3/entity").send().await {
        Err(MesError::AuthorityOffline { message, .. }) => {
            assert!(message.contains("service token"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    stack.stop().await;
}

#[tokio::test]
async fn a_service_token_the_mes_refuses_is_dropped_and_fetched_once_more() {
    // The MES asks AIM for its keys on every call, so it sees a rotation at once.
    let stack = stack_with("service-401", |o| o.jwks_ttl = std::time::Duration::ZERO).await;
    let api = service_api(&stack);
    let source = ServiceTokenSource::for_web_api(NativeTransport::default(), &api, ClientAuth::Basic)
        .await
        .expect("source");
    assert!(source.lookup(&api, "v3/entity").send().await.is_ok());
    let before = stack.aim.counters.client_credentials.load(Ordering::Relaxed);
    // Two rotations: the cached token's key is no longer published, so the MES answers 401.
    stack.aim.rotate_key().expect("rotate");
    stack.aim.rotate_key().expect("rotate");
    assert!(
        source.lookup(&api, "v3/entity").send().await.is_ok(),
        "a new token was fetched"
    );
    assert_eq!(
        stack.aim.counters.client_credentials.load(Ordering::Relaxed) - before,
        1,
        "exactly one new token"
    );
    assert!(source.lookup(&api, "v3/entity").send().await.is_ok());
    assert_eq!(
        stack.aim.counters.client_credentials.load(Ordering::Relaxed) - before,
        1,
        "and it is cached again"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_hostile_data_as_inert_text() {
    let stack = stack_with("cli-hostile", |o| o.hostile = true).await;
    let file = std::env::temp_dir().join(format!("mes-lookup-hostile-{}.json", std::process::id()));
    std::fs::write(
        &file,
        serde_json::json!({ "web_apis": [service_api_json(&stack)] }).to_string(),
    )
    .expect("write");
    let path = file.to_string_lossy().into_owned();
    let run = |extra: &[&str]| {
        let mut args = vec!["--config", path.as_str(), "--api", "MES jobs"];
        args.extend_from_slice(extra);
        mes_lookup(&args)
    };
    let (code, table, err) = tokio::task::block_in_place(|| run(&["v3/hostile/bidi-and-control-characters"]));
    assert_eq!(code, 0, "{err}");
    assert!(table.contains("txt.exe") && table.contains("🏭"), "{table}");
    for c in table.chars() {
        assert!(
            (!c.is_control() || c == '\n') && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'),
            "a control or reordering character reached the terminal: {c:?} in {table:?}"
        );
    }
    // Review E11: csv and json too, which go to a terminal as often as to a file.
    for format in ["csv", "json"] {
        let (code, out, err) = tokio::task::block_in_place(|| {
            run(&["v3/hostile/bidi-and-control-characters", "--format", format])
        });
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("txt.exe"), "{format}: {out}");
        for c in out.chars() {
            assert!(
                !unsafe_on_terminal(c) || matches!(c, '\n' | '\r'),
                "{format}: {c:?} reached the terminal in {out:?}"
            );
        }
        if format == "json" {
            serde_json::from_str::<serde_json::Value>(&out).expect("still JSON");
        }
    }
    let (code, csv, err) =
        tokio::task::block_in_place(|| run(&["v3/hostile/script-payloads", "--format", "csv"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""),
        "a spreadsheet must not run it: {csv}"
    );
    let _ = std::fs::remove_file(&file);
    stack.stop().await;
}

/// A one-connection HTTP server that answers every request with `answer` and counts requests.
async fn answering(answer: &'static str) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (url, count)
}

#[tokio::test]
async fn token_and_revocation_posts_never_follow_a_redirect() {
    let (elsewhere, reached) =
        answering("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}").await;
    let redirect: &'static str = Box::leak(
        format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {elsewhere}/steal\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .into_boxed_str(),
    );
    let (token_endpoint, _) = answering(redirect).await;
    let transport = NativeTransport::default();
    let err = refresh(
        &transport,
        &format!("{token_endpoint}/connect/token"),
        &ClientId::new("mes-portal"),
        &Secret::new("rt-1"),
        now_seconds(),
    )
    .await
    .expect_err("a redirect is no token answer");
    match &err {
        TokenError::Unreachable(t) => assert_eq!(t.kind, TransportErrorKind::Redirected, "{t:?}"),
        other => panic!("{other:?}"),
    }
    assert!(
        !err.is_outage(),
        "a redirect is a misconfiguration, not an outage"
    );
    let metadata = ProviderMetadata {
        issuer: token_endpoint.clone(),
        authorization_endpoint: format!("{token_endpoint}/a"),
        token_endpoint: format!("{token_endpoint}/t"),
        jwks_uri: format!("{token_endpoint}/k"),
        end_session_endpoint: None,
        revocation_endpoint: Some(format!("{token_endpoint}/connect/revocation")),
        code_challenge_methods_supported: Some(vec!["S256".into()]),
        authorization_response_iss_parameter_supported: false,
    };
    assert!(
        revoke_refresh_token(
            &transport,
            &metadata,
            &ClientId::new("mes-portal"),
            &Secret::new("rt-1")
        )
        .await
        .is_err()
    );
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "nothing was sent on to where the redirect pointed"
    );
}

/// The other half of the redirect rule: a request that carries nothing to steal (a GET without a
/// bearer token: config.json, a translation, discovery) follows a redirect as browsers do.
#[tokio::test]
async fn a_get_without_credentials_follows_a_redirect() {
    let (elsewhere, reached) = answering(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\nconnection: close\r\n\r\nmoved",
    )
    .await;
    let redirect: &'static str = Box::leak(
        format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {elsewhere}/locales/de.json\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .into_boxed_str(),
    );
    let (origin, _) = answering(redirect).await;
    let text = get_text(&NativeTransport::default(), &format!("{origin}/locales/de.json"))
        .await
        .expect("the redirect is followed");
    assert_eq!(text, "moved");
    assert_eq!(reached.load(Ordering::SeqCst), 1);
}

/// An authority whose endpoints are the given addresses (tokens from `token`, keys from `jwks`).
fn authority_at(token: &str, jwks: &str) -> Authority {
    Authority {
        metadata: ProviderMetadata {
            issuer: "https://aim.test/identitymanager".into(),
            authorization_endpoint: format!("{token}/authorize"),
            token_endpoint: format!("{token}/connect/token"),
            jwks_uri: format!("{jwks}/jwks"),
            end_session_endpoint: None,
            revocation_endpoint: None,
            code_challenge_methods_supported: Some(vec!["S256".into()]),
            authorization_response_iss_parameter_supported: false,
        },
        jwks: JwkSet { keys: vec![] },
    }
}

/// The portal client of [`expiring_session`].
fn expiring_client() -> ClientSettings {
    serde_json::from_value(serde_json::json!({
        "authority": "https://aim.test/identitymanager", "client_id": &ClientId::new("mes-portal"), "redirect_uri": "https://portal.test/callback",
        "scopes": ["openid", "offline_access"]
    }))
    .expect("client")
}

/// A signed-in session over `authority`, its token about to expire, with a refresh token.
fn expiring_session(authority: &Authority) -> UserSession<NativeTransport> {
    session_expiring_at(authority, now_seconds())
}

/// The session of [`expiring_session`], its access token expiring at `expires_at`.
fn session_expiring_at(authority: &Authority, expires_at: u64) -> UserSession<NativeTransport> {
    let client = expiring_client();
    let claims: Claims = serde_json::from_value(serde_json::json!({
        "iss": "https://aim.test/identitymanager", "aud": &ClientId::new("mes-portal"), "exp": 4_102_444_800u64, "sub": "1",
        "preferred_username": "PLANT\\alice"
    }))
    .expect("claims");
    let tokens = TokenSet {
        access_token: Secret::new("at-secret-1"),
        refresh_token: Some(Secret::new("rt-secret-1")),
        id_token: None,
        expires_at: Some(expires_at),
        lifetime: Some(300),
        session_ends_at: None,
        scopes: vec![],
    };
    UserSession::new(
        NativeTransport::default(),
        authority,
        &client,
        SignedIn { tokens, claims },
    )
}

#[tokio::test]
async fn waiters_share_an_outage_too_and_the_token_endpoint_is_asked_once() {
    let (aim, asked) = answering(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\ncontent-length: 11\r\nconnection: close\r\n\r\nmaintenance",
    )
    .await;
    let session = Arc::new(expiring_session(&authority_at(&aim, &aim)));
    let shown = format!("{session:?}");
    assert!(
        shown.contains("alice") && !shown.contains("secret"),
        "Debug names the person, never a token: {shown}"
    );
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let session = session.clone();
        calls.spawn(async move { session.renew(0).await });
    }
    while let Some(result) = calls.join_next().await {
        assert!(matches!(
            result.expect("task"),
            Err(RenewError::AuthorityOffline(_))
        ));
    }
    assert_eq!(asked.load(Ordering::SeqCst), 1, "8 waiters, one request");
    assert!(matches!(session.health(), SessionHealth::AuthorityOffline { .. }));
    assert!(matches!(
        session.renew(0).await,
        Err(RenewError::AuthorityOffline(_))
    ));
    assert_eq!(
        asked.load(Ordering::SeqCst),
        2,
        "a later call tries again: an outage keeps the refresh token"
    );
}

/// Review item 2: an authority that answers 429 with `Retry-After` is an outage whose wait is
/// honoured: the refresh token is not presented again before then (one request, however many
/// calls), and the person's screen is told how long to wait.
#[tokio::test]
async fn a_busy_authority_is_left_alone_for_as_long_as_its_retry_after_says() {
    let (aim, asked) = answering(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 120\r\ncontent-length: 21\r\nconnection: close\r\n\r\n{\"error\":\"slow_down\"}",
    )
    .await;
    let session = expiring_session(&authority_at(&aim, &aim));
    assert!(matches!(
        session.renew(0).await,
        Err(RenewError::AuthorityOffline(_))
    ));
    let left = session.retry_after().expect("the wait is kept");
    assert!((115..=120).contains(&left), "{left}");
    let api: WebApiDefinition = serde_json::from_value(serde_json::json!({
        "name": "MES", "base_address": "http://127.0.0.1:9/", "request_uri": "api",
        "authentication_mode": "User Access Token", "authority": "https://aim.test/identitymanager",
        "audience": "mes-web-api", "client_id": "mes-portal"
    }))
    .expect("api");
    for _ in 0..3 {
        match session.lookup(&api, "v3/entity").send().await {
            Err(MesError::AuthorityOffline {
                retry_after: Some(wait),
                ..
            }) => {
                assert!((115..=120).contains(&wait), "{wait}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            session.renew(0).await,
            Err(RenewError::AuthorityOffline(_))
        ));
    }
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "not asked again inside the wait it named"
    );
    assert!(matches!(session.health(), SessionHealth::AuthorityOffline { .. }));
}

/// Without `Retry-After` the next call asks again (the portal's own countdown paces it), and a
/// wait of hours is capped so that a plant screen comes back by itself.
#[tokio::test]
async fn without_retry_after_the_next_call_asks_again_and_a_long_wait_is_capped() {
    let (aim, asked) = answering(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\nretry-after: 86400\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy",
    )
    .await;
    let session = expiring_session(&authority_at(&aim, &aim));
    assert!(session.renew(0).await.is_err());
    assert!(
        session
            .retry_after()
            .is_some_and(|s| s <= RETRY_AFTER_LIMIT_SECONDS)
    );
    let (plain, plain_asked) = answering(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy",
    )
    .await;
    let session = expiring_session(&authority_at(&plain, &plain));
    assert!(session.renew(0).await.is_err());
    assert_eq!(session.retry_after(), None);
    assert!(session.renew(0).await.is_err());
    assert_eq!(plain_asked.load(Ordering::SeqCst), 2);
    assert_eq!(asked.load(Ordering::SeqCst), 1);
}

/// The audience rule holds for a token renewed after the MES's 401 as for the first: a renewed
/// access token that does not name the API's audience is not sent (the MES gets one request).
#[tokio::test]
async fn a_token_renewed_after_a_401_goes_only_to_its_audience_too() {
    use base64::Engine as _;
    let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let elsewhere = format!(
        "{}.{}.c2ln",
        b64(serde_json::json!({"alg": "RS256"})),
        b64(serde_json::json!({"aud": ["another-api"]}))
    );
    let body =
        serde_json::json!({"access_token": elsewhere, "token_type": "Bearer", "expires_in": 300}).to_string();
    let token_answer: &'static str = Box::leak(
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
            .into_boxed_str(),
    );
    let (aim, _) = answering(token_answer).await;
    let (mes, mes_asked) = answering(
        "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
    )
    .await;
    // A token that still works: the first call goes to the MES as it is.
    let session = session_expiring_at(&authority_at(&aim, &aim), now_seconds() + 3600);
    let api: WebApiDefinition = serde_json::from_value(serde_json::json!({
        "name": "MES", "base_address": format!("{mes}/"), "request_uri": "api",
        "authentication_mode": "User Access Token", "authority": "https://aim.test/identitymanager",
        "audience": "mes-web-api", "client_id": "mes-portal"
    }))
    .expect("api");
    match session.lookup(&api, "v3/entity").send().await {
        Err(MesError::NotConfigured { message }) => assert!(message.contains("mes-web-api"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        mes_asked.load(Ordering::SeqCst),
        1,
        "the renewed token never reached the MES"
    );
}

/// The native transport's body limit is a limit: a body of exactly that size is read, one byte
/// more is refused as too large; and a failure says what the system said (here: refused).
#[tokio::test]
async fn the_native_transport_reads_up_to_its_limit_and_says_why_it_failed() {
    let (ten, _) = answering(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 10\r\nconnection: close\r\n\r\n0123456789",
    )
    .await;
    let (eleven, _) = answering(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 11\r\nconnection: close\r\n\r\n0123456789A",
    )
    .await;
    let transport = NativeTransport::new(10);
    let read = transport
        .send(HttpRequest::get(format!("{ten}/a")))
        .await
        .expect("ten bytes");
    assert_eq!(read.body(), b"0123456789");
    match transport.send(HttpRequest::get(format!("{eleven}/a"))).await {
        Err(t) => assert_eq!(t.kind, TransportErrorKind::TooLarge, "{t:?}"),
        other => panic!("{other:?}"),
    }
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    match transport
        .send(HttpRequest::get(format!("http://{closed}/a")))
        .await
    {
        Err(t) => {
            assert_eq!(t.kind, TransportErrorKind::Network, "{t:?}");
            assert!(t.reason.to_lowercase().contains("refused"), "{t:?}");
        }
        other => panic!("{other:?}"),
    }
}

/// A token answer whose ID token names a key the session has never seen.
fn answer_with_unknown_key() -> &'static str {
    use base64::Engine as _;
    let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let id_token = format!(
        "{}.{}.c2ln",
        b64(serde_json::json!({"alg": "RS256", "kid": "rotated-in"})),
        b64(
            serde_json::json!({"iss": "https://aim.test/identitymanager", "aud": &ClientId::new("mes-portal"), "exp": 4_102_444_800u64, "sub": "1"})
        )
    );
    let body = serde_json::json!({"access_token": "at-2", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}).to_string();
    Box::leak(
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
            .into_boxed_str(),
    )
}

#[tokio::test]
async fn keys_that_cannot_be_fetched_for_a_refreshed_id_token_are_an_outage_only_when_aim_is_away() {
    let (aim, _) = answering(answer_with_unknown_key()).await;
    // The key set's address does not answer at all: an outage, the session goes on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("addr"))
    };
    let session = expiring_session(&authority_at(&aim, &closed));
    assert!(
        matches!(session.renew(0).await, Err(RenewError::AuthorityOffline(_))),
        "{:?}",
        session.health()
    );
    // The key set's address answers with more than any key set is: not an outage, the
    // renewed sign-in cannot be checked and is refused.
    let huge: &'static str = Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {n}\r\nconnection: close\r\n\r\n{}",
            "x".repeat(9 << 20),
            n = 9 << 20
        )
        .into_boxed_str(),
    );
    let (keys, _) = answering(huge).await;
    let session = expiring_session(&authority_at(&aim, &keys));
    assert!(
        matches!(
            session.renew(0).await,
            Err(RenewError::IdToken(IdTokenError::Verifier(_)))
        ),
        "{:?}",
        session.health()
    );
}

/// Forwards GETs to `upstream` (AIM's key set), but drops the first `blips` connections without
/// an answer: the key set is away for a moment, as after AIM rolls its key behind a busy proxy.
async fn flaky_keys(upstream: String, blips: usize) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut seen = 0;
        while let Ok((mut socket, _)) = listener.accept().await {
            seen += 1;
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            if seen <= blips {
                continue;
            }
            let body = reqwest::get(&upstream)
                .await
                .expect("AIM's keys")
                .text()
                .await
                .expect("keys");
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    url
}

/// Review E2: AIM rotates refresh tokens and treats a spent one presented again as theft. When
/// the refreshed ID token's new key cannot be fetched for a moment, the renewal is an outage —
/// and the rotated refresh token is already kept, so the next renewal presents it, not the
/// spent one: no false theft alarm, the session goes on.
#[tokio::test]
async fn a_rotated_refresh_token_is_kept_when_the_new_id_token_cannot_be_checked_yet() {
    let stack = stack("renew-rotation-blip").await;
    let config = config(&stack);
    let (mut done, mut authority) = signed_in(&config).await;
    done.tokens.expires_at = Some(now_seconds());
    let first = done.tokens.clone();
    authority.metadata.jwks_uri = flaky_keys(authority.metadata.jwks_uri.clone(), 1).await;
    let session = session_of(&authority, &config, done);
    stack.aim.rotate_key().expect("rotate");

    assert!(
        matches!(session.renew(0).await, Err(RenewError::AuthorityOffline(_))),
        "keys away for a moment: an outage, {:?}",
        session.health()
    );
    let held = session.tokens();
    assert_ne!(
        held.refresh_token, first.refresh_token,
        "the rotated refresh token is kept"
    );
    assert_eq!(
        held.access_token, first.access_token,
        "the unverified access token is held back"
    );

    let (_, generation) = session
        .renew(0)
        .await
        .expect("renewed with the rotated refresh token");
    assert_eq!(generation, 1);
    assert_eq!(
        stack.aim.counters.refresh_reuse.load(Ordering::Relaxed),
        0,
        "no reuse at AIM"
    );
    assert_ne!(session.tokens().access_token, first.access_token);
    stack.stop().await;
}

/// An answer whose ID token fails verification ends the session, and the refresh token that came
/// with it is revoked at AIM rather than left valid behind an ended session.
#[tokio::test]
async fn a_refreshed_id_token_that_fails_verification_revokes_the_new_refresh_token() {
    let stack = stack_with("renew-revoke-rotated", |o| o.hostile = true).await;
    let config = config(&stack);
    let (mut done, authority) = signed_in(&config).await;
    done.tokens.expires_at = Some(now_seconds());
    let session = session_of(&authority, &config, done);
    stack
        .aim
        .set_tamper(Some(devstack::hostile::Tamper::BadSignature))
        .expect("hostile");
    assert_eq!(
        session.renew(0).await.err(),
        Some(RenewError::IdToken(IdTokenError::BadSignature))
    );
    stack.aim.set_tamper(None).expect("hostile");
    assert_eq!(
        stack.aim.counters.revocations.load(Ordering::Relaxed),
        1,
        "revoked at AIM"
    );
    assert!(matches!(session.health(), SessionHealth::Ended(_)));
    stack.stop().await;
}

/// Review E5: the person's token goes only to a Web API its audience names — a definition with
/// another audience gets nothing, not even a request — and a background job's token source
/// serves only the definition it was made for.
#[tokio::test]
async fn tokens_go_only_to_the_web_api_they_were_issued_for() {
    let stack = stack("tokens-where-they-belong").await;
    let config = config(&stack);
    let (done, authority) = signed_in(&config).await;
    let session = session_of(&authority, &config, done);
    let mut other = config.web_api("MES").expect("api").clone();
    other.name = "Historian".into();
    other.audience = "historian-api".into();
    let asked = stack.mes.requests.load(Ordering::Relaxed);
    match session.lookup(&other, "v3/entity").send().await {
        Err(MesError::NotConfigured { message }) => assert!(message.contains("Historian"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        stack.mes.requests.load(Ordering::Relaxed),
        asked,
        "nothing was sent"
    );
    let own = config.web_api("MES").expect("api").clone();
    assert!(session.lookup(&own, "v3/entity").send().await.is_ok());

    let api = service_api(&stack);
    let source = ServiceTokenSource::for_web_api(NativeTransport::default(), &api, ClientAuth::Basic)
        .await
        .expect("source");
    let mut elsewhere = api.clone();
    elsewhere.name = "Other MES".into();
    elsewhere.base_address = "http://127.0.0.1:9/mesmw/".into();
    let issued = stack.aim.counters.client_credentials.load(Ordering::Relaxed);
    assert!(matches!(
        source.lookup(&elsewhere, "v3/entity").send().await,
        Err(MesError::NotConfigured { .. })
    ));
    assert_eq!(
        stack.aim.counters.client_credentials.load(Ordering::Relaxed),
        issued,
        "no token was even fetched for it"
    );
    assert!(source.lookup(&api, "v3/entity").send().await.is_ok());
    stack.stop().await;
}

/// OpenID Connect Core §12.2 (review D3): a refresh may bring no ID token; the sign-in's is kept
/// — the sign-out's `id_token_hint` needs it — while the access and refresh tokens move on.
#[tokio::test]
async fn a_refresh_without_an_id_token_keeps_the_sign_ins_for_the_sign_out() {
    let body = r#"{"access_token":"at-2","token_type":"Bearer","expires_in":300,"refresh_token":"rt-2"}"#;
    let answer: &'static str = Box::leak(
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
            .into_boxed_str(),
    );
    let (aim, _) = answering(answer).await;
    let authority = authority_at(&aim, &aim);
    let expiring = expiring_session(&authority);
    let mut tokens = expiring.tokens();
    tokens.id_token = Some(Secret::new("the-sign-ins-id-token"));
    let session = UserSession::new(
        NativeTransport::default(),
        &authority,
        &expiring_client(),
        SignedIn {
            tokens,
            claims: expiring.claims().clone(),
        },
    );
    session.renew(0).await.expect("renewed");
    let now = session.tokens();
    assert_eq!(now.access_token.expose(), "at-2");
    assert_eq!(now.refresh_token.as_ref().map(Secret::expose), Some("rt-2"));
    assert_eq!(
        now.id_token.as_ref().map(Secret::expose),
        Some("the-sign-ins-id-token"),
        "kept for the sign-out's hint"
    );
}
