//! The portal as a plant deploys it, on five sites of one Debian nginx under TLS (a throwaway CA
//! made with openssl) and HTTP/2: the built `dist/` on `portal.test`, served with the
//! repository's `deploy/nginx/mesportal.conf` and the header snippets `mes-lookup site-headers`
//! writes; AIM (devstack's, or the certified provider) on `aim.test` and the MES on `mes.test`,
//! each behind nginx as a plant puts them behind IIS; an intranet page that frames a lookup
//! (`intranet.test`, the examples' `other-site/` as an integrator would host it) and the same page
//! on a site config.json does not list (`stranger.test`). Only the browser resolves these host
//! names (see [`crate::browser_for_sites`]); native clients reach nginx on 127.0.0.1 with the
//! right SNI through [`DeployedPortal::http`], the MES through [`Sites::public_sites`].

use anyhow::{Context as _, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The portal's host name in these tests.
pub const PORTAL_HOST: &str = "portal.test";
/// The host name of an intranet page that frames a lookup.
pub const INTRANET_HOST: &str = "intranet.test";
/// The host name of a site that config.json does not list.
pub const STRANGER_HOST: &str = "stranger.test";
/// AIM's host name (devstack's AIM, or the certified provider).
pub const AIM_HOST: &str = "aim.test";
/// The MES Web API's host name.
pub const MES_HOST: &str = "mes.test";
/// All five, for the browser's host resolver and the certificate.
pub const ALL_HOSTS: [&str; 5] = [PORTAL_HOST, AIM_HOST, MES_HOST, INTRANET_HOST, STRANGER_HOST];

/// The five sites' port and TLS material, made before anything starts: the MES must trust the CA
/// when it starts, and AIM must know its public issuer.
pub struct Sites {
    /// The port nginx will listen on (127.0.0.1), for every site.
    pub port: u16,
    scratch: PathBuf,
    ca_pem: Vec<u8>,
}

impl Sites {
    /// A free port and a certificate for the five host names.
    pub fn new() -> Result<Self> {
        let (port, scratch) = Self::scratch()?;
        certificates(&scratch.join("tls"), &ALL_HOSTS)?;
        let ca_pem = std::fs::read(scratch.join("tls/ca.crt"))?;
        Ok(Self {
            port,
            scratch,
            ca_pem,
        })
    }

    /// The same five names on another port, with the same CA and certificate: a second
    /// deployment a client that trusts the first also trusts.
    pub fn another(&self) -> Result<Self> {
        let (port, scratch) = Self::scratch()?;
        copy_dir(&self.scratch.join("tls"), &scratch.join("tls"))?;
        Ok(Self {
            port,
            scratch,
            ca_pem: self.ca_pem.clone(),
        })
    }

    fn scratch() -> Result<(u16, PathBuf)> {
        let port = free_port()?;
        let scratch = std::env::temp_dir().join(format!("e2e-nginx-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        for dir in ["snippets", "tls", "temp", "site", "intranet"] {
            std::fs::create_dir_all(scratch.join(dir))?;
        }
        Ok((port, scratch))
    }

    /// The SHA-256 hashes of the sites' certificate's and CA's public keys (base64, comma
    /// separated), for Chromium's `--ignore-certificate-errors-spki-list`: a browser given them
    /// treats these sites' certificates as valid, and caches their answers as it would a real
    /// site's (a certificate error accepted some other way turns the browser's cache off).
    pub fn spki_hashes(&self) -> Result<String> {
        let mut hashes = Vec::new();
        for cert in ["site.crt", "ca.crt"] {
            let path = self.scratch.join("tls").join(cert);
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "openssl x509 -in '{}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64 -A",
                    path.display()
                ))
                .output()
                .context("openssl")?;
            let hash = String::from_utf8(out.stdout)?.trim().to_owned();
            if !out.status.success() || hash.len() != 44 {
                bail!("could not hash the public key of {}", path.display());
            }
            hashes.push(hash);
        }
        Ok(hashes.join(","))
    }

    /// `https://<host>:<port>`.
    pub fn origin(&self, host: &str) -> String {
        format!("https://{host}:{}", self.port)
    }

    /// How devstack's AIM and MES are reached here (their issuer and base address).
    pub fn public_sites(&self) -> devstack::PublicSites {
        devstack::PublicSites {
            aim_origin: self.origin(AIM_HOST),
            mes_origin: self.origin(MES_HOST),
            proxy: ([127, 0, 0, 1], self.port).into(),
            ca_pem: self.ca_pem.clone(),
        }
    }
}

