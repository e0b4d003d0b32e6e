//! Inputs the fuzz targets (fuzz/README.md) once crashed on, kept under
//! `tests/fuzz-regressions/TARGET/` and fed through the same entry point
//! as the target: each must give a result or a proper error, never a panic
//! (`stetho_in` fails on a panic message) nor a hang.

use std::path::{Path, PathBuf};

use stetho::model::condition::{self, Expr};

use crate::common::{root, stetho};

/// The regression inputs of one target, sorted (none yet is fine).
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = root().join("tests/fuzz-regressions").join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// `rule_load`: the file validated (load, schema, model, lints) and
/// rendered as `stetho validate` does, with the default settings.
#[test]
fn rule_load_inputs_validate_to_a_report() {
    for path in inputs("rule_load") {
        let run = stetho(&["validate", "--no-config", &relative(&path)]);
        assert!(
            run.code == 0 || run.code == 1,
            "{}: exit {}\n{}",
            path.display(),
            run.code,
            run.stderr
        );
    }
}

/// Identifier names the `condition` target resolves quantifiers against.
const NAMES: &[&str] = &[
    "selection",
    "selection_img",
    "selection_cli_1",
    "filter",
    "filter_main_generic",
    "_internal",
    "keywords",
    "sel.a-b",
    "1",
];

/// `condition`: the text parses and its quantifier targets resolve, or it
/// fails with an error whose span lies on character boundaries.
#[test]
fn condition_inputs_parse_or_fail_cleanly() {
    for path in inputs("condition") {
        let bytes = std::fs::read(&path).expect("read input");
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        match condition::parse(text) {
            Ok(expr) => {
                for reference in expr.references() {
                    if let Expr::Of { target, .. } = reference {
                        let _ = condition::select(target, NAMES.iter().copied());
                    }
                }
            }
            Err(e) => assert!(
                text.get(e.span.clone()).is_some(),
                "{}: {e:?}",
                path.display()
            ),
        }
    }
}

/// `evaluate`: the input replayed against the shipped detections and the
/// engine tests.
#[test]
fn evaluate_inputs_replay() {
    for path in inputs("evaluate") {
        let run = stetho(&[
            "replay",
            "--no-config",
            "--rules",
            "detections",
            "--rules",
            "tests/engine",
            &relative(&path),
        ]);
        assert_eq!(run.code, 0, "{}\n{}", path.display(), run.stderr);
    }
}

/// `compile`: the rule compiled for Defender XDR, Sentinel and Sigma; a
/// rule that does not compile is reported, not a crash.
#[test]
fn compile_inputs_compile_or_report() {
    for path in inputs("compile") {
        let file = relative(&path);
        for args in [
            ["--target", "defender", "--pipeline", "defender_xdr"],
            ["--target", "sentinel", "--pipeline", "sentinel"],
            ["--target", "sigma", "--pipeline", "defender_xdr"],
        ] {
            let mut all = vec!["compile", "--no-config"];
            all.extend(args);
            all.push(&file);
            let run = stetho(&all);
            assert!(
                run.code == 0 || run.code == 1,
                "{file} {args:?}: exit {}\n{}",
                run.code,
                run.stderr
            );
        }
    }
}

/// `yaml`: the subset reader gives the text up or builds saphyr's tree.
#[test]
fn yaml_inputs_read_the_same_with_both_readers() {
    use stetho::source::yaml::{ReaderComparison, compare_readers};
    for path in inputs("yaml") {
        let text = std::fs::read_to_string(&path).expect("a UTF-8 regression input");
        assert!(
            !matches!(compare_readers(&text), ReaderComparison::Different { .. }),
            "{}: the YAML readers disagree",
            path.display()
        );
    }
}
