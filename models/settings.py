"""One typed settings object: a TOML file in the user's config directory, overridden by
``ROTA_…`` environment variables (``ROTA_CONFIG`` names another file, which tests use)."""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path

import platformdirs
import tomli_w

from models.enums import MisfirePolicy
from models.errors import RotaError
from models.timeutil import zone

MISFIRE_POLICIES = tuple(MisfirePolicy)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _system_zone() -> str:
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


@dataclass
class Settings:
    timezone: str = field(default_factory=_system_zone)
    db: str = ""  # empty: ROTA_DB, else the SQLite file in the user's data directory
    run_engine: bool = True
    misfire_policy: str = MisfirePolicy.RUN_ONCE_LATE.value
    grace_seconds: int = 3600
    holidays: list[str] = field(default_factory=list)  # ISO dates that are not business days
    business_days: list[str] = field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    theme: str = "textual-dark"
    operator: str = ""
    operators: list[str] = field(default_factory=list)  # the team's roster: who notify steps may address
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "rota@localhost"
    smtp_starttls: bool = False  # upgrade the connection with STARTTLS before sending
    smtp_user: str = ""  # log in when set
    smtp_password: str = ""  # ROTA_SMTP_PASSWORD overrides; never shown, never logged
    email_rate_per_minute: int = 60  # send_email steps: at most this many messages a minute
    webhook_allow_hosts: list[str] = field(default_factory=list)  # empty: webhooks may go anywhere

    def validate(self) -> Settings:
        zone(self.timezone)
        if self.misfire_policy not in MISFIRE_POLICIES:
            raise RotaError(f'misfire policy "{self.misfire_policy}" is unknown: '
                            f'use one of {", ".join(MISFIRE_POLICIES)}')
        if self.grace_seconds < 0:
            raise RotaError("grace window must be 0 seconds or more")
        for d in self.holidays:
            try:
                date.fromisoformat(d)
            except ValueError:
                raise RotaError(f'holiday "{d}" is not a date: use YYYY-MM-DD') from None
        if not 1 <= self.email_rate_per_minute <= 100_000:
            raise RotaError("email_rate_per_minute must be a whole number from 1 to 100000")
        bad = [d for d in self.business_days if d not in WEEKDAYS]
        if bad or not self.business_days:
            raise RotaError(f"business days must be a non-empty list of {', '.join(WEEKDAYS)}")
        return self


def config_path() -> Path:
    env = os.environ.get("ROTA_CONFIG")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir("rota")) / "settings.toml"


def _coerce(kind: type | str, value, name: str):
    kind = str(kind)
    try:
        if "bool" in kind:
            if isinstance(value, bool):
                return value
            return str(value).strip().lower() in ("1", "true", "yes", "on")
        if "int" in kind:
            return int(value)
        if "list" in kind:
            if isinstance(value, list):
                return [str(v) for v in value]
            return [v.strip() for v in str(value).split(",") if v.strip()]
        return str(value)
    except (TypeError, ValueError):
        raise RotaError(f'setting "{name}" has a bad value {value!r}') from None


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_path()
    values: dict = {}
    if path.exists():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError, RecursionError) as exc:
            raise RotaError(f"settings file {path} cannot be read: {exc}") from None
    settings = Settings()
    for f in fields(Settings):
        if f.name in values:
            setattr(settings, f.name, _coerce(f.type, values[f.name], f.name))
        env = os.environ.get(f"ROTA_{f.name.upper()}")
        if env is not None:
            setattr(settings, f.name, _coerce(f.type, env, f.name))
    return settings.validate()


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    settings.validate()
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    values = dataclasses.asdict(settings)
    if values["smtp_password"] and values["smtp_password"] == os.environ.get("ROTA_SMTP_PASSWORD"):
        values["smtp_password"] = ""  # came from the environment: not copied into the file
    body = tomli_w.dumps(values)  # any text round-trips: quotes, backslashes, newlines
    tmp = path.with_suffix(".tmp")
    # Created 0600 from the start: the file may hold the SMTP password.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(body)
    os.chmod(tmp, 0o600)  # an older .tmp left behind keeps its mode otherwise
    tmp.replace(path)
    return path
