//! `cargo xtask`: set-up, build, demo and tests in one place, so a fresh machine and CI need no
//! hand steps. Installs only through the package registries (crates.io, npm, Debian).

mod mutants;
mod setup;
mod split;
mod tidy;

use anyhow::{Context as _, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const HELP: &str = "cargo xtask <command>

  demo     Install what is missing, build the portal, start AIM, MES and the portal server on
           loopback, print the portal URL and the demo accounts. Ctrl-C stops everything.
  test     Install what is missing (browser included), then check formatting, docs and clippy
           (native and wasm32) and run every test: native, browser (wasm-bindgen-test in headless
           Chromium, under wasm-pack) and end to end.
  setup    Install what is missing: wasm32 target, trunk, wasm-bindgen-cli, wasm-opt
           (add --browser for Chromium, chromedriver and wasm-pack).
  build    Build the portal (release, wasm-opt -Oz) into dist/.
  bench    Build the release portal, start the stand-ins with 10,000 and 100,000 rows, drive
           headless Chromium and write docs/benchmarks.md (sizes, sign-in cost, the grid beside
           AG Grid Community 36 from npm, renewal, MES throughput). --runs N (default 5),
           --rows 10000,100000, --out FILE, --only grids (just the grids, printed).
  fuzz     Fuzz mes-client's parsers (callback, ID token, config, MES answers, discovery, token
           answers) with cargo-fuzz on nightly, each for a bounded time: --seconds N (default
           60), or name targets: cargo xtask fuzz id_token --seconds 300. Installs nightly and
           cargo-fuzz.
  mutants  Mutation testing (cargo-mutants) of mes-client's security modules and the portal's grid
           logic; every survivor must be listed with its reason in xtask/mutants-survivors.txt.
           Writes docs/mutants.md. Name scopes to run only them: cargo xtask mutants jwt user_session
           (jwt, signin, site, session, discovery, user_session, secret, token, absolute_url,
           service, mes, config, transport, native_transport, grid_model, rows). A change's own
           mutants only: cargo xtask mutants --since origin/main [scopes] (docs/mutants.md left as
           it is). cargo xtask mutants --report writes docs/mutants.md from the scopes' summaries
           in target/mutants without running anything.";

fn main() {
    if let Err(e) = run() {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("setup") => setup::all(&root, args.iter().any(|a| a == "--browser")).map(|_| ()),
        Some("build") => {
            let tools = setup::all(&root, false)?;
            build_portal(&root, &tools)
        }
        Some("demo") => demo(&root, &args[1..]),
        Some("test") => test(&root),
        Some("fuzz") => fuzz(&root, &args[1..]),
        Some("bench") => bench(&root, &args[1..]),
        Some("mutants") => mutants::run(&root, &args[1..]),
        _ => {
            println!("{HELP}");
            Ok(())
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs a command, echoing it; fails on a non-zero exit.
pub fn run_cmd(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("could not start {}", describe(cmd)))?;
    if !status.success() {
        bail!("{} failed ({status})", describe(cmd));
    }
    Ok(())
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program().to_string_lossy().into_owned())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// `trunk build --release` with our tools first on PATH.
fn build_portal(root: &Path, tools: &setup::Tools) -> Result<()> {
    eprintln!("==> Building the portal (release, wasm-opt -Oz) into dist/");
    run_cmd(
        Command::new(&tools.trunk)
            .args(["build", "--release"])
            .env("PATH", &tools.path)
            .env("TRUNK_SKIP_VERSION_CHECK", "true")
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                split::RELEASE_WASM_RUSTFLAGS,
            )
            .current_dir(root),
    )?;
    split::split_portal(root, tools)
}

fn demo(root: &Path, extra: &[String]) -> Result<()> {
    let tools = setup::all(root, false)?;
    build_portal(root, &tools)?;
    eprintln!("==> Building devstack");
    run_cmd(cargo().args(["build", "--quiet", "-p", "devstack"]))?;
    let devstack = root.join("target/debug/devstack");
    eprintln!("==> Starting the stand-ins and the portal server");
    // One process group with us: Ctrl-C in the terminal stops the stand-ins too.
    let mut child = Command::new(devstack)
        .arg("up")
        .args([
            "--dist",
            "dist",
            "--examples",
            "examples",
            "--data-dir",
            ".devstack",
        ])
        .args(extra)
        .env("DEVSTACK_EXIT_WITH_PARENT", "1")
        .stdin(Stdio::inherit())
        .spawn()
        .context("could not start devstack")?;
    let status = child.wait()?;
    if !status.success() {
        bail!("devstack stopped: {status}");
    }
    Ok(())
}

fn bench(root: &Path, args: &[String]) -> Result<()> {
    let tools = setup::all(root, true)?;
    setup::twiggy()?;
    let (ag_grid, ag_grid_version) = setup::ag_grid(root)?;
    build_portal(root, &tools)?;
    eprintln!("==> Benchmarks (headless Chromium; several minutes)");
    run_cmd(
        cargo()
            .args(["run", "--quiet", "-p", "e2e", "--bin", "bench", "--"])
            .args(args)
            .env("PATH", &tools.path)
            .env("MES_PORTAL_DIST", root.join("dist"))
            .env("AG_GRID_JS", ag_grid)
            .env("AG_GRID_VERSION", ag_grid_version)
            .env("CHROMEDRIVER", &tools.chromedriver)
            .env("CHROMIUM", &tools.chromium),
    )
}

/// The fuzz targets in crates/mes-client/fuzz.
const FUZZ_TARGETS: [&str; 6] = [
    "callback",
    "id_token",
    "config",
    "mes_response",
    "discovery",
    "token_response",
];

fn fuzz(root: &Path, args: &[String]) -> Result<()> {
    let mut seconds = 60u32;
    let mut targets = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = rest
                    .next()
                    .and_then(|s| s.parse().ok())
                    .context("--seconds needs a number")?
            }
            name if FUZZ_TARGETS.contains(&name) => targets.push(name),
            other => bail!(
                "unknown fuzz argument {other:?}; targets: {}",
                FUZZ_TARGETS.join(", ")
            ),
        }
    }
    if targets.is_empty() {
        targets = FUZZ_TARGETS.to_vec();
    }
    setup::fuzzing()?;
    for target in targets {
        eprintln!("==> Fuzzing {target} for {seconds} s");
        // A crash stops here with the input saved under crates/mes-client/fuzz/artifacts/.
        run_cmd(
            Command::new("cargo")
                // Debug assertions on: integer overflow in a parser is a finding too.
                .args([
                    "+nightly",
                    "fuzz",
                    "run",
                    target,
                    "--debug-assertions",
                    "--target-dir",
                ])
                .arg(root.join("target/fuzz"))
                .args([
                    "--",
                    &format!("-max_total_time={seconds}"),
                    "-rss_limit_mb=4096",
                    "-max_len=65536",
                ])
                .env_remove("RUSTUP_TOOLCHAIN")
                .env_remove("CARGO")
                .current_dir(root.join("crates/mes-client")),
        )?;
    }
    eprintln!("==> No crashes");
    Ok(())
}

