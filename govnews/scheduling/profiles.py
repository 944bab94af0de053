"""The profiles a scheduler schedules: every ``*.toml`` in the sites directory, read tolerantly."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from crawler.profiles import ProfileError, SiteProfile, load_profile, sites_dir
from govnews.scheduling.triggers import build_trigger, profile_timezone

__all__ = ["ProfileSet", "load_profile_dir"]


@dataclass
class ProfileSet:
    profiles: dict[str, SiteProfile] = field(default_factory=dict)   # by name
    errors: dict[str, str] = field(default_factory=dict)             # file path -> message
    #: ``verified = false`` profiles left out (by name): listed by `govnews sites`, not scheduled (issue 14)
    unverified: dict[str, SiteProfile] = field(default_factory=dict)


def load_profile_dir(directory: str | os.PathLike | None = None, *, include_unverified: bool = False) -> ProfileSet:
    """Every profile in the sites directory (``directory``, else ``crawler.profiles.sites_dir()``),
    like ``crawler.profiles.list_profiles``, but tolerant: an invalid file is reported in ``errors``
    instead of failing the whole directory (a daemon must not drop every job because one file is
    being edited). Schedules and time zones are validated here, not at the next reload.
    Profiles with ``verified = false`` go to ``unverified`` unless ``include_unverified``."""
    out = ProfileSet()
    d = sites_dir(directory).resolve()
    if not d.is_dir():
        return out
    for path in sorted(d.glob("*.toml")):
        try:
            profile = load_profile(str(path))
            build_trigger(profile)
            profile_timezone(profile)
        except (ProfileError, OSError, ValueError, KeyError) as exc:
            out.errors[str(path)] = str(exc)
            continue
        if profile.name in out.profiles:
            out.errors[str(path)] = (f"{path}: duplicate site name {profile.name!r} "
                                     f"(also in {out.profiles[profile.name].path})")
            continue
        if not profile.verified and not include_unverified:
            out.unverified[profile.name] = profile
            continue
        out.profiles[profile.name] = profile
    return out
