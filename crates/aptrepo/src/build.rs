//! Assembling the repository: `Packages`/`Sources` indices (plain, `.gz`, `.xz`) per
//! component and architecture, `by-hash` aliases, `Release`, `InRelease`, `Release.gpg`
//! and the pool entries, as a [`RepoTree`] of relative paths. Pool files and by-hash
//! copies are references, never copied bytes, so the daemon can hardlink store objects.

use std::collections::BTreeMap;

use cryo_debian::deb822::{write_paragraphs, Deb822Error, OwnedParagraph};
use cryo_debian::version::Version;

use crate::compress::{self, CompressError};
use crate::deb::ScannedDeb;
use crate::hash::FileHashes;
use crate::pool::pool_dir;
use crate::release::release_text;
use crate::signing::{SigningError, SigningKey};
use crate::sources::{scan_source, SourceError, SourceInput};
use crate::spec::{Component, RepoSpec, SpecError};

/// One binary package to publish: its scanned metadata and the component it goes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageInput {
    /// What [`crate::scan_deb`] read from the `.deb`.
    pub deb: ScannedDeb,
    /// The component (must be one of [`RepoSpec::components`]).
    pub component: Component,
}

/// Where the bytes of one published file come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSource {
    /// Bytes made here (indices, `Release`, `InRelease`, `Release.gpg`).
    Generated(Vec<u8>),
    /// The `.deb` of `packages[i]`.
    Package(usize),
    /// The `.dsc` of `sources[i]`.
    SourceDsc(usize),
    /// `sources[source].files[file]`.
    SourceFile {
        /// Index into the sources.
        source: usize,
        /// Index into that source's files.
        file: usize,
    },
    /// The same bytes as the entry at this path of the tree (by-hash copies).
    Alias(String),
}

/// The complete repository: relative path (`dists/…`, `pool/…`) → content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepoTree {
    /// Every file, sorted by path.
    pub files: BTreeMap<String, FileSource>,
}

impl RepoTree {
    /// The entry at `path`, following aliases.
    pub fn resolve(&self, path: &str) -> Option<&FileSource> {
        let mut entry = self.files.get(path)?;
        // Aliases point at non-aliases by construction; the bound guards against misuse.
        for _ in 0..4 {
            match entry {
                FileSource::Alias(target) => entry = self.files.get(target)?,
                other => return Some(other),
            }
        }
        None
    }

    /// The bytes of a generated file (following aliases), if `path` is one.
    pub fn generated(&self, path: &str) -> Option<&[u8]> {
        match self.resolve(path)? {
            FileSource::Generated(bytes) => Some(bytes),
            _ => None,
        }
    }
}

