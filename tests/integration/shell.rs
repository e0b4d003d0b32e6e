//! `stetho completions` and `stetho man`.

use crate::common::stetho;

#[test]
fn completions_for_every_shell_and_a_man_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = stetho(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for command in [
            "validate", "test", "compile", "build", "explain", "coverage",
        ] {
            assert!(run.stdout.contains(command), "{shell} lacks {command}");
        }
    }
    let bad = stetho(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2);
    let man = stetho(&["man"]);
    assert_eq!(man.code, 0);
    assert!(man.stdout.contains(".TH stetho 1"), "{}", man.stdout);
    assert!(man.stdout.contains("validate"));
}
