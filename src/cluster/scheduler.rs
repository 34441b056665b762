//! `seglake cluster scheduler`: Ballista's scheduler with a seglake session per client
//! session.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ballista_scheduler::cluster::{BallistaCluster, ClusterState};
use datafusion::optimizer::OptimizerRule;

use super::executor_check::ExecutorsHaveFunctions;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};

use crate::distributed::codec::{SeglakeLogicalCodec, SeglakePhysicalCodec};
use crate::distributed::{check_version, cluster_config};
use crate::error::{Result, SeglakeError};
use crate::storage::{LakeStoreRegistry, StorageOptions};

/// What `seglake cluster scheduler` was told.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    pub bind: SocketAddr,
    /// The host name executors and clients reach this scheduler by, if not the bound address.
    pub external_host: Option<String>,
    /// Object stores for listing a lake's files when planning.
    pub storage: StorageOptions,
    /// An executor without a heartbeat for this long is taken as lost and its tasks run
    /// elsewhere.
    pub executor_timeout: Duration,
}

/// Runs the scheduler until Ctrl-C or SIGTERM.
///
/// # Errors
/// When the address cannot be bound or the scheduler cannot start.
pub async fn run_scheduler(options: SchedulerOptions) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|e| SeglakeError::failed(format!("cannot listen on {}: {e}", options.bind)))?;
    let address = listener
        .local_addr()
        .map_err(|e| SeglakeError::failed(format!("cannot listen on {}: {e}", options.bind)))?;

    let stores = Arc::new(LakeStoreRegistry::with_options(options.storage.clone()));
    // The cluster state is made before the configuration that refers to it: the session
    // builder checks each query's functions against the executors registered there.
    let state_slot: Arc<std::sync::OnceLock<Arc<dyn ClusterState>>> = Arc::default();
    let slot = state_slot.clone();
    let timeout = options.executor_timeout.as_secs().max(1);
    let mut config = SchedulerConfig::default()
        .with_hostname(
            options
                .external_host
                .clone()
                .unwrap_or_else(|| address.ip().to_string()),
        )
        .with_port(address.port())
        .with_override_config_producer(Arc::new(|| cluster_config(SessionConfig::new())))
        .with_override_session_builder(Arc::new(move |mut config: SessionConfig| {
            check_version(&config, "scheduler")?;
            // Off in the plan a client sends (see distributed::connect); planning here keeps it.
            config
                .options_mut()
                .optimizer
                .enable_leaf_expression_pushdown = true;
            let runtime = RuntimeEnvBuilder::new()
                .with_object_store_registry(stores.clone())
                .build_arc()?;
            let checks: Vec<Arc<dyn OptimizerRule + Send + Sync>> = match slot.get() {
                Some(cluster) => vec![Arc::new(ExecutorsHaveFunctions::new(cluster.clone()))],
                None => Vec::new(),
            };
            super::seglake_state(config, runtime, checks)
        }));
    config.override_logical_codec = Some(Arc::new(SeglakeLogicalCodec::default()));
    config.override_physical_codec = Some(Arc::new(SeglakePhysicalCodec::default()));
    config.bind_host = address.ip().to_string();
    config.executor_timeout_seconds = timeout;
    config.no_executors_grace_period_seconds = timeout;
    config.expire_dead_executor_interval_seconds = (timeout / 3).clamp(1, 15);
    config
        .validate()
        .map_err(|e| SeglakeError::failed(format!("scheduler: {e}")))?;
    let config = Arc::new(config);

    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| SeglakeError::failed(format!("scheduler: {e}")))?;
    let _ = state_slot.set(cluster.cluster_state());
    let scheduler = create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, config)
        .await
        .map_err(|e| SeglakeError::failed(format!("scheduler: {e}")))?;
    eprintln!(
        "seglake {} cluster scheduler listening on df://{address}",
        crate::VERSION
    );
    tokio::select! {
        served = start_grpc_service_with_listener(listener, scheduler) => served
            .map_err(|e| SeglakeError::failed(format!("scheduler stopped: {e}"))),
        _ = super::shutdown_signal() => {
            eprintln!("seglake cluster scheduler: stopping");
            Ok(())
        }
    }
}
