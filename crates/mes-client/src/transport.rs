//! The one HTTP seam: a request goes out as an [`HttpRequest`], an answer comes back as an
//! [`HttpResponse`]. Everything else in the crate is pure request building and response parsing
//! around it, so it runs the same in the browser (gloo-net) and natively (reqwest).
//!
//! The two types are the crate's own, small ones: the `http` crate's request, header map and URI
//! parser weigh about 5 kB gzipped in the wasm for the few fields used here.

use std::future::Future;

/// The methods the crate sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET: discovery, keys, MES lookups.
    Get,
    /// POST: token and revocation requests (a form).
    Post,
}

/// Header fields, names in lower case; lookups ignore case. Debug shows the names and only the
/// values that cannot carry a credential.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

/// The header fields whose values Debug may show: none of them carries a token, a secret or a
/// session.
const SHOWN_HEADERS: [&str; 6] = [
    "accept",
    "content-type",
    "content-length",
    "content-encoding",
    "location",
    "retry-after",
];

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in &self.0 {
            if SHOWN_HEADERS.contains(&name.as_str()) {
                map.entry(name, value);
            } else {
                map.entry(name, &"…");
            }
        }
        map.finish()
    }
}

impl Headers {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Adds a field.
    pub fn append(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_ascii_lowercase(), value.into()));
    }

    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// An HTTP request as the crate builds it. Its Debug output names the method, the URL, the
/// header names and the body's length — never an `Authorization` value, a secret or a body,
/// which may be a form with a code, a refresh token or a client secret.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    method: Method,
    url: String,
    headers: Headers,
    body: Vec<u8>,
    time_limit: Option<u32>,
}

impl HttpRequest {
    /// A GET of `url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: Method::Get,
            url: url.into(),
            headers: Headers::default(),
            body: Vec::new(),
            time_limit: None,
        }
    }

    /// A POST to `url` with `body`.
    pub fn post(url: impl Into<String>, body: Vec<u8>) -> Self {
        Self {
            method: Method::Post,
            body,
            ..Self::get(url)
        }
    }

    /// With the header `name: value` added.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Whether a redirect in answer to this request is an error rather than an answer: a POST
    /// carries a code, a refresh token or a secret, a request with `Authorization` the person's
    /// bearer token, and a redirect must not carry either on. Both transports ask this.
    pub(crate) fn refuses_redirects(&self) -> bool {
        self.method == Method::Post || self.headers.get("authorization").is_some()
    }

    /// With a whole-exchange time limit of `seconds`, when shorter than the transport's own.
    pub fn time_limit(mut self, seconds: u32) -> Self {
        self.time_limit = Some(seconds);
        self
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The absolute URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The body (empty for a GET).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The request as it may go out: when its URL is not an absolute http(s) URL without
    /// whitespace (a malformed endpoint from discovery or configuration) or a header value could
    /// split the header (a line break), it becomes a bodiless GET of a host that never resolves, so it fails
    /// visibly and its body — perhaps a token — is never sent to the page's own origin, which a
    /// relative URI such as `/` would mean in the browser.
    pub(crate) fn checked(self) -> Self {
        // Whitespace is refused although a URL parser would escape it: an address that needs
        // repair is not one to send a token to.
        let url_ok = !self
            .url
            .contains(|c: char| c.is_ascii_whitespace() || c.is_control())
            && crate::AbsoluteUrl::parse(&self.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        let headers_ok = self.headers.iter().all(|(_, v)| !v.contains(['\r', '\n', '\0']));
        if url_ok && headers_ok {
            self
        } else {
            Self::get("http://invalid.invalid/")
        }
    }
}

/// A GET that wants JSON (discovery, keys, config.json).
pub(crate) fn get_json(url: &str) -> HttpRequest {
    HttpRequest::get(url)
        .header("accept", "application/json")
        .checked()
}

/// Attacker-controlled text, cut to a sane length and stripped of control characters, for error
/// messages.
pub(crate) fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(300).collect()
}

/// An HTTP status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCode(pub u16);

impl StatusCode {
    /// The number.
    pub fn as_u16(self) -> u16 {
        self.0
    }

    /// 2xx.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.0)
    }
}

impl PartialEq<u16> for StatusCode {
    fn eq(&self, other: &u16) -> bool {
        self.0 == *other
    }
}

