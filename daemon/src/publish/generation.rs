//! Making a generation: project results → `cryo-aptrepo` tree → blobs + manifest →
//! atomic switch. Also rollback and static export.

use std::collections::BTreeMap;
use std::path::Path;

use cap_fs_ext::DirExt;
use cap_std::fs::{Dir, OpenOptions};

use cryo_aptrepo::build::build_repository_with_sources;
use cryo_aptrepo::deb::{scan_deb_bytes, ScannedDeb};
use cryo_aptrepo::hash::FileHashes;
use cryo_aptrepo::sources::{SourceFileInput, SourceInput};
use cryo_aptrepo::{FileSource, PackageInput, RepoSpec};
use cryo_store::{B3Digest, ObjectKind};

use super::manifest::{self, Entry, Generation, Manifest, Publication};
use super::Publisher;
use super::{io, keys, PublishError, RepoError, KEEP_GENERATIONS};
use crate::mirror::snapshot;
use crate::project::model::{Project, ProjectName, Repository};
use crate::project::{ops, tables};

/// What `cryo publish` answers per repository, and what `--export` did: the API's types.
pub use cryo_store::api::{ExportOutcome, PublishOutcome};

fn root(project: &ProjectName, repo: &str, n: u64) -> String {
    format!("publish/{project}/{repo}/{n}")
}

fn read_all(st: &Publisher, d: &B3Digest) -> Result<Vec<u8>, PublishError> {
    Ok(st.store.read(d)?)
}

struct Inputs {
    debs: Vec<(B3Digest, PackageInput)>,
    sources: Vec<(B3Digest, BTreeMap<String, B3Digest>, SourceInput)>,
    /// Identity of the content (pool files), to skip publishing an unchanged repository.
    content: B3Digest,
}

/// Reads and scans the .debs `wanted` (file name, blob), one worker per core (most of a
/// publication's time for a large repository), in the order given.
fn scan_all(
    st: &Publisher,
    wanted: &[(String, B3Digest)],
) -> Result<Vec<(B3Digest, PackageInput)>, PublishError> {
    let scan = |(name, d): &(String, B3Digest)| -> Result<(B3Digest, PackageInput), PublishError> {
        let bytes = read_all(st, d)?;
        let deb: ScannedDeb = scan_deb_bytes(&bytes).map_err(|source| RepoError::Deb {
            file: name.clone(),
            source,
        })?;
        Ok((
            *d,
            PackageInput {
                deb,
                component: "main".parse().expect("valid component"),
            },
        ))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = wanted.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = wanted
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(scan).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("scanner thread"))
            .collect()
    })
}

fn inputs(st: &Publisher, p: &Project, repo: &Repository) -> Result<Inputs, PublishError> {
    let mut wanted = Vec::new();
    let mut seen: BTreeMap<String, B3Digest> = BTreeMap::new();
    let mut built_pkgs = std::collections::BTreeSet::new();
    for r in tables::results(&st.projects, &p.name)? {
        // A row blocked or unresolvable because of a dependency keeps (and publishes) its
        // last successful build.
        let ok = r.state.is_success() || r.previous.is_some_and(|s| s.is_success());
        if r.repository != repo.name || !ok || r.outputs.is_empty() {
            continue;
        }
        built_pkgs.insert(r.package.clone());
        for o in r.outputs.iter().filter(|o| o.name.ends_with(".deb")) {
            // An `Architecture: all` package built for several arches has one pool file:
            // the first arch's (results come in arch order) wins; a different build of
            // it on another arch is reported, not published twice.
            if let Some(first) = seen.get(&o.name) {
                if *first != o.blake3 {
                    tracing::warn!(project = %p.name, file = %o.name, arch = %r.arch, "Architecture: all package differs between arches; publishing the first arch's build");
                }
                continue;
            }
            seen.insert(o.name.clone(), o.blake3);
            wanted.push((o.name.clone(), o.blake3));
        }
    }
    let debs = scan_all(st, &wanted)?;
    let mut sources = Vec::new();
    for pkg in tables::packages(&st.projects, &p.name)? {
        let Some(rev) = pkg.latest() else { continue };
        if !built_pkgs.contains(&pkg.name) {
            continue;
        }
        let dsc_d = rev.files[&rev.dsc];
        let mut files = Vec::new();
        let mut digests = BTreeMap::new();
        for (name, d) in rev.files.iter().filter(|(n, _)| **n != rev.dsc) {
            let bytes = read_all(st, d)?;
            files.push(SourceFileInput {
                name: name.to_string(),
                hashes: FileHashes::of_bytes(&bytes),
            });
            digests.insert(name.to_string(), *d);
        }
        sources.push((
            dsc_d,
            digests,
            SourceInput {
                component: "main".parse().expect("valid component"),
                dsc: read_all(st, &dsc_d)?,
                files,
            },
        ));
    }
    let mut ident = Vec::new();
    for (d, _) in &debs {
        ident.extend_from_slice(d.as_bytes());
    }
    ident.push(b'|');
    for (d, files, _) in &sources {
        ident.extend_from_slice(d.as_bytes());
        for f in files.values() {
            ident.extend_from_slice(f.as_bytes());
        }
    }
    let content = B3Digest::of(&ident);
    Ok(Inputs {
        debs,
        sources,
        content,
    })
}

