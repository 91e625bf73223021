//! The portal's static server: `dist/` with the SPA fallback, a `config.json` that points at the
//! stand-ins, and a Content-Security-Policy that allows only the portal, AIM and MES origins.
//! The build's gzipped copies (`*.gz`, written by `cargo xtask build`) go to browsers that accept
//! gzip, as `gzip_static` does in docs/deploy.md: the bytes a browser fetches here are the bytes a
//! plant's browser fetches.

use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use std::path::{Path, PathBuf};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// What the portal server needs to know.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// The built portal (trunk's `dist/`).
    pub dist_dir: PathBuf,
    /// `examples/` with embed.html, served under `/examples`.
    pub examples_dir: Option<PathBuf>,
    /// `http://127.0.0.1:<port>`.
    pub portal_origin: String,
    /// AIM issuer.
    pub authority: String,
    /// MES base address, ending in `/` (e.g. `http://127.0.0.1:<port>/mesmw/`).
    pub mes_base: String,
    /// The portal's client ID at AIM.
    pub client_id: String,
    /// The audience (and scope) of the MES Web API.
    pub audience: String,
    /// Ask for `offline_access` (refresh tokens); off to act like a site that issues none.
    pub refresh_tokens: bool,
    /// Test-only: list a lookup per hostile MES case in `config.json`.
    pub hostile: bool,
    /// Put over `config.json`, object by object (see `StackOptions::config_patch`).
    pub config_patch: Option<serde_json::Value>,
    /// Origins of other sites' pages that may frame `/embed/lookup` (config.json's
    /// `embed_origins` and the page's `frame-ancestors`).
    pub embed_origins: Vec<String>,
    /// Where Content-Security-Policy violation reports are kept.
    pub csp_reports: CspReports,
}

