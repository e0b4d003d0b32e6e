#!/usr/bin/env python3
"""Derive test events from Sigma rules for the differential test.

Random events almost never hit a real rule, so agreement on them proves
nothing. This script reads each rule's detection section itself (plain
YAML, its own reading of the modifiers, independent of both engines under
test) and writes events that exercise every search identifier:

* a satisfying event per value alternative (`contains: x` -> `pre x post`,
  `endswith: '\\a.exe'` -> `C:\\dir\\a.exe`, exact -> the value, regex -> a
  sampled string, CIDR -> an address in the network, base64offset -> the
  base64 of a longer text at each of the three offsets, ...);
* case variants (upper-case and lower-case versions of a matching value);
* near misses, each with exactly one predicate broken;
* the field absent, JSON `null` and `""` (where engines disagree most);
* windash variants (each of the five dash characters);
* numbers written as JSON numbers and as strings.

Each variant is merged with a satisfying value for every other identifier
the condition uses positively, so `selection and not filter` is tested with
the selection satisfied and the filter both hit and missed. When two
identifiers constrain the same field, their requirements are combined into
one value (prefix + middle + suffix).

Output (deterministic: the random choices are seeded per rule):
  events.ndjson      one flat JSON object per line, generic Sigma field names
  events.labels.tsv  index<TAB>label, label = <rule id>:<identifier>:<variant>
  lists/NAME.txt     values for the %placeholders% used by `expand`

Usage: generate.py --out DIR RULE_DIR_OR_FILE...
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import ipaddress
import json
import random
import re
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

try:  # Python 3.11+
    from re import _parser as sre_parse  # type: ignore[attr-defined]
    from re import _constants as sre_c  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older interpreters
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

import yaml

SEED = 20260805
# Most value alternatives tried per detection item (spread over the list).
ALT_CAP = 24
# Most value alternatives also tried in upper case.
CASE_CAP = 8
# Most items / fields given their own near-miss or missing-field variants.
ITEM_CAP = 8
# Field that carries keyword (field-less) search values.
KEYWORD_FIELD = "Message"
DASHES = ["-", "/", "\u2013", "\u2014", "\u2015"]


# ---------------------------------------------------------------- patterns

ANY = object()  # Sigma `*`
ONE = object()  # Sigma `?`


def sigma_tokens(text: str) -> list:
    """Split a Sigma string into literal text and wildcards (spec: Escaping)."""
    out: list = []
    buf = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if nxt in ("*", "?", "\\"):
                buf.append(nxt)
                i += 2
                continue
            buf.append("\\")
            i += 1
            continue
        if c in "*?":
            if buf:
                out.append("".join(buf))
                buf = []
            out.append(ANY if c == "*" else ONE)
            i += 1
            continue
        buf.append(c)
        i += 1
    if buf:
        out.append("".join(buf))
    return out


@dataclass
class Spec:
    """What one value demands of a field."""

    kind: str  # pat | re | cidr | num | bool | null | exists | fieldref
    tokens: list = field(default_factory=list)  # pat
    start: bool = True  # pat: anchored at the start
    end: bool = True  # pat: anchored at the end
    raw: str = ""  # the rule's value as written (re, cidr, fieldref, windash)
    windash: bool = False
    encoding: tuple | None = None  # ("b64"|"b64off", wide: bool, text)
    number: int = 0
    flag: bool = False  # bool value / exists value / regex ignore-case


def literal_of(tokens: list) -> str:
    return "".join(t for t in tokens if isinstance(t, str))


def windash_positions(text: str) -> list[int]:
    """Dashes or slashes that start a word (spec appendix: windash)."""
    word = lambda ch: ch.isalnum() or ch == "_"  # noqa: E731
    return [
        i
        for i, ch in enumerate(text)
        if ch in "-/"
        and (i == 0 or not word(text[i - 1]))
        and i + 1 < len(text)
        and word(text[i + 1])
    ]


def with_dash(tokens: list, dash: str, everywhere: bool = False) -> list:
    out = []
    for t in tokens:
        if isinstance(t, str):
            if everywhere:
                t = t.replace("-", dash).replace("/", dash)
            else:
                chars = list(t)
                for i in windash_positions(t):
                    chars[i] = dash
                t = "".join(chars)
        out.append(t)
    return out


def specs_for_value(value, mods: list[str], lists: dict[str, list[str]]) -> list[Spec]:
    """The alternatives one rule value turns into (OR-ed)."""
    if value is None:
        return [Spec("null")]
    if "exists" in mods:
        return [Spec("exists", flag=bool(value))]
    if isinstance(value, bool):
        return [Spec("bool", flag=value)]
    if isinstance(value, (int, float)) and not mods:
        return [Spec("num", number=value)]
    text = str(value)
    if "re" in mods:
        return [Spec("re", raw=text, flag="i" in mods or "ignorecase" in mods)]
    if "cidr" in mods:
        return [Spec("cidr", raw=text)]
    if "fieldref" in mods:
        pos = (
            "contains" in mods,
            "startswith" in mods,
            "endswith" in mods,
        )
        return [
            Spec(
                "fieldref",
                raw=text,
                start=not (pos[0] or pos[2]),
                end=not (pos[0] or pos[1]),
            )
        ]
    texts = [text]
    if "expand" in mods:
        texts = expand(text, lists)
    start = not ("contains" in mods or "endswith" in mods)
    end = not ("contains" in mods or "startswith" in mods)
    wide = "wide" in mods or "utf16le" in mods
    out = []
    for t in texts:
        if "base64offset" in mods or "base64" in mods:
            kind = "b64off" if "base64offset" in mods else "b64"
            # base64 of the plain value; only the value's own text is needed.
            out.append(
                Spec(
                    "pat",
                    tokens=[t],
                    start=start,
                    end=end,
                    raw=t,
                    encoding=(kind, wide, t),
                )
            )
            continue
        out.append(
            Spec(
                "pat",
                tokens=sigma_tokens(t),
                start=start,
                end=end,
                raw=t,
                windash="windash" in mods,
            )
        )
    return out


def expand(text: str, lists: dict[str, list[str]]) -> list[str]:
    results = [""]
    pos = 0
    for m in re.finditer(r"%([A-Za-z0-9_]+)%", text):
        values = lists.setdefault(m.group(1), placeholder_values(m.group(1)))
        lit = text[pos : m.start()]
        results = [r + lit + v for r in results for v in values]
        pos = m.end()
    return [r + text[pos:] for r in results]


def placeholder_values(name: str) -> list[str]:
    return [f"{name.lower()}-alpha", f"{name}-Beta.example"]


# ---------------------------------------------------------------- rendering


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Renderer:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def wild(self, t, mode: str = "base") -> str:
        """A wildcard's stand-in: empty, plain, multi-line or non-ASCII text."""
        if t is ANY:
            return {"fill": "ZzZ", "nlfill": "a\nb", "unifill": "\u00e9\u20ac"}.get(mode, "")
        if t is ONE:
            return {"nlfill": "\n", "unifill": "\u00e9"}.get(mode, "q")
        if mode == "metachars":
            # SQL LIKE wildcards and escaped Sigma wildcards, replaced by a
            # letter: only an engine that treats them as wildcards matches.
            return re.sub(r"[%_*?]", "Q", t)
        return t

    def pat_core(self, spec: Spec, mode: str) -> str:
        """The value's own text (wildcards filled), before anchoring filler."""
        tokens = spec.tokens
        if mode.startswith("dash:"):
            tokens = with_dash(tokens, mode[5:])
        elif mode.startswith("alldash:"):
            tokens = with_dash(tokens, mode[8:], everywhere=True)
        if spec.encoding:
            kind, wide, text = spec.encoding
            data_text = text
            if mode == "miss":
                data_text = break_text(text)
            if kind == "b64off":
                off = int(mode[4:]) if mode.startswith("off:") else 0
                pad = "pad  "[: off + 1][:off]
                plain = pad + data_text + " tail"
            else:
                plain = data_text
            data = plain.encode("utf-16-le" if wide else "utf-8")
            return b64(data)
        core = "".join(self.wild(t, mode) for t in tokens)
        if mode == "miss":
            core = break_pattern(spec, tokens, self)
        return core

    def render_pieces(self, pieces: list[tuple[Spec, str]]) -> object:
        """One field value satisfying every (spec, mode) piece, best effort."""
        # Exact values win outright.
        for spec, mode in pieces:
            if spec.kind == "num":
                if mode == "miss":
                    return spec.number + 1
                if mode == "numstr":
                    return str(spec.number)
                return spec.number
            if spec.kind == "bool":
                val = (not spec.flag) if mode == "miss" else spec.flag
                if mode == "jsonbool":
                    return val
                return "true" if val else "false"
            if spec.kind == "cidr":
                return render_cidr(spec.raw, mode)
            if spec.kind == "pat" and spec.start and spec.end and not spec.encoding:
                if mode == "asnum" and literal_of(spec.tokens).isdigit():
                    return int(literal_of(spec.tokens))
                return case(self.pat_core(spec, mode) + ("x" if mode == "miss" and not spec.tokens else ""), mode)
        head, middle, tail = [], [], []
        for spec, mode in pieces:
            if spec.kind == "re":
                text = case(sample_regex(spec.raw, spec.flag, mode, self.rng), mode)
                if spec.raw.startswith("^"):
                    head.append(text)
                elif spec.raw.endswith("$") and not spec.raw.endswith("\\$"):
                    tail.append(text)
                else:
                    middle.append(text)
            elif spec.kind == "pat":
                core = case(self.pat_core(spec, mode), mode)
                if mode == "miss" and spec.start and not spec.end:
                    head.append("x" + core)
                elif mode == "miss" and spec.end and not spec.start:
                    tail.append(core + "x")
                elif spec.start and not spec.end:
                    head.append(core)
                elif spec.end and not spec.start:
                    tail.append(core)
                else:
                    middle.append(core)
            elif spec.kind == "exists":
                middle.append("present")
        head.sort(key=len)
        tail.sort(key=len)
        start = head[-1] if head else ""
        end = tail[-1] if tail else ""
        modes = {m for _, m in pieces}
        if not head:
            start = "C:\\dir" if (end.startswith("\\") and not middle) else "pre "
            if "nlfill" in modes:
                start = "line1\npre "
            elif "unifill" in modes:
                start = "pr\u00e9 "
        if not tail:
            end = " post"
            if "nlfill" in modes:
                end = " post\nline3"
            elif "unifill" in modes:
                end = " p\u00f6st"
        return start + (" " + " ".join(middle) + " " if middle else "") + end


