//! `cargo xtask`'s command line, parsed once into typed values: a command's flags are read here
//! and nowhere else, and a flag a command does not know is an error that names it.

use anyhow::{Result, bail};
use std::str::FromStr;

/// What `cargo xtask` was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// `setup [--browser]`.
    Setup {
        /// Chromium, chromedriver and wasm-pack too.
        browser: bool,
    },
    /// `build`.
    Build,
    /// `demo [devstack flags]`: the flags go on to `devstack up` (`--language de`, …).
    Demo {
        /// Passed to `devstack up` as they are.
        devstack: Vec<String>,
    },
    /// `test`.
    Test,
    /// `bench [--runs N] [--rows A,B] [--out FILE] [--only grids]`: read by the bench itself.
    Bench {
        /// Passed to the bench as they are.
        bench: Vec<String>,
    },
    /// `fuzz [targets] [--seconds N]`.
    Fuzz {
        /// Seconds per target.
        seconds: u32,
        /// The targets named (all when none).
        targets: Vec<String>,
    },
    /// `mutants [scopes] [--since REV] [--report]`.
    Mutants(Mutants),
    /// No command, or `help`.
    Help,
}

/// `cargo xtask mutants`'s flags.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mutants {
    /// Only docs/mutants.md again, from the recorded summaries.
    pub report: bool,
    /// Only the mutants in lines changed since this git revision.
    pub since: Option<String>,
    /// The scopes named (all when none).
    pub scopes: Vec<String>,
}

/// Parses `cargo xtask`'s arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Command> {
    let Some((command, rest)) = args.split_first() else {
        return Ok(Command::Help);
    };
    let mut flags = Flags(rest.to_vec());
    let parsed = match command.as_str() {
        "setup" => Command::Setup {
            browser: flags.switch("--browser"),
        },
        "build" => Command::Build,
        "test" => Command::Test,
        "demo" => Command::Demo {
            devstack: std::mem::take(&mut flags.0),
        },
        "bench" => Command::Bench {
            bench: std::mem::take(&mut flags.0),
        },
        "fuzz" => Command::Fuzz {
            seconds: flags.value("--seconds")?.unwrap_or(60),
            targets: flags.positionals(),
        },
        "mutants" => Command::Mutants(Mutants {
            report: flags.switch("--report"),
            since: flags.value("--since")?,
            scopes: flags.positionals(),
        }),
        "help" | "--help" | "-h" => Command::Help,
        other => bail!("no command \"{other}\" (cargo xtask help lists them)"),
    };
    flags.finish(command)?;
    Ok(parsed)
}

/// The arguments not read yet.
struct Flags(Vec<String>);

impl Flags {
    /// Whether `name` was given (taken out).
    fn switch(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|a| a != name);
        self.0.len() != before
    }

    /// The value after `name` (both taken out), read as a `T`.
    fn value<T: FromStr>(&mut self, name: &str) -> Result<Option<T>> {
        let Some(at) = self.0.iter().position(|a| a == name) else {
            return Ok(None);
        };
        if at + 1 >= self.0.len() || self.0[at + 1].starts_with("--") {
            bail!("{name} needs a value");
        }
        let value = self.0.remove(at + 1);
        self.0.remove(at);
        match value.parse() {
            Ok(v) => Ok(Some(v)),
            Err(_) => bail!("{name} {value}: not a value it takes"),
        }
    }

    /// The arguments that are no flags (taken out).
    fn positionals(&mut self) -> Vec<String> {
        let (flags, positionals) = std::mem::take(&mut self.0)
            .into_iter()
            .partition(|a| a.starts_with("--"));
        self.0 = flags;
        positionals
    }

    /// Fails on any argument `command` did not read.
    fn finish(self, command: &str) -> Result<()> {
        match self.0.first() {
            Some(unknown) => bail!("cargo xtask {command} does not take {unknown}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> Result<Command> {
        let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        parse(&args)
    }

    #[test]
    fn each_command_reads_its_own_flags_into_values() {
        assert_eq!(parsed("").expect("help"), Command::Help);
        assert_eq!(
            parsed("setup --browser").expect("setup"),
            Command::Setup { browser: true }
        );
        assert_eq!(
            parsed("fuzz id_token --seconds 300").expect("fuzz"),
            Command::Fuzz {
                seconds: 300,
                targets: vec!["id_token".into()]
            }
        );
        assert_eq!(
            parsed("mutants --since origin/main jwt").expect("mutants"),
            Command::Mutants(Mutants {
                report: false,
                since: Some("origin/main".into()),
                scopes: vec!["jwt".into()]
            })
        );
        assert_eq!(
            parsed("demo --language de").expect("demo"),
            Command::Demo {
                devstack: vec!["--language".into(), "de".into()]
            }
        );
    }

    #[test]
    fn a_flag_that_is_not_the_commands_or_lacks_its_value_is_named() {
        let error = |line: &str| parsed(line).expect_err(line).to_string();
        assert_eq!(error("test --fast"), "cargo xtask test does not take --fast");
        assert_eq!(
            error("setup --chrome"),
            "cargo xtask setup does not take --chrome"
        );
        assert_eq!(error("fuzz --seconds"), "--seconds needs a value");
        assert_eq!(
            error("fuzz --seconds soon"),
            "--seconds soon: not a value it takes"
        );
        assert_eq!(error("mutants --since"), "--since needs a value");
        assert_eq!(
            error("deploy"),
            "no command \"deploy\" (cargo xtask help lists them)"
        );
    }
}
