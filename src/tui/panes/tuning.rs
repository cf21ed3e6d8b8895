//! The `t` pane (issue 7): the selected group's current policy against the one the tuning
//! search recommends — replica curves overlaid, cost and SLA figures on the training and the
//! held-out part, the Pareto front, the verdict and the current policy's pitfalls. The search
//! runs off the UI thread (`jobs::tune`) with its progress shown; `Esc`/`c` cancel it, and
//! closing the pane cancels it too. `a`/`Enter` hand the recommendation to the accept flow of
//! the recommendations pane.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph, Wrap};
use ratatui::Frame;

use crate::engine::tune::{Figures, SearchControl, TuneOutcome};
use crate::model::GroupId;
use crate::tui::chart::{self, bucket_means, present, ChartSeries, MAX_POINTS};
use crate::tui::jobs::tune::{TuneJobOutcome, TuneResult, TuneStatus};
use crate::tui::tabs::workload::fmt_span;
use crate::tui::theme::Theme;

/// The search's shared control; dropping the last copy of the pane state cancels the search,
/// so closing the pane by any path stops the work.
#[derive(Debug, Default)]
pub struct SearchHandle(pub Arc<SearchControl>);

impl Drop for SearchHandle {
    fn drop(&mut self) {
        self.0.cancel.store(true, Ordering::Relaxed);
    }
}

