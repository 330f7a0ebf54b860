"""Settings and the feeds file: bad values fail at start, naming key and source."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from config.errors import ConfigError
from config.feeds import FeedSpec, add_feed, load_feeds, remove_feed
from config.settings import CONFIG_DIR, load_settings, parse_duration


def test_env_overrides_file_and_lists_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    file = tmp_path / "newsmon.toml"
    file.write_text('poll_interval = "5m"\nsmtp_port = 2525\nspacy_model = "from_file"\n')
    monkeypatch.setenv("NEWSMON_SPACY_MODEL", "from_env")
    monkeypatch.setenv("NEWSMON_ALLOWED_NETWORKS", "127.0.0.0/8, 10.1.0.0/16")
    monkeypatch.setenv("NEWSMON_DIGEST_TO", "a@example.org,b@example.org")
    settings = load_settings(file)
    assert settings.poll_interval == 300 and settings.smtp_port == 2525
    assert settings.spacy_model == "from_env"
    assert settings.allowed_networks == [ipaddress.ip_network("127.0.0.0/8"),
                                         ipaddress.ip_network("10.1.0.0/16")]
    assert settings.digest_to == ["a@example.org", "b@example.org"]


def test_defaults_are_safe():
    settings = load_settings()
    assert settings.allowed_networks == []  # nothing private is reachable by default
    assert settings.database_url.startswith("sqlite:")
    assert settings.smtp_password is None


@pytest.mark.parametrize(
    ("content", "key"),
    [('poll_interval = "soon"', "poll_interval"), ("smtp_port = 0", "smtp_port"),
     ('digest_tz = "Mars/Olympus"', "digest_tz"), ('bogus = 1', "bogus"),
     ('smtp_security = "maybe"', "smtp_security"), ('allowed_networks = "300.1.1.1/8"',
                                                    "allowed_networks")],
)
def test_bad_file_value_names_key_and_file(tmp_path: Path, content: str, key: str):
    file = tmp_path / "bad.toml"
    file.write_text(content + "\n")
    with pytest.raises(ConfigError) as err:
        load_settings(file)
    assert key in str(err.value) and str(file) in str(err.value)


def test_bad_env_value_names_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NEWSMON_DIGEST_TO", "not-an-address")
    with pytest.raises(ConfigError, match="NEWSMON_DIGEST_TO"):
        load_settings()


def test_missing_settings_file_is_clear(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("15m", 900), ("2h", 7200),
                                               ("1d", 86400), ("45", 45), (12, 12)])
def test_durations(text: str | int, seconds: float):
    assert parse_duration(text) == seconds


def test_shipped_feed_list_is_valid_and_sized():
    specs = load_feeds(CONFIG_DIR / "feeds.toml")
    assert 15 <= len(specs) <= 30
    assert all(s.url.startswith("https://") and s.tags for s in specs)


@pytest.mark.parametrize(
    ("content", "needle"),
    [('[[feed]]\nname = "x"\nurl = "ftp://a/b"\n', "feed #1: key 'url'"),
     ('[[feed]]\nurl = "https://a/b"\n', "feed #1: key 'name'"),
     ('[[feed]]\nname = "x"\nurl = "https://a/b"\ninterval = "often"\n', "key 'interval'"),
     ('[[feed]]\nname = "x"\nurl = "https://a/b"\ncolour = 1\n', "unknown key"),
     ('[[feed]]\nname = "x"\nurl = "https://a/b"\n[[feed]]\nname = "x"\nurl = "https://c/"\n',
      "duplicate feed name"),
     ("[[feed]\n", "not valid TOML")],
)
def test_bad_feeds_file_names_file_entry_and_key(tmp_path: Path, content: str, needle: str):
    file = tmp_path / "feeds.toml"
    file.write_text(content)
    with pytest.raises(ConfigError) as err:
        load_feeds(file)
    assert needle in str(err.value) and str(file) in str(err.value)


def test_add_and_remove_keep_comments(tmp_path: Path):
    file = tmp_path / "feeds.toml"
    file.write_text('# my feeds\n\n[[feed]]\nname = "A"\nurl = "https://a.example/rss"\n')
    add_feed(file, FeedSpec('B "quoted"', "https://b.example/rss", 600, ("x",)))
    assert [s.name for s in load_feeds(file)] == ["A", 'B "quoted"']
    with pytest.raises(ConfigError, match="exists already"):
        add_feed(file, FeedSpec("A", "https://a.example/other"))
    remove_feed(file, "A")
    assert [s.name for s in load_feeds(file)] == ['B "quoted"']
    assert file.read_text().startswith("# my feeds")
    assert load_feeds(file)[0].interval_s == 600


def test_smtp_login_without_transport_security_is_refused(monkeypatch: pytest.MonkeyPatch):
    # smtplib would send AUTH PLAIN/LOGIN, i.e. the password, in clear text.
    monkeypatch.setenv("NEWSMON_SMTP_USER", "digest")
    monkeypatch.setenv("NEWSMON_SMTP_PASSWORD", "hunter2")
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    for needle in ("NEWSMON_SMTP_USER", "NEWSMON_SMTP_SECURITY",
                   "NEWSMON_SMTP_ALLOW_PLAINTEXT_LOGIN", "starttls"):
        assert needle in message
    assert "hunter2" not in message


def test_smtp_login_without_security_is_refused_from_the_file_too(tmp_path: Path):
    file = tmp_path / "newsmon.toml"
    file.write_text('smtp_user = "digest"\nsmtp_security = "none"\n')
    with pytest.raises(ConfigError, match="NEWSMON_SMTP_SECURITY"):
        load_settings(file)


@pytest.mark.parametrize(
    ("env", "security"),
    [({"NEWSMON_SMTP_SECURITY": "starttls"}, "starttls"),
     ({"NEWSMON_SMTP_SECURITY": "ssl"}, "ssl"),
     ({"NEWSMON_SMTP_ALLOW_PLAINTEXT_LOGIN": "true"}, "none")],
)
def test_smtp_login_is_accepted_over_tls_or_when_plaintext_is_allowed(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], security: str
):
    monkeypatch.setenv("NEWSMON_SMTP_USER", "digest")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.smtp_user == "digest" and settings.smtp_security == security


def test_plaintext_login_is_off_by_default():
    settings = load_settings()
    assert settings.smtp_allow_plaintext_login is False
    assert settings.smtp_user is None and settings.smtp_security == "none"  # no login: fine
