"""Accounts: the user model (custom from the first migration) and service clients."""

from typing import ClassVar

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.db import models
from django.db.models.functions import Lower


class CaseInsensitiveUserManager(UserManager["User"]):
    """Signs users in by username regardless of case, as uniqueness is.

    Every sign-in (the API's and the admin's) finds its account here. A name that is not
    ASCII names no account: usernames are ASCII, and the database's case folding would
    otherwise match look-alikes to one (PostgreSQL's UPPER turns the dotless i, U+0131, into "I").
    """

    def get_by_natural_key(self, username: str | None) -> "User":
        if username is None or not username.isascii():
            raise self.model.DoesNotExist("No user has a username that is not ASCII.")
        return self.get(username__iexact=username)


class User(AbstractUser):
    """An account. Usernames and emails are unique regardless of case.

    An account's address is verified by following a link mailed to it, at sign-up and
    after every change of address (``email_verified``).

    Usernames are ASCII: no look-alike letters from other scripts ("admin" spelt with a
    Cyrillic U+0430), and the same rule in every regex engine (the OpenAPI schema's too).
    """

    username = models.CharField(
        "username",
        max_length=150,
        unique=True,
        help_text="Required. 150 characters or fewer. ASCII letters, digits and @/./+/-/_ only.",
        validators=[ASCIIUsernameValidator()],
        error_messages={"unique": "A user with that username already exists."},
    )
    email = models.EmailField("email address")
    # Whether the owner of ``email`` followed a link mailed to it (accounts.links). Nothing
    # requires it yet, ordering included: it says whether mail to the address is read.
    email_verified = models.BooleanField("email address verified", default=False)

    objects: ClassVar[CaseInsensitiveUserManager] = CaseInsensitiveUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]


class ServiceClient(models.Model):
    """Another service's identity: it trades its id and secret for a scoped service token."""

    client_id = models.SlugField(max_length=64, unique=True)
    secret_hash = models.CharField(max_length=256, editable=False)
    scopes = models.CharField(
        max_length=500, help_text="Space-separated scopes, e.g. 'users:read stock:reserve'."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["client_id"]

    def __str__(self) -> str:
        return self.client_id

    def set_secret(self, raw_secret: str) -> None:
        self.secret_hash = make_password(raw_secret)

    def check_secret(self, raw_secret: str) -> bool:
        return check_password(raw_secret, self.secret_hash)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()
