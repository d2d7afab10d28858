"""Certificates for a loopback control plane, made with the openssl CLI (as envtest does).

A CA; a serving certificate for 127.0.0.1/localhost and the first service IP; an admin
client certificate in group system:masters; an RSA key pair for service-account tokens.
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certs:
    ca: Path
    ca_key: Path
    serving: Path
    serving_key: Path
    admin: Path
    admin_key: Path
    sa_key: Path
    sa_pub: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _signed(dir_: Path, name: str, subject: str, ext: str) -> None:
    _openssl(
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
        "-subj",
        subject,
        cwd=dir_,
    )
    (dir_ / f"{name}.ext").write_text(ext)
    _openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        f"{name}.crt",
        "-days",
        "365",
        "-sha256",
        "-extfile",
        f"{name}.ext",
        cwd=dir_,
    )


def make_certs(dir_: Path) -> Certs:
    """Create (or reuse) every certificate in `dir_`."""
    dir_.mkdir(parents=True, exist_ok=True)
    certs = Certs(
        ca=dir_ / "ca.crt",
        ca_key=dir_ / "ca.key",
        serving=dir_ / "apiserver.crt",
        serving_key=dir_ / "apiserver.key",
        admin=dir_ / "admin.crt",
        admin_key=dir_ / "admin.key",
        sa_key=dir_ / "sa.key",
        sa_pub=dir_ / "sa.pub",
    )
    if all(p.exists() for p in vars(certs).values()):
        return certs
    _openssl(
        "req",
        "-x509",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "365",
        "-subj",
        "/CN=portico-local-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=dir_,
    )
    _signed(
        dir_,
        "apiserver",
        "/CN=kube-apiserver",
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,"
        "DNS:kubernetes.default,DNS:kubernetes.default.svc\n",
    )
    _signed(
        dir_,
        "admin",
        "/O=system:masters/CN=portico-admin",
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=clientAuth\n",
    )
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=dir_)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=dir_)
    return certs
