#!/usr/bin/env python3
"""Replay equivalence of the compiled KQL: `stetho compile` against `stetho test`.

For each pipeline (defender_xdr, sentinel) every rule of the project is
compiled to KQL (`stetho compile --format jsonl`), and each query is run by a
local KQL engine (duckdb-kql, pinned in requirements.txt) over the fixtures
that `stetho test` replays: every fixture under the project's fixture folder
whose table (header `schema: <pipeline>.<Table>`) is a table the query reads.
The fixture's events are loaded into a DuckDB table of that name, typed from
schemas/kusto/, with a hidden row-number column. The engine's hits must be
exactly the hit lines of the rule's snapshot
(`<fixtures>/.snapshots/<rule-id>.snap.yml`) for that fixture; no entry in the
snapshot means no hit.

Loading mirrors Kusto ingestion: a missing string is ""
(Kusto string columns are never null), other missing values are null, every
column has an explicit type, timestamps are UTC, `dynamic` columns hold compact
JSON (Kusto's `tostring()` form), and `ipv4_is_in_range`, `minif` and
`maxif`, which the engine lacks, are added and checked on known answers.

Correlations: the query's rows are groups (one per fired `bin()` window), not
events, so they are compared by number: rows returned vs. snapshot hits on the
fixture.

A query the engine cannot translate (duckdb-kql's KqlUnsupportedError, such
as `mv-apply`) is reported as outside the engine and neither passes nor fails.
Any other error fails. A rule that does not compile for a pipeline (no table
for its log source there) has no query to run and is listed as not compiled.

The engine runs in its own virtualenv under target/ (created and filled from
requirements.txt on first use; no network once the pins are installed).
One line per (pipeline, rule); the last line printed is
`kql replay: N passed, M failed, K outside the engine`; the exit code is 1
when M > 0 or the setup fails.

With --watchlists the Sentinel queries are compiled with `--watchlists`, so
each `%name%` list is read as `_GetWatchlist('name')`; the engine reads the
watchlist from a table holding the entries of the project's `lists/name.txt`
in its SearchKey column, which is what the workspace's watchlist of that
alias must hold. A rule whose list cannot be read from a watchlist (a
documented refusal of `--watchlists`) is listed as not compiled.

Usage: run.py [--stetho PATH] [--pipeline NAME]... [--project DIR] [--watchlists] [--verbose]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pyvenv  # noqa: E402  (scripts/pyvenv.py)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# The project whose rules, fixtures and snapshots are replayed (--project);
# schemas and pipelines always come from this repository.
PROJECT = ROOT
VENV = ROOT / "target" / "kql-replay-venv"
IN_VENV = "STETHO_KQL_REPLAY_IN_VENV"
DEFAULT_BINARY = ROOT / "target" / "release" / "stetho"
PIPELINES = ("defender_xdr", "sentinel")
# The Kusto database a pipeline's queries run in (schemas/kusto/*.json);
# files with `merge_into` add their tables to the named database.
DATABASES = {"defender_xdr": "DefenderXDR", "sentinel": "Sentinel"}
ROW = "_stetho_row"

# Mirrors of the fixture conventions (src/fixture/mod.rs, src/replay.rs).
HEADER_KEY = "stetho_fixture"
GENERATOR_KEY = "stetho_generate"
MAX_GENERATED = 100_000
TIMESTAMP_FIELDS = ("Timestamp", "TimeGenerated", "@timestamp", "timestamp", "UtcTime", "EventTime", "time")
EVENT_SUFFIXES = (".ndjson", ".jsonl", ".json")
SIDECAR_SUFFIX = ".fixture.yml"
FOLDER_DEFAULTS = "defaults.fixture.yml"
# The event-time column differs between Defender XDR and Log Analytics copies
# of the same table (schemas/kusto/README.md).
TIME_ALIASES = {"Timestamp": "TimeGenerated", "TimeGenerated": "Timestamp"}

DUCK_TYPES = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "long": "BIGINT",
    "real": "DOUBLE",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
    "datetime": "TIMESTAMP",
    "date": "TIMESTAMP",
    "timespan": "INTERVAL",
    "dynamic": "JSON",
    "guid": "UUID",
    "decimal": "DECIMAL(38, 10)",
}


class SetupError(Exception):
    """Something other than a rule went wrong: the run cannot be trusted."""


# ------------------------------------------------------------- bootstrap



def pinned() -> dict[str, str]:
    """name -> version of every `name==version` line of requirements.txt."""
    out = {}
    for line in (HERE / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def satisfied() -> bool:
    """Whether the virtualenv already holds every pinned version."""
    check = (
        "import json, sys\n"
        "from importlib.metadata import version, PackageNotFoundError\n"
        "want = json.loads(sys.argv[1])\n"
        "bad = []\n"
        "for name, v in want.items():\n"
        "    try:\n"
        "        if version(name) != v: bad.append(name)\n"
        "    except PackageNotFoundError:\n"
        "        bad.append(name)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([str(pyvenv.python(VENV)), "-c", check, json.dumps(pinned())], capture_output=True)
    return proc.returncode == 0


def ensure_venv() -> None:
    """Create the pinned virtualenv if needed and re-run this script inside it."""
    pyvenv.ensure(VENV, HERE / "requirements.txt", IN_VENV, __file__, satisfied=satisfied)


# ------------------------------------------------------------ project


def project_dir(key: str, default: str) -> Path:
    """A folder of the project, as its stetho.toml names it."""
    import tomllib

    config = PROJECT / "stetho.toml"
    name = default
    if config.exists():
        with open(config, "rb") as fh:
            name = (tomllib.load(fh).get("project") or {}).get(key) or name
    return PROJECT / name


def project_fixtures_dir() -> Path:
    return project_dir("fixtures", "test-events")


def list_entries(name: str) -> list[str]:
    """The entries of lists/NAME.txt as stetho reads them (src/logic/lower.rs,
    parse_list): one per line, trimmed, a byte order mark dropped, blank lines
    and `#` comments skipped."""
    path = project_dir("lists", "lists") / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SetupError(f"watchlist `{name}`: cannot read {path}: {exc}") from exc
    entries = []
    for line in text.splitlines():
        entry = line.strip().strip("\ufeff").strip()
        if entry and not entry.startswith("#"):
            entries.append(entry)
    return entries


def kusto_tables(pipeline: str) -> dict[str, dict[str, str]]:
    """table -> {column: Kusto type} of the database the pipeline targets."""
    database = DATABASES[pipeline]
    tables: dict[str, dict[str, str]] = {}
    for path in sorted((ROOT / "schemas" / "kusto").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if database not in (doc.get("database"), doc.get("merge_into")):
            continue
        for table in doc.get("tables") or []:
            tables[table["name"]] = {c["name"]: c["type"] for c in table.get("columns") or []}
    if not tables:
        raise SetupError(f"no Kusto schema for database {database} in schemas/kusto/")
    return tables


def column_maps() -> dict[str, dict[str, str]]:
    """table -> {canonical field: column} from the pipelines' `columns:` maps
    (the healthcare custom tables: `ehr.action` -> `ehr_action`)."""
    import yaml

    maps: dict[str, dict[str, str]] = defaultdict(dict)
    for path in sorted((ROOT / "pipelines").glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for source in doc.get("sources") or []:
            columns = source.get("columns")
            if source.get("table") and isinstance(columns, dict):
                for canonical, column in columns.items():
                    if isinstance(column, str):
                        maps[source["table"]][canonical] = column
    return maps


# ------------------------------------------------------------- fixtures


@dataclass
class Fixture:
    name: str  # path relative to the fixture folder, `/`-separated
    path: Path
    schema: str | None = None
    events: list[tuple[int, dict]] = field(default_factory=list)  # (hit line, event)
    error: str | None = None

    @property
    def table(self) -> str | None:
        if self.schema and "." in self.schema:
            return self.schema.split(".", 1)[1]
        return None


def is_event_file(path: Path) -> bool:
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    return name.endswith(EVENT_SUFFIXES)


def sidecar_of(path: Path) -> Path:
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return path.with_name(stem + SIDECAR_SUFFIX)


def yaml_header(path: Path) -> dict:
    import yaml

    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc if isinstance(doc, dict) else {}


def discover(root: Path) -> list[Fixture]:
    """Every event file below `root` (hidden folders skipped), sorted, with
    its schema from folder defaults, then its first line or sidecar."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and is_event_file(Path(dirpath) / name):
                files.append(Path(dirpath) / name)
    fixtures = []
    for path in sorted(files, key=lambda p: p.relative_to(root).parts):
        rel = "/".join(path.relative_to(root).parts)
        header: dict = {}
        folder = root
        for part in path.relative_to(root).parts[:-1]:
            header.update(yaml_header(folder / FOLDER_DEFAULTS))
            folder = folder / part
        header.update(yaml_header(folder / FOLDER_DEFAULTS))
        fixture = Fixture(rel, path)
        try:
            inline, fixture.events = read_events(path)
        except (OSError, ValueError, EOFError) as exc:
            fixture.error = str(exc)
            inline = first_line_header(path)
        header.update(inline or {})
        header.update(yaml_header(sidecar_of(path)))
        schema = header.get("schema")
        fixture.schema = schema if isinstance(schema, str) else None
        fixtures.append(fixture)
    return fixtures


