//! The fuzz targets' properties (`fuzz/src/lib.rs`) on every committed input in
//! `fuzz/corpus/<target>/`: the seeds from the fake upstream's wire formats and every input a
//! fuzzing run found worth keeping. Fuzzing itself (`bash scripts/fuzz.sh`) needs a second
//! compile of the whole tree with cargo fuzz's flags; this replay runs in every test run.
#![allow(clippy::expect_used)]

#[path = "../../../fuzz/src/lib.rs"]
#[allow(dead_code)] // `check` is the fuzz targets' entry; this replay walks `TARGETS`.
mod properties;

use std::path::{Path, PathBuf};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .collect();
    entries.sort();
    entries
}

#[test]
fn every_corpus_input_keeps_its_targets_properties() {
    let mut replayed = 0;
    for (target, property) in properties::TARGETS {
        let inputs = entries(&corpus_root().join(target));
        assert!(!inputs.is_empty(), "no committed inputs for {target}");
        for input in inputs {
            let data = std::fs::read(&input).expect("read a corpus input");
            // A failing property panics; name the input so it can be fuzzed from again.
            let outcome = std::panic::catch_unwind(|| property(&data));
            assert!(
                outcome.is_ok(),
                "{target}: {} breaks the property",
                input.display()
            );
            replayed += 1;
        }
    }
    assert!(replayed >= properties::TARGETS.len());
}

#[test]
fn every_corpus_folder_and_target_file_has_a_property() {
    let named = |dir: &str, strip: &str| -> Vec<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz")
            .join(dir);
        entries(&root)
            .iter()
            .filter_map(|path| {
                path.file_name()?
                    .to_str()?
                    .strip_suffix(strip)
                    .map(str::to_owned)
            })
            .collect()
    };
    let mut targets: Vec<String> = properties::TARGETS
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    targets.sort();
    assert_eq!(named("corpus", ""), targets, "fuzz/corpus/ folders");
    assert_eq!(
        named("fuzz_targets", ".rs"),
        targets,
        "fuzz/fuzz_targets/ files"
    );
}
