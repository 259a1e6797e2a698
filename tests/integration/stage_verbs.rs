//! The stage verbs for scripts: `features → rules → cluster → report` through Parquet files
//! writes the same assignments and segments, byte for byte, as `run`; each verb refuses a file of
//! the wrong stage, a file without segmenta's metadata, a dropped column and a blank cell with
//! the file, column and row; rows filtered between stages (metadata kept) are respected; `--job`
//! changes a later stage's settings; and every verb's `--help` shows an example.
//!
//! The chain runs on a generated data set; the `--job` case changes k for the cluster stage.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::util::{self, DemoJob, Outcome};

const CUSTOMERS: usize = 2_500;

fn ok(args: &[&str], cwd: &Path) -> Outcome {
    let out = util::cli(cwd, args);
    assert_eq!(out.code, 0, "segmenta {args:?} failed: {}", out.stderr);
    out
}

/// The error of a run that must fail with exit code 1 (bad input).
fn refused(args: &[&str], cwd: &Path) -> String {
    let out = util::cli(cwd, args);
    assert_eq!(out.code, 1, "segmenta {args:?} should fail with 1");
    out.stderr
}

/// Generated tables and the demo job over them with a fixed k and a small mixture, so the stage
/// files carry every kind of column (scores, rule sets, clusters, probabilities).
fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let job = DemoJob::bundled()
        .fixed_k(4)
        .edit("gmm_sample = 5000", "gmm_sample = 1000\ngmm_k = 3")
        .write_over(&util::population(0..CUSTOMERS, 5), &dir.path().join("data"));
    (dir, job)
}

fn chain(work: &Path, job: &Path) {
    let job = job.to_str().unwrap();
    ok(&["-q", "features", job, "-o", "features.parquet"], work);
    ok(
        &["-q", "rules", "features.parquet", "-o", "rules.parquet"],
        work,
    );
    ok(
        &["-q", "cluster", "rules.parquet", "-o", "clusters.parquet"],
        work,
    );
}

fn report_dir(root: &Path) -> PathBuf {
    let job = root.join("demo");
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&job)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(runs.len(), 1, "one report under {}", job.display());
    runs.pop().unwrap()
}

#[test]
fn the_chain_writes_the_same_assignments_as_run() {
    let (dir, job) = workspace();
    let work = dir.path();
    chain(work, &job);
    ok(
        &["-q", "report", "clusters.parquet", "--output", "staged"],
        work,
    );
    ok(
        &["-q", "run", job.to_str().unwrap(), "--output", "whole"],
        work,
    );
    let staged = report_dir(&work.join("staged"));
    let whole = report_dir(&work.join("whole"));
    for file in ["assignments.csv", "segments.csv"] {
        let a = std::fs::read(whole.join(file)).unwrap();
        let b = std::fs::read(staged.join(file)).unwrap();
        assert!(a == b, "{file} differs between run and the stage chain");
    }
    for file in [
        "index.html",
        "model.json",
        "summary.json",
        "run.log",
        "charts",
    ] {
        assert!(staged.join(file).exists(), "the staged report lacks {file}");
    }
    let log = std::fs::read_to_string(staged.join("run.log")).unwrap();
    for stage in [
        "load", "features", "rules", "k-means", "dbscan", "gmm", "label",
    ] {
        assert!(
            log.lines().any(|l| l.trim_start().starts_with(stage)),
            "run.log misses the {stage} timing:\n{log}"
        );
    }

    let frame = read_frame(&work.join("clusters.parquet"));
    assert_eq!(frame.height(), CUSTOMERS);
    for column in [
        "customer_id",
        "recency_days",
        "fact_monetary",
        "r_score",
        "rfm_group",
        "lifecycle_stage",
        "kmeans_cluster",
        "dbscan_cluster",
        "gmm_component",
        "gmm_probability_3",
    ] {
        assert!(
            frame.column(column).is_ok(),
            "clusters.parquet lacks {column}"
        );
    }
}