impl PartialEq for SearchHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Waiting for the run loop to start the job.
    Waiting,
    Running,
    /// The group cannot be tuned (no policy, no capacity model, no data): why.
    Unavailable(String),
    Finished(Box<TuneJobOutcome>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TuningState {
    pub group: GroupId,
    /// Which search this pane waits for (a new one on each start).
    pub run: u64,
    pub control: Arc<SearchHandle>,
    /// Wall time the search started, for the elapsed time.
    pub started_at: Option<DateTime<Utc>>,
    /// "96 h of history at 15 s steps · current HPA cpu 70%", once the job is built.
    pub about: Option<String>,
    pub phase: Phase,
}

static RUNS: AtomicU64 = AtomicU64::new(1);

impl TuningState {
    pub fn new(group: GroupId) -> Self {
        Self {
            group,
            run: RUNS.fetch_add(1, Ordering::Relaxed),
            control: Arc::new(SearchHandle::default()),
            started_at: None,
            about: None,
            phase: Phase::Waiting,
        }
    }

    /// The search's progress: candidates evaluated, candidates in the space (0: not built yet).
    pub fn progress(&self) -> (usize, usize) {
        let c = &self.control.0;
        (
            c.done.load(Ordering::Relaxed),
            c.total.load(Ordering::Relaxed),
        )
    }

    pub fn running(&self) -> bool {
        matches!(self.phase, Phase::Waiting | Phase::Running)
    }

    /// Asks a running search to stop; it reports back as cancelled.
    pub fn cancel(&self) -> bool {
        if !self.running() {
            return false;
        }
        self.control.0.cancel.store(true, Ordering::Relaxed);
        true
    }

    pub fn cancelling(&self) -> bool {
        self.running() && self.control.0.cancel.load(Ordering::Relaxed)
    }

    /// A finished search, if it answers this pane's run.
    pub fn finish(&mut self, o: TuneJobOutcome) {
        if o.run == self.run && o.group == self.group {
            self.phase = Phase::Finished(Box::new(o));
        }
    }

    pub fn result(&self) -> Option<&TuneResult> {
        match &self.phase {
            Phase::Finished(o) => match &o.status {
                TuneStatus::Done(r) => Some(r),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Whether the recommendation is worth taking, in words, and its style.
pub enum Verdict {
    /// Holds on held-out and beats the current policy there.
    Better,
    /// Holds, but the current policy is already as good on held-out.
    NoBetter,
    /// Does not keep the Slo or thrashes on the held-out part.
    DoesNotHold,
    /// No candidate keeps the Slo even on the training part.
    NoneKeepsSlo,
}

fn eligible(f: &Figures) -> bool {
    f.keeps_slo && f.thrash_events == 0
}

pub fn verdict(o: &TuneOutcome) -> Verdict {
    match &o.recommended {
        None => Verdict::NoneKeepsSlo,
        Some(r) if !r.holds => Verdict::DoesNotHold,
        // The current policy misses the Slo or thrashes where the recommendation does not.
        Some(_) if !eligible(&o.current.heldout) => Verdict::Better,
        // Within a dollar a month is no saving.
        Some(r) if r.saving_usd_month >= 1.0 => Verdict::Better,
        Some(_) => Verdict::NoBetter,
    }
}

fn money(v: f64) -> String {
    format!("${v:.0}")
}

fn settings_line(s: &[(String, String)]) -> String {
    s.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

pub fn render(
    state: &TuningState,
    theme: &Theme,
    now: DateTime<Utc>,
    frame: &mut Frame,
    area: Rect,
) {
    let popup = area;
    frame.render_widget(Clear, popup);
    let (hint, title_extra) = footer(state);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(vec![
            Span::styled(format!(" Tuning {} ", state.group.name), theme.title()),
            Span::styled(title_extra, theme.dim()),
        ]))
        .title_bottom(Line::from(hint).centered());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    match &state.phase {
        Phase::Waiting | Phase::Running => render_progress(state, theme, now, frame, inner),
        Phase::Unavailable(why) => render_message(
            frame,
            inner,
            vec![
                Line::from(Span::styled(
                    format!("{} cannot be tuned.", state.group.name),
                    theme.warn(),
                )),
                Line::from(format!("Why: {why}.")),
            ],
        ),
        Phase::Finished(o) => match &o.status {
            TuneStatus::Done(r) => render_result(state, o, r, theme, frame, inner),
            TuneStatus::Cancelled { done, total } => render_message(
                frame,
                inner,
                vec![
                    Line::from(Span::styled(
                        format!(
                            "Search cancelled after {done} of {total} candidates ({}); nothing was recommended.",
                            elapsed(o.elapsed.as_secs_f64())
                        ),
                        theme.warn(),
                    )),
                    Line::from("t starts it again."),
                ],
            ),
            TuneStatus::Failed(why) => {
                let mut lines = vec![
                    Line::from(Span::styled(
                        format!("No tuning result for {}.", state.group.name),
                        theme.warn(),
                    )),
                    Line::from(format!("Why: {why}.")),
                ];
                if why.contains("too little history") {
                    lines.push(Line::from(""));
                    lines.push(Line::from(
                        "Tuning holds out the last 30% of the history to check the answer, and that part must cover a day. \
                         Keep more in memory: [ui] history = \"4d\" (the demo also needs [demo] backfill = \"4d\"), \
                         or run `scaletop tune` on an export (`scaletop sim export`, --input FILE).",
                    ));
                }
                render_message(frame, inner, lines)
            }
        },
    }
}

/// The bottom hint and the title's second part.
fn footer(state: &TuningState) -> (String, String) {
    let title = state.about.clone().unwrap_or_default();
    let hint = match &state.phase {
        Phase::Waiting | Phase::Running => " Esc / c cancel the search ".to_string(),
        Phase::Finished(_) if state.result().is_some_and(|r| r.recommendation.is_some()) => {
            let r = state.result().map(|r| verdict(&r.outcome));
            match r {
                Some(Verdict::DoesNotHold) => {
                    " a accept anyway (does not hold on held-out; shows the diff first) · t search again · Esc close "
                        .to_string()
                }
                _ => " a / Enter accept (shows the diff first) · t search again · Esc close "
                    .to_string(),
            }
        }
        _ => " t search again · Esc close ".to_string(),
    };
    (
        hint,
        if title.is_empty() {
            title
        } else {
            format!("· {title} ")
        },
    )
}

fn elapsed(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        fmt_span(seconds.round() as i64)
    }
}

fn render_message(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn render_progress(
    state: &TuningState,
    theme: &Theme,
    now: DateTime<Utc>,
    frame: &mut Frame,
    area: Rect,
) {
    let (done, total) = state.progress();
    let secs = state
        .started_at
        .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
    let [text_area, gauge_area, _] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    let what = if state.cancelling() {
        "cancelling…".to_string()
    } else if total == 0 {
        "replaying the current policy and building the search space…".to_string()
    } else {
        format!("searching: {done} / {total} candidates replayed")
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(Span::styled(what, theme.title())),
            Line::from(format!(
                "{} elapsed · every candidate is replayed in full on the first 70% of the history; the last 30% checks the answer",
                elapsed(secs)
            )),
        ])
        .wrap(Wrap { trim: false }),
        text_area,
    );
    let ratio = if total > 0 {
        (done as f64 / total as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    frame.render_widget(
        Gauge::default()
            .gauge_style(theme.series(1))
            .ratio(ratio)
            .label(format!("{done} / {total}")),
        gauge_area,
    );
}

fn render_result(
    state: &TuningState,
    o: &TuneJobOutcome,
    r: &TuneResult,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let t = &r.outcome;
    // Below this the Pareto list and the settings give way to the verdict and the figures.
    let compact = area.width < 120 || area.height < 36;
    let head = headline(t, r.max_replicas, o, !compact, theme);
    let mut compare = compare_lines(t, theme);
    if compact {
        compare.truncate(5);
    }
    let mut notes = Vec::new();
    if compact {
        notes.push(front_summary(t, theme));
    }
    notes.extend(notes_lines(t, theme));
    let head_h = wrapped_height(&head, area.width);
    let compare_h = compare.len() as u16 + 2;
    let notes_h = wrapped_height(&notes, area.width);
    let left = area.height.saturating_sub(head_h + compare_h + notes_h);
    // The chart takes what is left at 160x48; when short, the figures and notes come first and
    // the chart shows only if it has room to say something.
    let chart_h = match (compact, left) {
        (false, l) => l.max(5),
        (true, l) if l >= 6 => l,
        _ => 0,
    };
    let [head_area, chart_area, table_area, notes_area] = Layout::vertical([
        Constraint::Length(head_h),
        Constraint::Length(chart_h),
        Constraint::Length(compare_h),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: false }), head_area);
    if chart_h > 0 {
        render_chart(state, r, theme, frame, chart_area);
    }
    let compare_w = if compact {
        table_area.width
    } else {
        64.min(table_area.width / 2 + 8)
    };
    let [compare_area, front_area] =
        Layout::horizontal([Constraint::Length(compare_w), Constraint::Min(0)]).areas(table_area);
    frame.render_widget(
        Paragraph::new(compare).block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(" Current vs recommended ", theme.title())),
        ),
        compare_area,
    );
    if !compact {
        render_front(t, theme, frame, front_area);
    }
    frame.render_widget(Paragraph::new(notes).wrap(Wrap { trim: false }), notes_area);
}

/// The Pareto front in one line, for small terminals.
fn front_summary(t: &TuneOutcome, theme: &Theme) -> Line<'static> {
    let f = &t.pareto_front;
    let (Some(a), Some(b)) = (f.first(), f.last()) else {
        return Line::from(Span::styled(
            "Pareto front: no thrash-free candidate finished.",
            theme.dim(),
        ));
    };
    Line::from(vec![
        Span::styled("Pareto front: ", theme.dim()),
        Span::raw(format!(
            "{} points, {}/month at {:.0} SLA min to {}/month at {:.0} (a larger terminal lists them)",
            f.len(),
            money(a.train.cost_usd_per_month),
            a.train.sla_violation_minutes,
            money(b.train.cost_usd_per_month),
            b.train.sla_violation_minutes
        )),
    ])
}

/// Rows `lines` take when wrapped at `width` (word wrapping may take a row more per line).
fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    let w = usize::from(width.max(1));
    lines
        .iter()
        .map(|l| match l.width() {
            n if n > w => (n.div_ceil(w) + 1) as u16,
            _ => 1,
        })
        .sum()
}

