//! The command line's conventions, through the binary: global flags on
//! every command, `--color` and `NO_COLOR`, `-v`, shell completions and the
//! manual pages generated from the flags' definition.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PCS: &str = env!("CARGO_BIN_EXE_pcs");

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contoso")
}

fn pcs(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(PCS);
    command
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run pcs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

#[test]
fn quiet_is_taken_by_convert_and_silences_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pq");
    let ex = example();
    let loud = pcs(
        &["convert", ex.to_str().unwrap(), out.to_str().unwrap()],
        &[],
    );
    assert!(loud.status.success(), "{}", text(&loud.stderr));
    assert!(
        text(&loud.stderr).contains("wrote "),
        "{}",
        text(&loud.stderr)
    );
    let quiet = pcs(
        &[
            "convert",
            "-q",
            ex.to_str().unwrap(),
            out.to_str().unwrap(),
            "--force",
        ],
        &[],
    );
    assert!(quiet.status.success(), "{}", text(&quiet.stderr));
    assert_eq!(text(&quiet.stderr), "");
    // Before the command's name too.
    let before = pcs(
        &[
            "--quiet",
            "convert",
            ex.to_str().unwrap(),
            out.to_str().unwrap(),
            "--force",
        ],
        &[],
    );
    assert!(before.status.success());
    assert_eq!(text(&before.stderr), "");
}

#[test]
fn quiet_still_prints_errors() {
    let run = pcs(
        &["score", "-q", "/nonexistent/dataset", "--month", "2023-11"],
        &[],
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(
        text(&run.stderr).starts_with("error: "),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn verbose_adds_time_and_peak_memory() {
    let ex = example();
    let run = pcs(&["rulebook", "list", "-v"], &[]);
    assert!(run.status.success());
    let err = text(&run.stderr);
    assert!(err.starts_with("pcs: done in "), "{err}");
    assert!(err.contains("peak memory") && err.contains("MiB"), "{err}");
    let failed = pcs(&["-v", "score", ex.join("nope").to_str().unwrap()], &[]);
    assert!(
        text(&failed.stderr).contains("pcs: failed in "),
        "{}",
        text(&failed.stderr)
    );
    let both = pcs(&["-q", "-v", "rulebook", "list"], &[]);
    assert_eq!(
        both.status.code(),
        Some(2),
        "-q and -v together are refused"
    );
}

const ESC: char = '\u{1b}';

#[test]
fn color_follows_the_flag_then_no_color_then_the_terminal() {
    let args = ["score", "/nonexistent/dataset", "--month", "2023-11"];
    // Not a terminal: no color unless asked.
    let auto = pcs(&args, &[]);
    assert!(
        !text(&auto.stderr).contains(ESC),
        "{:?}",
        text(&auto.stderr)
    );
    let mut always = args.to_vec();
    always.extend(["--color", "always"]);
    let colored = text(&pcs(&always, &[]).stderr);
    assert!(colored.starts_with(&format!("{ESC}[")), "{colored:?}");
    assert!(colored.contains("error:"), "{colored:?}");
    // --color always wins over NO_COLOR; --color never over CLICOLOR_FORCE.
    assert!(text(&pcs(&always, &[("NO_COLOR", "1")]).stderr).contains(ESC));
    let mut never = args.to_vec();
    never.extend(["--color", "never"]);
    assert!(!text(&pcs(&never, &[("CLICOLOR_FORCE", "1")]).stderr).contains(ESC));
    // auto: CLICOLOR_FORCE forces, NO_COLOR then turns it off.
    assert!(text(&pcs(&args, &[("CLICOLOR_FORCE", "1")]).stderr).contains(ESC));
    assert!(!text(&pcs(&args, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).stderr).contains(ESC));
    // clap's own errors follow the flag too.
    let usage = text(&pcs(&["score", "--bogus", "--color=always"], &[]).stderr);
    assert!(usage.contains(ESC), "{usage:?}");
    let usage = text(&pcs(&["score", "--bogus", "--color=never"], &[]).stderr);
    assert!(!usage.contains(ESC), "{usage:?}");
}

#[test]
fn warnings_are_styled_like_errors_and_follow_the_same_choice() {
    let ex = example();
    let args = ["score", ex.to_str().unwrap(), "--month", "2023-11"];
    // The example has rows counted for nothing: a warning on stderr.
    let plain = text(&pcs(&args, &[]).stderr);
    assert!(plain.starts_with("warning: "), "{plain:?}");
    assert!(!plain.contains(ESC), "{plain:?}");
    let mut always = args.to_vec();
    always.extend(["--color", "always"]);
    let colored = text(&pcs(&always, &[]).stderr);
    // Bold yellow, then reset, then the same text as without color.
    assert!(
        colored.starts_with(&format!("{ESC}[1m{ESC}[33mwarning:{ESC}[0m ")),
        "{colored:?}"
    );
    assert!(!text(&pcs(&args, &[("NO_COLOR", "1")]).stderr).contains(ESC));
}

#[test]
fn serve_quiet_prints_only_the_address() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(example()).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "csv") {
            std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
        }
    }
    let mut child = Command::new(PCS)
        .args(["serve", "-q", "--addr", "127.0.0.1:0"])
        .arg(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start pcs serve");
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    // Without -q the first line is "pcs serve: reading ..."; the address is
    // the one line -q keeps (with --addr 127.0.0.1:0 it tells the port).
    assert!(
        first.starts_with("pcs serve: listening on http://127.0.0.1:"),
        "{first:?}"
    );
}

#[test]
fn completions_name_every_command_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = pcs(&["completions", shell], &[]);
        assert!(run.status.success(), "{shell}: {}", text(&run.stderr));
        let script = text(&run.stdout);
        for word in [
            "score",
            "simulate",
            "completions",
            "month",
            "color",
            "never",
        ] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
    let bad = pcs(&["completions", "tcsh"], &[]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn the_manual_page_documents_the_flags() {
    let run = pcs(&["man"], &[]);
    assert!(run.status.success());
    let page = text(&run.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH pcs 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    assert!(page.contains(".TH pcs 1"));
    for word in ["score", "completions", "quiet", "NO_COLOR"] {
        assert!(page.contains(word), "pcs.1 has no {word}");
    }
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    let run = pcs(&["man", "--dir", pages.to_str().unwrap()], &[]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    for name in [
        "pcs.1",
        "pcs-score.1",
        "pcs-rulebook-list.1",
        "pcs-completions.1",
    ] {
        let page =
            std::fs::read_to_string(pages.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(page.contains(".TH"), "{name}");
    }
    let score = std::fs::read_to_string(pages.join("pcs-score.1")).unwrap();
    assert!(score.contains("Example"), "pcs-score.1 shows the example");
}

#[test]
fn every_help_shows_an_example() {
    for command in [
        "score",
        "convert",
        "generate",
        "simulate",
        "plan",
        "serve",
        "man",
        "completions",
    ] {
        let run = pcs(&[command, "--help"], &[]);
        assert!(run.status.success());
        let help = text(&run.stdout);
        assert!(
            help.contains("Example:\n  pcs "),
            "pcs {command} --help:\n{help}"
        );
    }
}