/// Where nginx sends `aim.test` and `mes.test` (plain http on loopback behind it).
#[derive(Debug, Clone, Copy)]
pub struct Upstreams {
    /// AIM's (or the provider's) listening address.
    pub aim: std::net::SocketAddr,
    /// The MES's listening address.
    pub mes: std::net::SocketAddr,
}

impl Upstreams {
    /// devstack's AIM and MES of `stack`.
    pub fn of(stack: &devstack::Stack) -> Self {
        Self {
            aim: stack.aim_address(),
            mes: stack.mes_address(),
        }
    }
}

/// nginx serving the portal; stopped when dropped.
pub struct DeployedPortal {
    /// `https://portal.test:<port>`.
    pub origin: String,
    /// `https://intranet.test:<port>`: another site's page framing a lookup (list it in
    /// config.json's `embed_origins` to allow it).
    pub intranet_origin: String,
    /// `https://stranger.test:<port>`: the same page on a site config.json does not list.
    pub stranger_origin: String,
    /// The port nginx listens on (127.0.0.1).
    pub port: u16,
    /// The served folder (a copy of dist/ with the site's config.json).
    pub root: PathBuf,
    ca_pem: Vec<u8>,
    scratch: PathBuf,
    nginx: Child,
}

impl Drop for DeployedPortal {
    fn drop(&mut self) {
        // `nginx -s stop` makes the master end its workers too; killing the master alone would
        // leave them serving the port.
        let _ = Command::new("nginx")
            .arg("-p")
            .arg(&self.scratch)
            .arg("-c")
            .arg(self.scratch.join("nginx.conf"))
            .args(["-s", "stop"])
            .stderr(Stdio::null())
            .status();
        for _ in 0..100 {
            if matches!(self.nginx.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.nginx.kill();
        let _ = self.nginx.wait();
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// A free port on 127.0.0.1, never one this process was given before: a port is free only until
/// its server binds it, and a test takes several (nginx, the provider, devstack's web server)
/// before starting them, so the system could otherwise hand out the same one twice.
pub fn free_port() -> Result<u16> {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..100 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        if !given.contains(&port) {
            given.push(port);
            return Ok(port);
        }
    }
    bail!("no new free port on 127.0.0.1")
}

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// A throwaway CA and a certificate for `hosts`, in `dir`: `ca.crt`, `site.crt`, `site.key`.
fn certificates(dir: &Path, hosts: &[&str]) -> Result<()> {
    let path = |name: &str| dir.join(name);
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=MES portal test CA",
            "-keyout",
        ])
        .arg(path("ca.key"))
        .arg("-out")
        .arg(path("ca.crt")))?;
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=portal.test",
            "-keyout",
        ])
        .arg(path("site.key"))
        .arg("-out")
        .arg(path("site.csr")))?;
    let names: Vec<String> = hosts.iter().map(|h| format!("DNS:{h}")).collect();
    std::fs::write(path("san.ext"), format!("subjectAltName={}\n", names.join(",")))?;
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-in"])
        .arg(path("site.csr"))
        .arg("-CA")
        .arg(path("ca.crt"))
        .arg("-CAkey")
        .arg(path("ca.key"))
        .arg("-CAcreateserial")
        .arg("-extfile")
        .arg(path("san.ext"))
        .arg("-out")
        .arg(path("site.crt")))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The repository's nginx configuration for the portal.
