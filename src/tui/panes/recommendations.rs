//! The `r` pane: every Recommendation (from the engines, and recommendation JSON files in the
//! output directory), ranked by risk-adjusted monthly saving (emit::rank), with its evidence,
//! filterable by group (`/`) and kind (`s` cycles). `a` opens a confirmation showing exactly
//! what will be written and where (a unified diff against existing files); `Enter` writes it
//! through the guarded writer, which refuses in read-only mode. Nothing is applied to a live
//! cluster or cloud: after writing, the pane shows the command to run (e.g. `kubectl apply`).

use std::path::{Path, PathBuf};

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::artifact::{Artifact, PolicyFormat};
use crate::emit::writer::{GuardedWriter, WritePlan};
use crate::emit::{self, rank, EmitContext, Target};
use crate::model::{Recommendation, RecommendationKind};
use crate::tui::app::FilterState;
use crate::tui::theme::Theme;

const KINDS: [RecommendationKind; 8] = [
    RecommendationKind::Policy,
    RecommendationKind::Metric,
    RecommendationKind::Sizing,
    RecommendationKind::InstanceType,
    RecommendationKind::Spot,
    RecommendationKind::Commitment,
    RecommendationKind::Schedule,
    RecommendationKind::Concurrency,
];

fn kind_label(k: RecommendationKind) -> &'static str {
    match k {
        RecommendationKind::Policy => "policy",
        RecommendationKind::Metric => "metric",
        RecommendationKind::Sizing => "sizing",
        RecommendationKind::InstanceType => "instance-type",
        RecommendationKind::Spot => "spot",
        RecommendationKind::Commitment => "commitment",
        RecommendationKind::Schedule => "schedule",
        RecommendationKind::Concurrency => "concurrency",
    }
}

/// What `a` is about to write, shown before anything happens.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub id: String,
    pub target: Target,
    pub plan: WritePlan,
    /// Lines of the diff scrolled past.
    pub scroll: usize,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecommendationsState {
    /// Ranked best first.
    pub items: Vec<Recommendation>,
    /// Files in the output directory that looked like recommendations but could not be read.
    pub errors: Vec<String>,
    pub cursor: usize,
    pub kind: Option<RecommendationKind>,
    pub confirm: Option<Confirm>,
    /// The outcome of the last accept (what was written, the command to apply it).
    pub outcome: Option<Vec<String>>,
}

impl RecommendationsState {
    /// The engines' recommendations plus every recommendation JSON file directly in `dir`.
    pub fn load(engine: &[Recommendation], dir: &Path) -> Self {
        let mut items = engine.to_vec();
        let mut errors = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "json"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        for path in files {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            // Only files that say they are recommendations; other JSON is not ours to judge.
            if !text.contains("scaletop.recommendation/") {
                continue;
            }
            match emit::source::parse_recommendations(&text, &path.display().to_string()) {
                Ok(recs) => items.extend(recs),
                Err(e) => errors.push(e),
            }
        }
        items.dedup_by(|a, b| a.id == b.id);
        rank::rank(&mut items);
        Self {
            items,
            errors,
            ..Default::default()
        }
    }

