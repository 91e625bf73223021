//! `mes-lookup`: one MES lookup with a service-to-service token, printed as a table, CSV or JSON.
//! For schedulers, file watchers and scripts.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let code = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|rt| rt.block_on(native::run()))
        .unwrap_or_else(|e| {
            eprintln!("mes-lookup: {e}");
            2
        });
    std::process::exit(code);
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use mes_client::ask::{Answers, is_cut, max_rows_for};
    use mes_client::{
        ClientAuth, DEFAULT_BACKGROUND_USER, LookupOptions, MesError, NativeTransport, Rows, ServiceConfig,
        ServiceTokenSource, csv_field, json_terminal_safe, terminal_safe, terminal_safe_lines,
    };
    use serde_json::Value;

    const USAGE: &str = "mes-lookup site-headers DIST [--out DIR]   (the web server's headers)
mes-lookup doctor PORTAL_URL [--ca FILE]     (checks a deployed portal, its authority and MES)
mes-lookup --config FILE --api NAME ENDPOINT [--param k=v]... [--format table|csv|json]
           [--max-rows N] [--tz-id TZ] [--auth basic|post]
mes-lookup --config FILE --lookup NAME [--param k=v]... [--format …] [--max-rows N] [--auth …]

Runs one MES Web API lookup with a service-to-service token (client credentials, scope system)
and prints it. FILE is JSON with \"web_apis\": [...] (the Enterprise Console Web API List Item
fields; the Service to Service definition carries client_secret — keep the file private) and,
for --lookup, \"lookups\": [...] as the portal's config.json declares them: the lookup's Web
API, endpoint and fixed params, its --param values checked against its parameters, and its
row limit (max_rows, or --max-rows): an answer the limit cut is printed, said on stderr, and
exits 3.

Exit codes: 0 rows printed, 1 the MES or the authority refused or failed, 2 usage or
configuration, 3 rows printed but cut at the row limit (the MES has more).";

    struct Args {
        config: String,
        /// `--lookup`: a lookup of the file, instead of `--api` and an endpoint.
        lookup: Option<String>,
        api: String,
        endpoint: String,
        params: Vec<(String, String)>,
        format: String,
        options: LookupOptions,
        auth: ClientAuth,
    }

    fn parse() -> Result<Args, String> {
        let mut it = std::env::args().skip(1);
        let (mut config, mut api, mut endpoint, mut format) = (None, None, None, "table".to_owned());
        let mut lookup = None;
        let (mut params, mut options, mut auth) = (Vec::new(), LookupOptions::default(), ClientAuth::Basic);
        while let Some(arg) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--help" | "-h" => return Err(String::new()),
                "--config" => config = Some(value("--config")?),
                "--api" => api = Some(value("--api")?),
                "--lookup" => lookup = Some(value("--lookup")?),
                "--format" => format = value("--format")?,
                "--param" => {
                    let pair = value("--param")?;
                    let (k, v) = pair
                        .split_once('=')
                        .ok_or_else(|| format!("--param {pair}: expected name=value"))?;
                    params.push((k.to_owned(), v.to_owned()));
                }
                "--max-rows" => {
                    options.max_rows = Some(
                        value("--max-rows")?
                            .parse()
                            .map_err(|_| "--max-rows takes a whole number")?,
                    )
                }
                "--tz-id" => options.tz_id = Some(value("--tz-id")?),
                "--auth" => {
                    auth = match value("--auth")?.as_str() {
                        "basic" => ClientAuth::Basic,
                        "post" => ClientAuth::Post,
                        other => return Err(format!("--auth {other}: use basic or post")),
                    }
                }
                other if other.starts_with("--") => return Err(format!("unknown option {other}")),
                other if endpoint.is_none() => endpoint = Some(other.to_owned()),
                other => return Err(format!("unexpected argument {other}")),
            }
        }
        if !matches!(format.as_str(), "table" | "csv" | "json") {
            return Err(format!("--format {format}: use table, csv or json"));
        }
        if lookup.is_some() && (api.is_some() || endpoint.is_some()) {
            return Err("--lookup names its Web API and endpoint: leave out --api and ENDPOINT".into());
        }
        let by_lookup = lookup.is_some();
        Ok(Args {
            config: config.ok_or("--config is required")?,
            lookup,
            api: api.or(by_lookup.then(String::new)).ok_or("--api is required")?,
            endpoint: endpoint
                .or(by_lookup.then(String::new))
                .ok_or("the ENDPOINT (e.g. v3/entity) is required")?,
            params,
            format,
            options,
            auth,
        })
    }

    const SITE_USAGE: &str = "mes-lookup site-headers DIST [--out DIR]

