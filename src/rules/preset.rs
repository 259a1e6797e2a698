//! Rule presets are data files (TOML): the segments, their one-line descriptions and suggested
//! actions, and for R×F maps the score ranges of each segment.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub name: String,
    pub title: String,
    #[serde(rename = "segment")]
    pub segments: Vec<SegmentSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSpec {
    pub name: String,
    /// Inclusive R score range (R×F maps only).
    pub r: Option<[u8; 2]>,
    /// Inclusive F score range (R×F maps only).
    pub f: Option<[u8; 2]>,
    pub description: String,
    pub action: String,
}

const BUILT_IN: &[(&str, &str)] = &[
    ("classic-rfm", include_str!("presets/classic-rfm.toml")),
    ("lifecycle", include_str!("presets/lifecycle.toml")),
];

pub fn built_in_names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|(name, _)| *name).collect()
}

/// A built-in preset by name, or a preset file given by path.
pub fn load(name_or_path: &str, base_dir: &std::path::Path) -> Result<Preset> {
    let (origin, text) = match BUILT_IN.iter().find(|(n, _)| *n == name_or_path) {
        Some((_, text)) => (name_or_path.to_string(), text.to_string()),
        None => {
            let path = base_dir.join(name_or_path);
            let text = std::fs::read_to_string(&path).map_err(|_| {
                Error::Data(format!(
                    "[rules] presets: '{name_or_path}' is neither a built-in preset ({}) nor a readable file",
                    built_in_names().join(", ")
                ))
            })?;
            (path.display().to_string(), text)
        }
    };
    let preset: Preset =
        toml::from_str(&text).map_err(|e| Error::Data(format!("rule preset {origin}: {e}")))?;
    Ok(preset)
}

impl Preset {
    pub fn is_rf_map(&self) -> bool {
        self.segments.iter().any(|s| s.r.is_some() || s.f.is_some())
    }

    /// The segment of every (R, F) cell, `grid[r-1][f-1]`; an error unless each of the 25 cells
    /// falls in exactly one segment.
    pub fn rf_grid(&self) -> Result<[[String; 5]; 5]> {
        let mut grid: [[Option<String>; 5]; 5] = Default::default();
        for seg in &self.segments {
            let (Some([r0, r1]), Some([f0, f1])) = (seg.r, seg.f) else {
                return Err(Error::Data(format!(
                    "rule preset {}: segment '{}' needs both r and f ranges",
                    self.name, seg.name
                )));
            };
            for r in r0..=r1 {
                for f in f0..=f1 {
                    if !(1..=5).contains(&r) || !(1..=5).contains(&f) {
                        return Err(Error::Data(format!(
                            "rule preset {}: segment '{}' has a score outside 1–5",
                            self.name, seg.name
                        )));
                    }
                    let cell = &mut grid[r as usize - 1][f as usize - 1];
                    if let Some(other) = cell {
                        return Err(Error::Data(format!(
                            "rule preset {}: cell R{r} F{f} is in both '{other}' and '{}'",
                            self.name, seg.name
                        )));
                    }
                    *cell = Some(seg.name.clone());
                }
            }
        }
        let mut out: [[String; 5]; 5] = Default::default();
        for r in 0..5 {
            for f in 0..5 {
                out[r][f] = grid[r][f].clone().ok_or_else(|| {
                    Error::Data(format!(
                        "rule preset {}: cell R{} F{} belongs to no segment",
                        self.name,
                        r + 1,
                        f + 1
                    ))
                })?;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_map_covers_every_cell_once() {
        let preset = load("classic-rfm", std::path::Path::new(".")).unwrap();
        let grid = preset.rf_grid().unwrap();
        assert_eq!(grid[4][4], "Champions");
        assert_eq!(grid[0][0], "Hibernating");
        assert_eq!(grid[2][2], "Need Attention");
        assert_eq!(grid[1][4], "Can't Lose Them");
    }
}
