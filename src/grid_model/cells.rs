//! What a cell is, for showing it in the person's locale: a number written plainly enough to
//! format without changing it, or a date and time as the MES writes them (ISO 8601). The
//! formatting itself is the browser's `Intl` (`grid::format`); this part is pure and tested
//! natively.

/// A time's zone, as written in the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// No zone: a wall-clock time (the MES's `*_local` columns, in the plant's time zone).
    Wall,
    /// `Z`: UTC.
    Utc,
    /// `+02:00`, in minutes east of UTC.
    Offset(i16),
}

/// A date, or a date and time, read from ISO 8601 text (`2026-03-01`, `2026-03-01T06:30:00`,
/// `2026-03-01 06:30:00.250Z`, `…+01:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    /// Hours, minutes, seconds and milliseconds; `None` for a date alone.
    pub time: Option<(u32, u32, u32, u32)>,
    /// Digits after the seconds' decimal point (0–9; shown up to 3).
    pub fraction_digits: u32,
    pub zone: Zone,
}

impl Timestamp {
    /// Reads `text` if it is an ISO 8601 date or date-time and a real one (no 31 February).
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let digits = |from: usize, n: usize| -> Option<u32> {
            let part = b.get(from..from + n)?;
            part.iter()
                .all(u8::is_ascii_digit)
                .then(|| part.iter().fold(0, |v, d| v * 10 + u32::from(d - b'0')))
        };
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year as i32, month) {
            return None;
        }
        let mut stamp = Self {
            year: year as i32,
            month,
            day,
            time: None,
            fraction_digits: 0,
            zone: Zone::Wall,
        };
        if b.len() == 10 {
            return Some(stamp);
        }
        if !matches!(b[10], b'T' | b' ') || b.get(13) != Some(&b':') {
            return None;
        }
        let (hour, minute) = (digits(11, 2)?, digits(14, 2)?);
        let mut at = 16;
        let mut second = 0;
        let mut millis = 0;
        if b.get(at) == Some(&b':') {
            second = digits(at + 1, 2)?;
            at += 3;
            if b.get(at) == Some(&b'.') {
                let count = b[at + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
                if count == 0 || count > 9 {
                    return None;
                }
                millis = digits(at + 1, count.min(3))? * 10u32.pow(3 - count.min(3) as u32);
                stamp.fraction_digits = count as u32;
                at += 1 + count;
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        stamp.time = Some((hour, minute, second, millis));
        stamp.zone = match &b[at..] {
            [] => Zone::Wall,
            [b'Z' | b'z'] => Zone::Utc,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (h, m) = (digits(at + 1, 2)?, digits(at + 4, 2)?);
                if h > 23 || m > 59 {
                    return None;
                }
                let minutes = (h * 60 + m) as i16;
                Zone::Offset(if *sign == b'-' { -minutes } else { minutes })
            }
            _ => return None,
        };
        Some(stamp)
    }

    /// Milliseconds since 1970 of the wall-clock reading taken as UTC: what a formatter set to
    /// the UTC zone shows as this very date and time (no zone is converted: the value is shown
    /// as the MES wrote it).
    pub fn wall_clock_millis(&self) -> f64 {
        civil_millis(self.year, self.month, self.day, self.time.unwrap_or_default())
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Milliseconds since 1970-01-01 00:00 of a date and its `(hours, minutes, seconds, millis)`,
/// on the same clock (no zone is converted).
pub(crate) fn civil_millis(year: i32, month: u32, day: u32, (h, m, s, ms): (u32, u32, u32, u32)) -> f64 {
    let days = days_from_civil(year, month, day);
    ((days * 24 + i64::from(h)) * 60 + i64::from(m)) as f64 * 60_000.0 + f64::from(s * 1000 + ms)
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Year, month and day of a count of days since 1970-01-01 (Hinnant's `civil_from_days`, the
/// inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

/// A number as the MES wrote it, if a formatter can show it without changing it: plain decimal
/// (`-12.50`, no exponent), at most 15 significant digits (what a double holds exactly). Returns the value and its count of decimals (kept: `12.50` stays two).
pub fn plain_number(text: &str) -> Option<(f64, u32)> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(fraction)
        || (unsigned.contains('.') && fraction.is_empty())
    {
        return None;
    }
    let significant = whole.trim_start_matches('0').len() + fraction.len();
    // Decimals count as significant digits, so this also keeps them within what `Intl` shows.
    if significant > 15 {
        return None;
    }
    Some((text.parse().ok()?, fraction.len() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_count_into_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn reads_iso_dates_and_times_and_nothing_else() {
        let at = |t| Timestamp::parse(t);
        assert_eq!(
            at("2026-03-01T06:30:15"),
            Some(Timestamp {
                year: 2026,
                month: 3,
                day: 1,
                time: Some((6, 30, 15, 0)),
                fraction_digits: 0,
                zone: Zone::Wall
            })
        );
        assert_eq!(at("2026-03-01T06:30:15Z").map(|t| t.zone), Some(Zone::Utc));
        assert_eq!(
            at("2026-03-01 06:30:15.25+01:30").map(|t| (t.time, t.fraction_digits, t.zone)),
            Some((Some((6, 30, 15, 250)), 2, Zone::Offset(90)))
        );
        assert_eq!(
            at("2026-03-01T06:30-05:00").map(|t| (t.time, t.zone)),
            Some((Some((6, 30, 0, 0)), Zone::Offset(-300)))
        );
        assert_eq!(at("2024-02-29").map(|t| t.time), Some(None));
        // The edges of every field are inside.
        assert_eq!(
            at("2026-12-31T23:59:59.123456789+23:59").map(|t| (t.time, t.fraction_digits, t.zone)),
            Some((Some((23, 59, 59, 123)), 9, Zone::Offset(1439)))
        );
        for date in ["2000-02-29", "2024-02-29", "2026-01-31", "2026-04-30"] {
            assert!(at(date).is_some(), "{date}");
        }
        for not in [
            "",
            "2026",
            "2026-3-01",
            "2026-02-30",
            "2025-02-29",
            "2026-13-01",
            "2026-03-01T24:00:00",
            "2026-03-01T06:60",
            "2026-03-01T06:30:15+1:00",
            "2026-03-01T06:30:15Zulu",
            "2026-03-01T06:30:15.",
            "2026-03-01T06:30:15.1234567890",
            "2026-03-01x",
            "Lot 2026-03-01",
            "२०२६-०३-०१",
            "2026/03/01",
            "2026-03/01",
            "2026-03-01X06:30",
            "2026-03-01T0630",
            "2100-02-29",
            "2023-02-29",
            "2026-04-31",
            "2026-06-31",
            "2026-09-31",
            "2026-11-31",
            "2026-03-01T23:60",
            "2026-03-01T23:59:60",
            "2026-03-01T06:30+24:00",
            "2026-03-01T06:30+01:60",
        ] {
            assert_eq!(at(not), None, "{not}");
        }
    }

    #[test]
    fn wall_clock_is_kept_as_written() {
        let millis = |t| Timestamp::parse(t).expect("a time").wall_clock_millis();
        assert_eq!(millis("1970-01-01T00:00:00"), 0.0);
        assert_eq!(millis("1970-01-02T01:02:03.004"), 86_400_000.0 + 3_723_004.0);
        assert_eq!(millis("2026-01-01T00:00:00Z"), 1_767_225_600_000.0);
        assert_eq!(
            millis("2026-01-01T00:00:00+05:00"),
            1_767_225_600_000.0,
            "the offset is shown, not applied"
        );
        assert_eq!(millis("2000-02-29T12:00:00.5"), 951_825_600_500.0);
        assert_eq!(millis("1969-12-31"), -86_400_000.0);
    }

    #[test]
    fn numbers_are_formatted_only_when_nothing_changes() {
        assert_eq!(plain_number("12"), Some((12.0, 0)));
        assert_eq!(
            plain_number("-0.50"),
            Some((-0.5, 2)),
            "trailing zeros are kept as decimals"
        );
        assert_eq!(plain_number("123456789012345"), Some((123_456_789_012_345.0, 0)));
        assert_eq!(plain_number("0.000000000000001"), Some((1e-15, 15)));
        for raw in [
            "1234567890123456",
            "1e300",
            "1E5",
            "-",
            ".5",
            "5.",
            "1,5",
            "0x10",
            "NaN",
            "+1",
            " 1",
            "١٢",
        ] {
            assert_eq!(plain_number(raw), None, "{raw} is shown as written");
        }
    }
}
