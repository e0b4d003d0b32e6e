//! Command-line flags (clap derive). Nothing here decides anything: the
//! commands resolve flags together with `stetho.toml` into settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::settings::Profile;

const AFTER_HELP: &str = "\
Exit codes: 0 clean, 1 findings (invalid rules, failed tests), 2 usage or I/O error.
Docs: README.md; rule format and output contracts: DESIGN.md.";

/// Detection as code for healthcare security operations.
#[derive(Debug, Parser)]
#[command(name = "stetho", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,
    /// Only print findings, no summary line.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Use this config file instead of looking for stetho.toml.
    #[arg(long, value_name = "FILE", global = true, conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore stetho.toml: plain Sigma on the paths given (e.g. a SigmaHQ
    /// checkout inside a stetho repository).
    #[arg(long, global = true)]
    pub no_config: bool,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N", global = true)]
    pub jobs: Option<usize>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check rules against the JSON Schemas and the lints, reporting every
    /// finding at file:line:col.
    #[command(after_help = "\
Examples:
  stetho validate                         # the paths in stetho.toml
  stetho validate detections/ehr          # one folder
  stetho validate --profile sigma sigma/rules
  stetho validate --format sarif > stetho.sarif

Exit codes: 0 clean (warnings allowed), 1 errors, 2 usage or I/O error.")]
    Validate(ValidateArgs),
    /// Replay each rule's test fixtures and check its expectations.
    #[command(after_help = "\
Examples:
  stetho test                      # the project's rules and test-events/
  stetho test detections/ehr       # some rules
  stetho test --id 9d9dc299-61ab-4f9f-ba84-95148431ff9d --tag attack.t1490
  stetho test --accept             # write new and changed hit snapshots
  stetho test --format junit > stetho-tests.xml

Each rule lists its cases under `tests:` (fixture, expect: match|no-match or
hits: N, optional lines). Every rule also runs over every fixture of its log
source; its hits are compared with test-events/.snapshots/<rule-id>.snap.yml.
Exit codes: 0 all passed, 1 a check failed, 2 usage or I/O error.")]
    Test(TestArgs),
    /// Stream events through rules and print the hits (ad-hoc hunting over
    /// fixtures and log exports).
    #[command(after_help = "\
