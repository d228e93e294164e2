//! Choosing and loading suites: the built-in `source` and `output` suites (the shipped
//! `expectations/*.yaml`, compiled into the binary), the same names in an
//! `--expectations` folder, or any suite file; and turning a `ccc_dq::SuiteError` into a
//! miette diagnostic that shows the suite file with the offending text underlined.

use std::path::{Path, PathBuf};

use ccc_dq::{Suite, SuiteError, SuiteOrigin};
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use sha2::{Digest, Sha256};

use crate::exit::CliError;

/// The built-in suites: file name and text, as shipped in `expectations/`.
pub const BUILT_IN: [(&str, &str); 2] = [
    (
        "source.yaml",
        include_str!("../../../../expectations/source.yaml"),
    ),
    (
        "output.yaml",
        include_str!("../../../../expectations/output.yaml"),
    ),
];

/// Which suite a command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuiteChoice {
    /// The source suite: built in, or `source.yaml` of `--expectations`.
    Source,
    /// The output suite: built in, or `output.yaml` of `--expectations`.
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

    /// Loads the suite: from `expectations` when given, else the built-in one.
    pub fn load(&self, expectations: Option<&Path>) -> Result<LoadedSuite, CliError> {
        let name = match self {
            SuiteChoice::File(path) => return LoadedSuite::from_file(path),
            SuiteChoice::Source => "source.yaml",
            SuiteChoice::Output => "output.yaml",
        };
        match expectations {
            Some(dir) => LoadedSuite::from_file(&dir.join(name)),
            None => LoadedSuite::built_in(name),
        }
    }
}

/// A suite, checked, with where it came from.
#[derive(Debug, Clone)]
pub struct LoadedSuite {
    /// The suite.
    pub suite: Suite,
    /// Its path or `built-in NAME`, and the SHA-256 of its text.
    pub origin: SuiteOrigin,
}

impl LoadedSuite {
    /// Loads and checks a suite file (YAML and schema); errors are located diagnostics.
    pub fn from_file(path: &Path) -> Result<LoadedSuite, CliError> {
        let suite = Suite::load(path).map_err(suite_error)?;
        let origin = SuiteOrigin {
            source: path.display().to_string(),
            sha256: sha256_hex(suite.source_text()),
        };
        Ok(LoadedSuite { suite, origin })
    }

    /// A built-in suite by file name (`source.yaml`, `output.yaml`).
    pub fn built_in(name: &str) -> Result<LoadedSuite, CliError> {
        let (_, text) = BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| CliError::Internal(format!("no built-in suite {name}")))?;
        let label = format!("built-in {name}");
        let suite = Suite::from_built_in_yaml(text, &label).map_err(suite_error)?;
        Ok(LoadedSuite {
            suite,
            origin: SuiteOrigin {
                source: label,
                sha256: sha256_hex(text),
            },
        })
    }
}

/// Writes the built-in suites into `dir` (created if needed) for a user to customise;
/// an existing file is not overwritten unless `force`. Returns the files written.
pub fn write_built_in(dir: &Path, force: bool) -> Result<Vec<PathBuf>, CliError> {
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CliError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(write_err(dir))?;
    let paths: Vec<PathBuf> = BUILT_IN.iter().map(|(name, _)| dir.join(name)).collect();
    if !force {
        if let Some(existing) = paths.iter().find(|p| p.exists()) {
            return Err(CliError::Usage(format!(
                "{} exists; nothing was written (--force replaces it)",
                existing.display()
            )));
        }
    }
    for ((_, text), path) in BUILT_IN.iter().zip(&paths) {
        std::fs::write(path, text).map_err(write_err(path))?;
    }
    Ok(paths)
}

/// The SHA-256 of `text` in lowercase hex (what `sha256sum` prints for the file).
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn suite_error(e: SuiteError) -> CliError {
    CliError::Suite(Box::new(SuiteDiagnostic::new(e)))
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
    fn built_in_suites_load_and_hash_as_their_shipped_files() {
        for (name, text) in BUILT_IN {
            // What lets a built-in suite skip the schema check at run time.
            Suite::from_yaml(text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
            let loaded = LoadedSuite::built_in(name).unwrap();
            assert_eq!(loaded.origin.source, format!("built-in {name}"));
            assert_eq!(loaded.origin.sha256.len(), 64);
            let shipped = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../expectations")
                    .join(name),
            )
            .unwrap();
            assert_eq!(text, shipped);
        }
        // The hash of an empty text, as `sha256sum` prints it.
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

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
