//! The one place a seglake [`SessionContext`] is made: the CLI, the REPL, the saved-query
//! runner, the tests and embedding applications all get theirs from [`SeglakeBuilder`].

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::distributed::{self, ClusterUrl};
use crate::lake::segment_maps::{self, MapFile};
use crate::lake::{self, TableSpec};
use crate::library::Library;
use crate::storage::{LakeStoreRegistry, StorageOptions};
use seglake_udfs::rfm::segment_map::{SegmentMap, SegmentMaps};

/// Builds a ready [`SessionContext`]: seglake's functions registered, lake tables registered,
/// memory and spilling limits set, `information_schema` on.
///
/// ```no_run
/// # async fn demo() -> datafusion::error::Result<()> {
/// use seglake::SeglakeBuilder;
///
/// let ctx = SeglakeBuilder::new()
///     .memory_limit(4 << 30)
///     .lake("data/lake")
///     .build()
///     .await?;
/// ctx.sql("SELECT count(*) FROM transactions").await?.show().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct SeglakeBuilder {
    memory_limit: Option<usize>,
    temp_dir: Option<PathBuf>,
    target_partitions: Option<usize>,
    lakes: Vec<String>,
    tables: Vec<TableSpec>,
    storage: StorageOptions,
    scalar_udfs: Vec<ScalarUDF>,
    aggregate_udfs: Vec<AggregateUDF>,
    window_udfs: Vec<WindowUDF>,
    library: Option<Library>,
    cluster: Option<ClusterUrl>,
    segment_map_files: Vec<MapFile>,
    segment_maps: Vec<SegmentMap>,
}

