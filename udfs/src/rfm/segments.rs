//! Named RFM segment maps: from scores to a segment name.

use std::fmt;
use std::str::FromStr;

/// A published map from RFM scores to segment names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentMap {
    /// The widely copied 10-segment map on R and F quintiles (M is not used).
    Standard,
    /// The R `rfm` package's documented example (R, F and M quintiles; first match wins,
    /// the rest are `others`).
    RfmPackage,
    /// pymc-marketing's `rfm_segments` default on quartiles (the rest are `other`).
    Pymc,
}

/// The map names accepted in SQL, in the order errors list them.
pub const MAP_NAMES: [&str; 3] = ["standard", "rfm_package", "pymc"];

impl SegmentMap {
    /// The highest score the map is defined for (quintiles or quartiles).
    pub fn bins(self) -> u32 {
        match self {
            Self::Standard | Self::RfmPackage => 5,
            Self::Pymc => 4,
        }
    }

    /// The segment of one customer's scores.
    ///
    /// # Errors
    /// When a score is outside `1..=bins()`, naming it.
    pub fn segment(self, r: i64, f: i64, m: i64) -> Result<&'static str, String> {
        let bins = i64::from(self.bins());
        for (name, score) in [("r", r), ("f", f), ("m", m)] {
            if !(1..=bins).contains(&score) {
                return Err(format!(
                    "the '{self}' map needs scores 1..{bins}, got {name} = {score}"
                ));
            }
        }
        Ok(match self {
            Self::Standard => standard(r, f),
            Self::RfmPackage => rfm_package(r, f, m),
            Self::Pymc => pymc(r, f, m),
        })
    }

    /// Every segment name the map can return, for documentation and tests.
    pub fn segment_names(self) -> &'static [&'static str] {
        match self {
            Self::Standard => &[
                "champions",
                "loyal",
                "potential_loyalists",
                "new",
                "promising",
                "need_attention",
                "about_to_sleep",
                "cant_lose",
                "at_risk",
                "hibernating",
            ],
            Self::RfmPackage => &[
                "champions",
                "potential_loyalist",
                "loyal_customers",
                "promising",
                "new_customers",
                "cant_lose_them",
                "at_risk",
                "need_attention",
                "about_to_sleep",
                "lost",
                "others",
            ],
            Self::Pymc => &[
                "premium_customer",
                "repeat_customer",
                "top_spender",
                "at_risk_customer",
                "inactive_customer",
                "other",
            ],
        }
    }
}

fn standard(r: i64, f: i64) -> &'static str {
    match (r, f) {
        (1..=2, 1..=2) => "hibernating",
        (1..=2, 3..=4) => "at_risk",
        (1..=2, _) => "cant_lose",
        (3, 1..=2) => "about_to_sleep",
        (3, 3) => "need_attention",
        (3..=4, 4..=5) => "loyal",
        (4, 1) => "promising",
        (5, 1) => "new",
        (4..=5, 2..=3) => "potential_loyalists",
        _ => "champions",
    }
}

/// (name, recency, frequency, monetary) inclusive ranges, checked in order.
type Rule = (&'static str, [(i64, i64); 3]);

const RFM_PACKAGE_RULES: [Rule; 10] = [
    ("champions", [(5, 5), (5, 5), (5, 5)]),
    ("potential_loyalist", [(3, 5), (3, 5), (2, 5)]),
    ("loyal_customers", [(2, 4), (2, 4), (2, 4)]),
    ("promising", [(3, 4), (1, 3), (3, 5)]),
    ("new_customers", [(4, 5), (1, 3), (1, 5)]),
    ("cant_lose_them", [(1, 2), (3, 4), (4, 5)]),
    ("at_risk", [(1, 2), (2, 5), (4, 5)]),
    ("need_attention", [(1, 3), (3, 5), (3, 5)]),
    ("about_to_sleep", [(2, 3), (1, 3), (1, 4)]),
    ("lost", [(1, 1), (1, 5), (1, 5)]),
];

fn rfm_package(r: i64, f: i64, m: i64) -> &'static str {
    RFM_PACKAGE_RULES
        .iter()
        .find(|(_, ranges)| {
            [r, f, m]
                .iter()
                .zip(ranges)
                .all(|(score, (low, high))| (low..=high).contains(&score))
        })
        .map_or("others", |(name, _)| name)
}

const PYMC_SEGMENTS: [(&str, &[u16]); 5] = [
    (
        "premium_customer",
        &[334, 443, 444, 344, 434, 433, 343, 333],
    ),
    ("repeat_customer", &[244, 234, 232, 332, 143, 233, 243]),
    (
        "top_spender",
        &[
            424, 414, 144, 314, 324, 124, 224, 423, 413, 133, 323, 313, 134,
        ],
    ),
    (
        "at_risk_customer",
        &[422, 223, 212, 122, 222, 132, 322, 312, 412, 123, 214],
    ),
    ("inactive_customer", &[411, 111, 113, 114, 112, 211, 311]),
];

