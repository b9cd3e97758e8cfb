"""GitHub REST evidence against a local API stub on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.github_server import GitHubState, commit_doc, github_server
from tools.context import ToolContext
from tools.evidence.github import collect_github

START = datetime(2026, 11, 2, tzinfo=UTC)
END = datetime(2026, 11, 4, tzinfo=UTC)
TOKEN = "ghp_TESTONLYsecretTokenValue123"
ASG_PATCH = (
    '@@ -1,5 +1,5 @@ resource "aws_autoscaling_group" "web_prod" {\n'
    '   name             = "web-prod"\n'
    "-  min_size         = 2\n"
    "+  min_size         = 20\n"
    "   max_size         = 40\n"
)


def _state() -> GitHubState:
    sha = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
    return GitHubState(
        commits=[
            commit_doc(sha, "2026-11-03T10:00:00Z", "scale for launch\n\nbody",
                       files=[{"filename": "infra/asg.tf", "status": "modified", "patch": ASG_PATCH}]),
            commit_doc("b" * 40, "2026-11-03T11:00:00Z", "docs", files=[{"filename": "README.md", "patch": "+x"}]),
            commit_doc("c" * 40, "2026-10-20T11:00:00Z", "old", files=[{"filename": "main.tf", "patch": "+x"}]),
        ],
        pulls=[
            {"number": 12, "title": "Scale web for launch", "html_url": "https://github.com/acme/infra/pull/12",
             "merged_at": "2026-11-03T09:58:00Z", "updated_at": "2026-11-03T09:58:00Z", "user": {"login": "alice"},
             "merged_by": {"login": "bob"}, "merge_commit_sha": sha, "labels": [{"name": "infra"}], "body": "x"},
            {"number": 13, "title": "closed unmerged", "html_url": "https://github.com/acme/infra/pull/13",
             "merged_at": None, "updated_at": "2026-11-03T08:00:00Z", "user": {"login": "eve"}},
            {"number": 9, "title": "older", "html_url": "https://github.com/acme/infra/pull/9",
             "merged_at": "2026-10-01T08:00:00Z", "updated_at": "2026-10-01T08:00:00Z", "user": {"login": "eve"}},
        ],
        deployments=[
            {"id": 7, "url": "http://x/repos/acme/infra/deployments/7", "sha": sha, "ref": "main",
             "environment": "production", "created_at": "2026-11-03T10:05:00Z", "creator": {"login": "deploybot"}},
        ],
        runs=[
            {"id": 1, "name": "Terraform apply", "path": ".github/workflows/apply.yml", "head_sha": sha,
             "head_branch": "main", "event": "push", "conclusion": "success", "html_url": "https://github.com/r/1",
             "created_at": "2026-11-03T10:01:00Z", "run_started_at": "2026-11-03T10:01:00Z",
             "actor": {"login": "alice"}},
            {"id": 2, "name": "Unit tests", "path": ".github/workflows/ci.yml", "head_sha": sha,
             "head_branch": "main", "event": "push", "conclusion": "success", "html_url": "https://github.com/r/2",
             "created_at": "2026-11-03T10:01:00Z", "run_started_at": "2026-11-03T10:01:00Z"},
        ],
    )  # fmt: skip


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(home=tmp_path / "home")


def test_commits_prs_deployments_and_deploy_runs_in_the_window(ctx: ToolContext) -> None:
    state = _state()
    with github_server(state) as url:
        items, status = collect_github(ctx, "acme/infra", START, END, base_url=url)
    assert status.complete, status.message
    by_kind = {i.summary.split(" ")[0]: i for i in items}
    commit = next(i for i in items if i.details.get("sha", "").startswith("a1b2c3d") and "files" in i.details)
    assert commit.summary == "a1b2c3d 'scale for launch' in infra/asg.tf: min_size 2 -> 20"
    assert commit.resource_names == ["web_prod"] and commit.service_hint == "autoscaling"
    assert commit.ref == "https://github.com/acme/infra/commit/a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
    assert by_kind["PR"].summary == "PR #12 'Scale web for launch' merged by bob"
    assert by_kind["PR"].ref == "https://github.com/acme/infra/pull/12"
    assert by_kind["deployment"].summary == "deployment of a1b2c3d (main) to production by deploybot"
    assert by_kind["workflow"].summary == "workflow 'Terraform apply' on main (a1b2c3d) success by alice"
    assert len(items) == 4  # docs-only commit, old commit, unmerged/old PRs and the CI run are left out
    assert [r["headers"].get("x-github-api-version") for r in state.requests] == ["2022-11-28"] * len(state.requests)


def test_second_run_revalidates_with_etags_and_gets_the_same_answer(ctx: ToolContext) -> None:
    state = _state()
    with github_server(state) as url:
        first, _ = collect_github(ctx, "acme/infra", START, END, base_url=url, token=TOKEN)
        used = 5000 - state.remaining
        state.requests.clear()
        second, status = collect_github(ctx, "acme/infra", START, END, base_url=url, token=TOKEN)
    assert [i.model_dump() for i in second] == [i.model_dump() for i in first]
    assert all("if-none-match" in r["headers"] for r in state.requests)
    assert f"({len(state.requests)} not modified)" in status.message
    assert 5000 - state.remaining == used  # authorized 304s cost nothing
    cached = list((ctx.home / "cache" / "github").glob("*.json"))
    assert cached and not any(TOKEN in p.read_text() for p in cached)


def test_pagination_follows_link_headers(ctx: ToolContext) -> None:
    state = GitHubState(
        commits=[
            commit_doc(
                f"{i:040x}",
                f"2026-11-03T{i // 60:02d}:{i % 60:02d}:00Z",
                f"c{i}",
                files=[{"filename": "app/x.py", "patch": f"@@ -1 +1 @@\n-workers = {i}\n+workers = {i + 1}"}],
            )
            for i in range(150)
        ]
    )
    with github_server(state) as url:
        items, status = collect_github(ctx, "acme/infra", START, END, base_url=url)
    listing = [r for r in state.requests if r["path"] == "/repos/acme/infra/commits"]
    assert len(listing) == 2 and listing[1]["query"]["page"] == ["2"]
    assert len(items) == 150 and not status.complete  # files only for the first 30 commits
    assert "files read for the first 30 of 150 commits" in status.message


def test_the_rate_limit_stops_early_and_says_when_it_resets(ctx: ToolContext) -> None:
    state = _state()
    state.remaining = 3
    with github_server(state) as url:
        _, status = collect_github(ctx, "acme/infra", START, END, base_url=url)
    assert not status.complete
    assert "rate limit reached" in status.message and "resets at" in status.message
    assert "GITHUB_TOKEN" in status.message
    assert len(state.requests) == 2  # stopped with one request in reserve, never hit the 403


def test_the_token_goes_only_to_the_api_host_and_never_into_results(ctx: ToolContext) -> None:
    state = _state()
    state.pulls = [dict(p, updated_at="2026-11-03T12:00:00Z") for p in state.pulls for _ in range(40)]
    state.next_host = "http://127.0.0.2:9"
    with github_server(state) as url:
        items, status = collect_github(ctx, "acme/infra", START, END, base_url=url, token=TOKEN)
    assert state.requests[0]["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert "another host" in status.message and not status.complete
    dumped = status.model_dump_json() + "".join(i.model_dump_json() for i in items)
    assert TOKEN not in dumped


def test_an_unknown_repo_is_reported_with_a_hint(ctx: ToolContext) -> None:
    with github_server(_state()) as url:
        items, status = collect_github(ctx, "acme/missing", START, END, base_url=url)
    assert items == [] and not status.complete
    assert "not found" in status.message and "GITHUB_TOKEN" in status.message


def test_a_plain_http_api_off_loopback_is_refused(ctx: ToolContext) -> None:
    items, status = collect_github(ctx, "acme/infra", START, END, base_url="http://github.example.com", token=TOKEN)
    assert items == [] and "https://" in status.message


def test_a_malformed_repo_name_is_refused_before_any_request(ctx: ToolContext) -> None:
    items, status = collect_github(ctx, "../../etc", START, END, base_url="http://127.0.0.1:9")
    assert items == [] and "OWNER/REPO" in status.message
