//! End to end, the portal as a plant deploys it: the built `dist/` served by Debian's nginx with
//! the repository's `deploy/nginx/mesportal.conf` and the snippets `mes-lookup site-headers`
//! writes, under TLS and HTTP/2 on `portal.test`, with AIM on `aim.test`, the MES on `mes.test`
//! and two intranet sites framing lookups (one allowed, one not) — five sites. Every file's type,
//! compression and caching; the policies and their hash; the deep-link fallback; then a person
//! signs in, sees a lookup and signs out through it, with no Content-Security-Policy violation on
//! the way. And the site doctor (`mes-lookup doctor`) on that site: nothing to say when it is
//! right, each planted mistake named with its fix.

use anyhow::{Context as _, Result, bail};
use e2e::scenario::{assert_no_token_stored, stack_on_sites, with_browser_for_sites};
use e2e::site::{ALL_HOSTS, DeployedPortal, INTRANET_HOST, PORTAL_HOST, Sites, Upstreams};
use e2e::{aim, frame, portal};
use e2e::{click, dist, wait_for_text};
use std::path::Path;

/// Every file below `dir`, as paths relative to it with `/` separators.
fn files(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type()?.is_dir() {
            files(&entry.path(), &format!("{name}/"), out)?;
        } else {
            out.push(name);
        }
    }
    Ok(())
}