def first_line_header(path: Path) -> dict | None:
    """The first-line header of a fixture whose events cannot be read, so
    the rules of its table still see (and fail on) it."""
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as fh:
            first = fh.readline()
        return header_of(json.loads(first.decode("utf-8-sig")))
    except (OSError, ValueError, EOFError):
        return None


def header_of(value) -> dict | None:
    """The header fields, if `value` is a `{"stetho_fixture": {...}}` line."""
    if isinstance(value, dict) and len(value) == 1 and HEADER_KEY in value:
        inner = value[HEADER_KEY]
        return inner if isinstance(inner, dict) else {}
    return None


def read_events(path: Path) -> tuple[dict | None, list[tuple[int, dict]]]:
    """The inline header and the events as (hit line, event), generators
    expanded. The hit line is the 1-based file line for NDJSON and the
    1-based position among the events for JSON arrays and documents, as
    `stetho test` numbers hits."""
    raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    items: list[tuple[int | None, object]] = []  # (line or None, value)
    stripped = raw.lstrip(b" \t\r\n\f\v")
    if stripped.startswith(b"["):
        values = json.loads(raw.decode("utf-8"))
        if not isinstance(values, list):
            raise ValueError("not a JSON array of events")
        items = [(None, v) for v in values]
    else:
        lines = raw.split(b"\n")
        for number, line in enumerate(lines, start=1):
            text = line.strip(b" \t\r\n\f\v")
            if not text:
                continue
            try:
                items.append((number, json.loads(text.decode("utf-8"))))
            except json.JSONDecodeError as exc:
                if not items and exc.pos >= len(text.decode("utf-8")):
                    # The first line opens a multi-line document: the rest of
                    # the file is a stream of JSON documents.
                    items = [(None, v) for v in json_stream(b"\n".join(lines[number - 1 :]).decode("utf-8"))]
                    break
                raise ValueError(f"line {number}: malformed JSON: {exc.msg}") from None
            except UnicodeDecodeError as exc:
                raise ValueError(f"line {number}: {exc}") from None
    header = None
    if items and header_of(items[0][1]) is not None:
        header = header_of(items[0][1])
        items = items[1:]
    events: list[tuple[int, dict]] = []
    for line, value in items:
        generated = expand(value)
        for event in generated if generated is not None else [value]:
            if not isinstance(event, dict):
                raise ValueError(f"line {line}: an event must be a JSON object")
            events.append((line if line is not None else len(events) + 1, event))
    return header, events


