//! The job file (TOML): which files to read, how their columns map onto roles, and the options of
//! every stage. Unknown keys are errors that suggest the nearest valid key.
//!
//! A job is parsed, not merely read: [`JobSpec`] is the file as written (what serde fills), and
//! [`Job`] is a spec whose every section passed its checks. Only `Job` reaches the stages, and
//! the only ways to make one check it, so nothing past this module meets an unchecked value.

mod auto;
mod inputs;
mod lifetime;
mod options;
mod suggest;

use std::collections::BTreeMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use crate::error::JobError;
use crate::error::{Error, Result};
pub use auto::Auto;
pub use inputs::*;
pub use lifetime::{LifetimeModel, LifetimeOptions, TimeUnit, LIFETIME_COLUMNS};
pub use options::*;
pub use suggest::suggest;

/// A job file as written. Build a [`Job`] from it with [`Job::new`] to use it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    pub name: String,
    #[serde(default)]
    pub as_of: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub primary: Primary,
    /// Raw tables an input's `query` may read (`[tables.<name>]`), e.g. the orders, items and
    /// customers of an order system exported as several files.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tables: BTreeMap<String, TableInput>,
    pub inputs: Inputs,
    #[serde(default)]
    pub features: FeatureOptions,
    #[serde(default)]
    pub rules: RuleOptions,
    #[serde(default)]
    pub discovery: DiscoveryOptions,
    /// The customer-base model; off when the section is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<LifetimeOptions>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Primary {
    #[default]
    Kmeans,
    Dbscan,
    /// The Gaussian mixture's most probable component; needs `[discovery] gmm = true`.
    Gmm,
}

/// A checked job: its spec (read through `Deref`), its as-of date and the folder its relative
/// paths resolve against.
#[derive(Debug, Clone)]
pub struct Job {
    spec: JobSpec,
    as_of: Option<NaiveDate>,
    base_dir: PathBuf,
    /// The job file it was read from, for messages; None for a job made in code.
    path: Option<PathBuf>,
}

impl Deref for Job {
    type Target = JobSpec;

    fn deref(&self) -> &JobSpec {
        &self.spec
    }
}

impl Job {
    /// Whether this job runs DBSCAN: asked for, or the method whose segments are exported.
    pub fn runs_dbscan(&self) -> bool {
        let d = &self.discovery;
        d.dbscan.unwrap_or(
            self.primary == Primary::Dbscan
                || d.dbscan_eps.fixed().is_some()
                || d.dbscan_min_points.is_some(),
        )
    }

    /// Checks every section of `spec`; relative input paths will resolve against `base_dir`.
    pub fn new(spec: JobSpec, base_dir: impl Into<PathBuf>) -> std::result::Result<Job, JobError> {
        let as_of = spec.validate()?;
        Ok(Job {
            spec,
            as_of,
            base_dir: base_dir.into(),
            path: None,
        })
    }

    pub fn from_toml(
        text: &str,
        base_dir: impl Into<PathBuf>,
    ) -> std::result::Result<Job, JobError> {
        Job::new(JobSpec::from_toml(text)?, base_dir)
    }

    /// Reads, parses and checks a job file; errors name the file.
    pub fn from_file(path: &Path) -> Result<Job> {
        Job::from_file_text(path, &Job::read_text(path)?)
    }

    /// A job file's text, unparsed (the stage verbs keep it in their files).
    pub fn read_text(path: &Path) -> Result<String> {
        std::fs::read_to_string(path)
            .map_err(|e| Error::job(path, JobError::Unreadable(e.to_string())))
    }

    /// Parses and checks `text`, read from the job file at `path`; errors name the file.
    pub fn from_file_text(path: &Path, text: &str) -> Result<Job> {
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let job = Job::from_toml(text, base_dir).map_err(|source| Error::job(path, source))?;
        Ok(Job {
            path: Some(path.to_path_buf()),
            ..job
        })
    }

    /// The job file it was read from; None for a job made in code.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The same job with its relative paths resolving against another folder.
    pub fn with_base_dir(self, base_dir: impl Into<PathBuf>) -> Job {
        Job {
            base_dir: base_dir.into(),
            ..self
        }
    }

    /// The spec back, to change and check again with [`Job::new`].
    pub fn into_spec(self) -> JobSpec {
        self.spec
    }

    /// The job's `as_of` date; the command line's `--as-of` takes precedence over it.
    pub fn as_of(&self) -> Option<NaiveDate> {
        self.as_of
    }

    /// Folder of the job file: relative input paths resolve against it.
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }
}

