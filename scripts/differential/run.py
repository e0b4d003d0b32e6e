#!/usr/bin/env python3
"""Differential test: stetho against pySigma's SQLite backend.

Every SigmaHQ corpus rule is converted to SQL by pySigma-backend-sqlite
(one rule at a time, through pySigma's Python API) and run over events
derived from the rules themselves (generate.py), loaded into one SQLite
table `logs` with a TEXT column per field. The same events go through
`stetho replay` once for all rules. The hits (rule, event) are compared
rule by rule, in two passes over the same events:

  null   fields an event lacks (and JSON nulls) are SQL NULL
  empty  fields an event lacks (and JSON nulls) are ''

Every difference must be listed in expected.yml (rule id; event label or a
predicate on the event; pass; engine that hits; category), and each category
has a probe that must confirm it event by event; docs/differential.md explains
the categories against the Sigma specification. An unlisted difference, an
unconfirmed one, or a listed one that no longer happens fails the rule.

The reference runs in its own virtualenv under target/ (created and filled
from requirements.txt on first use). The last line printed is
`differential: N passed, M failed`; the exit code is non-zero when M > 0.

Usage: run.py [--stetho PATH] [--suggest FILE] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pyvenv  # noqa: E402  (scripts/pyvenv.py)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV = ROOT / "target" / "differential-venv"
WORK = ROOT / "target" / "differential"
CORPUS = ROOT / "tests" / "corpus" / "sigmahq"
FULLTEXT = "_fulltext"
PASSES = ("null", "empty")


# ------------------------------------------------------------- bootstrap



def ensure_venv() -> None:
    """Create the pinned virtualenv if needed and re-run this script inside it."""
    pyvenv.ensure(VENV, HERE / "requirements.txt", "STETHO_DIFFERENTIAL_IN_VENV", __file__)


# ------------------------------------------------------------ conversion


def rule_dirs() -> list[Path]:
    return sorted(p for p in CORPUS.glob("rules*") if p.is_dir())


def rule_files() -> list[Path]:
    files = []
    for d in rule_dirs():
        files += d.rglob("*.yml")
    return sorted(files)


def convert_file(path: Path, lists: dict[str, list[str]], **options):
    """(rule id, title, [sql]) for one rule file, through pySigma's API."""
    from sigma.backends.sqlite import sqliteBackend
    from sigma.collection import SigmaCollection
    from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
    from sigma.processing.transformations import ValueListPlaceholderTransformation

    collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
    rule = collection.rules[0]
    # `expand` placeholders get the values generate.py wrote to lists/.
    pipeline = ProcessingPipeline(
        items=[ProcessingItem(transformation=ValueListPlaceholderTransformation())],
        vars=lists,
    )
    backend = sqliteBackend(pipeline, fulltext_field=FULLTEXT, **options)
    queries = backend.convert(collection)
    if not queries:
        raise ValueError("no query produced")
    return str(rule.id) if rule.id else path.stem, rule.title, [str(q) for q in queries]


def convert_rules(files: list[Path], lists: dict[str, list[str]]):
    """rule id -> (file, [sql], title); rule id -> (file, reason) for failures."""
    converted: dict[str, tuple[Path, list[str], str]] = {}
    failed: dict[str, tuple[Path, str]] = {}
    for path in files:
        try:
            rid, title, queries = convert_file(path, lists)
            converted[rid] = (path, queries, title)
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            key = yaml_id(path.read_text(encoding="utf-8")) or str(path)
            first = str(exc).splitlines()[0] if str(exc) else ""
            failed[key] = (path, f"pySigma: {type(exc).__name__}: {first}")
    return converted, failed


def yaml_id(text: str) -> str | None:
    m = re.search(r"^id:\s*(\S+)", text, re.M)
    return m.group(1).strip("'\"") if m else None


# ------------------------------------------------------------- database


