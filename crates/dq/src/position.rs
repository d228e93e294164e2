//! Finding where a value sits in a YAML text. serde_yaml attaches a position to errors
//! raised while a node is being deserialized, so to locate a path we walk the document
//! with a visitor that fails exactly at that node (or at its key) and read the error's
//! position. Suite files are small, so one walk per located error costs nothing.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::Position;

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

impl From<&str> for Seg {
    fn from(key: &str) -> Self {
        Seg::Key(key.to_string())
    }
}

impl From<usize> for Seg {
    fn from(index: usize) -> Self {
        Seg::Index(index)
    }
}

/// Builds a path (an array of [`Seg`]) from keys and indices: `doc_path!["tables", "orders", "expectations", 3]`.
macro_rules! doc_path {
    ($($seg:expr),* $(,)?) => { [$($crate::position::Seg::from($seg)),*] };
}
pub(crate) use doc_path;

/// The marker message of the error our visitor raises; never shown to users.
const MARKER: &str = "\u{1}ccc-dq-locate\u{1}";

/// Locates `path` in `text`: the value at the path, or its key when `at_key` is set.
/// When the path does not exist, the deepest existing prefix is located instead; when
/// nothing can be located (not YAML, empty text), `None`.
pub(crate) fn locate(text: &str, path: &[Seg], at_key: bool) -> Option<Position> {
    if let Some(pos) = locate_exact(text, path, at_key) {
        return Some(pos);
    }
    (0..path.len())
        .rev()
        .find_map(|len| locate_exact(text, &path[..len], false))
}

fn locate_exact(text: &str, path: &[Seg], at_key: bool) -> Option<Position> {
    let de = serde_yaml::Deserializer::from_str(text);
    let probe = Probe { path, at_key };
    match probe.deserialize(de) {
        Ok(_) => None,
        Err(err) => {
            if !err.to_string().contains(MARKER) {
                return None;
            }
            let loc = err.location()?;
            Some(position_at(text, loc.line(), loc.column()))
        }
    }
}

/// Converts a 1-based line and character column into a position with a token span.
pub(crate) fn position_at(text: &str, line: usize, column: usize) -> Position {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let byte_col = l
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(l.trim_end_matches(['\n', '\r']).len(), |(b, _)| b);
            offset += byte_col;
            return Position {
                line,
                column,
                offset,
                len: token_len(text, offset),
            };
        }
        offset += l.len();
    }
    // Past the end (an error at end of input): point at the end.
    let offset = text.len();
    Position {
        line,
        column,
        offset,
        len: 0,
    }
}

/// Byte length of the YAML token starting at `offset`: a quoted scalar, a flow
/// collection, or a plain scalar up to a comment, a `: ` or the end of the line.
fn token_len(text: &str, offset: usize) -> usize {
    let rest = &text[offset..];
    let bytes = rest.as_bytes();
    let Some(&first) = bytes.first() else {
        return 0;
    };
    match first {
        b'"' => {
            let mut i = 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => return i + 1,
                    _ => i += 1,
                }
            }
            line_len(rest)
        }
        b'\'' => {
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return i + 1;
                }
                i += 1;
            }
            line_len(rest)
        }
        b'[' | b'{' => {
            let mut depth = 0usize;
            let mut quote: Option<u8> = None;
            for (i, &b) in bytes.iter().enumerate() {
                match (quote, b) {
                    (Some(q), _) if b == q => quote = None,
                    (Some(_), _) => {}
                    (None, b'"' | b'\'') => quote = Some(b),
                    (None, b'[' | b'{') => depth += 1,
                    (None, b']' | b'}') => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
            }
            line_len(rest)
        }
        b'\n' | b'\r' => 0,
        _ => {
            let line = &rest[..line_len(rest)];
            let in_flow = {
                let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
                text[line_start..offset].contains(['[', '{'])
            };
            let mut end = line.len();
            let lb = line.as_bytes();
            for i in 0..lb.len() {
                let next_is_space = lb.get(i + 1).is_none_or(|c| c.is_ascii_whitespace());
                let prev_is_space = i > 0 && lb[i - 1].is_ascii_whitespace();
                if (lb[i] == b':' && next_is_space)
                    || (lb[i] == b'#' && prev_is_space)
                    || (in_flow && matches!(lb[i], b',' | b']' | b'}'))
                {
                    end = i;
                    break;
                }
            }
            let len = line[..end].trim_end().len();
            if len == 0 {
                rest.chars().next().map_or(0, char::len_utf8)
            } else {
                len
            }
        }
    }
}