fn pymc(r: i64, f: i64, m: i64) -> &'static str {
    let code = (r * 100 + f * 10 + m) as u16;
    // pymc-marketing assigns segments in order, so a later list wins; the lists are disjoint.
    PYMC_SEGMENTS
        .iter()
        .rev()
        .find(|(_, codes)| codes.contains(&code))
        .map_or("other", |(name, _)| name)
}

impl FromStr for SegmentMap {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "standard" => Ok(Self::Standard),
            "rfm_package" => Ok(Self::RfmPackage),
            "pymc" => Ok(Self::Pymc),
            other => Err(format!(
                "unknown segment map '{other}': expected one of {}",
                MAP_NAMES.map(|n| format!("'{n}'")).join(", ")
            )),
        }
    }
}

impl fmt::Display for SegmentMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Standard => "standard",
            Self::RfmPackage => "rfm_package",
            Self::Pymc => "pymc",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_map_cells() {
        let map = SegmentMap::Standard;
        let cases = [
            ((1, 1), "hibernating"),
            ((2, 2), "hibernating"),
            ((1, 3), "at_risk"),
            ((2, 4), "at_risk"),
            ((2, 5), "cant_lose"),
            ((3, 2), "about_to_sleep"),
            ((3, 3), "need_attention"),
            ((3, 4), "loyal"),
            ((4, 5), "loyal"),
            ((4, 1), "promising"),
            ((5, 1), "new"),
            ((4, 2), "potential_loyalists"),
            ((5, 3), "potential_loyalists"),
            ((5, 4), "champions"),
            ((5, 5), "champions"),
        ];
        for ((r, f), name) in cases {
            assert_eq!(map.segment(r, f, 1), Ok(name), "r={r} f={f}");
        }
    }

    #[test]
    fn every_code_has_a_segment_the_map_names() {
        for map in [
            SegmentMap::Standard,
            SegmentMap::RfmPackage,
            SegmentMap::Pymc,
        ] {
            let bins = i64::from(map.bins());
            let mut used = std::collections::BTreeSet::new();
            for r in 1..=bins {
                for f in 1..=bins {
                    for m in 1..=bins {
                        let name = map.segment(r, f, m).unwrap();
                        assert!(map.segment_names().contains(&name), "{map}: {name}");
                        used.insert(name);
                    }
                }
            }
            if map == SegmentMap::Standard {
                assert_eq!(used.len(), 10, "every standard segment is reachable");
            }
        }
    }

    #[test]
    fn rfm_package_first_match_wins() {
        let map = SegmentMap::RfmPackage;
        assert_eq!(map.segment(5, 5, 5), Ok("champions"));
        // 4-4-4 fits potential_loyalist before loyal_customers.
        assert_eq!(map.segment(4, 4, 4), Ok("potential_loyalist"));
        assert_eq!(map.segment(2, 2, 2), Ok("loyal_customers"));
        assert_eq!(map.segment(1, 1, 1), Ok("lost"));
        assert_eq!(map.segment(2, 1, 5), Ok("others"));
    }

    #[test]
    fn pymc_codes() {
        let map = SegmentMap::Pymc;
        assert_eq!(map.segment(4, 4, 4), Ok("premium_customer"));
        assert_eq!(map.segment(1, 4, 3), Ok("repeat_customer"));
        assert_eq!(map.segment(1, 4, 4), Ok("top_spender"));
        assert_eq!(map.segment(2, 1, 4), Ok("at_risk_customer"));
        assert_eq!(map.segment(1, 1, 1), Ok("inactive_customer"));
        assert_eq!(map.segment(4, 4, 1), Ok("other"));
        let mut all: Vec<u16> = PYMC_SEGMENTS
            .iter()
            .flat_map(|(_, c)| c.iter().copied())
            .collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count, "pymc's lists are disjoint");
    }

    #[test]
    fn scores_outside_the_map_are_errors() {
        let err = SegmentMap::Pymc.segment(5, 1, 1).unwrap_err();
        assert_eq!(err, "the 'pymc' map needs scores 1..4, got r = 5");
        assert!(
            SegmentMap::Standard
                .segment(3, 0, 3)
                .unwrap_err()
                .contains("f = 0")
        );
    }

    #[test]
    fn unknown_map_lists_the_valid_ones() {
        let err = "rfm".parse::<SegmentMap>().unwrap_err();
        assert_eq!(
            err,
            "unknown segment map 'rfm': expected one of 'standard', 'rfm_package', 'pymc'"
        );
    }
}