def load_events(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def scalars_of(value) -> list[str]:
    """Every scalar value of an event as text: the keyword-search column (the
    specification's keyword search covers the entire event)."""
    if isinstance(value, list):
        return [s for v in value for s in scalars_of(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in scalars_of(v)]
    text = sql_value(value)
    return [] if text is None else [text]


def sql_value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def flatten(event: dict, prefix: str = "") -> dict:
    """Nested objects as dotted columns, the way log shippers flatten JSON."""
    out: dict = {}
    for key, value in event.items():
        name = prefix + key
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def build_db(events: list[dict], missing: str) -> sqlite3.Connection:
    """Flattened events as table `logs`: one TEXT column per field (SQLite column names ignore
    case, so `resultType` and `ResultType` share one), row id = index + 1,
    plus the keyword-search text column."""
    columns: dict[str, str] = {}
    for event in events:
        for key in event:
            columns.setdefault(key.lower(), key)
    names = list(columns.values())
    con = sqlite3.connect(":memory:")
    con.create_function("regexp", 2, regexp, deterministic=True)
    cols = ", ".join(f"`{n}` TEXT" for n in names)
    con.execute(f"CREATE TABLE logs ({cols}, `{FULLTEXT}` TEXT)")
    index = {k: i for i, k in enumerate(columns)}
    fill = None if missing == "null" else ""
    rows = []
    for i, event in enumerate(events):
        row = [fill] * len(names)
        for key, value in event.items():
            v = sql_value(value)
            row[index[key.lower()]] = fill if v is None else v
        rows.append((i + 1, *row, "\n".join(scalars_of(event))))
    marks = ", ".join("?" * (len(names) + 2))
    con.executemany(f"INSERT INTO logs (rowid, {', '.join(f'`{n}`' for n in names)}, `{FULLTEXT}`) VALUES ({marks})", rows)
    con.commit()
    return con


_REGEX_CACHE: dict[str, re.Pattern] = {}


def regexp(pattern, value):
    """REGEXP as the backend's README asks: Python `re.search`, false on NULL."""
    if value is None or pattern is None:
        return False
    compiled = _REGEX_CACHE.get(pattern)
    if compiled is None:
        compiled = _REGEX_CACHE[pattern] = re.compile(pattern)
    return compiled.search(str(value)) is not None


def run_sql(con: sqlite3.Connection, queries: list[str], only: set[int] | None = None) -> set[int]:
    """Event indexes the queries select (optionally among `only`)."""
    hits: set[int] = set()
    prefix = "SELECT * FROM logs WHERE "
    for query in queries:
        if not query.startswith(prefix):
            raise ValueError(f"unexpected query shape: {query[:60]}")
        where = query[len(prefix) :]
        if only is None:
            sql = "SELECT rowid FROM logs WHERE " + where
        else:
            rows = ",".join(str(i + 1) for i in sorted(only))
            sql = f"SELECT rowid FROM logs WHERE rowid IN ({rows}) AND ({where})"
        hits.update(r[0] - 1 for r in con.execute(sql))
    return hits


# ---------------------------------------------------------------- stetho


def run_stetho(binary: Path, events: Path, cwd: Path):
    """Hits per rule id, and the rules stetho skipped (file -> reason)."""
    cmd = [str(binary), "replay", "--no-config"]
    for d in rule_dirs():
        cmd += ["--rules", str(d)]
    cmd += ["--schema", "sigma", "--format", "jsonl", "--quiet", str(events)]
    for _ in range(30):  # the binary may be rebuilt under us
        if binary.exists():
            break
        time.sleep(2)
    hits, skipped = _replay(cmd, cwd)
    # `--no-config` reads no lists/, so rules with `expand` placeholders are
    # skipped; replay those files again with a minimal config whose lists/
    # holds the values generate.py used (the same ones pySigma gets).
    retry = [f for f, reason in skipped.items() if "placeholder" in reason]
    if retry:
        config = cwd / "stetho.toml"
        config.write_text('[project]\nprofile = "sigma"\nlists = "lists"\n', encoding="utf-8")
        cmd2 = [str(binary), "replay", "--config", str(config)]
        for f in retry:
            cmd2 += ["--rules", f]
        cmd2 += ["--schema", "sigma", "--format", "jsonl", "--quiet", str(events)]
        hits2, skipped2 = _replay(cmd2, cwd)
        for f in retry:
            del skipped[f]
        skipped.update(skipped2)
        for rid, idx in hits2.items():
            hits[rid] |= idx
    return hits, skipped


def _replay(cmd: list[str], cwd: Path):
    for attempt in range(3):  # a rebuild may replace the binary mid-run
        try:
            proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        except OSError as exc:
            proc = subprocess.CompletedProcess(cmd, 2, "", f"{exc}\n")
        if proc.returncode == 0:
            break
        time.sleep(5 * (attempt + 1))
    else:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"stetho replay failed with exit code {proc.returncode}")
    hits: dict[str, set[int]] = defaultdict(set)
    for line in proc.stdout.splitlines():
        if line.strip():
            rec = json.loads(line)
            hits[rec["rule_id"]].add(rec["index"])
    skipped: dict[str, str] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"error: (.+?):\d+:\d+: (.*)", line)
        if m:
            skipped[str((cwd / m.group(1)).resolve())] = m.group(2)
    return hits, skipped


