"""Full-text search over archived articles, for Chinese, on SQLite and PostgreSQL.

Search runs on simplified text (``articles.title_simplified``, ``articles.body_simplified``) and the
query is converted to simplified (OpenCC t2s) first, so a simplified query finds articles archived
in traditional characters and the other way round. The query is split on whitespace into terms;
an article must contain every term (substring match, ASCII case-insensitive). Terms are always
bound parameters and matched literally: quotes, ``%``, ``_``, ``*``, ``\\``, FTS operators
(``AND``/``OR``/``NOT``/``NEAR``) and SQL metacharacters have no special meaning.

SQLite (migration 0002): ``articles_fts``, an FTS5 external-content table with the ``trigram``
tokenizer over the view ``articles_search_src``, kept in step with ``articles`` by triggers.

* Terms of 3+ characters: ``MATCH`` with each term as a quoted FTS5 string (a trigram phrase =
  a substring); ranked by ``bm25`` (title weighted 10x), snippet by FTS5 ``snippet()``. Shorter
  terms in the same query are checked with ``LIKE`` on the FTS hits.
* Only 1-2-character terms (绵阳, 新区): trigram ``MATCH`` cannot answer them. Each indexed
  column carries two trailing spaces, so every occurrence of a short term t is the prefix of an
  index term; the fts5vocab table ``articles_fts_vocab`` (``instance``) lists them with a
  range lookup ``term >= t AND term < t || U+10FFFF``. A bounded probe (``SHORT_PROBE``
  instances) decides: a rare term -> the matching rowids come from the index (exact, no scan); a
  frequent term -> a ``LIKE`` scan in ``id DESC`` order that stops after ``limit`` hits (a
  frequent term is found within the first few hundred rows). Both give newest-archived first.

PostgreSQL (0002): ``pg_trgm`` GIN indexes (``gin_trgm_ops``) on ``body_simplified`` and on
``coalesce(title_simplified, title, '')``, queried with ``ILIKE '%term%'`` (rechecked, so exact).
This needs a database whose ``LC_CTYPE`` classifies CJK characters as alphanumeric (C.UTF-8 or
any *.UTF-8 glibc locale does; ``tests/test_search.py`` checks ``show_trgm``); otherwise the index
degrades to a scan but results stay correct. Terms without case (CJK, digits) use ``LIKE`` (much
cheaper than ``ILIKE``; the index serves both). Ranked by title hit (x10) + occurrences in the body
(capped), then newest, among the newest ``PG_RANK_WINDOW`` matches. 1-2-character terms: the
character-gram index of 0007. The gram statistics (0007) estimate each term's share of the
archive; when every term is common (>= ``COMMON_FREQ``) the matches are looked for among the
newest articles only (index-ordered top-k; the newest ``COMMON_SCAN`` at most, of the site when
filtered): a dense query (>= ``DENSE_FREQ``) by an ``id DESC`` scan that stops at the window, the
others by the GIN bitmaps ANDed with that id range (only the matches are read from TOAST). Fewer
than ``limit`` matches there: the indexes over the whole archive, as for rare terms.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, text

from common.text import to_simplified
from storage.db import make_engine
from storage.models import UTCDateTime

__all__ = ["Hit", "search", "query_terms", "like_pattern", "fts5_phrase", "make_snippet"]

MARK_START, MARK_END = "«", "»"
SNIPPET_CHARS = 36       # characters of context either side of the first hit
SHORT_PROBE = 2_000      # fts5vocab instances counted before a short term is called frequent
RANK_WINDOW = 500        # relevance-ranked among the newest N matches (index-ordered top-k)
GRAMS_INDEX = "ix_articles_grams"   # PostgreSQL, migration 0007
PG_RANK_WINDOW = 200     # PostgreSQL: ranking reads each body (TOAST), so its window is smaller
COMMON_FREQ = 0.01       # PostgreSQL: a term in >= 1 % of the articles is read in id order, not from GIN
COMMON_SCAN = 4_000      # PostgreSQL: ... among the newest N articles (then the indexes)
DENSE_FREQ = 0.2         # PostgreSQL: ... a term in >= 20 %: an id-order scan to the window, else bitmaps
SPAN_MARGIN = 1.5        # PostgreSQL: ... over the newest 1.5 x window / share articles first
GRAM_STATS_TTL = 600.0   # seconds the gram statistics are kept
GRAMS_EXPR = "govnews_grams(coalesce(a.title_simplified, a.title, '') || ' ' || coalesce(a.body_simplified, ''))"
TITLE_WEIGHT = 10.0
_MAX_CODEPOINT = "\U0010ffff"


@dataclass
class Hit:
    id: int
    site: str
    title: str | None
    url: str
    published_at: datetime | None
    first_seen: datetime | None
    score: float | None
    snippet: str

    def as_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------- query handling
def query_terms(query: str) -> list[str]:
    """Simplified (OpenCC t2s), whitespace-split, de-duplicated terms, in order."""
    out: list[str] = []
    # NUL cannot be stored in the archive (and FTS5 refuses it in a phrase): a separator like a space
    for t in (to_simplified((query or "").replace("\x00", " ")) or "").split():
        if t not in out:
            out.append(t)
    return out


def like_pattern(term: str) -> str:
    """``%term%`` with ``\\``, ``%`` and ``_`` escaped (use with ``ESCAPE '\\'``)."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def fts5_phrase(term: str) -> str:
    """An FTS5 string literal: the term searched as it is (operators and ``*`` inert)."""
    return '"' + term.replace('"', '""') + '"'


