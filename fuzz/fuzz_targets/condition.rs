//! The Sigma condition parser over arbitrary text, and quantifier targets
//! (`1 of sel*`) resolved against a fixed set of identifier names as
//! lowering does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stetho::model::condition::{self, Expr};

/// Names a detection might define, including `_`-prefixed ones that `them`
/// skips.
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

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match condition::parse(text) {
        Ok(expr) => {
            for reference in expr.references() {
                match reference {
                    Expr::Ident { span, .. } => assert!(text.get(span.clone()).is_some()),
                    Expr::Of { target, span, .. } => {
                        assert!(text.get(span.clone()).is_some());
                        let _ = condition::select(target, NAMES.iter().copied());
                    }
                    _ => {}
                }
            }
        }
        // Diagnostics point at the span: it must lie on character boundaries.
        Err(e) => assert!(text.get(e.span.clone()).is_some(), "{e:?}"),
    }
});