def case(text: str, mode: str) -> str:
    if mode == "upper":
        return text.upper()
    if mode == "lower":
        return text.lower()
    return text


def break_text(text: str) -> str:
    """The text with its middle character removed (or an `x` if too short)."""
    if len(text) < 2:
        return text + "x"
    mid = len(text) // 2
    return text[:mid] + text[mid + 1 :]


def break_pattern(spec: Spec, tokens: list, r: Renderer) -> str:
    """A near miss: the longest literal part loses its middle character."""
    lits = [i for i, t in enumerate(tokens) if isinstance(t, str)]
    if not lits:
        return "x"
    longest = max(lits, key=lambda i: len(tokens[i]))
    out = []
    for i, t in enumerate(tokens):
        if i == longest and spec.start != spec.end:
            out.append(t)  # startswith/endswith: broken by an outer character
        elif i == longest and not (spec.start and spec.end):
            out.append(break_text(t))
        else:
            out.append(r.wild(t))
    text = "".join(out)
    if spec.start and spec.end:
        text += "x"
    return text


def render_cidr(raw: str, mode: str) -> str:
    net = ipaddress.ip_network(raw, strict=False)
    if mode == "miss":
        last = int(net.broadcast_address) + 1
        maxi = 2**32 - 1 if net.version == 4 else 2**128 - 1
        addr = ipaddress.ip_address(last if last <= maxi else int(net.network_address) - 1)
        if net.version == 6:
            addr = ipaddress.IPv6Address(int(addr))
        else:
            addr = ipaddress.IPv4Address(int(addr))
    elif mode == "edge":
        addr = net.broadcast_address
    else:
        addr = net.network_address + (1 if net.num_addresses > 2 else 0)
    if net.version == 6 and mode == "exploded":
        return addr.exploded
    if net.version == 6 and mode == "upper":
        return str(addr).upper()
    return str(addr)