fn codename(st: &Publisher, repo: &Repository) -> Result<String, PublishError> {
    let snap = snapshot::get(&st.store, &repo.snapshot.to_hex())?;
    Ok(snap
        .record
        .archives
        .first()
        .map(|a| a.codename.clone().unwrap_or_else(|| a.suite.clone()))
        .unwrap_or_else(|| repo.name.to_string()))
}

/// Publish one repository of a project (a new generation unless nothing changed).
pub fn publish_repo(
    st: &Publisher,
    p: &Project,
    repo: &Repository,
) -> Result<PublishOutcome, PublishError> {
    let key = keys::load_or_create(st, &p.name)?;
    let publication = manifest::get(st, &p.name, &repo.name)?;
    let ins = inputs(st, p, repo)?;
    let code = codename(st, repo)?;
    let outcome = |publication: &Publication, new: bool| PublishOutcome {
        project: p.name.to_string(),
        repository: repo.name.to_string(),
        generation: publication.current,
        new,
        packages: ins.debs.len(),
        sources: ins.sources.len(),
        codename: code.clone(),
        fingerprint: key.fingerprint(),
        path: format!("/repos/{}/{}/", p.name, repo.name),
        generations: publication.generations.iter().map(Into::into).collect(),
    };
    if let Some(g) = publication.current_generation() {
        if g.content == Some(ins.content) {
            return Ok(outcome(&publication, false));
        }
    }
    if let Some(switched) = switch_to_kept(st, p, repo, &publication, ins.content)? {
        return Ok(outcome(&switched, false));
    }
    let spec = repo_spec(st, p, repo, &code)?;
    let pkgs: Vec<PackageInput> = ins.debs.iter().map(|(_, i)| i.clone()).collect();
    let srcs: Vec<SourceInput> = ins.sources.iter().map(|(_, _, s)| s.clone()).collect();
    let tree =
        build_repository_with_sources(&spec, &pkgs, &srcs, &key).map_err(RepoError::Build)?;
    let session = st.store.session();
    let m = Manifest {
        project: p.name.to_string(),
        repository: repo.name.to_string(),
        codename: code.clone(),
        files: store_files(st, &session, &tree, &ins)?,
    };
    let refs: Vec<B3Digest> = m.files.values().map(|e| e.blake3).collect();
    let stored = st.store.put_bytes(
        &serde_json::to_vec(&m).expect("serializable"),
        ObjectKind::Blob,
        &refs,
        Some(&session),
    )?;
    let generation = Generation {
        number: 0,
        manifest: stored.digest,
        created: spec.date,
        packages: ins.debs.len(),
        sources: ins.sources.len(),
        content: Some(ins.content),
    };
    // The session keeps the manifest alive until its root exists.
    let (publication, n) = commit_generation(st, p, repo, generation)?;
    drop(session);
    tracing::info!(project = %p.name, repository = %repo.name, generation = n, packages = ins.debs.len(), "published");
    Ok(outcome(&publication, true))
}

