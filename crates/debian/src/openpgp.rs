//! OpenPGP verification of archive metadata: clearsigned `InRelease` and
//! `Release` + detached `Release.gpg`, against a keyring (binary like
//! `debian-archive-keyring.gpg`, or armored). Uses rPGP (`pgp`), a pure-Rust implementation.
//!
//! Contract: callers parse only [`VerifiedText::text`], never the raw file. That text is
//! exactly the data the signatures cover: dash-unescaped, trailing whitespace of each line
//! removed, the line break before the signature armor excluded (RFC 9580 §7), with the
//! canonical CRLF line endings given back as LF.
//!
//! Left out on purpose: key expiry and revocation checks (Debian archive keys are checked
//! by apt/gpgv against expiry; a frozen EOL mirror would fail them) — callers choose the
//! keyring.

use std::path::Path;

use pgp::composed::{CleartextSignedMessage, Deserializable, DetachedSignature, SignedPublicKey};
use pgp::packet::Signature;
use pgp::types::KeyDetails;

/// Verification failures, one variant per distinct cause.
#[derive(Debug, thiserror::Error)]
pub enum OpenPgpError {
    /// The input is not an OpenPGP clearsigned message (e.g. a plain Release file).
    #[error("not signed: {0}")]
    NotSigned(&'static str),
    /// The armor or the signature packets are malformed.
    #[error("malformed OpenPGP data")]
    Malformed(#[source] pgp::errors::Error),
    /// Every signature was made by a key that is not in the keyring.
    #[error("signed only by keys not in the keyring: {}", issuers.join(", "))]
    UnknownKeys {
        /// Issuer fingerprints (or key ids) of the signatures.
        issuers: Vec<String>,
    },
    /// A signature by a key in the keyring does not verify: the content was changed.
    #[error("BAD signature by {} (content does not match its signature)", issuers.join(", "))]
    BadSignature {
        /// Issuers of the failing signatures.
        issuers: Vec<String>,
    },
    /// The keyring could not be read or holds no usable key.
    #[error("keyring {path}: {reason}")]
    Keyring {
        /// Keyring path or `<memory>`.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// An OpenPGP v4/v6 fingerprint as uppercase hex.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(pub String);

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One verification key: a primary key or a subkey whose binding signature verified.
enum Candidate {
    Primary(usize),
    /// (key index, subkey index)
    Sub(usize, usize),
}

/// A set of public keys to verify against.
pub struct Keyring {
    keys: Vec<SignedPublicKey>,
}

impl Keyring {
    /// Parse a keyring (binary or ASCII-armored, one or more keys).
    pub fn from_bytes(data: &[u8]) -> Result<Keyring, OpenPgpError> {
        Self::parse(data, "<memory>")
    }

    /// Read and parse a keyring file.
    pub fn from_file(path: &Path) -> Result<Keyring, OpenPgpError> {
        let shown = path.display().to_string();
        let data = std::fs::read(path).map_err(|e| OpenPgpError::Keyring {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        Self::parse(&data, &shown)
    }

    fn parse(data: &[u8], path: &str) -> Result<Keyring, OpenPgpError> {
        let err = |reason: String| OpenPgpError::Keyring {
            path: path.to_owned(),
            reason,
        };
        let (iter, _) = SignedPublicKey::from_reader_many(data).map_err(|e| err(e.to_string()))?;
        let keys = iter
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(e.to_string()))?;
        if keys.is_empty() {
            return Err(err("no public keys found".into()));
        }
        Ok(Keyring { keys })
    }

    /// Primary-key fingerprints of all keys, in keyring order.
    pub fn fingerprints(&self) -> Vec<Fingerprint> {
        self.keys.iter().map(|k| fpr(&k.primary_key)).collect()
    }

    /// Keys (primary or bound subkey) that may have issued `sig`.
    fn candidates(&self, sig: &Signature) -> Vec<Candidate> {
        let fprs = sig.issuer_fingerprint();
        let ids = sig.issuer_key_id();
        let is_issuer = |k: &dyn KeyDetails| {
            let f = k.fingerprint();
            let id = k.legacy_key_id();
            fprs.iter().any(|x| **x == f) || ids.iter().any(|x| **x == id)
        };
        let mut out = Vec::new();
        for (i, key) in self.keys.iter().enumerate() {
            if is_issuer(&key.primary_key) {
                out.push(Candidate::Primary(i));
            }
            for (j, sub) in key.public_subkeys.iter().enumerate() {
                if is_issuer(&sub.key) && sub.verify_bindings(&key.primary_key).is_ok() {
                    out.push(Candidate::Sub(i, j));
                }
            }
        }
        out
    }

    /// Check each signature over `data`; collect valid signers and the rest.
    fn check(&self, sigs: &[Signature], data: &[u8]) -> Result<Signers, OpenPgpError> {
        self.check_parts(sigs, &[data])
    }

    /// [`Keyring::check`] over the concatenation of `parts` (e.g. an RPM header and payload).
    fn check_parts(&self, sigs: &[Signature], parts: &[&[u8]]) -> Result<Signers, OpenPgpError> {
        if sigs.is_empty() {
            return Err(OpenPgpError::NotSigned("no signature packets"));
        }
        let mut signers = Vec::new();
        let mut unknown = Vec::new();
        let mut bad = Vec::new();
        for sig in sigs {
            let cands = self.candidates(sig);
            if cands.is_empty() {
                unknown.push(issuer(sig));
                continue;
            }
            let ok = cands.iter().find_map(|c| {
                let (i, res) = match c {
                    Candidate::Primary(i) => (
                        *i,
                        sig.verify(&self.keys[*i].primary_key, Parts::new(parts)),
                    ),
                    Candidate::Sub(i, j) => (
                        *i,
                        sig.verify(&self.keys[*i].public_subkeys[*j].key, Parts::new(parts)),
                    ),
                };
                res.is_ok().then_some(i)
            });
            match ok {
                Some(i) => signers.push(fpr(&self.keys[i].primary_key)),
                None => bad.push(issuer(sig)),
            }
        }
        // One failing signature by a trusted key means the content is not what that key
        // signed: refuse, even if another signature verifies (gpgv/apt do the same).
        if !bad.is_empty() {
            return Err(OpenPgpError::BadSignature { issuers: bad });
        }
        if signers.is_empty() {
            return Err(OpenPgpError::UnknownKeys { issuers: unknown });
        }
        signers.sort();
        signers.dedup();
        Ok(Signers {
            valid: signers,
            unverified: unknown,
        })
    }
}

/// A reader over several byte slices in a row.
struct Parts<'a> {
    current: &'a [u8],
    rest: &'a [&'a [u8]],
}

impl<'a> Parts<'a> {
    fn new(parts: &'a [&'a [u8]]) -> Self {
        Self {
            current: &[],
            rest: parts,
        }
    }
}

impl std::io::Read for Parts<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            let Some((first, rest)) = self.rest.split_first() else {
                return Ok(0);
            };
            self.current = first;
            self.rest = rest;
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = &self.current[n..];
        Ok(n)
    }
}

