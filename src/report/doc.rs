//! The report as plain data: numbered sections of tables, charts and notes, the success
//! criteria, pitfalls and re-tune triggers. Markdown and HTML render this one structure, so
//! the two formats always carry the same figures.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub title: String,
    /// Where the data came from, e.g. "scenario ecommerce (seed 42), 14d at 1m".
    pub source: String,
    pub generated_at: String,
    pub sections: Vec<Section>,
    pub criteria: Vec<Criterion>,
    /// The cost engine's totals the sections show, when it ran.
    pub cost: Option<super::cost::CostTotals>,
}

pub const REPORT_SCHEMA: &str = "scaletop.report/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Every figure of the section was computed.
    Complete,
    /// Some figures are computed, some need an engine or data that is not there.
    Partial,
    /// Nothing can be computed yet; the notes say what is needed.
    NotAvailable,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub number: u8,
    pub title: &'static str,
    pub availability: Availability,
    /// Plain sentences: findings, and what is missing with what it needs.
    pub notes: Vec<String>,
    pub tables: Vec<Table>,
    pub charts: Vec<Chart>,
}

impl Section {
    pub fn new(number: u8, title: &'static str) -> Self {
        Self {
            number,
            title,
            availability: Availability::Complete,
            notes: Vec::new(),
            tables: Vec::new(),
            charts: Vec::new(),
        }
    }

    /// Records something the section cannot show yet; the section becomes partial.
    pub fn missing(&mut self, what: impl Into<String>) {
        self.notes
            .push(format!("Not available yet: {}", what.into()));
        if self.availability == Availability::Complete {
            self.availability = Availability::Partial;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Where the figures come from (engine and command).
    pub source: String,
}

impl Table {
    pub fn new(title: impl Into<String>, columns: &[&str], source: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            source: source.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesStyle {
    Line,
    /// A shaded band between `lo` and `hi`.
    Band,
    Bars,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartSeries {
    pub name: String,
    pub style: SeriesStyle,
    /// (x, y) for lines and bars; (x, lo) for bands with `hi` beside.
    pub points: Vec<(f64, f64)>,
    pub hi: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// Stable id, used in the HTML (`data-chart`) and by tests.
    pub id: String,
    pub title: String,
    pub y_label: String,
    /// X values are Unix seconds when true (axis shows dates), else category indices.
    pub x_is_time: bool,
    /// Category labels for bar charts.
    pub categories: Vec<String>,
    pub series: Vec<ChartSeries>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    NotMeasured,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::NotMeasured => "not measured",
        }
    }
}

/// One of the success criteria users hold scaletop to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    pub name: &'static str,
    pub target: &'static str,
    pub verdict: Verdict,
    /// The figure, or what is needed to measure it.
    pub figure: String,
    /// Which section / engine the figure comes from.
    pub source: String,
}
