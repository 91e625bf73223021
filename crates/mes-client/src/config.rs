//! Runtime configuration (config.json, read at start; docs/deploy.md explains each field): the portal's own OAuth client, the Web API definitions
//! (the Enterprise Console "Web API List Item" fields) and the lookups.

use crate::Secret;
use crate::absolute_url::AbsoluteUrl;
use crate::ask::{Answers, DEFAULT_MAX_ROWS, MAX_ROWS_CEILING, ParamDefinition, ParamProblem};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Allowed clock difference for token times, seconds (`ClientSettings::clock_skew_seconds`).
pub const DEFAULT_CLOCK_SKEW: i64 = 60;

/// How a Web API definition obtains its bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AuthenticationMode {
    /// The signed-in person's token (authorization code + PKCE).
    #[serde(alias = "User Access Token")]
    UserAccessToken,
    /// A client-credentials token; native background jobs only.
    #[serde(alias = "Service to Service Access Token")]
    ServiceToServiceAccessToken,
}

/// One Web API definition, as in the Enterprise Console's Web API list.
#[derive(Debug, Clone, Deserialize)]
pub struct WebApiDefinition {
    /// Unique name lookups refer to.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Always "Generic" for the MES Web API.
    #[serde(default = "generic")]
    pub source: String,
    /// e.g. `https://mes.plant.local/mesmw/`; must end in `/`.
    pub base_address: String,
    /// e.g. `api`.
    pub request_uri: String,
    /// User or service-to-service token.
    pub authentication_mode: AuthenticationMode,
    /// The OpenID authority, e.g. `https://sms.plant.local/identitymanager`.
    pub authority: String,
    /// The audience the MES expects in the access token.
    #[serde(default)]
    pub audience: String,
    /// OAuth client ID.
    pub client_id: ClientId,
    /// Scope to request (`system` for service-to-service).
    #[serde(default)]
    pub scope: String,
    /// Service-to-service secret. Never allowed in a browser build.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// The plant's time zone as the MES names it (`tz_id`, e.g. `+01:00`): how the MES reads
    /// date parameters and writes `*_local` columns; absent = the MES's own default.
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// An OAuth client ID as registered at the authority: public, but not any string — it is never
/// confused with the other names of a configuration (a Web API's, a lookup's, the authority's).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    /// Wraps a registered client ID.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }
    /// The ID as sent to the authority.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn generic() -> String {
    "Generic".to_owned()
}

/// The portal's own OAuth client at the authority.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientSettings {
    /// Issuer URL of the authority; discovery is fetched below it.
    pub authority: String,
    /// Display name of the authority on the sign-in page.
    #[serde(default)]
    pub authority_name: String,
    /// The portal's client ID.
    pub client_id: ClientId,
    /// Exact redirect URI registered at the authority.
    pub redirect_uri: String,
    /// Where the authority sends the browser after sign-out.
    #[serde(default)]
    pub post_logout_redirect_uri: Option<String>,
    /// How the authority's end-session endpoint takes the sign-out: `"post"` (the default; what
    /// AIM takes, with the ID token as a hint in the body) or `"get"` (for authorities that take
    /// only GET there; no ID token hint, which would be in a URL, so the authority may ask the
    /// person to confirm).
    #[serde(default)]
    pub end_session_method: EndSessionMethod,
    /// Scopes to ask for, e.g. `openid profile offline_access mes-web-api`.
    pub scopes: Vec<String>,
    /// Extra authorize parameters (e.g. `resource`), sent as given.
    #[serde(default)]
    pub extra_authorize_params: BTreeMap<String, String>,
    /// Allowed clock difference for ID-token times, seconds.
    #[serde(default = "default_clock_skew")]
    pub clock_skew_seconds: i64,
    /// Whether a new visit first asks the authority, without showing anything
    /// (`prompt=none`), for a session the person already has there (single sign-on with other
    /// applications, and a reload that keeps the person signed in). `true` by default; `false`
    /// shows the Sign in button one round trip through the authority sooner (where people
    /// always sign in at the portal, as on shared terminals), and the button then still skips
    /// the authority's form when its session is there.
    #[serde(default = "default_true")]
    pub silent_sign_in: bool,
}

fn default_true() -> bool {
    true
}

/// How the sign-out request reaches the authority's end-session endpoint (OpenID RP-Initiated
/// Logout 1.0 allows both; an authority may take only one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndSessionMethod {
    /// A form POST: `id_token_hint`, `client_id` and `post_logout_redirect_uri` in the body.
    #[default]
    Post,
    /// A GET with `client_id` and `post_logout_redirect_uri` in the query, and no ID token.
    Get,
}

fn default_clock_skew() -> i64 {
    DEFAULT_CLOCK_SKEW
}

impl ClientSettings {
    /// The allowed clock difference, kept between 0 and 10 minutes whatever config.json says.
    pub fn clock_skew(&self) -> i64 {
        self.clock_skew_seconds.clamp(0, 600)
    }
}

/// Single or multiple row selection in a lookup grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SelectionMode {
    /// One row at a time.
    #[default]
    Single,
    /// Any number of rows.
    Multi,
}

impl SelectionMode {
    /// The mode a host page, a frame's message or its address names: `single` or `multi`,
    /// exactly as config.json spells them.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "single" => Some(Self::Single),
            "multi" => Some(Self::Multi),
            _ => None,
        }
    }
}

/// A lookup: one MES endpoint shown as a grid.
#[derive(Debug, Clone, Deserialize)]
pub struct LookupDefinition {
    /// Title of the lookup.
    pub name: String,
    /// Name of the Web API definition to call.
    pub web_api: String,
    /// Endpoint under the request URI, e.g. `v3/entity`.
    pub endpoint: String,
    /// Fixed query parameters, always sent as they are.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// What a person asks: the endpoint's filter parameters the form offers (see [`crate::ask`]).
    #[serde(default)]
    pub parameters: Vec<ParamDefinition>,
    /// The rows asked for at first ([`LookupDefinition::row_limit`]); an answer that reaches it
    /// is cut, and says so.
    #[serde(default)]
    pub max_rows: Option<u32>,
    /// Column whose value a selection yields.
    #[serde(default)]
    pub value_column: Option<String>,
    /// Columns to show, in order; empty = every column the endpoint returns.
    #[serde(default)]
    pub display_columns: Vec<String>,
    /// Single or multi selection.
    #[serde(default)]
    pub selection: SelectionMode,
    /// Where one row is read whole for its detail; absent = the detail shows the row as listed.
    #[serde(default)]
    pub record: Option<RecordDefinition>,
}

/// A lookup's `/key` endpoint: one record, asked for by the values of the key's columns (each
/// sent as a query parameter of the column's name, as MES V3 `/key` actions take them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RecordDefinition {
    /// Endpoint under the request URI, e.g. `v3/wo/key`.
    pub endpoint: String,
    /// The columns whose values name one record (`wo_id`; an entity's `ent_id`).
    pub key: Vec<String>,
}

impl LookupDefinition {
    /// A lookup of `endpoint` under the Web API `web_api` and nothing else: every column, no
    /// question, the default row limit (the genealogy walk's consumption records).
    pub fn plain(name: &str, web_api: &str, endpoint: &str) -> Self {
        Self {
            name: name.to_owned(),
            web_api: web_api.to_owned(),
            endpoint: endpoint.to_owned(),
            params: BTreeMap::new(),
            parameters: Vec::new(),
            max_rows: None,
            value_column: None,
            display_columns: Vec::new(),
            selection: SelectionMode::default(),
            record: None,
        }
    }

