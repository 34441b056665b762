//! seglake: customer segmentation and marketing KPIs as plain SQL over Parquet lakes, on
//! Apache DataFusion.
//!
//! Embedding applications start with [`SeglakeBuilder`], which yields a ready
//! `SessionContext` with seglake's functions and the lake's tables registered.

pub mod cli;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod distributed;
pub mod engine;
pub mod error;
pub mod exec;
pub mod functions;
pub mod generate;
pub mod lake;
pub mod library;
pub mod output;
pub mod repl;
pub mod replace;
pub mod report;
pub mod serve;
pub mod storage;

pub use engine::SeglakeBuilder;

/// This seglake's version; a cluster's client, scheduler and executors must run the same.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub use lake::{TableFormat, TableSpec};
