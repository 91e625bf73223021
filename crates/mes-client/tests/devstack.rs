//! mes-client against the devstack stand-ins over real HTTP on loopback: a person's sign-in by
//! form post, the lookups, and every failure class the portal must tell apart.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/sign_in.rs"]
mod sign_in;

use devstack::{Stack, StackOptions};
use mes_client::*;

struct Fixture {
    stack: Stack,
    config: PortalConfig,
    transport: NativeTransport,
    http: reqwest::Client,
}

async fn fixture(name: &str) -> Fixture {
    fixture_with(StackOptions::for_tests(name)).await
}

async fn fixture_with(options: StackOptions) -> Fixture {
    let stack = Stack::start(options).await.expect("stack");

    let text = stack.portal_config().to_string();
    let (config, report) =
        PortalConfig::from_json(&text, Runtime::Browser).expect("devstack's config is valid");
    assert!(report.warnings.is_empty(), "{report:?}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(false)
        .build()
        .expect("client");
    Fixture {
        stack,
        config,
        transport: NativeTransport::default(),
        http,
    }
}

/// Signs in at AIM's form as a browser would; returns the redirect's query string.
async fn log_in(_f: &Fixture, authorize_url: &str, user: &str, password: &str) -> String {
    sign_in::log_in(authorize_url, user, password)
        .await
        .expect("login")
}

async fn sign_in(f: &Fixture, user: &str, password: &str) -> (SignedIn, Authority) {
    sign_in::sign_in(&f.config, user, password)
        .await
        .expect("sign-in")
}

async fn entities(f: &Fixture, token: &Secret, identity: &str) -> Result<Rows, MesError> {
    let api = f.config.web_api("MES").expect("api");
    Lookup::new(api, "v3/entity", token)
        .identity(identity)
        .send(&f.transport)
        .await
}

#[tokio::test]
async fn an_mes_user_signs_in_and_reads_entities_in_server_column_order() {
    let f = fixture("signin").await;
    let (signed_in, _) = sign_in(&f, "PLANT\\alice", "alice-demo").await;
    assert_eq!(
        signed_in.claims.preferred_username.as_deref(),
        Some("PLANT\\alice")
    );
    assert!(
        signed_in.tokens.refresh_token.is_some(),
        "offline_access gives a refresh token"
    );
    let rows = entities(&f, &signed_in.tokens.access_token, "PLANT\\alice")
        .await
        .expect("rows");
    assert_eq!(
        rows.column_names().take(4).collect::<Vec<_>>(),
        ["ent_id", "ent_name", "description", "parent_ent_id"]
    );
    let names: Vec<_> = (0..rows.len())
        .map(|r| rows.columns()[1].text(r).to_owned())
        .collect();
    assert!(names.contains(&"Packaging Line 1".to_owned()), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("Quality Lab")),
        "restricted entities are hidden from alice"
    );
    assert!(
        rows.column_index("last_edit_at_utc").is_some() && rows.column_index("last_edit_at_local").is_some()
    );
    // A single entity alice may not see is a privilege denial, not "not found".
    let api = f.config.web_api("MES").expect("api");
    let quality_lab_id = f
        .stack
        .mes
        .with_db(|db| {
            db.query_row(
                "SELECT ent_id FROM entity WHERE ent_name = 'Quality Lab'",
                [],
                |r| r.get::<_, i64>(0),
            )
        })
        .expect("id");
    let denied = Lookup::new(api, "v3/entity/key", &signed_in.tokens.access_token)
        .param("ent_id", quality_lab_id.to_string())
        .identity("PLANT\\alice")
        .send(&f.transport)
        .await;
    assert!(
        matches!(&denied, Err(MesError::Denied { message, .. }) if message.contains("privileges")),
        "{denied:?}"
    );
    f.stack.stop().await;
}

#[tokio::test]
async fn an_aim_account_that_is_not_an_mes_user_is_denied_with_its_identity() {
    let f = fixture("denied").await;
    for (user, password) in [("PLANT\\victor", "victor-demo"), ("PLANT\\ivan", "ivan-demo")] {
        let (signed_in, _) = sign_in(&f, user, password).await;
        let result = entities(&f, &signed_in.tokens.access_token, user).await;
        assert_eq!(
            result,
            Err(MesError::Denied {
                message: "You do not have permission to make the request".into(),
                identity: Some(user.into())
            })
        );
    }
    f.stack.stop().await;
}

