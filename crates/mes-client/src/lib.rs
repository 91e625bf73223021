//! # mes-client
//!
//! Sign in against AVEVA Identity Manager (or any OpenID Connect provider) with authorization
//! code and PKCE, keep the tokens in memory, and call the MES Web API with them — in the browser
//! (`wasm32-unknown-unknown`, HTTP through gloo-net) and natively (HTTP through reqwest).
//!
//! Built like oauth2-rs (whose PKCE challenge it uses): a client object whose requests are built
//! step by step and sent through one [`Transport`] trait
//! (`client.exchange_code(…).request_async(&transport)`,
//! `session.lookup(api, endpoint).max_rows(n).send()`; every token request on one path), pure
//! parsers for every answer; every
//! endpoint comes from discovery; every failure is a typed value; the values of a sign-in
//! round trip ([`CsrfState`], [`Nonce`], [`PkceVerifier`]) and tokens ([`Secret`]) are types
//! that never print.
//!
//! ## Sign-in in the browser
//!
//! ```no_run
//! # #[cfg(target_arch = "wasm32")]
//! # async fn sign_in(config: mes_client::PortalConfig) -> Result<(), Box<dyn std::error::Error>> {
//! use mes_client::{browser, Authority, BrowserTransport, CallbackParams, SignInClient};
//! let transport = BrowserTransport::default();
//! let mut authority = Authority::load(&transport, &config.client.authority).await?;
//! let client = SignInClient::new(&config.client);
//! let params = CallbackParams::from_query(&browser::current_query());
//! if params.is_authorization_response() {
//!     let pending = browser::take_pending();
//!     let signed_in = client
//!         .exchange_code(&mut authority, &params, pending.as_ref())
//!         .request_async(&transport)
//!         .await?;
//!     // The code leaves the address bar and history (the portal does this in `nav::replace`).
//!     let back = pending.map(|p| p.return_path).unwrap_or_else(|| "/".into());
//!     if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
//!         history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&back)).ok();
//!     }
//!     // keep `signed_in.tokens` in memory only
//! } else {
//!     let path = browser::current_path();
//!     let redirect = client.authorize(&authority.metadata).return_to(&path).url()?;
//!     browser::save_pending(&redirect.pending)?;
//!     browser::navigate(&redirect.url)?;
//! }
//! # Ok(()) }
//! ```
//!
//! ## Staying signed in
//!
//! [`UserSession`] holds the tokens in memory and renews them before expiry and after a 401;
//! concurrent lookups share one refresh.
//!
//! ```no_run
//! # async fn run<T: mes_client::Transport + 'static>(transport: T, authority: mes_client::Authority,
//! #     config: mes_client::PortalConfig, signed_in: mes_client::SignedIn) {
//! let session = mes_client::UserSession::new(transport, &authority, &config.client, signed_in);
//! let api = config.web_api("MES").expect("configured");
//! match session.lookup(api, "v3/entity").max_rows(10_000).send().await {
//!     Ok(rows) => println!("{} entities", rows.len()),
//!     Err(mes_client::MesError::SessionExpired) => { /* sign in again; the AIM session skips the form */ }
//!     Err(other) => eprintln!("{other}"),
//! }
//! # }
//! ```
//!
//! ## Background jobs (native): service-to-service tokens
//!
//! ```no_run
//! # #[cfg(not(target_arch = "wasm32"))]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mes_client::{ClientAuth, NativeTransport, ServiceConfig, ServiceTokenSource};
//! let (config, _warnings) = ServiceConfig::from_json(&std::fs::read_to_string("mes.json")?).map_err(|r| format!("{r:?}"))?;
//! let api = config.web_api("MES jobs").ok_or("no such Web API")?;
//! let source = ServiceTokenSource::for_web_api(NativeTransport::default(), api, ClientAuth::Basic).await?;
//! // Runs as the MES's Default Background User (System_Attr 199); the token is cached ~24 h.
//! let rows = source.lookup(api, "v3/wo").param("state", "Released").send().await?;
//! println!("{} released work orders", rows.len());
//! # Ok(()) }
//! ```
//!
//! The same from a shell: `mes-lookup --config mes.json --api "MES jobs" v3/wo --param state=Released --format csv`.
//!
//! ## A lookup with a token of your own
//!
//! ```no_run
//! # async fn run(api: &mes_client::WebApiDefinition, token: &mes_client::Secret) {
//! # #[cfg(not(target_arch = "wasm32"))]
//! # {
//! let transport = mes_client::NativeTransport::default();
//! match mes_client::Lookup::new(api, "v3/entity", token).time_zone("Europe/Berlin").send(&transport).await {
//!     Ok(rows) => println!("{} rows, columns {:?}", rows.len(), rows.column_names().collect::<Vec<_>>()),
//!     Err(mes_client::MesError::AuthorityOffline { .. }) => eprintln!("AIM is offline; retry later"),
//!     Err(other) => eprintln!("{other}"),
//! }
//! # }
//! # }
//! ```

