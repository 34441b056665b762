//! `seglake cluster scheduler|executor`: flags and seglake.toml into the roles' options.

use super::args::{ClusterRole, GlobalArgs};
use crate::cluster::{ExecutorOptions, SchedulerOptions, run_executor, run_scheduler};
use crate::config::Settings;
use crate::error::{Result, SeglakeError};

/// Runs one cluster role with the object stores (`[storage]`) and memory limit of `settings`.
///
/// # Errors
/// A usage error for options that make no sense for the role; else the role's own errors.
pub async fn run(role: &ClusterRole, global: &GlobalArgs, settings: &Settings) -> Result<()> {
    // A `cluster =` in seglake.toml is for the clients sharing that file; a flag given to a
    // role is a mistake.
    if let Some(url) = &global.cluster {
        return Err(SeglakeError::usage(format!(
            "--cluster {url} is for clients; a scheduler or executor is part of the cluster              (an executor joins one with --scheduler HOST:PORT)"
        )));
    }
    match role {
        ClusterRole::Scheduler {
            bind,
            external_host,
            executor_timeout,
        } => {
            run_scheduler(SchedulerOptions {
                bind: *bind,
                external_host: external_host.clone(),
                storage: settings.storage.clone(),
                executor_timeout: *executor_timeout,
            })
            .await
        }
        ClusterRole::Executor {
            scheduler,
            bind,
            grpc_port,
            external_host,
            work_dir,
            concurrent_tasks,
            scheduler_wait,
        } => {
            let grpc_port = match grpc_port {
                Some(port) => *port,
                None => bind.port().checked_add(1).ok_or_else(|| {
                    SeglakeError::usage(
                        "--bind port 65535 leaves no port for tasks: add --grpc-port",
                    )
                })?,
            };
            if grpc_port == bind.port() {
                return Err(SeglakeError::usage(format!(
                    "--grpc-port {grpc_port} is the --bind port: they must differ"
                )));
            }
            run_executor(ExecutorOptions {
                scheduler: scheduler.clone(),
                bind: *bind,
                grpc_port,
                external_host: external_host.clone(),
                work_dir: work_dir.clone(),
                concurrent_tasks: concurrent_tasks.map(usize::from),
                memory_limit: settings.memory_limit,
                storage: settings.storage.clone(),
                scheduler_wait: *scheduler_wait,
            })
            .await
        }
    }
}