/// The same content is kept in another generation (e.g. after a rollback): switch to it
/// instead of signing a copy. `None` when no kept generation has this content.
fn switch_to_kept(
    st: &Publisher,
    p: &Project,
    repo: &Repository,
    publication: &Publication,
    content: B3Digest,
) -> Result<Option<Publication>, PublishError> {
    let kept = |p: &Publication| {
        p.generations
            .iter()
            .rev()
            .find(|g| g.content == Some(content))
            .map(|g| g.number)
    };
    if kept(publication).is_none() {
        return Ok(None);
    }
    let now = st.clock.now();
    let (publication, n) = manifest::update(st, &p.name, &repo.name, |pb| {
        let n = kept(pb);
        if let Some(n) = n {
            pb.switch_to(n, now);
        }
        Ok(n)
    })?;
    let Some(n) = n else { return Ok(None) };
    tracing::info!(project = %p.name, repository = %repo.name, generation = n, "switched to a kept generation");
    Ok(Some(publication))
}

/// The `cryo-aptrepo` spec of a repository.
fn repo_spec(
    st: &Publisher,
    p: &Project,
    repo: &Repository,
    code: &str,
) -> Result<RepoSpec, PublishError> {
    let mut spec = RepoSpec::new(
        "cryo",
        p.name.as_str(),
        code.parse().map_err(|source| RepoError::Codename {
            value: code.to_string(),
            source,
        })?,
        repo.arches
            .iter()
            .map(|a| {
                a.parse().map_err(|source| RepoError::Architecture {
                    value: a.clone(),
                    source,
                })
            })
            .collect::<Result<_, _>>()?,
        st.clock.now(),
    );
    if !p.description.is_empty() {
        spec.description = Some(p.description.clone());
    }
    Ok(spec)
}

/// Store the generated files of `tree` and map every path (aliases included) to its
/// content.
fn store_files(
    st: &Publisher,
    session: &cryo_store::Session,
    tree: &cryo_aptrepo::RepoTree,
    ins: &Inputs,
) -> Result<BTreeMap<String, Entry>, PublishError> {
    let mut files = BTreeMap::new();
    let size_of = |d: &B3Digest| -> Result<u64, PublishError> {
        Ok(st.store.meta(d)?.map(|m| m.size).unwrap_or(0))
    };
    for (path, src) in &tree.files {
        let entry = match src {
            FileSource::Generated(bytes) => {
                let s = st
                    .store
                    .put_bytes(bytes, ObjectKind::Blob, &[], Some(session))?;
                Entry {
                    blake3: s.digest,
                    size: s.size,
                }
            }
            FileSource::Package(i) => Entry {
                blake3: ins.debs[*i].0,
                size: size_of(&ins.debs[*i].0)?,
            },
            FileSource::SourceDsc(i) => Entry {
                blake3: ins.sources[*i].0,
                size: size_of(&ins.sources[*i].0)?,
            },
            FileSource::SourceFile { source, file } => {
                let name = &ins.sources[*source].2.files[*file].name;
                let d = ins.sources[*source].1[name];
                Entry {
                    blake3: d,
                    size: size_of(&d)?,
                }
            }
            FileSource::Alias(_) => continue,
        };
        files.insert(path.clone(), entry);
    }
    for (path, src) in &tree.files {
        if let FileSource::Alias(target) = src {
            let e = files
                .get(target)
                .cloned()
                .ok_or_else(|| RepoError::MissingAlias {
                    path: path.clone(),
                    target: target.clone(),
                })?;
            files.insert(path.clone(), e);
        }
    }
    Ok(files)
}

