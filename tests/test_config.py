"""Settings: precedence (argument > set_options > env > default), routing, timeouts, no secrets in repr."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from imap_explorer.config import DEFAULT_TIMEOUT, DEFAULT_URL, Settings, resolve, set_options


def test_config_defaults_without_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("IMAP_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    s = resolve()
    assert s.url == DEFAULT_URL
    assert s.data_dir == tmp_path / "data"
    assert s.api_key is None
    assert s.access_token is None
    assert s.timeout == DEFAULT_TIMEOUT
    assert s.api_base == DEFAULT_URL
    assert s.auth_headers == {}
    assert not (tmp_path / "data").exists()  # resolving creates nothing


@pytest.mark.parametrize(
    ("name", "env", "value", "option", "argument"),
    [
        ("url", "IMAP_DATA_ACCESS_URL", "http://env:1", "http://option:2", "http://argument:3"),
        ("data_dir", "IMAP_DATA_DIR", "/env/data", "/option/data", "/argument/data"),
        ("api_key", "IMAP_API_KEY", "env-key", "option-key", "argument-key"),
        ("access_token", "IMAP_ACCESS_TOKEN", "env-token", "option-token", "argument-token"),
    ],
)
def test_config_precedence_argument_option_env_default(monkeypatch, name, env, value, option, argument):
    def get(**kwargs):
        got = getattr(resolve(**kwargs), name)
        return str(got) if isinstance(got, Path) else got

    monkeypatch.setenv(env, value)
    assert get() == value
    with set_options(**{name: option}):
        assert get() == option
        assert get(**{name: argument}) == argument
        with set_options(**{name: None}):  # None does not override
            assert get() == option
    assert get() == value  # the option is gone after the block


def test_config_innermost_option_wins_and_is_removed_on_error():
    seen = []

    def failing_block():
        with set_options(url="http://inner:2"):
            seen.append(resolve().url)
            raise RuntimeError("boom")

    with set_options(url="http://outer:1"):
        with pytest.raises(RuntimeError, match="boom"):
            failing_block()
        assert seen == ["http://inner:2"]
        assert resolve().url == "http://outer:1"
    assert resolve().url == DEFAULT_URL


def test_config_environment_is_read_at_call_time(monkeypatch):
    assert resolve().api_key is None
    monkeypatch.setenv("IMAP_API_KEY", "later")
    assert resolve().api_key == "later"
    monkeypatch.setenv("IMAP_API_KEY", "")  # empty means unset
    assert resolve().api_key is None


def test_config_options_are_shared_across_threads():
    seen = []
    with set_options(url="http://shared:9"):
        thread = threading.Thread(target=lambda: seen.append(resolve().url))
        thread.start()
        thread.join()
    assert seen == ["http://shared:9"]


@pytest.mark.parametrize(
    ("api_key", "token", "base", "headers"),
    [
        (None, None, "http://h:1", {}),
        ("K", None, "http://h:1/api-key", {"x-api-key": "K"}),
        (None, "T", "http://h:1/authorized", {"Authorization": "Bearer T"}),
        ("K", "T", "http://h:1/api-key", {"x-api-key": "K"}),
    ],
)
def test_config_routes_by_credential(api_key, token, base, headers):
    s = resolve(url="http://h:1/", api_key=api_key, access_token=token)
    assert s.api_base == base
    assert s.auth_headers == headers


@pytest.mark.parametrize("url", ["http://h:1/api-key", "http://h:1/api-key/", "http://h:1/authorized"])
def test_config_prefix_in_url_is_not_doubled(url):
    assert resolve(url=url, api_key="K").api_base == "http://h:1/api-key"
    assert resolve(url=url, access_token="T").api_base == "http://h:1/authorized"
    assert resolve(url=url).api_base == "http://h:1"


def test_config_timeout_forms():
    assert resolve(timeout=5).timeout == (5.0, 5.0)
    assert resolve(timeout=(1, 2)).timeout == (1, 2)
    with set_options(timeout=3.5):
        assert resolve().timeout == (3.5, 3.5)


@pytest.mark.parametrize("bad", ["ftp://h", "api.imap-mission.com", "http://"])
def test_config_rejects_bad_urls(bad):
    with pytest.raises(ValueError, match=r"Invalid SDC URL .* Expected an http\(s\) URL"):
        resolve(url=bad)


def test_config_secrets_never_in_repr():
    s = Settings(url="http://h", data_dir=Path("d"), api_key="TOPSECRET1", access_token="TOPSECRET2")
    assert "TOPSECRET" not in repr(s)
    assert "TOPSECRET" not in str(s)
    assert "TOPSECRET" not in repr(s.with_(url="http://other"))
    assert s.with_(url="http://other").api_key == "TOPSECRET1"
