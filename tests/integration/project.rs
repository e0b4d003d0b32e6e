//! The shipped project: `stetho validate` on `detections/` with the
//! repository's stetho.toml (healthcare profile) is clean.

use crate::common::{root, stetho};

#[test]
fn shipped_detections_validate_clean() {
    let run = stetho(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("no problems found"), "{}", run.stdout);
}

#[test]
fn a_broken_shipped_rule_fails_validation() {
    // Copy the project, break one field name, and expect an error with its position.
    let dir = tempfile::tempdir().expect("temp dir");
    let root = crate::common::root();
    for sub in ["detections", "playbooks", "lists"] {
        crate::common::copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    std::fs::copy(root.join("stetho.toml"), dir.path().join("stetho.toml")).expect("copy config");
    std::fs::create_dir_all(dir.path().join("schemas")).expect("schemas dir");
    let rule = dir
        .path()
        .join("detections/ransomware/volume_shadow_copy_deletion.yml");
    let text = std::fs::read_to_string(&rule).expect("read rule");
    assert!(text.contains("ProcessCommandLine"), "fixture rule changed");
    std::fs::write(
        &rule,
        text.replacen("ProcessCommandLine", "ProcessCommandLin", 1),
    )
    .expect("write rule");
    let run = crate::common::stetho_in(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("\"code\": \"STH205\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("did you mean `ProcessCommandLine`?"),
        "{}",
        run.stdout
    );
}

/// `--changed-since REV` narrows the report to what a pull request touched,
/// and widens back to everything when shared inputs (lists) change.
#[test]
fn changed_since_reports_only_touched_rules() {
    use std::process::Command;
    let dir = crate::common::project_copy();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(["-c", "user.email=ci@example.invalid", "-c", "user.name=ci"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("git runs")
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    let run = crate::common::stetho_in(dir.path(), &["test", "--changed-since", "HEAD"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.trim_end().ends_with("0 passed, 0 failed"),
        "{}",
        run.stdout
    );

    let rule = dir
        .path()
        .join("detections/rmm/unsanctioned_rmm_tool_execution.yml");
    let text = std::fs::read_to_string(&rule).expect("read");
    std::fs::write(&rule, text.replace("level: high", "level: hihg")).expect("write");
    let validate = crate::common::stetho_in(
        dir.path(),
        &["validate", "--changed-since", "HEAD", "--format", "json"],
    );
    assert_eq!(validate.code, 1, "{}", validate.stdout);
    let report: serde_json::Value = serde_json::from_str(&validate.stdout).expect("json");
    for d in report["diagnostics"].as_array().expect("diagnostics") {
        assert!(
            d["file"]
                .as_str()
                .is_some_and(|f| f.ends_with("unsanctioned_rmm_tool_execution.yml")),
            "{d}"
        );
    }
    let test = crate::common::stetho_in(dir.path(), &["test", "--changed-since", "HEAD"]);
    assert!(
        test.stdout.contains("Unsanctioned Remote Access"),
        "{}",
        test.stdout
    );
    assert!(!test.stdout.contains("LSASS"), "{}", test.stdout);

    // A list change affects every rule.
    let list = dir.path().join("lists/sanctioned_rmm.txt");
    let mut text = std::fs::read_to_string(&list).expect("list");
    text.push_str("\n# reviewed\n");
    std::fs::write(&list, text).expect("write");
    let test = crate::common::stetho_in(dir.path(), &["test", "--changed-since", "HEAD"]);
    assert!(test.stdout.contains("LSASS"), "{}", test.stdout);
}

/// Which rule files a run checks depends on the rules' folders alone: a
/// user's global git excludes (`core.excludesFile`, `~/.config/git/ignore`)
/// hide nothing, so a rule is checked on a laptop as it is in CI.
#[test]
fn personal_git_excludes_hide_no_rule() {
    let home = tempfile::tempdir().expect("temp dir");
    let config = home.path().join(".config");
    std::fs::create_dir_all(config.join("git")).expect("mkdir");
    std::fs::write(config.join("git/ignore"), "*.yml\n").expect("write");
    let excludes = home.path().join("excludes");
    std::fs::write(&excludes, "*.yml\n").expect("write");
    std::fs::write(
        home.path().join(".gitconfig"),
        format!("[core]\n\texcludesFile = {}\n", excludes.display()),
    )
    .expect("write");
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(project.path().join(".git")).expect("mkdir .git");
    std::fs::create_dir(project.path().join("rules")).expect("mkdir");
    std::fs::copy(
        crate::common::root().join("tests/corpus/sigmahq/rules/windows/process_creation/proc_creation_win_whoami_priv_discovery.yml"),
        project.path().join("rules/rule.yml"),
    )
    .expect("copy a corpus rule");
    let home_text = home.path().display().to_string();
    let config_text = config.display().to_string();
    let run = crate::common::stetho_with_env(
        project.path(),
        &[
            "validate",
            "--no-config",
            "--profile",
            "sigma",
            "--format",
            "json",
            "rules",
        ],
        &[("HOME", &home_text), ("XDG_CONFIG_HOME", &config_text)],
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON report");
    assert_eq!(report["files"], 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// The pre-commit hooks run for the files they check: the validate hooks
/// for fixtures too (they refuse NHS numbers in recordings), gzipped ones
/// included.
#[test]
fn pre_commit_hooks_run_for_the_files_they_check() {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).expect("read");
    let loaded = stetho::source::yaml::load(&text);
    let hooks = loaded
        .documents
        .first()
        .and_then(|d| d.as_seq())
        .expect("a list of hooks");
    let files_of = |id: &str| -> regex::Regex {
        let hook = hooks
            .iter()
            .find(|h| h.get("id").and_then(|i| i.as_str()) == Some(id))
            .unwrap_or_else(|| panic!("no hook {id}"));
        let pattern = hook.get("files").and_then(|f| f.as_str()).expect("files");
        regex::Regex::new(pattern).expect("a regex")
    };
    let rule = "detections/ehr/break_glass.yml";
    let fixtures = [
        "test-events/ehr/access_tp.ndjson",
        "test-events/ehr/export.json",
        "test-events/ehr/day.jsonl",
        "test-events/ehr/week.ndjson.gz",
    ];
    for id in ["stetho-validate", "stetho-validate-strict", "stetho-test"] {
        let files = files_of(id);
        for path in std::iter::once(rule).chain(fixtures) {
            assert!(files.is_match(path), "{id} does not run for {path}");
        }
        for path in ["lists/hosts.txt", "stetho.toml"] {
            assert!(files.is_match(path), "{id} does not run for {path}");
        }
    }
    let fmt = files_of("stetho-fmt");
    assert!(fmt.is_match(rule) && !fmt.is_match(fixtures[0]));
}