/// Append `generation` as the next number, make it current and drop the oldest beyond
/// [`KEEP_GENERATIONS`] (one write transaction), then root it and unroot the dropped.
fn commit_generation(
    st: &Publisher,
    p: &Project,
    repo: &Repository,
    mut generation: Generation,
) -> Result<(Publication, u64), PublishError> {
    let now = st.clock.now();
    let (publication, (n, dropped)) = manifest::update(st, &p.name, &repo.name, |pb| {
        let n = pb.generations.last().map(|g| g.number + 1).unwrap_or(1);
        generation.number = n;
        pb.generations.push(generation);
        pb.switch_to(n, now);
        let mut dropped = Vec::new();
        while pb.generations.len() > KEEP_GENERATIONS {
            dropped.push(pb.generations.remove(0).number);
        }
        Ok((n, dropped))
    })?;
    let manifest = publication
        .generations
        .last()
        .map(|g| g.manifest)
        .expect("just pushed");
    st.store
        .add_root(&root(&p.name, &repo.name, n), &manifest)?;
    for d in dropped {
        st.store.remove_root(&root(&p.name, &repo.name, d))?;
    }
    Ok((publication, n))
}

fn repos<'a>(p: &'a Project, repo: Option<&str>) -> Result<Vec<&'a Repository>, PublishError> {
    match repo {
        Some(r) => Ok(vec![p
            .repositories
            .iter()
            .find(|x| x.name == r)
            .ok_or_else(|| {
                PublishError::NotFound(format!("project {} has no repository {r:?}", p.name))
            })?]),
        None => Ok(p.repositories.iter().collect()),
    }
}

/// `cryo publish PROJECT [--repository R]`.
pub fn publish(
    st: &Publisher,
    project: &str,
    repo: Option<&str>,
) -> Result<Vec<PublishOutcome>, PublishError> {
    let p = ops::get(&st.projects, project)?;
    repos(&p, repo)?
        .into_iter()
        .map(|r| publish_repo(st, &p, r))
        .collect()
}

/// `cryo publish PROJECT --rollback`: serve the generation before the current one.
pub fn rollback(
    st: &Publisher,
    project: &str,
    repo: Option<&str>,
) -> Result<Vec<PublishOutcome>, PublishError> {
    let p = ops::get(&st.projects, project)?;
    let key = keys::load_or_create(st, &p.name)?;
    let mut out = Vec::new();
    for r in repos(&p, repo)? {
        let now = st.clock.now();
        let (publication, prev) = manifest::update(st, &p.name, &r.name, |publication| {
            let cur = publication.current.ok_or_else(|| {
                PublishError::NotFound(format!("{}/{} was never published", p.name, r.name))
            })?;
            let prev = publication
                .generations
                .iter()
                .rev()
                .find(|g| g.number < cur)
                .ok_or_else(|| {
                    PublishError::NotFound(format!(
                        "{}/{}: no generation older than {cur} is kept",
                        p.name, r.name
                    ))
                })?
                .clone();
            publication.switch_to(prev.number, now);
            Ok(prev)
        })?;
        tracing::info!(project = %p.name, repository = %r.name, generation = prev.number, "rolled back");
        out.push(PublishOutcome {
            project: p.name.to_string(),
            repository: r.name.to_string(),
            generation: Some(prev.number),
            new: false,
            packages: prev.packages,
            sources: prev.sources,
            codename: codename(st, r)?,
            fingerprint: key.fingerprint(),
            path: format!("/repos/{}/{}/", p.name, r.name),
            generations: publication.generations.iter().map(Into::into).collect(),
        });
    }
    Ok(out)
}

const EXPORT_MARK: &str = ".cryo-export";

/// Checks an export target (an admin's choice, but the daemon writes there with its own
/// rights): absolute, no `.` or `..` component, not `/`. Returns its parent and last
/// component.
fn export_target(dir: &Path) -> Result<(&Path, String), PublishError> {
    let shown = dir.display();
    if !dir.is_absolute() {
        return Err(PublishError::Invalid(format!(
            "export directory {shown} must be absolute"
        )));
    }
    let text = dir.to_str().ok_or_else(|| {
        PublishError::Invalid(format!("export directory {shown} is not valid UTF-8"))
    })?;
    if text.split('/').any(|c| c == "." || c == "..") || text.contains('\0') {
        return Err(PublishError::Invalid(format!(
            "export directory {shown} may not contain `.` or `..` components"
        )));
    }
    match (dir.parent(), dir.file_name().and_then(|b| b.to_str())) {
        (Some(parent), Some(base)) => Ok((parent, base.to_string())),
        _ => Err(PublishError::Invalid(format!(
            "export directory {shown}: name a directory below /, not / itself"
        ))),
    }
}