def make_snippet(body: str | None, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """A window of ``body`` around the first term found, all terms marked «like this»."""
    body = re.sub(r"\s+", " ", body or "").strip()
    if not body:
        return ""
    low = body.lower()
    found = [(low.find(t.lower()), t) for t in terms]
    found = [f for f in found if f[0] >= 0]
    if not found:
        return body[: 2 * width] + ("…" if len(body) > 2 * width else "")
    pos, term = min(found)
    start = max(0, pos - width)
    end = min(len(body), pos + len(term) + width)
    window = body[start:end]
    pat = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.I)
    window = pat.sub(lambda m: MARK_START + m.group(0) + MARK_END, window)
    return ("…" if start > 0 else "") + window + ("…" if end < len(body) else "")


# ---------------------------------------------------------------------------- entry point
def search(db, query: str, *, site: str | None = None, since: datetime | None = None,
           until: datetime | None = None, limit: int = 20) -> list[Hit]:
    """Ranked hits for ``query`` (see the module docstring). ``db``: engine or database URL.

    ``since``/``until`` bound ``published_at`` (aware datetimes; naive = UTC).
    """
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    engine = db if isinstance(db, Engine) else make_engine(db)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return _search_sqlite(conn, terms, site, since, until, limit)
            return _search_pg(conn, terms, site, since, until, limit)
    finally:
        if not isinstance(db, Engine):
            engine.dispose()


def _filters(params: dict, site, since, until) -> str:
    sql = ""
    if site:
        # the site's id first (an InitPlan), so that a.site_id is a constant: PostgreSQL reads the
        # site's newest rows from (site_id, id) (migration 0008) instead of every site's
        sql += " AND a.site_id = (SELECT id FROM sites WHERE name = :site)"
        params["site"] = site
    if since is not None:
        sql += " AND a.published_at >= :since"
        params["since"] = since
    if until is not None:
        sql += " AND a.published_at < :until"
        params["until"] = until
    return sql


def _stmt(sql: str, params: dict):
    """``text(sql)`` with times bound and read through :class:`UTCDateTime` on both backends."""
    stmt = text(sql)
    for name in ("since", "until"):
        if name in params:
            stmt = stmt.bindparams(bindparam(name, type_=UTCDateTime()))
    return stmt.columns(published_at=UTCDateTime(), first_seen=UTCDateTime())


def term_grams(term: str) -> list[str]:
    """The grams (migration 0007) an article must have to contain ``term``: the lowercased term
    itself when it has 1-2 characters, else its distinct character pairs."""
    t = term.lower()
    if len(t) <= 2:
        return [t]
    return sorted({t[i:i + 2] for i in range(len(t) - 1)})


