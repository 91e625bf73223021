//! The MES Web API stand-in under `/mesmw/api`: V3-style GET lookups from SQLite, with every
//! bearer token checked against the authority (signature via its JWKS, issuer, audience,
//! expiry, `typ`), MES users, per-entity privileges and the Default Background User.

use crate::seed;
use crate::util::message;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

/// Where the MES Web API lives under its origin.
pub const BASE_PATH: &str = "/mesmw/api";
/// Where the hostile mode's misconfigured proxy sends people.
const LOGIN_PAGE_PATH: &str = "/mesmw/Account/Login";
/// The System_Attr that names the Default Background User.
pub const BACKGROUND_USER_ATTR: i64 = 199;
const AUTHORITY_UNREACHABLE: &str = "The authentication token could not be verified because the identity authority (AVEVA Identity Manager) is unreachable.";
const NO_PERMISSION: &str = "You do not have permission to make the request";
const NO_ENTITY_PRIVILEGE: &str = "You do not have the appropriate privileges to access this entity";
const DENIED: &str = "Authorization has been denied for this request.";

/// How the MES stand-in is set up.
#[derive(Debug, Clone)]
pub struct MesOptions {
    /// Issuer of the authority it trusts (any OpenID provider).
    pub authority: String,
    /// `aud` it requires.
    pub audience: String,
    /// Claims naming the user, tried in order.
    pub user_claims: Vec<String>,
    /// Origins allowed by CORS (the portal's).
    pub allowed_origins: Vec<String>,
    /// How long the authority's keys are trusted before asking again.
    pub jwks_ttl: Duration,
    /// How long the Default Background User's name is cached (the middleware's hour).
    pub background_user_ttl: Duration,
    /// Where `mes.sqlite` lives.
    pub data_dir: PathBuf,
    /// Rows in the big tables when seeding a new database.
    pub seed_rows: usize,
    /// Test-only: serve the hostile corpus under `v3/hostile/<case>` ([`crate::hostile`]).
    pub hostile: bool,
    /// How it reaches the authority when that sits behind a TLS proxy on a host name of its own
    /// (see [`crate::stack::PublicSites`]); `None`: by the issuer's address as it is.
    pub authority_route: Option<AuthorityRoute>,
}

/// The authority's host name, the proxy's address for it, and the CA the proxy's certificate
/// comes from.
#[derive(Debug, Clone)]
pub struct AuthorityRoute {
    /// The issuer's host name.
    pub host: String,
    /// Where to connect for it.
    pub address: std::net::SocketAddr,
    /// PEM of the CA to trust there.
    pub ca_pem: Vec<u8>,
}

struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched: Instant,
}

/// The running MES stand-in.
pub struct MesState {
    /// Its options.
    pub options: MesOptions,
    db: Arc<Mutex<Connection>>,
    http: reqwest::Client,
    keys: Mutex<Option<KeyCache>>,
    background_user: Mutex<Option<(String, Instant)>>,
    /// Lookups answered (any status).
    pub requests: AtomicUsize,
    /// Test-only (hostile mode): requests that reached the login page a redirect points to —
    /// none, when clients do not follow a redirect with a bearer token on it.
    pub login_page_requests: AtomicUsize,
    /// Test-only: milliseconds to wait before each piece of a lookup's rows after the first (a
    /// slow network, so a test can watch rows arrive).
    piece_delay_ms: std::sync::atomic::AtomicU64,
    /// Test-only: lookups naming this value in a parameter fail with a 500 (one branch of a
    /// genealogy walk out, the rest answering).
    failing_value: Mutex<Option<String>>,
}

