//! TOML configuration. Resolution order: `--config FILE`, else `$SCALETOP_CONFIG`, else the XDG
//! config file if it exists, else the built-in demo. Every key is documented in
//! `config.example.toml`, which a test parses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::duration::parse_duration;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub general: GeneralConfig,
    pub demo: DemoConfig,
    pub ui: UiConfig,
    /// Action name -> keys, e.g. `quit = ["q", "ctrl-c"]`. Overrides the built-in keymap.
    pub keys: BTreeMap<String, Vec<String>>,
    pub sources: SourcesConfig,
    pub pricing: PricingConfig,
    pub cost: CostConfig,
    pub forecast: ForecastConfig,
    pub alerts: crate::alerts::AlertsConfig,
    pub loadtest: crate::scorecard::LoadTestTargets,
}

/// Price overrides and the user pricing file (`scaletop pricing import` writes it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PricingConfig {
    /// User pricing file; empty means `<output_dir>/pricing.toml`.
    pub file: String,
    /// Single prices that replace the catalog's (e.g. negotiated rates).
    pub overrides: Vec<crate::pricing::PriceOverride>,
}

impl PricingConfig {
    /// The user pricing file path.
    pub fn file_path(&self, general: &GeneralConfig) -> PathBuf {
        if self.file.is_empty() {
            general
                .output_dir
                .join(crate::pricing::user_file::FILE_NAME)
        } else {
            PathBuf::from(&self.file)
        }
    }
}

/// Cost analysis (`scaletop cost --input`, the Cost tab): the commitments already held, and
/// the nodes pod groups run on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostConfig {
    /// Reserved instances and savings plans held today, with their end dates.
    pub commitments: Vec<crate::engine::cost::plan::ExistingCommitment>,
    /// Instance type of the Kubernetes nodes pod groups run on (the Cost tab prices pods from
    /// it). Empty: unknown (a built-in scenario carries its own).
    pub node_type: String,
    /// Region of those nodes. Empty: the node type's first catalog region, said as an
    /// assumption.
    pub region: String,
    /// Availability zones each group's instances span today, by group name (the spot plan's
    /// starting spread); a group not listed is taken to span 3.
    pub availability_zones: std::collections::BTreeMap<String, u32>,
}

/// Forecasting (issue 5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForecastConfig {
    /// Known events calendar: a TOML file of `[[event]]` tables, as `scaletop forecast
    /// --events`. Empty: none.
    pub events_file: String,
}

/// Live data sources. With none configured the TUI runs the demo simulator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourcesConfig {
    pub prometheus: Vec<crate::sources::prometheus::PrometheusSourceConfig>,
    /// `/metrics` endpoints scraped directly (no Prometheus in between).
    pub scrape: Vec<crate::sources::scrape::ScrapeSourceConfig>,
    /// Google Cloud projects: MIG autoscalers and their Cloud Monitoring CPU.
    pub gcp: Vec<crate::sources::gcp::GcpSourceConfig>,
    /// Azure subscriptions: VM scale set autoscale settings, capacity, CPU and autoscale runs.
    pub azure: Vec<crate::sources::azure::AzureSourceConfig>,
    /// Kubernetes clusters (HPAs, VPAs, KEDA, Events); needs the `kubernetes` cargo feature.
    pub kubernetes: Vec<crate::sources::kubernetes::KubernetesSourceConfig>,
    /// EC2 Auto Scaling groups and CloudWatch (cargo feature `aws`).
    pub aws: Vec<crate::sources::aws::AwsSourceConfig>,
}