pub fn deploy_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/nginx"))
}

impl DeployedPortal {
    /// Serves `dist` with `config` (the site's config.json, whose origins name the portal at
    /// `sites`' `portal.test`) through nginx as docs/deploy.md §3 configures it, with AIM and the
    /// MES on their own sites in front of `upstreams`. `edit` may change the portal's server
    /// configuration's text first (tests of a mistaken site).
    pub fn start(
        sites: Sites,
        dist: &Path,
        config: &serde_json::Value,
        upstreams: Upstreams,
        edit: impl FnOnce(String) -> String,
    ) -> Result<Self> {
        let Sites {
            port,
            scratch,
            ca_pem,
        } = sites;
        let root = scratch.join("site");
        copy_dir(dist, &root)?;
        std::fs::write(root.join("config.json"), serde_json::to_string_pretty(config)?)?;

        // What `mes-lookup site-headers` writes, from the served config.json and index.html.
        mes_client::write_site_headers(&root, &scratch.join("snippets")).map_err(anyhow::Error::msg)?;
        // Another site's page framing a lookup from this portal.
        let examples = std::env::var_os("MES_PORTAL_EXAMPLES")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples")));
        let page = std::fs::read_to_string(examples.join("other-site/index.html"))?;
        let portal_origin = format!("https://{PORTAL_HOST}:{port}");
        std::fs::write(
            scratch.join("intranet/index.html"),
            devstack::web::HostScript::of(Some(dist)).fill(&page, &portal_origin),
        )?;
        // The repository's file, as it is.
        std::fs::copy(
            deploy_dir().join("mesportal.conf"),
            scratch.join("snippets/mesportal.conf"),
        )?;

        let s = scratch.display();
        let tls = format!(
            "listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {s}/tls/site.crt;
        ssl_certificate_key {s}/tls/site.key;"
        );
        // AIM and the MES behind the proxy: the public host and scheme passed on (the certified
        // provider builds its addresses from them), answers streamed as they come (the MES sends
        // rows in pieces).
        let proxied = |host: &str, to: std::net::SocketAddr| {
            format!(
                "server {{
        {tls}
        server_name {host};
        location / {{
            proxy_pass http://{to};
            proxy_http_version 1.1;
            proxy_buffering off;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}"
            )
        };
        let server = format!(
            "# The site's server block, as docs/deploy.md §3 shows it.
    server {{
        {tls}
        server_name {PORTAL_HOST};
        root {s}/site;
        include snippets/mesportal.conf;
    }}"
        );
        let others = format!(
            "# Another site: an intranet page that frames a lookup; and a stranger's copy of it.
    server {{
        {tls}
        server_name {INTRANET_HOST} {STRANGER_HOST};
        root {s}/intranet;
        log_not_found off;
    }}
    {}
    {}",
            proxied(AIM_HOST, upstreams.aim),
            proxied(MES_HOST, upstreams.mes)
        );
        let main = format!(
            "daemon off;
worker_processes 1;
pid {s}/nginx.pid;
error_log {s}/error.log warn;
events {{ worker_connections 256; }}
http {{
    # As Debian's stock nginx.conf has them.
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {s}/access.log;
    client_body_temp_path {s}/temp/body;
    proxy_temp_path {s}/temp/proxy;
    fastcgi_temp_path {s}/temp/fastcgi;
    uwsgi_temp_path {s}/temp/uwsgi;
    scgi_temp_path {s}/temp/scgi;
    {}
    {others}
}}
",
            edit(server)
        );
        std::fs::write(scratch.join("nginx.conf"), main)?;
        let nginx = Command::new("nginx")
            .arg("-p")
            .arg(&scratch)
            .arg("-c")
            .arg(scratch.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting nginx (cargo xtask test installs Debian's nginx-light)")?;
        let mut portal = Self {
            origin: portal_origin,
            intranet_origin: format!("https://{INTRANET_HOST}:{port}"),
            stranger_origin: format!("https://{STRANGER_HOST}:{port}"),
            port,
            root,
            ca_pem,
            scratch,
            nginx,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(portal);
            }
            if let Some(status) = portal.nginx.try_wait()? {
                let log = std::fs::read_to_string(portal.scratch.join("error.log")).unwrap_or_default();
                let mut stderr = String::new();
                if let Some(mut e) = portal.nginx.stderr.take() {
                    use std::io::Read as _;
                    let _ = e.read_to_string(&mut stderr);
                }
                bail!("nginx exited ({status}): {stderr}{log}");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        bail!("nginx did not listen on {port}")
    }

    /// An HTTP client that reaches the five sites on this nginx and trusts the test CA; it
    /// follows no redirects and decompresses nothing.
    pub fn http(&self) -> Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder();
        for (host, address) in self.loopback() {
            builder = builder.resolve(&host, address);
        }
        Ok(builder
            .add_root_certificate(reqwest::Certificate::from_pem(&self.ca_pem)?)
            .redirect(reqwest::redirect::Policy::none())
            .build()?)
    }

    /// How the site doctor reaches these sites: their host names on loopback, the test CA
    /// trusted.
    pub fn doctor_options(&self) -> mes_client::DoctorOptions {
        mes_client::DoctorOptions {
            ca_pem: Some(self.ca_pem.clone()),
            resolve: self.loopback(),
        }
    }

    /// Each of the five host names at this nginx on 127.0.0.1.
    fn loopback(&self) -> Vec<(String, std::net::SocketAddr)> {
        ALL_HOSTS
            .iter()
            .map(|h| ((*h).to_owned(), ([127, 0, 0, 1], self.port).into()))
            .collect()
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.scratch.join("error.log")).unwrap_or_default()
    }
}

/// The certified third-party OpenID provider (npm `oidc-provider`, `crates/e2e/oidc/provider.mjs`)
/// on loopback, for a portal at `portal_origin`; stopped when dropped. Its signing keys are the
/// package's fixed development keys and its store is a file, so after [`Self::start_again`]
/// tokens it issued still verify and its sessions still stand, as at a real authority.
pub struct RealProvider {
    /// Its issuer: `http://127.0.0.1:<port>/op`, or `https://aim.test:<port>/op` behind the
    /// sites' nginx.
    pub issuer: String,
    port: u16,
    issuer_origin: String,
    portal_origin: String,
    token_seconds: u64,
    refresh_tokens_end_with_session: bool,
    node: Option<Child>,
}

impl Drop for RealProvider {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(self.store());
    }
}

impl RealProvider {
    /// Starts it (`OIDC_PROVIDER_MODULES`: the `node_modules` `cargo xtask test` installs it in).
    pub fn start(portal_origin: &str) -> Result<Self> {
        Self::start_with_token_lifetime(portal_origin, 3600)
    }