    /// The `/key` query for the row whose cell of a column `cell` gives: each key column's
    /// value, or `None` when the lookup has no record endpoint or the row lacks a key value.
    pub fn record_query<'v>(&self, cell: impl Fn(&str) -> Option<&'v str>) -> Option<Vec<(String, String)>> {
        let record = self.record.as_ref()?;
        record
            .key
            .iter()
            .map(|column| {
                let value = cell(column).filter(|v| !v.is_empty())?;
                Some((column.clone(), value.to_owned()))
            })
            .collect()
    }

    /// The rows asked for at first: `max_rows`, or [`DEFAULT_MAX_ROWS`], within 1 and
    /// [`MAX_ROWS_CEILING`].
    pub fn row_limit(&self) -> u32 {
        self.max_rows
            .unwrap_or(DEFAULT_MAX_ROWS)
            .clamp(1, MAX_ROWS_CEILING)
    }

    /// The query parameters of a question: the fixed ones, then the asked ones in declared
    /// order; or every problem of the answers.
    pub fn query(&self, answers: &Answers) -> Result<Vec<(String, String)>, Vec<ParamProblem>> {
        let asked = crate::ask::encode(&self.parameters, answers)?;
        Ok(self
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .chain(asked)
            .collect())
    }
}

/// Everything `config.json` holds.
#[derive(Debug, Clone, Deserialize)]
pub struct PortalConfig {
    /// The portal's OAuth client.
    pub client: ClientSettings,
    /// Web API definitions.
    pub web_apis: Vec<WebApiDefinition>,
    /// Lookups.
    #[serde(default)]
    pub lookups: Vec<LookupDefinition>,
    /// The portal's language and formats (a BCP 47 tag such as `de` or `de-CH`) whatever the
    /// browser prefers; absent = the browser's preference.
    #[serde(default)]
    pub language: Option<String>,
    /// The translations deployed beside the portal as `locales/<language>.json`; absent = the
    /// ones the portal ships ([`SHIPPED_TRANSLATIONS`]).
    #[serde(default)]
    pub translations: Option<Vec<String>>,
    /// Origins of other sites' pages that may show lookups in a frame (`/embed/lookup`), written
    /// as browsers write them (`https://intranet.plant.example`, no path, no trailing slash).
    /// The web server's `frame-ancestors` must list the same (docs/embedding.md).
    #[serde(default)]
    pub embed_origins: Vec<String>,
    /// What a site of `embed_origins` may show, by origin: listing a site trusts every page of it
    /// with every lookup (docs/embedding.md); a site given limits here gets only those.
    #[serde(default)]
    pub embed_limits: BTreeMap<String, EmbedLimits>,
    /// Where the lot genealogy walk reads consumption records; absent = no genealogy page.
    #[serde(default)]
    pub genealogy: Option<crate::genealogy::GenealogyDefinition>,
    /// Cells that lead to another lookup: a column's value becomes that lookup's question.
    #[serde(default)]
    pub links: Vec<LinkDefinition>,
    /// config.json as read: the sections only some parts use (`scan`, `station`) are read from
    /// it by those parts ([`PortalConfig::scan`], [`PortalConfig::station`]), so their readers
    /// are not in the first load.
    #[serde(skip)]
    source: String,
}

/// Where [`PortalConfig::scan`] finds its section.
#[derive(Deserialize)]
struct ScanSection {
    #[serde(default)]
    scan: Option<crate::scan::ScanSettings>,
}

/// Where [`PortalConfig::station`] finds its section.
#[derive(Deserialize)]
struct StationSection {
    #[serde(default)]
    station: Option<StationSettings>,
}

/// config.json's `station`: a shared terminal signs its person out after `idle_seconds` without
/// use, warning `warning_seconds` before with a countdown and an "I'm still here" button.
/// `stations` names the terminals: one opened at `?station=NAME` keeps that name in its
/// address through every sign-out and sign-in ("Next user"), and its lookups are asked for
/// its line or entity.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationSettings {
    /// Seconds without a key, a tap, a click or a scroll in any of the portal's tabs before the
    /// sign-out (default 300: AVEVA's own products sign out after 5 minutes).
    #[serde(default = "default_idle")]
    pub idle_seconds: u32,
    /// How long before the sign-out the countdown shows (default 60).
    #[serde(default = "default_warning")]
    pub warning_seconds: u32,
    /// The named terminals.
    #[serde(default)]
    pub stations: Vec<Station>,
}

/// A named terminal: `?station=NAME` in its address (its bookmark or kiosk start page).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Station {
    /// As the address names it (letters, digits, `-`, `_`, `.`; case-insensitive).
    pub name: String,
    /// What the header calls it ("Packaging Line 1"); the name if absent.
    #[serde(default)]
    pub title: Option<String>,
    /// Question parameters this terminal asks with (`{"ent_id": "33"}`): each lookup with a
    /// parameter of that name has it as its default, so its grid opens filtered to the
    /// station's line or entity (the person may still change it).
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

impl StationSettings {
    /// After `idle_ms` milliseconds without use: the whole seconds left before the sign-out
    /// (0 or less: now), and whether the countdown shows.
    pub fn countdown(&self, idle_ms: f64) -> (i64, bool) {
        let left = i64::from(self.idle_seconds) - (idle_ms / 1000.0) as i64;
        (left, left <= i64::from(self.warning_seconds))
    }

    /// The station of that name (case-insensitive).
    pub fn station(&self, name: &str) -> Option<&Station> {
        self.stations.iter().find(|s| s.name.eq_ignore_ascii_case(name))
    }
}

impl Station {
    /// What the header calls it.
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }

    /// `lookups` as this station asks them: a parameter named as one of the station's
    /// (case-insensitive) has the station's value as its default.
    pub fn preset(&self, lookups: &mut [LookupDefinition]) {
        for parameter in lookups.iter_mut().flat_map(|l| l.parameters.iter_mut()) {
            if let Some((_, value)) = self
                .parameters
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&parameter.name))
            {
                parameter.default = Some(value.clone());
            }
        }
    }
}

/// A station's name as an address may carry it: 1 to 64 of letters, digits, `-`, `_`, `.`.
pub fn is_station_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn default_idle() -> u32 {
    300
}
fn default_warning() -> u32 {
    60
}

/// A relation between lookups: a cell of `column` (in any lookup) opens `lookup` with its
/// parameter `parameter` set to the cell's value (`lot_no` → Lots, `wo_id` → Work orders).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LinkDefinition {
    /// The column whose cells link (MES names are case-insensitive).
    pub column: String,
    /// The name of the lookup it opens.
    pub lookup: String,
    /// That lookup's parameter the value goes into.
    pub parameter: String,
}

/// The lookups and selection modes one embedding site may use (absent = no limit of that kind).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedLimits {
    /// The names of the lookups it may show.
    #[serde(default)]
    pub lookups: Option<Vec<String>>,
    /// The selection modes it may ask for.
    #[serde(default)]
    pub selection: Option<Vec<SelectionMode>>,
}

/// The translations the portal ships (English is built in).
pub const SHIPPED_TRANSLATIONS: &[&str] = &["de"];

/// A language tag as BCP 47 writes one: ASCII letters, digits and hyphens, starting with a
/// 2–3 letter language. Enough to refuse anything that is not a tag (a path, a URL, markup).
pub fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language = parts.next().unwrap_or_default();
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_alphabetic())
        && tag.len() <= 35
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Where the configuration is used: a browser must never hold a client secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// In a web page.
    Browser,
    /// A native program (services, the CLI).
    Native,
}

/// One thing wrong with a configuration, or one thing fixed in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Where: e.g. `web_apis[0].base_address`.
    pub field: String,
    /// What, in plain words.
    pub message: String,
}

/// Problems that stop the configuration from being used, and warnings about what was fixed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigReport {
    /// Each must be fixed before the portal can run.
    pub errors: Vec<ConfigIssue>,
    /// Fixed automatically; the person should fix the file.
    pub warnings: Vec<ConfigIssue>,
}

