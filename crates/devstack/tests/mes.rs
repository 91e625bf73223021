//! The MES Web API stand-in over real HTTP: token checks, MES users, privileges, the Default
//! Background User and its cache, V3 parameters and headers, error bodies.

mod common;
use common::*;
use devstack::{Stack, StackOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

struct Mes {
    stack: Stack,
    data_dir: std::path::PathBuf,
}

async fn mes(name: &str, tune: impl FnOnce(&mut StackOptions)) -> Mes {
    let mut options = StackOptions::for_tests(name);
    tune(&mut options);
    let data_dir = options.data_dir.clone();
    Mes {
        stack: Stack::start(options).await.expect("stack"),
        data_dir,
    }
}

impl Mes {
    fn user_token(&self, user: &str) -> String {
        self.token_with(json!({ "preferred_username": user, "sub": "s-1", "scope": "openid mes-web-api" }))
    }
    fn service_token(&self) -> String {
        self.token_with(json!({ "client_id": "scheduler", "scope": "system" }))
    }
    fn token_with(&self, extra: Value) -> String {
        let mut claims =
            json!({ "iss": self.stack.issuer, "aud": "mes-web-api", "iat": now(), "exp": now() + 600 });
        if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                c.insert(k.clone(), v.clone());
            }
        }
        mint(&self.data_dir, "at+jwt", claims)
    }
    async fn get(
        &self,
        endpoint: &str,
        token: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut request = http()
            .get(format!("{}api/{endpoint}", self.stack.mes_base))
            .query(query)
            .bearer_auth(token);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("get");
        let status = response.status();
        let body = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{endpoint}: not JSON: {body}")),
        )
    }
}

#[tokio::test]
async fn bad_tokens_are_401_with_the_aspnet_message() {
    let m = mes("mes-401", |_| {}).await;
    let good = m.token_with(json!({ "preferred_username": "PLANT\\alice" }));
    assert_eq!(m.get("v3/entity", &good, &[], &[]).await.0, StatusCode::OK);
    let none_alg = {
        use base64::Engine as _;
        let e = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            e(json!({"alg": "none", "typ": "at+jwt"})),
            e(
                json!({"iss": m.stack.issuer, "aud": "mes-web-api", "exp": now() + 600, "preferred_username": "PLANT\\alice"})
            )
        )
    };
    let cases = [
        ("alg none", none_alg),
        ("wrong audience", m.token_with(json!({ "preferred_username": "PLANT\\alice", "aud": "another-api" }))),
        ("wrong issuer", m.token_with(json!({ "preferred_username": "PLANT\\alice", "iss": "https://evil.example/identitymanager" }))),
        ("expired", m.token_with(json!({ "preferred_username": "PLANT\\alice", "exp": now() - 120 }))),
        ("not yet valid", m.token_with(json!({ "preferred_username": "PLANT\\alice", "nbf": now() + 600 }))),
        (
            "ID token, not access token",
            mint(
                &m.data_dir,
                "JWT",
                json!({ "iss": m.stack.issuer, "aud": "mes-web-api", "exp": now() + 600, "preferred_username": "PLANT\\alice" }),
            ),
        ),
        ("malformed", "not.a.jwt".to_owned()),
        ("oversize", "a".repeat(20_000)),
        ("tampered", format!("{}x", &good[..good.len() - 1])),
    ];
    for (what, token) in cases {
        let (status, body) = m.get("v3/entity", &token, &[], &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(
            body["Message"], "Authorization has been denied for this request.",
            "{what}"
        );
    }
    let response = http()
        .get(format!("{}api/v3/entity", m.stack.mes_base))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "no token");
    m.stack.stop().await;
}

