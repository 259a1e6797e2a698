//! Rule presets are data files (TOML), one per rule set; see `presets/*.toml` and docs/presets.md, "Preset file format".
//!
//! A preset is one of two kinds:
//! - a **score map**: every segment lists boxes of R, F (and optionally M) score ranges, and every
//!   cell of the score grid must fall in exactly one segment (checked on load);
//! - **conditions**: segments in order, each with a `when` condition (first match wins) over the
//!   rule table's columns; the last segment has no `when` and catches the rest. Numbers that an
//!   analyst may want to change live in `[thresholds]`, are used by name in the conditions, and
//!   can be overridden by the job in `[rules.<preset name>]`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub name: String,
    pub title: String,
    /// Score maps: the number of score bins the map is written for.
    #[serde(default = "default_bins")]
    pub bins: u8,
    /// Conditions: numbers used by name in `when`, overridable in `[rules.<name>]`.
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    /// Rule columns without which the set means nothing ("recency_days", or alternatives as
    /// "recency_days or days_since_event"); a job whose inputs cannot give one skips the set.
    /// Score maps need recency and frequency (and monetary when a box uses M) without saying so.
    #[serde(default)]
    pub needs: Vec<String>,
    #[serde(rename = "segment")]
    pub segments: Vec<SegmentSpec>,
}

fn default_bins() -> u8 {
    5
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSpec {
    pub name: String,
    pub description: String,
    pub action: String,
    /// Shorthand for one box: inclusive score ranges.
    #[serde(default)]
    pub r: Option<[u8; 2]>,
    #[serde(default)]
    pub f: Option<[u8; 2]>,
    #[serde(default)]
    pub m: Option<[u8; 2]>,
    /// More boxes of the same segment.
    #[serde(default)]
    pub cells: Vec<ScoreBox>,
    /// Conditions presets: the SQL condition; absent on the last (default) segment.
    #[serde(default)]
    pub when: Option<String>,
}

/// Inclusive score ranges; a missing range means every score.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreBox {
    pub r: Option<[u8; 2]>,
    pub f: Option<[u8; 2]>,
    #[serde(default)]
    pub m: Option<[u8; 2]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetKind {
    ScoreMap,
    Conditions,
}

const BUILT_IN: &[(&str, &str)] = &[
    ("classic-rfm", include_str!("presets/classic-rfm.toml")),
    (
        "classic-rfm-11",
        include_str!("presets/classic-rfm-11.toml"),
    ),
    ("lifecycle", include_str!("presets/lifecycle.toml")),
    ("value-tiers", include_str!("presets/value-tiers.toml")),
    ("temperature", include_str!("presets/temperature.toml")),
];

pub fn built_in_names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|(name, _)| *name).collect()
}

/// A built-in preset by name, or a preset file given by path (relative to the job's folder).
pub fn load(name_or_path: &str, base_dir: &Path) -> Result<Preset> {
    let (origin, text) = match BUILT_IN.iter().find(|(n, _)| *n == name_or_path) {
        Some((_, text)) => (format!("rule preset {name_or_path}"), text.to_string()),
        None => {
            let path = base_dir.join(name_or_path);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::data(format!(
                    "[rules] presets: '{name_or_path}' is neither a built-in preset ({}{}) nor a readable file ({e})",
                    built_in_names().join(", "),
                    crate::job::suggest(name_or_path, &built_in_names()),
                ))
            })?;
            (format!("rule preset file {}", path.display()), text)
        }
    };
    let preset: Preset =
        toml::from_str(&text).map_err(|e| Error::data(format!("{origin}: {e}")))?;
    preset
        .check()
        .map_err(|message| Error::data(format!("{origin}: {message}")))?;
    Ok(preset)
}

