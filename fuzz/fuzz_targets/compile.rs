//! One rule file's bytes, loaded and lowered as `stetho compile` does, then
//! every reported rule compiled as `compile` would: a Defender XDR custom
//! detection (pipeline `defender_xdr`), Sentinel analytics rule
//! (pipeline `sentinel`), Sentinel query reading watchlists
//! (`--watchlists`) and the Sigma export (plain, `--lossy` and
//! `--resolve-placeholders`). Compile errors are results; panics are bugs.
#![no_main]

use std::cell::RefCell;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use stetho::backend::deploy::Schedule;
use stetho::backend::kql::KqlOptions;
use stetho::backend::sigma::SigmaOptions;
use stetho::cli::Target;
use stetho::commands::Lowered;
use stetho::commands::compile::{Options, artifacts, artifacts_with, reported};
use stetho::logic::{Lists, lower_rules};
use stetho::pipeline::Pipelines;

thread_local! {
    /// Pipelines parsed once; each input replaces the rules.
    static LOWERED: RefCell<Lowered> = RefCell::new(Lowered::new(
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Pipelines::load(None).expect("shipped pipelines load"),
        Lists::from_pairs(&[("admins", &["alice", "bob"])]),
    ));
}

fuzz_target!(|data: &[u8]| {
    let (_, models, _) = stetho::load::load_bytes(Path::new("fuzz.yml"), data.to_vec());
    if models.is_empty() {
        return;
    }
    LOWERED.with_borrow_mut(|lowered| {
        let (rules, _) = lower_rules(&models, &lowered.lists);
        lowered.set_rules(models, rules);
        let lowered = &*lowered;
        let schedule = Schedule::parse("1h").expect("schedule");
        let defender = lowered.pipelines.get("defender_xdr").expect("pipeline");
        let sentinel = lowered.pipelines.get("sentinel").expect("pipeline");
        for i in reported(lowered) {
            // Defender and Sentinel artifacts hold the KQL of their pipeline.
            let _ = artifacts(lowered, i, Target::Defender, defender, schedule);
            let _ = artifacts(lowered, i, Target::Sentinel, sentinel, schedule);
            let watchlists = Options {
                kql: KqlOptions { watchlists: true },
                ..Options::default()
            };
            let _ = artifacts_with(lowered, i, Target::Kql, sentinel, schedule, watchlists);
            for (lossy, resolve_placeholders) in [(false, false), (true, true)] {
                let options = Options {
                    sigma: SigmaOptions {
                        lossy,
                        resolve_placeholders,
                    },
                    ..Options::default()
                };
                let _ = artifacts_with(lowered, i, Target::Sigma, defender, schedule, options);
            }
        }
    });
});
