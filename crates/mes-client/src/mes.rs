//! MES Web API calls: `GET {base address}{request URI}/{endpoint}?{params}` with a bearer token,
//! and the classification of every answer into rows or a [`MesError`]; README lists what each means to a person.

use crate::Secret;
use crate::config::WebApiDefinition;
use crate::rows::{Rows, RowsDecoder};
use crate::transport::{
    BodySink, HttpRequest, HttpResponse, MaybeSend, Transport, TransportError, content_type, first_bytes,
    is_json,
};

/// Optional MES request headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupOptions {
    /// `tz_id`: the time zone for `*_local` datetime columns.
    pub tz_id: Option<String>,
    /// `trans_id`: a transaction to read inside.
    pub trans_id: Option<String>,
    /// `max_rows`: cap on the rows answered.
    pub max_rows: Option<u32>,
}

/// Every way an MES call can fail, with what the portal needs to say so plainly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MesError {
    /// 401 after renewal: the person must sign in again.
    #[error("your session has expired; sign in again")]
    SessionExpired,
    /// 403, or a 404 whose message names missing privileges.
    #[error("the MES denied the request for {}: {message}", identity.as_deref().unwrap_or("this identity"))]
    Denied {
        /// The MES's own message.
        message: String,
        /// Who the MES took the caller to be, when known.
        identity: Option<String>,
    },
    /// 404 for another reason (unknown endpoint or record).
    #[error("the MES has no such resource: {message}")]
    NotFound {
        /// The MES's message.
        message: String,
    },
    /// 500 while the authority's discovery does not answer: the MES cannot get or verify tokens.
    #[error("the identity authority (AIM) is offline, so the MES cannot check your sign-in: {message}")]
    AuthorityOffline {
        /// The MES's message.
        message: String,
        /// Seconds the authority or the MES asked to be left alone (`Retry-After`), when said:
        /// a retry waits at least this long.
        retry_after: Option<u64>,
    },
    /// The portal's configuration cannot make this call (a lookup names a Web API definition
    /// that does not exist): no request was sent.
    #[error("the configuration cannot make this call: {message}")]
    NotConfigured {
        /// What is missing, naming the field.
        message: String,
    },
    /// Any other 5xx (or unexpected 4xx) with its message.
    #[error("the MES reported an error (HTTP {status}): {message}")]
    ServerError {
        /// HTTP status.
        status: u16,
        /// The MES's message.
        message: String,
    },
    /// No HTTP answer: MES down, wrong address, certificate, or CORS not allowing this origin.
    #[error("the MES at {url} could not be reached ({reason})")]
    Unreachable {
        /// Address called.
        url: String,
        /// What the platform said.
        reason: String,
    },
    /// An answer of the wrong kind: HTML, wrong shape, too large.
    #[error(
        "the MES gave an unexpected answer (HTTP {status}, {content_type}): {reason}; it starts: {first_bytes}"
    )]
    UnexpectedResponse {
        /// HTTP status.
        status: u16,
        /// Content type as sent.
        content_type: String,
        /// Why it was refused.
        reason: String,
        /// Start of the body.
        first_bytes: String,
    },
}

impl From<TransportError> for MesError {
    fn from(e: TransportError) -> Self {
        match e.kind {
            // The MES answered, with more than the page can hold: not an outage.
            crate::transport::TransportErrorKind::TooLarge => MesError::UnexpectedResponse {
                status: 200,
                content_type: "not read".into(),
                reason: format!("{}; narrow the lookup with a filter or max_rows", e.reason),
                first_bytes: String::new(),
            },
            // The MES (or a proxy before it) answered with a redirect, which is not followed with
            // a bearer token on it (often a proxy's login page): an answer, not an outage.
            crate::transport::TransportErrorKind::Redirected => MesError::UnexpectedResponse {
                status: 302,
                content_type: "not read".into(),
                reason: "a redirect to another address, not followed: it would carry your sign-in there; a proxy before the MES may be sending people to its own login page".into(),
                first_bytes: String::new(),
            },
            _ => MesError::Unreachable {
                url: e.url,
                reason: e.reason,
            },
        }
    }
}