/// An HTTP response as a transport returns it. Its Debug output names the status, the headers
/// as [`Headers`] shows them and the body's length — never the body, which may be a token answer.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    status: StatusCode,
    headers: Headers,
    body: Vec<u8>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("body_bytes", &self.body.len())
            .field("time_limit", &self.time_limit)
            .finish()
    }
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl HttpResponse {
    /// An answer with `status` and `body` and no header fields yet.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: StatusCode(status),
            headers: Headers::default(),
            body: body.into(),
        }
    }

    /// With the header `name: value` added.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// The request never got an HTTP answer: DNS, refused connection, TLS, CORS (the browser hides
/// which), or a body larger than the transport accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url}: {reason}")]
pub struct TransportError {
    /// The address that failed, without its query string.
    pub url: String,
    /// What the platform said.
    pub reason: String,
    /// Which kind of failure.
    pub kind: TransportErrorKind,
}

/// Why no usable answer arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransportErrorKind {
    /// No answer or a broken one: refused, reset, DNS, TLS, CORS.
    #[default]
    Network,
    /// The server answered, but with more than the transport accepts; reading stopped there.
    TooLarge,
    /// No complete answer in time.
    TimedOut,
    /// The server answered with a redirect where none is allowed (token and revocation
    /// requests): reading stopped, nothing was sent on.
    Redirected,
}

impl TransportErrorKind {
    /// Whether the server may simply be away (no answer, or none in time), as opposed to one
    /// that answered with something unusable.
    pub fn is_outage(self) -> bool {
        matches!(self, Self::Network | Self::TimedOut)
    }
}

impl TransportError {
    pub(crate) fn new(url: &str, reason: impl Into<String>) -> Self {
        Self {
            url: strip_query(url).to_owned(),
            reason: reason.into(),
            kind: TransportErrorKind::Network,
        }
    }

    pub(crate) fn too_large(url: &str, limit: usize) -> Self {
        let size = if limit >= 1024 * 1024 {
            format!("{} MB", limit / (1024 * 1024))
        } else {
            format!("{limit} bytes")
        };
        let reason = format!("the answer is larger than {size}, the most accepted");
        Self {
            kind: TransportErrorKind::TooLarge,
            ..Self::new(url, reason)
        }
    }

    pub(crate) fn redirected(url: &str) -> Self {
        let reason = "the server answered with a redirect, which this request never follows";
        Self {
            kind: TransportErrorKind::Redirected,
            ..Self::new(url, reason)
        }
    }

    pub(crate) fn timed_out(url: &str, seconds: u32) -> Self {
        Self {
            kind: TransportErrorKind::TimedOut,
            ..Self::new(url, format!("no complete answer within {seconds} s"))
        }
    }
}

/// `Send` natively (futures that hold it can move between threads), nothing in the browser
/// (whose values hold JavaScript objects and never leave their thread).
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}
/// `Send` natively (futures that hold it can move between threads), nothing in the browser
/// (whose values hold JavaScript objects and never leave their thread).
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// `Sync` natively, nothing in the browser (see [`MaybeSend`]).
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync + ?Sized> MaybeSync for T {}
/// `Sync` natively, nothing in the browser (see [`MaybeSend`]).
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// Where a streamed answer's body goes, piece by piece as it arrives.
pub trait BodySink: MaybeSend {
    /// Takes the next piece; `false` stops the reading (the rest is not fetched).
    fn write(&mut self, piece: &[u8]) -> bool;
}

/// Sends one request. The future is a named type so that `Send` carries through to callers:
/// the native transport's futures are `Send` (spawnable on a multi-threaded runtime), the
/// browser's need not be.
pub trait Transport: MaybeSync {
    /// The future [`Transport::send`] returns (`Send` natively).
    type Future<'a>: Future<Output = Result<HttpResponse, TransportError>> + MaybeSend + 'a
    where
        Self: 'a;
    /// Sends `request` and returns the whole answer, whatever its status.
    fn send(&self, request: HttpRequest) -> Self::Future<'_>;
    /// Sends `request`; a 2xx answer's body goes to `sink` piece by piece as it arrives (the
    /// returned response's body is then empty), any other answer comes back whole. The body
    /// limit counts streamed bytes too. In the browser the reading yields to the page between
    /// pieces, so what the sink shows can be painted while the rest arrives.
    fn send_streaming<'a>(&'a self, request: HttpRequest, sink: &'a mut dyn BodySink) -> Self::Future<'a>;
}

/// Collects a body; what `send` uses.
#[derive(Default)]
struct Collect {
    body: Vec<u8>,
}