def _likes(terms: list[str], params: dict, title_col: str, body_col: str, op: str) -> str:
    parts = []
    for i, t in enumerate(terms):
        params[f"lk{i}"] = like_pattern(t)
        if op == "ILIKE" and t.lower() == t.upper():
            op_i = "LIKE"  # nothing to case-fold (CJK, digits): LIKE is much cheaper than ILIKE
        else:
            op_i = op
        parts.append(f"({title_col} {op_i} :lk{i} ESCAPE '\\' OR {body_col} {op_i} :lk{i} ESCAPE '\\')")
    return " AND ".join(parts)


def _hits(rows, terms, *, score_sign=1.0) -> list[Hit]:
    out = []
    for r in rows:
        m = r._mapping
        snip = m.get("snip")
        snip = make_snippet(m.get("body"), terms) if snip is None else re.sub(r"\s+", " ", snip).strip()
        score = m.get("score")
        out.append(Hit(id=m["id"], site=m["site"], title=m["title"], url=m["url"],
                       published_at=m["published_at"], first_seen=m["first_seen"],
                       score=None if score is None else round(score_sign * float(score), 4),
                       snippet=snip))
    return out


# ---------------------------------------------------------------------------- SQLite
def _search_sqlite(conn, terms, site, since, until, limit) -> list[Hit]:
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]
    params: dict = {"limit": limit}
    flt = _filters(params, site, since, until)
    cols = ("a.id AS id, s.name AS site, a.title AS title, a.url AS url, "
            "a.published_at AS published_at, a.first_seen AS first_seen")
    if long_terms:
        params["match"] = " AND ".join(fts5_phrase(t) for t in long_terms)
        extra = (" AND " + _likes(short_terms, params, "coalesce(a.title_simplified, a.title, '')",
                                  "a.body_simplified", "LIKE")) if short_terms else ""
        # index-ordered top-k: bm25 ranks the newest RANK_WINDOW matches (FTS5 walks its doclists
        # in rowid order, so finding the window's lowest rowid costs RANK_WINDOW matches, not all)
        params["window"] = RANK_WINDOW - 1
        lo = conn.execute(_stmt(
            "SELECT articles_fts.rowid FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
            f"JOIN sites s ON s.id = a.site_id WHERE articles_fts MATCH :match{extra}{flt} "
            "ORDER BY articles_fts.rowid DESC LIMIT 1 OFFSET :window", params), params).scalar()
        window = ""
        if lo is not None:
            params["lo"] = lo
            window = " AND articles_fts.rowid >= :lo"
        sql = (f"SELECT {cols}, bm25(articles_fts, {TITLE_WEIGHT}, 1.0) AS score, "
               f"snippet(articles_fts, 1, '{MARK_START}', '{MARK_END}', '…', 24) AS snip "
               "FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
               "JOIN sites s ON s.id = a.site_id "
               f"WHERE articles_fts MATCH :match{window}{extra}{flt} ORDER BY score LIMIT :limit")
        rows = conn.execute(_stmt(sql, params), params).all()
        return _hits(rows, terms, score_sign=-1.0)  # bm25: lower is better

    # only short terms: the rarest decides the path
    probes = []
    for t in short_terms:
        lo = t.lower()
        n = conn.execute(text(
            "SELECT count(*) FROM (SELECT 1 FROM articles_fts_vocab "
            "WHERE term >= :lo AND term < :hi LIMIT :cap)"),
            {"lo": lo, "hi": lo + _MAX_CODEPOINT, "cap": SHORT_PROBE}).scalar()
        probes.append((n, lo))
    n, rare = min(probes)
    likes = _likes(short_terms, params, "coalesce(a.title_simplified, a.title, '')",
                   "a.body_simplified", "LIKE")
    if n == 0:
        return []
    if n < SHORT_PROBE:
        params.update(lo=rare, hi=rare + _MAX_CODEPOINT)
        sql = (f"SELECT {cols}, a.body_simplified AS body FROM "
               "(SELECT DISTINCT doc FROM articles_fts_vocab WHERE term >= :lo AND term < :hi) d "
               "CROSS JOIN articles a ON a.id = d.doc JOIN sites s ON s.id = a.site_id "
               f"WHERE {likes}{flt} ORDER BY a.id DESC LIMIT :limit")
    else:
        sql = (f"SELECT {cols}, a.body_simplified AS body FROM articles a "
               f"JOIN sites s ON s.id = a.site_id WHERE {likes}{flt} ORDER BY a.id DESC LIMIT :limit")
    rows = conn.execute(_stmt(sql, params), params).all()
    return _hits(rows, terms)


