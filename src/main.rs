use std::process::ExitCode;

// Replay allocates many small JSON values per event; mimalloc's thread-local
// free lists make that markedly cheaper than the system allocator, as
// ripgrep does with jemalloc. Version 2 of mimalloc (see Cargo.toml): version
// 3 allocated a fresh page per replayed event with large rule sets.
#[global_allocator]
static GLOBAL: Mimalloc = Mimalloc;

/// mimalloc, asked for a plain block whenever the alignment allows one.
///
/// The `mimalloc` crate calls the aligned entry points for every
/// allocation, and they take a longer path even for an alignment every
/// block already has; compiling thousands of rules makes over a million
/// allocations. mimalloc's blocks are multiples of 8 bytes laid from
/// 16-byte-aligned page starts, so an alignment up to 8 always holds.
struct Mimalloc;

const PLAIN_ALIGN: usize = 8;

// SAFETY: every block comes from mimalloc and goes back to it; a plain
// block is only used where its alignment of at least 8 bytes satisfies
// the layout (see above), else the aligned entry point is called.
unsafe impl std::alloc::GlobalAlloc for Mimalloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys::{mi_malloc, mi_malloc_aligned};
        // SAFETY: mimalloc accepts any size; the alignment is a power of two.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                mi_malloc(layout.size()).cast()
            } else {
                mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys::{mi_zalloc, mi_zalloc_aligned};
        // SAFETY: as for `alloc`.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                mi_zalloc(layout.size()).cast()
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        use libmimalloc_sys::{mi_realloc, mi_realloc_aligned};
        // SAFETY: `ptr` came from mimalloc; a moved block is a new block of
        // the same kind as `alloc` would give for this alignment.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                mi_realloc(ptr.cast(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

use clap::Parser;

fn main() -> ExitCode {
    stetho::interrupt::install();
    let cli = stetho::cli::Cli::parse();
    stetho::exit_code::code(stetho::commands::run(&cli))
}