impl Preset {
    /// The columns the set needs, each a list of alternatives (one of them is enough).
    pub fn needs(&self) -> Vec<Vec<String>> {
        let mut needs: Vec<String> = self.needs.clone();
        if self.kind() == PresetKind::ScoreMap && needs.is_empty() {
            needs.extend(["recency_days".to_string(), "frequency".to_string()]);
            let uses_m = self
                .segments
                .iter()
                .any(|s| s.m.is_some() || s.cells.iter().any(|c| c.m.is_some()));
            if uses_m {
                needs.push("monetary".into());
            }
        }
        needs
            .iter()
            .map(|n| n.split(" or ").map(|a| a.trim().to_string()).collect())
            .collect()
    }

    pub fn kind(&self) -> PresetKind {
        if self.segments.iter().any(|s| s.when.is_some()) {
            PresetKind::Conditions
        } else {
            PresetKind::ScoreMap
        }
    }

    /// The preset's thresholds with the job's overrides applied; unknown override keys are an
    /// error that names the preset's own keys.
    pub fn thresholds_with(
        &self,
        overrides: Option<&toml::Value>,
    ) -> std::result::Result<BTreeMap<String, f64>, String> {
        let mut values = self.thresholds.clone();
        let Some(overrides) = overrides else {
            return Ok(values);
        };
        let table = overrides.as_table().ok_or_else(|| {
            format!(
                "[rules] {} must be a table of thresholds, e.g. [rules.{}]",
                self.name, self.name
            )
        })?;
        let keys: Vec<&str> = self.thresholds.keys().map(String::as_str).collect();
        for (key, value) in table {
            if !self.thresholds.contains_key(key) {
                return Err(format!(
                    "[rules.{}] unknown key `{key}`{}; its thresholds are: {}",
                    self.name,
                    crate::job::suggest(key, &keys),
                    if keys.is_empty() {
                        "none".to_string()
                    } else {
                        keys.join(", ")
                    }
                ));
            }
            let number = value
                .as_float()
                .or_else(|| value.as_integer().map(|i| i as f64))
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("[rules.{}] {key} = {value}: need a number", self.name))?;
            values.insert(key.clone(), number);
        }
        Ok(values)
    }

    /// The structural checks every preset file must pass.
    fn check(&self) -> std::result::Result<(), String> {
        if self.segments.is_empty() {
            return Err("needs at least one [[segment]]".into());
        }
        let mut seen = std::collections::HashSet::new();
        for s in &self.segments {
            if !seen.insert(s.name.as_str()) {
                return Err(format!("segment '{}' is listed twice", s.name));
            }
        }
        match self.kind() {
            PresetKind::ScoreMap => ScoreMap::new(self).map(|_| ()),
            PresetKind::Conditions => self.check_conditions(),
        }
    }

    fn check_conditions(&self) -> std::result::Result<(), String> {
        let last = self.segments.len() - 1;
        for (i, s) in self.segments.iter().enumerate() {
            if s.r.is_some() || s.f.is_some() || s.m.is_some() || !s.cells.is_empty() {
                return Err(format!(
                    "segment '{}' has score ranges, but this preset uses `when` conditions; a preset is either a score map or conditions",
                    s.name
                ));
            }
            match (&s.when, i == last) {
                (None, false) => {
                    return Err(format!(
                        "segment '{}' has no `when`; only the last segment may leave it out (it catches everyone else)",
                        s.name
                    ))
                }
                (Some(_), true) => {
                    return Err(format!(
                        "the last segment '{}' must have no `when`: it catches everyone no condition matched",
                        s.name
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A validated score map: the segment of every (R, F, M) score cell.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreMap {
    pub bins: u8,
    /// Whether any segment is split by M.
    pub uses_m: bool,
    /// Segment index per cell, indexed `[(r-1) * bins + (f-1)] * bins + (m-1)`.
    cells: Vec<usize>,
    pub names: Vec<String>,
}

impl ScoreMap {
    /// Checks that every cell falls in exactly one segment.
    pub fn new(preset: &Preset) -> std::result::Result<ScoreMap, String> {
        let bins = preset.bins;
        if !(2..=9).contains(&bins) {
            return Err(format!("bins = {bins}: need 2 to 9"));
        }
        let n = bins as usize;
        let uses_m = preset
            .segments
            .iter()
            .any(|s| s.m.is_some() || s.cells.iter().any(|c| c.m.is_some()));
        let mut cells: Vec<Option<usize>> = vec![None; n * n * n];
        for (index, segment) in preset.segments.iter().enumerate() {
            let shorthand = (segment.r.is_some() || segment.f.is_some() || segment.m.is_some())
                .then_some(ScoreBox {
                    r: segment.r,
                    f: segment.f,
                    m: segment.m,
                });
            let boxes: Vec<ScoreBox> = shorthand.into_iter().chain(segment.cells.clone()).collect();
            if boxes.is_empty() {
                return Err(format!(
                    "segment '{}' has neither score ranges (r, f, m or cells) nor a `when` condition",
                    segment.name
                ));
            }
            for b in boxes {
                fill_box(&mut cells, &b, index, preset, bins)?;
            }
        }
        let mut out = Vec::with_capacity(cells.len());
        for (i, cell) in cells.iter().enumerate() {
            let (r, f, m) = (i / (n * n) + 1, (i / n) % n + 1, i % n + 1);
            let Some(segment) = cell else {
                let where_ = if uses_m {
                    format!("R{r} F{f} M{m}")
                } else {
                    format!("R{r} F{f}")
                };
                return Err(format!("cell {where_} belongs to no segment"));
            };
            out.push(*segment);
        }
        Ok(ScoreMap {
            bins,
            uses_m,
            cells: out,
            names: preset.segments.iter().map(|s| s.name.clone()).collect(),
        })
    }

    /// The segment of a scored customer.
    pub fn segment(&self, r: u8, f: u8, m: u8) -> &str {
        let n = self.bins as usize;
        let i = ((r as usize - 1) * n + (f as usize - 1)) * n + (m as usize - 1);
        &self.names[self.cells[i]]
    }

    /// The name of an R×F cell; a cell split by M lists its segments, e.g. "Hibernating / Lost".
    pub fn rf_cell_name(&self, r: u8, f: u8) -> String {
        let n = self.bins as usize;
        let first = ((r as usize - 1) * n + (f as usize - 1)) * n;
        // In the preset's order, so the name reads the same in every cell it spans.
        let mut segments: Vec<usize> = self.cells[first..first + n].to_vec();
        segments.sort_unstable();
        segments.dedup();
        let names: Vec<&str> = segments.iter().map(|&i| self.names[i].as_str()).collect();
        names.join(" / ")
    }

    /// A short definition of a segment's cells, e.g. "R 5, F 4–5" (for the report).
    pub fn definition(segment: &SegmentSpec) -> String {
        let range = |letter: &str, r: Option<[u8; 2]>| match r {
            Some([a, b]) if a == b => Some(format!("{letter} {a}")),
            Some([a, b]) => Some(format!("{letter} {a}–{b}")),
            None => None,
        };
        let describe = |b: &ScoreBox| {
            [range("R", b.r), range("F", b.f), range("M", b.m)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
        };
        let shorthand = ScoreBox {
            r: segment.r,
            f: segment.f,
            m: segment.m,
        };
        let mut parts = Vec::new();
        if segment.r.is_some() || segment.f.is_some() || segment.m.is_some() {
            parts.push(describe(&shorthand));
        }
        parts.extend(segment.cells.iter().map(describe));
        parts.join("; or ")
    }
}

fn fill_box(
    cells: &mut [Option<usize>],
    b: &ScoreBox,
    index: usize,
    preset: &Preset,
    bins: u8,
) -> std::result::Result<(), String> {
    let name = &preset.segments[index].name;
    let n = bins as usize;
    let range = |r: Option<[u8; 2]>, letter: &str| -> std::result::Result<(u8, u8), String> {
        let [lo, hi] = r.unwrap_or([1, bins]);
        if lo < 1 || hi > bins || lo > hi {
            return Err(format!(
                "segment '{name}': {letter} = [{lo}, {hi}] is not a range within 1–{bins}"
            ));
        }
        Ok((lo, hi))
    };
    if b.r.is_none() || b.f.is_none() {
        return Err(format!(
            "segment '{name}': every box needs both an r and an f range"
        ));
    }
    let (r0, r1) = range(b.r, "r")?;
    let (f0, f1) = range(b.f, "f")?;
    let (m0, m1) = range(b.m, "m")?;
    for r in r0..=r1 {
        for f in f0..=f1 {
            for m in m0..=m1 {
                let i = ((r as usize - 1) * n + (f as usize - 1)) * n + (m as usize - 1);
                if let Some(other) = cells[i] {
                    return Err(format!(
                        "cell R{r} F{f} M{m} is in both '{}' and '{name}'",
                        preset.segments[other].name
                    ));
                }
                cells[i] = Some(index);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built_in(name: &str) -> Preset {
        load(name, Path::new(".")).unwrap()
    }

    #[test]
    fn every_shipped_preset_loads() {
        for name in built_in_names() {
            let preset = built_in(name);
            assert_eq!(preset.name, name);
            for s in &preset.segments {
                assert!(
                    !s.description.is_empty() && !s.action.is_empty(),
                    "{name}: {}",
                    s.name
                );
            }
        }
    }

    #[test]
    fn every_cell_of_every_shipped_map_falls_in_exactly_one_group() {
        let maps: Vec<Preset> = built_in_names()
            .into_iter()
            .map(built_in)
            .filter(|p| p.kind() == PresetKind::ScoreMap)
            .collect();
        assert_eq!(maps.len(), 2);
        for preset in maps {
            // ScoreMap::new rejects gaps and overlaps; count cells per segment independently too.
            let map = ScoreMap::new(&preset).unwrap();
            let mut covered = 0;
            for r in 1..=5 {
                for f in 1..=5 {
                    for m in 1..=5 {
                        let hits = preset
                            .segments
                            .iter()
                            .filter(|s| {
                                let inside = |range: Option<[u8; 2]>, v: u8| {
                                    range.is_none_or(|[a, b]| (a..=b).contains(&v))
                                };
                                let shorthand = s.r.is_some()
                                    && inside(s.r, r)
                                    && inside(s.f, f)
                                    && inside(s.m, m);
                                shorthand
                                    || s.cells
                                        .iter()
                                        .any(|c| inside(c.r, r) && inside(c.f, f) && inside(c.m, m))
                            })
                            .count();
                        assert_eq!(hits, 1, "{}: R{r} F{f} M{m}", preset.name);
                        covered += 1;
                        assert!(!map.segment(r, f, m).is_empty());
                    }
                }
            }
            assert_eq!(covered, 125);
        }
    }

    #[test]
    fn classic_map_follows_the_spec_table() {
        let map = ScoreMap::new(&built_in("classic-rfm")).unwrap();
        let expect = [
            ((5, 4), "Champions"),
            ((5, 5), "Champions"),
            ((3, 4), "Loyal Customers"),
            ((4, 5), "Loyal Customers"),
            ((4, 2), "Potential Loyalists"),
            ((5, 3), "Potential Loyalists"),
            ((5, 1), "New Customers"),
            ((4, 1), "Promising"),
            ((3, 3), "Need Attention"),
            ((3, 1), "About to Sleep"),
            ((3, 2), "About to Sleep"),
            ((1, 3), "At Risk"),
            ((2, 4), "At Risk"),
            ((1, 5), "Can't Lose Them"),
            ((2, 5), "Can't Lose Them"),
            ((1, 1), "Hibernating"),
            ((2, 2), "Hibernating"),
        ];
        for ((r, f), name) in expect {
            for m in 1..=5 {
                assert_eq!(map.segment(r, f, m), name, "R{r} F{f} M{m}");
            }
        }
        assert!(!map.uses_m);
    }

    #[test]
    fn eleven_group_map_splits_hibernating_by_low_m_at_r1() {
        let map = ScoreMap::new(&built_in("classic-rfm-11")).unwrap();
        assert!(map.uses_m);
        assert_eq!(map.segment(1, 1, 1), "Lost");
        assert_eq!(map.segment(1, 2, 2), "Lost");
        assert_eq!(map.segment(1, 2, 3), "Hibernating");
        assert_eq!(map.segment(2, 1, 1), "Hibernating");
        assert_eq!(map.segment(1, 3, 1), "At Risk");
        assert_eq!(map.rf_cell_name(1, 1), "Hibernating / Lost");
        assert_eq!(map.rf_cell_name(2, 1), "Hibernating");
    }

    fn parse(text: &str) -> std::result::Result<(), String> {
        let preset: Preset = toml::from_str(text).map_err(|e| e.to_string())?;
        preset.check()
    }

    #[test]
    fn broken_maps_are_rejected_with_the_cell() {
        let head = "name = \"x\"\ntitle = \"X\"\nbins = 2\n";
        let seg = |name: &str, r: &str, f: &str| {
            format!("[[segment]]\nname = \"{name}\"\ndescription = \"d\"\naction = \"a\"\nr = {r}\nf = {f}\n")
        };
        let gap = format!(
            "{head}{}{}",
            seg("A", "[1, 1]", "[1, 2]"),
            seg("B", "[2, 2]", "[1, 1]")
        );
        assert_eq!(parse(&gap).unwrap_err(), "cell R2 F2 belongs to no segment");
        let overlap = format!(
            "{head}{}{}",
            seg("A", "[1, 2]", "[1, 2]"),
            seg("B", "[2, 2]", "[2, 2]")
        );
        assert_eq!(
            parse(&overlap).unwrap_err(),
            "cell R2 F2 M1 is in both 'A' and 'B'"
        );
        let outside = format!("{head}{}", seg("A", "[1, 3]", "[1, 2]"));
        assert!(parse(&outside)
            .unwrap_err()
            .contains("not a range within 1–2"));
    }

    #[test]
    fn conditions_need_one_default_at_the_end() {
        let head = "name = \"x\"\ntitle = \"X\"\n";
        let seg = |name: &str, when: Option<&str>| {
            let w = when
                .map(|w| format!("when = \"{w}\"\n"))
                .unwrap_or_default();
            format!("[[segment]]\nname = \"{name}\"\ndescription = \"d\"\naction = \"a\"\n{w}")
        };
        let ok = format!(
            "{head}{}{}",
            seg("A", Some("frequency > 1")),
            seg("B", None)
        );
        assert!(parse(&ok).is_ok());
        let no_default = format!(
            "{head}{}{}",
            seg("A", Some("frequency > 1")),
            seg("B", Some("frequency = 1"))
        );
        assert!(parse(&no_default)
            .unwrap_err()
            .contains("must have no `when`"));
        let early_default = format!(
            "{head}{}{}",
            seg("A", None),
            seg("B", Some("frequency = 1"))
        );
        assert!(parse(&early_default)
            .unwrap_err()
            .contains("only the last segment"));
    }

    #[test]
    fn job_overrides_only_known_thresholds() {
        let preset = built_in("lifecycle");
        let table: toml::Value = toml::from_str("active_days = 30").unwrap();
        let t = preset.thresholds_with(Some(&table)).unwrap();
        assert_eq!(t["active_days"], 30.0);
        assert_eq!(t["churn_days"], 180.0);
        let typo: toml::Value = toml::from_str("active_day = 30").unwrap();
        let err = preset.thresholds_with(Some(&typo)).unwrap_err();
        assert!(
            err.contains("unknown key `active_day` (did you mean `active_days`?)"),
            "{err}"
        );
    }
}
