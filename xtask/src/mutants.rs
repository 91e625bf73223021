//! `cargo xtask mutants`: mutation testing (cargo-mutants) over the code whose tests must be able
//! to fail — mes-client's security modules and the portal's pure grid logic. Every mutant must be
//! caught by a test, or be unviable (does not compile), or be listed with its reason in
//! `xtask/mutants-survivors.txt`. The result is written to docs/mutants.md.

use crate::cargo;
use anyhow::{Context as _, Result, bail};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// What is mutated, and which tests judge it: for each file the tests that exercise it (native
/// tests over real HTTP against devstack; the slow browser-driven suites are not needed, since
/// these modules' behaviour is all reachable natively). Narrow test sets keep a mutant to one
/// build and a few seconds of tests.
struct Scope {
    name: &'static str,
    package: &'static str,
    file: &'static str,
    test_args: &'static [&'static str],
    /// Seconds a mutant's tests may take; a mutant that makes them hang past this (an endless
    /// loop) counts as caught: the tests did not pass.
    timeout: u32,
}

const SCOPES: &[Scope] = &[
    Scope {
        name: "jwt",
        package: "mes-client",
        file: "crates/mes-client/src/jwt.rs",
        test_args: &["--lib", "--test", "signatures"],
        timeout: 240,
    },
    Scope {
        name: "signin",
        package: "mes-client",
        file: "crates/mes-client/src/signin.rs",
        test_args: &["--lib", "--test", "devstack", "--test", "renewal"],
        timeout: 240,
    },
    Scope {
        name: "site",
        package: "mes-client",
        file: "crates/mes-client/src/site.rs",
        test_args: &["--lib"],
        timeout: 120,
    },
    Scope {
        name: "session",
        package: "mes-client",
        file: "crates/mes-client/src/session.rs",
        test_args: &["--lib", "--test", "devstack", "--test", "renewal"],
        timeout: 240,
    },
    Scope {
        name: "discovery",
        package: "mes-client",
        file: "crates/mes-client/src/discovery.rs",
        test_args: &["--lib", "--test", "devstack"],
        timeout: 240,
    },
    Scope {
        name: "user_session",
        package: "mes-client",
        file: "crates/mes-client/src/user_session.rs",
        test_args: &["--test", "renewal"],
        timeout: 240,
    },
    Scope {
        name: "ask",
        package: "mes-client",
        file: "crates/mes-client/src/ask.rs",
        test_args: &["--lib"],
        timeout: 60,
    },
    Scope {
        name: "genealogy",
        package: "mes-client",
        file: "crates/mes-client/src/genealogy.rs",
        test_args: &["--lib"],
        timeout: 60,
    },
    Scope {
        name: "grid_model",
        package: "mes-portal",
        file: "src/grid_model/*.rs",
        test_args: &["--lib"],
        timeout: 30,
    },
    Scope {
        name: "secret",
        package: "mes-client",
        file: "crates/mes-client/src/secret.rs",
        test_args: &["--lib"],
        timeout: 60,
    },
    Scope {
        name: "token",
        package: "mes-client",
        file: "crates/mes-client/src/token.rs",
        test_args: &["--lib", "--test", "devstack", "--test", "renewal"],
        timeout: 240,
    },
    Scope {
        name: "absolute_url",
        package: "mes-client",
        file: "crates/mes-client/src/absolute_url.rs",
        test_args: &["--lib", "--test", "absolute_url"],
        timeout: 60,
    },
    Scope {
        name: "service",
        package: "mes-client",
        file: "crates/mes-client/src/service.rs",
        test_args: &["--lib", "--test", "renewal"],
        timeout: 240,
    },
    Scope {
        name: "mes",
        package: "mes-client",
        file: "crates/mes-client/src/mes.rs",
        test_args: &["--lib", "--test", "devstack", "--test", "renewal"],
        timeout: 240,
    },
    Scope {
        name: "config",
        package: "mes-client",
        file: "crates/mes-client/src/config.rs",
        test_args: &["--lib", "--test", "devstack"],
        timeout: 240,
    },
    Scope {
        name: "transport",
        package: "mes-client",
        file: "crates/mes-client/src/transport.rs",
        test_args: &["--lib", "--test", "devstack", "--test", "renewal"],
        timeout: 240,
    },
    Scope {
        name: "native_transport",
        package: "mes-client",
        file: "crates/mes-client/src/transport/native.rs",
        test_args: &["--lib", "--test", "devstack", "--test", "renewal"],
        timeout: 240,
    },
    Scope {
        name: "rows",
        package: "mes-client",
        file: "crates/mes-client/src/rows.rs",
        test_args: &["--lib"],
        timeout: 30,
    },
];

