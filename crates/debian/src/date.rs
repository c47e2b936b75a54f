//! RFC 2822 dates as Debian writes them (`Sat, 11 Jul 2026 10:16:37 UTC` in Release files,
//! `Wed, 23 Nov 2022 14:46:36 -0600` in changelogs), to and from unix seconds.
//!
//! Hand-written (about 80 lines) to avoid pulling a date-time crate for two fixed formats.

/// A date that is not in the accepted RFC 2822 form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid RFC 2822 date {0:?}")]
pub struct DateError(pub String);

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Parse `[Day,] DD Mon YYYY HH:MM[:SS] ZONE` where ZONE is `UTC`, `GMT`, `Z` or
/// `±HHMM`. The weekday, when present, is not cross-checked (dpkg does not either).
pub fn parse_rfc2822(s: &str) -> Result<i64, DateError> {
    let err = || DateError(s.to_owned());
    let body = match s.split_once(',') {
        Some((_, rest)) => rest,
        None => s,
    };
    let p: Vec<&str> = body.split_whitespace().collect();
    let [day, mon, year, time, zone] = p.as_slice() else {
        return Err(err());
    };
    let num = |t: &str| t.parse::<i64>().map_err(|_| err());
    let d = num(day)?;
    let m = MONTHS.iter().position(|x| x == mon).ok_or_else(err)? as i64 + 1;
    let y = num(year)?;
    let t: Vec<&str> = time.split(':').collect();
    let (hh, mm, ss) = match t.as_slice() {
        [h, m] => (num(h)?, num(m)?, 0),
        [h, m, s] => (num(h)?, num(m)?, num(s)?),
        _ => return Err(err()),
    };
    if !(1..=31).contains(&d)
        || !(0..24).contains(&hh)
        || !(0..60).contains(&mm)
        || !(0..=60).contains(&ss)
    {
        return Err(err());
    }
    let offset = match *zone {
        "UTC" | "GMT" | "Z" | "UT" => 0,
        z if z.len() == 5 && (z.starts_with('+') || z.starts_with('-')) => {
            let v = num(&z[1..])?;
            let mins = (v / 100) * 60 + v % 100;
            if z.starts_with('-') {
                -mins
            } else {
                mins
            }
        }
        _ => return Err(err()),
    };
    Ok(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss - offset * 60)
}

/// Format unix seconds as RFC 2822 in the given UTC offset (minutes), numeric zone:
/// `Wed, 23 Nov 2022 14:46:36 -0600`.
pub fn format_rfc2822(unix: i64, offset_minutes: i32) -> String {
    let local = unix + i64::from(offset_minutes) * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let wd = DAYS[days.rem_euclid(7) as usize];
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{wd}, {d:02} {} {y} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// Format unix seconds as RFC 3339 in UTC: `2026-07-11T10:16:37Z`.
pub fn format_rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(format_rfc3339(1_783_765_000), "2026-07-11T10:16:40Z");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn known_dates() {
        // `date -d 'Sat, 11 Jul 2026 10:16:37 UTC' +%s`
        assert_eq!(
            parse_rfc2822("Sat, 11 Jul 2026 10:16:37 UTC"),
            Ok(1_783_764_997)
        );
        assert_eq!(parse_rfc2822("Thu, 01 Jan 1970 00:00:00 +0000"), Ok(0));
        assert_eq!(parse_rfc2822("Thu, 01 Jan 1970 01:00:00 +0100"), Ok(0));
        assert_eq!(parse_rfc2822("Wed, 31 Dec 1969 18:00:00 -0600"), Ok(0));
        assert!(parse_rfc2822("Sat, 11 Jul 2026").is_err());
        assert!(parse_rfc2822("Sat, 11 Foo 2026 10:16:37 UTC").is_err());
    }

    #[test]
    fn format_roundtrip() {
        let s = format_rfc2822(1_783_764_997, 0);
        assert_eq!(s, "Sat, 11 Jul 2026 10:16:37 +0000");
        let s = format_rfc2822(1_669_236_396, -360);
        assert_eq!(parse_rfc2822(&s), Ok(1_669_236_396));
        for t in [0, 951_782_400, 4_102_444_800, -86_400] {
            assert_eq!(parse_rfc2822(&format_rfc2822(t, 90)), Ok(t));
        }
    }
}
