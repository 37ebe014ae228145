use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Rewritten by the benchmark before every rebuild (a source change); `wordstat --marker` prints it.
pub const MARKER: &str = "initial";

#[derive(Serialize)]
pub struct Report {
    pub generated: DateTime<Utc>,
    pub distinct: usize,
    pub total: u64,
    pub counts: BTreeMap<String, u64>,
    pub samples: Vec<String>,
}

impl Report {
    pub fn new(counts: BTreeMap<String, u64>, samples: Vec<String>) -> Self {
        Report { generated: Utc::now(), distinct: counts.len(), total: counts.values().sum(), counts, samples }
    }
}
