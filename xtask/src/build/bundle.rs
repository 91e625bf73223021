//! Fewer, larger on-demand files. wasm-split-cli gives each part its own file and cuts the code
//! parts share into chunks, one per set of parts sharing it: the grid alone needs some 60 files.
//! Over HTTP/1.1 a browser fetches six at a time, so on a plant network (100 ms round trips)
//! the grid's first use waited on ten rounds of requests. This step joins the parts a person needs
//! together, with the chunks they use, into one file per [`BUNDLES`] entry, and rewrites the
//! loader to fetch those.
//!
//! The parts and chunks are fragments of one program: each imports the main module's memory,
//! function table and stack pointer, writes its functions into the table and its read-only data
//! into memory, and exports nothing. Fragments joined with a small module that passes those
//! imports on (`wasm-merge` connects each fragment's imports to its exports) make one module that
//! imports them once. Every chunk still lands in exactly one file, so none is ever instantiated
//! twice (some hold zero-initialised statics that a second instance would reset).

use crate::run_cmd;
use anyhow::{Context as _, Result, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// The files, in order: each takes a part (with the chunks it uses that no earlier file took),
/// or, named `shared`, the chunks the listed parts all use. The problem page at start (the
/// authority offline) first, so that it needs no more than its own; then what the return from
/// the authority needs: the code exchange, what the signed-in shell and the grid share, the
/// shell, the grid. An embedded grid fetches all but the shell. Each part stays a file of its
/// own, so one that does not arrive is that part's plain state, not a failed sign-in or shell.
pub const BUNDLES: [(&str, &[&str]); 5] = [
    ("problems", &["problems"]),
    ("signin", &["signin"]),
    ("shared", &["shell", "grid"]),
    ("shell", &["shell"]),
    ("grid", &["grid"]),
];

/// The [`BUNDLES`] entry that takes only what its parts share.
const SHARED_BUNDLE: &str = "shared";

/// The module name the bundles import the shared memory, table and globals from.
const SHARED: &str = "__wasm_split_shared";

/// One loader of `__wasm_split.js`: a chunk's or a part's.
#[derive(Debug, Clone, PartialEq)]
struct Loader {
    /// `chunk_12` or `split_grid` (the file is this with `.wasm`).
    file: String,
    /// The JavaScript name of its loader: `__chunk_12` or `__wasm_split_load_grid`.
    js: String,
    /// The lines defining it, its `/* users */` comment first for a chunk.
    lines: Vec<String>,
    /// The loaders it waits for.
    deps: Vec<String>,
}

/// `__wasm_split.js` taken apart: what comes before the loaders, then the chunks' and the
/// parts' loaders.
#[derive(Debug, Default)]
struct LoaderJs {
    prelude: Vec<String>,
    chunks: Vec<Loader>,
    parts: Vec<Loader>,
}

impl LoaderJs {
    fn parse(js: &str) -> Result<Self> {
        let mut out = LoaderJs::default();
        let mut pending: Vec<String> = Vec::new();
        let mut current: Option<(bool, Vec<String>)> = None;
        for line in js.lines() {
            if let Some((is_part, lines)) = current.as_mut() {
                lines.push(line.to_owned());
                if line.starts_with(", [") {
                    let deps = line
                        .trim_start_matches(", [")
                        .split(']')
                        .next()
                        .unwrap_or_default()
                        .split(',')
                        .map(|d| d.trim().to_owned())
                        .filter(|d| !d.is_empty())
                        .collect();
                    let lines = std::mem::take(lines);
                    let loader = loader_of(lines, deps)?;
                    if *is_part {
                        out.parts.push(loader);
                    } else {
                        out.chunks.push(loader);
                    }
                    current = None;
                }
                continue;
            }
            if line.starts_with("const __chunk_") || line.starts_with("export const __wasm_split_load_") {
                let mut lines = std::mem::take(&mut pending);
                lines.push(line.to_owned());
                current = Some((line.starts_with("export"), lines));
            } else if line.starts_with("/*")
                && out.chunks.is_empty()
                && out.parts.is_empty()
                && current.is_none()
            {
                // The first chunk's comment: the prelude ends here.
                out.prelude.append(&mut pending);
                pending.push(line.to_owned());
            } else if line.starts_with("/*") {
                pending.push(line.to_owned());
            } else if out.chunks.is_empty() && out.parts.is_empty() {
                out.prelude.push(line.to_owned());
            } else if !line.trim().is_empty() {
                bail!("unexpected line in the split loader: {line}");
            }
        }
        if current.is_some() || out.parts.is_empty() {
            bail!("the split loader did not have the expected shape");
        }
        Ok(out)
    }
}

/// A loader from its lines: the file it fetches and the name it defines.
fn loader_of(lines: Vec<String>, deps: Vec<String>) -> Result<Loader> {
    let text = lines.join("\n");
    let js = text
        .split("const ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .context("a loader without a name")?
        .to_owned();
    let file = text
        .split("new URL(\"./")
        .nth(1)
        .and_then(|rest| rest.split(".wasm\"").next())
        .context("a loader without a file")?
        .to_owned();
    Ok(Loader {
        file,
        js,
        lines,
        deps,
    })
}

/// The bundle file's name and its loader's name.
fn bundle_names(name: &str) -> (String, String) {
    (format!("bundle_{name}"), format!("__bundle_{name}"))
}

/// Which bundle each chunk and part file goes into (file → bundle name).
fn assign(js: &LoaderJs) -> Result<BTreeMap<String, String>> {
    let part = |name: &str| {
        js.parts
            .iter()
            .find(|p| p.js == format!("__wasm_split_load_{name}"))
            .with_context(|| format!("no part {name} in the split loader"))
    };
    let chunk_file = |dep: &String| {
        js.chunks
            .iter()
            .find(|c| &c.js == dep)
            .map(|c| c.file.clone())
            .with_context(|| format!("a part waits for {dep}, which the loader does not define"))
    };
    let mut home = BTreeMap::new();
    for (bundle, parts) in BUNDLES {
        let mut takes: Vec<String> = Vec::new();
        if bundle == SHARED_BUNDLE {
            let (first, others) = parts.split_first().context("a shared bundle of no parts")?;
            for dep in &part(first)?.deps {
                if others.iter().all(|o| part(o).is_ok_and(|p| p.deps.contains(dep))) {
                    takes.push(chunk_file(dep)?);
                }
            }
        } else {
            for name in parts {
                let loader = part(name)?;
                takes.push(loader.file.clone());
                for dep in &loader.deps {
                    takes.push(chunk_file(dep)?);
                }
            }
        }
        for file in takes {
            home.entry(file).or_insert_with(|| bundle.to_owned());
        }
    }
    Ok(home)
}

/// What a loader waits for once files are in bundles: each dependency's bundle, or the
/// dependency itself; none twice, and never `own` (its own bundle).
fn waits_for(
    deps: &[String],
    js: &LoaderJs,
    home: &BTreeMap<String, String>,
    own: Option<&str>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for dep in deps {
        let file = js.chunks.iter().find(|c| &c.js == dep).map(|c| c.file.as_str());
        let wait = match file.and_then(|f| home.get(f)) {
            Some(bundle) if Some(bundle.as_str()) == own => continue,
            Some(bundle) => bundle_names(bundle).1,
            None => dep.clone(),
        };
        if !out.contains(&wait) {
            out.push(wait);
        }
    }
    out
}

/// The loader for the files `home` puts into bundles.
fn rewrite(js: &LoaderJs, home: &BTreeMap<String, String>) -> String {
    let mut out = js.prelude.clone();
    for chunk in js.chunks.iter().filter(|c| !home.contains_key(&c.file)) {
        out.extend(chunk.lines.iter().cloned());
    }
    for (bundle, _) in BUNDLES {
        if !home.values().any(|b| b == bundle) {
            continue;
        }
        let (file, name) = bundle_names(bundle);
        // What the bundle's parts waited for that is not in it.
        let mut deps = Vec::new();
        for part in js
            .parts
            .iter()
            .filter(|p| home.get(&p.file).map(String::as_str) == Some(bundle))
        {
            for wait in waits_for(&part.deps, js, home, Some(bundle)) {
                if !deps.contains(&wait) {
                    deps.push(wait);
                }
            }
        }
        out.push(format!("/* {bundle}: its parts and the chunks they use first */"));
        out.push(format!("const {name} = makeLoad(() => {{"));
        out.push(format!(
            "    const src = fetch(new URL(\"./{file}.wasm\", import.meta.url));"
        ));
        out.push("    src.catch(() => {});".into());
        out.push(format!(
            "    return async (imports) => (WebAssembly.instantiateStreaming(src, {{ {SHARED}: imports.__wasm_split }}));"
        ));
        out.push("}".into());
        out.push(format!(", [{}]);", deps.join(", ")));
    }
    for part in &js.parts {
        match home.get(&part.file) {
            Some(bundle) => out.push(format!(
                "export const {} = wrapAsyncCb(makeLoad(() => async () => {{}}, [{}]));",
                part.js,
                bundle_names(bundle).1
            )),
            None => {
                let (last, body) = part.lines.split_last().expect("a loader has lines");
                out.extend(body.iter().cloned());
                let waits = waits_for(&part.deps, js, home, None);
                out.push(format!(", [{}]));", waits.join(", ")));
                debug_assert!(last.starts_with(", ["));
            }
        }
    }
    out.push(String::new());
    out.join("\n")
}

/// Joins the parts of each of [`BUNDLES`] with the chunks they use into `bundle_<name>.wasm` in
/// `work` (wasm-split-cli's output), removes the joined files and rewrites `__wasm_split.js`.
/// `binaryen` is the folder with wasm-merge, wasm-as and wasm-dis; `features` the wasm
/// features to enable. Returns the bundles' file names.
pub fn bundle(work: &Path, binaryen: &Path, features: &[&str]) -> Result<Vec<String>> {
    let loader_path = work.join("__wasm_split.js");
    let js = LoaderJs::parse(&std::fs::read_to_string(&loader_path)?)?;
    let home = assign(&js)?;
    let mut made = Vec::new();
    for (bundle, _) in BUNDLES {
        let members: Vec<&String> = home
            .iter()
            .filter(|(_, b)| b.as_str() == bundle)
            .map(|(file, _)| file)
            .collect();
        if members.is_empty() {
            continue;
        }
        let (file, _) = bundle_names(bundle);
        join(work, binaryen, features, &members, &file)?;
        for member in members {
            std::fs::remove_file(work.join(format!("{member}.wasm")))?;
        }
        made.push(format!("{file}.wasm"));
    }
    let rewritten = rewrite(&js, &home);
    for file in home.keys() {
        if rewritten.contains(&format!("\"./{file}.wasm\"")) {
            bail!("the rewritten loader still fetches {file}.wasm, which is in a bundle");
        }
    }
    std::fs::write(&loader_path, rewritten)?;
    Ok(made)
}

/// `members` (file stems in `work`) joined into `work/<out>.wasm`, importing the shared memory,
/// table and globals once.
fn join(work: &Path, binaryen: &Path, features: &[&str], members: &[&String], out: &str) -> Result<()> {
    // Every distinct import of the members, as wasm-dis writes it.
    let mut imports = BTreeSet::new();
    for member in members {
        let dis = Command::new(binaryen.join("wasm-dis"))
            .arg(work.join(format!("{member}.wasm")))
            .output()
            .context("running wasm-dis")?;
        if !dis.status.success() {
            bail!("wasm-dis could not read {member}.wasm");
        }
        let text = String::from_utf8_lossy(&dis.stdout);
        for line in text.lines().map(str::trim).filter(|l| l.starts_with("(import ")) {
            if !line.starts_with("(import \"__wasm_split\" ") {
                bail!("{member}.wasm imports from elsewhere than the main module: {line}");
            }
            imports.insert(line.to_owned());
        }
    }
    let stub = stub_module(&imports)?;
    let stub_path = work.join(format!("{out}.stub.wat"));
    std::fs::write(&stub_path, stub)?;
    let stub_wasm = work.join(format!("{out}.stub.wasm"));
    run_cmd(
        Command::new(binaryen.join("wasm-as"))
            .arg(&stub_path)
            .arg("-o")
            .arg(&stub_wasm)
            .args(features),
    )?;
    let mut merge = Command::new(binaryen.join("wasm-merge"));
    // Names kept (wasm-opt drops them for dist/): the benchmark's per-crate sizes read them.
    merge.arg("--debuginfo").arg(&stub_wasm).arg("__wasm_split");
    for member in members {
        merge
            .arg(work.join(format!("{member}.wasm")))
            .arg(member.as_str());
    }
    run_cmd(
        merge
            .arg("-o")
            .arg(work.join(format!("{out}.wasm")))
            .args(features),
    )?;
    std::fs::remove_file(stub_path)?;
    std::fs::remove_file(stub_wasm)?;
    Ok(())
}

/// A module that imports each of `imports` (wasm-dis's lines, from `__wasm_split`) from
/// [`SHARED`] and exports it under its name: joined before the fragments, it answers their
/// imports, and the joined module imports each thing once.
fn stub_module(imports: &BTreeSet<String>) -> Result<String> {
    let mut out = String::from("(module\n");
    let mut seen = BTreeSet::new();
    for (n, line) in imports.iter().enumerate() {
        // (import "__wasm_split" "NAME" (KIND $id REST))
        let mut quoted = line.split('"');
        let name = quoted.nth(3).context("an import without a name")?;
        let desc = line
            .split_once(&format!("\"{name}\" "))
            .and_then(|(_, d)| d.strip_suffix("))"))
            .context("an import without a description")?;
        let kind = desc.trim_start_matches('(').split(' ').next().unwrap_or_default();
        let rest = desc.split_once(' ').map(|(_, r)| r).unwrap_or_default();
        // The id wasm-dis gave it is replaced: ids must differ across the stub.
        let rest = match rest.strip_prefix('$') {
            Some(after) => after.split_once(' ').map_or("", |(_, r)| r),
            None => rest,
        };
        if !seen.insert(name.to_owned()) {
            bail!("the parts import {name} in two different ways");
        }
        out.push_str(&format!(
            "  (import \"{SHARED}\" \"{name}\" ({kind} $s{n} {rest}))\n  (export \"{name}\" ({kind} $s{n}))\n"
        ));
    }
    out.push(')');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENERATED: &str = r#"import { initSync } from "./main.js";

function makeLoad(fetcher, deps) {
}
/* grid, problems */
const __chunk_1 = makeLoad(() => {
    const src = fetch(new URL("./chunk_1.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
/* grid, xlsx */
const __chunk_2 = makeLoad(() => {
    const src = fetch(new URL("./chunk_2.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
/* xlsx */
const __chunk_3 = makeLoad(() => {
    const src = fetch(new URL("./chunk_3.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
export const __wasm_split_load_xlsx = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_xlsx.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_2, __chunk_3]));
export const __wasm_split_load_problems = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_problems.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_1]));
export const __wasm_split_load_signin = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_signin.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []));
export const __wasm_split_load_grid = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_grid.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_1, __chunk_2]));
export const __wasm_split_load_shell = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_shell.wasm", import.meta.url));
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_2]));
"#;

    #[test]
    fn each_chunk_goes_to_the_first_bundle_that_uses_it_and_loaders_wait_for_bundles() {
        let js = LoaderJs::parse(GENERATED).expect("parsed");
        assert_eq!(js.chunks.len(), 3);
        assert_eq!(js.parts.len(), 5);
        let home = assign(&js).expect("assigned");
        let at = |file: &str| home.get(file).map(String::as_str);
        assert_eq!(at("chunk_1"), Some("problems"), "problems comes first");
        assert_eq!(at("chunk_2"), Some("shared"), "the shell and the grid use it");
        assert_eq!(
            (at("split_grid"), at("split_shell")),
            (Some("grid"), Some("shell"))
        );
        assert_eq!(at("split_signin"), Some("signin"));
        assert_eq!(
            (at("chunk_3"), at("split_xlsx")),
            (None, None),
            "not in any bundle"
        );
        let out = rewrite(&js, &home);
        // The joined files are fetched no more; the rest are.
        for gone in [
            "chunk_1",
            "chunk_2",
            "split_grid",
            "split_problems",
            "split_signin",
            "split_shell",
        ] {
            assert!(!out.contains(&format!("./{gone}.wasm")), "{gone}:\n{out}");
        }
        assert!(out.contains("./chunk_3.wasm") && out.contains("./split_xlsx.wasm"));
        // The grid's bundle waits for the problems bundle and the shared one (its chunks).
        let grid = out
            .split("const __bundle_grid = makeLoad(() => {")
            .nth(1)
            .expect("a grid bundle");
        assert!(
            grid.starts_with("\n    const src = fetch(new URL(\"./bundle_grid.wasm\", import.meta.url));"),
            "{grid}"
        );
        assert!(
            grid.contains("    return async (imports) => (WebAssembly.instantiateStreaming(src, { __wasm_split_shared: imports.__wasm_split }));\n}\n, [__bundle_problems, __bundle_shared]);"),
            "{grid}"
        );
        assert!(out.contains(
            "export const __wasm_split_load_grid = wrapAsyncCb(makeLoad(() => async () => {}, [__bundle_grid]));"
        ));
        let shell = out.split("const __bundle_shell").nth(1).expect("a shell bundle");
        assert!(
            shell.contains(", [__bundle_shared]);"),
            "the shell uses chunk_2: {shell}"
        );
        // A part outside the bundles waits for the bundle holding its chunk.
        assert!(out.contains(", [__bundle_shared, __chunk_3]));"), "{out}");
    }

    #[test]
    fn the_stub_passes_each_import_on_under_its_name() {
        let imports: BTreeSet<String> = [
            r#"(import "__wasm_split" "memory" (memory $mimport$0 20))"#,
            r#"(import "__wasm_split" "__indirect_function_table" (table $timport$0 3376 funcref))"#,
            r#"(import "__wasm_split" "__wasm_split_shared0" (global $__stack_pointer (mut i32)))"#,
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let stub = stub_module(&imports).expect("stub");
        assert!(
            stub.contains(r#"(import "__wasm_split_shared" "memory" (memory $s2 20))"#),
            "{stub}"
        );
        assert!(stub.contains(r#"(export "memory" (memory $s2))"#), "{stub}");
        assert!(
            stub.contains(r#"(import "__wasm_split_shared" "__wasm_split_shared0" (global $s1 (mut i32)))"#),
            "{stub}"
        );
        assert!(
            stub.contains(
                r#"(import "__wasm_split_shared" "__indirect_function_table" (table $s0 3376 funcref))"#
            ),
            "{stub}"
        );
    }
}