impl MesState {
    /// Opens `mes.sqlite`, seeding it when new.
    pub fn open(options: MesOptions) -> std::io::Result<Self> {
        std::fs::create_dir_all(&options.data_dir)?;
        let path = options.data_dir.join("mes.sqlite");
        let fresh = !path.exists();
        let mut db = Connection::open(&path).map_err(std::io::Error::other)?;
        if fresh {
            seed::seed(&mut db, options.seed_rows, now_seconds()).map_err(std::io::Error::other)?;
            tracing::info!(rows = options.seed_rows, path = %path.display(), "seeded the MES database");
        }
        let mut http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10));
        if let Some(route) = &options.authority_route {
            let ca = reqwest::Certificate::from_pem(&route.ca_pem).map_err(std::io::Error::other)?;
            http = http.resolve(&route.host, route.address).add_root_certificate(ca);
        }
        let http = http.build().map_err(std::io::Error::other)?;
        Ok(Self {
            options,
            db: Arc::new(Mutex::new(db)),
            http,
            keys: Mutex::new(None),
            background_user: Mutex::new(None),
            requests: AtomicUsize::new(0),
            login_page_requests: AtomicUsize::new(0),
            piece_delay_ms: std::sync::atomic::AtomicU64::new(0),
            failing_value: Mutex::new(None),
        })
    }

    /// Test-only: waits `delay` before each piece of rows after the first, as a slow network
    /// would deliver them.
    pub fn set_piece_delay(&self, delay: Duration) {
        self.piece_delay_ms.store(
            u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Test-only: lookups naming `value` in a parameter answer 500 (as when the database times
    /// out on that one query) until this is called again with `None`.
    pub fn fail_lookups_naming(&self, value: Option<&str>) {
        *self.failing_value.lock().unwrap_or_else(|e| e.into_inner()) = value.map(str::to_owned);
    }

    /// Runs SQL against the MES database (for tests and the admin commands).
    pub fn with_db<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&self.db.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The router, mounted under [`BASE_PATH`].
pub fn app(state: Arc<MesState>) -> Router {
    let origins = state.options.allowed_origins.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |o: &HeaderValue, _| {
            o.to_str().is_ok_and(|o| origins.iter().any(|x| x == o))
        }))
        .allow_methods([Method::GET])
        .allow_headers([
            header::AUTHORIZATION,
            header::ACCEPT,
            header::CONTENT_TYPE,
            HeaderName::from_static("tz_id"),
            HeaderName::from_static("trans_id"),
            HeaderName::from_static("max_rows"),
        ]);
    let mut router = Router::new().route(
        &format!("{BASE_PATH}/{{*endpoint}}"),
        get(lookup).fallback(method_not_allowed),
    );
    if state.options.hostile {
        let counted = state.clone();
        router = router.route(
            LOGIN_PAGE_PATH,
            get(move || async move {
                counted.login_page_requests.fetch_add(1, Ordering::Relaxed);
                crate::hostile::login_page_answer()
            }),
        );
    }
    // Lets the portal's page read when each answer's first byte came (Resource Timing), which
    // `cargo xtask bench` reports; it reveals nothing a response does not already.
    let timing = HeaderValue::from_str(&state.options.allowed_origins.join(", "))
        .unwrap_or(HeaderValue::from_static("null"));
    let timing =
        SetResponseHeaderLayer::if_not_present(HeaderName::from_static("timing-allow-origin"), timing);
    router.layer(cors).layer(timing).with_state(state)
}

async fn method_not_allowed() -> Response {
    message(
        StatusCode::METHOD_NOT_ALLOWED,
        "The requested resource does not support this http method.",
    )
}

/// Who the MES runs a call as.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller {
    User(String),
    Service,
}

enum KeyError {
    Unreachable(String),
    Unknown,
}

