//! A scheduler or an executor as a process of its own (`pcs cluster
//! scheduler`, `pcs cluster executor`): the Ballista servers of the very
//! version `pcs score --cluster` speaks, so a cluster needs no other build.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

use crate::Cluster;
use crate::error::{Error, ErrorKind};

/// Executors ask the scheduler for work (pull): the scheduler never needs to
/// reach an executor, only clients do (for the results, on its Flight port).
const POLICY: TaskSchedulingPolicy = TaskSchedulingPolicy::PullStaged;

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Cluster, format!("the {what} stopped: {e}"))
}

/// Runs a scheduler listening on `bind` until the process is stopped.
/// `external_host` is the name executors and clients use for it (default:
/// the bind address).
pub async fn run_scheduler(bind: SocketAddr, external_host: Option<String>) -> Result<(), Error> {
    let mut config = SchedulerConfig::default()
        .with_hostname(external_host.unwrap_or_else(|| bind.ip().to_string()))
        .with_port(bind.port())
        .with_scheduler_policy(POLICY)
        .with_override_session_builder(Arc::new(crate::stores::ballista_state));
    config.bind_host = bind.ip().to_string();
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| failed("scheduler", e))?;
    start_server(cluster, bind, Arc::new(config))
        .await
        .map_err(|e| failed("scheduler", e))
}

/// How an executor runs (see [`run_executor`]).
#[derive(Clone, Debug)]
pub struct ExecutorOptions {
    /// The scheduler to register with (a [`Cluster::Remote`]).
    pub scheduler: Cluster,
    /// The address the executor's two ports listen on.
    pub bind_host: String,
    /// The name clients use to reach this executor (default: `bind_host`).
    pub external_host: Option<String>,
    /// The Arrow Flight port: clients and other executors fetch results
    /// and shuffle data from it.
    pub flight_port: u16,
    /// The gRPC port of the executor's control service.
    pub grpc_port: u16,
    /// Tasks run at once (0: one per core).
    pub slots: usize,
    /// Where shuffle files are written (default: a temporary directory
    /// removed when the executor stops).
    pub work_dir: Option<PathBuf>,
}

/// Runs an executor until the process is stopped (Ctrl-C or SIGTERM, which
/// it answers by finishing its tasks and leaving the cluster).
pub async fn run_executor(o: &ExecutorOptions) -> Result<(), Error> {
    let Cluster::Remote { host, port } = &o.scheduler else {
        return Err(Error::new(
            ErrorKind::Usage,
            "an executor needs a scheduler's address, df://HOST:PORT",
        ));
    };
    // Held until the executor stops; Ballista's own default directory is
    // removed as soon as it is made.
    let temp;
    let work_dir = match &o.work_dir {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("pcs-executor-")
                .tempdir()
                .map_err(|e| failed("executor", e))?;
            temp.path().to_path_buf()
        }
    };
    let work_dir = work_dir.to_str().map(str::to_string).ok_or_else(|| {
        Error::new(
            ErrorKind::Usage,
            format!("{}: the work directory is not UTF-8", work_dir.display()),
        )
    })?;
    let config = ExecutorProcessConfig {
        bind_host: o.bind_host.clone(),
        external_host: o.external_host.clone(),
        port: o.flight_port,
        grpc_port: o.grpc_port,
        scheduler_host: host.clone(),
        scheduler_port: *port,
        // Keep trying while the scheduler starts.
        scheduler_connect_timeout_seconds: 30,
        vcores: o.slots,
        task_scheduling_policy: POLICY,
        work_dir: Some(work_dir),
        override_runtime_producer: Some(Arc::new(|_| crate::stores::runtime_env())),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| failed("executor", e))
}
