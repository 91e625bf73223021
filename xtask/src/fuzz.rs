//! `cargo xtask fuzz`: cargo-fuzz (nightly) over mes-client's parsers, each for a bounded time.

use crate::{run_cmd, setup};
use anyhow::{Result, bail};
use std::path::Path;
use std::process::Command;

/// The fuzz targets in crates/mes-client/fuzz.
const FUZZ_TARGETS: [&str; 6] = [
    "callback",
    "id_token",
    "config",
    "mes_response",
    "discovery",
    "token_response",
];

/// Fuzzes `targets` (all when none) for `seconds` each.
pub fn run(root: &Path, seconds: u32, targets: &[String]) -> Result<()> {
    if let Some(unknown) = targets.iter().find(|t| !FUZZ_TARGETS.contains(&t.as_str())) {
        bail!(
            "no fuzz target {unknown:?}; the targets: {}",
            FUZZ_TARGETS.join(", ")
        );
    }
    let targets: Vec<&str> = if targets.is_empty() {
        FUZZ_TARGETS.to_vec()
    } else {
        targets.iter().map(String::as_str).collect()
    };
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
