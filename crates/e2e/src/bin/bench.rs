//! `cargo xtask bench`: bundle size, the plant network through devstack and nginx, sign-in
//! cost, 10,000-, 100,000- and 1,000,000-row grids in headless Chromium, renewal under
//! concurrency and the MES stand-in's throughput; writes a Markdown
//! report (docs/benchmarks.md). Figures are medians of several runs; nothing here fails on a
//! timer. Run through `cargo xtask bench`, which builds the release portal first.

// The native sign-in fixture mes-client's suites use.
#[path = "../../../mes-client/tests/common/sign_in.rs"]
mod sign_in;

use anyhow::{Context as _, Result, anyhow, bail};
use devstack::{Stack, StackOptions};
use e2e::selectors::{ROWS, SIGN_IN, VIEWPORT, in_script};
use e2e::{aim, portal};
use e2e::{browser, cdp, dist, wait_for};
use fantoccini::{Client, Locator};
use mes_client::{Authority, NativeTransport, PortalConfig, Runtime, SignedIn, UserSession, now_seconds};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Installed before any page script: keeps the wasm memory and the moment the first grid rows
/// appear in each document.
const PAGE_HOOKS: &str = "window.__bench = {};
addEventListener('TrunkApplicationStarted', e => { window.__bench.memory = e.detail.wasm.memory; });
const __rows = new MutationObserver(() => {
  if (document.querySelector(SEL.rows)) { window.__bench.firstRows = performance.now(); __rows.disconnect(); }
});
__rows.observe(document, { subtree: true, childList: true });";

/// Opens a lookup from the navigation and times it with the portal's User Timing marks and the
/// answer's Resource Timing (the MES stand-in allows the portal's origin to read it): time to
/// first byte, transfer, first rows painted and all rows in, each from the answer's first byte.
const MOUNT_LOOKUP: &str = "const done = arguments[arguments.length - 1];
performance.clearMarks(); performance.clearResourceTimings();
document.querySelector(`nav.lookups a[href='${arguments[0]}']`).click();
const t0 = performance.now();
let painted = null;
const check = () => {
  const first = performance.getEntriesByName('mes-lookup-first-rows').pop();
  if (first && painted === null) { painted = -1; requestAnimationFrame(() => { painted = performance.now(); }); }
  const answer = performance.getEntriesByName('mes-lookup-answer').pop();
  const res = performance.getEntriesByType('resource').filter(r => r.name.includes('/api/v3/')).pop();
  if (answer && res && painted > 0) {
    requestAnimationFrame(() => {
      done({ ttfb: res.responseStart - res.requestStart, transfer: res.responseEnd - res.responseStart,
             first: painted - res.responseStart, all: answer.startTime - res.responseStart, model: answer.detail?.bytes ?? null,
             rows: document.querySelectorAll(SEL.rows).length });
    });
  } else if (performance.now() - t0 > 120000) { done({ error: 'timed out' }); }
  else { setTimeout(check, 0); }
};
check();";

/// The AG Grid page beside the portal (same origin, same MES answer): fetch, `res.json()`,
/// `createGrid` with a column per key, sortable, filterable; timed like the portal's grid.
const AG_GRID_PAGE: &str = "<!doctype html><html><head><meta charset=utf-8><title>AG Grid</title>
<script src=\"ag-grid-community.min.js\"></script><script src=\"bench-ag-grid.js\"></script></head>
<body><div id=grid style=\"height: min(70vh, 40rem); width: 100%\"></div><div id=rows></div></body></html>";

