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
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let (mut file, in_flight) = crate::interrupt::InFlight::create_file(&temp)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    drop(file);
    let result = match written {
        Ok(()) => in_flight.commit(|| std::fs::rename(&temp, path)),
        Err(e) => Err(e),
    };
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Remove the temporaries that killed runs left in `dir`: hidden files
/// named as [`atomic_write`] names them (`.NAME.PID.tmp`) whose process no
/// longer runs. SIGKILL cannot be caught, so a run killed between creating
/// its temporary and renaming it leaves one; the next run that writes the
/// same folder clears it. Files of a live process (another stetho writing
/// here now) are kept. Best effort: a file that cannot be read or removed
/// is left as it is.
pub fn sweep_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temporary_pid) else {
            continue;
        };
        if pid != std::process::id() && !process_runs(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The process id in a temporary's name `.NAME.PID.tmp`.
fn temporary_pid(name: &str) -> Option<u32> {
    let stem = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (target, pid) = stem.rsplit_once('.')?;
    if target.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

#[cfg(unix)]
fn process_runs(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // Signal 0 only checks that the process exists; EPERM means it exists
    // but belongs to someone else.
    // SAFETY: kill with signal 0 sends nothing and touches no memory.
    let sent = unsafe { libc::kill(pid, 0) };
    sent == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_runs(_: u32) -> bool {
    // Without a portable liveness check, keep everything.
    true
}

/// Put the folder `new` in place of `dir` so that at every moment `dir`
/// is either the complete old folder or the complete new one, even if the
/// process is killed: on Linux one `renameat2(RENAME_EXCHANGE)` swaps
/// them; elsewhere (or on a file system without it) the old folder is
/// renamed aside first, which leaves a short window without `dir`.
/// `aside` names where the old folder goes before it is deleted.
pub fn replace_dir(new: &Path, dir: &Path, aside: &Path) -> std::io::Result<()> {
    let in_flight = crate::interrupt::InFlight::register(new);
    if dir.exists() {
        let swapped = in_flight.commit(|| exchange(new, dir));
        match swapped {
            // `new` now holds the old folder.
            Ok(true) => return std::fs::remove_dir_all(new),
            Ok(false) => {}
            Err(e) => return Err(e),
        }
        let in_flight = crate::interrupt::InFlight::register(new);
        let aside_guard = crate::interrupt::InFlight::register(aside);
        in_flight.commit(|| -> std::io::Result<()> {
            std::fs::rename(dir, aside)?;
            if let Err(e) = std::fs::rename(new, dir) {
                let _ = std::fs::rename(aside, dir);
                return Err(e);
            }
            Ok(())
        })?;
        drop(aside_guard);
        std::fs::remove_dir_all(aside)
    } else {
        in_flight.commit(|| std::fs::rename(new, dir))
    }
}

/// Atomically exchange two paths; `Ok(false)` when the platform or file
/// system cannot, so the caller falls back to two renames.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    let to_c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (to_c(a)?, to_c(b)?);
    // SAFETY: both pointers are valid NUL-terminated strings that outlive
    // the call; the syscall only reads them.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::ENOSYS) | Some(libc::EINVAL) | Some(libc::ENOTSUP) => Ok(false),
        _ => Err(error),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<bool> {
    Ok(false)
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

    #[test]
    fn stale_temporaries_of_dead_processes_are_swept() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A process that has exited: its id is free (until reused).
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let dead = child.id();
        child.wait().expect("wait");
        let own = std::process::id();
        for name in [
            format!(".out.kql.{dead}.tmp"),
            format!(".out.kql.{own}.tmp"),
            ".notes.tmp".to_string(),
            "out.kql".to_string(),
        ] {
            std::fs::write(dir.path().join(name), "x").expect("write");
        }
        sweep_stale_temporaries(dir.path());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut expected = vec![
            format!(".out.kql.{own}.tmp"),
            ".notes.tmp".to_string(),
            "out.kql".to_string(),
        ];
        expected.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn temporary_names_are_recognised_exactly() {
        assert_eq!(temporary_pid(".a.yml.123.tmp"), Some(123));
        assert_eq!(temporary_pid(".a.yml.tmp"), None);
        assert_eq!(temporary_pid("a.yml.123.tmp"), None);
        assert_eq!(temporary_pid("..123.tmp"), None);
        assert_eq!(temporary_pid(".a.12x.tmp"), None);
    }

    #[test]
    fn replace_dir_swaps_in_the_new_folder_and_removes_the_old() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("dist");
        let new = root.path().join(".dist.tmp");
        let aside = root.path().join(".dist.old");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("a"), "old").expect("write");
        std::fs::create_dir_all(&new).expect("mkdir");
        std::fs::write(new.join("a"), "new").expect("write");
        replace_dir(&new, &dir, &aside).expect("replace");
        assert_eq!(std::fs::read_to_string(dir.join("a")).expect("read"), "new");
        assert!(!new.exists() && !aside.exists());
        // First build: nothing to replace.
        let fresh = root.path().join("fresh");
        std::fs::create_dir_all(&new).expect("mkdir");
        replace_dir(&new, &fresh, &aside).expect("replace");
        assert!(fresh.is_dir() && !new.exists());
    }
}