/// The verdict in one line, the settings, and what was searched.
fn headline(
    t: &TuneOutcome,
    max_replicas: u32,
    o: &TuneJobOutcome,
    settings: bool,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let c = &t.current.heldout;
    let mut lines = Vec::new();
    match (&t.recommended, verdict(t)) {
        (Some(rec), Verdict::Better) => lines.push(Line::from(Span::styled(
            format!(
                "✓ {} holds on the held-out 30%{}: {}/month vs {} now ({:+.1}%), {:.0} vs {:.0} SLA-violation min, {} vs {} thrash",
                rec.kind.words(),
                if eligible(c) {
                    ""
                } else {
                    " where the current policy does not"
                },
                money(rec.heldout.cost_usd_per_month),
                money(c.cost_usd_per_month),
                -rec.saving_percent,
                rec.heldout.sla_violation_minutes,
                c.sla_violation_minutes,
                rec.heldout.thrash_events,
                c.thrash_events
            ),
            theme.good(),
        ))),
        (Some(rec), Verdict::NoBetter) => lines.push(Line::from(Span::styled(
            format!(
                "No better policy: the current one keeps the Slo on the held-out 30% at {}/month; the cheapest candidate that does costs {}",
                money(c.cost_usd_per_month),
                money(rec.heldout.cost_usd_per_month)
            ),
            theme.warn(),
        ))),
        (Some(rec), _) => lines.push(Line::from(Span::styled(
            format!(
                "✗ The recommendation does NOT hold on the held-out 30%: {}",
                rec.heldout_problems.join("; ")
            ),
            theme.alert(),
        ))),
        (None, _) => lines.push(Line::from(Span::styled(
            format!(
                "✗ None of the {} candidates keeps the Slo without thrash (max {} replicas){}",
                t.candidates,
                max_replicas,
                t.best_reachable.as_ref().map_or(String::new(), |b| format!(
                    "; best reachable: {:.0} SLA-violation min at {}/month{} ({})",
                    b.train.sla_violation_minutes,
                    money(b.train.cost_usd_per_month),
                    {
                        let mut why = b.train.slo_problems.clone();
                        if b.train.thrash_events > 0 {
                            why.push(format!("{} thrash pairs", b.train.thrash_events));
                        }
                        if why.is_empty() {
                            String::new()
                        } else {
                            format!(", but {}", why.join("; "))
                        }
                    },
                    settings_line(&b.settings)
                ))
            ),
            theme.alert(),
        ))),
    }
    if let Some(rec) = t.recommended.as_ref().filter(|_| settings) {
        lines.push(Line::from(vec![
            Span::styled("recommended: ", theme.dim()),
            Span::raw(settings_line(&rec.settings)),
        ]));
    }
    lines.push(Line::from(Span::styled(
        format!(
            "{} candidates ({} replayed in full, {} rejected early as dominated) in {} · tuned on the first {:.0} h, held out the last {:.0} h",
            o.total.max(t.candidates),
            t.completed,
            t.rejected_early,
            elapsed(o.elapsed.as_secs_f64()),
            t.split.train_hours,
            t.split.heldout_hours
        ),
        theme.dim(),
    )));
    lines
}