impl BodySink for Collect {
    fn write(&mut self, piece: &[u8]) -> bool {
        self.body.extend_from_slice(piece);
        true
    }
}

/// Largest answer body accepted by default (8 MiB): an MES lookup of 100,000 rows of 10 columns
/// is about 15 MB as JSON, so lookups raise it; everything else is small.
pub const DEFAULT_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// How long a whole exchange may take unless the request says less ([`HttpRequest::time_limit`]).
pub(crate) const REQUEST_SECONDS: u32 = 60;

pub(crate) fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// The first bytes of a body, as text a person can read in an error message.
pub fn first_bytes(body: &[u8]) -> String {
    const SHOWN: usize = 200;
    let cut = &body[..body.len().min(SHOWN)];
    let mut text: String = String::from_utf8_lossy(cut)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if body.len() > SHOWN {
        text.push('…');
    }
    text
}

/// The `Content-Type` of a response, lowercased and without parameters.
pub(crate) fn content_type(response: &HttpResponse) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The longest wait a `Retry-After` is believed for (10 minutes): a hint of hours — a
/// misconfigured proxy, or an answer meant for another client — must not keep a plant screen
/// from trying again; the person can always try at once.
pub const RETRY_AFTER_LIMIT_SECONDS: u64 = 600;

/// How many seconds from `now` an answer asks the caller to wait before asking again
/// (`Retry-After`, RFC 9110 §10.2.3: delay-seconds or an HTTP date), at most
/// [`RETRY_AFTER_LIMIT_SECONDS`]. Absent, malformed or already past: `None`. In a browser the
/// header is visible across origins only when the server lists it in
/// `Access-Control-Expose-Headers`; without it the caller's own backoff applies.
pub fn retry_after(response: &HttpResponse, now: u64) -> Option<u64> {
    let value = response.headers().get("retry-after")?.trim();
    let seconds = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits beyond u64 are a wait longer than the limit anyway.
        value.parse::<u64>().unwrap_or(u64::MAX)
    } else {
        crate::time::http_date_seconds(value)?.checked_sub(now)?
    };
    (seconds > 0).then_some(seconds.min(RETRY_AFTER_LIMIT_SECONDS))
}

pub(crate) fn is_json(content_type: &str) -> bool {
    content_type == "application/json"
        || (content_type.starts_with("application/") && content_type.ends_with("+json"))
}

#[cfg(target_arch = "wasm32")]
pub use browser::{BrowserTransport, Feed, ReadError, read_body_stream, read_js_text};
#[cfg(not(target_arch = "wasm32"))]
pub use native::NativeTransport;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::describe;

#[cfg(not(target_arch = "wasm32"))]
mod native;

#[cfg(target_arch = "wasm32")]
mod browser;

/// A transport for unit tests: records what is sent and answers with a canned answer.
#[cfg(test)]
pub(crate) mod testing {
    use super::{BodySink, HttpRequest, HttpResponse, Transport, TransportError};
    use std::sync::Mutex;

    pub(crate) struct Canned {
        answer: Result<HttpResponse, TransportError>,
        sent: Mutex<Vec<HttpRequest>>,
    }

    impl Canned {
        pub(crate) fn new(answer: Result<HttpResponse, TransportError>) -> Self {
            Self {
                answer,
                sent: Mutex::new(Vec::new()),
            }
        }

        /// Every request sent so far.
        pub(crate) fn sent(&self) -> Vec<HttpRequest> {
            self.sent.lock().expect("lock").clone()
        }
    }

    impl Transport for Canned {
        type Future<'a> = std::future::Ready<Result<HttpResponse, TransportError>>;

        fn send(&self, request: HttpRequest) -> Self::Future<'_> {
            self.sent.lock().expect("lock").push(request);
            std::future::ready(self.answer.clone())
        }

