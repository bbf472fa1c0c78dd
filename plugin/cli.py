"""Command-line entry points: ``flask --app app <group> <command>``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from .runtime import Kanta, kanta

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> AlembicConfig:
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(app_kanta: Kanta, revision: str = "head") -> None:
    with app_kanta.db.engine.begin() as connection:
        config = alembic_config(app_kanta.settings.database_url)
        config.attributes["connection"] = connection
        alembic_command.upgrade(config, revision)


def register_cli(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(shops_group)
    app.cli.add_command(ledger_group)
    app.cli.add_command(jobs_group)


@click.group("db", cls=AppGroup, help="Create or upgrade the database schema (Alembic).")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    upgrade_database(kanta(), revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    k = kanta()
    with k.db.engine.begin() as connection:
        config = alembic_config(k.settings.database_url)
        config.attributes["connection"] = connection
        alembic_command.downgrade(config, revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (developers)."""
    k = kanta()
    with k.db.engine.begin() as connection:
        config = alembic_config(k.settings.database_url)
        config.attributes["connection"] = connection
        alembic_command.revision(config, message=message, autogenerate=True)


@click.group("shops", cls=AppGroup, help="Installed shops.")
def shops_group() -> None:
    pass


@shops_group.command("install")
@click.argument("domain")
@click.option("--access-token", required=True, help="Admin API access token of a custom app.")
@click.option("--scopes", default="", help="Granted scopes, comma-separated.")
def shops_install(domain: str, access_token: str, scopes: str) -> None:
    """Install Kanta for a shop with a custom app's access token."""
    from .install import InstallError, install_custom_app

    try:
        shop = install_custom_app(kanta(), domain, access_token, scopes=scopes)
    except InstallError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"installed {shop}")


@shops_group.command("list")
def shops_list() -> None:
    from .models import Shop

    with kanta().db.read() as session:
        for shop in session.scalars(select(Shop).order_by(Shop.domain)):
            state = "installed" if shop.is_installed else "uninstalled"
            click.echo(f"{shop.domain}\t{state}\t{shop.scopes}")


@click.group("ledger", cls=AppGroup, help="The points ledger.")
def ledger_group() -> None:
    pass


@ledger_group.command("verify")
def ledger_verify() -> None:
    """Re-sum every customer's ledger and report any projection that disagrees."""
    from .ledger import verify_ledger
    from .models import Customer, Shop

    k = kanta()
    with k.db.read() as session:
        shops = list(session.scalars(select(Shop).order_by(Shop.domain)))
        problems = verify_ledger(session, shops, k.now())
        customers = session.scalar(select(func.count(Customer.id)))
    for p in problems:
        click.echo(
            f"MISMATCH {p.shop_domain} customer={p.customer_id} {p.field}: "
            f"stored {p.projected}, ledger {p.ledger}"
        )
    if problems:
        click.echo(f"{len(problems)} mismatch(es)")
        sys.exit(1)
    click.echo(f"ledger ok: {customers} customers in {len(shops)} shops match their entries")


@click.group("jobs", cls=AppGroup, help="Background jobs, run now.")
def jobs_group() -> None:
    pass


@jobs_group.command("daily")
def jobs_daily() -> None:
    """Release pending points, expire inactive balances and age tiers, now."""
    from .jobs import run_daily

    click.echo(run_daily(kanta()))
