"""Evidence sources beyond the bill: who created a resource (CloudTrail) and which IaC defines it.

- :func:`creator_index` reads delivered CloudTrail log files (``ctx.cloudtrail_dir``) with the
  evidence reader and maps every id/name a creation event names to its actor.
- :func:`iac_index` reads the Terraform in ``ctx.git_repo``: for each quoted literal, the file and
  block that holds it, the tags that block declares and the file's first git author.

All of it is untrusted text: used as classifier features and quoted (clipped) in evidence lines.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

CREATE_PREFIXES = ("Create", "RunInstances", "Run", "Launch", "Allocate", "Register", "Put", "Start")
MAX_TF_FILES = 5_000
MAX_TF_BYTES = 2_000_000
_LITERAL = re.compile(r'"([^"\n]{3,200})"')
_BLOCK_START = re.compile(r'^(resource|module|data|provider|locals)\b\s*(?:"([^"]+)")?(?:\s+"([^"]+)")?', re.MULTILINE)
_TAG_PAIR = re.compile(r'^\s*"?([A-Za-z0-9_.:/+=@-]{1,128})"?\s*=\s*"([^"\n]{1,256})"', re.MULTILINE)
_TAGS_BLOCK = re.compile(r"\b(?:tags|default_tags|labels)\s*=?\s*\{([^{}]*)\}", re.DOTALL)


@dataclass(frozen=True)
class Creator:
    actor: str
    event: str
    time: str
    ref: str


def creator_index(cloudtrail_dir: Path | None, since: datetime | None = None) -> dict[str, Creator]:
    """Resource id or name -> who created it (first creation event seen)."""
    if cloudtrail_dir is None or not Path(cloudtrail_dir).is_dir():
        return {}
    from tools.evidence.cloudtrail import read_log_files

    start = since or datetime(2000, 1, 1, tzinfo=UTC)
    items, _status = read_log_files(Path(cloudtrail_dir), start, datetime.now(UTC) + timedelta(days=1))
    index: dict[str, Creator] = {}
    for item in items:
        if not item.action.startswith(CREATE_PREFIXES) or not item.actor:
            continue
        creator = Creator(item.actor, item.action, item.time.isoformat(timespec="seconds"), item.ref)
        for key in [*item.resource_ids, *item.resource_names]:
            index.setdefault(key, creator)
            tail = key.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
            if tail and tail != key:
                index.setdefault(tail, creator)
    return index


@dataclass
class IacHit:
    path: str  # relative to the repo
    block: str  # e.g. resource.aws_instance.web
    declared: dict[str, str] = field(default_factory=dict)
    author: str | None = None


def _blocks(text: str) -> list[tuple[str, str]]:
    """(block label, block text) for each top-level resource/module/data block."""
    starts = [(m.start(), ".".join(p for p in m.groups() if p)) for m in _BLOCK_START.finditer(text)]
    out = []
    for i, (pos, label) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        out.append((label, text[pos:end]))
    return out or [("file", text)]


def _declared_tags(block: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for body in _TAGS_BLOCK.findall(block):
        for key, value in _TAG_PAIR.findall(body):
            if "${" not in value and "var." not in value:
                tags[key] = value
    return tags


def _first_authors(repo: Path) -> dict[str, str]:
    """Terraform file (relative path) -> email of the commit that added it."""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "log", "--reverse", "--format=@@%ae", "--name-only", "--diff-filter=A",
             "--", "*.tf"],
            capture_output=True, text=True, timeout=30, check=False,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {}
    authors: dict[str, str] = {}
    current = ""
    for line in out.splitlines():
        if line.startswith("@@"):
            current = line[2:].strip()
        elif line.strip() and current:
            authors.setdefault(line.strip(), current)
    return authors


def iac_index(repo: Path | None) -> dict[str, IacHit]:
    """Quoted literal (a resource name, id or bucket) -> the Terraform block that holds it."""
    if repo is None or not Path(repo).is_dir():
        return {}
    root = Path(repo)
    authors = _first_authors(root)
    index: dict[str, IacHit] = {}
    files = sorted(p for p in root.rglob("*.tf") if ".git" not in p.parts and ".terraform" not in p.parts)
    for path in files[:MAX_TF_FILES]:
        if path.stat().st_size > MAX_TF_BYTES:
            continue
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        file_tags = {}
        for label, block in _blocks(text):
            declared = _declared_tags(block)
            if label.startswith("provider") or label == "file":
                file_tags.update(declared)
            hit = IacHit(rel, label, {**file_tags, **declared}, authors.get(rel))
            for literal in _LITERAL.findall(block):
                index.setdefault(literal, hit)
    return index
