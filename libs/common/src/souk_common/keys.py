"""RSA key material for RS256 tokens: PEM in, JWK out, and stable key ids.

A key's id (``kid``) is its RFC 7638 JWK thumbprint, so the same public key
always has the same id wherever it is loaded, and no registry of ids is needed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

RSA_KEY_BITS = 2048


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_to_int(text: str) -> int:
    padded = text + "=" * (-len(text) % 4)
    return int.from_bytes(base64.urlsafe_b64decode(padded), "big")


@dataclass(frozen=True)
class PublicKey:
    """An RSA public key with its key id."""

    key: rsa.RSAPublicKey
    kid: str

    @classmethod
    def from_key(cls, key: rsa.RSAPublicKey) -> PublicKey:
        return cls(key=key, kid=thumbprint(key))

    @classmethod
    def from_pem(cls, pem: str | bytes) -> PublicKey:
        """Load a PEM public key, or the public half of a PEM private key."""
        data = pem.encode() if isinstance(pem, str) else pem
        if b"PUBLIC KEY-----" not in data:
            return SigningKey.from_pem(data).public
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("only RSA public keys are supported")
        return cls.from_key(key)

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> PublicKey:
        """Load an RSA key from a JWK; its ``kid`` is recomputed, never trusted."""
        if jwk.get("kty") != "RSA":
            raise ValueError("only RSA keys are supported")
        numbers = rsa.RSAPublicNumbers(_b64url_to_int(jwk["e"]), _b64url_to_int(jwk["n"]))
        return cls.from_key(numbers.public_key())

    def to_jwk(self) -> dict[str, str]:
        """The key as a JWK for signature verification with RS256."""
        numbers = self.key.public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }

    def to_pem(self) -> str:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """An RSA private key and its public half."""

    key: rsa.RSAPrivateKey
    public: PublicKey

    @classmethod
    def generate(cls) -> SigningKey:
        """A new 2048-bit RSA key."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
        return cls(key=key, public=PublicKey.from_key(key.public_key()))

    @classmethod
    def from_pem(cls, pem: str | bytes) -> SigningKey:
        data = pem.encode() if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("only RSA private keys are supported")
        return cls(key=key, public=PublicKey.from_key(key.public_key()))

    @property
    def kid(self) -> str:
        return self.public.kid

    def to_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")


def thumbprint(key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key."""
    numbers = key.public_numbers()
    canonical = json.dumps(
        {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)},
        separators=(",", ":"),
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def read_pem(*, value: str = "", path: str = "") -> str:
    """A PEM from a variable's value (``\\n`` escapes allowed) or from a file path."""
    if value:
        return value.replace("\\n", "\n")
    if path:
        return Path(path).read_text()
    return ""


def ensure_private_key_file(path: Path) -> SigningKey:
    """Load the private key at ``path``, generating it (mode 0600) on first use."""
    if path.exists():
        return SigningKey.from_pem(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    signing_key = SigningKey.generate()
    path.touch(mode=0o600)
    path.write_text(signing_key.to_pem())
    return signing_key
