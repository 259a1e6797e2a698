//! Reading one input table: a CSV or Parquet file, a folder of them, or a glob pattern.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, PolarsContext, Result};

/// One file of a table, read with every CSV column as text so that each role column is parsed
/// by us, with errors that name the row.
pub struct RawFile {
    pub path: PathBuf,
    pub frame: DataFrame,
}

pub fn read_table(spec: &Path, separator: Option<&str>) -> Result<Vec<RawFile>> {
    let files = expand(spec)?;
    files
        .into_iter()
        .map(|path| {
            let frame = read_file(&path, separator)?;
            Ok(RawFile { path, frame })
        })
        .collect()
}

/// A file, every CSV/Parquet file in a folder (sorted), or the files a glob pattern matches.
fn expand(spec: &Path) -> Result<Vec<PathBuf>> {
    let text = spec.to_string_lossy();
    let mut files: Vec<PathBuf> = if text.contains(['*', '?', '[']) {
        glob::glob(&text)
            .map_err(|e| input_error(spec, format!("bad glob pattern: {e}")))?
            .filter_map(|entry| entry.ok())
            .filter(|p| p.is_file())
            .collect()
    } else if spec.is_dir() {
        std::fs::read_dir(spec)
            .map_err(|e| input_error(spec, format!("cannot list the folder: {e}")))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| is_table_file(p))
            .collect()
    } else if spec.is_file() {
        vec![spec.to_path_buf()]
    } else {
        return Err(input_error(spec, "no such file or folder".into()));
    };
    files.sort();
    if files.is_empty() {
        return Err(input_error(spec, "no CSV or Parquet files found".into()));
    }
    Ok(files)
}

fn is_table_file(path: &Path) -> bool {
    path.is_file() && (is_parquet(path) || is_csv(path))
}

fn is_parquet(path: &Path) -> bool {
    has_extension(path, &["parquet", "pq"])
}

fn is_csv(path: &Path) -> bool {
    has_extension(path, &["csv", "tsv", "txt"])
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

fn read_file(path: &Path, separator: Option<&str>) -> Result<DataFrame> {
    if is_parquet(path) {
        let file = std::fs::File::open(path)
            .map_err(|e| input_error(path, format!("cannot open: {e}")))?;
        return ParquetReader::new(file)
            .finish()
            .context(format!("{}: not a readable Parquet file", path.display()));
    }
    read_csv(path, separator)
}

fn read_csv(path: &Path, separator: Option<&str>) -> Result<DataFrame> {
    let bytes = std::fs::read(path).map_err(|e| input_error(path, format!("cannot read: {e}")))?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(input_error(path, "the file is empty".into()));
    }
    let sep = match separator {
        Some(s) => parse_separator(path, s)?,
        None => detect_separator(body),
    };
    let options = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_parse_options(
            CsvParseOptions::default()
                .with_separator(sep)
                .with_encoding(CsvEncoding::LossyUtf8)
                .with_missing_is_null(true),
        );
    let cursor = std::io::Cursor::new(body.to_vec());
    options
        .into_reader_with_file_handle(cursor)
        .finish()
        .context(format!("{}: not a readable CSV file", path.display()))
}

fn parse_separator(path: &Path, text: &str) -> Result<u8> {
    match text {
        "\\t" | "tab" => Ok(b'\t'),
        s if s.len() == 1 => Ok(s.as_bytes()[0]),
        s => Err(input_error(
            path,
            format!("separator \"{s}\" must be a single character (or \"\\t\")"),
        )),
    }
}

/// The candidate that splits the header line into the most fields, ignoring quoted text.
fn detect_separator(body: &[u8]) -> u8 {
    let header = body.split(|&b| b == b'\n').next().unwrap_or(body);
    let candidates = [b',', b';', b'\t', b'|'];
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for &byte in header {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(i) = candidates.iter().position(|&c| c == byte) {
                counts[i] += 1;
            }
        }
    }
    let best = (0..candidates.len())
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    candidates[best]
}

pub fn input_error(path: &Path, message: String) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_semicolons_and_ignores_quoted_commas() {
        assert_eq!(detect_separator(b"\"a,b\";c;d\n1;2;3"), b';');
        assert_eq!(detect_separator(b"a,b,c\n"), b',');
        assert_eq!(detect_separator(b"a\tb\n"), b'\t');
    }
}