fn render_chart(state: &TuningState, r: &TuneResult, theme: &Theme, frame: &mut Frame, area: Rect) {
    let t = &r.outcome;
    let n = r.current_line.len();
    let buckets = n.clamp(1, MAX_POINTS);
    let step = r
        .outcome
        .current_replay
        .as_ref()
        .and_then(|x| {
            let s = &x.steps;
            (s.len() > 1).then(|| (s[1].timestamp - s[0].timestamp).num_seconds())
        })
        .unwrap_or(60);
    let span = n as i64 * step;
    let train_share = t.split.train_steps as f64 / n.max(1) as f64;
    let cut_label = format!(
        "held out from -{}",
        fmt_span(((1.0 - train_share) * span as f64) as i64)
    );
    let mut series = vec![ChartSeries::line(
        theme.series(0),
        bucket_means(&present(&r.current_line), buckets),
    )];
    let mut title = vec![
        Span::styled(format!(" {} replicas — ", state.group.name), theme.title()),
        Span::styled("current", theme.series(0)),
    ];
    if !r.recommended_line.is_empty() {
        series.push(ChartSeries::line(
            theme.series(2),
            bucket_means(&present(&r.recommended_line), buckets),
        ));
        title.push(Span::raw(" vs "));
        title.push(Span::styled("recommended", theme.series(2)));
    }
    series.push(ChartSeries::line(
        theme.alert(),
        vec![Some(f64::from(r.max_replicas)); buckets],
    ));
    title.push(Span::raw(", "));
    title.push(Span::styled(
        format!("max {}", r.max_replicas),
        theme.alert(),
    ));
    title.push(Span::styled(format!(" · {cut_label} "), theme.dim()));
    chart::render(
        frame,
        area,
        theme,
        Line::from(title),
        series,
        vec![
            Span::styled(format!("-{}", fmt_span(span)), theme.dim()),
            Span::styled("now", theme.dim()),
        ],
        Some(0.0),
    );
}

