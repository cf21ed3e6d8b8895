//! The guarded writer (../shared/CONTRACTS.md "Output directory"): every file scaletop writes
//! goes through here. Writes land in the configured output directory, atomically (temp file in
//! the same directory, then rename), the previous version kept as `<name>.bak`, and are refused
//! in read-only mode — checked here and nowhere else, so no view or command can bypass it.
//! A [`WritePlan`] is built first and shown (a unified diff per file) before anything is written.

use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use similar::TextDiff;

/// Why a write was refused or failed, naming the path.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WriteError {
    #[error(
        "read-only mode (--readonly or `general.readonly` in the config): refusing to write {0}"
    )]
    Readonly(String),
    #[error("output path '{0}' must be a plain relative path inside the output directory")]
    BadPath(String),
    #[error("output directory {dir}: {message}")]
    OutputDir { dir: String, message: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

/// One file to write, relative to the output directory.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedFile {
    pub relative: PathBuf,
    /// Where it will land.
    pub path: PathBuf,
    pub contents: String,
    /// The current contents, when the file exists.
    pub existing: Option<String>,
}

impl PlannedFile {
    /// Unified diff against the existing file ("new file" diff when there is none); empty when
    /// nothing changes.
    pub fn diff(&self) -> String {
        let old = self.existing.as_deref().unwrap_or("");
        if self.existing.is_some() && old == self.contents {
            return String::new();
        }
        let name = self.relative.display().to_string();
        let (a, b) = if self.existing.is_some() {
            (format!("a/{name}"), format!("b/{name}"))
        } else {
            ("/dev/null".to_string(), format!("b/{name}"))
        };
        TextDiff::from_lines(old, &self.contents)
            .unified_diff()
            .context_radius(3)
            .header(&a, &b)
            .to_string()
    }

    pub fn unchanged(&self) -> bool {
        self.existing.as_deref() == Some(self.contents.as_str())
    }
}

/// The files one action will write, built before writing so it can be previewed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WritePlan {
    pub files: Vec<PlannedFile>,
}

impl WritePlan {
    /// All diffs, one after the other.
    pub fn diff(&self) -> String {
        self.files.iter().map(PlannedFile::diff).collect()
    }
}

/// Writes into one output directory, or refuses everything in read-only mode.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardedWriter {
    output_dir: PathBuf,
    readonly: bool,
}

impl GuardedWriter {
    pub fn new(output_dir: impl Into<PathBuf>, readonly: bool) -> Self {
        Self {
            output_dir: output_dir.into(),
            readonly,
        }
    }

    /// From the resolved config (`general.output_dir`, `general.readonly` / `--readonly`).
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        Self::new(cfg.general.output_dir.clone(), cfg.general.readonly)
    }

    pub fn output_dir(&self) -> &Path {
        &self.output_dir
    }

    pub fn readonly(&self) -> bool {
        self.readonly
    }

    /// Plans writing `files` (relative path, contents): reads what exists for the diff. Does not
    /// write; works in read-only mode too, so a preview can always be shown.
    pub fn plan(&self, files: Vec<(PathBuf, String)>) -> Result<WritePlan, WriteError> {
        let dir_error = |message: String| WriteError::OutputDir {
            dir: self.output_dir.display().to_string(),
            message,
        };
        match fs::metadata(&self.output_dir) {
            Ok(m) if !m.is_dir() => return Err(dir_error("exists and is not a directory".into())),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(dir_error(e.to_string())),
        }
        let mut planned = Vec::with_capacity(files.len());
        for (relative, contents) in files {
            check_relative(&relative)?;
            if planned.iter().any(|p: &PlannedFile| p.relative == relative) {
                return Err(WriteError::BadPath(format!(
                    "{} (planned twice)",
                    relative.display()
                )));
            }
            let path = self.output_dir.join(&relative);
            let existing = match fs::read_to_string(&path) {
                Ok(text) => Some(text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io_error(&path, e)),
            };
            planned.push(PlannedFile {
                relative,
                path,
                contents,
                existing,
            });
        }
        Ok(WritePlan { files: planned })
    }

    /// Writes every file of the plan, or none: all temp files are written and flushed first;
    /// only then are previous versions backed up and the temps renamed into place. Returns the
    /// paths written (unchanged files are skipped).
    pub fn apply(&self, plan: &WritePlan) -> Result<Vec<PathBuf>, WriteError> {
        if self.readonly {
            let what = plan
                .files
                .first()
                .map(|f| f.path.display().to_string())
                .unwrap_or_else(|| self.output_dir.display().to_string());
            return Err(WriteError::Readonly(what));
        }
        let todo: Vec<&PlannedFile> = plan.files.iter().filter(|f| !f.unchanged()).collect();
        if todo.is_empty() {
            return Ok(Vec::new());
        }
        fs::create_dir_all(&self.output_dir).map_err(|e| WriteError::OutputDir {
            dir: self.output_dir.display().to_string(),
            message: e.to_string(),
        })?;
        let mut temps: Vec<(PathBuf, &PlannedFile)> = Vec::new();
        for file in &todo {
            match write_temp(file) {
                Ok(tmp) => temps.push((tmp, file)),
                Err(e) => {
                    for (tmp, _) in &temps {
                        let _ = fs::remove_file(tmp);
                    }
                    return Err(e);
                }
            }
        }
        let mut written = Vec::new();
        for (i, (tmp, file)) in temps.iter().enumerate() {
            let result = backup(file)
                .and_then(|_| fs::rename(tmp, &file.path).map_err(|e| io_error(&file.path, e)));
            if let Err(e) = result {
                // Renames are atomic per file; drop the temps that never landed.
                for (rest, _) in &temps[i..] {
                    let _ = fs::remove_file(rest);
                }
                return Err(e);
            }
            written.push(file.path.clone());
        }
        Ok(written)
    }

    /// Plan and apply in one go (headless commands, which print the plan themselves).
    pub fn write_all(&self, files: Vec<(PathBuf, String)>) -> Result<Vec<PathBuf>, WriteError> {
        let plan = self.plan(files)?;
        self.apply(&plan)
    }
}

