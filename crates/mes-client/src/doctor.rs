//! The site doctor: `mes-lookup doctor https://mesportal.plant.example` asks a deployed portal,
//! its authority and its MES what a browser would, and says each finding in plain words with its
//! fix — the MIME types of the page and its files, the Content-Security-Policy against the served
//! `index.html` and config.json, `frame-ancestors` against `embed_origins`, config.json itself,
//! discovery and keys, CORS at the authority and the MES for the portal's origin, the end-session
//! method, and the addresses the authority sends people back to.
//!
//! It only reads: GETs, CORS preflights (OPTIONS), and one empty POST to the end-session
//! endpoint when config.json says sign-out is a POST (a form without a session ends nothing).

use crate::config::{EndSessionMethod, PortalConfig, Runtime};
use crate::site::{SitePolicy, inline_script_hashes, origin};
use crate::transport::describe;

/// One thing the doctor looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was checked, e.g. `MIME type of /mes-portal-….wasm`.
    pub check: String,
    /// Whether it is right.
    pub ok: bool,
    /// What was found, and when it is wrong, what to do.
    pub says: String,
}

/// How to reach the site (a plant's own CA, a host name not in DNS yet).
#[derive(Debug, Clone, Default)]
pub struct DoctorOptions {
    /// Extra root certificates (PEM), e.g. the plant's CA.
    pub ca_pem: Option<Vec<u8>>,
    /// `host` → address to connect to instead of asking DNS (`curl --resolve`).
    pub resolve: Vec<(String, std::net::SocketAddr)>,
}

struct Doctor {
    http: reqwest::Client,
    portal: String,
    findings: Vec<Finding>,
}

/// The answer's header `name`, or "".
fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// The origin of an absolute URL, or the text itself.
/// The directive `name` of a Content-Security-Policy, with its name (`""` when absent).
fn directive<'a>(policy: &'a str, name: &str) -> &'a str {
    policy
        .split(';')
        .map(str::trim)
        .find(|d| d.split_whitespace().next() == Some(name))
        .unwrap_or("")
}

fn origin_of(url: &str) -> String {
    origin(url).unwrap_or_else(|| url.to_owned())
}

/// The MIME type a file must be served as, by its name.
fn expected_type(path: &str) -> Option<&'static str> {
    let name = path.split(['?', '#']).next().unwrap_or(path);
    Some(match name.rsplit('.').next()? {
        "js" | "mjs" => "application/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        "json" => "application/json",
        "html" => "text/html",
        _ => return None,
    })
}

/// The same-origin files `index.html` loads (`src=` and `href=` of scripts, styles, preloads).
fn files_of_page(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for piece in html.split(attribute).skip(1) {
            let Some(path) = piece.split('"').next() else {
                continue;
            };
            if path.starts_with('/') && !path.starts_with("//") && expected_type(path).is_some() {
                let path = path.to_owned();
                if !out.contains(&path) {
                    out.push(path);
                }
            }
        }
    }
    out
}

impl Doctor {
    fn note(&mut self, check: impl Into<String>, ok: bool, says: impl Into<String>) {
        self.findings.push(Finding {
            check: check.into(),
            ok,
            says: says.into(),
        });
    }

    /// A finding about a header: its value when it was sent, else `missing` (what to do).
    fn note_header(&mut self, check: &str, ok: bool, value: String, missing: &str) {
        let says = if value.is_empty() {
            missing.to_owned()
        } else {
            value
        };
        self.note(check, ok, says);
    }

    async fn get(&self, url: &str) -> Result<reqwest::Response, String> {
        self.http.get(url).send().await.map_err(|e| describe(&e))
    }

    /// `/`, and the files it loads: each served with its type.
    async fn page(&mut self) -> Option<(String, String)> {
        let url = format!("{}/", self.portal);
        let response = match self.get(&url).await {
            Ok(r) => r,
            Err(e) => {
                self.note(
                    "the portal answers",
                    false,
                    format!("{url}: {e}. Is the web server running, and is this its address?"),
                );
                return None;
            }
        };
        let kind = header(&response, "content-type");
        let csp = header(&response, "content-security-policy");
        let nosniff = header(&response, "x-content-type-options");
        let status = response.status().as_u16();
        let html = response.text().await.unwrap_or_default();
        self.mime("/", &kind, "text/html", status);
        self.note_header(
            "X-Content-Type-Options",
            nosniff.eq_ignore_ascii_case("nosniff"),
            nosniff,
            "missing: add `nosniff` (mesportal-headers.conf has it)",
        );
        for path in files_of_page(&html) {
            let Some(expected) = expected_type(&path) else {
                continue;
            };
            match self.get(&format!("{}{path}", self.portal)).await {
                Ok(r) => {
                    let (status, kind) = (r.status().as_u16(), header(&r, "content-type"));
                    self.mime(&path, &kind, expected, status);
                }
                Err(e) => self.note(format!("{path} is served"), false, e),
            }
        }
        Some((html, csp))
    }

