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
                path != "crates/mes-client/src/transport.rs" && text.contains(concat!("gloo", "_net"))
            })
            .map(|(path, _)| path)
            .collect();
        assert!(
            offenders.is_empty(),
            "gloo-net outside crates/mes-client/src/transport.rs: {offenders:?}"
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
}