# ------------------------------------------------------ regex string sampler

CATEGORY_CHARS = {
    sre_c.CATEGORY_DIGIT: "7",
    sre_c.CATEGORY_NOT_DIGIT: "a",
    sre_c.CATEGORY_SPACE: " ",
    sre_c.CATEGORY_NOT_SPACE: "a",
    sre_c.CATEGORY_WORD: "a",
    sre_c.CATEGORY_NOT_WORD: "-",
}
CANDIDATES = "aZ7 -_x.:/\\\"'Q#=+"


def _in_set(items, ch: str) -> bool:
    for op, av in items:
        if op is sre_c.LITERAL and ord(ch) == av:
            return True
        if op is sre_c.RANGE and av[0] <= ord(ch) <= av[1]:
            return True
        if op is sre_c.CATEGORY:
            probe = {
                sre_c.CATEGORY_DIGIT: r"\d",
                sre_c.CATEGORY_NOT_DIGIT: r"\D",
                sre_c.CATEGORY_SPACE: r"\s",
                sre_c.CATEGORY_NOT_SPACE: r"\S",
                sre_c.CATEGORY_WORD: r"\w",
                sre_c.CATEGORY_NOT_WORD: r"\W",
            }.get(av)
            if probe and re.fullmatch(probe, ch):
                return True
    return False