#[tokio::test]
async fn missing_malformed_and_foreign_tokens_are_401() {
    let f = fixture("401").await;
    let api = f.config.web_api("MES").expect("api");
    let url = lookup_url::<&str, &str>(api, "v3/entity", &[]);
    let none = f.http.get(&url).send().await.expect("get");
    assert_eq!(none.status(), 401);
    let body: serde_json::Value = none.json().await.expect("json");
    assert_eq!(body["Message"], "Authorization has been denied for this request.");
    for token in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."] {
        assert_eq!(
            entities(&f, &Secret::new(token), "x").await,
            Err(MesError::SessionExpired),
            "{token}"
        );
    }
    // A token signed by another key with the right claims: refused.
    let other = devstack::keys::SigningKey::from_private(
        &rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("key"),
    )
    .expect("key");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(other.kid.clone());
    header.typ = Some("at+jwt".into());
    let claims = serde_json::json!({"iss": f.stack.issuer, "aud": "mes-web-api", "exp": now_seconds() + 600, "preferred_username": "PLANT\\alice"});
    let forged = jsonwebtoken::encode(&header, &claims, &other.encoding).expect("sign");
    assert_eq!(
        entities(&f, &Secret::new(forged), "x").await,
        Err(MesError::SessionExpired)
    );
    f.stack.stop().await;
}

#[tokio::test]
async fn wrong_pkce_verifier_and_code_replay_are_refused() {
    let f = fixture("pkce").await;
    let mut authority = Authority::load(&f.transport, &f.config.client.authority)
        .await
        .expect("discovery");
    let redirect = SignInClient::new(&f.config.client)
        .authorize(&authority.metadata)
        .return_to("/")
        .url()
        .expect("redirect");
    let query = log_in(&f, &redirect.url, "PLANT\\alice", "alice-demo").await;
    let params = CallbackParams::from_query(&query);
    let client = SignInClient::new(&f.config.client);
    let mut wrong = redirect.pending.clone();
    wrong.verifier = PkceVerifier::new("x".repeat(43));
    let err = client
        .exchange_code(&mut authority, &params, Some(&wrong))
        .request_async(&f.transport)
        .await
        .expect_err("wrong verifier");
    assert!(
        matches!(&err, SignInFailure::Token(TokenError::Refused { error, .. }) if error == "invalid_grant"),
        "{err:?}"
    );
    // The failed attempt spent the code: the right verifier cannot use it now either.
    let err = client
        .exchange_code(&mut authority, &params, Some(&redirect.pending))
        .request_async(&f.transport)
        .await
        .expect_err("replay");
    assert!(
        matches!(&err, SignInFailure::Token(TokenError::Refused { error, .. }) if error == "invalid_grant"),
        "{err:?}"
    );
    f.stack.stop().await;
}