impl PortalConfig {
    /// Parses and validates `config.json`. On success returns the normalised configuration and
    /// its warnings; on failure every problem found, not only the first.
    pub fn from_json(text: &str, runtime: Runtime) -> Result<(Self, ConfigReport), ConfigReport> {
        let mut config: Self = serde_json::from_str(text).map_err(|e| ConfigReport {
            errors: vec![ConfigIssue {
                field: "config.json".into(),
                message: format!("is not valid configuration: {}", json_error_without_values(&e)),
            }],
            warnings: vec![],
        })?;
        config.source = text.to_owned();
        let report = config.validate(runtime);
        if report.errors.is_empty() {
            Ok((config, report))
        } else {
            Err(report)
        }
    }

    /// Fetches `config.json` from `url` (absolute; the portal's own origin) through `transport`
    /// and reads it as [`PortalConfig::from_json`] does. An answer that cannot be had or read is
    /// one problem on the field `config.json`, saying why.
    pub async fn load(
        transport: &impl crate::Transport,
        url: &str,
        runtime: Runtime,
    ) -> Result<(Self, ConfigReport), ConfigReport> {
        let text = get_text(transport, url).await.map_err(|e| ConfigReport {
            errors: vec![ConfigIssue {
                field: "config.json".into(),
                message: e.to_string(),
            }],
            warnings: vec![],
        })?;
        Self::from_json(&text, runtime)
    }

    /// Whether a page that said hello from `origin` may show lookups in a frame: it is one of
    /// `embed_origins` (exactly: origins are compared as browsers write them), and so is the
    /// framing origin the browser reports (`location.ancestorOrigins`), when it reports one.
    pub fn may_frame(&self, origin: &str, ancestor: Option<&str>) -> bool {
        self.embed_origins.iter().any(|a| a == origin) && ancestor.is_none_or(|a| a == origin)
    }

    /// Whether the framing page of `origin` (already allowed by [`Self::may_frame`]) may show
    /// `lookup` with `selection` (the lookup's own mode when the page asks for none), under
    /// `embed_limits`.
    pub fn may_show(&self, origin: &str, lookup: &str, selection: Option<SelectionMode>) -> bool {
        let Some(limits) = self.embed_limits.get(origin) else {
            return true;
        };
        let Some(definition) = self.lookups.iter().find(|l| l.name == lookup) else {
            // Not a lookup: the grid says so itself.
            return true;
        };
        let mode = selection.unwrap_or(definition.selection);
        limits
            .lookups
            .as_ref()
            .is_none_or(|names| names.contains(&definition.name))
            && limits
                .selection
                .as_ref()
                .is_none_or(|modes| modes.contains(&mode))
    }

    /// The translations that may be loaded: `translations` from config.json, or the shipped ones.
    pub fn translations(&self) -> Vec<String> {
        self.translations
            .clone()
            .unwrap_or_else(|| SHIPPED_TRANSLATIONS.iter().map(|&t| t.to_owned()).collect())
    }

    /// config.json's `station`, read and checked: `None` when absent (station mode off).
    pub fn station(&self) -> Result<Option<StationSettings>, Vec<ConfigIssue>> {
        let Some(settings) = self.section::<StationSection>("station")?.station else {
            return Ok(None);
        };
        let mut report = ConfigReport::default();
        for (i, station) in settings.stations.iter().enumerate() {
            let field = format!("station.stations[{i}]");
            if !is_station_name(&station.name) {
                report.error(
                    &format!("{field}.name"),
                    "must be 1 to 64 letters, digits, '-', '_' or '.'",
                );
            } else if settings.stations[..i]
                .iter()
                .any(|s| s.name.eq_ignore_ascii_case(&station.name))
            {
                report.error(&format!("{field}.name"), "names another station too");
            }
            for name in station.parameters.keys() {
                let asked = self
                    .lookups
                    .iter()
                    .flat_map(|l| &l.parameters)
                    .any(|p| p.name.eq_ignore_ascii_case(name));
                if !asked {
                    report.error(
                        &format!("{field}.parameters.{name}"),
                        "is a parameter of no lookup",
                    );
                }
            }
        }
        if !(5..=86_400).contains(&settings.idle_seconds) {
            report.error("station.idle_seconds", "must be 5 to 86400");
        } else if settings.warning_seconds == 0 || settings.warning_seconds >= settings.idle_seconds {
            report.error(
                "station.warning_seconds",
                "must be more than 0 and less than idle_seconds",
            );
        }
        report.into_result(settings)
    }

    /// config.json's `scan`, read and checked: `None` when absent; every problem otherwise
    /// (settings that would take typing for scans, an Application Identifier this portal does not
    /// read, a target naming no lookup).
    pub fn scan(&self) -> Result<Option<crate::scan::ScanSettings>, Vec<ConfigIssue>> {
        let Some(settings) = self.section::<ScanSection>("scan")?.scan else {
            return Ok(None);
        };
        let mut report = ConfigReport::default();
        for (field, message) in settings.problems() {
            report.error(&field, &message);
        }
        for (i, target) in settings.targets.iter().enumerate() {
            report.lookup_named(
                &self.lookups,
                &format!("scan.targets[{i}].lookup"),
                &target.lookup,
            );
        }
        report.into_result(settings)
    }

    /// A section read from config.json's kept text; a parse error is said under `field`.
    fn section<T: serde::de::DeserializeOwned>(&self, field: &str) -> Result<T, Vec<ConfigIssue>> {
        serde_json::from_str(&self.source).map_err(|e| {
            let mut report = ConfigReport::default();
            report.error(field, &format!("is not valid: {}", json_error_without_values(&e)));
            report.errors
        })
    }

    /// Checks every field, fixing what can safely be fixed (a base address's trailing slash).
    pub fn validate(&mut self, runtime: Runtime) -> ConfigReport {
        let mut report = ConfigReport::default();
        let c = &self.client;
        check_url(&mut report, "client.authority", &c.authority);
        check_url(&mut report, "client.redirect_uri", &c.redirect_uri);
        if let Some(uri) = &c.post_logout_redirect_uri {
            check_url(&mut report, "client.post_logout_redirect_uri", uri);
        }
        if c.client_id.as_str().trim().is_empty() {
            report.error("client.client_id", "is empty");
        }
        if !c.scopes.iter().any(|s| s == "openid") {
            report.error("client.scopes", "must include \"openid\"");
        }
        if let Some(tag) = self.language.as_deref().filter(|t| !is_language_tag(t)) {
            report.error(
                "language",
                &format!("\"{tag}\" is not a language tag (e.g. \"de\" or \"de-CH\")"),
            );
        }
        for (i, tag) in self.translations.iter().flatten().enumerate() {
            if !(2..=3).contains(&tag.len()) || !tag.bytes().all(|b| b.is_ascii_lowercase()) {
                report.error(
                    &format!("translations[{i}]"),
                    &format!("\"{tag}\" is not a language (two or three lowercase letters, e.g. \"de\")"),
                );
            }
        }
        for (origin, limits) in &self.embed_limits {
            let field = format!("embed_limits.{origin}");
            if !self.embed_origins.iter().any(|o| o == origin) {
                report.error(&field, "limits a site that embed_origins does not list");
            }
            for name in limits.lookups.iter().flatten() {
                report.lookup_named(&self.lookups, &format!("{field}.lookups"), name);
            }
        }
        for (i, origin) in self.embed_origins.iter().enumerate() {
            let field = format!("embed_origins[{i}]");
            if check_url(&mut report, &field, origin) && !is_serialized_origin(origin) {
                report.error(
                    &field,
                    &format!(
                        "\"{origin}\" is not an origin as browsers write it: scheme://host[:port], lowercase, no path or trailing slash"
                    ),
                );
            }
        }
        let names = validate_web_apis(&mut self.web_apis, runtime, &mut report);
        // The person's token is issued by the portal's authority: a User Access Token definition
        // naming another authority would send it to an API that trusts someone else.
        for (i, api) in self.web_apis.iter().enumerate() {
            if api.authentication_mode == AuthenticationMode::UserAccessToken
                && api.authority.trim_end_matches('/') != self.client.authority.trim_end_matches('/')
            {
                report.error(
                    &format!("web_apis[{i}].authority"),
                    &format!(
                        "\"{}\" is not the portal's authority (client.authority, \"{}\"): a User Access Token Web API gets the signed-in person's token, which only that authority issues",
                        api.authority, self.client.authority
                    ),
                );
            }
        }
        validate_lookups(&self.lookups, &names, &mut report);
        for (i, link) in self.links.iter().enumerate() {
            let target = report.lookup_named(&self.lookups, &format!("links[{i}].lookup"), &link.lookup);
            if target.is_some_and(|t| {
                !t.parameters
                    .iter()
                    .any(|p| p.value_names().any(|n| n == link.parameter))
            }) {
                report.error(
                    &format!("links[{i}].parameter"),
                    &format!(
                        "\"{}\" is not a parameter of the lookup \"{}\"",
                        link.parameter, link.lookup
                    ),
                );
            }
        }
        // In the browser the parts that scan read `scan` and say its problems (its reader
        // would weigh on the first load); natively (the site doctor, services) it is checked here.
        #[cfg(not(target_arch = "wasm32"))]
        {
            if let Err(issues) = self.scan() {
                report.errors.extend(issues);
            }
            if let Err(issues) = self.station() {
                report.errors.extend(issues);
            }
        }
        if let Some(genealogy) = &self.genealogy {
            if !names.contains(&genealogy.web_api.to_ascii_lowercase()) {
                report.error(
                    "genealogy.web_api",
                    &format!(
                        "names \"{}\", which is not a Web API definition",
                        genealogy.web_api
                    ),
                );
            }
            if genealogy.endpoint.trim_matches('/').is_empty() {
                report.error("genealogy.endpoint", "is empty");
            }
        }
        report
    }

