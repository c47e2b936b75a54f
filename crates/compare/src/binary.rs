//! Byte-level comparison of two blobs: the first differing ranges, bounded.

use crate::diff::{ByteRange, Detail};

/// Differing ranges of `a` and `b` (a size difference yields a final range covering the tail).
/// Returns at most `max` ranges and whether more existed.
pub fn differing_ranges(a: &[u8], b: &[u8], max: usize) -> (Vec<ByteRange>, bool) {
    let mut ranges: Vec<ByteRange> = Vec::new();
    let common = a.len().min(b.len());
    let mut i = 0;
    while i < common {
        if a[i] == b[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < common && a[i] != b[i] {
            i += 1;
        }
        if ranges.len() == max {
            return (ranges, true);
        }
        ranges.push(ByteRange {
            offset: start as u64,
            len: (i - start) as u64,
        });
    }
    if a.len() != b.len() {
        if ranges.len() == max {
            return (ranges, true);
        }
        ranges.push(ByteRange {
            offset: common as u64,
            len: (a.len().max(b.len()) - common) as u64,
        });
    }
    (ranges, false)
}

/// A [`Detail::Binary`] for two differing blobs.
pub fn binary_detail(ours: &[u8], official: &[u8], max: usize) -> Detail {
    let (ranges, ranges_truncated) = differing_ranges(ours, official, max);
    Detail::Binary {
        ours_size: ours.len() as u64,
        official_size: official.len() as u64,
        ranges,
        ranges_truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_coalesce_and_cover_tail() {
        let (r, more) = differing_ranges(b"abcdefgh", b"aXXdeYgh!!", 8);
        assert!(!more);
        let got: Vec<(u64, u64)> = r.iter().map(|r| (r.offset, r.len)).collect();
        assert_eq!(got, vec![(1, 2), (5, 1), (8, 2)]);
    }

    #[test]
    fn ranges_are_capped() {
        let (r, more) = differing_ranges(b"a.b.c.d", b"x.y.z.w", 2);
        assert_eq!(r.len(), 2);
        assert!(more);
    }
}
