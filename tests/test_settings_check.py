"""A connector's config checked against the settings its --about declares."""

from __future__ import annotations

from dativo_ingest.config.settings_check import SettingsSpec, settings_problems

ABOUT_SETTINGS = {  # the shape of singer-sdk's `--about --format json` "settings"
    "type": "object",
    "properties": {
        "feed_urls": {"type": "array"},
        "feed_fields": {"type": "array", "default": ["title"]},
        "start_date": {"type": ["string", "null"]},
    },
    "required": ["feed_urls", "feed_fields"],
}


def test_a_required_setting_with_a_default_may_be_left_out():
    spec = SettingsSpec.from_json_schema(ABOUT_SETTINGS)
    assert settings_problems({"feed_urls": ["http://x"]}, spec, "source.config") == []


def test_missing_unknown_and_ill_typed_settings_are_each_named():
    spec = SettingsSpec.from_json_schema(ABOUT_SETTINGS)
    problems = settings_problems({"feed_url": "x", "start_date": 3}, spec, "source.config")
    assert problems == [
        ("source.config.feed_url", "unknown setting (did you mean 'feed_urls'?)"),
        ("source.config.start_date", "expected string or null"),
        ("source.config.feed_urls", "required setting is missing"),
    ]
