"""Normalisation, content hash, MinHash bands, verification guards, one-query candidate lookup."""
from __future__ import annotations

from sqlalchemy import event

from storage import articles, dedup

TEXT = ("区政府召开常务会议，研究部署今冬明春安全生产和森林防火工作。会议指出，当前已进入森林防火紧要期，"
        "各镇街、各部门要压紧压实责任，强化巡查管控，坚决防范重特大火灾发生。")


def test_normalize_simplified_glosses_punct():
    assert dedup.normalize_text("區(qū)縣 新聞，發(fā)展！\n Ａ１") == "区县新闻发展a1"
    # a raw broken gloss keys as the character extraction restores (common.text.strip_glosses)
    assert dedup.strip_glosses("日?qǐng)?bào)") == "日報"
    assert dedup.strip_glosses("?qǐng)") == ""
    assert dedup.strip_glosses("亳(bó)州") == "亳州"  # a real gloss: kept in text, dropped from the hash key
    assert dedup.strip_glosses("GDP(GDP)增长") == "GDP(GDP)增长"  # no tone mark: not a gloss


# ---------------------------------------------------------------------------- hash stability
# The normaliser as it was before dedup used common.text (its own OpenCC instance and one regex):
# stored content_hash values were computed with it.
_LEGACY_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_LEGACY_GLOSS = __import__("re").compile(
    r"[?？]?[（(]?[a-zü" + _LEGACY_TONED + r"]*[" + _LEGACY_TONED + r"][a-zü" + _LEGACY_TONED + r"]*[)）]")


def _legacy_hash(text: str) -> str:
    import hashlib
    import re
    import unicodedata

    import opencc

    if not text:
        norm = ""
    else:
        t = unicodedata.normalize("NFKC", _LEGACY_GLOSS.sub("", text))
        t = opencc.OpenCC("t2s").convert(t)
        norm = re.sub(r"[\W_]+", "", t.lower())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def test_content_hash_unchanged():
    """Stored hashes stay valid: texts as extraction leaves them (the demo site's bodies, extracted
    demo pages, traditional and glossed text) hash as before the switch to common.text."""
    from govnews.demosite import DemoSite

    site = DemoSite()
    texts = [e.body_simplified for e in site.expected_articles]
    texts += ["\n".join(e.paragraphs) for e in site.expected_articles]
    texts += [TEXT, "綿陽市科技城新區推進鄉村振興工作。", "亳(bó)州市中(zhōng)心城区", "区县 新闻，发展！\n Ａ１",
              "據綿陽日報報道", "GDP(GDP)增长", "", "短文本"]
    assert len(texts) > 20
    changed = [t[:40] for t in texts if dedup.content_hash(t) != _legacy_hash(t)]
    assert changed == []
    # extraction output of the demo pages (the crawl's path)
    from crawler.extract import extract
    from crawler.extract.decode import content_type_charset

    n = 0
    for e in site.expected_articles:
        data, ctype, _headers = site.pages[e.url_path]
        art = extract(data, url="http://127.0.0.1:8765" + e.url_path, encoding=content_type_charset(ctype))
        for body in (art.body_simplified, art.body):
            assert dedup.content_hash(body) == _legacy_hash(body), e.url_path
            n += 1
    assert n >= 30


def test_content_hash_ignores_form():
    trad = "區(qū)政府召開(kāi)常務(wù)會(huì)議，研究部署今冬明春安全生產(chǎn)和森林防火工作。"
    simp = "区政府 召开常务会议,研究部署今冬明春安全生产和森林防火工作"
    assert dedup.content_hash(trad) == dedup.content_hash(simp)
    assert dedup.content_hash(TEXT) != dedup.content_hash(TEXT + "另外")


def test_signature_bands_deterministic():
    s1, s2 = dedup.signature(TEXT), dedup.signature(TEXT)
    assert len(s1.bands) == dedup.BANDS and s1.bands == s2.bands
    assert all(-(2**63) <= h < 2**63 for _, h in s1.bands)
    assert dedup.signature("短文本").bands == []  # too short for LSH: exact hash only


def test_verify_guards():
    assert dedup.same_story(TEXT, TEXT + "（责任编辑：王五）")
    assert dedup.same_story(TEXT, TEXT + "\n" + TEXT)
    # a short text wholly contained in a much longer one is not the same story
    long = TEXT + "".join(f"第{i}项工作要求各单位认真落实并按时报送进展情况{i}。" for i in range(20))
    assert not dedup.same_story(TEXT, long)
    # same long paragraph quoted by two different articles
    q = TEXT * 2
    assert not dedup.same_story("关于春季农业生产的通知，各乡镇要抓好春耕备耕工作。" * 3 + q,
                                "教育局召开中考工作部署会，要求确保考试安全平稳有序。" * 3 + q)


def test_candidates_one_query(archive):
    r = archive.store_article("a", "http://a.gov.cn/1.html", {"title": "t", "body": TEXT})
    sig = dedup.signature(TEXT + "（编辑：王五）")
    statements = []

    def count(conn, cursor, statement, *a):
        statements.append(statement)

    event.listen(archive.engine, "before_cursor_execute", count)
    try:
        with archive.engine.connect() as c:
            cands, shared = articles.candidates(c, sig)
    finally:
        event.remove(archive.engine, "before_cursor_execute", count)
    assert cands == [r.article_id] and shared[r.article_id] <= set(sig.bands)
    assert len([s for s in statements if "minhash_bands" in s]) == 1