impl SourcesConfig {
    /// Live sources configured (with none the TUI runs the demo simulator).
    pub fn count(&self) -> usize {
        self.prometheus.len()
            + self.scrape.len()
            + self.gcp.len()
            + self.azure.len()
            + self.kubernetes.len()
            + self.aws.len()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneralConfig {
    /// Every file scaletop writes goes here, through the guarded writer.
    pub output_dir: PathBuf,
    /// Refuse every write (emit, accept, report).
    pub readonly: bool,
    /// tracing filter for the log file, e.g. "info" or "scaletop=debug".
    pub log_level: String,
}

impl Default for GeneralConfig {
    fn default() -> Self {
        Self {
            output_dir: PathBuf::from("./scaletop-out"),
            readonly: false,
            log_level: "info".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemoConfig {
    /// Built-in scenario the simulator runs when no other source is configured.
    pub scenario: String,
    pub seed: u64,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// History simulated at start, e.g. "4d" (tuning needs 80 h); empty: the chart window.
    pub backfill: String,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            scenario: "ecommerce".into(),
            seed: 42,
            speed: 60.0,
            backfill: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    /// Highest redraw rate for live data, per second. Keys and resizes redraw at once.
    pub max_fps: f64,
    /// History kept in memory per series, e.g. "24h" (at the store's step).
    pub history: String,
    /// Initial time window of charts, e.g. "2h".
    pub chart_window: String,
    /// Use colours. `NO_COLOR` in the environment also turns them off.
    pub color: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            max_fps: 4.0,
            history: "24h".into(),
            chart_window: "2h".into(),
            color: true,
        }
    }
}

/// Where the configuration came from, printed by `--version`.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigSource {
    Flag(PathBuf),
    Env(PathBuf),
    Xdg(PathBuf),
    BuiltIn,
}

impl ConfigSource {
    pub fn describe(&self) -> String {
        match self {
            ConfigSource::Flag(p) => format!("{} (--config)", p.display()),
            ConfigSource::Env(p) => format!("{} ($SCALETOP_CONFIG)", p.display()),
            ConfigSource::Xdg(p) => format!("{} (user config)", p.display()),
            ConfigSource::BuiltIn => "built-in defaults (demo)".into(),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            ConfigSource::Flag(p) | ConfigSource::Env(p) | ConfigSource::Xdg(p) => Some(p),
            ConfigSource::BuiltIn => None,
        }
    }
}

/// A config problem, naming file, line and key.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{file}:{line}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Picks the config file by precedence. `env_value` is `$SCALETOP_CONFIG`, `xdg` the default
/// path (used only if it exists).
pub fn resolve_source(
    flag: Option<&Path>,
    env_value: Option<&str>,
    xdg: Option<&Path>,
) -> ConfigSource {
    if let Some(p) = flag {
        return ConfigSource::Flag(p.to_path_buf());
    }
    if let Some(v) = env_value.filter(|v| !v.is_empty()) {
        return ConfigSource::Env(PathBuf::from(v));
    }
    match xdg {
        Some(p) if p.is_file() => ConfigSource::Xdg(p.to_path_buf()),
        _ => ConfigSource::BuiltIn,
    }
}

/// Loads the config from its source.
pub fn load(source: &ConfigSource) -> Result<Config, ConfigError> {
    let Some(path) = source.path() else {
        return Ok(Config::default());
    };
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: file.clone(),
        line: 0,
        message: format!("cannot read config: {e}"),
    })?;
    parse(&text, &file)
}

/// Parses and validates config text; `file` is used in error messages.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(0);
        let key = line_key(text, line);
        let message = e.message().trim().to_string();
        ConfigError {
            file: file.to_string(),
            line,
            message: match key {
                Some(k) if !message.contains(&format!("`{k}`")) => format!("key `{k}`: {message}"),
                _ => message,
            },
        }
    })?;
    validate(&config, text, file)?;
    Ok(config)
}

/// The key assigned on a 1-based line, if that line is `key = value`.
fn line_key(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let (k, _) = l.split_once('=')?;
    let k = k.trim();
    (!k.is_empty() && !k.starts_with('[')).then(|| k.to_string())
}

/// Line of the first `key =` in the text, for semantic errors found after parsing.
fn find_key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            l.split_once('=')
                .is_some_and(|(k, _)| k.trim() == key || k.trim() == format!("\"{key}\""))
        })
        .map(|i| i + 1)
        .unwrap_or(0)
}

/// The key a "key: message" error names.
fn config_key(message: &str) -> &str {
    message.split_once(':').map_or("name", |(k, _)| k)
}

