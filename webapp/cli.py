"""Flask commands: ``users``, ``demo``, ``keys``, ``api-keys``, ``sync``; and the console script."""

from __future__ import annotations

import logging
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

from webapp.availability_cache import get_availability_cache
from webapp.clients import get_clients
from webapp.models import Role
from webapp.services import accounts, api_keys, demo, keys, sync, upkeep
from webapp.tasks import kick_calendar_sync

log = logging.getLogger(__name__)

users_cli = AppGroup("users", help="Manage logins.")
demo_cli = AppGroup("demo", help="The demo organisation (make run).")
keys_cli = AppGroup("keys", help="Token-encryption keys.")
api_keys_cli = AppGroup("api-keys", help="Keys of the JSON API (/api/v1).")
sync_cli = AppGroup("sync", help="Calendar -> Bookly sync.")


@users_cli.command("create")
@click.option("--email", required=True, help="Login e-mail.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--org", "organisation", required=True, help="Organisation name.")
@click.option("--name", default="", help="Display name.")
@click.option("--time-zone", default="UTC", show_default=True, help="IANA time zone.")
@click.password_option("--password", help="Password (prompted when omitted).")
def create_user_command(
    email: str, role: str, organisation: str, name: str, time_zone: str, password: str
) -> None:
    """Create an instructor or an admin in an organisation (created when missing)."""
    try:
        org = accounts.get_or_create_organisation(organisation)
        user = accounts.create_user(
            email=email,
            password=password,
            role=Role(role),
            organisation=org,
            name=name,
            time_zone=time_zone,
        )
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role.value} {user.email} in {org.name}.")


def _bookly_staff() -> list[Any]:
    """Create the Bookly demo site and list its staff; empty when Bookly is not available."""
    url = current_app.config.get("BOOKLY_DATABASE_URL")
    bookly = get_clients().bookly
    if not url or bookly is None:
        return []
    try:
        from bookly_client.demo import create_demo_site
    except ImportError:
        log.warning("bookly_client.demo is not available; instructors stay unlinked")
        return []
    create_demo_site(url, table_prefix=current_app.config["BOOKLY_TABLE_PREFIX"])
    return list(bookly.list_staff())


@demo_cli.command("seed")
def seed_command() -> None:
    """Create the demo organisation and logins (idempotent)."""
    result = demo.seed_demo(_bookly_staff())
    click.echo(
        f"Demo ready: {len(result.created)} login(s) created, "
        f"{len(result.linked)} instructor(s) linked to Bookly staff."
    )
    for person in demo.DEMO_PEOPLE:
        click.echo(f"  {person.role.value:<10} {person.email:<18} password: {person.password}")


@keys_cli.command("rotate")
def rotate_command() -> None:
    """Re-encrypt every stored token under the first key of TOKEN_ENCRYPTION_KEYS."""
    result = keys.rotate_all(current_app.extensions["token_cipher"])
    click.echo(f"Re-encrypted {result.rotated} token(s).")
    if result.unreadable:
        raise click.ClickException(
            f"{result.unreadable} token(s) open with none of the configured keys; "
            "keep the old key in TOKEN_ENCRYPTION_KEYS until they are fixed."
        )


@api_keys_cli.command("create")
@click.option("--admin", "admin_email", required=True, help="E-mail of the admin creating it.")
@click.option("--name", required=True, help="What will use the key, e.g. 'Booking website'.")
def create_api_key_command(admin_email: str, name: str) -> None:
    """Create an API key for the admin's organisation; the key is the last line printed."""
    admin = accounts.find_user(admin_email)
    if admin is None:
        raise click.ClickException(f"there is no user with e-mail {admin_email}")
    try:
        issued = api_keys.create_key(admin=admin, name=name)
    except api_keys.ApiKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Created API key {issued.api_key.name!r} ({api_keys.display_id(issued.api_key)}) "
        f"for {admin.organisation.name}. It is shown once; store it now:"
    )
    click.echo(issued.key)