/// The full URL of an endpoint with its query.
pub fn lookup_url<K: AsRef<str>, V: AsRef<str>>(
    api: &WebApiDefinition,
    endpoint: &str,
    params: &[(K, V)],
) -> String {
    let mut url = api.base_address.clone();
    if !url.ends_with('/') {
        url.push('/');
    }
    url.push_str(api.request_uri.trim_matches('/'));
    url.push('/');
    url.push_str(endpoint.trim_matches('/'));
    if !params.is_empty() {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            query.append_pair(k.as_ref(), v.as_ref());
        }
        url.push('?');
        url.push_str(&query.finish());
    }
    url
}

/// The GET request with the bearer token and optional MES headers.
pub fn lookup_request(url: &str, access_token: &Secret, options: &LookupOptions) -> HttpRequest {
    let mut request = HttpRequest::get(url)
        .header("accept", "application/json")
        .header("authorization", format!("Bearer {}", access_token.expose()));
    if let Some(tz) = &options.tz_id {
        request = request.header("tz_id", tz);
    }
    if let Some(trans) = &options.trans_id {
        request = request.header("trans_id", trans);
    }
    if let Some(max) = options.max_rows {
        request = request.header("max_rows", max.to_string());
    }
    request.checked()
}

/// The MES's own message, from an ASP.NET-style `{"Message": …}` body (or `message`,
/// `error_description`, `error`), as sent.
fn own_message(response: &HttpResponse) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(alias = "message", alias = "error_description", alias = "error")]
        #[serde(rename = "Message")]
        message: String,
    }
    serde_json::from_slice::<Body>(response.body())
        .ok()
        .map(|b| b.message)
}

/// The MES's own message for the screen, or the body's first bytes.
fn message_of(response: &HttpResponse) -> String {
    match own_message(response) {
        Some(message) => message.chars().filter(|c| !c.is_control()).take(500).collect(),
        None if response.body().is_empty() => {
            format!("HTTP {} with no message", response.status().as_u16())
        }
        None => first_bytes(response.body()),
    }
}

/// What an MES 500 says about the identity authority, read from the MES's own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorityVerdict {
    /// The MES says it could not reach the authority to get or verify a token.
    Unreachable,
    /// The MES says what failed, and it is not the authority (a database, a lookup).
    NotAbout,
    /// No message of the MES's own (an HTML page, an empty body): it cannot tell.
    Unsaid,
}

/// Reads an MES 500's `Message` (D9): the MES answers 500 when it cannot reach the authority to
/// verify a token and says so in its body. Where it says so, that decides — also when this
/// browser reaches the authority, since what matters is whether the MES does; where its message
/// is about something else, that is an MES error whatever the browser reaches. Only without a
/// message does the portal fall back to asking the authority itself.
pub fn authority_verdict(response: &HttpResponse) -> AuthorityVerdict {
    let Some(message) = own_message(response) else {
        return AuthorityVerdict::Unsaid;
    };
    let text = message.to_lowercase();
    if text.trim().is_empty() {
        return AuthorityVerdict::Unsaid;
    }
    let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
    let about_authority = [
        "authority",
        "identity manager",
        "identity provider",
        "openid",
        "jwks",
    ]
    .iter()
    .any(|w| text.contains(w))
        || words.iter().any(|w| matches!(*w, "aim" | "sts" | "idp"));
    let unreachable = [
        "unreachable",
        "could not be reached",
        "cannot be reached",
        "not reachable",
        "offline",
        "unavailable",
        "not available",
        "timed out",
        "timeout",
        "connection refused",
        "could not connect",
        "cannot connect",
        "unable to connect",
        "could not contact",
        "unable to contact",
        "not responding",
    ]
    .iter()
    .any(|w| text.contains(w));
    if about_authority && unreachable {
        AuthorityVerdict::Unreachable
    } else {
        AuthorityVerdict::NotAbout
    }
}