    /// The Web API definition of that name (MES names are case-insensitive).
    pub fn web_api(&self, name: &str) -> Option<&WebApiDefinition> {
        find_web_api(&self.web_apis, name)
    }

    /// What a connection test of `api` asks, as `(endpoint, query)`: the first lookup of it whose
    /// question its defaults answer (its fixed and default parameters, as the grid would send
    /// them), else the first lookup of it with its fixed parameters (the MES then says what the
    /// question lacks), else `v3/entity`.
    pub fn probe(&self, api: &WebApiDefinition) -> (String, Vec<(String, String)>) {
        let ours = || {
            self.lookups
                .iter()
                .filter(|l| l.web_api.eq_ignore_ascii_case(&api.name))
        };
        ours()
            .find_map(|l| Some((l.endpoint.clone(), l.query(&Answers::new()).ok()?)))
            .or_else(|| {
                let first = ours().next()?;
                Some((first.endpoint.clone(), first.params.clone().into_iter().collect()))
            })
            .unwrap_or_else(|| ("v3/entity".into(), Vec::new()))
    }
}

/// Each lookup names a Web API definition of `names` (lowercase) and an endpoint; its question
/// and row limit can work.
fn validate_lookups(lookups: &[LookupDefinition], names: &[String], report: &mut ConfigReport) {
    for (i, lookup) in lookups.iter().enumerate() {
        if !names.contains(&lookup.web_api.to_ascii_lowercase()) {
            report.error(
                &format!("lookups[{i}].web_api"),
                &format!("names \"{}\", which is not a Web API definition", lookup.web_api),
            );
        }
        if lookup.endpoint.trim_matches('/').is_empty() {
            report.error(&format!("lookups[{i}].endpoint"), "is empty");
        }
        for (field, message) in crate::ask::declaration_problems(&lookup.parameters, &lookup.params) {
            report.error(&format!("lookups[{i}].{field}"), &message);
        }
        for (j, param) in lookup.parameters.iter().enumerate() {
            if let Some(from) = &param.choices_from {
                let field = format!("lookups[{i}].parameters[{j}].choices_from.lookup");
                report.lookup_named(lookups, &field, &from.lookup);
            }
        }
        if let Some(record) = &lookup.record {
            if record.endpoint.trim_matches('/').is_empty() {
                report.error(&format!("lookups[{i}].record.endpoint"), "is empty");
            }
            if record.key.is_empty() || record.key.iter().any(|c| c.trim().is_empty()) {
                report.error(&format!("lookups[{i}].record.key"), "names no column");
            }
        }
        if lookup.max_rows.is_some_and(|n| n == 0 || n > MAX_ROWS_CEILING) {
            report.warning(
                &format!("lookups[{i}].max_rows"),
                &format!("is kept between 1 and {MAX_ROWS_CEILING}"),
            );
        }
    }
}

fn find_web_api<'a>(apis: &'a [WebApiDefinition], name: &str) -> Option<&'a WebApiDefinition> {
    apis.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// `https://host[:port]` exactly as `MessageEvent.origin` and `frame-ancestors` write one: so
/// that comparing strings is comparing origins.
fn is_serialized_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return false,
    };
    !rest.is_empty()
        && !rest.ends_with(default_port)
        && rest.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
        })
}

/// Why a file served beside the portal (config.json, a translation) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServedFileError {
    /// No answer.
    #[error("could not be loaded from this server ({0})")]
    Unreachable(String),
    /// An answer other than 200.
    #[error("could not be loaded: the server answered HTTP {0}")]
    Status(u16),
    /// Not UTF-8.
    #[error("is not UTF-8 text")]
    NotText,
}

/// GETs a file served beside the portal (`url` absolute: the portal's own origin) as text.
pub async fn get_text(transport: &impl crate::Transport, url: &str) -> Result<String, ServedFileError> {
    let response = transport
        .send(crate::transport::get_json(url))
        .await
        .map_err(|e| ServedFileError::Unreachable(e.reason))?;
    if response.status() != 200 {
        return Err(ServedFileError::Status(response.status().as_u16()));
    }
    String::from_utf8(response.body().to_vec()).map_err(|_| ServedFileError::NotText)
}

/// Web API definitions for native programs (services, `mes-lookup`): a file with `web_apis`,
/// and optionally `lookups` as config.json declares them (`mes-lookup --lookup NAME`).
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceConfig {
    /// Web API definitions; service-to-service ones carry their client secret.
    pub web_apis: Vec<WebApiDefinition>,
    /// Lookups, with their questions and row limits.
    #[serde(default)]
    pub lookups: Vec<LookupDefinition>,
}

impl ServiceConfig {
    /// Parses and validates (native rules: a secret is required for service-to-service).
    pub fn from_json(text: &str) -> Result<(Self, ConfigReport), ConfigReport> {
        let mut config: Self = serde_json::from_str(text).map_err(|e| ConfigReport {
            errors: vec![ConfigIssue {
                field: "configuration".into(),
                message: format!("is not valid: {}", json_error_without_values(&e)),
            }],
            warnings: vec![],
        })?;
        let mut report = ConfigReport::default();
        let names = validate_web_apis(&mut config.web_apis, Runtime::Native, &mut report);
        validate_lookups(&config.lookups, &names, &mut report);
        if report.errors.is_empty() {
            Ok((config, report))
        } else {
            Err(report)
        }
    }

    /// The Web API definition of that name (case-insensitive).
    pub fn web_api(&self, name: &str) -> Option<&WebApiDefinition> {
        find_web_api(&self.web_apis, name)
    }
}

