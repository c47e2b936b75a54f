//! The 96-byte lead: magic `ED AB EE DB`, format version, binary/source type, the old
//! architecture and OS numbers, the NVR as a 66-byte NUL-padded name, and the signature type
//! (always 5, "header-style signature", since rpm 3). rpm itself only checks the magic and
//! the version; so do we, plus the signature type, which says a signature header follows.

use super::RpmError;

/// Size of the lead.
pub const LEAD_LEN: usize = 96;
const MAGIC: [u8; 4] = [0xed, 0xab, 0xee, 0xdb];
/// `RPMSIGTYPE_HEADERSIG`.
const HEADERSIG: u16 = 5;

/// Binary or source package, as the lead says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageType {
    Binary,
    Source,
}

/// The lead's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    pub major: u8,
    pub minor: u8,
    pub package_type: PackageType,
    pub archnum: u16,
    /// The NVR as written by rpmbuild (informational; the header is authoritative).
    pub name: String,
    pub osnum: u16,
    pub signature_type: u16,
}

impl Lead {
    /// Parses and checks the lead at the start of `data`.
    pub fn parse(data: &[u8]) -> Result<Lead, RpmError> {
        let bad = |reason: String| RpmError::Lead { reason };
        if data.len() < LEAD_LEN {
            if data.len() >= 4 && data[..4] != MAGIC {
                return Err(bad("not an RPM package (bad lead magic)".into()));
            }
            return Err(RpmError::Truncated { what: "lead" });
        }
        if data[..4] != MAGIC {
            return Err(bad(format!(
                "not an RPM package (magic {})",
                hex::encode(&data[..4])
            )));
        }
        let (major, minor) = (data[4], data[5]);
        if !(3..=4).contains(&major) {
            return Err(bad(format!("unsupported lead version {major}.{minor}")));
        }
        let u16_at = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
        let package_type = match u16_at(6) {
            0 => PackageType::Binary,
            1 => PackageType::Source,
            other => return Err(bad(format!("unknown package type {other}"))),
        };
        let name_bytes = &data[10..76];
        let end = name_bytes
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(name_bytes.len());
        let signature_type = u16_at(78);
        if signature_type != HEADERSIG {
            return Err(bad(format!(
                "signature type {signature_type} (only header-style signatures, type 5, exist since rpm 3)"
            )));
        }
        Ok(Lead {
            major,
            minor,
            package_type,
            archnum: u16_at(8),
            name: String::from_utf8_lossy(&name_bytes[..end]).into_owned(),
            osnum: u16_at(76),
            signature_type,
        })
    }
}
