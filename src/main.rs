use std::process::ExitCode;

// Replay allocates many small JSON values per event; mimalloc's thread-local
// free lists make that markedly cheaper than the system allocator, as
// ripgrep does with jemalloc. Version 2 of mimalloc (see Cargo.toml): version
// 3 allocated a fresh page per replayed event with large rule sets.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

fn main() -> ExitCode {
    stetho::interrupt::install();
    let cli = stetho::cli::Cli::parse();
    stetho::exit_code::code(stetho::commands::run(&cli))
}
