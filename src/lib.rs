//! seglake: customer segmentation and marketing KPIs as plain SQL over Parquet lakes, on
//! Apache DataFusion.
//!
//! Embedding applications start with [`SeglakeBuilder`], which yields a ready
//! `SessionContext` with seglake's functions and the lake's tables registered.

pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod error;
pub mod exec;
pub mod format;
pub mod functions;
pub mod generate;
pub mod lake;
pub mod library;
pub mod output;
pub mod output_folder;
pub mod repl;
pub mod serve;
pub mod storage;

pub use engine::SeglakeBuilder;
pub use lake::{TableFormat, TableSpec};