const SURVIVORS: &str = "xtask/mutants-survivors.txt";

/// Allowed survivors: `mutant<TAB># why` per line (the mutant as cargo-mutants names it without
/// line numbers, so the list survives edits elsewhere in the file).
fn allowed(root: &Path) -> Result<Vec<(String, String)>> {
    let text =
        std::fs::read_to_string(root.join(SURVIVORS)).with_context(|| format!("reading {SURVIVORS}"))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("//"))
        .filter_map(|l| {
            l.split_once("\t# ")
                .map(|(m, why)| (m.trim().to_owned(), why.trim().to_owned()))
        })
        .collect())
}

/// The mutants listed in one of cargo-mutants' result files, named without line and column
/// (`src/x.rs:12:5: replace …` → `src/x.rs: replace …`), so the names survive edits elsewhere.
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(without_position)
        .collect()
}

fn without_position(name: &str) -> String {
    let Some((place, mutation)) = name.split_once(": ") else {
        return name.to_owned();
    };
    let mut file = place;
    for _ in 0..2 {
        if let Some((head, tail)) = file.rsplit_once(':')
            && !tail.is_empty()
            && tail.bytes().all(|b| b.is_ascii_digit())
        {
            file = head;
        }
    }
    format!("{file}: {mutation}")
}

