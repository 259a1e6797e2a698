//! Reading one input table: a CSV or Parquet file, a folder of them, or a glob pattern.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::text;
use crate::error::{Error, PolarsContext, Result};

/// One file of a table, read with every CSV column as text so that each role column is parsed
/// by us, with errors that name the row.
pub struct RawFile {
    pub path: PathBuf,
    pub frame: DataFrame,
    /// Title lines above the header that were skipped.
    pub preamble_lines: usize,
}

/// How a table's CSV files are written, from the job (None = detect), and the columns the job
/// maps (a file is read for those alone: at 20 million lines every unused column costs
/// hundreds of MB).
#[derive(Clone, Copy, Default)]
pub struct CsvOptions<'a> {
    pub separator: Option<&'a str>,
    pub encoding: Option<&'a str>,
    pub columns: Option<&'a [String]>,
}

pub fn read_table(spec: &Path, options: CsvOptions) -> Result<Vec<RawFile>> {
    let files = expand(spec)?;
    files
        .into_iter()
        .map(|path| {
            let (frame, preamble_lines) = read_file(&path, options)?;
            Ok(RawFile {
                path,
                frame,
                preamble_lines,
            })
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

pub(super) fn is_parquet(path: &Path) -> bool {
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

fn read_file(path: &Path, options: CsvOptions) -> Result<(DataFrame, usize)> {
    if is_parquet(path) {
        let file = std::fs::File::open(path)
            .map_err(|e| input_error(path, format!("cannot open: {e}")))?;
        let mut reader = ParquetReader::new(file);
        let schema = reader
            .schema()
            .context(format!("{}: not a readable Parquet file", path.display()))?;
        // When a mapped column is missing, everything is read, so the error lists the file's
        // columns.
        if let Some(columns) = options
            .columns
            .filter(|cols| cols.iter().all(|c| schema.contains(c.as_str())))
        {
            reader = reader.with_columns(Some(columns.to_vec()));
        }
        let frame = reader
            .finish()
            .context(format!("{}: not a readable Parquet file", path.display()))?;
        return Ok((frame, 0));
    }
    read_csv(path, options)
}

fn read_csv(path: &Path, options: CsvOptions) -> Result<(DataFrame, usize)> {
    let bytes = std::fs::read(path).map_err(|e| input_error(path, format!("cannot read: {e}")))?;
    let text = text::decode(path, &bytes, options.encoding)?;
    if text.trim().is_empty() {
        return Err(input_error(path, "the file is empty".into()));
    }
    let separator = options
        .separator
        .map(|s| parse_separator(path, s))
        .transpose()?;
    let layout = text::layout(&text, separator);
    let body = text::from_header(&text, layout.preamble_lines);
    let header = body.lines().next().unwrap_or_default();
    if text::header_is_data(header, layout.separator) {
        return Err(input_error(
            path,
            format!(
                "the first line holds values, not column names (\"{}\"); add a header line \
                 naming the columns",
                header.chars().take(80).collect::<String>()
            ),
        ));
    }
    let names = text::header_fields(header, layout.separator);
    if let Some((i, name)) = names
        .iter()
        .enumerate()
        .find(|(i, n)| !n.is_empty() && names[..*i].contains(n))
    {
        let first = names.iter().position(|n| n == name).unwrap_or(0);
        return Err(input_error(
            path,
            format!(
                "column '{name}' appears twice in the header (fields {} and {}); rename one so that the job's mapping is not ambiguous",
                first + 1,
                i + 1
            ),
        ));
    }
    if body.lines().skip(1).all(|line| line.trim().is_empty()) {
        return Err(input_error(
            path,
            "the file has a header but no data rows".into(),
        ));
    }
    if let Some((record, fields, width)) = text::ragged_record(body, layout.separator) {
        let sep = layout.separator as char;
        return Err(input_error(
            path,
            format!(
                "data row {record} has {fields} field(s) where the header has {width} (separator '{sep}'): a line written with another separator, or a value holding an unquoted '{sep}' — quote it or fix the line"
            ),
        ));
    }
    let options = CsvReadOptions::default()
        .with_projection(projection(&names, options.columns))
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_parse_options(
            CsvParseOptions::default()
                .with_separator(layout.separator)
                .with_encoding(CsvEncoding::Utf8)
                .with_missing_is_null(true),
        );
    let cursor = std::io::Cursor::new(body.as_bytes());
    let frame = options
        .into_reader_with_file_handle(cursor)
        .finish()
        .context(format!("{}: not a readable CSV file", path.display()))?;
    Ok((frame, layout.preamble_lines))
}

/// The positions of the mapped columns in the header, when every one is there: unused columns
/// of a wide export are then never parsed. When one is missing, everything is read, so that the
/// error lists the file's columns.
fn projection(header: &[String], columns: Option<&[String]>) -> Option<Arc<Vec<usize>>> {
    let mut positions = columns?
        .iter()
        .map(|c| header.iter().position(|h| h == c))
        .collect::<Option<Vec<usize>>>()?;
    positions.sort_unstable();
    positions.dedup();
    Some(Arc::new(positions))
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

pub fn input_error(path: &Path, message: String) -> Error {
    Error::file(path.to_path_buf(), message)
}
