"""Local git evidence: commits in a window that touch IaC or app files, with the size/count/type changes.

``git`` runs as a subprocess with an argument list (no shell), ``--no-pager``, no external diff
drivers or textconv filters (a repository's own config must not run code), and a timeout. A commit
becomes an :class:`EvidenceItem` whose summary reads like
``a1b2c3d 'scale for launch' in infra/asg.tf: min_size 2 -> 20``.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from tools.evidence import EvidenceItem, SourceStatus, as_utc, clip

MAX_COMMITS = 500
GIT_TIMEOUT_S = 30.0
SHA = re.compile(r"^[0-9a-f]{40}$")
DOC_SUFFIXES = (".md", ".rst", ".txt", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".pdf", ".adoc")
DOC_NAMES = frozenset({"LICENSE", "NOTICE", "CHANGELOG", "AUTHORS", "CODEOWNERS", ".gitignore"})
IAC_SUFFIXES = (".tf", ".tfvars", ".hcl", ".bicep")
SETTING = re.compile(r"""^\s*["']?([A-Za-z_][\w.\-]*)["']?\s*[:=]\s*(.+?)\s*,?\s*$""")
TF_BLOCK = re.compile(r"""^\s*(resource|module|data)\s+"([^"]+)"(?:\s+"([^"]+)")?""")
TF_NAME = re.compile(
    r"""^\s*(name|name_prefix|function_name|endpoint_name|identifier|bucket|cluster_name|"""
    r"""node_group_name|family)\s*=\s*"([^"]+)\""""
)
AWS_ID = re.compile(r"\b((?:i|vol|nat|snap|lt|sg|subnet|vpc)-[0-9a-f]{8,17}|arn:aws[\w-]*:[^\s\"',]+)")
# Tokens that make a setting cost-relevant (size, count, type, capacity, loops that call paid APIs).
COST_TOKENS = frozenset(
    {
        "size", "count", "capacity", "type", "class", "replicas", "replica", "iterations", "retries",
        "retry", "concurrency", "concurrent", "tokens", "nodes", "node", "memory", "storage", "timeout",
        "desired", "min", "max", "model", "tier", "sku", "gpu", "gpus", "throughput", "iops",
        "retention", "parallelism", "workers", "batch", "instances", "shards", "units", "cpu",
    }
)  # fmt: skip
SERVICE_OF_TF = {
    "autoscaling": "autoscaling", "instance": "ec2", "launch": "ec2", "nat": "ec2", "eip": "ec2",
    "ebs": "ec2", "spot": "ec2", "db": "rds", "rds": "rds", "lambda": "lambda", "sagemaker": "sagemaker",
    "s3": "s3", "eks": "eks", "elasticache": "elasticache", "dynamodb": "dynamodb", "bedrock": "bedrock",
    "lb": "elasticloadbalancing", "alb": "elasticloadbalancing", "cloudwatch": "logs", "ecs": "ecs",
    "kinesis": "kinesis", "redshift": "redshift", "opensearch": "es", "msk": "kafka", "efs": "efs",
}  # fmt: skip


class GitFailed(Exception):
    """git exited non-zero or timed out."""


def run_git(repo: Path, *args: str) -> str:
    """Run ``git`` safely (argument list, no pager, no repo-configured programs) and return stdout."""
    command = [
        "git", "--no-pager", "-C", str(repo), "-c", "core.quotepath=off", "-c", "color.ui=never",
        "-c", "core.fsmonitor=false", *args,
    ]  # fmt: skip
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
        "LC_ALL": "C",
        "GIT_OPTIONAL_LOCKS": "0",
    }
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=GIT_TIMEOUT_S,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitFailed(f"git {args[0]} failed: {type(exc).__name__}") from None
    if done.returncode != 0:
        raise GitFailed(f"git {args[0]} failed: {clip(done.stderr, 200)}")
    return done.stdout


def is_relevant(path: str) -> bool:
    """IaC and application files count; documentation and images do not."""
    pure = PurePosixPath(path)
    return pure.name not in DOC_NAMES and not pure.name.lower().endswith(DOC_SUFFIXES)


def _words(key: str) -> set[str]:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()
    return set(re.split(r"[^a-z0-9]+", snake)) - {""}


def is_cost_setting(key: str) -> bool:
    """``min_size``, ``instance_type``, ``desiredCapacity``, ``max_iterations``... (by word)."""
    return bool(_words(key) & COST_TOKENS)


def _value(text: str) -> str:
    value = text.strip().rstrip(",;").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return clip(value, 60)


