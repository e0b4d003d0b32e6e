//! `stetho new`: a scaffold that validates and names its fixtures.

use crate::common::{project_copy, stetho_in};

#[test]
fn a_scaffolded_rule_validates_and_its_cases_point_at_its_fixtures() {
    let dir = project_copy();
    let run = stetho_in(
        dir.path(),
        &[
            "new",
            "--title",
            "Certutil Download of a Payload",
            "--logsource",
            "windows/process_creation",
            "--area",
            "lolbins",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rule = dir
        .path()
        .join("detections/lolbins/certutil_download_of_a_payload.yml");
    let text = std::fs::read_to_string(&rule).expect("rule written");
    assert!(text.contains("taxonomy: stetho"));
    assert!(text.contains("ProcessCommandLine|contains: replace me"));
    assert!(text.contains("clinical_impact: moderate # none | low | moderate | severe | critical"));
    // Already in the canonical layout.
    let fmt = stetho_in(dir.path(), &["fmt", "--check", "detections/lolbins"]);
    assert_eq!(fmt.code, 0, "{}", fmt.stdout);
    let validate = stetho_in(dir.path(), &["validate", "detections/lolbins"]);
    assert_eq!(validate.code, 0, "{}", validate.stdout);
    // The example events are placeholders the engineer replaces; the cases
    // already point at them.
    let test = stetho_in(
        dir.path(),
        &["test", "detections/lolbins", "--format", "json"],
    );
    let report: serde_json::Value = serde_json::from_str(&test.stdout).expect("json");
    let cases = report["results"][0]["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0]["hit_lines"], serde_json::json!([2]));
    // No silent overwrite.
    let again = stetho_in(
        dir.path(),
        &[
            "new",
            "--title",
            "Certutil Download of a Payload",
            "--logsource",
            "windows/process_creation",
            "--area",
            "lolbins",
        ],
    );
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("exists"), "{}", again.stderr);
    let missing = stetho_in(dir.path(), &["new", "--title", "x"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
}
