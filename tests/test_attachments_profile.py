"""The profile hint ``attachment_max_size`` (docs/PROFILES.md) bounds a site's attachments (issue 16)."""
from __future__ import annotations

import pytest
from scrapy.utils.test import get_crawler

from crawler.attachments.pipeline import AttachmentPipeline
from crawler.profiles import ProfileError, load_profile

PROFILE = 'name = "t"\nstart_urls = ["http://www.t.gov.cn/"]\n[hints]\nattachment_max_size = {value}\n'


class StubSpider:
    def __init__(self, profile):
        self.profile, self.site, self.allowed_domains = profile, profile.name, ["t.gov.cn"]


def test_the_hint_sets_the_pipelines_size_limit(tmp_path, sqlite_url):
    path = tmp_path / "t.toml"
    path.write_text(PROFILE.format(value=1000), encoding="utf-8")
    profile = load_profile(str(path))
    assert profile.hints.attachment_max_size == 1000
    crawler = get_crawler(settings_dict={"GOVNEWS_DB_URL": sqlite_url})
    pipe = AttachmentPipeline.from_crawler(crawler)
    default = pipe.max_size
    pipe.open_spider(StubSpider(profile))
    assert pipe.max_size == 1000 and default == 50 * 1024 * 1024


@pytest.mark.parametrize("value", ["0", '"big"'])
def test_a_bad_value_is_refused_when_the_profile_loads(tmp_path, value):
    path = tmp_path / "t.toml"
    path.write_text(PROFILE.format(value=value), encoding="utf-8")
    with pytest.raises(ProfileError, match="attachment_max_size"):
        load_profile(str(path))
