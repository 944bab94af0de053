import pytest

from crawler.profiles import ProfileError, list_profiles, load_profile

GOOD = """
name = "xindu"
title = "成都市新都区人民政府"
start_urls = ["http://www.xindu.gov.cn/xdqrmzf/c113402/list.shtml"]
schedule = "30 7 * * *"
[hints]
article_url_regex = "/c\\\\d+/\\\\d{4}-\\\\d{2}/\\\\d{2}/content_\\\\w+\\\\.shtml$"
download_delay = 2.5
"""


def write(tmp_path, name, text):
    p = tmp_path / f"{name}.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_load_by_name_and_by_path(tmp_path):
    path = write(tmp_path, "xindu", GOOD)
    by_name = load_profile("xindu", tmp_path)
    by_path = load_profile(str(path))
    assert by_name == by_path
    assert by_name.allowed_domains == ["www.xindu.gov.cn"]       # derived from start_urls
    assert by_name.timezone == "Asia/Shanghai"
    assert by_name.hints.download_delay == 2.5
    assert by_name.hints.article_url_regex.endswith(r"\.shtml$")


@pytest.mark.parametrize("text,message", [
    ('title = "x"\nstart_urls = ["http://a.cn/"]', "missing required key 'name'"),
    ('name = "Bad Name"\nstart_urls = ["http://a.cn/"]', "must be lowercase"),
    ('name = "a"\nstart_urls = ["ftp://a.cn/"]', "http(s) URLs"),
    ('name = "a"\nstart_urls = ["http://a.cn/"]\nschedule = "every hour"', "5-field cron"),
    ('name = "a"\nstart_urls = ["http://a.cn/"]\nsurprise = 1', "unknown key 'surprise'"),
    ('name = "a"\nstart_urls = ["http://a.cn/"]\n[hints]\narticle_url_regex = "("', "not a valid regex"),
    ('name = "a"\nstart_urls = ["http://a.cn/"]\n[hints]\nspeed = 3', "unknown hint 'speed'"),
    ('name = "a"\nstart_urls = ["http://a.cn/"]\ninterval_seconds = -1', "positive"),
    ('name = "a" start_urls', "not valid TOML"),
])
def test_invalid_profiles_explain_themselves(tmp_path, text, message):
    write(tmp_path, "a", text)
    with pytest.raises(ProfileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_profile("a", tmp_path)


def test_unknown_profile_lists_known_ones(tmp_path):
    write(tmp_path, "xindu", GOOD)
    with pytest.raises(ProfileError, match=r"known: xindu\)"):
        load_profile("nope", tmp_path)


def test_bundled_profiles_are_valid():
    profiles = list_profiles()
    names = {p.name for p in profiles}
    assert "demo" in names
    assert all(p.start_urls and p.allowed_domains for p in profiles)
    assert any(not p.verified for p in profiles), "real-site examples are marked unverified"


def test_sites_dir_follows_common_paths(tmp_path, monkeypatch):
    from crawler.profiles import sites_dir

    monkeypatch.setenv("GOVNEWS_SITES_DIR", str(tmp_path))
    assert sites_dir() == tmp_path.resolve() and sites_dir(tmp_path / "x") == tmp_path / "x"
    write(tmp_path, "xindu", GOOD)
    assert load_profile("xindu").name == "xindu"


def test_a_name_missing_from_the_sites_dir_falls_back_to_the_bundled_profiles(tmp_path, monkeypatch):
    import crawler.profiles as profiles

    bundled = tmp_path / "bundled"
    bundled.mkdir()
    write(bundled, "demo", GOOD.replace('"xindu"', '"demo"'))
    monkeypatch.setenv("GOVNEWS_SITES_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(profiles, "bundled_sites_dir", lambda: bundled)
    assert load_profile("demo").path == bundled / "demo.toml"
    with pytest.raises(ProfileError):                       # an explicit directory means that directory
        load_profile("demo", tmp_path / "empty")


def test_timezone_default_is_the_one_local_zone():
    from common.clock import LOCAL_TZ_NAME
    from crawler.profiles import DEFAULT_TIMEZONE

    assert DEFAULT_TIMEZONE == LOCAL_TZ_NAME
