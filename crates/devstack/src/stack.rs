//! AIM, MES and the portal server on three loopback ports (three origins), in one process.
//! Tests start it on free ports; the demo and `devstack up` on fixed ones.

use crate::aim::{self, AimOptions, AimState};
use crate::mes::{self, MesOptions, MesState};
use crate::seed;
use crate::server::Server;
use crate::web::{self, WebOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The portal's client ID at the AIM stand-in.
pub const PORTAL_CLIENT_ID: &str = "mes-portal";
/// The MES Web API's audience and scope.
pub const MES_AUDIENCE: &str = "mes-web-api";
/// The demo accounts: user name, password, what they show.
pub const DEMO_ACCOUNTS: [(&str, &str, &str); 4] = [
    ("PLANT\\alice", "alice-demo", "active MES user: sees the lookups"),
    (
        "PLANT\\quinn",
        "quinn-demo",
        "active MES user with access to the restricted Quality Lab entities",
    ),
    (
        "PLANT\\victor",
        "victor-demo",
        "AIM account that is not an MES user: denied",
    ),
    ("PLANT\\ivan", "ivan-demo", "inactive MES user: denied"),
];

/// Refresh tokens and AIM's sessions last a shift (8 h) unless told otherwise.
pub const DEFAULT_REFRESH_LIFETIME: u64 = 8 * 3600;

/// How to start the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Keys, stores and databases.
    pub data_dir: PathBuf,
    /// The built portal; `None` runs AIM and MES only.
    pub dist_dir: Option<PathBuf>,
    /// `examples/` served by the portal server.
    pub examples_dir: Option<PathBuf>,
    /// Ports; 0 picks a free one.
    pub aim_port: u16,
    /// MES port.
    pub mes_port: u16,
    /// Portal port.
    pub web_port: u16,
    /// Port of "another site" (the examples' `other-site/`, allowed to frame lookups).
    pub other_site_port: u16,
    /// Rows in the big MES tables.
    pub seed_rows: usize,
    /// User access token lifetime, seconds.
    pub user_token_lifetime: u64,
    /// Refresh token lifetime, seconds: how long a session lasts without a new sign-in.
    pub refresh_token_lifetime: u64,
    /// How long AIM's own session (its SSO cookie) lasts, seconds.
    pub aim_session_lifetime: u64,
    /// Origins where the built portal is also served by another web server (the e2e suite's
    /// nginx under TLS): registered at AIM (redirect, post-logout, CORS) and allowed by the MES,
    /// like the devstack portal's own origin. See [`Stack::portal_config_at`].
    pub extra_portal_origins: Vec<String>,
    /// Another OpenID provider the MES trusts and the portal signs in at, instead of devstack's
    /// AIM (the e2e suite's certified third-party provider); its issuer. AIM still runs.
    pub external_authority: Option<String>,
    /// Whether AIM's discovery names an end-session endpoint.
    pub aim_end_session: bool,
    /// Whether ending AIM's session also revokes the refresh tokens issued in it (see
    /// [`AimOptions::refresh_tokens_end_with_session`]).
    pub aim_refresh_tokens_end_with_session: bool,
    /// Whether AIM's end-session endpoint takes POST as well as GET (a certified provider's
    /// default takes only GET).
    pub aim_end_session_post: bool,
    /// Whether AIM's pages send `Cross-Origin-Opener-Policy: same-origin` (see
    /// [`AimOptions::opener_policy`]).
    pub aim_opener_policy: bool,
    /// Whether AIM's token answers say the refresh token's remaining lifetime (see
    /// [`AimOptions::tells_refresh_lifetime`]).
    pub aim_tells_refresh_lifetime: bool,
    /// How long MES trusts the authority's keys.
    pub jwks_ttl: Duration,
    /// How long MES caches the Default Background User.
    pub background_user_ttl: Duration,
    /// Whether the portal's config asks for refresh tokens (`offline_access`).
    pub refresh_tokens: bool,
    /// Test-only hostile modes ([`crate::hostile`]): the MES serves its hostile corpus (and the
    /// portal's config lists a lookup per case) and AIM can be told to tamper with its answers.
    pub hostile: bool,
    /// Put over the portal's `config.json`: an object patches an object field by field, any
    /// other value replaces the field (tests of how the portal takes its configuration: a
    /// language, a broken file, a sign-out by GET).
    pub config_patch: Option<serde_json::Value>,
    /// AIM and the MES behind a TLS proxy on host names of their own, as a plant runs them
    /// (the e2e suite's nginx); `None` keeps them on their loopback origins.
    pub public_sites: Option<PublicSites>,
}

