#!/usr/bin/env python3
"""The Sigma export, checked by the real Sigma clients.

`stetho compile --target sigma` exports

  library   detections/ (project config) with --lossy
  resolved  detections/ with --lossy --resolve-placeholders
  corpus    the SigmaHQ corpus (tests/corpus/sigmahq) with --no-config
  cases     tests/sigma-export/ (the normalised spellings, --lossy forms)

and every exported file is then

  1. validated against the official Sigma JSON schemas bundled in
     schemas/sigma/ (rule, correlation or filter schema per document);
  2. loaded and checked by pySigma's `sigma check` (sigma-cli), offline:
     the two validators that download MITRE data (attacktag, d3_fendtag)
     are left out (stetho checks ATT&CK ids against its own pinned
     catalogue). Issues (such as the health.*/caf.* tag namespaces, which
     pySigma does not know) are reported, not failures;
  3. converted with pySigma's Kusto backend (microsoft_xdr pipeline) and
     Splunk backend (no pipeline), one file at a time through pySigma's API,
     then the files that converted again through the `sigma convert` CLI
     (--skip-unsupported), which must exit 0 and write one query file each
     (files holding a filter document are left to the API: one CLI run
     loads all files into one collection, where pySigma applies a filter
     to rules of other files too). A backend refusing a construct it does not implement
     (correlations, `cased`, `fieldref`, tables it has no mapping for) is
     counted as unsupported, not as a failure; a file pySigma cannot load
     is a failure;
  4. for the corpus, compared with the source rule: where pySigma converts
     the SigmaHQ rule, the exported rule must give the identical query.

The clients run in their own virtualenv under target/ (created from
requirements.txt on first use). The last line printed is
`sigma export: N rules, schema ok, sigma check ok, kusto N, splunk N`; the
exit code is 1 on any failure.

Usage: run.py [--stetho PATH] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pyvenv  # noqa: E402  (scripts/pyvenv.py)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV = ROOT / "target" / "sigma-check-venv"
WORK = ROOT / "target" / "sigma-check"
SCHEMAS = ROOT / "schemas" / "sigma"
CORPUS = ROOT / "tests" / "corpus" / "sigmahq"
CASES = ROOT / "tests" / "sigma-export"
OFFLINE = ["-x", "attacktag", "-x", "d3_fendtag"]
# Corpus rules stetho cannot lower without a project: placeholders with no
# list, and the specification's correlation examples, whose rules are not in
# the corpus. They are not exported; anything else failing is a failure.
EXPECTED_CORPUS_FAILURES = re.compile(r"no list for placeholder|unknown rule `")


# ------------------------------------------------------------- bootstrap




def ensure_venv() -> None:
    """Create the pinned virtualenv if needed and re-run this script inside it."""
    pyvenv.ensure(VENV, HERE / "requirements.txt", "STETHO_SIGMA_CHECK_IN_VENV", __file__)


def stetho_binary(given: str | None) -> Path:
    if given:
        return Path(given)
    print("== cargo build --release", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    return target / "release" / ("stetho.exe" if os.name == "nt" else "stetho")


# ---------------------------------------------------------------- export


class Failures:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)
        print(f"FAIL: {message}")


def export(binary: Path, name: str, flags: tuple[list[str], list[str]], out: Path, failures: Failures) -> dict[str, str]:
    """Run the export into `out`; returns exported file name -> source rule path."""
    global_flags, compile_flags = flags
    base = [str(binary), *global_flags, "compile", "--target", "sigma", *compile_flags]
    run = subprocess.run(base + ["--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    unexpected = [e for e in errors if not (name == "corpus" and EXPECTED_CORPUS_FAILURES.search(e))]
    if run.returncode not in (0, 1) or unexpected or (run.returncode == 1 and not errors):
        failures.add(f"{name}: stetho compile exited {run.returncode}:\n" + "\n".join(unexpected or [run.stderr]))
    # The same export as JSON lines names each rule's source file.
    listing = subprocess.run(base + ["--format", "jsonl"], cwd=ROOT, capture_output=True, text=True)
    by_text = {}
    for line in listing.stdout.splitlines():
        record = json.loads(line)
        if "output" in record:
            by_text[record["output"]] = record["path"]
    files = sorted(out.glob("*.yml"))
    sources = {p.name: by_text.get(p.read_text(encoding="utf-8"), "") for p in files}
    warnings = sum(1 for line in run.stderr.splitlines() if line.startswith("warning: "))
    print(f"{name}: exported {len(files)} files ({warnings} warnings, {len(errors)} rules not exported)")
    return sources


# ---------------------------------------------------------------- schema


def load_yaml_documents(path: Path) -> list:
    import yaml

    class Loader(yaml.SafeLoader):
        """PyYAML without implicit timestamps: Sigma dates are text."""

    Loader.yaml_implicit_resolvers = {
        key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    with path.open(encoding="utf-8") as fh:
        return [d for d in yaml.load_all(fh, Loader=Loader) if d is not None]


def schema_check(dirs: list[Path], failures: Failures) -> int:
    from jsonschema import Draft202012Validator

    def validator(name: str):
        schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
        return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

    validators = {
        "rule": validator("sigma-detection-rule-schema.json"),
        "correlation": validator("sigma-correlation-rules-schema.json"),
        "filter": validator("sigma-filters-schema.json"),
    }
    documents = 0
    for d in dirs:
        for path in sorted(d.glob("*.yml")):
            for i, doc in enumerate(load_yaml_documents(path)):
                documents += 1
                if "correlation" in doc:
                    kind = "correlation"
                elif "filter" in doc and "detection" not in doc:
                    kind = "filter"
                else:
                    kind = "rule"
                for error in validators[kind].iter_errors(doc):
                    where = "/".join(str(p) for p in error.absolute_path)
                    failures.add(f"schema: {path.name} document {i + 1} ({kind}) /{where}: {error.message}")
    return documents


# ----------------------------------------------------------- sigma check


def sigma_check(name: str, folder: Path, failures: Failures, verbose: bool) -> None:
    """`sigma check` over one export (one at a time: the exports share rule ids)."""
    run = subprocess.run(
        [str(pyvenv.executable(VENV, "sigma")), "check", *OFFLINE, str(folder)],
        capture_output=True,
        text=True,
    )
    summary = re.search(r"Found (\d+) errors, (\d+) condition errors and (\d+) issues", run.stdout)
    if verbose:
        print(run.stdout)
    if run.returncode != 0 or not summary or summary.group(1) != "0" or summary.group(2) != "0":
        failures.add(f"sigma check ({name}):\n" + run.stdout[-4000:] + run.stderr[-2000:])
        return
    kinds: dict[str, int] = {}
    for m in re.finditer(r"^issue=(\w+) ", run.stdout, re.M):
        kinds[m.group(1)] = kinds.get(m.group(1), 0) + 1
    detail = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none"
    print(f"sigma check ({name}): 0 errors; issues: {detail}")


# --------------------------------------------------------------- convert


def backends():
    from sigma.backends.kusto import KustoBackend
    from sigma.backends.splunk import SplunkBackend
    from sigma.pipelines.microsoftxdr import microsoft_xdr_pipeline

    return {
        # A fresh backend per file: the Kusto pipeline keeps state between rules.
        "kusto": lambda: KustoBackend(processing_pipeline=microsoft_xdr_pipeline()),
        "splunk": lambda: SplunkBackend(),
    }


def convert_text(text: str, make) -> tuple[str, list[str] | str]:
    """('ok', queries) | ('load', error) | ('unsupported', reason)."""
    from sigma.collection import SigmaCollection

    try:
        collection = SigmaCollection.from_yaml(text, collect_errors=True)
    except Exception as exc:  # noqa: BLE001 - any load failure is reported
        return "load", f"{type(exc).__name__}: {exc}"
    if collection.errors:
        return "load", "; ".join(str(e) for e in collection.errors)
    try:
        queries = make().convert(collection)
    except Exception as exc:  # noqa: BLE001 - backend limits are counted, not fatal
        return "unsupported", f"{type(exc).__name__}: {str(exc)[:200]}"
    queries = [str(q) for q in queries]
    if not queries:
        return "unsupported", "no query"
    return "ok", queries


def has_filter(path: Path) -> bool:
    return any("filter" in d and "detection" not in d for d in load_yaml_documents(path))


def cli_convert(target: str, files: list[Path], out: Path, failures: Failures) -> int:
    """`sigma convert` over the files the API converted; returns query files written."""
    if not files:
        return 0
    args = ["-t", "kusto", "-p", "microsoft_xdr"] if target == "kusto" else ["-t", "splunk", "--without-pipeline"]
    out.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(
        [str(pyvenv.executable(VENV, "sigma")), "convert", *args, "--skip-unsupported", "-od", str(out), *map(str, files)],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        failures.add(f"sigma convert -t {target}: exit {run.returncode}\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return len(list(out.glob("*")))


def convert_all(
    sets: dict[str, tuple[Path, dict[str, str]]], compare: set[str], failures: Failures, verbose: bool
) -> dict[str, int]:
    makers = backends()
    counts = {}
    for target, make in makers.items():
        converted: list[Path] = []
        per_set: dict[str, int] = {}
        unsupported: dict[str, int] = {}
        identical = 0
        for name, (folder, sources) in sets.items():
            for path in sorted(folder.glob("*.yml")):
                status, result = convert_text(path.read_text(encoding="utf-8"), make)
                if status == "load":
                    failures.add(f"{target}: pySigma cannot load {name}/{path.name}: {result}")
                    continue
                if status == "ok":
                    converted.append(path)
                    per_set[name] = per_set.get(name, 0) + 1
                else:
                    reason = str(result).split(":")[0]
                    unsupported[reason] = unsupported.get(reason, 0) + 1
                    if verbose:
                        print(f"  {target} unsupported {name}/{path.name}: {result}")
                if name in compare and sources.get(path.name):
                    source = ROOT / sources[path.name]
                    s_status, s_result = convert_text(source.read_text(encoding="utf-8"), make)
                    if s_status == "ok" and (status, result) != (s_status, s_result):
                        failures.add(
                            f"{target}: {sources[path.name]} converts differently once exported:\n"
                            f"  source:   {s_result}\n  exported: {result}"
                        )
                    elif s_status == "ok":
                        identical += 1
        # One `sigma convert` run loads every file into one collection, where a
        # filter document applies across files; files holding one are
        # converted through the API only.
        alone = [p for p in converted if has_filter(p)]
        together = [p for p in converted if not has_filter(p)]
        written = cli_convert(target, together, WORK / f"convert-{target}", failures)
        if written != len(together):
            failures.add(f"sigma convert -t {target}: {written} query files for {len(together)} converted rules")
        detail = ", ".join(f"{k} {v}" for k, v in sorted(unsupported.items())) or "none"
        sets_detail = ", ".join(f"{k} {per_set.get(k, 0)}" for k in sets)
        print(
            f"{target}: {len(converted)} converted ({sets_detail}; CLI: {written}, API only: {len(alone)}), "
            f"{identical} corpus rules give the same query as their source; unsupported by the backend: {detail}"
        )
        counts[target] = len(converted)
    return counts


# ------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser(description="check stetho's Sigma export with the real Sigma clients")
    ap.add_argument("--stetho", default=os.environ.get("STETHO_BIN"), help="stetho binary (default: a release build)")
    ap.add_argument("--verbose", action="store_true", help="print sigma check's report and every unsupported rule")
    args = ap.parse_args()
    ensure_venv()
    sys.dont_write_bytecode = True
    binary = stetho_binary(args.stetho)
    failures = Failures()
    WORK.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(WORK / "convert-kusto", ignore_errors=True)
    shutil.rmtree(WORK / "convert-splunk", ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        tmp_path = Path(tmp)
        sets = {
            "library": (tmp_path / "library", (["--quiet"], ["--lossy"])),
            "resolved": (tmp_path / "resolved", (["--quiet"], ["--lossy", "--resolve-placeholders"])),
            "corpus": (tmp_path / "corpus", (["--quiet", "--no-config"], [str(CORPUS)])),
            "cases": (tmp_path / "cases", (["--quiet", "--no-config"], ["--lossy", str(CASES)])),
        }
        exported = {}
        for name, (folder, flags) in sets.items():
            folder.mkdir()
            exported[name] = (folder, export(binary, name, flags, folder, failures))
        rules = sum(len(list(f.glob("*.yml"))) for name, (f, _) in exported.items() if name != "resolved")
        documents = schema_check([f for f, _ in exported.values()], failures)
        print(f"schema: {documents} documents checked against schemas/sigma/")
        for name, (folder, _) in exported.items():
            sigma_check(name, folder, failures, args.verbose)
        # Placeholders kept make pySigma refuse the rule; convert the resolved export.
        to_convert = {k: v for k, v in exported.items() if k != "library"}
        counts = convert_all(to_convert, {"corpus"}, failures, args.verbose)
    if failures.items:
        print(f"sigma export: {len(failures.items)} failures")
        return 1
    print(
        f"sigma export: {rules} rules, schema ok, sigma check ok, "
        f"kusto {counts['kusto']}, splunk {counts['splunk']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
