//! Trees: canonical directory manifests.
//!
//! A tree lists the entries of one directory, sorted by name (bytewise), each a file (with
//! executable bit, size and content digest), a directory (digest of its own tree) or a
//! symlink (target bytes). The canonical encoding (version 1) is binary and unambiguous:
//!
//! ```text
//! "cryotree" | u8 version=1 | u32le entry count | entries…
//! entry: u8 kind (1 file, 2 executable file, 3 directory, 4 symlink)
//!        u16le name length | name bytes
//!        file/executable: u64le size | 32-byte digest
//!        directory:       32-byte digest
//!        symlink:         u16le target length | target bytes
//! ```
//! A tree's digest is the BLAKE3 of this encoding; it is stored as a blob like any other.
//! Permissions other than the executable bit, owners and times are deliberately not part of
//! a tree: two checkouts of the same content have the same digest.

use crate::component::{ComponentError, PathComponent};
use crate::digest::B3Digest;

const MAGIC: &[u8; 8] = b"cryotree";
const VERSION: u8 = 1;

/// What a tree entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File {
        executable: bool,
        size: u64,
        digest: B3Digest,
    },
    Directory {
        digest: B3Digest,
    },
    Symlink {
        target: Vec<u8>,
    },
}

/// One named entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub name: PathComponent,
    pub kind: EntryKind,
}

/// A directory manifest; entries are kept sorted and unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    entries: Vec<TreeEntry>,
}

/// Errors building or decoding trees.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("duplicate entry {0} in tree")]
    Duplicate(PathComponent),
    #[error("malformed tree encoding: {0}")]
    Malformed(String),
    #[error(transparent)]
    Name(#[from] ComponentError),
}

impl Tree {
    /// Build from entries in any order; duplicates are an error.
    pub fn new(mut entries: Vec<TreeEntry>) -> Result<Self, TreeError> {
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        for w in entries.windows(2) {
            if w[0].name == w[1].name {
                return Err(TreeError::Duplicate(w[0].name.clone()));
            }
        }
        Ok(Self { entries })
    }

    pub fn entries(&self) -> &[TreeEntry] {
        &self.entries
    }

