//! `stetho coverage`: Navigator layer, Markdown and HTML.

use crate::common::{root, stetho, stetho_in};

#[test]
fn coverage_of_a_small_project() {
    let dir = root().join("tests/harness/project");
    let markdown = stetho_in(&dir, &["coverage"]);
    assert_eq!(markdown.code, 0, "{}", markdown.stderr);
    insta::assert_snapshot!("coverage_markdown", markdown.stdout);
    let layer = stetho_in(&dir, &["coverage", "--format", "navigator"]);
    insta::assert_snapshot!("coverage_navigator", layer.stdout);
}

#[test]
fn the_library_layer_and_report_are_well_formed() {
    let layer = stetho(&["coverage", "--format", "navigator"]);
    assert_eq!(layer.code, 0, "{}", layer.stderr);
    let value: serde_json::Value = serde_json::from_str(&layer.stdout).expect("json");
    assert_eq!(value["domain"], "enterprise-attack");
    let techniques = value["techniques"].as_array().expect("techniques");
    assert!(techniques.iter().any(|t| t["techniqueID"] == "T1490"));
    for t in techniques {
        assert!(t["score"].as_u64().is_some(), "{t}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("coverage.html");
    let html = stetho(&[
        "coverage",
        "--format",
        "html",
        "--out",
        page.to_str().expect("utf-8"),
    ]);
    assert_eq!(html.code, 0, "{}", html.stderr);
    let text = std::fs::read_to_string(&page).expect("report");
    assert!(text.starts_with("<!DOCTYPE html>") && text.trim_end().ends_with("</html>"));
    assert!(text.contains("T1490 Inhibit System Recovery"));
    assert!(!text.contains("<script") && !text.contains("http://") && !text.contains("https://"));
}
