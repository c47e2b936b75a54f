//! The repository signing key: an OpenPGP v4 Ed25519 key (algorithm 22, "EdDSA legacy",
//! which GnuPG's `gpgv` in Debian ≥ 10 and Sequoia's `sqv` both verify; the RFC 9580
//! Ed25519 algorithm 27 is NOT understood by Debian 12's gpgv 2.2), generated with rPGP,
//! plus deterministic signing of `Release`: clearsigned `InRelease` and detached armored
//! `Release.gpg`, SHA-512, creation time = the repository date. Ed25519 signatures are
//! deterministic, so the same key, text and date give byte-identical signatures.
//!
//! The self-signature on the user id is re-made with the key's creation time as its
//! creation time, so the key is valid from that instant on (Sequoia checks that the
//! binding existed when a data signature was made).

use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, Deserializable, DetachedSignature, KeyType,
    SecretKeyParamsBuilder, SignedPublicKey, SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{PacketTrait, SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::ser::Serialize;
use pgp::types::{KeyDetails, KeyVersion, Password, Timestamp};

/// Key generation, parsing and signing failures.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The project name cannot go into a user id.
    #[error("project name {0:?} cannot be used in a key user id")]
    InvalidName(String),
    /// A timestamp outside OpenPGP's unsigned 32-bit range.
    #[error("time {0} is outside the OpenPGP timestamp range (1970..2106)")]
    TimeOutOfRange(i64),
    /// The repository date is before the key's creation: gpgv would reject the signature.
    #[error("cannot sign at {at}: the key was created later, at {created}")]
    BeforeKeyCreation {
        /// Requested signature time.
        at: i64,
        /// Key creation time.
        created: i64,
    },
    /// The stored secret key is not usable (wrong kind, not signing-capable, bad binding).
    #[error("secret key: {0}")]
    BadKey(String),
    /// rPGP failed.
    #[error("OpenPGP")]
    Pgp(#[from] pgp::errors::Error),
}

/// A signing key for one project's repository. The secret is unprotected in memory and in
/// [`SigningKey::to_armored_secret`]; the caller stores it with mode 0600.
#[derive(Debug, Clone)]
pub struct SigningKey {
    secret: SignedSecretKey,
}

fn timestamp(t: i64) -> Result<Timestamp, SigningError> {
    u32::try_from(t)
        .map(Timestamp::from_secs)
        .map_err(|_| SigningError::TimeOutOfRange(t))
}

impl SigningKey {
    /// Generate a key with user id `cryo project <project> <cryo@localhost>`, created at
    /// `created` (unix seconds; pass the current time, it must not be after any
    /// repository date signed with it).
    pub fn generate(project: &str, created: i64) -> Result<SigningKey, SigningError> {
        Self::generate_with_rng(project, created, rand::thread_rng())
    }

    /// [`SigningKey::generate`] with an explicit CSPRNG.
    pub fn generate_with_rng<R: rand::Rng + rand::CryptoRng>(
        project: &str,
        created: i64,
        mut rng: R,
    ) -> Result<SigningKey, SigningError> {
        if project.is_empty()
            || project.len() > 200
            || project
                .chars()
                .any(|c| c.is_control() || "<>()".contains(c))
        {
            return Err(SigningError::InvalidName(project.to_owned()));
        }
        let created_at = timestamp(created)?;
        let params = SecretKeyParamsBuilder::default()
            .key_type(KeyType::Ed25519Legacy)
            .version(KeyVersion::V4)
            .can_certify(true)
            .can_sign(true)
            .created_at(created_at)
            .primary_user_id(format!("cryo project {project} <cryo@localhost>"))
            .preferred_hash_algorithms(
                [HashAlgorithm::Sha512, HashAlgorithm::Sha256]
                    .into_iter()
                    .collect(),
            )
            .build()
            .map_err(|e| SigningError::BadKey(e.to_string()))?;
        let mut secret = params.generate(&mut rng)?;
        // Re-date the user id self-signatures to the key creation time.
        let key = &secret.primary_key;
        let mut users = secret.details.users.clone();
        for user in &mut users {
            let mut resigned = Vec::new();
            for sig in &user.signatures {
                let Some(config) = sig.config() else {
                    return Err(SigningError::BadKey("self-signature without config".into()));
                };
                let mut config = config.clone();
                for sub in &mut config.hashed_subpackets {
                    if let SubpacketData::SignatureCreationTime(_) = sub.data {
                        *sub =
                            Subpacket::regular(SubpacketData::SignatureCreationTime(created_at))?;
                    }
                }
                resigned.push(config.sign_certification(
                    key,
                    key.public_key(),
                    &Password::empty(),
                    user.id.tag(),
                    &user.id,
                )?);
            }
            user.signatures = resigned;
        }
        secret.details.users = users;
        secret.verify_bindings()?;
        Ok(SigningKey { secret })
    }

    /// Parse a key written by [`SigningKey::to_armored_secret`] and check its bindings.
    pub fn from_armored_secret(text: &str) -> Result<SigningKey, SigningError> {
        let (secret, _) = SignedSecretKey::from_string(text)?;
        secret.verify_bindings()?;
        if !secret.primary_key.algorithm().can_sign() {
            return Err(SigningError::BadKey(
                "primary key cannot make signatures".into(),
            ));
        }
        Ok(SigningKey { secret })
    }

    /// The transferable secret key, ASCII-armored (unencrypted).
    pub fn to_armored_secret(&self) -> Result<String, SigningError> {
        Ok(self.secret.to_armored_string(ArmorOptions::default())?)
    }

    fn public(&self) -> SignedPublicKey {
        self.secret.to_public_key()
    }

    /// The public key, ASCII-armored (for `curl … | gpg --dearmor` or `signed-by=` with
    /// an `.asc` file, which apt ≥ 2.4 accepts).
    pub fn public_armored(&self) -> Result<String, SigningError> {
        Ok(self.public().to_armored_string(ArmorOptions::default())?)
    }

    /// The public key as a binary keyring (`.gpg` file for `signed-by=`).
    pub fn public_keyring_bytes(&self) -> Result<Vec<u8>, SigningError> {
        Ok(self.public().to_bytes()?)
    }

    /// The primary key fingerprint, uppercase hex (what `gpg --list-keys` shows).
    pub fn fingerprint(&self) -> String {
        hex::encode_upper(self.secret.primary_key.fingerprint().as_bytes())
    }

    /// Key creation time (unix seconds).
    pub fn created(&self) -> i64 {
        i64::from(self.secret.primary_key.created_at().as_secs())
    }

    /// A v4 signature config of `typ` made at `at`, with issuer fingerprint (hashed) and
    /// key id (unhashed), as GnuPG writes them.
    fn config(&self, typ: SignatureType, at: i64) -> Result<SignatureConfig, SigningError> {
        if at < self.created() {
            return Err(SigningError::BeforeKeyCreation {
                at,
                created: self.created(),
            });
        }
        let key = &self.secret.primary_key;
        let mut config = SignatureConfig::v4(typ, key.algorithm(), HashAlgorithm::Sha512);
        config.hashed_subpackets = vec![
            Subpacket::regular(SubpacketData::SignatureCreationTime(timestamp(at)?))?,
            Subpacket::regular(SubpacketData::IssuerFingerprint(key.fingerprint()))?,
        ];
        config.unhashed_subpackets = vec![Subpacket::regular(SubpacketData::IssuerKeyId(
            key.legacy_key_id(),
        ))?];
        Ok(config)
    }

    /// Clearsign `text` (the `InRelease` form), signature time `at`.
    pub fn clearsign(&self, text: &str, at: i64) -> Result<String, SigningError> {
        let config = self.config(SignatureType::Text, at)?;
        let msg = CleartextSignedMessage::new(
            text,
            config,
            &self.secret.primary_key,
            &Password::empty(),
        )?;
        Ok(msg.to_armored_string(ArmorOptions::default())?)
    }

    /// Detached, armored binary signature of `data` (the `Release.gpg` form), time `at`.
    pub fn detached_armored(&self, data: &[u8], at: i64) -> Result<String, SigningError> {
        let config = self.config(SignatureType::Binary, at)?;
        let sig = config.sign(&self.secret.primary_key, &Password::empty(), data)?;
        Ok(DetachedSignature::new(sig).to_armored_string(ArmorOptions::default())?)
    }
}
