"""The demo org's infra repo: a real git repository (Terraform + app config) built with git fast-import.

History is deterministic: authors, dates and contents come from the inventory and the seed, so the
same spec gives the same commit shas. Incident commits and decoys are recorded for the manifest.
"""

from __future__ import annotations

import os
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from tools.billing.demo import terraform as tf
from tools.billing.demo.catalogue import DOMAIN, FULL_NAMES, TEAMS, prng
from tools.billing.demo.model import Resource
from tools.billing.demo.org import Org
from tools.billing.demo.spec import EU_LAUNCH, EVIDENCE_START
from tools.errors import FinopsError

Change = str | tuple[object, ...]


@dataclass
class Commit:
    when: datetime
    author: str  # person key
    message: str
    files: dict[str, Change]  # path -> full new content, or an edit of the current content
    tag: str | None = None  # incident/decoy marker for the manifest
    sha: str = ""


@dataclass
class RepoHistory:
    commits: list[Commit] = field(default_factory=list)

    def tagged(self) -> dict[str, Commit]:
        return {c.tag: c for c in self.commits if c.tag}


class _Plan:
    def __init__(self, org: Org) -> None:
        self.org = org
        self.seed = org.spec.seed
        self.commits: list[Commit] = []
        self.last = org.spec.last_day

    def add(self, when: datetime, author: str, message: str, files: dict[str, Change], tag: str | None = None) -> None:
        if when.date() <= self.last:
            self.commits.append(Commit(when, author, message, files, tag))


def _iac_groups(org: Org) -> dict[str, list[Resource]]:
    groups: dict[str, list[Resource]] = defaultdict(list)
    for res in org.resources:
        if res.iac_path and res.iac_path.endswith(("main.tf", "sagemaker.tf", "bedrock.tf", "nat.tf")):
            groups[res.iac_path].append(res)
    return groups


def _author_for(team: str) -> str:
    return TEAMS[team].lead


def plan_history(org: Org) -> list[Commit]:
    """Every commit, in time order (content snapshots are taken when the stream is written)."""
    p = _Plan(org)
    start = datetime.combine(EVIDENCE_START, time(9, 12))
    p.add(
        start,
        "bob",
        "Initial infrastructure repository layout",
        {
            "README.md": "# acme infra\n\nTerraform for every team and the config of our services.\n"
            "Merges to main are applied by the deploy workflow.\n",
            "CODEOWNERS": tf.codeowners(),
            ".github/workflows/deploy.yml": _WORKFLOW,
        },
    )
    _terraform_commits(p)
    _asg_commits(p)
    _app_commits(p)
    _incident_commits(p)
    p.commits.sort(key=lambda c: c.when)
    return p.commits


def _terraform_commits(p: _Plan) -> None:
    """A commit adding resources to a file shortly before Terraform created them."""
    for path, resources in sorted(_iac_groups(p.org).items()):
        by_day: dict[date, list[Resource]] = defaultdict(list)
        for res in resources:
            by_day[res.created.date()].append(res)
        have: list[Resource] = []
        team = resources[0].team
        app = path.split("/")[-2]
        for day in sorted(by_day):
            batch = by_day[day]
            have = have + batch
            when = min(r.created for r in batch) - timedelta(minutes=14)
            names = ", ".join(r.name for r in batch[:3]) + (" …" if len(batch) > 3 else "")
            verb = "Launch" if day == EU_LAUNCH else "Add"
            msg = f"{app}: {verb.lower()} {len(batch)} resource(s): {names}"
            content = tf.render_file(sorted(have, key=lambda r: r.name), f"{team} / {app}")
            p.add(when, _author_for(team), msg[:1].upper() + msg[1:], {path: content})


def _asg_commits(p: _Plan) -> None:
    for name, team, app, itype, mn, mx in (
        ("web-prod", "storefront", "web", "m5.2xlarge", 2, 40),
        ("web-staging", "storefront", "web", "m5.large", 1, 4),
    ):
        path = (
            f"terraform/teams/{team}/{app}/asg.tf"
            if name == "web-prod"
            else f"terraform/teams/{team}/{app}/asg_staging.tf"
        )
        first = min(
            (r.created for r in p.org.resources if r.create_params.get("autoScalingGroupName") == name),
            default=datetime.combine(EVIDENCE_START + timedelta(days=3), time(10)),
        )
        p.add(
            first - timedelta(minutes=20),
            "alice",
            f"{app}: add Auto Scaling group {name}",
            {path: tf.asg_file(name, team, app, itype, mn, mx)},
        )


