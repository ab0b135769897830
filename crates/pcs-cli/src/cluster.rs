//! `pcs score --cluster`: the aggregation on an Apache Ballista cluster
//! (feature `distributed`), or a clear error in a binary built without it.

use std::path::Path;

use pcs_core::facts::DatasetFacts;
use pcs_core::rulebook::Rulebook;
use pcs_core::score::Period;

use crate::failure::Failure;

/// Aggregates the dataset on the cluster named by `--cluster` and returns
/// the same facts as the native reader (without source lines).
#[cfg(feature = "distributed")]
pub fn load(
    cluster: &str,
    dataset: &Path,
    rb: &Rulebook,
    period: &Period,
    explain: bool,
) -> Result<DatasetFacts, Failure> {
    use anyhow::anyhow;
    let wrap = |e: pcs_distributed::Error| {
        if e.is_bad_input() {
            Failure::BadInput(anyhow!(e))
        } else {
            Failure::Other(anyhow!(e))
        }
    };
    let cluster: pcs_distributed::Cluster = cluster.parse().map_err(wrap)?;
    if explain {
        eprintln!(
            "note: on a cluster rows are summed by the executors: explanations name no source lines"
        );
    }
    pcs_distributed::load_blocking(&cluster, dataset, rb, &period.data_months()).map_err(wrap)
}

/// Without the `distributed` feature, `--cluster` is an error that says so.
#[cfg(not(feature = "distributed"))]
pub fn load(
    cluster: &str,
    _dataset: &Path,
    _rb: &Rulebook,
    _period: &Period,
    _explain: bool,
) -> Result<DatasetFacts, Failure> {
    Err(Failure::Other(anyhow::anyhow!(
        "--cluster {cluster}: this pcs was built without the `distributed` feature \\
         (build it with `cargo build -p pcs-cli --features distributed`)"
    )))
}
