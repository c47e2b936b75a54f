//! Rendering helpers: JSON for scripts, aligned text for people.

use serde::Serialize;

/// Print `value` as pretty JSON, fields in declaration order.
pub fn json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("values serialise")
    );
}

/// Print a daemon answer as pretty JSON with the keys of every object sorted: the form
/// `--json` has always given answers that the client passed on as they came (through a
/// `serde_json::Value`, whose objects are sorted maps), kept for scripts.
pub fn json_answer<T: Serialize>(value: &T) {
    json(&serde_json::to_value(value).expect("values serialise"));
}

/// A JSON number or `null`, as the client printed optional numbers of daemon answers.
pub fn or_null<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "null".to_string(), |n| n.to_string())
}

/// Human-readable byte size (binary units).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Print `key: value` rows with aligned values.
pub fn rows(rows: &[(&str, String)]) {
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        println!("{k:<w$}  {v}");
    }
}

/// A spinner on stderr while a long request runs (terminal only, never with --json).
/// Awaits `work` with a [`spinner`] showing `msg` meanwhile (nothing with `--json` or
/// without a terminal).
pub async fn with_spinner<T>(
    g: &crate::cli::Global,
    msg: &str,
    work: impl std::future::Future<Output = T>,
) -> T {
    let pb = spinner(g, msg);
    let r = work.await;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    r
}

pub fn spinner(g: &crate::cli::Global, msg: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if g.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(pb)
}

/// A progress bar over `n` items on stderr (terminal only, never with --json).
pub fn progress(g: &crate::cli::Global, n: u64, msg: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if g.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(n);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    pb.set_message(msg.to_string());
    Some(pb)
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC` (proleptic Gregorian; no time-zone database
/// needed for UTC).
pub fn date(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::date(1_796_085_273), "2026-12-01 00:34:33 UTC");
    }
}