async fn fetch_keys(state: &MesState) -> Result<HashMap<String, DecodingKey>, String> {
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        state.options.authority.trim_end_matches('/')
    );
    let get = |url: String| async move {
        let response = state
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url}: HTTP {}", response.status()));
        }
        let bytes = response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
        serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| format!("{url}: {e}"))
    };
    let doc = get(discovery).await?;
    let jwks_uri = doc["jwks_uri"]
        .as_str()
        .ok_or("discovery has no jwks_uri")?
        .to_owned();
    let jwks = get(jwks_uri).await?;
    let mut keys = HashMap::new();
    for key in jwks["keys"].as_array().into_iter().flatten() {
        if let (Some("RSA"), Some(kid), Some(n), Some(e)) = (
            key["kty"].as_str(),
            key["kid"].as_str(),
            key["n"].as_str(),
            key["e"].as_str(),
        ) && let Ok(k) = DecodingKey::from_rsa_components(n, e)
        {
            keys.insert(kid.to_owned(), k);
        }
    }
    Ok(keys)
}

/// The key for `kid`: from the cache while fresh, else from the authority; an unknown `kid`
/// refetches once.
async fn key_for(state: &MesState, kid: &str) -> Result<DecodingKey, KeyError> {
    let cached = |fresh_only: bool| {
        let guard = state.keys.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|c| !fresh_only || c.fetched.elapsed() < state.options.jwks_ttl)
            .map(|c| c.keys.get(kid).cloned())
    };
    if let Some(Some(key)) = cached(true) {
        return Ok(key);
    }
    let keys = fetch_keys(state).await.map_err(KeyError::Unreachable)?;
    let key = keys.get(kid).cloned();
    *state.keys.lock().unwrap_or_else(|e| e.into_inner()) = Some(KeyCache {
        keys,
        fetched: Instant::now(),
    });
    key.ok_or(KeyError::Unknown)
}

async fn authenticate(state: &MesState, headers: &HeaderMap) -> Result<Caller, Response> {
    let unauthorized = || message(StatusCode::UNAUTHORIZED, DENIED);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() < 16_384)
        .ok_or_else(unauthorized)?;
    let header = jsonwebtoken::decode_header(token).map_err(|_| unauthorized())?;
    let typ_ok = header
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt"));
    if header.alg != Algorithm::RS256 || !typ_ok {
        return Err(unauthorized());
    }
    let kid = header.kid.ok_or_else(unauthorized)?;
    let key = match key_for(state, &kid).await {
        Ok(k) => k,
        Err(KeyError::Unreachable(why)) => {
            tracing::warn!(%why, "cannot reach the identity authority to verify a token");
            return Err(message(StatusCode::INTERNAL_SERVER_ERROR, AUTHORITY_UNREACHABLE));
        }
        Err(KeyError::Unknown) => return Err(unauthorized()),
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&state.options.authority]);
    validation.set_audience(&[&state.options.audience]);
    validation.validate_nbf = true;
    validation.leeway = 30;
    let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).map_err(|e| {
        tracing::info!(error = %e, "token refused");
        unauthorized()
    })?;
    if is_service_token(&claims.claims) {
        return Ok(Caller::Service);
    }
    let user = state
        .options
        .user_claims
        .iter()
        .find_map(|c| claims.claims.get(c).and_then(|v| v.as_str()).map(str::to_owned));
    // A token that names no user and is no service token runs as nobody: the middleware does
    // not guess that it means the Default Background User.
    match user {
        Some(user) => Ok(Caller::User(user)),
        None => {
            tracing::info!("token refused: it names no user and is not a service token");
            Err(unauthorized())
        }
    }
}

/// A service-to-service token, as the middleware recognises one: scope `system` granted to a
/// client on its own behalf — no subject, or (RFC 9068, as real providers issue them) a subject
/// that is the client itself. Such calls run as the Default Background User, never as a person
/// named like the client.
pub fn is_service_token(claims: &serde_json::Value) -> bool {
    let system = match &claims["scope"] {
        serde_json::Value::String(s) => s.split_whitespace().any(|x| x == "system"),
        serde_json::Value::Array(list) => list.iter().any(|x| x == "system"),
        _ => false,
    };
    let client = claims["client_id"].as_str().or_else(|| claims["azp"].as_str());
    let own_behalf = match claims["sub"].as_str() {
        None => true,
        Some(sub) => client == Some(sub),
    };
    system && own_behalf
}

