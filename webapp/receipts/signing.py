"""PAdES signatures with pyHanko, and the development certificate authority.

The signer (an RSA key and its chain from a PKCS#12 file) is loaded once per
process; each receipt is certified (no changes allowed), so any later change
to the file is detectable by any PDF validator.
"""

from __future__ import annotations

import datetime
import logging
import threading
from dataclasses import dataclass
from functools import cache, cached_property
from io import BytesIO
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from webapp.receipts.errors import ReceiptError

log = logging.getLogger(__name__)

FIELD_NAME = "HandoverReceipt"
# Space for the CMS signature, reserved up front so pyHanko signs once instead of
# signing a trial copy to measure it; a timestamp token needs room of its own.
RESERVED = 12_288
RESERVED_WITH_TIMESTAMP = 24_576


class SigningError(ReceiptError):
    """The receipt could not be signed (missing or unreadable certificate)."""


@dataclass(frozen=True)
class Signed:
    pdf: bytes
    timestamped: bool
    timestamp_problem: str | None


@cache
def _kept_key_signer_class():
    from asn1crypto import tsp
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign.attributes import SigningCertificateV2Provider
    from pyhanko.sign.general import as_signing_certificate_v2, get_pyca_cryptography_hash
    from pyhanko.sign.signers import SimpleSigner

    class KeptSigningCertificate(SigningCertificateV2Provider):
        """The signing-certificate-v2 attribute, encoded once per signer: built afresh,
        its copy of the issuer's name is re-encoded twice per signature (about 8 ms)."""

        def __init__(self, signing_cert):
            super().__init__(signing_cert)
            # Parsed from its own bytes, the value dumps from them instead of re-encoding.
            self.value = tsp.SigningCertificateV2.load(
                as_signing_certificate_v2(signing_cert).dump()
            )

        async def build_attr_value(self, dry_run=False):
            return self.value

    class KeptKeySigner(SimpleSigner):
        """pyHanko's SimpleSigner re-parses its private key for every signature
        (over 100 ms for an RSA-3072 key, because the key is validated) and rebuilds
        the signing-certificate attribute from the same certificate; this one does
        each once and keeps it."""

        @cached_property
        def private_key(self):
            return serialization.load_der_private_key(self.signing_key.dump(), password=None)

        @cached_property
        def signing_certificate(self) -> KeptSigningCertificate:
            return KeptSigningCertificate(self.signing_cert)

        def _signed_attr_providers(self, *args, **kwargs):
            for provider in super()._signed_attr_providers(*args, **kwargs):
                if isinstance(provider, SigningCertificateV2Provider):
                    yield self.signing_certificate
                else:
                    yield provider

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            if mechanism.signature_algo != "rsassa_pkcs1v15":
                return super().sign_raw(data, digest_algorithm)
            return self.private_key.sign(
                data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm)
            )

    return KeptKeySigner


_signers: dict[tuple[str, float], object] = {}
_lock = threading.Lock()


def load_signer(p12_path: str, passphrase: str):
    """Return the pyHanko signer for the PKCS#12 file, loading it once per process."""
    from pyhanko.sign import signers

    path = Path(p12_path)
    try:
        key = (str(path.resolve()), path.stat().st_mtime)
    except OSError:
        raise SigningError(f"receipt signing certificate not found: {p12_path}") from None
    with _lock:
        if key not in _signers:
            loaded = signers.SimpleSigner.load_pkcs12(str(path), passphrase=passphrase.encode())
            if loaded is None:
                raise SigningError("the receipt signing certificate could not be opened")
            _signers[key] = _kept_key_signer_class()(
                signing_key=loaded.signing_key,
                signing_cert=loaded.signing_cert,
                cert_registry=loaded.cert_registry,
                signature_mechanism=loaded.signature_mechanism,
            )
        return _signers[key]


def sign_pdf(
    pdf: bytes, signer, *, reason: str, tsa_url: str | None = None, timestamper=None
) -> Signed:
    """Certify the PDF with a PAdES baseline signature (B-T when a TSA answers, else B-B).

    A TSA that cannot be reached never costs the receipt: it is signed without
    the timestamp and the problem is returned for the record.
    """
    from pyhanko.sign.timestamps import HTTPTimeStamper

    if timestamper is None and tsa_url:
        timestamper = HTTPTimeStamper(tsa_url, timeout=5)
    if timestamper is not None:
        try:
            return Signed(_sign(pdf, signer, reason, timestamper), True, None)
        except Exception as problem:  # any TSA failure falls back to B-B
            log.warning("timestamp authority unavailable, signing without a timestamp: %s",
                        type(problem).__name__)
            return Signed(_sign(pdf, signer, reason, None), False, type(problem).__name__)
    return Signed(_sign(pdf, signer, reason, None), False, None)


def _sign(pdf: bytes, signer, reason: str, timestamper) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter

    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=SigSeedSubFilter.PADES,  # ETSI.CAdES.detached
        md_algorithm="sha256",
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
        reason=reason,
    )
    pdf_signer = signers.PdfSigner(metadata, signer=signer, timestamper=timestamper)
    output = pdf_signer.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf)),
        bytes_reserved=RESERVED_WITH_TIMESTAMP if timestamper else RESERVED,
    )
    return output.getvalue()


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Handover"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def create_development_certificates(directory: Path, passphrase: str) -> tuple[Path, Path]:
    """Create a development CA and a receipt-signing certificate under `directory`.

    Returns (PKCS#12 of the signer with its chain, PEM of the CA). Existing files
    are kept, so running this again changes nothing.
    """
    p12_path, ca_path = directory / "receipt-signing.p12", directory / "receipt-ca.pem"
    if p12_path.exists() and ca_path.exists():
        return p12_path, ca_path
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Handover development receipts CA"))
        .issuer_name(_name("Handover development receipts CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("Handover development receipt signer"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # Non-repudiation (content commitment): the signer stands behind the content.
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    bundle = pkcs12.serialize_key_and_certificates(
        b"receipt-signer", key, certificate, [ca],
        serialization.BestAvailableEncryption(passphrase.encode()),
    )
    p12_path.write_bytes(bundle)
    p12_path.chmod(0o600)
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return p12_path, ca_path


def _key_usage(**granted: bool) -> x509.KeyUsage:
    usages = (
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
        "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
    )
    return x509.KeyUsage(**{usage: granted.get(usage, False) for usage in usages})


def load_root(pem_path: str) -> x509.Certificate:
    """Return our root certificate, which every genuine receipt chains to."""
    return x509.load_pem_x509_certificate(Path(pem_path).read_bytes())