/// Turns an MES answer into rows or a classified failure. A 401 is `SessionExpired` (the caller
/// renews once before giving up); a 500 is `ServerError` (the caller reads the MES's message,
/// [`authority_verdict`], before calling it `AuthorityOffline`); `identity` names who the MES
/// judged.
pub fn parse_lookup_response(response: &HttpResponse, identity: Option<&str>) -> Result<Rows, MesError> {
    let status = response.status().as_u16();
    let identity = identity.map(str::to_owned);
    match status {
        200..=299 => {
            let ct = content_type(response);
            let unexpected = |reason: String| MesError::UnexpectedResponse {
                status,
                content_type: if ct.is_empty() {
                    "no content type".into()
                } else {
                    ct.clone()
                },
                reason,
                first_bytes: first_bytes(response.body()),
            };
            if status == 204 {
                return Ok(Rows::default());
            }
            if response.body().is_empty() {
                return Err(unexpected(
                    "the answer is empty; an MES lookup answers [] when nothing matches".into(),
                ));
            }
            // The body decides, not the label: JSON sent as text/plain by a proxy still reads,
            // and an HTML page fails to decode whatever it claims to be.
            Rows::from_json(response.body()).map_err(|e| {
                if is_json(&ct) {
                    unexpected(format!("expected an array of rows: {e}"))
                } else {
                    unexpected("expected JSON".into())
                }
            })
        }
        401 => Err(MesError::SessionExpired),
        403 => Err(MesError::Denied {
            message: message_of(response),
            identity,
        }),
        404 => {
            let message = message_of(response);
            if message.to_ascii_lowercase().contains("privilege") {
                Err(MesError::Denied { message, identity })
            } else {
                Err(MesError::NotFound { message })
            }
        }
        _ => Err(MesError::ServerError {
            status,
            message: message_of(response),
        }),
    }
}

/// Where a streamed lookup's rows go: [`Rows`] that the caller may look at between pieces (a
/// grid showing the first rows while the rest arrives).
pub trait RowsTarget: MaybeSend {
    /// Runs `decode` on the rows; `false` when nobody wants them any more (the grid is gone),
    /// which stops the reading.
    fn update(&mut self, decode: &mut dyn FnMut(&mut Rows)) -> bool;
}

impl RowsTarget for Rows {
    fn update(&mut self, decode: &mut dyn FnMut(&mut Rows)) -> bool {
        decode(self);
        true
    }
}

/// An answer body decoded into a [`RowsTarget`] as it arrives: the [`BodySink`] a lookup
/// streams into, and one a page can feed with a stream of its own.
pub struct RowsSink<'a> {
    target: &'a mut dyn RowsTarget,
    decoder: RowsDecoder,
    /// The body's first bytes, for an error message.
    head: Vec<u8>,
    error: Option<String>,
}

impl<'a> RowsSink<'a> {
    /// Decodes a list of rows into `target`.
    pub fn new(target: &'a mut dyn RowsTarget) -> Self {
        Self::with(target, RowsDecoder::default())
    }

    /// Decodes one record (a `/key` answer) into `target` as its one row.
    pub fn record(target: &'a mut dyn RowsTarget) -> Self {
        Self::with(target, RowsDecoder::record())
    }

    fn with(target: &'a mut dyn RowsTarget, decoder: RowsDecoder) -> Self {
        Self {
            target,
            decoder,
            head: Vec::new(),
            error: None,
        }
    }

    /// Once the body ended: whether it was a whole answer (an array of row objects).
    pub fn outcome(&self) -> Result<(), String> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => self.decoder.finish(),
        }
    }
}

impl BodySink for RowsSink<'_> {
    fn write(&mut self, piece: &[u8]) -> bool {
        if self.head.len() < 256 {
            self.head.extend(piece.iter().take(256 - self.head.len()));
        }
        let (decoder, mut outcome) = (&mut self.decoder, Ok(()));
        let wanted = self
            .target
            .update(&mut |rows| outcome = decoder.push(piece, rows));
        match outcome {
            Ok(()) => wanted,
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }
}

