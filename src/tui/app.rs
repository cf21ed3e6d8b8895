//! App state and `update`: every key becomes an [`Action`] (through the one keymap table) or a
//! text edit of the filter / palette input, and only `update` changes the state. Rendering reads
//! the state and the store and changes nothing.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::config::Config;
use crate::duration::{format_duration, parse_duration};
use crate::model::GroupId;
use crate::store::Store;
use crate::tui::figures::{GroupFigures, ReadAt};
use crate::tui::jobs::explain::ExplainOutcome;
use crate::tui::jobs::forecast::ForecastOutcome;
use crate::tui::jobs::policies::PoliciesOutcome;
use crate::tui::jobs::workload::WorkloadOutcome;
use crate::tui::jobs::{JobOutput, JobSlot};
use crate::tui::keymap::{Action, Keymap};
use crate::tui::panes::palette::{PaletteCommand, PaletteState};
use crate::tui::panes::recommendations::RecommendationsState;
use crate::tui::panes::tuning::TuningState;
use crate::tui::tab::Tab;
use crate::tui::theme::Theme;

/// How long the header flashes a newly firing alert, seconds of wall time.
pub const ALERT_FLASH_SECONDS: i64 = 8;

/// The Alerts tab's state: the evaluator (away while a job evaluates), the latest list, and
/// the header flash.
#[derive(Debug, Clone)]
pub struct AlertsPanel {
    pub evaluator: Option<crate::alerts::Evaluator>,
    /// Fresh evaluators after a source switch are built from these.
    pub rules: Vec<crate::alerts::AlertRule>,
    pub group_interval_seconds: i64,
    pub renotify_seconds: i64,
    pub list: Vec<crate::alerts::AlertInstance>,
    /// Data time of the last evaluation started.
    pub last_eval_end: Option<i64>,
    /// Bumped on a source switch; results of older evaluations are dropped.
    pub epoch: u64,
    /// Text and wall time until which the header shows it.
    pub flash: Option<(String, DateTime<Utc>)>,
    pub notifications: u64,
    pub cursor: usize,
}

impl AlertsPanel {
    pub fn new(cfg: &crate::alerts::AlertsConfig) -> Self {
        // The config was validated at load; fall back to the defaults rather than fail here.
        let rules = cfg
            .rules()
            .unwrap_or_else(|_| crate::alerts::default_rules());
        let group_interval_seconds = cfg.group_interval_seconds().unwrap_or(300);
        let renotify_seconds = cfg.renotify_seconds().unwrap_or(4 * 3600);
        Self {
            evaluator: Some(crate::alerts::Evaluator::new(
                rules.clone(),
                group_interval_seconds,
                renotify_seconds,
            )),
            rules,
            group_interval_seconds,
            renotify_seconds,
            list: Vec::new(),
            last_eval_end: None,
            epoch: 0,
            flash: None,
            notifications: 0,
            cursor: 0,
        }
    }

    fn reset(&mut self) {
        self.epoch += 1;
        self.evaluator = Some(crate::alerts::Evaluator::new(
            self.rules.clone(),
            self.group_interval_seconds,
            self.renotify_seconds,
        ));
        self.list.clear();
        self.last_eval_end = None;
        self.flash = None;
        self.cursor = 0;
    }

    pub fn count(&self, state: crate::alerts::AlertState) -> usize {
        self.list.iter().filter(|a| a.state == state).count()
    }

    /// A finished evaluation; `wall_now` times the header flash.
    pub fn finish(
        &mut self,
        outcome: crate::tui::jobs::alerts::AlertsOutcome,
        wall_now: DateTime<Utc>,
    ) {
        if outcome.epoch != self.epoch {
            return;
        }
        self.list = outcome.evaluator.alerts();
        self.evaluator = Some(outcome.evaluator);
        self.cursor = self.cursor.min(self.list.len().saturating_sub(1));
        let fresh: Vec<_> = outcome.notifications.iter().filter(|n| !n.repeat).collect();
        self.notifications += outcome.notifications.len() as u64;
        if let Some(first) = fresh.first() {
            let more = fresh.iter().map(|n| n.new.len()).sum::<usize>() - 1;
            let mut text = format!(
                "ALERT {} firing: {}",
                first.rule,
                first.new.first().map(String::as_str).unwrap_or("")
            );
            if more > 0 {
                text.push_str(&format!(" (+{more})"));
            }
            self.flash = Some((
                text,
                wall_now + chrono::Duration::seconds(ALERT_FLASH_SECONDS),
            ));
        }
    }
}

