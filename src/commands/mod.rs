//! One module per command; each turns parsed flags into a run and an exit
//! code. Output goes through [`Output`], which also makes a closed pipe
//! (`stetho validate | head`) a quiet, successful exit.

pub mod build;
pub mod checks;
pub mod compile;
pub mod coverage;
pub mod explain;
pub mod fixture;
pub mod fmt;
pub mod new;
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

    /// Write to stdout; a closed pipe is not an error, but any other
    /// failure (a full disk) ends the run as an I/O error, so that output
    /// cut short never passes for complete.
    pub fn print(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        if let Err(message) = self.end_stream(written) {
            self.error(&message);
            std::process::exit(i32::from(exit_code::USAGE));
        }
    }

    /// The end of output a command streamed to stdout itself: a closed
    /// pipe is a quiet, successful exit, as for [`Output::print`]; any
    /// other failure (a full disk) is an I/O error, so that output cut
    /// short never passes for complete.
    pub fn end_stream(&self, result: std::io::Result<()>) -> Result<(), String> {
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
            Err(e) => Err(format!("writing the output: {e}")),
            Ok(()) => Ok(()),
        }
    }

    /// A progress or summary line on stderr (not for `--quiet`).
    pub fn note(&self, message: &str) {
        if !self.quiet {
            let _ = std::io::stderr()
                .lock()
                .write_all([message, "\n"].concat().as_bytes());
        }
    }

    /// A usage or I/O error on stderr.
    pub fn error(&self, message: &str) {
        self.errors([message]);
    }

    /// Errors on stderr, written at once.
    pub fn errors<'m>(&self, messages: impl IntoIterator<Item = &'m str>) {
        write_prefixed("error: ", messages);
    }

    /// Warnings on stderr, written at once.
    pub fn warnings<'m>(&self, messages: impl IntoIterator<Item = &'m str>) {
        write_prefixed("warning: ", messages);
    }
}

