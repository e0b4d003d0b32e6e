//! `stetho compile --target sigma`: standard Sigma for other platforms.
//!
//! - every exported document validates against the official Sigma JSON
//!   schemas bundled in `schemas/sigma/`;
//! - round trip: the SigmaHQ corpus, exported and read back, lowers to the
//!   same backend-neutral logic as the source rules; the shipped library,
//!   exported (native column names translated to SigmaHQ's generic names),
//!   replays to the same hits on every fixture as the source rules;
//! - insta snapshot of the exported library;
//! - what Sigma cannot express (`nhs_number`) is an error naming the rule
//!   and the construct, or with `--lossy` a commented approximation.
//!
//! pySigma's own checks (`sigma check`, `sigma convert`) run in
//! `scripts/sigma-check/run.py`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use stetho::logic::{Body, Expr, Lists, RuleLogic, Test, lower_rules};

use crate::common::{project_copy, root, stetho, stetho_in};

/// Export into a fresh folder; returns the folder and the run.
pub(crate) fn export(args: &[&str]) -> (tempfile::TempDir, crate::common::Run) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().to_str().expect("utf-8").to_string();
    let mut full = vec!["compile", "--target", "sigma", "--out", out.as_str()];
    full.extend_from_slice(args);
    let run = stetho(&full);
    (dir, run)
}

pub(crate) fn yml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

/// Load and lower rule files with the library, as `compile` does; every
/// exported rule must lower (the sources may hold rules that do not).
pub(crate) fn lowered(paths: &[PathBuf], lists: &Lists, exported: bool) -> Vec<RuleLogic> {
    let files = stetho::load::discover(paths).expect("discover");
    let loaded = stetho::load::load_files(&files);
    let (rules, errors) = lower_rules(&loaded.rules, lists);
    assert!(
        !exported || errors.is_empty(),
        "exported rules must lower: {:?}",
        errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    );
    rules
}

/// A regex with `\x{HHHH}` escapes of non-ASCII characters written as the
/// characters, the one spelling the export changes in a regex.
fn regex_spelling(pattern: &str) -> String {
    let escape = regex::Regex::new(r"\\x\{([0-9A-Fa-f]+)\}").expect("regex");
    escape
        .replace_all(
            pattern,
            |c: &regex::Captures<'_>| match u32::from_str_radix(&c[1], 16)
                .ok()
                .and_then(char::from_u32)
            {
                Some(ch) if u32::from(ch) >= 0x80 => ch.to_string(),
                _ => c[0].to_string(),
            },
        )
        .into_owned()
}

/// A rule's logic in a form comparable across rule sets (correlations name
/// their rules by key, not by index; regexes up to the `\x{..}` spelling).
fn comparable(rules: &[RuleLogic], rule: &RuleLogic) -> String {
    match &rule.body {
        Body::Detection(expr) => {
            let expr = expr.clone().map_preds(&mut |mut p| {
                if let Test::Regex { pattern, .. } = &mut p.test {
                    *pattern = regex_spelling(pattern);
                }
                // Which list a value came from is not logic: a resolved
                // placeholder tests the same values, written in.
                p.list = None;
                Expr::Pred(p)
            });
            format!("{expr:?}")
        }
        Body::Correlation(c) => {
            let key = |i: &usize| rules[*i].key().to_string();
            let aliases: BTreeMap<&String, BTreeMap<String, &String>> = c
                .aliases
                .iter()
                .map(|(a, per)| (a, per.iter().map(|(i, f)| (key(i), f)).collect()))
                .collect();
            format!(
                "{:?} {:?} {:?} {:?} {} {:?} {:?} {:?} {}",
                c.kind,
                c.rules.iter().map(key).collect::<Vec<_>>(),
                c.group_by,
                aliases,
                c.timespan_seconds,
                c.condition,
                c.field,
                c.percentile,
                c.generate
            )
        }
    }
}

pub(crate) fn by_key(rules: &[RuleLogic]) -> BTreeMap<String, String> {
    rules
        .iter()
        .map(|r| {
            (
                format!("{} hidden={}", r.key(), r.hidden),
                comparable(rules, r),
            )
        })
        .collect()
}

/// The official schemas, compiled once per test.
struct Schemas {
    rule: jsonschema::Validator,
    correlation: jsonschema::Validator,
    filter: jsonschema::Validator,
}

