"""Write the replay benchmarks' rule sets: for each SIZE, SIZE SigmaHQ
process_creation rules from tests/corpus/sigmahq into OUT/rulesSIZE/, the
corpus rules in order and repeated with fresh ids when SIZE is larger than
the corpus (it has 165). Deterministic: the same sizes give the same files.

usage: rule_sets.py OUT SIZE..."""
import pathlib
import re
import sys
import uuid

out = pathlib.Path(sys.argv[1])
rules = sorted(p for p in pathlib.Path("tests/corpus/sigmahq").rglob("*.yml")
               if "category: process_creation" in p.read_text(encoding="utf-8"))
for size in map(int, sys.argv[2:]):
    for i in range(size):
        src = rules[i % len(rules)]
        text = src.read_text(encoding="utf-8")
        text = re.sub(r"^id: .*$", f"id: {uuid.UUID(int=size * 100000 + i + 1, version=4)}", text, count=1, flags=re.M)
        target = out / f"rules{size}" / f"r{i:04d}.yml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
print(f"process_creation rules in the corpus: {len(rules)}")
