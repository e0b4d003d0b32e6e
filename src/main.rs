use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = stetho::cli::Cli::parse();
    stetho::exit_code::code(stetho::commands::run(&cli))
}
