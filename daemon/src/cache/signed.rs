//! Signed realisations: what a cache answers for `GET /cache/drv/<id>`.
//!
//! The signed fingerprint is one line of text (see `docs/cache-protocol.md`):
//! `cryo-realisation-1;<drv hex>;<name>:<blake3 hex>:<size>[,<name>:<blake3>:<size>...]`
//! with outputs sorted by name. Signatures are `KEYNAME:BASE64(ed25519 signature)`.

use std::collections::BTreeMap;

use base64::Engine;
use ed25519_dalek::{Signature, Signer, Verifier};

use cryo_store::realisation::{OutputRef, Realisation};
use cryo_store::B3Digest;

use super::keys::{NamedKey, TrustedKey};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A realisation with signatures: the wire type of `GET /cache/drv/<id>`.
pub use cryo_store::api::SignedRealisation;

/// The exact bytes that are signed.
pub fn fingerprint(drv: &B3Digest, outputs: &BTreeMap<String, OutputRef>) -> String {
    let outs: Vec<String> = outputs
        .iter()
        .map(|(n, o)| format!("{n}:{}:{}", o.digest, o.size))
        .collect();
    format!("cryo-realisation-1;{drv};{}", outs.join(","))
}

/// Sign a realisation with every given key.
pub fn sign(r: &Realisation, keys: &[NamedKey]) -> SignedRealisation {
    let fp = fingerprint(&r.drv, &r.outputs);
    SignedRealisation {
        drv: r.drv,
        outputs: r.outputs.clone(),
        signatures: keys
            .iter()
            .map(|k| {
                format!(
                    "{}:{}",
                    k.name,
                    B64.encode(k.key.sign(fp.as_bytes()).to_bytes())
                )
            })
            .collect(),
    }
}

/// Checking and unwrapping a [`SignedRealisation`] (daemon behaviour on the wire type).
pub trait SignedExt {
    /// The name of the first trusted key with a valid signature, if any.
    fn trusted_by(&self, trusted: &[TrustedKey]) -> Option<String>;
    /// The realisation without its signatures.
    fn realisation(&self) -> Realisation;
}

impl SignedExt for SignedRealisation {
    fn trusted_by(&self, trusted: &[TrustedKey]) -> Option<String> {
        let fp = fingerprint(&self.drv, &self.outputs);
        for sig in &self.signatures {
            let Some((name, b64)) = sig.split_once(':') else {
                continue;
            };
            let Some(key) = trusted.iter().find(|k| k.name == name) else {
                continue;
            };
            let Ok(bytes) = B64.decode(b64) else { continue };
            let Ok(arr) = <[u8; 64]>::try_from(bytes.as_slice()) else {
                continue;
            };
            if key
                .key
                .verify(fp.as_bytes(), &Signature::from_bytes(&arr))
                .is_ok()
            {
                return Some(name.to_string());
            }
        }
        None
    }

    fn realisation(&self) -> Realisation {
        Realisation {
            drv: self.drv,
            outputs: self.outputs.clone(),
        }
    }
}
