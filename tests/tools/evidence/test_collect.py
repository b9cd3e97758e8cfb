"""collect(): every configured source in one report, sorted by time, one status per source."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.support.cloudtrail_server import asg_update, write_log
from tests.support.github_server import GitHubState, commit_doc, github_server
from tests.tools.evidence.test_git import ASG_V1, Repo
from tools.context import ToolContext
from tools.evidence import EvidenceItem, collect

START = datetime(2026, 11, 2, tzinfo=UTC)
END = datetime(2026, 11, 4, tzinfo=UTC)


def test_sources_from_the_context_are_merged_in_time_order(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    write_log(trail, [asg_update("2026-11-03T10:02:11Z")])
    repo = Repo(tmp_path / "repo")
    repo.commit({"infra/asg.tf": ASG_V1}, "init", "2026-10-01T00:00:00+00:00")
    sha = repo.commit({"infra/asg.tf": ASG_V1.replace("= 2\n", "= 20\n", 1)}, "scale", "2026-11-03T09:00:00+00:00")
    ctx = ToolContext(home=tmp_path / "home", cloudtrail_dir=trail, git_repo=repo.path)
    report = collect(ctx, START, END)
    assert [(i.source, i.ref == sha) for i in report.items] == [("git", True), ("cloudtrail", False)]
    assert [s.source for s in report.statuses] == ["cloudtrail-files", "git"]
    assert report.complete


def test_a_failing_source_is_reported_while_the_others_still_answer(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    write_log(trail, [asg_update()])
    state = GitHubState(commits=[commit_doc("d" * 40, "2026-11-03T08:00:00Z", "bump", [{"filename": "x.tf"}])])
    ctx = ToolContext(home=tmp_path / "home")
    with github_server(state) as url:
        report = collect(
            ctx, START, END, cloudtrail_dir=trail, git_repo=tmp_path / "no-repo", github_repo="acme/infra",
            github_base_url=url,
        )  # fmt: skip
    by_source = {s.source: s for s in report.statuses}
    assert by_source["cloudtrail-files"].complete and by_source["github"].complete
    assert not by_source["git"].complete and "not a git repository" in by_source["git"].message
    assert not report.complete
    assert {i.source for i in report.items} == {"cloudtrail", "github"}


def test_accounts_limit_cloudtrail_evidence(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    write_log(trail, [asg_update()])
    write_log(trail, [asg_update(account="999988887777")], account="999988887777")
    report = collect(ToolContext(home=tmp_path), START, END, cloudtrail_dir=trail, accounts=["999988887777"])
    assert [i.account_id for i in report.items] == ["999988887777"]


def test_items_are_plain_data_that_round_trip_through_json(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    write_log(trail, [asg_update()])
    report = collect(ToolContext(home=tmp_path), START, END, cloudtrail_dir=trail)
    again = EvidenceItem.model_validate_json(report.items[0].model_dump_json())
    assert again == report.items[0] and again.time.tzinfo is not None
