"""C2SP signed notes, checkpoints and cosignatures.

- signed-note (https://c2sp.org/signed-note): text, a blank line, then lines
  "— <name> base64(key ID[4] || signature)"; Ed25519 key ID = SHA-256(name || 0x0A || 0x01 || pk)[:4].
- tlog-checkpoint (https://c2sp.org/tlog-checkpoint): a note whose text is
  "<origin>\\n<size>\\n<base64 root>\\n" plus optional extension lines.
- tlog-cosignature (https://c2sp.org/tlog-cosignature): a note signature whose key ID uses type
  0x04 and whose signature is base64(key ID || u64 big-endian timestamp || Ed25519 signature) over
  "cosignature/v1\\ntime <t>\\n" followed by the whole checkpoint text.

Speaking these formats, not our own, lets existing transparency-log tooling (Go's sumdb/note,
the transparency-dev witnesses) read Détente checkpoints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from detente.envelope.keys import SigningKey, Verifier, check_public_key
from detente.errors import BadKeyError, NoteError, SignatureError

SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100
_DASH = "— "  # U+2014 EM DASH, then a space
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


def note_key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def vkey(name: str, public_key: bytes, sig_type: int = SIG_ED25519) -> str:
    """The verifier-key text form: <name>+<hex key ID>+<base64(type || public key)>."""
    kid = note_key_id(name, sig_type, public_key).hex()
    return f"{name}+{kid}+{base64.b64encode(bytes([sig_type]) + public_key).decode()}"


@dataclass(frozen=True)
class NoteVerifier:
    name: str
    public_key: bytes
    sig_type: int = SIG_ED25519

    def __post_init__(self) -> None:
        # from_vkey builds through here too, so a vkey naming a small-order, mixed-order or
        # non-canonical key is refused before any note is checked against it.
        try:
            check_public_key(self.public_key, what=f"note verifier key {self.name!r}")
        except BadKeyError as exc:
            raise NoteError(exc.message) from exc

    @classmethod
    def from_vkey(cls, text: str) -> NoteVerifier:
        parts = text.split("+", 2)  # base64 key material may itself contain '+'

        if len(parts) != 3:
            raise NoteError(f"verifier key {text!r} is not <name>+<hash>+<key>")
        name, kid, material = parts
        try:
            raw = base64.b64decode(material, validate=True)
            want = bytes.fromhex(kid)
        except (ValueError, binascii.Error) as exc:
            raise NoteError(f"verifier key {text!r} is malformed: {exc}") from exc
        if len(raw) != 33 or raw[0] not in (SIG_ED25519, SIG_COSIGNATURE_V1):
            raise NoteError(f"verifier key {text!r} is not an Ed25519 note or cosignature key")
        v = cls(name, raw[1:], raw[0])
        if v.key_id != want:
            raise NoteError(f"verifier key {text!r} has a key hash that does not match its key")
        return v

    @property
    def key_id(self) -> bytes:
        return note_key_id(self.name, self.sig_type, self.public_key)

    @property
    def vkey(self) -> str:
        return vkey(self.name, self.public_key, self.sig_type)


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    blob: bytes  # what follows the key ID in the base64 signature

    def line(self) -> str:
        return f"{_DASH}{self.name} {base64.b64encode(self.key_id + self.blob).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def signature_for(self, v: NoteVerifier) -> NoteSignature | None:
        for s in self.signatures:
            if s.name == v.name and s.key_id == v.key_id:
                return s
        return None

    def with_signature(self, sig: NoteSignature) -> Note:
        kept = tuple(s for s in self.signatures if (s.name, s.key_id) != (sig.name, sig.key_id))
        return Note(self.text, (*kept, sig))


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if "\n\n" in text:
        raise NoteError("note text must not contain a blank line")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text must not contain control characters other than newline")


def parse_note(data: str | bytes) -> Note:
    """Parse a signed note's structure (signatures are checked separately)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("signed note is not valid UTF-8") from exc
    split = data.rfind("\n\n")
    if split < 0:
        raise NoteError("signed note has no blank line before its signatures")
    text, sigblock = data[: split + 1], data[split + 2 :]
    _check_text(text)
    if any(ord(c) < 0x20 and c != "\n" for c in sigblock):
        raise NoteError("signature lines contain control characters")
    if not sigblock.endswith("\n"):
        raise NoteError("signature block must end with a newline")
    lines = sigblock[:-1].split("\n")
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note carries 1 to {MAX_SIGNATURES} signatures, not {len(lines)}")
    sigs = []
    for line in lines:
        if not line.startswith(_DASH):
            raise NoteError(f"signature line {line!r} does not start with an em dash and space")
        name, sep, b64sig = line[len(_DASH) :].partition(" ")
        if not sep or not name or " " in b64sig or "+" in name:
            raise NoteError(f"signature line {line!r} is not '— <name> <signature>'")
        try:
            raw = base64.b64decode(b64sig, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise NoteError(f"signature line for {name} is not base64") from exc
        if len(raw) < 5:
            raise NoteError(f"signature line for {name} is too short")
        sigs.append(NoteSignature(name, raw[:4], raw[4:]))
    return Note(text, tuple(sigs))


def sign_note(text: str, name: str, key: SigningKey) -> NoteSignature:
    _check_text(text)
    kid = note_key_id(name, SIG_ED25519, key.public_key)
    return NoteSignature(name, kid, key.sign(text.encode()))


def verify_note_signature(note: Note, v: NoteVerifier) -> None:
    """Raise NoteError unless `note` carries a valid Ed25519 signature by `v`."""
    s = note.signature_for(v)
    if s is None:
        raise NoteError(f"note is not signed by {v.name} (key ID {v.key_id.hex()})")
    try:
        Verifier(v.public_key).verify(s.blob, note.text.encode())
    except SignatureError as exc:
        raise NoteError(f"signature by {v.name} on the note does not verify") from exc


# --- checkpoints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        body = f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"
        return body + "".join(e + "\n" for e in self.extensions)

    @classmethod
    def parse_text(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("checkpoint text needs origin, size and root hash lines")
        origin, size_s, root_s, *ext = lines[:-1]
        if not origin:
            raise NoteError("checkpoint origin line is empty")
        if not _DECIMAL.fullmatch(size_s):
            raise NoteError(f"checkpoint size {size_s!r} is not a decimal without leading zeros")
        try:
            root = base64.b64decode(root_s, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise NoteError("checkpoint root hash is not base64") from exc
        if len(root) != 32:
            raise NoteError("checkpoint root hash is not 32 bytes")
        if any(not e for e in ext):
            raise NoteError("checkpoint extension lines must not be empty")
        return cls(origin, int(size_s), root, tuple(ext))


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: Note

    @classmethod
    def parse(cls, data: str | bytes) -> SignedCheckpoint:
        note = parse_note(data)
        return cls(Checkpoint.parse_text(note.text), note)

    def encode(self) -> str:
        return self.note.encode()


def sign_checkpoint(cp: Checkpoint, name: str, key: SigningKey) -> SignedCheckpoint:
    text = cp.text()
    return SignedCheckpoint(cp, Note(text, (sign_note(text, name, key),)))


def open_checkpoint(data: str | bytes, operator: NoteVerifier, origin: str) -> SignedCheckpoint:
    """Parse a checkpoint and check it is the named log's and signed by its operator."""
    scp = SignedCheckpoint.parse(data)
    if scp.checkpoint.origin != origin:
        raise NoteError(f"checkpoint is for log {scp.checkpoint.origin!r}, expected {origin!r}")
    verify_note_signature(scp.note, operator)
    return scp


# --- cosignatures -------------------------------------------------------------------------------


def cosignature_message(text: str, timestamp: int) -> bytes:
    return b"cosignature/v1\ntime %d\n" % timestamp + text.encode()


def cosign(text: str, name: str, key: SigningKey, timestamp: int) -> NoteSignature:
    if not 0 <= timestamp < 2**63:
        raise NoteError("cosignature timestamp out of range")
    kid = note_key_id(name, SIG_COSIGNATURE_V1, key.public_key)
    sig = key.sign(cosignature_message(text, timestamp))
    return NoteSignature(name, kid, struct.pack(">Q", timestamp) + sig)


def verify_cosignature(note: Note, v: NoteVerifier) -> int:
    """Check `v`'s cosignature on `note`; return its timestamp."""
    if v.sig_type != SIG_COSIGNATURE_V1:
        raise NoteError(f"{v.name} is not a cosignature (type 0x04) key")
    s = note.signature_for(v)
    if s is None:
        raise NoteError(f"checkpoint is not cosigned by {v.name}")
    if len(s.blob) != 8 + 64:
        raise NoteError(f"cosignature by {v.name} has the wrong length")
    (ts,) = struct.unpack(">Q", s.blob[:8])
    try:
        Verifier(v.public_key).verify(s.blob[8:], cosignature_message(note.text, ts))
    except SignatureError as exc:
        raise NoteError(f"cosignature by {v.name} does not verify") from exc
    return int(ts)