    fn mime(&mut self, path: &str, kind: &str, expected: &str, status: u16) {
        let ok = status == 200 && kind.starts_with(expected);
        let says = if status != 200 {
            format!("HTTP {status}: is every file of dist/ deployed?")
        } else if ok {
            kind.to_owned()
        } else {
            format!(
                "served as \"{kind}\" instead of {expected}: the browser will not run it. Remove any `types {{ … }}` block from the nginx server (it replaces nginx's whole MIME map) and keep `include /etc/nginx/mime.types;` in nginx.conf; on IIS, map the extension"
            )
        };
        self.note(format!("MIME type of {path}"), ok, says);
    }

    async fn config(&mut self) -> Option<PortalConfig> {
        let url = format!("{}/config.json", self.portal);
        let response = match self.get(&url).await {
            Ok(r) => r,
            Err(e) => {
                self.note("config.json", false, format!("{url}: {e}"));
                return None;
            }
        };
        let cache = header(&response, "cache-control");
        self.note_header(
            "config.json is never cached",
            cache.contains("no-store"),
            cache,
            "no Cache-Control: an edit may not reach browsers; send `no-store`",
        );
        let text = response.text().await.unwrap_or_default();
        match PortalConfig::from_json(&text, Runtime::Browser) {
            Ok((config, _)) => {
                self.note(
                    "config.json is valid",
                    true,
                    format!(
                        "{} lookups, {} Web APIs",
                        config.lookups.len(),
                        config.web_apis.len()
                    ),
                );
                Some(config)
            }
            Err(report) => {
                let problems: Vec<String> = report
                    .errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                self.note(
                    "config.json is valid",
                    false,
                    format!("{} (docs/deploy.md §4)", problems.join("; ")),
                );
                None
            }
        }
    }

    fn policy(&mut self, html: &str, csp: &str, config: Option<&PortalConfig>) {
        if csp.is_empty() {
            return self.note(
                "Content-Security-Policy",
                false,
                "the page has none: include the snippets `mes-lookup site-headers` writes",
            );
        }
        let hashes = inline_script_hashes(html);
        let missing: Vec<&String> = hashes.iter().filter(|h| !csp.contains(h.as_str())).collect();
        self.note(
            "the policy allows this build's start-up script",
            missing.is_empty(),
            if missing.is_empty() {
                "its hash is in script-src".to_owned()
            } else {
                "the served index.html's script hash is not in script-src (the policy is from another build): run `mes-lookup site-headers` again and reload the web server".to_owned()
            },
        );
        let Some(config) = config else { return };
        let wanted = SitePolicy::new(config, html);
        let (have, want) = (
            directive(csp, "connect-src").to_owned(),
            directive(&wanted.portal, "connect-src"),
        );
        let absent: Vec<&str> = want
            .split_whitespace()
            .skip(1)
            .filter(|o| !have.split_whitespace().any(|h| h == *o))
            .collect();
        self.note(
            "the policy lets the page reach the authority and the MES",
            absent.is_empty(),
            if absent.is_empty() {
                have
            } else {
                format!(
                    "connect-src lacks {}: run `mes-lookup site-headers` again after changing config.json",
                    absent.join(" ")
                )
            },
        );
    }

    async fn framing(&mut self, config: &PortalConfig) {
        let url = format!("{}/embed/lookup", self.portal);
        let Ok(response) = self.get(&url).await else {
            return self.note("/embed/lookup", false, "no answer");
        };
        let csp = header(&response, "content-security-policy");
        let ancestors = directive(&csp, "frame-ancestors").to_owned();
        let listed: Vec<&str> = ancestors.split_whitespace().skip(1).collect();
        let absent: Vec<&String> = config
            .embed_origins
            .iter()
            .filter(|o| !listed.contains(&o.as_str()))
            .collect();
        let extra: Vec<&&str> = listed
            .iter()
            .filter(|o| **o != "'self'" && !config.embed_origins.iter().any(|e| e == *o))
            .collect();
        let ok = !ancestors.is_empty() && absent.is_empty() && extra.is_empty();
        let says = if ancestors.is_empty() {
            "/embed/lookup has no frame-ancestors: any site could frame it; include mesportal-embed-headers.conf there".to_owned()
        } else if !absent.is_empty() {
            format!(
                "embed_origins lists {} but frame-ancestors does not: browsers will refuse those sites; run `mes-lookup site-headers` again",
                absent.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
            )
        } else if !extra.is_empty() {
            format!(
                "frame-ancestors allows {} that embed_origins does not list: run `mes-lookup site-headers` again",
                extra.iter().map(|s| **s).collect::<Vec<_>>().join(" ")
            )
        } else {
            ancestors
        };
        self.note("frame-ancestors of /embed/lookup match embed_origins", ok, says);
    }