@api_keys_cli.command("list")
def list_api_keys_command() -> None:
    """List every API key (key id, status, organisation, name, created, last used)."""
    rows = api_keys.list_keys()
    if not rows:
        click.echo("No API keys.")
    for api_key in rows:
        used = (
            api_key.last_used_at.isoformat(timespec="minutes") if api_key.last_used_at else "never"
        )
        status = "revoked" if api_key.revoked_at else "active"
        click.echo(
            f"{api_keys.display_id(api_key)}  {status:<7}  {api_key.organisation.name}  "
            f"{api_key.name!r}  created {api_key.created_at.isoformat(timespec='minutes')}  "
            f"last used {used}"
        )


@api_keys_cli.command("revoke")
@click.argument("key_id")
def revoke_api_key_command(key_id: str) -> None:
    """Revoke the key with this key id (as listed: bcb_1a2b3c4d5e6f_…)."""
    try:
        api_key = api_keys.revoke_key(api_keys.find_key(key_id), actor_label="cli")
    except api_keys.ApiKeyNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Revoked API key {api_key.name!r} ({api_keys.display_id(api_key)}).")


@sync_cli.command("now")
@click.option("--instructor", "email", default=None, help="Only this instructor's calendar.")
def sync_now_command(email: str | None) -> None:
    """Mirror calendars into Bookly now (a full run, pending notifications or not)."""
    clients = get_clients()
    if clients.bookly is None:
        raise click.ClickException("Bookly is not configured (BOOKLY_DATABASE_URL)")
    ids = sync.connection_ids(email)
    if not ids:
        raise click.ClickException(
            f"no calendar connection for {email}" if email else "no calendar connections"
        )
    horizon = int(current_app.config.get("SYNC_HORIZON_DAYS") or sync.DEFAULT_HORIZON_DAYS)
    for connection_id in ids:
        run = sync.sync_connection(
            clients.cronofy,
            clients.bookly,
            connection_id,
            horizon_days=horizon,
            availability_cache=get_availability_cache(),
            force=True,
        )
        outcome = run.failed or (
            f"{run.created} created, {run.moved} moved, {run.deleted} deleted"
            if run.read
            else "skipped (not connected or no Bookly staff member)"
        )
        click.echo(f"connection {connection_id}: {outcome}")


@sync_cli.command("status")
def sync_status_command() -> None:
    """Per connection: status, last notification, last sync, pending notifications, blocks."""
    rows = sync.sync_status()
    if not rows:
        click.echo("No calendar connections.")

    def when(value: Any) -> str:
        return value.isoformat(timespec="seconds") if value else "never"

    for row in rows:
        click.echo(
            f"{row.email}  {row.status}  last notification {when(row.last_notification_at)}  "
            f"last sync {when(row.last_synced_at)}  pending {row.pending}  blocks {row.blocks}"
            + ("" if row.has_channel else "  no push channel (flask sync upkeep makes it)")
        )


@sync_cli.command("upkeep")
def sync_upkeep_command() -> None:
    """Renew tokens that expire soon and make missing push channels now (beat runs both)."""
    cronofy = get_clients().cronofy
    renewal = upkeep.renew_tokens(cronofy)
    click.echo(f"tokens: {renewal.renewed} renewed, {renewal.failed} failed")
    check = upkeep.check_channels(
        cronofy, webhook_base_url=str(current_app.config["PUBLIC_BASE_URL"])
    )
    for connection_id in check.recreated:
        kick_calendar_sync(connection_id, full=True)
    click.echo(
        f"channels: {check.checked} checked, {len(check.recreated)} made again, "
        f"{check.failed} failed"
    )


def register_cli(app: Flask) -> None:
    """Add our command groups to ``flask``."""
    for group in (users_cli, demo_cli, keys_cli, api_keys_cli, sync_cli):
        app.cli.add_command(group)


def main() -> None:
    """The ``bookly-bridge`` console script: ``flask`` bound to this app."""
    from webapp import create_app

    FlaskGroup(create_app=create_app)()
