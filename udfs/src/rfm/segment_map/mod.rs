//! Segment maps as data: from RFM scores to a segment name by ordered rules.
//!
//! A map is a small TOML document: the number of score bins (5 by default), an optional
//! fallback name, and rules in order, each a segment name and inclusive ranges of the r, f and
//! m scores (an omitted score matches any). The first rule whose ranges hold a customer's
//! scores names its segment; a code no rule takes gets the fallback, and without one it is an
//! error naming the code and the map, never a silent NULL.
//!
//! ```toml
//! bins = 5                 # optional, 5 by default
//! fallback = "others"      # optional; without it every code must be covered
//! description = "..."      # optional, shown by `seglake maps list`
//! [[rule]]
//! name = "champions"
//! r = [4, 5]
//! f = [4, 5]
//! [[rule]]
//! name = "hibernating"
//! r = [1, 2]               # or one score: r = 1
//! ```
//!
//! Every code's rule is worked out once, when the map is made, so scoring a customer is one
//! table lookup. The built-in maps (`standard`, `rfm_package`, `pymc`) are written in the same
//! format ([`builtin`]); [`coverage`] is the check `seglake maps check` prints.

pub mod builtin;
pub mod coverage;
mod registry;
pub mod wire;

use std::fmt::Write;

use serde::Deserialize;

pub use registry::SegmentMaps;

/// The most bins a map may have (a lookup of bins^3 codes).
pub const MAX_BINS: u32 = 20;

/// One rule: a segment name and the inclusive score ranges it takes (`None`: any score).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    pub name: String,
    pub r: Option<[u32; 2]>,
    pub f: Option<[u32; 2]>,
    pub m: Option<[u32; 2]>,
}

impl Rule {
    /// Whether the rule's ranges hold these scores.
    pub fn matches(&self, r: u32, f: u32, m: u32) -> bool {
        let within = |range: Option<[u32; 2]>, score: u32| {
            range.is_none_or(|[low, high]| (low..=high).contains(&score))
        };
        within(self.r, r) && within(self.f, f) && within(self.m, m)
    }

    /// The rule's ranges as text, e.g. `r 4-5, f 4-5` (`any scores` when it has none).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (score, range) in [("r", self.r), ("f", self.f), ("m", self.m)] {
            match range {
                Some([low, high]) if low == high => parts.push(format!("{score} {low}")),
                Some([low, high]) => parts.push(format!("{score} {low}-{high}")),
                None => {}
            }
        }
        if parts.is_empty() {
            "any scores".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// A named segment map, checked and with every code's rule worked out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SegmentMap {
    name: String,
    bins: u32,
    description: Option<String>,
    rules: Vec<Rule>,
    fallback: Option<String>,
    /// The first matching rule of each code, by [`SegmentMap::code_index`].
    lookup: Vec<Option<u32>>,
}

/// The TOML document of a map.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    bins: Option<u32>,
    fallback: Option<String>,
    description: Option<String>,
    #[serde(default)]
    rule: Vec<RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: String,
    r: Option<Range>,
    f: Option<Range>,
    m: Option<Range>,
}

/// A score range: `[low, high]` or one score.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Range {
    One(i64),
    Both(Vec<i64>),
}

impl SegmentMap {
    /// Reads a map written in the TOML format above.
    ///
    /// # Errors
    /// A message naming the map, and the rule (number and name) and key when one is at fault:
    /// invalid TOML, an unknown key, bins outside 1..=20, a range outside 1..=bins or with its
    /// ends reversed, an empty name, or no rule and no fallback.
    pub fn parse(name: &str, text: &str) -> Result<Self, String> {
        Self::parse_with_bins(name, text, None)
    }