const AG_GRID_SCRIPT: &str = "window.benchMount = async (url, token) => {
  if (window.benchGrid) { window.benchGrid.destroy(); window.benchGrid = null; }
  performance.clearResourceTimings();
  const res = await fetch(url, { headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' }, cache: 'no-store' });
  const rows = await res.json();
  const columnDefs = Object.keys(rows[0] || {}).map(field => ({ field, sortable: true, filter: true }));
  window.benchGrid = agGrid.createGrid(document.getElementById('grid'), { columnDefs, rowData: rows });
  await new Promise(r => { const check = () => document.querySelector('#grid .ag-row:not(.ag-header-row)') ? r() : setTimeout(check, 0); check(); });
  await new Promise(r => requestAnimationFrame(r));
  const paint = performance.now();
  const e = performance.getEntriesByType('resource').filter(r => r.name.includes('/api/v3/')).pop();
  return { ttfb: e.responseStart - e.requestStart, transfer: e.responseEnd - e.responseStart, first: paint - e.responseStart,
           all: paint - e.responseStart, rows: document.querySelectorAll('#grid .ag-row:not(.ag-header-row)').length };
};
// The portal's reading paths alone: the answer already in memory, handed to mountRowsGrid as
// JSON text, as parsed row objects or as a stream (prepared before the clock starts), timed
// until the first rows are painted and until mes-rows says every row is in.
window.benchReadPath = async (url, token, kind) => {
  const { mountRowsGrid } = await import('./mes-embed.js');
  const body = await (await fetch(url, { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' })).arrayBuffer();
  if (window.benchUnmount) window.benchUnmount();
  window.benchUnmount = null;
  const text = kind === 'stream' ? null : new TextDecoder().decode(body);
  const source = kind === 'stream' ? { stream: new Blob([body]).stream() } : kind === 'json' ? { json: text } : { rows: JSON.parse(text) };
  const host = document.getElementById('rows');
  await new Promise(r => setTimeout(r, 50));
  return await new Promise(done => {
    let first = null;
    const seen = new MutationObserver(() => {
      if (first === null && host.querySelector('table.grid tbody tr[role=row]')) {
        first = -1;
        requestAnimationFrame(() => { first = performance.now() - t0; });
      }
    });
    seen.observe(host, { subtree: true, childList: true });
    host.addEventListener('mes-rows', e => {
      seen.disconnect();
      const all = performance.now() - t0;
      requestAnimationFrame(() => done({ first, all, returned, rows: e.detail.rows, bytes: body.byteLength }));
    }, { once: true });
    const t0 = performance.now();
    window.benchUnmount = mountRowsGrid(host, source);
    const returned = performance.now() - t0;
  });
};
window.benchSortState = {};
window.benchInteract = (kind, arg) => new Promise(done => {
  const t0 = performance.now();
  if (kind === 'sort') {
    const next = { undefined: 'asc', asc: 'desc', desc: undefined }[window.benchSortState[arg]];
    window.benchSortState = { [arg]: next };
    window.benchGrid.applyColumnState({ state: [{ colId: arg, sort: next ?? null }], defaultState: { sort: null } });
  }
  if (kind === 'filter') window.benchGrid.setGridOption('quickFilterText', arg);
  setTimeout(() => { const work = performance.now() - t0; requestAnimationFrame(() => done({ work, frame: performance.now() - t0 })); }, 0);
});";

/// One interaction; `work` ends when the wasm and the DOM updates are done (the first task after
/// the microtasks), `frame` at the next animation frame.
const INTERACT: &str = "const done = arguments[arguments.length - 1];
const [kind, arg] = [arguments[0], arguments[1]];
const t0 = performance.now();
if (kind === 'sort') document.querySelectorAll(SEL.headers)[arg].click();
if (kind === 'filter') { const i = document.querySelector(SEL.quickFilter); i.value = arg; i.dispatchEvent(new Event('input', { bubbles: true })); }
setTimeout(() => { const work = performance.now() - t0; requestAnimationFrame(() => done({ work, frame: performance.now() - t0 })); }, 0);";

/// 60 scroll steps of 10 rows, one per frame: the frame intervals and the DOM rows afterwards.
/// With `blind`, the grid is not told of the scrolling (its scroll events stopped on the way):
/// what is left is the browser's own part of a step.
const SCROLL: &str = "const done = arguments[arguments.length - 1];
const [viewport, rowSelector, blind] = [arguments[0], arguments[1], arguments[2]];
const vp = document.querySelector(viewport);
const stop = e => e.stopPropagation();
if (blind) document.addEventListener('scroll', stop, true);
const frames = []; let last = null; let n = 0;
const step = ts => {
  if (last !== null) frames.push(ts - last);
  last = ts;
  if (n++ >= 60) {
    document.removeEventListener('scroll', stop, true);
    done({ frames, rows: document.querySelectorAll(rowSelector).length });
    return;
  }
  vp.scrollTop += 340;
  requestAnimationFrame(step);
};
requestAnimationFrame(step);";

/// Ten seconds of scrolling from the first row to the last, a step per frame (600 frames at
/// 60 Hz): the frame intervals.
const SWEEP: &str = "const done = arguments[arguments.length - 1];
const vp = document.querySelector(arguments[0]);
vp.scrollTop = 0;
const frames = []; let last = null; let n = 0;
const step = ts => {
  if (last !== null) frames.push(ts - last);
  last = ts;
  if (n++ >= 600) { done({ frames, top: vp.scrollTop, height: vp.scrollHeight }); return; }
  vp.scrollTop = (vp.scrollHeight - vp.clientHeight) * n / 600;
  requestAnimationFrame(step);
};
requestAnimationFrame(() => requestAnimationFrame(step));";

/// One jump of the viewport (to the middle of the rows, or back to the top), done when two
/// frames have passed: the grid has rendered the rows there.
const JUMP: &str = "const done = arguments[arguments.length - 1];
const vp = document.querySelector(arguments[0]);
vp.scrollTop = arguments[1] ? (vp.scrollHeight - vp.clientHeight) / 2 : 0;
requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => done(vp.scrollTop), 0)));";

struct Args {
    runs: usize,
    sizes: Vec<usize>,
    out: PathBuf,
    requests: usize,
    /// Only some figures, printed: `--only grids` (the grids) or `--only load` (first load,
    /// network profiles, bytes on first use).
    only: Option<String>,
}

fn args() -> Result<Args> {
    let mut args = Args {
        runs: 5,
        sizes: vec![10_000, 100_000, 1_000_000],
        out: PathBuf::from("docs/benchmarks.md"),
        requests: 4000,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--runs" => args.runs = value()?.parse()?,
            "--rows" => args.sizes = value()?.split(',').map(str::parse).collect::<Result<_, _>>()?,
            "--out" => args.out = PathBuf::from(value()?),
            "--requests" => args.requests = value()?.parse()?,
            "--only" => args.only = Some(value()?),
            other => bail!(
                "unknown argument {other}: --runs N --rows 10000,100000 --out FILE --requests N --only grids|load"
            ),
        }
    }
    Ok(args)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(mut values: Vec<f64>, p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

fn ms(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else if v < 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

fn kb(bytes: usize) -> String {
    format!("{:.1} kB", bytes as f64 / 1000.0)
}

fn gzip(bytes: &[u8]) -> usize {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = encoder.write_all(bytes);
    encoder.finish().map(|v| v.len()).unwrap_or(0)
}

async fn stack(name: &str, rows: usize) -> Result<Stack> {
    let mut options = StackOptions::for_tests(name);
    options.dist_dir = Some(dist());
    options.seed_rows = rows;
    Ok(Stack::start(options).await?)
}

/// A fresh headless Chromium with the page hooks installed.
async fn fresh_browser() -> Result<(Client, e2e::Driver)> {
    fresh_browser_at(None).await
}

/// [`fresh_browser`]; with `sites` (their certificates' key hashes), one that resolves the
/// deployed sites' host names (`portal.test`, `aim.test`, `mes.test`) and trusts their
/// certificates as a plant's browsers trust its own (and so caches their answers).
async fn fresh_browser_at(sites: Option<&str>) -> Result<(Client, e2e::Driver)> {
    let (client, driver) = match sites {
        Some(spki) => e2e::browser_for_sites_trusting(&e2e::site::ALL_HOSTS, Some(spki)).await?,
        None => browser().await?,
    };
    cdp(
        &client,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": in_script(PAGE_HOOKS) }),
    )
    .await?;
    cdp(&client, "Performance.enable", json!({})).await?;
    // A million rows take long to read and sort.
    e2e::allow_scripts(&client, 600).await?;
    Ok((client, driver))
}

async fn js_heap(client: &Client) -> Result<f64> {
    let metrics = cdp(client, "Performance.getMetrics", json!({})).await?;
    metrics["metrics"]
        .as_array()
        .and_then(|m| m.iter().find(|x| x["name"] == "JSHeapUsedSize"))
        .and_then(|x| x["value"].as_f64())
        .ok_or_else(|| anyhow!("no JSHeapUsedSize"))
}

async fn wasm_memory(client: &Client) -> Result<f64> {
    let v = client
        .execute(
            "return window.__bench && window.__bench.memory ? window.__bench.memory.buffer.byteLength : null",
            vec![],
        )
        .await?;
    v.as_f64()
        .ok_or_else(|| anyhow!("the wasm memory was not captured"))
}

/// Polls quickly (10 ms) for an element: for timings taken from outside the page.
async fn appear(client: &Client, css: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if client.find(Locator::Css(css)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("{css} did not appear")
}

/// Requests to AIM by kind, from its request log.
#[derive(Clone, Copy, Default, Debug)]
struct AimCount {
    discovery: usize,
    jwks: usize,
    authorize: usize,
    token: usize,
    other: usize,
    /// The MES stand-in checking tokens (its own discovery and JWKS fetches), not the browser.
    server: usize,
}

impl AimCount {
    fn of(log: &[String]) -> Self {
        let mut count = Self::default();
        for entry in log {
            // The log keeps each request's query (for the URL audits); the path decides here.
            let entry = entry.split('?').next().unwrap_or(entry);
            if entry.starts_with("server ") {
                count.server += 1;
            } else if entry.ends_with("/.well-known/openid-configuration") {
                count.discovery += 1;
            } else if entry.ends_with("/jwks") {
                count.jwks += 1;
            } else if entry.ends_with("/connect/authorize") {
                count.authorize += 1;
            } else if entry.ends_with("/connect/token") {
                count.token += 1;
            } else {
                count.other += 1;
            }
        }
        count
    }

    fn browser(self) -> usize {
        self.discovery + self.jwks + self.authorize + self.token + self.other
    }
}

/// The first-load files: index.html and everything it references, plus config.json.
fn sizes(report: &mut String, config_json: &[u8]) -> Result<()> {
    let dist = dist();
    let index = std::fs::read_to_string(dist.join("index.html"))?;
    let mut files: Vec<(String, Vec<u8>)> = vec![("index.html".into(), index.clone().into_bytes())];
    for piece in index.split(['"', '\'']) {
        let name = piece.trim_start_matches('/');
        let wanted = [".js", ".wasm", ".css"].iter().any(|e| name.ends_with(e))
            && !name.contains('/')
            && !name.is_empty();
        if wanted && !files.iter().any(|(n, _)| n == name) {
            files.push((
                name.to_owned(),
                std::fs::read(dist.join(name)).with_context(|| name.to_owned())?,
            ));
        }
    }
    // Modules the page's JavaScript imports (the on-demand parts' loader) load with it.
    let scripts: Vec<String> = files
        .iter()
        .filter(|(n, _)| n.ends_with(".js"))
        .map(|(n, _)| n.clone())
        .collect();
    for script in scripts {
        let text = std::fs::read_to_string(dist.join(&script))?;
        for piece in text.split("from \"./").skip(1) {
            let name = piece.split('"').next().unwrap_or_default().to_owned();
            if !files.iter().any(|(n, _)| *n == name) {
                files.push((
                    name.clone(),
                    std::fs::read(dist.join(&name)).with_context(|| name.clone())?,
                ));
            }
        }
    }
    files.push(("config.json (served)".into(), config_json.to_vec()));
    writeln!(
        report,
        "## First load\n\nEvery file the portal needs before the sign-in page is usable (release build, wasm-opt -Oz; gzip -9).\n"
    )?;
    writeln!(report, "| file | raw | gzipped |\n|---|---:|---:|")?;
    let (mut raw, mut gz) = (0, 0);
    for (name, bytes) in &files {
        let g = gzip(bytes);
        raw += bytes.len();
        gz += g;
        writeln!(report, "| {name} | {} | {} |", kb(bytes.len()), kb(g))?;
    }
    let verdict = |gz: usize| if gz <= 200_000 { "within" } else { "over" };
    writeln!(
        report,
        "| **total** | **{}** | **{}** ({} the 200 kB target) |\n",
        kb(raw),
        kb(gz),
        verdict(gz)
    )?;
    // A browser in another language fetches its translation before the first page too.
    let mut translations: Vec<PathBuf> = std::fs::read_dir(dist.join("locales"))
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    translations.sort();
    for path in translations {
        let bytes = std::fs::read(&path)?;
        let (name, g) = (
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned(),
            gzip(&bytes),
        );
        writeln!(
            report,
            "In a browser that prefers that language, `locales/{name}` ({} gzipped) comes too: **{}** ({} the 200 kB target).\n",
            kb(g),
            kb(gz + g),
            verdict(gz + g)
        )?;
    }
    crate_sizes(report)
}

/// What each crate costs, from twiggy over the modules as the split step cut them (before
/// wasm-bindgen and wasm-opt: names are still there): the main module (the first load) and the
/// on-demand parts together.
fn crate_sizes(report: &mut String) -> Result<()> {
    let split = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/split"));
    let mut modules: Vec<PathBuf> = std::fs::read_dir(&split)
        .with_context(|| format!("{}: build the portal with `cargo xtask build`", split.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    modules.sort();
    let is_main = |p: &PathBuf| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("mes-portal-"))
    };
    let (main, parts): (Vec<PathBuf>, Vec<PathBuf>) = modules.into_iter().partition(is_main);
    if main.is_empty() {
        bail!("the split step left no main module in target/split");
    }
    let Some(first_load) = tally(&main)? else {
        writeln!(
            report,
            "(twiggy is not installed: `cargo xtask bench` installs it; no per-crate figures)\n"
        )?;
        return Ok(());
    };
    crate_table(
        report,
        "What the crates cost in the first load",
        "The main module's",
        first_load,
    )?;
    if let Some(on_demand) = tally(&parts)? {
        crate_table(
            report,
            "What the crates cost in the on-demand parts",
            "The parts' (all of them, with the chunks they share)",
            on_demand,
        )?;
    }
    Ok(())
}

/// Bytes per crate over `modules` (twiggy shallow sizes, what never ships left out); `None`
/// without twiggy.
fn tally(modules: &[PathBuf]) -> Result<Option<(std::collections::HashMap<String, u64>, u64)>> {
    let mut by_crate: std::collections::HashMap<String, u64> = Default::default();
    let mut total = 0u64;
    for wasm in modules {
        let out = std::process::Command::new("twiggy")
            .args(["top", "-n", "1000000", "--format", "csv"])
            .arg(wasm)
            .output();
        let Ok(out) = out.map_err(|e| e.to_string()).and_then(|o| {
            if o.status.success() {
                Ok(o)
            } else {
                Err("twiggy failed".into())
            }
        }) else {
            return Ok(None);
        };
        for line in String::from_utf8_lossy(&out.stdout).lines().skip(1) {
            // Name,ShallowSize,ShallowSizePercent,RetainedSize,RetainedSizePercent; the name may be
            // quoted, with "" for a quote.
            let (name, rest) = match line.strip_prefix('"') {
                Some(quoted) => {
                    let mut end = 0;
                    let bytes = quoted.as_bytes();
                    while end < bytes.len() {
                        if bytes[end] == b'"' && bytes.get(end + 1) == Some(&b'"') {
                            end += 2;
                        } else if bytes[end] == b'"' {
                            break;
                        } else {
                            end += 1;
                        }
                    }
                    (
                        quoted[..end].replace("\"\"", "\""),
                        quoted.get(end + 2..).unwrap_or_default(),
                    )
                }
                None => line
                    .split_once(',')
                    .map(|(n, r)| (n.to_owned(), r))
                    .unwrap_or_default(),
            };
            let Some(size) = rest.split(',').next().and_then(|s| s.parse::<u64>().ok()) else {
                continue;
            };
            // Name sections, wasm-bindgen's description section and its describe functions (run by
            // the wasm-bindgen CLI, then removed) never ship.
            if name.contains("subsection")
                || name.starts_with("custom section")
                || name.contains("__wbindgen_describe")
                || name.contains("__wbindgen_placeholder")
                || name.contains("__wasm_bindgen_unstable")
                || name.contains("WasmDescribe")
            {
                continue;
            }
            total += size;
            let mut symbol = name
                .trim_start_matches(['<', '&', '*'])
                .trim_start_matches("mut ")
                .trim_start_matches("dyn ")
                .trim_start_matches("impl ");
            // `<F as tachys::…>::invoke`: a generic closure, counted under the trait's crate.
            if let Some((generic, rest)) = symbol.split_once(" as ")
                && !generic.contains("::")
            {
                symbol = rest;
            }
            // `core[c5930c85a12de822]::…`: the bracket is the crate's disambiguator.
            let krate = match symbol
                .split_once("::")
                .map(|(k, rest)| (k.split('[').next().unwrap_or(k), rest))
            {
                Some((k, _)) if !k.is_empty() && !k.contains([' ', '(', '"']) => k.to_owned(),
                Some(("str" | "[T]" | "f64" | "f32" | "char", _)) => "core".to_owned(),
                _ if name.starts_with("data segment") => "(string and table data)".to_owned(),
                _ => "(other: tables, unnamed code, wasm-bindgen glue)".to_owned(),
            };
            *by_crate.entry(krate).or_default() += size;
        }
    }
    Ok(Some((by_crate, total)))
}

/// The 16 largest crates of a tally.
fn crate_table(
    report: &mut String,
    title: &str,
    whose: &str,
    (by_crate, total): (std::collections::HashMap<String, u64>, u64),
) -> Result<()> {
    let mut rows: Vec<(String, u64)> = by_crate.into_iter().collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.1));
    writeln!(
        report,
        "### {title}\n\n{whose} code and data before wasm-opt and gzip ({} in all; twiggy shallow sizes, name sections left \
         out), the 16 largest. wasm-opt and gzip shrink every part, so read these as shares.\n",
        kb(total as usize)
    )?;
    writeln!(report, "| crate | bytes | share |\n|---|---:|---:|")?;
    for (krate, size) in rows.iter().take(16) {
        writeln!(
            report,
            "| {krate} | {} | {:.1} % |",
            kb(*size as usize),
            *size as f64 * 100.0 / total.max(1) as f64
        )?;
    }
    writeln!(report)?;
    Ok(())
}

/// Signs in through AIM's form over HTTP (as the portal does, natively): mes-client's test
/// fixture.
async fn native_sign_in(config: &PortalConfig) -> Result<(SignedIn, Authority)> {
    sign_in::sign_in(config, "PLANT\\alice", "alice-demo")
        .await
        .map_err(|e| anyhow!(e))
}

fn portal_config(stack: &Stack) -> Result<PortalConfig> {
    PortalConfig::from_json(&stack.portal_config().to_string(), Runtime::Browser)
        .map(|(c, _)| c)
        .map_err(|r| anyhow!("{:?}", r.errors))
}

/// First load, the two network profiles and the bytes each page costs on first use.
async fn load(report: &mut String, stack: &Stack, runs: usize) -> Result<()> {
    eprintln!("bench: sizes");
    let config_json = reqwest::get(format!("{}/config.json", stack.portal_origin))
        .await?
        .bytes()
        .await?;
    sizes(report, &config_json)?;
    eprintln!("bench: network profiles");
    network_profiles(report, stack, runs).await?;
    eprintln!("bench: bytes on first use");
    first_use(report, stack).await
}

/// A network the browser is on: loopback as it is, or emulated by Chromium.
struct Network {
    name: &'static str,
    /// Round trip added to every request (ms), download and upload (bytes/s); none for loopback.
    emulated: Option<(f64, f64, f64)>,
}

const NETWORKS: [Network; 2] = [
    Network {
        name: "loopback",
        emulated: None,
    },
    Network {
        name: "plant network (4 Mbit/s down, 1 Mbit/s up, 100 ms round trip)",
        emulated: Some((100.0, 4e6 / 8.0, 1e6 / 8.0)),
    },
];

/// A fresh browser on `network`, for the deployed sites when given their key hashes.
async fn browser_on(network: &Network, sites: Option<&str>) -> Result<(Client, e2e::Driver)> {
    let (client, driver) = fresh_browser_at(sites).await?;
    if let Some((latency, down, up)) = network.emulated {
        cdp(&client, "Network.enable", json!({})).await?;
        cdp(
            &client,
            "Network.emulateNetworkConditions",
            json!({ "offline": false, "latency": latency, "downloadThroughput": down, "uploadThroughput": up }),
        )
        .await?;
    }
    Ok((client, driver))
}

/// Where the portal is served in a network profile: devstack's own server (HTTP/1.1, no TLS),
/// or Debian's nginx as the deploy guide configures it (TLS, HTTP/2) on sites of their own.
struct Served<'a> {
    name: &'a str,
    origin: &'a str,
    /// The deployed sites' certificates' key hashes (nginx), or none (devstack).
    sites: Option<&'a str>,
}

/// Per network: navigation → usable sign-in page, and back from AIM → first grid rows; cold cache
/// (a new browser profile each run).
async fn network_profiles(report: &mut String, stack: &Stack, runs: usize) -> Result<()> {
    writeln!(
        report,
        "## As a person feels it\n\nCold cache (a new browser profile each run), medians of {runs} runs with their ranges. \
         **Sign-in page**: from navigation to a usable Sign in button; it includes the silent `prompt=none` round trip \
         through AIM that lets a person with an AIM session skip the form (two documents: the portal, then `/callback` \
         answering `login_required`). **First rows**: from the return from AIM's form (`/callback` navigation start) to \
         the first grid rows painted: the portal again, the token request, the grid's part and the MES answer. The \
         Sign in button is pressed {PAUSE_MS} ms after it shows (a person reads the page first). The portal's files are \
         the build's gzip -9 copies either way; the plant network is Chromium's network emulation. **nginx**: Debian's \
         nginx with `deploy/nginx/mesportal.conf` under TLS and HTTP/2, AIM and the MES behind it on sites of their own \
         (as `cargo xtask test`'s deployed suite runs it, the browser trusting its certificates as a plant's trust \
         theirs); **devstack**: the stand-ins' own HTTP/1.1 servers. The last two rows: a site without the silent \
         try (config.json's `client.silent_sign_in: false`).\n\n\
         | served by | network | sign-in page | first rows after the return |\n|---|---|---:|---:|"
    )?;
    let sites = e2e::site::Sites::new()?;
    let origin = sites.origin(e2e::site::PORTAL_HOST);
    let spki = sites.spki_hashes()?;
    let deployed_stack = e2e::scenario::stack_on_sites("bench-nginx", &sites, |o| o.seed_rows = 200).await;
    let config = deployed_stack.portal_config_at(&origin, &[]);
    let site = e2e::site::DeployedPortal::start(
        sites,
        &dist(),
        &config,
        e2e::site::Upstreams::of(&deployed_stack),
        |server| server,
    )?;
    let served = [
        Served {
            name: "devstack",
            origin: &stack.portal_origin,
            sites: None,
        },
        Served {
            name: "nginx (TLS, HTTP/2)",
            origin: &site.origin,
            sites: Some(&spki),
        },
    ];
    let mut plant = Vec::new();
    for at in &served {
        for network in &NETWORKS {
            let (page, rows) = profile(at, network, runs).await?;
            writeln!(
                report,
                "| {} | {} | {} | {} |",
                at.name,
                network.name,
                spread(&page),
                spread(&rows)
            )?;
            if network.emulated.is_some() {
                plant.push((median(page), median(rows)));
            }
        }
    }
    // The lever a site can pull: no silent try (config.json's `client.silent_sign_in: false`).
    let quiet = serde_json::json!({ "client": { "silent_sign_in": false } });
    let mut options = StackOptions::for_tests("bench-no-silent");
    options.dist_dir = Some(dist());
    options.seed_rows = 200;
    options.config_patch = Some(quiet);
    let quiet_stack = Stack::start(options).await?;
    let mut quiet_config = config.clone();
    quiet_config["client"]["silent_sign_in"] = false.into();
    std::fs::write(
        site.root.join("config.json"),
        serde_json::to_string_pretty(&quiet_config)?,
    )?;
    let quiet_served = [
        Served {
            name: "devstack, `silent_sign_in: false`",
            origin: &quiet_stack.portal_origin,
            sites: None,
        },
        Served {
            name: "nginx (TLS, HTTP/2), `silent_sign_in: false`",
            origin: &site.origin,
            sites: Some(&spki),
        },
    ];
    let mut quiet_pages = Vec::new();
    for at in &quiet_served {
        let (page, rows) = profile(at, &NETWORKS[1], runs).await?;
        writeln!(
            report,
            "| {} | {} | {} | {} |",
            at.name,
            NETWORKS[1].name,
            spread(&page),
            spread(&rows)
        )?;
        quiet_pages.push(median(page));
    }
    writeln!(report)?;
    plant_targets(report, &plant, &quiet_pages)?;
    drop(site);
    deployed_stack.stop().await;
    quiet_stack.stop().await;
    Ok(())
}

/// Whether `value` meets a target (`at_most`: no more than `target`, else no less), as a word.
fn verdict(value: f64, target: f64, at_most: bool) -> &'static str {
    match (value.is_finite(), at_most) {
        (false, _) => "not measured",
        (true, true) if value <= target => "met",
        (true, false) if value >= target => "met",
        _ => "**missed**",
    }
}