Writes the nginx snippets deploy/nginx/mesportal.conf includes (mesportal-headers.conf and
mesportal-embed-headers.conf) into DIR (default: the current directory), from the portal as
deployed in DIST: its config.json (origins, embed_origins) and index.html (the script hash).
Run it again after every build and every change of config.json.";

    /// `mes-lookup site-headers DIST [--out DIR]`.
    fn site_headers(args: &[String]) -> i32 {
        let (mut dist, mut out) = (None, std::path::PathBuf::from("."));
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match (arg.as_str(), it.as_slice().first()) {
                ("--out", Some(dir)) => {
                    out = dir.into();
                    it.next();
                }
                (other, _) if !other.starts_with("--") && dist.is_none() => {
                    dist = Some(std::path::PathBuf::from(other))
                }
                _ => {
                    eprintln!("{SITE_USAGE}");
                    return 2;
                }
            }
        }
        let Some(dist) = dist else {
            eprintln!("{SITE_USAGE}");
            return 2;
        };
        let written = mes_client::write_site_headers(&dist, &out)
            .map(|paths| paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>());
        match written {
            Ok(names) => {
                println!("wrote {}", names.join(", "));
                0
            }
            Err(e) => {
                eprintln!("mes-lookup: {e}");
                2
            }
        }
    }

    const DOCTOR_USAGE: &str = "mes-lookup doctor PORTAL_URL [--ca FILE] [--resolve HOST:PORT:ADDRESS]...