impl SeglakeBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Caps the memory queries may use, in bytes; operators that can spill to disk do so
    /// beyond it. Unlimited by default.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = Some(bytes);
        self
    }

    /// Where spill files go; the system's temporary folder by default.
    pub fn temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.temp_dir = Some(dir.into());
        self
    }

    /// How many partitions plans run with; the number of cores by default.
    pub fn target_partitions(mut self, partitions: usize) -> Self {
        self.target_partitions = Some(partitions);
        self
    }

    /// Registers every sub-folder and data file of a lake folder (a path or URL) as a table.
    pub fn lake(mut self, location: impl Into<String>) -> Self {
        self.lakes.push(location.into());
        self
    }

    /// Object store timeouts, retries and per-bucket options (credentials, endpoint, region);
    /// without it, stores use the environment and default timeouts.
    pub fn storage(mut self, options: StorageOptions) -> Self {
        self.storage = options;
        self
    }

    /// Registers one table; it replaces a lake table of the same name.
    pub fn table(mut self, spec: TableSpec) -> Self {
        self.tables.push(spec);
        self
    }

    /// Adds a scalar function of the caller's beside seglake's.
    pub fn udf(mut self, udf: ScalarUDF) -> Self {
        self.scalar_udfs.push(udf);
        self
    }

    /// Adds an aggregate function of the caller's beside seglake's.
    pub fn udaf(mut self, udaf: AggregateUDF) -> Self {
        self.aggregate_udfs.push(udaf);
        self
    }

    /// Adds a window function of the caller's beside seglake's.
    pub fn udwf(mut self, udwf: WindowUDF) -> Self {
        self.window_udfs.push(udwf);
        self
    }

    /// The saved queries the session offers as views in the schema `library` and as table
    /// functions; the built-in ones by default.
    pub fn library(mut self, library: Library) -> Self {
        self.library = Some(library);
        self
    }

    /// Reads a segment map of one's own from a file (a path or URL) for `rfm_segment(r, f, m,
    /// 'NAME')`; it replaces a map of the same name, built in or found in a lake's
    /// `_segment_maps/` folder.
    pub fn segment_map_file(mut self, file: MapFile) -> Self {
        self.segment_map_files.push(file);
        self
    }

    /// Adds a segment map made in code (`SegmentMap::parse`); it replaces any of the same name.
    pub fn segment_map(mut self, map: SegmentMap) -> Self {
        self.segment_maps.push(map);
        self
    }

    /// Runs the session's queries on the Apache Ballista cluster whose scheduler is at `url`
    /// (`seglake cluster scheduler`); tables, views and settings stay in this session, and
    /// results come back here. Memory and spill settings then apply to the executors' own
    /// options, not to this session.
    pub fn cluster(mut self, url: ClusterUrl) -> Self {
        self.cluster = Some(url);
        self
    }

    /// Makes the session.
    ///
    /// # Errors
    /// When the temporary folder cannot be created, or a lake or table cannot be registered
    /// (missing, unreadable, or of an unknown format), or a cluster's scheduler cannot be
    /// reached; the message names it.
    pub async fn build(self) -> Result<SessionContext> {
        let partitions = self.target_partitions.unwrap_or_else(default_partitions);
        let mut config = SessionConfig::new()
            .with_information_schema(true)
            .with_target_partitions(partitions);
        if let Some(limit) = self.memory_limit {
            // Each sorting partition reserves this much up front to merge its spill files; the
            // 10 MB default alone would exceed a small limit and fail instead of spilling.
            let execution = &mut config.options_mut().execution;
            execution.sort_spill_reservation_bytes = execution
                .sort_spill_reservation_bytes
                .min(limit / (4 * partitions))
                .max(64 << 10);
        }

        let mut runtime = RuntimeEnvBuilder::new()
            .with_object_store_registry(Arc::new(LakeStoreRegistry::with_options(self.storage)));
        if let Some(limit) = self.memory_limit {
            // FairSpillPool shares the limit between spilling operators instead of letting the
            // first one take it all; TrackConsumersPool names the top consumers in OOM errors.
            let top = NonZeroUsize::new(5).unwrap_or(NonZeroUsize::MIN);
            runtime = runtime.with_memory_pool(Arc::new(TrackConsumersPool::new(
                FairSpillPool::new(limit),
                top,
            )));
        }
        if let Some(dir) = &self.temp_dir {
            std::fs::create_dir_all(dir).map_err(|e| {
                DataFusionError::Configuration(format!(
                    "cannot create temporary folder '{}': {e}",
                    dir.display()
                ))
            })?;
            runtime = runtime.with_temp_file_path(dir);
        }

        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime.build_arc()?)
            .with_default_features()
            .with_physical_optimizer_rules(seglake_udfs::physical_optimizer_rules())
            .build();
        let state = match &self.cluster {
            Some(url) => distributed::connect(state, url).await?,
            None => state,
        };
        let ctx = SessionContext::new_with_state(state);

        seglake_udfs::register_all(&ctx)?;
        for udf in self.scalar_udfs {
            ctx.register_udf(udf);
        }
        for udaf in self.aggregate_udfs {
            ctx.register_udaf(udaf);
        }
        for udwf in self.window_udfs {
            ctx.register_udwf(udwf);
        }

        // The lakes whose listing shows a `_segment_maps/` folder: no other is listed again.
        let mut lakes_with_maps = Vec::new();
        for location in &self.lakes {
            let listing = lake::list_lake(&ctx, location).await?;
            for spec in &listing.tables {
                lake::register_table(&ctx, spec).await?;
            }
            if listing.has_segment_maps {
                lakes_with_maps.push(location.clone());
            }
        }
        for spec in &self.tables {
            ctx.deregister_table(spec.name.as_str())?;
            lake::register_table(&ctx, spec).await?;
        }
        let loaded = segment_maps::load(&ctx, &lakes_with_maps, &self.segment_map_files).await?;
        if !loaded.is_empty() || !self.segment_maps.is_empty() {
            // A map that leaves codes to no segment still loads (rfm_segment fails on such a
            // code, naming it), but its author hears about it now.
            for warning in segment_maps::warnings(&loaded) {
                eprintln!("{warning}");
            }
            let mut maps = SegmentMaps::builtin();
            for map in loaded.into_iter().map(|l| l.map).chain(self.segment_maps) {
                maps.insert(map);
            }
            seglake_udfs::register_segment_maps(&ctx, maps);
        }
        let library = match self.library {
            Some(library) => library,
            None => Library::load(&[]).map_err(|e| DataFusionError::Plan(e.to_string()))?,
        };
        crate::library::register_library(&ctx, &library)?;
        Ok(ctx)
    }
}

fn default_partitions() -> usize {
    std::thread::available_parallelism()
        .map(NonZeroUsize::get)
        .unwrap_or(1)
}
