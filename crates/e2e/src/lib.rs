//! Shared by the end-to-end tests and `cargo xtask bench`: the built portal's location,
//! chromedriver + headless Chromium, waiting helpers and raw WebDriver/CDP commands.

pub mod aim;
pub mod frame;
pub mod grid;
pub mod portal;
pub mod scanner;
pub mod scenario;
pub use mes_portal::selectors;
pub mod site;

use anyhow::{Context as _, Result, anyhow, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long a wait for the page lasts before it fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// The built portal: MES_PORTAL_DIST, or `dist/` at the workspace root.
pub fn dist() -> PathBuf {
    let dist = std::env::var_os("MES_PORTAL_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../dist")));
    assert!(
        dist.join("index.html").exists(),
        "{} has no built portal: run `cargo xtask test` (it builds it first)",
        dist.display()
    );
    dist
}

/// Where Chromium saves downloads during this run.
pub fn downloads() -> PathBuf {
    std::env::temp_dir().join(format!("e2e-downloads-{}", std::process::id()))
}

/// The chromedriver process; killed when dropped.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts chromedriver and a fresh headless Chromium profile (cold cache, no cookies); the
/// console is kept for [`BrowserLog`].
pub async fn browser() -> Result<(Client, Driver)> {
    browser_in(None).await
}

/// [`browser`], preferring `languages` (`de-DE,de`: `navigator.languages`, `Accept-Language`
/// and `Intl`'s default locale), as a person's browser set to that language does.
pub async fn browser_in(languages: Option<&str>) -> Result<(Client, Driver)> {
    start_browser(languages, None).await
}

/// [`browser`] that resolves the test's host names (`portal.test`, `intranet.test`, …) to
/// loopback and nothing else (Chromium's `--host-resolver-rules`), so each is a site of its own
/// — storage, cookies and framing rules apply as between real sites — and that accepts the
/// test CA's certificates.
pub async fn browser_for_sites(host_names: &[&str]) -> Result<(Client, Driver)> {
    browser_for_sites_trusting(host_names, None).await
}

/// [`browser_for_sites`] that treats certificates with these public keys as valid
/// ([`site::Sites::spki_hashes`]): their answers are cached as a real site's are.
pub async fn browser_for_sites_trusting(host_names: &[&str], spki: Option<&str>) -> Result<(Client, Driver)> {
    let rules: Vec<String> = host_names.iter().map(|h| format!("MAP {h} 127.0.0.1")).collect();
    let mut args = vec![format!(
        "--host-resolver-rules={}, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        rules.join(", ")
    )];
    if let Some(spki) = spki {
        args.push(format!("--ignore-certificate-errors-spki-list={spki}"));
    }
    start_browser(None, Some(args)).await
}

/// Chromium through chromedriver; `sites`: arguments for the tests' own sites (their host names,
/// their certificates), which the browser then accepts.
async fn start_browser(languages: Option<&str>, sites: Option<Vec<String>>) -> Result<(Client, Driver)> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let driver = Driver(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {chromedriver} (cargo xtask test installs it)"))?,
    );
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    let mut chrome = serde_json::json!({ "args": [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--window-size=1280,900"
    ]});
    if let Ok(binary) = std::env::var("CHROMIUM") {
        chrome["binary"] = binary.into();
    }
    chrome["prefs"] = serde_json::json!({
        "download.default_directory": downloads().to_string_lossy(),
        "download.prompt_for_download": false,
    });
    if let Some(languages) = languages {
        chrome["prefs"]["intl.accept_languages"] = languages.into();
        let first = languages.split(',').next().unwrap_or(languages);
        if let Some(args) = chrome["args"].as_array_mut() {
            args.push(format!("--lang={first}").into());
            args.push(format!("--accept-lang={languages}").into());
        }
    }
    if let Some(sites) = sites {
        if let Some(args) = chrome["args"].as_array_mut() {
            args.extend(sites.into_iter().map(serde_json::Value::from));
        }
        caps.insert("acceptInsecureCerts".into(), true.into());
    }
    caps.insert("goog:chromeOptions".into(), chrome);
    // The console, for the leak audit.
    caps.insert(
        "goog:loggingPrefs".into(),
        serde_json::json!({ "browser": "ALL" }),
    );
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return Ok((client, driver)),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    bail!("chromedriver did not start on {url}")
}