/// The plant-network targets (one second each) against the medians: `plant` is (sign-in page,
/// first rows) through devstack and through nginx; `quiet` the sign-in page without the silent
/// try, the same two ways.
fn plant_targets(report: &mut String, plant: &[(f64, f64)], quiet: &[f64]) -> Result<()> {
    let at = |i: usize| plant.get(i).copied().unwrap_or((f64::NAN, f64::NAN));
    let ((dev_page, dev_rows), (nginx_page, nginx_rows)) = (at(0), at(1));
    let worst_page = dev_page.max(nginx_page);
    let quiet_worst = quiet.iter().copied().fold(f64::NAN, f64::max);
    writeln!(
        report,
        "### The plant-network targets\n\n| target (4 Mbit/s, 100 ms round trip) | devstack | nginx (TLS, HTTP/2) | |\n|---|---:|---:|---|"
    )?;
    let page_why = if verdict(worst_page, 1000.0, true) == "met" {
        String::new()
    } else {
        format!(
            ": the silent `prompt=none` trip through AIM on a new visit is two more documents (the portal, AIM, \
             `/callback`) and their round trips; a site without it (`silent_sign_in: false`) has the page in {}",
            ms(quiet_worst)
        )
    };
    writeln!(
        report,
        "| sign-in page usable ≤ 1.0 s | {} | {} | {}{page_why} |",
        ms(dev_page),
        ms(nginx_page),
        verdict(worst_page, 1000.0, true)
    )?;
    writeln!(
        report,
        "| first rows after the return ≤ 1.0 s | {} | {} | {} |\n",
        ms(dev_rows),
        ms(nginx_rows),
        verdict(dev_rows.max(nginx_rows), 1000.0, true)
    )?;
    Ok(())
}

