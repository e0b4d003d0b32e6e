//! One rule file's bytes through `stetho validate`'s path: size and UTF-8
//! checks, the YAML loader, the schema, the rule model and every lint, and the report rendered, with
//! the default settings (no `stetho.toml`, the Sigma profile), then
//! lowering to rule logic as `compile` and `replay` do.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use stetho::diagnostic::human;
use stetho::logic::{Lists, lower_rules};
use stetho::settings::{Profile, Project};
use stetho::validate::validate_bytes;

fuzz_target!(|data: &[u8]| {
    let project = Project::without_config();
    let today = time::macros::date!(2026 - 01 - 01);
    for profile in [Profile::Sigma, Profile::Healthcare] {
        let report = validate_bytes(
            Path::new("fuzz.yml"),
            data.to_vec(),
            &project,
            profile,
            today,
        );
        // Rendering (as `validate` prints it) reads spans back out of the
        // source text.
        let _ = human::render(&report.diagnostics, &report.summary(), false);
        if profile == Profile::Sigma {
            let _ = lower_rules(&report.rules, &Lists::default());
        }
    }
});