/// Runs cargo-mutants over every scope, then checks the survivors against the allowed list.
pub fn run(root: &Path, options: &crate::flags::Mutants) -> Result<()> {
    // `--report`: only docs/mutants.md again, from the summaries already in target/mutants.
    if options.report {
        return write_doc(root, header());
    }
    crate::setup::mutants()?;
    // `--since REV`: only the mutants in lines changed since REV (cargo-mutants' --in-diff), a
    // quick check of a change; its results go to target/mutants-since, docs/mutants.md stays.
    let since = options.since.as_deref();
    let only: Vec<&str> = options.scopes.iter().map(String::as_str).collect();
    if let Some(unknown) = only.iter().find(|name| !SCOPES.iter().any(|s| s.name == **name)) {
        let known: Vec<&str> = SCOPES.iter().map(|s| s.name).collect();
        bail!(
            "no mutation scope \"{unknown}\"; the scopes: {}",
            known.join(", ")
        );
    }
    let results = root.join(if since.is_some() {
        "target/mutants-since"
    } else {
        "target/mutants"
    });
    let diff = match since {
        Some(rev) => {
            let output = Command::new("git")
                .args(["diff", "--no-color", rev, "--"])
                .current_dir(root)
                .output()
                .context("running git diff")?;
            if !output.status.success() {
                bail!(
                    "git diff {rev} failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
            }
            std::fs::create_dir_all(&results)?;
            let path = results.join("since.diff");
            std::fs::write(&path, &output.stdout)?;
            Some(path)
        }
        None => None,
    };
    let allowed = allowed(root)?;
    let header = header();
    let mut unexplained = Vec::new();
    for scope in SCOPES
        .iter()
        .filter(|s| only.is_empty() || only.contains(&s.name))
    {
        let out = results.join(scope.name);
        std::fs::create_dir_all(&out)?;
        eprintln!("==> Mutants of {}", scope.file);
        let mut cmd = cargo();
        let timeout = scope.timeout.to_string();
        cmd.args([
            "mutants",
            "-p",
            scope.package,
            "-j",
            "1",
            "--timeout",
            &timeout,
            "--no-shuffle",
            "-o",
        ])
        .arg(&out)
        .current_dir(root);
        cmd.args(["-f", scope.file]);
        if let Some(diff) = &diff {
            cmd.arg("--in-diff").arg(diff);
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
        let mut report = String::new();
        let dir = out.join("mutants.out");
        let (caught, missed, unviable, timeout) = (
            lines(&dir.join("caught.txt")),
            lines(&dir.join("missed.txt")),
            lines(&dir.join("unviable.txt")),
            lines(&dir.join("timeout.txt")),
        );
        let _ = writeln!(
            report,
            "## `{}`\n\nJudged by `cargo test -p {} {}`.\n\n| mutants | caught | unviable | missed | timed out |\n|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} |\n",
            scope.file,
            scope.package,
            scope.test_args.join(" "),
            caught.len() + missed.len() + unviable.len() + timeout.len(),
            caught.len(),
            unviable.len(),
            missed.len(),
            timeout.len(),
        );
        if !timeout.is_empty() {
            let _ = writeln!(
                report,
                "Caught by the time limit ({} s: the tests hung):\n",
                scope.timeout
            );
            for hung in &timeout {
                let _ = writeln!(report, "- `{hung}`");
            }
            report.push('\n');
        }
        let survivors: Vec<&String> = missed.iter().collect();
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
        eprintln!("{report}");
        std::fs::write(out.join("summary.md"), &report)?;
    }
    if since.is_some() {
        eprintln!("==> --since: docs/mutants.md left as it is (it records whole runs)");
    } else {
        write_doc(root, header)?;
    }
    if !unexplained.is_empty() {
        bail!(
            "{} mutants survived without a reason in {SURVIVORS}:\n  {}",
            unexplained.len(),
            unexplained.join("\n  ")
        );
    }
    eprintln!("==> Every mutant was caught, unviable, or is an allowed survivor");
    Ok(())
}

/// The document's opening words.
fn header() -> String {
    String::from(
        "# Mutation testing\n\nWritten by `cargo xtask mutants` (cargo-mutants, native tests over real HTTP against devstack).\n\
         A mutant is a small change to the code — a condition negated, a function made to return a constant. Each must make \
         a test fail (caught) or not compile (unviable); the few that survive are listed in `xtask/mutants-survivors.txt` \
         with the reason, and any other survivor fails the command. Code that runs only in the browser is judged by the \
         browser tests instead (the table at the end).\n\n",
    )
}

/// docs/mutants.md from every scope's latest summary (scopes can be run one at a time): a scope
/// not run on this machine keeps its section from the docs/mutants.md in the repository, so a
/// run of one scope on a fresh clone does not erase the others' results.
fn write_doc(root: &Path, header: String) -> Result<()> {
    let before = std::fs::read_to_string(root.join("docs/mutants.md")).unwrap_or_default();
    let mut doc = header;
    for scope in SCOPES {
        match std::fs::read_to_string(root.join("target/mutants").join(scope.name).join("summary.md")) {
            Ok(summary) => doc.push_str(&summary),
            Err(_) => match recorded_section(&before, scope.file) {
                Some(section) => doc.push_str(section),
                None => {
                    let _ = writeln!(
                        doc,
                        "## `{}`\n\nNot run yet (`cargo xtask mutants {}`).\n",
                        scope.file, scope.name
                    );
                }
            },
        }
    }
    if let Ok(by_hand) = std::fs::read_to_string(root.join("xtask/mutants-by-hand.md")) {
        doc.push_str(&by_hand);
    }
    std::fs::write(root.join("docs/mutants.md"), doc)?;
    eprintln!("==> Wrote docs/mutants.md");
    Ok(())
}

/// The section of a written docs/mutants.md about `file`: from its heading to the next `## `.
fn recorded_section<'d>(doc: &'d str, file: &str) -> Option<&'d str> {
    let heading = format!("## `{file}`\n");
    let start = doc.find(&heading)?;
    let rest = &doc[start + heading.len()..];
    let end = rest.find("\n## ").map_or(rest.len(), |i| i + 1);
    Some(&doc[start..start + heading.len() + end])
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_scope_not_run_here_keeps_its_recorded_section() {
        let doc = "# M\n\n## `a.rs`\n\n| 1 |\n\n## `b.rs`\n\nb text\n\n## Broken by hand\n";
        assert_eq!(
            super::recorded_section(doc, "a.rs"),
            Some("## `a.rs`\n\n| 1 |\n\n")
        );
        assert_eq!(
            super::recorded_section(doc, "b.rs"),
            Some("## `b.rs`\n\nb text\n\n")
        );
        assert_eq!(super::recorded_section(doc, "c.rs"), None);
    }

    #[test]
    fn mutant_names_lose_their_position_only() {
        assert_eq!(
            super::without_position(
                "crates/mes-client/src/jwt.rs:119:9: replace Claims::identity -> String with String::new()"
            ),
            "crates/mes-client/src/jwt.rs: replace Claims::identity -> String with String::new()"
        );
        assert_eq!(
            super::without_position("src/a.rs: replace x"),
            "src/a.rs: replace x"
        );
    }
}
