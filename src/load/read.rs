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
    /// Data rows of the same file before this part's first row (0 unless read in parts).
    pub first_row: usize,
}

/// How a table's CSV files are written, from the job (None = detect), and the columns the job
/// maps (a file is read for those alone: at 20 million lines every unused column costs
/// hundreds of MB).
#[derive(Clone, Copy, Default)]
pub struct CsvOptions<'a> {
    pub separator: Option<&'a str>,
    pub encoding: Option<&'a str>,
    pub columns: Option<&'a [String]>,
    /// The size of the parts a caller takes a large CSV file in ([`for_each_part`]).
    pub part_bytes: Option<usize>,
    /// Columns polars may read as numbers itself (amounts): when every cell is a plain number
    /// they need no parsing by us; otherwise the file is read as text and parsed cell by cell.
    pub numbers: Option<&'a [String]>,
}

pub fn read_table(spec: &Path, options: CsvOptions) -> Result<Vec<RawFile>> {
    let mut files = Vec::new();
    each_file(spec, options, &mut |file| {
        files.push(file);
        Ok(())
    })?;
    Ok(files)
}

/// [`read_table`] one part at a time: a large CSV file comes in blocks of lines (see
/// `read_csv_parts`), so that only one block's text cells are in memory at once.
pub fn for_each_part(
    spec: &Path,
    options: CsvOptions,
    each: &mut dyn FnMut(RawFile) -> Result<()>,
) -> Result<()> {
    let part_bytes = options.part_bytes.or(Some(PART_BYTES));
    each_file(
        spec,
        CsvOptions {
            part_bytes,
            ..options
        },
        each,
    )
}

/// Every file of `spec` handed to `each`: a Parquet file whole, a CSV file as `options` says.
fn each_file(
    spec: &Path,
    options: CsvOptions,
    each: &mut dyn FnMut(RawFile) -> Result<()>,
) -> Result<()> {
    for path in expand(spec)? {
        if is_parquet(&path) {
            let frame = read_parquet(&path, options)?;
            each(RawFile {
                path,
                frame,
                preamble_lines: 0,
                first_row: 0,
            })?;
        } else {
            read_csv_parts(&path, options, each)?;
        }
    }
    Ok(())
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

fn read_parquet(path: &Path, options: CsvOptions) -> Result<DataFrame> {
    let file =
        std::fs::File::open(path).map_err(|e| input_error(path, format!("cannot open: {e}")))?;
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
    reader
        .finish()
        .context(format!("{}: not a readable Parquet file", path.display()))
}

/// Bytes of a CSV file read at once when the caller takes it in parts (unless it says): about
/// 3 million order lines, whose text cells take a few hundred MB, where a whole file's took
/// gigabytes.
const PART_BYTES: usize = 1 << 28;

/// The file's bytes mapped into memory: the page cache's copy, not a second one.
fn map(path: &Path) -> Result<memmap2::Mmap> {
    let file =
        std::fs::File::open(path).map_err(|e| input_error(path, format!("cannot read: {e}")))?;
    // SAFETY: a read-only mapping, as polars' own reader makes; a file rewritten by another
    // program while it is read gives garbled rows (caught as bad cells), never a dangling view.
    unsafe { memmap2::Mmap::map(&file) }.map_err(|e| input_error(path, format!("cannot read: {e}")))
}

/// Reads a CSV file and hands it to `each`: whole, or with `options.part_bytes` and an unquoted
/// file larger than that, in blocks of whole lines of about that size, each a [`RawFile`] whose
/// `first_row` says where it starts. A block's pages are released once it is read.
fn read_csv_parts(
    path: &Path,
    options: CsvOptions,
    each: &mut dyn FnMut(RawFile) -> Result<()>,
) -> Result<()> {
    let mapped = map(path)?;
    let text = text::decode(path, &mapped, options.encoding)?;
    let csv = check_csv(path, &text, options)?;
    let whole = |frame: DataFrame| RawFile {
        path: path.to_path_buf(),
        frame,
        preamble_lines: csv.preamble_lines,
        first_row: 0,
    };
    let (header, data) = csv
        .body
        .split_at(csv.body.find('\n').map_or(csv.body.len(), |i| i + 1));
    let quoted = memchr::memchr(b'"', data.as_bytes()).is_some();
    let part_bytes = match options.part_bytes {
        Some(size) if !quoted && data.len() > size => size,
        _ => return each(whole(csv.read(csv.body.as_bytes())?)),
    };
    let mut first_row = 0;
    let mut buffer = Vec::with_capacity(header.len() + part_bytes + (1 << 16));
    for part in line_blocks(data.as_bytes(), part_bytes) {
        buffer.clear();
        buffer.extend_from_slice(header.as_bytes());
        if !header.ends_with('\n') {
            buffer.push(b'\n');
        }
        buffer.extend_from_slice(part);
        let frame = csv.read(&buffer)?;
        release(&mapped, part);
        let rows = frame.height();
        each(RawFile {
            preamble_lines: if first_row == 0 {
                csv.preamble_lines
            } else {
                0
            },
            first_row,
            ..whole(frame)
        })?;
        first_row += rows;
    }
    Ok(())
}

/// `bytes` split into consecutive blocks of about `size` bytes, each ending at a line end.
fn line_blocks(bytes: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = match memchr::memchr(b'\n', &rest[size.min(rest.len())..]) {
            Some(i) => size.min(rest.len()) + i + 1,
            None => rest.len(),
        };
        let (block, tail) = rest.split_at(end);
        rest = tail;
        Some(block)
    })
}