def _gen(parsed, rng: random.Random, extra: int) -> str:
    out = []
    for op, av in parsed:
        if op is sre_c.LITERAL:
            out.append(chr(av))
        elif op is sre_c.NOT_LITERAL:
            out.append("a" if chr(av) != "a" else "b")
        elif op is sre_c.ANY:
            out.append("a")
        elif op is sre_c.IN:
            items = list(av)
            if items and items[0][0] is sre_c.NEGATE:
                rest = items[1:]
                out.append(next((c for c in CANDIDATES if not _in_set(rest, c)), "a"))
            else:
                op2, av2 = items[0]
                if op2 is sre_c.LITERAL:
                    out.append(chr(av2))
                elif op2 is sre_c.RANGE:
                    out.append(chr(av2[0]))
                elif op2 is sre_c.CATEGORY:
                    out.append(CATEGORY_CHARS.get(av2, "a"))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT) or op is getattr(
            sre_c, "POSSESSIVE_REPEAT", None
        ):
            lo, hi, sub = av
            n = max(lo, 1 if hi else 0)
            if extra and hi != lo:
                n = min(hi, n + extra)
            out.append("".join(_gen(sub, rng, extra) for _ in range(n)))
        elif op is sre_c.SUBPATTERN:
            out.append(_gen(av[-1], rng, extra))
        elif op is getattr(sre_c, "ATOMIC_GROUP", None):
            out.append(_gen(av, rng, extra))
        elif op is sre_c.BRANCH:
            branches = av[1]
            out.append(_gen(branches[rng.randrange(len(branches))], rng, extra))
        elif op is sre_c.CATEGORY:
            out.append(CATEGORY_CHARS.get(av, "a"))
        # AT (anchors), ASSERT, ASSERT_NOT, GROUPREF: nothing to emit
    return "".join(out)


def sample_regex(pattern: str, icase: bool, mode: str, rng: random.Random) -> str:
    """A string the regex finds (checked with Python's `re`), or a near miss."""
    flags = re.IGNORECASE if icase else 0
    try:
        parsed = sre_parse.parse(pattern, flags)
        compiled = re.compile(pattern, flags)
    except re.error:
        return "unparsable"
    found = None
    for attempt in range(12):
        s = _gen(parsed, random.Random(rng.random()), attempt % 3)
        if compiled.search(s):
            found = s
            break
    if found is None:
        found = "nomatch"
    if mode == "miss":
        for i in range(len(found)):
            cand = found[:i] + "#" + found[i + 1 :]
            if not compiled.search(cand):
                return cand
        return found[::-1]
    if mode == "fill":
        return "pre " + found + " post"
    if mode == "nl":
        return found + "\n"
    return found


# ------------------------------------------------------------ rule reading


@dataclass
class Item:
    field: str | None  # None: keyword search
    specs: list[list[Spec]]  # per rule value, its alternatives
    all_values: bool


