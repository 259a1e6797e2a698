//! Turning a CSV export's bytes into UTF-8 text with the header on the first line: byte-order
//! marks, declared encodings (Windows-1251, Latin-1, …), and title lines above the header.

use std::borrow::Cow;
use std::path::Path;

use rayon::prelude::*;

use super::read::input_error;
use crate::error::Result;

/// The separators tried when the job does not name one.
const SEPARATORS: [u8; 4] = [b',', b';', b'\t', b'|'];
/// Lines looked at to find the separator and the header.
const SNIFF_LINES: usize = 30;

/// The file's text in UTF-8. A UTF-8 or UTF-16 byte-order mark decides; otherwise the job's
/// `encoding`, else UTF-8 — and bytes that are not UTF-8 are an error naming the line, never
/// silently replaced (a guessed encoding would garble names without a trace).
pub fn decode<'a>(path: &Path, bytes: &'a [u8], encoding: Option<&str>) -> Result<Cow<'a, str>> {
    if let Some((bom_encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _, _) = bom_encoding.decode(&bytes[bom_len..]);
        return Ok(text);
    }
    if let Some(label) = encoding {
        // WHATWG labels, plus the spellings analysts write ("latin-1", "cp_1251").
        let squeezed = label.trim().replace(['-', '_', ' '], "");
        let declared = encoding_rs::Encoding::for_label(label.trim().as_bytes())
            .or_else(|| encoding_rs::Encoding::for_label(squeezed.as_bytes()))
            .ok_or_else(|| {
                input_error(
                    path,
                    format!(
                        "encoding \"{label}\" is not known; use e.g. \"utf-8\", \"windows-1251\", \
                     \"latin-1\" or \"windows-1252\""
                    ),
                )
            })?;
        let (text, _, malformed) = declared.decode(bytes);
        if malformed {
            return Err(input_error(
                path,
                format!("the file is not valid {}", declared.name()),
            ));
        }
        return Ok(text);
    }
    std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        let bad = bytes[e.valid_up_to()];
        input_error(
            path,
            format!(
                "line {line} is not UTF-8 (byte 0x{bad:02X}); set the table's `encoding` \
                     in the job, e.g. encoding = \"windows-1251\" for a Cyrillic export or \
                     \"latin-1\" for a Western European one"
            ),
        )
    })
}

/// Where the table starts: the separator, and the number of lines above the header (report
/// titles, export dates) that are skipped.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    pub separator: u8,
    pub preamble_lines: usize,
}

/// Fields per line for `separator`, quotes respected, over the first lines of `text`.
fn field_counts(text: &str, separator: u8) -> Vec<usize> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(SNIFF_LINES)
        .map(|line| {
            let mut quoted = false;
            let mut fields = 1;
            for byte in line.bytes() {
                if byte == b'"' {
                    quoted = !quoted;
                } else if byte == separator && !quoted {
                    fields += 1;
                }
            }
            fields
        })
        .collect()
}

/// The header's field names, quotes removed and trimmed.
pub fn header_fields(header_line: &str, separator: u8) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    for c in header_line.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c == separator as char && !quoted => fields.push(String::new()),
            c => fields.last_mut().map_or((), |f| f.push(c)),
        }
    }
    fields.iter().map(|f| f.trim().to_string()).collect()
}

/// The first data record (1-based, after the header) whose number of fields differs from the
/// header's, with its count: a line written with another separator, or a value with an unquoted
/// separator. Quoted fields may hold separators and line breaks; blank lines are skipped.
pub fn ragged_record(body: &str, separator: u8) -> Option<(usize, usize, usize)> {
    if memchr::memchr(b'"', body.as_bytes()).is_none() {
        return ragged_unquoted(body.as_bytes(), separator, 1 << 22);
    }
    ragged_quoted(body, separator)
}

/// [`ragged_record`] for text without quotes, where every line is a record: blocks of lines are
/// counted in parallel (a million customers' order lines are gigabytes).
fn ragged_unquoted(body: &[u8], separator: u8, block: usize) -> Option<(usize, usize, usize)> {
    let width = body
        .split(|&b| b == b'\n')
        .find(|line| !is_blank(line))
        .map(|line| fields_in(line, separator))?;
    let mut blocks = Vec::new();
    let mut start = 0;
    while start < body.len() {
        let end = match memchr::memchr(b'\n', &body[(start + block).min(body.len())..]) {
            Some(i) => (start + block).min(body.len()) + i + 1,
            None => body.len(),
        };
        blocks.push(&body[start..end]);
        start = end;
    }
    let counted: Vec<(usize, Option<(usize, usize)>)> = blocks
        .par_iter()
        .map(|block| {
            let mut records = 0;
            for line in block.split(|&b| b == b'\n').filter(|l| !is_blank(l)) {
                let fields = fields_in(line, separator);
                if fields != width {
                    return (records, Some((records, fields)));
                }
                records += 1;
            }
            (records, None)
        })
        .collect();
    let mut before = 0;
    for (records, ragged) in counted {
        if let Some((record, fields)) = ragged {
            return Some((before + record, fields, width));
        }
        before += records;
    }
    None
}

/// A line holding nothing but carriage returns is blank, as in [`ragged_quoted`].
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&b| b == b'\r')
}

fn fields_in(line: &[u8], separator: u8) -> usize {
    1 + line.iter().filter(|&&b| b == separator).count()
}

