//! One file written through the shared guarded writer (`crate::emit::writer`): atomic, the
//! previous version kept as `.bak`, refused under `--readonly`. For `alerts rules --out`,
//! `report --out` and the load-test scorecard, whose paths the user chooses.

use std::path::Path;

use crate::emit::writer::GuardedWriter;

/// Writes `bytes` (UTF-8 text) to `path`; refuses under `readonly`. Errors name the path.
pub fn write_atomic(path: &Path, bytes: &[u8], readonly: bool) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| format!("cannot write {}: not a file path", path.display()))?;
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("cannot write {}: not UTF-8 text: {e}", path.display()))?;
    GuardedWriter::new(dir, readonly)
        .write_all(vec![(name.into(), text.to_string())])
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replaces_and_refuses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sub/out.txt");
        write_atomic(&p, b"one", false).expect("write");
        write_atomic(&p, b"two", false).expect("replace");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "two");
        let e = write_atomic(&p, b"x", true).unwrap_err();
        assert!(e.contains("read-only"), "{e}");
        let e = write_atomic(Path::new("/proc/definitely/not/here.txt"), b"x", false).unwrap_err();
        assert!(e.contains("/proc/definitely"), "{e}");
        let mut left: Vec<String> = std::fs::read_dir(dir.path().join("sub"))
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        left.sort();
        assert_eq!(left, ["out.txt", "out.txt.bak"], "no temp files left");
        let bak = std::fs::read_to_string(dir.path().join("sub/out.txt.bak")).expect("bak");
        assert_eq!(bak, "one");
    }
}