/// How long a person looks at the sign-in page before pressing Sign in, in the profiles.
const PAUSE_MS: u64 = 2000;

/// One served portal on one network: the sign-in page and the first rows, each run.
async fn profile(at: &Served<'_>, network: &Network, runs: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut page, mut rows) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (client, driver) = browser_on(network, at.sites).await?;
        let started = Instant::now();
        client.goto(&format!("{}/", at.origin)).await?;
        appear(&client, SIGN_IN).await?;
        page.push(started.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(PAUSE_MS)).await;
        client.find(Locator::Css(SIGN_IN)).await?.click().await?;
        aim::submit_form(&client, "PLANT\\alice", "alice-demo").await?;
        appear(&client, ROWS).await?;
        rows.push(
            client
                .execute("return window.__bench.firstRows ?? null", vec![])
                .await?
                .as_f64()
                .unwrap_or(f64::NAN),
        );
        let _ = client.close().await;
        drop(driver);
    }
    Ok((page, rows))
}

/// "median (fastest–slowest)".
fn spread(values: &[f64]) -> String {
    format!(
        "{} ({}–{})",
        ms(median(values.to_vec())),
        ms(percentile(values.to_vec(), 0.0)),
        ms(percentile(values.to_vec(), 1.0))
    )
}

/// The portal's files a page has fetched so far (names in dist/).
async fn fetched(client: &Client) -> Result<Vec<String>> {
    let names = client
        .execute(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name)).filter(u => u.origin === location.origin).map(u => u.pathname.slice(1))",
            vec![],
        )
        .await?;
    let names: Vec<String> = serde_json::from_value(names)?;
    Ok(names
        .into_iter()
        .filter(|n| !n.contains('/') && dist().join(n).is_file())
        .collect())
}

/// The files each page fetches the first time a person opens it, after the first load.
async fn first_use(report: &mut String, stack: &Stack) -> Result<()> {
    let (client, driver) = fresh_browser().await?;
    client.goto(&format!("{}/", stack.portal_origin)).await?;
    wait_for(&client, SIGN_IN).await?;
    let mut seen = fetched(&client).await?;
    client.find(Locator::Css(SIGN_IN)).await?.click().await?;
    aim::submit_form(&client, "PLANT\\alice", "alice-demo").await?;
    appear(&client, ROWS).await?;
    writeln!(
        report,
        "### Bytes on first use\n\nThe files a page fetches the first time a person opens it, beyond the first load (gzip -9).\n\n\
         | page | files | gzipped |\n|---|---|---:|"
    )?;
    for (page, link, ready) in [
        ("a lookup grid (the first page after sign-in)", None, ROWS),
        ("Web APIs", Some("/web-apis"), "section.web-api"),
        ("Diagnostics", Some("/diagnostics"), "#access-claims"),
    ] {
        if let Some(link) = link {
            client
                .find(Locator::Css(&format!("nav a[href='{link}']")))
                .await?
                .click()
                .await?;
            appear(&client, ready).await?;
        }
        let now = fetched(&client).await?;
        let new: Vec<String> = now.iter().filter(|n| !seen.contains(n)).cloned().collect();
        let bytes: usize = new
            .iter()
            .map(|n| std::fs::read(dist().join(n)).map(|b| gzip(&b)).unwrap_or(0))
            .sum();
        let names: Vec<String> = new
            .iter()
            .map(|n| format!("`{}`", n.rsplit_once('-').map_or(n.as_str(), |(_, part)| part)))
            .collect();
        writeln!(
            report,
            "| {page} | {} | {} |",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            },
            kb(bytes)
        )?;
        seen.extend(new);
    }
    writeln!(report)?;
    let _ = client.close().await;
    drop(driver);
    Ok(())
}