/// A lookup being built, in oauth2-rs's request shape: made by whoever holds the token —
/// [`UserSession::lookup`](crate::UserSession::lookup) for a person,
/// `ServiceTokenSource::lookup` for a background job, [`Lookup::new`] for a token of your own —
/// given its parameters and MES headers, then sent.
///
/// ```no_run
/// # async fn run<T: mes_client::Transport + 'static>(session: mes_client::UserSession<T>, api: mes_client::WebApiDefinition) {
/// let rows = session.lookup(&api, "v3/wo").param("state", "Released").max_rows(500).send().await;
/// # }
/// ```
#[must_use = "a lookup does nothing until it is sent"]
pub struct Lookup<'a, By> {
    pub(crate) by: By,
    pub(crate) query: Query<'a>,
}

/// What a lookup asks the MES, whoever sends it.
pub(crate) struct Query<'a> {
    api: &'a WebApiDefinition,
    endpoint: &'a str,
    params: Vec<(String, String)>,
    options: LookupOptions,
    /// One record is asked for (a `/key` endpoint).
    record: bool,
}

impl<'a> Query<'a> {
    /// The Web API definition the lookup goes to.
    pub(crate) fn api(&self) -> &'a WebApiDefinition {
        self.api
    }
}

/// Why the person's `token` must not go to `api` (RFC 6750 §5.3): a JWT whose `aud` does not name
/// the API's audience was issued for another resource. An opaque token is not read.
pub(crate) fn refuse_token_for(token: &str, api: &WebApiDefinition) -> Option<MesError> {
    if api.audience.is_empty() {
        return None;
    }
    // Only `aud` is read: a JWT lacking another claim (or of an odd shape) must not slip past.
    let audiences = crate::jwt::unverified_audiences(token)?;
    (!audiences.contains(&api.audience)).then(|| MesError::NotConfigured {
        message: format!(
            "the sign-in's token is not for Web API \"{}\" (its audience \"{}\" is not in the token): it is not sent there",
            api.name, api.audience
        ),
    })
}

impl<'a, By> Lookup<'a, By> {
    /// A lookup of `endpoint` (e.g. `v3/entity`) under `api`, sent by `by`.
    pub(crate) fn by(by: By, api: &'a WebApiDefinition, endpoint: &'a str) -> Self {
        Self {
            by,
            query: Query {
                api,
                endpoint,
                params: Vec::new(),
                options: LookupOptions::default(),
                record: false,
            },
        }
    }

    /// Adds a query parameter (`ent_name=Line 1`); repeated names are sent repeated.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.params.push((name.into(), value.into()));
        self
    }

    /// Adds query parameters in order.
    pub fn params<K: Into<String>, V: Into<String>>(
        mut self,
        params: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.query
            .params
            .extend(params.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Caps the rows the MES answers (`max_rows` header).
    pub fn max_rows(mut self, rows: u32) -> Self {
        self.query.options.max_rows = Some(rows);
        self
    }

    /// The time zone for `*_local` datetime columns (`tz_id` header), e.g. `Europe/Berlin`.
    pub fn time_zone(mut self, tz_id: impl Into<String>) -> Self {
        self.query.options.tz_id = Some(tz_id.into());
        self
    }

    /// Reads inside an MES transaction (`trans_id` header).
    pub fn transaction(mut self, trans_id: impl Into<String>) -> Self {
        self.query.options.trans_id = Some(trans_id.into());
        self
    }

    /// Sets every MES header at once (from a form, or a command line).
    pub fn options(mut self, options: LookupOptions) -> Self {
        self.query.options = options;
        self
    }

    /// Asks for one record (a `/key` endpoint, its key as the parameters): the answer is one
    /// object, read as the one row of the rows; an array holding exactly one object is read the
    /// same, and none or several are [`MesError::UnexpectedResponse`]. No `max_rows` is sent.
    pub fn record(mut self) -> Self {
        self.query.record = true;
        self
    }

    /// The URL this lookup will call.
    pub fn url(&self) -> String {
        lookup_url(self.query.api, self.query.endpoint, &self.query.params)
    }
}

/// A token of the caller's own that sends a [`Lookup`].
pub struct Bearer<'a> {
    token: &'a Secret,
    identity: Option<&'a str>,
}

