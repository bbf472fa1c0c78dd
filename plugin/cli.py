"""Command-line entry points: ``flask --app app <group> <command>``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import Connection, create_engine, func, select
from sqlalchemy.pool import NullPool

from .runtime import Kanta, kanta

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> AlembicConfig:
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@contextmanager
def migration_connection(database_url: str) -> Iterator[tuple[AlembicConfig, Connection]]:
    """A connection for Alembic on a plain engine, never the app's.

    The app's SQLite connections turn foreign keys on; Alembic's batch mode rebuilds a table by
    dropping it, which with foreign keys on would fire ON DELETE actions and empty or unlink
    every child table. A plain connection leaves them off, as SQLite's batch migrations need.
    """
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            config = alembic_config(database_url)
            config.attributes["connection"] = connection
            yield config, connection
            if connection.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
    finally:
        engine.dispose()


def upgrade_database(app_kanta: Kanta, revision: str = "head") -> None:
    with migration_connection(app_kanta.settings.database_url) as (config, _):
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
    with migration_connection(kanta().settings.database_url) as (config, _):
        alembic_command.downgrade(config, revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (developers)."""
    with migration_connection(kanta().settings.database_url) as (config, _):
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
    """Re-sum every customer's ledger and report any projection that disagrees; re-derive every
    awarded order's points from its stored events and report any order whose entries differ."""
    from .ledger import verify_ledger, verify_orders
    from .models import Customer, Order, Shop

    k = kanta()
    with k.db.read(long_running=True) as session:
        shops = list(session.scalars(select(Shop).order_by(Shop.domain)))
        problems = verify_ledger(session, shops)
        order_problems = [p for shop in shops for p in verify_orders(session, shop)]
        customers = session.scalar(select(func.count(Customer.id)))
        orders = session.scalar(select(func.count(Order.id)).where(Order.award_status == "awarded"))
    for p in problems:
        click.echo(
            f"MISMATCH {p.shop_domain} customer={p.customer_id} {p.field}: "
            f"stored {p.projected}, ledger {p.ledger}"
        )
    for o in order_problems:
        click.echo(
            f"MISMATCH {o.shop_domain} order={o.shopify_order_id}: "
            f"its events call for {o.expected} points, its entries sum to {o.ledger}"
        )
    if problems or order_problems:
        click.echo(f"{len(problems) + len(order_problems)} mismatch(es)")
        sys.exit(1)
    click.echo(
        f"ledger ok: {customers} customers in {len(shops)} shops match their entries; "
        f"{orders} awarded orders match their events"
    )


@click.group("jobs", cls=AppGroup, help="Background jobs, run now.")
def jobs_group() -> None:
    pass


@jobs_group.command("daily")
def jobs_daily() -> None:
    """Release pending points, expire inactive balances and age tiers, now."""
    from .jobs import run_daily

    click.echo(run_daily(kanta()))
