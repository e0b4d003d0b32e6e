//! One module per command; each turns parsed flags into a run and an exit
//! code. Output goes through [`Output`], which also makes a closed pipe
//! (`stetho validate | head`) a quiet, successful exit.

pub mod checks;
pub mod replay;
pub mod test;
pub mod validate;

use std::io::{IsTerminal, Write};

use crate::cli::{Cli, Color, Command};
use crate::exit_code;

/// Where commands write.
pub struct Output {
    pub color: bool,
    pub quiet: bool,
}

impl Output {
    pub fn new(cli: &Cli) -> Output {
        let color = match cli.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        Output {
            color,
            quiet: cli.quiet,
        }
    }

    /// Write to stdout; a closed pipe is not an error.
    pub fn print(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            std::process::exit(0);
        }
    }

    /// A progress or summary line on stderr (not for `--quiet`).
    pub fn note(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{message}");
        }
    }

    /// A usage or I/O error on stderr.
    pub fn error(&self, message: &str) {
        let _ = writeln!(std::io::stderr().lock(), "error: {message}");
    }
}

/// Run the parsed command line; returns the process exit status.
pub fn run(cli: &Cli) -> u8 {
    if let Some(jobs) = cli.jobs {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build_global();
    }
    let out = Output::new(cli);
    match &cli.command {
        Command::Validate(args) => validate::run(cli, args, &out),
        Command::Checks(args) => checks::run(args, &out),
        Command::Replay(args) => replay::run(cli, args, &out),
        Command::Test(args) => test::run(cli, args, &out),
    }
    .unwrap_or_else(|message| {
        out.error(&message);
        exit_code::USAGE
    })
}
