//! Segment maps across the wire: a cluster's scheduler and executors know the built-in maps
//! only, so a plan that calls `rfm_segment` (or `rfm_segment_rule`, `segment_map_bins`) with
//! the session's own maps carries them, in their TOML format, with the function.

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

use super::{SegmentMap, SegmentMaps};
use crate::rfm::rfm_segment::RfmSegment;
use crate::rfm::rfm_segment_rule::RfmSegmentRule;
use crate::rfm::segment_map_bins::SegmentMapBins;

/// The maps a map-aware function uses, when `udf` is one.
pub fn maps_of(udf: &ScalarUDF) -> Option<&Arc<SegmentMaps>> {
    let inner = udf.inner();
    inner
        .downcast_ref::<RfmSegment>()
        .map(RfmSegment::maps)
        .or_else(|| {
            inner
                .downcast_ref::<RfmSegmentRule>()
                .map(RfmSegmentRule::maps)
        })
        .or_else(|| {
            inner
                .downcast_ref::<SegmentMapBins>()
                .map(SegmentMapBins::maps)
        })
}

/// The maps of `maps` that are not the built-in ones, as bytes: each map's name and its TOML
/// text, separated by NUL bytes (neither can hold one). Empty when there are none.
pub fn encode(maps: &SegmentMaps) -> Vec<u8> {
    let builtin = SegmentMaps::builtin();
    let mut out = Vec::new();
    for map in maps.iter() {
        let same = builtin
            .get(map.name())
            .is_ok_and(|known| known.as_ref() == map.as_ref());
        if same {
            continue;
        }
        out.extend_from_slice(map.name().as_bytes());
        out.push(0);
        out.extend_from_slice(map.to_toml().as_bytes());
        out.push(0);
    }
    out
}

/// Function `name` with the built-in maps and those `bytes` carry; None for a function that
/// takes no maps.
///
/// # Errors
/// When `bytes` are not what [`encode`] writes (a message naming the map at fault).
pub fn decode(name: &str, bytes: &[u8]) -> Result<Option<ScalarUDF>, String> {
    let mut maps = SegmentMaps::builtin();
    let text = std::str::from_utf8(bytes).map_err(|e| format!("segment maps on the wire: {e}"))?;
    let mut parts = text.split('\0');
    while let Some(map_name) = parts.next().filter(|n| !n.is_empty()) {
        let toml = parts
            .next()
            .ok_or_else(|| format!("segment map '{map_name}' on the wire has no text"))?;
        maps.insert(SegmentMap::parse(map_name, toml)?);
    }
    let maps = Arc::new(maps);
    Ok(match name {
        "rfm_segment" => Some(ScalarUDF::from(RfmSegment::with_maps(maps))),
        "rfm_segment_rule" => Some(ScalarUDF::from(RfmSegmentRule::new(maps))),
        "segment_map_bins" => Some(ScalarUDF::from(SegmentMapBins::new(maps))),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_maps_survive_the_wire_and_builtins_stay_off_it() {
        let mut maps = SegmentMaps::builtin();
        assert!(encode(&maps).is_empty());
        let text = "fallback = \"rest\"\n[[rule]]\nname = \"best\"\nr = [5, 5]\n";
        maps.insert(SegmentMap::parse("mine", text).unwrap());
        let bytes = encode(&maps);
        let udf = decode("rfm_segment", &bytes).unwrap().unwrap();
        let carried = maps_of(&udf).unwrap();
        let mine = carried.get("mine").unwrap();
        assert_eq!(mine.as_ref(), maps.get("mine").unwrap().as_ref());
        assert_eq!(mine.segment(5, 1, 1), Ok("best"));
        assert!(carried.get("standard").is_ok());
        assert!(decode("nps", &bytes).unwrap().is_none());
        assert!(
            decode("rfm_segment", b"mine\0bins = 99\0")
                .unwrap_err()
                .contains("'mine'")
        );
    }
}
