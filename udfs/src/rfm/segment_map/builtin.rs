//! The built-in segment maps, shipped as TOML files in `udfs/maps/` and read like any other.

use super::SegmentMap;

/// (name, TOML) of each built-in map.
const FILES: [(&str, &str); 3] = [
    ("standard", include_str!("../../../maps/standard.toml")),
    (
        "rfm_package",
        include_str!("../../../maps/rfm_package.toml"),
    ),
    ("pymc", include_str!("../../../maps/pymc.toml")),
];

/// The built-in maps.
pub fn maps() -> Vec<SegmentMap> {
    FILES
        .iter()
        // The files are part of this crate and parsed by its tests.
        .filter_map(|(name, text)| SegmentMap::parse(name, text).ok())
        .collect()
}

/// The TOML text of a built-in map, as shipped.
pub fn file(name: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
        .map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::super::coverage::Coverage;
    use super::*;

    /// The published definitions, written as code: the reference the files must reproduce.
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

    /// The R rfm package's example: (name, r, f, m ranges), first match wins, else `others`.
    const RFM_PACKAGE: [(&str, [(i64, i64); 3]); 10] = [
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
        RFM_PACKAGE
            .iter()
            .find(|(_, ranges)| {
                [r, f, m]
                    .iter()
                    .zip(ranges)
                    .all(|(score, (low, high))| (low..=high).contains(&score))
            })
            .map_or("others", |(name, _)| name)
    }

    /// pymc-marketing's code lists (disjoint), else `other`.
    const PYMC: [(&str, &[i64]); 5] = [
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
        let code = r * 100 + f * 10 + m;
        PYMC.iter()
            .find(|(_, codes)| codes.contains(&code))
            .map_or("other", |(name, _)| name)
    }

    #[test]
    fn the_files_give_the_published_segment_of_every_code() {
        let maps = maps();
        assert_eq!(maps.len(), 3, "every built-in file parses");
        for map in &maps {
            let bins = i64::from(map.bins());
            for r in 1..=bins {
                for f in 1..=bins {
                    for m in 1..=bins {
                        let expected = match map.name() {
                            "standard" => standard(r, f),
                            "rfm_package" => rfm_package(r, f, m),
                            _ => pymc(r, f, m),
                        };
                        assert_eq!(
                            map.segment(r, f, m),
                            Ok(expected),
                            "{} {r}{f}{m}",
                            map.name()
                        );
                    }
                }
            }
            let coverage = Coverage::of(map);
            assert!(coverage.complete(), "{}", map.name());
            assert!(coverage.never_matching().is_empty(), "{}", map.name());
        }
        let standard = &maps[0];
        assert_eq!(standard.bins(), 5);
        assert_eq!(standard.segment_names().len(), 10);
        assert_eq!(maps[2].bins(), 4);
    }

    #[test]
    fn shipped_text_is_available() {
        assert!(file("Standard").is_some_and(|t| t.contains("[[rule]]")));
        assert!(file("nope").is_none());
    }
}
