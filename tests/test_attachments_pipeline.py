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


# ------------------------------------------------------------------------------------ check outcomes
URL = "http://www.t.gov.cn/files/a.pdf"


@pytest.fixture
def checked(sqlite_url, monkeypatch):
    """A pipeline over an archive holding one stored PDF last checked 40 days before NOW; the
    pipeline's thread hops run inline (no reactor needed)."""
    import crawler.attachments.pipeline as mod
    from storage.archive import Archive
    from storage.attachments import link, record_fetch
    from tests.support.attachsite import make_pdf

    async def inline(func, *args):
        return func(*args)

    monkeypatch.setattr(mod, "in_thread", inline)
    pipe = pipeline(sqlite_url)
    archive = Archive(sqlite_url)
    archive.ensure_site("t", "t", ["t.gov.cn"])
    aid = archive.store_article("t", "http://www.t.gov.cn/art/1.html",
                                {"title": "通知", "body": "关于印发管理办法的通知，请认真贯彻执行，确保落实。"}).article_id
    link(archive.engine, aid, "t", [{"url": URL}])
    pdf = make_pdf(["version one"])
    cid = record_fetch(archive.engine, URL, outcome="ok", data=pdf, content_type="application/pdf",
                       status=200, etag='"v1"', fetched_at=NOW - timedelta(days=40), site="t")
    pipe.text_mode = "later"
    yield pipe, archive, cid, pdf
    archive.close()


def _row(archive):
    from sqlalchemy import select

    from storage.models import Attachment, AttachmentContent
    with archive.engine.connect() as conn:
        att = conn.execute(select(Attachment)).one()
        n = len(conn.execute(select(AttachmentContent.id)).all())
    return att, n


def _response(status, body=b"", ctype="application/pdf", cid=None):
    from scrapy import Request
    from scrapy.http import Response

    from crawler.attachments.pipeline import META
    req = Request(URL, meta={META: {"name": None, "known": True, "content_id": cid}})
    return Response(URL, status=status, body=body, headers={"Content-Type": ctype}, request=req)


def test_a_check_answered_304_or_with_the_same_bytes_moves_only_the_check_time(checked):
    import asyncio

    pipe, archive, cid, pdf = checked
    asyncio.run(pipe.on_response(_response(304, cid=cid)))
    att, n = _row(archive)
    assert (att.outcome, att.content_id, att.fetched_at, n) == ("ok", cid, NOW, 1)
    asyncio.run(pipe.on_response(_response(200, pdf, cid=cid)))
    att, n = _row(archive)
    assert (att.content_id, n) == (cid, 1)
    assert pipe.crawler.stats.get_value("govnews/attachments/not_modified") == 1
    assert pipe.crawler.stats.get_value("govnews/attachments/unchanged") == 1


def test_a_changed_file_is_a_new_content_and_a_failed_check_keeps_the_file(checked):
    import asyncio

    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    from tests.support.attachsite import ERROR_PAGE, make_pdf
    pipe, archive, cid, _ = checked
    asyncio.run(pipe.on_response(_response(200, make_pdf(["version two"]), cid=cid)))
    att, n = _row(archive)
    assert att.outcome == "ok" and att.content_id != cid and n == 2, "new file, the old one kept"
    from storage.attachments import versions
    assert [(v["content_id"], v["replaced_at"]) for v in versions(archive.engine, URL)] == [(cid, NOW)]
    new_cid = att.content_id

    pipe.clock = lambda: NOW + timedelta(days=1)
    asyncio.run(pipe.on_response(_response(200, ERROR_PAGE, cid=new_cid)))      # an error page now
    response = _response(404, ERROR_PAGE, "text/html", cid=new_cid)
    failure = Failure(HttpError(response))
    failure.request = response.request
    asyncio.run(pipe.on_error(failure))
    att, n = _row(archive)
    assert (att.outcome, att.content_id, att.attempts, n) == ("ok", new_cid, 2, 2), "nothing lost"
    assert att.fetched_at == NOW + timedelta(days=1)
    stats = pipe.crawler.stats
    assert stats.get_value("govnews/attachments/changed") == 1
    assert stats.get_value("govnews/attachments/revalidate_failed/http_404") == 1
    assert stats.get_value("govnews/attachments/revalidate_failed/html_error_page") == 1


def test_spider_idle_requests_what_was_read_at_open_without_touching_the_database(sqlite_url, monkeypatch):
    """The due list is read in a thread at open_spider; idle only schedules it (no query on the
    reactor thread), once; while the read is still running, idle keeps the spider open and the
    list is requested when it arrives."""
    from scrapy.exceptions import DontCloseSpider
    from twisted.internet import defer

    import storage.attachments as storage_attachments
    pipe = pipeline(sqlite_url)
    monkeypatch.setattr(storage_attachments, "due_retries", lambda *a, **k: pytest.fail("queried at idle"))
    scheduled = []
    monkeypatch.setattr(pipe, "schedule", lambda state, name, retried=False: scheduled.append(state.url) or True)
    pipe._due = defer.succeed([stored(40)])
    with pytest.raises(DontCloseSpider):
        pipe.spider_idle()
    assert scheduled == ["http://www.t.gov.cn/a.pdf"]
    pipe.spider_idle()                                   # only once per crawl

    later = pipeline(sqlite_url)
    monkeypatch.setattr(later, "schedule", lambda state, name, retried=False: scheduled.append("later") or True)
    later._due = defer.Deferred()
    with pytest.raises(DontCloseSpider):
        later.spider_idle()
    assert scheduled.count("later") == 0
    later._due.callback([stored(40)])
    assert scheduled.count("later") == 1
