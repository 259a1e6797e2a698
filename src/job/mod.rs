//! The job file (TOML): which files to read, how their columns map onto roles, and the options of
//! every stage. Unknown keys are errors that suggest the nearest valid key.
//!
//! A job is parsed, not merely read: [`JobSpec`] is the file as written (what serde fills), and
//! [`Job`] is a spec whose every section passed its checks. Only `Job` reaches the stages, and
//! the only ways to make one check it, so nothing past this module meets an unchecked value.

mod auto;
mod inputs;
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
}

impl Deref for Job {
    type Target = JobSpec;

    fn deref(&self) -> &JobSpec {
        &self.spec
    }
}

impl Job {
    /// Checks every section of `spec`; relative input paths will resolve against `base_dir`.
    pub fn new(spec: JobSpec, base_dir: impl Into<PathBuf>) -> std::result::Result<Job, JobError> {
        let as_of = spec.validate()?;
        Ok(Job {
            spec,
            as_of,
            base_dir: base_dir.into(),
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
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::job(path, JobError::Unreadable(e.to_string())))?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Job::from_toml(&text, base_dir).map_err(|source| Error::job(path, source))
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
        if self.primary == Primary::Gmm && !self.discovery.gmm {
            return Err(JobError::Invalid {
                section: String::new(),
                message:
                    "primary = \"gmm\" needs the Gaussian mixture: set `gmm = true` under [discovery]"
                        .into(),
            });
        }
        Ok(as_of)
    }

    fn validate_name(&self) -> std::result::Result<(), JobError> {
        let name = &self.name;
        if name.trim().is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(JobError::Invalid {
                section: String::new(),
                message: format!(
                    "name = \"{name}\": use a plain folder name (no slashes, not starting with a dot)"
                ),
            });
        }
        Ok(())
    }

    fn as_of_date(&self) -> std::result::Result<Option<NaiveDate>, JobError> {
        let Some(text) = self.as_of.as_deref() else {
            return Ok(None);
        };
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| JobError::Invalid {
                section: String::new(),
                message: format!("as_of = \"{text}\": expected a date like 2025-12-31"),
            })
    }
}