# ---------------------------------------------------------- expectations

# How a category is confirmed for each difference it claims to explain.
PROBES = {
    # The difference disappears when missing fields are loaded as '' (it is
    # about SQL NULL, not about the value).
    "other-pass",
    # pySigma's own `collate_nocase=True` option (case-insensitive `=`)
    # makes SQLite agree with stetho on this event.
    "collate-nocase",
    # Reviewed by hand; the explanation in docs/differential.md.
    "none",
}


def short_label(rid: str, label: str) -> str:
    return label[len(rid) + 1 :] if label.startswith(rid + ":") else label


class Expected:
    """expected.yml: categories and the differences they explain."""

    def __init__(self, path: Path):
        import yaml

        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        self.categories = doc.get("categories") or {}
        self.problems: list[str] = []
        for name, cat in self.categories.items():
            if (cat or {}).get("probe", "none") not in PROBES:
                self.problems.append(f"category {name}: unknown probe {cat.get('probe')!r}")
            if not (cat or {}).get("spec"):
                self.problems.append(f"category {name}: no specification clause cited")
        self.entries = []
        for n, entry in enumerate(doc.get("differences") or []):
            where = f"expected.yml differences[{n}] ({entry.get('rule')})"
            cats = entry.get("category")
            entry["category"] = cats = cats if isinstance(cats, list) else [cats]
            if "pass" in entry and entry["pass"] is None:
                entry["pass"] = "null"  # an unquoted `null` in YAML
            for cat in cats:
                if cat not in self.categories:
                    self.problems.append(f"{where}: unknown category {cat!r}")
            if entry.get("hits") not in ("stetho", "sqlite"):
                self.problems.append(f"{where}: `hits` must be stetho or sqlite")
            if entry.get("pass", "both") not in ("null", "empty", "both"):
                self.problems.append(f"{where}: `pass` must be null, empty or both")
            if bool(entry.get("events")) == bool(entry.get("where")):
                self.problems.append(f"{where}: give exactly one of `events` or `where`")
            if set(entry.get("where") or {}) - {"missing", "empty"}:
                self.problems.append(f"{where}: `where` takes `missing` and `empty` field lists")
            entry["_used"] = set()
            self.entries.append(entry)
        self.by_rule: dict[str, list[dict]] = defaultdict(list)
        for entry in self.entries:
            self.by_rule[str(entry.get("rule"))].append(entry)

    def candidates(self, rid: str, label: str, event: dict, pass_: str, side: str):
        """Entries that claim this difference, with the mark `use` records."""
        for entry in self.by_rule.get(rid, []):
            if entry.get("hits") != side or entry.get("pass", "both") not in ("both", pass_):
                continue
            if entry.get("events"):
                if short_label(rid, label) in entry["events"]:
                    yield entry, (short_label(rid, label), pass_)
            elif self.holds(entry["where"], event):
                yield entry, ("*", pass_)

    @staticmethod
    def use(entry: dict, mark: tuple) -> None:
        entry["_used"].add(mark)

    @staticmethod
    def holds(where: dict, event: dict) -> bool:
        """`missing`: every field absent or JSON null; `empty`: every field ''."""
        return all(event.get(f) is None for f in where.get("missing") or []) and all(
            event.get(f, None) == "" for f in where.get("empty") or []
        )

    def probes(self, entry: dict) -> set[str]:
        return {self.categories[c].get("probe", "none") for c in entry["category"]} - {"none"}

    def stale(self) -> list[str]:
        """Listed differences that did not happen."""
        out = []
        for entry in self.entries:
            passes = PASSES if entry.get("pass", "both") == "both" else (entry.get("pass"),)
            if entry.get("events"):
                for label in entry["events"]:
                    for p in passes:
                        if (label, p) not in entry["_used"]:
                            out.append(f"{entry['rule']} {label} pass={p} hits={entry['hits']}")
            else:
                for p in passes:
                    if ("*", p) not in entry["_used"]:
                        out.append(f"{entry['rule']} where={entry['where']} pass={p} hits={entry['hits']}")
        return out