def json_stream(text: str) -> list:
    decoder = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            return out
        value, i = decoder.raw_decode(text, i)
        out.append(value)


TIMESPAN = re.compile(r"^\+?([0-9]+)([smhd])$")


def parse_timespan(text: str) -> int | None:
    """Seconds of `20s`/`10m`/`2h`/`1d` (src/logic/lower.rs parse_timespan)."""
    m = TIMESPAN.match(text.strip())
    if not m or int(m.group(1)) == 0:
        return None
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})?$"
)


def parse_timestamp(text: str) -> dt.datetime | None:
    """RFC 3339, a space instead of `T`, no zone = UTC (src/eval parse_timestamp);
    the result is aware, in the text's own offset. Sub-microsecond digits are
    dropped (DuckDB keeps microseconds)."""
    m = TIMESTAMP.match(text.strip())
    if not m:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    micros = int((m.group(7) or "0")[:6].ljust(6, "0"))
    zone = m.group(8) or "Z"
    if zone in ("Z", "z"):
        tz = dt.timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return dt.datetime(year, month, day, hour, minute, second, micros, tzinfo=tz)
    except ValueError:
        return None


def rfc3339(t: dt.datetime) -> str:
    """As the generator writes timestamps: RFC 3339 in the start time's
    offset, `Z` for UTC, fractional seconds only when there are some."""
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += ("." + f"{t.microsecond:06d}").rstrip("0")
    offset = t.utcoffset() or dt.timedelta(0)
    if not offset:
        return text + "Z"
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def expand(value) -> list | None:
    """The events a generator line stands for (src/fixture/mod.rs `expand`):
    `count` copies of `event`, `{i}` replaced by 1..count in the `vary`
    fields' string templates, the first timestamp field advanced by `every`."""
    if not isinstance(value, dict) or GENERATOR_KEY not in value:
        return None
    spec = value[GENERATOR_KEY]
    spec = spec if isinstance(spec, dict) else {}
    count = spec.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValueError("generator needs a positive `count`")
    if count == 0 or count > MAX_GENERATED:
        raise ValueError(f"generator `count` must be 1..={MAX_GENERATED}")
    every = 0
    if isinstance(spec.get("every"), str):
        every = parse_timespan(spec["every"])
        if every is None:
            raise ValueError(f"invalid `every`: {spec['every']}")
    vary = spec.get("vary") if isinstance(spec.get("vary"), dict) else {}
    base = value.get("event")
    if not isinstance(base, dict):
        raise ValueError("generator needs an `event` object")
    start = next(((f, base[f]) for f in TIMESTAMP_FIELDS if isinstance(base.get(f), str)), None)
    t0 = None
    if start:
        t0 = parse_timestamp(start[1])
        if t0 is None:
            raise ValueError(f"cannot read timestamp `{start[1]}`")
    out = []
    for i in range(1, count + 1):
        event = dict(base)
        for name, template in vary.items():
            event[name] = template.replace("{i}", str(i)) if isinstance(template, str) else template
        if start:
            event[start[0]] = rfc3339(t0 + dt.timedelta(seconds=(i - 1) * every))
        out.append(event)
    return out


