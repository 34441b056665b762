//! `seglake cluster`: the scheduler and executor roles of an Apache Ballista cluster, each
//! with seglake's functions, optimizer rule, plan codecs and object stores. Clients connect
//! with `--cluster df://HOST:PORT` (see [`crate::distributed`]).

mod executor;
mod executor_check;
mod scheduler;

pub use executor::{ExecutorOptions, run_executor};
pub use scheduler::{SchedulerOptions, run_scheduler};

use std::sync::Arc;

use ballista_core::extension::{
    ballista_aggregate_functions, ballista_scalar_functions, ballista_window_functions,
};
use datafusion::error::Result;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::optimizer::OptimizerRule;
use datafusion::prelude::{SessionConfig, SessionContext};

/// A session state with DataFusion's (and Ballista's) functions plus seglake's, seglake's
/// optimizer rules after Ballista's, and seglake's physical optimizer rule among DataFusion's.
fn seglake_state(
    config: SessionConfig,
    runtime: Arc<RuntimeEnv>,
    checks: Vec<Arc<dyn OptimizerRule + Send + Sync>>,
) -> Result<SessionState> {
    let mut rules = ballista_core::optimizer::ballista_default_optimizer_rules();
    rules.push(Arc::new(seglake_udfs::rfm::SkipUnreadPurchaseDays));
    rules.push(Arc::new(crate::distributed::LakePathsVisible));
    rules.extend(checks);
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_optimizer_rules(rules)
        .with_physical_optimizer_rules(seglake_udfs::cluster_physical_optimizer_rules())
        .with_scalar_functions(ballista_scalar_functions())
        .with_aggregate_functions(ballista_aggregate_functions())
        .with_window_functions(ballista_window_functions())
        .build();
    let ctx = SessionContext::new_with_state(state);
    seglake_udfs::register_functions(&ctx)?;
    Ok(ctx.state())
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
