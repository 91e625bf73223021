//! The split step of the release build. trunk 0.21 builds the page, the stylesheet and a wasm
//! compiled with `--cfg mes_split` (its on-demand parts are `wasm_split` split points declared
//! with src/on_demand.rs's `part!`) and linked with `--emit-relocs`; trunk cannot split wasm yet, so this step
//! takes cargo's linked wasm and:
//!
//! 1. cuts it with `wasm-split-cli` into the main module and one file per part (plus chunks the
//!    parts share), with a small loader (`__wasm_split.js`) that fetches a part when it is first
//!    called; then joins the parts used together with their chunks into one file each
//!    (`bundle.rs`: four files after sign-in where some 60 were fetched);
//! 2. runs wasm-bindgen on the main module (keeping the exports the parts import);
//! 3. runs wasm-opt -Oz on every wasm file;
//! 4. puts the results into dist/ under trunk's hashed names, names the parts and the loader
//!    after the same hash (so every file of a build can be cached forever), and writes the new
//!    Subresource Integrity hashes into index.html;
//! 5. gives `mes-embed-host.js` (the script other sites' pages load) a second, versioned name
//!    with its Subresource Integrity hash in `embed-host.json`, and prints the snippet to paste;
//! 6. writes a gzipped copy (`.gz`, gzip -9) of every script, stylesheet, wasm file and translation.

use crate::run_cmd;
use crate::setup::Tools;
use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use sha2::{Digest as _, Sha384};
use std::path::{Path, PathBuf};
use std::process::Command;

/// rustflags for the release wasm: split points on, leptos's type-erased components (fewer
/// monomorphised views), and the relocations wasm-split-cli reads.
pub const RELEASE_WASM_RUSTFLAGS: &str = "--cfg mes_split --cfg erase_components -Clink-args=--emit-relocs";

/// What rustc enables for wasm32-unknown-unknown; the parts carry no target-features section
/// for wasm-opt to read, so the features are named.
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// The split step, after `trunk build --release`.
pub fn split_portal(root: &Path, tools: &Tools) -> Result<()> {
    eprintln!("==> Splitting the portal's wasm into the first load and its on-demand parts");
    let dist = root.join("dist");
    let stem = main_stem(&dist)?;
    let linked = root.join("target/wasm32-unknown-unknown/release/mes-portal.wasm");
    let work = root.join("target/split");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("bindgen"))?;

    run_cmd(Command::new(&tools.wasm_split).arg(&linked).arg(&work).args([
        "--target",
        "web",
        "--out-name",
        &stem,
    ]))?;
    if !files(&work, |name| name.starts_with("split_"))?
        .iter()
        .any(|p| p.ends_with(".wasm"))
    {
        bail!("wasm-split-cli found no split points: was the wasm built with `{RELEASE_WASM_RUSTFLAGS}`?");
    }
    // The parts used together, with the chunks they share, joined into a file each.
    let binaryen = tools
        .wasm_opt
        .parent()
        .context("wasm-opt's folder")?
        .to_path_buf();
    super::bundle::bundle(&work, &binaryen, &WASM_FEATURES)?;
    let parts: Vec<String> = files(&work, |name| {
        name.ends_with(".wasm") && name != format!("{stem}.wasm")
    })?;
    run_cmd(
        Command::new(&tools.wasm_bindgen)
            .args([
                "--target",
                "web",
                "--keep-lld-exports",
                "--no-demangle",
                "--no-typescript",
                "--out-name",
                &stem,
                "--out-dir",
            ])
            .arg(work.join("bindgen"))
            .arg(work.join(format!("{stem}.wasm"))),
    )?;

    let wasm_opt = |from: PathBuf, to: PathBuf| {
        run_cmd(
            Command::new(&tools.wasm_opt)
                .arg("-Oz")
                .args(WASM_FEATURES)
                .arg(&from)
                .arg("-o")
                .arg(&to),
        )
    };
    wasm_opt(
        work.join(format!("bindgen/{stem}_bg.wasm")),
        dist.join(format!("{stem}_bg.wasm")),
    )?;
    for part in &parts {
        wasm_opt(work.join(part), dist.join(format!("{stem}-{part}")))?;
    }

    // The loader and the main module's glue, pointing at the hashed names.
    let loader = format!("{stem}-split.js");
    let mut loader_js =
        std::fs::read_to_string(work.join("__wasm_split.js")).context("wasm-split-cli wrote no loader")?;
    for part in &parts {
        loader_js = replace_all(
            &loader_js,
            &format!("\"./{part}\""),
            &format!("\"./{stem}-{part}\""),
        )?;
    }
    std::fs::write(dist.join(&loader), loader_js)?;
    let glue = std::fs::read_to_string(work.join(format!("bindgen/{stem}.js")))?;
    // Only the module it is imported from: the wasm names its imports "./__wasm_split.js" still.
    let glue = replace_all(
        &glue,
        "from \"./__wasm_split.js\"",
        &format!("from \"./{loader}\""),
    )?;
    std::fs::write(dist.join(format!("{stem}.js")), glue)?;

    let index = dist.join("index.html");
    let mut html = std::fs::read_to_string(&index)?;
    for file in [format!("{stem}.js"), format!("{stem}_bg.wasm")] {
        html = with_integrity(&html, &file, &sri(&dist.join(&file))?)?;
    }
    std::fs::write(&index, html)?;
    embed_host_version(&dist)?;

    // Gzipped copies at the highest level, once per build, for servers that send them as they are
    // (nginx `gzip_static`, devstack) instead of compressing every answer.
    let mut compressible = files(&dist, |name| {
        [".wasm", ".js", ".css"].iter().any(|e| name.ends_with(e))
    })?;
    // The translations (src/words.rs), fetched at start by browsers in those languages.
    if dist.join("locales").is_dir() {
        compressible.extend(
            files(&dist.join("locales"), |name| name.ends_with(".json"))?
                .into_iter()
                .map(|n| format!("locales/{n}")),
        );
    }
    run_cmd(
        Command::new("gzip")
            .args(["-9", "--keep", "--force", "--no-name"])
            .args(compressible)
            .current_dir(&dist),
    )
}

