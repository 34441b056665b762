//! What a map does with every code: the check `seglake maps check` prints and loading runs.

use std::fmt::Write;

use super::{SegmentMap, code_text};

/// How a map's rules share the bins^3 codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The codes each rule takes, in rule order (a rule only gets codes no earlier rule took).
    pub codes_per_rule: Vec<usize>,
    /// The codes no rule takes, as (r, f, m).
    pub uncovered: Vec<[u32; 3]>,
    /// Whether the map has a fallback, which then takes the uncovered codes.
    pub has_fallback: bool,
}

impl Coverage {
    /// Works out the coverage of `map`.
    pub fn of(map: &SegmentMap) -> Self {
        let mut codes_per_rule = vec![0; map.rules().len()];
        let mut uncovered = Vec::new();
        let bins = map.bins();
        for r in 1..=bins {
            for f in 1..=bins {
                for m in 1..=bins {
                    match map.rule_of(r, f, m) {
                        Some(i) => codes_per_rule[i] += 1,
                        None => uncovered.push([r, f, m]),
                    }
                }
            }
        }
        Self {
            codes_per_rule,
            uncovered,
            has_fallback: map.fallback().is_some(),
        }
    }

    /// The rules (0-based) that can never match: earlier rules take all their codes.
    pub fn never_matching(&self) -> Vec<usize> {
        (0..self.codes_per_rule.len())
            .filter(|&i| self.codes_per_rule[i] == 0)
            .collect()
    }

    /// Whether every code gets a segment (by a rule or the fallback).
    pub fn complete(&self) -> bool {
        self.has_fallback || self.uncovered.is_empty()
    }

    /// The check as text: each rule's share of the codes, rules that never match, codes no
    /// rule takes.
    pub fn report(&self, map: &SegmentMap) -> String {
        let bins = map.bins();
        let total = (bins * bins * bins) as usize;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "segment map '{}': {} rule(s) over {total} codes ({bins} bins), fallback {}",
            map.name(),
            map.rules().len(),
            map.fallback()
                .map_or_else(|| "none".to_string(), |f| format!("'{f}'"))
        );
        let width = map.rules().iter().map(|r| r.name.len()).max().unwrap_or(0);
        for (i, (rule, codes)) in map.rules().iter().zip(&self.codes_per_rule).enumerate() {
            let _ = writeln!(
                out,
                "  rule {:>2}  {:<width$}  {codes:>4} codes  {}{}",
                i + 1,
                rule.name,
                rule.describe(),
                if *codes == 0 {
                    "  NEVER MATCHES: earlier rules take all its codes"
                } else {
                    ""
                }
            );
        }
        let uncovered = self.uncovered.len();
        match (uncovered, map.fallback()) {
            (0, _) => {
                let _ = writeln!(out, "every code is covered by a rule");
            }
            (n, Some(fallback)) => {
                let _ = writeln!(out, "{n} code(s) match no rule and go to '{fallback}'");
            }
            (n, None) => {
                let _ = writeln!(
                    out,
                    "{n} code(s) match no rule and the map has no fallback: {}",
                    self.uncovered_text(bins, 40)
                );
            }
        }
        let never = self.never_matching();
        if !never.is_empty() {
            let _ = writeln!(
                out,
                "{} rule(s) never match: {}",
                never.len(),
                never
                    .iter()
                    .map(|&i| format!("{} ('{}')", i + 1, map.rules()[i].name))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        out
    }

    /// The uncovered codes as text, at most `limit` of them and a count of the rest.
    pub fn uncovered_text(&self, bins: u32, limit: usize) -> String {
        let mut text = self
            .uncovered
            .iter()
            .take(limit)
            .map(|&code| code_text(bins, code))
            .collect::<Vec<_>>()
            .join(", ");
        if self.uncovered.len() > limit {
            let _ = write!(text, " and {} more", self.uncovered.len() - limit);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_shadowed_rules_and_gaps() {
        let text = r#"
            [[rule]]
            name = "top"
            r = [4, 5]
            [[rule]]
            name = "shadowed"
            r = 5
            f = 5
            [[rule]]
            name = "low"
            r = [1, 2]
        "#;
        let map = SegmentMap::parse("gappy", text).unwrap();
        let coverage = Coverage::of(&map);
        assert_eq!(coverage.codes_per_rule, vec![50, 0, 50]);
        assert_eq!(coverage.never_matching(), vec![1]);
        assert_eq!(coverage.uncovered.len(), 25);
        assert_eq!(coverage.uncovered[0], [3, 1, 1]);
        assert!(!coverage.complete());
        let report = coverage.report(&map);
        assert!(
            report.contains("rule  2  shadowed     0 codes  r 5, f 5  NEVER MATCHES"),
            "{report}"
        );
        assert!(
            report.contains("25 code(s) match no rule and the map has no fallback: 311, 312,"),
            "{report}"
        );
        assert!(
            report.contains("and 0 more") || report.contains("355"),
            "{report}"
        );
        assert!(
            report.contains("1 rule(s) never match: 2 ('shadowed')"),
            "{report}"
        );
    }

    #[test]
    fn a_fallback_completes_a_map() {
        let map = SegmentMap::parse("f", "fallback = 'rest'\n[[rule]]\nname = 'a'\nr = 1").unwrap();
        let coverage = Coverage::of(&map);
        assert!(coverage.complete());
        assert!(
            coverage
                .report(&map)
                .contains("100 code(s) match no rule and go to 'rest'")
        );
    }
}
