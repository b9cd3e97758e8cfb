"""GitHub REST evidence: commits (with changed files), merged PRs, deployments and deploy-like workflow runs.

Stdlib ``urllib`` only. The token is optional (public repos work unauthenticated at 60 requests/hour),
sent only to the configured API host, and never written to results, errors or the cache. Responses
are cached with their ETag under ``ctx.home/cache/github/`` and revalidated with ``If-None-Match``
(a 304 costs no rate limit when authorized). When ``X-RateLimit-Remaining`` runs out the collector
stops early and reports the source incomplete, with the reset time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from tools.evidence import EvidenceItem, SourceStatus, as_utc, clip
from tools.evidence.git import (
    IAC_SUFFIXES,
    TF_BLOCK,
    FileDiff,
    is_relevant,
    parse_diff,
    service_of,
    setting_changes,
)

if TYPE_CHECKING:
    from tools.context import ToolContext

API = "https://api.github.com"
API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 10
MAX_COMMIT_DETAILS = 30
RATE_RESERVE = 1
DEPLOY_WORDS = ("deploy", "release", "terraform", "apply", "infra", "cd", "rollout", "provision")
REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")


class RateLimited(Exception):
    """The rate limit is (nearly) used up; ``reset`` is the epoch second it refills."""

    def __init__(self, reset: int | None) -> None:
        super().__init__("rate limited")
        self.reset = reset


class ApiFailed(Exception):
    """An HTTP error other than the rate limit, with a one-line message (no token, no query)."""


@dataclass
class GitHubClient:
    """A small REST client: auth header, API version, ETag cache, pagination, rate-limit stop."""

    base_url: str
    token: str | None
    cache_dir: Path
    timeout: float = 15.0
    requests: int = 0
    not_modified: int = 0
    remaining: int | None = None
    reset: int | None = None
    notes: list[str] = field(default_factory=list)

    def get(self, path: str, params: dict[str, str | int] | None = None) -> tuple[Any, str | None]:
        """GET ``path`` (or a full ``next`` URL on the API host); returns (JSON, next page URL)."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        if not self._same_host(url):
            raise ApiFailed("GitHub pagination pointed to another host: refused")
        if self.remaining is not None and self.remaining <= RATE_RESERVE:
            raise RateLimited(self.reset)
        cached = self._cache_read(url)
        request = urllib.request.Request(url, headers=self._headers(cached))  # noqa: S310 (host checked)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310
                self._rate(resp.headers)
                body = resp.read()
                doc = json.loads(body or b"null")
                self._cache_write(url, resp.headers.get("ETag"), doc, _next_link(resp.headers.get("Link")))
                return doc, _next_link(resp.headers.get("Link"))
        except urllib.error.HTTPError as exc:
            self._rate(exc.headers)
            if exc.code == 304 and cached is not None:
                self.not_modified += 1
                return cached["body"], cached.get("next")
            if exc.code in (403, 429) and (self.remaining == 0 or exc.headers.get("Retry-After")):
                raise RateLimited(self.reset) from None
            raise ApiFailed(_http_message(exc.code, bool(self.token))) from None
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise ApiFailed(f"GitHub API unreachable ({type(exc).__name__})") from None
        finally:
            self.requests += 1

    def _same_host(self, url: str) -> bool:
        base, other = urlsplit(self.base_url), urlsplit(url)
        return (base.scheme, base.netloc) == (other.scheme, other.netloc)

    def _headers(self, cached: dict[str, Any] | None) -> dict[str, str]:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "finops-agent",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if cached and cached.get("etag"):
            headers["If-None-Match"] = str(cached["etag"])
        return headers

    def _rate(self, headers: Any) -> None:
        if headers is None:
            return
        remaining, reset = headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Reset")
        if remaining is not None and str(remaining).isdigit():
            self.remaining = int(remaining)
        if reset is not None and str(reset).isdigit():
            self.reset = int(reset)

    def _cache_path(self, url: str) -> Path:
        scope = "auth" if self.token else "anon"
        return self.cache_dir / (hashlib.sha256(f"{scope} {url}".encode()).hexdigest()[:32] + ".json")

    def _cache_read(self, url: str) -> dict[str, Any] | None:
        path = self._cache_path(url)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) and "body" in doc else None

    def _cache_write(self, url: str, etag: str | None, body: Any, next_url: str | None) -> None:
        if not etag:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"etag": etag, "body": body, "next": next_url}, handle)
        os.replace(tmp, self._cache_path(url))


