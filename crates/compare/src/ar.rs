//! The outer `ar` archive of a `.deb`: its members, read with `cryo_debian::deb` (which
//! enforces dpkg's member order and refuses truncated input), and the comparison of member
//! names, order and headers (mtime, uid, gid, mode, size).
//!
//! Members are paired by role (`debian-binary`, `control.tar`, `data.tar`) so that a change
//! of compressor (`data.tar.xz` vs `data.tar.zst`) is reported as a name difference of the same
//! member rather than as one member removed and another added.

use cryo_debian::compression::Compression;
use cryo_debian::deb::{DebReadError, DebReader, MemberHeader};

use crate::diff::{display_bytes, Category, Detail, DiffNode, FieldScope};

/// Errors while reading the outer ar archive.
#[derive(Debug, thiserror::Error)]
pub enum ArError {
    /// Not a `.deb` container as dpkg reads it (framing, order, truncation).
    #[error(transparent)]
    Deb(#[from] DebReadError),
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
    /// How `data` is compressed ([`Compression::None`] also for members that are not tar
    /// streams).
    pub compression: Compression,
    pub data: Vec<u8>,
}

impl ArMember {
    fn new(header: &MemberHeader, compression: Compression, data: Vec<u8>) -> Self {
        Self {
            name: display_bytes(&header.identifier),
            mtime: header.mtime,
            uid: header.uid,
            gid: header.gid,
            mode: header.mode,
            size: header.size,
            compression,
            data,
        }
    }

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

/// Parses all members of a `.deb` (`debian-binary`, `control.tar*`, `data.tar*`, then any
/// `_`-prefixed members), refusing truncated or misordered ones and more than
/// `max_members`.
pub fn parse(bytes: &[u8], max_members: u64) -> Result<Vec<ArMember>, ArError> {
    let mut members = Vec::new();
    let mut push = |member: ArMember| {
        if members.len() as u64 >= max_members {
            return Err(ArError::TooManyMembers { max: max_members });
        }
        members.push(member);
        Ok(())
    };
    let mut deb = DebReader::new(bytes)?;
    let version = deb.debian_binary();
    push(ArMember::new(
        &version.header,
        Compression::None,
        version.contents.clone(),
    ))?;
    while let Some(member) = deb.next_member()? {
        let header = member.header().clone();
        let compression = member.kind().compression().unwrap_or(Compression::None);
        // The input is in memory already: the header's size is checked against it.
        push(ArMember::new(
            &header,
            compression,
            member.read_raw(u64::MAX)?,
        ))?;
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