/// Where the world reaches AIM and the MES when a TLS proxy stands in front of them: AIM's
/// issuer and the MES's base address use these origins, and the MES reaches AIM by its public
/// name through the proxy, trusting the proxy's CA — as the real middleware reaches a real AIM.
#[derive(Debug, Clone)]
pub struct PublicSites {
    /// AIM's origin, e.g. `https://aim.test:8443`.
    pub aim_origin: String,
    /// The MES's origin, e.g. `https://mes.test:8443`.
    pub mes_origin: String,
    /// The proxy's address: where the MES connects for AIM's host name.
    pub proxy: SocketAddr,
    /// The PEM of the CA that signed the proxy's certificates.
    pub ca_pem: Vec<u8>,
}

impl PublicSites {
    /// How the MES reaches the authority at `authority` (AIM's issuer or another provider's):
    /// through the proxy when it is on AIM's public host name; `None` for any other.
    fn route_to(&self, authority: &str) -> Option<crate::mes::AuthorityRoute> {
        let host_of = |url: &str| Some(reqwest::Url::parse(url).ok()?.host_str()?.to_owned());
        let host = host_of(authority)?;
        if Some(&host) != host_of(&self.aim_origin).as_ref() {
            return None;
        }
        Some(crate::mes::AuthorityRoute {
            host,
            address: self.proxy,
            ca_pem: self.ca_pem.clone(),
        })
    }
}

impl StackOptions {
    /// Free ports, a fresh data directory under the system temp dir, small data.
    pub fn for_tests(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "devstack-{name}-{}-{}",
            std::process::id(),
            crate::util::random_token(6)
        ));
        Self {
            data_dir: dir,
            dist_dir: None,
            examples_dir: None,
            aim_port: 0,
            mes_port: 0,
            web_port: 0,
            other_site_port: 0,
            seed_rows: 200,
            user_token_lifetime: 3600,
            refresh_token_lifetime: DEFAULT_REFRESH_LIFETIME,
            aim_session_lifetime: DEFAULT_REFRESH_LIFETIME,
            extra_portal_origins: Vec::new(),
            external_authority: None,
            aim_end_session: true,
            aim_end_session_post: true,
            aim_opener_policy: false,
            aim_tells_refresh_lifetime: false,
            aim_refresh_tokens_end_with_session: false,
            jwks_ttl: Duration::from_secs(5),
            background_user_ttl: Duration::from_secs(3600),
            refresh_tokens: true,
            hostile: false,
            config_patch: None,
            public_sites: None,
        }
    }
}

/// A running stack.
pub struct Stack {
    /// The authority's state (counters, issued tokens).
    pub aim: Arc<AimState>,
    /// The MES's state.
    pub mes: Arc<MesState>,
    /// AIM issuer, e.g. `http://127.0.0.1:8081/identitymanager`.
    pub issuer: String,
    /// The authority the MES trusts and config.json names: AIM's issuer, or
    /// [`StackOptions::external_authority`].
    pub authority: String,
    /// MES base address, e.g. `http://127.0.0.1:8082/mesmw/`.
    pub mes_base: String,
    /// Portal origin, e.g. `http://127.0.0.1:8080`.
    pub portal_origin: String,
    /// Origin of "another site" that frames lookups (config.json's `embed_origins`), when the
    /// examples are served.
    pub other_site_origin: Option<String>,
    other_sites: Vec<Server>,
    examples_dir: Option<PathBuf>,
    /// The build's host script for other sites' pages.
    host_script: web::HostScript,
    aim_server: Option<Server>,
    aim_addr: SocketAddr,
    mes_server: Option<Server>,
    mes_addr: SocketAddr,
    web_server: Option<Server>,
    aim_router: axum::Router,
    mes_router: axum::Router,
    refresh_tokens: bool,
    hostile: bool,
    config_patch: Option<serde_json::Value>,
    csp_reports: crate::web::CspReports,
}

async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port)).await
}