/// Every tampered answer AIM can give to a sign-in is refused by the code exchange, each for its
/// own reason: the callback's checks (state, RFC 9207 `iss`, `error=`) and the ID token's
/// (signature, algorithm, audience, nonce, times, key). The e2e suite shows each to a person;
/// this holds `SignInClient::exchange_code` to it natively.
#[tokio::test]
async fn every_tampered_sign_in_answer_is_refused_by_the_code_exchange() {
    use devstack::hostile::Tamper;
    let mut options = StackOptions::for_tests("tampered-sign-in");
    options.hostile = true;
    let f = fixture_with(options).await;
    let client = SignInClient::new(&f.config.client);
    let refused = |failure: &SignInFailure, tamper: Tamper| match tamper {
        Tamper::DropState | Tamper::WrongState => {
            matches!(failure, SignInFailure::Callback(SignInError::StateMismatch))
        }
        Tamper::DropIss => matches!(failure, SignInFailure::Callback(SignInError::IssuerMissing)),
        Tamper::WrongIss => matches!(
            failure,
            SignInFailure::Callback(SignInError::IssuerMismatch { .. })
        ),
        Tamper::AccessDenied => {
            matches!(failure, SignInFailure::Callback(SignInError::Refused { error, .. }) if error == "access_denied")
        }
        Tamper::BadSignature => matches!(failure, SignInFailure::IdToken(IdTokenError::BadSignature)),
        Tamper::AlgNone => matches!(
            failure,
            SignInFailure::IdToken(IdTokenError::UnsupportedAlgorithm(_))
        ),
        Tamper::WrongAudience => matches!(
            failure,
            SignInFailure::IdToken(IdTokenError::AudienceMismatch { .. })
        ),
        Tamper::WrongNonce => matches!(failure, SignInFailure::IdToken(IdTokenError::NonceMismatch)),
        Tamper::Expired => matches!(failure, SignInFailure::IdToken(IdTokenError::Expired)),
        Tamper::IssuedInFuture => matches!(failure, SignInFailure::IdToken(IdTokenError::NotYetValid)),
        Tamper::UnknownKid => matches!(failure, SignInFailure::IdToken(IdTokenError::UnknownKey(_))),
        // Discovery itself is refused before any sign-in starts (`discovery.rs`' tests).
        Tamper::WrongIssuerInDiscovery => true,
    };
    for &tamper in devstack::hostile::TAMPERS {
        if tamper == Tamper::WrongIssuerInDiscovery {
            continue;
        }
        let mut authority = Authority::load(&f.transport, &f.config.client.authority)
            .await
            .expect("discovery");
        f.stack.aim.set_tamper(Some(tamper)).expect("hostile");
        let redirect = client.authorize(&authority.metadata).url().expect("redirect");
        let query = log_in(&f, &redirect.url, "PLANT\\alice", "alice-demo").await;
        let outcome = client
            .exchange_code(
                &mut authority,
                &CallbackParams::from_query(&query),
                Some(&redirect.pending),
            )
            .request_async(&f.transport)
            .await;
        f.stack.aim.set_tamper(None).expect("hostile");
        match outcome {
            Err(failure) => assert!(
                refused(&failure, tamper),
                "{tamper:?} was refused for another reason: {failure:?}"
            ),
            Ok(_) => panic!("{tamper:?}: a tampered sign-in was accepted"),
        }
    }
    f.stack.stop().await;
}

#[tokio::test]
async fn authority_offline_is_told_apart_from_other_server_errors() {
    let mut options = StackOptions::for_tests("offline");
    options.jwks_ttl = std::time::Duration::ZERO;
    // MES asks AIM for its keys on every call, so the outage shows on the next call.
    let mut f = fixture_with(options).await;
    let (signed_in, _) = sign_in(&f, "PLANT\\alice", "alice-demo").await;
    assert!(
        entities(&f, &signed_in.tokens.access_token, "PLANT\\alice")
            .await
            .is_ok()
    );
    f.stack.stop_aim().await;
    let offline = entities(&f, &signed_in.tokens.access_token, "PLANT\\alice").await;
    assert!(
        matches!(&offline, Err(MesError::AuthorityOffline { message, .. }) if message.contains("unreachable")),
        "{offline:?}"
    );
    f.stack.start_aim().await.expect("restart");
    assert!(
        entities(&f, &signed_in.tokens.access_token, "PLANT\\alice")
            .await
            .is_ok(),
        "recovers when AIM is back"
    );
    f.stack.stop_mes().await;
    let down = entities(&f, &signed_in.tokens.access_token, "PLANT\\alice").await;
    assert!(
        matches!(&down, Err(MesError::Unreachable { url, .. }) if url.ends_with("/mesmw/api/v3/entity")),
        "{down:?}"
    );
    f.stack.stop().await;
}

/// Counts the row totals each time the decoder hands over rows.
#[derive(Default)]
struct Watch {
    rows: Rows,
    seen: Vec<usize>,
}

impl RowsTarget for Watch {
    fn update(&mut self, decode: &mut dyn FnMut(&mut Rows)) -> bool {
        decode(&mut self.rows);
        self.seen.push(self.rows.len());
        true
    }
}