def read_items(block, lists) -> list[list[Item]]:
    """A search identifier as a list of alternatives, each a list of ANDed items."""
    if isinstance(block, dict):
        maps = [block]
    elif isinstance(block, list) and block and all(isinstance(b, dict) for b in block):
        maps = block
    else:
        values = block if isinstance(block, list) else [block]
        specs = [specs_for_value(v, ["contains"], lists) for v in values]
        return [[Item(None, specs, False)]]
    alts = []
    for m in maps:
        items = []
        for key, value in m.items():
            parts = str(key).split("|")
            fname, mods = parts[0], parts[1:]
            values = value if isinstance(value, list) else [value]
            if not values:
                values = [None]
            if fname == "":
                mods = ["contains"] + mods
            specs = [specs_for_value(v, mods, lists) for v in values]
            items.append(Item(fname or None, specs, "all" in mods))
        alts.append(items)
    return alts


def condition_polarity(condition, names: list[str]) -> tuple[set[str], set[str]]:
    """Identifiers the condition uses positively / under a `not`."""
    pos: set[str] = set()
    neg: set[str] = set()
    conds = condition if isinstance(condition, list) else [condition]
    for cond in conds:
        tokens = re.findall(r"\(|\)|[^\s()]+", str(cond))
        Polarity(tokens, names, pos, neg).parse()
    return pos, neg


class Polarity:
    def __init__(self, tokens, names, pos, neg):
        self.t, self.i, self.names, self.pos, self.neg = tokens, 0, names, pos, neg

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def parse(self):
        self.or_(True)

    def or_(self, sign):
        self.and_(sign)
        while self.peek() == "or":
            self.take()
            self.and_(sign)

    def and_(self, sign):
        self.not_(sign)
        while self.peek() == "and":
            self.take()
            self.not_(sign)

    def not_(self, sign):
        if self.peek() == "not":
            self.take()
            self.not_(not sign)
        else:
            self.operand(sign)

    def operand(self, sign):
        tok = self.take()
        if tok is None:
            return
        if tok == "(":
            self.or_(sign)
            if self.peek() == ")":
                self.take()
            return
        if tok in ("1", "all", "any") and self.peek() == "of":
            self.take()
            pat = self.take() or ""
            if pat == "them":
                hits = [n for n in self.names if not n.startswith("_")]
            else:
                hits = [n for n in self.names if fnmatch.fnmatchcase(n, pat)]
        else:
            hits = [tok]
        (self.pos if sign else self.neg).update(hits)


# ------------------------------------------------------------ event design


def spread(n: int, cap: int) -> list[int]:
    if n <= cap:
        return list(range(n))
    return sorted({round(i * (n - 1) / (cap - 1)) for i in range(cap)})


def fragment(items: list[Item], alt: int) -> list[tuple[str | None, Spec]]:
    """(field, spec) pairs choosing value `alt` (modulo) of every item."""
    out = []
    for item in items:
        if item.all_values:
            for alts in item.specs:
                out.append((item.field, alts[alt % len(alts)]))
        else:
            flat = [s for alts in item.specs for s in alts]
            out.append((item.field, flat[alt % len(flat)]))
    return out


def item_width(items: list[Item]) -> int:
    return max(
        (1 if it.all_values else sum(len(a) for a in it.specs)) for it in items
    )