/// Creates the AIM store with the demo accounts and the portal client when it is new.
pub fn prepare_aim_store(
    data_dir: &std::path::Path,
    portal_origins: &[String],
    user_token_lifetime: u64,
) -> std::io::Result<()> {
    let db = crate::store::open(&data_dir.join("aim.sqlite")).map_err(std::io::Error::other)?;
    let other = std::io::Error::other;
    if crate::store::find_user(&db, DEMO_ACCOUNTS[0].0)
        .map_err(other)?
        .is_none()
    {
        for (user, password, _) in DEMO_ACCOUNTS {
            let display = seed::MES_USERS
                .iter()
                .find(|u| u.0 == user)
                .map(|u| u.1)
                .unwrap_or("Victor Vance, contractor");
            crate::store::put_user(&db, user, display, password).map_err(other)?;
        }
    }
    // The portal client follows the ports of this run.
    crate::store::put_client(
        &db,
        &aim::portal_client(PORTAL_CLIENT_ID, portal_origins, user_token_lifetime),
    )
    .map_err(other)
}

impl Stack {
    /// Binds the three ports, prepares the stores and serves.
    pub async fn start(options: StackOptions) -> std::io::Result<Self> {
        let (aim_l, mes_l, web_l) = (
            bind(options.aim_port).await?,
            bind(options.mes_port).await?,
            bind(options.web_port).await?,
        );
        let other_site = options
            .examples_dir
            .as_ref()
            .map(|d| d.join("other-site"))
            .filter(|d| d.is_dir());
        let other_l = match &other_site {
            Some(_) => Some(bind(options.other_site_port).await?),
            None => None,
        };
        let other_site_origin = match &other_l {
            Some(l) => Some(format!("http://{}", l.local_addr()?)),
            None => None,
        };
        let (aim_addr, mes_addr, web_addr) = (aim_l.local_addr()?, mes_l.local_addr()?, web_l.local_addr()?);
        let sites = options.public_sites.as_ref();
        let aim_origin = sites.map_or_else(|| format!("http://{aim_addr}"), |p| p.aim_origin.clone());
        let mes_origin = sites.map_or_else(|| format!("http://{mes_addr}"), |p| p.mes_origin.clone());
        let issuer = format!("{aim_origin}{}", aim::BASE_PATH);
        let authority = options
            .external_authority
            .clone()
            .unwrap_or_else(|| issuer.clone());
        let mes_base = format!("{mes_origin}/mesmw/");
        let portal_origin = format!("http://{web_addr}");
        let portal_origins: Vec<String> = std::iter::once(portal_origin.clone())
            .chain(options.extra_portal_origins.iter().cloned())
            .collect();
        prepare_aim_store(&options.data_dir, &portal_origins, options.user_token_lifetime)?;
        let aim = Arc::new(AimState::open(AimOptions {
            issuer: issuer.clone(),
            data_dir: options.data_dir.clone(),
            audience: MES_AUDIENCE.into(),
            hostile: options.hostile,
            refresh_token_lifetime: options.refresh_token_lifetime,
            session_lifetime: options.aim_session_lifetime,
            end_session: options.aim_end_session,
            end_session_post: options.aim_end_session_post,
            opener_policy: options.aim_opener_policy,
            tells_refresh_lifetime: options.aim_tells_refresh_lifetime,
            refresh_tokens_end_with_session: options.aim_refresh_tokens_end_with_session,
        })?);
        let mes = Arc::new(MesState::open(MesOptions {
            authority: authority.clone(),
            audience: MES_AUDIENCE.into(),
            user_claims: vec!["preferred_username".into(), "sub".into()],
            allowed_origins: portal_origins,
            jwks_ttl: options.jwks_ttl,
            background_user_ttl: options.background_user_ttl,
            data_dir: options.data_dir.clone(),
            seed_rows: options.seed_rows,
            hostile: options.hostile,
            authority_route: sites.and_then(|p| p.route_to(&authority)),
        })?);
        let aim_router = aim::app(aim.clone());
        let mes_router = mes::app(mes.clone());
        let mut stack = Self {
            aim_server: Some(Server::spawn(aim_l, aim_router.clone())?),
            mes_server: Some(Server::spawn(mes_l, mes_router.clone())?),
            web_server: None,
            aim,
            mes,
            issuer,
            authority,
            mes_base,
            portal_origin,
            other_site_origin,
            other_sites: Vec::new(),
            examples_dir: options.examples_dir.clone(),
            host_script: web::HostScript::of(options.dist_dir.as_deref()),
            aim_addr,
            mes_addr,
            aim_router,
            mes_router,
            refresh_tokens: options.refresh_tokens,
            hostile: options.hostile,
            config_patch: options.config_patch.clone(),
            csp_reports: Default::default(),
        };
        if let Some(dist) = &options.dist_dir {
            let router = web::app(stack.web_options(dist.clone(), options.examples_dir.clone()))?;
            stack.web_server = Some(Server::spawn(web_l, router)?);
        }
        if let (Some(dir), Some(listener)) = (other_site, other_l) {
            stack.other_sites.push(Server::spawn(
                listener,
                crate::web::other_site_app(dir, stack.portal_origin.clone(), stack.host_script.clone()),
            )?);
        }
        Ok(stack)
    }