impl JobSpec {
    pub fn from_toml(text: &str) -> std::result::Result<JobSpec, JobError> {
        toml::from_str::<JobSpec>(text)
            .map_err(|e| JobError::Syntax(suggest::with_suggestion(&e.to_string())))
    }

    /// Each section's checks, then the keys that need each other; the parsed as-of date.
    fn validate(&self) -> std::result::Result<Option<NaiveDate>, JobError> {
        self.validate_name()?;
        let as_of = self.as_of_date()?;
        self.inputs.validate(&self.tables)?;
        self.features.validate()?;
        self.rules.validate()?;
        self.discovery.validate()?;
        if let Some(lifetime) = &self.lifetime {
            lifetime.validate()?;
        }
        lifetime::validate_include(&self.features.include, self.lifetime.as_ref())?;
        if self.primary == Primary::Dbscan && self.discovery.dbscan == Some(false) {
            return Err(JobError::invalid(
                "",
                "primary = \"dbscan\" needs DBSCAN: remove `dbscan = false` under [discovery]",
            ));
        }
        if self.primary == Primary::Gmm && !self.discovery.gmm {
            return Err(JobError::invalid(
                "",
                "primary = \"gmm\" needs the Gaussian mixture: set `gmm = true` under [discovery]",
            ));
        }
        Ok(as_of)
    }

    fn validate_name(&self) -> std::result::Result<(), JobError> {
        let name = &self.name;
        if name.trim().is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(JobError::invalid(
                "",
                format!(
                    "name = \"{name}\": use a plain folder name (no slashes, not starting with a dot)"
                ),
            ));
        }
        Ok(())
    }

    fn as_of_date(&self) -> std::result::Result<Option<NaiveDate>, JobError> {
        let Some(text) = self.as_of.as_deref() else {
            return Ok(None);
        };
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                JobError::invalid(
                    "",
                    format!("as_of = \"{text}\": expected a date like 2025-12-31"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALLEST: &str = r#"
name = "t"
[inputs.transactions]
path = "tx.csv"
customer_id = "c"
timestamp = "t"
amount = "a"
"#;

    fn parse(extra: &str) -> std::result::Result<Job, JobError> {
        Job::from_toml(&format!("{SMALLEST}{extra}"), ".")
    }

    #[test]
    fn a_misspelt_auto_fails_when_the_file_is_parsed() {
        let err = parse("[discovery]\ndbscan_eps = \"ato\"\n").unwrap_err();
        assert!(matches!(err, JobError::Syntax(_)), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("dbscan_eps"), "{message}");
        assert!(message.contains("did you mean `auto`"), "{message}");
    }

    #[test]
    fn each_section_reports_its_own_key() {
        let cases = [
            (
                "[discovery]\nk_range = [1, 3]\n",
                "[discovery] k_range = [1, 3]",
            ),
            ("[discovery]\nk = 0\n", "[discovery] k = 0"),
            (
                "[discovery]\ndbscan_eps = -1.0\n",
                "[discovery] dbscan_eps = -1",
            ),
            (
                "[features]\nwinsorize = [0.5, 0.1]\n",
                "[features] winsorize",
            ),
            ("[features.weights]\nrfn = 1.0\n", "did you mean `rfm`"),
            ("[rules.scoring]\nbins = 12\n", "[rules.scoring] bins = 12"),
            ("as_of = \"31/12/2025\"\n", "as_of = \"31/12/2025\""),
        ];
        for (extra, expected) in cases {
            // Top-level keys must precede the tables of the smallest job.
            let text = if extra.starts_with('[') {
                format!("{SMALLEST}{extra}")
            } else {
                format!("{extra}{SMALLEST}")
            };
            let err = Job::from_toml(&text, ".").unwrap_err();
            assert!(matches!(err, JobError::Invalid { .. }), "{extra}: {err:?}");
            assert!(err.to_string().contains(expected), "{extra}: {err}");
        }
    }

    #[test]
    fn a_job_changed_in_code_is_checked_again() {
        let mut spec = parse("").unwrap().into_spec();
        spec.discovery.gmm_k = Auto::Fixed(0);
        let err = Job::new(spec, ".").unwrap_err();
        assert!(err.to_string().contains("gmm_k = 0"), "{err}");
    }

    #[test]
    fn the_as_of_date_is_parsed_once() {
        let job = Job::from_toml(&format!("as_of = \"2025-12-01\"\n{SMALLEST}"), ".").unwrap();
        assert_eq!(job.as_of(), NaiveDate::from_ymd_opt(2025, 12, 1));
    }
}
