"""A CA and server certificates made for one test run with openssl (never committed)."""

from __future__ import annotations

import hashlib
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support import ROOT

DAYS = "2"


def require_command(command: str, package: str) -> str:
    """The path of ``command``, installing Debian's ``package`` first when it is missing."""
    subprocess.run([str(ROOT / "deploy" / "install-package.sh"), command, package], check=True)
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")
    assert found, f"{command} is not installed (package {package})"
    return found


def _openssl(*args: str) -> None:
    subprocess.run([require_command("openssl", "openssl"), *args], check=True, capture_output=True)


@dataclass(frozen=True)
class Server:
    """A server's key and certificate (PEM), signed by a :class:`Ca`."""

    key: Path
    cert: Path

    def sha256_fingerprint(self) -> str:
        """The SHA-256 fingerprint of the certificate, as hex."""
        der = ssl.PEM_cert_to_DER_cert(self.cert.read_text())
        return hashlib.sha256(der).hexdigest()

    def pkcs12(self, ca: Ca, password: str) -> Path:
        """The key and chain as a PKCS#12 keystore (what a JVM server reads)."""
        path = self.cert.with_suffix(".p12")
        _openssl(
            "pkcs12", "-export", "-in", str(self.cert), "-inkey", str(self.key),
            "-certfile", str(ca.cert), "-name", "server", "-out", str(path),
            "-passout", f"pass:{password}",
        )  # fmt: skip
        return path


@dataclass(frozen=True)
class Ca:
    """A certificate authority in ``folder``: ``ca.key``, ``ca.pem``."""

    folder: Path
    name: str

    @property
    def key(self) -> Path:
        """The CA's private key."""
        return self.folder / f"{self.name}.key"

    @property
    def cert(self) -> Path:
        """The CA certificate: what clients are given as their CA file."""
        return self.folder / f"{self.name}.pem"

    @classmethod
    def create(cls, folder: Path, name: str = "ca") -> Ca:
        """A new self-signed CA."""
        folder.mkdir(parents=True, exist_ok=True)
        ca = cls(folder, name)
        _openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", DAYS,
            "-keyout", str(ca.key), "-out", str(ca.cert), "-subj", f"/CN=newsflow test {name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        return ca

    def issue(self, name: str, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Server:
        """A server certificate for ``hosts`` (IP addresses and DNS names)."""
        key, csr = self.folder / f"{name}.key", self.folder / f"{name}.csr"
        cert, ext = self.folder / f"{name}.pem", self.folder / f"{name}.ext"
        sans = ",".join(f"IP:{h}" if h[0].isdigit() else f"DNS:{h}" for h in hosts)
        ext.write_text(
            f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
            "authorityKeyIdentifier=keyid,issuer\nsubjectKeyIdentifier=hash\n"
        )
        _openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
            "-subj", f"/CN={hosts[-1]}",
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey", str(self.key),
            "-CAcreateserial", "-days", DAYS, "-out", str(cert), "-extfile", str(ext),
        )  # fmt: skip
        return Server(key, cert)