/// Content-Security-Policy violation reports (their JSON text), newest last.
pub type CspReports = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// The `config.json` the portal loads.
pub fn portal_config(o: &WebOptions) -> serde_json::Value {
    let mut config = serde_json::json!({
        "client": {
            "authority": o.authority,
            "authority_name": "AVEVA Identity Manager (devstack)",
            "client_id": o.client_id,
            "redirect_uri": format!("{}/callback", o.portal_origin),
            "post_logout_redirect_uri": format!("{}/signed-out", o.portal_origin),
            "scopes": if o.refresh_tokens { vec!["openid", "profile", "offline_access", &o.audience] } else { vec!["openid", "profile", &o.audience] },
        },
        "web_apis": [{
            "name": "MES",
            "description": "MES Web API (devstack stand-in)",
            "source": "Generic",
            "base_address": o.mes_base,
            "request_uri": "api",
            "authentication_mode": "UserAccessToken",
            "authority": o.authority,
            "audience": o.audience,
            "client_id": o.client_id,
            "scope": o.audience,
            "time_zone": "+01:00",
        }],
        "embed_origins": o.embed_origins,
        "genealogy": { "web_api": "MES" },
        "links": [
            { "column": "item_id", "lookup": "Lots of an item", "parameter": "item_id" },
            { "column": "lot_no", "lookup": "Consumption of a lot", "parameter": "lot_no" },
            { "column": "fg_lot_no", "lookup": "Consumption of a lot", "parameter": "lot_no" },
            { "column": "wo_id", "lookup": "Job queue", "parameter": "wo_id" },
            { "column": "run_ent_id", "lookup": "Job queue", "parameter": "ent_id" }
        ],
        "scan": {
            "key_gap_ms": 50,
            "targets": [
                { "ai": "10", "lookup": "Lots", "column": "lot_no" },
                { "ai": "240", "lookup": "Items", "column": "item_id" },
                { "lookup": "Lots", "column": "lot_no" }
            ]
        },
        "lookups": [
            { "name": "Entities", "web_api": "MES", "endpoint": "v3/entity", "value_column": "ent_id",
              "record": { "endpoint": "v3/entity/key", "key": ["ent_id"] },
              "display_columns": ["ent_id", "ent_name", "description", "parent_ent_id", "can_run_jobs", "last_edit_at_local"] },
            { "name": "Items", "web_api": "MES", "endpoint": "v3/item", "value_column": "item_id", "max_rows": 1000000,
              "record": { "endpoint": "v3/item/key", "key": ["item_id"] } },
            { "name": "Lots", "web_api": "MES", "endpoint": "v3/lot", "value_column": "lot_no", "selection": "multi",
              "record": { "endpoint": "v3/lot/key", "key": ["lot_no"] } },
            { "name": "Work orders", "web_api": "MES", "endpoint": "v3/wo", "value_column": "wo_id",
              "record": { "endpoint": "v3/wo/key", "key": ["wo_id"] } },
            { "name": "Jobs", "web_api": "MES", "endpoint": "v3/job", "value_column": "wo_id" },
            { "name": "Users", "web_api": "MES", "endpoint": "v3/user", "value_column": "user_id" },
            { "name": "Job queue", "web_api": "MES", "endpoint": "v3/job/filter", "value_column": "wo_id",
              "parameters": [
                { "name": "ent_id", "label": "Entity", "kind": "choice",
                  "choices_from": { "lookup": "Entities", "value": "ent_id", "label": "ent_name" } },
                { "name": "wo_id", "label": "Work order" },
                { "name": "state", "label": "State", "kind": "choice", "choices": ["New", "Ready", "Running", "Complete", "On hold"] },
                { "name": "lastNhrs", "label": "Last hours", "kind": "last_hours" }
              ] },
            { "name": "Work orders released", "web_api": "MES", "endpoint": "v3/wo/filter", "value_column": "wo_id",
              "record": { "endpoint": "v3/wo/key", "key": ["wo_id"] },
              "parameters": [
                { "name": "release_from", "label": "Released", "kind": "date_range", "until": "release_to" },
                { "name": "state", "label": "State", "kind": "choice", "choices": ["New", "Released", "Running", "Complete", "Cancelled"] },
                { "name": "item_id", "label": "Item" }
              ] },
            { "name": "Lots of an item", "web_api": "MES", "endpoint": "v3/lot/filter", "value_column": "lot_no", "max_rows": 500,
              "record": { "endpoint": "v3/lot/key", "key": ["lot_no"] },
              "parameters": [
                { "name": "item_id", "label": "Item" },
                { "name": "status", "label": "Status", "kind": "choice", "choices": ["Released", "Quarantine", "Consumed", "On hold"] }
              ] },
            { "name": "Consumption of a lot", "web_api": "MES", "endpoint": "v3/item_cons/filter", "value_column": "fg_lot_no",
              "parameters": [ { "name": "lot_no", "label": "Consumed lot", "required": true } ] }
        ],
    });
    if o.hostile
        && let Some(lookups) = config["lookups"].as_array_mut()
    {
        for case in crate::hostile::MES_CASES {
            let mut lookup = serde_json::json!({ "name": format!("Hostile: {}", case.name), "web_api": "MES", "endpoint": format!("v3/hostile/{}", case.name) });
            if case.name == "key-answers-array" {
                lookup["record"] =
                    serde_json::json!({ "endpoint": "v3/hostile/key-answers-array", "key": ["lot_no"] });
            }
            lookups.push(lookup);
        }
    }
    if let Some(patch) = &o.config_patch {
        merge(&mut config, patch);
    }
    config
}

/// Puts `patch` over `config`: an object patches an object field by field, anything else
/// replaces what was there.
fn merge(config: &mut serde_json::Value, patch: &serde_json::Value) {
    match (config, patch) {
        (serde_json::Value::Object(fields), serde_json::Value::Object(patch)) => {
            for (key, value) in patch {
                merge(
                    fields.entry(key.clone()).or_insert(serde_json::Value::Null),
                    value,
                );
            }
        }
        (config, patch) => *config = patch.clone(),
    }
}

/// The portal's two Content-Security-Policies, as a site's web server gets them
/// ([`mes_client::SitePolicy`]), with violations reported here. Test-only hostile mode leaves
/// the framed grid's page open to any framer, as a misconfigured server would, so the page's
/// own check is what refuses.
pub fn content_security_policies(o: &WebOptions, index_html: &str) -> mes_client::SitePolicy {
    let embed_origins = if o.hostile {
        vec!["*".to_owned()]
    } else {
        o.embed_origins.clone()
    };
    let mut policy =
        mes_client::SitePolicy::for_origins(&[&o.authority], &[&o.mes_base], &embed_origins, index_html);
    for p in [&mut policy.portal, &mut policy.embed] {
        p.push_str("; report-uri /csp-report");
    }
    policy
}

