"""Login and password behaviour for user models."""
import typing as t

import peewee as pw
from passlib.utils import saslprep

from ...main import auth
from ..base import BaseModel


class Authenticable(BaseModel):
    """A model that can sign in with a login and a password.

    Abstract: it has no table of its own, the fields land in the tables of
    the models that inherit from it (e.g. `User`).
    """

    login = pw.CharField(max_length=255, unique=True, index=True)
    password = pw.CharField(max_length=255)

    @classmethod
    def normalize_login(cls, login: str | None) -> str:
        """Case-fold a login and drop every space: `" Bob@X.io "` -> `"bob@x.io"`."""
        login = saslprep((login or "").strip()).casefold()
        return login.replace(" ", "")

    @classmethod
    def create(cls, **data) -> t.Any:
        """Insert a row, normalizing the login and hashing the password."""
        if data.get("login"):
            data["login"] = cls.normalize_login(data["login"])
        if data.get("password"):
            data["password"] = auth.hash_password(data["password"])
        return super().create(**data)

    @classmethod
    def get_by_login(cls, login: str | None) -> t.Any:
        """The user with this (normalized) login, or `None`. Used by `app.auth`."""
        return cls.get_or_none(cls.login == cls.normalize_login(login))

    @classmethod
    def authenticate(cls, login: str | None, password: str | None) -> t.Any:
        """The user if the login exists and the password matches, else `None`."""
        return auth.authenticate(cls, cls.normalize_login(login), password)

    def set_password(self, password: str) -> None:
        """Hash and set a new password (call `save()` afterwards)."""
        self.password = auth.hash_password(password)

    def check_password(self, password: str) -> bool:
        """Whether `password` matches the stored hash."""
        return auth.password_is_valid(password, self.password)
