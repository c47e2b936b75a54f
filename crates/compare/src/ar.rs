//! The outer `ar` archive of a `.deb`: parsing members (with the `ar` crate) and comparing
//! member names, order and headers (mtime, uid, gid, mode, size).
//!
//! Members are paired by role (`debian-binary`, `control.tar`, `data.tar`) so that a change
//! of compressor (`data.tar.xz` vs `data.tar.zst`) is reported as a name difference of the same
//! member rather than as one member removed and another added.

use std::io::{Cursor, Read};

use crate::diff::{display_bytes, Category, Detail, DiffNode, FieldScope};

/// Errors while reading the outer ar archive.
#[derive(Debug, thiserror::Error)]
pub enum ArError {
    #[error("not an ar archive (missing `!<arch>` magic)")]
    NotAr,
    #[error("cannot read ar member #{index}")]
    Read {
        index: usize,
        #[source]
        source: std::io::Error,
    },
    #[error("ar member {name:?} is truncated: header says {expected} bytes, {actual} present")]
    Truncated {
        name: String,
        expected: u64,
        actual: u64,
    },
    #[error("more than {max} ar members")]
    TooManyMembers { max: u64 },
}

/// One member of the ar archive, copied out of the input.
#[derive(Debug, Clone)]
pub struct ArMember {
    pub name: String,
    pub mtime: u64,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub size: u64,
    pub data: Vec<u8>,
}

impl ArMember {
    /// The pairing key: `control.tar`/`data.tar` without compression suffix, else the name.
    pub fn role(&self) -> &str {
        for role in ["control.tar", "data.tar"] {
            if self.name.starts_with(role) {
                return role;
            }
        }
        &self.name
    }
}

/// Parses all members of an ar archive, refusing truncated members.
pub fn parse(bytes: &[u8], max_members: u64) -> Result<Vec<ArMember>, ArError> {
    if !bytes.starts_with(b"!<arch>\n") {
        return Err(ArError::NotAr);
    }
    let mut archive = ar::Archive::new(Cursor::new(bytes));
    let mut members = Vec::new();
    while let Some(entry) = archive.next_entry() {
        let index = members.len();
        if index as u64 >= max_members {
            return Err(ArError::TooManyMembers { max: max_members });
        }
        let mut entry = entry.map_err(|source| ArError::Read { index, source })?;
        let header = entry.header();
        let name = display_bytes(header.identifier());
        let (mtime, uid, gid, mode, size) = (
            header.mtime(),
            header.uid(),
            header.gid(),
            header.mode(),
            header.size(),
        );
        // The header size is attacker-controlled: never pre-allocate from it.
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|source| ArError::Read { index, source })?;
        if data.len() as u64 != size {
            return Err(ArError::Truncated {
                name,
                expected: size,
                actual: data.len() as u64,
            });
        }
        members.push(ArMember {
            name,
            mtime,
            uid,
            gid,
            mode,
            size,
            data,
        });
    }
    Ok(members)
}

/// Compares member order and the headers of paired members (not their content).
pub fn compare_headers(ours: &[ArMember], official: &[ArMember]) -> Vec<DiffNode> {
    let mut nodes = Vec::new();
    let our_roles: Vec<&str> = ours.iter().map(ArMember::role).collect();
    let their_roles: Vec<&str> = official.iter().map(ArMember::role).collect();
    let common_ours: Vec<&str> = our_roles
        .iter()
        .copied()
        .filter(|r| their_roles.contains(r))
        .collect();
    let common_theirs: Vec<&str> = their_roles
        .iter()
        .copied()
        .filter(|r| our_roles.contains(r))
        .collect();
    if let Some(pos) = common_ours
        .iter()
        .zip(&common_theirs)
        .position(|(a, b)| a != b)
    {
        nodes.push(DiffNode::leaf(
            "ar member order",
            Category::Metadata,
            Detail::Order {
                position: pos as u64,
                ours: common_ours[pos].to_owned(),
                official: common_theirs[pos].to_owned(),
            },
        ));
    }
    for member in ours.iter().filter(|m| !their_roles.contains(&m.role())) {
        nodes.push(DiffNode::leaf(
            member.name.clone(),
            Category::Content,
            Detail::OnlyInOurs {
                what: "ar member".into(),
            },
        ));
    }
    for member in official.iter().filter(|m| !our_roles.contains(&m.role())) {
        nodes.push(DiffNode::leaf(
            member.name.clone(),
            Category::Content,
            Detail::OnlyInOfficial {
                what: "ar member".into(),
            },
        ));
    }
    for ours_m in ours {
        let Some(theirs_m) = official.iter().find(|m| m.role() == ours_m.role()) else {
            continue;
        };
        let fields = [
            ("name", ours_m.name.clone(), theirs_m.name.clone()),
            (
                "mtime",
                ours_m.mtime.to_string(),
                theirs_m.mtime.to_string(),
            ),
            ("uid", ours_m.uid.to_string(), theirs_m.uid.to_string()),
            ("gid", ours_m.gid.to_string(), theirs_m.gid.to_string()),
            (
                "mode",
                format!("{:o}", ours_m.mode),
                format!("{:o}", theirs_m.mode),
            ),
            ("size", ours_m.size.to_string(), theirs_m.size.to_string()),
        ];
        let children: Vec<DiffNode> = fields
            .into_iter()
            .filter(|(_, a, b)| a != b)
            .map(|(field, ours, official)| {
                DiffNode::leaf(
                    field,
                    Category::Metadata,
                    Detail::Field {
                        scope: FieldScope::ArHeader,
                        field: field.into(),
                        ours,
                        official,
                    },
                )
            })
            .collect();
        nodes.extend(DiffNode::group(
            format!("{} (ar header)", theirs_m.name),
            children,
        ));
    }
    nodes
}
