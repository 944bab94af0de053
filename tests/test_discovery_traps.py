import pytest

from crawler.discovery.traps import MAX_URL_LENGTH, CrawlBudget


@pytest.mark.parametrize("url,reason", [
    ("http://a.cn/" + "x" * MAX_URL_LENGTH, "url_too_long"),
    ("http://a.cn/a/b/a/b/a/b/index.html", "repeated_path_segment"),
    ("http://a.cn/" + "/".join(f"d{i}" for i in range(14)) + "/x.html", "path_too_deep"),
    ("http://a.cn/calendar?month=2024-10", "trap_pattern"),
    ("http://a.cn/list.jsp?jsessionid=ABC&page=2", "session_id"),
])
def test_refuse_reasons(url, reason):
    assert CrawlBudget().refuse_reason(url) == reason


def test_depth_and_pagination_limits():
    b = CrawlBudget(max_depth=2, max_pagination=3)
    assert b.admit("http://a.cn/x/index.html", depth=2)
    assert not b.admit("http://a.cn/y/index.html", depth=3)
    assert not b.admit("http://a.cn/y/index_4.html", pagination=4)
    assert b.refused == {"depth": 1, "pagination": 1}


def test_endless_query_chain_is_bounded():
    b = CrawlBudget(max_query_variants=5)
    admitted = [b.admit(f"http://a.cn/list.php?page={n}") for n in range(100)]
    assert sum(admitted) == 5
    assert b.refused["query_variants"] == 95
    assert b.admit("http://a.cn/list.php?page=1") is True  # a variant already admitted stays admissible


def test_page_budget():
    b = CrawlBudget(max_pages=3)
    assert [b.admit(f"http://a.cn/{n}.html") for n in range(5)] == [True, True, True, False, False]
    assert b.refused["page_budget"] == 2


def test_paging_is_exempt_from_query_variants_unless_the_profile_sets_the_limit():
    from crawler.discovery.traps import CrawlBudget

    free = CrawlBudget(max_query_variants=2)
    assert all(free.admit(f"http://a.gov.cn/list.jsp?page={n}", paging=True) for n in range(10))
    strict = CrawlBudget(max_query_variants=2, paging_query_variants=True)
    admitted = [strict.admit(f"http://a.gov.cn/list.jsp?page={n}", paging=True) for n in range(10)]
    assert admitted.count(True) == 2 and strict.refused["query_variants"] == 8
