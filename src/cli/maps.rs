//! `seglake maps`: list the segment maps, show one, check a map file.

use seglake_udfs::rfm::segment_map::coverage::Coverage;
use seglake_udfs::rfm::segment_map::{SegmentMap, builtin};

use super::MapsAction;
use crate::SeglakeBuilder;
use crate::config::Settings;
use crate::error::{Result, SeglakeError, describe};
use crate::lake::segment_maps::{self, LoadedMap};

/// Runs a `seglake maps` action.
///
/// # Errors
/// A failure (exit 1) when a map cannot be read, is invalid, or (check) leaves codes to no
/// segment without a fallback; a usage error (exit 2) for an unknown map name.
pub async fn run(action: &MapsAction, settings: &Settings) -> Result<()> {
    match action {
        MapsAction::Check { file, bins } => check(file, *bins),
        MapsAction::List => {
            let loaded = load(settings).await?;
            print!("{}", list(&loaded));
            Ok(())
        }
        MapsAction::Show { name } => {
            let loaded = load(settings).await?;
            print!("{}", show(&loaded, name)?);
            Ok(())
        }
    }
}

/// The maps of the lakes and files the settings name (no tables registered).
async fn load(settings: &Settings) -> Result<Vec<LoadedMap>> {
    let ctx = SeglakeBuilder::new()
        .storage(settings.storage.clone())
        .build()
        .await?;
    segment_maps::load(&ctx, &settings.lakes, &settings.segment_maps)
        .await
        .map_err(|e| SeglakeError::failed(describe(&e)))
}

/// Every map, built-in ones first, each replaced by a later one of the same name.
fn all(loaded: &[LoadedMap]) -> Vec<(SegmentMap, String)> {
    let mut maps: Vec<(SegmentMap, String)> = builtin::maps()
        .into_iter()
        .map(|m| (m, "built in".to_string()))
        .collect();
    for l in loaded {
        maps.retain(|(m, _)| !m.name().eq_ignore_ascii_case(l.map.name()));
        maps.push((l.map.clone(), l.source.clone()));
    }
    maps
}

fn list(loaded: &[LoadedMap]) -> String {
    let mut out = String::new();
    for (map, source) in all(loaded) {
        out.push_str(&format!(
            "{}  {} bins, {} rules, fallback {}  ({source})\n",
            map.name(),
            map.bins(),
            map.rules().len(),
            map.fallback()
                .map_or_else(|| "none".to_string(), |f| format!("'{f}'")),
        ));
        if let Some(description) = map.description() {
            out.push_str(&format!("    {description}\n"));
        }
    }
    out
}

fn show(loaded: &[LoadedMap], name: &str) -> Result<String> {
    let maps = all(loaded);
    let Some((map, source)) = maps
        .iter()
        .find(|(m, _)| m.name().eq_ignore_ascii_case(name.trim()))
    else {
        let names: Vec<String> = maps
            .iter()
            .map(|(m, _)| format!("'{}'", m.name()))
            .collect();
        return Err(SeglakeError::usage(format!(
            "unknown segment map '{name}': expected one of {}",
            names.join(", ")
        )));
    };
    if source == "built in"
        && let Some(text) = builtin::file(map.name())
    {
        return Ok(format!("# segment map '{}' (built in)\n{text}", map.name()));
    }
    Ok(map.to_toml())
}

fn check(file: &std::path::Path, bins: Option<u32>) -> Result<()> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        SeglakeError::failed(format!(
            "cannot read segment map file '{}': {e}",
            file.display()
        ))
    })?;
    let name = file
        .file_stem()
        .map_or_else(|| "map".to_string(), |s| s.to_string_lossy().into_owned());
    let map = SegmentMap::parse_with_bins(&name, &text, bins)
        .map_err(|e| SeglakeError::failed(format!("{e} (in '{}')", file.display())))?;
    let coverage = Coverage::of(&map);
    print!("{}", coverage.report(&map));
    if coverage.complete() {
        Ok(())
    } else {
        Err(SeglakeError::failed(format!(
            "segment map '{}' leaves {} code(s) to no segment and has no fallback",
            map.name(),
            coverage.uncovered.len()
        )))
    }
}