# ---------------------------------------------------------------------------- PostgreSQL
_gram_cache: dict[Any, tuple[float, dict[str, float] | None]] = {}


def _gram_freqs(conn) -> dict[str, float] | None:
    """The share of articles holding each common gram: ANALYZE's element statistics of the gram
    index (migration 0007, statistics target 1000: up to 10 000 grams), read at most once every
    ``GRAM_STATS_TTL`` seconds per database. None without the index (or before any ANALYZE)."""
    key = conn.engine.url     # a URL is a hashable tuple (rendering it costs milliseconds)
    now = time.monotonic()
    hit = _gram_cache.get(key)
    if hit is not None and now - hit[0] < GRAM_STATS_TTL:
        return hit[1]
    freqs: dict[str, float] | None = None
    if conn.execute(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": GRAMS_INDEX}).scalar():
        row = conn.execute(text(
            "SELECT CAST(most_common_elems AS text) AS elems, most_common_elem_freqs AS freqs "
            "FROM pg_stats WHERE tablename = :n"), {"n": GRAMS_INDEX}).first()
        if row is not None and row.elems:
            elems = conn.execute(text("SELECT unnest(CAST(:e AS text[]))"), {"e": row.elems}).scalars().all()
            freqs = dict(zip(elems, row.freqs, strict=False))
        else:
            freqs = {}
    _gram_cache[key] = (now, freqs)
    return freqs


def _estimate(term: str, freqs: dict[str, float] | None) -> float | None:
    """Upper bound of the share of articles containing ``term``: its rarest gram's (0 when a gram is
    not among the common ones); None when unknown."""
    if freqs is None:
        return None
    return min(freqs.get(g, 0.0) for g in term_grams(term))


def _search_pg(conn, terms, site, since, until, limit) -> list[Hit]:
    params: dict = {"limit": limit}
    flt = _filters(params, site, since, until)
    title = "coalesce(a.title_simplified, a.title, '')"
    likes = _likes(terms, params, title, "a.body_simplified", "ILIKE")
    freqs = _gram_freqs(conn)
    est = {t: _estimate(t, freqs) for t in terms}
    rarest = min(terms, key=lambda t: (est[t] if est[t] is not None else 1.0, -len(t)))
    common = freqs is not None and all(e is not None and e >= COMMON_FREQ for e in est.values())
    if common:
        # every term is in a good share of the articles: rank among the newest matches within the
        # newest COMMON_SCAN articles (of the site, with a site filter) instead of fetching and
        # rechecking every match (the estimate is an upper bound — a phrase of common pairs can
        # be rare — so a query with fewer than `limit` matches there goes to the indexes below)
        share = min(e or 0.0 for e in est.values())   # every estimate is known here
        dense = share >= DENSE_FREQ
        # dense: an id DESC index scan that stops at the window (reads window / density rows);
        # else bitmaps only: the GIN matches ANDed with the id range (reads only the matches)
        settings = ("set_config('enable_bitmapscan', 'off', true)" if dense else
                    "set_config('enable_indexscan', 'off', true), set_config('enable_seqscan', 'off', true)")
        scope = " WHERE site_id = (SELECT id FROM sites WHERE name = :site)" if site else ""
        # the bitmap path reads every match in the range: a range of SPAN_MARGIN x window /
        # share articles should hold the window's matches (else the whole COMMON_SCAN)
        spans = [COMMON_SCAN] if dense else sorted({min(COMMON_SCAN, max(limit, math.ceil(
            SPAN_MARGIN * PG_RANK_WINDOW / max(share, COMMON_FREQ)))), COMMON_SCAN})
        # every range start in the statement that changes the settings (planned before they apply)
        starts = ", ".join(f"(SELECT id FROM articles{scope} ORDER BY id DESC OFFSET :n{i} LIMIT 1)"
                           for i in range(len(spans)))
        los = conn.execute(text(f"SELECT {settings}, {starts}"),
                           {"site": site, **{f"n{i}": n - 1 for i, n in enumerate(spans)}}).first()[-len(spans):]
        for span, lo in zip(spans, los, strict=True):
            cond = likes + (" AND a.id >= :lo" if lo is not None else "")
            if not dense:
                # the bitmap comes from the gram index, for the query's rarest gram only (exact:
                # nothing is read from TOAST to build it; ANALYZE knows that gram's share, so the
                # planner ANDs it with the id range — with several grams it multiplies their
                # shares, underestimates, and visits every candidate's heap page instead); the LIKEs
                # are written so that the trigram indexes cannot serve them — their recheck would
                # read every match's body before the id range is applied
                params["cgrams"] = [min((g for t in terms for g in term_grams(t)),
                                        key=lambda g: (freqs.get(g, 0.0), g))]  # type: ignore[union-attr]
                cond = (f"{GRAMS_EXPR} @> CAST(:cgrams AS text[])" + (" AND a.id >= :lo" if lo is not None else "")
                        + " AND " + _likes(terms, params, f"({title} || '')", "(a.body_simplified || '')", "ILIKE"))
            rows = _pg_query(conn, terms, dict(params, lo=lo), cond, flt, title)
            # a short span is enough when its matches fill the rank window (the newest window
            # matches are then those of the whole COMMON_SCAN range: the same ranking)
            full = span == COMMON_SCAN or (rows and (rows[0].nwin is None or rows[0].nwin >= PG_RANK_WINDOW))
            if (len(rows) >= limit and full) or lo is None:
                return _hits(rows, terms)
        conn.exec_driver_sql("RESET enable_bitmapscan; RESET enable_indexscan; RESET enable_seqscan")
    if len(rarest) <= 2 and freqs is not None and not common:
        # a rare 1-2 character term: its gram is in the index of migration 0007 (exact, no recheck)
        params["grams"] = term_grams(rarest)
        likes = f"{GRAMS_EXPR} @> CAST(:grams AS text[]) AND " + likes
    return _hits(_pg_query(conn, terms, params, likes, flt, title), terms)


def _score_sql(terms, params, title: str, body: str, lower_body: str) -> str:
    """Title hit (x TITLE_WEIGHT) + occurrences in the body (capped at 20), summed over the terms."""
    parts = []
    for i, t in enumerate(terms):
        params[f"lw{i}"] = t.lower()
        cased = t.lower() != t.upper()
        b = lower_body if cased else body           # CJK, digits: no case
        op_i = "ILIKE" if cased else "LIKE"
        parts.append(f"(CASE WHEN {title} {op_i} :lk{i} ESCAPE '\\' THEN {TITLE_WEIGHT} ELSE 0 END"
                     f" + least((length({b}) - length(replace({b}, :lw{i}, ''))) / length(:lw{i}), 20))")
    return " + ".join(parts)


def _pg_query(conn, terms, params, likes, flt, title):
    if any(len(t) >= 3 for t in terms):
        score = _score_sql(terms, params, title, "a.body_simplified", "lower(a.body_simplified)")
        params["window"] = PG_RANK_WINDOW
        inner = (f"SELECT a.id, ({score}) AS score, count(*) OVER () AS nwin FROM "
                 f"(SELECT a.id FROM articles a JOIN sites s ON s.id = a.site_id WHERE {likes}{flt} "
                 "ORDER BY a.id DESC LIMIT :window) m JOIN articles a ON a.id = m.id "
                 "ORDER BY score DESC, a.id DESC LIMIT :limit")
    else:
        inner = ("SELECT a.id, NULL::float AS score, NULL::bigint AS nwin FROM articles a "
                 f"JOIN sites s ON s.id = a.site_id WHERE {likes}{flt} ORDER BY a.id DESC LIMIT :limit")
    sql = ("SELECT a.id AS id, s.name AS site, a.title AS title, a.url AS url, "
           "a.published_at AS published_at, a.first_seen AS first_seen, a.body_simplified AS body, "
           f"h.score AS score, h.nwin AS nwin FROM ({inner}) h JOIN articles a ON a.id = h.id "
           "JOIN sites s ON s.id = a.site_id ORDER BY h.score DESC NULLS LAST, a.id DESC")
    return conn.execute(_stmt(sql, params), params).all()