def label_map(path: Path) -> list[str]:
    labels = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            _idx, label = line.rstrip("\n").split("\t", 1)
            labels.append(label)
    return labels


# ------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser(description="stetho vs pySigma sqlite differential test")
    ap.add_argument(
        "--stetho",
        default=os.environ.get("STETHO_BIN", str(ROOT / "target" / "debug" / "stetho")),
        help="stetho binary (default: target/debug/stetho or $STETHO_BIN)",
    )
    ap.add_argument("--suggest", help="write expected.yml entries for unexplained differences here")
    ap.add_argument("--verbose", action="store_true", help="print every unexplained difference")
    args = ap.parse_args()
    ensure_venv()
    started = time.monotonic()
    sys.path.insert(0, str(HERE))
    sys.dont_write_bytecode = True
    import generate  # the venv has its PyYAML

    # 1. events derived from the rules
    gen_dir = WORK / "gen"
    saved_argv = sys.argv
    sys.argv = ["generate.py", "--out", str(gen_dir)] + [str(d) for d in rule_dirs()]
    try:
        generate.main()
    finally:
        sys.argv = saved_argv
    events_path = gen_dir / "events.ndjson"
    events = load_events(events_path)
    flat_events = [flatten(e) for e in events]
    labels = label_map(gen_dir / "events.labels.tsv")
    lists = {
        p.stem: [v for v in p.read_text(encoding="utf-8").splitlines() if v.strip()]
        for p in sorted((gen_dir / "lists").glob("*.txt"))
    }
    t_gen = time.monotonic()

    # 2. the reference: pySigma -> SQLite SQL, one rule at a time
    files = rule_files()
    converted, failed = convert_rules(files, lists)
    t_conv = time.monotonic()

    # 3. stetho, once for all rules
    stetho_hits, stetho_skipped = run_stetho(Path(args.stetho), events_path, gen_dir)
    t_stetho = time.monotonic()

    # 4. the SQL over both loadings of the events
    dbs = {p: build_db(flat_events, p) for p in PASSES}
    sql_hits: dict[str, dict[str, set[int]]] = {p: {} for p in PASSES}
    not_comparable: dict[str, tuple[Path, str]] = dict(failed)
    for rid, (path, queries, _title) in converted.items():
        reason = stetho_skipped.get(str(path.resolve()))
        if reason:
            not_comparable[rid] = (path, "stetho: " + reason)
            continue
        try:
            for p in PASSES:
                sql_hits[p][rid] = run_sql(dbs[p], queries)
        except (sqlite3.Error, ValueError) as exc:
            not_comparable[rid] = (path, f"sqlite: {exc}")
    for path_s, reason in stetho_skipped.items():
        rid = yaml_id(Path(path_s).read_text(encoding="utf-8")) or path_s
        if rid in failed:
            not_comparable[rid] = (failed[rid][0], failed[rid][1] + "; stetho: " + reason)
    t_sql = time.monotonic()

    # 5. compare rule by rule
    expected = Expected(HERE / "expected.yml")
    compared = sorted(r for r in converted if r not in not_comparable)
    probe_cache: dict[tuple, set[int]] = {}
    nocase_sql: dict[str, list[str]] = {}

    def probe_hits(rid: str, pass_: str, probes: frozenset, idx: set[int]) -> set[int]:
        """SQLite hits among `idx` with the probes' causes removed: the other
        loading of missing fields and/or pySigma's collate_nocase option."""
        key = (rid, pass_, probes)
        if key not in probe_cache:
            db = dbs[("empty" if pass_ == "null" else "null") if "other-pass" in probes else pass_]
            queries = converted[rid][1]
            if "collate-nocase" in probes:
                if rid not in nocase_sql:
                    nocase_sql[rid] = convert_file(converted[rid][0], lists, collate_nocase=True)[2]
                queries = nocase_sql[rid]
            probe_cache[key] = run_sql(db, queries, only=idx)
        return probe_cache[key]

    passed: list[str] = []
    failed_rules: list[str] = []
    agree_exact = 0
    hit_rules = 0
    explained: Counter = Counter()
    explained_rules: dict[str, set[str]] = defaultdict(set)
    unexplained: list[tuple[str, int, str, str, str]] = []  # rid, idx, pass, side, note
    for rid in compared:
        s_hits = stetho_hits.get(rid, set())
        hit_rules += bool(s_hits or sql_hits["null"][rid] or sql_hits["empty"][rid])
        diffs = {
            p: {"stetho": s_hits - sql_hits[p][rid], "sqlite": sql_hits[p][rid] - s_hits}
            for p in PASSES
        }
        all_idx = {i for p in PASSES for side in diffs[p].values() for i in side}
        bad = False
        for p in PASSES:
            for side, idxs in diffs[p].items():
                for idx in sorted(idxs):
                    note = ""
                    confirmed = None
                    for entry, mark in expected.candidates(rid, labels[idx], flat_events[idx], p, side):
                        cat = "+".join(entry["category"])
                        probes = frozenset(expected.probes(entry))
                        if probes and (idx in probe_hits(rid, p, probes, all_idx)) != (idx in s_hits):
                            note = f"category {cat} not confirmed by probe {'+'.join(sorted(probes))}"
                            continue
                        confirmed = cat
                        expected.use(entry, mark)
                        break
                    if confirmed:
                        explained[confirmed] += 1
                        explained_rules[confirmed].add(rid)
                        continue
                    bad = True
                    if not note:
                        note = suggest(rid, idx, p, s_hits, probe_hits, all_idx)
                    unexplained.append((rid, idx, p, side, note))
        if not all_idx:
            agree_exact += 1
        (failed_rules if bad else passed).append(rid)
    stale = expected.stale()
    for rid in expected.by_rule:
        if rid not in compared:
            expected.problems.append(f"expected.yml names rule {rid}, which is not compared")
    stale_rules = {line.split()[0] for line in stale}
    for rid in sorted(stale_rules):
        if rid in passed:
            passed.remove(rid)
            failed_rules.append(rid)
    t_cmp = time.monotonic()

    # 6. report
    print(
        f"events: {len(events)} derived from {len(files)} rule files; hits: "
        f"stetho {sum(len(v) for v in stetho_hits.values())}, "
        f"sqlite {sum(len(v) for v in sql_hits['null'].values())} (null pass) / "
        f"{sum(len(v) for v in sql_hits['empty'].values())} (empty pass)"
    )
    print(
        f"rules: {len(files)} files, {len(compared)} compared, {hit_rules} of them hit by some event "
        f"in some engine, {len(not_comparable)} not comparable"
    )
    print()
    width = max([30] + [len(c) + 11 for c in explained])
    print(f"{'result':<{width}} {'rules':>6} {'diffs':>7}")
    print(f"{'-' * width} {'-' * 6} {'-' * 7}")
    print(f"{'agree exactly (both passes)':<{width}} {agree_exact:>6} {0:>7}")
    print(f"{'differ only as expected.yml lists':<{width}} {len(passed) - agree_exact:>6} {sum(explained.values()):>7}")
    for cat in sorted(explained):
        print(f"{'explained: ' + cat:<{width}} {len(explained_rules[cat]):>6} {explained[cat]:>7}")
    print(f"{'unexplained (fail)':<{width}} {len(failed_rules):>6} {len(unexplained) + len(stale):>7}")
    print()
    if not_comparable:
        print("not comparable:")
        for rid, (path, reason) in sorted(not_comparable.items(), key=lambda kv: str(kv[1][0])):
            print(f"  {rid} {path.relative_to(ROOT)}: {reason}")
        print()
    for msg in expected.problems:
        print(f"problem: {msg}")
    if unexplained:
        show = unexplained if args.verbose else unexplained[:40]
        print("unexplained differences (rule, event, pass, engine with the hit, note):")
        for rid, idx, p, side, note in show:
            print(f"  {rid} [{converted[rid][0].relative_to(ROOT)}]")
            print(f"    event {idx} {short_label(rid, labels[idx])} pass={p} hit-by={side} ({note})")
            print(f"    {json.dumps(events[idx], ensure_ascii=False)}")
        if len(show) < len(unexplained):
            print(f"  ... {len(unexplained) - len(show)} more (--verbose)")
        print()
    for line in stale:
        print(f"stale expectation (no longer differs): {line}")
    if args.suggest:
        write_suggestions(Path(args.suggest), unexplained, converted, labels)
        print(f"suggestions written to {args.suggest}")
    print(
        f"time: generate {t_gen - started:.1f}s, convert {t_conv - t_gen:.1f}s, "
        f"stetho {t_stetho - t_conv:.1f}s, sqlite {t_sql - t_stetho:.1f}s, "
        f"compare {t_cmp - t_sql:.1f}s, total {time.monotonic() - started:.1f}s"
    )
    n_fail = len(failed_rules) + (1 if expected.problems else 0)
    print(f"differential: {len(passed)} passed, {n_fail} failed")
    return 1 if n_fail else 0


