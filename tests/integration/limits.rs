//! Input limits (`src/limits.rs`): each is a clear, located error with the
//! documented exit code, never a panic (every run asserts no "panicked").
//! Oversized inputs are generated here at run time, never committed.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use crate::common::{Run, diagnostics_digest, stetho_in, stetho_with_env};

const RULE: &str = "title: Whoami
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        CommandLine|contains: whoami
    condition: selection
level: medium
";

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

fn validate(dir: &Path, path: &str) -> (Run, String) {
    let run = stetho_in(dir, &["--no-config", "validate", "--format", "json", path]);
    let digest = diagnostics_digest(&run.stdout);
    (run, digest)
}

/// A project folder with a config, one list and the given rule.
fn project(rule: &str, lists: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "stetho.toml",
        "[project]\nprofile = \"sigma\"\nrules = [\"rules\"]\nlists = \"lists\"\n",
    );
    write(dir.path(), "rules/rule.yml", rule);
    for (name, text) in lists {
        write(dir.path(), &format!("lists/{name}.txt"), text);
    }
    dir
}

fn numbered(prefix: &str, n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        let _ = writeln!(text, "{prefix}{i}");
    }
    text
}

#[test]
fn limits_rule_file_over_the_size_limit_is_refused_with_its_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut big = String::from(RULE);
    while big.len() <= 1024 * 1024 {
        big.push_str("# padding padding padding padding padding padding padding\n");
    }
    write(dir.path(), "rules/big.yml", &big);
    write(dir.path(), "rules/ok.yml", RULE);
    let (run, digest) = validate(dir.path(), "rules");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        digest.contains(&format!(
            "error STH003 big.yml:- file is {} bytes; rule files are limited to 1048576 bytes",
            big.len()
        )),
        "{digest}"
    );
    assert!(!digest.contains("STH003 ok.yml"), "{digest}");
}

#[test]
fn limits_too_many_rule_files_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..4 {
        write(dir.path(), &format!("rules/r{i}.yml"), RULE);
    }
    let args = ["--no-config", "validate", "rules"];
    let run = stetho_with_env(dir.path(), &args, &[("STETHO_MAX_RULE_FILES", "3")]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("rules: more than 3 rule files"),
        "{}",
        run.stderr
    );
    let run = stetho_with_env(dir.path(), &args, &[("STETHO_MAX_RULE_FILES", "4")]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn limits_too_many_documents_in_one_rule_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from(RULE);
    for _ in 0..1000 {
        text.push_str("---\n");
        text.push_str(RULE);
    }
    write(dir.path(), "many.yml", &text);
    let (run, digest) = validate(dir.path(), "many.yml");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = 1000 * (RULE.lines().count() + 1) + 1;
    assert!(
        digest.contains(&format!(
            "error STH003 many.yml:{line}:1 file holds more than 1000 YAML documents"
        )),
        "{digest}"
    );
}

#[test]
fn limits_yaml_alias_bomb_fails_fast_at_the_first_anchor() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Ten levels of ten aliases: 10^10 nodes if a loader expanded them.
    let mut text = String::from(RULE);
    text.push_str("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        let _ = writeln!(text, "a{i}: &a{i} [{refs}]");
    }
    write(dir.path(), "bomb.yml", &text);
    let started = Instant::now();
    let (run, digest) = validate(dir.path(), "bomb.yml");
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = RULE.lines().count() + 1;
    assert!(
        digest.contains(&format!(
            "error STH006 bomb.yml:{line}:5 YAML anchors (`&name`) are not allowed in rule files (9 more in this file)"
        )),
        "{digest}"
    );
    assert!(
        digest.contains(
            "YAML aliases (`*name`) are not allowed in rule files (89 more in this file)"
        ),
        "{digest}"
    );
}

#[test]
fn limits_yaml_nesting_past_the_limit_is_located() {
    let dir = tempfile::tempdir().expect("tempdir");
    let line = RULE.lines().count() + 1;
    let text = format!("{RULE}deep: {}1{}\n", "[".repeat(100), "]".repeat(100));
    write(dir.path(), "deep.yml", &text);
    let (run, digest) = validate(dir.path(), "deep.yml");
    assert_eq!(run.code, 1, "{}", run.stderr);
    // `deep: ` is 6 columns and the rule's mapping is the first level, so
    // the 64th `[` is one too deep.
    assert!(
        digest.contains(&format!(
            "error STH003 deep.yml:{line}:70 nesting deeper than 64 levels"
        )),
        "{digest}"
    );
    // Far deeper, the YAML scanner's own limit answers first: still located.
    let text = format!(
        "{RULE}deep: {}1{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    write(dir.path(), "deeper.yml", &text);
    let (run, digest) = validate(dir.path(), "deeper.yml");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        digest.contains(&format!(
            "error STH003 deeper.yml:{line}:262 nesting deeper than the YAML parser allows"
        )),
        "{digest}"
    );
}

#[test]
fn limits_condition_nesting_is_an_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let condition = format!("{}selection{}", "(".repeat(200_000), ")".repeat(200_000));
    let text = RULE.replace("condition: selection", &format!("condition: {condition}"));
    write(dir.path(), "cond.yml", &text);
    let (run, digest) = validate(dir.path(), "cond.yml");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        digest.contains(
            "error STH300 cond.yml:8:80 condition: the condition nests parentheses and `not` deeper than 64 levels"
        ),
        "{digest}"
    );
}

