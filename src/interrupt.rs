//! Ctrl-C without debris. A run interrupted while it writes must leave
//! every output file either as it was or as the run would have written it
//! (DESIGN: files we write are written atomically). [`crate::write`] already
//! renames finished temporaries into place; this module makes the
//! interruption itself clean: temporaries and staging folders still in
//! flight are registered here, and the SIGINT/SIGTERM handler removes them
//! before exiting with 130, the shell's code for "killed by SIGINT".
//!
//! The handler and the final renames take the same lock, so an interruption
//! lands either before a rename (the old file stays) or after it (the new
//! file is complete), never between a rename and its bookkeeping.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

/// Paths to delete if the run is interrupted now.
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Whether the program asked for the handler ([`install`]).
static WANTED: AtomicBool = AtomicBool::new(false);

/// The handler is set at most once, by the first temporary registered.
static SET: Once = Once::new();

/// Exit code after an interruption (128 + SIGINT).
pub const INTERRUPTED: i32 = 130;

/// Ask for the handler; called once by `main`. A library user that never
/// calls it keeps the default signal behaviour.
///
/// The handler itself is set when the first temporary is registered: it
/// lives on a thread of its own, and a run that writes no file (a compile
/// to standard output, a validation, a replay) has nothing for it to clean
/// up, so it is spared the thread and the memory the thread's heap takes.
/// Until then an interruption ends the run the default way, which leaves
/// no file behind because none has been started.
pub fn install() {
    WANTED.store(true, Ordering::Relaxed);
}

/// Set the handler if the program asked for one and it is not set yet.
/// Called before a temporary is registered, outside the lock the handler
/// takes.
fn arm() {
    if WANTED.load(Ordering::Relaxed) {
        SET.call_once(set_handler);
    }
}

fn set_handler() {
    // Failing to install (a handler already set by an embedding program)
    // only loses the clean-up, not correctness: writes stay atomic.
    let _ = ctrlc::set_handler(|| {
        // The lock is held until the process exits, so no rename can start
        // while (or after) its temporary is being deleted.
        let paths = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        for path in paths.iter() {
            remove(path);
        }
        eprintln!("interrupted: no output was left half-written");
        std::process::exit(INTERRUPTED);
    });
}

/// A temporary path that is deleted if the run is interrupted while the
/// guard lives. Dropping the guard forgets the path (it was renamed into
/// place, or the caller cleaned it up itself).
#[must_use = "the path is only protected while the guard lives"]
pub struct InFlight {
    path: PathBuf,
}

impl InFlight {
    /// Create the temporary file `path` (and its folders) and register it,
    /// all under the lock: once the handler has cleaned up, nothing can
    /// create a new temporary before the process exits.
    pub fn create_file(path: &Path) -> std::io::Result<(std::fs::File, Self)> {
        arm();
        let mut list = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::File::create(path)?;
        list.push(path.to_path_buf());
        Ok((
            file,
            InFlight {
                path: path.to_path_buf(),
            },
        ))
    }

    pub fn register(path: &Path) -> Self {
        arm();
        let mut list = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        list.push(path.to_path_buf());
        InFlight {
            path: path.to_path_buf(),
        }
    }

    /// Run `finish` (the rename that publishes this temporary) so that an
    /// interruption cannot fall between the rename and forgetting the path,
    /// nor delete the temporary while it is being renamed.
    pub fn commit<T>(self, finish: impl FnOnce() -> T) -> T {
        let mut list = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        let result = finish();
        list.retain(|p| p != &self.path);
        drop(list);
        std::mem::forget(self);
        result
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut list = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|p| p != &self.path);
    }
}

fn remove(path: &Path) {
    if path.is_dir() {
        let _ = std::fs::remove_dir_all(path);
    } else {
        let _ = std::fs::remove_file(path);
    }
}