/// A large answer streams from the MES stand-in (chunked, no length, first piece long before
/// the last) and the client decodes rows from the first piece on, into the same rows the whole
/// answer gives.
#[tokio::test]
async fn large_answers_stream_and_decode_piece_by_piece() {
    let mut options = StackOptions::for_tests("streaming");
    options.seed_rows = 20_000;
    let f = fixture_with(options).await;
    let (signed_in, _) = sign_in(&f, "PLANT\\alice", "alice-demo").await;
    let token = signed_in.tokens.access_token.clone();
    let api = f.config.web_api("MES").expect("api");
    let url = lookup_url(api, "v3/item", &[] as &[(&str, &str)]);

    let response = f
        .http
        .get(&url)
        .bearer_auth(token.expose())
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("content-length").is_none(),
        "a streamed answer has no length: {:?}",
        response.headers()
    );
    let mut response = response;
    let mut pieces = 0;
    while let Some(piece) = response.chunk().await.expect("piece") {
        assert!(
            pieces > 0 || piece.starts_with(b"[{"),
            "the first piece starts the array"
        );
        pieces += 1;
    }
    assert!(
        pieces > 10,
        "20,000 rows arrive in pieces, not all at once ({pieces})"
    );

    let mut watch = Watch::default();
    Lookup::new(api, "v3/item", &token)
        .send_into(&f.transport, &mut watch)
        .await
        .expect("rows");
    let whole = Lookup::new(api, "v3/item", &token)
        .send(&f.transport)
        .await
        .expect("rows");
    assert_eq!(watch.rows, whole);
    let genealogy: std::collections::BTreeSet<&str> = devstack::seed::GENEALOGY
        .iter()
        .flat_map(|g| [g.1, g.3])
        .collect();
    assert_eq!(
        whole.len(),
        20_000 + genealogy.len(),
        "the generated items and the genealogy's"
    );
    assert!(
        watch.seen.len() > 10 && watch.seen[0] < 1_000,
        "rows came piece by piece: {:?}",
        &watch.seen[..3]
    );
    assert!(watch.seen.windows(2).all(|w| w[0] <= w[1]), "rows only grow");
}

/// A target that stops wanting rows (the grid was closed) stops the reading; an answer that is
/// not rows is an unexpected answer whether it streams or not.
#[tokio::test]
async fn a_target_that_lets_go_stops_the_reading() {
    struct Enough(Rows);
    impl RowsTarget for Enough {
        fn update(&mut self, decode: &mut dyn FnMut(&mut Rows)) -> bool {
            decode(&mut self.0);
            self.0.is_empty()
        }
    }
    let mut options = StackOptions::for_tests("streaming-stop");
    options.seed_rows = 20_000;
    let f = fixture_with(options).await;
    let (signed_in, _) = sign_in(&f, "PLANT\\alice", "alice-demo").await;
    let api = f.config.web_api("MES").expect("api");
    let mut enough = Enough(Rows::default());
    let outcome = Lookup::new(api, "v3/item", &signed_in.tokens.access_token)
        .send_into(&f.transport, &mut enough)
        .await;
    assert!(
        !enough.0.is_empty() && enough.0.len() < 20_000,
        "reading stopped early at {} rows",
        enough.0.len()
    );
    assert!(
        matches!(&outcome, Err(MesError::UnexpectedResponse { reason, .. }) if reason.contains("ends before")),
        "an answer read only in part is never taken for the whole: {outcome:?}"
    );
}

/// A lookup's record (config.json's `record`, a `/key` endpoint): one object read as one row
/// with the row's key as the parameters; a key that names nothing is the MES's 404, and a
/// `/key` answering several records is an unexpected answer that says so, not a first row
/// passed off as the record.
#[tokio::test]
async fn a_record_is_read_whole_by_its_key_and_several_records_are_refused() {
    let mut options = StackOptions::for_tests("record");
    options.hostile = true;
    let f = fixture_with(options).await;
    let (signed_in, _) = sign_in(&f, "PLANT\\alice", "alice-demo").await;
    let token = signed_in.tokens.access_token.clone();
    let api = f.config.web_api("MES").expect("api");
    let orders = f
        .config
        .lookups
        .iter()
        .find(|l| l.name == "Work orders")
        .expect("lookup");
    let listed = Lookup::new(api, &orders.endpoint, &token)
        .max_rows(3)
        .send(&f.transport)
        .await
        .expect("list");
    let wo = listed.column("wo_id").expect("wo_id").text(1).to_owned();
    let key = orders
        .record_query(|column| Some(listed.column(column)?.text(1)))
        .expect("the row has its key");
    assert_eq!(key, [("wo_id".to_owned(), wo.clone())]);
    let record = orders.record.as_ref().expect("record endpoint");
    let read = Lookup::new(api, &record.endpoint, &token)
        .params(key)
        .max_rows(1_000)
        .record()
        .send(&f.transport)
        .await
        .expect("the record");
    assert_eq!(read.len(), 1);
    assert_eq!(read.column("wo_id").expect("wo_id").text(0), wo);
    assert_eq!(
        read.column_names().count(),
        listed.column_names().count(),
        "every column"
    );

    let none = Lookup::new(api, &record.endpoint, &token)
        .param("wo_id", "WO-THAT-IS-NOT")
        .record()
        .send(&f.transport)
        .await;
    assert!(matches!(none, Err(MesError::NotFound { .. })), "{none:?}");
    // A record read of a list answer (an array of two) is refused, naming why.
    let several = Lookup::new(api, "v3/hostile/key-answers-array", &token)
        .param("lot_no", "L-0000")
        .record()
        .send(&f.transport)
        .await;
    match several {
        Err(MesError::UnexpectedResponse { reason, .. }) => {
            assert_eq!(reason, "expected one record: 2 records where the key names one")
        }
        other => panic!("{other:?}"),
    }
    // The same answer as a list is two rows.
    let as_list = Lookup::new(api, "v3/hostile/key-answers-array", &token)
        .send(&f.transport)
        .await;
    assert_eq!(as_list.map(|r| r.len()), Ok(2));
}

