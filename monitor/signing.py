"""The Ed25519 key a month's close of the evidence chain is signed with (``storage/chain.py`` says what is
signed).

Imported only where a key is set (the config's check of it, the daemon's closes, the web's public
key): cryptography is a probe library the daemon's process otherwise never loads. The key comes from
``evidence.signing_key``: the PEM text itself (``${VAR}``) or the path of a file that holds it
(``sla-monitor evidence keygen`` writes one). The public key is PEM (SubjectPublicKeyInfo), so that
anyone checks a signature with this package or with OpenSSL."""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class SigningKeyError(ValueError):
    """A signing or public key that cannot be used, with what to do about it (never the key)."""


def generate(path: Path) -> str:
    """Write a new private key to ``path`` (readable by its owner only; an existing file is refused) and
    return its public key as PEM."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return public_pem(key)


def load(value: str) -> Ed25519PrivateKey:
    """The private key from PEM text or from the file it names."""
    text = value.encode() if "-----BEGIN" in value else _read(Path(value))
    try:
        key = serialization.load_pem_private_key(text, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"not an unencrypted PEM private key ({type(exc).__name__}); create one with "
                        "`sla-monitor evidence keygen --output FILE`") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"a {type(key).__name__.removeprefix('_')} key, not Ed25519; create one with "
                        "`sla-monitor evidence keygen --output FILE`")
    return key


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read the key file {path} ({exc.strerror}); give its path, or the PEM text "
                        "itself through ${{VAR}}") from None


def public_pem(key: Ed25519PrivateKey) -> str:
    """The public half as PEM text."""
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign(key: Ed25519PrivateKey, text: bytes) -> str:
    """The signature of ``text``, hex."""
    return key.sign(text).hex()


def verifies(public: str, text: bytes, signature: str) -> bool:
    """Whether ``signature`` (hex) is the PEM public key's over ``text``."""
    try:
        key = serialization.load_pem_public_key(public.encode())
    except ValueError:
        raise SigningKeyError("not a PEM public key (the file `evidence export` bundles, or /evidence/public-key)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError("not an Ed25519 public key")
    try:
        key.verify(bytes.fromhex(signature), text)
    except (InvalidSignature, ValueError):
        return False
    return True
