"""What every ``newsmon`` command receives: the settings and, on first use, the database."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from config.settings import Settings
from storage.db import Database, open_database


@dataclass
class App:
    """What every command gets: the settings and, on first use, the database."""

    settings: Settings
    _db: Database | None = field(default=None, repr=False)

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = open_database(self.settings.database_url)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


pass_app = click.make_pass_decorator(App)