fn io_error(path: &Path, e: std::io::Error) -> WriteError {
    WriteError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Only plain relative paths: no absolute paths, no `..`, so nothing escapes the output dir.
fn check_relative(p: &Path) -> Result<(), WriteError> {
    let plain =
        !p.as_os_str().is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    if plain {
        Ok(())
    } else {
        Err(WriteError::BadPath(p.display().to_string()))
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn write_temp(file: &PlannedFile) -> Result<PathBuf, WriteError> {
    if let Some(parent) = file.path.parent() {
        fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
    }
    let tmp = sibling(&file.path, &format!(".tmp-scaletop-{}", std::process::id()));
    let result = fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(file.contents.as_bytes())?;
        f.sync_all()
    });
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(io_error(&file.path, e))
        }
    }
}

/// Keeps the current version as `<name>.bak` (replacing an older backup) before it is replaced.
fn backup(file: &PlannedFile) -> Result<(), WriteError> {
    if file.existing.is_none() {
        return Ok(());
    }
    let bak = sibling(&file.path, ".bak");
    fs::copy(&file.path, &bak)
        .map(|_| ())
        .map_err(|e| io_error(&bak, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> Vec<(PathBuf, String)> {
        pairs
            .iter()
            .map(|(p, c)| (PathBuf::from(p), c.to_string()))
            .collect()
    }

    #[test]
    fn writes_new_files_and_keeps_a_backup_of_the_old_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let w = GuardedWriter::new(&out, false);
        let written = w
            .write_all(files(&[("web/hpa.yaml", "a: 1\n")]))
            .expect("write");
        assert_eq!(written, vec![out.join("web/hpa.yaml")]);
        assert!(!out.join("web/hpa.yaml.bak").exists());

        let plan = w.plan(files(&[("web/hpa.yaml", "a: 2\n")])).expect("plan");
        assert_eq!(
            plan.diff(),
            "--- a/web/hpa.yaml\n+++ b/web/hpa.yaml\n@@ -1 +1 @@\n-a: 1\n+a: 2\n"
        );
        w.apply(&plan).expect("apply");
        assert_eq!(
            fs::read_to_string(out.join("web/hpa.yaml")).ok().as_deref(),
            Some("a: 2\n")
        );
        assert_eq!(
            fs::read_to_string(out.join("web/hpa.yaml.bak"))
                .ok()
                .as_deref(),
            Some("a: 1\n")
        );
        // No temp files left behind.
        let names: Vec<String> = fs::read_dir(out.join("web"))
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn new_file_diff_is_against_dev_null_and_unchanged_files_are_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let w = GuardedWriter::new(dir.path(), false);
        let plan = w.plan(files(&[("x.txt", "one\n")])).expect("plan");
        assert_eq!(
            plan.diff(),
            "--- /dev/null\n+++ b/x.txt\n@@ -0,0 +1 @@\n+one\n"
        );
        w.apply(&plan).expect("apply");
        let again = w.plan(files(&[("x.txt", "one\n")])).expect("plan");
        assert_eq!(again.diff(), "");
        assert_eq!(w.apply(&again).expect("apply"), Vec::<PathBuf>::new());
        assert!(!dir.path().join("x.txt.bak").exists());
    }

    #[test]
    fn readonly_refuses_every_write_but_still_previews() {
        let dir = tempfile::tempdir().expect("tempdir");
        let w = GuardedWriter::new(dir.path().join("out"), true);
        let plan = w
            .plan(files(&[("a.yaml", "a\n")]))
            .expect("plan works read-only");
        assert!(plan.diff().contains("+a"));
        let err = w.apply(&plan).expect_err("refused");
        assert!(matches!(err, WriteError::Readonly(_)), "{err}");
        assert!(!dir.path().join("out").exists());
    }

    #[test]
    fn paths_cannot_escape_the_output_directory() {
        let w = GuardedWriter::new("/tmp/x", false);
        for bad in ["../a", "/etc/passwd", "a/../../b", ""] {
            assert!(
                matches!(w.plan(files(&[(bad, "")])), Err(WriteError::BadPath(_))),
                "{bad}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn unwritable_directory_fails_and_writes_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("ro");
        fs::create_dir(&out).expect("mkdir");
        fs::write(out.join("keep.txt"), "old\n").expect("seed");
        fs::set_permissions(&out, fs::Permissions::from_mode(0o555)).expect("chmod");
        // Root ignores directory permissions; nothing to test then.
        let probe = out.join("probe");
        if fs::write(&probe, "").is_ok() {
            let _ = fs::remove_file(&probe);
            return;
        }
        let w = GuardedWriter::new(&out, false);
        let err = w
            .write_all(files(&[("new.txt", "n\n"), ("keep.txt", "new\n")]))
            .expect_err("unwritable");
        assert!(err.to_string().contains("ro"), "{err}");
        assert_eq!(
            fs::read_to_string(out.join("keep.txt")).ok().as_deref(),
            Some("old\n")
        );
        assert!(!out.join("new.txt").exists());
    }
}