    async fn authority(&mut self, config: &PortalConfig) -> Option<serde_json::Value> {
        let authority = config.client.authority.trim_end_matches('/');
        let url = format!("{authority}/.well-known/openid-configuration");
        let discovery = match self.get(&url).await {
            Ok(r) if r.status().is_success() => json_of(r).await,
            Ok(r) => {
                self.note(
                    "the authority's discovery",
                    false,
                    format!("{url}: HTTP {}", r.status().as_u16()),
                );
                return None;
            }
            Err(e) => {
                self.note("the authority's discovery", false, format!("{url}: {e}"));
                return None;
            }
        };
        let Some(discovery) = discovery else {
            self.note("the authority's discovery", false, format!("{url}: not JSON"));
            return None;
        };
        let issuer = discovery["issuer"].as_str().unwrap_or("");
        self.note(
            "the authority's issuer is client.authority",
            issuer == config.client.authority,
            if issuer == config.client.authority {
                issuer.to_owned()
            } else {
                format!("discovery says \"{issuer}\", config.json \"{}\": they must be equal to the letter (sign-ins are refused otherwise)", config.client.authority)
            },
        );
        let jwks = discovery["jwks_uri"].as_str().unwrap_or("").to_owned();
        let keys = match self.get(&jwks).await {
            Ok(r) => json_of(r).await.and_then(|k| k["keys"].as_array().map(Vec::len)),
            Err(_) => None,
        };
        self.note(
            "the authority's signing keys",
            keys.is_some_and(|n| n > 0),
            match keys {
                Some(n) if n > 0 => format!("{jwks} publishes {n}"),
                _ => format!("{jwks} gives no keys: ID tokens cannot be checked"),
            },
        );
        Some(discovery)
    }

    /// A browser's preflight from the portal's origin.
    async fn cors(&mut self, what: &str, url: &str, method: &str, headers: &str) {
        let mut request = self
            .http
            .request(reqwest::Method::OPTIONS, url)
            .header("origin", &self.portal)
            .header("access-control-request-method", method);
        if !headers.is_empty() {
            request = request.header("access-control-request-headers", headers);
        }
        let answer = request.send().await;
        let (ok, says) = match answer {
            Err(e) => (false, format!("{url}: {}", describe(&e))),
            Ok(r) => {
                let allowed = header(&r, "access-control-allow-origin");
                let allowed_headers = header(&r, "access-control-allow-headers").to_ascii_lowercase();
                if allowed != self.portal && allowed != "*" {
                    (
                        false,
                        format!(
                            "{url} does not allow {} (it answers \"{allowed}\"): add the portal's origin to its allowed origins (docs/deploy.md §1–2)",
                            self.portal
                        ),
                    )
                } else if !headers.is_empty()
                    && !headers.split(',').all(|h| allowed_headers.contains(h.trim()))
                {
                    (
                        false,
                        format!("{url} allows {} but not the headers {headers}", self.portal),
                    )
                } else {
                    (true, format!("{url} allows {}", self.portal))
                }
            }
        };
        self.note(format!("CORS at {what}"), ok, says);
    }

    async fn end_session(&mut self, config: &PortalConfig, discovery: &serde_json::Value) {
        let Some(endpoint) = discovery["end_session_endpoint"].as_str() else {
            return self.note("sign-out at the authority", true, "the authority offers no end-session endpoint: sign-out is the portal's alone, and the page says so");
        };
        let method = config.client.end_session_method;
        let answer = match method {
            EndSessionMethod::Post => {
                self.http
                    .post(endpoint)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("")
                    .send()
                    .await
            }
            EndSessionMethod::Get => self.http.get(endpoint).send().await,
        };
        let (name, other) = match method {
            EndSessionMethod::Post => ("POST", "get"),
            EndSessionMethod::Get => ("GET", "post"),
        };
        let (ok, says) = match answer {
            Err(e) => (false, format!("{endpoint}: {}", describe(&e))),
            Ok(r) if matches!(r.status().as_u16(), 404 | 405) => (
                false,
                format!(
                    "{endpoint} does not take {name} (HTTP {}): set client.end_session_method to \"{other}\" in config.json, or have the authority accept {name}",
                    r.status().as_u16()
                ),
            ),
            Ok(r) => (
                true,
                format!("{endpoint} takes {name} (HTTP {})", r.status().as_u16()),
            ),
        };
        self.note("sign-out reaches the authority", ok, says);
    }

