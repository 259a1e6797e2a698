//! Who moved since the job's previous run: this run, as its report folder will hold it, set
//! against the previous run's folder.

use std::path::Path;

use super::RunResult;
use crate::compare::{self, Comparison, RuleColumn, Snapshot};
use crate::error::Result;

/// `run` (to be written to `folder`) against the report in `previous_folder`. The clusters are
/// matched through the previous run's model.json when it can read this run's features and the
/// previous `segment` column holds its k-means clusters; otherwise by customer overlap, and a
/// note says why.
pub(super) fn since_run(
    previous_folder: &Path,
    run: &RunResult,
    folder: &Path,
) -> Result<Comparison> {
    let previous = Snapshot::read(previous_folder)?;
    let current = snapshot_of_run(run, folder);
    let (view, why_not) = match model_view(&previous, run) {
        Ok(view) => (Some(view), None),
        Err(reason) => (None, Some(reason)),
    };
    let mut comparison = compare::compare(&previous, &current, view);
    if let Some(reason) = why_not {
        comparison
            .notes
            .push(format!("Clusters matched by customer overlap: {reason}."));
    }
    Ok(comparison)
}

/// The previous run's segment of every current customer under its saved model.
fn model_view(previous: &Snapshot, run: &RunResult) -> std::result::Result<Vec<String>, String> {
    if previous.primary != "kmeans" {
        return Err(format!(
            "the previous run's segments are {} clusters, and model.json holds the k-means centroids",
            previous.primary
        ));
    }
    let path = previous.folder.join(crate::layout::MODEL_FILE);
    let model = crate::model::SavedModel::load(&path).map_err(|e| e.to_string())?;
    let view = crate::model::view(&model, &run.features)
        .map_err(|e| format!("the previous model could not read this run's features ({e})"))?;
    Ok(view
        .clusters
        .iter()
        .map(|c| crate::label::cluster_name(Some(*c)))
        .collect())
}

/// The run in memory, as its report folder will hold it.
fn snapshot_of_run(run: &RunResult, folder: &Path) -> Snapshot {
    let segments = run.primary_segments();
    let names = run.segment_titles(&segments);
    Snapshot {
        folder: folder.to_path_buf(),
        job: run.job.name.clone(),
        as_of: run.as_of.to_string(),
        primary: format!("{:?}", run.job.primary).to_lowercase(),
        customer_ids: run.features.customer_ids.clone(),
        titles: compare::first_title_per_segment(&segments, &names),
        segments,
        rule_sets: run
            .rules
            .sets
            .iter()
            .map(|set| RuleColumn {
                column: set.column_name(),
                title: set.title.clone(),
                order: set.segments.iter().map(|s| s.name.clone()).collect(),
                labels: set.labels.clone(),
            })
            .collect(),
    }
}
