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

/// The HTML report as a reader sees it: rendered by headless Chromium
/// (Debian's `chromium`, driven by `conformance/coverage-render.js`),
/// with a rule past its review date, which must be highlighted. The
/// screenshot is kept in `target/coverage-render/` (out of git).
#[test]
fn the_html_report_renders_in_headless_chromium() {
    let script = root().join("conformance/coverage-render.js");
    let ready = root()
        .join("conformance/node_modules/playwright-core")
        .exists()
        && std::path::Path::new("/usr/bin/chromium").exists();
    if !ready {
        assert!(
            std::env::var_os("STETHO_REQUIRE_CONFORMANCE").is_none(),
            "the render check needs playwright-core (npm ci --prefix conformance) and chromium"
        );
        eprintln!("note: chromium or playwright-core missing; run scripts/test.sh");
        return;
    }
    let project = crate::common::project_copy();
    let rule = project
        .path()
        .join("detections/ransomware/backup_deletion_or_boot_recovery_disabled.yml");
    let text = std::fs::read_to_string(&rule).expect("rule");
    let stale = text.replacen("next_review: '2027-05-29'", "next_review: '2020-01-01'", 1);
    assert_ne!(
        text, stale,
        "the rule's review date moved; update this test"
    );
    std::fs::write(&rule, stale).expect("write");
    let out = project.path();
    let layer = stetho_in(
        out,
        &["coverage", "--format", "navigator", "--out", "layer.json"],
    );
    assert_eq!(layer.code, 0, "{}", layer.stderr);
    let html = stetho_in(
        out,
        &["coverage", "--format", "html", "--out", "coverage.html"],
    );
    assert_eq!(html.code, 0, "{}", html.stderr);
    let screenshot = root().join("target/coverage-render/coverage.png");
    let render = std::process::Command::new("node")
        .arg(&script)
        .arg("--layer")
        .arg(out.join("layer.json"))
        .arg("--screenshot")
        .arg(&screenshot)
        .arg(out.join("coverage.html"))
        .output()
        .expect("node runs");
    let report = String::from_utf8_lossy(&render.stdout);
    assert_eq!(
        render.status.code(),
        Some(0),
        "{report}\n{}",
        String::from_utf8_lossy(&render.stderr)
    );
    assert!(report.contains("(1 highlighted)"), "{report}");
    assert!(
        report.contains("coverage render: 9 passed, 0 failed"),
        "{report}"
    );
}
