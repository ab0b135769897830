//! The documentation's examples are tests (trycmd): every ```console block
//! of README.md, examples/contoso/README.md and the user guide (guide/src)
//! runs with the `pcs` built for these tests, from the repository's root,
//! and what it prints (stdout and stderr together, as a terminal shows
//! them) must be what the block shows. In a block, `...` on a line of its
//! own stands for lines left out and `[..]` for the rest of a line; `? 2`
//! after a command expects that exit status. Blocks tagged `sh`, `text` or
//! `toml` are not run.
//!
//! After a change of output, `TRYCMD=overwrite cargo test --test docs`
//! rewrites the blocks (then check the diff: elisions are kept only where
//! the output still matches them).
//!
//! One test per file, and the guide's walkthroughs split per command, so
//! that a change of one command's output fails (and is fixed) in one place.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository's root")
}

/// Runs the console blocks of the files matching `pattern` (relative to
/// the repository's root).
fn run(pattern: &str) {
    let root = root();
    // The blocks' commands run in the test's working directory; they are
    // written for the repository's root (`pcs score examples/contoso ...`).
    std::env::set_current_dir(&root).expect("cd to the repository's root");
    let files: Vec<_> = glob(&root, pattern);
    assert!(!files.is_empty(), "no file matches {pattern}");
    let cases = trycmd::TestCases::new();
    cases
        .register_bin("pcs", Path::new(env!("CARGO_BIN_EXE_pcs")))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100");
    for file in files {
        cases.case(file);
    }
    cases.run();
}

/// The files of `pattern`: a path, or `DIR/*.md`.
fn glob(root: &Path, pattern: &str) -> Vec<PathBuf> {
    match pattern.strip_suffix("/*.md") {
        None => vec![root.join(pattern)],
        Some(dir) => {
            let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
                .unwrap_or_else(|e| panic!("{dir}: {e}"))
                .map(|e| e.expect("a directory entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "md"))
                .collect();
            files.sort();
            files
        }
    }
}

/// The guide's directories, each run by one test below.
const GUIDE_DIRS: [&str; 2] = ["guide/src", "guide/src/partner"];

/// Every page of the guide is in a directory a test runs (a new directory
/// of pages cannot be forgotten) and is listed in its SUMMARY.md (mdbook
/// leaves an unlisted page out of the book).
#[test]
fn every_guide_page_is_tested_and_listed() {
    let root = root();
    let src = root.join("guide/src");
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).expect("SUMMARY.md");
    let mut pending = vec![src.clone()];
    let mut pages = 0;
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("a directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src");
            if path.extension().is_none_or(|x| x != "md") || rel == Path::new("SUMMARY.md") {
                continue;
            }
            let dir_rel = path.parent().unwrap().strip_prefix(&root).unwrap();
            assert!(
                GUIDE_DIRS.iter().any(|d| Path::new(d) == dir_rel),
                "{} is in a directory no test runs",
                path.display()
            );
            let link = format!("]({})", rel.to_string_lossy());
            assert!(
                summary.contains(&link),
                "SUMMARY.md does not list {}",
                rel.display()
            );
            pages += 1;
        }
    }
    assert!(pages >= 8, "only {pages} pages");
}

/// The README's what-if example is the scenario file the guide runs.
#[test]
fn the_readme_names_the_scenario_the_guide_runs() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let page = std::fs::read_to_string(root.join("guide/src/partner/simulate.md")).unwrap();
    let file = "examples/scenarios/fabrikam-new-deployment.toml";
    assert!(root.join(file).is_file());
    assert!(readme.contains(file) && page.contains(file));
}

#[test]
fn readme() {
    run("README.md");
}

#[test]
fn contoso_readme() {
    run("examples/contoso/README.md");
}

#[test]
fn guide() {
    run(&format!("{}/*.md", GUIDE_DIRS[0]));
}

#[test]
fn guide_partner_walkthrough() {
    run(&format!("{}/*.md", GUIDE_DIRS[1]));
}