async fn sign_in_cost(report: &mut String, stack: &Stack, runs: usize) -> Result<()> {
    let mut interactive = Vec::new();
    let mut sso = Vec::new();
    let mut counts = (AimCount::default(), AimCount::default());
    let mut other = Vec::new();
    for run in 0..runs {
        let (client, driver) = fresh_browser().await?;
        client.goto(&format!("{}/", stack.portal_origin)).await?;
        wait_for(&client, SIGN_IN).await?;
        let logged = stack.aim.request_log().len();
        client.find(Locator::Css(SIGN_IN)).await?.click().await?;
        aim::submit_form(&client, "PLANT\\alice", "alice-demo").await?;
        appear(&client, ROWS).await?;
        let first_rows = client
            .execute("return window.__bench.firstRows ?? null", vec![])
            .await?;
        interactive.push(first_rows.as_f64().unwrap_or(f64::NAN));
        let click_log = stack.aim.request_log()[logged..].to_vec();

        // Reload: AIM's session signs the person in without the form.
        let logged = stack.aim.request_log().len();
        let started = Instant::now();
        client.refresh().await?;
        appear(&client, ROWS).await?;
        sso.push(started.elapsed().as_secs_f64() * 1000.0);
        let reload_log = stack.aim.request_log()[logged..].to_vec();
        if run == 0 {
            counts = (AimCount::of(&click_log), AimCount::of(&reload_log));
            other = click_log
                .iter()
                .chain(&reload_log)
                .filter(|e| e.starts_with("browser") && AimCount::of(std::slice::from_ref(e)).other == 1)
                .map(|e| format!("`{}`", e.trim_start_matches("browser ")))
                .collect();
        }
        let _ = client.close().await;
        drop(driver);
    }
    let line = |name: &str, c: AimCount| {
        format!(
            "| {name} | {} | {} | {} | {} | {} | **{}** | {} |",
            c.authorize,
            c.token,
            c.discovery,
            c.jwks,
            c.other,
            c.browser(),
            c.server
        )
    };
    writeln!(
        report,
        "## Sign-in\n\nRequests from the browser to the authority, from the click to the first grid rows, read from the \
         AIM stand-in's request log. \"authorize\" counts the form page and the form submission (a person typing a \
         password). The MES's own key fetches (it verifies tokens against AIM's JWKS, cached 5 s here) are counted \
         apart. Discovery and JWKS are fetched once per visit, before the click; the page that comes back from AIM \
         takes them from the sign-in round trip instead of fetching them again. The one discovery request after \
         the click is the portal asking whether AIM answers before it sends the person there.\n\n\
         | flow | authorize | token | discovery | JWKS | other | from the browser | MES → AIM |\n|---|---:|---:|---:|---:|---:|---:|---:|\n{}\n{}\n",
        line("Sign in button → form → first rows", counts.0),
        line("Reload with an AIM session (no form)", counts.1)
    )?;
    writeln!(
        report,
        "\"other\": {}: the browser's own icon request on AIM's form page.\n",
        other.join(", ")
    )?;
    writeln!(
        report,
        "| timing ({runs} runs, median) | |\n|---|---:|\n\
         | back at the portal (`/callback` navigation start) → first rows painted | {} |\n\
         | reload → first rows (wall clock, through AIM and back) | {} |\n",
        ms(median(interactive)),
        ms(median(sso))
    )?;
    Ok(())
}

async fn renewal(report: &mut String, stack: &Stack) -> Result<()> {
    let config = portal_config(stack)?;
    let api = config.web_api("MES").context("MES definition")?.clone();
    writeln!(
        report,
        "## Renewal\n\nN lookups started together as the access token expires (native client, same `UserSession` code as the browser):\n"
    )?;
    writeln!(
        report,
        "| concurrent calls | refresh requests at AIM | all answered |\n|---:|---:|---|"
    )?;
    for n in [8, 32, 128] {
        let (mut signed_in, authority) = native_sign_in(&config).await?;
        signed_in.tokens.expires_at = Some(now_seconds());
        let session = Arc::new(UserSession::new(
            NativeTransport::default(),
            &authority,
            &config.client,
            signed_in,
        ));
        let before = stack.aim.counters.refreshes.load(Ordering::Relaxed);
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..n {
            let (session, api) = (session.clone(), api.clone());
            calls.spawn(async move { session.lookup(&api, "v3/entity").send().await.is_ok() });
        }
        let mut ok = 0;
        while let Some(result) = calls.join_next().await {
            ok += usize::from(result.unwrap_or(false));
        }
        let refreshes = stack.aim.counters.refreshes.load(Ordering::Relaxed) - before;
        writeln!(
            report,
            "| {n} | {refreshes} | {} |",
            if ok == n {
                "yes".to_owned()
            } else {
                format!("{ok} of {n}")
            }
        )?;
    }
    writeln!(report)?;
    Ok(())
}

/// One grid's figures at one size (milliseconds, bytes).
#[derive(Default)]
struct GridFigures {
    ttfb: f64,
    transfer: f64,
    first: f64,
    all: f64,
    sort_text: f64,
    /// The first sort by the text column (the portal makes its collation ranks then).
    sort_text_first: f64,
    sort_number: f64,
    filter: f64,
    scroll: Vec<f64>,
    /// Frame intervals of a ten-second scroll from the top to the bottom.
    sweep: Vec<f64>,
    /// Main-thread time per scroll step: all tasks, script, style and layout.
    scroll_work: [f64; 3],
    /// Main-thread time per scroll step with the grid not told of it: the browser's part.
    scroll_floor: f64,
    /// Main-thread time of a jump to the middle of the rows (or back to the top), median.
    jump: f64,
    dom_rows: (u64, u64),
    /// What the decoded rows hold in memory (the portal's columns), bytes.
    model: f64,
    js_heap: f64,
    wasm: f64,
}

impl GridFigures {
    /// The medians of the mount timings, and the DOM rows and model size of the last mount.
    fn take_mounts(&mut self, mounts: &[Value]) {
        let part = |key: &str| {
            median(
                mounts
                    .iter()
                    .map(|m| m[key].as_f64().unwrap_or(f64::NAN))
                    .collect(),
            )
        };
        (self.ttfb, self.transfer, self.first, self.all) =
            (part("ttfb"), part("transfer"), part("first"), part("all"));
        self.model = part("model");
        self.dom_rows.0 = mounts.last().and_then(|m| m["rows"].as_u64()).unwrap_or(0);
    }
}

/// The portal's release files plus the AG Grid page, served from the portal's origin.
fn bench_dist() -> Result<PathBuf> {
    let out = std::env::temp_dir().join("mes-bench-dist");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out)?;
    for entry in std::fs::read_dir(dist())? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), out.join(entry.file_name()))?;
        }
    }
    let ag = std::env::var_os("AG_GRID_JS")
        .context("AG_GRID_JS names ag-grid-community.min.js (cargo xtask bench sets it)")?;
    std::fs::copy(ag, out.join("ag-grid-community.min.js"))?;
    std::fs::write(out.join("bench-ag-grid.html"), AG_GRID_PAGE)?;
    std::fs::write(out.join("bench-ag-grid.js"), AG_GRID_SCRIPT)?;
    Ok(out)
}

/// JS heap in use after a full garbage collection.
async fn js_heap_settled(client: &Client) -> Result<f64> {
    cdp(client, "HeapProfiler.collectGarbage", json!({})).await?;
    js_heap(client).await
}

fn work_of(v: &Value) -> f64 {
    v["work"].as_f64().unwrap_or(f64::NAN)
}

/// Chromium's running totals of main-thread time, in milliseconds: all tasks, script, and
/// style recalculation with layout.
async fn task_time(client: &Client) -> Result<[f64; 3]> {
    let metrics = cdp(client, "Performance.getMetrics", json!({})).await?;
    let get = |name: &str| {
        metrics["metrics"]
            .as_array()
            .and_then(|m| m.iter().find(|x| x["name"] == name))
            .and_then(|x| x["value"].as_f64())
            .map(|seconds| seconds * 1000.0)
            .ok_or_else(|| anyhow!("no {name}"))
    };
    Ok([
        get("TaskDuration")?,
        get("ScriptDuration")?,
        get("RecalcStyleDuration")? + get("LayoutDuration")?,
    ])
}

async fn scroll(client: &Client, viewport: &str, rows: &str, figures: &mut GridFigures) -> Result<()> {
    let mut jumps = Vec::new();
    for n in 0..6 {
        let before = task_time(client).await?[0];
        client
            .execute_async(JUMP, vec![json!(viewport), json!(n % 2 == 0)])
            .await?;
        jumps.push(task_time(client).await?[0] - before);
    }
    figures.jump = median(jumps);
    let before = task_time(client).await?;
    let scroll = client
        .execute_async(SCROLL, vec![json!(viewport), json!(rows), json!(false)])
        .await?;
    let after = task_time(client).await?;
    figures.scroll_work = [0, 1, 2].map(|i| (after[i] - before[i]) / 60.0);
    figures.scroll = scroll["frames"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    figures.dom_rows.1 = scroll["rows"].as_u64().unwrap_or(0);
    let before = task_time(client).await?[0];
    client
        .execute_async(SCROLL, vec![json!(viewport), json!(rows), json!(true)])
        .await?;
    figures.scroll_floor = (task_time(client).await?[0] - before) / 60.0;
    let sweep = client.execute_async(SWEEP, vec![json!(viewport)]).await?;
    figures.sweep = sweep["frames"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    Ok(())
}

/// The same interactions for either grid: `script` takes `(kind, argument)` and reports `work`;
/// `text` and `number` name the columns to sort by as the grid knows them.
struct Interactions<'a> {
    script: &'a str,
    text: Value,
    number: Value,
}

impl Interactions<'_> {
    /// The first and median work of sorting by `column`, `runs` clicks.
    async fn sort(&self, client: &Client, column: &Value, runs: usize) -> Result<(f64, f64)> {
        let mut work = Vec::new();
        for _ in 0..runs {
            work.push(work_of(
                &client
                    .execute_async(self.script, vec![json!("sort"), column.clone()])
                    .await?,
            ));
        }
        Ok((work[0], median(work)))
    }

    /// Text sorts, number sorts and filter keystrokes into `f`.
    async fn run(&self, client: &Client, runs: usize, f: &mut GridFigures) -> Result<()> {
        (f.sort_text_first, f.sort_text) = self.sort(client, &self.text, runs).await?;
        f.sort_number = self.sort(client, &self.number, runs).await?.1;
        let mut filter = Vec::new();
        for _ in 0..runs {
            // One keystroke that narrows; then the filter is cleared again.
            filter.push(work_of(
                &client
                    .execute_async(self.script, vec![json!("filter"), json!("1")])
                    .await?,
            ));
            client
                .execute_async(self.script, vec![json!("filter"), json!("")])
                .await?;
        }
        f.filter = median(filter);
        Ok(())
    }
}

