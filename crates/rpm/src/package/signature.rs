//! Digest and signature checks of a package, as `rpmkeys --checksig` makes them:
//! - header digests: `SHA256` / `SHA1` of the signature header, over the main header as
//!   stored (its immutable region: [`verify`] refuses entries outside the region);
//! - payload digests: `PAYLOADDIGEST` (compressed payload) and `PAYLOADDIGESTALT`
//!   (uncompressed, rpm ≥ 4.16) of the main header, algorithm `PAYLOADDIGESTALGO`; and the
//!   legacy `MD5` of the signature header over header + payload;
//! - OpenPGP signatures: `RSA`/`DSA` over the main header, `PGP`/`GPG` over header + payload,
//!   each checked against a [`Keyring`] (cryo-debian's rPGP keyring).
//!
//! The outcome keeps every check ([`Verification`]); [`Verification::result`] folds them into
//! one verdict with distinct errors: unsigned, bad signature, unknown key, digest mismatch.

use std::fmt;
use std::io::Read;

use cryo_debian::openpgp::{self, Fingerprint, Keyring, OpenPgpError};

use super::files::{DigestAlgo, Hasher};
use super::header::{HeaderKind, Tag};
use super::payload;
use super::tags;
use super::Package;

/// Which signature tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignatureKind {
    /// `RSA` (268): OpenPGP signature over the main header (any algorithm since rpm 4.16).
    HeaderRsa,
    /// `DSA` (267): DSA signature over the main header.
    HeaderDsa,
    /// `PGP` (1002): over header + payload.
    HeaderPayloadPgp,
    /// `GPG` (1005): DSA over header + payload.
    HeaderPayloadGpg,
}

impl SignatureKind {
    const ALL: [(SignatureKind, Tag); 4] = [
        (SignatureKind::HeaderRsa, tags::SIG_RSA),
        (SignatureKind::HeaderDsa, tags::SIG_DSA),
        (SignatureKind::HeaderPayloadPgp, tags::SIG_PGP),
        (SignatureKind::HeaderPayloadGpg, tags::SIG_GPG),
    ];

    fn covers_payload(self) -> bool {
        matches!(
            self,
            SignatureKind::HeaderPayloadPgp | SignatureKind::HeaderPayloadGpg
        )
    }
}

impl fmt::Display for SignatureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureKind::HeaderRsa => "header signature (RSAHEADER)",
            SignatureKind::HeaderDsa => "header signature (DSAHEADER)",
            SignatureKind::HeaderPayloadPgp => "header+payload signature (PGP)",
            SignatureKind::HeaderPayloadGpg => "header+payload signature (GPG)",
        })
    }
}

/// One digest check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestCheck {
    /// The package records no such digest.
    Absent,
    Ok {
        algo: DigestAlgo,
    },
    Mismatch {
        algo: DigestAlgo,
        expected: String,
        actual: String,
    },
    /// The digest could not be computed or its record is malformed.
    Unreadable {
        reason: String,
    },
}

impl DigestCheck {
    fn compare(algo: DigestAlgo, expected: &str, actual: String) -> DigestCheck {
        if expected.eq_ignore_ascii_case(&actual) {
            DigestCheck::Ok { algo }
        } else {
            DigestCheck::Mismatch {
                algo,
                expected: expected.to_owned(),
                actual,
            }
        }
    }

    fn failed(&self) -> bool {
        matches!(
            self,
            DigestCheck::Mismatch { .. } | DigestCheck::Unreadable { .. }
        )
    }
}

/// One OpenPGP signature check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// Made by this keyring key (primary fingerprint).
    Good { key: Fingerprint },
    /// Made by a key not in the keyring (issuer fingerprint or key id).
    UnknownKey { issuer: String },
    /// Made by a keyring key, but the data is not what it signed.
    Bad { issuer: String },
    /// The signature packet cannot be parsed.
    Malformed { reason: String },
}

/// All checks of one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// `SHA256` over the main header.
    pub header_sha256: DigestCheck,
    /// `SHA1` over the main header.
    pub header_sha1: DigestCheck,
    /// `PAYLOADDIGEST` over the compressed payload.
    pub payload_digest: DigestCheck,
    /// `PAYLOADDIGESTALT` over the uncompressed payload.
    pub payload_digest_alt: DigestCheck,
    /// Legacy `MD5` over header + payload.
    pub md5: DigestCheck,
    /// One check per signature tag present.
    pub signatures: Vec<(SignatureKind, SignatureCheck)>,
    /// Main-header entries outside the immutable region (a header changed after signing).
    pub entries_outside_region: usize,
}

