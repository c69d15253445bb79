//! The committed admin UI bundle (`assets/`, embedded by `src/web.rs`) must be built from the
//! current `ui/` sources and be loadable at `/admin/`.
//!
//! `assets/ui.hash` is written by `scripts/build-ui.sh`: the SHA-256 of a manifest with one
//! line per UI source file, exactly as `sha256sum` prints it ("<sha256 of the file>  <path
//! relative to ui/>\n"), sorted by path. Files: every regular file under `ui/` except hidden
//! names (starting with `.`, at any depth) and the output folders `ui/dist` and `ui/target`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const FIX: &str = "run `scripts/build-ui.sh` and commit assets/";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Paths relative to `ui/`, `/`-separated, sorted bytewise.
fn ui_files(ui: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry
                .file_name()
                .into_string()
                .expect("UI file names are UTF-8");
            if name.starts_with('.') || (prefix.is_empty() && (name == "dist" || name == "target"))
            {
                continue;
            }
            let path = format!("{prefix}{name}");
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                walk(&entry.path(), &format!("{path}/"), out);
            } else if kind.is_file() {
                assert!(
                    !path.contains(['\\', '\n']),
                    "{path}: sha256sum escapes such names; rename the file"
                );
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(ui, "", &mut files);
    files.sort();
    files
}

fn ui_hash(ui: &Path) -> String {
    let mut manifest = String::new();
    for file in ui_files(ui) {
        let bytes = fs::read(ui.join(&file)).unwrap();
        manifest.push_str(&format!("{}  {file}\n", hex(&Sha256::digest(&bytes))));
    }
    hex(&Sha256::digest(manifest.as_bytes()))
}

#[test]
fn bundle_is_built_from_the_current_ui_sources() {
    let ui = root().join("ui");
    let files = ui_files(&ui);
    assert!(
        files.iter().any(|f| f == "src/main.rs"),
        "no UI sources found in {}",
        ui.display()
    );
    let expected = ui_hash(&ui);
    let recorded = fs::read_to_string(root().join("assets/ui.hash"))
        .unwrap_or_else(|_| panic!("assets/ui.hash is missing: {FIX}"));
    assert_eq!(
        recorded.trim(),
        expected,
        "assets/ is stale: the UI sources changed since the bundle was built; {FIX}"
    );
}

/// Every `/admin/<file>` the page refers to.
fn admin_references(html: &str) -> Vec<String> {
    html.match_indices("/admin/")
        .map(|(at, _)| {
            html[at + "/admin/".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .collect::<String>()
        })
        .filter(|name| name.contains('.'))
        .collect()
}

#[test]
fn index_loads_its_script_and_wasm_from_admin() {
    let assets = root().join("assets");
    let index = fs::read_to_string(assets.join("index.html"))
        .unwrap_or_else(|_| panic!("assets/index.html is missing: {FIX}"));
    let refs = admin_references(&index);
    assert!(
        refs.iter().any(|r| r.ends_with(".js")),
        "index.html loads no /admin/*.js: {FIX}"
    );
    assert!(
        refs.iter().any(|r| r.ends_with("_bg.wasm")),
        "index.html loads no /admin/*_bg.wasm: {FIX}"
    );
    assert!(
        refs.iter().any(|r| r.ends_with(".css")),
        "index.html loads no /admin/*.css: {FIX}"
    );
    for name in &refs {
        assert!(
            assets.join(name).is_file(),
            "index.html refers to /admin/{name}, which assets/ lacks: {FIX}"
        );
    }
    for external in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "@import",
    ] {
        assert!(
            !index.contains(external),
            "index.html loads something from elsewhere ({external}); the UI must not need a CDN"
        );
    }
}

#[test]
fn every_bundled_file_has_a_known_content_type() {
    // The extensions `src/web.rs` maps to a MIME type; anything else would be served as
    // application/octet-stream (with nosniff, a browser would refuse it as a script or style).
    const KNOWN: [&str; 9] = [
        "html", "js", "css", "wasm", "svg", "png", "ico", "woff2", "json",
    ];
    for entry in fs::read_dir(root().join("assets")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.ends_with(".md") || name == "ui.hash" {
            continue;
        }
        assert!(
            entry.file_type().unwrap().is_file(),
            "assets/{name}: the bundle has no folders"
        );
        let ext = name.rsplit('.').next().unwrap_or_default();
        assert!(
            KNOWN.contains(&ext),
            "assets/{name}: web.rs serves .{ext} as application/octet-stream"
        );
        assert!(
            !name.starts_with('.'),
            "assets/{name}: a stray hidden file would be embedded too"
        );
    }
}
