//! The function catalogue behind `seglake functions`, the REPL's `\df` and `\h`, and the
//! README's function reference: one source, DataFusion's documentation of each function.

use std::collections::BTreeMap;
use std::fmt::Write;

use datafusion::logical_expr::Documentation;
use datafusion::prelude::SessionContext;

/// The kind of a SQL function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FunctionKind {
    Scalar,
    Aggregate,
    Window,
}

impl FunctionKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::Aggregate => "aggregate",
            Self::Window => "window",
        }
    }
}

/// One function of the session with its documentation.
#[derive(Debug, Clone)]
pub struct FunctionEntry {
    pub name: String,
    pub kind: FunctionKind,
    /// True for seglake's own functions, false for DataFusion's and the caller's.
    pub seglake: bool,
    pub doc: Option<Documentation>,
}

impl FunctionEntry {
    /// The first sentence of the description, on one line.
    pub fn summary(&self) -> String {
        let Some(doc) = &self.doc else {
            return String::from("(no documentation)");
        };
        let text = doc
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        match text.find(". ") {
            Some(end) => text[..=end].to_string(),
            None => text,
        }
    }

    /// The full documentation as text for a terminal.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let origin = if self.seglake {
            "seglake"
        } else {
            "DataFusion"
        };
        let _ = writeln!(
            out,
            "{} ({} function, {origin})",
            self.name,
            self.kind.label()
        );
        let Some(doc) = &self.doc else {
            out.push_str("\nNo documentation.\n");
            return out;
        };
        let _ = writeln!(out, "\n{}", doc.description.trim());
        let _ = writeln!(out, "\nSyntax:\n  {}", doc.syntax_example.trim());
        if let Some(arguments) = doc.arguments.as_ref().filter(|a| !a.is_empty()) {
            out.push_str("\nArguments:\n");
            let width = arguments.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, description) in arguments {
                let description = description.split_whitespace().collect::<Vec<_>>().join(" ");
                let _ = writeln!(out, "  {name:width$}  {description}");
            }
        }
        if let Some(example) = &doc.sql_example {
            out.push_str("\nExample:\n");
            for line in example.lines() {
                let line = line.trim_end();
                if line.starts_with("```") {
                    continue;
                }
                let _ = writeln!(out, "  {line}");
            }
        }
        if let Some(alternatives) = doc.alternative_syntax.as_ref().filter(|a| !a.is_empty()) {
            out.push_str("\nAlso written:\n");
            for alternative in alternatives {
                let _ = writeln!(out, "  {alternative}");
            }
        }
        if let Some(related) = doc.related_udfs.as_ref().filter(|r| !r.is_empty()) {
            let _ = writeln!(out, "\nSee also: {}", related.join(", "));
        }
        out
    }
}

/// All functions of the session, by name; seglake's own are marked.
pub fn catalogue(ctx: &SessionContext) -> Vec<FunctionEntry> {
    let seglake: Vec<String> = seglake_udfs::all_functions()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let state = ctx.state();
    let mut entries: BTreeMap<(String, FunctionKind), FunctionEntry> = BTreeMap::new();
    let mut add = |name: &str, kind: FunctionKind, doc: Option<&Documentation>| {
        entries.insert(
            (name.to_string(), kind),
            FunctionEntry {
                name: name.to_string(),
                kind,
                seglake: seglake.iter().any(|s| s == name),
                doc: doc.cloned(),
            },
        );
    };
    // The maps also hold aliases under their own key; the canonical name is the UDF's.
    for udf in state.scalar_functions().values() {
        add(udf.name(), FunctionKind::Scalar, udf.documentation());
    }
    for udaf in state.aggregate_functions().values() {
        add(udaf.name(), FunctionKind::Aggregate, udaf.documentation());
    }
    for udwf in state.window_functions().values() {
        add(udwf.name(), FunctionKind::Window, udwf.documentation());
    }
    entries.into_values().collect()
}

/// The entries whose name contains `pattern` (case-insensitive; `*` and `%` match anything).
pub fn matching<'a>(entries: &'a [FunctionEntry], pattern: &str) -> Vec<&'a FunctionEntry> {
    let needle = pattern.to_ascii_lowercase().replace(['*', '%'], " ");
    let parts: Vec<&str> = needle.split_whitespace().collect();
    entries
        .iter()
        .filter(|e| {
            let name = e.name.to_ascii_lowercase();
            let mut from = 0;
            parts.iter().all(|part| match name[from..].find(part) {
                Some(at) => {
                    from += at + part.len();
                    true
                }
                None => false,
            })
        })
        .collect()
}