/// The portal's grid: the Items lookup opened from the navigation, `runs` times.
async fn our_grid(client: &Client, runs: usize) -> Result<(GridFigures, Vec<String>, usize, usize)> {
    let mut f = GridFigures::default();
    let baseline = js_heap_settled(client).await?;
    let mut mount: Vec<Value> = Vec::new();
    for _ in 0..runs {
        client
            .execute_async(&in_script(MOUNT_LOOKUP), vec![json!("/lookups/0")])
            .await?;
        let result = client
            .execute_async(&in_script(MOUNT_LOOKUP), vec![json!("/lookups/1")])
            .await?;
        if result.get("error").is_some() {
            bail!("{result}");
        }
        mount.push(result);
    }
    f.take_mounts(&mount);
    f.js_heap = js_heap_settled(client).await? - baseline;
    let keys: Vec<String> = serde_json::from_value(
        client
            .execute(
                &in_script(
                    "return [...document.querySelectorAll(SEL.headers)].map(th => th.title.split(' — ')[0])",
                ),
                vec![],
            )
            .await?,
    )?;
    let number_column = client
        .execute(
            &in_script("return [...document.querySelector(SEL.rows).cells].findIndex(c => c.classList.contains('num'))"),
            vec![],
        )
        .await?
        .as_i64()
        .and_then(|i| usize::try_from(i).ok())
        .context("the Items lookup has a number column")?;
    let text_column = if number_column == 1 { 0 } else { 1 };
    let interact = in_script(INTERACT);
    let sorts = Interactions {
        script: &interact,
        text: json!(text_column),
        number: json!(number_column),
    };
    sorts.run(client, runs, &mut f).await?;
    scroll(client, VIEWPORT, ROWS, &mut f).await?;
    f.wasm = wasm_memory(client).await?;
    Ok((f, keys, text_column, number_column))
}

/// AG Grid on the same answer in the same browser: its page on the portal's origin, the token
/// from a native sign-in, the same columns sorted, the same keystroke.
async fn ag_grid(
    client: &Client,
    origin: &str,
    answer: &Answer<'_>,
    keys: (&str, &str),
    runs: usize,
) -> Result<GridFigures> {
    let mut f = GridFigures::default();
    // AG Grid injects its theme as a style element, which the portal's CSP (style-src 'self')
    // refuses; this page is the benchmark's, not the portal's.
    cdp(client, "Page.setBypassCSP", json!({ "enabled": true })).await?;
    client.goto(&format!("{origin}/bench-ag-grid.html")).await?;
    let baseline = js_heap_settled(client).await?;
    let mut mount: Vec<Value> = Vec::new();
    for _ in 0..runs {
        mount.push(page_call(client, "benchMount", answer).await.context("AG Grid")?);
    }
    f.take_mounts(&mount);
    f.js_heap = js_heap_settled(client).await? - baseline;
    let interact = "benchInteract(arguments[0], arguments[1]).then(arguments[2])";
    Interactions {
        script: interact,
        text: json!(keys.0),
        number: json!(keys.1),
    }
    .run(client, runs, &mut f)
    .await?;
    scroll(
        client,
        "#grid .ag-grid-viewport",
        "#grid .ag-row:not(.ag-header-row)",
        &mut f,
    )
    .await?;
    Ok(f)
}

/// The MES answer both grids show: its address and the token that reads it.
struct Answer<'a> {
    url: &'a str,
    token: &'a str,
}

/// Calls an async function of the AG Grid page with the answer's URL and token; its result.
async fn page_call(client: &Client, function: &str, answer: &Answer<'_>) -> Result<Value> {
    let script = format!(
        "{function}(arguments[0], arguments[1]).then(arguments[2], e => arguments[2]({{ error: String(e) }}))"
    );
    let result = client
        .execute_async(&script, vec![json!(answer.url), json!(answer.token)])
        .await?;
    if result.get("error").is_some() {
        bail!("{function}: {result}");
    }
    Ok(result)
}

/// One of `mountRowsGrid`'s reading paths: medians from the call (ms), and the bytes read.
#[derive(Default, Clone, Copy)]
struct ReadPath {
    first: f64,
    all: f64,
    returned: f64,
    bytes: usize,
}

/// The portal's reading path `kind` (json, rows, stream) on its own, on the AG Grid page.
async fn read_path(client: &Client, answer: &Answer<'_>, kind: &str, runs: usize) -> Result<ReadPath> {
    let script = "benchReadPath(arguments[0], arguments[1], arguments[2]).then(arguments[3], e => arguments[3]({ error: String(e) }))";
    let mut results = Vec::new();
    for _ in 0..runs {
        let r = client
            .execute_async(script, vec![json!(answer.url), json!(answer.token), json!(kind)])
            .await?;
        if r.get("error").is_some() {
            bail!("reading path {kind}: {r}");
        }
        results.push(r);
    }
    let part = |key: &str| {
        median(
            results
                .iter()
                .map(|r| r[key].as_f64().unwrap_or(f64::NAN))
                .collect(),
        )
    };
    Ok(ReadPath {
        first: part("first"),
        all: part("all"),
        returned: part("returned"),
        bytes: results.last().and_then(|r| r["bytes"].as_u64()).unwrap_or(0) as usize,
    })
}

fn ratio(ours: f64, theirs: f64) -> String {
    if ours.is_finite() && theirs.is_finite() && theirs > 0.0 {
        format!("{:.2}", ours / theirs)
    } else {
        "–".into()
    }
}

fn mb(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
}