fn compare_lines(t: &TuneOutcome, theme: &Theme) -> Vec<Line<'static>> {
    let c = &t.current;
    let rec = t.recommended.as_ref();
    let dash = || "—".to_string();
    let row = |label: &str, a: String, b: String| Line::from(format!(" {label:<26}{a:>12}{b:>13}"));
    let both = |f: &dyn Fn(&Figures) -> String, label: &str, held: bool| {
        let pick = |x: &Figures| f(x);
        let cur = if held { &c.heldout } else { &c.train };
        row(
            label,
            pick(cur),
            rec.map_or_else(dash, |r| pick(if held { &r.heldout } else { &r.train })),
        )
    };
    let cost = |f: &Figures| format!("{}/mo", money(f.cost_usd_per_month));
    let sla = |f: &Figures| {
        format!(
            "{:.0} / {:.0}",
            f.sla_violation_minutes, f.sla_budget_minutes
        )
    };
    let thrash = |f: &Figures| f.thrash_events.to_string();
    let waste = |f: &Figures| format!("{:.1}%", f.waste_percent);
    let events = |f: &Figures| (f.scale_up_events + f.scale_down_events).to_string();
    let tts = |f: &Figures| {
        f.max_time_to_scale_seconds
            .map_or("—".to_string(), |s| format!("{s} s"))
    };
    let peak = |f: &Figures| f.peak_replicas.to_string();
    vec![
        Line::from(Span::styled(
            format!(" {:<26}{:>12}{:>13}", "", "current", "recommended"),
            theme.table_header(),
        )),
        both(&cost, "held-out cost", true),
        both(&sla, "held-out SLA min / budget", true),
        both(&thrash, "held-out thrash pairs", true),
        both(&waste, "held-out waste", true),
        both(&events, "held-out scale events", true),
        both(&tts, "held-out max time to scale", true),
        both(&peak, "held-out peak replicas", true),
        both(&cost, "training cost", false),
        both(&sla, "training SLA min / budget", false),
        both(&thrash, "training thrash pairs", false),
    ]
}