    /// Digests this tree refers to (files and subdirectories).
    pub fn references(&self) -> Vec<B3Digest> {
        self.entries
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::File { digest, .. } | EntryKind::Directory { digest } => Some(*digest),
                EntryKind::Symlink { .. } => None,
            })
            .collect()
    }

    /// Canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.entries.len() * 64);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for e in &self.entries {
            let kind = match &e.kind {
                EntryKind::File {
                    executable: false, ..
                } => 1,
                EntryKind::File {
                    executable: true, ..
                } => 2,
                EntryKind::Directory { .. } => 3,
                EntryKind::Symlink { .. } => 4,
            };
            out.push(kind);
            let name = e.name.as_bytes();
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name);
            match &e.kind {
                EntryKind::File { size, digest, .. } => {
                    out.extend_from_slice(&size.to_le_bytes());
                    out.extend_from_slice(digest.as_bytes());
                }
                EntryKind::Directory { digest } => out.extend_from_slice(digest.as_bytes()),
                EntryKind::Symlink { target } => {
                    out.extend_from_slice(&(target.len() as u16).to_le_bytes());
                    out.extend_from_slice(target);
                }
            }
        }
        out
    }

    /// Digest of the canonical encoding.
    pub fn digest(&self) -> B3Digest {
        B3Digest::of(&self.encode())
    }

    /// Decode and validate a canonical encoding (sorted, unique, valid names, no trailing
    /// bytes). Anything else is `Malformed`, never a panic.
    pub fn decode(mut b: &[u8]) -> Result<Self, TreeError> {
        let bad = |m: &str| TreeError::Malformed(m.to_string());
        if b.len() < 13 || &b[..8] != MAGIC {
            return Err(bad("missing tree header"));
        }
        if b[8] != VERSION {
            return Err(bad(&format!("unsupported tree version {}", b[8])));
        }
        let count = u32::from_le_bytes([b[9], b[10], b[11], b[12]]) as usize;
        b = &b[13..];
        let mut entries: Vec<TreeEntry> = Vec::with_capacity(count.min(65536));
        for _ in 0..count {
            let (kind, rest) = take(b, 1)?;
            let (nlen, rest) = take(rest, 2)?;
            let nlen = u16::from_le_bytes([nlen[0], nlen[1]]) as usize;
            let (name, rest) = take(rest, nlen)?;
            let name = PathComponent::new(name)?;
            let (kind, rest) = match kind[0] {
                k @ (1 | 2) => {
                    let (size, rest) = take(rest, 8)?;
                    let (d, rest) = take(rest, 32)?;
                    let size = u64::from_le_bytes(size.try_into().expect("8 bytes"));
                    let digest = B3Digest::try_from(d).expect("32 bytes");
                    (
                        EntryKind::File {
                            executable: k == 2,
                            size,
                            digest,
                        },
                        rest,
                    )
                }
                3 => {
                    let (d, rest) = take(rest, 32)?;
                    let digest = B3Digest::try_from(d).expect("32 bytes");
                    (EntryKind::Directory { digest }, rest)
                }
                4 => {
                    let (tlen, rest) = take(rest, 2)?;
                    let tlen = u16::from_le_bytes([tlen[0], tlen[1]]) as usize;
                    let (target, rest) = take(rest, tlen)?;
                    (
                        EntryKind::Symlink {
                            target: target.to_vec(),
                        },
                        rest,
                    )
                }
                k => return Err(bad(&format!("unknown entry kind {k}"))),
            };
            if let Some(prev) = entries.last() {
                if prev.name >= name {
                    return Err(bad("entries are not strictly sorted by name"));
                }
            }
            entries.push(TreeEntry { name, kind });
            b = rest;
        }
        if !b.is_empty() {
            return Err(bad("trailing bytes after the last entry"));
        }
        Ok(Self { entries })
    }
}

fn take(b: &[u8], n: usize) -> Result<(&[u8], &[u8]), TreeError> {
    if b.len() < n {
        return Err(TreeError::Malformed("truncated entry".into()));
    }
    Ok(b.split_at(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, content: &[u8]) -> TreeEntry {
        TreeEntry {
            name: name.try_into().unwrap(),
            kind: EntryKind::File {
                executable: false,
                size: content.len() as u64,
                digest: B3Digest::of(content),
            },
        }
    }

    #[test]
    fn order_independent_and_roundtrips() {
        let a = Tree::new(vec![file("b", b"2"), file("a", b"1")]).unwrap();
        let b = Tree::new(vec![file("a", b"1"), file("b", b"2")]).unwrap();
        assert_eq!(a.digest(), b.digest());
        let link = TreeEntry {
            name: "l".try_into().unwrap(),
            kind: EntryKind::Symlink {
                target: b"../x".to_vec(),
            },
        };
        let t = Tree::new(vec![file("a", b"1"), link]).unwrap();
        assert_eq!(Tree::decode(&t.encode()).unwrap(), t);
    }

    #[test]
    fn rejects_duplicates_and_garbage() {
        assert!(Tree::new(vec![file("a", b"1"), file("a", b"2")]).is_err());
        let enc = Tree::new(vec![file("a", b"1")]).unwrap().encode();
        for cut in 0..enc.len() {
            assert!(Tree::decode(&enc[..cut]).is_err());
        }
        let mut extra = enc.clone();
        extra.push(0);
        assert!(Tree::decode(&extra).is_err());
        // A name of ".." smuggled into an encoding is refused.
        let mut evil = enc;
        let pos = evil.windows(1).position(|w| w == b"a").unwrap();
        evil[pos] = b'/';
        assert!(Tree::decode(&evil).is_err());
    }
}