/// One size's figures: the report's table at that size and a line of the growth table.
struct Size {
    rows: usize,
    runs: usize,
    json: usize,
    keys: (String, String),
    ours: GridFigures,
    /// AG Grid's figures, or what happened when it could not finish.
    theirs: std::result::Result<GridFigures, String>,
    paths: Vec<(&'static str, ReadPath)>,
}

/// Runs above this many rows: a million rows take long to read, sort and scroll.
const RUNS_AT_A_MILLION: usize = 3;

async fn grids(report: &mut String, sizes: &[usize], runs: usize) -> Result<()> {
    let ag_version = std::env::var("AG_GRID_VERSION").unwrap_or_else(|_| "36".into());
    writeln!(
        report,
        "## Lookup grid beside AG Grid\n\nThe Items lookup (10 MES-like columns) in the release portal, and AG Grid Community \
         {ag_version} on the same MES answer in the same headless Chromium (its page on the portal's origin; `fetch`, \
         `res.json()`, `createGrid`), loopback. The MES stand-in streams the answer as SQLite yields rows. Times of the \
         first rows and of all rows count from the answer's first byte (Resource Timing): the portal decodes and paints \
         while the rest arrives, AG Grid needs the whole answer, its parse and `createGrid`. Interactions: `work` until \
         the updates are done (the first task after them). JS heap: in use after a forced collection, minus the page \
         before the grid. wasm memory: the portal's whole linear memory at the end (it never shrinks: a peak). \
         Frame intervals are `requestAnimationFrame`'s (60 Hz: 16.7 ms when no frame is dropped). \
         Medians of {runs} runs ({RUNS_AT_A_MILLION} at a million rows); a ratio below 1 means the portal is faster or smaller.\n"
    )?;
    let dist = bench_dist()?;
    let mut done = Vec::new();
    for &rows in sizes {
        let runs = if rows >= 1_000_000 {
            runs.min(RUNS_AT_A_MILLION)
        } else {
            runs
        };
        eprintln!("bench: grids at {rows} rows");
        let size = grid_size(rows, runs, &dist).await?;
        size_report(report, &size)?;
        done.push(size);
    }
    growth_report(report, &done)?;
    if let Some(million) = done.iter().find(|s| s.rows >= 1_000_000) {
        million_targets(report, million)?;
    }
    Ok(())
}

/// Why a target at a million rows is missed, for those that can be.
const WHY_DECODE: &str = "the wasm is built for size (opt-level z, the first load's budget); the same decoder \
     reads about 215 MB/s natively at opt-level 3, and the crates it runs on (serde_json, mes-client) are in the \
     first load too, so building them for speed would grow it";
const WHY_FILTER: &str = "a keystroke most rows match (`1`) reads every text column's cells once: about 100 MB of \
     text at a million rows, in wasm built for size";
const WHY_MEMORY: &str = "the columns hold about 0.6 of the JSON (the rows once decoded, above); the rest is what \
     their growth left behind (wasm memory never shrinks: a peak), a sort's keys and the shown order";
const WHY_FRAMES: &str = "a step renders the newly visible rows' cells in the DOM, about as much main-thread work \
     as a frame holds on this machine (the scroll step above)";

/// The targets at a million rows against this run's figures; a missed one says why.
fn million_targets(report: &mut String, size: &Size) -> Result<()> {
    let o = &size.ours;
    let stream = size
        .paths
        .iter()
        .find(|(k, _)| *k == "stream")
        .map(|(_, p)| *p)
        .unwrap_or_default();
    let decode = stream.bytes as f64 / 1e6 / (stream.all / 1000.0);
    let late = o.sweep.iter().filter(|i| **i > 17.0).count() as f64;
    let memory = o.wasm / size.json as f64;
    writeln!(
        report,
        "### The targets at {} rows\n\n| target | measured | |\n|---|---:|---|",
        size.rows
    )?;
    let rows: [(&str, String, &str, &str); 7] = [
        (
            "first rows ≤ 100 ms from the first byte",
            ms(o.first),
            verdict(o.first, 100.0, true),
            "",
        ),
        (
            "decoding ≥ 150 MB/s (`mountRowsGrid` reading a stream)",
            format!("{decode:.0} MB/s"),
            verdict(decode, 150.0, false),
            WHY_DECODE,
        ),
        (
            "text sort ≤ 300 ms (median)",
            ms(o.sort_text),
            verdict(o.sort_text, 300.0, true),
            "",
        ),
        (
            "number sort ≤ 200 ms",
            ms(o.sort_number),
            verdict(o.sort_number, 200.0, true),
            "",
        ),
        (
            "filter keystroke ≤ 150 ms (median)",
            ms(o.filter),
            verdict(o.filter, 150.0, true),
            WHY_FILTER,
        ),
        (
            "wasm memory ≤ 0.7 × the JSON",
            format!("{memory:.2} ×"),
            verdict(memory, 0.7, true),
            WHY_MEMORY,
        ),
        (
            "no frame over 17 ms in a ten-second scroll, top to bottom",
            format!("{late} of 600"),
            verdict(late, 0.0, true),
            WHY_FRAMES,
        ),
    ];
    for (target, measured, verdict, why) in rows {
        let why = if verdict == "met" || why.is_empty() {
            String::new()
        } else {
            format!(": {why}")
        };
        writeln!(report, "| {target} | {measured} | {verdict}{why} |")?;
    }
    report.push('\n');
    Ok(())
}

/// Both grids at `rows` rows, in a stack of their own.
async fn grid_size(rows: usize, runs: usize, dist: &std::path::Path) -> Result<Size> {
    let mut options = StackOptions::for_tests(&format!("bench-grid-{rows}"));
    options.dist_dir = Some(dist.to_path_buf());
    options.seed_rows = rows;
    let seeding = Instant::now();
    let stack = Stack::start(options).await?;
    eprintln!(
        "bench: {rows} rows seeded in {:.0} s",
        seeding.elapsed().as_secs_f64()
    );
    let config = portal_config(&stack)?;
    let (signed_in, _) = native_sign_in(&config).await?;
    let url = format!("{}api/v3/item", stack.mes_base);
    let token = signed_in.tokens.access_token.expose().to_owned();
    let json = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await?
        .bytes()
        .await?
        .len();
    let (client, driver) = fresh_browser().await?;
    portal::sign_in_at(&client, &stack.portal_origin, "PLANT\\alice", "alice-demo").await?;
    wait_for(&client, ROWS).await?;
    let (ours, keys, text, number) = our_grid(&client, runs)
        .await
        .with_context(|| format!("the portal at {rows} rows"))?;
    let answer = Answer {
        url: &url,
        token: &token,
    };
    // The reading paths on the AG Grid page (mes-embed.js), before AG Grid is there.
    cdp(&client, "Page.setBypassCSP", json!({ "enabled": true })).await?;
    client
        .goto(&format!("{}/bench-ag-grid.html", stack.portal_origin))
        .await?;
    let mut paths = Vec::new();
    for kind in ["json", "rows", "stream"] {
        let path = read_path(&client, &answer, kind, runs)
            .await
            .with_context(|| format!("the reading path {kind} at {rows} rows"))?;
        paths.push((kind, path));
    }
    let started = Instant::now();
    let keys = (keys[text].clone(), keys[number].clone());
    let theirs = ag_grid(&client, &stack.portal_origin, &answer, (&keys.0, &keys.1), runs)
        .await
        .map_err(|e| {
            format!(
                "{e:#} ({:.0} s after AG Grid's first mount began)",
                started.elapsed().as_secs_f64()
            )
        });
    let _ = client.close().await;
    drop(driver);
    stack.stop().await;
    Ok(Size {
        rows,
        runs,
        json,
        keys,
        ours,
        theirs,
        paths,
    })
}

/// One size's table, reading paths and frame figures.
fn size_report(report: &mut String, size: &Size) -> Result<()> {
    let Size {
        rows,
        runs,
        json,
        keys,
        ours,
        ..
    } = size;
    let none = GridFigures::default();
    let theirs = size.theirs.as_ref().unwrap_or(&none);
    writeln!(
        report,
        "### {rows} rows ({} of JSON, medians of {runs} runs)\n",
        kb(*json)
    )?;
    if let Err(why) = &size.theirs {
        writeln!(
            report,
            "AG Grid did not finish at this size: {why}. Its column is empty.\n"
        )?;
    }
    writeln!(
        report,
        "| | portal (RowsGrid) | AG Grid | ratio |\n|---|---:|---:|---:|"
    )?;
    let mut line = |what: &str, a: f64, b: f64, show: &dyn Fn(f64) -> String| {
        writeln!(report, "| {what} | {} | {} | {} |", show(a), show(b), ratio(a, b))
    };
    line(
        "**first rows painted**, from the first byte",
        ours.first,
        theirs.first,
        &ms,
    )?;
    line("all rows in, from the first byte", ours.all, theirs.all, &ms)?;
    line(
        &format!("sort by text (`{}`), the column's first sort", keys.0),
        ours.sort_text_first,
        theirs.sort_text_first,
        &ms,
    )?;
    line(
        &format!("sort by text (`{}`), median", keys.0),
        ours.sort_text,
        theirs.sort_text,
        &ms,
    )?;
    line(
        &format!("sort by number (`{}`)", keys.1),
        ours.sort_number,
        theirs.sort_number,
        &ms,
    )?;
    line("quick-filter keystroke", ours.filter, theirs.filter, &ms)?;
    line(
        "jump to the middle (or back to the top): main-thread work",
        ours.jump,
        theirs.jump,
        &ms,
    )?;
    line(
        "scroll step: main-thread work",
        ours.scroll_work[0],
        theirs.scroll_work[0],
        &ms,
    )?;
    line(
        "… of which script",
        ours.scroll_work[1],
        theirs.scroll_work[1],
        &ms,
    )?;
    line(
        "… of which style and layout",
        ours.scroll_work[2],
        theirs.scroll_work[2],
        &ms,
    )?;
    line(
        "scroll step with the grid not told of it (the browser's own part)",
        ours.scroll_floor,
        theirs.scroll_floor,
        &ms,
    )?;
    line(
        "scroll step: frame interval, median",
        median(ours.scroll.clone()),
        median(theirs.scroll.clone()),
        &ms,
    )?;
    line(
        "scroll step: frame interval, slowest",
        percentile(ours.scroll.clone(), 1.0),
        percentile(theirs.scroll.clone(), 1.0),
        &ms,
    )?;
    line(
        "ten-second scroll, top to bottom: frame interval, 99th percentile",
        percentile(ours.sweep.clone(), 0.99),
        percentile(theirs.sweep.clone(), 0.99),
        &ms,
    )?;
    line(
        "ten-second scroll, top to bottom: slowest frame interval",
        percentile(ours.sweep.clone(), 1.0),
        percentile(theirs.sweep.clone(), 1.0),
        &ms,
    )?;
    let late = |f: &[f64]| {
        if f.is_empty() {
            f64::NAN
        } else {
            f.iter().filter(|i| **i > 17.0).count() as f64
        }
    };
    line(
        "… frames over 17 ms (of 600)",
        late(&ours.sweep),
        late(&theirs.sweep),
        &|n| if n.is_nan() { "–".into() } else { format!("{n}") },
    )?;
    line("JS heap (grid and rows)", ours.js_heap, theirs.js_heap, &mb)?;
    line(
        "grid memory (JS heap + wasm memory)",
        ours.js_heap + ours.wasm,
        theirs.js_heap,
        &mb,
    )?;
    let json = *json as f64;
    writeln!(
        report,
        "| the rows once decoded (the portal's columns; the JSON is {}) | {} | | {} |",
        mb(json),
        mb(ours.model),
        ratio(ours.model, json)
    )?;
    writeln!(
        report,
        "| wasm memory ÷ the JSON's size | {} | | |",
        ratio(ours.wasm, json)
    )?;
    writeln!(
        report,
        "| DOM rows (mounted → after scrolling 600 rows) | {} → {} | {} → {} | |\n",
        ours.dom_rows.0, ours.dom_rows.1, theirs.dom_rows.0, theirs.dom_rows.1
    )?;
    writeln!(
        report,
        "The same MES answer for both (the stand-in's figures, not the grids'): time to first byte {} / {}, \
         transfer from the first to the last byte {} / {} (portal / AG Grid page).\n",
        ms(ours.ttfb),
        ms(theirs.ttfb),
        ms(ours.transfer),
        ms(theirs.transfer)
    )?;
    writeln!(
        report,
        "`mountRowsGrid` on its own, the answer already in the page (from the call; the text decoded, or parsed, \
         before the clock starts):\n\n| given as | call returns | first rows painted | all rows in | decoded |\n|---|---:|---:|---:|---:|"
    )?;
    for (kind, path) in &size.paths {
        let given = match *kind {
            "json" => "`json`: the JSON text",
            "rows" => "`rows`: row objects",
            _ => "`stream`: a Blob's stream",
        };
        writeln!(
            report,
            "| {given} | {} | {} | {} | {:.0} MB/s |",
            ms(path.returned),
            ms(path.first),
            ms(path.all),
            path.bytes as f64 / 1e6 / (path.all / 1000.0)
        )?;
    }
    report.push('\n');
    Ok(())
}

/// How each figure grows with the rows: time and memory per row, both grids.
fn growth_report(report: &mut String, sizes: &[Size]) -> Result<()> {
    if sizes.len() < 2 {
        return Ok(());
    }
    writeln!(
        report,
        "### How the figures grow\n\nThe same figures at each size; \"per row\" divides by the rows (µs per row, bytes \
         per row). The portal:\n\n| rows | first rows | all rows | per row | text sort | number sort | filter | wasm memory | per row | ÷ JSON |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    let per_row = |v: f64, rows: usize| format!("{:.2} µs", v * 1000.0 / rows as f64);
    let bytes_per_row = |v: f64, rows: usize| format!("{:.0} B", v / rows as f64);
    for s in sizes {
        let o = &s.ours;
        writeln!(
            report,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.rows,
            ms(o.first),
            ms(o.all),
            per_row(o.all, s.rows),
            ms(o.sort_text),
            ms(o.sort_number),
            ms(o.filter),
            mb(o.wasm),
            bytes_per_row(o.wasm, s.rows),
            ratio(o.wasm, s.json as f64)
        )?;
    }
    writeln!(
        report,
        "\nAG Grid:\n\n| rows | first rows | per row | text sort | number sort | filter | JS heap | per row |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for s in sizes {
        match &s.theirs {
            Ok(t) => writeln!(
                report,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                s.rows,
                ms(t.first),
                per_row(t.first, s.rows),
                ms(t.sort_text),
                ms(t.sort_number),
                ms(t.filter),
                mb(t.js_heap),
                bytes_per_row(t.js_heap, s.rows)
            )?,
            Err(_) => writeln!(report, "| {} | did not finish (above) | | | | | | |", s.rows)?,
        }
    }
    report.push('\n');
    Ok(())
}

async fn mes_throughput(report: &mut String, stack: &Stack, requests: usize) -> Result<()> {
    let config = portal_config(stack)?;
    let (signed_in, _) = native_sign_in(&config).await?;
    let token = signed_in.tokens.access_token.expose().to_owned();
    let id_token = signed_in
        .tokens
        .id_token
        .as_ref()
        .map(|t| t.expose().to_owned())
        .unwrap_or_default();
    let mut flipped = token.clone().into_bytes();
    if let Some(last) = flipped.last_mut() {
        *last = if *last == b'A' { b'B' } else { b'A' };
    }
    let flipped = String::from_utf8(flipped)?;
    let invalid = [
        ("garbage", "not-a-token".to_owned()),
        ("altered signature", flipped),
        ("ID token instead of an access token", id_token),
    ];
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let url = format!("{}api/v3/entity", stack.mes_base);
    let workers = 16;
    let run = |token: String, total: usize| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let started = Instant::now();
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..workers {
                let (http, url, token, next) = (http.clone(), url.clone(), token.clone(), next.clone());
                tasks.spawn(async move {
                    let mut seen = Vec::new();
                    while next.fetch_add(1, Ordering::Relaxed) < total {
                        let t = Instant::now();
                        let status = match http
                            .get(&url)
                            .bearer_auth(&token)
                            .timeout(Duration::from_secs(10))
                            .send()
                            .await
                        {
                            Ok(r) => {
                                let status = r.status().as_u16();
                                let body = r.bytes().await.unwrap_or_default();
                                let rows = serde_json::from_slice::<Value>(&body)
                                    .ok()
                                    .and_then(|v| v.as_array().map(Vec::len))
                                    .unwrap_or(0);
                                if status == 200 && rows == 0 { 0 } else { status }
                            }
                            Err(_) => 0,
                        };
                        seen.push((status, t.elapsed().as_secs_f64() * 1000.0));
                    }
                    seen
                });
            }
            let mut all = Vec::new();
            while let Some(r) = tasks.join_next().await {
                all.extend(r.unwrap_or_default());
            }
            (all, started.elapsed().as_secs_f64())
        }
    };
    writeln!(
        report,
        "## MES stand-in throughput\n\n`GET v3/entity` (about 30 rows) with every token checked (RS256 signature against the \
         authority's JWKS, issuer, audience, expiry, `typ`), {workers} concurrent connections on loopback, a fixed number \
         of requests. The stand-in runs in the same process as the load (debug build, as in the tests): a regression \
         figure for the stand-in, not a statement about a real MES.\n"
    )?;
    writeln!(
        report,
        "| tokens | requests | answered as expected | requests/s | p50 | p99 |\n|---|---:|---:|---:|---:|---:|"
    )?;
    let (valid, seconds) = run(token, requests).await;
    let good = valid.iter().filter(|(s, _)| *s == 200).count();
    let latency: Vec<f64> = valid.iter().map(|(_, l)| *l).collect();
    writeln!(
        report,
        "| valid | {} | {good} (200 with rows) | {:.0} | {} | {} |",
        valid.len(),
        valid.len() as f64 / seconds,
        ms(percentile(latency.clone(), 0.5)),
        ms(percentile(latency, 0.99))
    )?;
    for (what, token) in invalid {
        let (answers, seconds) = run(token, requests / 4).await;
        let refused = answers.iter().filter(|(s, _)| *s == 401).count();
        let latency: Vec<f64> = answers.iter().map(|(_, l)| *l).collect();
        writeln!(
            report,
            "| {what} | {} | {refused} (401) | {:.0} | {} | {} |",
            answers.len(),
            answers.len() as f64 / seconds,
            ms(percentile(latency.clone(), 0.5)),
            ms(percentile(latency, 0.99))
        )?;
    }
    writeln!(report)?;
    Ok(())
}

