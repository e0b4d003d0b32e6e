//! Embed the data files under `schemas/` (JSON Schemas, field catalogues,
//! ATT&CK and CAF catalogues) and `pipelines/` into the binary, so `stetho` works in any
//! repository without a copy of them. A project can still add its own field
//! catalogues in its own `schemas/fields/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    let schemas = root.join("schemas");
    println!("cargo:rerun-if-changed=schemas");
    let mut files = Vec::new();
    collect(&schemas, &mut files);
    files.sort();
    let mut code = String::from(
        "/// Files under `schemas/`, by path relative to it, sorted.\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        let rel = path
            .strip_prefix(&schemas)
            .expect("below schemas/")
            .to_string_lossy()
            .replace('\\', "/");
        let _ = writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            path.to_string_lossy()
        );
    }
    code.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets this"));
    std::fs::write(out_dir.join("embedded.rs"), code).expect("write embedded.rs");

    // The shipped pipelines, so compiling and replaying work outside this
    // repository too.
    let pipelines = root.join("pipelines");
    println!("cargo:rerun-if-changed=pipelines");
    let mut files = Vec::new();
    collect(&pipelines, &mut files);
    files.retain(|p| p.extension().is_some_and(|e| e == "yml"));
    files.sort();
    let mut code = String::from(
        "/// The shipped pipelines, by file name, sorted.\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        let name = path.file_name().expect("file").to_string_lossy();
        let _ = writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            path.to_string_lossy()
        );
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("pipelines.rs"), code).expect("write pipelines.rs");
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        println!("cargo:rerun-if-changed={}", path.display());
        if path.is_dir() {
            collect(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("json" | "yml" | "yaml" | "tsv")
        ) {
            out.push(path);
        }
    }
}