def suggest(rid, idx, p, s_hits, probe_hits, all_idx) -> str:
    """The smallest set of probes that removes the difference, for --suggest."""
    for probes in (("other-pass",), ("collate-nocase",), ("other-pass", "collate-nocase")):
        if (idx in probe_hits(rid, p, frozenset(probes), all_idx)) == (idx in s_hits):
            return "suggest: " + "+".join(probes)
    return "suggest: unknown"


def suggested_category(probes: str, side: str, by_label: dict) -> str | list[str]:
    """Map the probes that remove a difference to the usual category names."""
    passes = {p for ps in by_label.values() for p in ps}
    names = []
    for probe in probes.split("+"):
        if probe == "collate-nocase":
            names.append("sqlite-case-sensitive-equality")
        elif probe == "other-pass" and passes == {"null"}:
            names.append("missing-field-null")
        elif probe == "other-pass" and side == "sqlite":
            names.append("empty-pass-null-test")
        elif probe == "other-pass":
            names.append("fieldref-absent-field")
        else:
            names.append("TODO")
    return names[0] if len(names) == 1 else names


def write_suggestions(path: Path, unexplained, converted, labels) -> None:
    import yaml

    grouped: dict[tuple, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for rid, idx, p, side, note in unexplained:
        cat = note.split("suggest: ", 1)[1] if "suggest: " in note else "unknown"
        grouped[(rid, cat, side)][short_label(rid, labels[idx])].add(p)
    out = []
    for (rid, cat, side), by_label in sorted(grouped.items()):
        cat = suggested_category(cat, side, by_label)
        by_pass: dict[str, list[str]] = defaultdict(list)
        for label, ps in by_label.items():
            by_pass["both" if len(ps) == 2 else next(iter(ps))].append(label)
        for pass_, labs in sorted(by_pass.items()):
            out.append(
                {
                    "rule": rid,
                    "title": converted[rid][2],
                    "category": cat,
                    "hits": side,
                    "pass": pass_,
                    "events": sorted(labs),
                }
            )
    path.write_text(yaml.safe_dump(out, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