    /// Indices of the items the group filter and kind filter let through.
    pub fn visible(&self, filter: &FilterState) -> Vec<usize> {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, r)| filter.matches(&r.group.name))
            .filter(|(_, r)| self.kind.is_none_or(|k| r.kind == k))
            .map(|(i, _)| i)
            .collect()
    }

    pub fn selected<'a>(&'a self, filter: &FilterState) -> Option<&'a Recommendation> {
        self.visible(filter)
            .get(self.cursor)
            .and_then(|&i| self.items.get(i))
    }

    pub fn move_cursor(&mut self, delta: i64, filter: &FilterState) {
        if let Some(c) = &mut self.confirm {
            c.scroll = (c.scroll as i64 + delta).max(0) as usize;
            return;
        }
        let len = self.visible(filter).len() as i64;
        self.cursor = (self.cursor as i64 + delta).clamp(0, (len - 1).max(0)) as usize;
    }

    /// Next kind filter: all, then each kind in turn.
    pub fn cycle_kind(&mut self) {
        self.kind = match self.kind {
            None => Some(KINDS[0]),
            Some(k) => KINDS
                .iter()
                .position(|&x| x == k)
                .and_then(|i| KINDS.get(i + 1).copied()),
        };
        self.cursor = 0;
    }

    /// `a`: plan the selected recommendation's files in its platform's own format (works
    /// read-only: the preview is free).
    pub fn prepare_accept(
        &mut self,
        filter: &FilterState,
        writer: &GuardedWriter,
    ) -> Result<(), String> {
        self.plan_for(filter, writer, None)
    }

    /// `s` in the confirmation: the next target that can express the recommendation (HPA ->
    /// KEDA, AWS requests -> Terraform, ... -> the rollout note alone), re-planned.
    pub fn cycle_target(
        &mut self,
        filter: &FilterState,
        writer: &GuardedWriter,
    ) -> Result<(), String> {
        let Some(current) = self.confirm.as_ref().map(|c| c.target) else {
            return Ok(());
        };
        self.plan_for(filter, writer, Some(current))
    }

    fn plan_for(
        &mut self,
        filter: &FilterState,
        writer: &GuardedWriter,
        after: Option<Target>,
    ) -> Result<(), String> {
        let rec = self
            .selected(filter)
            .cloned()
            .ok_or("no recommendation selected")?;
        let artifact = Artifact::from_value(&rec.artifact)
            .map_err(|e| format!("{}: artifact unreadable: {e}", rec.id))?;
        let target = match after {
            None => default_target(&artifact),
            Some(t) => next_target(t, &artifact),
        };
        let ctx = EmitContext {
            source: "the recommendations pane".into(),
            companions: self.items.clone(),
            ..Default::default()
        };
        let files = emit::emit(target, &rec, &ctx).map_err(|e| e.to_string())?;
        let plan = writer
            .plan(
                files
                    .into_iter()
                    .map(|f| (f.relative, f.contents))
                    .collect(),
            )
            .map_err(|e| e.to_string())?;
        self.outcome = None;
        self.confirm = Some(Confirm {
            id: rec.id,
            target,
            plan,
            scroll: 0,
        });
        Ok(())
    }

    /// `Enter` in the confirmation: write through the guarded writer (which refuses in
    /// read-only mode). Returns the status line.
    pub fn confirm_accept(&mut self, writer: &GuardedWriter) -> String {
        let Some(confirm) = self.confirm.take() else {
            return "nothing to confirm".into();
        };
        match writer.apply(&confirm.plan) {
            Ok(written) => {
                let mut lines = vec![format!(
                    "{}: wrote {} file(s) to {}",
                    confirm.id,
                    written.len(),
                    writer.output_dir().display()
                )];
                lines.extend(written.iter().map(|p| format!("  {}", p.display())));
                lines.extend(apply_hint(confirm.target, &confirm.plan));
                let status = lines[0].clone();
                self.outcome = Some(lines);
                status
            }
            Err(e) => {
                let status = format!("not written: {e}");
                self.outcome = Some(vec![status.clone()]);
                status
            }
        }
    }
}

/// Every target, in the order `s` cycles through them.
const TARGETS: [Target; 10] = [
    Target::Hpa,
    Target::Keda,
    Target::Vpa,
    Target::Aws,
    Target::AwsTerraform,
    Target::Gcp,
    Target::GcpTerraform,
    Target::Azure,
    Target::AzureTerraform,
    Target::Rollout,
];

/// The next target after `current` that accepts the artifact (Rollout accepts everything, so
/// there always is one).
pub fn next_target(current: Target, a: &Artifact) -> Target {
    let at = TARGETS.iter().position(|&t| t == current).unwrap_or(0);
    (1..=TARGETS.len())
        .map(|i| TARGETS[(at + i) % TARGETS.len()])
        .find(|t| t.accepts(a))
        .unwrap_or(Target::Rollout)
}

/// The target a recommendation is written in from the pane: its own platform's format.
pub fn default_target(a: &Artifact) -> Target {
    match a {
        Artifact::Policy(p) => match p.format {
            PolicyFormat::K8sHpa => Target::Hpa,
            PolicyFormat::KedaScaledObject => Target::Keda,
            PolicyFormat::AwsAsg | PolicyFormat::AwsAppscaling => Target::Aws,
            PolicyFormat::GcpAutoscaler => Target::Gcp,
            PolicyFormat::AzureAutoscale => Target::Azure,
        },
        Artifact::Sizing(_) => Target::Vpa,
        Artifact::Spot(_) | Artifact::Concurrency(_) => Target::Aws,
        Artifact::InstanceType(_) | Artifact::Commitment(_) => Target::Rollout,
    }
}

/// The command to copy to apply what was written (scaletop never applies it itself).
pub fn apply_hint(target: Target, plan: &WritePlan) -> Vec<String> {
    let paths = |ext: &str| -> Vec<String> {
        plan.files
            .iter()
            .filter(|f| f.path.extension().is_some_and(|e| e == ext))
            .map(|f| f.path.display().to_string())
            .collect()
    };
    match target {
        Target::Hpa | Target::Vpa | Target::Keda => paths("yaml")
            .into_iter()
            .map(|p| format!("apply it yourself: kubectl apply -f {p}"))
            .collect(),
        Target::Aws => plan
            .files
            .iter()
            .find(|f| f.path.ends_with("aws/apply.sh"))
            .map(|f| vec![format!("apply it yourself: sh {}", f.path.display())])
            .unwrap_or_default(),
        _ => paths("md")
            .into_iter()
            .map(|p| format!("steps to apply: {p}"))
            .collect(),
    }
}

fn money(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("${v:.0}/mo"),
        None => "—".into(),
    }
}