/// Width a listing is wrapped to.
const LIST_WIDTH: usize = 100;

/// A listing with one entry per function: name, kind and summary, wrapped to 100 columns
/// with the summary's continuation lines aligned under its start.
pub fn render_list(entries: &[&FunctionEntry]) -> String {
    let width = entries.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let indent = width + 2 + 9 + 2;
    let mut out = String::new();
    for entry in entries {
        let mut line = format!("{:width$}  {:9} ", entry.name, entry.kind.label());
        for word in entry.summary().split_whitespace() {
            if line.len() + 1 + word.len() > LIST_WIDTH && line.len() > indent {
                out.push_str(line.trim_end());
                out.push('\n');
                line = " ".repeat(indent - 1);
            }
            line.push(' ');
            line.push_str(word);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The reference of `entries` in Markdown: a heading, description, syntax, arguments and
/// example per function. The README's function reference is this text.
pub fn render_markdown(entries: &[&FunctionEntry]) -> String {
    let mut out = String::new();
    for entry in entries {
        let _ = writeln!(out, "### `{}` ({})\n", entry.name, entry.kind.label());
        let Some(doc) = &entry.doc else {
            out.push_str("No documentation.\n\n");
            continue;
        };
        let _ = writeln!(out, "{}\n", doc.description.trim());
        let _ = writeln!(out, "```sql\n{}\n```\n", doc.syntax_example.trim());
        if let Some(arguments) = doc.arguments.as_ref().filter(|a| !a.is_empty()) {
            for (name, description) in arguments {
                let description = description.split_whitespace().collect::<Vec<_>>().join(" ");
                let _ = writeln!(out, "- `{name}`: {description}");
            }
            out.push('\n');
        }
        if let Some(example) = &doc.sql_example {
            let _ = writeln!(out, "{}\n", example.trim());
        }
    }
    out
}

/// Finds one function by name (case-insensitive), preferring seglake's own.
pub fn find<'a>(entries: &'a [FunctionEntry], name: &str) -> Vec<&'a FunctionEntry> {
    let mut found: Vec<&FunctionEntry> = entries
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case(name.trim()))
        .collect();
    found.sort_by_key(|e| (!e.seglake, e.kind));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<FunctionEntry> {
        catalogue(&SessionContext::new())
    }

    #[test]
    fn datafusion_builtins_are_listed_with_docs() {
        let entries = entries();
        let abs = find(&entries, "ABS");
        assert_eq!(abs.len(), 1);
        assert_eq!(abs[0].kind, FunctionKind::Scalar);
        assert_eq!(abs[0].summary(), "Returns the absolute value of a number.");
        let text = abs[0].render();
        assert!(
            text.starts_with("abs (scalar function, DataFusion)"),
            "{text}"
        );
        assert!(
            text.contains("Syntax:\n  abs(numeric_expression)"),
            "{text}"
        );
    }

    #[test]
    fn patterns_match_parts_in_order() {
        let entries = entries();
        let names: Vec<&str> = matching(&entries, "approx*median")
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert!(names.contains(&"approx_median"), "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("approx")), "{names:?}");
    }

    #[test]
    fn listings_wrap_under_the_summary() {
        let entry = FunctionEntry {
            name: "f".into(),
            kind: FunctionKind::Window,
            seglake: true,
            doc: Some(
                Documentation::builder(
                    datafusion::logical_expr::DocSection::default(),
                    "word ".repeat(40),
                    "f(x)",
                )
                .build(),
            ),
        };
        let text = render_list(&[&entry]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.len() <= LIST_WIDTH), "{text}");
        assert!(lines[0].starts_with("f  window     word word"), "{text}");
        assert!(lines[1].starts_with("              word"), "{text}");
    }

    #[test]
    fn summary_is_the_first_sentence() {
        let entry = FunctionEntry {
            name: "f".into(),
            kind: FunctionKind::Scalar,
            seglake: true,
            doc: Some(
                Documentation::builder(
                    datafusion::logical_expr::DocSection::default(),
                    "Scores customers. Ties share\n a score.",
                    "f(x)",
                )
                .build(),
            ),
        };
        assert_eq!(entry.summary(), "Scores customers.");
    }
}