fn ragged_quoted(body: &str, separator: u8) -> Option<(usize, usize, usize)> {
    let (mut fields, mut quoted, mut blank) = (1, false, true);
    let mut record = 0;
    let mut expected = None;
    for byte in body.bytes().chain(std::iter::once(b'\n')) {
        match byte {
            b'"' => {
                quoted = !quoted;
                blank = false;
            }
            b'\n' if !quoted => {
                if !blank {
                    match expected {
                        None => expected = Some(fields),
                        Some(width) if fields != width => return Some((record, fields, width)),
                        Some(_) => {}
                    }
                    record += 1;
                }
                (fields, blank) = (1, true);
            }
            b'\r' if !quoted => {}
            b if b == separator && !quoted => {
                fields += 1;
                blank = false;
            }
            _ => blank = false,
        }
    }
    None
}

/// The most common value of the counts (the data rows' width), ties to the larger.
fn mode(counts: &[usize]) -> usize {
    let mut best = (0, 0);
    for &c in counts {
        let n = counts.iter().filter(|&&x| x == c).count();
        if (n, c) > best {
            best = (n, c);
        }
    }
    best.1
}

/// The separator is the candidate whose most common field count is largest (so a title line
/// above the header does not decide it); the header is the first line with that many fields.
pub fn layout(text: &str, separator: Option<u8>) -> Layout {
    let separator = separator.unwrap_or_else(|| {
        SEPARATORS
            .iter()
            .copied()
            .max_by_key(|&s| (mode(&field_counts(text, s)), std::cmp::Reverse(s)))
            .unwrap_or(b',')
    });
    let counts = field_counts(text, separator);
    let width = mode(&counts);
    let preamble_lines = if width > 1 {
        counts.iter().position(|&c| c == width).unwrap_or(0)
    } else {
        0
    };
    Layout {
        separator,
        preamble_lines,
    }
}

/// The text from the header line on (blank lines above it count as preamble too).
pub fn from_header(text: &str, preamble_lines: usize) -> &str {
    let mut rest = text;
    let mut skipped = 0;
    while skipped < preamble_lines || rest.starts_with(['\n', '\r']) {
        let is_blank = rest.lines().next().is_some_and(|l| l.trim().is_empty());
        match rest.find('\n') {
            Some(end) => rest = &rest[end + 1..],
            None => return "",
        }
        if !is_blank {
            skipped += 1;
        }
    }
    rest
}

/// A header whose every field is a number is a data row: the file has no header.
pub fn header_is_data(header_line: &str, separator: u8) -> bool {
    let fields: Vec<&str> = header_line.split(separator as char).collect();
    fields.len() > 1
        && fields.iter().all(|f| {
            let f = f.trim().trim_matches('"');
            !f.is_empty()
                && f.replace([',', '.', '-', '/', ':', ' '], "")
                    .chars()
                    .all(|c| c.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoted_blocks_find_the_ragged_record_the_quoted_scan_finds() {
        let cases = [
            "a,b\n1,2\n3,4\n",
            "a,b\n1,2\n\n3,4,5\n6,7\n",
            "a,b\r\n1,2\r\n\r\n3\r\n",
            "a,b\n1,2\n3,4\n5,6\n7,8\n9,10,11",
            "\n\na,b,c\n1,2,3\n 1,2\n",
            "a;b\n1;2\n3,4\n",
        ];
        for text in cases {
            for block in [1, 3, 7, 64] {
                assert_eq!(
                    ragged_unquoted(text.as_bytes(), b',', block),
                    ragged_quoted(text, b','),
                    "{text:?} in blocks of {block}"
                );
            }
        }
    }

    #[test]
    fn detects_semicolons_and_ignores_quoted_commas() {
        assert_eq!(layout("\"a,b\";c;d\n1;2;3", None).separator, b';');
        assert_eq!(layout("a,b,c\n1,2,3\n", None).separator, b',');
        assert_eq!(layout("a\tb\n1\t2\n", None).separator, b'\t');
    }

    #[test]
    fn title_lines_above_the_header_are_skipped() {
        let text =
            "Customer export\nGenerated 01.02.2024; by CRM\n\nid;name;spend\n1;a;2\n2;b;3\n3;c;4\n";
        let found = layout(text, None);
        assert_eq!(
            found,
            Layout {
                separator: b';',
                preamble_lines: 2
            }
        );
        assert!(from_header(text, found.preamble_lines).starts_with("id;name;spend\n"));
        assert_eq!(layout("id,x\n1,2\n", None).preamble_lines, 0);
    }

    #[test]
    fn byte_order_marks_and_declared_encodings_decode() {
        let path = Path::new("t.csv");
        assert_eq!(decode(path, b"\xEF\xBB\xBFid\n", None).unwrap(), "id\n");
        assert_eq!(decode(path, b"\xFF\xFEi\0d\0", None).unwrap(), "id");
        // "Иван" in Windows-1251 and "José" in Latin-1.
        assert_eq!(
            decode(path, b"\xC8\xE2\xE0\xED", Some("windows-1251")).unwrap(),
            "Иван"
        );
        assert_eq!(decode(path, b"Jos\xE9", Some("latin-1")).unwrap(), "José");
        let err = decode(path, b"id\nJos\xE9\n", None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2 is not UTF-8") && err.contains("encoding"),
            "{err}"
        );
        let err = decode(path, b"id", Some("klingon"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("encoding \"klingon\" is not known"), "{err}");
    }

    #[test]
    fn a_numeric_first_row_is_data() {
        assert!(header_is_data("1,2.5,2024-01-02", b','));
        assert!(!header_is_data("id,amount,date", b','));
    }
}