    /// [`SegmentMap::parse`], with the bins for a document that does not give them (5 when
    /// neither does).
    ///
    /// # Errors
    /// As [`SegmentMap::parse`], and when the document gives other bins than `bins`.
    pub fn parse_with_bins(name: &str, text: &str, bins: Option<u32>) -> Result<Self, String> {
        let file: MapFile = toml::from_str(text)
            .map_err(|e| format!("segment map '{name}': {}", e.message().trim()))?;
        let fail = |msg: String| Err(format!("segment map '{name}': {msg}"));
        let bins = match (file.bins, bins) {
            (Some(theirs), Some(ours)) if theirs != ours => {
                return fail(format!("it says bins = {theirs}, not {ours}"));
            }
            (theirs, ours) => theirs.or(ours).unwrap_or(5),
        };
        if !(1..=MAX_BINS).contains(&bins) {
            return fail(format!("bins must be 1 to {MAX_BINS}, got {bins}"));
        }
        let mut rules = Vec::with_capacity(file.rule.len());
        for (i, rule) in file.rule.into_iter().enumerate() {
            let at = format!("rule {} ('{}')", i + 1, rule.name);
            if rule.name.trim().is_empty() {
                return fail(format!("rule {} has an empty name", i + 1));
            }
            let mut ranges = [None; 3];
            for (slot, (key, range)) in
                ranges
                    .iter_mut()
                    .zip([("r", rule.r), ("f", rule.f), ("m", rule.m)])
            {
                let Some(range) = range else { continue };
                let (low, high) = match range {
                    Range::One(score) => (score, score),
                    Range::Both(ends) if ends.len() == 2 => (ends[0], ends[1]),
                    Range::Both(ends) => {
                        return fail(format!(
                            "{at}: {key} must be one score or [low, high], got {} values",
                            ends.len()
                        ));
                    }
                };
                let valid = 1..=i64::from(bins);
                if !valid.contains(&low) || !valid.contains(&high) {
                    return fail(format!(
                        "{at}: {key} = [{low}, {high}] is outside the scores 1..{bins}"
                    ));
                }
                if low > high {
                    return fail(format!("{at}: {key} = [{low}, {high}] has low above high"));
                }
                *slot = Some([low as u32, high as u32]);
            }
            let [r, f, m] = ranges;
            rules.push(Rule {
                name: rule.name,
                r,
                f,
                m,
            });
        }
        if rules.is_empty() && file.fallback.is_none() {
            return fail("it has no [[rule]] and no fallback".to_string());
        }
        if file
            .fallback
            .as_deref()
            .is_some_and(|f| f.trim().is_empty())
        {
            return fail("fallback is empty".to_string());
        }
        Ok(Self::new(
            name,
            bins,
            file.description,
            rules,
            file.fallback,
        ))
    }