fn read_frame(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

/// The file's segmenta metadata, as a script with pyarrow or polars would carry it over.
fn metadata(path: &Path) -> String {
    let mut reader = ParquetReader::new(std::fs::File::open(path).unwrap());
    let metadata = reader.get_metadata().unwrap().clone();
    metadata
        .key_value_metadata()
        .iter()
        .flatten()
        .find(|kv| kv.key == "segmenta")
        .and_then(|kv| kv.value.clone())
        .unwrap()
}

/// Writes `frame` with the metadata of `like`: an analyst's edit between stages.
fn write_edited(mut frame: DataFrame, like: &Path, to: &Path) {
    let kv = KeyValueMetadata::from_static(vec![("segmenta".into(), metadata(like))]);
    ParquetWriter::new(std::fs::File::create(to).unwrap())
        .with_key_value_metadata(Some(kv))
        .finish(&mut frame)
        .unwrap();
}

#[test]
fn each_verb_refuses_what_it_cannot_read() {
    let (dir, job) = workspace();
    let work = dir.path();
    chain(work, &job);

    let wrong = refused(&["report", "rules.parquet"], work);
    assert!(
        wrong.contains("rules.parquet") && wrong.contains("`segmenta cluster`"),
        "{wrong}"
    );
    let early = refused(&["cluster", "features.parquet", "-o", "x.parquet"], work);
    assert!(early.contains("`segmenta rules`"), "{early}");

    let raw = job.parent().unwrap().join("customers.parquet");
    let foreign = refused(&["rules", raw.to_str().unwrap(), "-o", "x.parquet"], work);
    assert!(
        foreign.contains("customers.parquet") && foreign.contains("no 'segmenta' metadata"),
        "{foreign}"
    );

    let rules = work.join("rules.parquet");
    let without = read_frame(&rules).drop("lifecycle_stage").unwrap();
    write_edited(without, &rules, &work.join("dropped.parquet"));
    let missing = refused(&["cluster", "dropped.parquet", "-o", "x.parquet"], work);
    assert!(
        missing.contains("dropped.parquet") && missing.contains("'lifecycle_stage' is missing"),
        "{missing}"
    );

    let mut blanked = read_frame(&rules);
    let mut groups: Vec<Option<String>> = blanked
        .column("rfm_group")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect();
    groups[41] = None;
    blanked
        .replace("rfm_group", Column::new("rfm_group".into(), groups))
        .unwrap();
    write_edited(blanked, &rules, &work.join("blank.parquet"));
    let blank = refused(&["cluster", "blank.parquet", "-o", "x.parquet"], work);
    assert!(
        blank.contains("blank.parquet, column 'rfm_group', data row 42"),
        "{blank}"
    );
    assert!(
        !work.join("x.parquet").exists(),
        "a refused stage must not write its output"
    );
}

#[test]
fn rows_filtered_between_stages_and_another_job_are_respected() {
    let (dir, job) = workspace();
    let work = dir.path();
    chain(work, &job);

    // Keep the customers with at least one purchase: the analyst's filter between stages.
    let rules = work.join("rules.parquet");
    let frame = read_frame(&rules);
    let buyers = frame
        .clone()
        .lazy()
        .filter(col("fact_frequency").gt(lit(0.0)))
        .collect()
        .unwrap();
    let kept = buyers.height();
    assert!(kept > 0 && kept < frame.height());
    write_edited(buyers, &rules, &work.join("buyers.parquet"));

    let k3 = job.with_file_name("k3.toml");
    let text = std::fs::read_to_string(&job)
        .unwrap()
        .replace("[discovery]\nk = 4", "[discovery]\nk = 3");
    std::fs::write(&k3, text).unwrap();
    ok(
        &[
            "-q",
            "cluster",
            "buyers.parquet",
            "-o",
            "buyers-k3.parquet",
            "--job",
            k3.to_str().unwrap(),
        ],
        work,
    );
    ok(
        &["-q", "report", "buyers-k3.parquet", "--output", "out"],
        work,
    );
    let folder = report_dir(&work.join("out"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["kmeans"]["k"], 3, "the --job file's k is used");
    let assignments = std::fs::read_to_string(folder.join("assignments.csv")).unwrap();
    assert_eq!(
        assignments.lines().count(),
        kept + 1,
        "one row per kept customer"
    );
}

#[test]
fn every_stage_verb_explains_itself_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for verb in ["features", "rules", "cluster", "report"] {
        let out = ok(&[verb, "--help"], dir.path());
        let help = out.stdout;
        assert!(
            help.contains("Example") && help.contains(&format!("segmenta {verb} ")),
            "`segmenta {verb} --help` shows no example:\n{help}"
        );
    }
}