impl Schemas {
    fn load() -> Schemas {
        let build = |name: &str| {
            let text = std::fs::read_to_string(root().join("schemas/sigma").join(name))
                .expect("bundled schema");
            let schema: serde_json::Value = serde_json::from_str(&text).expect("schema JSON");
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&schema)
                .expect("schema compiles")
        };
        Schemas {
            rule: build("sigma-detection-rule-schema.json"),
            correlation: build("sigma-correlation-rules-schema.json"),
            filter: build("sigma-filters-schema.json"),
        }
    }

    /// Every schema error of every document of an exported file.
    fn errors(&self, path: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(path).expect("exported file");
        let loaded = stetho::source::yaml::load(&text);
        assert!(
            loaded.errors.is_empty(),
            "{}: {:?}",
            path.display(),
            loaded.errors
        );
        let mut out = Vec::new();
        for (i, doc) in loaded.documents.iter().enumerate() {
            let json = doc.to_json();
            let validator = if doc.get("correlation").is_some() {
                &self.correlation
            } else if doc.get("filter").is_some() && doc.get("detection").is_none() {
                &self.filter
            } else {
                &self.rule
            };
            for error in validator.iter_errors(&json) {
                out.push(format!(
                    "{} document {}: {} at {}",
                    path.display(),
                    i + 1,
                    error,
                    error.instance_path()
                ));
            }
        }
        out
    }
}

#[test]
fn the_sigmahq_corpus_round_trips_to_the_same_logic() {
    let corpus = root().join("tests/corpus/sigmahq");
    let (dir, run) = export(&["--no-config", corpus.to_str().expect("utf-8")]);
    // Only rules stetho cannot lower without a project fail: placeholders
    // with no list, correlation examples whose rules are not in the corpus.
    for line in run.stderr.lines().filter(|l| l.starts_with("error: ")) {
        assert!(
            line.contains("no list for placeholder") || line.contains("unknown rule `"),
            "{line}"
        );
    }
    let files = yml_files(dir.path());
    assert!(files.len() >= 390, "{} files\n{}", files.len(), run.stderr);
    let schemas = Schemas::load();
    let errors: Vec<String> = files.iter().flat_map(|f| schemas.errors(f)).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));

    let source = by_key(&lowered(&[corpus], &Lists::default(), false));
    let exported = by_key(&lowered(
        &[dir.path().to_path_buf()],
        &Lists::default(),
        true,
    ));
    assert_eq!(exported.len(), files.len());
    let mut differ = Vec::new();
    for (key, logic) in &exported {
        match source.get(key) {
            Some(original) if original == logic => {}
            Some(original) => differ.push(format!(
                "{key}:\n  source:   {original}\n  exported: {logic}"
            )),
            None => differ.push(format!("{key}: not in the source set")),
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// Every fixture file, relative to the project root.
fn fixtures() -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root().join("test-events")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != ".snapshots") {
                    stack.push(path);
                }
            } else if path
                .extension()
                .is_some_and(|e| e == "ndjson" || e == "json")
            {
                let relative = path.strip_prefix(root()).expect("below root");
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// (rule id, file, line) of every hit of `rules` over every fixture.
fn hits(rules: &str, fixtures: &[String]) -> BTreeSet<(String, String, String)> {
    let mut args = vec!["replay", "--rules", rules, "--format", "jsonl"];
    args.extend(fixtures.iter().map(String::as_str));
    let run = stetho(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
        .lines()
        .map(|l| {
            let hit: serde_json::Value = serde_json::from_str(l).expect("hit JSON");
            (
                hit["rule_id"].as_str().unwrap_or_default().to_string(),
                hit["file"].as_str().unwrap_or_default().to_string(),
                hit["line"].to_string(),
            )
        })
        .collect()
}

#[test]
fn the_library_round_trips_to_the_same_hits_on_every_fixture() {
    // Without --lossy: the nhs_number rules are refused (tested below), every
    // other rule is exported exactly, native names translated where they can be.
    let (dir, run) = export(&[]);
    let exported_dir = dir.path().to_str().expect("utf-8").to_string();
    let schemas = Schemas::load();
    let files = yml_files(dir.path());
    let errors: Vec<String> = files.iter().flat_map(|f| schemas.errors(f)).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    for line in run.stderr.lines().filter(|l| l.starts_with("error: ")) {
        assert!(line.contains("nhs_number"), "{line}");
    }
    let lists = Lists::load(&root().join("lists")).expect("lists");
    let exported_rules = lowered(&[dir.path().to_path_buf()], &lists, true);
    let exported_ids: BTreeSet<String> = exported_rules
        .iter()
        .filter(|r| !r.hidden)
        .map(|r| r.key().to_string())
        .collect();
    assert!(exported_ids.len() >= 8, "{exported_ids:?}");
    // Most library rules are written in the stetho taxonomy; the export
    // must have translated some of them to generic names.
    let generic = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).expect("read");
            !text.contains("taxonomy: stetho") && text.contains("CommandLine")
        })
        .count();
    assert!(generic >= 3, "{generic} rules with generic process fields");

    // stetho itself reads the export as valid plain Sigma.
    let valid = stetho(&["--no-config", "validate", &exported_dir]);
    assert_eq!(valid.code, 0, "{}", valid.stdout);

    let fixtures = fixtures();
    let source: BTreeSet<_> = hits("detections", &fixtures)
        .into_iter()
        .filter(|(id, _, _)| exported_ids.contains(id))
        .collect();
    let exported = hits(&exported_dir, &fixtures);
    assert!(source.len() > 50, "{} hits", source.len());
    let missing: Vec<_> = source.difference(&exported).collect();
    let extra: Vec<_> = exported.difference(&source).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing after export: {missing:?}\nextra after export: {extra:?}"
    );
}