    /// [`Self::start`], its access tokens for the MES lasting `seconds`.
    pub fn start_with_token_lifetime(portal_origin: &str, seconds: u64) -> Result<Self> {
        let port = free_port()?;
        Self::first_start(port, format!("http://127.0.0.1:{port}"), portal_origin, seconds)
    }

    /// Starts it as `aim.test` of `sites` (their nginx in front of [`Self::address`]), for the
    /// portal on `portal.test`, its access tokens lasting `seconds`. With
    /// `refresh_tokens_end_with_session`, its operator's setting that issues the portal
    /// refresh tokens bound to the sign-in session (see provider.mjs).
    pub fn behind(sites: &Sites, seconds: u64, refresh_tokens_end_with_session: bool) -> Result<Self> {
        let mut provider = Self::new(
            free_port()?,
            sites.origin(AIM_HOST),
            &sites.origin(PORTAL_HOST),
            seconds,
        );
        provider.refresh_tokens_end_with_session = refresh_tokens_end_with_session;
        provider.forget_and_start()?;
        Ok(provider)
    }

    fn new(port: u16, issuer_origin: String, portal_origin: &str, seconds: u64) -> Self {
        Self {
            issuer: String::new(),
            port,
            issuer_origin,
            portal_origin: portal_origin.to_owned(),
            token_seconds: seconds,
            refresh_tokens_end_with_session: false,
            node: None,
        }
    }

