"""A stand-in for a Better Auth server's JWKS: real keys, a real HTTP endpoint on loopback.

Tests publish, rotate and withdraw keys, take the endpoint down, and count how often
the API fetched it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

JWKS_PATH = "/api/auth/jwks"


class SigningKey:
    """A private key, its kid, and the public JWK the issuer publishes for it."""

    def __init__(self, kid: str, kind: str) -> None:
        self.kid = kid
        if kind == "ed25519":
            self.private: Any = ed25519.Ed25519PrivateKey.generate()
            jwk = OKPAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
            self.algorithms = ["EdDSA"]
        elif kind == "p256":
            self.private = ec.generate_private_key(ec.SECP256R1())
            jwk = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
            self.algorithms = ["ES256"]
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
            self.algorithms = ["RS256", "PS256"]
        self.jwk = {**jwk, "kid": kid}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(  # type: ignore[no-any-return]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class Issuer:
    """The JWKS endpoint plus a signer that mints tokens as Better Auth would."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []
        self.fetches = 0
        self.down = False
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                issuer.fetches += 1
                if issuer.down or self.path != JWKS_PATH:
                    self.send_response(503 if issuer.down else 404)
                    self.end_headers()
                    return
                body = json.dumps({"keys": issuer.published}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def publish(self, key: SigningKey) -> SigningKey:
        self.published.append(key.jwk)
        return key

    def withdraw(self, key: SigningKey) -> None:
        self.published = [jwk for jwk in self.published if jwk["kid"] != key.kid]

    def sign(self, key: SigningKey, sub: Any, algorithm: str | None = None, kid: Any = "same",
             **claims: Any) -> str:
        payload = {"sub": sub, "iss": self.url, "aud": self.url, "iat": int(time.time()),
                   "exp": int(time.time()) + 900, **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        headers = {} if kid is None else {"kid": key.kid if kid == "same" else kid}
        return jwt.encode(payload, key.private, algorithm=algorithm or key.algorithms[0], headers=headers)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_key_material(secret: bytes, kid: str, sub: str, issuer: str) -> str:
    """The algorithm-confusion attack: an HS256 token whose HMAC key is public material."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps({"sub": sub, "iss": issuer, "aud": issuer,
                              "exp": int(time.time()) + 600}).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"
