//! The shipped project: `stetho validate` on `detections/` with the
//! repository's stetho.toml (healthcare profile) is clean.

use crate::common::stetho;

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
