"""Environment presets, base-URL handling and where credentials come from."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshi_sandbox.client import (
    DEMO,
    PRODUCTION,
    SANDBOX,
    Credentials,
    CredentialsError,
    Environment,
    KalshiClient,
    resolve_environment,
)


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def test_presets_point_at_the_sandbox_and_kalshis_documented_hosts() -> None:
    assert (SANDBOX.rest_url, SANDBOX.ws_url) == ("http://127.0.0.1:8000/trade-api/v2",
                                                  "ws://127.0.0.1:8000/trade-api/ws/v2")
    assert (DEMO.rest_url, DEMO.ws_url) == (
        "https://external-api.demo.kalshi.co/trade-api/v2",
        "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2")
    assert (PRODUCTION.rest_url, PRODUCTION.ws_url) == (
        "https://external-api.kalshi.com/trade-api/v2",
        "wss://external-api-ws.kalshi.com/trade-api/ws/v2")
    assert resolve_environment("prod") is resolve_environment("production") is PRODUCTION
    with pytest.raises(ValueError, match="unknown environment"):
        resolve_environment("staging")


@pytest.mark.parametrize("base_url", ["http://10.0.0.5:9000", "http://10.0.0.5:9000/",
                                      "http://10.0.0.5:9000/trade-api/v2",
                                      "http://10.0.0.5:9000/trade-api/v2/"])
def test_base_url_may_be_a_server_root_or_a_rest_url(base_url: str) -> None:
    env = Environment.from_base_url(base_url)
    assert env.rest_url == "http://10.0.0.5:9000/trade-api/v2"
    assert env.ws_url == "ws://10.0.0.5:9000/trade-api/ws/v2"


def test_https_base_url_behind_a_prefix_maps_to_wss_and_keeps_the_prefix() -> None:
    env = resolve_environment("sandbox", "https://example.test/kalshi")
    assert env.rest_url == "https://example.test/kalshi/trade-api/v2"
    assert env.ws_url == "wss://example.test/kalshi/trade-api/ws/v2"
    assert env.ws_path == "/kalshi/trade-api/ws/v2"


def test_credentials_come_from_the_path_variable_or_the_pem_variable(
        pem: str, tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text(pem)
    by_path = Credentials.from_env({"KALSHI_API_KEY_ID": "k1",
                                    "KALSHI_PRIVATE_KEY_PATH": str(path)})
    by_text = Credentials.from_env({"KALSHI_API_KEY_ID": "k1", "KALSHI_PRIVATE_KEY": pem})
    pem_in_path_variable = Credentials.from_env({"KALSHI_API_KEY_ID": "k1",
                                                 "KALSHI_PRIVATE_KEY_PATH": pem})
    for found in (by_path, by_text, pem_in_path_variable):
        assert found is not None
        assert found.key_id == "k1"
        assert found.private_key.private_numbers() == (  # type: ignore[union-attr]
            by_text.private_key.private_numbers())  # type: ignore[union-attr]
    assert Credentials.from_env({}) is None


def test_half_a_credential_pair_is_an_error_naming_the_missing_half(pem: str) -> None:
    with pytest.raises(CredentialsError, match="KALSHI_API_KEY_ID is not"):
        Credentials.from_env({"KALSHI_PRIVATE_KEY": pem})
    with pytest.raises(CredentialsError, match="neither KALSHI_PRIVATE_KEY_PATH"):
        Credentials.from_env({"KALSHI_API_KEY_ID": "k1"})
    with pytest.raises(CredentialsError, match="cannot read the private key file"):
        Credentials.from_env({"KALSHI_API_KEY_ID": "k1",
                              "KALSHI_PRIVATE_KEY_PATH": "/nonexistent/key.pem"})
    with pytest.raises(CredentialsError, match="give both"):
        KalshiClient(key_id="k1")


def test_client_reads_the_environment_unless_told_not_to(
        pem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KALSHI_API_KEY_ID", "from-env")
    monkeypatch.setenv("KALSHI_PRIVATE_KEY", pem)
    monkeypatch.delenv("KALSHI_PRIVATE_KEY_PATH", raising=False)
    with KalshiClient("demo") as client:
        assert client.key_id == "from-env"
        assert client.base_url == DEMO.rest_url
    with KalshiClient("demo", credentials_from_env=False) as client:
        assert client.key_id is None
    with KalshiClient(key_id="explicit", private_key=pem) as client:
        assert client.key_id == "explicit"


def test_demo_manifest_keys_are_found_next_to_the_manifest_when_paths_moved(
        pem: str, tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "maker.pem").write_text(pem)
    (tmp_path / "demo-accounts.json").write_text(
        '[{"name": "maker", "user_id": "u", "key_id": "k-maker", '
        '"key_path": "elsewhere/keys/maker.pem", "balance_dollars": "10000"}]')
    assert Credentials.sandbox_demo("maker", tmp_path).key_id == "k-maker"
    with pytest.raises(CredentialsError, match="found: maker"):
        Credentials.sandbox_demo("requester", tmp_path)
