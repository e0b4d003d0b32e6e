//! Writing files so that an interrupted run loses nothing: the new content
//! goes to a temporary file in the same folder, which is then renamed over
//! the old one (a rename within one file system is atomic), so a reader sees
//! either the old file or the new one, never half of either.

use std::io::Write;
use std::path::Path;

/// Replace `path` with `contents` atomically, creating parent folders.
pub fn atomic_write(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/out.yml");
        atomic_write(&path, b"one").expect("write");
        atomic_write(&path, b"two").expect("rewrite");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }
}