/// Seconds since the epoch, now.
fn now_seconds() -> i64 {
    i64::try_from(crate::util::now()).unwrap_or(i64::MAX)
}

/// The Default Background User's name, from System_Attr 199, cached like the middleware does.
fn background_user(state: &MesState) -> String {
    let mut cache = state.background_user.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((name, at)) = cache.as_ref()
        && at.elapsed() < state.options.background_user_ttl
    {
        return name.clone();
    }
    let name = state
        .with_db(|db| {
            db.query_row(
                "SELECT attr_value FROM system_attr WHERE attr_id = ?1",
                [BACKGROUND_USER_ATTR],
                |r| r.get::<_, String>(0),
            )
        })
        .unwrap_or_else(|_| "Default Background User".into());
    *cache = Some((name.clone(), Instant::now()));
    name
}

/// One parameter of a `/filter` or `/key` endpoint: its name in the query, the column it reads
/// and how.
struct Filter {
    param: &'static str,
    column: &'static str,
    test: Test,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Test {
    /// The column equals the value.
    Equals,
    /// A time column at or after the value (a date and time, read in `tz_id`).
    From,
    /// A time column at or before the value.
    Until,
    /// A time column within the last N whole hours.
    LastHours,
}

const fn eq(param: &'static str, column: &'static str) -> Filter {
    Filter {
        param,
        column,
        test: Test::Equals,
    }
}

const fn timed(param: &'static str, column: &'static str, test: Test) -> Filter {
    Filter { param, column, test }
}

/// What an endpoint takes, as the middleware's actions bind them.
enum Takes {
    /// The plain V3 list: a filter on any stored column by its name.
    AnyColumn,
    /// A `/filter` action's own parameters; any other is refused.
    Only(&'static [Filter]),
    /// A `/key` action: one record by its key (required), answered as an object.
    Key(&'static [Filter]),
}

struct Endpoint {
    path: &'static str,
    table: &'static str,
    privilege: &'static str,
    required: &'static [&'static str],
    takes: Takes,
}

const fn list(path: &'static str, table: &'static str, privilege: &'static str) -> Endpoint {
    Endpoint {
        path,
        table,
        privilege,
        required: &[],
        takes: Takes::AnyColumn,
    }
}

const fn filter(
    path: &'static str,
    table: &'static str,
    privilege: &'static str,
    only: &'static [Filter],
) -> Endpoint {
    Endpoint {
        path,
        table,
        privilege,
        required: &[],
        takes: Takes::Only(only),
    }
}

const fn key(
    path: &'static str,
    table: &'static str,
    privilege: &'static str,
    key: &'static [Filter],
) -> Endpoint {
    Endpoint {
        path,
        table,
        privilege,
        required: &[],
        takes: Takes::Key(key),
    }
}

const ENDPOINTS: &[Endpoint] = &[
    list("v3/entity", "entity", "view_entities"),
    key(
        "v3/entity/key",
        "entity",
        "view_entities",
        &[eq("ent_id", "ent_id")],
    ),
    Endpoint {
        path: "v3/entity/name",
        table: "entity",
        privilege: "view_entities",
        required: &["ent_name"],
        takes: Takes::AnyColumn,
    },
    list("v3/entity/filter", "entity", "view_entities"),
    list("v3/item", "item", "view_items"),
    key("v3/item/key", "item", "view_items", &[eq("item_id", "item_id")]),
    filter(
        "v3/item/filter",
        "item",
        "view_items",
        &[eq("item_class_id", "item_class_id"), eq("uom_id", "uom_id")],
    ),
    list("v3/lot", "lot", "view_lots"),
    key("v3/lot/key", "lot", "view_lots", &[eq("lot_no", "lot_no")]),
    filter(
        "v3/lot/filter",
        "lot",
        "view_lots",
        &[
            eq("item_id", "item_id"),
            eq("status", "status"),
            timed("created_from", "created_at", Test::From),
            timed("created_to", "created_at", Test::Until),
        ],
    ),
    list("v3/user", "mes_user", "view_users"),
    list("v3/job", "job", "view_jobs"),
    // The job queue: by entity, work order, state and the last N hours.
    filter(
        "v3/job/filter",
        "job",
        "view_jobs",
        &[
            eq("ent_id", "run_ent_id"),
            eq("wo_id", "wo_id"),
            eq("state", "state"),
            timed("lastNhrs", "sched_start_at", Test::LastHours),
        ],
    ),
    list("v3/wo", "wo", "view_work_orders"),
    key("v3/wo/key", "wo", "view_work_orders", &[eq("wo_id", "wo_id")]),
    filter(
        "v3/wo/filter",
        "wo",
        "view_work_orders",
        &[
            eq("item_id", "item_id"),
            eq("state", "state"),
            timed("release_from", "release_time_at", Test::From),
            timed("release_to", "release_time_at", Test::Until),
        ],
    ),
    // Consumption: which lot went into which finished lot (genealogy's one link).
    filter(
        "v3/item_cons/filter",
        "item_cons",
        "view_lots",
        &[
            eq("lot_no", "lot_no"),
            eq("fg_lot_no", "fg_lot_no"),
            eq("wo_id", "wo_id"),
            eq("item_id", "item_id"),
        ],
    ),
];

/// `tz_id` as a fixed offset in seconds: `UTC`, `+02:00`, `-05:30`, `UTC+01:00`.
fn parse_tz(tz: &str) -> Option<i64> {
    let t = tz.trim();
    let t = t
        .strip_prefix("UTC")
        .or_else(|| t.strip_prefix("GMT"))
        .unwrap_or(t);
    if t.is_empty() {
        return Some(0);
    }
    let (sign, rest) = match t.as_bytes()[0] {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

async fn lookup(
    State(state): State<Arc<MesState>>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let caller = match authenticate(&state, &headers).await {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let path = endpoint.trim_matches('/').to_ascii_lowercase();
    if state.options.hostile
        && let Some(answer) = path
            .strip_prefix("v3/hostile/")
            .and_then(|case| crate::hostile::mes_answer(case, LOGIN_PAGE_PATH))
    {
        return answer;
    }
    let failing = state
        .failing_value
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if failing.is_some_and(|value| params.iter().any(|(_, v)| *v == value)) {
        return message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The lookup failed: the database did not answer in time.",
        );
    }
    let Some(ep) = ENDPOINTS.iter().find(|e| e.path == path) else {
        return message(
            StatusCode::NOT_FOUND,
            &format!("No HTTP resource was found that matches the request URI '{BASE_PATH}/{endpoint}'."),
        );
    };
    let identity = match &caller {
        Caller::User(name) => name.clone(),
        Caller::Service => background_user(&state),
    };
    let header_or_param = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                params
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
            })
    };
    let offset = match header_or_param("tz_id") {
        None => 0,
        Some(tz) => match parse_tz(&tz) {
            Some(o) => o,
            None => {
                return message(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "The time zone \"{}\" is not known. Use UTC or an offset such as +01:00.",
                        tz.chars().take(64).collect::<String>()
                    ),
                );
            }
        },
    };
    let max_rows = match header_or_param("max_rows").map(|v| v.trim().parse::<u32>()) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return message(StatusCode::BAD_REQUEST, "max_rows must be a whole number."),
    };
    let filters: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !matches!(k.to_ascii_lowercase().as_str(), "tz_id" | "max_rows"))
        .cloned()
        .collect();
    if filters.iter().any(|(k, v)| k.len() > 64 || v.len() > 1024) {
        return message(
            StatusCode::BAD_REQUEST,
            "The request is invalid: a parameter is too long.",
        );
    }
    let asked = Asked {
        filters,
        max_rows,
        offset,
    };
    let db = state.db.clone();
    let ep_index = ENDPOINTS.iter().position(|e| e.path == ep.path).unwrap_or(0);
    let is_user = matches!(caller, Caller::User(_));
    // The checks answer first; then the rows are written as SQLite yields them, in pieces of
    // about 64 kB, so the first byte leaves at once however large the answer (as IIS streams a
    // large Web API answer). A failure mid-way breaks the connection off: the client sees an
    // incomplete answer, never a shorter one that looks whole.
    let piece_delay = state.piece_delay_ms.load(Ordering::Relaxed);
    let (verdict, checked) = tokio::sync::oneshot::channel::<Result<(), Failure>>();
    let (pieces, body) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let db = db.lock().unwrap_or_else(|e| e.into_inner());
        let plan = match plan_lookup(&db, &ENDPOINTS[ep_index], &identity, is_user, &asked) {
            Ok(plan) => plan,
            Err(failure) => {
                let _ = verdict.send(Err(failure));
                return;
            }
        };
        if verdict.send(Ok(())).is_err() {
            return;
        }
        let delay = Duration::from_millis(piece_delay);
        let mut sent = 0;
        let send = |piece: String| {
            if sent > 0 {
                std::thread::sleep(delay);
            }
            sent += 1;
            pieces.blocking_send(Ok(axum::body::Bytes::from(piece))).is_ok()
        };
        if let Err(e) = write_rows(&db, &plan, offset, send) {
            let _ = pieces.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    match checked.await {
        Ok(Ok(())) => {
            let stream = futures_util::stream::unfold(body, |mut body| async move {
                body.recv().await.map(|piece| (piece, body))
            });
            (
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                axum::body::Body::from_stream(stream),
            )
                .into_response()
        }
        Ok(Err(answer)) => answer.into_response(),
        Err(_) => message(StatusCode::INTERNAL_SERVER_ERROR, "The lookup failed."),
    }
}

