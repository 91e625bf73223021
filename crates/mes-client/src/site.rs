//! What a web server must send with the built portal, worked out from the site's `config.json`
//! and the build's `index.html`, so nobody computes a script hash or lists origins by hand:
//! the Content-Security-Policy of the portal's pages (the inline module loader's SHA-256, the
//! authority's and the MES's origins) and of the framed grid's page (`frame-ancestors` from
//! `embed_origins`), written out as the nginx snippets `deploy/nginx/mesportal.conf` includes.
//! `mes-lookup site-headers` runs it; the e2e suite serves the portal through Debian's nginx with
//! exactly these files.

use crate::config::{PortalConfig, Runtime};
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The two policies of a deployed portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitePolicy {
    /// For every page and file of the portal: framing by itself only.
    pub portal: String,
    /// For `/embed/lookup`, the page other sites frame: the sites of `embed_origins` too.
    pub embed: String,
}

/// `'sha256-…'` for every inline `<script>` of a page (trunk's module loader).
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let Some(open_end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start..start + open_end];
        let body_start = start + open_end + 1;
        let Some(close) = rest[body_start..].find("</script>") else {
            break;
        };
        let body = &rest[body_start..body_start + close];
        if !tag.contains(" src=") && !body.trim().is_empty() {
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &rest[body_start + close..];
    }
    hashes
}

/// The `scheme://host[:port]` of an absolute URL (`None` when it is not one).
pub(crate) fn origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let origin = parsed.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// The distinct origins of `urls`, in order.
fn origins<'a>(urls: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in urls.filter_map(origin) {
        if !out.contains(&o) {
            out.push(o);
        }
    }
    out
}

impl SitePolicy {
    /// The policies for this configuration and build: scripts from the portal's origin and the
    /// page's own inline loader; fetches to the authority and every Web API's MES and authority;
    /// forms (the sign-out POST) to the authorities; nothing else.
    pub fn new(config: &PortalConfig, index_html: &str) -> Self {
        let authorities: Vec<&str> = std::iter::once(config.client.authority.as_str())
            .chain(config.web_apis.iter().map(|api| api.authority.as_str()))
            .collect();
        let apis: Vec<&str> = config
            .web_apis
            .iter()
            .map(|api| api.base_address.as_str())
            .collect();
        Self::for_origins(&authorities, &apis, &config.embed_origins, index_html)
    }

    /// The same from the addresses themselves: the authorities, the MES base addresses, and the
    /// sites that may frame `/embed/lookup`.
    pub fn for_origins(
        authorities: &[&str],
        apis: &[&str],
        embed_origins: &[String],
        index_html: &str,
    ) -> Self {
        let forms = origins(authorities.iter().copied());
        let remote = origins(authorities.iter().chain(apis).copied());
        let scripts = inline_script_hashes(index_html).join(" ");
        let policy = |ancestors: &str| {
            format!(
                "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {scripts}; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self' {}; form-action 'self' {}; frame-ancestors {ancestors}; base-uri 'none'; manifest-src 'self'",
                remote.join(" "),
                forms.join(" ")
            )
        };
        let framers: Vec<&str> = std::iter::once("'self'")
            .chain(embed_origins.iter().map(String::as_str))
            .collect();
        Self {
            portal: policy("'self'"),
            embed: policy(&framers.join(" ")),
        }
    }