mod absolute_url;
pub mod ask;
mod config;
mod discovery;
#[cfg(not(target_arch = "wasm32"))]
mod doctor;
pub mod genealogy;
mod jwt;
mod mes;
mod rows;
pub mod scan;
mod secret;
#[cfg(not(target_arch = "wasm32"))]
mod service;
mod session;
mod signin;
#[cfg(not(target_arch = "wasm32"))]
mod site;
mod time;
mod token;
mod transport;
mod user_session;

/// Browser-only glue: sessionStorage round trip, address bar, WebCrypto.
#[cfg(target_arch = "wasm32")]
pub mod browser;

pub use absolute_url::AbsoluteUrl;
pub use config::{
    AuthenticationMode, ClientId, ClientSettings, ConfigIssue, ConfigReport, DEFAULT_CLOCK_SKEW,
    EndSessionMethod, LinkDefinition, LookupDefinition, PortalConfig, RecordDefinition, Runtime,
    SHIPPED_TRANSLATIONS, SelectionMode, ServedFileError, ServiceConfig, Station, StationSettings,
    WebApiDefinition, get_text, is_language_tag, is_station_name,
};
pub use discovery::{
    Authority, DiscoveryError, Jwk, JwkSet, ProviderMetadata, authority_reachable, discover,
    discovery_request, discovery_url, fetch_jwks, parse_discovery,
};
#[cfg(not(target_arch = "wasm32"))]
pub use doctor::{DoctorOptions, Finding, examine_site, site_report};
#[cfg(not(target_arch = "wasm32"))]
pub use jwt::NativeVerifier;
pub use jwt::{
    Audience, Claims, Expected, IdTokenError, JwtHeader, SignatureVerifier, UnverifiedJwt,
    check_id_token_claims, check_refreshed_id_token_claims, decode_unverified, validate_id_token,
    verify_id_token_signature,
};
pub use mes::{
    AuthorityVerdict, Bearer, Lookup, LookupOptions, MesError, RowsSink, RowsTarget, authority_answers,
    authority_verdict, lookup_request, lookup_url, parse_lookup_response,
};
pub use rows::{
    Cell, CellKind, ColumnData, Rows, RowsDecoder, csv_field, json_terminal_safe, terminal_safe,
    terminal_safe_lines, tsv_field, unsafe_on_terminal,
};
pub use secret::Secret;
#[cfg(not(target_arch = "wasm32"))]
pub use service::{
    ClientAuth, DEFAULT_BACKGROUND_USER, SERVICE_RENEW_BEFORE_SECONDS, ServiceTokenError, ServiceTokenSource,
};
pub use session::{CodeExchange, PlatformVerifier, SignInFailure, SignedIn};
pub use signin::{
    AuthorizationCode, AuthorizationRedirect, AuthorizeRequest, CallbackParams, CsrfState, EndSession, Nonce,
    PendingSignIn, PkceVerifier, Prompt, SignInClient, SignInError, check_callback, end_session_request,
    is_popup_state, same_origin_path,
};
#[cfg(not(target_arch = "wasm32"))]
pub use site::{SitePolicy, inline_script_hashes, write_site_headers};
pub use time::now_seconds;
pub use token::{
    TOKEN_REQUEST_SECONDS, TokenError, TokenSet, parse_token_response, refresh, revoke_refresh_token,
};
#[cfg(not(target_arch = "wasm32"))]
pub use transport::NativeTransport;
pub use transport::{
    BodySink, DEFAULT_BODY_LIMIT, Headers, HttpRequest, HttpResponse, MaybeSend, MaybeSync, Method,
    RETRY_AFTER_LIMIT_SECONDS, StatusCode, Transport, TransportError, TransportErrorKind, first_bytes,
    retry_after,
};
#[cfg(target_arch = "wasm32")]
pub use transport::{BrowserTransport, Feed, ReadError, read_body_stream, read_js_text};
pub use user_session::{RENEW_BEFORE_SECONDS, RenewError, SessionHealth, UserSession, renew_margin};