/// Every hostile MES answer (devstack's corpus, the one the e2e suite shows to a person) is
/// classified natively as the portal must show it: a grid, no rows, or the one failure state
/// the case names — a redirect to a proxy's login page is an unexpected answer (never followed,
/// never "unreachable"), an MES 500 is judged by its own message.
#[tokio::test]
async fn every_hostile_mes_answer_is_classified_as_the_portal_must_show_it() {
    use devstack::hostile::{Expect, MES_CASES};
    let mut options = StackOptions::for_tests("hostile-mes");
    options.hostile = true;
    let f = fixture_with(options).await;
    let (signed_in, _) = sign_in(&f, "PLANT\\alice", "alice-demo").await;
    let token = signed_in.tokens.access_token.clone();
    let api = f.config.web_api("MES").expect("api");
    // The portal's limit for lookups on a device with 0.5 GiB (64 MiB): the corpus has a 10 MB
    // cell it must show, and a 70 MB answer past the limit.
    let transport = NativeTransport::new(64 * 1024 * 1024);
    for case in MES_CASES {
        let said = Lookup::new(api, &format!("v3/hostile/{}", case.name), &token)
            .identity("PLANT\\alice")
            .send(&transport)
            .await;
        let shown = match &said {
            Ok(rows) if rows.is_empty() => "empty",
            Ok(_) => "grid",
            Err(MesError::UnexpectedResponse { .. }) => "unexpected",
            Err(MesError::ServerError { .. }) => "server-error",
            Err(MesError::AuthorityOffline { .. }) => "authority-offline",
            Err(MesError::SessionExpired) => "session-expired",
            Err(MesError::Unreachable { .. }) => "unreachable",
            Err(MesError::Denied { .. }) => "denied",
            Err(MesError::NotFound { .. }) => "not-found",
            Err(MesError::NotConfigured { .. }) => "not-configured",
        };
        let expected = match case.expect {
            Expect::Grid => "grid",
            Expect::Empty => "empty",
            Expect::State(state) => state,
        };
        assert_eq!(shown, expected, "{}: {said:?}", case.name);
        // An unexpected answer says which way it was wrong.
        let why = match case.name {
            "empty-body" => "an MES lookup answers [] when nothing matches",
            "html-200" => "expected JSON",
            "truncated-json" | "object-not-array" => "expected an array of rows",
            _ => continue,
        };
        match &said {
            Err(MesError::UnexpectedResponse { reason, .. }) => {
                assert!(reason.contains(why), "{}: {reason}", case.name)
            }
            other => panic!("{}: {other:?}", case.name),
        }
    }
    let unexplained = Lookup::new(api, "v3/hostile/html-500", &token)
        .send(&transport)
        .await;
    match unexplained {
        Err(MesError::ServerError { status: 500, message }) => {
            assert!(!message.is_empty(), "an HTML 500 shows its first bytes")
        }
        other => panic!("{other:?}"),
    }
    match Lookup::new(api, "v3/hostile/redirect-to-login-page", &token)
        .send(&transport)
        .await
    {
        Err(MesError::UnexpectedResponse {
            status: 302, reason, ..
        }) => {
            assert!(reason.contains("not followed"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        f.stack
            .mes
            .login_page_requests
            .load(std::sync::atomic::Ordering::Relaxed),
        0,
        "the redirect was not followed"
    );
    f.stack.stop().await;
}