    /// The `config.json` the portal server gives the portal for this stack.
    pub fn portal_config(&self) -> serde_json::Value {
        web::portal_config(&self.web_options(PathBuf::new(), None))
    }

    /// The `config.json` for the portal served at `origin` (one of `extra_portal_origins`) by
    /// another web server, allowing `embed_origins` to frame its lookups.
    pub fn portal_config_at(&self, origin: &str, embed_origins: &[String]) -> serde_json::Value {
        let mut options = self.web_options(PathBuf::new(), None);
        options.portal_origin = origin.to_owned();
        options.embed_origins = embed_origins.to_vec();
        web::portal_config(&options)
    }

    fn web_options(&self, dist_dir: PathBuf, examples_dir: Option<PathBuf>) -> WebOptions {
        WebOptions {
            dist_dir,
            examples_dir,
            portal_origin: self.portal_origin.clone(),
            authority: self.authority.clone(),
            mes_base: self.mes_base.clone(),
            client_id: PORTAL_CLIENT_ID.into(),
            audience: MES_AUDIENCE.into(),
            refresh_tokens: self.refresh_tokens,
            hostile: self.hostile,
            config_patch: self.config_patch.clone(),
            embed_origins: self.other_site_origin.iter().cloned().collect(),
            csp_reports: self.csp_reports.clone(),
        }
    }

    /// Serves the examples' `other-site/` on one more loopback origin, one config.json does not
    /// allow to frame lookups; returns that origin.
    pub async fn serve_disallowed_site(&mut self) -> std::io::Result<String> {
        let dir = self
            .examples_dir
            .as_ref()
            .map(|d| d.join("other-site"))
            .filter(|d| d.is_dir());
        let dir = dir.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no examples/other-site to serve")
        })?;
        let listener = bind(0).await?;
        let origin = format!("http://{}", listener.local_addr()?);
        self.other_sites.push(Server::spawn(
            listener,
            crate::web::other_site_app(dir, self.portal_origin.clone(), self.host_script.clone()),
        )?);
        Ok(origin)
    }

    /// Where AIM listens (behind a proxy, see [`StackOptions::public_sites`]).
    pub fn aim_address(&self) -> SocketAddr {
        self.aim_addr
    }

    /// Where the MES listens.
    pub fn mes_address(&self) -> SocketAddr {
        self.mes_addr
    }

    /// Content-Security-Policy violation reports the browser sent to the portal server.
    pub fn csp_reports(&self) -> Vec<String> {
        self.csp_reports.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stops AIM: its port closes and open connections drop, as when the SMS goes offline.
    pub async fn stop_aim(&mut self) {
        if let Some(server) = self.aim_server.take() {
            server.stop().await;
        }
    }

    /// Starts AIM again on the same port with the same state.
    pub async fn start_aim(&mut self) -> std::io::Result<()> {
        if self.aim_server.is_none() {
            self.aim_server = Some(Server::spawn(
                bind(self.aim_addr.port()).await?,
                self.aim_router.clone(),
            )?);
        }
        Ok(())
    }

    /// Stops the MES Web API.
    pub async fn stop_mes(&mut self) {
        if let Some(server) = self.mes_server.take() {
            server.stop().await;
        }
    }

    /// Starts the MES Web API again on the same port.
    pub async fn start_mes(&mut self) -> std::io::Result<()> {
        if self.mes_server.is_none() {
            self.mes_server = Some(Server::spawn(
                bind(self.mes_addr.port()).await?,
                self.mes_router.clone(),
            )?);
        }
        Ok(())
    }

    /// Stops everything.
    pub async fn stop(mut self) {
        self.stop_aim().await;
        self.stop_mes().await;
        if let Some(server) = self.web_server.take() {
            server.stop().await;
        }
        for server in self.other_sites.drain(..) {
            server.stop().await;
        }
    }
}