#[tokio::test]
async fn mes_users_privileges_and_restricted_entities() {
    let m = mes("mes-users", |_| {}).await;
    for user in ["PLANT\\victor", "PLANT\\ivan"] {
        let (status, body) = m.get("v3/entity", &m.user_token(user), &[], &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
        assert_eq!(body["Message"], "You do not have permission to make the request");
    }
    // MES user names are matched without regard to case, as Windows accounts are.
    assert_eq!(
        m.get("v3/entity", &m.user_token("plant\\ALICE"), &[], &[])
            .await
            .0,
        StatusCode::OK
    );
    let lab = m
        .stack
        .mes
        .with_db(|db| {
            db.query_row(
                "SELECT ent_id FROM entity WHERE ent_name = 'Quality Lab'",
                [],
                |r| r.get::<_, i64>(0),
            )
        })
        .expect("id")
        .to_string();
    let (status, body) = m
        .get(
            "v3/entity/key",
            &m.user_token("PLANT\\alice"),
            &[("ent_id", &lab)],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["Message"],
        "You do not have the appropriate privileges to access this entity"
    );
    let (status, body) = m
        .get(
            "v3/entity/key",
            &m.user_token("PLANT\\quinn"),
            &[("ent_id", &lab)],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ent_name"], "Quality Lab", "a key answers the record itself");
    let (_, all) = m.get("v3/entity", &m.user_token("PLANT\\quinn"), &[], &[]).await;
    let (_, alice) = m.get("v3/entity", &m.user_token("PLANT\\alice"), &[], &[]).await;
    assert!(
        all.as_array().expect("rows").len() > alice.as_array().expect("rows").len(),
        "restricted entities only for quinn"
    );
    m.stack.stop().await;
}

/// Review E12: a valid token that names no user and is not a service token (no `system`) runs
/// as nobody — not as the Default Background User.
#[tokio::test]
async fn a_token_naming_no_user_that_is_no_service_token_is_refused() {
    let m = mes("mes-nobody", |_| {}).await;
    let nobody = m.token_with(json!({ "scope": "openid mes-web-api" }));
    assert_eq!(
        m.get("v3/entity", &nobody, &[], &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        m.get("v3/entity", &m.service_token(), &[], &[]).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn service_tokens_run_as_the_default_background_user_with_its_cache() {
    let m = mes("mes-background", |o| {
        o.background_user_ttl = Duration::from_millis(1500)
    })
    .await;
    let token = m.service_token();
    assert_eq!(m.get("v3/entity", &token, &[], &[]).await.0, StatusCode::OK);
    let (status, body) = m.get("v3/user", &token, &[], &[]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the background user may not list users"
    );
    assert!(
        body["Message"]
            .as_str()
            .is_some_and(|t| t.contains("Default Background User")),
        "{body}"
    );
    // Point System_Attr 199 at an inactive user: the running middleware keeps its cached answer...
    m.stack
        .mes
        .with_db(|db| {
            db.execute(
                "UPDATE system_attr SET attr_value = 'PLANT\\ivan' WHERE attr_id = 199",
                [],
            )
        })
        .expect("update");
    assert_eq!(
        m.get("v3/entity", &token, &[], &[]).await.0,
        StatusCode::OK,
        "cached"
    );
    // ...until the cache expires.
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let (status, body) = m.get("v3/entity", &token, &[], &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["Message"], "You do not have permission to make the request");
    m.stack.stop().await;
}

#[tokio::test]
async fn max_rows_tz_id_and_datetime_columns() {
    let m = mes("mes-params", |_| {}).await;
    let token = m.user_token("PLANT\\alice");
    let (_, rows) = m.get("v3/item", &token, &[], &[("max_rows", "7")]).await;
    assert_eq!(rows.as_array().expect("rows").len(), 7);
    let (_, rows) = m.get("v3/item", &token, &[("max_rows", "3")], &[]).await;
    assert_eq!(rows.as_array().expect("rows").len(), 3, "as a parameter too");
    let (_, utc) = m.get("v3/item", &token, &[], &[("max_rows", "1")]).await;
    let (_, berlin) = m
        .get("v3/item", &token, &[], &[("max_rows", "1"), ("tz_id", "+02:00")])
        .await;
    let row = &utc[0];
    let keys: Vec<&str> = row
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        keys.contains(&"last_edit_at_utc")
            && keys.contains(&"last_edit_at_local")
            && keys.contains(&"last_edit_at")
    );
    let utc_text = row["last_edit_at_utc"].as_str().expect("utc");
    assert!(utc_text.ends_with('Z'));
    assert_eq!(
        row["last_edit_at_local"]
            .as_str()
            .map(|l| format!("{l}Z"))
            .as_deref(),
        Some(utc_text),
        "UTC without tz_id"
    );
    assert_ne!(berlin[0]["last_edit_at_local"], row["last_edit_at_local"]);
    assert_eq!(berlin[0]["last_edit_at_utc"], row["last_edit_at_utc"]);
    let (status, body) = m.get("v3/item", &token, &[], &[("tz_id", "Mars/Olympus")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["Message"].as_str().is_some_and(|t| t.contains("time zone")));
    let (status, _) = m.get("v3/item", &token, &[], &[("max_rows", "lots")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    m.stack.stop().await;
}

#[tokio::test]
async fn endpoints_parameters_and_error_bodies() {
    let m = mes("mes-endpoints", |_| {}).await;
    let token = m.user_token("PLANT\\alice");
    let (status, rows) = m
        .get("V3/Entity/Name", &token, &[("ent_name", "Packaging Line 1")], &[])
        .await;
    assert_eq!(status, StatusCode::OK, "endpoint names are case-insensitive");
    assert_eq!(rows.as_array().map(Vec::len), Some(1));
    let (_, empty) = m
        .get("v3/entity/name", &token, &[("ent_name", "No such line")], &[])
        .await;
    assert_eq!(empty, json!([]));
    for endpoint in [
        "v3/item",
        "v3/lot",
        "v3/user",
        "v3/job",
        "v3/wo",
        "v3/entity/filter",
    ] {
        let (status, rows) = m.get(endpoint, &token, &[], &[("max_rows", "2")]).await;
        assert_eq!(status, StatusCode::OK, "{endpoint}");
        assert_eq!(rows.as_array().map(Vec::len), Some(2), "{endpoint}");
    }
    let (_, users) = m.get("v3/user", &token, &[], &[]).await;
    let columns: Vec<&str> = users[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    // serde_json sorts keys when it parses; the order on the wire is checked by mes-client's tests.
    for c in [
        "user_id",
        "user_desc",
        "active",
        "default_dept_id",
        "email_address",
    ] {
        assert!(columns.contains(&c), "{c}");
    }
    let (status, body) = m.get("v3/nothing", &token, &[], &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["Message"]
            .as_str()
            .is_some_and(|t| t.starts_with("No HTTP resource was found"))
    );
    let (status, body) = m.get("v3/entity/key", &token, &[], &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "missing key");
    assert!(
        body["Message"]
            .as_str()
            .is_some_and(|t| t.contains("ent_id is required"))
    );
    let (status, _) = m.get("v3/entity", &token, &[("bogus", "1")], &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let long = "x".repeat(5_000);
    let (status, _) = m.get("v3/entity/name", &token, &[("ent_name", &long)], &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = m
        .get(
            "v3/entity/name",
            &token,
            &[("ent_name", "'; DROP TABLE entity; --")],
            &[],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "parameters are bound, never spliced into SQL"
    );
    let post = http()
        .post(format!("{}api/v3/entity", m.stack.mes_base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("post");
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(post.json::<Value>().await.expect("json")["Message"].is_string());
    m.stack.stop().await;
}

#[tokio::test]
async fn authority_down_is_500_saying_so_and_unknown_keys_refetch() {
    let mut m = mes("mes-500", |o| o.jwks_ttl = Duration::from_secs(3600)).await;
    let token = m.user_token("PLANT\\alice");
    assert_eq!(m.get("v3/entity", &token, &[], &[]).await.0, StatusCode::OK);
    // A token signed with a key the MES has not seen makes it ask AIM again; AIM is down: 500.
    m.stack.stop_aim().await;
    let other_key_dir =
        std::env::temp_dir().join(format!("devstack-otherkey-{}", devstack::util::random_token(6)));
    let foreign = mint(
        &other_key_dir,
        "at+jwt",
        json!({ "iss": m.stack.issuer, "aud": "mes-web-api", "exp": now() + 600, "preferred_username": "PLANT\\alice" }),
    );
    let (status, body) = m.get("v3/entity", &foreign, &[], &[]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        body["Message"]
            .as_str()
            .is_some_and(|t| t.contains("identity authority") && t.contains("unreachable")),
        "{body}"
    );
    // With AIM back, the unknown key is refetched, found missing, and refused as a bad token.
    m.stack.start_aim().await.expect("start");
    assert_eq!(
        m.get("v3/entity", &foreign, &[], &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(m.get("v3/entity", &token, &[], &[]).await.0, StatusCode::OK);
    m.stack.stop().await;
}

#[tokio::test]
async fn cors_for_the_portal_origin_only() {
    let m = mes("mes-cors", |_| {}).await;
    let preflight = |origin: String| {
        let url = format!("{}api/v3/entity", m.stack.mes_base);
        async move {
            http()
                .request(reqwest::Method::OPTIONS, url)
                .header("origin", origin)
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "authorization,max_rows")
                .send()
                .await
                .expect("preflight")
        }
    };
    let ok = preflight(m.stack.portal_origin.clone()).await;
    assert_eq!(
        ok.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some(m.stack.portal_origin.as_str())
    );
    let allowed_headers = ok
        .headers()
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(allowed_headers.contains("authorization") && allowed_headers.contains("max_rows"));
    assert!(
        preflight("https://evil.example".into())
            .await
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    m.stack.stop().await;
}

#[tokio::test]
async fn seeding_is_deterministic_and_scales() {
    let a = mes("mes-seed-a", |o| o.seed_rows = 5_000).await;
    let b = mes("mes-seed-b", |o| o.seed_rows = 5_000).await;
    let (_, rows_a) = a.get("v3/lot", &a.user_token("PLANT\\alice"), &[], &[]).await;
    let (_, rows_b) = b.get("v3/lot", &b.user_token("PLANT\\alice"), &[], &[]).await;
    let genealogy: std::collections::BTreeSet<&str> = devstack::seed::GENEALOGY
        .iter()
        .flat_map(|g| [g.0, g.2])
        .collect();
    assert_eq!(
        rows_a.as_array().map(Vec::len),
        Some(5_000 + genealogy.len()),
        "the generated lots and the genealogy's"
    );
    assert_eq!(rows_a, rows_b, "same size, same plant");
    let (_, jobs) = a.get("v3/job", &a.user_token("PLANT\\alice"), &[], &[]).await;
    assert_eq!(
        jobs.as_array().map(Vec::len),
        Some(5_000),
        "10 operations per work order"
    );
    a.stack.stop().await;
    b.stack.stop().await;
}

#[tokio::test]
async fn hostile_modes_are_off_unless_a_test_asks() {
    let plain = mes("mes-not-hostile", |_| {}).await;
    let token = plain.user_token("PLANT\\alice");
    let (status, _) = plain.get("v3/hostile/html-200", &token, &[], &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        plain
            .stack
            .aim
            .set_tamper(Some(devstack::hostile::Tamper::AlgNone))
            .is_err()
    );
    assert!(
        plain.stack.portal_config()["lookups"]
            .as_array()
            .expect("lookups")
            .iter()
            .all(|l| !l["name"].as_str().unwrap_or("").starts_with("Hostile"))
    );

    let hostile = mes("mes-hostile", |o| o.hostile = true).await;
    let token = hostile.user_token("PLANT\\alice");
    let (status, _) = hostile.get("v3/hostile/empty-array", &token, &[], &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = hostile
        .get("v3/hostile/empty-array", "not-a-token", &[], &[])
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the corpus sits behind the token check like every lookup"
    );
    assert!(hostile.stack.aim.set_tamper(None).is_ok());
}

/// Consumption records of a lot (`lot_no`) or into a finished lot (`fg_lot_no`), as lot numbers.
async fn consumption(m: &Mes, token: &str, by: &str, lot: &str) -> Vec<String> {
    let (status, rows) = m.get("v3/item_cons/filter", token, &[(by, lot)], &[]).await;
    assert_eq!(status, StatusCode::OK, "{by}={lot}: {rows}");
    let other = if by == "lot_no" { "fg_lot_no" } else { "lot_no" };
    let mut lots: Vec<String> = rows
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r[other].as_str().map(str::to_owned))
        .collect();
    lots.sort();
    lots
}

#[tokio::test]
async fn filter_endpoints_take_their_own_parameters_and_keys_answer_one_record() {
    let m = mes("mes-filter", |_| {}).await;
    let token = m.user_token("PLANT\\alice");
    // Genealogy, both ways: a raw lot went into two sauce bases, a finished lot came from two.
    assert_eq!(
        consumption(&m, &token, "lot_no", "L26-RAW-TOM-01").await,
        ["L26-MIX-0001", "L26-MIX-0002"]
    );
    assert_eq!(
        consumption(&m, &token, "fg_lot_no", "L26-FG-0002").await,
        ["L26-MIX-0001", "L26-MIX-0002", "L26-PKG-JAR-01"]
    );
    assert_eq!(
        consumption(&m, &token, "lot_no", "L26-RW-A").await,
        ["L26-RW-B"],
        "the rework loop"
    );
    assert_eq!(consumption(&m, &token, "lot_no", "L26-RW-B").await, ["L26-RW-A"]);
    // A key answers the record as an object; a missing one is 404.
    let (status, lot) = m
        .get("v3/lot/key", &token, &[("lot_no", "L26-FG-0001")], &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lot["lot_no"], "L26-FG-0001");
    assert_eq!(lot["item_id"], "FG-SAUCE-370");
    let (status, body) = m.get("v3/lot/key", &token, &[("lot_no", "L26-NONE")], &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = m.get("v3/wo/key", &token, &[], &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a key without its key");
    // A /filter action binds its own parameters only; a column it does not take is refused.
    let (status, body) = m
        .get(
            "v3/lot/filter",
            &token,
            &[("qty", "5"), ("item_id", "RM-TOMATO")],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["Message"].as_str().is_some_and(|t| t.contains("\"qty\"")),
        "{body}"
    );
    let (_, tomatoes) = m
        .get("v3/lot/filter", &token, &[("item_id", "RM-TOMATO")], &[])
        .await;
    assert_eq!(tomatoes.as_array().map(Vec::len), Some(1));
    m.stack.stop().await;
}

#[tokio::test]
async fn dates_are_read_in_tz_id_and_the_job_queue_counts_hours_back_from_now() {
    let m = mes("mes-filter-time", |_| {}).await;
    let token = m.user_token("PLANT\\alice");
    let (_, all) = m.get("v3/wo", &token, &[], &[]).await;
    let all = all.as_array().expect("rows");
    // The release time of one work order, in UTC as the MES writes it.
    let chosen = &all[all.len() / 2];
    let utc = chosen["release_time_at_utc"]
        .as_str()
        .expect("utc")
        .trim_end_matches('Z');
    let released = |rows: &Value| -> bool {
        rows.as_array()
            .is_some_and(|r| r.iter().any(|w| w["wo_id"] == chosen["wo_id"]))
    };
    let (status, exact) = m
        .get(
            "v3/wo/filter",
            &token,
            &[("release_from", utc), ("release_to", utc)],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{exact}");
    assert!(released(&exact), "from and to the same second, in UTC: {exact}");
    let (_, shifted) = m
        .get(
            "v3/wo/filter",
            &token,
            &[("release_from", utc), ("release_to", utc)],
            &[("tz_id", "+02:00")],
        )
        .await;
    assert!(
        !released(&shifted),
        "the same wall time two hours east is another instant"
    );
    let (status, body) = m
        .get("v3/wo/filter", &token, &[("release_from", "yesterday")], &[])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["Message"]
            .as_str()
            .is_some_and(|t| t.contains("release_from")),
        "{body}"
    );
    // The job queue: the last N hours from now.
    let (_, day) = m.get("v3/job/filter", &token, &[("lastNhrs", "24")], &[]).await;
    let (_, month) = m.get("v3/job/filter", &token, &[("lastNhrs", "720")], &[]).await;
    let (day, month) = (
        day.as_array().map_or(0, Vec::len),
        month.as_array().map_or(0, Vec::len),
    );
    assert!(
        0 < day && day < month,
        "a day's jobs are some of a month's: {day} of {month}"
    );
    let (status, _) = m.get("v3/job/filter", &token, &[("lastNhrs", "-1")], &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, capped) = m
        .get(
            "v3/job/filter",
            &token,
            &[("lastNhrs", "720"), ("max_rows", "3")],
            &[],
        )
        .await;
    assert_eq!(
        capped.as_array().map(Vec::len),
        Some(3),
        "max_rows on a filter too"
    );
    m.stack.stop().await;
}