/// Hands the pages of `part` back to the system once they are parsed, so that the file's
/// mapping does not grow to the whole file in memory (only when `part` lies in the mapping, not
/// in text decoded from another encoding).
fn release(mapped: &memmap2::Mmap, part: &[u8]) {
    let Some(offset) = (part.as_ptr() as usize).checked_sub(mapped.as_ptr() as usize) else {
        return;
    };
    if offset + part.len() > mapped.len() {
        return;
    }
    // Whole pages inside the part only; the system rounds the start down otherwise.
    // SAFETY: sysconf only reads a system constant.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let start = offset.div_ceil(page) * page;
    let end = (offset + part.len()) / page * page;
    if end > start {
        // SAFETY: the mapping is a read-only view of a file: dropped pages are read from the file
        // again if touched, so every slice into it stays valid and unchanged.
        let _ = unsafe {
            mapped.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
        };
    }
}

/// A CSV file's text after the checks: where the header starts and how to read it.
struct CheckedCsv<'a> {
    path: &'a Path,
    /// The text from the header line on.
    body: &'a str,
    preamble_lines: usize,
    separator: u8,
    projection: Option<Arc<Vec<usize>>>,
    numbers: Option<SchemaRef>,
}

impl CheckedCsv<'_> {
    /// `bytes` (a header line, then data lines) read by polars: the number columns as numbers
    /// when every cell reads as one, every other column (else every column) as text.
    fn read(&self, bytes: &[u8]) -> Result<DataFrame> {
        if let Some(numbers) = &self.numbers {
            if let Ok(frame) = self.read_with(bytes, Some(numbers.clone())) {
                return Ok(frame);
            }
        }
        self.read_with(bytes, None)
    }

    fn read_with(&self, bytes: &[u8], numbers: Option<SchemaRef>) -> Result<DataFrame> {
        CsvReadOptions::default()
            .with_projection(self.projection.clone())
            .with_schema_overwrite(numbers)
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_parse_options(
                CsvParseOptions::default()
                    .with_separator(self.separator)
                    .with_encoding(CsvEncoding::Utf8)
                    .with_missing_is_null(true),
            )
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .context(format!("{}: not a readable CSV file", self.path.display()))
    }
}

fn check_csv<'a>(path: &'a Path, text: &'a str, options: CsvOptions) -> Result<CheckedCsv<'a>> {
    if text.trim().is_empty() {
        return Err(input_error(path, "the file is empty".into()));
    }
    let separator = options
        .separator
        .map(|s| parse_separator(path, s))
        .transpose()?;
    let layout = text::layout(text, separator);
    let body = text::from_header(text, layout.preamble_lines);
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
    Ok(CheckedCsv {
        path,
        body,
        preamble_lines: layout.preamble_lines,
        separator: layout.separator,
        projection: projection(&names, options.columns),
        numbers: number_schema(&names, options.numbers),
    })
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

/// The number columns that are in the header, as Float64.
fn number_schema(header: &[String], numbers: Option<&[String]>) -> Option<SchemaRef> {
    let fields: Vec<Field> = numbers?
        .iter()
        .filter(|n| header.contains(n))
        .map(|n| Field::new(n.as_str().into(), DataType::Float64))
        .collect();
    (!fields.is_empty()).then(|| Arc::new(Schema::from_iter(fields)))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `text` as a file in parts of `part_bytes`: each part's first row and height.
    fn parts(text: &str, part_bytes: usize) -> (Vec<(usize, usize)>, DataFrame) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let options = CsvOptions {
            part_bytes: Some(part_bytes),
            ..CsvOptions::default()
        };
        let mut seen = Vec::new();
        let mut frame = DataFrame::empty();
        for_each_part(&path, options, &mut |raw| {
            seen.push((raw.first_row, raw.frame.height()));
            if frame.width() == 0 {
                frame = raw.frame;
            } else {
                frame.vstack_mut(&raw.frame).unwrap();
            }
            Ok(())
        })
        .unwrap();
        (seen, frame)
    }

    #[test]
    fn amounts_come_as_numbers_only_when_every_cell_is_a_plain_number() {
        let dir = tempfile::tempdir().unwrap();
        let read = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let numbers = ["amount".to_string()];
            let options = CsvOptions {
                numbers: Some(&numbers),
                ..CsvOptions::default()
            };
            let files = read_table(&path, options).unwrap();
            files[0].frame.column("amount").unwrap().dtype().clone()
        };
        assert_eq!(
            read("plain.csv", "id,amount\nA,1.5\nB,\nC,-2\n"),
            DataType::Float64
        );
        assert_eq!(
            read("comma.csv", "id,amount\nA,\"1,5\"\nB,2\n"),
            DataType::String
        );
        assert_eq!(
            read("money.csv", "id,amount\nA,$3\nB,2\n"),
            DataType::String
        );
    }

    #[test]
    fn a_file_read_in_parts_is_the_file_read_whole() {
        let mut text = String::from("Export of 2024-01-01\nid,amount\n");
        for i in 0..50 {
            text += &format!("C{i},{}.5\n", i * 3);
        }
        let (whole_parts, whole) = parts(&text, usize::MAX);
        assert_eq!(whole_parts, vec![(0, 50)]);
        let (seen, joined) = parts(&text, 64);
        assert!(seen.len() > 5, "{seen:?}");
        let mut next = 0;
        for (first_row, height) in &seen {
            assert_eq!(*first_row, next);
            next += height;
        }
        assert_eq!(next, 50);
        assert!(joined.equals_missing(&whole));
        // Quoted fields may hold line ends: such a file is read whole.
        let quoted = "id,note\nC1,\"a\nb\"\n".to_string() + &"C2,x\n".repeat(40);
        assert_eq!(parts(&quoted, 16).0, vec![(0, 41)]);
    }
}