struct Failure(StatusCode, String);
impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        message(self.0, &self.1)
    }
}

/// A checked lookup, ready to run: its SQL, parameters and stored column names.
struct Plan {
    sql: String,
    values: Vec<String>,
    stored: Vec<String>,
    /// A `/key` answer: the one record as an object, not an array.
    record: bool,
}

/// What a lookup request asks beyond its endpoint: the filters (its query parameters but the
/// MES's own) and a cap on the rows.
struct Asked {
    filters: Vec<(String, String)>,
    max_rows: Option<u32>,
    /// The `tz_id` offset date parameters are read in, seconds ahead of UTC.
    offset: i64,
}

/// The MES's checks (active user, privilege, parameters, entity access) and the query to run.
fn plan_lookup(
    db: &Connection,
    ep: &Endpoint,
    identity: &str,
    is_user: bool,
    asked: &Asked,
) -> Result<Plan, Failure> {
    let (filters, max_rows) = (&asked.filters[..], asked.max_rows);
    let internal = |e: rusqlite::Error| {
        Failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("The lookup failed: {e}"),
        )
    };
    let active: Option<bool> = db
        .query_row(
            "SELECT active FROM mes_user WHERE user_id = ?1",
            [identity],
            |r| r.get::<_, i64>(0),
        )
        .map(|a| a != 0)
        .ok();
    if active != Some(true) {
        tracing::info!(identity, is_user, "not an active MES user");
        return Err(Failure(StatusCode::FORBIDDEN, NO_PERMISSION.into()));
    }
    let allowed: bool = db
        .query_row(
            "SELECT COUNT(*) FROM user_priv WHERE user_id = ?1 AND priv = ?2",
            [identity, ep.privilege],
            |r| r.get::<_, i64>(0),
        )
        .map_err(internal)?
        > 0;
    if !allowed {
        return Err(Failure(
            StatusCode::FORBIDDEN,
            format!(
                "{NO_PERMISSION}: {identity} lacks the privilege {}.",
                ep.privilege
            ),
        ));
    }
    let mut stored: Vec<String> = Vec::new();
    let mut info = db
        .prepare(&format!("PRAGMA table_info({})", ep.table))
        .map_err(internal)?;
    for name in info.query_map([], |r| r.get::<_, String>(1)).map_err(internal)? {
        stored.push(name.map_err(internal)?);
    }
    stored.retain(|c| c != "restricted");
    let keys = match &ep.takes {
        Takes::Key(keys) => keys.iter().map(|f| f.param).collect(),
        _ => Vec::new(),
    };
    for required in ep.required.iter().chain(&keys) {
        if !filters.iter().any(|(k, _)| k.eq_ignore_ascii_case(required)) {
            return Err(Failure(
                StatusCode::BAD_REQUEST,
                format!("The request is invalid: {required} is required for {}.", ep.path),
            ));
        }
    }
    let mut filter_sql = String::new();
    let mut values: Vec<String> = Vec::new();
    for (k, v) in filters {
        let (column, test) = match &ep.takes {
            Takes::AnyColumn => (
                stored
                    .iter()
                    .find(|c| c.eq_ignore_ascii_case(k))
                    .map(String::as_str),
                Test::Equals,
            ),
            Takes::Only(taken) | Takes::Key(taken) => {
                match taken.iter().find(|f| f.param.eq_ignore_ascii_case(k)) {
                    Some(f) => (Some(f.column), f.test),
                    None => (None, Test::Equals),
                }
            }
        };
        let Some(column) = column else {
            return Err(Failure(
                StatusCode::BAD_REQUEST,
                format!(
                    "The request is invalid: unknown parameter \"{}\" for {}.",
                    k.chars().take(64).collect::<String>(),
                    ep.path
                ),
            ));
        };
        let (operator, value) = match test {
            Test::Equals => ("=", v.clone()),
            Test::From | Test::Until => {
                let Some(at) = seed::parse_time(v.trim(), asked.offset) else {
                    return Err(Failure(
                        StatusCode::BAD_REQUEST,
                        format!("The request is invalid: {k} is not a date and time (yyyy-MM-ddTHH:mm:ss)."),
                    ));
                };
                (if test == Test::From { ">=" } else { "<=" }, at.to_string())
            }
            Test::LastHours => {
                let Some(hours) = v.trim().parse::<i64>().ok().filter(|h| *h > 0) else {
                    return Err(Failure(
                        StatusCode::BAD_REQUEST,
                        format!("The request is invalid: {k} must be a whole number of hours."),
                    ));
                };
                (">=", (now_seconds() - hours.saturating_mul(3_600)).to_string())
            }
        };
        values.push(value);
        filter_sql.push_str(&format!(" AND {column} {operator} ?{}", values.len()));
    }
    if ep.table == "entity" {
        values.push(identity.to_owned());
        filter_sql.push_str(&format!(
            " AND (restricted = 0 OR ent_id IN (SELECT ent_id FROM user_ent_grant WHERE user_id = ?{}))",
            values.len()
        ));
        if !ep.required.is_empty() || !keys.is_empty() {
            // A lookup by key or name of an entity the caller may not see is a privilege error.
            let hidden_sql = filter_sql.replace(" AND (restricted = 0 OR", " AND NOT (restricted = 0 OR");
            let hidden: i64 = db
                .query_row(
                    &format!("SELECT COUNT(*) FROM entity WHERE 1=1{hidden_sql}"),
                    rusqlite::params_from_iter(values.iter()),
                    |r| r.get(0),
                )
                .map_err(internal)?;
            if hidden > 0 {
                return Err(Failure(StatusCode::NOT_FOUND, NO_ENTITY_PRIVILEGE.into()));
            }
        }
    }
    let mut sql = format!(
        "SELECT {} FROM {} WHERE 1=1{filter_sql}",
        stored.join(", "),
        ep.table
    );
    sql.push_str(" ORDER BY rowid");
    let record = matches!(ep.takes, Takes::Key(_));
    if record {
        let found: i64 = db
            .query_row(
                &format!("SELECT COUNT(*) FROM ({sql})"),
                rusqlite::params_from_iter(values.iter()),
                |r| r.get(0),
            )
            .map_err(internal)?;
        if found == 0 {
            return Err(Failure(
                StatusCode::NOT_FOUND,
                format!("No {} was found with the key given.", ep.table),
            ));
        }
        sql.push_str(" LIMIT 1");
    } else if let Some(n) = max_rows {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    Ok(Plan {
        sql,
        values,
        stored,
        record,
    })
}

