"""Settings: environment parsing and validation."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from kalshi_sandbox.settings import ENV_PREFIX, Settings, help_for


def test_settings_defaults_are_valid() -> None:
    Settings().validate()


def test_from_env_without_variables_returns_defaults() -> None:
    assert Settings.from_env({}) == Settings()


def test_from_env_ignores_variables_without_the_prefix() -> None:
    assert Settings.from_env({"PORT": "1", "KALSHI_PORT": "2"}) == Settings()


def test_from_env_converts_each_type() -> None:
    settings = Settings.from_env({
        "KALSHI_SANDBOX_PORT": "9001",
        "KALSHI_SANDBOX_CONFIRM_WINDOW": "2.5",
        "KALSHI_SANDBOX_CLOCK": "manual",
        "KALSHI_SANDBOX_SEED": "false",
        "KALSHI_SANDBOX_TAKER_FEE_MULTIPLIER": "0.05",
    })
    assert settings.port == 9001
    assert settings.confirm_window == 2.5
    assert settings.clock == "manual"
    assert settings.seed is False
    assert settings.taker_fee_multiplier == "0.05"


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on"])
def test_from_env_truthy_words_are_true(raw: str) -> None:
    assert Settings.from_env({"KALSHI_SANDBOX_IDEMPOTENT_CONFIRM": raw}).idempotent_confirm


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", ""])
def test_from_env_falsy_words_are_false(raw: str) -> None:
    assert not Settings.from_env({"KALSHI_SANDBOX_SEED": raw}).seed


@pytest.mark.parametrize(
    ("name", "raw"),
    [("SEED", "maybe"), ("PORT", "eighty"), ("PORT", "80.5"), ("CLOCK_SPEED", "fast"),
     ("MAX_OPEN_RFQS", "")],
)
def test_from_env_unparsable_value_raises_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ValueError, match=f"{ENV_PREFIX}{name}"):
        Settings.from_env({ENV_PREFIX + name: raw})


def test_every_setting_has_help_and_round_trips_through_its_variable() -> None:
    for spec in dataclasses.fields(Settings):
        assert help_for(spec.name).strip(), spec.name
        default = spec.default
        raw = str(default).lower() if isinstance(default, bool) else str(default)
        parsed = Settings.from_env({ENV_PREFIX + spec.name.upper(): raw})
        assert getattr(parsed, spec.name) == default, spec.name


def test_help_for_unknown_setting_raises_key_error() -> None:
    with pytest.raises(KeyError):
        help_for("no_such_setting")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"clock": "sundial"}, "clock must be"),
        ({"clock_speed": 0.0}, "clock_speed must be between 0.001 and 1000"),
        ({"clock_speed": 1e300}, "clock_speed must be between 0.001 and 1000"),
        ({"clock": "manual", "clock_start": "10000-01-01T00:00:00Z"},
         "clock_start must be an RFC 3339"),
        ({"clock": "manual", "clock_start": "9999-12-31T23:59:59-05:00"},
         "clock_start must fall in the years 1970 to 9999"),
        ({"clock": "manual", "clock_start": "1969-12-31T23:59:59Z"},
         "clock_start must fall in the years 1970 to 9999"),
        ({"host": "0.0.0.0"}, "host '0.0.0.0' is not a loopback address"),
        ({"host": "192.168.1.10"}, "Set an admin token"),
        ({"host": "::"}, "not a loopback address"),
        ({"max_body_bytes": 100}, "max_body_bytes must be at least 1024"),
        ({"max_upload_bytes": 2048}, "max_upload_bytes must be at least max_body_bytes"),
        ({"clock_start": "2026-01-01T00:00:00Z"}, "clock_start needs the manual clock"),
        ({"clock": "manual", "clock_start": "soon"}, "clock_start must be an RFC 3339"),
        ({"confirm_window": -1.0}, "confirm_window must not be negative"),
        ({"execution_delay": -0.5}, "execution_delay must not be negative"),
        ({"hvm_confirm_window": -1.0}, "hvm_confirm_window must not be negative"),
        ({"rfq_ttl": -1.0}, "rfq_ttl must not be negative"),
        ({"retention_days": -1.0}, "retention_days must not be negative"),
        ({"legacy_accepted_side": "sometimes"}, "legacy_accepted_side must be"),
        ({"replace_existing_scope": "some"}, "replace_existing_scope must be"),
        ({"journal_events": "some"}, "journal_events must be"),
        ({"journal_segment_mb": 0.0}, "journal_segment_mb must be between"),
        ({"journal_retention_mb": -1.0}, "journal_retention_mb must be between"),
        ({"file_limit_mb": 0.0}, "file_limit_mb must be between"),
        ({"port": 70_000}, "port must be between"),
        ({"port": -1}, "port must be between"),
    ],
)
def test_validate_out_of_range_setting_raises_with_its_name(changes: dict[str, Any],
                                                             message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings().replace(**changes).validate()


def test_validate_manual_clock_with_start_instant_is_valid() -> None:
    Settings(clock="manual", clock_start="2026-01-01T00:00:00Z").validate()
    Settings(port=0).validate()


def test_database_path_defaults_into_the_data_dir() -> None:
    assert Settings(data_dir="/srv/x").database_path == Path("/srv/x/sandbox.db")
    assert Settings(data_dir="/srv/x", db="/tmp/a.db").database_path == Path("/tmp/a.db")


def test_replace_ignores_none_and_applies_the_rest() -> None:
    settings = Settings().replace(port=None, host="0.0.0.0")
    assert (settings.port, settings.host) == (Settings().port, "0.0.0.0")


def test_serve_limits_at_basic_by_default() -> None:
    assert Settings().rate_limit == "basic"


def test_rate_limit_setting_takes_a_tier_or_off() -> None:
    with pytest.raises(ValueError, match=r"rate_limit must be one of basic, .* or off"):
        Settings(rate_limit="none").validate()
    assert Settings.from_env({"KALSHI_SANDBOX_RATE_LIMIT": "off"}).rate_limit == "off"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.5", "localhost", "::1", "[::1]",
                                  "::ffff:127.0.0.1"])
def test_a_loopback_host_needs_no_admin_token(host: str) -> None:
    Settings(host=host).validate()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.7", "sandbox.example.com"])
def test_any_other_host_listens_only_with_an_admin_token(host: str) -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        Settings(host=host).validate()
    Settings(host=host, admin_token="secret").validate()
