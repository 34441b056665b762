//! Segment maps of one's own (see `seglake_udfs::rfm::segment_map` for the format): every
//! `_segment_maps/NAME.toml` in a lake, and files named in seglake.toml (`[segment_maps]`) or
//! with `--segment-map NAME=FILE`. Locations are paths or URLs, read through the session's
//! object stores like the lake's tables.

use datafusion::datasource::listing::ListingTableUrl;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use seglake_udfs::rfm::segment_map::SegmentMap;
use seglake_udfs::rfm::segment_map::coverage::Coverage;

use super::has_url_scheme;

/// The folder of a lake that holds its segment maps.
pub const LAKE_FOLDER: &str = "_segment_maps";

/// A segment map and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedMap {
    pub map: SegmentMap,
    /// The file it was read from.
    pub source: String,
}

/// A map file given by name: `NAME=FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapFile {
    pub name: String,
    pub location: String,
}

impl std::str::FromStr for MapFile {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let (name, location) = text
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=FILE, got '{text}'"))?;
        let name = name.trim();
        check_name(name)?;
        if location.trim().is_empty() {
            return Err(format!("segment map '{name}' has no file"));
        }
        Ok(Self {
            name: name.to_string(),
            location: location.trim().to_string(),
        })
    }
}

/// A map name is a word: letters, digits and `_`, as SQL users will type it in quotes.
pub fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "segment map name '{name}' must be letters, digits and _ (e.g. my_map)"
        ));
    }
    Ok(())
}

/// Reads and checks the maps of `lakes` (their `_segment_maps/` folders, in name order) and
/// then `files`, in that order: a later map replaces an earlier one of the same name.
///
/// # Errors
/// When a file cannot be read or is not a valid map; the message names the file.
pub async fn load(
    ctx: &SessionContext,
    lakes: &[String],
    files: &[MapFile],
) -> Result<Vec<LoadedMap>> {
    let mut loaded = Vec::new();
    for lake in lakes {
        loaded.extend(lake_maps(ctx, lake).await?);
    }
    for file in files {
        let text = read(ctx, &file.location).await?;
        loaded.push(parse(&file.name, &text, &file.location)?);
    }
    Ok(loaded)
}

/// A note for each map that leaves codes to no segment or has rules that never match: the
/// check `seglake maps check` prints in full.
pub fn warnings(maps: &[LoadedMap]) -> Vec<String> {
    let mut notes = Vec::new();
    for loaded in maps {
        let coverage = Coverage::of(&loaded.map);
        let name = loaded.map.name();
        if !coverage.complete() {
            notes.push(format!(
                "warning: segment map '{name}' ({}) has no fallback and no rule for {} code(s): \
                 {}; rfm_segment fails on a customer with one of them (`seglake maps check {}`)",
                loaded.source,
                coverage.uncovered.len(),
                coverage.uncovered_text(loaded.map.bins(), 10),
                loaded.source
            ));
        }
        for i in coverage.never_matching() {
            notes.push(format!(
                "warning: segment map '{name}' ({}): rule {} ('{}') never matches, earlier \
                 rules take all its codes",
                loaded.source,
                i + 1,
                loaded.map.rules()[i].name
            ));
        }
    }
    notes
}

fn parse(name: &str, text: &str, source: &str) -> Result<LoadedMap> {
    let map = SegmentMap::parse(name, text)
        .map_err(|e| DataFusionError::Plan(format!("{e} (in '{source}')")))?;
    Ok(LoadedMap {
        map,
        source: source.to_string(),
    })
}

/// The maps in a lake's `_segment_maps/` folder; none when it has no such folder.
async fn lake_maps(ctx: &SessionContext, lake: &str) -> Result<Vec<LoadedMap>> {
    let lake = lake.trim_end_matches('/');
    let folder = format!("{lake}/{LAKE_FOLDER}/");
    if !has_url_scheme(lake) && !std::path::Path::new(&folder).is_dir() {
        return Ok(Vec::new());
    }
    let url = ListingTableUrl::parse(&folder)?;
    let store = ctx.runtime_env().object_store(&url)?;
    let mut objects: Vec<_> = store
        .list(Some(url.prefix()))
        .try_collect()
        .await
        .map_err(|e| {
            DataFusionError::Plan(format!(
                "cannot list '{folder}': {}",
                crate::storage::explain(&e)
            ))
        })?;
    objects.sort_by(|a, b| a.location.cmp(&b.location));
    let mut maps = Vec::new();
    for object in objects {
        let Some(file) = object.location.filename() else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".toml") else {
            continue;
        };
        if stem.starts_with('.') {
            continue;
        }
        let source = format!("{folder}{file}");
        check_name(stem).map_err(|e| DataFusionError::Plan(format!("{e} (in '{source}')")))?;
        let got = store
            .get(&object.location)
            .await
            .map_err(|e| read_error(&source, &e))?;
        let bytes = got.bytes().await.map_err(|e| read_error(&source, &e))?;
        maps.push(parse(stem, &text_of(&bytes, &source)?, &source)?);
    }
    Ok(maps)
}

/// The text of a file at a path or URL.
async fn read(ctx: &SessionContext, location: &str) -> Result<String> {
    if !has_url_scheme(location) {
        return std::fs::read_to_string(location).map_err(|e| {
            DataFusionError::Plan(format!("cannot read segment map file '{location}': {e}"))
        });
    }
    let url = ListingTableUrl::parse(location)?;
    let store = ctx.runtime_env().object_store(&url)?;
    let got = store
        .get(url.prefix())
        .await
        .map_err(|e| read_error(location, &e))?;
    let bytes = got.bytes().await.map_err(|e| read_error(location, &e))?;
    text_of(&bytes, location)
}

fn text_of(bytes: &[u8], source: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        DataFusionError::Plan(format!("segment map file '{source}' is not UTF-8 text"))
    })
}

fn read_error(source: &str, e: &object_store::Error) -> DataFusionError {
    DataFusionError::Plan(format!(
        "cannot read segment map file '{source}': {}",
        crate::storage::explain(e)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_files_are_name_equals_file() {
        let file: MapFile = "mine=maps/mine.toml".parse().unwrap();
        assert_eq!(file.name, "mine");
        assert_eq!(file.location, "maps/mine.toml");
        assert!("mine".parse::<MapFile>().unwrap_err().contains("NAME=FILE"));
        assert!(
            "my map=x"
                .parse::<MapFile>()
                .unwrap_err()
                .contains("letters, digits")
        );
        assert!("m=".parse::<MapFile>().unwrap_err().contains("has no file"));
    }
}
