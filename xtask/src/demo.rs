//! `cargo xtask demo`: the portal built, AIM, the MES and the portal server started on loopback,
//! the URL and the demo accounts printed; Ctrl-C stops everything.

use crate::{cargo, run_cmd, setup};
use anyhow::{Context as _, Result, bail};
use std::path::Path;
use std::process::{Command, Stdio};

/// Builds the portal, starts the stand-ins and serves it; `devstack` flags go on to `devstack up`.
pub fn run(root: &Path, devstack_flags: &[String]) -> Result<()> {
    let tools = setup::all(root, false)?;
    crate::build::portal(root, &tools)?;
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
        .args(devstack_flags)
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