/// Write the current generation of `repo` to `dir` as a static tree for another web
/// server. The new tree is assembled next to `dir` (hard links to unchanged files of the
/// previous export, and between identical files) and swapped in by renames. Everything
/// below `dir`'s parent is reached through directory handles (`cap_std`): a symlink
/// planted in the previous export (or in its place) is neither followed nor written
/// through.
pub fn export(
    st: &Publisher,
    project: &str,
    repo: Option<&str>,
    dir: &Path,
) -> Result<ExportOutcome, PublishError> {
    use cap_std::ambient_authority;

    let (parent, base) = export_target(dir)?;
    let (label, g, m) = current_manifest(st, project, repo)?;
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let pdir = Dir::open_ambient_dir(parent, ambient_authority()).map_err(io(parent))?;
    let old_dir = previous_export(&pdir, &base, dir)?;
    let new_name = format!(".{base}.new-{}", std::process::id());
    let new_path = parent.join(&new_name);
    let new = fresh_dir(&pdir, &new_name, &new_path)?;
    let (linked, written) = export_files(st, &m, &new, &new_path, old_dir.as_ref())?;
    new.write(EXPORT_MARK, format!("{label} generation {}\n", g.number))
        .map_err(io(&new_path))?;
    drop(new);
    swap_in(&pdir, parent, &base, &new_name, old_dir, dir)?;
    Ok(ExportOutcome {
        dir: dir.display().to_string(),
        generation: g.number,
        files: m.files.len(),
        linked,
        written,
    })
}

/// The current generation of `project`'s repository `repo` (else its first) and its
/// manifest, with `project repository` for the export mark.
fn current_manifest(
    st: &Publisher,
    project: &str,
    repo: Option<&str>,
) -> Result<(String, Generation, std::sync::Arc<Manifest>), PublishError> {
    let p = ops::get(&st.projects, project)?;
    let r = repos(&p, repo)?
        .into_iter()
        .next()
        .ok_or_else(|| PublishError::NotFound(format!("project {} has no repository", p.name)))?;
    let publication = manifest::get(st, &p.name, &r.name)?;
    let g = publication
        .current_generation()
        .ok_or_else(|| {
            PublishError::NotFound(format!(
                "{}/{} was never published: run `cryo publish {}` first",
                p.name, r.name, p.name
            ))
        })?
        .clone();
    let m = st.publish_manifests.get(st, &g.manifest)?;
    Ok((format!("{} {}", p.name, r.name), g, m))
}

/// The previous export at `base` below `pdir`, if there is one; refuses anything else
/// there than a directory that is empty or marked as a cryo export.
fn previous_export(pdir: &Dir, base: &str, dir: &Path) -> Result<Option<Dir>, PublishError> {
    match pdir.symlink_metadata(base) {
        Ok(md) if !md.is_dir() => Err(PublishError::Invalid(format!(
            "{} exists and is not a directory: refusing to replace it",
            dir.display()
        ))),
        Ok(_) => {
            let d = pdir.open_dir_nofollow(base).map_err(io(dir))?;
            let marked = d.symlink_metadata(EXPORT_MARK).is_ok_and(|md| md.is_file());
            if !marked && d.entries().map_err(io(dir))?.next().is_some() {
                return Err(PublishError::Invalid(format!(
                    "{} exists, is not empty and is not a cryo export: refusing to replace it",
                    dir.display()
                )));
            }
            Ok(Some(d))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(dir)(e)),
    }
}

/// A new empty directory `new_name` below `pdir` (replacing a leftover of that name).
fn fresh_dir(pdir: &Dir, new_name: &str, new_path: &Path) -> Result<Dir, PublishError> {
    match pdir.symlink_metadata(new_name) {
        Ok(md) if md.is_dir() => pdir.remove_dir_all(new_name).map_err(io(new_path))?,
        Ok(_) => pdir.remove_file(new_name).map_err(io(new_path))?,
        Err(_) => {}
    }
    pdir.create_dir(new_name).map_err(io(new_path))?;
    pdir.open_dir_nofollow(new_name).map_err(io(new_path))
}

