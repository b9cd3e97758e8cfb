"""Load the hostile-query corpus (hostile_queries.yaml) with its placeholders filled in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CORPUS_FILE = Path(__file__).with_name("hostile_queries.yaml")


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    expect: str  # rejected | limit | harmless
    engine_blocked: bool
    template: str

    def sql(self, canary_path: str = "/nonexistent/canary.txt", canary_env: str = "FINOPS_CANARY",
            out: str = "/nonexistent/out.csv") -> str:
        return (self.template.replace("{canary_path}", canary_path).replace("{canary_env}", canary_env)
                .replace("{out}", out))


def _template(entry: dict[str, Any]) -> str:
    if "sql" in entry:
        return str(entry["sql"])
    r = entry["repeat"]
    n = int(r["times"])
    body = str(r["open"]) * n + str(r["middle"]) + str(r["close"]) * n
    return str(r["prefix"]) + body + str(r.get("suffix", ""))


def load() -> list[Case]:
    doc = yaml.safe_load(CORPUS_FILE.read_text(encoding="utf-8"))
    cases = [
        Case(e["id"], e["category"], e["expect"], e.get("engine") == "blocked", _template(e))
        for e in doc["queries"]
    ]
    cases += [Case(e["id"], "harmless", "harmless", False, _template(e)) for e in doc["harmless"]]
    return cases


CASES = load()
REJECTED = [c for c in CASES if c.expect == "rejected"]
LIMITED = [c for c in CASES if c.expect == "limit"]
HARMLESS = [c for c in CASES if c.expect == "harmless"]
ENGINE_BLOCKED = [c for c in CASES if c.engine_blocked]
