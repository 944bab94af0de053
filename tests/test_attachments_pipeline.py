"""``AttachmentPipeline``: which stored attachments a crawl checks again (age, the flag, the
profile hint), with an injected clock (issue 16)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from scrapy.utils.test import get_crawler

from crawler.attachments.pipeline import AttachmentPipeline
from crawler.profiles import ProfileError, load_profile
from storage.attachments import AttachmentState, needs_fetch

NOW = datetime(2024, 6, 1, 0, 0, tzinfo=UTC)
PROFILE = 'name = "t"\nstart_urls = ["http://www.t.gov.cn/"]\n[hints]\n{hint}\n'


class StubSpider:
    def __init__(self, profile=None):
        self.profile, self.site, self.allowed_domains = profile, getattr(profile, "name", "t"), ["t.gov.cn"]


def pipeline(sqlite_url, profile=None, **settings):
    pipe = AttachmentPipeline.from_crawler(get_crawler(settings_dict={"GOVNEWS_DB_URL": sqlite_url, **settings}))
    pipe.clock = lambda: NOW
    pipe.open_spider(StubSpider(profile))
    return pipe


def stored(days_ago: float) -> AttachmentState:
    return AttachmentState(1, "http://www.t.gov.cn/a.pdf", "ok", 1, '"e"', None, 7, NOW - timedelta(days=days_ago))


def due(pipe, st) -> bool:
    return needs_fetch(st, max_attempts=pipe.max_attempts, revalidate=pipe.revalidate,
                       revalidate_before=pipe.revalidate_before())


def test_default_is_30_days(sqlite_url):
    pipe = pipeline(sqlite_url)
    assert pipe.revalidate_before() == NOW - timedelta(days=30)
    assert not due(pipe, stored(0)), "a crawl right after the first downloads nothing again"
    assert not due(pipe, stored(29.9)) and due(pipe, stored(30.1))


def test_setting_zero_never_and_the_flag_everything_now(sqlite_url):
    never = pipeline(sqlite_url, GOVNEWS_ATTACHMENT_REVALIDATE_DAYS=0)
    assert never.revalidate_before() is None and not due(never, stored(3650))
    week = pipeline(sqlite_url, GOVNEWS_ATTACHMENT_REVALIDATE_DAYS=7)
    assert due(week, stored(8)) and not due(week, stored(6))
    now = pipeline(sqlite_url, GOVNEWS_ATTACHMENT_REVALIDATE=True)
    assert now.revalidate_before() == NOW and due(now, stored(0))


def test_the_profile_hint_wins_over_the_setting(tmp_path, sqlite_url):
    path = tmp_path / "t.toml"
    path.write_text(PROFILE.format(hint="attachment_revalidate_days = 0"), encoding="utf-8")
    profile = load_profile(str(path))
    assert profile.hints.attachment_revalidate_days == 0
    pipe = pipeline(sqlite_url, profile, GOVNEWS_ATTACHMENT_REVALIDATE_DAYS=7)
    assert pipe.revalidate_before() is None
    path.write_text(PROFILE.format(hint="attachment_revalidate_days = 90"), encoding="utf-8")
    pipe = pipeline(sqlite_url, load_profile(str(path)))
    assert pipe.revalidate_before() == NOW - timedelta(days=90)


@pytest.mark.parametrize("value", ["-1", '"monthly"', "1.5"])
def test_a_bad_hint_is_refused_when_the_profile_loads(tmp_path, value):
    path = tmp_path / "t.toml"
    path.write_text(PROFILE.format(hint=f"attachment_revalidate_days = {value}"), encoding="utf-8")
    with pytest.raises(ProfileError, match="attachment_revalidate_days"):
        load_profile(str(path))