fn render_front(t: &TuneOutcome, theme: &Theme, frame: &mut Frame, area: Rect) {
    let rows = area.height.saturating_sub(3) as usize;
    let rec_ix = t.recommended.as_ref().map(|r| r.candidate);
    let mut lines = vec![Line::from(Span::styled(
        format!(" {:>9} {:>8}  settings", "$/month", "SLA min"),
        theme.table_header(),
    ))];
    let front = &t.pareto_front;
    // Keep the recommended point in view when the front is longer than the box.
    let at = front
        .iter()
        .position(|p| Some(p.candidate) == rec_ix)
        .unwrap_or(0);
    let first = at
        .saturating_sub(rows.saturating_sub(1) / 2)
        .min(front.len().saturating_sub(rows));
    for p in front.iter().skip(first).take(rows) {
        let mark = Some(p.candidate) == rec_ix;
        let text = format!(
            " {:>9} {:>8.0}  {}{}",
            money(p.train.cost_usd_per_month),
            p.train.sla_violation_minutes,
            if mark { "◀ recommended · " } else { "" },
            settings_line(&p.settings)
        );
        lines.push(Line::from(Span::styled(
            text,
            if mark { theme.selected() } else { theme.base() },
        )));
    }
    if front.is_empty() {
        lines.push(Line::from(Span::styled(
            " no thrash-free candidate finished",
            theme.dim(),
        )));
    }
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(vec![
            Span::styled(" Pareto front ", theme.title()),
            Span::styled(
                format!(
                    "{} thrash-free points, training part, cheapest first ",
                    front.len()
                ),
                theme.dim(),
            ),
        ])),
        area,
    );
}

/// The current policy's pitfalls and the policy-type choice.
fn notes_lines(t: &TuneOutcome, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if t.pitfalls.is_empty() {
        lines.push(Line::from(Span::styled(
            "Pitfalls of the current policy: none found in its replay.",
            theme.dim(),
        )));
    } else {
        lines.push(Line::from(Span::styled(
            format!("Pitfalls of the current policy ({}):", t.pitfalls.len()),
            theme.title(),
        )));
        for p in &t.pitfalls {
            let (tag, style): (&str, Style) = match p.fixed {
                Some(true) => (" [fixed by the recommendation]", theme.good()),
                Some(false) => (" [still present]", theme.warn()),
                None => ("", theme.base()),
            };
            lines.push(Line::from(vec![
                Span::raw(format!(" • {}", p.title)),
                Span::styled(tag.to_string(), style),
                Span::raw(format!(": {}", p.evidence.join("; "))),
            ]));
        }
    }
    let mut choice = t.choice.clone();
    if let Some(m) = &t.metric_choice {
        // The metric sentence gets its own line; the type line keeps the rest.
        choice = choice.replacen(&format!(" {}", m.choice.explanation), "", 1);
        lines.push(Line::from(vec![
            Span::styled("Scaling metric: ", theme.dim()),
            Span::raw(metric_line(m)),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled("Policy type: ", theme.dim()),
        Span::raw(choice),
    ]));
    lines
}

/// The analysis's metric choice as the search used it: the metrics, the one-sentence reason,
/// and what replay made of it.
fn metric_line(m: &crate::engine::tune::MetricChoiceResult) -> String {
    let metrics: Vec<String> = m
        .choice
        .metrics
        .iter()
        .map(|c| {
            if c.target_type == "utilization" {
                format!("{} (target {:.0}%)", c.metric, c.target)
            } else {
                format!("{} (target {})", c.metric, c.target)
            }
        })
        .collect();
    let outcome = match (&m.not_searched, m.searched, m.recommended) {
        (Some(why), _, _) => format!(" Not searched: {why}."),
        (None, true, true) => " Searched beside the current metrics: the chosen ones win.".into(),
        (None, true, false) => {
            " Searched beside the current metrics: the current ones stay cheaper.".into()
        }
        (None, false, _) => String::new(),
    };
    format!(
        "{} — {}{outcome}",
        if metrics.is_empty() {
            "keep the current metrics".to_string()
        } else {
            metrics.join(", ")
        },
        m.choice.explanation
    )
}
