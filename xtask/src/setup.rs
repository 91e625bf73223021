//! Installs what the build and tests need, each only when missing or at the wrong version.
//! Versions are pinned here; ARCHITECTURE.md says why each one.

use crate::run_cmd;
use anyhow::{Context as _, Result, bail};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

const TRUNK_VERSION: &str = "0.21.14";
const BINARYEN_VERSION: &str = "132.0.0";
const TWIGGY_VERSION: &str = "0.8.0";
const CARGO_FUZZ_VERSION: &str = "0.13.2";
const CARGO_MUTANTS_VERSION: &str = "27.1.0";
const WASM_PACK_VERSION: &str = "0.15.1";
/// `wasm-split-cli` from `wasm_split_cli_support`: the split step of the release build.
const WASM_SPLIT_VERSION: &str = "0.2.4";

/// Where the tools are.
pub struct Tools {
    /// The trunk binary.
    pub trunk: PathBuf,
    /// PATH with wasm-opt and wasm-bindgen first.
    pub path: OsString,
    /// chromedriver (when the browser was asked for).
    pub chromedriver: PathBuf,
    /// chromium.
    pub chromium: PathBuf,
    /// wasm-pack (when the browser was asked for: the browser tests also run under it).
    pub wasm_pack: PathBuf,
    /// wasm-split-cli, which cuts the release wasm into its on-demand parts.
    pub wasm_split: PathBuf,
    /// wasm-bindgen (the version Cargo.lock pins).
    pub wasm_bindgen: PathBuf,
    /// wasm-opt (npm binaryen).
    pub wasm_opt: PathBuf,
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    home.join("bin").join(name)
}

/// The wasm-bindgen version Cargo.lock pins (the CLI must match it exactly).
pub fn locked_wasm_bindgen(root: &Path) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen")
}