/// The file this build's embed-host facts are written to, in dist/ (devstack and the tests read
/// it; it is public, like the script itself).
pub const EMBED_HOST_FACTS: &str = "embed-host.json";

/// `mes-embed-host-<hash>.js`, a copy of `mes-embed-host.js` under a name that changes with its
/// content, and its `integrity`: a page of another site that pins this build's host script with
/// Subresource Integrity loads a name that never changes under it (the stable name changes with
/// every upgrade, and a pinned hash would then block it). Written to [`EMBED_HOST_FACTS`] and
/// printed as the `<script>` line to paste.
fn embed_host_version(dist: &Path) -> Result<()> {
    let stable = dist.join("mes-embed-host.js");
    let bytes = std::fs::read(&stable).with_context(|| format!("reading {}", stable.display()))?;
    let digest = Sha384::digest(&bytes);
    let short: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let script = format!("mes-embed-host-{short}.js");
    std::fs::write(dist.join(&script), &bytes)?;
    let integrity = sri(&stable)?;
    std::fs::write(
        dist.join(EMBED_HOST_FACTS),
        format!("{{\"script\":\"{script}\",\"integrity\":\"{integrity}\"}}\n"),
    )?;
    eprintln!(
        "==> Other sites' pages load this build's host script with its integrity pinned:\n    \
         <script src=\"https://<portal>/{script}\" integrity=\"{integrity}\" crossorigin=\"anonymous\" defer></script>"
    );
    Ok(())
}

/// `mes-portal-<hash>`: the name trunk gave the portal's JavaScript glue in `dist`.
pub(super) fn main_stem(dist: &Path) -> Result<String> {
    let glue = files(dist, |name| {
        name.starts_with("mes-portal-") && name.ends_with(".js") && !name.contains("-split")
    })?;
    match glue.as_slice() {
        [one] => Ok(one.trim_end_matches(".js").to_owned()),
        other => bail!("expected one mes-portal-<hash>.js in dist/, found {other:?}"),
    }
}

/// The names of the files in `dir` that `keep` accepts, sorted.
pub(super) fn files(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if keep(&name) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// `text` with every `from` replaced; fails when there is none (the tools' output changed shape).
fn replace_all(text: &str, from: &str, to: &str) -> Result<String> {
    if !text.contains(from) {
        bail!("expected {from} in the generated JavaScript");
    }
    Ok(text.replace(from, to))
}

/// The Subresource Integrity value of a file (`sha384-…`).
fn sri(file: &Path) -> Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    Ok(format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(&bytes))
    ))
}

/// `html` with the `integrity` of the element that loads `/file` set to `value`.
fn with_integrity(html: &str, file: &str, value: &str) -> Result<String> {
    let at = html
        .find(&format!("href=\"/{file}\""))
        .with_context(|| format!("index.html does not load /{file}"))?;
    let tag_end = at + html[at..].find('>').context("unclosed tag in index.html")?;
    let tag = &html[at..tag_end];
    let start = at
        + tag
            .find("integrity=\"")
            .with_context(|| format!("index.html has no integrity for /{file}"))?
        + "integrity=\"".len();
    let end = start + html[start..].find('"').context("unclosed integrity attribute")?;
    Ok(format!("{}{value}{}", &html[..start], &html[end..]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn integrity_is_replaced_on_the_right_element_only() {
        let html = r#"<link rel="modulepreload" href="/a.js" crossorigin="anonymous" integrity="sha384-OLD1"><link rel="preload" href="/a_bg.wasm" integrity="sha384-OLD2">"#;
        let html = super::with_integrity(html, "a_bg.wasm", "sha384-NEW").expect("replaced");
        assert!(
            html.contains(r#"href="/a.js" crossorigin="anonymous" integrity="sha384-OLD1""#),
            "{html}"
        );
        assert!(
            html.contains(r#"href="/a_bg.wasm" integrity="sha384-NEW""#),
            "{html}"
        );
        assert!(
            super::with_integrity(&html, "b.js", "x").is_err(),
            "a file the page does not load is an error"
        );
    }
}