class RuleEvents:
    def __init__(self, rule: dict, lists: dict[str, list[str]]):
        self.rule = rule
        self.rid = str(rule.get("id") or rule.get("title"))
        self.rng = random.Random(SEED ^ zlib.crc32(self.rid.encode()))
        self.render = Renderer(self.rng)
        det = rule.get("detection") or {}
        self.idents = {
            name: read_items(block, lists)
            for name, block in det.items()
            if name != "condition"
        }
        pos, neg = condition_polarity(det.get("condition", ""), list(self.idents))
        self.pos = [n for n in self.idents if n in pos]
        self.neg = [n for n in self.idents if n in neg and n not in pos]

    def build(self, pieces: list[tuple[str | None, Spec, str]]) -> dict:
        """Turn (field, spec, mode) pieces into one event."""
        by_field: dict[str, list[tuple[Spec, str]]] = {}
        refs = []
        split = 0
        for fname, spec, mode in pieces:
            key = fname or KEYWORD_FIELD
            if fname is None and mode == "kwsplit":
                split += 1
                key = f"{KEYWORD_FIELD}{split}"
            if spec.kind == "fieldref":
                refs.append((key, spec, mode))
                continue
            by_field.setdefault(key, []).append((spec, mode))
        event: dict = {}
        for key, plist in by_field.items():
            modes = {m for _, m in plist}
            kinds = {s.kind for s, _ in plist}
            if "absent" in modes:
                continue
            if "jsonnull" in modes:
                event[key] = None
                continue
            if "empty" in modes:
                event[key] = ""
                continue
            if kinds <= {"null", "exists"}:
                want_present = any(
                    (s.kind == "exists" and s.flag) != (m == "miss") for s, m in plist if s.kind == "exists"
                ) or any(s.kind == "null" and m == "miss" for s, m in plist)
                if want_present:
                    event[key] = "present"
                continue
            plist = [(s, m) for s, m in plist if s.kind not in ("null",)]
            event[key] = self.render.render_pieces(plist)
        for key, spec, mode in refs:
            other = event.get(spec.raw)
            if not isinstance(other, str) or not other:
                other = "ref-value"
                event[spec.raw] = other
            if mode in ("absent", "jsonnull", "empty"):
                event.pop(key, None) if mode == "absent" else event.__setitem__(
                    key, None if mode == "jsonnull" else ""
                )
                continue
            val = other
            if mode == "miss":
                val = other + "-different"
            elif mode == "upper":
                val = other.upper()
            if not spec.start:
                val = "pre " + val
            if not spec.end:
                val = val + " post"
            event[key] = val
        return event

    @staticmethod
    def _all_flags(items: list[Item]) -> list[bool]:
        """Per fragment entry (as `fragment` lays them out): from an `all` item?"""
        out = []
        for item in items:
            out += [item.all_values] * (len(item.specs) if item.all_values else 1)
        return out

    def context(self, skip: str) -> list[tuple[str | None, Spec, str]]:
        out = []
        for name in self.pos:
            if name == skip:
                continue
            for fname, spec in fragment(self.idents[name][0], 0):
                out.append((fname, spec, "base"))
        return out

    def variants(self, name: str, ai: int, items: list[Item]):
        """(label, pieces) for one alternative (map) of one identifier."""
        base = fragment(items, 0)
        tag = f"{name}#{ai}" if len(self.idents[name]) > 1 else name

        def with_mode(frag, modes):
            return [(f, s, modes.get(i, "base")) for i, (f, s) in enumerate(frag)]

        for k in spread(item_width(items), ALT_CAP):
            yield f"{tag}:alt{k}", with_mode(fragment(items, k), {})
        all_case = {i: "upper" for i in range(len(base))}
        yield f"{tag}:upper", with_mode(base, all_case)
        for k in spread(item_width(items), CASE_CAP)[1:]:
            yield f"{tag}:alt{k}:upper", with_mode(fragment(items, k), all_case)
        yield f"{tag}:lower", with_mode(fragment(items, 1), {i: "lower" for i in range(len(base))})
        for fill in ("fill", "nlfill", "unifill"):
            yield f"{tag}:{fill}", with_mode(base, {i: fill for i in range(len(base))})
        if any(s.kind == "pat" and re.search(r"[%_*?]", literal_of(s.tokens)) for _, s in base):
            yield f"{tag}:metachars", with_mode(base, {i: "metachars" for i in range(len(base))})
        if any(s.kind == "pat" and s.start and s.end and literal_of(s.tokens).isdigit() and len(s.tokens) == 1 for _, s in base):
            yield f"{tag}:asnum", with_mode(base, {i: "asnum" for i in range(len(base))})
        if any(f is None and it_all for (f, _), it_all in zip(base, self._all_flags(items))):
            yield f"{tag}:kwsplit", with_mode(base, {i: "kwsplit" for i in range(len(base))})
        if any(s.kind == "re" for _, s in base):
            yield f"{tag}:nl", with_mode(base, {i: "nl" for i, (_, s) in enumerate(base) if s.kind == "re"})
        if any(f and "." in f for f, _ in base):
            yield f"{tag}:nested", with_mode(base, {})
        if any(s.kind == "bool" for _, s in base):
            yield f"{tag}:jsonbool", with_mode(base, {i: "jsonbool" for i in range(len(base))})
        for i, (fname, spec) in enumerate(base[:ITEM_CAP]):
            yield f"{tag}:miss:{fname or '*'}#{i}", with_mode(base, {i: "miss"})
        # Near misses of the other list values too (each item's own value k).
        for k in spread(item_width(items), CASE_CAP)[1:]:
            frag = fragment(items, k)
            for i, (fname, spec) in enumerate(frag[:ITEM_CAP]):
                if spec is not base[i][1]:
                    yield f"{tag}:alt{k}:miss:{fname or '*'}#{i}", with_mode(frag, {i: "miss"})
        seen = []
        for i, (fname, spec) in enumerate(base):
            if fname is None or fname in seen or len(seen) >= ITEM_CAP:
                continue
            seen.append(fname)
            idx = [j for j, (f, _) in enumerate(base) if f == fname]
            for mode in ("absent", "jsonnull", "empty"):
                yield f"{tag}:{mode}:{fname}", with_mode(base, {j: mode for j in idx})
        if any(s.kind == "pat" and s.windash for _, s in base):
            for d in DASHES:
                yield f"{tag}:dash:{d}", with_mode(base, {i: f"dash:{d}" for i in range(len(base))})
            yield f"{tag}:alldash:/", with_mode(base, {i: "alldash:/" for i in range(len(base))})
        if any(s.kind == "num" for _, s in base):
            yield f"{tag}:numstr", with_mode(base, {i: "numstr" for i in range(len(base))})
        if any(s.kind == "cidr" for _, s in base):
            for k in spread(item_width(items), ALT_CAP):
                frag = fragment(items, k)
                for mode in ("edge", "exploded", "upper", "miss"):
                    yield f"{tag}:cidr{k}:{mode}", with_mode(frag, {i: mode for i, (_, s) in enumerate(frag) if s.kind == "cidr"})
        if any(s.kind == "pat" and s.encoding and s.encoding[0] == "b64off" for _, s in base):
            for k in spread(item_width(items), ALT_CAP):
                frag = fragment(items, k)
                for off in (1, 2):
                    yield f"{tag}:alt{k}:off{off}", with_mode(frag, {i: f"off:{off}" for i in range(len(frag))})

    def events(self):
        for name, alts in self.idents.items():
            ctx = self.context(name)
            for ai, items in enumerate(alts):
                first = True
                for label, pieces in self.variants(name, ai, items):
                    event = self.build(ctx + pieces)
                    if label.endswith(":nested"):
                        event = nest(event)
                    yield label, event
                    if first and ctx:
                        yield label + ":bare", self.build(pieces)
                    first = False
        # Everything at once: every identifier satisfied, filters included.
        everything = []
        for name, alts in self.idents.items():
            everything += [(f, s, "base") for f, s in fragment(alts[0], 0)]
        yield "*:all", self.build(everything)


