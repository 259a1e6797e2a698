//! segmenta's integration tests, built as one test binary (one link of polars, linfa and
//! plotters instead of one per file). Each module says in its own doc what it proves; `util`
//! holds what they share. `cargo test` runs everything; `cargo test stage_verbs::` runs one
//! module and `cargo test --test integration` only these tests. The fixtures stay in
//! tests/data/, tests/hostile/ and tests/reference/.

mod util;

mod apply_model;
mod architecture;
mod automatic_k;
mod bad_input;
mod compare_runs;
mod dbscan_sampling_error;
mod degenerate_inputs;
mod demo_pipeline;
mod engines;
mod exit_codes;
mod fit_sample;
mod fuzz;
mod gmm_matches_sklearn;
mod hostile_corpus;
mod killed_runs;
mod kmeans_matches_sklearn;
mod lifetime_in_the_run;
mod lifetime_matches_lifetimes;
mod messy_inputs;
mod properties;
mod readme_job_example;
mod real_and_messy_data;
mod reconciliation;
mod report_escaping;
mod report_in_browser;
mod rfm_scores_match_pandas;
mod rules_hand_computed;
mod sql_features;
mod sql_score;
mod stable_segments;
mod stage_verbs;
mod table_shapes;
