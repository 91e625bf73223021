//! `cargo xtask mutants`: mutation testing (cargo-mutants) over the code whose tests must be able
//! to fail — mes-client's security modules and the portal's pure grid logic. Every mutant must be
//! caught by a test, or be unviable (does not compile), or be listed with its reason in
//! `xtask/mutants-survivors.txt`. The result is written to docs/mutants.md.

use crate::cargo;
use anyhow::{Context as _, Result, bail};
use std::fmt::Write as _;
use std::path::Path;

/// What is mutated, and which tests judge it (the slow browser-driven suites are not needed:
/// these modules' behaviour is all reachable from native tests over real HTTP).
struct Scope {
    package: &'static str,
    files: &'static [&'static str],
    test_args: &'static [&'static str],
}

const SCOPES: &[Scope] = &[
    Scope {
        package: "mes-client",
        files: &[
            "crates/mes-client/src/jwt.rs",
            "crates/mes-client/src/signin.rs",
            "crates/mes-client/src/discovery.rs",
            "crates/mes-client/src/user_session.rs",
        ],
        test_args: &["--lib", "--test", "signatures", "--test", "renewal", "--test", "devstack"],
    },
    Scope { package: "mes-portal", files: &["src/grid_model.rs"], test_args: &["--lib"] },
];

const SURVIVORS: &str = "xtask/mutants-survivors.txt";

/// Allowed survivors: `mutant<TAB># why` per line (the mutant as cargo-mutants names it without
/// line numbers, so the list survives edits elsewhere in the file).
fn allowed(root: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(root.join(SURVIVORS)).with_context(|| format!("reading {SURVIVORS}"))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("//"))
        .filter_map(|l| l.split_once("\t# ").map(|(m, why)| (m.trim().to_owned(), why.trim().to_owned())))
        .collect())
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).filter(|l| !l.is_empty()).collect()
}

/// Runs cargo-mutants over every scope, then checks the survivors against the allowed list.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    crate::setup::mutants()?;
    let only: Vec<&str> = args.iter().map(String::as_str).collect();
    let allowed = allowed(root)?;
    let mut report = String::from(
        "# Mutation testing\n\nWritten by `cargo xtask mutants` (cargo-mutants, native tests over real HTTP against devstack).\n\
         A mutant is a small change to the code — a condition negated, a function made to return a constant. Each must make \
         a test fail (caught) or not compile (unviable); the few that survive are listed in `xtask/mutants-survivors.txt` \
         with the reason, and any other survivor fails the command.\n\n",
    );
    let mut unexplained = Vec::new();
    for scope in SCOPES.iter().filter(|s| only.is_empty() || only.contains(&s.package)) {
        let out = root.join("target/mutants").join(scope.package);
        std::fs::create_dir_all(&out)?;
        eprintln!("==> Mutants of {} ({})", scope.package, scope.files.join(", "));
        let mut cmd = cargo();
        cmd.args(["mutants", "-p", scope.package, "-j", "1", "--timeout", "240", "--line-col", "false", "--no-shuffle", "-o"])
            .arg(&out)
            .current_dir(root);
        for file in scope.files {
            cmd.args(["-f", file]);
        }
        for arg in scope.test_args {
            cmd.arg(format!("--cargo-test-arg={arg}"));
        }
        // cargo-mutants exits 2 when mutants survive: judged below against the allowed list.
        eprintln!("$ {cmd:?}");
        let status = cmd.status().context("running cargo mutants")?;
        if !matches!(status.code(), Some(0 | 2 | 3)) {
            bail!("cargo mutants failed ({status})");
        }
        let dir = out.join("mutants.out");
        let (caught, missed, unviable, timeout) = (
            lines(&dir.join("caught.txt")),
            lines(&dir.join("missed.txt")),
            lines(&dir.join("unviable.txt")),
            lines(&dir.join("timeout.txt")),
        );
        let _ = writeln!(
            report,
            "## {}\n\nFiles: {}.\n\n| mutants | caught | unviable | missed | timed out |\n|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} |\n",
            scope.package,
            scope.files.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "),
            caught.len() + missed.len() + unviable.len() + timeout.len(),
            caught.len(),
            unviable.len(),
            missed.len(),
            timeout.len(),
        );
        let survivors: Vec<&String> = missed.iter().chain(&timeout).collect();
        if !survivors.is_empty() {
            report.push_str("Survivors:\n\n");
        }
        for survivor in survivors {
            match allowed.iter().find(|(m, _)| m == survivor) {
                Some((_, why)) => {
                    let _ = writeln!(report, "- `{survivor}` — allowed: {why}");
                }
                None => {
                    let _ = writeln!(report, "- `{survivor}` — **not explained**");
                    unexplained.push(survivor.clone());
                }
            }
        }
        report.push('\n');
    }
    if only.is_empty() {
        std::fs::write(root.join("docs/mutants.md"), &report)?;
        eprintln!("==> Wrote docs/mutants.md");
    } else {
        eprintln!("{report}");
    }
    if !unexplained.is_empty() {
        bail!("{} mutants survived without a reason in {SURVIVORS}:\n  {}", unexplained.len(), unexplained.join("\n  "));
    }
    eprintln!("==> Every mutant was caught, unviable, or is an allowed survivor");
    Ok(())
}
