//! The load-test scorecard off the UI thread: live (provisional) while a window is open,
//! final when it closes — then saved as JSON and Markdown in the output directory.

use std::path::PathBuf;

use crate::scorecard::{score, window, GroupWindow, LoadTestTargets, Scorecard};
use crate::store::Store;

#[derive(Debug)]
pub struct ScorecardJob {
    pub windows: Result<Vec<GroupWindow>, String>,
    pub start: i64,
    pub end: i64,
    pub closed: bool,
    pub targets: LoadTestTargets,
    /// Where a closed window's scorecard is written; None for live ones.
    pub save: Option<(PathBuf, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScorecardOutcome {
    pub closed: bool,
    pub scorecard: Result<Scorecard, String>,
    /// Paths written, or why not.
    pub saved: Option<Result<Vec<PathBuf>, String>>,
}

pub fn job(
    store: &Store,
    start: i64,
    end: i64,
    closed: bool,
    targets: &LoadTestTargets,
    save: Option<(PathBuf, bool)>,
) -> ScorecardJob {
    ScorecardJob {
        windows: window(store, start, end),
        start,
        end,
        closed,
        targets: targets.clone(),
        save,
    }
}

pub fn run(job: ScorecardJob) -> ScorecardOutcome {
    let scorecard = job
        .windows
        .and_then(|w| score(&w, job.start, job.end, job.closed, &job.targets));
    let saved = match (&scorecard, job.save) {
        (Ok(s), Some((dir, readonly))) => Some(save(s, &dir, readonly)),
        (Err(e), Some(_)) => Some(Err(format!("no scorecard saved: {e}"))),
        _ => None,
    };
    ScorecardOutcome {
        closed: job.closed,
        scorecard,
        saved,
    }
}

/// Writes `loadtest-<start>.json` and `.md` (atomic writes).
pub fn save(s: &Scorecard, dir: &std::path::Path, readonly: bool) -> Result<Vec<PathBuf>, String> {
    let stamp = chrono::DateTime::from_timestamp(s.start, 0)
        .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|| s.start.to_string());
    let json = serde_json::to_string_pretty(s).map_err(|e| e.to_string())? + "\n";
    let md = crate::scorecard::markdown::render(s);
    let mut paths = Vec::new();
    for (ext, body) in [("json", json), ("md", md)] {
        let p = dir.join(format!("loadtest-{stamp}.{ext}"));
        crate::commands::out_file::write_atomic(&p, body.as_bytes(), readonly)?;
        paths.push(p);
    }
    Ok(paths)
}