pub fn render(
    state: &RecommendationsState,
    filter: &FilterState,
    readonly: bool,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let popup = Rect {
        x: area.x + 1,
        y: area.y,
        width: area.width.saturating_sub(2),
        height: area.height,
    };
    frame.render_widget(Clear, popup);
    if let Some(c) = &state.confirm {
        render_confirm(c, readonly, theme, frame, popup);
        return;
    }
    let kind = state.kind.map_or("all kinds", kind_label);
    let mut title = vec![
        Span::styled(" Recommendations ", theme.title()),
        Span::styled(format!("({kind}; {}) ", rank::RULE), theme.dim()),
    ];
    if readonly {
        title.push(Span::styled(" READ-ONLY: accept disabled ", theme.warn()));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(title))
        .title_bottom(
            Line::from(
                " j/k move · s kind · / group · a accept (shows the diff first) · Esc close ",
            )
            .centered(),
        );
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let visible = state.visible(filter);
    let [list_area, detail_area] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(inner);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<3} {:<24} {:<13} {:<6} {:>10} {:>10}  title",
            "#", "group", "kind", "risk", "saving", "adjusted"
        ),
        theme.table_header(),
    ))];
    if visible.is_empty() {
        lines.push(Line::from(Span::styled(
            if state.items.is_empty() {
                "No recommendations yet: tune, analyze and cost write them (recommendation JSON in the output directory is read too)."
            } else {
                "No recommendation matches the filter."
            },
            theme.dim(),
        )));
    }
    let rows = list_area.height.saturating_sub(1) as usize;
    let first = state.cursor.saturating_sub(rows.saturating_sub(1));
    for (pos, &i) in visible.iter().enumerate().skip(first).take(rows) {
        let r = &state.items[i];
        let text = format!(
            "{:<3} {:<24} {:<13} {:<6} {:>10} {:>10}  {}",
            pos + 1,
            truncate(&r.group.name, 24),
            kind_label(r.kind),
            format!("{:?}", r.risk).to_lowercase(),
            money(r.saving_usd_month),
            money(Some(rank::adjusted_saving(r))),
            r.title
        );
        let style = if pos == state.cursor {
            theme.selected()
        } else {
            theme.base()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    frame.render_widget(Paragraph::new(lines), list_area);

    let mut detail: Vec<Line> = Vec::new();
    if let Some(outcome) = &state.outcome {
        for l in outcome {
            detail.push(Line::from(Span::styled(l.clone(), theme.good())));
        }
    }
    for e in &state.errors {
        detail.push(Line::from(Span::styled(e.clone(), theme.alert())));
    }
    if let Some(r) = state.selected(filter) {
        detail.push(Line::from(vec![
            Span::styled(format!("{} ", r.id), theme.title()),
            Span::styled(format!("{} · ", r.group), theme.dim()),
            Span::raw(r.title.clone()),
        ]));
        for e in &r.evidence {
            detail.push(Line::from(format!("  • {e}")));
        }
        if let Ok(a) = Artifact::from_value(&r.artifact) {
            detail.push(Line::from(Span::styled(
                format!(
                    "  accept writes: {} ({})",
                    default_target(&a).as_str(),
                    emit::describe(&a)
                ),
                theme.dim(),
            )));
        }
    }
    frame.render_widget(
        Paragraph::new(detail)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::TOP)),
        detail_area,
    );
}

fn render_confirm(c: &Confirm, readonly: bool, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    let verb = if readonly { "Would write" } else { "Write" };
    lines.push(Line::from(Span::styled(
        format!(
            "{verb} {} file(s) for {} as {}:",
            c.plan.files.len(),
            c.id,
            c.target.as_str()
        ),
        theme.title(),
    )));
    for f in &c.plan.files {
        let state = match (&f.existing, f.unchanged()) {
            (None, _) => "new",
            (Some(_), true) => "unchanged",
            (Some(_), false) => "changed; previous kept as .bak",
        };
        lines.push(Line::from(format!("  {} ({state})", f.path.display())));
    }
    if readonly {
        lines.push(Line::from(Span::styled(
            "READ-ONLY mode (--readonly or general.readonly): nothing will be written.",
            theme.warn(),
        )));
    }
    lines.push(Line::from(""));
    for l in c.plan.diff().lines().skip(c.scroll) {
        let style = if l.starts_with('+') && !l.starts_with("+++") {
            theme.good()
        } else if l.starts_with('-') && !l.starts_with("---") {
            theme.alert()
        } else if l.starts_with("@@") {
            theme.dim()
        } else {
            theme.base()
        };
        lines.push(Line::from(Span::styled(l.to_string(), style)));
    }
    let hint = if readonly {
        " j/k scroll · s other format · Esc back (read-only: Enter does nothing) "
    } else {
        " j/k scroll · s other format · Enter writes these files · Esc cancels "
    };
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(
                    " Accept: exactly what will be written ",
                    theme.title(),
                ))
                .title_bottom(Line::from(hint).centered()),
        ),
        area,
    );
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