    fn first_start(port: u16, issuer_origin: String, portal_origin: &str, seconds: u64) -> Result<Self> {
        let mut provider = Self::new(port, issuer_origin, portal_origin, seconds);
        provider.forget_and_start()?;
        Ok(provider)
    }

    /// The first start: no store or log of an earlier provider on this port.
    fn forget_and_start(&mut self) -> Result<()> {
        let _ = std::fs::remove_file(self.store());
        let _ = std::fs::remove_file(self.log());
        self.start_again()
    }

    /// Where it listens (a proxy's upstream).
    pub fn address(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    /// Where its output goes: what it issued and refused, for a failing test's reader.
    fn log(&self) -> PathBuf {
        std::env::temp_dir().join(format!("oidc-provider-{}.log", self.port))
    }

    /// Its store (sessions, grants, refresh tokens), kept across [`Self::start_again`].
    fn store(&self) -> PathBuf {
        std::env::temp_dir().join(format!("oidc-provider-{}-{}.json", std::process::id(), self.port))
    }

    /// How many access tokens it has issued (from its log, kept across restarts).
    pub fn access_tokens_issued(&self) -> usize {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .matches("issued access token")
            .count()
    }

    /// How many sign-in sessions with a person in them its store holds (a sign-out ends one).
    pub fn signed_in_sessions(&self) -> usize {
        let store: serde_json::Value = std::fs::read(self.store())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        store["Session"].as_object().map_or(0, |sessions| {
            sessions
                .values()
                .filter(|s| s["payload"]["accountId"].is_string())
                .count()
        })
    }

    /// Stops it: its port refuses connections, as an authority that went offline.
    pub fn stop(&mut self) {
        if let Some(mut node) = self.node.take() {
            let _ = node.kill();
            let _ = node.wait();
        }
    }

    /// Starts it again on the same port with the same store (after [`Self::stop`]).
    pub fn start_again(&mut self) -> Result<()> {
        self.stop();
        let modules = std::env::var("OIDC_PROVIDER_MODULES").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/tools/oidc/node_modules"
            )
            .to_owned()
        });
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/oidc/provider.mjs");
        let log = self.log();
        let bound = if self.refresh_tokens_end_with_session {
            "1"
        } else {
            "0"
        };
        let mut node = Command::new("node")
            .arg(script)
            .arg(self.port.to_string())
            .arg(&self.issuer_origin)
            .arg(&self.portal_origin)
            .env("OIDC_PROVIDER_MODULES", &modules)
            .env("OIDC_ACCESS_TOKEN_TTL", self.token_seconds.to_string())
            .env("OIDC_STORE", self.store())
            .env("OIDC_REFRESH_TOKENS_END_WITH_SESSION", bound)
            .stdout(Stdio::piped())
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(&log)?)
            .spawn()
            .context("starting node (the machine's Node.js)")?;
        let stdout = node.stdout.take().context("node's output")?;
        let mut line = String::new();
        use std::io::BufRead as _;
        let mut reader = std::io::BufReader::new(stdout);
        reader.read_line(&mut line).context("reading node's first line")?;
        // Keep reading: a closed pipe would end the provider at its next line of output.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let Some(issuer) = line.trim().strip_prefix("ready ") else {
            let _ = node.kill();
            let _ = node.wait();
            bail!(
                "oidc-provider did not start (installed in {modules}? cargo xtask test installs it; its log: {}): {line}",
                log.display()
            );
        };
        self.issuer = issuer.to_owned();
        self.node = Some(node);
        Ok(())
    }
}