/// Why a repository cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The spec is inconsistent.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A package names a component the spec does not have.
    #[error("{file}: component {component} is not one of the repository's components")]
    UnknownComponent {
        /// Pool file name.
        file: String,
        /// The component.
        component: Component,
    },
    /// A package is for an architecture the repository does not publish.
    #[error("{file}: architecture {architecture} is not published by this repository")]
    UnknownArchitecture {
        /// Pool file name.
        file: String,
        /// The architecture.
        architecture: String,
    },
    /// Two different files would be published at the same pool path.
    #[error("two different files for {path}")]
    Conflict {
        /// The pool path.
        path: String,
    },
    /// A source package is unusable.
    #[error("source package #{index}")]
    Source {
        /// Index into the sources.
        index: usize,
        /// The cause.
        #[source]
        source: SourceError,
    },
    /// A stanza could not be written (a control field name deb822 cannot represent).
    #[error("writing an index stanza")]
    Stanza(#[from] Deb822Error),
    /// Compressing an index failed.
    #[error(transparent)]
    Compress(#[from] CompressError),
    /// Signing `Release` failed.
    #[error("signing Release")]
    Signing(#[from] SigningError),
}

/// Build the repository for binary packages only.
pub fn build_repository(
    spec: &RepoSpec,
    packages: &[PackageInput],
    key: &SigningKey,
) -> Result<RepoTree, PublishError> {
    build_repository_with_sources(spec, packages, &[], key)
}

type SortKey = (String, Version, String);

/// Build the repository; when `sources` is non-empty every component also gets
/// `source/Sources{,.gz,.xz}`.
pub fn build_repository_with_sources(
    spec: &RepoSpec,
    packages: &[PackageInput],
    sources: &[SourceInput],
    key: &SigningKey,
) -> Result<RepoTree, PublishError> {
    spec.validate()?;
    let mut tree = RepoTree::default();
    let mut pool = BTreeMap::<String, FileHashes>::new();
    // (component, arch) → sorted stanzas.
    let mut binary: BTreeMap<(&Component, &str), BTreeMap<SortKey, OwnedParagraph>> = spec
        .components
        .iter()
        .flat_map(|c| {
            spec.architectures
                .iter()
                .map(move |a| ((c, a.as_str()), BTreeMap::new()))
        })
        .collect();
    for (i, input) in packages.iter().enumerate() {
        let deb = &input.deb;
        let file = deb.file_name();
        check_component(spec, &input.component, &file)?;
        let arch = deb.architecture.as_str();
        if !deb.architecture.is_all() && !spec.architectures.contains(&deb.architecture) {
            return Err(PublishError::UnknownArchitecture {
                file,
                architecture: arch.to_owned(),
            });
        }
        let path = format!("{}/{file}", pool_dir(&input.component, &deb.source));
        if !add_pool_file(
            &mut tree,
            &mut pool,
            &path,
            deb.hashes,
            FileSource::Package(i),
        )? {
            continue; // the identical file was already given: publish it once
        }
        let stanza = packages_stanza(deb, &path)?;
        let sort_key = (deb.package.clone(), deb.version.clone(), arch.to_owned());
        for ((component, index_arch), stanzas) in &mut binary {
            if **component == input.component && (deb.architecture.is_all() || *index_arch == arch)
            {
                stanzas.insert(sort_key.clone(), stanza.clone());
            }
        }
    }

    let mut source_indices: BTreeMap<&Component, BTreeMap<(String, Version), OwnedParagraph>> =
        BTreeMap::new();
    if !sources.is_empty() {
        source_indices = spec
            .components
            .iter()
            .map(|c| (c, BTreeMap::new()))
            .collect();
    }
    for (index, input) in sources.iter().enumerate() {
        let scanned =
            scan_source(input).map_err(|source| PublishError::Source { index, source })?;
        check_component(spec, &input.component, &scanned.dsc_name)?;
        let dsc_path = format!("{}/{}", scanned.directory, scanned.dsc_name);
        let mut new = add_pool_file(
            &mut tree,
            &mut pool,
            &dsc_path,
            scanned.dsc_hashes,
            FileSource::SourceDsc(index),
        )?;
        for (name, file, hashes) in &scanned.files {
            let path = format!("{}/{name}", scanned.directory);
            let src = FileSource::SourceFile {
                source: index,
                file: *file,
            };
            new |= add_pool_file(&mut tree, &mut pool, &path, *hashes, src)?;
        }
        if new {
            if let Some(stanzas) = source_indices.get_mut(&input.component) {
                stanzas.insert((scanned.name, scanned.version), scanned.stanza);
            }
        }
    }

    let dists = format!("dists/{}", spec.codename);
    let mut indices = BTreeMap::new();
    for ((component, arch), stanzas) in &binary {
        let dir = format!("{component}/binary-{arch}");
        add_index(
            &mut tree,
            &mut indices,
            &dists,
            &dir,
            "Packages",
            stanzas.values(),
        )?;
    }
    for (component, stanzas) in &source_indices {
        let dir = format!("{component}/source");
        add_index(
            &mut tree,
            &mut indices,
            &dists,
            &dir,
            "Sources",
            stanzas.values(),
        )?;
    }

    let release = release_text(spec, &indices);
    let in_release = key.clearsign(&release, spec.date)?;
    let release_gpg = key.detached_armored(release.as_bytes(), spec.date)?;
    let mut put = |name: &str, bytes: Vec<u8>| {
        tree.files
            .insert(format!("{dists}/{name}"), FileSource::Generated(bytes))
    };
    put("Release", release.into_bytes());
    put("InRelease", in_release.into_bytes());
    put("Release.gpg", release_gpg.into_bytes());
    Ok(tree)
}

fn check_component(spec: &RepoSpec, component: &Component, file: &str) -> Result<(), PublishError> {
    if spec.components.contains(component) {
        Ok(())
    } else {
        Err(PublishError::UnknownComponent {
            file: file.to_owned(),
            component: component.clone(),
        })
    }
}

/// Record a pool file; `Ok(false)` when the identical file is already there.
fn add_pool_file(
    tree: &mut RepoTree,
    pool: &mut BTreeMap<String, FileHashes>,
    path: &str,
    hashes: FileHashes,
    source: FileSource,
) -> Result<bool, PublishError> {
    match pool.get(path) {
        Some(existing) if *existing == hashes => Ok(false),
        Some(_) => Err(PublishError::Conflict {
            path: path.to_owned(),
        }),
        None => {
            pool.insert(path.to_owned(), hashes);
            tree.files.insert(path.to_owned(), source);
            Ok(true)
        }
    }
}

/// The `Packages` stanza: the control paragraph as shipped, then the archive fields.
fn packages_stanza(deb: &ScannedDeb, pool_path: &str) -> Result<OwnedParagraph, Deb822Error> {
    let mut stanza = deb.control.clone();
    for field in ["Filename", "Size", "MD5sum", "SHA1", "SHA256", "SHA512"] {
        stanza.remove(field);
    }
    stanza.set("Filename", pool_path)?;
    stanza.set("Size", deb.hashes.size.to_string())?;
    stanza.set("MD5sum", deb.hashes.md5.to_string())?;
    stanza.set("SHA256", deb.hashes.sha256.to_string())?;
    Ok(stanza)
}

/// Write `<dir>/<name>{,.gz,.xz}` plus by-hash aliases and record them for `Release`.
fn add_index<'p>(
    tree: &mut RepoTree,
    indices: &mut BTreeMap<String, FileHashes>,
    dists: &str,
    dir: &str,
    name: &str,
    stanzas: impl IntoIterator<Item = &'p OwnedParagraph>,
) -> Result<(), PublishError> {
    let plain = write_paragraphs(stanzas).into_bytes();
    // xz is most of an index's time: gzip runs beside it on another thread.
    let (gz, xz) = std::thread::scope(|s| {
        let gz = s.spawn(|| compress::gzip(&plain));
        let xz = compress::xz(&plain);
        (gz.join().expect("gzip thread"), xz)
    });
    let (gz, xz) = (gz?, xz?);
    for (file, bytes) in [
        (name.to_owned(), plain),
        (format!("{name}.gz"), gz),
        (format!("{name}.xz"), xz),
    ] {
        let hashes = FileHashes::of_bytes(&bytes);
        let path = format!("{dists}/{dir}/{file}");
        tree.files.insert(
            format!("{dists}/{dir}/by-hash/MD5Sum/{}", hashes.md5),
            FileSource::Alias(path.clone()),
        );
        tree.files.insert(
            format!("{dists}/{dir}/by-hash/SHA256/{}", hashes.sha256),
            FileSource::Alias(path.clone()),
        );
        tree.files.insert(path, FileSource::Generated(bytes));
        indices.insert(format!("{dir}/{file}"), hashes);
    }
    Ok(())
}