/// The load-test window (`m`) and its scorecard.
#[derive(Debug, Clone)]
pub struct LoadTestPanel {
    /// Data time the open window started at.
    pub start: Option<i64>,
    /// A window just closed, waiting for its final scorecard job.
    pub closing: Option<(i64, i64)>,
    pub live: Option<Result<crate::scorecard::Scorecard, String>>,
    pub in_flight: bool,
    pub last_eval_end: Option<i64>,
    pub targets: crate::scorecard::LoadTestTargets,
    pub output_dir: std::path::PathBuf,
    pub readonly: bool,
}

impl LoadTestPanel {
    pub fn new(cfg: &Config) -> Self {
        Self {
            start: cfg.loadtest.start_at_unix,
            closing: None,
            live: None,
            in_flight: false,
            last_eval_end: None,
            targets: cfg.loadtest.clone(),
            output_dir: cfg.general.output_dir.clone(),
            readonly: cfg.general.readonly,
        }
    }

    /// `m`: opens a window at the newest data, or closes the open one.
    pub fn toggle(&mut self, now: Option<i64>) -> String {
        let Some(now) = now else {
            return "load test: no data yet to mark".into();
        };
        match self.start.take() {
            None => {
                self.start = Some(now);
                self.live = None;
                self.last_eval_end = None;
                format!(
                    "load-test window opened at {} (m closes it)",
                    crate::tui::widgets::fmt_time(now)
                )
            }
            Some(start) => {
                self.closing = Some((start, now));
                format!(
                    "load-test window closed at {}; scoring…",
                    crate::tui::widgets::fmt_time(now)
                )
            }
        }
    }

    /// A finished scorecard job; returns a status line for a closed window.
    pub fn finish(&mut self, o: crate::tui::jobs::scorecard::ScorecardOutcome) -> Option<String> {
        self.in_flight = false;
        if !o.closed {
            if self.start.is_some() {
                self.live = Some(o.scorecard);
            }
            return None;
        }
        self.live = None;
        let verdict = match &o.scorecard {
            Ok(s) if s.passed => "PASS".to_string(),
            Ok(_) => "FAIL".to_string(),
            Err(e) => format!("not scored: {e}"),
        };
        Some(match o.saved {
            Some(Ok(paths)) => format!(
                "load test {verdict}; scorecard saved to {}",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(Err(e)) => format!("load test {verdict}; {e}"),
            None => format!("load test {verdict}"),
        })
    }
}

/// Chart windows `+`/`-` step through, seconds.
pub const ZOOM_STEPS: [i64; 10] = [
    900, 1800, 3600, 7200, 21_600, 43_200, 86_400, 259_200, 604_800, 1_209_600,
];

#[derive(Debug, Clone, Default, PartialEq)]
pub enum Pane {
    #[default]
    None,
    Help,
    Palette(PaletteState),
    /// Why a scaling event happened (Enter on the Events tab).
    Explain(Box<ExplainState>),
    /// `r`: ranked recommendations and the accept flow.
    Recommendations(Box<RecommendationsState>),
    /// `t`: the tuning search for one group, current vs recommended.
    Tuning(Box<TuningState>),
}

/// The explain pane: the event, and the policy arithmetic once computed off the UI thread.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainState {
    pub event: crate::model::ScalingEvent,
    pub result: Option<ExplainOutcome>,
    pub in_flight: bool,
}

/// The `/` filter: a substring of the group name, shared by Overview and Events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterState {
    pub text: String,
    /// Keys go into `text` while editing.
    pub editing: bool,
}