/// Checks Web API definitions, fixing trailing slashes; returns their lowercased names.
fn validate_web_apis(
    apis: &mut [WebApiDefinition],
    runtime: Runtime,
    report: &mut ConfigReport,
) -> Vec<String> {
    let mut names = Vec::new();
    for (i, api) in apis.iter_mut().enumerate() {
        let at = |f: &str| format!("web_apis[{i}].{f}");
        if api.name.trim().is_empty() {
            report.error(&at("name"), "is empty");
        } else if names.contains(&api.name.to_ascii_lowercase()) {
            report.error(
                &at("name"),
                &format!("\"{}\" is used by another definition", api.name),
            );
        }
        names.push(api.name.to_ascii_lowercase());
        if check_url(report, &at("base_address"), &api.base_address) && !api.base_address.ends_with('/') {
            api.base_address.push('/');
            report.warning(
                &at("base_address"),
                &format!("had no trailing slash; using {}", api.base_address),
            );
        }
        check_url(report, &at("authority"), &api.authority);
        if api.request_uri.trim().is_empty() {
            report.error(&at("request_uri"), "is empty (the MES Web API uses \"api\")");
        }
        api.request_uri = api.request_uri.trim_matches('/').to_owned();
        match (runtime, api.authentication_mode, &api.client_secret) {
                (Runtime::Browser, _, Some(_)) => report.error(
                    &at("client_secret"),
                    "must not be in a browser configuration: anyone can read it. Remove it; service-to-service tokens are for native background jobs",
                ),
                (Runtime::Native, AuthenticationMode::ServiceToServiceAccessToken, None) => {
                    report.error(&at("client_secret"), "is required for a Service to Service Access Token")
                }
                _ => {}
            }
    }
    names
}

impl ConfigReport {
    /// The lookup named `name`, which `field` names; an error when `lookups` has none.
    fn lookup_named<'a>(
        &mut self,
        lookups: &'a [LookupDefinition],
        field: &str,
        name: &str,
    ) -> Option<&'a LookupDefinition> {
        let found = lookups.iter().find(|l| l.name == name);
        if found.is_none() {
            self.error(field, &format!("names \"{name}\", which is not a lookup"));
        }
        found
    }

    /// `value` when nothing is wrong, else the errors.
    fn into_result<T>(self, value: T) -> Result<Option<T>, Vec<ConfigIssue>> {
        if self.errors.is_empty() {
            Ok(Some(value))
        } else {
            Err(self.errors)
        }
    }

    fn error(&mut self, field: &str, message: &str) {
        self.errors.push(ConfigIssue {
            field: field.to_owned(),
            message: message.to_owned(),
        });
    }
    fn warning(&mut self, field: &str, message: &str) {
        self.warnings.push(ConfigIssue {
            field: field.to_owned(),
            message: message.to_owned(),
        });
    }
}

/// serde_json's description of a parse error without the values it quotes (a mistyped
/// `client_secret` would otherwise be printed): what was wrong and where, and what was expected.
fn json_error_without_values(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let (found, rest) = text.split_once(", expected").unwrap_or((&text, ""));
    let mut kept = String::new();
    let mut quote = None;
    for c in found.chars() {
        match (quote, c) {
            (None, '`' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, c) => kept.push(c),
        }
    }
    let kept = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    if rest.is_empty() {
        kept
    } else {
        format!("{kept}, expected{rest}")
    }
}