#[test]
fn placeholders_resolve_to_the_same_logic() {
    let rule = "detections/rmm/unsanctioned_rmm_tool_execution.yml";
    let (kept, run) = export(&[rule]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&yml_files(kept.path())[0]).expect("read");
    assert!(text.contains("|expand: '%sanctioned_rmm%'"), "{text}");
    let (resolved, run) = export(&["--resolve-placeholders", rule]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&yml_files(resolved.path())[0]).expect("read");
    assert!(!text.contains('%') && !text.contains("|expand"), "{text}");
    let lists = Lists::load(&root().join("lists")).expect("lists");
    let with_lists = by_key(&lowered(&[kept.path().to_path_buf()], &lists, true));
    let without = by_key(&lowered(
        &[resolved.path().to_path_buf()],
        &Lists::default(),
        true,
    ));
    let source = by_key(&lowered(&[root().join(rule)], &lists, false));
    assert_eq!(with_lists, source);
    assert_eq!(without, source);
}

#[test]
fn nhs_number_is_an_error_without_lossy_and_a_comment_with_it() {
    let rule = "detections/exfiltration/nhs_numbers_in_command_line.yml";
    let run = stetho(&["compile", "--target", "sigma", rule]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("rule `cf3979c6-c367-4ef2-bf6e-44d389161718`")
            && run.stderr.contains("`nhs_number`")
            && run.stderr.contains("--lossy"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    let run = stetho(&["compile", "--target", "sigma", "--lossy", rule]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("# stetho --lossy: "), "{}", run.stdout);
    assert!(run.stdout.contains("CommandLine|re: '"), "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "warning: detections/exfiltration/nhs_numbers_in_command_line.yml: rule `cf3979c6"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_correlation_is_exported_with_the_rules_it_needs() {
    let run = stetho(&[
        "compile",
        "--target",
        "sigma",
        "detections/identity/mfa_push_fatigue.yml",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let loaded = stetho::source::yaml::load(&run.stdout);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    // The stream starts with a separator, then the base rule and the correlation.
    assert_eq!(loaded.documents.len(), 2, "{}", run.stdout);
    assert!(loaded.documents[0].get("detection").is_some());
    let correlation = loaded.documents[1].get("correlation").expect("correlation");
    assert_eq!(
        correlation.get("generate").and_then(|n| n.as_str()),
        Some("false")
    );
    // `Status.additionalDetails` has no generic name: the unit stays native.
    assert!(run.stdout.contains("taxonomy: stetho"), "{}", run.stdout);
    assert!(
        run.stderr.contains("kept in `taxonomy: stetho`"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("tests:"), "{}", run.stdout);
}

#[test]
fn filters_travel_with_the_rules_they_apply_to() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("rule.yml"),
        "title: Whoami\nid: 5a0c1e7e-8f4b-4b6b-9a55-2f0a3c1d9e01\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '\\whoami.exe'\n    condition: any of sel*\nlevel: low\ntests: []\n---\ntitle: Admins are fine\nlogsource:\n    product: windows\nfilter:\n    rules: any\n    admin:\n        User|startswith: 'adm_'\n    condition: not admin\n",
    )
    .expect("write");
    let rule_path = dir.path().to_str().expect("utf-8");
    let run = stetho(&["--no-config", "compile", "--target", "sigma", rule_path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = "---\ntitle: Whoami\nid: 5a0c1e7e-8f4b-4b6b-9a55-2f0a3c1d9e01\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '\\whoami.exe'\n    condition: 1 of sel*\nlevel: low\n---\ntitle: Admins are fine\nlogsource:\n    product: windows\nfilter:\n    # stetho: `rules: any`, listed as the rules of this export it applies to\n    rules:\n        - 5a0c1e7e-8f4b-4b6b-9a55-2f0a3c1d9e01\n    # stetho: `admin` renamed `selection`, which the Sigma filter schema requires\n    selection:\n        User|startswith: 'adm_'\n    condition: not selection\n";
    assert_eq!(run.stdout, expected);
    let out = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        out.path().join("x.yml"),
        run.stdout.trim_start_matches("---\n"),
    )
    .expect("write");
    let schemas = Schemas::load();
    assert_eq!(
        schemas.errors(&out.path().join("x.yml")),
        Vec::<String>::new()
    );
    let source = by_key(&lowered(
        &[dir.path().to_path_buf()],
        &Lists::default(),
        false,
    ));
    let exported = by_key(&lowered(
        &[out.path().to_path_buf()],
        &Lists::default(),
        true,
    ));
    assert_eq!(source, exported);
}

#[test]
fn normalised_spellings_keep_the_logic_file_by_file() {
    let cases = root().join("tests/sigma-export/normalise.yml");
    let (dir, run) = export(&["--no-config", cases.to_str().expect("utf-8")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("`timeframe`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("a list of conditions"),
        "{}",
        run.stderr
    );
    let files = yml_files(dir.path());
    // The detection, its two correlated rules (generate: true) and the correlation.
    assert_eq!(files.len(), 4, "{files:?}");
    let all: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("read"))
        .collect();
    for expected in [
        "CommandLine|wide|base64offset|contains: 'Invoke-Mimikatz'",
        "CommandLine|re|i: '[\u{2013}\u{2014}]enc\\b'",
        "condition: (1 of sel_enc*) or (sel_re and not sel_ref)",
        "    timespan: 5m\n    generate: true\n",
        "    rules:\n        - step_one\n        - step_two\n    selection:",
        "references:\n    - https://example.invalid/one-reference\ndate: '2024-05-01'\n",
        "falsepositives:\n    - A single false positive written as a string\n",
    ] {
        assert!(all.contains(expected), "{expected}\n{all}");
    }
    assert!(
        !all.contains("timeframe") && !all.contains("\ngenerate"),
        "{all}"
    );
    let schemas = Schemas::load();
    let source = by_key(&lowered(&[cases], &Lists::default(), false));
    for file in &files {
        assert_eq!(schemas.errors(file), Vec::<String>::new());
        // Each file is self-contained: read alone, it gives the source's logic.
        for (key, logic) in by_key(&lowered(
            std::slice::from_ref(file),
            &Lists::default(),
            true,
        )) {
            assert_eq!(source.get(&key), Some(&logic), "{}: {key}", file.display());
        }
    }
}

#[test]
fn keys_that_become_one_key_are_split_into_identifiers_with_the_same_logic() {
    let rule = root().join("tests/sigma-export/same_key_after_normalising.yml");
    let (dir, run) = export(&["--no-config", rule.to_str().expect("utf-8")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("exported as 3 search identifiers"),
        "{}",
        run.stderr
    );
    let files = yml_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).expect("read");
    // `sel_2` is the rule's own: the part of `sel` takes the next free name,
    // and `all of sel*` is written out so it does not pick the parts up.
    for expected in [
        "    sel_3:\n        CommandLine|wide|base64offset|contains: 'Invoke-Beta'\n",
        "    sel_re_3:\n        CommandLine|re|i|m: 'gamma'\n",
        "condition: (sel and sel_3 and sel_re and sel_re_2 and sel_re_3 and sel_2 or sel and sel_3 and sel_2) and not filter",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    assert_eq!(Schemas::load().errors(&files[0]), Vec::<String>::new());
    let source = by_key(&lowered(&[rule], &Lists::default(), false));
    let exported = by_key(&lowered(&files, &Lists::default(), true));
    assert_eq!(source, exported);
}

#[test]
fn keys_that_become_one_key_in_a_list_of_maps_are_refused_clearly() {
    let rule = root().join("tests/sigma-export-refused/same_key_in_a_list.yml");
    let (_dir, run) = export(&["--no-config", rule.to_str().expect("utf-8")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("a map in a list cannot be split")
            && !run.stderr.contains("internal error"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_semantic_suite_round_trips_file_by_file() {
    // tests/engine pins every modifier and condition form down; its rules,
    // exported one file each and read back alone, give the same logic.
    let engine = root().join("tests/engine");
    let (dir, run) = export(&["--no-config", engine.to_str().expect("utf-8")]);
    for line in run
        .stderr
        .lines()
        .filter(|l| l.contains("rule `") && l.starts_with("error: "))
    {
        assert!(
            line.contains("`nhs_number`") || line.contains("`value_median`"),
            "{line}"
        );
    }
    let files = yml_files(dir.path());
    assert!(files.len() >= 100, "{} files\n{}", files.len(), run.stderr);
    let schemas = Schemas::load();
    let source = by_key(&lowered(&[engine], &Lists::default(), false));
    let mut problems = Vec::new();
    for file in &files {
        problems.extend(schemas.errors(file));
        for (key, logic) in by_key(&lowered(
            std::slice::from_ref(file),
            &Lists::default(),
            true,
        )) {
            if source.get(&key) != Some(&logic) {
                problems.push(format!("{}: {key}: {logic}", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn lossy_constructs_fail_without_lossy_and_are_approximated_with_it() {
    let median = root().join("tests/sigma-export/lossy_value_median.yml");
    let median = median.to_str().expect("utf-8");
    let run = stetho(&["--no-config", "compile", "--target", "sigma", median]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "rule `2d4f6a8c-0e1b-4d3f-9a5c-7e9b1d3f5a06`: correlation type `value_median`"
        ),
        "{}",
        run.stderr
    );
    let (dir, run) = export(&["--no-config", "--lossy", median]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file = &yml_files(dir.path())[0];
    let text = std::fs::read_to_string(file).expect("read");
    assert!(
        text.contains("    # stetho --lossy: `value_median` written as `value_percentile` with `percentile: 50`\n    type: value_percentile\n"),
        "{text}"
    );
    assert!(
        text.contains("        gt: 1000\n        percentile: 50\n"),
        "{text}"
    );
    assert_eq!(Schemas::load().errors(file), Vec::<String>::new());

    let nhs = root().join("tests/sigma-export/lossy_nhs_number.yml");
    let nhs = nhs.to_str().expect("utf-8");
    let run = stetho(&["--no-config", "compile", "--target", "sigma", nhs]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "rule `0b3c5d7e-9f1a-4b2c-8d4e-6f8a0b1c2d04`: `CommandLine|nhs_number` in `sel`: `nhs_number`"
        ),
        "{}",
        run.stderr
    );
    let run = stetho(&[
        "--no-config",
        "compile",
        "--target",
        "sigma",
        "--lossy",
        nhs,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("        # stetho --lossy: `CommandLine|nhs_number` (2 NHS numbers"),
        "{}",
        run.stdout
    );
}

#[test]
fn flags_of_the_sigma_export_are_refused_for_other_targets() {
    let run = stetho(&["compile", "--lossy"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--target sigma"), "{}", run.stderr);
}

#[test]
fn a_changed_rule_in_a_project_copy_is_exported_from_its_source() {
    // The export reads the rule document, so an edit shows in the output.
    let project = project_copy();
    let rule = project
        .path()
        .join("detections/ransomware/volume_shadow_copy_deletion.yml");
    let text = std::fs::read_to_string(&rule).expect("read rule");
    std::fs::write(&rule, text.replace("- rwmi\n", "- rwmi2\n")).expect("write rule");
    let run = stetho_in(
        project.path(),
        &[
            "compile",
            "--target",
            "sigma",
            "detections/ransomware/volume_shadow_copy_deletion.yml",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("- rwmi2\n"), "{}", run.stdout);
    // Generic names, no taxonomy, healthcare kept and mirrored in tags.
    assert!(run.stdout.contains("Image|endswith: \\vssadmin.exe\n"));
    assert!(!run.stdout.contains("taxonomy:"));
    assert!(run.stdout.contains("\nhealthcare:\n"));
    assert!(run.stdout.contains("    - health.impact.severe\n"));
    assert!(run.stdout.contains("    - caf.c1.c\n"));
}

#[test]
fn the_library_export_snapshot() {
    let run = stetho(&["--quiet", "compile", "--target", "sigma", "--lossy"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let warnings: Vec<&str> = run.stderr.lines().collect();
    insta::assert_snapshot!(
        "library",
        format!(
            "# warnings\n{}\n\n# export\n{}",
            warnings.join("\n"),
            run.stdout
        )
    );
}
