//! Arbitrary bytes as an event input, read by the event reader `replay`
//! uses (NDJSON lines, a JSON array or JSON documents; malformed lines are
//! reported and skipped), fixture generator lines expanded, events
//! canonicalised by the healthcare pipeline's sources, matched against a
//! fixed rule set (the shipped detections and the engine tests, loaded
//! once), and detection hits fed to the correlator. Each NDJSON line is
//! also matched the way replay reads it (only the keys rules read, fields
//! scanned as the parser meets them), which must give the same rules as
//! the fully parsed event.
#![no_main]

use std::io::{BufRead, Cursor};
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use stetho::eval::RuleSet;
use stetho::eval::correlate::{Correlator, EventRef};
use stetho::events::{self, Item};
use stetho::logic::{Body, RuleLogic};
use stetho::pipeline::Source;
use stetho::replay::{DEFAULT_TIMESTAMP_FIELDS, LineMatcher};

/// Events matched per input at most: a generator line may stand for up to
/// `fixture::MAX_GENERATED` events, which is a replay's business, not this
/// target's.
const MAX_EVENTS: usize = 256;

struct Fixed {
    rules: Vec<RuleLogic>,
    /// The rules without keyword searches (which make replay parse every
    /// key, so nothing is scanned while parsing), compiled on their own
    /// and as replay reads lines.
    scanned: RuleSet,
    lines: Mutex<LineMatcher>,
    set: RuleSet,
    canonical: Vec<Source>,
}

static FIXED: LazyLock<Fixed> = LazyLock::new(|| {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let paths = [root.join("detections"), root.join("tests/engine")];
    let project = stetho::settings::Project::without_config();
    let lowered =
        stetho::commands::lower(&paths, &project, stetho::load::Keep::Logic).expect("rules load");
    assert!(!lowered.rules.is_empty(), "no rules loaded");
    let set = RuleSet::new(&detections(&lowered.rules)).expect("rules compile");
    let canonical = lowered
        .pipelines
        .get("healthcare")
        .map(|p| {
            p.sources()
                .iter()
                .filter(|s| !s.columns.is_empty() || s.computed().next().is_some())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let without_keywords: Vec<RuleLogic> = lowered
        .rules
        .iter()
        .filter(|r| match &r.body {
            Body::Detection(e) => e.preds().iter().all(|p| p.field.is_some()),
            Body::Correlation(_) => true,
        })
        .cloned()
        .collect();
    let scanned = RuleSet::new(&detections(&without_keywords)).expect("rules compile");
    let lines = Mutex::new(LineMatcher::new(&without_keywords).expect("rules compile"));
    Fixed {
        scanned,
        lines,
        rules: lowered.rules,
        set,
        canonical,
    }
});

fn detections(rules: &[RuleLogic]) -> Vec<Option<stetho::logic::Expr>> {
    rules
        .iter()
        .map(|r| match &r.body {
            Body::Detection(e) => Some(e.clone()),
            Body::Correlation(_) => None,
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let fixed = &*FIXED;
    let mut events: Vec<Value> = Vec::new();
    let reader: Box<dyn BufRead + Send> = Box::new(Cursor::new(data.to_vec()));
    let mut lines = fixed.lines.lock().unwrap_or_else(|e| e.into_inner());
    let _ = events::read(reader, &mut |item| {
        if let Item::Raw { text, .. } = &item
            && let Ok(replayed) = lines.matching(text)
            && let Ok(event) = serde_json::from_slice::<Value>(text)
        {
            let mut scratch = fixed.scanned.scratch();
            let mut plain = Vec::new();
            fixed.scanned.matching(&event, &mut scratch, &mut plain);
            assert_eq!(replayed, plain, "replay's parse disagrees on {event}");
        }
        if let Item::Event { event, .. } = item.parsed() {
            match stetho::fixture::expand(&event, DEFAULT_TIMESTAMP_FIELDS) {
                Some(Ok(generated)) => events.extend(generated),
                Some(Err(_)) => {}
                None => events.push(event),
            }
        }
        events.len() < MAX_EVENTS
    });
    events.truncate(MAX_EVENTS);
    let timestamps: Vec<String> = DEFAULT_TIMESTAMP_FIELDS
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut correlator = Correlator::new(&fixed.rules, timestamps);
    let mut scratch = fixed.set.scratch();
    let mut hits = Vec::new();
    for (index, event) in events.iter().enumerate() {
        for source in &fixed.canonical {
            let mut copy = event.clone();
            source.canonicalise(&mut copy);
        }
        hits.clear();
        fixed.set.matching(event, &mut scratch, &mut hits);
        let at = EventRef {
            input: 0,
            line: index + 1,
            index,
        };
        for &rule in &hits {
            if correlator.uses(rule) {
                correlator.observe(rule, event, at);
            }
        }
    }
    let _ = correlator.finish();
});