    /// The nginx snippets (file name, text) that `deploy/nginx/mesportal.conf` includes: the
    /// headers of every portal response, and those of the framed grid's page.
    pub fn nginx_snippets(&self) -> [(&'static str, String); 2] {
        let headers = |policy: &str, extra: &str| {
            format!(
                "# Written by `mes-lookup site-headers` from config.json and index.html: run it again after\n\
                 # every build or change of config.json (the policy holds the build's script hash).\n\
                 add_header Content-Security-Policy \"{policy}\" always;\n\
                 add_header X-Content-Type-Options nosniff always;\n\
                 add_header Referrer-Policy no-referrer always;\n\
                 add_header Strict-Transport-Security \"max-age=31536000\" always;\n{extra}"
            )
        };
        [
            ("mesportal-headers.conf", headers(&self.portal, "")),
            (
                "mesportal-embed-headers.conf",
                headers(&self.embed, "add_header Cache-Control no-cache always;\n"),
            ),
        ]
    }
}

/// `mes-lookup site-headers`: reads the deployed portal in `dist` (its config.json and
/// index.html) and writes the nginx snippets into `out`; the paths written, or what is wrong
/// (a file that cannot be read or written, every problem of config.json).
pub fn write_site_headers(
    dist: &std::path::Path,
    out: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>, String> {
    let read = |name: &str| {
        let path = dist.join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let (config, _) = PortalConfig::from_json(&read("config.json")?, Runtime::Browser).map_err(|report| {
        let problems: Vec<String> = report
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        format!(
            "config.json has problems — fix them first:\n  {}",
            problems.join("\n  ")
        )
    })?;
    let mut written = Vec::new();
    for (name, text) in SitePolicy::new(&config, &read("index.html")?).nginx_snippets() {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Runtime;

    fn config(embed: &str) -> PortalConfig {
        let text = format!(
            r#"{{
            "client": {{ "authority": "https://sms.plant.example/identitymanager", "client_id": "mes-portal",
                "redirect_uri": "https://mesportal.plant.example/callback", "scopes": ["openid"] }},
            "web_apis": [{{ "name": "MES", "base_address": "https://mes.plant.example:8443/mesmw/",
                "request_uri": "api", "authentication_mode": "UserAccessToken",
                "authority": "https://sms.plant.example/identitymanager", "audience": "mes-web-api",
                "client_id": "mes-portal", "scope": "mes-web-api" }}],
            "lookups": [], "embed_origins": [{embed}] }}"#
        );
        PortalConfig::from_json(&text, Runtime::Native).expect("config").0
    }

    #[test]
    fn hashes_inline_scripts_only() {
        // A loaded script and an empty inline one have nothing to hash.
        let html = r#"<head><script type="module">import init from '/a.js';</script><script src="/b.js"></script><script> </script></head>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1, "{hashes:?}");
        let digest = Sha256::digest(b"import init from '/a.js';");
        assert_eq!(
            hashes[0],
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        );
    }

    #[test]
    fn the_policy_names_each_origin_once_and_only_the_embed_page_lets_others_frame() {
        let policy = SitePolicy::new(
            &config(r#""https://intranet.plant.example""#),
            "<script type=\"module\">x</script>",
        );
        assert!(
            policy
                .portal
                .contains("connect-src 'self' https://sms.plant.example https://mes.plant.example:8443;"),
            "{}",
            policy.portal
        );
        assert!(
            policy
                .portal
                .contains("form-action 'self' https://sms.plant.example;")
        );
        assert!(policy.portal.contains("frame-ancestors 'self';"));
        assert!(
            policy
                .portal
                .contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-")
        );
        assert!(
            policy
                .embed
                .contains("frame-ancestors 'self' https://intranet.plant.example;")
        );
        assert_eq!(
            policy.embed.replace(" https://intranet.plant.example;", ";"),
            policy.portal
        );
        let [(name, headers), (embed_name, embed)] = policy.nginx_snippets();
        assert_eq!(
            (name, embed_name),
            ("mesportal-headers.conf", "mesportal-embed-headers.conf")
        );
        assert!(headers.contains(&format!(
            "add_header Content-Security-Policy \"{}\" always;",
            policy.portal
        )));
        assert!(!headers.contains("Cache-Control") && embed.contains("Cache-Control no-cache"));
        assert!(headers.contains("Referrer-Policy no-referrer") && headers.contains("nosniff"));
    }
}