impl FilterState {
    pub fn matches(&self, name: &str) -> bool {
        self.text.is_empty() || contains_ignore_case(name, &self.text)
    }
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Name,
    Replicas,
    Cpu,
    Memory,
    RequestRate,
    P95,
    Cost,
}

impl SortColumn {
    pub fn next(self) -> SortColumn {
        use SortColumn::*;
        match self {
            Name => Replicas,
            Replicas => Cpu,
            Cpu => Memory,
            Memory => RequestRate,
            RequestRate => P95,
            P95 => Cost,
            Cost => Name,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortColumn::Name => "name",
            SortColumn::Replicas => "replicas",
            SortColumn::Cpu => "cpu",
            SortColumn::Memory => "memory",
            SortColumn::RequestRate => "req/s",
            SortColumn::P95 => "p95",
            SortColumn::Cost => "cost/h",
        }
    }

    fn key(self, f: &GroupFigures) -> Option<f64> {
        match self {
            SortColumn::Name => None,
            SortColumn::Replicas => f.desired.or(f.ready),
            SortColumn::Cpu => f.cpu_pct,
            SortColumn::Memory => f.memory_pct,
            SortColumn::RequestRate => f.request_rate,
            SortColumn::P95 => f.p95_ms,
            SortColumn::Cost => f.usd_per_hour,
        }
    }
}

/// The chart time window: how long, and whether it follows live data or is frozen at an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeView {
    pub window_seconds: i64,
    /// `Some(end)` when frozen (by `f` or by scrolling back), Unix seconds.
    pub frozen_end: Option<i64>,
}

impl TimeView {
    /// End of the window: the frozen end, else the newest data.
    pub fn end(&self, store: &Store) -> Option<i64> {
        self.frozen_end
            .or_else(|| store.now().map(|t| t.timestamp()))
    }

    pub fn read_at(&self) -> ReadAt {
        match self.frozen_end {
            Some(t) => ReadAt::At(t),
            None => ReadAt::Latest,
        }
    }
}

#[derive(Debug, Clone)]
pub struct App {
    pub tab: Tab,
    /// Where `Esc` returns to after a drill-in.
    pub back_stack: Vec<Tab>,
    pub pane: Pane,
    pub filter: FilterState,
    pub sort: SortColumn,
    /// Overview rows: group indices in the store, filtered and sorted (refreshed by `sync`).
    pub rows: Vec<usize>,
    /// Cursor in `rows`.
    pub cursor: usize,
    /// The selected group; kept by identity so the cursor follows it when rows re-sort.
    pub selected: Option<GroupId>,
    /// The group the Utilization tab shows.
    pub focus: Option<GroupId>,
    /// Rows scrolled from the newest event.
    pub events_offset: usize,
    pub sources_cursor: usize,
    pub time: TimeView,
    pub keymap: Keymap,
    pub theme: Theme,
    /// "demo ecommerce (simulator)", shown in the header.
    pub source_label: String,
    /// Wall time the last update arrived, for "updated Xs ago".
    pub last_data_at: Option<DateTime<Utc>>,
    /// One-line feedback in the footer (e.g. "range 6h"), cleared by the next key.
    pub status: Option<String>,
    /// Built-in scenarios the palette offers.
    pub scenarios: Vec<String>,
    /// A scenario switch asked for from the palette, carried out by the run loop.
    pub switch_scenario: Option<String>,
    /// The demo simulator's scenario and seed when it is the source (the tuning pane
    /// simulates the history a search needs when the store holds less).
    pub demo: Option<crate::tui::jobs::tune::DemoSource>,
    /// Workload analysis of the selected group (computed off the UI thread).
    pub workload: JobSlot<WorkloadOutcome>,
    /// Demand forecast of the selected group (computed off the UI thread).
    pub forecast: JobSlot<ForecastOutcome>,
    /// The config's known-events calendar (validated at start).
    pub forecast_events: Vec<crate::engine::forecast::events::KnownEvent>,
    /// Policy replays of every group (computed off the UI thread).
    pub policies: JobSlot<PoliciesOutcome>,
    /// Recommendations the engines produced (the pane adds recommendation files it finds in
    /// the output directory).
    pub recommendations: Vec<crate::model::Recommendation>,
    /// Recommendations from the tuning pane (`t`), listed beside the engines' in `r`.
    pub tuned: Vec<crate::model::Recommendation>,
    /// Every write the TUI makes goes through this (read-only mode is enforced inside it).
    pub writer: crate::emit::writer::GuardedWriter,
    /// Cost analysis of every group (computed off the UI thread).
    pub cost: JobSlot<crate::tui::jobs::cost::CostOutcome>,
    /// What the config says of the fleet for the Cost tab (`[cost] node_type`, `region`,
    /// `availability_zones`).
    pub cost_settings: crate::tui::jobs::cost::CostSettings,
    /// Monitoring figures of every group (Overview and Events tabs).
    pub monitoring: JobSlot<crate::tui::jobs::monitoring::MonitoringOutcome>,
    /// Background re-tuning: findings per group, significant ones listed under `r`.
    pub retune: crate::tui::jobs::retune::RetuneState,
    /// Alert evaluation (off the UI thread) and what the Alerts tab lists.
    pub alerts: AlertsPanel,
    pub loadtest: LoadTestPanel,
    pub quit: bool,
}