fn line_len(rest: &str) -> usize {
    rest.find(['\n', '\r']).unwrap_or(rest.len())
}

/// Walks the document along `path` and fails at the target node.
struct Probe<'p> {
    path: &'p [Seg],
    at_key: bool,
}

impl<'de> DeserializeSeed<'de> for Probe<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.path.is_empty() {
            d.deserialize_any(Fail)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Probe<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Seg::Key(target), rest)) = self.path.split_first() else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let fail_at_key = rest.is_empty() && self.at_key;
        while let Some(matched) = map.next_key_seed(KeyProbe {
            target,
            fail: fail_at_key,
        })? {
            if matched {
                return map.next_value_seed(Probe {
                    path: rest,
                    at_key: self.at_key,
                });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Seg::Index(target), rest)) = self.path.split_first() else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let mut index = 0;
        loop {
            if index == *target {
                return seq
                    .next_element_seed(Probe {
                        path: rest,
                        at_key: self.at_key,
                    })
                    .map(|_| ());
            }
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged value (`!tag value`): not part of any suite path.
        let (IgnoredAny, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant::<IgnoredAny>(variant).map(|_| ())
    }
}

/// Reads one key and says whether it is the target; fails on it when asked.
struct KeyProbe<'t> {
    target: &'t str,
    fail: bool,
}

impl KeyProbe<'_> {
    fn check<E: de::Error>(&self, key: &str) -> Result<bool, E> {
        let matched = key == self.target;
        if matched && self.fail {
            Err(E::custom(MARKER))
        } else {
            Ok(matched)
        }
    }
}

impl<'de> DeserializeSeed<'de> for KeyProbe<'_> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyProbe<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        self.check(v)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.check("null")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<bool, A::Error> {
        let (IgnoredAny, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant::<IgnoredAny>(variant).map(|_| false)
    }
}

/// Fails on whatever node it is given.
struct Fail;

impl<'de> Visitor<'de> for Fail {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("nothing")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_some<D: de::Deserializer<'de>>(self, _: D) -> Result<(), D::Error> {
        Err(de::Error::custom(MARKER))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(MARKER))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(MARKER))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(MARKER))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "suite: demo\ntables:\n  orders:\n    expectations:\n      - id: a\n        expectation: expect_x\n        column: \"cityCode\"\n      - id: b\n        mostly: 0.5 # comment\n        value_set: [a, b]\n";

    #[test]
    fn locates_values_and_keys() {
        let p = locate(TEXT, &doc_path!["suite"], false).expect("found");
        assert_eq!((p.line, p.column, p.len), (1, 8, 4));
        let p = locate(
            TEXT,
            &doc_path!["tables", "orders", "expectations", 0, "column"],
            false,
        )
        .expect("found");
        assert_eq!((p.line, p.column), (7, 17));
        assert_eq!(&TEXT[p.offset..p.offset + p.len], "\"cityCode\"");
        let p = locate(
            TEXT,
            &doc_path!["tables", "orders", "expectations", 1, "mostly"],
            true,
        )
        .expect("found");
        assert_eq!((p.line, p.column), (9, 9));
        assert_eq!(&TEXT[p.offset..p.offset + p.len], "mostly");
        let p = locate(
            TEXT,
            &doc_path!["tables", "orders", "expectations", 1, "mostly"],
            false,
        )
        .expect("found");
        assert_eq!(&TEXT[p.offset..p.offset + p.len], "0.5");
        let p = locate(
            TEXT,
            &doc_path!["tables", "orders", "expectations", 1, "value_set", 1],
            false,
        )
        .expect("found");
        assert_eq!(&TEXT[p.offset..p.offset + p.len], "b");
    }

    #[test]
    fn missing_paths_fall_back_to_the_deepest_prefix() {
        let p = locate(
            TEXT,
            &doc_path!["tables", "orders", "expectations", 1, "nope"],
            false,
        )
        .expect("found");
        assert_eq!(
            p.line, 8,
            "the mapping of the second expectation starts at its first key"
        );
        let p =
            locate("", &doc_path!["x"], false).expect("the empty document is located at its start");
        assert_eq!((p.line, p.column, p.offset), (1, 1, 0));
        // Invalid YAML does not panic (what is found before the error may be located).
        let _ = locate("a: [", &doc_path!["a", "b"], true);
        let _ = locate("\t- : ]", &doc_path![0, "b"], false);
    }
}
