//! What every end-to-end scenario starts from: a stack serving the built portal, a fresh
//! browser that is closed whatever happens, signing in, reading the grid, and the audit that no
//! token reached browser storage, the address bar or the console.

use crate::portal;
use crate::{BrowserLog, dist};
use anyhow::{Result, anyhow, bail};
use devstack::{Stack, StackOptions};
use fantoccini::Client;
use std::path::PathBuf;
use std::time::Duration;

/// The stand-ins serving the built portal, with the test defaults.
pub async fn stack(name: &str) -> Stack {
    stack_with(name, |_| {}).await
}

/// The stand-ins serving the built portal, with `tune` applied to the test defaults.
pub async fn stack_with(name: &str, tune: impl FnOnce(&mut StackOptions)) -> Stack {
    let mut options = StackOptions::for_tests(name);
    options.dist_dir = Some(dist());
    options.examples_dir = Some(
        std::env::var_os("MES_PORTAL_EXAMPLES")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples"))),
    );
    // MES asks AIM for its keys on every call, so an outage shows on the next call.
    options.jwks_ttl = Duration::ZERO;
    tune(&mut options);
    Stack::start(options).await.expect("stack starts")
}

/// The stand-ins for a portal deployed on `sites`: AIM and the MES on `aim.test` and `mes.test`
/// behind the sites' nginx, the portal known at `portal.test`; `tune` adds to the options.
pub async fn stack_on_sites(
    name: &str,
    sites: &crate::site::Sites,
    tune: impl FnOnce(&mut StackOptions),
) -> Stack {
    stack_with(name, |o| {
        o.extra_portal_origins = vec![sites.origin(crate::site::PORTAL_HOST)];
        o.public_sites = Some(sites.public_sites());
        tune(o);
    })
    .await
}

/// Runs `scenario` with a fresh browser, closing it before reporting (a failed assertion must
/// not leave Chromium running).
pub async fn with_browser<F, Fut>(scenario: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    with_browser_in(None, scenario).await
}

/// [`with_browser`] in a browser that prefers `languages` (see [`crate::browser_in`]).
pub async fn with_browser_in<F, Fut>(languages: Option<&str>, scenario: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let started = crate::browser_in(languages).await.expect("browser");
    run_closing(started, scenario).await
}

/// [`with_browser`] in a browser where `host_names` are sites of their own on loopback
/// ([`crate::browser_for_sites`]).
pub async fn with_browser_for_sites<F, Fut>(host_names: &[&str], scenario: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let started = crate::browser_for_sites(host_names).await.expect("browser");
    run_closing(started, scenario).await
}

/// Runs `scenario`, then closes the browser whatever happened, then reports.
async fn run_closing<F, Fut>((client, driver): (Client, crate::Driver), scenario: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let result = scenario(client.clone()).await;
    if result.is_err()
        && let Ok(png) = client.screenshot().await
    {
        let path = std::env::temp_dir().join("e2e-failure.png");
        let _ = std::fs::write(&path, png);
        eprintln!("screenshot of the failure: {}", path.display());
    }
    let _ = client.close().await;
    drop(driver);
    result.expect("scenario");
}

/// Saves a screenshot as `name.png` into MES_PORTAL_SCREENSHOTS, when set (README pictures).
pub async fn screenshot(client: &Client, name: &str) -> Result<()> {
    if let Some(dir) = std::env::var_os("MES_PORTAL_SCREENSHOTS") {
        // Relative to the workspace root, as the README's command is written there.
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(dir);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{name}.png")), client.screenshot().await?)?;
    }
    Ok(())
}

/// Signs in through the portal's button and AIM's form.
pub async fn sign_in(client: &Client, stack: &Stack, user: &str, password: &str) -> Result<()> {
    portal::sign_in_at(client, &stack.portal_origin, user, password).await
}

/// Waits until every access token the stand-in AIM has issued so far is past its `exp` (plus a
/// second for the clocks' whole seconds): the moment the renewal tests need, read from the
/// tokens themselves rather than guessed from a lifetime.
pub async fn until_access_tokens_expire(stack: &Stack) {
    let last = stack
        .aim
        .issued_tokens()
        .iter()
        .filter_map(|token| mes_client::decode_unverified(token).ok())
        .filter(|jwt| jwt.header.typ.as_deref() == Some("at+jwt"))
        .map(|jwt| jwt.claims.exp)
        .max()
        .unwrap_or_default();
    let now = i64::try_from(mes_client::now_seconds()).unwrap_or(i64::MAX);
    let left = u64::try_from(last + 1 - now).unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(left)).await;
}

/// No token the authority issued is in browser storage, cookies, IndexedDB, the URL, history,
/// the page's text (whatever state it shows) or the console, and the console shows no panic.
pub async fn assert_no_token_stored(client: &Client, stack: &Stack) -> Result<()> {
    let issued = stack.aim.issued_tokens();
    if issued.is_empty() {
        bail!("the authority issued no tokens: the audit would prove nothing");
    }
    audit_browser_state(client, &issued).await
}

