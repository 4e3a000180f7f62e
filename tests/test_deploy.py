"""Deployment files (docs/DEPLOY.md): the production Streamlit config parses and has the
safe settings, the repository's own config is production-safe too, the nginx example
closes /_stcore/metrics, upgrades the WebSocket and sends the security headers."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from streamlit.config import ShowErrorDetailsConfigOptions

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


@pytest.mark.parametrize("path", [DEPLOY / "config.production.toml",
                                  ROOT / ".streamlit" / "config.toml"])
def test_streamlit_config_is_production_safe(path: Path) -> None:
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert "none" in {o.value for o in ShowErrorDetailsConfigOptions}  # a valid value
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["headless"] is True
    assert config["server"]["maxUploadSize"] == 50
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"].get("enableCORS", True) is True
    # Per-page cost under load (benchmarks/bench_load.py): no gc.collect() after each run.
    assert config["runner"]["postScriptGC"] is False


def test_production_config_listens_on_localhost_only() -> None:
    config = tomllib.loads((DEPLOY / "config.production.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["global"]["developmentMode"] is False
    unit = (DEPLOY / "hjo-dashboard.service").read_text(encoding="utf-8")
    assert "--server.address 127.0.0.1" in unit and "HJO_CLIENT_IP_HEADER=X-Real-IP" in unit


def test_nginx_example() -> None:
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"location = /_stcore/metrics \{ return 404; \}", conf)
    assert "return 301 https://" in conf and "ssl_certificate " in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "proxy_set_header X-Real-IP $remote_addr;" in conf
    headers = dict(re.findall(r'add_header ([\w-]+) "([^"]*)" always;', conf))
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    csp = dict(part.strip().split(" ", 1) for part in
               headers["Content-Security-Policy"].split(";"))
    assert csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'self'"
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]
    assert csp["object-src"] == "'none'"