Examples:
  stetho replay --rules detections/ events.ndjson
  stetho replay --rules sigma/rules --schema sigma --format jsonl logs/*.ndjson.gz
  zcat export.json.gz | stetho replay --rules detections/ransomware --schema defender_xdr.DeviceProcessEvents -

Inputs: NDJSON, a JSON array or JSON documents, `.gz` compressed, `-` for stdin.
A fixture header line ({\"stetho_fixture\": {\"schema\": ...}}) sets the schema of its file.
Exit codes: 0 done (hits or not), 2 usage or I/O error.")]
    Replay(ReplayArgs),
    /// Compile rules to KQL for Defender XDR advanced hunting or Sentinel,
    /// or export them as standard Sigma.
    #[command(after_help = "\
Examples:
  stetho compile                                   # the project's rules, Defender XDR
  stetho compile --pipeline sentinel detections/ehr
  stetho compile --format jsonl > compiled.jsonl
  stetho compile --out dist/kql
  stetho compile --target defender --frequency 3h --out dist/defender
  stetho compile --target sentinel --pipeline sentinel --out dist/sentinel
  stetho compile --target sigma --out dist/sigma   # standard Sigma v2.1
  stetho compile --target sigma --lossy --resolve-placeholders --out shared/

A rule that cannot be expressed for the target (no table for its log source,
an unmapped field, a construct KQL lacks) is an error naming the rule and the
construct; nothing is dropped silently. Exit codes: 0 every rule compiled,
1 a rule could not be compiled, 2 usage or I/O error.")]
    Compile(CompileArgs),
    /// Validate, test and compile every target into dist/ (the CI job).
    #[command(after_help = "\
Examples:
  stetho build                     # validate + test + compile into dist/
  stetho build --out artifacts --frequency 3h

dist/ holds kql/defender_xdr/, kql/sentinel/, defender/ and sentinel/ (one
file per rule and target) and index.json (every artifact with its rule id and
SHA-256). It is replaced atomically, and only when every step passed, so the
last good build survives a failing one. Exit codes: 0 built, 1 a rule is
invalid, a test failed or a rule could not be compiled, 2 usage or I/O error.")]
    Build(BuildArgs),
    /// Show a rule's logic as a tree and, for an event, which parts held.
    #[command(after_help = "\
Examples:
  stetho explain detections/ransomware/volume_shadow_copy_deletion.yml
  stetho explain detections/ehr/break_glass_restricted_record_without_care_relationship.yml \\
      --event test-events/ehr/break_glass_restricted_record_without_care_relationship_near_miss.ndjson:3
  stetho explain rule.yml --pipeline sentinel --target kql

The tree is the logic after pipeline mapping (the columns the query reads).
With --event, each node is marked: ✓ held, ✗ did not (and a predicate whose
field the event lacks says so). Exit codes: 0 explained, 2 usage or I/O
error.")]
    Explain(ExplainArgs),
    /// ATT&CK, CAF and asset-class coverage of the rules.
    #[command(after_help = "\
Examples:
  stetho coverage                              # Markdown tables
  stetho coverage --format navigator > layer.json   # ATT&CK Navigator layer
  stetho coverage --format html --out coverage.html

Techniques are scored by the number of rules with a positive test. Exit
codes: 0 written, 2 usage or I/O error.")]
    Coverage(CoverageArgs),
    /// Rewrite rule files in the canonical layout (key order, quoting,
    /// indentation), keeping comments.
    #[command(after_help = "\
Examples:
  stetho fmt                          # the paths in stetho.toml
  stetho fmt detections/ehr/new_rule.yml
  stetho fmt --check                  # CI: list files that are not formatted
  stetho fmt --check --diff detections/ransomware

Keys go in Sigma's order (title, id, ..., logsource, detection, ..., level),
unknown keys after them, then healthcare and tests; `condition` ends the
detection. Strings are plain when YAML reads them back unchanged, else
single-quoted (double-quoted when they need escapes); plain values stay
plain. Four spaces per level; comments stay with the key or item they
precede or end. A file already formatted is not rewritten. Files with
constructs stetho will not rewrite (`|2`/`|+` block scalars, mixed line
endings, anchors, YAML directives) are left as they are with a warning;
files with CRLF endings throughout keep them. Every result is read
back and compared with the original before it is written.
Exit codes: 0 formatted (or nothing to do), 1 with --check a file would
change, or a file does not parse, 2 usage or I/O error.")]
    Fmt(FmtArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "\
Examples:
  stetho completions bash > ~/.local/share/bash-completion/completions/stetho
  stetho completions zsh > ~/.zfunc/_stetho")]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) of stetho and its commands.
    #[command(after_help = "\
Examples:
  stetho man > stetho.1 && man ./stetho.1")]
    Man,
    /// Scaffold a rule, its fixtures and a playbook stub.
    #[command(after_help = "\
Examples:
  stetho new --title 'Rclone Bulk Sync to Cloud Storage' --logsource windows/process_creation --area exfiltration
  stetho new          # asks for title, log source and area on a terminal

Writes detections/AREA/SLUG.yml (fresh UUID, today's dates, the healthcare
block with every allowed value in a comment, the log source's field names),
test-events/AREA/SLUG_tp.ndjson and SLUG_near_miss.ndjson with the right
header, and playbooks/SLUG.md unless it exists. Exit codes: 0 written, 2
usage or I/O error (an existing file is not overwritten without --force).")]
    New(NewArgs),
    /// List every check with its code, default severity and summary.
    Checks(ChecksArgs),
    /// Work with fixtures: import console exports, scrub recordings.
    #[command(subcommand)]
    Fixture(FixtureCommand),
}

#[derive(Debug, Subcommand)]
pub enum FixtureCommand {
    /// Turn a Defender XDR advanced hunting or Sentinel export (CSV or JSON)
    /// into a fixture with the right header.
    #[command(after_help = "\
Examples:
  stetho fixture import hunt.csv --out test-events/ransomware/vss_tp.ndjson
  stetho fixture import signins.csv --schema sentinel.SigninLogs --description 'MFA burst'
  stetho fixture import export.json --scrub --out test-events/ehr/access.ndjson

The table is inferred from the column names (`TimeGenerated [UTC]` is read as
TimeGenerated) unless --schema names it. Values are typed by the table's
column types; empty cells are left out. Exit codes: 0 imported, 1 the data
holds real-looking NHS numbers (use --scrub) or scrubbing would change rule
hits, 2 usage, I/O or format error.")]
    Import(FixtureImportArgs),
    /// Pseudonymise a recording deterministically.
    #[command(after_help = "\
Examples:
  stetho fixture scrub recording.ndjson --out test-events/ehr/access_tp.ndjson
  stetho fixture scrub test-events/ehr/access_tp.ndjson --in-place
  stetho fixture scrub recording.ndjson --keep DeviceName --rules detections/ehr

Replaces NHS numbers (with 999-range numbers), e-mail addresses (user-N@same
domain), public IPs (documentation ranges), and people, accounts, patient
identifiers and hosts in fields known to hold them, consistently within the
file. Fields the rules test keep their text except for NHS numbers, e-mails
and public IPs. The rules are replayed over both versions; if their hits
differ nothing is written. Exit codes: 0 scrubbed, 1 rule hits would change,
2 usage, I/O or format error.")]
    Scrub(FixtureScrubArgs),
}

#[derive(Debug, Args)]
pub struct FixtureImportArgs {
    /// The export: CSV or JSON (an array of row objects) from advanced
    /// hunting or Log Analytics; `-` for stdin.
    #[arg(value_name = "EXPORT")]
    pub export: PathBuf,
    /// The rows' table as `pipeline.Table` (default: inferred from the
    /// column names).
    #[arg(long, value_name = "PIPELINE.TABLE")]
    pub schema: Option<String>,
    /// Write the fixture to this file (default: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The header's description (default: "Imported from <file name>").
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Overwrite an existing --out file; with --scrub, also write when the
    /// self-check finds changed rule hits.
    #[arg(long)]
    pub force: bool,
    /// Pseudonymise the result as `stetho fixture scrub` does.
    #[arg(long)]
    pub scrub: bool,
    /// Rule files or folders for --scrub (default: `rules` in stetho.toml).
    #[arg(
        long = "rules",
        value_name = "PATH",
        value_delimiter = ',',
        requires = "scrub"
    )]
    pub rules: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FixtureScrubArgs {
    /// The recording: an NDJSON fixture (`-` for stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Write the scrubbed fixture to this file (default: stdout).
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "in_place")]
    pub out: Option<PathBuf>,
    /// Replace FILE with its scrubbed version.
    #[arg(long)]
    pub in_place: bool,
    /// Leave this field as it is (repeat the flag, or separate with commas);
    /// NHS numbers in it are still replaced.
    #[arg(long = "keep", value_name = "FIELD", value_delimiter = ',')]
    pub keep: Vec<String>,
    /// Rule files or folders whose fields are kept and whose hits are
    /// checked (default: `rules` in stetho.toml).
    #[arg(long = "rules", value_name = "PATH", value_delimiter = ',')]
    pub rules: Vec<PathBuf>,
    /// Write even when the self-check finds changed rule hits, and
    /// overwrite an existing --out file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Rule files or folders (default: `rules` in stetho.toml).
    pub paths: Vec<PathBuf>,
    /// Fixture folder (default: `fixtures` in stetho.toml, else test-events).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
    /// Rule dialect: under `healthcare` every rule needs a positive test.
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
    /// Write new and changed hit snapshots and remove orphans (atomically).
    #[arg(long)]
    pub accept: bool,
    /// Only the rule with this id, name or title (repeatable).
    #[arg(long = "id", value_name = "ID")]
    pub ids: Vec<String>,
    /// Only rules with this tag, e.g. `attack.t1490` or `attack.impact`
    /// (repeatable; a rule needs one of them).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Only rules whose files changed since this git revision (all rules
    /// when a fixture, list, pipeline, schema or stetho.toml changed).
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    Human,
    Json,
    Junit,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Rule files or folders (repeat the flag, or separate with commas).
    #[arg(
        long = "rules",
        value_name = "PATH",
        required = true,
        value_delimiter = ','
    )]
    pub rules: Vec<PathBuf>,
    /// Event files (`-` for stdin), or folders to read every event file
    /// below (sorted; hidden folders skipped).
    #[arg(required = true, value_name = "EVENTS")]
    pub events: Vec<PathBuf>,
    /// Shape of the events: `sigma` (the rules' own field names) or a
    /// pipeline table such as `defender_xdr.DeviceProcessEvents`. Default:
    /// each file's fixture header, else `sigma`.
    #[arg(long, value_name = "NAME")]
    pub schema: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = HitFormat::Table)]
    pub format: HitFormat,
    /// Include the matching event in JSON lines output.
    #[arg(long)]
    pub with_event: bool,
    /// Event-time field for correlation rules (default: the schema's, else
    /// Timestamp, TimeGenerated, @timestamp, ...).
    #[arg(long, value_name = "FIELD")]
    pub timestamp_field: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HitFormat {
    Table,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// Rule files or folders (default: `rules` in stetho.toml).
    pub paths: Vec<PathBuf>,
    /// What to produce.
    #[arg(long, value_enum, default_value_t = Target::Kql)]
    pub target: Target,
    /// Pipeline (field and log-source mapping): `defender_xdr`, `sentinel`,
    /// `healthcare` or one of the project's `pipelines/`.
    #[arg(long, value_name = "NAME", default_value = "defender_xdr")]
    pub pipeline: String,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = CompileFormat::Text)]
    pub format: CompileFormat,
    /// Write one file per rule into this folder (atomically) instead of
    /// printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// How often deployed rules run: 1h, 3h, 12h or 24h (Defender XDR's
    /// choices; Sentinel uses the same), for rules without a `schedule:`
    /// of their own [default: `[deploy] frequency` in stetho.toml, else 1h].
    #[arg(long, value_name = "HOURS")]
    pub frequency: Option<String>,
    /// `--target sigma`: export what standard Sigma cannot express (such as
    /// `nhs_number`) as the closest Sigma, with a warning and a comment in
    /// the output, instead of failing the rule.
    #[arg(long)]
    pub lossy: bool,
    /// `--target sigma`: replace `%placeholder%` values under `expand` by
    /// the values of their list in `lists/`.
    #[arg(long)]
    pub resolve_placeholders: bool,
    /// Sentinel queries: read each `%name%` list from the watchlist `name`
    /// (`_GetWatchlist('name')`) instead of writing in the values of
    /// `lists/name.txt`.
    #[arg(long)]
    pub watchlists: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rule file.
    pub rule: PathBuf,
    /// An event to evaluate: FILE (its first event) or FILE:LINE.
    #[arg(long, value_name = "FILE[:LINE]")]
    pub event: Option<String>,
    /// Shape of the event (default: the file's fixture header, else `sigma`).
    #[arg(long, value_name = "NAME")]
    pub schema: Option<String>,
    /// Map the rule through this pipeline (default: the event's, else none).
    #[arg(long, value_name = "NAME")]
    pub pipeline: Option<String>,
    /// Also show the compiled artifact (`kql`).
    #[arg(long, value_enum)]
    pub target: Option<ExplainTarget>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainTarget {
    Kql,
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// Rule files or folders (default: `rules` in stetho.toml).
    pub paths: Vec<PathBuf>,
    /// What to write.
    #[arg(long, value_enum, default_value_t = CoverageFormat::Markdown)]
    pub format: CoverageFormat,
    /// Write to this file (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CoverageFormat {
    Markdown,
    /// An ATT&CK Navigator layer (JSON).
    Navigator,
    Html,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The rule's title.
    #[arg(long)]
    pub title: Option<String>,
    /// The log source as product/category or product//service (e.g.
    /// `windows/process_creation`, `azure//signinlogs`, `ehr/record_access`).
    #[arg(long, value_name = "PRODUCT/CATEGORY[/SERVICE]")]
    pub logsource: Option<String>,
    /// Folder under detections/ and test-events/.
    #[arg(long, default_value = "new")]
    pub area: String,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Output folder (replaced as a whole).
    #[arg(long, value_name = "DIR", default_value = "dist")]
    pub out: PathBuf,
    /// How often deployed rules run: 1h, 3h, 12h or 24h, for rules without
    /// a `schedule:` of their own [default: `[deploy] frequency` in
    /// stetho.toml, else 1h].
    #[arg(long, value_name = "HOURS")]
    pub frequency: Option<String>,
    /// Sentinel queries (`kql/sentinel`, `sentinel`) read each `%name%`
    /// list from the watchlist `name` instead of the values in `lists/`.
    #[arg(long)]
    pub watchlists: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// A hunting query per rule.
    Kql,
    /// Defender XDR custom detection rule JSON (Microsoft Graph security API).
    Defender,
    /// Sentinel scheduled analytics rule: content-repository YAML and an ARM template.
    Sentinel,
    /// Standard Sigma (specification v2.1) for every other SIEM.
    Sigma,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompileFormat {
    /// The queries, each under a comment naming its rule.
    Text,
    /// One JSON object per rule: id, title, path, target, output or error.
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Rule files or folders (default: `rules` in stetho.toml).
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Rule dialect (default: `healthcare` in a stetho project, else `sigma`).
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
    /// Treat warnings as errors for the exit code.
    #[arg(long)]
    pub strict: bool,
    /// Report only on rule files changed since this git revision (all
    /// rules when lists, pipelines, schemas or stetho.toml changed).
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Rule files or folders (default: `rules` in stetho.toml); `-` reads one
    /// rule from standard input and writes it formatted to standard output.
    pub paths: Vec<PathBuf>,
    /// Write nothing; list the files that would change and exit 1 if any.
    #[arg(long)]
    pub check: bool,
    /// With --check, show each change as a unified diff.
    #[arg(long, requires = "check")]
    pub diff: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FmtFormat::Human)]
    pub format: FmtFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FmtFormat {
    Human,
    /// Every file with its status (`unchanged`, `formatted`, `would-change`,
    /// `skipped`, `failed`, `io-error`), and the diagnostics.
    Json,
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Markdown,
}
