//! The run's clock: seconds and peak memory per stage, logged as each stage ends, and a spinner
//! naming the running stage.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// The stages in run order, so the spinner can name the one that starts when one ends.
const STAGES: [&str; 10] = [
    "load", "features", "lifetime", "rules", "prepare", "k-means", "dbscan", "gmm", "label",
    "compare",
];

/// Times the stages, logs each one's figures, and shows a spinner naming the running stage on
/// stderr when it is a terminal (never in a pipe, a log file or `--quiet`).
pub struct Stopwatch {
    start: Instant,
    timings: Vec<(String, f64)>,
    spinner: ProgressBar,
}

impl Stopwatch {
    pub fn new(quiet: bool) -> Stopwatch {
        let spinner = if !quiet && std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        spinner.set_message(STAGES[0]);
        Stopwatch {
            start: Instant::now(),
            timings: Vec::new(),
            spinner,
        }
    }

    /// A stopwatch that goes on from the timings of earlier stages (a stage verb's input).
    pub fn resume(quiet: bool, first_stage: &str, timings: Vec<(String, f64)>) -> Stopwatch {
        let mut clock = Stopwatch::new(quiet);
        clock.spinner.set_message(first_stage.to_string());
        clock.timings = timings;
        clock
    }

    /// The seconds of every stage, handed over to the run's result.
    pub(super) fn take_timings(&mut self) -> Vec<(String, f64)> {
        std::mem::take(&mut self.timings)
    }

    /// The seconds of every stage so far, in order.
    pub fn timings(&self) -> &[(String, f64)] {
        &self.timings
    }

    /// The spinner moves on past `stage`, which this job does not run (or has just run).
    pub(super) fn skip(&mut self, stage: &str) {
        if let Some(next) = STAGES
            .iter()
            .position(|s| *s == stage)
            .and_then(|i| STAGES.get(i + 1))
        {
            self.spinner.set_message(*next);
        }
    }

    pub(super) fn lap(&mut self, stage: &str, detail: String) {
        let seconds = self.start.elapsed().as_secs_f64();
        let line = match peak_memory_mb() {
            Some(mb) => {
                format!("  {stage:<10} {seconds:>7.2} s  {detail} (peak memory {mb:.0} MB)")
            }
            None => format!("  {stage:<10} {seconds:>7.2} s  {detail}"),
        };
        self.spinner.suspend(|| log::info!("{line}"));
        self.skip(stage);
        self.timings.push((stage.to_string(), seconds));
        self.start = Instant::now();
    }
}

/// The process's peak resident memory so far, in MB (Linux; elsewhere None).
fn peak_memory_mb() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
        // SAFETY: getrusage fills the struct it is given; it is read only when the call succeeds.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0 {
            let usage = unsafe { usage.assume_init() };
            return Some(usage.ru_maxrss as f64 / 1024.0);
        }
    }
    None
}

impl Drop for Stopwatch {
    fn drop(&mut self) {
        self.spinner.finish_and_clear();
    }
}
