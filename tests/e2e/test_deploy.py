"""The shipped deployment (deploy/: systemd units, their settings, nginx) is consistent, and
an instance started exactly as the unit starts it serves a shared exchange (docs/deploy.md)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpx
import pytest

from kalshi_sandbox.settings import Settings, is_loopback
from tests.support import postgres
from tests.support.server import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "kalshi-sandbox@.service"
ENV = ROOT / "deploy" / "systemd" / "sandbox.env"
NGINX = ROOT / "deploy" / "nginx" / "kalshi-sandbox.conf"
DOCS = ROOT / "docs" / "deploy.md"


def unit_sections(text: str) -> dict[str, dict[str, list[str]]]:
    """Read a systemd unit: section -> key -> values (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def env_file(text: str) -> dict[str, str]:
    """Read a systemd EnvironmentFile: KEY=VALUE lines."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def instance_ports() -> list[int]:
    """Return the ports the docs enable instances on (kalshi-sandbox@<port>)."""
    return sorted({int(p) for p in re.findall(r"kalshi-sandbox@(\d+)", DOCS.read_text())})


def test_the_unit_runs_serve_on_its_instance_port_with_the_shared_settings() -> None:
    service = unit_sections(UNIT.read_text())["Service"]
    command = shlex.split(service["ExecStart"][0])
    assert command[0].endswith("/kalshi-sandbox")
    assert command[1:] == ["serve", "--port", "%i"]
    assert service["EnvironmentFile"] == ["/etc/kalshi-sandbox/sandbox.env"]
    assert service["Restart"] == ["always"]
    assert service["KillSignal"] == ["SIGTERM"]
    assert "multi-user.target" in unit_sections(UNIT.read_text())["Install"]["WantedBy"]


def test_the_settings_are_valid_for_several_instances_behind_a_local_proxy() -> None:
    env = env_file(ENV.read_text())
    assert all(key.startswith("KALSHI_SANDBOX_") for key in env)
    for port in instance_ports():
        settings = Settings.from_env(env).replace(port=port)
        settings.validate()
        assert settings.postgres
        assert settings.multi_instance
        assert is_loopback(settings.host)
        assert settings.forwarded_allow_ips == "127.0.0.1"
        assert settings.admin_token
        assert settings.rate_limit != "off"
    assert instance_ports() == [8101, 8102]


def test_nginx_terminates_tls_and_spreads_over_every_instance() -> None:
    conf = NGINX.read_text()
    upstream = re.search(r"upstream kalshi_sandbox \{(.*?)\}", conf, re.S)
    assert upstream is not None
    ports = sorted(int(p) for p in re.findall(r"server 127\.0\.0\.1:(\d+)", upstream.group(1)))
    assert ports == instance_ports()
    assert "listen 443 ssl;" in conf
    assert re.search(r"ssl_certificate\s+/", conf)
    env = env_file(ENV.read_text())
    assert f"server_name {env['KALSHI_SANDBOX_ALLOWED_HOSTS']};" in conf
    # The proxy overwrites the forwarded address (never appends what the client sent).
    assert conf.count("proxy_set_header X-Forwarded-For $remote_addr;") == 2
    assert "$proxy_add_x_forwarded_for" not in conf
    websocket = conf[conf.index("location /trade-api/ws/"):]
    assert "proxy_set_header Upgrade $http_upgrade;" in websocket
    assert "proxy_set_header Connection $connection_upgrade;" in websocket
    assert "proxy_next_upstream off;" in conf


@pytest.mark.postgres
@postgres.skip_if_down()
def test_an_instance_started_as_the_unit_starts_it_serves_behind_its_token(
        tmp_path: Path) -> None:
    env = env_file(ENV.read_text())
    schema = postgres.new_schema()
    postgres.create(schema)
    token = "a-test-token-long-enough-to-pass"
    env |= {"KALSHI_SANDBOX_DB": postgres.url(schema), "KALSHI_SANDBOX_ADMIN_TOKEN": token,
            "KALSHI_SANDBOX_DATA_DIR": str(tmp_path), "KALSHI_SANDBOX_LOG_LEVEL": "warning"}
    # ``serve --port <port>``, as the unit runs it (ServerProcess adds the port itself).
    server = ServerProcess(tmp_path, args=(), env=env, port=free_port(), token=token)
    try:
        server.start()
        base = server.base_url
        assert httpx.get(base + "/sandbox/v1/health").status_code == 401
        bearer = {"Authorization": f"Bearer {token}"}
        assert httpx.get(base + "/sandbox/v1/health", headers=bearer).status_code == 200
        refused = httpx.post(base + "/sandbox/v1/clock/advance", json={"seconds": 1},
                             headers=bearer)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "single_instance_only"
    finally:
        server.stop()
        postgres.drop_made()
