//! Loading rulebooks (built-in or from files) and `pcs rulebook`.

use std::io::Write;

use anyhow::{Context, anyhow};
use pcs_core::rulebook::{BUILTIN, Rulebook, RulebookSet};

use crate::args::{RulebookArgs, RulebookCommand};
use crate::failure::Failure;

/// The set to use: the built-in versions, or the given files.
pub fn load(args: &RulebookArgs) -> Result<RulebookSet, Failure> {
    if args.rulebooks.is_empty() {
        return Ok(RulebookSet::builtin());
    }
    let mut versions = Vec::new();
    for path in &args.rulebooks {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read rulebook {}", path.display()))
            .map_err(Failure::BadInput)?;
        versions.push(Rulebook::from_toml(&text, &path.display().to_string())?);
    }
    Ok(RulebookSet::new(versions)?)
}

/// Runs `pcs rulebook ...`.
pub fn run(cmd: RulebookCommand) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| Failure::Other(e.into());
    match cmd {
        RulebookCommand::List(args) => {
            let set = load(&args)?;
            for rb in set.versions() {
                writeln!(
                    out,
                    "{}\tfrom {}{}\t{}\t{}",
                    rb.id(),
                    rb.effective_from,
                    rb.effective_until
                        .map(|u| format!(" until {u}"))
                        .unwrap_or_default(),
                    rb.origin,
                    rb.title.as_deref().unwrap_or("")
                )
                .map_err(io)?;
            }
        }
        RulebookCommand::Check { files } => {
            let set = load(&RulebookArgs { rulebooks: files })?;
            for rb in set.versions() {
                writeln!(
                    out,
                    "ok: {} ({}): {} metrics, {} certifications, in force from {}",
                    rb.origin,
                    rb.id(),
                    rb.metrics.len(),
                    rb.certifications.len(),
                    rb.effective_from
                )
                .map_err(io)?;
            }
        }
        RulebookCommand::Show { version } => {
            let (path, text) = match &version {
                None => BUILTIN
                    .last()
                    .copied()
                    .ok_or_else(|| Failure::Other(anyhow!("no built-in rulebook")))?,
                Some(v) => BUILTIN
                    .iter()
                    .copied()
                    .find(|(p, _)| p.trim_end_matches(".toml").ends_with(v.as_str()))
                    .ok_or_else(|| {
                        let known: Vec<&str> = BUILTIN.iter().map(|(p, _)| *p).collect();
                        Failure::Other(anyhow!(
                            "no built-in rulebook '{v}' (built in: {})",
                            known.join(", ")
                        ))
                    })?,
            };
            let _ = path;
            out.write_all(text.as_bytes()).map_err(io)?;
        }
    }
    Ok(())
}
