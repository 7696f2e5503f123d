"""/readyz with every service up (our database on SQLite and PostgreSQL, MariaDB Bookly, Redis),
and credentials in service URLs that never reach the answer; who counts as loopback for /metrics
behind a proxy."""

from __future__ import annotations

import socket

from tests.webapp_fixtures import MakeApp


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_all_services_up_is_ready(
    make_app: MakeApp, mariadb_url: str, idle_broker_url: str
) -> None:
    client = make_app(
        BOOKLY_DATABASE_URL=mariadb_url, CELERY_BROKER_URL=idle_broker_url
    ).test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.json
    assert answer.json is not None
    assert answer.json["status"] == "ready"
    checks = (answer.json["database"], answer.json["bookly"], answer.json["broker"])
    assert checks == ("ok", "ok", "ok")


def test_passwords_in_unreachable_service_urls_stay_out_of_the_answer(make_app: MakeApp) -> None:
    client = make_app(
        BOOKLY_DATABASE_URL=f"mysql+pymysql://wp:b00kly-pw@127.0.0.1:{closed_port()}/wp",
        CELERY_BROKER_URL=f"redis://:br0ker-pw@127.0.0.1:{closed_port()}/0",
    ).test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json is not None
    assert (answer.json["bookly"], answer.json["broker"]) == ("unreachable", "unreachable")
    text = answer.get_data(as_text=True)
    for secret in ("b00kly-pw", "br0ker-pw", "pymysql", "redis://"):
        assert secret not in text


def test_metrics_behind_a_proxy_judge_the_forwarded_client(make_app: MakeApp) -> None:
    """Behind one trusted proxy on this host, an outside client is an outsider (404); with no
    proxy trusted, a forged X-Forwarded-For from outside does not make anyone loopback."""
    proxied = make_app(TRUSTED_PROXY_HOPS=1).test_client()
    via_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    outside = proxied.get(
        "/metrics", environ_base=via_proxy, headers={"X-Forwarded-For": "203.0.113.5"}
    )
    assert outside.status_code == 404
    local = proxied.get(
        "/metrics", environ_base=via_proxy, headers={"X-Forwarded-For": "127.0.0.1"}
    )
    assert local.status_code == 200

    direct = make_app(TRUSTED_PROXY_HOPS=0).test_client()
    forged = direct.get(
        "/metrics",
        environ_base={"REMOTE_ADDR": "203.0.113.5"},
        headers={"X-Forwarded-For": "127.0.0.1"},
    )
    assert forged.status_code == 404


def test_metrics_through_a_proxy_that_is_not_trusted_need_the_token(make_app: MakeApp) -> None:
    """A proxy on this host with TRUSTED_PROXY_HOPS left at 0: every caller arrives from
    127.0.0.1, so loopback proves nothing; only METRICS_TOKEN opens /metrics then."""
    client = make_app(TRUSTED_PROXY_HOPS=0, METRICS_TOKEN="m3trics-token-for-tests").test_client()
    via_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for header in ("X-Forwarded-For", "Forwarded"):
        value = "203.0.113.5" if header == "X-Forwarded-For" else "for=203.0.113.5"
        answer = client.get("/metrics", environ_base=via_proxy, headers={header: value})
        assert answer.status_code == 404
    with_token = client.get(
        "/metrics",
        environ_base=via_proxy,
        headers={"X-Forwarded-For": "203.0.113.5",
                 "Authorization": "Bearer m3trics-token-for-tests"},
    )  # fmt: skip
    assert with_token.status_code == 200
    assert client.get("/metrics", environ_base=via_proxy).status_code == 200  # no proxy: local
