//! `cargo xtask bench`: the release portal measured in headless Chromium beside AG Grid, written
//! to docs/benchmarks.md (the bench's own flags: `--runs`, `--rows`, `--out`, `--only`).

use crate::{cargo, run_cmd, setup};
use anyhow::Result;
use std::path::Path;

/// Builds the release portal and runs the bench (`e2e`'s `bench` binary) with `bench_flags`.
pub fn run(root: &Path, bench_flags: &[String]) -> Result<()> {
    let tools = setup::all(root, true)?;
    setup::twiggy()?;
    let (ag_grid, ag_grid_version) = setup::ag_grid(root)?;
    crate::build::portal(root, &tools)?;
    eprintln!("==> Benchmarks (headless Chromium; several minutes)");
    run_cmd(
        cargo()
            .args(["run", "--quiet", "-p", "e2e", "--bin", "bench", "--"])
            .args(bench_flags)
            .env("PATH", &tools.path)
            .env("MES_PORTAL_DIST", root.join("dist"))
            .env("AG_GRID_JS", ag_grid)
            .env("AG_GRID_VERSION", ag_grid_version)
            .env("CHROMEDRIVER", &tools.chromedriver)
            .env("CHROMIUM", &tools.chromium),
    )
}
