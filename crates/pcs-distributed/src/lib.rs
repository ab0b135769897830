//! Distributed aggregation for pcs: the aggregation stage of `pcs score` as
//! an Apache DataFusion plan, run on an Apache Ballista cluster.
//!
//! Each table file is scanned once, by one query: revenue, usage and acr
//! rows are grouped by their names as written (and, for the months kept,
//! tenant, month, offer), licenses rows by tenant, workload, association,
//! association date and (for the months the areas keep) month, with the
//! record reader's checks as one validity predicate whose first failing row
//! the same aggregation finds.
//! The groups come back to this process, which resolves their names with
//! the [`Rulebook`] (and, for the other solution areas, the
//! [`pcs_core::vocab::Vocabulary`]) as the native reader does and hands
//! them to [`pcs_core::facts::FactsBuilder`]'s grouped entry points, so
//! scoring is the very same [`pcs_core::score::score_partner`] and area
//! engine.
//!
//! Only Parquet tables are read on a cluster (`pcs convert` makes them from
//! CSV). Every row is numbered as the native reader numbers it, so warnings
//! name their first row and first-seen names match the streaming reader:
//! files pcs writes carry each row's number
//! ([`pcs_data::write::ROW_COLUMN`]) and are scanned in parallel; other
//! files are numbered with `row_number() OVER ()` over a scan kept to one
//! partition. Source lines of individual sums are not brought back
//! (`--explain` says so).
//!
//! ```no_run
//! use pcs_core::rulebook::RulebookSet;
//! use pcs_core::score::Period;
//! use pcs_distributed::{Cluster, load_blocking};
//! let set = RulebookSet::builtin();
//! let rb = &set.versions()[0];
//! let period = Period::for_month(rb, "2023-11".parse().unwrap());
//! let cluster: Cluster = "df://127.0.0.1:50050".parse().unwrap();
//! let (facts, tables) = load_blocking(&cluster, "data/".as_ref(), rb, &period.data_months()).unwrap();
//! ```

mod collect;
mod error;
mod plan;
mod process;
mod stores;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use ballista::prelude::SessionContextExt;
use datafusion::prelude::SessionContext;
use pcs_core::calendar::Month;
use pcs_core::facts::DatasetFacts;
use pcs_core::rulebook::Rulebook;
use pcs_data::Dataset;

pub use collect::{Areas, Loaded, Query, scans_of};
pub use error::{Error, ErrorKind};
pub use process::{ExecutorOptions, run_executor, run_scheduler};
pub use stores::EnvStores;

/// Where the plan runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cluster {
    /// A Ballista scheduler at `df://HOST:PORT` (executors register with it).
    Remote {
        /// The host.
        host: String,
        /// The port.
        port: u16,
    },
    /// Ballista's standalone mode: a scheduler and an executor inside this
    /// process, on loopback ports.
    Standalone,
}

impl FromStr for Cluster {
    type Err = Error;