/// The router. Fails when `dist_dir` has no `index.html` (the portal is not built).
pub fn app(o: WebOptions) -> std::io::Result<Router> {
    let index = o.dist_dir.join("index.html");
    let html = std::fs::read_to_string(&index).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!(
                "{}: {e} (build the portal first: cargo xtask build)",
                index.display()
            ),
        )
    })?;
    let policy = content_security_policies(&o, &html);
    let csp = HeaderValue::from_str(&policy.portal).map_err(std::io::Error::other)?;
    let embed_csp = HeaderValue::from_str(&policy.embed).map_err(std::io::Error::other)?;
    let config = portal_config(&o);
    let reports = o.csp_reports.clone();
    let files = ServeDir::new(&o.dist_dir)
        .precompressed_gzip()
        .fallback(ServeFile::new(&index));
    let mut router = Router::new().route(
        "/config.json",
        get(move || {
            let config = config.clone();
            async move { ([(header::CACHE_CONTROL, "no-store")], Json(config)).into_response() }
        }),
    );
    // The framed grid: the portal page with its own frame-ancestors (the layer below keeps it).
    router = router.route(
        "/embed/lookup",
        get(move || {
            let (html, csp) = (html.clone(), embed_csp.clone());
            async move {
                (
                    [
                        (header::CONTENT_SECURITY_POLICY, csp),
                        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                    ],
                    axum::response::Html(html),
                )
                    .into_response()
            }
        }),
    );
    router = router.route(
        "/csp-report",
        axum::routing::post(move |body: String| {
            let reports = reports.clone();
            async move {
                tracing::warn!(report = %body, "Content-Security-Policy violation");
                let mut kept = reports.lock().unwrap_or_else(|e| e.into_inner());
                if kept.len() < 1000 {
                    kept.push(body.chars().take(4096).collect());
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    if let Some(examples) = o.examples_dir.as_deref().filter(|d| Path::new(d).is_dir()) {
        router = router.nest_service("/examples", ServeDir::new(examples));
    }
    Ok(router
        .fallback_service(files)
        .layer(axum::middleware::map_response(
            |uri: axum::http::Uri, mut response: axum::response::Response| async move {
                let headers = response.headers_mut();
                if is_host_script(uri.path()) {
                    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
                }
                // As deploy/nginx/mesportal.conf caches: a build's hashed file never changes,
                // everything else is asked for again each time.
                if !headers.contains_key(header::CACHE_CONTROL) {
                    let caching = if is_hashed_build_file(uri.path()) {
                        "public, max-age=31536000, immutable"
                    } else {
                        "no-cache"
                    };
                    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(caching));
                }
                response
            },
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        )))
}

/// The host script a build offers other sites' pages: its versioned name and `integrity`, as
/// `cargo xtask build` writes them to `dist/embed-host.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostScript {
    /// `mes-embed-host-<hash>.js`, or the stable `mes-embed-host.js` for a build without facts.
    pub name: String,
    /// `sha384-…`; empty (no check) for a build without facts.
    pub integrity: String,
}

impl HostScript {
    /// What the build in `dist` wrote; the stable name without a pin when it wrote nothing (a
    /// debug build).
    pub fn of(dist: Option<&Path>) -> Self {
        #[derive(serde::Deserialize)]
        struct Facts {
            script: String,
            integrity: String,
        }
        dist.and_then(|d| std::fs::read(d.join("embed-host.json")).ok())
            .and_then(|bytes| serde_json::from_slice::<Facts>(&bytes).ok())
            .map_or_else(
                || HostScript {
                    name: "mes-embed-host.js".into(),
                    integrity: String::new(),
                },
                |f| HostScript {
                    name: f.script,
                    integrity: f.integrity,
                },
            )
    }

    /// A host page's HTML with its placeholders filled: `{{PORTAL_ORIGIN}}`,
    /// `{{EMBED_HOST_SCRIPT}}` and `{{EMBED_HOST_INTEGRITY}}`.
    pub fn fill(&self, page: &str, portal_origin: &str) -> String {
        page.replace("{{PORTAL_ORIGIN}}", portal_origin)
            .replace("{{EMBED_HOST_SCRIPT}}", &self.name)
            .replace("{{EMBED_HOST_INTEGRITY}}", &self.integrity)
    }
}

/// Whether `path` is the host script other sites' pages load, under its stable or versioned
/// name: the one answer of the portal's server that any origin may read (CORS), so a page can
/// pin it with Subresource Integrity.
pub fn is_host_script(path: &str) -> bool {
    let Some(name) = path
        .strip_prefix("/mes-embed-host")
        .and_then(|n| n.strip_suffix(".js"))
    else {
        return false;
    };
    name.is_empty()
        || name
            .strip_prefix('-')
            .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// Whether `path` names one of a build's files whose name carries its content's hash
/// (`/mes-portal-<hash>_bg.wasm`, `/mes-portal-<hash>-split_grid.wasm`, `/portal-<hash>.css`): the
/// names deploy/nginx/mesportal.conf keeps for a year.
pub fn is_hashed_build_file(path: &str) -> bool {
    let Some(name) = path.strip_prefix('/').filter(|n| !n.contains('/')) else {
        return false;
    };
    let Some((stem, _)) = name
        .rsplit_once('.')
        .filter(|(_, ext)| matches!(*ext, "js" | "wasm" | "css"))
    else {
        return false;
    };
    // Some `-<12 to 16 hex digits>` that ends the stem or is followed by `-` or `_`.
    stem.match_indices('-').any(|(at, _)| {
        let rest = &stem[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        (12..=16).contains(&digits)
            && rest[..digits].bytes().all(|b| !b.is_ascii_uppercase())
            && matches!(rest.as_bytes().get(digits), None | Some(b'-' | b'_'))
    })
}

/// Another site's server (the demo's and the tests' framing page): serves `dir` (the
/// examples' `other-site/`), with its HTML's placeholders filled ([`HostScript::fill`]). No
/// Content-Security-Policy of its own: it is somebody else's page.
pub fn other_site_app(dir: PathBuf, portal_origin: String, host: HostScript) -> Router {
    Router::new().fallback(get(move |uri: axum::http::Uri| {
        let (dir, portal_origin, host) = (dir.clone(), portal_origin.clone(), host.clone());
        async move {
            let name = uri.path().trim_start_matches('/');
            let name = if name.is_empty() { "index.html" } else { name };
            let safe = name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && !name.starts_with('.');
            match std::fs::read_to_string(dir.join(name))
                .ok()
                .filter(|_| safe && name.ends_with(".html"))
            {
                Some(page) => axum::response::Html(host.fill(&page, &portal_origin)).into_response(),
                None => axum::http::StatusCode::NOT_FOUND.into_response(),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::{HostScript, is_hashed_build_file, is_host_script};

    #[test]
    fn a_builds_hashed_files_are_those_the_deploy_guide_keeps_for_a_year() {
        for hashed in [
            "/mes-portal-85885bf478342d16_bg.wasm",
            "/mes-portal-85885bf478342d16.js",
            "/mes-portal-85885bf478342d16-split_grid.wasm",
            "/mes-portal-85885bf478342d16-chunk_12.wasm",
            "/portal-500f61ef57aa02bc.css",
            "/mes-embed-host-451f688dd6dea317.js",
        ] {
            assert!(is_hashed_build_file(hashed), "{hashed}");
        }
        for other in [
            "/",
            "/index.html",
            "/config.json",
            "/mes-embed.js",
            "/mes-embed.css",
            "/mes-embed-host.js",
            "/locales/de.json",
            "/x/mes-portal-85885bf478342d16.js",
            "/mes-portal-85885BF478342D16.js",
            "/mes-portal-85885bf4.js",
            "/mes-portal-85885bf478342d16aaaa1.js",
            "/mes-portal-85885bf478342d16.json",
        ] {
            assert!(!is_hashed_build_file(other), "{other}");
        }
    }

    #[test]
    fn only_the_host_script_is_open_to_every_origin() {
        assert!(is_host_script("/mes-embed-host.js"));
        assert!(is_host_script("/mes-embed-host-0123456789abcdef.js"));
        for other in [
            "/mes-embed-host-0123456789ABCDEF.js",
            "/mes-embed-host-0123.js",
            "/mes-embed-host.js.map",
            "/x/mes-embed-host.js",
            "/mes-embed.js",
            "/config.json",
            "/",
        ] {
            assert!(!is_host_script(other), "{other}");
        }
    }

    #[test]
    fn a_host_page_gets_the_builds_pinned_script_or_the_stable_one() {
        let page =
            r#"<script src="{{PORTAL_ORIGIN}}/{{EMBED_HOST_SCRIPT}}" integrity="{{EMBED_HOST_INTEGRITY}}">"#;
        let dir = std::env::temp_dir().join(format!("devstack-host-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        assert_eq!(
            HostScript::of(Some(&dir)).fill(page, "https://p"),
            r#"<script src="https://p/mes-embed-host.js" integrity="">"#
        );
        std::fs::write(
            dir.join("embed-host.json"),
            r#"{"script":"mes-embed-host-00112233aabbccdd.js","integrity":"sha384-abc"}"#,
        )
        .expect("write");
        assert_eq!(
            HostScript::of(Some(&dir)).fill(page, "https://p"),
            r#"<script src="https://p/mes-embed-host-00112233aabbccdd.js" integrity="sha384-abc">"#
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
