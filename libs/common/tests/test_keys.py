"""Key ids are RFC 7638 thumbprints; PEM and JWK forms load and round-trip."""

import pytest

from souk_common.keys import PublicKey, SigningKey, ensure_private_key_file, read_pem

# RFC 7638 section 3.1: this key's thumbprint is NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.
RFC_7638_KEY = {
    "kty": "RSA",
    "n": (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
        "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
        "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    ),
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}


def test_kid_is_the_rfc_7638_thumbprint():
    assert PublicKey.from_jwk(RFC_7638_KEY).kid == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_a_jwk_round_trips():
    key = SigningKey.generate().public
    jwk = key.to_jwk()

    assert jwk["alg"] == "RS256"
    assert jwk["kid"] == key.kid
    assert PublicKey.from_jwk(jwk).kid == key.kid


def test_pem_forms_give_the_same_key():
    signing = SigningKey.generate()

    assert SigningKey.from_pem(signing.to_pem()).kid == signing.kid
    assert PublicKey.from_pem(signing.public.to_pem()).kid == signing.kid
    assert PublicKey.from_pem(signing.to_pem()).kid == signing.kid


def test_read_pem_accepts_escaped_newlines_and_files(tmp_path):
    pem = SigningKey.generate().public.to_pem()
    path = tmp_path / "key.pem"
    path.write_text(pem)

    assert read_pem(value=pem.replace("\n", "\\n")) == pem
    assert read_pem(path=str(path)) == pem
    assert read_pem() == ""


def test_private_key_file_is_generated_once_and_private(tmp_path):
    path = tmp_path / "keys" / "signing.pem"

    first = ensure_private_key_file(path)
    second = ensure_private_key_file(path)

    assert first.kid == second.kid
    assert path.stat().st_mode & 0o777 == 0o600


def test_non_rsa_jwk_is_refused():
    with pytest.raises(ValueError, match="RSA"):
        PublicKey.from_jwk({"kty": "EC", "crv": "P-256", "x": "a", "y": "b"})