    /// The addresses the authority sends people back to must be the portal's page.
    async fn return_addresses(&mut self, config: &PortalConfig) {
        let addresses = std::iter::once(("client.redirect_uri", config.client.redirect_uri.clone())).chain(
            config
                .client
                .post_logout_redirect_uri
                .clone()
                .map(|u| ("client.post_logout_redirect_uri", u)),
        );
        for (field, address) in addresses.collect::<Vec<_>>() {
            let on_portal = origin_of(&address) == self.portal;
            let answer = self.get(&address).await;
            let (ok, says) = match answer {
                _ if !on_portal => (
                    false,
                    format!(
                        "{address} is not on {}: the authority would send people to another site",
                        self.portal
                    ),
                ),
                Ok(r)
                    if r.status().as_u16() == 200 && header(&r, "content-type").starts_with("text/html") =>
                {
                    (true, address.clone())
                }
                Ok(r) if r.status().as_u16() == 200 => (
                    false,
                    format!(
                        "{address} answers as \"{}\", not text/html (the MIME map: see the types above)",
                        header(&r, "content-type")
                    ),
                ),
                Ok(r) => (
                    false,
                    format!(
                        "{address} answers HTTP {}: every path of the portal must answer index.html (`try_files $uri /index.html;`)",
                        r.status().as_u16()
                    ),
                ),
                Err(e) => (false, format!("{address}: {e}")),
            };
            self.note(format!("{field} answers with the portal"), ok, says);
        }
    }
}

/// An answer's body as JSON (`None` when it is not).
async fn json_of(response: reqwest::Response) -> Option<serde_json::Value> {
    serde_json::from_slice(&response.bytes().await.ok()?).ok()
}

/// Examines the portal at `portal` (its origin, e.g. `https://mesportal.plant.example`) and
/// everything its config.json names. Never fails: what cannot be reached is a finding.
pub async fn examine_site(portal: &str, options: &DoctorOptions) -> Vec<Finding> {
    let portal = origin_of(portal.trim_end_matches('/'));
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20));
    for (host, address) in &options.resolve {
        builder = builder.resolve(host, *address);
    }
    let mut findings = Vec::new();
    if let Some(pem) = &options.ca_pem {
        match reqwest::Certificate::from_pem(pem) {
            Ok(cert) => builder = builder.add_root_certificate(cert),
            Err(e) => findings.push(Finding {
                check: "the CA certificate".into(),
                ok: false,
                says: format!("not a PEM certificate: {e}"),
            }),
        }
    }
    let mut doctor = Doctor {
        http: builder.build().unwrap_or_default(),
        portal,
        findings,
    };
    let Some((html, csp)) = doctor.page().await else {
        return doctor.findings;
    };
    let config = doctor.config().await;
    doctor.policy(&html, &csp, config.as_ref());
    let Some(config) = config else {
        return doctor.findings;
    };
    doctor.framing(&config).await;
    doctor.return_addresses(&config).await;
    if let Some(discovery) = doctor.authority(&config).await {
        let token = discovery["token_endpoint"].as_str().unwrap_or("").to_owned();
        doctor
            .cors("the authority's token endpoint", &token, "POST", "content-type")
            .await;
        doctor.end_session(&config, &discovery).await;
    }
    for api in config
        .web_apis
        .iter()
        .filter(|a| a.authentication_mode == crate::AuthenticationMode::UserAccessToken)
    {
        let (endpoint, query) = config.probe(api);
        let url = crate::mes::lookup_url(api, &endpoint, &query);
        doctor
            .cors(&format!("the MES ({})", api.name), &url, "GET", "authorization")
            .await;
    }
    doctor.findings
}

/// The findings as lines for a terminal: `✓ check — what` or `✗ check — what and the fix`.
pub fn site_report(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {} — {}\n",
                if f.ok { "✓" } else { "✗" },
                f.check,
                crate::terminal_safe(&f.says)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_of_the_page_are_its_own_scripts_styles_and_modules() {
        let html = r#"<link rel="preload" href="/mes-portal-1_bg.wasm" as="fetch"><link rel="modulepreload" href="/mes-portal-1.js">
<link rel="stylesheet" href="/portal-2.css"><script src="https://cdn.example/x.js"></script><a href="/lookups/2">x</a><link href="//evil/x.css">"#;
        assert_eq!(
            files_of_page(html),
            ["/mes-portal-1_bg.wasm", "/mes-portal-1.js", "/portal-2.css"]
        );
        assert_eq!(expected_type("/a.wasm?v=1"), Some("application/wasm"));
        assert_eq!(expected_type("/lookups/2"), None);
    }

    #[test]
    fn a_report_marks_each_finding() {
        let text = site_report(&[
            Finding {
                check: "a".into(),
                ok: true,
                says: "fine".into(),
            },
            Finding {
                check: "b".into(),
                ok: false,
                says: "bad\u{1b}[31m".into(),
            },
        ]);
        assert!(text.starts_with("✓ a — fine\n✗ b — bad"), "{text}");
        assert!(
            !text.contains('\u{1b}'),
            "terminal escapes are not passed through"
        );
    }
}