/// The type every file of the build must be served as.
fn expected_type(name: &str) -> Option<&'static str> {
    Some(match name.rsplit('.').next()? {
        "html" => "text/html",
        "js" => "application/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        "json" => "application/json",
        "png" | "svg" | "ico" => return None,
        _ => return None,
    })
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn nginx_as_the_deploy_guide_configures_it_serves_a_portal_that_signs_in_and_shows_lookups() {
    let sites = Sites::new().expect("sites");
    let origin = sites.origin(PORTAL_HOST);
    let intranet = sites.origin(INTRANET_HOST);
    let stack = stack_on_sites("e2e-nginx", &sites, |_| {}).await;
    // Sign-out by POST, config.json's default: AIM on a TLS site of its own gives its SSO cookie
    // `Secure; SameSite=None`, as IdentityServer does, so the portal's cross-site POST carries it.
    let config = stack.portal_config_at(&origin, std::slice::from_ref(&intranet));
    let site = DeployedPortal::start(sites, &dist(), &config, Upstreams::of(&stack), |server| server)
        .expect("nginx");
    let http = site.http().expect("client");

    // Every file of the build: its type, its gzip copy, its caching, the security headers.
    let mut names = Vec::new();
    files(&site.root, "", &mut names).expect("dist");
    let mut checked = 0;
    for name in names.iter().filter(|n| !n.ends_with(".gz")) {
        let response = http
            .get(format!("{origin}/{name}"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(response.status(), 200, "{name}");
        if let Some(kind) = expected_type(name) {
            assert!(
                header(&response, "content-type").starts_with(kind),
                "{name} is served as {:?}, not {kind}",
                header(&response, "content-type")
            );
            checked += 1;
        }
        // A file with a gzip copy is served compressed (the copy, or nginx's own gzip for text).
        if names.contains(&format!("{name}.gz")) {
            assert_eq!(
                header(&response, "content-encoding"),
                "gzip",
                "{name}: not compressed"
            );
        }
        let cache = header(&response, "cache-control");
        let hashed = name.contains("mes-portal-")
            || name.starts_with("portal-")
            || name.starts_with("mes-embed-host-");
        // The host script, under both names, is the one file any origin may read (Subresource
        // Integrity needs a CORS fetch); nothing else of the portal is.
        let open = if name.starts_with("mes-embed-host") {
            "*"
        } else {
            ""
        };
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            open,
            "{name}: CORS"
        );
        let expected = match name.as_str() {
            "config.json" => "no-store",
            _ if hashed => "public, max-age=31536000, immutable",
            _ => "no-cache",
        };
        assert_eq!(cache, expected, "{name}: caching");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{name}");
        assert_eq!(header(&response, "referrer-policy"), "no-referrer", "{name}");
        assert!(
            header(&response, "strict-transport-security").starts_with("max-age="),
            "{name}: HSTS"
        );
    }
    assert!(checked > 10, "only {checked} files were checked: {names:?}");

    // The policy holds the build's script hash and the site's origins.
    let index = std::fs::read_to_string(site.root.join("index.html")).expect("index");
    let hashes = mes_client::inline_script_hashes(&index);
    let page = http.get(format!("{origin}/")).send().await.expect("page");
    let csp = header(&page, "content-security-policy").to_owned();
    assert!(
        !hashes.is_empty() && hashes.iter().all(|h| csp.contains(h.as_str())),
        "{csp}"
    );
    assert!(
        csp.contains("frame-ancestors 'self';")
            && csp.contains(&stack.issuer[..stack.issuer.len() - "/identitymanager".len()]),
        "{csp}"
    );
    let framed = http
        .get(format!("{origin}/embed/lookup?name=Lots"))
        .send()
        .await
        .expect("embed");
    assert_eq!(header(&framed, "cache-control"), "no-cache");
    assert!(
        header(&framed, "content-security-policy").contains(&format!("frame-ancestors 'self' {intranet};")),
        "{}",
        header(&framed, "content-security-policy")
    );
    assert!(header(&framed, "content-type").starts_with("text/html"));
    // Deep links are the page (the portal routes in the browser).
    for path in [
        "/lookups/2?sort=lot_no",
        "/callback?code=x&state=y",
        "/signed-out",
    ] {
        let deep = http
            .get(format!("{origin}{path}"))
            .send()
            .await
            .expect("deep link");
        assert!(
            deep.status() == 200 && header(&deep, "content-type").starts_with("text/html"),
            "{path}"
        );
        assert_eq!(header(&deep, "cache-control"), "no-cache", "{path}");
        assert_eq!(
            deep.text().await.expect("text"),
            index,
            "{path} answers index.html"
        );
    }

    let stranger = site.stranger_origin.clone();
    let pinned = devstack::web::HostScript::of(Some(&site.root));
    assert!(
        pinned.integrity.starts_with("sha384-"),
        "the build pins its host script: {pinned:?}"
    );
    with_browser_for_sites(&ALL_HOSTS, |client| async move {
        portal::sign_in_at(&client, &origin, "PLANT\\alice", "alice-demo").await?;
        e2e::grid::wait_for_rows(&client).await?;
        let protocol = client
            .execute(
                "return performance.getEntriesByType('navigation')[0].nextHopProtocol",
                vec![],
            )
            .await?;
        if protocol != "h2" {
            bail!("the page should come over HTTP/2, not {protocol}");
        }
        let console = client
            .issue_cmd(e2e::BrowserLog)
            .await
            .map_err(|e| anyhow::anyhow!("reading the console: {e}"))?;
        let text = console.to_string();
        if text.contains("Content Security Policy") || text.contains("Content-Security-Policy") {
            bail!("the policy refused something: {text}");
        }
        // A site config.json does not list frames the lookup: nginx's frame-ancestors stops it
        // before the portal runs (the portal's own refusal would show `frame-refused`).
        client.goto(&format!("{stranger}/")).await?;
        // The host script pinned with Subresource Integrity, from a page of another site: this
        // build's hash loads it (nginx lets any origin read it), a wrong one is refused.
        for (name, integrity, expected) in [
            (pinned.name.as_str(), pinned.integrity.as_str(), "loaded"),
            ("mes-embed-host.js", pinned.integrity.as_str(), "loaded"),
            (
                pinned.name.as_str(),
                "sha384-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "blocked",
            ),
        ] {
            let outcome = client
                .execute_async(
                    "const [src, integrity, done] = arguments;
                     const s = document.createElement('script');
                     s.src = src; s.integrity = integrity; s.crossOrigin = 'anonymous';
                     s.onload = () => done('loaded'); s.onerror = () => done('blocked');
                     document.head.append(s);",
                    vec![
                        serde_json::json!(format!("{origin}/{name}")),
                        serde_json::json!(integrity),
                    ],
                )
                .await?;
            if outcome != expected {
                bail!("{name} with {integrity}: {outcome}, expected {expected}");
            }
        }

        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        client.enter_frame(0).await?;
        let ran = client
            .find(fantoccini::Locator::Css("[data-state]"))
            .await
            .is_ok();
        client.enter_parent_frame().await?;
        if ran || frame::state(&client).await?.is_some() {
            bail!("a site config.json does not list must not get a working frame");
        }

        client.goto(&format!("{origin}/")).await?;
        e2e::grid::wait_for_rows(&client).await?;
        click(&client, "button#sign-out").await?;
        e2e::portal::back_at_signed_out(&client, &origin).await?;
        wait_for_text(&client, "#notice", &["You are signed out."]).await?;
        // AIM's session ended with it: the cross-site POST carried AIM's cookie.
        if stack.aim.open_sessions() != 0 {
            bail!("the sign-out left AIM's session open");
        }
        assert_no_token_stored(&client, &stack).await
    })
    .await;
    let log = site.error_log();
    assert!(
        !log.contains("[error]") && !log.contains("[crit]"),
        "nginx: {log}"
    );
}

/// The mistake the deploy guide once made: a `types { application/wasm wasm; }` block in the
/// server replaces nginx's whole MIME map, and the page, its scripts and config.json go out as
/// `application/octet-stream` — the browser would download the page instead of running it.
#[tokio::test]
async fn a_types_block_in_the_server_is_the_mistake_the_checks_catch() {
    let sites = Sites::new().expect("sites");
    let origin = sites.origin(PORTAL_HOST);
    let stack = stack_on_sites("e2e-nginx-types", &sites, |_| {}).await;
    let config = stack.portal_config_at(&origin, &[]);
    let site = DeployedPortal::start(sites, &dist(), &config, Upstreams::of(&stack), |server| {
        server.replace("root ", "types { application/wasm wasm; }\n        root ")
    })
    .expect("nginx");
    let http = site.http().expect("client");
    let page = http
        .get(format!("{origin}/"))
        .send()
        .await
        .context("page")
        .expect("page");
    assert_eq!(header(&page, "content-type"), "application/octet-stream");
    let config = http
        .get(format!("{origin}/config.json"))
        .send()
        .await
        .expect("config");
    assert_eq!(header(&config, "content-type"), "application/octet-stream");
    drop(stack);
}

/// The failed findings' checks, for assertions; the whole report when something else is off.
fn failed(findings: &[mes_client::Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| !f.ok)
        .map(|f| f.check.clone())
        .collect()
}

#[tokio::test]
async fn the_site_doctor_passes_the_guides_site_and_names_each_planted_mistake() {
    let sites = Sites::new().expect("sites");
    let wrong_sites = sites.another().expect("sites");
    let origin = sites.origin(PORTAL_HOST);
    let intranet = sites.origin(INTRANET_HOST);
    let wrong_origin = wrong_sites.origin(PORTAL_HOST);
    // The authority takes sign-out by GET only; the MES and AIM know the first site, not the second.
    let stack = stack_on_sites("e2e-doctor", &sites, |o| o.aim_end_session_post = false).await;
    let mut config = stack.portal_config_at(&origin, std::slice::from_ref(&intranet));
    config["client"]["end_session_method"] = "get".into();
    let site = DeployedPortal::start(sites, &dist(), &config, Upstreams::of(&stack), |server| server)
        .expect("nginx");
    let options = site.doctor_options();
    let examine = || mes_client::examine_site(&origin, &options);

    let findings = examine().await;
    let report = mes_client::site_report(&findings);
    assert!(
        failed(&findings).is_empty(),
        "the guide's site should pass:\n{report}"
    );
    assert!(findings.len() >= 15, "too few checks:\n{report}");
    for check in [
        "MIME type of /",
        "config.json is valid",
        "CORS at the authority's token endpoint",
        "CORS at the MES (MES)",
        "sign-out reaches the authority",
    ] {
        assert!(findings.iter().any(|f| f.check == check), "no {check}:\n{report}");
    }

    // A build deployed without new headers: the start-up script's hash is not in the policy.
    let index = site.root.join("index.html");
    let html = std::fs::read_to_string(&index).expect("index");
    std::fs::write(
        &index,
        html.replacen("<script type=\"module\">", "<script type=\"module\">\n", 1),
    )
    .expect("write");
    assert_eq!(
        failed(&examine().await),
        ["the policy allows this build's start-up script"]
    );
    std::fs::write(&index, &html).expect("restore");

    // config.json changed without new headers: a site it lists cannot frame.
    let config_file = site.root.join("config.json");
    let mut more = config.clone();
    more["embed_origins"] = serde_json::json!([intranet, "https://stranger.test"]);
    std::fs::write(&config_file, more.to_string()).expect("write");
    let said = examine().await;
    assert_eq!(
        failed(&said),
        ["frame-ancestors of /embed/lookup match embed_origins"]
    );
    assert!(
        mes_client::site_report(&said).contains("https://stranger.test"),
        "names the site"
    );

    // Sign-out by POST at an authority that takes only GET.
    let mut post = config.clone();
    post["client"]["end_session_method"] = "post".into();
    std::fs::write(&config_file, post.to_string()).expect("write");
    let said = examine().await;
    assert_eq!(failed(&said), ["sign-out reaches the authority"]);
    assert!(
        mes_client::site_report(&said).contains("\"get\""),
        "says what to set"
    );

    // A broken config.json.
    std::fs::write(&config_file, "{ \"client\": ").expect("write");
    let said = failed(&examine().await);
    assert!(said.contains(&"config.json is valid".to_owned()), "{said:?}");
    std::fs::write(&config_file, config.to_string()).expect("restore");

    // The old guide's nginx, at an origin AIM and the MES were never told of.
    let mut elsewhere = stack.portal_config_at(&wrong_origin, &[]);
    elsewhere["client"]["end_session_method"] = "get".into();
    let wrong = DeployedPortal::start(
        wrong_sites,
        &dist(),
        &elsewhere,
        Upstreams::of(&stack),
        |server| server.replace("root ", "types { application/wasm wasm; }\n        root "),
    )
    .expect("nginx");
    let said = mes_client::examine_site(&wrong_origin, &wrong.doctor_options()).await;
    let checks = failed(&said);
    for check in [
        "MIME type of /",
        "CORS at the authority's token endpoint",
        "CORS at the MES (MES)",
    ] {
        assert!(
            checks.iter().any(|c| c == check),
            "{check} not found:\n{}",
            mes_client::site_report(&said)
        );
    }
    assert!(
        checks.iter().any(|c| c.starts_with("MIME type of /mes-portal-")),
        "the scripts' types:\n{}",
        mes_client::site_report(&said)
    );
    assert!(
        mes_client::site_report(&said).contains("types {"),
        "the fix names the mistake"
    );
}

/// The five sites with the stand-ins tuned by `tune` behind them, and the portal's nginx site
/// allowing the intranet site to frame lookups: the portal's and the intranet's origins, the
/// stand-ins and the site (kept alive for the test).
async fn framed_deployment(
    name: &str,
    tune: impl FnOnce(&mut devstack::StackOptions),
) -> (String, String, devstack::Stack, DeployedPortal) {
    let sites = Sites::new().expect("sites");
    let origin = sites.origin(PORTAL_HOST);
    let intranet = sites.origin(INTRANET_HOST);
    let stack = stack_on_sites(name, &sites, tune).await;
    let config = stack.portal_config_at(&origin, std::slice::from_ref(&intranet));
    let site = DeployedPortal::start(sites, &dist(), &config, Upstreams::of(&stack), |server| server)
        .expect("nginx");
    assert_eq!(site.intranet_origin, intranet);
    (origin, intranet, stack, site)
}

/// Browsers partition storage and BroadcastChannel by top-level site, so a sign-out in a portal
/// tab never reaches a grid framed by an intranet page of another site. With AIM ending the
/// refresh tokens of a session at its sign-out (docs/deploy.md §1), the framed grid, which asks
/// the authority while it is shown, says it is signed out within a minute — and tells its host.
#[tokio::test]
async fn signing_out_in_a_portal_tab_reaches_a_grid_framed_by_another_site() {
    let (origin, intranet, stack, _site) = framed_deployment("e2e-nginx-framed", |o| {
        o.aim_refresh_tokens_end_with_session = true;
    })
    .await;
    with_browser_for_sites(&ALL_HOSTS, |client| async move {
        client.goto(&format!("{intranet}/")).await?;
        frame::sign_in(&client).await?;
        e2e::frame::wait_for_rows(&client).await?;
        // A portal tab: the same person through AIM's session (no form), then signing out.
        portal::sign_out_in_a_tab(&client, &origin, None).await?;
        frame::says_the_session_ended(&client, || async {
            let refreshes = stack
                .aim
                .counters
                .refreshes
                .load(std::sync::atomic::Ordering::Relaxed);
            format!(
                "{refreshes} refreshes at AIM, log {:?}",
                stack.aim.request_log().iter().rev().take(8).collect::<Vec<_>>()
            )
        })
        .await?;
        assert_no_token_stored(&client, &stack).await
    })
    .await;
}

/// Review item 8, across sites: AIM (behind the proxy on `aim.test`) sends
/// `Cross-Origin-Opener-Policy: same-origin`, so the sign-in popup of a grid framed by
/// `intranet.test` is cut loose from the frame when AIM's page loads — and a frame of another
/// site cannot hear the portal origin's BroadcastChannel either. Nothing can carry the answer
/// back; both windows say so plainly instead: the frame that AIM's page cut its window loose, the
/// popup why it cannot hand the sign-in over (with the code already out of its address bar). The
/// code is never exchanged.
#[tokio::test]
async fn a_popup_cut_loose_from_a_grid_framed_by_another_site_says_why_in_both_windows() {
    let (origin, intranet, stack, _site) =
        framed_deployment("e2e-nginx-coop", |o| o.aim_opener_policy = true).await;
    with_browser_for_sites(&ALL_HOSTS, |client| async move {
        client.goto(&format!("{intranet}/")).await?;
        let host = client.window().await?;
        frame::press_sign_in(&client).await?;
        wait_for_text(
            &client,
            "[data-state=signed-out] [role=status]",
            &["cut its window loose"],
        )
        .await?;
        client.enter_parent_frame().await?;
        aim::switch_to_sign_in_popup(&client, &host).await?;
        e2e::aim::submit_form(&client, "PLANT\\alice", "alice-demo").await?;
        wait_for_text(
            &client,
            "#sign-in-error",
            &["cut the link between the two windows"],
        )
        .await?;
        let at = client.current_url().await?;
        if at.query().is_some() || !at.as_str().starts_with(&origin) {
            bail!("the popup should be at the portal with no code in its address: {at}");
        }
        client.close_window().await?;
        client.switch_to_window(host).await?;
        if frame::state(&client).await?.as_deref() != Some("signed-out") {
            bail!("the frame must stay signed out: nothing could bring the answer back");
        }
        // The popup, holding no verifier, never exchanged the code: no token was issued at all.
        let exchanges = stack
            .aim
            .counters
            .code_exchanges
            .load(std::sync::atomic::Ordering::Relaxed);
        if exchanges != 0 || !stack.aim.issued_tokens().is_empty() {
            bail!("no code exchange may happen ({exchanges})");
        }
        Ok(())
    })
    .await;
}
