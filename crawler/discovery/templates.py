"""URL path templates: ``/info/1024/5678.htm`` -> ``/info/{n}/{n}.htm``.

A template is what stays the same across the links of one list block: digit runs become ``{n}``,
long hexadecimal / base-36 / UUID ids become ``{id}``, query keys stay (sorted) with their values
generalised the same way, so ``content.jsp?urltype=news.NewsContentUrl&wbtreeid=1101&wbnewsid=1234``
becomes ``/content.jsp?urltype=news.NewsContentUrl&wbnewsid={n}&wbtreeid={n}``. The host is not
part of a template (templates are kept per site).

:class:`TemplateBook` is what a crawl learns: article templates with their support (how many links
of article blocks carried them), seeded from the archive (``storage.templates``) and written back
at the end of the crawl. Pure: no I/O.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from . import patterns as P

__all__ = ["MAX_TEMPLATE_URL", "TemplateBook", "has_variable", "is_list_like", "url_template"]

#: URLs longer than this get the template ``{long}`` (never learned; keeps every regex linear)
MAX_TEMPLATE_URL = 2048
_HEX_RE = re.compile(r"^(?:[0-9a-f]{16,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$", re.I)
_B36_RE = re.compile(r"^[0-9a-z]{12,}$", re.I)
_DIGITS_RE = re.compile(r"\d+")
_VALUE_WORD_RE = re.compile(r"^[\w.\-]{0,40}$")
#: file names and query keys of list pages (``index_2.html``, ``list_3_2.html``, ``?page=2``)
_LIST_NAME_RE = re.compile(r"(?:^|/)(?:index|list|default|more|lists?|column|channel|node|col)"
                           r"(?:[_\-]\{n\})*\.\w+$|/$", re.I)
LIST_QUERY_KEYS = frozenset(("page", "pageno", "pagenum", "pageindex", "cur_page", "curpage", "currentpage",
                             "pagenumber", "pn", "p", "start", "startrecord", "offset"))
_LIST_QUERY_VALUES = ("list", "lists", "tree.treetempurl", "more")


def _generalise(token: str) -> str:
    stem, dot, ext = token.rpartition(".") if "." in token else (token, "", "")
    if not dot:
        stem, ext = token, ""
    if _HEX_RE.match(stem) or (_B36_RE.match(stem) and sum(c.isdigit() for c in stem) >= 2
                               and sum(c.isalpha() for c in stem) >= 2):
        stem = "{id}"
    else:
        stem = _DIGITS_RE.sub("{n}", stem)
    return stem + (dot + ext if dot else "")


def url_template(url: str) -> str:
    """The template of ``url`` (absolute or root-relative)."""
    if len(url) > MAX_TEMPLATE_URL:
        return "{long}"
    parts = urlsplit(url)
    segments = (parts.path or "/").split("/")
    path = "/".join(_generalise(s) if s else s for s in segments)
    if not parts.query:
        return path
    items = []
    for key, value in sorted(parse_qsl(parts.query, keep_blank_values=True))[:20]:
        if P.SESSION_PARAM_RE.fullmatch(key):
            continue
        if value.isdigit():
            value = "{n}"
        elif _HEX_RE.match(value) or (_B36_RE.match(value) and any(c.isdigit() for c in value)):
            value = "{id}"
        elif not _VALUE_WORD_RE.match(value):
            value = "{s}"
        else:
            value = _DIGITS_RE.sub("{n}", value)
        items.append(f"{key}={value}")
    return path + "?" + "&".join(items)


def has_variable(template: str) -> bool:
    """Whether the template carries an id (``{n}`` / ``{id}``): a page per item, not one fixed page."""
    return "{n}" in template or "{id}" in template


def is_list_like(template: str) -> bool:
    """Templates of list pages: ``/x/index_{n}.html``, ``/list-{n}.html``, ``…?page={n}``, ``a=lists``."""
    path, _, query = template.partition("?")
    name = path.rsplit("/", 1)[-1].lower()
    router = bool(query) and name.rsplit(".", 1)[0] in ("index", "default", "")   # index.php?m=…&a=show
    if not router and _LIST_NAME_RE.search(path):
        return True
    for item in query.split("&") if query else ():
        key, _, value = item.partition("=")
        if key.lower() in LIST_QUERY_KEYS or value.lower() in _LIST_QUERY_VALUES:
            return True
    return not router and name.startswith(("list", "index")) and "{n}" in name


@dataclass
class TemplateBook:
    """Article templates of one site with their support; ``min_support`` links make one trusted."""

    article: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    seeded: frozenset[str] = frozenset()      # templates read from the archive at the start
    min_support: int = 1
    max_templates: int = 200

    def learn(self, template: str, support: int, example: str | None = None) -> bool:
        """Count ``support`` links of an article block for ``template``; False when refused."""
        if template == "{long}" or not has_variable(template) or is_list_like(template):
            return False
        if template not in self.article and len(self.article) >= self.max_templates:
            return False
        self.article[template] += support
        if example and template not in self.examples:
            self.examples[template] = example
        return True

    def is_article(self, template: str) -> bool:
        return self.article.get(template, 0) >= self.min_support

    def learned(self) -> list[tuple[str, int, str]]:
        """``(template, support, example)``, most supported first."""
        return [(t, n, self.examples.get(t, "")) for t, n in self.article.most_common()]

    @classmethod
    def from_rows(cls, rows) -> TemplateBook:
        """From ``(template, support, example)`` rows (``storage.templates.load_templates``)."""
        book = cls()
        for template, support, example in rows:
            book.learn(template, max(int(support or 0), 1), example)
        book.seeded = frozenset(book.article)
        return book
