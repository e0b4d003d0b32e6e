//! ## What it does
//! Forbids `response.containment: automatic_allowed` on rules whose
//! `asset_classes` include clinical devices or diagnostic systems:
//! medical_device, infusion_pump, patient_monitor, dicom_modality, lims or
//! pacs.
//!
//! ## Why is this bad?
//! Automatically isolating an infusion pump, a CT scanner or the pathology
//! system can itself harm patients (DCB0160 clinical risk management).
//! Containment there needs a clinician's decision.

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;

pub const LINT: Lint = Lint {
    code: "STH122",
    name: "unsafe-automatic-containment",
    severity: Severity::Error,
    summary: "Automatic containment allowed on clinical devices or diagnostic systems.",
};

/// Asset classes where isolation can interrupt care.
pub const CLINICAL_ASSETS: &[&str] = &[
    "medical_device",
    "infusion_pump",
    "patient_monitor",
    "dicom_modality",
    "lims",
    "pacs",
];

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(block) = rule.healthcare() else {
        return;
    };
    let Some(containment) = block.get_path(&["response", "containment"]) else {
        return;
    };
    if containment.as_str() != Some("automatic_allowed") {
        return;
    }
    let Some(assets) = block.get("asset_classes") else {
        return;
    };
    let clinical: Vec<&str> = assets
        .string_list()
        .into_iter()
        .map(|(a, _)| a)
        .filter(|a| CLINICAL_ASSETS.contains(a))
        .collect();
    if clinical.is_empty() {
        return;
    }
    out.push(
        report(
            &LINT,
            format!(
                "automatic containment is not allowed on {}",
                clinical.join(", ")
            ),
        )
        .at(&rule.file, containment.span)
        .label("isolating these assets can interrupt patient care")
        .related(&rule.file, assets.span, "clinical asset classes")
        .help("use `requires_clinical_approval` (or `manual_only` / `monitor_only`)"),
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::settings::Profile;

    #[test]
    fn flags_automatic_containment_on_pacs() {
        let rule = "title: t\nlogsource: {product: dicom, category: association}\ndetection:\n  sel:\n    a: b\n  condition: sel\nhealthcare:\n  asset_classes: [pacs]\n  response:\n    containment: automatic_allowed\n";
        assert!(codes(rule, Profile::Sigma).contains(&"STH122".to_string()));
        let fine = rule.replace("automatic_allowed", "requires_clinical_approval");
        assert!(!codes(&fine, Profile::Sigma).contains(&"STH122".to_string()));
    }
}
