//! A realisation's outputs as [`BuiltFile`]s: SHA256 (the identity apt and closures use)
//! and, for `.deb`s, the control paragraph. Every `.deb` is recorded in the SHA256 →
//! BLAKE3 map so that builds of dependent packages find it in the store.

use std::io::Read;

use sha2::{Digest, Sha256};

use cryo_store::realisation::Realisation;

use super::model::BuiltFile;
use super::ProjectError;
use super::Projects;

pub fn built_files(st: &Projects, r: &Realisation) -> Result<Vec<BuiltFile>, ProjectError> {
    let mut out = Vec::new();
    for (name, o) in &r.outputs {
        let mut reader = st.store.open_blob(&o.digest)?;
        let mut bytes = Vec::with_capacity(o.size as usize);
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| ProjectError::Invalid(format!("reading output {name}: {e}")))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let control = if name.ends_with(".deb") {
            let scanned = cryo_aptrepo::deb::scan_deb_bytes(&bytes)
                .map_err(|e| ProjectError::Invalid(format!("output {name}: {e}")))?;
            crate::mirror::sync::remember_sha256(&st.store, &sha256, &o.digest)?;
            Some(scanned.control.to_string())
        } else {
            None
        };
        out.push(BuiltFile {
            name: name.clone(),
            blake3: o.digest,
            sha256,
            size: o.size,
            control,
        });
    }
    Ok(out)
}
