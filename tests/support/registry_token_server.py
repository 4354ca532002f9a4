#!/usr/bin/python3
"""A token server for the registry tests (tests/support/registry_fixture.hpp).

It plays the part auth.docker.io plays for Docker Hub: the registry's
`auth.token` realm. `GET /token?service=S&scope=repository:NAME:pull,push`
(several `scope` parameters allowed) with HTTP basic credentials answers
{"token", "access_token", "expires_in", "issued_at"}; the token is a JWT the
registry verifies against its `rootcertbundle`. What distribution 2.8's
verifier (registry/auth/token/token.go) checks:
  - `iss` is the configured issuer and `aud` (a single string in 2.8) the
    configured service; `exp`/`nbf` with 60 s of leeway;
  - the signing key: the header's `x5c` chain, else `jwk`, else `kid` looked
    up among the bundle's keys by their libtrust key ID. We send `kid`: the
    SHA-256 of the key's DER SubjectPublicKeyInfo, first 30 bytes, base32
    without padding, in groups of 4 joined by ':';
  - the `access` claim: [{"type", "name", "actions"}] for each granted scope.
`POST /token` (the OAuth2 password grant Docker uses with identity tokens)
answers the same way. Wrong credentials get 401; no credentials get 401,
unless --anonymous-pull, when only `pull` actions are granted.

Every issued token increments the number in --counter-file (written
atomically) so tests can check that a client reuses its token.

Run with Debian's /usr/bin/python3 (python3-jwt, python3-cryptography).
Listens on 127.0.0.1 only, on a port of the kernel's choosing that it writes
to --port-file once it is listening.
"""

import argparse
import base64
import datetime
import hashlib
import http.server
import json
import os
import threading
import time
import urllib.parse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization


def libtrust_key_id(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class TokenIssuer:
    def __init__(self, args):
        self.args = args
        with open(args.key, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        with open(args.cert, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        self.kid = libtrust_key_id(cert.public_key())
        self.lock = threading.Lock()
        self.issued = 0
        write_atomically(args.counter_file, "0\n")

    def authenticate(self, authorization, form):
        """'user', '' for anonymous, or None when the credentials are wrong."""
        user = password = None
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except ValueError:
                return None
            user, _, password = decoded.partition(":")
        elif form.get("username"):
            user, password = form["username"][0], form.get("password", [""])[0]
        if user is None:
            return ""
        if user == self.args.user and password == self.args.password:
            return user
        return None

    def grant(self, scopes, user):
        access = []
        for scope in scopes:
            for one in scope.split(" "):
                # type:name:actions; the name may hold a port ("host:5000/x").
                parts = one.split(":")
                if len(parts) < 3:
                    continue
                kind, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
                if not user:
                    actions = [a for a in actions if a == "pull"]
                if actions:
                    access.append({"type": kind, "name": name, "actions": actions})
        return access

    def issue(self, user, access):
        now = int(time.time())
        claims = {
            "iss": self.args.issuer,
            "sub": user,
            "aud": self.args.service,
            "exp": now + self.args.ttl,
            "nbf": now - 1,
            "iat": now,
            "jti": base64.urlsafe_b64encode(os.urandom(12)).decode(),
            "access": access,
        }
        token = jwt.encode(claims, self.key, algorithm="ES256",
                           headers={"kid": self.kid, "typ": "JWT"})
        with self.lock:
            self.issued += 1
            write_atomically(self.args.counter_file, "%d\n" % self.issued)
        issued_at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        return {
            "token": token,
            "access_token": token,
            "expires_in": self.args.ttl,
            "issued_at": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        self.answer(url.path, urllib.parse.parse_qs(url.query), {})

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        self.answer(url.path, form, form)

    def answer(self, path, query, form):
        issuer = self.server.issuer
        if path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": path}]})
        service = query.get("service", [""])[0]
        if service and service != issuer.args.service:
            return self.reply(400, {"errors": [{"code": "DENIED",
                                                "message": "unknown service " + service}]})
        user = issuer.authenticate(self.headers.get("Authorization"), form)
        if user is None or (user == "" and not issuer.args.anonymous_pull):
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                                "message": "wrong or missing credentials"}]},
                              {"WWW-Authenticate": 'Basic realm="strata-test-token"'})
        self.reply(200, issuer.issue(user, issuer.grant(query.get("scope", []), user)))

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port-file", required=True)
    p.add_argument("--counter-file", required=True)
    p.add_argument("--key", required=True, help="PEM private key (EC P-256) that signs tokens")
    p.add_argument("--cert", required=True, help="its certificate, as in the registry's rootcertbundle")
    p.add_argument("--issuer", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--ttl", type=int, default=300, help="token lifetime, seconds")
    p.add_argument("--anonymous-pull", action="store_true")
    args = p.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.issuer = TokenIssuer(args)
    write_atomically(args.port_file, "%d\n" % server.server_address[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
