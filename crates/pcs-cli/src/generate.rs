//! `pcs generate` (being written).
use crate::args::GenerateArgs;
pub fn run(_args: &GenerateArgs) -> anyhow::Result<()> {
    anyhow::bail!("pcs generate is being written")
}