def _next_link(header: str | None) -> str | None:
    for part in (header or "").split(","):
        if 'rel="next"' in part and "<" in part and ">" in part:
            return part[part.index("<") + 1 : part.index(">")]
    return None


def _http_message(code: int, authed: bool) -> str:
    if code == 401:
        return "GitHub rejected the token (HTTP 401): check GITHUB_TOKEN"
    if code == 404:
        hint = "" if authed else " (a private repo needs GITHUB_TOKEN)"
        return f"GitHub repository not found (HTTP 404){hint}"
    if code == 403:
        return (
            "GitHub refused access (HTTP 403): the token needs read access to contents, pulls, deployments and actions"
        )
    return f"GitHub API error (HTTP {code})"


def _iso(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def _login(obj: Any) -> str | None:
    return str(obj["login"]) if isinstance(obj, dict) and obj.get("login") else None


# ---------------------------------------------------------------- the four collectors


@dataclass
class _Run:
    client: GitHubClient
    repo: str
    start: datetime
    end: datetime
    items: list[EvidenceItem] = field(default_factory=list)
    pages: int = 0

    def pages_of(self, path: str, params: dict[str, str | int]) -> Any:
        """Yield each page's JSON, following ``Link: rel=next`` up to MAX_PAGES."""
        doc, next_url = self.client.get(path, params)
        self.pages += 1
        yield doc
        for _ in range(MAX_PAGES - 1):
            if not next_url:
                return
            doc, next_url = self.client.get(next_url)
            self.pages += 1
            yield doc
        if next_url:
            self.client.notes.append(f"stopped after {MAX_PAGES} pages of {path.rsplit('/', 1)[-1]}")


def _commits(run: _Run) -> None:
    base = f"/repos/{run.repo}/commits"
    params: dict[str, str | int] = {"since": _iso(run.start), "until": _iso(run.end), "per_page": PER_PAGE}
    shas: list[dict[str, Any]] = []
    for page in run.pages_of(base, params):
        shas += [c for c in page if isinstance(c, dict) and c.get("sha")]
    for index, summary in enumerate(shas):
        detail = summary
        if index < MAX_COMMIT_DETAILS:
            detail, _ = run.client.get(f"{base}/{summary['sha']}")
        elif index == MAX_COMMIT_DETAILS:
            run.client.notes.append(f"files read for the first {MAX_COMMIT_DETAILS} of {len(shas)} commits")
        item = commit_item(detail)
        if item is not None:
            run.items.append(item)


def commit_item(doc: dict[str, Any]) -> EvidenceItem | None:
    """A GitHub commit (with ``files`` when fetched) as evidence; None if only docs changed."""
    commit = doc.get("commit") or {}
    when = _time((commit.get("committer") or {}).get("date")) or _time((commit.get("author") or {}).get("date"))
    if when is None:
        return None
    files = [f for f in doc.get("files") or [] if isinstance(f, dict) and f.get("filename")]
    relevant = [f for f in files if is_relevant(str(f["filename"]))]
    if files and not relevant:
        return None
    diffs = [_file_diff(f) for f in relevant]
    changes = [(d.path, c) for d in diffs for c in setting_changes(d)]
    changes.sort(key=lambda pc: not pc[0].endswith(IAC_SUFFIXES))
    addresses = [a for d in diffs for a in _addresses(d)]
    sha = str(doc.get("sha", ""))
    subject = str(commit.get("message") or "").split("\n", 1)[0]
    where = changes[0][0] if changes else (relevant[0]["filename"] if relevant else "")
    summary = f"{sha[:7]} '{clip(subject, 80)}'" + (f" in {where}" if where else "")
    shown = [c for p, c in changes if p == where][:4]
    if shown:
        summary += ": " + ", ".join(shown)
    author = commit.get("author") or {}
    return EvidenceItem(
        source="github",
        ref=str(doc.get("html_url") or sha),
        time=when,
        actor=_login(doc.get("author")) or author.get("email") or author.get("name"),
        action=subject or "(no subject)",
        resource_names=[a.split(".", 1)[1] for a in addresses if "." in a],
        service_hint=next((s for s in map(service_of, addresses) if s), None),
        summary=summary,
        details={
            "sha": sha,
            "files": ", ".join(str(f["filename"]) for f in relevant)[:1000],
            "changes": "; ".join(f"{p}: {c}" for p, c in changes)[:1000],
            "terraform": ", ".join(dict.fromkeys(addresses))[:1000],
        },
    )


def _file_diff(entry: dict[str, Any]) -> FileDiff:
    path = str(entry["filename"])
    parsed = parse_diff(f"+++ b/{path}\n{entry.get('patch') or ''}")
    return parsed[0] if parsed else FileDiff(path)


def _addresses(diff: FileDiff) -> list[str]:
    found = []
    for text in [*diff.contexts, *(t for _, t in diff.added)]:
        match = TF_BLOCK.match(text)
        if match:
            kind, first, second = match.groups()
            found.append(f"{first}.{second}" if second else f"{kind}.{first}")
    return found


def _pulls(run: _Run) -> None:
    params: dict[str, str | int] = {"state": "closed", "sort": "updated", "direction": "desc", "per_page": PER_PAGE}
    for page in run.pages_of(f"/repos/{run.repo}/pulls", params):
        for pr in page:
            merged = _time(pr.get("merged_at"))
            if merged is not None and run.start <= merged <= run.end:
                run.items.append(_pr_item(pr, merged))
        updated = [_time(pr.get("updated_at")) for pr in page]
        if not page or all(u is not None and u < run.start for u in updated):
            return


def _pr_item(pr: dict[str, Any], merged: datetime) -> EvidenceItem:
    number, title, login = pr.get("number"), str(pr.get("title") or ""), _login(pr.get("user"))
    merger = _login(pr.get("merged_by"))
    return EvidenceItem(
        source="github",
        ref=str(pr.get("html_url") or f"PR #{number}"),
        time=merged,
        actor=login,
        action=title or f"PR #{number}",
        summary=f"PR #{number} '{clip(title, 100)}' merged" + (f" by {merger or login}" if merger or login else ""),
        details={
            "number": str(number),
            "merge_commit_sha": str(pr.get("merge_commit_sha") or ""),
            "labels": ", ".join(str(lb.get("name")) for lb in pr.get("labels") or [] if isinstance(lb, dict)),
            "body": str(pr.get("body") or "")[:500],
        },
    )


def _deployments(run: _Run) -> None:
    for page in run.pages_of(f"/repos/{run.repo}/deployments", {"per_page": PER_PAGE}):
        for dep in page:
            created = _time(dep.get("created_at"))
            if created is not None and run.start <= created <= run.end:
                sha, env = str(dep.get("sha") or ""), str(dep.get("environment") or "")
                login = _login(dep.get("creator"))
                run.items.append(
                    EvidenceItem(
                        source="github",
                        ref=str(dep.get("url") or f"deployment {dep.get('id')}"),
                        time=created,
                        actor=login,
                        action=f"deploy {dep.get('ref') or sha[:7]} to {env}",
                        summary=f"deployment of {sha[:7]} ({clip(dep.get('ref'), 60)}) to {clip(env, 60)}"
                        + (f" by {login}" if login else ""),
                        details={"sha": sha, "environment": env, "task": str(dep.get("task") or ""),
                                 "description": str(dep.get("description") or "")[:300]},
                    )
                )  # fmt: skip
        times = [_time(d.get("created_at")) for d in page]
        if not page or all(t is not None and t < run.start for t in times):
            return


def _runs(run: _Run) -> None:
    params: dict[str, str | int] = {"created": f"{_iso(run.start)}..{_iso(run.end)}", "per_page": PER_PAGE}
    for page in run.pages_of(f"/repos/{run.repo}/actions/runs", params):
        for wf in (page or {}).get("workflow_runs", []):
            name = str(wf.get("name") or wf.get("display_title") or "")
            when = _time(wf.get("run_started_at")) or _time(wf.get("created_at"))
            words = re.split(r"[^a-z0-9]+", f"{name} {wf.get('path', '')}".lower())
            if when is None or not any(w in words for w in DEPLOY_WORDS):
                continue
            sha, login = str(wf.get("head_sha") or ""), _login(wf.get("triggering_actor") or wf.get("actor"))
            outcome = wf.get("conclusion") or wf.get("status") or ""
            run.items.append(
                EvidenceItem(
                    source="github",
                    ref=str(wf.get("html_url") or f"run {wf.get('id')}"),
                    time=when,
                    actor=login,
                    action=name,
                    summary=f"workflow '{clip(name, 80)}' on {clip(wf.get('head_branch'), 40)} ({sha[:7]}) "
                    f"{outcome}" + (f" by {login}" if login else ""),
                    details={"sha": sha, "event": str(wf.get("event") or ""), "conclusion": str(outcome)},
                )
            )


def collect_github(
    ctx: ToolContext,
    repo: str,
    start: datetime,
    end: datetime,
    *,
    token: str | None = None,
    base_url: str | None = None,
) -> tuple[list[EvidenceItem], SourceStatus]:
    """Commits, merged PRs, deployments and deploy workflow runs of ``owner/name`` in ``[start, end]``.

    ``token`` defaults to ``GITHUB_TOKEN`` from the environment; ``base_url`` to api.github.com.
    """
    if not REPO.match(repo):
        return [], SourceStatus(source="github", complete=False, message="--github expects OWNER/REPO")
    base = urlsplit(base_url or API)
    if base.scheme != "https" and not (base.scheme == "http" and base.hostname in ("127.0.0.1", "localhost")):
        return [], SourceStatus(source="github", complete=False, message="the GitHub API URL must be https://")
    token = token or os.environ.get("GITHUB_TOKEN") or None
    client = GitHubClient((base_url or API).rstrip("/"), token, ctx.home / "cache" / "github")
    run = _Run(client, repo, as_utc(start), as_utc(end))
    complete, stop = True, ""
    for step in (_commits, _pulls, _deployments, _runs):
        try:
            step(run)
        except RateLimited as exc:
            complete, stop = False, _rate_message(exc.reset, bool(token))
            break
        except ApiFailed as exc:
            complete, stop = False, str(exc)
            if "404" in stop or "401" in stop:
                break
    parts = [f"{client.requests} requests ({client.not_modified} not modified), {len(run.items)} items"]
    parts += client.notes + ([stop] if stop else [])
    run.items.sort(key=lambda i: i.time)
    status = SourceStatus(
        source="github", complete=complete and not client.notes, pages=run.pages, events=len(run.items),
        message="; ".join(parts),
    )  # fmt: skip
    return run.items, status


def _rate_message(reset: int | None, authed: bool) -> str:
    when = datetime.fromtimestamp(reset, UTC).strftime("%H:%M UTC") if reset else "later"
    hint = "" if authed else "; set GITHUB_TOKEN for 5,000 requests/hour"
    return f"GitHub rate limit reached: stopped early (resets at {when}){hint}"