impl<'a> Lookup<'a, Bearer<'a>> {
    /// A lookup of `endpoint` under `api` with `token`, which nothing renews: an expired one is
    /// [`MesError::SessionExpired`].
    pub fn new(api: &'a WebApiDefinition, endpoint: &'a str, token: &'a Secret) -> Self {
        Self::by(
            Bearer {
                token,
                identity: None,
            },
            api,
            endpoint,
        )
    }

    /// Whom the token speaks for, so that a denial names them.
    pub fn identity(mut self, who: &'a str) -> Self {
        self.by.identity = Some(who);
        self
    }

    /// Sends the lookup through `transport`; all rows in memory.
    pub async fn send(self, transport: &impl Transport) -> Result<Rows, MesError> {
        let mut rows = Rows::default();
        self.send_into(transport, &mut rows).await?;
        Ok(rows)
    }

    /// Sends the lookup, decoding the rows into `target` while they arrive. On an error the
    /// target may hold some rows; they are not the answer.
    pub async fn send_into(
        self,
        transport: &impl Transport,
        target: &mut dyn RowsTarget,
    ) -> Result<(), MesError> {
        self.query
            .send_into(transport, self.by.token, self.by.identity, target)
            .await
    }
}

impl Query<'_> {
    /// One call with `token`, with the authority probe that tells `AuthorityOffline` from
    /// another 500. Only a 2xx answer reaches `target`.
    pub(crate) async fn send_into(
        &self,
        transport: &impl Transport,
        token: &Secret,
        identity: Option<&str>,
        target: &mut dyn RowsTarget,
    ) -> Result<(), MesError> {
        let url = lookup_url(self.api, self.endpoint, &self.params);
        let mut sink = if self.record {
            RowsSink::record(target)
        } else {
            RowsSink::new(target)
        };
        let mut options = self.options.clone();
        if options.tz_id.is_none() {
            options.tz_id.clone_from(&self.api.time_zone);
        }
        if self.record {
            options.max_rows = None;
        }
        let response = transport
            .send_streaming(lookup_request(&url, token, &options), &mut sink)
            .await?;
        let outcome = if response.status().is_success() {
            check_streamed(&response, &sink)
        } else {
            parse_lookup_response(&response, identity).map(|_| ())
        };
        // A wait the MES (or the proxy before it) asked for, for the countdown before a retry.
        let retry_after = crate::transport::retry_after(&response, crate::time::now_seconds());
        match outcome {
            Err(MesError::ServerError { status: 500, message }) => match authority_verdict(&response) {
                AuthorityVerdict::Unreachable => Err(MesError::AuthorityOffline { message, retry_after }),
                AuthorityVerdict::NotAbout => Err(MesError::ServerError { status: 500, message }),
                // No message of the MES's own: whether this browser reaches the authority decides.
                AuthorityVerdict::Unsaid => {
                    if authority_answers(transport, &self.api.authority).await {
                        Err(MesError::ServerError { status: 500, message })
                    } else {
                        Err(MesError::AuthorityOffline { message, retry_after })
                    }
                }
            },
            other => other,
        }
    }
}

/// The verdict on a streamed 2xx answer, with the same words as [`parse_lookup_response`].
fn check_streamed(response: &HttpResponse, sink: &RowsSink<'_>) -> Result<(), MesError> {
    let status = response.status().as_u16();
    if status == 204 && sink.head.is_empty() {
        return Ok(());
    }
    let ct = content_type(response);
    let reason = match sink.outcome() {
        Ok(()) => return Ok(()),
        _ if sink.head.is_empty() => {
            "the answer is empty; an MES lookup answers [] when nothing matches".to_owned()
        }
        _ if !is_json(&ct) => "expected JSON".to_owned(),
        Err(e) if sink.decoder.wants_record() => format!("expected one record: {e}"),
        Err(e) => format!("expected an array of rows: {e}"),
    };
    Err(MesError::UnexpectedResponse {
        status,
        content_type: if ct.is_empty() {
            "no content type".into()
        } else {
            ct
        },
        reason,
        first_bytes: first_bytes(&sink.head),
    })
}

