//! `seglake cluster executor`: Ballista's executor with seglake's functions, codecs and
//! object stores.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista_core::extension::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;

use crate::distributed::codec::{SeglakeLogicalCodec, SeglakePhysicalCodec};
use crate::distributed::{ClusterUrl, check_version, cluster_config};
use crate::error::{Result, SeglakeError};
use crate::storage::{LakeStoreRegistry, StorageOptions};

/// What `seglake cluster executor` was told.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    pub scheduler: ClusterUrl,
    /// Where this executor serves shuffle data (Arrow Flight); its task service listens on
    /// `grpc_port`.
    pub bind: SocketAddr,
    pub grpc_port: u16,
    /// The host name the scheduler and other executors reach this one by, if not the bound
    /// address.
    pub external_host: Option<String>,
    /// Shuffle files and spills; a temporary folder, removed at exit, by default.
    pub work_dir: Option<PathBuf>,
    /// Tasks run at once; the number of cores by default.
    pub concurrent_tasks: Option<usize>,
    /// The memory all running tasks share, in bytes; beyond it, operators spill.
    pub memory_limit: Option<usize>,
    pub storage: StorageOptions,
    /// How long to wait for the scheduler at start.
    pub scheduler_wait: Duration,
}

/// Runs the executor until Ctrl-C, SIGTERM or the scheduler stops it.
///
/// # Errors
/// When the scheduler cannot be reached within `scheduler_wait`, a port cannot be bound, or
/// the executor stops with an error.
pub async fn run_executor(options: ExecutorOptions) -> Result<()> {
    wait_for(&options.scheduler, options.scheduler_wait).await?;
    let work_dir = match &options.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                SeglakeError::failed(format!("cannot create --work-dir '{}': {e}", dir.display()))
            })?;
            Some(dir.clone())
        }
        None => None,
    };
    // Spills go beside the shuffle files when there is a work folder.
    let spill_dir = work_dir.clone();
    let stores = Arc::new(LakeStoreRegistry::with_options(options.storage.clone()));
    let runtime_producer = Arc::new(move |config: &SessionConfig| {
        check_version(config, "executor")?;
        let mut runtime = RuntimeEnvBuilder::new().with_object_store_registry(stores.clone());
        if let Some(dir) = &spill_dir {
            runtime = runtime.with_temp_file_path(dir);
        }
        runtime.build_arc()
    });
    let registry = function_registry()?;
    let vcores = options.concurrent_tasks.unwrap_or(0);
    let config = ExecutorProcessConfig {
        // The scheduler tells seglake executors of its version by this prefix.
        executor_id: format!(
            "{}{}",
            super::executor_check::executor_id_prefix(),
            ballista_core::ids::new_instance_id()
        ),
        bind_host: options.bind.ip().to_string(),
        external_host: options.external_host.clone(),
        port: options.bind.port(),
        grpc_port: options.grpc_port,
        scheduler_host: options.scheduler.host().to_string(),
        scheduler_port: options.scheduler.port(),
        vcores,
        work_dir: work_dir.map(|d| d.to_string_lossy().into_owned()),
        memory_pool_size: options.memory_limit.map(|b| b as u64),
        // Heartbeats often enough for a scheduler's --executor-timeout of some seconds.
        executor_heartbeat_interval_seconds: 2,
        override_function_registry: Some(Arc::new(registry)),
        override_runtime_producer: Some(runtime_producer),
        override_config_producer: Some(Arc::new(|| {
            cluster_config(SessionConfig::new())
                .with_ballista_physical_extension_codec(Arc::new(SeglakePhysicalCodec::default()))
        })),
        override_logical_codec: Some(Arc::new(SeglakeLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(SeglakePhysicalCodec::default())),
        ..Default::default()
    };
    eprintln!(
        "seglake {} cluster executor: flight {}, tasks on port {}, scheduler {}, {} task slots",
        crate::VERSION,
        options.bind,
        options.grpc_port,
        options.scheduler,
        if vcores == 0 {
            "one per core".to_string()
        } else {
            vcores.to_string()
        }
    );
    tokio::select! {
        ran = start_executor_process(Arc::new(config)) => ran
            .map_err(|e| SeglakeError::failed(format!("executor stopped: {e}"))),
        _ = super::shutdown_signal() => {
            eprintln!("seglake cluster executor: stopping");
            Ok(())
        }
    }
}

/// DataFusion's and Ballista's functions with seglake's: Ballista's override replaces the
/// default registry rather than adding to it.
pub(crate) fn function_registry() -> Result<BallistaFunctionRegistry> {
    let runtime = RuntimeEnvBuilder::new()
        .build_arc()
        .map_err(|e| SeglakeError::failed(e.to_string()))?;
    let state = super::seglake_state(SessionConfig::new(), runtime, Vec::new())
        .map_err(|e| SeglakeError::failed(e.to_string()))?;
    Ok(BallistaFunctionRegistry::from(&state))
}

/// Waits until the scheduler's port accepts connections.
async fn wait_for(scheduler: &ClusterUrl, wait: Duration) -> Result<()> {
    let started = Instant::now();
    loop {
        let left = wait.saturating_sub(started.elapsed());
        match scheduler
            .check_reachable(left.clamp(Duration::from_millis(100), Duration::from_secs(2)))
            .await
        {
            Ok(()) => return Ok(()),
            Err(e) if started.elapsed() >= wait => {
                return Err(SeglakeError::failed(format!(
                    "{e}; gave up after {} s (--scheduler-wait)",
                    wait.as_secs()
                )));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}
