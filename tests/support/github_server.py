"""A local GitHub REST API stub on 127.0.0.1: commits, commit detail, pulls, deployments, workflow runs.

It paginates with ``Link: rel="next"``, answers ``If-None-Match`` with 304 when the ETag matches,
counts a rate limit (``X-RateLimit-Remaining``/``Reset``; a 304 with a token is free, like GitHub)
and records every request's path and headers (names lower-cased).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class GitHubState:
    repo: str = "acme/infra"
    commits: list[dict[str, Any]] = field(default_factory=list)  # full commit docs incl. files
    pulls: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    remaining: int = 5000
    reset: int = 1_900_000_000
    next_host: str | None = None  # make Link: next point at another host
    requests: list[dict[str, Any]] = field(default_factory=list)


def _paginate(items: list[Any], query: dict[str, list[str]]) -> tuple[list[Any], int | None]:
    per_page = int(query.get("per_page", ["30"])[0])
    page = int(query.get("page", ["1"])[0])
    chunk = items[(page - 1) * per_page : page * per_page]
    return chunk, (page + 1 if page * per_page < len(items) else None)


def _route(state: GitHubState, path: str, query: dict[str, list[str]]) -> tuple[int, Any, int | None]:
    prefix = f"/repos/{state.repo}/"
    if not path.startswith(prefix):
        return 404, {"message": "Not Found"}, None
    rest = path[len(prefix) :]
    if rest == "commits":
        since, until = query.get("since", [""])[0], query.get("until", ["9999"])[0]
        hits = [c for c in state.commits if since <= c["commit"]["committer"]["date"] <= until]
        hits.sort(key=lambda c: c["commit"]["committer"]["date"], reverse=True)
        page, nxt = _paginate([{k: v for k, v in c.items() if k != "files"} for c in hits], query)
        return 200, page, nxt
    if rest.startswith("commits/"):
        sha = rest.split("/", 1)[1]
        found = [c for c in state.commits if c["sha"] == sha]
        return (200, found[0], None) if found else (404, {"message": "No commit found"}, None)
    if rest == "pulls":
        ordered = sorted(state.pulls, key=lambda p: p["updated_at"], reverse=True)
        page, nxt = _paginate(ordered, query)
        return 200, page, nxt
    if rest == "deployments":
        page, nxt = _paginate(sorted(state.deployments, key=lambda d: d["created_at"], reverse=True), query)
        return 200, page, nxt
    if rest == "actions/runs":
        low, _, high = query.get("created", [".."])[0].partition("..")
        hits = [r for r in state.runs if low <= r["created_at"] <= (high or "9999")]
        page, nxt = _paginate(hits, query)
        return 200, {"total_count": len(hits), "workflow_runs": page}, nxt
    return 404, {"message": "Not Found"}, None


def _handler(state: GitHubState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            state.requests.append(
                {"path": parts.path, "query": query, "headers": {k.lower(): v for k, v in self.headers.items()}}
            )
            if state.remaining <= 0:
                self._send(403, {"message": "API rate limit exceeded"}, None)
                return
            status, doc, nxt = _route(state, parts.path, query)
            body = json.dumps(doc).encode()
            etag = '"' + hashlib.sha1(body).hexdigest() + '"'
            authed = "Authorization" in self.headers
            if status == 200 and self.headers.get("If-None-Match") == etag:
                if not authed:
                    state.remaining -= 1
                self._send(304, None, None, etag=etag)
                return
            state.remaining -= 1
            link = None
            if nxt is not None:
                host = state.next_host or f"http://{self.headers['Host']}"
                merged = {**{k: v[0] for k, v in query.items()}, "page": str(nxt)}
                link = f'<{host}{parts.path}?{"&".join(f"{k}={v}" for k, v in merged.items())}>; rel="next"'
            self._send(status, doc, link, etag=etag if status == 200 else None)

        def _send(self, status: int, doc: Any, link: str | None, etag: str | None = None) -> None:
            data = b"" if doc is None else json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-RateLimit-Remaining", str(max(state.remaining, 0)))
            self.send_header("X-RateLimit-Reset", str(state.reset))
            if etag:
                self.send_header("ETag", etag)
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def github_server(state: GitHubState) -> Iterator[str]:
    """Run the stub on an ephemeral 127.0.0.1 port; yields its base URL (use as the API base)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def commit_doc(
    sha: str, date: str, message: str, files: list[dict[str, Any]] | None = None, login: str = "alice"
) -> dict[str, Any]:
    """A commit as GET /repos/{o}/{r}/commits/{sha} returns it."""
    return {
        "sha": sha,
        "html_url": f"https://github.com/acme/infra/commit/{sha}",
        "author": {"login": login},
        "commit": {
            "message": message,
            "author": {"name": login, "email": f"{login}@example.com", "date": date},
            "committer": {"name": login, "email": f"{login}@example.com", "date": date},
        },
        "files": files or [],
    }