fn validate(c: &Config, text: &str, file: &str) -> Result<(), ConfigError> {
    let err = |key: &str, message: String| ConfigError {
        file: file.to_string(),
        line: find_key_line(text, key),
        message: format!("key `{key}`: {message}"),
    };
    if !(c.demo.speed.is_finite() && c.demo.speed > 0.0 && c.demo.speed <= 100_000.0) {
        return Err(err(
            "speed",
            format!("must be between 0 and 100000, got {}", c.demo.speed),
        ));
    }
    if !(c.ui.max_fps.is_finite() && c.ui.max_fps > 0.0 && c.ui.max_fps <= 60.0) {
        return Err(err(
            "max_fps",
            format!("must be between 0 and 60, got {}", c.ui.max_fps),
        ));
    }
    for key in ["history", "chart_window"] {
        let v = if key == "history" {
            &c.ui.history
        } else {
            &c.ui.chart_window
        };
        parse_duration(v).map_err(|e| err(key, e))?;
    }
    if !c.demo.backfill.is_empty() {
        parse_duration(&c.demo.backfill).map_err(|e| err("backfill", e))?;
    }
    let mut names = std::collections::BTreeSet::new();
    for p in &c.sources.prometheus {
        if !names.insert(p.name.as_str()) {
            return Err(err("name", format!("two sources are named '{}'", p.name)));
        }
        crate::sources::prometheus::source::PromSourceSettings::from_config(p)
            .map_err(|e| err("url", format!("source '{}': {e}", p.name)))?;
        crate::sources::prometheus::client::sanitize_base_url(&p.url)
            .map_err(|e| err("url", format!("source '{}': {e}", p.name)))?;
    }
    for sc in &c.sources.scrape {
        if !names.insert(sc.name.as_str()) {
            return Err(err("name", format!("two sources are named '{}'", sc.name)));
        }
        crate::sources::scrape::validate(sc)
            .map_err(|e| err("url", format!("scrape source '{}': {e}", sc.name)))?;
    }
    for g in &c.sources.gcp {
        if !names.insert(g.name.as_str()) {
            return Err(err("name", format!("two sources are named '{}'", g.name)));
        }
        crate::sources::gcp::GcpSettings::from_config(g)
            .map_err(|e| err(config_key(&e), format!("gcp source '{}': {e}", g.name)))?;
    }
    for a in &c.sources.azure {
        if !names.insert(a.name.as_str()) {
            return Err(err("name", format!("two sources are named '{}'", a.name)));
        }
        crate::sources::azure::AzureSettings::from_config(a)
            .map_err(|e| err(config_key(&e), format!("azure source '{}': {e}", a.name)))?;
    }
    for k in &c.sources.kubernetes {
        if !names.insert(k.name.as_str()) {
            return Err(err("name", format!("two sources are named '{}'", k.name)));
        }
        crate::sources::kubernetes::config::validate(k).map_err(|e| ConfigError {
            file: file.to_string(),
            line: text
                .lines()
                .position(|l| l.trim() == "[[sources.kubernetes]]")
                .map_or(0, |i| i + 1),
            message: format!("[[sources.kubernetes]] '{}': {e}", k.name),
        })?;
    }
    for a in &c.sources.aws {
        if !names.insert(a.name.as_str()) {
            return Err(err("name", format!("two sources are named '{}'", a.name)));
        }
        crate::sources::aws::validate(a).map_err(|e| {
            let keys = [
                "interval",
                "period",
                "backfill",
                "retry_mode",
                "max_attempts",
            ];
            match keys
                .into_iter()
                .chain(["regions"])
                .find(|k| e.starts_with(k))
            {
                Some(key) => err(key, format!("aws source '{}': {e}", a.name)),
                // No key to blame (the feature is missing): point at the table.
                None => ConfigError {
                    file: file.to_string(),
                    line: text
                        .lines()
                        .position(|l| l.trim() == "[[sources.aws]]")
                        .map_or(0, |i| i + 1),
                    message: format!("[[sources.aws]] '{}': {e}", a.name),
                },
            }
        })?;
    }
    for o in &c.pricing.overrides {
        if !(o.usd_per_hour.is_finite() && o.usd_per_hour > 0.0) {
            return Err(err(
                "usd_per_hour",
                format!(
                    "pricing override {} in {}: price must be a positive number, got {}",
                    o.name, o.region, o.usd_per_hour
                ),
            ));
        }
    }
    c.loadtest
        .max_time_to_scale_seconds()
        .map_err(|e| err("max_time_to_scale", e))?;
    if !(c.loadtest.p95_ms.is_finite() && c.loadtest.p95_ms > 0.0) {
        return Err(err(
            "p95_ms",
            format!("must be a positive number, got {}", c.loadtest.p95_ms),
        ));
    }
    c.alerts.rules().map_err(|e| {
        let key = if e.contains("group_interval") {
            "group_interval"
        } else if e.contains("renotify") {
            "renotify"
        } else {
            "name"
        };
        err(key, e)
    })?;
    crate::tui::keymap::Keymap::with_overrides(&c.keys).map_err(|(action, message)| {
        let key = action.clone();
        ConfigError {
            file: file.to_string(),
            line: find_key_line(text, &key),
            message: format!("key `keys.{action}`: {message}"),
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_demo() {
        assert_eq!(parse("", "x.toml"), Ok(Config::default()));
    }

    #[test]
    fn wrong_type_names_file_line_and_key() {
        let text = "[demo]\nscenario = \"game\"\nspeed = \"fast\"\n";
        let e = parse(text, "c.toml").unwrap_err();
        assert_eq!(e.file, "c.toml");
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("speed"), "{e}");
    }

    #[test]
    fn unknown_key_is_rejected_with_its_line() {
        let text = "[ui]\nmax_fps = 4\ncolour = true\n";
        let e = parse(text, "c.toml").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("colour"), "{e}");
    }

    #[test]
    fn semantic_errors_name_the_key() {
        let e = parse("[demo]\n\nspeed = -1.0\n", "c.toml").unwrap_err();
        assert_eq!((e.line, e.message.contains("speed")), (3, true), "{e}");
        let e = parse("[ui]\nhistory = \"forever\"\n", "c.toml").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn prometheus_sources_parse_and_bad_ones_name_the_problem() {
        let text = "[[sources.prometheus]]\nname = \"prod\"\nurl = \"https://prom:9090\"\npreset = \"http\"\n\n[sources.prometheus.headers]\nX-Scope-OrgID = \"t1\"\n";
        let c = parse(text, "c.toml").expect("valid");
        assert_eq!(c.sources.prometheus[0].preset, "http");
        assert_eq!(c.sources.prometheus[0].interval, "15s");
        let e = parse(&text.replace("http\"", "graphite\""), "c.toml").unwrap_err();
        assert!(e.message.contains("graphite"), "{e}");
        let e = parse(&text.replace("https://", "ftp://"), "c.toml").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = parse("[[sources.prometheus]]\nintervall = \"1s\"\n", "c.toml").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn kubernetes_sources_need_the_feature() {
        let text = "[general]\n\n[[sources.kubernetes]]\nname = \"prod\"\ncontext = \"prod\"\nnamespaces = [\"shop\"]\n";
        let with_feature = cfg!(feature = "kubernetes");
        match parse(text, "c.toml") {
            Ok(c) => {
                assert!(with_feature, "accepted without the feature");
                assert_eq!(c.sources.count(), 1);
                assert_eq!(c.sources.kubernetes[0].resync, "15s");
            }
            Err(e) => {
                assert!(!with_feature, "{e}");
                assert_eq!(e.line, 3, "{e}");
                assert!(
                    e.message
                        .contains("rebuild with `cargo install --features kubernetes`"),
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn aws_table_needs_the_feature_and_valid_keys() {
        let text = "[demo]\nseed = 1\n\n[[sources.aws]]\nregions = [\"us-east-1\"]\n";
        let r = parse(text, "c.toml");
        if cfg!(feature = "aws") {
            assert_eq!(r.map(|c| c.sources.count()), Ok(1));
            let e = parse(&format!("{text}retry_mode = \"eager\"\n"), "c.toml").unwrap_err();
            assert_eq!(e.line, 6, "{e}");
        } else {
            let e = r.unwrap_err();
            assert_eq!(e.line, 4, "{e}");
            assert!(e.message.contains("cargo install --features aws"), "{e}");
        }
    }

    #[test]
    fn precedence_flag_env_xdg_builtin() {
        let dir = std::env::temp_dir();
        let flag = dir.join("a.toml");
        assert_eq!(
            resolve_source(Some(&flag), Some("b.toml"), None),
            ConfigSource::Flag(flag.clone())
        );
        assert_eq!(
            resolve_source(None, Some("b.toml"), None),
            ConfigSource::Env("b.toml".into())
        );
        let missing = dir.join("scaletop-no-such-config.toml");
        assert_eq!(
            resolve_source(None, None, Some(&missing)),
            ConfigSource::BuiltIn
        );
    }
}
