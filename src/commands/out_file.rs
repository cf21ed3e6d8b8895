//! A minimal atomic write (temp file in the same directory + rename) for `alerts rules --out`,
//! `report --out` and the load-test scorecard. The shared guarded writer (src/emit/writer.rs:
//! `.bak`, `--readonly`, diff) replaces this when it lands; keep the call sites to this one
//! function so the swap is one line each.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically; refuses under `readonly`. Errors name the path.
pub fn write_atomic(path: &Path, bytes: &[u8], readonly: bool) -> Result<(), String> {
    if readonly {
        return Err(format!(
            "refusing to write {}: read-only mode (--readonly or general.readonly)",
            path.display()
        ));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create directory {}: {e}", dir.display()))?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| format!("cannot write {}: not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
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
        let leftovers = std::fs::read_dir(dir.path().join("sub"))
            .expect("dir")
            .count();
        assert_eq!(leftovers, 1, "no temp files left");
    }
}