/// Bytes gathered before a piece is sent.
const PIECE: usize = 64 * 1024;

/// Writes the rows as a JSON array, handing `send` a piece whenever about [`PIECE`] bytes are
/// ready; stops early when `send` says the client is gone.
fn write_rows(
    db: &Connection,
    plan: &Plan,
    offset: i64,
    mut send: impl FnMut(String) -> bool,
) -> rusqlite::Result<()> {
    let Plan {
        sql,
        values,
        stored,
        record,
    } = plan;
    let mut stmt = db.prepare(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(values.iter()))?;
    // Written by hand so the keys keep the stored procedure's column order.
    let mut out = String::from(if *record { "" } else { "[" });
    let mut first = true;
    while let Some(row) = rows.next()? {
        if out.len() >= PIECE && !send(std::mem::take(&mut out)) {
            return Ok(());
        }
        out.push_str(if first { "{" } else { ",{" });
        first = false;
        for (i, column) in stored.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let value: rusqlite::types::Value = row.get(i)?;
            if column.ends_with("_at") {
                let secs = match value {
                    rusqlite::types::Value::Integer(s) => s,
                    _ => 0,
                };
                let utc = seed::format_time(secs, 0);
                let local = seed::format_time(secs, offset);
                out.push_str(&format!(
                    "\"{column}_utc\":\"{utc}Z\",\"{column}_local\":\"{local}\",\"{column}\":\"{local}\""
                ));
                continue;
            }
            out.push_str(&serde_json::to_string(column).unwrap_or_default());
            out.push(':');
            let json = match value {
                rusqlite::types::Value::Null => serde_json::Value::Null,
                rusqlite::types::Value::Integer(n) => n.into(),
                rusqlite::types::Value::Real(f) => f.into(),
                rusqlite::types::Value::Text(s) => s.into(),
                rusqlite::types::Value::Blob(_) => serde_json::Value::Null,
            };
            out.push_str(&json.to_string());
        }
        out.push('}');
    }
    if !*record {
        out.push(']');
    }
    send(out);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn service_tokens_are_told_from_people() {
        use super::is_service_token;
        use serde_json::json;
        assert!(is_service_token(
            &json!({"scope": "system", "client_id": "scheduler"})
        ));
        assert!(
            is_service_token(&json!({"scope": "system", "client_id": "scheduler", "sub": "scheduler"})),
            "RFC 9068"
        );
        assert!(is_service_token(
            &json!({"scope": ["system"], "azp": "scheduler", "sub": "scheduler"})
        ));
        assert!(
            !is_service_token(&json!({"scope": "system", "client_id": "scheduler", "sub": "PLANT\\alice"})),
            "a person's token"
        );
        assert!(!is_service_token(
            &json!({"scope": "openid mes-web-api", "client_id": "mes-portal", "sub": "mes-portal"})
        ));
        assert!(!is_service_token(
            &json!({"scope": "systems", "sub": "x", "client_id": "x"})
        ));
    }

    #[test]
    fn time_zones() {
        assert_eq!(super::parse_tz("UTC"), Some(0));
        assert_eq!(super::parse_tz("+02:00"), Some(7200));
        assert_eq!(super::parse_tz("UTC-05:30"), Some(-19800));
        assert_eq!(super::parse_tz("Mars/Olympus"), None);
        assert_eq!(super::parse_tz("+99:00"), None);
    }
}
