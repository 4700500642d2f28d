"""Development certificates: a throwaway CA and SPIFFE workload certificates.

For the local mesh demo, the docker-compose setup and the tests: each workload
gets a certificate whose URI SAN is its SPIFFE identity
(spiffe://cluster.local/ns/<namespace>/sa/<name>), as Istio issues them, so
Envoy reports real source and destination principals to extauthz.
Never use these in production: the CA key sits next to the certificates.
"""
from __future__ import annotations

import datetime
import os
from pathlib import Path

TRUST_DOMAIN = "cluster.local"
NAMESPACE = "demo"
WORKLOADS = ("edge", "frontend", "backend", "intruder")


def spiffe_id(name: str, namespace: str = NAMESPACE, trust_domain: str = TRUST_DOMAIN) -> str:
    return f"spiffe://{trust_domain}/ns/{namespace}/sa/{name}"


def generate(out_dir: str | Path, workloads: tuple[str, ...] = WORKLOADS, days: int = 30) -> dict[str, Path]:
    """Write ca.crt and <name>/workload.{crt,key} for each workload; return the dirs."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "extauthz dev CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (out / "ca.crt").write_bytes(ca_cert.public_bytes(pem))

    dirs: dict[str, Path] = {}
    for name in workloads:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "extauthz demo")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(spiffe_id(name)),
                                                        x509.DNSName(name)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        d = out / name
        d.mkdir(exist_ok=True)
        (d / "workload.crt").write_bytes(cert.public_bytes(pem))
        key_path = d / "workload.key"
        key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        os.chmod(key_path, 0o644)  # read by Envoy running as another user in containers
        (d / "ca.crt").write_bytes(ca_cert.public_bytes(pem))
        dirs[name] = d
    return dirs


def main(argv: list[str] | None = None) -> int:
    """`python -m extauthz.devcerts OUT_DIR [WORKLOAD ...]` (docker-compose's certs service)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m extauthz.devcerts",
                                 description="write a throwaway CA and SPIFFE workload certificates (development only)")
    ap.add_argument("out_dir")
    ap.add_argument("workloads", nargs="*", default=list(WORKLOADS), help=f"default: {' '.join(WORKLOADS)}")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--if-missing", action="store_true",
                    help="keep existing certificates (running proxies keep using the ones they loaded)")
    args = ap.parse_args(argv)
    out = Path(args.out_dir)
    if args.if_missing and all((out / name / "workload.crt").is_file() for name in args.workloads):
        print(f"{out}: certificates present, kept")
        return 0
    for name, d in generate(out, tuple(args.workloads), args.days).items():
        print(f"{spiffe_id(name)}  {d}/workload.crt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
