//! The Prometheus text exposition format (version 0.0.4): `# HELP` and `# TYPE` lines,
//! then one `name{label="value"} number` line per sample. ccc writes one snapshot per
//! command, so this is a writer of that grammar, not a registry of live counters.

use std::fmt::Write as _;

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Counts of what the command did (names end in `_total`).
    Counter,
    /// A value that can go up and down: a size, a duration, a time, a verdict.
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

/// A sample's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A count, written exactly (an `f64` would round counts past 2^53).
    Count(u64),
    /// A real number: seconds, a timestamp.
    Real(f64),
}

impl From<u64> for Value {
    fn from(count: u64) -> Self {
        Value::Count(count)
    }
}

impl From<bool> for Value {
    fn from(yes: bool) -> Self {
        Value::Count(u64::from(yes))
    }
}

impl From<f64> for Value {
    fn from(real: f64) -> Self {
        Value::Real(real)
    }
}

/// One family: a name, its type and help, and its samples in the order added.
#[derive(Debug, Clone)]
struct Family {
    name: &'static str,
    kind: Kind,
    help: &'static str,
    samples: Vec<(Vec<(&'static str, String)>, Value)>,
}

/// A set of families, written in the order they were first named.
#[derive(Debug, Clone, Default)]
pub struct Exposition {
    families: Vec<Family>,
}

impl Exposition {
    /// Adds a sample to the family `name` (declared on first use; later uses must agree
    /// on its type and help).
    pub fn add(
        &mut self,
        name: &'static str,
        kind: Kind,
        help: &'static str,
        labels: &[(&'static str, &str)],
        value: impl Into<Value>,
    ) {
        debug_assert!(valid_name(name), "{name} is not a metric name");
        debug_assert!(
            (kind == Kind::Counter) == name.ends_with("_total"),
            "{name}: counters and only counters end in _total"
        );
        let at = match self.families.iter().position(|f| f.name == name) {
            Some(at) => at,
            None => {
                self.families.push(Family {
                    name,
                    kind,
                    help,
                    samples: Vec::new(),
                });
                self.families.len() - 1
            }
        };
        let family = &mut self.families[at];
        debug_assert!(
            family.kind == kind && family.help == help,
            "{name} redeclared"
        );
        let labels = labels
            .iter()
            .map(|(key, value)| {
                debug_assert!(valid_name(key), "{key} is not a label name");
                (*key, (*value).to_string())
            })
            .collect();
        family.samples.push((labels, value.into()));
    }

    /// The text, ending in a newline.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for family in &self.families {
            let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(family.help));
            let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind.as_str());
            for (labels, value) in &family.samples {
                out.push_str(family.name);
                if !labels.is_empty() {
                    out.push('{');
                    for (i, (key, text)) in labels.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{key}=\"{}\"", escape_label(text));
                    }
                    out.push('}');
                }
                let _ = writeln!(out, " {}", number(*value));
            }
        }
        out
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`, the grammar of metric and label names.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// A label value: backslash, double quote and line feed are escaped.
fn escape_label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Help text: backslash and line feed are escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample's number as the format spells it (`NaN`, `+Inf`, `-Inf` included).
fn number(value: Value) -> String {
    match value {
        Value::Count(count) => count.to_string(),
        Value::Real(real) if real.is_nan() => "NaN".into(),
        Value::Real(real) if real == f64::INFINITY => "+Inf".into(),
        Value::Real(real) if real == f64::NEG_INFINITY => "-Inf".into(),
        Value::Real(real) => format!("{real:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_render_in_order_with_help_type_and_labels() {
        let mut e = Exposition::default();
        e.add(
            "ccc_rows_read_total",
            Kind::Counter,
            "Rows read.",
            &[("table", "orders")],
            42u64,
        );
        e.add("ccc_up", Kind::Gauge, "Up.", &[], true);
        e.add(
            "ccc_rows_read_total",
            Kind::Counter,
            "Rows read.",
            &[("table", "messages")],
            7u64,
        );
        assert_eq!(
            e.render(),
            "# HELP ccc_rows_read_total Rows read.\n# TYPE ccc_rows_read_total counter\n\
             ccc_rows_read_total{table=\"orders\"} 42\nccc_rows_read_total{table=\"messages\"} 7\n\
             # HELP ccc_up Up.\n# TYPE ccc_up gauge\nccc_up 1\n"
        );
    }

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut e = Exposition::default();
        e.add(
            "ccc_x",
            Kind::Gauge,
            "a \\ b\nc",
            &[("reason", "say \"hi\"\\\nbye")],
            1.5,
        );
        let text = e.render();
        assert!(text.contains("# HELP ccc_x a \\\\ b\\nc\n"), "{text}");
        assert!(
            text.contains("ccc_x{reason=\"say \\\"hi\\\"\\\\\\nbye\"} 1.5\n"),
            "{text}"
        );
    }

    #[test]
    fn numbers_keep_counts_exact_and_spell_special_values() {
        assert_eq!(number(Value::Count(u64::MAX)), "18446744073709551615");
        assert_eq!(number(Value::Real(0.25)), "0.25");
        assert_eq!(number(Value::Real(1.0)), "1.0");
        assert_eq!(number(Value::Real(1.7e9)), "1700000000.0");
        assert_eq!(number(Value::Real(f64::NAN)), "NaN");
        assert_eq!(number(Value::Real(f64::INFINITY)), "+Inf");
        assert_eq!(number(Value::Real(f64::NEG_INFINITY)), "-Inf");
    }

    #[test]
    fn names_follow_the_grammar() {
        assert!(valid_name("ccc_stage_duration_seconds"));
        assert!(valid_name("_a:b"));
        assert!(!valid_name("1abc"));
        assert!(!valid_name("a-b"));
        assert!(!valid_name(""));
    }
}
