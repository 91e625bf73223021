//! `devstack`: run the AIM and MES stand-ins and the portal server on loopback, and manage their
//! accounts. `devstack --help` explains every command.

use devstack::stack::{DEMO_ACCOUNTS, Stack, StackOptions};
use std::collections::HashMap;
use std::io::{BufRead as _, Read as _};
use std::path::PathBuf;
use std::time::Duration;

const HELP: &str =
    "devstack — loopback stand-ins for AVEVA Identity Manager and the MES Web API (development only)

USAGE:
  devstack up [OPTIONS]            Start AIM, MES and the portal server on three loopback ports.
                                   While running, type on stdin: `stop aim`, `start aim`,
                                   `stop mes`, `start mes` (to see outages for real), `quit`.
      --data-dir DIR               Keys, account store and MES database   [.devstack]
      --dist DIR                   The built portal (trunk's dist/)         [dist]
      --examples DIR               Served under /examples                   [examples]
      --web-port N  --aim-port N  --mes-port N                              [8080 8081 8082]
      --other-site-port N          Another site's page that frames a lookup [8083]
      --rows N                     Rows in the big MES tables (new database only) [2000]
      --token-lifetime SECONDS     User access token lifetime               [3600]
      --refresh-lifetime SECONDS   Refresh token lifetime (a session without a new sign-in) [28800]
      --session-lifetime SECONDS   AIM's own sign-in (SSO cookie) lifetime  [28800]
      --jwks-ttl SECONDS           How long MES trusts AIM's keys           [5]
      --background-user-ttl SECONDS  How long MES caches System_Attr 199    [3600]
      --no-refresh-tokens          The portal does not ask for offline_access (renewal is then a
                                   silent prompt=none round trip through AIM)
      --refresh-tokens-end-with-session  Signing out of AIM revokes the refresh tokens of that
                                   session (every client of it, framed grids on other sites too)
      --aim-opener-policy          AIM's pages send Cross-Origin-Opener-Policy: same-origin (sign-in
                                   popups lose their opener; the portal says what that means)
      --aim-tells-refresh-lifetime Token answers carry refresh_expires_in (as Keycloak's do): the
                                   portal warns before the session's hard end
      --language TAG               config.json's `language` (e.g. de): the portal's words and
                                   formats whatever the browser prefers   [the browser's]

  devstack aim [--port N] [--portal-origin URL]... [--data-dir DIR] [--token-lifetime SECONDS]
               [--refresh-lifetime SECONDS] [--session-lifetime SECONDS]
               [--refresh-tokens-end-with-session] [--aim-opener-policy] [--aim-tells-refresh-lifetime]
                                   Run only the AIM stand-in (issuer http://127.0.0.1:N/identitymanager),
                                   registering the portal client for each --portal-origin.
  devstack mes --authority ISSUER [--audience AUD] [--user-claims a,b] [--allowed-origin URL]...
               [--port N] [--data-dir DIR] [--rows N] [--jwks-ttl S] [--background-user-ttl S]
                                   Run only the MES stand-in, trusting any OpenID authority (a real
                                   AIM too). User claims default to preferred_username,sub.

  devstack register-client --id ID [--lifetime SECONDS] [--data-dir DIR]
                                   Register a service-to-service client (client_credentials,
                                   scope `system`), like RegisterAIMServiceClient.ps1. The secret
                                   is read from stdin, or generated and printed once when stdin
                                   is a terminal or empty. Lifetime defaults to 86400 (24 h).
  devstack add-user --name 'DOMAIN\\user' [--display NAME] [--data-dir DIR]
                                   Add an AIM account; the password is read from stdin.
  devstack add-mes-user --name 'DOMAIN\\user' [--inactive] [--description TEXT] [--data-dir DIR]
                                   Make an account an MES user (active unless --inactive).
  devstack set-background-user NAME [--data-dir DIR]
                                   Set System_Attr 199, the Default Background User. Running
                                   MES stand-ins see it only after their cache expires.
  devstack accounts                Print the demo accounts.

Logs go to stderr; RUST_LOG=debug shows more.";

struct Args {
    positional: Vec<String>,
    flags: HashMap<String, String>,
}

/// Each command's options: those that take a value, and switches. An option a command does not
/// have is an error, not silently taken (a typo such as `--langauge de` must not start a stack
/// that ignores it).
fn options_of(command: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match command {
        "up" => (
            &[
                "data-dir",
                "dist",
                "examples",
                "web-port",
                "aim-port",
                "mes-port",
                "other-site-port",
                "rows",
                "token-lifetime",
                "refresh-lifetime",
                "session-lifetime",
                "jwks-ttl",
                "background-user-ttl",
                "language",
            ],
            &[
                "no-refresh-tokens",
                "refresh-tokens-end-with-session",
                "aim-opener-policy",
                "aim-tells-refresh-lifetime",
            ],
        ),
        "aim" => (
            &[
                "port",
                "portal-origin",
                "data-dir",
                "token-lifetime",
                "refresh-lifetime",
                "session-lifetime",
            ],
            &[
                "refresh-tokens-end-with-session",
                "aim-opener-policy",
                "aim-tells-refresh-lifetime",
            ],
        ),
        "mes" => (
            &[
                "authority",
                "audience",
                "user-claims",
                "allowed-origin",
                "port",
                "data-dir",
                "rows",
                "jwks-ttl",
                "background-user-ttl",
            ],
            &[],
        ),
        "register-client" => (&["id", "lifetime", "data-dir"], &[]),
        "add-user" => (&["name", "display", "data-dir"], &[]),
        "add-mes-user" => (&["name", "description", "data-dir"], &["inactive"]),
        "set-background-user" => (&["data-dir"], &[]),
        _ => (&[], &[]),
    }
}

fn parse_args() -> Result<Args, String> {
    parse_args_from(std::env::args_os().skip(1))
}

/// The command line, read by lexopt (`--name value`, `--name=value`, `-h`); repeatable options
/// (`--portal-origin`, `--allowed-origin`) collect with newlines.
fn parse_args_from(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Args, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut positional = Vec::new();
    let mut flags: HashMap<String, String> = HashMap::new();
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => {
                flags.insert("help".into(), String::new());
            }
            Long(name) => {
                let name = name.to_owned();
                let command = positional.first().map_or("", String::as_str);
                let (values, switches) = options_of(command);
                if switches.contains(&name.as_str()) {
                    flags.insert(name, String::new());
                } else if values.contains(&name.as_str()) {
                    let value = parser
                        .value()
                        .map_err(|e| e.to_string())?
                        .string()
                        .map_err(|e| e.to_string())?;
                    flags
                        .entry(name)
                        .and_modify(|v| {
                            v.push('\n');
                            v.push_str(&value)
                        })
                        .or_insert(value);
                } else if command.is_empty() {
                    return Err(format!("--{name} comes after a command (see devstack --help)"));
                } else {
                    return Err(format!(
                        "--{name} is not an option of `devstack {command}` (see devstack --help)"
                    ));
                }
            }
            Value(value) => positional.push(value.string().map_err(|e| e.to_string())?),
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(Args { positional, flags })
}

impl Args {
    fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.flags.get(name) {
            Some(v) => v.parse().map_err(|_| format!("--{name}: \"{v}\" is not valid")),
            None => Ok(default),
        }
    }
    fn data_dir(&self) -> PathBuf {
        PathBuf::from(
            self.flags
                .get("data-dir")
                .cloned()
                .unwrap_or_else(|| ".devstack".into()),
        )
    }
    fn required(&self, name: &str) -> Result<String, String> {
        self.flags
            .get(name)
            .cloned()
            .ok_or_else(|| format!("--{name} is required (see devstack --help)"))
    }
}

fn read_stdin_secret() -> String {
    use std::io::IsTerminal as _;
    if std::io::stdin().is_terminal() {
        return String::new();
    }
    let mut text = String::new();
    let _ = std::io::stdin().read_to_string(&mut text);
    text.trim().to_owned()
}

fn print_accounts() {
    println!("Demo accounts (AIM stand-in):");
    for (user, password, what) in DEMO_ACCOUNTS {
        println!("  {user:<14} password {password:<12} {what}");
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run().await {
        eprintln!("devstack: {e}");
        std::process::exit(2);
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    if args.flags.contains_key("help") || args.positional.is_empty() {
        println!("{HELP}");
        return Ok(());
    }
    match args.positional[0].as_str() {
        "up" => up(&args).await,
        "aim" | "mes" => single(&args).await,
        "accounts" => {
            print_accounts();
            Ok(())
        }
        "register-client" => {
            let id = args.required("id")?;
            let lifetime = args.get("lifetime", 86_400u64)?;
            let mut secret = read_stdin_secret();
            let generated = secret.is_empty();
            if generated {
                secret = devstack::util::random_token(32);
            }
            let db = devstack::store::open(&args.data_dir().join("aim.sqlite")).map_err(|e| e.to_string())?;
            let client = devstack::store::RegisteredClient {
                client_id: id.clone(),
                secret_hash: Some(devstack::util::hash_secret(&secret)),
                redirect_uris: vec![],
                post_logout_uris: vec![],
                allowed_origins: vec![],
                token_lifetime: lifetime,
            };
            devstack::store::put_client(&db, &client).map_err(|e| e.to_string())?;
            println!("Registered service client \"{id}\" (scope system, token lifetime {lifetime} s).");
            if generated {
                println!("Client secret (shown once, stored only as a hash): {secret}");
            }
            println!("Restart the AIM stand-in for it to take effect.");
            Ok(())
        }
        "add-user" => {
            let name = args.required("name")?;
            let display = args.flags.get("display").cloned().unwrap_or_else(|| name.clone());
            let password = read_stdin_secret();
            if password.is_empty() {
                return Err(
                    "give the password on stdin, e.g. echo 'pw' | devstack add-user --name 'PLANT\\bob'"
                        .into(),
                );
            }
            let db = devstack::store::open(&args.data_dir().join("aim.sqlite")).map_err(|e| e.to_string())?;
            devstack::store::put_user(&db, &name, &display, &password).map_err(|e| e.to_string())?;
            println!("AIM account {name} saved.");
            Ok(())
        }
        "add-mes-user" | "set-background-user" => {
            let path = args.data_dir().join("mes.sqlite");
            if !path.exists() {
                return Err(format!(
                    "{} does not exist yet; run `devstack up` once first",
                    path.display()
                ));
            }
            let db = rusqlite::Connection::open(&path).map_err(|e| e.to_string())?;
            if args.positional[0] == "add-mes-user" {
                let name = args.required("name")?;
                let active = !args.flags.contains_key("inactive");
                let desc = args
                    .flags
                    .get("description")
                    .cloned()
                    .unwrap_or_else(|| name.clone());
                db.execute(
                    "INSERT OR REPLACE INTO mes_user VALUES (?1, ?2, ?3, 'PROD', '')",
                    rusqlite::params![name, desc, active as i64],
                )
                .map_err(|e| e.to_string())?;
                for privilege in devstack::seed::VIEW_PRIVILEGES {
                    db.execute(
                        "INSERT INTO user_priv VALUES (?1, ?2)",
                        rusqlite::params![name, privilege],
                    )
                    .map_err(|e| e.to_string())?;
                }
                println!(
                    "MES user {name} saved ({}).",
                    if active { "active" } else { "inactive" }
                );
            } else {
                let name = args
                    .positional
                    .get(1)
                    .ok_or("give the user name: devstack set-background-user NAME")?;
                db.execute(
                    "UPDATE system_attr SET attr_value = ?1 WHERE attr_id = 199",
                    [name],
                )
                .map_err(|e| e.to_string())?;
                println!(
                    "System_Attr 199 (Default Background User) = {name}. Running MES stand-ins see it when their cache expires."
                );
            }
            Ok(())
        }
        other => Err(format!("unknown command \"{other}\" (see devstack --help)")),
    }
}

async fn up(args: &Args) -> Result<(), String> {
    let dist = PathBuf::from(args.flags.get("dist").cloned().unwrap_or_else(|| "dist".into()));
    let examples = PathBuf::from(
        args.flags
            .get("examples")
            .cloned()
            .unwrap_or_else(|| "examples".into()),
    );
    let options = StackOptions {
        data_dir: args.data_dir(),
        dist_dir: Some(dist),
        examples_dir: Some(examples.clone()),
        // The hostile modes are for tests only; no flag turns them on here.
        hostile: false,
        aim_port: args.get("aim-port", 8081)?,
        mes_port: args.get("mes-port", 8082)?,
        web_port: args.get("web-port", 8080)?,
        other_site_port: args.get("other-site-port", 8083)?,
        seed_rows: args.get("rows", devstack::seed::DEFAULT_ROWS)?,
        user_token_lifetime: args.get("token-lifetime", 3600)?,
        refresh_token_lifetime: args.get("refresh-lifetime", devstack::stack::DEFAULT_REFRESH_LIFETIME)?,
        aim_session_lifetime: args.get("session-lifetime", devstack::stack::DEFAULT_REFRESH_LIFETIME)?,
        extra_portal_origins: Vec::new(),
        external_authority: None,
        aim_end_session: true,
        aim_end_session_post: true,
        aim_opener_policy: args.flags.contains_key("aim-opener-policy"),
        aim_tells_refresh_lifetime: args.flags.contains_key("aim-tells-refresh-lifetime"),
        aim_refresh_tokens_end_with_session: args.flags.contains_key("refresh-tokens-end-with-session"),
        jwks_ttl: Duration::from_secs(args.get("jwks-ttl", 5)?),
        background_user_ttl: Duration::from_secs(args.get("background-user-ttl", 3600)?),
        refresh_tokens: !args.flags.contains_key("no-refresh-tokens"),
        config_patch: args
            .flags
            .get("language")
            .map(|tag| serde_json::json!({ "language": tag })),
        public_sites: None,
    };
    let mut stack = Stack::start(options).await.map_err(|e| e.to_string())?;
    println!("Portal:   {}/", stack.portal_origin);
    if examples.join("embed.html").is_file() {
        println!(
            "Embedded: {}/examples/embed.html  (a plain page with a lookup grid)",
            stack.portal_origin
        );
    }
    if let Some(origin) = &stack.other_site_origin {
        println!("Framed:   {origin}/  (another site's page showing a lookup in a frame)");
    }
    println!("AIM:      {}  (stand-in)", stack.issuer);
    println!("MES API:  {}api/  (stand-in)", stack.mes_base);
    print_accounts();
    println!(
        "Type `stop aim` / `start aim` / `stop mes` / `start mes` to simulate outages; Ctrl-C stops everything."
    );
    if std::env::var_os("DEVSTACK_EXIT_WITH_PARENT").is_some() {
        watch_parent();
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            line = rx.recv() => {
                let Some(line) = line else {
                    // stdin closed (run in the background): keep serving until a signal.
                    let _ = tokio::signal::ctrl_c().await;
                    break;
                };
                let result = match line.trim() {
                    "stop aim" => { stack.stop_aim().await; Ok("AIM stopped".to_owned()) }
                    "start aim" => stack.start_aim().await.map(|_| "AIM started".to_owned()),
                    "stop mes" => { stack.stop_mes().await; Ok("MES stopped".to_owned()) }
                    "start mes" => stack.start_mes().await.map(|_| "MES started".to_owned()),
                    "quit" | "exit" => break,
                    "" => continue,
                    other => Ok(format!("unknown command \"{other}\": stop aim, start aim, stop mes, start mes, quit")),
                };
                match result {
                    Ok(text) => println!("{text}"),
                    Err(e) => println!("failed: {e}"),
                }
            }
        }
    }
    stack.stop().await;
    Ok(())
}

fn list(args: &Args, name: &str) -> Vec<String> {
    args.flags
        .get(name)
        .map(|v| v.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `devstack aim` or `devstack mes`: one stand-in alone, until Ctrl-C.
async fn single(args: &Args) -> Result<(), String> {
    use devstack::{aim, mes, server::Server};
    let data_dir = args.data_dir();
    let which = args.positional[0].as_str();
    let port = args.get("port", if which == "aim" { 8081u16 } else { 8082 })?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("port {port}: {e}"))?;
    let router = if which == "aim" {
        let origins = list(args, "portal-origin");
        let origins = if origins.is_empty() {
            vec!["http://127.0.0.1:8080".to_owned()]
        } else {
            origins
        };
        let lifetime = args.get("token-lifetime", 3600u64)?;
        devstack::stack::prepare_aim_store(&data_dir, &origins, lifetime).map_err(|e| e.to_string())?;
        let issuer = format!("http://127.0.0.1:{port}{}", aim::BASE_PATH);
        let state = aim::AimState::open(aim::AimOptions {
            issuer: issuer.clone(),
            data_dir,
            audience: devstack::MES_AUDIENCE.into(),
            hostile: false,
            refresh_token_lifetime: args
                .get("refresh-lifetime", devstack::stack::DEFAULT_REFRESH_LIFETIME)?,
            session_lifetime: args.get("session-lifetime", devstack::stack::DEFAULT_REFRESH_LIFETIME)?,
            end_session: true,
            end_session_post: true,
            opener_policy: args.flags.contains_key("aim-opener-policy"),
            tells_refresh_lifetime: args.flags.contains_key("aim-tells-refresh-lifetime"),
            refresh_tokens_end_with_session: args.flags.contains_key("refresh-tokens-end-with-session"),
        })
        .map_err(|e| e.to_string())?;
        println!("AIM stand-in: {issuer} (portal origins: {})", origins.join(", "));
        aim::app(std::sync::Arc::new(state))
    } else {
        let authority = args.required("authority")?;
        let claims = args
            .flags
            .get("user-claims")
            .cloned()
            .unwrap_or_else(|| "preferred_username,sub".into());
        let origins = list(args, "allowed-origin");
        let state = mes::MesState::open(mes::MesOptions {
            authority: authority.clone(),
            audience: args
                .flags
                .get("audience")
                .cloned()
                .unwrap_or_else(|| devstack::MES_AUDIENCE.into()),
            user_claims: claims
                .split(',')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect(),
            allowed_origins: if origins.is_empty() {
                vec!["http://127.0.0.1:8080".to_owned()]
            } else {
                origins
            },
            jwks_ttl: Duration::from_secs(args.get("jwks-ttl", 5)?),
            background_user_ttl: Duration::from_secs(args.get("background-user-ttl", 3600)?),
            data_dir,
            seed_rows: args.get("rows", devstack::seed::DEFAULT_ROWS)?,
            hostile: false,
            authority_route: None,
        })
        .map_err(|e| e.to_string())?;
        println!(
            "MES stand-in: http://127.0.0.1:{port}{}/ trusting {authority}",
            mes::BASE_PATH
        );
        mes::app(std::sync::Arc::new(state))
    };
    let server = Server::spawn(listener, router).map_err(|e| e.to_string())?;
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    Ok(())
}

/// Exits when the process that started us is gone (`cargo xtask demo` killed by a signal other
/// than the terminal's Ctrl-C), so no stand-in is left holding its ports.
fn watch_parent() {
    #[cfg(unix)]
    {
        let parent = std::os::unix::process::parent_id();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                if std::os::unix::process::parent_id() != parent {
                    eprintln!("devstack: the demo that started me is gone; stopping");
                    std::process::exit(0);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::parse_args_from;

    fn parse(line: &str) -> Result<super::Args, String> {
        parse_args_from(line.split_whitespace().map(std::ffi::OsString::from))
    }

    #[test]
    fn options_belong_to_their_command() {
        let args = parse("up --web-port 9080 --language=de --no-refresh-tokens").expect("valid");
        assert_eq!(args.positional, ["up"]);
        assert_eq!(
            (args.flags["web-port"].as_str(), args.flags["language"].as_str()),
            ("9080", "de")
        );
        assert!(args.flags.contains_key("no-refresh-tokens"));
        let repeated = parse("aim --portal-origin http://a --portal-origin http://b").expect("valid");
        assert_eq!(repeated.flags["portal-origin"], "http://a\nhttp://b");
        assert_eq!(
            parse("up --langauge de").err().as_deref(),
            Some("--langauge is not an option of `devstack up` (see devstack --help)")
        );
        assert!(parse("up --inactive").is_err(), "a switch of another command");
        assert!(parse("up --web-port").is_err(), "a value is missing");
        assert!(parse("--web-port 1 up").is_err(), "options follow the command");
        assert!(parse("-h").expect("help").flags.contains_key("help"));
        assert!(parse("up -x").is_err());
    }
}