fn fpr(k: &impl KeyDetails) -> Fingerprint {
    Fingerprint(format!("{:X}", k.fingerprint()))
}

fn issuer(sig: &Signature) -> String {
    if let Some(f) = sig.issuer_fingerprint().first() {
        return format!("{f:X}");
    }
    sig.issuer_key_id()
        .first()
        .map(|id| id.as_ref().iter().map(|b| format!("{b:02X}")).collect())
        .unwrap_or_else(|| "<no issuer>".to_owned())
}

/// Who signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signers {
    /// Primary fingerprints of keyring keys whose signatures verified (sorted, unique).
    pub valid: Vec<Fingerprint>,
    /// Issuer fingerprints / key ids of signatures by keys not in the keyring.
    pub unverified: Vec<String>,
}

/// The verified content of a clearsigned message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedText {
    /// Exactly the signed text (see module docs), LF line endings.
    pub text: String,
    /// Who signed it.
    pub signers: Signers,
}

const CLEARSIGN_HEADER: &str = "-----BEGIN PGP SIGNED MESSAGE-----";

/// Verify a clearsigned message (InRelease, signed .dsc) and return its signed text.
pub fn verify_clearsigned(data: &[u8], keyring: &Keyring) -> Result<VerifiedText, OpenPgpError> {
    if !data.starts_with(CLEARSIGN_HEADER.as_bytes()) {
        return Err(OpenPgpError::NotSigned(
            "does not start with -----BEGIN PGP SIGNED MESSAGE-----",
        ));
    }
    let text = std::str::from_utf8(data).map_err(|_| OpenPgpError::NotSigned("not UTF-8 text"))?;
    let (msg, _) = CleartextSignedMessage::from_string(text).map_err(OpenPgpError::Malformed)?;
    let signed = msg.signed_text();
    let signers = keyring.check(msg.signatures(), signed.as_bytes())?;
    Ok(VerifiedText {
        text: signed.replace("\r\n", "\n"),
        signers,
    })
}

/// Verify `data` (e.g. a Release file) against a detached signature (`Release.gpg`,
/// binary or armored, possibly several signatures).
pub fn verify_detached(
    data: &[u8],
    signature: &[u8],
    keyring: &Keyring,
) -> Result<Signers, OpenPgpError> {
    let (iter, _) =
        DetachedSignature::from_reader_many(signature).map_err(OpenPgpError::Malformed)?;
    let sigs = iter
        .map(|s| s.map(|d| d.signature))
        .collect::<Result<Vec<_>, _>>()
        .map_err(OpenPgpError::Malformed)?;
    keyring.check(&sigs, data)
}

/// Cut the signed body out of a clearsigned text WITHOUT verifying it (dash-unescaped,
/// LF endings), for tools that only inspect unsigned-trust data such as a local `.dsc`.
pub fn strip_clearsign(text: &str) -> Result<String, OpenPgpError> {
    if !text.starts_with(CLEARSIGN_HEADER) {
        return Err(OpenPgpError::NotSigned(
            "does not start with -----BEGIN PGP SIGNED MESSAGE-----",
        ));
    }
    let (msg, _) = CleartextSignedMessage::from_string(text).map_err(OpenPgpError::Malformed)?;
    Ok(msg.signed_text().replace("\r\n", "\n"))
}

/// Verify binary OpenPGP signature packets (as RPM headers store them in `RSAHEADER` /
/// `SIGTAG_PGP`) over the concatenation of `parts` (the main header, or header + payload).
pub fn verify_packets(
    signature: &[u8],
    parts: &[&[u8]],
    keyring: &Keyring,
) -> Result<Signers, OpenPgpError> {
    let (iter, _) =
        DetachedSignature::from_reader_many(signature).map_err(OpenPgpError::Malformed)?;
    let sigs = iter
        .map(|s| s.map(|d| d.signature))
        .collect::<Result<Vec<_>, _>>()
        .map_err(OpenPgpError::Malformed)?;
    keyring.check_parts(&sigs, parts)
}