impl App {
    pub fn new(cfg: &Config, theme: Theme, source_label: String) -> App {
        let window_seconds = parse_duration(&cfg.ui.chart_window)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(7200)
            .max(60);
        let keymap = Keymap::with_overrides(&cfg.keys).unwrap_or_else(|_| Keymap::builtin());
        App {
            tab: Tab::Overview,
            back_stack: Vec::new(),
            pane: Pane::None,
            filter: FilterState::default(),
            sort: SortColumn::Name,
            rows: Vec::new(),
            cursor: 0,
            selected: None,
            focus: None,
            events_offset: 0,
            sources_cursor: 0,
            time: TimeView {
                window_seconds,
                frozen_end: None,
            },
            keymap,
            theme,
            source_label,
            last_data_at: None,
            status: None,
            scenarios: Vec::new(),
            switch_scenario: None,
            demo: (cfg.sources.count() == 0).then(|| crate::tui::jobs::tune::DemoSource {
                scenario: cfg.demo.scenario.clone(),
                seed: cfg.demo.seed,
            }),
            workload: JobSlot::default(),
            forecast: JobSlot::default(),
            forecast_events: if cfg.forecast.events_file.is_empty() {
                Vec::new()
            } else {
                crate::commands::forecast::read_events(std::path::Path::new(
                    &cfg.forecast.events_file,
                ))
                .unwrap_or_default()
            },
            policies: JobSlot::default(),
            recommendations: Vec::new(),
            tuned: Vec::new(),
            writer: crate::emit::writer::GuardedWriter::from_config(cfg),
            cost: JobSlot::default(),
            cost_settings: crate::tui::jobs::cost::CostSettings::from_config(&cfg.cost),
            monitoring: JobSlot::default(),
            retune: Default::default(),
            alerts: AlertsPanel::new(&cfg.alerts),
            loadtest: LoadTestPanel::new(cfg),
            quit: false,
        }
    }

