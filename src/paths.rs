//! Where scaletop reads and writes on this machine (XDG via `directories`).

use std::path::PathBuf;

use directories::ProjectDirs;

fn project_dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("dev", "scaletop", "scaletop")
}

/// `$XDG_CONFIG_HOME/scaletop/config.toml` (or the platform's equivalent).
pub fn default_config_file() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("config.toml"))
}

/// Directory for the log file: the XDG state dir, else the cache dir.
pub fn log_dir() -> PathBuf {
    project_dirs()
        .map(|d| {
            d.state_dir()
                .map(|p| p.to_path_buf())
                .unwrap_or_else(|| d.cache_dir().to_path_buf())
        })
        .unwrap_or_else(std::env::temp_dir)
}

pub const LOG_FILE_NAME: &str = "scaletop.log";
