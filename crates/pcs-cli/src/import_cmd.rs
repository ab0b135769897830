//! `pcs import partner-center SRC DST`: Partner Center Insights' reports
//! into a pcs dataset, by a mapping (built in, or `--mapping FILE`).

use std::io::Write;

use anyhow::Context;
use pcs_data::import::{Mapping, PARTNER_CENTER, import};

use crate::args::{ImportCommand, PartnerCenterArgs};
use crate::failure::Failure;

/// Runs `pcs import ...`.
pub fn run(command: &ImportCommand) -> Result<(), Failure> {
    match command {
        ImportCommand::PartnerCenter(a) => partner_center(a),
    }
}

fn partner_center(args: &PartnerCenterArgs) -> Result<(), Failure> {
    if args.show_mapping {
        std::io::stdout()
            .write_all(PARTNER_CENTER.as_bytes())
            .context("writing the mapping")
            .map_err(Failure::Other)?;
        return Ok(());
    }
    let (Some(src), Some(dst)) = (&args.source, &args.out) else {
        return Err(Failure::BadInput(anyhow::anyhow!(
            "give the report directory and the dataset directory to write: pcs import partner-center SRC DST"
        )));
    };
    let mapping = match &args.mapping {
        None => Mapping::partner_center(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the mapping {}", path.display()))
                .map_err(Failure::BadInput)?;
            Mapping::parse(&text)
                .with_context(|| format!("the mapping {}", path.display()))
                .map_err(Failure::BadInput)?
        }
    };
    let summary = import(src, dst, &mapping, args.force)?;
    if !crate::ui::quiet() {
        eprint!("{summary}");
    }
    Ok(())
}