Asks a deployed portal, its authority and its MES what a browser would, and prints each finding
with its fix: MIME types, the Content-Security-Policy against the served index.html, frame-ancestors
against embed_origins, config.json, discovery and keys, CORS at the authority and the MES, the
end-session method, the return addresses. --ca adds the plant's CA (PEM); --resolve connects to
ADDRESS for HOST:PORT (a name DNS does not know yet). Exit codes: 0 all good, 1 findings, 2 usage.";

    /// `mes-lookup doctor PORTAL_URL [--ca FILE] [--resolve HOST:PORT:ADDRESS]...`.
    async fn doctor(args: &[String]) -> i32 {
        let mut options = mes_client::DoctorOptions::default();
        let mut portal = None;
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match (arg.as_str(), it.as_slice().first()) {
                ("--ca", Some(file)) => {
                    match std::fs::read(file) {
                        Ok(pem) => options.ca_pem = Some(pem),
                        Err(e) => {
                            eprintln!("mes-lookup: {file}: {e}");
                            return 2;
                        }
                    }
                    it.next();
                }
                ("--resolve", Some(rule)) => {
                    let parsed = rule.split_once(':').and_then(|(host, rest)| {
                        let (port, address) = rest.split_once(':')?;
                        let ip: std::net::IpAddr = address.trim_matches(['[', ']']).parse().ok()?;
                        Some((host.to_owned(), std::net::SocketAddr::new(ip, port.parse().ok()?)))
                    });
                    let Some(pair) = parsed else {
                        eprintln!(
                            "mes-lookup: --resolve {rule}: expected HOST:PORT:ADDRESS\n\n{DOCTOR_USAGE}"
                        );
                        return 2;
                    };
                    options.resolve.push(pair);
                    it.next();
                }
                (other, _) if !other.starts_with("--") && portal.is_none() => portal = Some(other.to_owned()),
                _ => {
                    eprintln!("{DOCTOR_USAGE}");
                    return 2;
                }
            }
        }
        let Some(portal) = portal else {
            eprintln!("{DOCTOR_USAGE}");
            return 2;
        };
        let findings = mes_client::examine_site(&portal, &options).await;
        print!("{}", mes_client::site_report(&findings));
        let wrong = findings.iter().filter(|f| !f.ok).count();
        if wrong == 0 {
            println!("All {} checks passed.", findings.len());
            0
        } else {
            println!("{wrong} of {} checks need attention.", findings.len());
            1
        }
    }

    pub async fn run() -> i32 {
        let all: Vec<String> = std::env::args().skip(1).collect();
        match all.first().map(String::as_str) {
            Some("site-headers") => return site_headers(&all[1..]),
            Some("doctor") => return doctor(&all[1..]).await,
            _ => {}
        }
        let args = match parse() {
            Ok(a) => a,
            Err(e) => {
                if !e.is_empty() {
                    eprintln!("mes-lookup: {e}\n");
                }
                eprintln!("{USAGE}");
                return 2;
            }
        };
        let text = match std::fs::read_to_string(&args.config) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("mes-lookup: {}: {e}", args.config);
                return 2;
            }
        };
        let config = match ServiceConfig::from_json(&text) {
            Ok((config, report)) => {
                for w in report.warnings {
                    eprintln!("mes-lookup: warning: {}: {}", w.field, w.message);
                }
                config
            }
            Err(report) => {
                for e in report.errors {
                    eprintln!("mes-lookup: {}: {}", e.field, e.message);
                }
                return 2;
            }
        };
        let mut args = args;
        let limit = match resolve_lookup(&config, &mut args) {
            Ok(limit) => limit,
            Err(why) => {
                eprintln!("mes-lookup: {why}");
                return 2;
            }
        };
        let Some(api) = config.web_api(&args.api) else {
            eprintln!(
                "mes-lookup: no Web API definition named \"{}\" in {}",
                args.api, args.config
            );
            return 2;
        };
        let source =
            match ServiceTokenSource::for_web_api(NativeTransport::new(256 * 1024 * 1024), api, args.auth)
                .await
            {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("mes-lookup: {}", terminal_safe(&e.to_string()));
                    return if matches!(e, mes_client::ServiceTokenError::Configuration(_)) {
                        2
                    } else {
                        1
                    };
                }
            };
        let lookup = source
            .lookup(api, &args.endpoint)
            .params(args.params.iter().cloned())
            .options(args.options.clone());
        match lookup.send().await {
            Ok(mut rows) => {
                let cut = limit.filter(|&limit| is_cut(rows.len(), limit));
                if let Some(limit) = cut {
                    rows.truncate(limit as usize);
                }
                let out = match args.format.as_str() {
                    "csv" => csv(&rows),
                    "json" => json(&rows),
                    _ => table(&rows),
                };
                print!("{out}");
                match cut {
                    Some(limit) => {
                        eprintln!(
                            "mes-lookup: cut: these are the first {limit} rows; the MES has more. Narrow the question with --param, or raise --max-rows."
                        );
                        3
                    }
                    None => 0,
                }
            }
            Err(e) => {
                eprintln!("mes-lookup: {}", terminal_safe(&e.to_string()));
                if matches!(e, MesError::Denied { .. }) {
                    eprintln!("{}", background_user_help());
                }
                1
            }
        }
    }

    /// For `--lookup NAME`: the lookup's Web API, endpoint and query (its fixed params, then
    /// the `--param` values checked against its parameters) into `args`, and the row limit
    /// (`max_rows` sent is one more, to tell a cut answer). `None` without `--lookup`.
    fn resolve_lookup(config: &ServiceConfig, args: &mut Args) -> Result<Option<u32>, String> {
        let Some(name) = &args.lookup else { return Ok(None) };
        let lookup = config
            .lookups
            .iter()
            .find(|l| l.name == *name)
            .ok_or_else(|| format!("no lookup named \"{name}\" in {}", args.config))?;
        let answers: Answers = args.params.drain(..).collect();
        args.params = lookup.query(&answers).map_err(|problems| {
            let said: Vec<String> = problems.iter().map(|p| format!("--param {p}")).collect();
            said.join("\n")
        })?;
        args.api.clone_from(&lookup.web_api);
        args.endpoint.clone_from(&lookup.endpoint);
        let limit = args.options.max_rows.unwrap_or(lookup.row_limit());
        args.options.max_rows = Some(max_rows_for(limit));
        Ok(Some(limit))
    }

    fn background_user_help() -> String {
        format!(
            "\nThe MES's message above names the user it ran this call as, when it names one. A call it recognises as\n\
             service-to-service runs as the {DEFAULT_BACKGROUND_USER}: the user named by System_Attr attr_id 199.\n\
             That user has limited privileges; ask the MES administrator to grant it what this lookup needs, or to point\n\
             attr 199 at a user that has them. The MES middleware caches that user for up to an hour, so a change shows\n\
             only after the cache expires or the middleware restarts."
        )
    }

    pub fn table(rows: &Rows) -> String {
        const MAX: usize = 40;
        let cut = |s: String| {
            if s.chars().count() > MAX {
                s.chars().take(MAX - 1).collect::<String>() + "…"
            } else {
                s
            }
        };
        let cells: Vec<Vec<String>> = (0..rows.len())
            .map(|r| rows.row(r).map(|v| cut(terminal_safe(v.text()))).collect())
            .collect();
        let widths: Vec<usize> = rows
            .column_names()
            .enumerate()
            .map(|(i, c)| {
                cells
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain([c.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |values: &mut dyn Iterator<Item = &str>| {
            let padded: Vec<String> = values.zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
            padded.join("  ").trim_end().to_owned() + "\n"
        };
        let columns: Vec<String> = rows.column_names().map(terminal_safe).collect();
        let mut out = line(&mut columns.iter().map(String::as_str));
        out += &line(
            &mut widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        );
        for r in &cells {
            out += &line(&mut r.iter().map(String::as_str));
        }
        out + &format!("({} rows)\n", rows.len())
    }

    /// CSV whose fields hold no escape sequence or reordering character (the text goes to a
    /// terminal as often as to a file).
    pub fn csv(rows: &Rows) -> String {
        let field = |text: &str| csv_field(&terminal_safe_lines(text));
        let mut out = rows.column_names().map(field).collect::<Vec<_>>().join(",") + "\r\n";
        for r in 0..rows.len() {
            out += &(rows.row(r).map(|v| field(v.text())).collect::<Vec<_>>().join(",") + "\r\n");
        }
        out
    }

    /// A JSON array of objects with the server's column order (written by hand: serde_json's map sorts keys).
    pub fn json(rows: &Rows) -> String {
        let mut out = String::from("[");
        for n in 0..rows.len() {
            out += if n == 0 { "\n  {" } else { ",\n  {" };
            for (i, (c, v)) in rows.column_names().zip(rows.row(n)).enumerate() {
                if i > 0 {
                    out += ", ";
                }
                out += &format!("{}: {}", Value::String(c.to_owned()), v.to_json());
            }
            out += "}";
        }
        json_terminal_safe(&(out + "\n]\n"))
    }
}