/// Why a package does not verify; one variant per cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("{what} digest mismatch ({algo}: expected {expected}, got {actual})")]
    DigestMismatch {
        what: &'static str,
        algo: DigestAlgo,
        expected: String,
        actual: String,
    },
    #[error("{what} digest cannot be checked: {reason}")]
    DigestUnreadable { what: &'static str, reason: String },
    #[error("main header has {0} entries outside its immutable region (changed after signing)")]
    OutsideRegion(usize),
    #[error("BAD {kind} by {issuer}")]
    BadSignature { kind: SignatureKind, issuer: String },
    #[error("{kind} by unknown key {issuer}")]
    UnknownKey { kind: SignatureKind, issuer: String },
    #[error("malformed {kind}: {reason}")]
    MalformedSignature { kind: SignatureKind, reason: String },
    #[error("unsigned package (digests OK)")]
    Unsigned,
}

impl Verification {
    /// The signing keys when every digest matches and every signature is good; otherwise
    /// the first failure, in the order: digests, region, bad, malformed, unknown, unsigned.
    pub fn result(&self) -> Result<Vec<Fingerprint>, VerifyError> {
        self.digests_ok()?;
        let mut keys = Vec::new();
        let mut unknown = None;
        for (kind, check) in &self.signatures {
            let kind = *kind;
            match check {
                SignatureCheck::Good { key } => keys.push(key.clone()),
                SignatureCheck::Bad { issuer } => {
                    return Err(VerifyError::BadSignature {
                        kind,
                        issuer: issuer.clone(),
                    })
                }
                SignatureCheck::Malformed { reason } => {
                    return Err(VerifyError::MalformedSignature {
                        kind,
                        reason: reason.clone(),
                    })
                }
                SignatureCheck::UnknownKey { issuer } => {
                    unknown.get_or_insert(VerifyError::UnknownKey {
                        kind,
                        issuer: issuer.clone(),
                    });
                }
            }
        }
        if let Some(e) = unknown {
            return Err(e);
        }
        if keys.is_empty() {
            return Err(VerifyError::Unsigned);
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    /// Only the digests (and the region): what `rpmkeys --checksig --nosignature` checks.
    pub fn digests_ok(&self) -> Result<(), VerifyError> {
        for (what, check) in [
            ("header SHA256", &self.header_sha256),
            ("header SHA1", &self.header_sha1),
            ("payload", &self.payload_digest),
            ("uncompressed payload", &self.payload_digest_alt),
            ("header+payload MD5", &self.md5),
        ] {
            match check {
                DigestCheck::Mismatch {
                    algo,
                    expected,
                    actual,
                } => {
                    return Err(VerifyError::DigestMismatch {
                        what,
                        algo: *algo,
                        expected: expected.clone(),
                        actual: actual.clone(),
                    })
                }
                DigestCheck::Unreadable { reason } => {
                    return Err(VerifyError::DigestUnreadable {
                        what,
                        reason: reason.clone(),
                    })
                }
                DigestCheck::Absent | DigestCheck::Ok { .. } => {}
            }
        }
        if self.entries_outside_region > 0 {
            return Err(VerifyError::OutsideRegion(self.entries_outside_region));
        }
        Ok(())
    }

    /// Whether any digest failed.
    pub fn any_digest_failed(&self) -> bool {
        [
            &self.header_sha256,
            &self.header_sha1,
            &self.payload_digest,
            &self.payload_digest_alt,
            &self.md5,
        ]
        .iter()
        .any(|c| c.failed())
    }
}

/// Runs every check of `pkg` against `keyring`.
pub fn verify(pkg: &Package<'_>, keyring: &Keyring) -> Verification {
    let sig = &pkg.signature;
    let header = pkg.header.bytes.as_slice();
    let header_digest = |tag: Tag, algo: DigestAlgo| match sig.string(tag) {
        None => DigestCheck::Absent,
        Some(expected) => DigestCheck::compare(algo, &expected, algo.hex(header)),
    };
    let header_sha256 = header_digest(tags::SIG_SHA256, DigestAlgo::Sha256);
    let header_sha1 = header_digest(tags::SIG_SHA1, DigestAlgo::Sha1);
    let md5 = match sig.binary(tags::SIG_MD5) {
        None => DigestCheck::Absent,
        Some(expected) => {
            let mut h = Hasher::new(DigestAlgo::Md5);
            h.update(header);
            h.update(pkg.payload);
            DigestCheck::compare(DigestAlgo::Md5, &hex::encode(expected), h.finish())
        }
    };
    let (payload_digest, payload_digest_alt) = payload_digests(pkg);
    let signatures = SignatureKind::ALL
        .iter()
        .filter_map(|&(kind, tag)| {
            let packet = sig.binary(tag)?;
            let parts: Vec<&[u8]> = if kind.covers_payload() {
                vec![header, pkg.payload]
            } else {
                vec![header]
            };
            Some((kind, check_signature(packet, &parts, keyring)))
        })
        .collect();
    let entries_outside_region = match pkg.header.region_entries {
        Some(n) => pkg.header.entries.len() - n as usize,
        None => pkg.header.entries.len(),
    };
    Verification {
        header_sha256,
        header_sha1,
        payload_digest,
        payload_digest_alt,
        md5,
        signatures,
        entries_outside_region,
    }
}

fn check_signature(packet: &[u8], parts: &[&[u8]], keyring: &Keyring) -> SignatureCheck {
    match openpgp::verify_packets(packet, parts, keyring) {
        Ok(signers) => match signers.valid.into_iter().next() {
            Some(key) => SignatureCheck::Good { key },
            None => SignatureCheck::Malformed {
                reason: "no signature verified".into(),
            },
        },
        Err(OpenPgpError::BadSignature { issuers }) => SignatureCheck::Bad {
            issuer: issuers.join(", "),
        },
        Err(OpenPgpError::UnknownKeys { issuers }) => SignatureCheck::UnknownKey {
            issuer: issuers.join(", "),
        },
        Err(e) => SignatureCheck::Malformed {
            reason: e.to_string(),
        },
    }
}

fn payload_digests(pkg: &Package<'_>) -> (DigestCheck, DigestCheck) {
    let h = &pkg.header;
    let expected = |tag: Tag| h.strings(tag).into_iter().next();
    let (plain, alt) = (
        expected(tags::PAYLOADDIGEST),
        expected(tags::PAYLOADDIGESTALT),
    );
    if plain.is_none() && alt.is_none() {
        return (DigestCheck::Absent, DigestCheck::Absent);
    }
    let algo_num = h.integer(tags::PAYLOADDIGESTALGO).unwrap_or(8);
    let Some(algo) = DigestAlgo::from_pgp(algo_num) else {
        let bad = DigestCheck::Unreadable {
            reason: format!(
                "unknown {} {algo_num}",
                HeaderKind::Main.tag_name(tags::PAYLOADDIGESTALGO)
            ),
        };
        return (bad.clone(), bad);
    };
    let text = |v: Vec<u8>| String::from_utf8_lossy(&v).into_owned();
    let plain = match plain {
        None => DigestCheck::Absent,
        Some(e) => DigestCheck::compare(algo, &text(e), algo.hex(pkg.payload)),
    };
    let alt = match alt {
        None => DigestCheck::Absent,
        Some(e) => match uncompressed_digest(pkg, algo) {
            Ok(actual) => DigestCheck::compare(algo, &text(e), actual),
            Err(reason) => DigestCheck::Unreadable { reason },
        },
    };
    (plain, alt)
}

fn uncompressed_digest(pkg: &Package<'_>, algo: DigestAlgo) -> Result<String, String> {
    let compressor = pkg.compressor().map_err(|e| e.to_string())?;
    let mut stream =
        payload::decoder(pkg.payload, compressor, pkg.limits()).map_err(|e| e.to_string())?;
    let mut h = Hasher::new(algo);
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = stream
            .read(&mut buf)
            .map_err(|e| format!("decompressing the payload: {e}"))?;
        if n == 0 {
            return Ok(h.finish());
        }
        h.update(&buf[..n]);
    }
}