        fn send_streaming<'a>(&'a self, request: HttpRequest, _: &'a mut dyn BodySink) -> Self::Future<'a> {
            self.send(request)
        }
    }

    /// Runs a future that never waits (a [`Canned`] transport answers at once).
    pub(crate) fn run_now<F: std::future::Future>(future: F) -> F::Output {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("a canned transport answers at once"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{HttpRequest, HttpResponse, Method};

    /// Review E8: Debug of a request or an answer (what a log line or a panic message shows)
    /// carries no bearer token, Basic secret, cookie or token body.
    #[test]
    fn debug_output_never_shows_a_credential_or_a_body() {
        let request = HttpRequest::post(
            "https://aim.plant.example/connect/token",
            b"grant_type=refresh_token&refresh_token=rt-SECRET-1".to_vec(),
        )
        .header("authorization", "Bearer at-SECRET-2")
        .header("cookie", "idsrv=SECRET-3")
        .header("x-api-key", "SECRET-4")
        .header("content-type", "application/x-www-form-urlencoded");
        let answer = HttpResponse::new(200, r#"{"access_token":"at-SECRET-5"}"#)
            .with_header("set-cookie", "s=SECRET-6")
            .with_header("content-type", "application/json");
        let shown = format!("{request:?} {answer:?} {request:#?} {answer:#?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        for seen in [
            "authorization",
            "cookie",
            "application/json",
            "connect/token",
            "body_bytes: 50",
        ] {
            assert!(shown.contains(seen), "{seen} missing from {shown}");
        }
    }

    #[test]
    fn only_absolute_http_requests_with_clean_headers_go_out() {
        let good = HttpRequest::post("https://aim.example/connect/token", b"code=1".to_vec())
            .header("Accept", "application/json");
        assert_eq!(good.clone().checked(), good, "a good request is left as it is");
        assert_eq!(
            good.headers().get("accept"),
            Some("application/json"),
            "names are looked up ignoring case"
        );
        for bad in [
            HttpRequest::post("/connect/token", b"code=1".to_vec()),
            HttpRequest::post("javascript:alert(1)", b"code=1".to_vec()),
            HttpRequest::post("https://aim.example/connect/token\n", b"code=1".to_vec()),
            HttpRequest::post("https://aim.example/connect/token", b"code=1".to_vec())
                .header("authorization", "Bearer a\r\nX-Evil: 1"),
        ] {
            let sent = bad.clone().checked();
            assert_eq!(
                (sent.url(), sent.method(), sent.body()),
                ("http://invalid.invalid/", Method::Get, &b""[..]),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn first_bytes_are_printable_and_say_when_there_is_more() {
        use super::first_bytes;
        assert_eq!(
            first_bytes(b"<h1>Bad\x07 gateway\r\n</h1>"),
            "<h1>Bad gateway</h1>"
        );
        assert_eq!(first_bytes(&[b'a'; 200]), "a".repeat(200), "200 bytes: all shown");
        assert_eq!(first_bytes(&[b'a'; 201]), format!("{}…", "a".repeat(200)));
    }

    #[test]
    fn json_is_application_json_or_a_json_suffix_of_an_application_type() {
        use super::is_json;
        for yes in [
            "application/json",
            "application/problem+json",
            "application/vnd.mes+json",
        ] {
            assert!(is_json(yes), "{yes}");
        }
        for no in [
            "application/xml",
            "text/html",
            "text/x+json",
            "application/jsonp",
            "",
        ] {
            assert!(!is_json(no), "{no}");
        }
    }

    #[test]
    fn an_answer_too_large_names_the_limit_in_megabytes_or_bytes() {
        use super::TransportError;
        let said = |limit| TransportError::too_large("https://mes.test/api/v3/lot?x=1", limit);
        assert!(said(8 * 1024 * 1024).reason.contains("larger than 8 MB"));
        assert!(said(100_000).reason.contains("larger than 100000 bytes"));
        assert!(said(1024 * 1024).reason.contains("larger than 1 MB"));
        assert_eq!(
            said(1).url,
            "https://mes.test/api/v3/lot",
            "no query in what is shown"
        );
    }

    #[test]
    fn retry_after_reads_seconds_or_a_date_within_the_limit() {
        use super::{RETRY_AFTER_LIMIT_SECONDS, retry_after};
        let now = 1_796_605_200; // Mon, 07 Dec 2026 01:00:00 GMT
        let said =
            |value: &str| retry_after(&HttpResponse::new(429, "").with_header("Retry-After", value), now);
        assert_eq!(said("120"), Some(120));
        assert_eq!(said(" 7 "), Some(7));
        assert_eq!(said("Mon, 07 Dec 2026 01:01:30 GMT"), Some(90));
        assert_eq!(said("86400"), Some(RETRY_AFTER_LIMIT_SECONDS), "hours are capped");
        assert_eq!(said("99999999999999999999999"), Some(RETRY_AFTER_LIMIT_SECONDS));
        for nothing in ["0", "Mon, 07 Dec 2026 00:59:00 GMT", "-5", "1.5", "soon", ""] {
            assert_eq!(said(nothing), None, "{nothing:?}");
        }
        assert_eq!(retry_after(&HttpResponse::new(503, ""), now), None);
    }
}
