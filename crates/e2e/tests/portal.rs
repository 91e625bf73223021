//! End to end: the built portal (trunk, release), the devstack stand-ins on three loopback
//! origins, and headless Chromium driven over WebDriver. `cargo xtask test` builds the portal
//! and sets MES_PORTAL_DIST; run alone, these tests say how to get there.

use anyhow::{Context as _, Result, anyhow, bail};
use devstack::{Stack, StackOptions};
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn dist() -> PathBuf {
    let dist = std::env::var_os("MES_PORTAL_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../dist")));
    assert!(dist.join("index.html").exists(), "{} has no built portal: run `cargo xtask test` (it builds it first)", dist.display());
    dist
}

async fn stack(name: &str) -> Stack {
    let mut options = StackOptions::for_tests(name);
    options.dist_dir = Some(dist());
    options.examples_dir = std::env::var_os("MES_PORTAL_EXAMPLES").map(PathBuf::from);
    // MES asks AIM for its keys on every call, so an outage shows on the next call.
    options.jwks_ttl = Duration::ZERO;
    Stack::start(options).await.expect("stack starts")
}

struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts chromedriver and a fresh headless Chromium profile.
async fn browser() -> Result<(Client, Driver)> {
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
    caps.insert("goog:chromeOptions".into(), chrome);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
            Ok(client) => return Ok((client, driver)),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    bail!("chromedriver did not start on {url}")
}

/// Runs `scenario` with a fresh browser, closing it before reporting (a failed assertion must
/// not leave Chromium running).
async fn with_browser<F, Fut>(scenario: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let (client, driver) = browser().await.expect("browser");
    let result = scenario(client.clone()).await;
    if result.is_err() {
        if let Ok(png) = client.screenshot().await {
            let path = std::env::temp_dir().join("e2e-failure.png");
            let _ = std::fs::write(&path, png);
            eprintln!("screenshot of the failure: {}", path.display());
        }
    }
    let _ = client.close().await;
    drop(driver);
    result.expect("scenario");
}

async fn wait_for(client: &Client, css: &str) -> Result<fantoccini::elements::Element> {
    client.wait().at_most(WAIT).for_element(Locator::Css(css)).await.with_context(|| format!("waiting for {css}"))
}

async fn text_of(client: &Client, css: &str) -> Result<String> {
    Ok(wait_for(client, css).await?.text().await?)
}

/// Saves a screenshot as `name.png` into MES_PORTAL_SCREENSHOTS, when set (README pictures).
async fn screenshot(client: &Client, name: &str) -> Result<()> {
    if let Some(dir) = std::env::var_os("MES_PORTAL_SCREENSHOTS") {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), client.screenshot().await?)?;
    }
    Ok(())
}

/// Signs in through the portal's button and AIM's form.
async fn sign_in(client: &Client, stack: &Stack, user: &str, password: &str) -> Result<()> {
    client.goto(&format!("{}/", stack.portal_origin)).await?;
    wait_for(client, "button#sign-in").await?.click().await?;
    wait_for(client, "input#username").await?.send_keys(user).await?;
    client.find(Locator::Css("input#password")).await?.send_keys(password).await?;
    client.find(Locator::Css("button#sign-in")).await?.click().await?;
    Ok(())
}

/// Texts of the rendered grid cells, row by row.
async fn grid_rows(client: &Client) -> Result<Vec<Vec<String>>> {
    let value = client
        .execute(
            "return [...document.querySelectorAll('table.grid tbody tr[role=row]')].map(r => [...r.cells].map(c => c.textContent));",
            vec![],
        )
        .await?;
    serde_json::from_value(value).map_err(|e| anyhow!("grid rows: {e}"))
}

async fn wait_until<F, Fut>(what: &str, mut check: F) -> Result<()>
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

/// No token the authority issued is in browser storage, cookies, IndexedDB, the URL or history.
async fn assert_no_token_stored(client: &Client, stack: &Stack) -> Result<()> {
    let dump = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const all = s => Object.keys(s).map(k => k + '=' + s.getItem(k)).join('\\n');
             const dbs = indexedDB.databases ? indexedDB.databases() : Promise.resolve([]);
             dbs.then(d => done({ local: all(localStorage), session: all(sessionStorage), cookies: document.cookie,
                 url: location.href, history: history.length, idb: d.map(x => x.name) }));",
            vec![],
        )
        .await?;
    let text = dump.to_string();
    let issued = stack.aim.issued_tokens();
    if issued.is_empty() {
        bail!("the authority issued no tokens: the audit would prove nothing");
    }
    for token in issued {
        // Any 24-character piece of a token counts: JWTs share headers, so pieces come from the end.
        let piece = &token[token.len().saturating_sub(24)..];
        if text.contains(piece) {
            bail!("a token leaked into browser state: {text}");
        }
    }
    if dump["local"] != "" || dump["session"] != "" || dump["cookies"] != "" || dump["idb"] != serde_json::json!([]) {
        bail!("the portal left something in browser storage: {text}");
    }
    let url = dump["url"].as_str().unwrap_or_default();
    if url.contains("code=") || url.contains("state=") || url.contains("token") {
        bail!("the address bar keeps sign-in parameters: {url}");
    }
    Ok(())
}