fn test(root: &Path) -> Result<()> {
    let tools = setup::all(root, true)?;
    eprintln!("==> Formatting (rustfmt.toml)");
    run_cmd(cargo().args(["fmt", "--all", "--check"]))?;
    eprintln!("==> API docs: rustdoc with its warnings as errors (links that lead nowhere)");
    run_cmd(
        cargo()
            .args(["doc", "--no-deps", "-p", "mes-client", "-p", "devstack"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    run_cmd(
        cargo()
            .args([
                "doc",
                "--no-deps",
                "-p",
                "mes-portal",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    eprintln!("==> Lints: clippy, warnings as errors, native and wasm32 (clippy.toml)");
    run_cmd(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    run_cmd(cargo().args([
        "clippy",
        "-p",
        "mes-portal",
        "-p",
        "mes-client",
        "--all-targets",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ]))?;
    eprintln!("==> Native tests: mes-client, devstack, the portal's pure logic");
    run_cmd(cargo().args(["test", "-p", "mes-client", "-p", "devstack", "-p", "xtask"]))?;
    run_cmd(cargo().args(["test", "-p", "mes-portal", "--lib"]))?;
    eprintln!(
        "==> Browser tests: wasm-bindgen-test in headless Chromium, under wasm-pack (told not to install anything)"
    );
    for dir in ["crates/mes-client", "."] {
        run_cmd(
            Command::new(&tools.wasm_pack)
                .args(["test", "--headless", "--chrome", "--chromedriver"])
                .arg(&tools.chromedriver)
                .args(["--mode", "no-install", dir])
                .env("PATH", &tools.path)
                .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", root.join("webdriver.json"))
                .env("WASM_BINDGEN_TEST_TIMEOUT", "60")
                .current_dir(root),
        )?;
    }
    build_portal(root, &tools)?;
    eprintln!("==> End-to-end tests: the built portal, the stand-ins and headless Chromium");
    run_cmd(
        cargo()
            .args(["test", "-p", "e2e", "--", "--test-threads", "1"])
            .env("AXE_CORE_JS", setup::axe_core(root)?)
            .env("OIDC_PROVIDER_MODULES", setup::oidc_provider(root)?)
            .env("MES_PORTAL_DIST", root.join("dist"))
            .env("MES_PORTAL_EXAMPLES", root.join("examples"))
            .env("CHROMEDRIVER", &tools.chromedriver)
            .env("CHROMIUM", &tools.chromium),
    )?;
    eprintln!("==> All tests passed");
    Ok(())
}
