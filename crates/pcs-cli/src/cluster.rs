//! `pcs score --cluster` (the aggregation on an Apache Ballista cluster) and
//! `pcs cluster` (its scheduler and executor processes), with the feature
//! `distributed`, or a clear error in a binary built without it.

use std::path::Path;

use pcs_core::facts::{DatasetFacts, MonthFilter};
use pcs_core::rulebook::Rulebook;
use pcs_core::score::Period;
use pcs_core::vocab::Vocabulary;
use pcs_data::Dataset;

use crate::args::ClusterCommand;
use crate::failure::Failure;

/// The message of a binary built without the feature.
#[cfg(not(feature = "distributed"))]
fn not_built(what: &str) -> Failure {
    Failure::Other(anyhow::anyhow!(
        "{what}: this pcs was built without the `distributed` feature \
         (build it with `cargo build -p pcs-cli --features distributed`)"
    ))
}

/// Aggregates the dataset on the cluster named by `--cluster` and returns
/// the same facts as the native reader (without source lines), and the
/// table files read.
#[cfg(feature = "distributed")]
pub fn load(
    cluster: &str,
    dataset: &Path,
    rb: &Rulebook,
    period: &Period,
    explain: bool,
) -> Result<(DatasetFacts, Dataset), Failure> {
    load_with(cluster, dataset, rb, period, None, explain)
}

/// [`load`] for several solution areas: also the acr and licenses tables,
/// with `vocabulary` (every area's names), their aggregates kept for
/// `area_months` (the facts of `Dataset::load_areas`).
#[cfg(feature = "distributed")]
pub fn load_areas(
    cluster: &str,
    dataset: &Path,
    rb: &Rulebook,
    period: &Period,
    vocabulary: &Vocabulary,
    area_months: &MonthFilter,
    explain: bool,
) -> Result<(DatasetFacts, Dataset), Failure> {
    let areas = pcs_distributed::Areas {
        vocabulary,
        months: area_months,
    };
    load_with(cluster, dataset, rb, period, Some(areas), explain)
}

/// What [`load`] and [`load_areas`] share: the cluster's address, the note
/// under `--explain`, the load and the errors' exit codes.
#[cfg(feature = "distributed")]
fn load_with(
    cluster: &str,
    dataset: &Path,
    rb: &Rulebook,
    period: &Period,
    areas: Option<pcs_distributed::Areas<'_>>,
    explain: bool,
) -> Result<(DatasetFacts, Dataset), Failure> {
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
    let loaded =
        pcs_distributed::load_blocking_with(&cluster, dataset, rb, &period.data_months(), areas)
            .map_err(wrap)?;
    report_queries(&loaded);
    Ok((loaded.facts, loaded.dataset))
}

/// With `--verbose`: each query's time and result size, and the time the
/// facts took to build here.
#[cfg(feature = "distributed")]
fn report_queries(loaded: &pcs_distributed::Loaded) {
    if !VERBOSE.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    for q in &loaded.queries {
        eprintln!(
            "pcs: cluster query {}: {} result rows by {:.2} s",
            q.what, q.rows, q.seconds
        );
    }
    eprintln!(
        "pcs: cluster results turned into facts in {:.2} s",
        loaded.assemble_seconds
    );
}

/// Whether `--verbose` was given (set by `main`): the cluster's queries are
/// then reported.
pub static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Without the `distributed` feature, `--cluster` is an error that says so.
#[cfg(not(feature = "distributed"))]
pub fn load_areas(
    cluster: &str,
    _dataset: &Path,
    _rb: &Rulebook,
    _period: &Period,
    _vocabulary: &Vocabulary,
    _area_months: &MonthFilter,
    _explain: bool,
) -> Result<(DatasetFacts, Dataset), Failure> {
    Err(not_built(&format!("--cluster {cluster}")))
}

/// Without the `distributed` feature, `--cluster` is an error that says so.
#[cfg(not(feature = "distributed"))]
pub fn load(
    cluster: &str,
    _dataset: &Path,
    _rb: &Rulebook,
    _period: &Period,
    _explain: bool,
) -> Result<(DatasetFacts, Dataset), Failure> {
    Err(not_built(&format!("--cluster {cluster}")))
}

/// Without the `distributed` feature, `pcs cluster` is an error that says so.
#[cfg(not(feature = "distributed"))]
pub fn run(_command: &ClusterCommand) -> Result<(), Failure> {
    Err(not_built("pcs cluster"))
}

/// Runs a scheduler or an executor until the process is stopped.
#[cfg(feature = "distributed")]
pub fn run(command: &ClusterCommand) -> Result<(), Failure> {
    use anyhow::anyhow;
    let wrap = |e: pcs_distributed::Error| {
        if e.is_bad_input() {
            Failure::BadInput(anyhow!(e))
        } else {
            Failure::Other(anyhow!(e))
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(anyhow!("cannot start a runtime: {e}")))?;
    match command {
        ClusterCommand::Scheduler {
            bind,
            external_host,
        } => {
            let shown = pcs_distributed::Cluster::Remote {
                host: external_host
                    .clone()
                    .unwrap_or_else(|| bind.ip().to_string()),
                port: bind.port(),
            };
            eprintln!("pcs cluster scheduler: listening on {bind}; clients use --cluster {shown}");
            runtime
                .block_on(pcs_distributed::run_scheduler(*bind, external_host.clone()))
                .map_err(wrap)
        }
        ClusterCommand::Executor {
            scheduler,
            bind,
            external_host,
            flight_port,
            grpc_port,
            slots,
            work_dir,
        } => {
            let scheduler: pcs_distributed::Cluster = scheduler.parse().map_err(wrap)?;
            let options = pcs_distributed::ExecutorOptions {
                scheduler: scheduler.clone(),
                bind_host: bind.clone(),
                external_host: external_host.clone(),
                flight_port: *flight_port,
                grpc_port: *grpc_port,
                slots: *slots,
                work_dir: work_dir.clone(),
            };
            eprintln!(
                "pcs cluster executor: Flight on {bind}:{flight_port}, gRPC on {bind}:{grpc_port}; \
                 registering with {scheduler}"
            );
            runtime
                .block_on(pcs_distributed::run_executor(&options))
                .map_err(wrap)
        }
    }
}