# ---------------------------------------------------------------- loading


def compact_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


INTEGER = re.compile(r"^\s*[+-]?[0-9]+\s*$")
INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
TIMESPAN_TEXT = re.compile(r"^\s*(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?\s*$")


def convert(value, kusto_type: str):
    """A JSON value as Kusto ingestion would store it in a column of that
    type: strings never null, unparsable values of other types null."""
    if kusto_type == "string":
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        return compact_json(value)
    if value is None:
        return None
    if kusto_type == "dynamic":
        return compact_json(value)
    if kusto_type in ("int", "long"):
        if isinstance(value, bool):
            n = int(value)
        elif isinstance(value, int):
            n = value
        elif isinstance(value, float) and value.is_integer():
            n = int(value)
        elif isinstance(value, str) and INTEGER.match(value):
            n = int(value)
        else:
            return None
        low, high = INT_RANGE[kusto_type]
        return n if low <= n <= high else None
    if kusto_type in ("real", "double", "decimal"):
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return float(value) if isinstance(value, str) else None
        except ValueError:
            return None
    if kusto_type in ("bool", "boolean"):
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return None
    if kusto_type in ("datetime", "date"):
        t = parse_timestamp(value) if isinstance(value, str) else None
        return t.astimezone(dt.timezone.utc).replace(tzinfo=None) if t else None
    if kusto_type == "timespan":
        m = TIMESPAN_TEXT.match(value) if isinstance(value, str) else None
        if not m:
            return None
        sign, days, hours, minutes, seconds, frac = m.groups()
        span = dt.timedelta(
            days=int(days or 0),
            hours=int(hours),
            minutes=int(minutes),
            seconds=int(seconds or 0),
            microseconds=int((frac or "0")[:6].ljust(6, "0")),
        )
        return -span if sign else span
    if kusto_type == "guid":
        return value if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F-]{36}", value) else None
    raise SetupError(f"no DuckDB type for Kusto type {kusto_type!r}")


class Loader:
    """Maps fixture keys to the columns of one table: a column name, a
    canonical name of the pipelines' `columns:` map, nested objects reached
    by dotted names, and the other spelling of the event-time column."""

    def __init__(self, table: str, columns: dict[str, str], column_map: dict[str, str]):
        self.table = table
        self.columns = columns
        self.column_map = column_map
        self.unknown: set[str] = set()

    def resolve(self, key: str) -> str | None:
        if key in self.columns:
            return key
        mapped = self.column_map.get(key)
        if mapped in self.columns:
            return mapped
        alias = TIME_ALIASES.get(key)
        if alias in self.columns:
            return alias
        return None

    def assign(self, row: dict, key: str, value) -> None:
        column = self.resolve(key)
        if column is not None:
            row.setdefault(column, value)
        elif isinstance(value, dict) and value:
            for k, v in value.items():
                self.assign(row, f"{key}.{k}", v)
        else:
            self.unknown.add(key)

    def row(self, event: dict) -> dict:
        row: dict = {}
        for key, value in event.items():
            self.assign(row, key, value)
        return row


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_table(con, table: str, columns: dict[str, str]) -> None:
    missing = sorted({t for t in columns.values() if t not in DUCK_TYPES})
    if missing:
        raise SetupError(f"table {table}: no DuckDB type for Kusto types {missing}")
    # A string column no event sets is "" (Kusto strings are never null).
    cols = [
        f"{quote(c)} {DUCK_TYPES[t]}" + (" NOT NULL DEFAULT ''" if t == "string" else "")
        for c, t in columns.items()
    ] + [f"{quote(ROW)} BIGINT"]
    con.execute(f"DROP TABLE IF EXISTS {quote(table)}")
    con.execute(f"CREATE TABLE {quote(table)} ({', '.join(cols)})")


def fill_table(con, loader: Loader, events: list[tuple[int, dict]]) -> None:
    """The events as rows, numbered from 0 in `_stetho_row`. Only the columns
    some event sets are inserted; the others take their defaults ("" for
    strings, null otherwise)."""
    mapped = [loader.row(event) for _line, event in events]
    names = [c for c in loader.columns if any(c in values for values in mapped)]
    rows = []
    for index, values in enumerate(mapped):
        rows.append([convert(values.get(c), loader.columns[c]) for c in names] + [index])
    # Many rows per statement: DuckDB's executemany binds row by row, which
    # costs about a second per fixture on wide tables.
    marks = "(" + ", ".join(["?"] * (len(names) + 1)) + ")"
    cols = ", ".join(quote(c) for c in [*names, ROW])
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        values = ", ".join([marks] * len(chunk))
        params = [v for row in chunk for v in row]
        con.execute(f"INSERT INTO {quote(loader.table)} ({cols}) VALUES {values}", params)


