//! Loading rulebooks (built-in or from files) and `pcs rulebook`.

use std::io::Write;

use anyhow::{Context, anyhow};
use pcs_core::area::AreaRulebook;
use pcs_core::rulebook::{AREA_BUILTIN, BUILTIN, Rulebook, RulebookSet, format_of};

use crate::args::{RulebookArgs, RulebookCommand};
use crate::failure::Failure;

/// The set to use: the built-in versions, or the given files. Given files
/// replace the built-in versions of the solution areas they cover; an area
/// no file covers keeps its built-in versions.
pub fn load(args: &RulebookArgs) -> Result<RulebookSet, Failure> {
    if args.rulebooks.is_empty() {
        return Ok(RulebookSet::builtin());
    }
    let mut versions = Vec::new();
    let mut areas: Vec<AreaRulebook> = Vec::new();
    for path in &args.rulebooks {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read rulebook {}", path.display()))
            .map_err(Failure::BadInput)?;
        let origin = path.display().to_string();
        // A file without a readable `format` is reported by the format-1
        // reader, whose errors name the key.
        match format_of(&text, &origin) {
            Ok(2) => areas.push(AreaRulebook::from_toml(&text, &origin)?),
            _ => versions.push(Rulebook::from_toml(&text, &origin)?),
        }
    }
    let builtin = RulebookSet::builtin();
    if versions.is_empty() {
        versions.extend(builtin.versions().iter().cloned());
    }
    for a in builtin.area_versions() {
        if !areas.iter().any(|x| x.solution_area == a.solution_area)
            && !versions.iter().any(|x| x.solution_area == a.solution_area)
        {
            areas.push(a.clone());
        }
    }
    Ok(RulebookSet::new(versions)?.with_areas(areas)?)
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
            for rb in set.area_versions() {
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
            for rb in set
                .area_versions()
                .iter()
                .filter(|rb| !rb.origin.starts_with("builtin:"))
            {
                let metrics = rb.metric_ids().len();
                writeln!(
                    out,
                    "ok: {} ({}): {} metrics, {} certifications, in force from {}",
                    rb.origin,
                    rb.id(),
                    metrics,
                    rb.certifications.len(),
                    rb.effective_from
                )
                .map_err(io)?;
            }
            for rb in set
                .versions()
                .iter()
                .filter(|rb| !rb.origin.starts_with("builtin:"))
            {
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
                    .chain(AREA_BUILTIN)
                    .copied()
                    .find(|(p, _)| p.trim_end_matches(".toml").ends_with(v.as_str()))
                    .ok_or_else(|| {
                        let known: Vec<&str> = BUILTIN
                            .iter()
                            .chain(AREA_BUILTIN)
                            .map(|(p, _)| *p)
                            .collect();
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