/// Write the files of `m` into `new` (at `new_path`): hard links to identical files of
/// `old` or of `new` itself, else copies of the blobs. Returns (linked, written).
fn export_files(
    st: &Publisher,
    m: &Manifest,
    new: &Dir,
    new_path: &Path,
    old: Option<&Dir>,
) -> Result<(usize, usize), PublishError> {
    let (mut linked, mut written) = (0, 0);
    let mut first: BTreeMap<B3Digest, &str> = BTreeMap::new();
    for (path, e) in &m.files {
        if path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == ".." || c.contains('\0'))
        {
            return Err(PublishError::Invalid(format!(
                "unsafe path {path:?} in manifest"
            )));
        }
        let dest = new_path.join(path);
        if let Some((d, _)) = path.rsplit_once('/') {
            new.create_dir_all(d).map_err(io(&dest))?;
        }
        if let Some(src) = first.get(&e.blake3) {
            new.hard_link(src, new, path).map_err(io(&dest))?;
            linked += 1;
            continue;
        }
        let reuse = old.filter(|o| {
            o.symlink_metadata(path)
                .is_ok_and(|md| md.is_file() && md.len() == e.size)
                && o.read(path).is_ok_and(|b| B3Digest::of(&b) == e.blake3)
        });
        if reuse.is_some_and(|o| o.hard_link(path, new, path).is_ok()) {
            linked += 1;
        } else {
            let mut r = st.store.open_blob(&e.blake3)?;
            let mut f = new
                .open_with(path, OpenOptions::new().write(true).create_new(true))
                .map_err(io(&dest))?;
            std::io::copy(&mut r, &mut f).map_err(io(&dest))?;
            written += 1;
        }
        first.insert(e.blake3, path);
    }
    Ok((linked, written))
}

/// Swap the assembled `new_name` in as `base` (the previous export, if any, is renamed
/// away first and removed after).
fn swap_in(
    pdir: &Dir,
    parent: &Path,
    base: &str,
    new_name: &str,
    old_dir: Option<Dir>,
    dir: &Path,
) -> Result<(), PublishError> {
    let old_name = format!(".{base}.old-{}", std::process::id());
    let had_old = old_dir.is_some();
    drop(old_dir);
    if had_old {
        pdir.rename(base, pdir, &old_name).map_err(io(dir))?;
    }
    pdir.rename(new_name, pdir, base).map_err(io(dir))?;
    if had_old {
        let old_path = parent.join(&old_name);
        pdir.remove_dir_all(&old_name).map_err(io(&old_path))?;
    }
    Ok(())
}

/// Publish the repositories of `project` whose rows are all final, if the project has
/// the publish flag (called after evaluations and finished builds). Errors are logged.
pub fn auto_publish(st: &Publisher, name: &ProjectName) {
    let Ok(Some(p)) = tables::project(&st.projects, name) else {
        return;
    };
    if !p.publish {
        return;
    }
    let Ok(rows) = tables::results(&st.projects, name) else {
        return;
    };
    for repo in &p.repositories {
        let mine: Vec<_> = rows.iter().filter(|r| r.repository == repo.name).collect();
        if mine.is_empty() || mine.iter().any(|r| !r.state.is_final()) {
            continue;
        }
        if let Err(e) = publish_repo(st, &p, repo) {
            tracing::warn!(project = %name, repository = %repo.name, error = %e, "auto-publish failed");
        }
    }
}

#[cfg(test)]
mod export_tests {
    use std::path::Path;

    #[test]
    fn export_targets_are_absolute_plain_paths() {
        let (parent, base) = super::export_target(Path::new("/srv/www/repo")).unwrap();
        assert_eq!((parent, base.as_str()), (Path::new("/srv/www"), "repo"));
        for bad in [
            "srv/repo",
            "/srv/../etc",
            "/srv/./repo",
            "/srv/repo/..",
            "/",
        ] {
            let e = super::export_target(Path::new(bad))
                .unwrap_err()
                .to_string();
            assert!(e.contains("export directory"), "{bad}: {e}");
        }
    }
}