@dataclass
class FileDiff:
    """Added/removed lines of one file in one commit (``-U0``)."""

    path: str
    added: list[tuple[int, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)


def parse_diff(text: str) -> list[FileDiff]:
    """Split ``git show -U0`` output into per-file added/removed lines (with new line numbers)."""
    files: list[FileDiff] = []
    current: FileDiff | None = None
    line_no = 0
    for line in text.splitlines():
        if line.startswith("diff --git "):
            current = None
        elif line.startswith("+++ "):
            target = line[4:]
            current = FileDiff(target[2:] if target.startswith("b/") else target)
            files.append(current)
        elif line.startswith("--- ") and current is None:
            continue
        elif line.startswith("@@") and current is not None:
            match = re.match(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@ ?(.*)", line)
            if match:
                line_no = int(match.group(1))
                if match.group(2):
                    current.contexts.append(match.group(2))
        elif current is not None and line.startswith("+"):
            current.added.append((line_no, line[1:]))
            line_no += 1
        elif current is not None and line.startswith("-"):
            current.removed.append(line[1:])
        elif current is not None and line.startswith(" "):
            line_no += 1  # context line (GitHub patches carry 3 lines of context)
    return files


def setting_changes(diff: FileDiff) -> list[str]:
    """Cost-relevant settings the diff changes: ``min_size 2 -> 20``, ``instance_type = p4d.24xlarge``."""
    old = _settings(diff.removed)
    new = _settings([text for _, text in diff.added])
    out: list[str] = []
    for key, value in new.items():
        if key in old and old[key] != value:
            out.append(f"{key} {old[key]} -> {value}")
        elif key not in old and is_cost_setting(key):
            out.append(f"{key} = {value}")
    out += [f"{key} {value} -> (removed)" for key, value in old.items() if key not in new and is_cost_setting(key)]
    return out


def _settings(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for text in lines:
        match = SETTING.match(text)
        if match and not match.group(2).startswith(("{", "[", "<<")):
            found[match.group(1)] = _value(match.group(2))
    return found


def tf_resources(content: str, line_numbers: list[int]) -> tuple[list[str], list[str]]:
    """For changed lines of a Terraform file: enclosing block addresses and their name attributes."""
    lines = content.splitlines()
    addresses: list[str] = []
    names: list[str] = []
    for number in line_numbers:
        for index in range(min(number, len(lines)) - 1, -1, -1):
            match = TF_BLOCK.match(lines[index])
            if match:
                kind, first, second = match.groups()
                address = f"{first}.{second}" if second else f"{kind}.{first}"
                if address not in addresses:
                    addresses.append(address)
                    names += [n for n in _block_names(lines, index) if n not in names]
                break
    return addresses, names


def _block_names(lines: list[str], start: int) -> list[str]:
    depth = 0
    found: list[str] = []
    for line in lines[start : start + 400]:
        if depth == 1 or (depth == 0 and "{" not in line):
            match = TF_NAME.match(line)
            if match:
                found.append(match.group(2))
        depth += line.count("{") - line.count("}")
        if depth <= 0 and line is not lines[start]:
            break
    return found


def service_of(address: str) -> str | None:
    """``aws_autoscaling_group.web`` -> ``autoscaling``; ``aws_db_instance.x`` -> ``rds``."""
    parts = address.split(".", 1)[0].split("_")
    if len(parts) < 2 or parts[0] not in ("aws", "azurerm", "google"):
        return None
    return SERVICE_OF_TF.get(parts[1], parts[1])


@dataclass
class _Commit:
    sha: str
    committed: datetime
    authored: str
    author: str
    email: str
    subject: str
    body: str


def _read_commit(repo: Path, sha: str) -> tuple[_Commit, str]:
    """The commit's metadata and its ``-U0`` patch, from one ``git show``."""
    out = run_git(
        repo, "show", "--format=%cI%x00%aI%x00%an%x00%ae%x00%s%x00%b%x00", "-U0", "-M", "--no-ext-diff",
        "--no-textconv", "--no-color", sha, "--",
    )  # fmt: skip
    committed, authored, author, email, subject, body, patch = ([*out.split("\x00", 6), "", "", "", "", "", ""])[:7]
    when = as_utc(datetime.fromisoformat(committed.strip()))
    return _Commit(sha, when, authored, author, email, subject, body.strip()), patch


_CACHE: dict[tuple[str, str], EvidenceItem | None] = {}


def commit_item(repo: Path, sha: str) -> EvidenceItem | None:
    """One commit as evidence, or None if it touches no IaC/app file (cached: commits are immutable)."""
    key = (str(repo.resolve()), sha)
    if key not in _CACHE:
        if len(_CACHE) > 20_000:
            _CACHE.clear()
        _CACHE[key] = _commit_item(repo, sha)
    item = _CACHE[key]
    return None if item is None else item.model_copy(deep=True)


def _commit_item(repo: Path, sha: str) -> EvidenceItem | None:
    commit, patch = _read_commit(repo, sha)
    diffs = [d for d in parse_diff(patch) if d.path != "/dev/null" and is_relevant(d.path)]
    if not diffs:
        return None
    changes: list[tuple[str, str]] = []
    addresses: list[str] = []
    names: list[str] = []
    ids: list[str] = []
    for diff in diffs:
        changes += [(diff.path, c) for c in setting_changes(diff)]
        ids += [m.group(1) for _, text in diff.added for m in AWS_ID.finditer(text)]
        if diff.path.endswith(IAC_SUFFIXES) and diff.added:
            content = run_git(repo, "show", f"{sha}:{diff.path}")
            found_addr, found_names = tf_resources(content, [n for n, _ in diff.added])
            addresses += [a for a in found_addr if a not in addresses]
            names += [n for n in found_names if n not in names]
            changes += [(diff.path, f"new {a}") for a in found_addr if _added_block(diff, a)]
    return _to_item(commit, diffs, changes, addresses, names, ids)


def _added_block(diff: FileDiff, address: str) -> bool:
    kind, _, label = address.partition(".")
    return any(f'"{kind}"' in text and f'"{label}"' in text and TF_BLOCK.match(text) for _, text in diff.added)


def _to_item(
    commit: _Commit,
    diffs: list[FileDiff],
    changes: list[tuple[str, str]],
    addresses: list[str],
    names: list[str],
    ids: list[str],
) -> EvidenceItem:
    short = commit.sha[:7]
    changes = sorted(changes, key=lambda pc: not pc[0].endswith(IAC_SUFFIXES))  # IaC first, stable
    where = changes[0][0] if changes else diffs[0].path
    shown = [c for p, c in changes if p == where][:4]
    others = len({d.path for d in diffs}) - 1
    summary = f"{short} '{clip(commit.subject, 80)}' in {where}"
    if shown:
        summary += ": " + ", ".join(shown)
    if others > 0:
        summary += f" (+{others} file{'s' if others > 1 else ''})"
    labels = [a.split(".", 1)[1] for a in addresses if "." in a]
    details = {
        "files": ", ".join(d.path for d in diffs)[:1000],
        "changes": "; ".join(f"{p}: {c}" for p, c in changes)[:1000],
        "terraform": ", ".join(addresses)[:1000],
        "author_date": commit.authored.strip(),
        "body": commit.body[:500],
    }
    return EvidenceItem(
        source="git", ref=commit.sha, time=commit.committed, actor=commit.email or commit.author or None,
        action=commit.subject or "(no subject)", resource_ids=ids, resource_names=names + labels,
        service_hint=next((s for s in map(service_of, addresses) if s), None), summary=summary,
        details={k: v for k, v in details.items() if v},
    )  # fmt: skip


def commits_in_window(
    repo: Path, start: datetime, end: datetime, *, max_commits: int = MAX_COMMITS
) -> tuple[list[EvidenceItem], SourceStatus]:
    """Commits (by committer date, all branches' reachable history from HEAD) in ``[start, end]``."""
    start, end = as_utc(start), as_utc(end)
    if not (repo / ".git").exists() and not (repo / "HEAD").exists():
        return [], SourceStatus(source="git", complete=False, message=f"{repo} is not a git repository")
    try:
        listing = run_git(
            repo, "log", "--format=%H", f"--since={start.isoformat()}", f"--until={end.isoformat()}",
            f"--max-count={max_commits + 1}", "HEAD", "--",
        )  # fmt: skip
        shas = [s for s in listing.split() if SHA.match(s)]
        items = [item for sha in shas[:max_commits] if (item := commit_item(repo, sha)) is not None]
    except GitFailed as exc:
        return [], SourceStatus(source="git", complete=False, message=str(exc))
    complete = len(shas) <= max_commits
    message = f"{min(len(shas), max_commits)} commits in window, {len(items)} touch IaC/app files"
    if not complete:
        message += f"; stopped at {max_commits} commits"
    items.sort(key=lambda i: i.time)
    return items, SourceStatus(source="git", complete=complete, pages=1, events=len(items), message=message)