/// Lines on stderr, each after `prefix`, in one write: stderr is
/// unbuffered, and a formatted line would go out piece by piece, a system
/// call each.
fn write_prefixed<'m>(prefix: &str, messages: impl IntoIterator<Item = &'m str>) {
    let mut text = String::new();
    for message in messages {
        text.push_str(prefix);
        text.push_str(message);
        text.push('\n');
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The project a command runs in: `--config FILE`, `--no-config`, or the
/// `stetho.toml` found from the current folder.
pub fn project(cli: &Cli) -> Result<crate::settings::Project, String> {
    if cli.no_config {
        return Ok(crate::settings::Project::without_config());
    }
    crate::settings::Project::discover(cli.config.as_deref(), &crate::lint::codes())
        .map_err(|e| e.to_string())
}

/// How often deployed rules run unless a rule says: `--frequency`, else
/// `[deploy] frequency` in stetho.toml, else every hour.
pub fn default_schedule(
    flag: Option<&str>,
    project: &crate::settings::Project,
) -> Result<crate::backend::deploy::Schedule, String> {
    match flag.or(project.frequency.as_deref()) {
        Some(frequency) => crate::backend::deploy::Schedule::parse(frequency),
        None => Ok(crate::backend::deploy::Schedule::default()),
    }
}

/// The rule paths given on the command line, else the project's.
pub fn rule_paths(
    given: &[std::path::PathBuf],
    project: &crate::settings::Project,
    command: &str,
) -> Result<Vec<std::path::PathBuf>, String> {
    let paths = if given.is_empty() {
        project.rules.clone()
    } else {
        given.to_vec()
    };
    if paths.is_empty() {
        return Err(format!(
            "no rule paths given and no stetho.toml found; run `stetho {command} PATH..`"
        ));
    }
    Ok(paths)
}

/// Rules loaded and lowered for replaying, with what could not be used.
pub struct Lowered {
    /// The rule documents, for what lowering drops (`tests:`); private so
    /// that they change only with `model_index` ([`Lowered::set_rules`]).
    models: Vec<crate::model::Rule>,
    pub rules: Vec<crate::logic::RuleLogic>,
    /// Files and rules that could not be used, as `file:line:col: message`.
    pub problems: Vec<String>,
    pub pipelines: crate::pipeline::Pipelines,
    /// The project's value lists, for lowering parts of rules later.
    pub lists: crate::logic::Lists,
    /// (file, document) -> index in `models`: compiling thousands of rules
    /// looks each one's document up.
    model_index: std::collections::HashMap<(String, usize), usize>,
}

impl Lowered {
    pub fn new(
        models: Vec<crate::model::Rule>,
        rules: Vec<crate::logic::RuleLogic>,
        problems: Vec<String>,
        pipelines: crate::pipeline::Pipelines,
        lists: crate::logic::Lists,
    ) -> Lowered {
        let mut lowered = Lowered {
            models: Vec::new(),
            rules: Vec::new(),
            problems,
            pipelines,
            lists,
            model_index: std::collections::HashMap::new(),
        };
        lowered.set_rules(models, rules);
        lowered
    }

    /// Replace the rules and their documents (a fuzz target loads one
    /// input after another into the same pipelines).
    pub fn set_rules(
        &mut self,
        models: Vec<crate::model::Rule>,
        rules: Vec<crate::logic::RuleLogic>,
    ) {
        self.model_index = models
            .iter()
            .enumerate()
            .map(|(i, m)| ((m.file.display.clone(), m.document), i))
            .collect();
        self.models = models;
        self.rules = rules;
    }

    /// The rule documents, in load order.
    pub fn models(&self) -> &[crate::model::Rule] {
        &self.models
    }

    /// The document a lowered rule was read from.
    pub fn model_of(&self, rule: &crate::logic::RuleLogic) -> Option<&crate::model::Rule> {
        self.model_index
            .get(&(rule.path.clone(), rule.document))
            .map(|&i| &self.models[i])
    }
}

/// Leave a command's rules, trees and compiled output to the operating
/// system instead of freeing them.
///
/// The process exits as soon as the command returns, and the OS takes its
/// memory back whole; freeing thousands of rules' YAML trees, models and
/// logic node by node first cost `compile` a seventh of its instructions.
/// Only plain memory goes through here, never anything whose drop writes,
/// flushes or removes a file, and only from a command's `run`, which the
/// process calls once.
pub fn release_at_exit<T>(value: T) {
    std::mem::forget(value);
}

/// Load rule files, resolve placeholders from the project's lists, lower
/// them, and load the pipelines (shipped plus the project's own). `keep`
/// says whether the command reads the rule documents themselves (tests,
/// metadata, the Sigma export) or only the logic.
pub fn lower(
    paths: &[std::path::PathBuf],
    project: &crate::settings::Project,
    keep: crate::load::Keep,
) -> Result<Lowered, String> {
    let files = crate::load::discover(paths).map_err(|e| e.to_string())?;
    let loaded = crate::load::load_files_keeping(&files, keep);
    let mut problems: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == crate::diagnostic::Severity::Error)
        .map(|d| {
            let at = d
                .position()
                .map_or(String::new(), |p| format!(":{}:{}", p.0, p.1));
            format!("{}{at}: {}", d.file_name(), d.message)
        })
        .collect();
    let lists = match project.root {
        Some(_) => crate::logic::Lists::load(&project.lists).map_err(|e| e.to_string())?,
        None => crate::logic::Lists::default(),
    };
    let (rules, errors) = crate::logic::lower_rules(&loaded.rules, &lists);
    problems.extend(errors.iter().map(|e| {
        let at = e.file.line_col(e.span.start);
        format!(
            "{}:{}:{}: {}",
            e.file.display, at.line, at.column, e.message
        )
    }));
    let pipelines = crate::pipeline::Pipelines::load(
        project
            .root
            .as_ref()
            .map(|r| r.join("pipelines"))
            .as_deref(),
    )
    .map_err(|e| e.to_string())?;
    Ok(Lowered::new(
        loaded.rules,
        rules,
        problems,
        pipelines,
        lists,
    ))
}

/// Run the parsed command line; returns the process exit status.
pub fn run(cli: &Cli) -> u8 {
    // The thread that runs the command is one of the pool's workers: every
    // parallel step is forked from it and waits for its parts, so a thread
    // of its own would only sit idle beside it, and each thread costs the
    // allocator a heap of fresh pages the kernel must zero. `--jobs 1`
    // then runs on this thread alone.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(cli.jobs.map_or(0, |jobs| jobs.max(1)))
        .use_current_thread()
        .build_global();
    let out = Output::new(cli);
    match &cli.command {
        Command::Validate(args) => validate::run(cli, args, &out),
        Command::Checks(args) => checks::run(args, &out),
        Command::New(args) => new::run(cli, args, &out),
        Command::Fmt(args) => fmt::run(cli, args, &out),
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut command, "stetho", &mut script);
            out.print(&String::from_utf8_lossy(&script));
            Ok(exit_code::CLEAN)
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(|e| e.to_string())
                .map(|()| {
                    out.print(&String::from_utf8_lossy(&page));
                    exit_code::CLEAN
                })
        }
        Command::Coverage(args) => coverage::run(cli, args, &out),
        Command::Explain(args) => explain::run(cli, args, &out),
        Command::Build(args) => build::run(cli, args, &out),
        Command::Compile(args) => compile::run(cli, args, &out),
        Command::Replay(args) => replay::run(cli, args, &out),
        Command::Test(args) => test::run(cli, args, &out),
        Command::Fixture(command) => fixture::run(cli, command, &out),
    }
    .unwrap_or_else(|message| {
        out.error(&message);
        exit_code::USAGE
    })
}
