"""URL and text patterns that tell article links, list pages and traps apart.

All of them are named constants so that a reviewer can read the crawler's judgement in one place;
site profiles can add their own ``article_url_regex`` / ``list_url_regex`` / ``deny_url_regex``.
"""
import re

# --- article URLs -------------------------------------------------------------------------------
#: TRS WCM: ./202110/t20211029_123456.html (also .shtml/.htm)
TRS_ARTICLE_RE = re.compile(r"/t(?:20|19)\d{6}_\d+\.s?html?$", re.I)
#: Hanweb: /art/2024/10/24/art_1234_5678.html
HANWEB_ARTICLE_RE = re.compile(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.s?html?$", re.I)
#: date-like path segments used by home-made CMSs: /2024-10/24/, /20241024/, /2024/1024/, /202410/
DATE_PATH_RE = re.compile(
    r"/(?:20|19)\d{2}(?:[-_/]?\d{2}){1,2}/(?:[^/]*/)?[^/]+\.(?:s?html?|asp|aspx|php|jsp)$", re.I
)
#: common article file names: content_123.htm, art123.html, 1234567.html, show.asp?id=12, detail?id=
ARTICLE_NAME_RE = re.compile(
    r"(?:/content_\d+|/art_?\d+|/\d{5,}|/[a-z]*detail[a-z]*[_\-]?\d+)\.s?html?$"
    r"|(?:show|detail|view|content|article|info)[a-z]*\.(?:asp|aspx|php|jsp|do)\?(?:[^&#]{0,200}&){0,20}?(?:id|aid|newsid|infoid|articleid)=\d+",
    re.I,
)

# --- list pages ---------------------------------------------------------------------------------
#: TRS list pagination: index_1.html; generic list_2.html, list-3.htm, index_5.shtml
LIST_PAGE_RE = re.compile(r"/(?:index|list|default)(?:[_\-]\d+)?\.s?html?$|/col/col\d+/|/$", re.I)
#: link texts of pagination controls
NEXT_PAGE_TEXTS = ("下一页", "下页", "后一页", "下一頁", "next", ">")
#: link texts that lead to a full column list from a home page box
MORE_TEXTS = ("更多", "more", "更多>>", "MORE")
#: TRS WCM paging call: createPageHTML(countPage, currentPage, "index", "html")
CREATE_PAGE_HTML_RE = re.compile(
    r"createPageHTML\(\s*([A-Za-z_]\w*|\d+)\s*,\s*([A-Za-z_]\w*|\d+)\s*,\s*[\"']([^\"']+)[\"']\s*,\s*[\"']([^\"']+)[\"']"
)
#: `var countPage = 28//共多少页` style variables used as createPageHTML arguments
JS_INT_VAR_RE = r"var\s+{name}\s*=\s*(\d+)"

# --- Hanweb (大汉) jpage datastore -----------------------------------------------------------------
HANWEB_DATASTORE_RE = re.compile(r"<datastore>(.*?)</datastore>", re.S | re.I)
HANWEB_CDATA_RE = re.compile(r"\s*<!\[CDATA\[(.*)\]\]>\s*$", re.S)
HANWEB_RECORD_RE = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
HANWEB_NEXTGROUP_RE = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.S | re.I)
HANWEB_TOTALRECORD_RE = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
#: jpage's JavaScript configuration: totalRecord: 57 / totalRecord = 57
HANWEB_TOTALRECORD_JS_RE = re.compile(r"\btotalRecord\s*[:=]\s*['\"]?(\d+)", re.I)
HANWEB_PERPAGE_RE = re.compile(r"\bperpage\s*[:=]\s*['\"]?(\d+)", re.I)
HANWEB_DATAPROXY_PATH = "/module/web/jpage/dataproxy.jsp"

# --- feeds --------------------------------------------------------------------------------------
FEED_LINK_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
FEED_URL_RE = re.compile(r"(?:/rss|/feed|/atom)(?:\.xml|\.jsp|\.php)?$|\.rss$|rss\.xml$", re.I)

# --- traps and things never to follow -------------------------------------------------------------
#: calendars and archives by date chooser, search, print views, logins, downloads of attachments
TRAP_URL_RE = re.compile(
    r"calendar|rili|/search|\bsearch\.|[?&](?:month|year|date|day|keyword|keywords|q|searchword)=|"
    r"print|login|logout|register|javascript:|mailto:|tel:",
    re.I,
)
#: binary files that are not pages
BINARY_EXT_RE = re.compile(
    r"\.(?:pdf|docx?|xlsx?|pptx?|wps|et|zip|rar|7z|gz|tar|jpe?g|png|gif|bmp|webp|svg|ico|mp3|mp4|avi|"
    r"flv|wmv|mov|swf|exe|apk|css|js|woff2?|ttf|eot)(?:$|\?)",
    re.I,
)
#: session-ish parameters which create endless URL variants
SESSION_PARAM_RE = re.compile(r"(?:jsessionid|phpsessid|sid|sessionid|aspsessionid)", re.I)

#: minimum length (characters) of a link text that looks like a news headline
MIN_TITLE_TEXT = 6
#: CJK ideographs (headline texts on Chinese government sites are mostly these)
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