    /// Refreshes state derived from the store: Overview rows (filter + sort) and the cursor.
    pub fn sync(&mut self, store: &Store) {
        let at = self.time.read_at();
        let groups = store.groups();
        let mut keyed: Vec<(usize, Option<f64>)> = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| self.filter.matches(&g.id.name))
            .map(|(i, _)| (i, self.sort.key(&GroupFigures::read(store, i, at))))
            .collect();
        let name = |i: usize| &groups[i].id;
        match self.sort {
            SortColumn::Name => keyed.sort_by(|a, b| name(a.0).cmp(name(b.0))),
            // Largest first; missing values last, so a gap never looks like the top entry.
            _ => keyed.sort_by(|a, b| match (a.1, b.1) {
                (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| name(a.0).cmp(name(b.0))),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => name(a.0).cmp(name(b.0)),
            }),
        }
        self.rows = keyed.into_iter().map(|(i, _)| i).collect();
        let found = self
            .selected
            .as_ref()
            .and_then(|id| self.rows.iter().position(|&i| &groups[i].id == id));
        self.cursor = match found {
            Some(pos) => pos,
            None => self.cursor.min(self.rows.len().saturating_sub(1)),
        };
        self.selected = self.rows.get(self.cursor).map(|&i| groups[i].id.clone());
        if self.focus.is_none() {
            self.focus = self.selected.clone();
        }
        let sources = store.health().count();
        self.sources_cursor = self.sources_cursor.min(sources.saturating_sub(1));
    }

    /// A key press: text input first (palette, filter), else the keymap.
    pub fn on_key(&mut self, key: KeyEvent, store: &Store) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        self.status = None;
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return;
        }
        if let Pane::Palette(palette) = &mut self.pane {
            match key.code {
                KeyCode::Esc => self.pane = Pane::None,
                KeyCode::Enter => {
                    let command = palette.chosen(store, &self.scenarios);
                    self.pane = Pane::None;
                    match command {
                        Some(c) => self.run_command(c, store),
                        None => self.status = Some("no matching command".into()),
                    }
                }
                KeyCode::Up => palette.move_selection(-1),
                KeyCode::Down | KeyCode::Tab => palette.move_selection(1),
                KeyCode::Backspace => palette.pop_char(),
                KeyCode::Char(c) => palette.push_char(c),
                _ => {}
            }
            return;
        }
        if self.filter.editing {
            match key.code {
                KeyCode::Esc => {
                    self.filter = FilterState::default();
                }
                KeyCode::Enter => self.filter.editing = false,
                KeyCode::Backspace => {
                    self.filter.text.pop();
                }
                KeyCode::Char(c) => self.filter.text.push(c),
                _ => {}
            }
            self.events_offset = 0;
            self.sync(store);
            return;
        }
        if let Some(action) = self.keymap.action_for(&key) {
            self.update(action, store);
        }
    }

    /// A finished engine job: its result replaces the previous one.
    pub fn apply_job(&mut self, output: JobOutput) {
        match output {
            JobOutput::Workload(w) => self.workload.finish(*w),
            JobOutput::Forecast(f) => self.forecast.finish(*f),
            JobOutput::Policies(p) => self.policies.finish(p),
            JobOutput::Cost(c) => {
                // The recommendations pane lists what the cost engine found (the pane also
                // reads recommendation files from the output directory).
                if c.report.is_ok() {
                    self.recommendations = c.recommendations.clone();
                }
                self.cost.finish(*c)
            }
            JobOutput::Alerts(a) => self.alerts.finish(*a, Utc::now()),
            JobOutput::Monitoring(m) => self.monitoring.finish(*m),
            JobOutput::Retune(o) => self.retune.finish(*o),
            JobOutput::Scorecard(o) => {
                if let Some(status) = self.loadtest.finish(*o) {
                    self.status = Some(status);
                }
            }
            JobOutput::Tune(o) => {
                // Only for the search on screen; a cancelled pane's late answer is dropped.
                if let Pane::Tuning(state) = &mut self.pane {
                    state.finish(*o);
                }
            }
            JobOutput::Explain(e) => {
                // Only for the event still on screen; a late answer for a closed pane is dropped.
                if let Pane::Explain(state) = &mut self.pane {
                    if state.event == e.event {
                        state.result = Some(e);
                        state.in_flight = false;
                    }
                }
            }
        }
    }

    /// Applies one action. Panes see actions first: help closes on `?`/`Esc`; the explain pane
    /// closes on `Esc` and opens Utilization at the event's time on `Enter`.
    pub fn update(&mut self, action: Action, store: &Store) {
        if self.pane == Pane::Help {
            match action {
                Action::Help | Action::Back => self.pane = Pane::None,
                Action::Quit => self.quit = true,
                _ => {}
            }
            return;
        }
        if let Pane::Recommendations(state) = &mut self.pane {
            match action {
                Action::Quit => self.quit = true,
                Action::Back if state.confirm.is_some() => state.confirm = None,
                Action::Back | Action::Recommendations => self.pane = Pane::None,
                Action::Up => state.move_cursor(-1, &self.filter),
                Action::Down => state.move_cursor(1, &self.filter),
                Action::PageUp => state.move_cursor(-20, &self.filter),
                Action::PageDown => state.move_cursor(20, &self.filter),
                Action::Sort if state.confirm.is_none() => state.cycle_kind(),
                Action::Sort => {
                    if let Err(e) = state.cycle_target(&self.filter, &self.writer) {
                        self.status = Some(e);
                    }
                }
                Action::Filter if state.confirm.is_none() => self.filter.editing = true,
                Action::Accept if state.confirm.is_none() => {
                    if let Err(e) = state.prepare_accept(&self.filter, &self.writer) {
                        self.status = Some(e);
                    }
                }
                Action::Enter if state.confirm.is_some() => {
                    self.status = Some(state.confirm_accept(&self.writer));
                }
                Action::Help => self.pane = Pane::Help,
                _ => {}
            }
            return;
        }
        if let Pane::Tuning(state) = &mut self.pane {
            match action {
                Action::Quit => self.quit = true,
                // Esc stops a running search first (the pane stays to say so), then closes.
                Action::Back | Action::CancelSearch if state.cancel() => {}
                Action::Back => self.pane = Pane::None,
                Action::Tuning if !state.running() => {
                    let group = state.group.clone();
                    self.pane = Pane::Tuning(Box::new(TuningState::new(group)));
                }
                Action::Accept | Action::Enter => self.accept_tuned(),
                Action::Help => self.pane = Pane::Help,
                _ => {}
            }
            return;
        }
        if let Pane::Explain(state) = &self.pane {
            match action {
                Action::Back => self.pane = Pane::None,
                Action::Quit => self.quit = true,
                Action::Enter => {
                    let event = state.event.clone();
                    self.pane = Pane::None;
                    self.open_event_in_utilization(&event, store);
                }
                _ => {}
            }
            self.sync(store);
            return;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::NextTab => self.tab = self.tab.next(),
            Action::PrevTab => self.tab = self.tab.prev(),
            Action::GoTab(i) => {
                if let Some(t) = Tab::from_index(usize::from(i)) {
                    self.tab = t;
                }
            }
            Action::Up => self.move_cursor(-1, store),
            Action::Down => self.move_cursor(1, store),
            Action::PageUp => self.move_cursor(-20, store),
            Action::PageDown => self.move_cursor(20, store),
            Action::Top => self.move_cursor(i64::MIN / 2, store),
            Action::Bottom => self.move_cursor(i64::MAX / 2, store),
            Action::Enter => self.drill_in(store),
            Action::Back => self.back(),
            Action::Filter => {
                self.filter.editing = true;
            }
            Action::Palette => self.pane = Pane::Palette(PaletteState::default()),
            Action::Help => self.pane = Pane::Help,
            Action::Freeze => {
                self.time.frozen_end = match self.time.frozen_end {
                    Some(_) => None,
                    None => store.now().map(|t| t.timestamp()),
                };
            }
            Action::ZoomIn => self.zoom(-1),
            Action::ZoomOut => self.zoom(1),
            Action::ScrollBack => self.scroll(-1, store),
            Action::ScrollForward => self.scroll(1, store),
            Action::Sort => self.sort = self.sort.next(),
            Action::Recommendations => {
                let all = self.all_recommendations();
                self.pane = Pane::Recommendations(Box::new(RecommendationsState::load(
                    &all,
                    self.writer.output_dir(),
                )))
            }
            Action::Tuning => {
                // The group in view: Utilization shows its focus, the other tabs the selection.
                let group = match self.tab {
                    Tab::Utilization => self.focus.clone(),
                    _ => self.selected.clone(),
                };
                match group {
                    Some(g) => self.pane = Pane::Tuning(Box::new(TuningState::new(g))),
                    None => self.status = Some("tuning: select a group first".into()),
                }
            }
            Action::CancelSearch => {}
            Action::Accept => {
                self.status = Some("accept: pick a recommendation first (r opens them)".into())
            }
            Action::MarkLoadTest => {
                let now = store.now().map(|t| t.timestamp());
                self.status = Some(self.loadtest.toggle(now));
            }
        }
        self.sync(store);
    }

    /// What `r` lists: the cost engine's, the ones accepted from the tuning pane, and the
    /// background re-tuner's significant ones (first of each id).
    fn all_recommendations(&self) -> Vec<crate::model::Recommendation> {
        let mut seen = std::collections::HashSet::new();
        self.recommendations
            .iter()
            .chain(&self.tuned)
            .chain(self.retune.recommendations())
            .filter(|r| seen.insert(r.id.clone()))
            .cloned()
            .collect()
    }

    /// `a`/`Enter` in the tuning pane: the search's Recommendation goes through the accept
    /// flow of the recommendations pane (its confirmation shows exactly what will be written;
    /// `Enter` there writes through the guarded writer).
    fn accept_tuned(&mut self) {
        let Pane::Tuning(state) = &self.pane else {
            return;
        };
        let rec = match state.result() {
            Some(r) => r.recommendation.clone(),
            None if state.running() => {
                self.status = Some("accept: the search is still running".into());
                return;
            }
            None => None,
        };
        let Some(rec) = rec else {
            self.status = Some("accept: no recommended policy to accept".into());
            return;
        };
        self.tuned.retain(|r| r.id != rec.id);
        self.tuned.push(rec.clone());
        let all = self.all_recommendations();
        let mut recs = RecommendationsState::load(&all, self.writer.output_dir());
        if let Some(pos) = recs
            .visible(&self.filter)
            .iter()
            .position(|&i| recs.items[i].id == rec.id)
        {
            recs.cursor = pos;
        }
        if let Err(e) = recs.prepare_accept(&self.filter, &self.writer) {
            self.status = Some(e);
        }
        self.pane = Pane::Recommendations(Box::new(recs));
    }

    fn move_cursor(&mut self, delta: i64, store: &Store) {
        let step = |pos: usize, len: usize| -> usize {
            let max = len.saturating_sub(1) as i64;
            (pos as i64).saturating_add(delta).clamp(0, max.max(0)) as usize
        };
        match self.tab {
            // Workload and Policies follow the Overview selection, so j/k pick the group there too.
            Tab::Overview | Tab::Workload | Tab::Forecast | Tab::Policies => {
                self.cursor = step(self.cursor, self.rows.len());
                self.selected = self
                    .rows
                    .get(self.cursor)
                    .and_then(|&i| store.groups().get(i))
                    .map(|g| g.id.clone());
            }
            Tab::Events => {
                // Newest first: "down" goes to older events.
                let len = store.events().len();
                self.events_offset = step(self.events_offset, len);
            }
            Tab::Sources => {
                self.sources_cursor = step(self.sources_cursor, store.health().count());
            }
            Tab::Alerts => {
                self.alerts.cursor = step(self.alerts.cursor, self.alerts.list.len());
            }
            _ => {}
        }
    }

    /// `Enter`: Overview opens Utilization for the selected group; Events explains the event
    /// (and from there, `Enter` opens Utilization at its time).
    fn drill_in(&mut self, store: &Store) {
        match self.tab {
            Tab::Overview if self.selected.is_some() => {
                self.back_stack.push(self.tab);
                self.focus = self.selected.clone();
                self.tab = Tab::Utilization;
            }
            Tab::Events => {
                let Some(event) = self.visible_events(store).nth(self.events_offset) else {
                    return;
                };
                self.pane = Pane::Explain(Box::new(ExplainState {
                    event: event.clone(),
                    result: None,
                    in_flight: false,
                }));
            }
            _ => {}
        }
    }

    /// Utilization for the event's group, frozen with the event in the middle of the window.
    fn open_event_in_utilization(&mut self, event: &crate::model::ScalingEvent, store: &Store) {
        let newest = store.now().map_or(i64::MAX, |t| t.timestamp());
        let end = (event.at.timestamp() + self.time.window_seconds / 2).min(newest);
        self.focus = Some(event.group.clone());
        self.time.frozen_end = Some(end);
        self.back_stack.push(self.tab);
        self.tab = Tab::Utilization;
    }

    /// Events the Events tab lists, newest first: the filter applies, and nothing after the
    /// frozen time.
    pub fn visible_events<'s>(
        &'s self,
        store: &'s Store,
    ) -> impl Iterator<Item = &'s crate::model::ScalingEvent> + 's {
        let frozen_end = self.time.frozen_end;
        store.events().iter().rev().filter(move |e| {
            self.filter.matches(&e.group.name)
                && frozen_end.is_none_or(|end| e.at.timestamp() <= end)
        })
    }

    /// `Esc`: close what is open, innermost first; then clear the filter where it applies
    /// (Overview, Events); then go back.
    fn back(&mut self) {
        let filtered_tab = matches!(self.tab, Tab::Overview | Tab::Events);
        if self.pane != Pane::None {
            self.pane = Pane::None;
        } else if filtered_tab && !self.filter.text.is_empty() {
            self.filter = FilterState::default();
        } else if let Some(t) = self.back_stack.pop() {
            self.tab = t;
        }
    }

    fn zoom(&mut self, direction: i64) {
        let current = self.time.window_seconds;
        let next = if direction < 0 {
            ZOOM_STEPS.iter().rev().find(|&&s| s < current)
        } else {
            ZOOM_STEPS.iter().find(|&&s| s > current)
        };
        if let Some(&s) = next {
            self.time.window_seconds = s;
        }
    }

    /// Moves the window by a quarter of its length. Scrolling back freezes the view; scrolling
    /// forward past the newest data stays frozen at the newest data until `f` resumes live.
    fn scroll(&mut self, direction: i64, store: &Store) {
        let Some(newest) = store.now().map(|t| t.timestamp()) else {
            return;
        };
        let end = self.time.frozen_end.unwrap_or(newest);
        let step = (self.time.window_seconds / 4).max(store.step_seconds());
        self.time.frozen_end = Some((end + direction * step).min(newest));
    }

    pub fn run_command(&mut self, command: PaletteCommand, store: &Store) {
        match command {
            PaletteCommand::GoTab(t) => self.tab = t,
            PaletteCommand::GoGroup(id) => {
                if self.tab != Tab::Utilization {
                    self.back_stack.push(self.tab);
                }
                self.selected = Some(id.clone());
                self.focus = Some(id);
                self.tab = Tab::Utilization;
            }
            PaletteCommand::Range(seconds) => {
                self.time.window_seconds = seconds;
                self.status = Some(format!(
                    "time range {}",
                    format_duration(std::time::Duration::from_secs(seconds as u64))
                ));
            }
            PaletteCommand::Scenario(name) => self.switch_scenario = Some(name),
            PaletteCommand::Quit => self.quit = true,
        }
        self.sync(store);
    }

    /// Forgets everything tied to the previous source's data (after a scenario switch).
    pub fn reset_for_new_source(&mut self, source_label: String) {
        self.source_label = source_label;
        self.rows.clear();
        self.cursor = 0;
        self.selected = None;
        self.focus = None;
        self.events_offset = 0;
        self.sources_cursor = 0;
        self.time.frozen_end = None;
        self.last_data_at = None;
        self.back_stack.clear();
        self.tab = Tab::Overview;
        self.pane = Pane::None;
        self.workload = JobSlot::default();
        self.forecast = JobSlot::default();
        self.policies = JobSlot::default();
        // Tuning results belong to the previous source's groups and history.
        self.tuned.clear();
        self.cost = JobSlot::default();
        self.monitoring = JobSlot::default();
        self.retune.reset();
        self.alerts.reset();
        self.loadtest.start = None;
        self.loadtest.closing = None;
        self.loadtest.live = None;
        self.loadtest.last_eval_end = None;
    }

    /// The group the Utilization tab shows, as an index into the store.
    pub fn focus_index(&self, store: &Store) -> Option<usize> {
        self.focus.as_ref().and_then(|id| store.group_index(id))
    }
}
