"""The app's long-lived parts, built once per process by ``create_app`` and shared by requests,
CLI commands and jobs: settings, database, token cipher, Shopify gateway and job queue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from .crypto import TokenCipher
from .db import Database
from .models import utcnow
from .settings import Settings

if TYPE_CHECKING:
    from .jobs import JobQueue
    from .shopify.gateway import ShopifyGateway


@dataclass
class Kanta:
    settings: Settings
    db: Database
    cipher: TokenCipher
    shopify: ShopifyGateway
    clock: Callable[[], datetime] = utcnow
    # Set right after construction: a job queue runs jobs with this Kanta.
    jobs: JobQueue = field(init=False)
    extras: dict[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()


def init_app(app: Flask, kanta: Kanta) -> None:
    app.extensions["kanta"] = kanta


def kanta() -> Kanta:
    """The running app's ``Kanta`` (inside a request, CLI command or app context)."""
    instance: Kanta = current_app.extensions["kanta"]
    return instance
