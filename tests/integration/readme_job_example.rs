//! The full job example of docs/job-file.md is itself a test input: it parses, and every key it
//! documents reaches the job (a key the parser dropped or renamed would be missing when the
//! parsed job is written back as TOML); and a misspelt key of it is named with the nearest valid
//! one.

use segmenta::job::Job;

use crate::util;

/// The first ```toml block after "A full example".
fn readme_example() -> String {
    let readme = std::fs::read_to_string(util::repo("docs/job-file.md")).unwrap();
    let from = readme
        .find("A full example")
        .expect("docs/job-file.md has the full example");
    let rest = &readme[from..];
    let start = rest.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = rest[start..].find("```").expect("the block ends");
    rest[start..start + end].to_string()
}

/// Every key path ("inputs.transactions.encoding") in a TOML value; array-of-table entries
/// are walked with their index dropped.
fn key_paths(value: &toml::Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        toml::Value::Table(table) => {
            for (key, inner) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.push(path.clone());
                key_paths(inner, &path, out);
            }
        }
        toml::Value::Array(items) => {
            for item in items.iter().filter(|i| i.is_table()) {
                key_paths(item, prefix, out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_key_of_the_readme_example_is_parsed() {
    let example = readme_example();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.toml");
    std::fs::write(&path, &example).unwrap();
    let job = Job::from_file(&path).unwrap_or_else(|e| panic!("docs/job-file.md example: {e}"));

    let documented: toml::Value = toml::from_str(&example).unwrap();
    let parsed = toml::Value::try_from(&*job).unwrap();
    let (mut wanted, mut have) = (Vec::new(), Vec::new());
    key_paths(&documented, "", &mut wanted);
    key_paths(&parsed, "", &mut have);
    let lost: Vec<&String> = wanted.iter().filter(|k| !have.contains(k)).collect();
    assert!(
        lost.is_empty(),
        "keys of the docs/job-file.md example not parsed: {lost:?}"
    );
    assert!(wanted.len() > 80, "only {} keys found", wanted.len());
    assert_eq!(
        job.inputs
            .transactions
            .as_ref()
            .unwrap()
            .encoding
            .as_deref(),
        Some("windows-1252")
    );
}

#[test]
fn a_misspelt_key_of_the_example_is_named_with_the_nearest_one() {
    let example = readme_example().replace("winsorize =", "winsorise =");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.toml");
    std::fs::write(&path, example).unwrap();
    let err = Job::from_file(&path).unwrap_err().to_string();
    assert!(
        err.contains("winsorise") && err.contains("winsorize"),
        "{err}"
    );
}
