//! Tidy checks: boundaries of the code base that a reviewer should not have to remember, held by
//! tests (`cargo test -p xtask`, part of `cargo xtask test`). Modelled on rust-analyzer's tidy.

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
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

    /// The identifier `text` starts with (empty if none).
    fn identifier(text: &str) -> &str {
        let end = text
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        &text[..end]
    }

    /// The modules of the crate whose sources are in `dir` — each file or folder directly in it
    /// is one — and, for each, the crate's modules its code (unit tests left out) names: by
    /// path (`crate::grid::…`, `use crate::{grid, …}`) or by a name the crate root re-exports.
    fn module_graph(files: &[(String, String)], dir: &str) -> BTreeMap<String, BTreeSet<String>> {
        let prefix = format!("{dir}/");
        let sources: Vec<(&str, &str)> = files
            .iter()
            .filter_map(|(path, text)| Some((path.strip_prefix(&prefix)?, text.as_str())))
            .collect();
        let module_of = |path: &str| {
            let first = path.split('/').next().unwrap_or_default();
            first.strip_suffix(".rs").unwrap_or(first).to_owned()
        };
        let roots = ["lib", "main", "bin"];
        let modules: BTreeSet<String> = sources
            .iter()
            .map(|(path, _)| module_of(path))
            .filter(|m| !roots.contains(&m.as_str()))
            .collect();
        // `pub use module::{Name, …};` in the crate root: `crate::Name` is that module's.
        let mut reexported = BTreeMap::new();
        if let Some((_, root)) = sources.iter().find(|(path, _)| *path == "lib.rs") {
            for line in root.split(';') {
                let Some(rest) = line.trim().strip_prefix("pub use ") else {
                    continue;
                };
                let (module, names) = rest.split_once("::").unwrap_or((rest, ""));
                for name in names.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                    reexported.insert(name.to_owned(), module.to_owned());
                }
            }
        }
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (path, text) in &sources {
            let module = module_of(path);
            if roots.contains(&module.as_str()) {
                continue;
            }
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
            let code: String = code
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let mut named = BTreeSet::new();
            for (at, _) in code.match_indices("crate::") {
                if code[..at].ends_with('$')
                    || code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                {
                    continue;
                }
                let rest = &code[at + "crate::".len()..];
                if let Some(group) = rest.strip_prefix('{') {
                    let group = &group[..group.find('}').unwrap_or(group.len())];
                    named.extend(
                        group
                            .split(',')
                            .map(|item| identifier(item.trim()))
                            .filter(|name| !name.is_empty())
                            .map(str::to_owned),
                    );
                } else {
                    named.insert(identifier(rest).to_owned());
                }
            }
            let uses = graph.entry(module.clone()).or_default();
            for name in named {
                let target = reexported.get(&name).cloned().unwrap_or(name);
                if target != module && modules.contains(&target) {
                    uses.insert(target);
                }
            }
        }
        graph
    }

    /// A circle in `graph`, as the modules along it, if there is one.
    fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
        fn walk(
            graph: &BTreeMap<String, BTreeSet<String>>,
            module: &str,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) -> Option<Vec<String>> {
            if let Some(at) = path.iter().position(|m| m == module) {
                let mut found = path[at..].to_vec();
                found.push(module.to_owned());
                return Some(found);
            }
            if done.contains(module) {
                return None;
            }
            path.push(module.to_owned());
            for next in graph.get(module).into_iter().flatten() {
                if let Some(found) = walk(graph, next, path, done) {
                    return Some(found);
                }
            }
            path.pop();
            done.insert(module.to_owned());
            None
        }
        let mut done = BTreeSet::new();
        graph
            .keys()
            .find_map(|module| walk(graph, module, &mut Vec::new(), &mut done))
    }

    #[test]
    fn a_circle_is_found_and_a_line_is_not() {
        let graph = |edges: &[(&str, &str)]| {
            let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (from, to) in edges {
                g.entry((*from).into()).or_default().insert((*to).into());
                g.entry((*to).into()).or_default();
            }
            g
        };
        assert_eq!(circle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
        assert_eq!(
            circle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])),
            Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
    }

    #[test]
    fn modules_depend_on_each_other_one_way() {
        // A feature owns its parts and states; the mechanisms under it (on_demand, retry, nav,
        // words; transport, token, discovery) know no feature. A circle means a change on
        // either side can break the other — the shape that made on_demand.rs a hub.
        let files = texts(&["rs"]);
        for dir in ["src", "crates/mes-client/src"] {
            let graph = module_graph(&files, dir);
            assert!(graph.len() > 5, "{dir}: modules found: {graph:?}");
            assert_eq!(
                circle(&graph),
                None,
                "{dir}: an import circle; the graph: {graph:#?}"
            );
        }
    }

    /// The functions declared in `code`, as (line, name, lines long): from the line that says
    /// `fn` to the one that closes its body (braces in string and character literals left out;
    /// a declaration without a body, in a trait, is skipped).
    fn function_lengths(code: &str) -> Vec<(usize, String, usize)> {
        let lines: Vec<&str> = code.lines().collect();
        let mut out = Vec::new();
        for (at, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let declared = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "async fn ",
                "pub async fn ",
                "pub(crate) async fn ",
            ]
            .iter()
            .find_map(|prefix| trimmed.strip_prefix(prefix));
            let Some(rest) = declared else { continue };
            let name = identifier(rest).to_owned();
            let (mut depth, mut opened, mut end) = (0i32, false, None);
            'body: for (offset, text) in lines[at..].iter().enumerate() {
                let mut chars = text.chars().peekable();
                let mut in_string = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' if in_string => {
                            chars.next();
                        }
                        '"' => in_string = !in_string,
                        '\'' if !in_string => {
                            // A character literal such as '{': skip it whole.
                            let literal: String = chars.clone().take(2).collect();
                            if literal.ends_with('\'') {
                                chars.next();
                                chars.next();
                            }
                        }
                        '/' if !in_string && chars.peek() == Some(&'/') => break,
                        ';' if !in_string && !opened && depth == 0 => break 'body,
                        '{' if !in_string => {
                            depth += 1;
                            opened = true;
                        }
                        '}' if !in_string => {
                            depth -= 1;
                            if opened && depth == 0 {
                                end = Some(offset);
                                break 'body;
                            }
                        }
                        _ => {}
                    }
                }
            }
            if let Some(end) = end {
                out.push((at + 1, name, end + 1));
            }
        }
        out
    }

    #[test]
    fn function_lengths_count_from_fn_to_its_closing_brace() {
        let code = "fn a() {}\nfn b(x: u8) -> u8 {\n    let s = \"}{\";\n    let c = '}';\n    x\n}\ntrait T {\n    fn c();\n}";
        assert_eq!(function_lengths(code), [(1, "a".into(), 1), (2, "b".into(), 5)]);
    }

    #[test]
    fn the_portals_functions_fit_on_a_screen() {
        // A function longer than this does several things a reader must hold at once: give each
        // step a name (as Portal::start's are). Unit tests are left out.
        const MOST: usize = 80;
        let offenders: Vec<String> = texts(&["rs"])
            .into_iter()
            .filter(|(path, _)| path.starts_with("src/"))
            .flat_map(|(path, text)| {
                let code = text.split("\n#[cfg(test)]").next().unwrap_or_default().to_owned();
                function_lengths(&code)
                    .into_iter()
                    .filter(|(_, _, length)| *length >= MOST)
                    .map(|(line, name, length)| format!("{path}:{line} {name} ({length} lines)"))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(
            offenders.is_empty(),
            "functions of {MOST} lines or more in src/: {offenders:?}"
        );
    }
}
