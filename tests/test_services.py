"""The archive seam: get_archive(crawler) over ArchiveExtension (crawler.get_extension), no
attribute on the Crawler; the crawl's SQLite write wait (GOVNEWS_DB_WRITE_WAIT)."""
from scrapy.utils.test import get_crawler

from crawler.services import (
    ArchiveExtension,
    archive_extension,
    db_url_from_settings,
    get_archive,
    write_wait_busy_timeout,
)


def crawler_with_extensions(db_url, **settings):
    crawler = get_crawler(settings_dict={"GOVNEWS_DB_URL": db_url,
                                         "EXTENSIONS": {"crawler.services.ArchiveExtension": 0}, **settings})
    crawler._apply_settings()          # builds the extension manager, as Crawler.crawl does
    return crawler


def test_get_archive_is_the_extensions_one_archive(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    crawler = crawler_with_extensions(url)
    ext = crawler.get_extension(ArchiveExtension)
    assert ext is not None and archive_extension(crawler) is ext
    archive = get_archive(crawler)
    assert archive is get_archive(crawler) is ext.archive
    assert archive.url == url
    assert not [name for name in vars(crawler) if "govnews" in name], "nothing hung on the Crawler"
    ext.engine_stopped()               # closed when the engine stops; a later call opens a new one
    assert ext._archive is None and get_archive(crawler) is not archive


def test_crawl_write_wait_is_spread_over_the_archives_attempts(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    crawler = crawler_with_extensions(url, GOVNEWS_DB_WRITE_WAIT=6)
    engine = get_archive(crawler).engine
    per_attempt = write_wait_busy_timeout(6)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == int(per_attempt * 1000)
    assert write_wait_busy_timeout(6, attempts=12) == 0.5 and write_wait_busy_timeout(0, attempts=3) == 0.05
    crawler.get_extension(ArchiveExtension).close()


def test_a_bare_crawler_gets_its_own_archive_from_settings(tmp_path):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    crawler = get_crawler(settings_dict={"GOVNEWS_DB_URL": url})      # no extension manager yet
    assert get_archive(crawler) is get_archive(crawler)
    assert get_archive(crawler).url == url
    other = get_crawler(settings_dict={"GOVNEWS_DB_URL": url})
    assert get_archive(other) is not get_archive(crawler)            # one per crawler
    archive_extension(crawler).close()
    archive_extension(other).close()


def test_db_url_from_settings_then_environment(monkeypatch):
    monkeypatch.setenv("GOVNEWS_DB_URL", "sqlite:////tmp/env.db")
    assert db_url_from_settings(get_crawler(settings_dict={"GOVNEWS_DB_URL": "sqlite:////tmp/s.db"}).settings) \
        == "sqlite:////tmp/s.db"
    assert db_url_from_settings(get_crawler().settings) == "sqlite:////tmp/env.db"