/// Installs what is missing; `browser` adds Chromium and chromedriver.
pub fn all(root: &Path, browser: bool) -> Result<Tools> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        eprintln!("==> Adding the wasm32-unknown-unknown target (rustup)");
        run_cmd(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }

    let trunk = cargo_bin("trunk");
    if !output(Command::new(&trunk).arg("--version")).is_some_and(|v| v.contains(TRUNK_VERSION)) {
        eprintln!(
            "==> Installing trunk {TRUNK_VERSION} from crates.io (about 10 minutes on 2 cores; once per machine)"
        );
        run_cmd(Command::new("cargo").args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))?;
    }

    let bindgen_version = locked_wasm_bindgen(root)?;
    let bindgen = cargo_bin("wasm-bindgen");
    if !output(Command::new(&bindgen).arg("--version")).is_some_and(|v| v.contains(&bindgen_version)) {
        eprintln!(
            "==> Installing wasm-bindgen-cli {bindgen_version} from crates.io (about 3 minutes; once per machine)"
        );
        // Not --locked: its lockfile pins a webpki-roots the registry no longer has.
        run_cmd(Command::new("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &bindgen_version,
            "--force",
        ]))?;
    }

    let tools_dir = root.join("target/tools");
    let npm_bin = tools_dir.join("node_modules/.bin");
    if !output(Command::new(npm_bin.join("wasm-opt")).arg("--version"))
        .is_some_and(|v| v.contains("version 132"))
    {
        eprintln!("==> Installing wasm-opt (npm binaryen@{BINARYEN_VERSION}) into target/tools");
        npm_install(&tools_dir, &format!("binaryen@{BINARYEN_VERSION}"))?;
    }

    let wasm_split = cargo_bin("wasm-split-cli");
    // It has no --version; the install records what it installed.
    let installed = output(Command::new("cargo").args(["install", "--list"])).unwrap_or_default();
    if !wasm_split.exists() || !installed.contains(&format!("wasm_split_cli_support v{WASM_SPLIT_VERSION}")) {
        eprintln!(
            "==> Installing wasm-split-cli {WASM_SPLIT_VERSION} from crates.io (about a minute; once per machine)"
        );
        run_cmd(Command::new("cargo").args([
            "install",
            "wasm_split_cli_support",
            "--version",
            WASM_SPLIT_VERSION,
            "--locked",
            "--features",
            "build-binary",
        ]))?;
    }

    let chromium = PathBuf::from("/usr/bin/chromium");
    let chromedriver = PathBuf::from("/usr/bin/chromedriver");
    // The end-to-end suite also serves the built portal through Debian's nginx under TLS
    // (certificates made by openssl), as docs/deploy.md configures it.
    let web_server = [Path::new("/usr/sbin/nginx"), Path::new("/usr/bin/openssl")];
    if browser && !(chromium.exists() && chromedriver.exists() && web_server.iter().all(|p| p.exists())) {
        eprintln!(
            "==> Installing Debian's chromium, chromium-driver, nginx-light and openssl (apt-get; about a minute)"
        );
        run_cmd(
            Command::new("apt-get")
                .arg("update")
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
        run_cmd(
            Command::new("apt-get")
                .args([
                    "install",
                    "-y",
                    "--no-install-recommends",
                    "chromium",
                    "chromium-driver",
                    "nginx-light",
                    "openssl",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
    }

    let wasm_pack = cargo_bin("wasm-pack");
    if browser
        && !output(Command::new(&wasm_pack).arg("--version")).is_some_and(|v| v.contains(WASM_PACK_VERSION))
    {
        eprintln!(
            "==> Installing wasm-pack {WASM_PACK_VERSION} from crates.io (about 2 minutes; once per machine)"
        );
        run_cmd(Command::new("cargo").args([
            "install",
            "wasm-pack",
            "--version",
            WASM_PACK_VERSION,
            "--locked",
        ]))?;
    }

    let mut paths = vec![npm_bin, cargo_bin("")];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(paths)?;
    let wasm_opt = tools_dir.join("node_modules/.bin/wasm-opt");
    Ok(Tools {
        trunk,
        path,
        chromedriver,
        chromium,
        wasm_pack,
        wasm_split,
        wasm_bindgen: bindgen,
        wasm_opt,
    })
}

/// For `cargo xtask bench`: twiggy, which tells what each crate costs in the wasm.
pub fn twiggy() -> Result<()> {
    if !output(Command::new(cargo_bin("twiggy")).arg("--version")).is_some_and(|v| v.contains(TWIGGY_VERSION))
    {
        eprintln!(
            "==> Installing twiggy {TWIGGY_VERSION} from crates.io (about 2 minutes; once per machine)"
        );
        run_cmd(Command::new("cargo").args(["install", "twiggy", "--version", TWIGGY_VERSION, "--locked"]))?;
    }
    Ok(())
}

/// `npm install` of one package into `dir` (its own node_modules), quietly.
fn npm_install(dir: &Path, package: &str) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    run_cmd(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(dir)
            .arg(package),
    )
}

/// The AG Grid major version `cargo xtask bench` measures the portal's grid against.
const AG_GRID_MAJOR: &str = "36";
/// The axe-core major version the end-to-end tests check accessibility with.
const AXE_CORE_MAJOR: &str = "4";

/// An npm package (latest `major`.x) in `target/tools/<dir>`, installed only when missing.
/// Returns its directory and its exact version.
fn npm_package(root: &Path, dir: &str, package: &str, major: &str, why: &str) -> Result<(PathBuf, String)> {
    let dir = root.join("target/tools").join(dir);
    let installed = dir.join("node_modules").join(package);
    let version = || -> Option<String> {
        // npm writes `"version": "36.2.0"` on a line of its own; no JSON parser for one field.
        let text = std::fs::read_to_string(installed.join("package.json")).ok()?;
        let rest = &text[text.find("\"version\"")? + 9..];
        Some(rest.split('"').nth(1)?.to_owned())
    };
    if !version().is_some_and(|v| v.starts_with(&format!("{major}."))) {
        eprintln!(
            "==> Installing {package} {major}.x (npm) into {}, {why}",
            dir.display()
        );
        npm_install(&dir, &format!("{package}@{major}"))?;
    }
    let version = version().with_context(|| format!("{package} did not install"))?;
    Ok((installed, version))
}

/// For `cargo xtask bench`: AG Grid Community (npm, latest 36.x) in target/tools/ag-grid. Returns
/// its browser bundle and its exact version.
pub fn ag_grid(root: &Path) -> Result<(PathBuf, String)> {
    let (package, version) = npm_package(
        root,
        "ag-grid",
        "ag-grid-community",
        AG_GRID_MAJOR,
        "for the side-by-side benchmark",
    )?;
    Ok((package.join("dist/ag-grid-community.min.js"), version))
}

/// For the end-to-end tests: axe-core (npm, latest 4.x) in target/tools/axe. Returns its browser
/// bundle.
pub fn axe_core(root: &Path) -> Result<PathBuf> {
    let (package, _) = npm_package(
        root,
        "axe",
        "axe-core",
        AXE_CORE_MAJOR,
        "for the accessibility checks",
    )?;
    Ok(package.join("axe.min.js"))
}

/// The oidc-provider major version the end-to-end suite signs in at (a certified third-party
/// OpenID provider, besides devstack's AIM).
const OIDC_PROVIDER_MAJOR: &str = "9";

/// npm's `oidc-provider` (latest 9.x) in `target/tools/oidc`; returns its `node_modules`.
pub fn oidc_provider(root: &Path) -> Result<PathBuf> {
    let (package, _) = npm_package(
        root,
        "oidc",
        "oidc-provider",
        OIDC_PROVIDER_MAJOR,
        "a certified OpenID provider for the end-to-end tests",
    )?;
    Ok(package.parent().map(Path::to_path_buf).unwrap_or(package))
}

/// For `cargo xtask fuzz`: the nightly toolchain (libFuzzer needs its sanitizer flags) and
/// cargo-fuzz, each only when missing.
pub fn fuzzing() -> Result<()> {
    let toolchains = output(Command::new("rustup").args(["toolchain", "list"])).unwrap_or_default();
    if !toolchains.lines().any(|l| l.starts_with("nightly")) {
        eprintln!("==> Installing the nightly toolchain (rustup, minimal profile)");
        run_cmd(Command::new("rustup").args(["toolchain", "install", "nightly", "--profile", "minimal"]))?;
    }
    if !output(Command::new(cargo_bin("cargo-fuzz")).arg("--version"))
        .is_some_and(|v| v.contains(CARGO_FUZZ_VERSION))
    {
        eprintln!(
            "==> Installing cargo-fuzz {CARGO_FUZZ_VERSION} from crates.io (about 2 minutes; once per machine)"
        );
        run_cmd(Command::new("cargo").args([
            "install",
            "cargo-fuzz",
            "--version",
            CARGO_FUZZ_VERSION,
            "--locked",
        ]))?;
    }
    Ok(())
}

/// For `cargo xtask mutants`: cargo-mutants, only when missing.
pub fn mutants() -> Result<()> {
    // As a cargo subcommand it answers --version only after its subcommand name.
    if !output(Command::new(cargo_bin("cargo-mutants")).args(["mutants", "--version"]))
        .is_some_and(|v| v.contains(CARGO_MUTANTS_VERSION))
    {
        eprintln!(
            "==> Installing cargo-mutants {CARGO_MUTANTS_VERSION} from crates.io (about 3 minutes; once per machine)"
        );
        run_cmd(Command::new("cargo").args([
            "install",
            "cargo-mutants",
            "--version",
            CARGO_MUTANTS_VERSION,
            "--locked",
        ]))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn wasm_bindgen_cli_version_comes_from_the_lockfile() {
        let root = crate::project_root();
        let version = super::locked_wasm_bindgen(&root).expect("Cargo.lock names wasm-bindgen");
        assert!(version.starts_with("0.2."), "{version}");
        let trunk_toml = std::fs::read_to_string(root.join("Trunk.toml")).expect("Trunk.toml");
        assert!(
            trunk_toml.contains(&format!("wasm_bindgen = \"{version}\"")),
            "Trunk.toml must pin the same wasm-bindgen as Cargo.lock"
        );
    }
}
