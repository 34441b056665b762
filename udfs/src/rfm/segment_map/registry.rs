//! The segment maps a session knows, by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::SegmentMap;
use super::builtin;

/// Segment maps by name: the built-in ones and any the session loaded, which replace a
/// built-in map of the same name. Names are matched without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SegmentMaps {
    maps: BTreeMap<String, Arc<SegmentMap>>,
}

impl Default for SegmentMaps {
    fn default() -> Self {
        Self::builtin()
    }
}

impl SegmentMaps {
    /// The built-in maps: `standard`, `rfm_package` and `pymc`.
    pub fn builtin() -> Self {
        let mut maps = Self {
            maps: BTreeMap::new(),
        };
        for map in builtin::maps() {
            maps.insert(map);
        }
        maps
    }

    /// Adds a map, replacing one of the same name.
    pub fn insert(&mut self, map: SegmentMap) {
        self.maps
            .insert(map.name().to_ascii_lowercase(), Arc::new(map));
    }

    /// The map called `name`.
    ///
    /// # Errors
    /// When there is none, listing the names there are.
    pub fn get(&self, name: &str) -> Result<&Arc<SegmentMap>, String> {
        let key = name.trim().to_ascii_lowercase();
        self.maps.get(&key).ok_or_else(|| {
            format!(
                "unknown segment map '{}': expected one of {} (or a map of your own: \
                 _segment_maps/NAME.toml in the lake, [segment_maps] in seglake.toml, or \
                 --segment-map NAME=FILE)",
                name.trim(),
                self.names()
                    .iter()
                    .map(|n| format!("'{n}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }

    /// The names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.maps.values().map(|m| m.name()).collect()
    }

    /// The maps, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<SegmentMap>> {
        self.maps.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loaded_maps_join_and_replace_the_builtin_ones() {
        let mut maps = SegmentMaps::builtin();
        assert_eq!(maps.names(), vec!["pymc", "rfm_package", "standard"]);
        maps.insert(SegmentMap::parse("Mine", "fallback = 'all'").unwrap());
        assert_eq!(maps.get(" mine ").unwrap().name(), "Mine");
        maps.insert(SegmentMap::parse("standard", "fallback = 'x'").unwrap());
        assert_eq!(maps.get("standard").unwrap().segment(1, 1, 1), Ok("x"));
        let err = maps.get("rfm").unwrap_err();
        assert!(
            err.starts_with("unknown segment map 'rfm': expected one of 'Mine', 'pymc', "),
            "{err}"
        );
    }
}
