//! `cargo xtask`: set-up, build, demo and tests in one place, so a fresh machine and CI need no
//! hand steps. Installs only through the package registries (crates.io, npm, Debian).
//!
//! In rust-analyzer's shape: the command line is parsed once into typed values (`flags.rs`), each
//! command is a module of its own (`build`, `demo`, `test`, `bench`, `fuzz`, `mutants`, `setup`),
//! and `build` owns everything after `cargo build` — trunk, the embedding loader, the split,
//! wasm-opt, integrity values and gzip copies.

mod bench;
mod build;
mod demo;
mod flags;
mod fuzz;
mod mutants;
mod setup;
mod test;
mod tidy;

use anyhow::{Context as _, Result, bail};
use flags::Command as Xtask;
use std::path::{Path, PathBuf};
use std::process::Command;

const HELP: &str = "cargo xtask <command>

  demo     Install what is missing, build the portal, start AIM, MES and the portal server on
           loopback, print the portal URL and the demo accounts. Ctrl-C stops everything.
  test     Install what is missing (browser included), then check formatting, docs and clippy
           (native and wasm32) and run every test: native, browser (wasm-bindgen-test in headless
           Chromium, under wasm-pack) and end to end.
  setup    Install what is missing: wasm32 target, trunk, wasm-bindgen-cli, wasm-opt
           (add --browser for Chromium, chromedriver and wasm-pack).
  build    Build the portal (release, wasm-opt -Oz) into dist/.
  bench    Build the release portal, start the stand-ins with 10,000, 100,000 and 1,000,000
           rows, drive headless Chromium and write docs/benchmarks.md (sizes, the plant network
           through devstack and nginx, sign-in cost, the grid beside AG Grid Community 36 from
           npm, renewal, MES throughput). --runs N (default 5), --rows 10000,100000,
           --out FILE, --only grids|load (just those, printed).
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
    match flags::parse(&args)? {
        Xtask::Setup { browser } => setup::all(&root, browser).map(|_| ()),
        Xtask::Build => {
            let tools = setup::all(&root, false)?;
            build::portal(&root, &tools)
        }
        Xtask::Demo { devstack } => demo::run(&root, &devstack),
        Xtask::Test => test::run(&root),
        Xtask::Fuzz { seconds, targets } => fuzz::run(&root, seconds, &targets),
        Xtask::Bench { bench } => bench::run(&root, &bench),
        Xtask::Mutants(options) => mutants::run(&root, &options),
        Xtask::Help => {
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