    fn new(
        name: &str,
        bins: u32,
        description: Option<String>,
        rules: Vec<Rule>,
        fallback: Option<String>,
    ) -> Self {
        let mut lookup = Vec::with_capacity((bins * bins * bins) as usize);
        for r in 1..=bins {
            for f in 1..=bins {
                for m in 1..=bins {
                    lookup.push(
                        rules
                            .iter()
                            .position(|rule| rule.matches(r, f, m))
                            .map(|i| i as u32),
                    );
                }
            }
        }
        Self {
            name: name.to_string(),
            bins,
            description,
            rules,
            fallback,
            lookup,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The highest score the map is defined for (5 for quintiles, 4 for quartiles).
    pub fn bins(&self) -> u32 {
        self.bins
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// The same map under another name.
    pub fn renamed(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The position of a code (scores 1..=bins) in the lookup.
    fn code_index(&self, r: u32, f: u32, m: u32) -> usize {
        let bins = self.bins as usize;
        ((r as usize - 1) * bins + (f as usize - 1)) * bins + (m as usize - 1)
    }

    /// The index of the rule that takes a code (scores 1..=bins), `None` for the fallback.
    pub fn rule_of(&self, r: u32, f: u32, m: u32) -> Option<usize> {
        self.lookup[self.code_index(r, f, m)].map(|i| i as usize)
    }

    /// The segment of one customer's scores.
    ///
    /// # Errors
    /// When a score is outside `1..=bins()`, or no rule takes the code and the map has no
    /// fallback; the message names the score or code and the map.
    pub fn segment(&self, r: i64, f: i64, m: i64) -> Result<&str, String> {
        let bins = i64::from(self.bins);
        for (name, score) in [("r", r), ("f", f), ("m", m)] {
            if !(1..=bins).contains(&score) {
                return Err(format!(
                    "the '{}' map needs scores 1..{bins}, got {name} = {score}",
                    self.name
                ));
            }
        }
        let (r, f, m) = (r as u32, f as u32, m as u32);
        match self.rule_of(r, f, m) {
            Some(i) => Ok(&self.rules[i].name),
            None => self.fallback.as_deref().ok_or_else(|| {
                format!(
                    "code {} matches no rule of the '{}' map, which has no fallback (add a rule \
                     or a fallback; `seglake maps check` lists the uncovered codes)",
                    code_text(self.bins, [r, f, m]),
                    self.name
                )
            }),
        }
    }

    /// Every segment name the map can give, in rule order, the fallback last.
    pub fn segment_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for rule in &self.rules {
            if !names.contains(&rule.name.as_str()) {
                names.push(&rule.name);
            }
        }
        if let Some(fallback) = self.fallback.as_deref()
            && !names.contains(&fallback)
        {
            names.push(fallback);
        }
        names
    }

    /// The rules that give `segment`, as text (`r 4-5, f 4-5 or r 3, f 5`); the fallback's is
    /// `no rule matches`. `None` for a name the map does not give.
    pub fn rule_text(&self, segment: &str) -> Option<String> {
        let mut texts: Vec<String> = self
            .rules
            .iter()
            .filter(|rule| rule.name == segment)
            .map(Rule::describe)
            .collect();
        if self.fallback.as_deref() == Some(segment) {
            texts.push("no rule matches".to_string());
        }
        (!texts.is_empty()).then(|| texts.join(" or "))
    }

    /// The map in its TOML format.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let quoted = |s: &str| toml::Value::String(s.to_string()).to_string();
        let _ = writeln!(out, "# segment map '{}'", self.name);
        if let Some(description) = &self.description {
            let _ = writeln!(out, "description = {}", quoted(description));
        }
        let _ = writeln!(out, "bins = {}", self.bins);
        if let Some(fallback) = &self.fallback {
            let _ = writeln!(out, "fallback = {}", quoted(fallback));
        }
        for rule in &self.rules {
            let _ = writeln!(out, "\n[[rule]]\nname = {}", quoted(&rule.name));
            for (key, range) in [("r", rule.r), ("f", rule.f), ("m", rule.m)] {
                if let Some([low, high]) = range {
                    let _ = writeln!(out, "{key} = [{low}, {high}]");
                }
            }
        }
        out
    }
}

/// A code as text: `215` while every score is one digit, else `r=2 f=1 m=15`.
pub fn code_text(bins: u32, [r, f, m]: [u32; 3]) -> String {
    if bins <= 9 {
        format!("{r}{f}{m}")
    } else {
        format!("r={r} f={f} m={m}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
        bins = 5
        fallback = "others"
        [[rule]]
        name = "champions"
        r = [4, 5]
        f = [4, 5]
        [[rule]]
        name = "hibernating"
        r = [1, 2]
    "#;

    #[test]
    fn first_matching_rule_wins_then_the_fallback() {
        let map = SegmentMap::parse("mine", EXAMPLE).unwrap();
        assert_eq!(map.segment(5, 4, 1), Ok("champions"));
        assert_eq!(map.segment(2, 5, 5), Ok("hibernating"));
        assert_eq!(map.segment(3, 3, 3), Ok("others"));
        assert_eq!(
            map.segment_names(),
            vec!["champions", "hibernating", "others"]
        );
        assert_eq!(map.rule_text("champions").as_deref(), Some("r 4-5, f 4-5"));
        assert_eq!(map.rule_text("others").as_deref(), Some("no rule matches"));
        assert_eq!(map.rule_text("nobody"), None);
    }

    #[test]
    fn without_fallback_an_uncovered_code_is_an_error_naming_it() {
        let text = "[[rule]]\nname = \"top\"\nr = 5\n";
        let map = SegmentMap::parse("strict", text).unwrap();
        assert_eq!(map.segment(5, 1, 1), Ok("top"));
        let err = map.segment(2, 1, 5).unwrap_err();
        assert!(
            err.starts_with("code 215 matches no rule of the 'strict' map"),
            "{err}"
        );
        let err = map.segment(6, 1, 1).unwrap_err();
        assert_eq!(err, "the 'strict' map needs scores 1..5, got r = 6");
    }

    #[test]
    fn bad_maps_name_the_rule_and_key() {
        let cases = [
            ("bins = 0", "bins must be 1 to 20, got 0"),
            ("", "it has no [[rule]] and no fallback"),
            (
                "[[rule]]\nname = 'a'\nr = [4, 6]",
                "rule 1 ('a'): r = [4, 6] is outside",
            ),
            (
                "[[rule]]\nname = 'a'\nf = [3, 2]",
                "rule 1 ('a'): f = [3, 2] has low above high",
            ),
            (
                "[[rule]]\nname = 'a'\nm = [1, 2, 3]",
                "rule 1 ('a'): m must be one score or",
            ),
            ("[[rule]]\nname = ''", "rule 1 has an empty name"),
            ("[[rule]]\nname = 'a'\nx = 1", "unknown field `x`"),
            ("fallback = ''", "fallback is empty"),
        ];
        for (text, expected) in cases {
            let err = SegmentMap::parse("bad", text).unwrap_err();
            assert!(err.starts_with("segment map 'bad': "), "{err}");
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn toml_round_trip() {
        let map = SegmentMap::parse("mine", EXAMPLE).unwrap();
        let again = SegmentMap::parse("mine", &map.to_toml()).unwrap();
        assert_eq!(again, map);
        let one = SegmentMap::parse("one", "[[rule]]\nname = 'a b \"c\"'\nr = 3\n").unwrap();
        assert_eq!(SegmentMap::parse("one", &one.to_toml()).unwrap(), one);
    }

    #[test]
    fn wide_bins_write_codes_with_names() {
        assert_eq!(code_text(5, [2, 1, 5]), "215");
        assert_eq!(code_text(10, [2, 1, 10]), "r=2 f=1 m=10");
    }
}