/// Waits for an element, polling through navigations (the portal redirects through AIM, and a
/// lookup during a page change fails with other errors than "no such element").
pub async fn wait_for(client: &Client, css: &str) -> Result<fantoccini::elements::Element> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        match client.find(Locator::Css(css)).await {
            Ok(element) => return Ok(element),
            Err(e) if std::time::Instant::now() > deadline => {
                return Err(anyhow!(e)).with_context(|| format!("waiting for {css}"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Clicks the first element matching `css` once it takes a click. A page still laying out (a
/// framed grid's button, a popup's form, a tab just opened) answers "element not interactable"
/// or "click intercepted" for a moment, and a re-render replaces the element: those are retried
/// until [`WAIT`]; the error names `css`.
pub async fn click(client: &Client, css: &str) -> Result<()> {
    act_on(client, css, |element| async move { element.click().await }).await
}

/// Types `text` into the first element matching `css` once it takes keys (as [`click`]).
pub async fn type_into(client: &Client, css: &str, text: &str) -> Result<()> {
    act_on(
        client,
        css,
        |element| async move { element.send_keys(text).await },
    )
    .await
}

async fn act_on<F, Fut>(client: &Client, css: &str, act: F) -> Result<()>
where
    F: Fn(fantoccini::elements::Element) -> Fut,
    Fut: std::future::Future<Output = Result<(), fantoccini::error::CmdError>>,
{
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let element = wait_for(client, css).await?;
        match act(element).await {
            Ok(()) => return Ok(()),
            Err(e)
                if std::time::Instant::now() < deadline
                    && (e.is_element_not_interactable()
                        || e.is_stale_element_reference()
                        || matches!(&e, fantoccini::error::CmdError::Standard(w)
                            if w.error == fantoccini::error::ErrorStatus::ElementClickIntercepted)) =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(anyhow!(e)).with_context(|| format!("acting on {css}")),
        }
    }
}

/// The text of the first element matching `css`, once there is one.
pub async fn text_of(client: &Client, css: &str) -> Result<String> {
    Ok(wait_for(client, css).await?.text().await?)
}

/// Waits until the elements matching `css` together say every one of `needles` (the page may
/// pass through other states with the same selector first), and returns their text.
pub async fn wait_for_text(client: &Client, css: &str, needles: &[&str]) -> Result<String> {
    let deadline = std::time::Instant::now() + WAIT;
    let mut last = String::new();
    while std::time::Instant::now() < deadline {
        let found = client
            .execute(
                "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText).join('\\n')",
                vec![css.into()],
            )
            .await;
        if let Ok(text) = found.map(|v| v.as_str().unwrap_or_default().to_owned()) {
            if needles.iter().all(|n| text.contains(n)) {
                return Ok(text);
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{css} never said {needles:?}; last: {last:?}")
}

/// Polls `check` until it says yes, or fails after [`WAIT`].
pub async fn wait_until<F, Fut>(what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        if check().await.unwrap_or(false) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("timed out waiting until {what}")
}

/// chromedriver's console log (the entries since the last read).
#[derive(Debug)]
pub struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

/// A Chrome DevTools Protocol command through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
pub struct Cdp {
    /// The CDP method, e.g. `Page.addScriptToEvaluateOnNewDocument`.
    pub method: &'static str,
    /// Its parameters.
    pub params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(serde_json::json!({ "cmd": self.method, "params": self.params }).to_string()),
        )
    }
}

/// Lets a script run by `execute_async` take up to `seconds` (WebDriver's default is 30): for
/// work in the page that takes long, such as a million rows; a hang still ends.
pub async fn allow_scripts(client: &Client, seconds: u64) -> Result<()> {
    let mut timeouts = client.get_timeouts().await?;
    timeouts.set_script(Some(Duration::from_secs(seconds)));
    client.update_timeouts(timeouts).await?;
    Ok(())
}

/// Runs a CDP command and returns its result.
pub async fn cdp(
    client: &Client,
    method: &'static str,
    params: serde_json::Value,
) -> Result<serde_json::Value> {
    client
        .issue_cmd(Cdp { method, params })
        .await
        .map_err(|e| anyhow!("{method}: {e}"))
}

/// The WCAG 2.1 A and AA rules axe-core finds broken on the page as it is now, one line per
/// rule with the elements (`rule: selector, selector`). axe-core comes from AXE_CORE_JS (set by
/// `cargo xtask test`), or `target/tools/axe` where `cargo xtask setup` puts it.
pub async fn axe_violations(client: &Client) -> Result<Vec<String>> {
    let path = std::env::var_os("AXE_CORE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/tools/axe/node_modules/axe-core/axe.min.js"
            ))
        });
    let source = std::fs::read_to_string(&path)
        .with_context(|| format!("axe-core at {} (cargo xtask test installs it)", path.display()))?;
    // WebDriver scripts are not the page's: the Content-Security-Policy does not stop them.
    client
        .execute(&format!("if (!window.axe) {{ {source} }}"), vec![])
        .await?;
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))),
                     e => done(['axe-core failed: ' + e]));",
            vec![],
        )
        .await?;
    serde_json::from_value(found).map_err(|e| anyhow!("axe-core's answer: {e}"))
}

/// Fails with every rule axe-core finds broken on the page (see [`axe_violations`]); `state`
/// names the page's state in the message.
pub async fn assert_accessible(client: &Client, state: &str) -> Result<()> {
    let violations = axe_violations(client).await?;
    if !violations.is_empty() {
        bail!(
            "axe-core: {state} breaks WCAG 2.1 A/AA rules:\n{}",
            violations.join("\n")
        );
    }
    Ok(())
}

/// Rows of delimited text as a spreadsheet reads it (CSV with `,`, a pasted table with a tab):
/// fields in double quotes may hold the separator, line breaks and doubled quotes; lines end in
/// CRLF or LF.
pub fn delimited(text: &str, separator: char) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if field.is_empty() => quoted = true,
            c if quoted => field.push(c),
            c if c == separator => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod delimited_tests {
    #[test]
    fn quoted_fields_keep_separators_breaks_and_quotes() {
        assert_eq!(
            super::delimited("a\tb\r\n\"x\ty\"\t\"1\n2\"\r\n\"say \"\"hi\"\"\"\t\r\n", '\t'),
            vec![
                vec!["a".to_owned(), "b".to_owned()],
                vec!["x\ty".to_owned(), "1\n2".to_owned()],
                vec!["say \"hi\"".to_owned(), String::new()],
            ]
        );
    }
}