IPV4_MACROS = r"""
CREATE OR REPLACE MACRO _stetho_octet(s, n) AS TRY_CAST(split_part(s, '.', n) AS BIGINT);
CREATE OR REPLACE MACRO _stetho_ipv4(s) AS (
  CASE WHEN regexp_full_match(trim(s), '[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}')
        AND _stetho_octet(trim(s), 1) <= 255 AND _stetho_octet(trim(s), 2) <= 255
        AND _stetho_octet(trim(s), 3) <= 255 AND _stetho_octet(trim(s), 4) <= 255
       THEN _stetho_octet(trim(s), 1) * 16777216 + _stetho_octet(trim(s), 2) * 65536
          + _stetho_octet(trim(s), 3) * 256 + _stetho_octet(trim(s), 4)
  END);
CREATE OR REPLACE MACRO _stetho_prefix(r) AS (
  CASE WHEN NOT contains(r, '/') THEN 32
       WHEN regexp_full_match(trim(split_part(r, '/', 2)), '[0-9]{1,2}')
        AND CAST(trim(split_part(r, '/', 2)) AS INTEGER) <= 32
       THEN CAST(trim(split_part(r, '/', 2)) AS INTEGER)
  END);
CREATE OR REPLACE MACRO _stetho_ipv4_is_in_range(ip, r) AS (
  _stetho_ipv4(ip) // CAST(pow(2, 32 - _stetho_prefix(r)) AS BIGINT)
  = _stetho_ipv4(split_part(r, '/', 1)) // CAST(pow(2, 32 - _stetho_prefix(r)) AS BIGINT));
"""


def register_ipv4(con) -> None:
    """`ipv4_is_in_range(ip, range)`: null when either side is not an IPv4
    address, a range without a prefix is /32 (Kusto's documentation)."""
    from duckdb_kql.translate import functions

    functions.SCALAR_FUNCTIONS["ipv4_is_in_range"] = functions.FunctionSpec(
        "ipv4_is_in_range",
        "template",
        "_stetho_ipv4_is_in_range(CAST({0} AS VARCHAR), CAST({1} AS VARCHAR))",
        (2,),
        (),
        "added by scripts/kql-replay",
    )
    for statement in IPV4_MACROS.split(";"):
        if statement.strip():
            con.execute(statement)


def register_aggregates() -> None:
    """`minif`/`maxif` (temporal_ordered correlations use `minif`): the
    minimum / maximum over the rows where the predicate holds, null when none
    does (as `min`/`max` are null on no input in both engines)."""
    from duckdb_kql.translate import functions

    for name, agg in (("minif", "min"), ("maxif", "max")):
        functions.AGGREGATE_FUNCTIONS.setdefault(
            name,
            functions.AggregateSpec(name, agg + "({0}) FILTER (WHERE {1})", (2,), note="added by scripts/kql-replay"),
        )


def check_aggregates(con) -> None:
    import duckdb_kql

    got = duckdb_kql.kql(
        con,
        "datatable(t: long, r: string)[1, 'a', 2, 'b', 3, 'a', 0, 'c'] "
        "| summarize lo = minif(t, r == 'a'), hi = maxif(t, r == 'a'), none = minif(t, r == 'z')",
    ).fetchall()
    if got != [(1, 3, None)]:
        raise SetupError(f"minif/maxif gave {got}, expected [(1, 3, None)]")


def check_ipv4(con) -> None:
    """The macro on Kusto's documented examples, so a broken harness fails."""
    import duckdb_kql

    cases = [
        ("192.168.1.1", "192.168.1.255", False),
        ("192.168.1.1", "192.168.1.1", True),
        ("192.168.1.1", "192.168.1.255/24", True),
        ("10.20.30.40", "10.0.0.0/8", True),
        ("11.0.0.1", "10.0.0.0/8", False),
        ("172.16.5.4", "172.16.0.0/12", True),
        ("172.32.0.1", "172.16.0.0/12", False),
    ]
    for ip, rng, want in cases:
        got = duckdb_kql.kql(con, f"print r = ipv4_is_in_range('{ip}', '{rng}')").fetchall()[0][0]
        if got is not want:
            raise SetupError(f"ipv4_is_in_range('{ip}', '{rng}') gave {got}, Kusto gives {want}")


# ------------------------------------------------------------------ rules


@dataclass
class Compiled:
    pipeline: str
    id: str
    title: str
    path: str
    query: str | None
    error: str | None
    correlation: bool = False
    tables: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.path, self.id)