/// Whether the authority's discovery document answers at all.
pub async fn authority_answers(transport: &impl Transport, authority: &str) -> bool {
    crate::discovery::authority_reachable(transport, authority)
        .await
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first bytes kept for an error message stop at 256, however the body arrives.
    #[test]
    fn an_answers_head_is_kept_to_its_first_bytes() {
        let mut rows = Rows::default();
        let mut sink = RowsSink::new(&mut rows);
        for _ in 0..3 {
            sink.write(&[b' '; 100]);
        }
        assert_eq!(sink.head.len(), 256);
    }

    /// Only `aud` decides where a JWT access token may go; a JWT missing other claims is judged
    /// all the same, and an opaque token is left to its authority.
    #[test]
    fn a_jwt_goes_only_to_the_api_its_audience_names() {
        use base64::Engine as _;
        let jwt = |payload: serde_json::Value| {
            let b64 =
                |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            format!(
                "{}.{}.c2ln",
                b64(serde_json::json!({"alg": "RS256"})),
                b64(payload)
            )
        };
        let api: WebApiDefinition = serde_json::from_value(serde_json::json!({
            "name": "MES", "base_address": "https://mes.test/mesmw/", "request_uri": "api",
            "authentication_mode": "User Access Token", "authority": "https://aim.test/identitymanager",
            "audience": "mes-web-api", "client_id": "mes-portal"
        }))
        .expect("api");
        for sent in [
            jwt(serde_json::json!({"aud": "mes-web-api"})),
            jwt(serde_json::json!({"aud": ["other", "mes-web-api"], "iss": "x", "exp": 1})),
            "opaque-token-from-the-authority".to_owned(),
            "a.b.c".to_owned(),
        ] {
            assert!(refuse_token_for(&sent, &api).is_none(), "{sent}");
        }
        for kept in [
            jwt(serde_json::json!({"aud": "historian-api"})),
            jwt(serde_json::json!({"aud": ["historian-api"], "sub": "1"})),
            jwt(serde_json::json!({"sub": "no audience at all"})),
        ] {
            assert!(
                matches!(
                    refuse_token_for(&kept, &api),
                    Some(MesError::NotConfigured { .. })
                ),
                "{kept}"
            );
        }
        let mut open = api.clone();
        open.audience = String::new();
        assert!(refuse_token_for(&jwt(serde_json::json!({"aud": "x"})), &open).is_none());
    }

    #[test]
    fn an_mes_failure_is_told_in_its_own_words_its_first_bytes_or_that_it_said_nothing() {
        let said = |body: &str| message_of(&HttpResponse::new(503, body.to_owned()));
        assert_eq!(said(""), "HTTP 503 with no message");
        assert_eq!(said(r#"{"Message":"Database\u0007 down"}"#), "Database down");
        assert_eq!(
            said("<html>Service Unavailable</html>"),
            "<html>Service Unavailable</html>"
        );
    }

    fn api(base: &str) -> WebApiDefinition {
        serde_json::from_value(serde_json::json!({
            "name": "MES", "base_address": base, "request_uri": "api", "authentication_mode": "UserAccessToken",
            "authority": "https://aim", "client_id": "mes-portal"
        }))
        .expect("api")
    }

    fn answer(status: u16, ct: &str, body: &str) -> HttpResponse {
        HttpResponse::new(status, body).with_header("content-type", ct)
    }

    #[test]
    fn the_body_decides_empty_is_refused_and_a_bom_is_tolerated() {
        let rows = parse_lookup_response(&answer(200, "text/plain", r#"[{"a":1}]"#), None)
            .expect("JSON labelled text/plain");
        assert_eq!(rows.len(), 1);
        let rows = parse_lookup_response(&answer(200, "application/json", "\u{feff}[{\"a\":1}]"), None)
            .expect("BOM");
        assert_eq!(rows.column_names().collect::<Vec<_>>(), ["a"]);
        let html = parse_lookup_response(&answer(200, "text/html", "<html>sign in</html>"), None);
        assert!(
            matches!(html, Err(MesError::UnexpectedResponse { ref reason, .. }) if reason == "expected JSON"),
            "{html:?}"
        );
        let empty = parse_lookup_response(&answer(200, "application/json", ""), None);
        assert!(
            matches!(empty, Err(MesError::UnexpectedResponse { ref reason, .. }) if reason.contains("empty")),
            "{empty:?}"
        );
        assert_eq!(
            parse_lookup_response(&answer(204, "application/json", ""), None),
            Ok(Rows::default())
        );
        let too_large = MesError::from(crate::transport::TransportError::too_large(
            "https://mes/api/v3/lot?x=1",
            64 << 20,
        ));
        assert!(
            matches!(too_large, MesError::UnexpectedResponse { ref reason, .. } if reason.contains("larger than 64 MB")),
            "{too_large:?}"
        );
    }

    #[test]
    fn url_joins_base_request_uri_endpoint_and_query() {
        let url = lookup_url(
            &api("https://mes.example/mesmw/"),
            "/v3/entity/",
            &[("ent_name", "Line 1&2"), ("x", "é")],
        );
        assert_eq!(
            url,
            "https://mes.example/mesmw/api/v3/entity?ent_name=Line+1%262&x=%C3%A9"
        );
        assert_eq!(
            lookup_url::<&str, &str>(&api("https://mes.example/mesmw"), "v3/item", &[]),
            "https://mes.example/mesmw/api/v3/item"
        );
    }

    /// D9: an MES 500 is "the authority is offline" when the MES says so, an MES error when its
    /// message is about something else — whatever this browser reaches — and only without a
    /// message of its own does the portal ask the authority (here the canned transport answers
    /// that question with the same 500: not reachable).
    #[test]
    fn an_mes_500_is_judged_by_what_the_mes_says_the_probe_only_without_a_message() {
        use crate::transport::testing::{Canned, run_now};
        let api = api("https://mes.example/mesmw/");
        let token = Secret::new("tok");
        let run = |body: &str, kind: &str| {
            let transport = Canned::new(Ok(HttpResponse::new(500, body).with_header("content-type", kind)));
            let outcome = run_now(Lookup::new(&api, "v3/entity", &token).send(&transport));
            (outcome, transport.sent().len())
        };
        let (said, asked) = run(
            r#"{"Message":"The authentication token could not be verified because the identity authority (AVEVA Identity Manager) is unreachable."}"#,
            "application/json",
        );
        assert!(matches!(said, Err(MesError::AuthorityOffline { .. })), "{said:?}");
        assert_eq!(asked, 1, "the MES said it: no probe");
        let (said, asked) = run(
            r#"{"Message":"The lookup failed: database is locked"}"#,
            "application/json",
        );
        assert!(
            matches!(said, Err(MesError::ServerError { status: 500, .. })),
            "{said:?}"
        );
        assert_eq!(asked, 1, "about the database, not the authority: no probe");
        let (said, asked) = run("<html><body>Server Error</body></html>", "text/html");
        assert!(matches!(said, Err(MesError::AuthorityOffline { .. })), "{said:?}");
        assert_eq!(asked, 2, "no message of its own: the authority is asked");
        for (message, verdict) in [
            ("AIM is offline", AuthorityVerdict::Unreachable),
            (
                "Could not connect to the OpenID provider",
                AuthorityVerdict::Unreachable,
            ),
            (
                "Authorization has been denied for this request.",
                AuthorityVerdict::NotAbout,
            ),
            ("The claim could not be read: timeout", AuthorityVerdict::NotAbout),
            ("", AuthorityVerdict::Unsaid),
        ] {
            let body = serde_json::json!({ "Message": message }).to_string();
            assert_eq!(
                authority_verdict(&HttpResponse::new(500, body)),
                verdict,
                "{message}"
            );
        }
    }

    #[test]
    fn a_lookup_builds_its_url_and_headers_step_by_step() {
        let api = api("https://mes.example/mesmw/");
        let token = Secret::new("tok");
        let lookup = Lookup::new(&api, "v3/wo", &token)
            .param("state", "Released")
            .params([("ent_name", "Line 1"), ("state", "New")])
            .max_rows(500)
            .time_zone("Europe/Berlin")
            .transaction("t-9");
        assert_eq!(
            lookup.url(),
            "https://mes.example/mesmw/api/v3/wo?state=Released&ent_name=Line+1&state=New",
            "parameters in the order given, repeated names kept"
        );
        assert_eq!(
            lookup.query.options,
            LookupOptions {
                tz_id: Some("Europe/Berlin".into()),
                trans_id: Some("t-9".into()),
                max_rows: Some(500),
            }
        );
        let replaced = lookup.options(LookupOptions::default());
        assert_eq!(
            replaced.query.options,
            LookupOptions::default(),
            "options() sets them all"
        );
    }

    #[test]
    fn request_bytes() {
        let options = LookupOptions {
            tz_id: Some("Europe/Berlin".into()),
            trans_id: None,
            max_rows: Some(50),
        };
        let request = lookup_request(
            "https://mes.example/mesmw/api/v3/entity",
            &Secret::new("tok"),
            &options,
        );
        assert_eq!(request.method(), crate::transport::Method::Get);
        assert_eq!(request.url(), "https://mes.example/mesmw/api/v3/entity");
        assert_eq!(request.headers().get("authorization"), Some("Bearer tok"));
        assert_eq!(request.headers().get("accept"), Some("application/json"));
        assert_eq!(request.headers().get("tz_id"), Some("Europe/Berlin"));
        assert_eq!(request.headers().get("max_rows"), Some("50"));
        assert!(request.headers().get("trans_id").is_none());
    }

    #[test]
    fn classification() {
        let who = Some("PLANT\\alice");
        assert_eq!(
            parse_lookup_response(
                &answer(200, "application/json; charset=utf-8", r#"[{"a":1}]"#),
                who
            )
            .expect("rows")
            .len(),
            1
        );
        assert_eq!(
            parse_lookup_response(&answer(401, "application/json", "{}"), who),
            Err(MesError::SessionExpired)
        );
        assert_eq!(
            parse_lookup_response(
                &answer(
                    403,
                    "application/json",
                    r#"{"Message":"You do not have permission to make the request"}"#
                ),
                who
            ),
            Err(MesError::Denied {
                message: "You do not have permission to make the request".into(),
                identity: Some("PLANT\\alice".into())
            })
        );
        assert!(matches!(
            parse_lookup_response(
                &answer(
                    404,
                    "application/json",
                    r#"{"Message":"You do not have the appropriate privileges to access this entity"}"#
                ),
                who
            ),
            Err(MesError::Denied { .. })
        ));
        assert!(matches!(
            parse_lookup_response(
                &answer(404, "application/json", r#"{"Message":"No HTTP resource"}"#),
                who
            ),
            Err(MesError::NotFound { .. })
        ));
        assert_eq!(
            parse_lookup_response(
                &answer(500, "application/json", r#"{"Message":"authority unreachable"}"#),
                who
            ),
            Err(MesError::ServerError {
                status: 500,
                message: "authority unreachable".into()
            })
        );
        match parse_lookup_response(&answer(200, "text/html", "<html><h1>Server Error</h1>"), who) {
            Err(MesError::UnexpectedResponse {
                status: 200,
                content_type,
                first_bytes,
                ..
            }) => {
                assert_eq!(content_type, "text/html");
                assert!(first_bytes.starts_with("<html>"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_lookup_response(&answer(200, "application/json", r#"{"a":1}"#), who),
            Err(MesError::UnexpectedResponse { .. })
        ));
        assert!(matches!(
            parse_lookup_response(&answer(502, "text/html", "<html>bad gateway"), who),
            Err(MesError::ServerError { status: 502, .. })
        ));
    }
}
