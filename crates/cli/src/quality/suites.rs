//! Choosing and loading suites: `source`, `output` (from the expectations folder) or a
//! path; and turning a `ccc_dq::SuiteError` into a miette diagnostic that shows the
//! suite file with the offending text underlined.

use std::path::{Path, PathBuf};

use ccc_dq::{Suite, SuiteError};
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

use crate::exit::CliError;

/// Which suite a command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuiteChoice {
    /// `expectations/source.yaml`.
    Source,
    /// `expectations/output.yaml`.
    Output,
    /// Any suite file.
    File(PathBuf),
}

impl SuiteChoice {
    /// `source`, `output`, or a path.
    pub fn parse(text: &str) -> SuiteChoice {
        match text {
            "source" => SuiteChoice::Source,
            "output" => SuiteChoice::Output,
            path => SuiteChoice::File(PathBuf::from(path)),
        }
    }

    /// The file to load.
    pub fn path(&self, expectations: &Path) -> PathBuf {
        match self {
            SuiteChoice::Source => expectations.join("source.yaml"),
            SuiteChoice::Output => expectations.join("output.yaml"),
            SuiteChoice::File(path) => path.clone(),
        }
    }
}

/// Loads and checks a suite file (YAML and schema); errors are located diagnostics.
pub fn load_suite(path: &Path) -> Result<Suite, CliError> {
    Suite::load(path).map_err(|e| CliError::Suite(Box::new(SuiteDiagnostic::new(e))))
}

/// A suite error as miette renders it: message, the file with the span underlined, help.
#[derive(Debug)]
pub struct SuiteDiagnostic {
    error: SuiteError,
    source: Option<NamedSource<String>>,
}

/// The longest suite line shown under an error. miette's renderer pads to the column
/// and cannot past 65,535; a line that long is no use on a terminal anyway, and the
/// message already says line and column.
const MAX_SHOWN_LINE: usize = 1000;

impl SuiteDiagnostic {
    /// Wraps an error of `ccc_dq`.
    pub fn new(error: SuiteError) -> Self {
        let source = match (error.file_name(), error.source_text()) {
            (Some(name), Some(text)) if line_is_short(text, error.span()) => {
                Some(NamedSource::new(name, text.to_string()).with_language("yaml"))
            }
            _ => None,
        };
        Self { error, source }
    }
}

/// Whether the line holding `span` (and the span itself) is short enough to show.
fn line_is_short(text: &str, span: Option<(usize, usize)>) -> bool {
    let Some((offset, len)) = span else {
        return true;
    };
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |p| offset + p);
    end - start <= MAX_SHOWN_LINE && len <= MAX_SHOWN_LINE
}

impl std::fmt::Display for SuiteDiagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&shorten_words(&self.error.to_string()))
    }
}

/// The longest word of a suite's own text (a name, a value) quoted in an error.
const MAX_QUOTED_CHARS: usize = 200;

/// `text` with every word (a run without spaces) longer than [`MAX_QUOTED_CHARS`] cut to
/// its start and its length: an error quotes the name it is about, and a name can be
/// megabytes long.
fn shorten_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match word.char_indices().nth(MAX_QUOTED_CHARS) {
            Some((cut, _)) => {
                out.push_str(&word[..cut]);
                out.push_str(&format!("… ({} bytes)", word.len()));
            }
            None => out.push_str(word),
        }
    }
    out
}

impl std::error::Error for SuiteDiagnostic {}

impl Diagnostic for SuiteDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("ccc::suite"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.error
            .help()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (offset, len) = self.error.span()?;
        self.source.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(shorten_words(&self.error.label())),
            (offset, len),
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_in_messages_are_cut_to_their_start_and_length() {
        let name = "x".repeat(300);
        let shown = shorten_words(&format!("unknown expectation `{name}` here"));
        assert_eq!(
            shown,
            format!("unknown expectation `{}… (302 bytes) here", "x".repeat(199))
        );
        assert_eq!(shorten_words("short words stay"), "short words stay");
    }
}
