//! How deeply a suite's YAML nests, measured before it is parsed: a suite nested
//! thousands of levels deep would take the YAML parser seconds (and recursive code
//! stack), so it is refused at the first line past [`MAX_NESTING`].

/// The deepest nesting a suite may have; the shipped suites use six levels.
pub const MAX_NESTING: usize = 64;

/// The byte offset where `text` first nests deeper than `limit`, counting block
/// indentation levels, compact `- ` sequence entries and flow `[`/`{` brackets. It may
/// count a level more than the parser would (an estimate erring on the deep side), never
/// fewer.
pub(crate) fn too_deep(text: &str, limit: usize) -> Option<usize> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut quote: Option<u8> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let bytes = line.as_bytes();
        let indent = bytes.iter().take_while(|b| **b == b' ').count();
        let content = line[indent..].trim_end();
        let mut depth_here = 0;
        let mut i = indent;
        if flow == 0 && quote.is_none() && !content.is_empty() && !content.starts_with('#') {
            while indents.last().is_some_and(|top| *top > indent) {
                indents.pop();
            }
            if indents.last().is_none_or(|top| *top < indent) {
                indents.push(indent);
            }
            // `- - x` nests a sequence in a sequence on one line.
            while bytes.get(i) == Some(&b'-') && matches!(bytes.get(i + 1), Some(b' ') | None) {
                depth_here += 1;
                i += 2;
            }
        }
        if indents.len() + depth_here > limit {
            return Some(offset + indent);
        }
        // Where a value may begin: at the start of the line's content, after `: `, `- `
        // or `? ` (a space between), or anywhere inside a flow collection.
        let mut value_start = true;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(b'"') if b == b'\\' => i += 1,
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None => match b {
                    b'"' | b'\'' if value_start || flow > 0 => quote = Some(b),
                    b'#' if i == 0 || bytes[i - 1].is_ascii_whitespace() => break,
                    b'[' | b'{' if value_start || flow > 0 => {
                        flow += 1;
                        if indents.len() + depth_here + flow > limit {
                            return Some(offset + i);
                        }
                    }
                    b']' | b'}' if flow > 0 => flow -= 1,
                    _ => {}
                },
            }
            if quote.is_none() {
                let spaced = bytes.get(i + 1).is_none_or(u8::is_ascii_whitespace);
                if !b.is_ascii_whitespace() {
                    value_start = matches!(b, b':' | b'-' | b'?') && spaced;
                }
            }
            i += 1;
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_suites_are_shallow() {
        for suite in ["source.yaml", "output.yaml"] {
            let path = format!("{}/../../expectations/{suite}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(path).unwrap();
            assert_eq!(too_deep(&text, 8), None, "{suite}");
        }
    }

    #[test]
    fn flow_nesting_is_found_at_the_bracket_past_the_limit() {
        let text = format!("tables: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            too_deep(&text, MAX_NESTING),
            Some("tables: ".len() + MAX_NESTING - 1)
        );
        let shallow = format!("a: {}1{}\n", "[".repeat(10), "]".repeat(10));
        assert_eq!(too_deep(&shallow, MAX_NESTING), None);
    }

    #[test]
    fn block_nesting_and_compact_sequences_count() {
        let mut text = String::new();
        for level in 0..80 {
            text.push_str(&format!("{}k{level}:\n", " ".repeat(level)));
        }
        let at = too_deep(&text, MAX_NESTING).unwrap();
        assert!(text[at..].starts_with("k64:"), "{}", &text[at..at + 5]);
        assert!(too_deep(&format!("{}x\n", "- ".repeat(100)), MAX_NESTING).is_some());
    }

    #[test]
    fn brackets_in_plain_and_quoted_scalars_do_not_count() {
        let text = "regex: ^[a-z]+[[[[[[[[[[$\nother: \"[[[[[[[[[[[[\"\nlast: '{{{{{{{'\n";
        assert_eq!(too_deep(text, 2), None);
    }
}
