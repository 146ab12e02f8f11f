"""Who is calling: the bearer token, checked, turned into a user id.

The handlers only see the verified user id. Where keys come from is the verifier's
business, so another key source (a JWKS) is one more `TokenVerifier`, not a change to
the handlers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import attrs
import jwt

from core.errors import ApiError, unauthorized


class TokenVerifier(Protocol):
    def verify(self, token: str) -> str:
        """The token's subject (the user id), or an `ApiError(401)`."""
        ...


def bearer_token(headers: Mapping[str, str]) -> str:
    header = headers.get("authorization")
    if header is None:
        raise unauthorized("Not authenticated: send Authorization: Bearer <token>")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise unauthorized("Malformed Authorization header: expected Bearer <token>")
    return token


@attrs.frozen(slots=True)
class SharedSecretVerifier:
    """HS256 tokens signed with BETTER_AUTH_SECRET; every other algorithm is refused."""

    secret: str = attrs.field(repr=False)
    leeway_seconds: float = 5.0

    def verify(self, token: str) -> str:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                options={"require": ["exp", "sub"]},
                leeway=self.leeway_seconds,
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("Token expired") from None
        except jwt.MissingRequiredClaimError as error:
            raise unauthorized(f"Token is missing the '{error.claim}' claim") from None
        except jwt.InvalidAlgorithmError:
            raise unauthorized("Token algorithm not allowed") from None
        except jwt.InvalidSignatureError:
            raise unauthorized("Token signature is invalid") from None
        except jwt.InvalidTokenError:
            raise unauthorized("Token is invalid") from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise unauthorized("Token subject must be a non-empty string")
        return subject


def authorize(headers: Mapping[str, str], verifier: TokenVerifier, path_user_id: str) -> str:
    """The verified user id; 401 without a valid token, 403 for someone else's path."""
    user_id = verifier.verify(bearer_token(headers))
    if user_id != path_user_id:
        raise ApiError(403, "Access denied to this user's resources")
    return user_id