#[test]
fn limits_regex_over_the_size_limit_is_located_at_the_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = RULE.replace(
        "CommandLine|contains: whoami",
        "CommandLine|re: '\\w{1,1000}\\w{1,1000}'",
    );
    write(dir.path(), "re.yml", &text);
    let (run, digest) = validate(dir.path(), "re.yml");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = 1 + RULE
        .lines()
        .position(|l| l.contains("CommandLine"))
        .expect("value line");
    assert!(
        digest.contains(&format!(
            "error STH202 re.yml:{line}:25 regular expression is too large (over 10485760 bytes compiled)"
        )),
        "{digest}"
    );
    // The engine refuses it too, naming the rule file and position.
    write(
        dir.path(),
        "events.ndjson",
        "{\"CommandLine\": \"whoami\"}\n",
    );
    let run = stetho_in(
        dir.path(),
        &[
            "--no-config",
            "replay",
            "--rules",
            "re.yml",
            "events.ndjson",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("re.yml:{line}:25: invalid regex")),
        "{}",
        run.stderr
    );
}

fn replay_lines(lines: &[Vec<u8>]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "rule.yml", RULE);
    let mut bytes = Vec::new();
    for line in lines {
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
    }
    std::fs::write(dir.path().join("events.ndjson"), bytes).expect("write events");
    stetho_in(
        dir.path(),
        &[
            "--no-config",
            "replay",
            "--rules",
            "rule.yml",
            "--format",
            "jsonl",
            "events.ndjson",
        ],
    )
}

const HIT: &[u8] = b"{\"CommandLine\": \"whoami /all\"}";

#[test]
fn limits_ndjson_line_over_the_limit_is_skipped_and_counted() {
    let mut long = b"{\"CommandLine\": \"whoami ".to_vec();
    long.resize(16 * 1024 * 1024 + 10, b'x');
    long.extend_from_slice(b"\"}");
    let run = replay_lines(&[HIT.to_vec(), long, HIT.to_vec()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("events.ndjson:2: malformed event skipped: line longer than 16777216 bytes"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("2 hits, 1 malformed skipped"),
        "{}",
        run.stderr
    );
}

#[test]
fn limits_event_nested_too_deep_is_skipped_and_counted() {
    // The deep value is in a field the rule reads (values of fields no rule
    // reads are skipped without being built).
    let deep = format!(
        "{{\"CommandLine\": {}\"whoami\"{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let run = replay_lines(&[HIT.to_vec(), deep.into_bytes(), HIT.to_vec()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "events.ndjson:2: malformed event skipped: event nested deeper than 127 levels of arrays and objects (at column 143)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("2 hits, 1 malformed skipped"),
        "{}",
        run.stderr
    );
}

#[test]
fn limits_list_over_the_entry_limit_names_the_line() {
    let rule = RULE.replace(
        "CommandLine|contains: whoami",
        "CommandLine|expand: '%big%'",
    );
    let dir = project(&rule, &[("big", numbered("value", 100_001))]);
    let run = stetho_in(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let digest = diagnostics_digest(&run.stdout);
    assert!(
        digest.contains(
            "error STH003 big.txt:100001:1 list has more than 100000 entries; value lists are limited to 100000"
        ),
        "{digest}"
    );
    let run = stetho_in(dir.path(), &["replay", "--rules", "rules", "-"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("big.txt:100001: list has more than 100000 entries"),
        "{}",
        run.stderr
    );
}

#[test]
fn limits_placeholder_expansion_is_capped_per_item_and_per_rule() {
    // Two placeholders of 101 values each: 10,201 values in one item.
    let rule = RULE.replace(
        "CommandLine|contains: whoami",
        "CommandLine|expand: '%a%-%b%'",
    );
    let lists = [("a", numbered("a", 101)), ("b", numbered("b", 101))];
    let dir = project(&rule, &lists);
    write(
        dir.path(),
        "events.ndjson",
        "{\"CommandLine\": \"a1-b1\"}\n",
    );
    let run = stetho_in(dir.path(), &["replay", "--rules", "rules", "events.ndjson"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("rule.yml:7:29: placeholders expand to more than 10000 values"),
        "{}",
        run.stderr
    );

    // Eleven items of 10,000 values each: under the item cap, over the rule's.
    let mut items = String::new();
    for i in 0..11 {
        let _ = writeln!(items, "        F{i}|expand: '%big%'");
    }
    let rule = RULE.replace("        CommandLine|contains: whoami\n", &items);
    let dir = project(&rule, &[("big", numbered("v", 10_000))]);
    write(dir.path(), "events.ndjson", "{\"F0\": \"v1\"}\n");
    let run = stetho_in(dir.path(), &["replay", "--rules", "rules", "events.ndjson"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "rule.yml:17:21: the rule expands to more than 100000 values in all (this item goes over)"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn limits_config_file_over_the_size_limit_is_a_usage_error() {
    let dir = project(RULE, &[]);
    let mut config = String::from("[project]\nprofile = \"sigma\"\n");
    while config.len() <= 1024 * 1024 {
        config.push_str("# padding padding padding padding padding padding padding\n");
    }
    write(dir.path(), "stetho.toml", &config);
    let run = stetho_in(dir.path(), &["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "stetho.toml: file is {} bytes; configuration files are limited to 1048576 bytes",
            config.len()
        )),
        "{}",
        run.stderr
    );
}
