//! The global flags' effects that are not one command's: `--quiet` for the
//! commands that print summaries on stderr, `--color` for what pcs styles
//! itself (the `error:` prefix) and clap's help and errors, `--verbose`'s
//! time and memory line.

use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Records the global `--quiet`.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given: print no summary, note or warning on stderr.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// The `--color` choice, read from the command line before clap parses it
/// (clap needs it to color its own errors about the other flags). The last
/// `--color WHEN` or `--color=WHEN` before a `--` wins; an invalid or
/// missing value is `auto` here and refused by clap afterwards.
pub fn color_from_args(args: &[OsString]) -> clap::ColorChoice {
    let mut choice = clap::ColorChoice::Auto;
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let Some(arg) = arg.to_str() else { continue };
        if arg == "--" {
            break;
        }
        let value = if arg == "--color" {
            iter.next().and_then(|v| v.to_str())
        } else {
            arg.strip_prefix("--color=")
        };
        if let Some(value) = value {
            choice = match value {
                "always" => clap::ColorChoice::Always,
                "never" => clap::ColorChoice::Never,
                _ => clap::ColorChoice::Auto,
            };
        }
    }
    choice
}

/// Makes `anstream`'s stderr honour the choice: `auto` colors a terminal
/// unless `NO_COLOR` is set (to anything but the empty string) and forces
/// color with `CLICOLOR_FORCE`; `always` and `never` win over both.
pub fn apply_color(choice: clap::ColorChoice) {
    let stream = match choice {
        clap::ColorChoice::Auto => anstream::ColorChoice::Auto,
        clap::ColorChoice::Always => anstream::ColorChoice::Always,
        clap::ColorChoice::Never => anstream::ColorChoice::Never,
    };
    stream.write_global();
}

/// The style of the `error:` prefix.
pub const ERROR: anstyle::Style = anstyle::Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Red)));

/// The style of the `warning:` prefix (as cargo and rustc show it).
pub const WARNING: anstyle::Style = anstyle::Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Yellow)));

/// The process's peak resident memory in bytes (Linux: `VmHWM` of
/// /proc/self/status), for `--verbose`.
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_last_color_flag_before_a_double_dash_wins() {
        use clap::ColorChoice::*;
        assert_eq!(color_from_args(&args(&["pcs", "score"])), Auto);
        assert_eq!(
            color_from_args(&args(&["pcs", "--color", "never", "score"])),
            Never
        );
        assert_eq!(
            color_from_args(&args(&["pcs", "score", "--color=always"])),
            Always
        );
        assert_eq!(
            color_from_args(&args(&[
                "pcs",
                "--color=never",
                "score",
                "--color",
                "always"
            ])),
            Always
        );
        assert_eq!(
            color_from_args(&args(&["pcs", "x", "--", "--color=never"])),
            Auto
        );
        assert_eq!(color_from_args(&args(&["pcs", "--color"])), Auto);
        assert_eq!(color_from_args(&args(&["pcs", "--color", "purple"])), Auto);
    }

    #[test]
    fn peak_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_memory().is_some_and(|b| b > 0));
        }
    }
}
