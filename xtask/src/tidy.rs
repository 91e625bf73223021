//! Tidy checks: boundaries of the code base that a reviewer should not have to remember, held by
//! tests (`cargo test -p xtask`, part of `cargo xtask test`). Modelled on rust-analyzer's tidy.

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// Every file of the repository that is ours (not build output, tools or dependencies).
    fn files(root: &Path) -> Vec<PathBuf> {
        const SKIP: [&str; 6] = ["target", ".git", "dist", "node_modules", ".devstack", "corpus"];
        let mut out = Vec::new();
        let mut dirs = vec![root.to_path_buf()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if path.is_dir() {
                    if !SKIP.contains(&name.as_str()) && !name.starts_with("artifacts") {
                        dirs.push(path);
                    }
                } else {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    /// The text files among [`files`] with an extension in `extensions`, as (path from the
    /// root, text).
    fn texts(extensions: &[&str]) -> Vec<(String, String)> {
        let root = crate::project_root();
        files(&root)
            .into_iter()
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| extensions.contains(&e))
            })
            .filter_map(|p| {
                let text = std::fs::read_to_string(&p).ok()?;
                Some((
                    p.strip_prefix(&root).unwrap_or(&p).to_string_lossy().into_owned(),
                    text,
                ))
            })
            .collect()
    }

    #[test]
    fn the_browser_fetch_is_used_by_mes_clients_transport_alone() {
        // Every AIM and MES call goes through mes-client's `Transport`: one place for time
        // limits, body limits, no cookies, no cache, no redirects of a POST.
        let offenders: Vec<String> = texts(&["rs"])
            .into_iter()
            .filter(|(path, text)| {
                path != "crates/mes-client/src/transport/browser.rs" && text.contains(concat!("gloo", "_net"))
            })
            .map(|(path, _)| path)
            .collect();
        assert!(
            offenders.is_empty(),
            "gloo-net outside crates/mes-client/src/transport/browser.rs: {offenders:?}"
        );
    }

    #[test]
    fn the_address_bar_has_one_owner() {
        // The portal's path, query and history are `src/nav.rs`'s; mes-client's browser glue
        // reads the page's address (`page.rs`) and takes the sign-in code out of the address bar
        // of a popup it relays from (`popup.rs`).
        let owners = [
            "src/nav.rs",
            "crates/mes-client/src/browser/page.rs",
            "crates/mes-client/src/browser/popup.rs",
        ];
        let needles = [
            concat!(".history", "()"),
            concat!("pop", "state"),
            concat!("location().", "search"),
            concat!("location().", "pathname"),
        ];
        let offenders: Vec<String> = texts(&["rs"])
            .into_iter()
            .filter(|(path, _)| {
                !owners.contains(&path.as_str())
                    && !path.starts_with("crates/e2e")
                    && !path.starts_with("tests/")
            })
            .filter_map(|(path, text)| {
                // Documentation may show how it is done; code may not do it.
                let code: String = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n");
                needles
                    .iter()
                    .find(|n| code.contains(*n))
                    .map(|n| format!("{path}: {n}"))
            })
            .collect();
        assert!(
            offenders.is_empty(),
            "the address bar outside src/nav.rs: {offenders:?}"
        );
    }

    #[test]
    fn mes_client_knows_no_ui() {
        let manifest = std::fs::read_to_string(crate::project_root().join("crates/mes-client/Cargo.toml"))
            .expect("manifest");
        assert!(
            !manifest.contains("leptos"),
            "mes-client must not depend on leptos: the UI depends on it, never the other way"
        );
    }

    #[test]
    fn nothing_points_outside_the_repository() {
        // Design notes that are not in the repository help no reader: what matters is written in
        // ARCHITECTURE.md.
        let needles = [
            concat!("../", "shared"),
            concat!("DESIGN", ".md"),
            concat!("DESIGN", " §"),
            concat!("STYLE", ".md"),
            concat!("TOOLCHAIN", ".md"),
        ];
        let offenders: Vec<String> = texts(&["rs", "md", "toml", "html", "js", "css", "sh", "json"])
            .into_iter()
            .filter_map(|(path, text)| {
                needles
                    .iter()
                    .find(|n| text.contains(*n))
                    .map(|n| format!("{path}: {n}"))
            })
            .collect();
        assert!(
            offenders.is_empty(),
            "references to files outside the repository: {offenders:?}"
        );
    }

    #[test]
    fn no_unwrap_outside_tests() {
        // A panic in the portal is a dead page; in a service, a dead job. Non-test code says what
        // it expects (`expect` naming the invariant) or handles the case.
        let needle = concat!(".unwrap", "()");
        let offenders: Vec<String> = texts(&["rs"])
            .into_iter()
            .filter(|(path, _)| {
                !path.contains("/tests/") && !path.starts_with("tests/") && !path.contains("/fuzz/")
            })
            .filter_map(|(path, text)| {
                // A file's unit tests are its `#[cfg(test)]` module at the end.
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                code.lines()
                    .position(|line| line.contains(needle) && !line.trim_start().starts_with("//"))
                    .map(|line| format!("{path}:{}", line + 1))
            })
            .collect();
        assert!(offenders.is_empty(), "unwrap() outside tests: {offenders:?}");
    }

    /// The parameters of each function declared in `code`: (line, name, count). Counts the
    /// commas at the outermost level of the parameter list (generics, tuples, closures' types
    /// and slices nest), so `fn f(a: (u8, u8), b: &[T; 2])` has two.
    fn parameter_counts(code: &str) -> Vec<(usize, String, usize)> {
        let mut out = Vec::new();
        let bytes = code.as_bytes();
        let mut from = 0;
        while let Some(at) = code[from..].find("fn ") {
            let start = from + at;
            from = start + 3;
            let before = code[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = code[from..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() {
                continue;
            }
            // The parameter list: the first `(` after the name, through its match.
            let Some(open) = code[from..].find('(').map(|i| from + i) else {
                break;
            };
            let (mut depth, mut count, mut seen, mut i) = (0i32, 0usize, false, open + 1);
            while i < bytes.len() {
                match bytes[i] {
                    b'(' | b'<' | b'[' | b'{' => depth += 1,
                    b')' if depth == 0 => break,
                    b')' | b']' | b'}' => depth -= 1,
                    // `->` in a closure type is not a closing angle bracket.
                    b'>' if bytes[i - 1] != b'-' => depth -= 1,
                    b',' if depth == 0 => {
                        count += 1;
                        seen = false;
                    }
                    c if !c.is_ascii_whitespace() => seen = true,
                    _ => {}
                }
                i += 1;
            }
            let params = count + usize::from(seen);
            out.push((code[..start].matches('\n').count() + 1, name, params));
            from = i;
        }
        out
    }

    #[test]
    fn parameters_are_counted_at_the_outer_level() {
        let code = "fn a() {}\nfn b(x: u8) {}\npub async fn c(x: (u8, u8), y: &[u8; 2], f: impl Fn(u8, u8) -> u8, m: HashMap<K, V>,) {}";
        assert_eq!(
            parameter_counts(code),
            [(1, "a".into(), 0), (2, "b".into(), 1), (3, "c".into(), 4)]
        );
    }

    #[test]
    fn functions_take_at_most_five_arguments() {
        // More than that is a request in disguise: give it a builder or a struct (as mes-client's
        // `SignInClient::exchange_code(…)` and `session.lookup(api, endpoint)` are), so each
        // argument is named where it is given. Components' props are named already.
        const MOST: usize = 5;
        let offenders: Vec<String> = texts(&["rs"])
            .into_iter()
            .filter(|(path, _)| {
                !path.contains("/tests/") && !path.starts_with("tests/") && !path.starts_with("xtask/")
            })
            .flat_map(|(path, text)| {
                let code = text.split("#[cfg(test)]").next().unwrap_or_default().to_owned();
                let lines: Vec<&str> = code.lines().collect();
                // `line` counts from 1; the attribute sits on one of the three lines above.
                let component = |line: usize| {
                    lines[line.saturating_sub(4)..line.saturating_sub(1).min(lines.len())]
                        .iter()
                        .any(|l| l.trim() == "#[component]")
                };
                parameter_counts(&code)
                    .into_iter()
                    .filter(|(line, _, count)| *count > MOST && !component(*line))
                    .map(|(line, name, count)| format!("{path}:{line} {name} ({count})"))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(
            offenders.is_empty(),
            "functions with more than {MOST} parameters: {offenders:?}"
        );
    }
}