def nest(event: dict) -> dict:
    """Dotted keys as nested objects: {"a.b": 1} -> {"a": {"b": 1}}."""
    out: dict = {}
    for key, value in event.items():
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):  # a flat key already holds it
                node = None
                break
            node = nxt
        if node is None:
            out[key] = value
        else:
            node[parts[-1]] = value
    return out


def load_rules(paths: list[str]) -> list[tuple[Path, dict]]:
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files += sorted(path.rglob("*.yml")) + sorted(path.rglob("*.yaml"))
        else:
            files.append(path)
    out = []
    for f in sorted(set(files)):
        with open(f, encoding="utf-8") as fh:
            for doc in yaml.safe_load_all(fh):
                if isinstance(doc, dict) and isinstance(doc.get("detection"), dict):
                    out.append((f, doc))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("rules", nargs="+", help="rule files or folders")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lists: dict[str, list[str]] = {}
    seen: set[str] = set()
    n = 0
    with open(out / "events.ndjson", "w", encoding="utf-8") as ev, open(
        out / "events.labels.tsv", "w", encoding="utf-8"
    ) as lab:
        for _path, rule in load_rules(args.rules):
            gen = RuleEvents(rule, lists)
            for label, event in gen.events():
                line = json.dumps(event, ensure_ascii=False, sort_keys=True)
                if line in seen:
                    continue
                seen.add(line)
                ev.write(line + "\n")
                lab.write(f"{n}\t{gen.rid}:{label}\n")
                n += 1
    (out / "lists").mkdir(exist_ok=True)
    for name, values in sorted(lists.items()):
        (out / "lists" / f"{name}.txt").write_text("\n".join(values) + "\n", encoding="utf-8")
    print(f"generate: {n} events, {len(lists)} placeholder lists -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