LITERALS = re.compile(
    r"```.*?```|~~~.*?~~~"
    r"|[hH]?@'(?:[^']|'')*'|[hH]?@\"(?:[^\"]|\"\")*\""
    r"|[hH]?'(?:[^'\\\n]|\\.)*'|[hH]?\"(?:[^\"\\\n]|\\.)*\""
    r"|//[^\n]*",
    re.S,
)


def tables_of(query: str, known: dict) -> list[str]:
    """Tables a query reads: identifiers outside literals and comments that
    name a table of the pipeline's schema."""
    bare = LITERALS.sub(" ", query)
    return sorted({w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", bare) if w in known})


def is_correlation(path: Path, rule_id: str, query: str) -> bool:
    import yaml

    try:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and str(doc.get("id")) == rule_id:
                return "correlation" in doc
    except (OSError, yaml.YAMLError):
        pass
    return re.search(r"^\|\s*summarize\b", query, re.M) is not None


def wait_for(binary: Path) -> None:
    for _ in range(30):  # the binary may be rebuilt under us
        if binary.exists():
            return
        time.sleep(2)


def compile_rules(binary: Path, pipeline: str, tables: dict, watchlists: bool) -> list[Compiled]:
    cmd = [str(binary), "compile", "--pipeline", pipeline, "--format", "jsonl"]
    if watchlists:
        cmd.append("--watchlists")
    for attempt in range(3):  # a rebuild may replace the binary mid-run
        wait_for(binary)
        try:
            proc = subprocess.run(cmd, cwd=PROJECT, capture_output=True, text=True)
        except OSError as exc:
            proc = subprocess.CompletedProcess(cmd, 2, "", f"{exc}\n")
        # 1 = some rule did not compile: reported per rule below.
        if proc.returncode in (0, 1) and proc.stdout.strip():
            break
        time.sleep(5 * (attempt + 1))
    else:
        sys.stderr.write(proc.stderr)
        raise SetupError(
            f"`{binary} compile --pipeline {pipeline}` failed with exit code {proc.returncode} "
            "(an old binary? `cargo build --release --locked` rebuilds it)"
        )
    out = []
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        query = rec.get("output")
        c = Compiled(pipeline, str(rec.get("id")), rec.get("title") or "", rec.get("path") or "", query, rec.get("error"))
        if query is not None:
            c.tables = tables_of(query, tables)
            c.correlation = is_correlation(PROJECT / c.path, c.id, query)
        out.append(c)
    return out


def load_snapshots(directory: Path) -> dict[str, dict[str, list[int]]]:
    """rule id -> {fixture name: sorted hit lines} (a line once per hit)."""
    import yaml

    snaps: dict[str, dict[str, list[int]]] = {}
    for path in sorted(directory.glob("*.snap.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        hits = {}
        for fixture, entries in (doc.get("hits") or {}).items():
            hits[fixture] = sorted(int(e["line"]) for e in entries or [])
        snaps[str(doc.get("rule"))] = hits
    return snaps


# ------------------------------------------------------------------ engine


# Compile errors that mean "this rule has no query on this target" (the
# messages of src/backend/kql.rs and src/pipeline.rs MapError::Unmapped).
NOT_FOR_TARGET = re.compile(
    r"has no table for log source|field `[^`]*` has no column in "
    r"|cannot be read from the Sentinel watchlist"
)

# A watchlist read as `--watchlists` writes it: the alias is a verbatim literal.
WATCHLIST = re.compile(r"_GetWatchlist\(@'((?:[^']|'')*)'\)")


def watchlist_table(name: str) -> str:
    return "_watchlist_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def with_watchlist_tables(con, query: str, loaded: set[str]) -> str:
    """The query with each `_GetWatchlist('name')` read from a table of
    the list's entries (SearchKey), created once per connection."""

    def table(match: re.Match) -> str:
        name = match.group(1).replace("''", "'")
        t = watchlist_table(name)
        if t not in loaded:
            con.execute(f"CREATE OR REPLACE TABLE {quote(t)} (SearchKey VARCHAR)")
            entries = list_entries(name)
            if entries:
                con.executemany(f"INSERT INTO {quote(t)} VALUES (?)", [[e] for e in entries])
            loaded.add(t)
        return t

    return WATCHLIST.sub(table, query)


@dataclass
class Outcome:
    status: str  # PASS, FAIL, OUTSIDE ENGINE, NOT COMPILED, NO FIXTURE
    detail: str


def engine_query(rule: Compiled, query: str) -> str:
    """The KQL the engine runs: a detection query projects the row number
    (its `where`s keep every column), a correlation's rows are its windows."""
    return query if rule.correlation else query.rstrip() + f"\n| project {ROW}"


def translate(con, rule: Compiled, watchlists: set[str]) -> str:
    """The query as DuckDB SQL, translated once per pipeline: every fixture
    is loaded into identical tables, so the translation (what duckdb-kql's
    `kql()` does on each call, with the connection's schema) is the same."""
    import duckdb_kql
    from duckdb_kql import engine

    query = with_watchlist_tables(con, rule.query, watchlists)
    translated = duckdb_kql.to_sql(engine_query(rule, query), schema=engine.schema(con))
    if translated.unbound or translated.parameters:
        raise SetupError(f"{rule.id}: the query declares parameters")
    return str(translated)


def run_rule(con, sql: str, rule: Compiled, fixture: Fixture) -> list[int] | int:
    """Hit lines (detection) or number of fired windows (correlation)."""
    rows = con.sql(sql).fetchall()
    if rule.correlation:
        return len(rows)
    return sorted(fixture.events[r[0]][0] for r in rows)


def unsupported_reason(exc) -> str:
    construct = getattr(exc, "construct", "") or ""
    hint = getattr(exc, "hint", "") or ""
    names = {
        "MvapplyOperator": "`mv-apply`",
        "MvexpandOperator": "`mv-expand`",
    }
    what = names.get(construct, f"`{construct.removeprefix('function:')}`" if construct else "a construct")
    span = f" (query line {exc.span.line})" if getattr(exc, "span", None) else ""
    # The hint's first clause ("not implemented in this wave", ...); the rest
    # quotes the query back.
    hint = hint.split(";", 1)[0].strip()
    return f"duckdb-kql 1.1.2 does not run {what}{span}" + (f": {hint}" if hint else "")


def short(lines) -> str:
    return "[" + ", ".join(str(x) for x in lines) + "]"


def replay_pipeline(pipeline: str, rules: list[Compiled], fixtures: list[Fixture], snaps, maps, verbose: bool):
    import duckdb
    import duckdb_kql
    from duckdb_kql.errors import KqlError, KqlUnsupportedError

    tables = kusto_tables(pipeline)
    outcomes: dict[tuple, Outcome] = {}
    notes: list[str] = []
    con = duckdb_kql.connect()
    register_ipv4(con)
    check_ipv4(con)
    register_aggregates()
    check_aggregates(con)

    # Every table any query reads, empty: fixtures are loaded into the same
    # tables, so each query is translated once, with this schema.
    needed = sorted({t for r in rules if r.query is not None for t in r.tables})
    for t in needed:
        create_table(con, t, tables[t])
    runnable = []
    sql: dict[tuple, str] = {}
    watchlists: set[str] = set()
    for rule in rules:
        if rule.query is None:
            error = rule.error or "no query"
            # Documented reasons not to compile for a target (README, `stetho
            # compile`): no table for the log source there, or a field the
            # pipeline lists as unmapped. Any other compile error is a failure.
            status = "NOT COMPILED" if NOT_FOR_TARGET.search(error) else "FAIL"
            outcomes[rule.key] = Outcome(status, error if status == "NOT COMPILED" else f"does not compile: {error}")
            continue
        if not rule.tables:
            outcomes[rule.key] = Outcome("FAIL", "the query names no table of the schema")
            continue
        # Translation first: an operator the engine lacks is known before
        # any data is loaded, and holds for every fixture.
        try:
            sql[rule.key] = translate(con, rule, watchlists)
        except KqlUnsupportedError as exc:
            outcomes[rule.key] = Outcome("OUTSIDE ENGINE", unsupported_reason(exc))
            continue
        except (KqlError, RecursionError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else ""
            outcomes[rule.key] = Outcome("FAIL", f"the engine cannot translate the query: {type(exc).__name__}: {first}")
            continue
        # No snapshot means no hits, as in `stetho test` (which removes the
        # snapshot of a rule that stops firing, and fails a rule whose hits
        # were never accepted).
        snaps.setdefault(rule.id, {})
        runnable.append(rule)

    per_rule: dict[tuple, list[str]] = defaultdict(list)  # failures
    compared: dict[tuple, list[str]] = defaultdict(list)
    hit_count: dict[tuple, int] = defaultdict(int)
    for fixture in fixtures:
        table = fixture.table
        users = [r for r in runnable if table in r.tables]
        if not users:
            continue
        if fixture.error:
            for r in users:
                per_rule[r.id].append(f"{fixture.name}: cannot read the fixture: {fixture.error}")
            continue
        # Every table the queries read; only this fixture's holds events.
        for t in needed:
            create_table(con, t, tables[t])
        loader = Loader(table, tables[table], maps.get(table, {}))
        fill_table(con, loader, fixture.events)
        if loader.unknown and verbose:
            notes.append(f"{pipeline} {fixture.name}: not columns of {table}, not loaded: {', '.join(sorted(loader.unknown))}")
        for rule in users:
            expected = snaps[rule.id].get(fixture.name, [])
            try:
                got = run_rule(con, sql[rule.key], rule, fixture)
            except (duckdb.Error, RecursionError, IndexError) as exc:
                first = str(exc).splitlines()[0] if str(exc) else ""
                per_rule[rule.key].append(f"{fixture.name}: engine error {type(exc).__name__}: {first}")
                continue
            compared[rule.key].append(fixture.name)
            if rule.correlation:
                hit_count[rule.key] += got
                if got != len(expected):
                    per_rule[rule.key].append(
                        f"{fixture.name}: expected {len(expected)} fired window(s) (snapshot lines "
                        f"{short(expected)}), engine {got}"
                    )
            else:
                hit_count[rule.key] += len(got)
                if got != expected:
                    per_rule[rule.key].append(f"{fixture.name}: expected lines {short(expected)}, engine {short(got)}")
            if verbose:
                notes.append(f"{pipeline} {rule.id} {fixture.name}: snapshot {short(expected)}, engine "
                             f"{got if rule.correlation else short(got)}")

    fixture_tables = {f.name: f.table for f in fixtures}
    for rule in runnable:
        if rule.key in outcomes:
            continue
        if per_rule[rule.key]:
            outcomes[rule.key] = Outcome("FAIL", "; ".join(per_rule[rule.key]))
            continue
        if not compared[rule.key]:
            outcomes[rule.key] = Outcome("NO FIXTURE", f"no fixture of table {', '.join(rule.tables)}")
            continue
        unread = sorted(n for n in snaps[rule.id] if fixture_tables.get(n) not in rule.tables)
        unit = "fired window(s)" if rule.correlation else "hit(s)"
        detail = f"{len(compared[rule.key])} fixture(s), {hit_count[rule.key]} {unit}"
        if rule.correlation:
            detail += "; correlation: compared by number of fired bin() windows"
        if unread:
            detail += f"; snapshot hits on other tables' fixtures not compared: {', '.join(unread)}"
        outcomes[rule.key] = Outcome("PASS", detail)
    con.close()
    return outcomes, notes


# ------------------------------------------------------------------ main


def ensure_binary(path: Path, default: bool) -> None:
    if path.exists() or not default:
        return
    print("== building target/release/stetho (cargo build --release --locked)", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description="compiled KQL vs. stetho test hits, through duckdb-kql")
    ap.add_argument(
        "--stetho",
        default=os.environ.get("STETHO_BIN", str(DEFAULT_BINARY)),
        help="stetho binary (default: target/release/stetho or $STETHO_BIN; built when missing)",
    )
    ap.add_argument("--pipeline", action="append", choices=PIPELINES, help="only this pipeline (repeatable)")
    ap.add_argument("--verbose", action="store_true", help="print every comparison and unloaded fixture field")
    ap.add_argument("--project", help="the project to replay (default: this repository)")
    ap.add_argument(
        "--watchlists",
        action="store_true",
        help="compile Sentinel queries with --watchlists and read each watchlist from the project's list",
    )
    args = ap.parse_args()
    if args.watchlists and args.pipeline and args.pipeline != ["sentinel"]:
        ap.error("--watchlists applies to the sentinel pipeline only")
    if args.project:
        global PROJECT
        PROJECT = Path(args.project).resolve()
    ensure_venv()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    started = time.monotonic()
    # Absolute, since commands run inside the project folder (--project).
    binary = Path(args.stetho).resolve()
    try:
        ensure_binary(binary, binary == DEFAULT_BINARY and "STETHO_BIN" not in os.environ)
        fixtures_dir = project_fixtures_dir()
        fixtures = discover(fixtures_dir)
        snaps = load_snapshots(fixtures_dir / ".snapshots")
        maps = column_maps()
        lines: list[tuple] = []
        notes: list[str] = []
        pipelines = ["sentinel"] if args.watchlists else sorted(args.pipeline or PIPELINES)
        for pipeline in pipelines:
            rules = compile_rules(binary, pipeline, kusto_tables(pipeline), args.watchlists)
            outcomes, pnotes = replay_pipeline(pipeline, rules, fixtures, snaps, maps, args.verbose)
            notes += pnotes
            for rule in rules:
                o = outcomes[rule.key]
                lines.append((pipeline, rule.path, rule.id, rule.title, o))
    except SetupError as exc:
        print(f"kql replay: setup failed: {exc}")
        return 1

    counts = defaultdict(int)
    width = max(len(p) for p in PIPELINES)
    for pipeline, _path, rid, title, o in sorted(lines, key=lambda x: x[:3]):
        counts[o.status] += 1
        print(f"{o.status:<14} {pipeline:<{width}}  {rid}  {title}  ({o.detail})")
    for note in notes:
        print(f"  note: {note}")
    print(
        f"not run: {counts['NOT COMPILED']} not compiled for the pipeline, "
        f"{counts['NO FIXTURE']} without a fixture of the query's table ({len(fixtures)} fixtures)"
    )
    print(f"time: {time.monotonic() - started:.1f}s", file=sys.stderr)
    failed = counts["FAIL"]
    print(f"kql replay: {counts['PASS']} passed, {failed} failed, {counts['OUTSIDE ENGINE']} outside the engine")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