/// The same audit for an authority outside devstack (the certified provider), whose tokens this
/// test cannot list but which are all JWTs: no JWT (`eyJ….eyJ…`) anywhere in browser state.
pub async fn assert_no_jwt_stored(client: &Client) -> Result<()> {
    audit_browser_state(client, &[]).await
}

/// What one document holds: its storage (partitioned, in a frame of another site), cookies,
/// IndexedDB names, address, and its text and markup with every open shadow root's (a
/// `<mes-lookup-grid>` draws its grid in one).
const DOCUMENT_DUMP: &str = "const done = arguments[arguments.length - 1];
     const all = s => Object.keys(s).map(k => k + '=' + s.getItem(k)).join('\\n');
     const shadows = [];
     const walk = root => root.querySelectorAll('*').forEach(e => {
         if (e.shadowRoot) { shadows.push(e.shadowRoot.innerHTML); walk(e.shadowRoot); } });
     walk(document);
     const dbs = indexedDB.databases ? indexedDB.databases() : Promise.resolve([]);
     dbs.then(d => done({ local: all(localStorage), session: all(sessionStorage), cookies: document.cookie,
         url: location.href, history: history.length, idb: d.map(x => x.name),
         page: document.body ? document.body.innerText : '', markup: document.documentElement.outerHTML,
         shadows: shadows, frames: window.frames.length }));";

/// No piece of the `issued` tokens (with none listed: no JWT at all) in storage, cookies,
/// IndexedDB, the URL, the text, markup and shadow roots of the page and of every frame in it
/// (a framed grid keeps its session in its own, partitioned document), or the console; no
/// panic; nothing else in storage.
async fn audit_browser_state(client: &Client, issued: &[String]) -> Result<()> {
    let top = client.execute_async(DOCUMENT_DUMP, vec![]).await?;
    let mut dumps = vec![("the page".to_owned(), top.clone())];
    let frames = top["frames"].as_u64().unwrap_or(0);
    for index in 0..u16::try_from(frames).unwrap_or(u16::MAX) {
        client.enter_frame(index).await?;
        // A frame the browser refused (an error page) holds nothing and runs nothing.
        if let Ok(dump) = client.execute_async(DOCUMENT_DUMP, vec![]).await {
            dumps.push((format!("frame {index}"), dump));
        }
        client.enter_parent_frame().await?;
    }
    let console = client
        .issue_cmd(BrowserLog)
        .await
        .map_err(|e| anyhow!("reading the console: {e}"))?;
    if !console.is_array() {
        bail!("chromedriver gave no console log: {console}");
    }
    if console.to_string().contains("panicked at") {
        bail!("the portal panicked: {console}");
    }
    for (whose, dump) in &dumps {
        audit_document(whose, dump, issued, &console)?;
    }
    Ok(())
}

/// [`audit_browser_state`] for one document's dump.
fn audit_document(
    whose: &str,
    dump: &serde_json::Value,
    issued: &[String],
    console: &serde_json::Value,
) -> Result<()> {
    let text = format!("{whose}: {dump} console: {console}");
    if issued.is_empty() && contains_jwt(&text) {
        bail!("a JWT leaked into browser state: {text}");
    }
    for token in issued {
        // Any 24-character piece of a token counts: JWTs share headers, so pieces come from the end.
        let piece = &token[token.len().saturating_sub(24)..];
        if text.contains(piece) {
            bail!("a token leaked into browser state: {text}");
        }
    }
    // sessionStorage may hold one thing between sign-ins: when this tab last tried a silent
    // sign-in (a number; the renewal breaker reads it).
    let session = dump["session"].as_str().unwrap_or_default();
    let breaker_only = session.is_empty()
        || session
            .strip_prefix("mes-client.silent-sign-in-at=")
            .is_some_and(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()));
    if dump["local"] != "" || !breaker_only || dump["cookies"] != "" || dump["idb"] != serde_json::json!([]) {
        bail!("the portal left something in browser storage ({whose}): {text}");
    }
    let url = dump["url"].as_str().unwrap_or_default();
    if url.contains("code=") || url.contains("state=") || url.contains("token") {
        bail!("the address bar keeps sign-in parameters ({whose}): {url}");
    }
    Ok(())
}

/// Whether `text` holds something shaped like a JWT: a base64url JSON header, a dot, a
/// base64url JSON payload.
fn contains_jwt(text: &str) -> bool {
    text.match_indices("eyJ").any(|(at, _)| {
        let rest = &text[at..];
        let header = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
            .count();
        header >= 10 && rest[header..].starts_with(".eyJ")
    })
}

/// The stand-ins shared between the scenario and the test body (which stops and starts them).
pub async fn shared_stack(name: &str) -> std::sync::Arc<tokio::sync::Mutex<Stack>> {
    shared_stack_with(name, |_| {}).await
}

/// [`shared_stack`] with `tune` applied to the test defaults.
pub async fn shared_stack_with(
    name: &str,
    tune: impl FnOnce(&mut StackOptions),
) -> std::sync::Arc<tokio::sync::Mutex<Stack>> {
    std::sync::Arc::new(tokio::sync::Mutex::new(stack_with(name, tune).await))
}
