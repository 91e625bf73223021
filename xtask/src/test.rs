//! `cargo xtask test`: what CI runs — formatting, API docs and clippy (native and wasm32) checked,
//! then every test: native, browser (under wasm-pack) and end to end against the release build.

use crate::{cargo, run_cmd, setup};
use anyhow::Result;
use std::path::Path;
use std::process::Command;

/// Formatting, docs, clippy, then every test: native, browser, end to end.
pub fn run(root: &Path) -> Result<()> {
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
    crate::build::portal(root, &tools)?;
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