/// Parses `value` as an absolute URL that is https, or http on loopback only. Returns whether it
/// is usable.
fn check_url(report: &mut ConfigReport, field: &str, value: &str) -> bool {
    match AbsoluteUrl::parse(value) {
        Err(e) => {
            report.error(field, &format!("\"{value}\" is not an absolute URL ({e})"));
            false
        }
        Ok(url) if url.is_secure_or_loopback() => true,
        Ok(url) if url.scheme() == "http" => {
            report.error(
                field,
                &format!("\"{value}\" uses http; only https is allowed outside this machine (loopback)"),
            );
            false
        }
        Ok(url) => {
            report.error(
                field,
                &format!("\"{value}\" has scheme \"{}\"; use https", url.scheme()),
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(base: &str, secret: &str) -> String {
        format!(
            r#"{{"client":{{"authority":"http://127.0.0.1:1/identitymanager","client_id":"mes-portal",
            "redirect_uri":"http://127.0.0.1:2/","scopes":["openid","profile"]}},
            "web_apis":[{{"name":"MES","base_address":"{base}","request_uri":"api",
            "authentication_mode":"User Access Token","authority":"http://127.0.0.1:1/identitymanager",
            "audience":"mes-web-api","client_id":"mes-portal","scope":"mes-web-api"{secret}}}],
            "lookups":[{{"name":"Entities","web_api":"mes","endpoint":"v3/entity"}}]}}"#
        )
    }

    /// [`sample`] with `lookups` (one or more, comma-separated) in place of its one lookup.
    fn with_lookups(lookups: &str) -> String {
        sample("http://127.0.0.1:3/mesmw/", "").replace(
            r#"{"name":"Entities","web_api":"mes","endpoint":"v3/entity"}"#,
            lookups,
        )
    }

    /// `scan` is checked at start like the rest: targets must name lookups, the settings must
    /// not take typing for scans; a good section is kept whole.
    #[test]
    fn scan_settings_name_lookups_and_keep_typing_typing() {
        let with = |scan: &str| {
            sample("http://127.0.0.1:3/mesmw/", "").replacen("{", &format!(r#"{{"scan":{scan},"#), 1)
        };
        let (config, _) = PortalConfig::from_json(
            &with(r#"{"prefix":"]]","targets":[{"ai":"10","lookup":"Entities","column":"ent_name"}]}"#),
            Runtime::Browser,
        )
        .expect("valid");
        let scan = config.scan().expect("valid").expect("kept");
        assert_eq!(
            (scan.prefix.as_str(), scan.targets[0].column.as_str()),
            ("]]", "ent_name")
        );
        let report = PortalConfig::from_json(
            &with(r#"{"key_gap_ms":400,"targets":[{"lookup":"Lots","column":"lot_no"}]}"#),
            Runtime::Browser,
        )
        .expect_err("refused");
        let fields: Vec<&str> = report.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["scan.key_gap_ms", "scan.targets[0].lookup"]);
        let report = PortalConfig::from_json(&with(r#"{"targets":[],"sufix":""}"#), Runtime::Native)
            .expect_err("an unknown field");
        assert_eq!(report.errors[0].field, "scan");
    }

    /// `station` is off when absent, five minutes with a minute's warning by default, and a
    /// warning as long as the limit (or longer) is refused.
    #[test]
    fn station_settings_default_to_five_minutes_and_refuse_a_warning_past_the_limit() {
        let with = |station: &str| {
            sample("http://127.0.0.1:3/mesmw/", "").replacen("{", &format!(r#"{{"station":{station},"#), 1)
        };
        let (plain, _) = PortalConfig::from_json(&sample("http://127.0.0.1:3/mesmw/", ""), Runtime::Native)
            .expect("valid");
        assert_eq!(plain.station(), Ok(None));
        let (config, _) = PortalConfig::from_json(&with("{}"), Runtime::Native).expect("valid");
        assert_eq!(
            config.station(),
            Ok(Some(StationSettings {
                idle_seconds: 300,
                warning_seconds: 60,
                stations: vec![],
            }))
        );
        let s = config.station().expect("valid").expect("on");
        assert_eq!(s.countdown(0.0), (300, false));
        assert_eq!(s.countdown(239_500.0), (61, false));
        assert_eq!(
            s.countdown(240_000.0),
            (60, true),
            "the countdown starts at the warning"
        );
        assert_eq!(s.countdown(299_999.0), (1, true));
        assert_eq!(s.countdown(300_000.0), (0, true), "and ends at the limit");
        for (station, field) in [
            (
                r#"{"idle_seconds":60,"warning_seconds":60}"#,
                "station.warning_seconds",
            ),
            (r#"{"idle_seconds":2}"#, "station.idle_seconds"),
            (r#"{"idle_minutes":5}"#, "station"),
            (r#"{"stations":[{"name":"line 1"}]}"#, "station.stations[0].name"),
            (
                r#"{"stations":[{"name":"L1"},{"name":"l1"}]}"#,
                "station.stations[1].name",
            ),
            (
                r#"{"stations":[{"name":"L1","parameters":{"line":"3"}}]}"#,
                "station.stations[0].parameters.line",
            ),
        ] {
            let report = PortalConfig::from_json(&with(station), Runtime::Native).expect_err(station);
            assert_eq!(report.errors[0].field, field, "{station}");
        }
    }

    /// A named station is found by its address's name in any case, and sets the default of each
    /// lookup parameter it names, in any case, leaving the others.
    #[test]
    fn a_station_presets_the_parameters_it_names() {
        let settings: StationSettings = serde_json::from_str(
            r#"{"stations":[{"name":"PACK-1","title":"Packaging Line 1","parameters":{"ENT_ID":"33"}},{"name":"mix"}]}"#,
        )
        .expect("settings");
        let station = settings.station("pack-1").expect("found in any case");
        assert_eq!(
            (station.title(), settings.station("mix").map(Station::title)),
            ("Packaging Line 1", Some("mix"))
        );
        assert!(settings.station("PACK-2").is_none());
        let mut lookups: Vec<LookupDefinition> = serde_json::from_str(
            r#"[{"name":"Job queue","web_api":"MES","endpoint":"v3/job","parameters":[{"name":"ent_id","default":"1"},{"name":"wo_id"}]}]"#,
        )
        .expect("lookups");
        station.preset(&mut lookups);
        let defaults: Vec<_> = lookups[0]
            .parameters
            .iter()
            .map(|p| p.default.as_deref())
            .collect();
        assert_eq!(defaults, [Some("33"), None]);
    }

    /// Review E9: a site of `embed_origins` given limits may show only those lookups, in those
    /// selection modes; others keep the whole grant; limits must name listed sites and lookups.
    #[test]
    fn embed_limits_narrow_what_a_listed_site_may_show() {
        let with = |limits: &str| {
            sample("http://127.0.0.1:3/mesmw/", "").replacen(
                "{",
                &format!(r#"{{"embed_origins":["https://kiosk.plant.example","https://intranet.plant.example"],"embed_limits":{limits},"#),
                1,
            )
        };
        let (config, _) = PortalConfig::from_json(
            &with(r#"{"https://kiosk.plant.example":{"lookups":["Entities"],"selection":["single"]}}"#),
            Runtime::Browser,
        )
        .expect("valid");
        let kiosk = "https://kiosk.plant.example";
        assert!(config.may_show(kiosk, "Entities", None));
        assert!(config.may_show(kiosk, "Entities", Some(SelectionMode::Single)));
        assert!(!config.may_show(kiosk, "Entities", Some(SelectionMode::Multi)));
        let mut more = config.clone();
        more.lookups.push(LookupDefinition {
            name: "Users".into(),
            ..more.lookups[0].clone()
        });
        assert!(
            !more.may_show(kiosk, "Users", None),
            "a lookup the limits do not name"
        );
        assert!(more.may_show(
            "https://intranet.plant.example",
            "Users",
            Some(SelectionMode::Multi)
        ));
        for (limits, field) in [
            (
                r#"{"https://stranger.example":{}}"#,
                "embed_limits.https://stranger.example",
            ),
            (
                r#"{"https://kiosk.plant.example":{"lookups":["Nope"]}}"#,
                "embed_limits.https://kiosk.plant.example.lookups",
            ),
        ] {
            let report = PortalConfig::from_json(&with(limits), Runtime::Browser).expect_err(limits);
            assert!(
                report.errors.iter().any(|e| e.field == field),
                "{limits}: {report:?}"
            );
        }
        assert!(
            PortalConfig::from_json(
                &with(r#"{"https://kiosk.plant.example":{"selection":["all"]}}"#),
                Runtime::Browser
            )
            .is_err()
        );
    }

    /// Review E5: a User Access Token Web API on another authority would get the person's token.
    #[test]
    fn a_user_token_web_api_must_name_the_portals_authority() {
        let elsewhere = sample("http://127.0.0.1:3/mesmw/", "").replacen(
            r#""authentication_mode":"User Access Token","authority":"http://127.0.0.1:1/identitymanager""#,
            r#""authentication_mode":"User Access Token","authority":"http://127.0.0.1:9/other""#,
            1,
        );
        let report = PortalConfig::from_json(&elsewhere, Runtime::Browser).expect_err("another authority");
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.field == "web_apis[0].authority" && e.message.contains("portal's authority")),
            "{report:?}"
        );
        let slash = sample("http://127.0.0.1:3/mesmw/", "").replacen(
            r#""authority":"http://127.0.0.1:1/identitymanager","audience""#,
            r#""authority":"http://127.0.0.1:1/identitymanager/","audience""#,
            1,
        );
        assert!(
            PortalConfig::from_json(&slash, Runtime::Browser).is_ok(),
            "a trailing slash is the same authority"
        );
    }

    /// Review E11: a parse error says what and where, never the value (a mistyped secret).
    #[test]
    fn a_parse_error_never_quotes_a_value() {
        for secret in [r#"12345678901"#, r#"["s3cret-value"]"#, r#"{"s3cret-value":1}"#] {
            let text = format!(
                r#"{{"web_apis":[{{"name":"MES jobs","base_address":"https://mes/","request_uri":"api",
                "authentication_mode":"Service to Service Access Token","authority":"https://aim",
                "client_id":"jobs","client_secret":{secret}}}]}}"#
            );
            let report = ServiceConfig::from_json(&text).expect_err(secret);
            let said = format!("{report:?}");
            assert!(
                !said.contains("12345678901") && !said.contains("s3cret"),
                "{secret}: {said}"
            );
        }
        let mode = sample("http://127.0.0.1:3/mesmw/", "").replace("User Access Token", "User Acces Token");
        let said = format!(
            "{:?}",
            PortalConfig::from_json(&mode, Runtime::Browser).expect_err("mode")
        );
        assert!(
            said.contains("unknown variant") && said.contains("expected one of") && said.contains("line"),
            "still says what is wrong and where: {said}"
        );
    }

    #[test]
    fn loading_says_why_a_config_could_not_be_had() {
        use crate::transport::testing::Canned;
        use crate::transport::{HttpResponse, TransportError, TransportErrorKind};
        let load = |answer: Result<HttpResponse, TransportError>| {
            let transport = Canned::new(answer);
            let outcome = crate::transport::testing::run_now(PortalConfig::load(
                &transport,
                "https://portal/config.json",
                Runtime::Browser,
            ));
            (
                transport.sent(),
                outcome
                    .map(|_| ())
                    .map_err(|r| r.errors.into_iter().map(|e| e.message).collect::<Vec<_>>()),
            )
        };
        let (sent, outcome) = load(Ok(HttpResponse::new(
            200,
            sample("http://127.0.0.1:3/mesmw/", ""),
        )));
        assert_eq!((sent[0].url(), outcome), ("https://portal/config.json", Ok(())));
        let (_, outcome) = load(Ok(HttpResponse::new(404, "<h1>Not Found</h1>")));
        assert_eq!(
            outcome,
            Err(vec![
                "could not be loaded: the server answered HTTP 404".to_owned()
            ])
        );
        let (_, outcome) = load(Ok(HttpResponse::new(200, "<html>")));
        assert!(
            matches!(&outcome, Err(e) if e[0].starts_with("is not valid configuration")),
            "{outcome:?}"
        );
        let down = TransportError {
            url: "https://portal/config.json".into(),
            reason: "refused".into(),
            kind: TransportErrorKind::Network,
        };
        let (_, outcome) = load(Err(down));
        assert_eq!(
            outcome,
            Err(vec!["could not be loaded from this server (refused)".to_owned()])
        );
    }

    #[test]
    fn language_and_translations_are_tags_never_paths() {
        for good in ["de", "en", "de-CH", "zh-Hant-TW", "sr-Latn", "gsw"] {
            assert!(is_language_tag(good), "{good}");
        }
        for bad in [
            "",
            "d",
            "deutsch",
            "de_CH",
            "../de",
            "de/..",
            "de-",
            "<b>",
            "de-CH-toolongsubtag",
            "1e",
        ] {
            assert!(!is_language_tag(bad), "{bad}");
        }
        let with = |extra: &str| {
            let text = sample("http://127.0.0.1:3/mesmw/", "").replacen("{", &format!("{{{extra},"), 1);
            PortalConfig::from_json(&text, Runtime::Browser)
                .map(|(c, _)| c)
                .map_err(|r| r.errors)
        };
        let config = with(r#""language":"de-CH","translations":["de","fr"]"#).expect("valid");
        assert_eq!(
            (config.language.as_deref(), config.translations()),
            (Some("de-CH"), vec!["de".to_owned(), "fr".to_owned()])
        );
        assert_eq!(
            with(r#""language":null"#).expect("valid").translations(),
            ["de"],
            "the shipped ones by default"
        );
        let errors =
            with(r#""language":"../../x","translations":["de","../config","DE"]"#).expect_err("refused");
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["language", "translations[1]", "translations[2]"]);
    }

    #[test]
    fn embed_origins_are_origins_as_browsers_write_them() {
        let with = |origins: &str| {
            let text = sample("http://127.0.0.1:3/mesmw/", "").replacen(
                "{",
                &format!("{{\"embed_origins\":{origins},"),
                1,
            );
            PortalConfig::from_json(&text, Runtime::Browser)
                .map(|(c, _)| c.embed_origins)
                .map_err(|r| r.errors)
        };
        let good =
            r#"["https://intranet.plant.example","https://hmi.plant.example:8443","http://127.0.0.1:8083"]"#;
        assert_eq!(with(good).expect("valid").len(), 3);
        for bad in [
            "https://intranet.plant.example/",
            "https://Intranet.plant.example",
            "https://a.example/page",
            "https://a.example:443",
            "http://intranet.plant.example",
            "*",
            "https://*.plant.example",
            "null",
            "https://a.example?x",
        ] {
            let errors = with(&format!("[\"{bad}\"]")).expect_err(bad);
            assert_eq!(errors[0].field, "embed_origins[0]", "{bad}");
        }
    }

    #[test]
    fn a_selection_mode_is_named_as_config_json_spells_it_and_nothing_else() {
        for name in ["single", "multi"] {
            let from_json: SelectionMode = serde_json::from_str(&format!("\"{name}\"")).expect(name);
            assert_eq!(SelectionMode::from_name(name), Some(from_json));
        }
        for other in ["", "Single", "MULTI", " multi", "many"] {
            assert_eq!(SelectionMode::from_name(other), None, "{other:?}");
        }
    }

    #[test]
    fn only_listed_origins_may_frame_lookups() {
        let text = sample("http://127.0.0.1:3/mesmw/", "").replacen(
            "{",
            r#"{"embed_origins":["https://intranet.plant.example","http://127.0.0.1:8083"],"#,
            1,
        );
        let (config, _) = PortalConfig::from_json(&text, Runtime::Browser).expect("valid");
        assert!(config.may_frame("https://intranet.plant.example", None));
        assert!(config.may_frame("http://127.0.0.1:8083", Some("http://127.0.0.1:8083")));
        assert!(!config.may_frame("https://evil.example", None));
        assert!(
            !config.may_frame("https://intranet.plant.example.evil.example", None),
            "exact, not a prefix"
        );
        assert!(
            !config.may_frame("https://intranet.plant.example", Some("https://evil.example")),
            "the browser's word counts too"
        );
        assert!(!config.may_frame("null", None), "a sandboxed or local file page");
        let (nobody, _) = PortalConfig::from_json(&sample("http://127.0.0.1:3/mesmw/", ""), Runtime::Browser)
            .expect("valid");
        assert!(
            !nobody.may_frame("https://intranet.plant.example", None),
            "nobody, unless listed"
        );
    }

    #[test]
    fn missing_trailing_slash_is_added_and_reported() {
        let (config, report) =
            PortalConfig::from_json(&sample("http://127.0.0.1:3/mesmw", ""), Runtime::Browser)
                .expect("valid");
        assert_eq!(config.web_apis[0].base_address, "http://127.0.0.1:3/mesmw/");
        assert_eq!(report.warnings.len(), 1);
        assert!(report.warnings[0].message.contains("trailing slash"));
    }

    #[test]
    fn client_secret_is_refused_in_the_browser_only() {
        let text = sample("http://127.0.0.1:3/mesmw/", r#","client_secret":"s3cret""#);
        let report = PortalConfig::from_json(&text, Runtime::Browser).expect_err("secret in browser");
        assert_eq!(report.errors[0].field, "web_apis[0].client_secret");
        assert!(PortalConfig::from_json(&text, Runtime::Native).is_ok());
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        let report =
            PortalConfig::from_json(&sample("http://mes.plant.example/mesmw/", ""), Runtime::Browser)
                .expect_err("http");
        assert!(report.errors[0].message.contains("only https"), "{report:?}");
    }

    /// What config.json may leave out: a Web API's `source` ("Generic", as the Enterprise Console
    /// writes it) and the clock skew (a minute), which is kept between 0 and 10 minutes.
    #[test]
    fn left_out_fields_take_their_defaults_and_the_clock_skew_its_bounds() {
        let (config, _) = PortalConfig::from_json(&sample("http://127.0.0.1:3/mesmw/", ""), Runtime::Browser)
            .expect("valid");
        assert_eq!(config.web_apis[0].source, "Generic");
        assert_eq!(config.client.clock_skew(), DEFAULT_CLOCK_SKEW);
        for (said, kept) in [(42, 42), (5000, 600), (-3, 0)] {
            let text = sample("http://127.0.0.1:3/mesmw/", "").replace(
                r#""scopes":["openid","profile"]"#,
                &format!(r#""scopes":["openid","profile"],"clock_skew_seconds":{said}"#),
            );
            let (config, _) = PortalConfig::from_json(&text, Runtime::Browser).expect("valid");
            assert_eq!(config.client.clock_skew(), kept, "{said}");
        }
    }

    /// A background job's configuration: a service-to-service definition needs its secret, and
    /// definitions are found by name whatever its case.
    #[test]
    fn a_service_definition_needs_its_secret_and_is_found_by_name() {
        let api = |secret: &str| {
            format!(
                r#"{{"web_apis":[{{"name":"MES jobs","base_address":"https://mes.plant.example/mesmw/","request_uri":"api",
                "authentication_mode":"Service to Service Access Token","authority":"https://aim.plant.example/identitymanager",
                "client_id":"jobs"{secret}}}]}}"#
            )
        };
        let report = ServiceConfig::from_json(&api("")).expect_err("no secret");
        assert_eq!(report.errors[0].field, "web_apis[0].client_secret");
        assert!(report.errors[0].message.contains("is required"), "{report:?}");
        let (config, _) = ServiceConfig::from_json(&api(r#","client_secret":"s3cret""#)).expect("valid");
        assert_eq!(
            config.web_api("mes JOBS").map(|a| a.client_id.as_str()),
            Some("jobs")
        );
        assert!(config.web_api("MES").is_none());
    }

    /// A parse error keeps its words and where it happened around a value it leaves out.
    #[test]
    fn a_parse_error_keeps_what_comes_after_the_value_it_leaves_out() {
        let text = r#"{"web_apis":[],
            "web_apis":[]}"#;
        let report = ServiceConfig::from_json(text).expect_err("duplicate");
        // The quoted name goes, the words on both sides of it stay, whole.
        assert_eq!(
            report.errors[0].message,
            "is not valid: duplicate field at line 2 column 22"
        );
    }

    /// Only https, or http on loopback; any other scheme is named as such.
    #[test]
    fn another_scheme_is_named_not_taken_for_http() {
        let report = PortalConfig::from_json(&sample("ftp://mes.plant.example/mesmw/", ""), Runtime::Browser)
            .expect_err("ftp");
        let said = &report.errors[0].message;
        assert!(
            said.contains(r#"scheme "ftp""#) && !said.contains("uses http"),
            "{said}"
        );
    }

    #[test]
    fn every_problem_is_listed() {
        let text = r#"{"client":{"authority":"nope","client_id":"","redirect_uri":"ftp://x/","scopes":[]},
            "web_apis":[],"lookups":[{"name":"L","web_api":"missing","endpoint":""}]}"#;
        let report = PortalConfig::from_json(text, Runtime::Browser).expect_err("broken");
        let fields: Vec<_> = report.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "client.authority",
                "client.redirect_uri",
                "client.client_id",
                "client.scopes",
                "lookups[0].web_api",
                "lookups[0].endpoint"
            ]
        );
    }

    #[test]
    fn a_lookups_question_and_row_limit_are_checked_where_config_json_declares_them() {
        let good = with_lookups(
            r#"{"name":"Jobs","web_api":"MES","endpoint":"v3/job/filter","params":{"ent_id":"3"},"max_rows":250,
               "parameters":[{"name":"lastNhrs","kind":"last_hours","default":"8"},{"name":"state","label":"State","kind":"choice","choices":["Running"]},
                             {"name":"from","kind":"date_range","until":"to","odd":"ignored"}]}"#,
        );
        let (config, report) = PortalConfig::from_json(&good, Runtime::Browser).expect("valid");
        assert!(report.warnings.is_empty(), "{report:?}");
        let jobs = &config.lookups[0];
        assert_eq!(jobs.row_limit(), 250);
        assert_eq!(
            jobs.query(&crate::ask::Answers::from([(
                "state".to_owned(),
                "Running".to_owned()
            )])),
            Ok(vec![
                ("ent_id".to_owned(), "3".to_owned()),
                ("lastNhrs".to_owned(), "8".to_owned()),
                ("state".to_owned(), "Running".to_owned())
            ]),
            "fixed parameters first, then the asked ones in declared order, defaults included"
        );
        let bad = with_lookups(
            r#"{"name":"Jobs","web_api":"MES","endpoint":"v3/job/filter","params":{"ent_id":"3"},"max_rows":0,
               "parameters":[{"name":"ent_id"},{"name":"tz_id"},{"name":"when","kind":"date_time","default":"soon"}]}"#,
        );
        let report = PortalConfig::from_json(&bad, Runtime::Browser).expect_err("broken");
        let fields: Vec<&str> = report.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["lookups[0].parameters[0].name", "lookups[0].parameters[1].name",],
            "{report:?}"
        );
        assert_eq!(
            report.warnings.first().map(|w| w.field.as_str()),
            Some("lookups[0].max_rows")
        );
        let unnamed = with_lookups(
            r#"{"name":"Jobs","web_api":"MES","endpoint":"v3/job","parameters":[{"name":"state","kind":"sometimes"}]}"#,
        );
        assert!(
            PortalConfig::from_json(&unnamed, Runtime::Browser).is_err(),
            "an unknown kind is an error, not text"
        );
        let (config, _) = PortalConfig::from_json(
            &with_lookups(r#"{"name":"All","web_api":"MES","endpoint":"v3/lot"}"#),
            Runtime::Browser,
        )
        .expect("valid");
        assert_eq!(config.lookups[0].row_limit(), crate::ask::DEFAULT_MAX_ROWS);
    }

    #[test]
    fn a_lookups_record_is_asked_by_its_key_columns_and_checked() {
        let (config, _) = PortalConfig::from_json(
            &with_lookups(r#"{"name":"Jobs","web_api":"MES","endpoint":"v3/job","record":{"endpoint":"v3/job/key","key":["wo_id","oper_id"]}}"#),
            Runtime::Browser,
        )
        .expect("valid");
        let row = |column: &str| match column {
            "wo_id" => Some("WO 1&2"),
            "oper_id" => Some("10"),
            _ => None,
        };
        assert_eq!(
            config.lookups[0].record_query(row),
            Some(vec![
                ("wo_id".to_owned(), "WO 1&2".to_owned()),
                ("oper_id".to_owned(), "10".to_owned())
            ])
        );
        assert_eq!(
            config.lookups[0].record_query(|c| row(c).filter(|_| c != "oper_id")),
            None,
            "a row lacking part of its key is shown as listed"
        );
        assert_eq!(
            config.lookups[0].record_query(|_| Some("")),
            None,
            "an empty key names nothing"
        );
        let report = PortalConfig::from_json(
            &with_lookups(r#"{"name":"Jobs","web_api":"MES","endpoint":"v3/job","record":{"endpoint":"/","key":[" "]}}"#),
            Runtime::Browser,
        )
        .expect_err("broken");
        let fields: Vec<&str> = report.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["lookups[0].record.endpoint", "lookups[0].record.key"]);
    }

    /// The connection test asks what the grid would: a lookup its defaults can ask, with them.
    #[test]
    fn the_connection_test_asks_a_lookup_its_defaults_answer() {
        let text = with_lookups(
            r#"{"name":"Consumption","web_api":"MES","endpoint":"v3/item_cons/filter","params":{"site":"1"},
                "parameters":[{"name":"lot_no","required":true}]},
               {"name":"Jobs","web_api":"mes","endpoint":"v3/job/filter","params":{"ent_id":"3"},
                "parameters":[{"name":"lastNhrs","kind":"last_hours","default":"24"},{"name":"wo_id"}]}"#,
        );
        let (mut config, _) = PortalConfig::from_json(&text, Runtime::Browser).expect("valid");
        let api = config.web_apis[0].clone();
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            config.probe(&api),
            (
                "v3/job/filter".to_owned(),
                vec![pair("ent_id", "3"), pair("lastNhrs", "24")]
            )
        );
        config.lookups.truncate(1);
        assert_eq!(
            config.probe(&api),
            ("v3/item_cons/filter".to_owned(), vec![pair("site", "1")]),
            "none askable: the first, and the MES says what it lacks"
        );
        config.lookups.clear();
        assert_eq!(config.probe(&api), ("v3/entity".to_owned(), Vec::new()));
    }

    #[test]
    fn a_choice_read_from_another_lookup_names_one() {
        let with = |lookup: &str| {
            with_lookups(&format!(
                r#"{{"name":"Entities","web_api":"mes","endpoint":"v3/entity"}},{lookup}"#
            ))
        };
        let good = with(
            r#"{"name":"Jobs","web_api":"MES","endpoint":"v3/job/filter",
               "parameters":[{"name":"ent_id","kind":"choice","choices_from":{"lookup":"Entities","value":"ent_id","label":"ent_name"}}]}"#,
        );
        let (config, _) = PortalConfig::from_json(&good, Runtime::Browser).expect("valid");
        assert_eq!(
            config.lookups[1].query(&crate::ask::Answers::from([(
                "ent_id".to_owned(),
                "not listed".to_owned()
            )])),
            Ok(vec![("ent_id".to_owned(), "not listed".to_owned())]),
            "offered, not imposed: the MES judges the value"
        );
        let bad = with(
            r#"{"name":"Jobs","web_api":"MES","endpoint":"v3/job/filter",
               "parameters":[{"name":"ent_id","kind":"choice","choices_from":{"lookup":"Places","value":"ent_id"}},
                             {"name":"wo_id","choices_from":{"lookup":"Entities","value":"wo_id"}},
                             {"name":"state","kind":"choice"}]}"#,
        );
        let report = PortalConfig::from_json(&bad, Runtime::Browser).expect_err("broken");
        let fields: Vec<&str> = report.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "lookups[1].parameters[1].choices_from",
                "lookups[1].parameters[2].choices",
                "lookups[1].parameters[0].choices_from.lookup"
            ]
        );
    }
}