def _app_commits(p: _Plan) -> None:
    """Routine deploy commits (image bumps) every ~3-4 weeks per app."""
    for app, team in tf.APP_OWNERS.items():
        r = prng(p.seed, "app-commits", app)
        day = EVIDENCE_START + timedelta(days=r.randrange(1, 20))
        version = [1, r.randrange(0, 9), 0]
        while day <= p.last:
            if day.weekday() < 5:
                version[2] += 1
                v = ".".join(map(str, version))
                when = datetime.combine(day, time(r.randrange(9, 18), r.randrange(0, 60), r.randrange(0, 60)))
                p.add(when, _author_for(team), f"{app}: release v{v}", {f"apps/{app}/config.yaml": ("version", v)})
            day += timedelta(days=r.randrange(18, 32))


def _incident_commits(p: _Plan) -> None:
    inc = {i.kind: i for i in p.org.spec.incident_list}
    asg_path = "terraform/teams/storefront/web/asg.tf"
    if "asg_min_size" in inc:
        i = inc["asg_min_size"]
        at = i.at - timedelta(minutes=21)
        p.add(
            at,
            "alice",
            "Scale web-prod for the summer launch\n\nRaise min_size so we never drop below the launch baseline.",
            {asg_path: ("asg", int(i.size))},
            tag="asg_min_size",
        )
        p.add(
            at + timedelta(minutes=48),
            "frank",
            "search-api: bump opensearch client timeout",
            {"apps/search-api/config.yaml": ("set", "request_timeout_ms", "2500")},
            tag="decoy:asg_min_size",
        )
        if i.end is not None:
            p.add(
                datetime.combine(i.end + timedelta(days=1), time(9, 3)),
                "bob",
                "Revert web-prod min_size to 2\n\nThe launch is over; min 20 cost ~$150/day.",
                {asg_path: ("asg", 2)},
                tag="asg_min_size:revert",
            )
    if "agent_loop" in inc:
        i = inc["agent_loop"]
        cfg = "apps/support-assistant/config.yaml"
        p.add(
            i.at,
            "dave",
            "support-assistant: allow longer tool loops for complex tickets",
            {cfg: ("set2", "max_agent_iterations", "80", "retry_on_tool_error", "true")},
            tag="agent_loop",
        )
        p.add(
            i.at - timedelta(days=1, hours=2),
            "frank",
            "search-summaries: tighten the summary prompt",
            {"apps/search-api/prompts/summary.md": "Summarise the top results in two sentences.\n"},
            tag="decoy:agent_loop",
        )
        p.add(
            i.at + timedelta(days=2, hours=1),
            "dave",
            "support-assistant: friendlier greeting",
            {
                "apps/support-assistant/prompts/system.md": "You are Acme's support assistant. Greet the customer "
                "by name, be concise and cite the help-centre article you used.\n"
            },
            tag="decoy:agent_loop:2",
        )
        if i.end is not None:
            p.add(
                datetime.combine(i.end + timedelta(days=1), time(8, 40)),
                "dave",
                "support-assistant: cap tool loop at 10 iterations, no blind retries",
                {cfg: ("set2", "max_agent_iterations", "10", "retry_on_tool_error", "false")},
                tag="agent_loop:fix",
            )
    if "nat_egress" in inc:
        i = inc["nat_egress"]
        cfg = "apps/search-indexer/config.yaml"
        p.add(
            i.at,
            "frank",
            "search-indexer: fetch embeddings from the vendor API instead of the S3 mirror",
            {cfg: ("set", "embedding_source", "https://api.embeddings-vendor.example/v2/batch")},
            tag="nat_egress",
        )
        p.add(
            i.at - timedelta(hours=3),
            "grace",
            "etl: raise log level to debug for the nightly job",
            {"apps/etl/config.yaml": ("set", "log_level", "debug")},
            tag="decoy:nat_egress",
        )
        if i.end is not None:
            p.add(
                datetime.combine(i.end + timedelta(days=1), time(10, 15)),
                "bob",
                "network: add S3 gateway endpoint + cache vendor embeddings in S3",
                {cfg: ("set", "embedding_source", "s3://acme-search-indexer-prod-snapshots/embeddings/")},
                tag="nat_egress:fix",
            )
    if "rds_resize" in inc:
        i = inc["rds_resize"]
        path = "terraform/teams/payments/ledger/main.tf"
        p.add(
            i.at + timedelta(days=2, hours=3),
            "erin",
            "ledger: codify db.r6g.8xlarge after the month-end load incident",
            {path: ("replace", "db.r6g.2xlarge", "db.r6g.8xlarge")},
            tag="rds_resize",
        )
    if "gpu_endpoint" in inc:
        i = inc["gpu_endpoint"]
        p.add(
            i.at - timedelta(hours=2),
            "carol",
            "ml: notebook for the LLM re-ranking experiment",
            {
                "ml/notebooks/llm_rerank_experiment.md": "Deploy a g5.12xlarge endpoint from the notebook, "
                "run the offline eval, then delete it.\n"
            },
            tag="decoy:gpu_endpoint",
        )