    /// Parses `df://HOST:PORT` or `standalone`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::Usage,
                format!("--cluster '{s}': {why} (expected df://HOST:PORT or standalone)"),
            )
        };
        if s == "standalone" {
            return Ok(Cluster::Standalone);
        }
        let rest = s
            .strip_prefix("df://")
            .ok_or_else(|| bad("not a df:// address"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| bad("the port is missing"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains('/') {
            return Err(bad("the host is missing"));
        }
        let port: u16 = port.parse().map_err(|_| bad("the port is not a number"))?;
        if port == 0 {
            return Err(bad("port 0"));
        }
        Ok(Cluster::Remote {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cluster::Remote { host, port } if host.contains(':') => {
                write!(f, "df://[{host}]:{port}")
            }
            Cluster::Remote { host, port } => write!(f, "df://{host}:{port}"),
            Cluster::Standalone => f.write_str("standalone"),
        }
    }
}

/// Connects to the cluster: a session whose queries the Ballista scheduler
/// plans and its executors run.
pub async fn connect(cluster: &Cluster) -> Result<SessionContext, Error> {
    let ctx = match cluster {
        Cluster::Remote { .. } => {
            SessionContext::remote_with_state(&cluster.to_string(), stores::session_state()?).await
        }
        Cluster::Standalone => {
            SessionContext::standalone_with_state(stores::session_state()?).await
        }
    };
    ctx.map_err(|e| {
        Error::new(
            ErrorKind::Cluster,
            format!("cannot reach the cluster at {cluster}: {e}"),
        )
    })
}

/// Starts a Ballista scheduler and `executors` executors (each running
/// `slots` tasks at a time) as tasks of the current Tokio runtime, on
/// loopback ports the system picks, and returns the scheduler's address.
/// They serve until the runtime shuts down. For tests and demonstrations:
/// a real deployment runs the `ballista-scheduler` and `ballista-executor`
/// binaries (see the README).
pub async fn spawn_local_cluster(executors: usize, slots: usize) -> Result<Cluster, Error> {
    use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
    let failed = |what: &str, e: &dyn fmt::Display| {
        Error::new(
            ErrorKind::Cluster,
            format!("cannot start a local {what}: {e}"),
        )
    };
    let state = stores::session_state()?;
    let addr = ballista_scheduler::standalone::new_standalone_scheduler_from_state(&state)
        .await
        .map_err(|e| failed("scheduler", &e))?;
    let url = format!("http://{addr}");
    let mut tries = 0;
    let scheduler = loop {
        match SchedulerGrpcClient::connect(url.clone()).await {
            Ok(s) => break s,
            Err(e) if tries >= 100 => return Err(failed("scheduler", &e)),
            Err(_) => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    for _ in 0..executors.max(1) {
        ballista_executor::new_standalone_executor_from_state(
            scheduler.clone(),
            slots.max(1),
            &state,
        )
        .await
        .map_err(|e| failed("executor", &e))?;
    }
    Ok(Cluster::Remote {
        host: addr.ip().to_string(),
        port: addr.port(),
    })
}

/// A scheduler and executors on loopback ports, on a runtime of their own,
/// for callers that are not async (tests, demonstrations). Dropping it stops
/// them.
pub struct LocalCluster {
    cluster: Cluster,
    // The servers' tasks live on it.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        // Without waiting for the executors' polling loops.
        if let Some(r) = self.runtime.take() {
            r.shutdown_background();
        }
    }
}

impl LocalCluster {
    /// Starts a scheduler and `executors` executors with `slots` task slots
    /// each (see [`spawn_local_cluster`]).
    pub fn start(executors: usize, slots: usize) -> Result<LocalCluster, Error> {
        let runtime = runtime()?;
        let cluster = runtime.block_on(spawn_local_cluster(executors, slots))?;
        Ok(LocalCluster {
            cluster,
            runtime: Some(runtime),
        })
    }

    /// The scheduler's address, `df://HOST:PORT`.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(ErrorKind::Cluster, format!("cannot start a runtime: {e}")))
}

/// Aggregates the dataset at `dir` (a local directory or an
/// `s3://BUCKET/PREFIX` URL, see [`EnvStores`]) on a session (see
/// [`connect`]) and returns the facts the native reader would build for
/// `months` (`Dataset::load`), without source lines, and the table files it
/// read.
pub async fn load(
    ctx: &SessionContext,
    dir: &Path,
    rulebook: &Rulebook,
    months: &[Month],
) -> Result<(DatasetFacts, Dataset), Error> {
    let l = collect::load(ctx, dir, rulebook, months, None).await?;
    Ok((l.facts, l.dataset))
}

/// [`load`], with the other solution areas' inputs when `areas` is given
/// (the facts of `Dataset::load_areas`), and the queries it ran: one per
/// table file, each scanning it once (a second only to report a bad row).
pub async fn load_with(
    ctx: &SessionContext,
    dir: &Path,
    rulebook: &Rulebook,
    months: &[Month],
    areas: Option<Areas<'_>>,
) -> Result<Loaded, Error> {
    collect::load(ctx, dir, rulebook, months, areas).await
}

/// [`connect`] and [`load`] on a runtime of their own, for callers that are
/// not async.
pub fn load_blocking(
    cluster: &Cluster,
    dir: &Path,
    rulebook: &Rulebook,
    months: &[Month],
) -> Result<(DatasetFacts, Dataset), Error> {
    let l = load_blocking_with(cluster, dir, rulebook, months, None)?;
    Ok((l.facts, l.dataset))
}

/// [`connect`] and [`load_with`] on a runtime of their own.
pub fn load_blocking_with(
    cluster: &Cluster,
    dir: &Path,
    rulebook: &Rulebook,
    months: &[Month],
    areas: Option<Areas<'_>>,
) -> Result<Loaded, Error> {
    runtime()?.block_on(async {
        let ctx = connect(cluster).await?;
        load_with(&ctx, dir, rulebook, months, areas).await
    })
}

#[cfg(test)]
mod tests {
    use super::Cluster;

    #[test]
    fn cluster_addresses() {
        let c: Cluster = "df://127.0.0.1:50050".parse().unwrap();
        assert_eq!(
            c,
            Cluster::Remote {
                host: "127.0.0.1".into(),
                port: 50050
            }
        );
        assert_eq!(c.to_string(), "df://127.0.0.1:50050");
        assert_eq!(
            "standalone".parse::<Cluster>().unwrap(),
            Cluster::Standalone
        );
        let v6: Cluster = "df://[::1]:7/".parse().unwrap();
        assert_eq!(v6.to_string(), "df://[::1]:7");
        for bad in [
            "http://h:1",
            "df://h",
            "df://:1",
            "df://h:x",
            "df://h:0",
            "df://h:99999",
        ] {
            let e = bad.parse::<Cluster>().unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }
}
