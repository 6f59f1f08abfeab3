"""The baseline: a bare Starlette app on uvicorn that verifies Kalshi's signature headers.

It answers ``PUT /trade-api/v2/communications/quotes/{quote_id}/confirm`` with 204 after the
same checks the sandbox makes before any of its own work (three headers, timestamp window,
base64, RSA-PSS over timestamp + METHOD + raw path with a cached public key), and ``GET /``
with a two-byte body (the HTTP stack's ceiling). It runs with the server options of
``kalshi-sandbox serve``, so the sandbox's confirm rate over this one's is the share of the
stack's signed-request ceiling that the sandbox keeps.

Run: ``python -m bench.baseline --port 8001 --keys keys.json`` where keys.json holds
``{"public_key_pem": "...", "key_ids": [...]}``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import time
from pathlib import Path

import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
SHA256 = hashes.SHA256()
CONFIRM_PATH = "/trade-api/v2/communications/quotes/{quote_id}/confirm"


def make_app(keys: dict[str, rsa.RSAPublicKey], past_ms: int = 10_000,
             future_ms: int = 60_000) -> Starlette:
    """Return the baseline app verifying signatures made with ``keys`` (by key id)."""

    def unauthorized(message: str) -> Response:
        return PlainTextResponse(message, status_code=401)

    async def confirm(request: Request) -> Response:
        headers = request.headers
        key_id = headers.get("kalshi-access-key")
        signature_text = headers.get("kalshi-access-signature")
        timestamp = headers.get("kalshi-access-timestamp")
        if not key_id or not signature_text or not timestamp or not timestamp.isdigit():
            return unauthorized("missing or malformed signature headers")
        now_ms = time.time_ns() // 1_000_000
        if not now_ms - past_ms <= int(timestamp) <= now_ms + future_ms:
            return unauthorized("timestamp outside the accepted window")
        key = keys.get(key_id)
        if key is None:
            return unauthorized("NOT_FOUND")
        try:
            signature = base64.b64decode(signature_text, validate=True)
        except (binascii.Error, ValueError):
            return unauthorized("signature is not base64")
        scope = request.scope
        raw_path = scope.get("raw_path") or scope["path"].encode()
        message = f"{timestamp}{scope['method']}{raw_path.decode('latin-1')}".encode()
        try:
            key.verify(signature, message, PSS, SHA256)
        except (InvalidSignature, ValueError):
            return unauthorized("INCORRECT_API_KEY_SIGNATURE")
        _ = request.path_params["quote_id"]
        return Response(status_code=204)

    async def hello(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[
        Route("/", hello, methods=["GET"]),
        Route(CONFIRM_PATH, confirm, methods=["PUT"]),
    ])


def load_keys(path: Path) -> dict[str, rsa.RSAPublicKey]:
    """Read the key ids and their shared public key from ``path``."""
    data = json.loads(path.read_text())
    key = serialization.load_pem_public_key(data["public_key_pem"].encode())
    assert isinstance(key, rsa.RSAPublicKey)
    return dict.fromkeys(data["key_ids"], key)


def main() -> None:
    """Serve the baseline app with the options ``kalshi-sandbox serve`` uses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", type=Path, required=True)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    app = make_app(load_keys(args.keys))
    # The same call as kalshi_sandbox.powers.admin.cli.serve, apart from the app.
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level=args.log_level,
                access_log=False, lifespan="on", loop="auto", http="auto", ws="auto")


if __name__ == "__main__":
    main()