def _apply(state: dict[str, str], path: str, change: Change) -> str:
    """A change is full text, or an edit applied to the current text (keeps history realistic)."""
    if isinstance(change, str):
        return change
    app = path.split("/")[1] if path.startswith("apps/") else ""
    current = state.get(path) or (tf.app_config(app, "1.0.0") if app else "")
    op = change[0]
    if op == "version":
        return _set(current, "image", f"ghcr.io/acme/{app}:{change[1]}")
    if op == "set":
        return _set(current, str(change[1]), str(change[2]))
    if op == "set2":
        return _set(_set(current, str(change[1]), str(change[2])), str(change[3]), str(change[4]))
    if op == "asg":
        return _replace_line(current, "min_size", f"  min_size            = {change[1]}")
    if op == "replace":
        return current.replace(str(change[1]), str(change[2]))
    raise ValueError(op)


def _set(text: str, key: str, value: str) -> str:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"{key}:"):
            lines[i] = f"{key}: {value}"
            return "\n".join(lines) + "\n"
    return text + f"{key}: {value}\n"


def _replace_line(text: str, key: str, new: str) -> str:
    return "\n".join(new if line.strip().startswith(key) else line for line in text.splitlines()) + "\n"


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def fast_import_stream(commits: list[Commit]) -> bytes:
    state: dict[str, str] = {}
    out = bytearray()
    for n, c in enumerate(commits, start=1):
        stamp = int((c.when - datetime(1970, 1, 1)).total_seconds())
        who = f"{FULL_NAMES[c.author]} <{c.author}@{DOMAIN}> {stamp} +0000"
        out += b"commit refs/heads/main\nmark :%d\n" % n
        out += f"author {who}\ncommitter {who}\n".encode()
        out += _data(c.message + "\n")
        for path, change in c.files.items():
            state[path] = _apply(state, path, change)
            out += f"M 100644 inline {path}\n".encode() + _data(state[path])
        out += b"\n"
    return bytes(out)


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0"})
    return env


def build_repo(org: Org, path: Path) -> RepoHistory:
    """Create ``path`` as a git repo holding the whole history; returns commits with their shas."""
    commits = plan_history(org)
    path.mkdir(parents=True, exist_ok=True)
    env = git_env()
    marks = path.parent / ".infra-repo.marks"

    def git(*args: str, data: bytes | None = None) -> None:
        try:
            proc = subprocess.run(["git", *args], cwd=path, env=env, input=data, capture_output=True)
        except FileNotFoundError:
            raise FinopsError("git is not installed: the demo's infra repo needs `git` on PATH") from None
        if proc.returncode != 0:
            raise FinopsError(f"git {args[0]} failed in {path}: {proc.stderr.decode(errors='replace').strip()[:200]}")

    git("init", "-q", "-b", "main")
    git("fast-import", "--quiet", f"--export-marks={marks}", data=fast_import_stream(commits))
    git("checkout", "-q", "-f", "main")
    for line in marks.read_text().splitlines():
        mark, sha = line.split()
        commits[int(mark[1:]) - 1].sha = sha
    marks.unlink()
    return RepoHistory(commits)


_WORKFLOW = """name: deploy
on:
  push:
    branches: [main]
jobs:
  terraform:
    runs-on: ubuntu-latest
    permissions: {id-token: write, contents: read}
    steps:
      - uses: actions/checkout@v4
      - uses: hashicorp/setup-terraform@v3
      - run: terraform -chdir=terraform init && terraform -chdir=terraform apply -auto-approve
  deploy-apps:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: ./scripts/deploy-changed-apps.sh ${{ github.sha }}
"""
