"""Flask commands: ``users create``, ``demo seed``, ``keys rotate`` (and the console script)."""

from __future__ import annotations

import logging
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

from webapp.clients import get_clients
from webapp.models import Role
from webapp.services import accounts, demo, keys

log = logging.getLogger(__name__)

users_cli = AppGroup("users", help="Manage logins.")
demo_cli = AppGroup("demo", help="The demo organisation (make run).")
keys_cli = AppGroup("keys", help="Token-encryption keys.")


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


def register_cli(app: Flask) -> None:
    """Add our command groups to ``flask``."""
    for group in (users_cli, demo_cli, keys_cli):
        app.cli.add_command(group)


def main() -> None:
    """The ``bookly-bridge`` console script: ``flask`` bound to this app."""
    from webapp import create_app

    FlaskGroup(create_app=create_app)()
