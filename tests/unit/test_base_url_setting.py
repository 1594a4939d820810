"""REVIEWFLOW_BASE_URL, the service's address for links in e-mails: kept without its trailing slash, absent
when unset, and refused at start when it is not an http(s) address."""

from __future__ import annotations

import pytest

from engine import config


def test_the_base_url_is_kept_without_its_trailing_slash_and_is_optional():
    env = {"REVIEWFLOW_DATABASE_URL": "sqlite://"}
    assert config.load(env).base_url is None
    assert config.load({**env, "REVIEWFLOW_BASE_URL": " https://reviews.example.org/ "}).base_url == (
        "https://reviews.example.org"
    )
    assert config.load({**env, "REVIEWFLOW_BASE_URL": "http://10.0.0.5:8000/reviews"}).base_url == (
        "http://10.0.0.5:8000/reviews"
    )


@pytest.mark.parametrize("wrong", ["reviews.example.org", "ftp://reviews.example.org", "https://a b.org"])
def test_a_base_url_that_is_not_an_http_address_is_refused(wrong):
    with pytest.raises(config.ConfigError, match="REVIEWFLOW_BASE_URL"):
        config.load({"REVIEWFLOW_DATABASE_URL": "sqlite://", "REVIEWFLOW_BASE_URL": wrong})
