//! Comparison of two parsed tar listings (one `control.tar` or `data.tar` member): entry
//! sets, order, headers and contents, plus the special handling of `md5sums`.

use std::collections::BTreeMap;

use crate::binary::binary_detail;
use crate::content::{self, Ctx};
use crate::diff::{max_category, Category, Detail, DiffNode};
use crate::md5sums;
use crate::tar::{self, TarListing};

/// The data listings `md5sums` lines are checked against, with per-file content categories.
pub struct DataView<'x, 'a> {
    pub ours: &'x TarListing<'a>,
    pub official: &'x TarListing<'a>,
    pub categories: &'x BTreeMap<String, Category>,
}

/// One side of a member: its decompressed stream and parsed listing.
pub struct Stream<'x, 'a> {
    pub bytes: &'x [u8],
    pub listing: &'x TarListing<'a>,
}

/// Compares two listings. Returns the difference nodes and, per normalised path, the
/// category of that file's content difference (used to classify `md5sums` lines).
pub fn compare(
    ctx: &mut Ctx<'_>,
    member: &str,
    ours: Stream<'_, '_>,
    official: Stream<'_, '_>,
    data: Option<&DataView<'_, '_>>,
) -> (Vec<DiffNode>, BTreeMap<String, Category>) {
    let mut nodes = Vec::new();
    let mut categories = BTreeMap::new();
    let (a, b) = (ours.listing, official.listing);
    for key in &b.order {
        let Some(theirs) = b.entries.get(key) else {
            continue;
        };
        let Some(mine) = a.entries.get(key) else {
            nodes.push(DiffNode::leaf(
                theirs.raw_path.clone(),
                Category::Content,
                Detail::OnlyInOfficial {
                    what: theirs.entry_type.into(),
                },
            ));
            continue;
        };
        let mut children = tar::compare_entry_headers(mine, theirs);
        if mine.content != theirs.content {
            let location = format!("{member}/{}", theirs.raw_path);
            let content_nodes = match (key.as_str(), data) {
                ("md5sums", Some(view)) => md5sums::compare(
                    &mine.content,
                    &theirs.content,
                    view.ours,
                    view.official,
                    view.categories,
                ),
                ("control", Some(_)) => crate::control::compare(&mine.content, &theirs.content),
                _ => None,
            }
            .unwrap_or_else(|| content::compare(ctx, &location, &mine.content, &theirs.content, 0));
            if let Some(cat) = max_category(&content_nodes) {
                categories.insert(key.clone(), cat);
            }
            children.extend(content_nodes);
        }
        nodes.extend(DiffNode::group(theirs.raw_path.clone(), children));
    }
    for key in a.order.iter().filter(|k| !b.entries.contains_key(*k)) {
        if let Some(mine) = a.entries.get(key) {
            nodes.push(DiffNode::leaf(
                mine.raw_path.clone(),
                Category::Content,
                Detail::OnlyInOurs {
                    what: mine.entry_type.into(),
                },
            ));
        }
    }
    nodes.extend(tar::compare_order(a, b));
    if nodes.is_empty() && ours.bytes != official.bytes {
        nodes.push(DiffNode::leaf(
            "tar stream",
            Category::Metadata,
            binary_detail(ours.bytes, official.bytes, ctx.limits.max_offsets_listed),
        ));
    }
    (nodes, categories)
}