#[tokio::test]
async fn an_mes_user_signs_in_sees_entities_and_no_token_is_stored() {
    let stack = stack("e2e-user").await;
    let origin = stack.portal_origin.clone();
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        assert_eq!(text_of(&client, "#signed-in-as").await?, "PLANT\\alice");
        let rows = grid_rows(&client).await?;
        let names: Vec<&str> = rows.iter().filter_map(|r| r.get(1).map(String::as_str)).collect();
        if !(names.contains(&"Riverside Plant") && names.contains(&"Receiving Line 1")) {
            bail!("entity names missing from the grid: {names:?}");
        }
        let url = client.current_url().await?;
        if url.as_str() != format!("{origin}/") {
            bail!("after sign-in the address should be the portal's root, not {url}");
        }
        assert_no_token_stored(&client, &stack).await?;
        screenshot(&client, "grid").await?;

        // The quick filter finds rows beyond the first screen.
        wait_for(&client, "input[type=search]").await?.send_keys("packaging line 1").await?;
        wait_until("the filter shows only Packaging Line 1 rows", || async {
            let rows = grid_rows(&client).await?;
            Ok(!rows.is_empty() && rows.iter().all(|r| r[1].to_lowercase().contains("packaging")))
        })
        .await?;

        // Reload: signed in again through AIM's session, without the form, and still nothing stored.
        client.refresh().await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        if client.find(Locator::Css("input#password")).await.is_ok() {
            bail!("the reload showed the login form");
        }
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn an_aim_account_that_is_not_an_mes_user_sees_a_plain_denial() {
    let stack = stack("e2e-denied").await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\victor", "victor-demo").await?;
        let denial = text_of(&client, "[data-state=denied]").await?;
        for expected in ["Access denied", "PLANT\\victor", "You do not have permission to make the request"] {
            if !denial.contains(expected) {
                bail!("the denial does not say {expected:?}: {denial}");
            }
        }
        assert_no_token_stored(&client, &stack).await?;
        screenshot(&client, "denied").await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn aim_going_offline_shows_a_plain_state_and_the_portal_recovers_by_itself() {
    let stack = std::sync::Arc::new(tokio::sync::Mutex::new(stack("e2e-offline").await));
    let shared = stack.clone();
    with_browser(|client| async move {
        {
            let s = shared.lock().await;
            sign_in(&client, &s, "PLANT\\alice", "alice-demo").await?;
        }
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        shared.lock().await.stop_aim().await;
        // Open another lookup: the MES cannot verify the token and answers 500.
        client.find(Locator::Css("nav.lookups a[href='/lookups/1']")).await?.click().await?;
        let offline = text_of(&client, "[data-state=authority-offline]").await?;
        if !offline.contains("AVEVA Identity Manager is offline") {
            bail!("unexpected offline text: {offline}");
        }
        screenshot(&client, "authority-offline").await?;
        shared.lock().await.start_aim().await?;
        // The automatic retry (5 s backoff) brings the rows without a reload.
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let rows = grid_rows(&client).await?;
        if !rows.iter().any(|r| r.first().is_some_and(|id| id.starts_with("ITM-"))) {
            bail!("expected item rows after recovery: {rows:?}");
        }
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn sign_out_revokes_ends_the_aim_session_and_reaches_the_other_tab() {
    let stack = stack("e2e-signout").await;
    with_browser(|client| async move {
        sign_in(&client, &stack, "PLANT\\alice", "alice-demo").await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;
        let first_tab = client.window().await?;
        // The first tab's refresh token: AIM issues the ID token, the access token, then it.
        let refresh_token = stack.aim.issued_tokens().into_iter().find(|t| !t.contains('.')).context("a refresh token was issued")?;

        // A second tab signs in silently through AIM's session.
        let second = client.new_window(true).await?;
        client.switch_to_window(second.handle.clone()).await?;
        client.goto(&format!("{}/lookups/1", stack.portal_origin)).await?;
        wait_for(&client, "table.grid tbody tr[role=row]").await?;

        client.switch_to_window(first_tab).await?;
        wait_for(&client, "button#sign-out").await?.click().await?;
        wait_until("the first tab says it is signed out", || async {
            Ok(text_of(&client, "#notice").await?.contains("You are signed out."))
        })
        .await?;
        if client.current_url().await?.path() != "/signed-out" {
            bail!("sign-out should come back from AIM to /signed-out");
        }

        client.switch_to_window(second.handle).await?;
        wait_until("the other tab is signed out too", || async { Ok(text_of(&client, "#notice").await?.contains("another tab")) }).await?;
        if client.find(Locator::Css("table.grid")).await.is_ok() {
            bail!("the other tab still shows MES data");
        }
        // AIM's session is over: a reload finds no silent sign-in, only the button.
        client.refresh().await?;
        wait_for(&client, "button#sign-in").await?;

        let answer = reqwest::Client::new()
            .post(format!("{}/connect/token", stack.issuer))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token.as_str()), ("client_id", "mes-portal")])
            .send()
            .await?;
        if answer.status() != 400 {
            bail!("the signed-out refresh token still works: HTTP {}", answer.status());
        }
        assert_no_token_stored(&client, &stack).await?;
        Ok(())
    })
    .await;
}