fn machine() -> String {
    let sh = |cmd: &str| {
        std::process::Command::new("sh")
            .args(["-c", cmd])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    format!(
        "- Date: {}\n- Commit: {}\n- Machine: {} ({} cores, {} memory)\n- Browser: {} (headless)\n",
        sh("date -u +'%Y-%m-%d %H:%M UTC'"),
        sh("git rev-parse --short HEAD; git diff --quiet || echo '(with uncommitted changes)'")
            .replace('\n', " "),
        sh("uname -sr"),
        sh("nproc"),
        sh("free -h | awk '/Mem:/ {print $2}'"),
        sh(&format!("{chromium} --version"))
    )
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = args()?;
    let mut report = String::new();
    writeln!(
        report,
        "# Benchmarks\n\nWritten by `cargo xtask bench`; figures are medians of {} runs unless said otherwise.\n",
        args.runs
    )?;
    report.push_str(&machine());
    report.push('\n');

    match args.only.as_deref() {
        Some("grids") => {
            grids(&mut report, &args.sizes, args.runs).await?;
            println!("{report}");
            return Ok(());
        }
        Some("load") => {
            let small = stack("bench", 200).await?;
            load(&mut report, &small, args.runs).await?;
            println!("{report}");
            return Ok(());
        }
        Some(other) => bail!("--only takes grids or load, not {other:?}"),
        None => {}
    }
    let small = stack("bench", 200).await?;
    load(&mut report, &small, args.runs).await?;
    eprintln!("bench: sign-in requests and timings");
    sign_in_cost(&mut report, &small, args.runs).await?;
    eprintln!("bench: renewal");
    renewal(&mut report, &small).await?;
    eprintln!("bench: MES throughput");
    mes_throughput(&mut report, &small, args.requests).await?;
    small.stop().await;
    eprintln!("bench: grids at {:?} rows", args.sizes);
    grids(&mut report, &args.sizes, args.runs).await?;

    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &report)?;
    println!("{report}");
    eprintln!("bench: written to {}", args.out.display());
    Ok(())
}
