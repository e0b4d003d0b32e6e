//! `stetho coverage`: what the library covers, from the rules' metadata.
//!
//! Three views of one computation: an ATT&CK Navigator layer (techniques
//! scored by the number of *tested* rules, so a technique covered only by
//! untested rules shows as covered but unproven), Markdown tables (ATT&CK,
//! CAF outcomes, asset classes, and the rules that need attention), and a
//! self-contained HTML report a SOC lead can open without a server.
//!
//! A rule counts as tested when its `tests:` list has a positive case (the
//! harness proves it fires); "review overdue" compares
//! `healthcare.review.next_review` with today.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::model::Rule;
use crate::source::yaml::Node;

/// One rule's coverage facts.
#[derive(Clone, Debug, Default)]
pub struct RuleFacts {
    pub id: String,
    pub title: String,
    pub path: String,
    pub techniques: BTreeSet<String>,
    pub tactics: BTreeSet<String>,
    pub caf: BTreeSet<String>,
    pub caf_version: Option<String>,
    pub asset_classes: BTreeSet<String>,
    pub tested: bool,
    pub review_overdue: bool,
}

/// Facts for every rule but filters and the rules correlations count.
pub fn facts(rules: &[Rule], today: time::Date) -> Vec<RuleFacts> {
    let attack = crate::catalogue::attack();
    // Rules a correlation counts are parts of it: tested and reported
    // through the correlation, not on their own.
    let parts: BTreeSet<&str> = rules
        .iter()
        .filter_map(|r| r.root.get_path(&["correlation", "rules"]))
        .flat_map(|n| n.string_list().into_iter().map(|(t, _)| t))
        .collect();
    let is_part = |r: &Rule| {
        [r.id.as_ref(), r.name.as_ref()]
            .into_iter()
            .flatten()
            .any(|l| parts.contains(l.text.as_str()))
    };
    let mut out: Vec<RuleFacts> = rules
        .iter()
        .filter(|r| r.kind != crate::model::RuleKind::Filter && !is_part(r))
        .map(|rule| {
            let root = &rule.root;
            let list = |path: &[&str]| -> Vec<String> {
                root.get_path(path)
                    .map(|n| {
                        n.string_list()
                            .into_iter()
                            .map(|(t, _)| t.to_string())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let mut facts = RuleFacts {
                id: rule
                    .id
                    .as_ref()
                    .map(|l| l.text.clone())
                    .or_else(|| rule.name.as_ref().map(|l| l.text.clone()))
                    .unwrap_or_else(|| rule.label()),
                title: rule
                    .title
                    .as_ref()
                    .map(|l| l.text.clone())
                    .unwrap_or_default(),
                path: rule.file.display.clone(),
                ..RuleFacts::default()
            };
            for tag in list(&["tags"]) {
                let Some(name) = tag.strip_prefix("attack.") else {
                    continue;
                };
                let upper = name.to_ascii_uppercase();
                if attack.techniques.contains_key(&upper) {
                    facts.techniques.insert(upper);
                } else if attack.tactics.contains(name) {
                    facts.tactics.insert(name.to_string());
                }
            }
            for t in list(&["healthcare", "attack", "techniques"]) {
                facts.techniques.insert(t.to_ascii_uppercase());
            }
            facts.caf = list(&["healthcare", "caf", "outcomes"])
                .into_iter()
                .collect();
            facts.caf_version = root
                .get_path(&["healthcare", "caf", "version"])
                .and_then(Node::as_str)
                .map(str::to_string);
            facts.asset_classes = list(&["healthcare", "asset_classes"]).into_iter().collect();
            facts.tested = root
                .get("tests")
                .and_then(Node::as_seq)
                .is_some_and(|cases| {
                    cases.iter().any(|c| {
                        let hits = c.get("hits").and_then(Node::as_str);
                        let expect = c.get("expect").and_then(Node::as_str);
                        crate::fixture::Expect::read(expect, hits).is_some_and(|e| e.is_positive())
                    })
                });
            facts.review_overdue = root
                .get_path(&["healthcare", "review", "next_review"])
                .and_then(Node::as_str)
                .and_then(|d| {
                    time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                        .ok()
                })
                .is_some_and(|next| next < today);
            facts
        })
        .collect();
    out.sort_by(|a, b| (&a.path, &a.id).cmp(&(&b.path, &b.id)));
    out
}

/// Technique -> (tested rules, all rules), by id.
fn by_technique(facts: &[RuleFacts]) -> BTreeMap<&str, (Vec<&RuleFacts>, Vec<&RuleFacts>)> {
    let mut map: BTreeMap<&str, (Vec<&RuleFacts>, Vec<&RuleFacts>)> = BTreeMap::new();
    for f in facts {
        for t in &f.techniques {
            let entry = map.entry(t.as_str()).or_default();
            entry.1.push(f);
            if f.tested {
                entry.0.push(f);
            }
        }
    }
    map
}

/// An ATT&CK Navigator layer (format 4.5).
pub fn navigator(facts: &[RuleFacts]) -> String {
    let attack = crate::catalogue::attack();
    let techniques = by_technique(facts);
    let max = techniques
        .values()
        .map(|(t, _)| t.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let major = attack.version.split('.').next().unwrap_or("18").to_string();
    let entries: Vec<Value> = techniques
        .iter()
        .map(|(id, (tested, all))| {
            let titles: Vec<&str> = all.iter().map(|f| f.title.as_str()).collect();
            json!({
                "techniqueID": id,
                "score": tested.len(),
                "comment": format!("{} of {} rules tested: {}", tested.len(), all.len(), titles.join("; ")),
                "enabled": true,
                "showSubtechniques": id.contains('.'),
            })
        })
        .collect();
    let layer = json!({
        "name": "stetho coverage",
        "versions": { "attack": major, "navigator": "5.1.0", "layer": "4.5" },
        "domain": "enterprise-attack",
        "description": format!(
            "Techniques covered by the detection library; score = number of rules with a passing positive test (ATT&CK {}).",
            attack.version
        ),
        "techniques": entries,
        "gradient": { "colors": ["#ffffffff", "#8ec843ff"], "minValue": 0, "maxValue": max },
        "legendItems": [],
        "sorting": 3,
        "hideDisabled": false,
    });
    let mut text = serde_json::to_string_pretty(&layer).unwrap_or_default();
    text.push('\n');
    text
}

fn technique_name(id: &str) -> String {
    crate::catalogue::attack()
        .techniques
        .get(id)
        .map(|(name, _)| name.clone())
        .unwrap_or_default()
}

fn caf_name(version: Option<&str>, id: &str) -> String {
    version
        .and_then(crate::catalogue::caf_outcomes)
        .and_then(|o| o.get(id).cloned())
        .unwrap_or_default()
}

/// Markdown tables.
pub fn markdown(facts: &[RuleFacts]) -> String {
    let mut out = String::from("# Detection coverage\n\n");
    let tested = facts.iter().filter(|f| f.tested).count();
    let _ = writeln!(
        out,
        "{} rules, {tested} with a positive test.\n",
        facts.len()
    );
    out.push_str("## ATT&CK techniques\n\n| technique | name | tested rules | rules |\n|---|---|---:|---:|\n");
    for (id, (t, all)) in by_technique(facts) {
        let _ = writeln!(
            out,
            "| {id} | {} | {} | {} |",
            technique_name(id),
            t.len(),
            all.len()
        );
    }
    out.push_str("\n## CAF outcomes\n\n| outcome | name | rules |\n|---|---|---:|\n");
    let mut caf: BTreeMap<&str, (Option<&str>, usize)> = BTreeMap::new();
    for f in facts {
        for o in &f.caf {
            let e = caf
                .entry(o.as_str())
                .or_insert((f.caf_version.as_deref(), 0));
            e.1 += 1;
        }
    }
    for (id, (version, n)) in &caf {
        let _ = writeln!(out, "| {id} | {} | {n} |", caf_name(*version, id));
    }
    out.push_str("\n## Asset classes\n\n| asset class | rules | tested |\n|---|---:|---:|\n");
    let mut assets: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for f in facts {
        for a in &f.asset_classes {
            let e = assets.entry(a.as_str()).or_default();
            e.0 += 1;
            if f.tested {
                e.1 += 1;
            }
        }
    }
    for (a, (n, t)) in &assets {
        let _ = writeln!(out, "| {a} | {n} | {t} |");
    }
    let attention: Vec<&RuleFacts> = facts
        .iter()
        .filter(|f| !f.tested || f.review_overdue)
        .collect();
    out.push_str("\n## Rules that need attention\n\n");
    if attention.is_empty() {
        out.push_str("None: every rule has a positive test and a current review date.\n");
    } else {
        out.push_str("| rule | path | problem |\n|---|---|---|\n");
        for f in attention {
            let problem = match (f.tested, f.review_overdue) {
                (false, true) => "no positive test; review overdue",
                (false, false) => "no positive test",
                _ => "review overdue",
            };
            let _ = writeln!(out, "| {} | {} | {problem} |", f.title, f.path);
        }
    }
    out
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A self-contained HTML report: a heatmap of tactics x techniques (the
/// tactics each rule declares), the asset-class table, and the rules that
/// need attention. No scripts, no external resources.
pub fn html(facts: &[RuleFacts]) -> String {
    let techniques = by_technique(facts);
    let max = techniques
        .values()
        .map(|(t, _)| t.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let mut by_tactic: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for f in facts {
        let tactics: Vec<&str> = if f.tactics.is_empty() {
            vec!["(no tactic tag)"]
        } else {
            f.tactics.iter().map(String::as_str).collect()
        };
        for tactic in tactics {
            by_tactic
                .entry(tactic)
                .or_default()
                .extend(f.techniques.iter().map(String::as_str));
        }
    }
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>stetho coverage</title>\n<style>\n\
         body{font-family:system-ui,sans-serif;margin:2em;color:#1d2b36}\n\
         table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #c9d3da;padding:.3em .6em;text-align:left}\n\
         .grid{display:flex;gap:.5em;align-items:flex-start;flex-wrap:wrap}\n\
         .tactic{min-width:11em}.tactic h3{font-size:.9em;margin:.2em 0;text-transform:capitalize}\n\
         .cell{font-size:.8em;padding:.3em;margin:.15em 0;border-radius:3px}\n\
         .attention{background:#fde2e1}\n</style>\n</head>\n<body>\n<h1>stetho coverage</h1>\n",
    );
    let tested = facts.iter().filter(|f| f.tested).count();
    let _ = writeln!(
        out,
        "<p>{} rules, {tested} with a positive test. Darker cells: more tested rules.</p>\n<h2>ATT&amp;CK</h2>\n<div class=\"grid\">",
        facts.len()
    );
    // A tactic tag without a technique would be an empty column.
    for (tactic, ids) in by_tactic.iter().filter(|(_, ids)| !ids.is_empty()) {
        let _ = writeln!(
            out,
            "<div class=\"tactic\"><h3>{}</h3>",
            html_escape(&tactic.replace('-', " "))
        );
        for id in ids {
            let (t, all) = techniques
                .get(id)
                .map_or((0, 0), |(t, a)| (t.len(), a.len()));
            // Green shading by tested rules; untested coverage in amber.
            let style = if t == 0 {
                "background:#fff1c9".to_string()
            } else {
                let alpha = 0.25 + 0.75 * (t as f64 / max as f64);
                format!("background:rgba(86,160,40,{alpha:.2})")
            };
            let _ = writeln!(
                out,
                "<div class=\"cell\" style=\"{style}\" title=\"{t} of {all} rules tested\">{id} {}</div>",
                html_escape(&technique_name(id))
            );
        }
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n<h2>Asset classes</h2>\n<table>\n<tr><th>asset class</th><th>rules</th><th>tested</th></tr>\n");
    let mut assets: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for f in facts {
        for a in &f.asset_classes {
            let e = assets.entry(a.as_str()).or_default();
            e.0 += 1;
            e.1 += usize::from(f.tested);
        }
    }
    for (a, (n, t)) in &assets {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{n}</td><td>{t}</td></tr>",
            html_escape(a)
        );
    }
    out.push_str("</table>\n<h2>Rules</h2>\n<table>\n<tr><th>rule</th><th>techniques</th><th>tested</th><th>review</th></tr>\n");
    for f in facts {
        let class = if !f.tested || f.review_overdue {
            " class=\"attention\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<tr{class}><td>{}<br><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&f.title),
            html_escape(&f.path),
            html_escape(&f.techniques.iter().cloned().collect::<Vec<_>>().join(", ")),
            if f.tested { "yes" } else { "no" },
            if f.review_overdue {
                "overdue"
            } else {
                "current"
            }
        );
    }
    out.push_str("</table>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(title: &str, techniques: &[&str], tested: bool) -> RuleFacts {
        RuleFacts {
            id: title.into(),
            title: title.into(),
            path: format!("{title}.yml"),
            techniques: techniques.iter().map(|t| t.to_string()).collect(),
            tactics: ["impact".to_string()].into_iter().collect(),
            tested,
            ..RuleFacts::default()
        }
    }

    #[test]
    fn scores_count_tested_rules() {
        let facts = vec![
            fact("a", &["T1490"], true),
            fact("b", &["T1490"], false),
            fact("c", &["T1486"], false),
        ];
        let layer: Value = serde_json::from_str(&navigator(&facts)).expect("json");
        let techniques = layer["techniques"].as_array().expect("techniques");
        assert_eq!(techniques[0]["techniqueID"], "T1486");
        assert_eq!(techniques[0]["score"], 0);
        assert_eq!(techniques[1]["score"], 1);
        assert!(markdown(&facts).contains("| T1490 | Inhibit System Recovery | 1 | 2 |"));
        let page = html(&facts);
        assert!(page.contains("class=\"attention\""));
        assert!(!page.contains("<script"));
    }
}
