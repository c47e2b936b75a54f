//! The `md5sums` control file: its lines change whenever a file's bytes change, so a line
//! difference is classified like the data file it describes, provided each side's checksum
//! really matches that side's file. A checksum that disagrees with the data is content.

use std::collections::BTreeMap;

use md5::{Digest, Md5};

use crate::diff::{Category, Detail, DiffNode};
use crate::tar::{normalise, TarListing};

/// Parses `md5sums` (`<hex>  <path>` per line) into normalised path → checksum.
/// Returns `None` when a line does not have that shape.
pub fn parse(text: &[u8]) -> Option<BTreeMap<String, String>> {
    let text = std::str::from_utf8(text).ok()?;
    let mut map = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (sum, path) = line.split_once("  ")?;
        if sum.len() != 32 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        map.insert(normalise(path), sum.to_ascii_lowercase());
    }
    Some(map)
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// Compares two `md5sums` files. `data_categories` maps normalised data paths to the category
/// of their content difference. Returns `None` when either file is not parseable (the caller
/// then falls back to a plain content comparison).
pub fn compare(
    ours: &[u8],
    official: &[u8],
    our_data: &TarListing<'_>,
    their_data: &TarListing<'_>,
    data_categories: &BTreeMap<String, Category>,
) -> Option<Vec<DiffNode>> {
    let (a, b) = (parse(ours)?, parse(official)?);
    let mut nodes = Vec::new();
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for path in keys {
        let (sa, sb) = (a.get(path), b.get(path));
        if sa == sb {
            continue;
        }
        let matches =
            |sum: Option<&String>, data: &TarListing<'_>| match (sum, data.entries.get(path)) {
                (Some(sum), Some(entry)) => md5_hex(&entry.content) == *sum,
                (None, None) => true,
                _ => false,
            };
        let consistent = matches(sa, our_data) && matches(sb, their_data);
        let category = match data_categories.get(path) {
            Some(cat) if consistent => *cat,
            _ => Category::Content,
        };
        let none = || "(absent)".to_owned();
        nodes.push(DiffNode::leaf(
            path.clone(),
            category,
            Detail::Md5sums {
                path: path.clone(),
                ours: sa.cloned().unwrap_or_else(none),
                official: sb.cloned().unwrap_or_else(none),
                consistent_with_data: consistent,
            },
        ));
    }
    if nodes.is_empty() {
        // Same checksums, different bytes (line order or spacing): a real content change of
        // the control file, shown as text by the caller.
        return None;
    }
    Some(nodes)
}
