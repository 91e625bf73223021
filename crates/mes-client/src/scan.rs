//! Scanned codes: a keyboard-wedge scanner's keystrokes told apart from a person's typing
//! ([`Wedge`]), GS1 element strings read into their Application Identifiers ([`gs1`]), and
//! config.json's `scan` section ([`ScanSettings`]), which says what a scanned code opens.
//!
//! A keyboard-wedge scanner "types" its code: a burst of keystrokes a few milliseconds apart,
//! usually ended by Enter. A person types tens of milliseconds apart at the fastest, so a run
//! of at least `min_length` characters with no pause longer than `key_gap_ms`, ended by the
//! scanner's suffix, is a scan; anything slower is typing and is left alone.

use serde::Deserialize;

/// config.json's `scan`: how the plant's scanners send codes, and what each kind of code opens.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSettings {
    /// Characters the scanners send before every code (set in the scanner); empty = none.
    #[serde(default)]
    pub prefix: String,
    /// The key the scanners end every code with: `"Enter"` (the default), `"Tab"`, or `""` for
    /// none (a code then ends with the first pause).
    #[serde(default = "enter")]
    pub suffix: String,
    /// The longest pause between two keystrokes of one code, in milliseconds (default 35).
    #[serde(default = "default_gap")]
    pub key_gap_ms: u32,
    /// The fewest characters a code has (default 4): shorter bursts are typing.
    #[serde(default = "default_length")]
    pub min_length: u32,
    /// What a code opens; the first that fits wins.
    pub targets: Vec<ScanTarget>,
}

fn enter() -> String {
    "Enter".into()
}
fn default_gap() -> u32 {
    35
}
fn default_length() -> u32 {
    4
}

/// One kind of code and the lookup row it names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanTarget {
    /// A GS1 Application Identifier whose value this is (`"10"` lot, `"00"` SSCC, `"01"` GTIN,
    /// `"21"` serial); absent = a code that is not a GS1 element string (a plain lot label).
    #[serde(default)]
    pub ai: Option<String>,
    /// The lookup that holds it.
    pub lookup: String,
    /// The lookup's column whose value the code is.
    pub column: String,
}

impl ScanSettings {
    /// What `code` opens: the first target whose Application Identifier the GS1 string holds,
    /// or for any other code the first target without one; with the value to look for.
    pub fn target_for(&self, code: &str) -> Option<(&ScanTarget, String)> {
        match gs1(code) {
            Some(fields) => self.targets.iter().find_map(|t| {
                let ai = t.ai.as_deref()?;
                let (_, value) = fields.iter().find(|(a, _)| a == ai)?;
                Some((t, value.clone()))
            }),
            None => self
                .targets
                .iter()
                .find(|t| t.ai.is_none())
                .map(|t| (t, code.to_owned())),
        }
    }

    /// What is wrong with the section, as `(field, problem)`: a suffix no scanner sends, a gap
    /// or length that would take typing for scans, an Application Identifier this reader does
    /// not know. (Lookup and column names are checked with the lookups.)
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !matches!(self.suffix.as_str(), "Enter" | "Tab" | "") {
            out.push(("scan.suffix".into(), "must be \"Enter\", \"Tab\" or \"\"".into()));
        }
        if !(5..=100).contains(&self.key_gap_ms) {
            out.push((
                "scan.key_gap_ms".into(),
                "must be 5 to 100 (people type slower than 100 ms a key)".into(),
            ));
        }
        if self.min_length < 3 {
            out.push(("scan.min_length".into(), "must be at least 3".into()));
        }
        for (i, target) in self.targets.iter().enumerate() {
            if let Some(ai) = target.ai.as_deref().filter(|ai| field_kind(ai).is_none()) {
                out.push((
                    format!("scan.targets[{i}].ai"),
                    format!("\"{ai}\" is not a GS1 Application Identifier this portal reads"),
                ));
            }
        }
        out
    }

    /// A fresh detector for these settings.
    pub fn wedge(&self) -> Wedge {
        Wedge {
            prefix: self.prefix.clone(),
            suffix: self.suffix.clone(),
            gap: f64::from(self.key_gap_ms),
            min_length: self.min_length as usize,
            burst: String::new(),
            last: f64::NEG_INFINITY,
        }
    }
}

/// What one keystroke is, as far as scanning goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keystroke {
    /// Not part of a scan (yet): the key does what it always does.
    Typing,
    /// The first character of what may be a scan: remember what the focused text box held, to
    /// put it back if this turns out to be one.
    Started,
    /// The scanner's suffix ended a code: this key is the scan's, not the page's.
    Scanned(String),
}

/// Tells a keyboard-wedge scanner's bursts from a person's typing, keystroke by keystroke.
#[derive(Debug, Clone)]
pub struct Wedge {
    prefix: String,
    suffix: String,
    gap: f64,
    min_length: usize,
    /// The characters of the current burst.
    burst: String,
    /// When the burst's last key came, in milliseconds.
    last: f64,
}

impl Wedge {
    /// A key (as `KeyboardEvent.key` names it) pressed at `at` milliseconds, with Ctrl, Alt or
    /// ⌘ held or not (`command`).
    pub fn key(&mut self, key: &str, at: f64, command: bool) -> Keystroke {
        let in_time = at - self.last <= self.gap;
        if key == "Shift" {
            // Scanners press Shift for capitals: part of the burst, not a break in it.
            return Keystroke::Typing;
        }
        let mut chars = key.chars();
        let single = chars.next().filter(|_| chars.next().is_none());
        match single {
            Some(c) if !command => {
                if !in_time {
                    self.burst.clear();
                }
                self.burst.push(c);
                self.last = at;
                if self.burst.chars().count() == 1 {
                    Keystroke::Started
                } else {
                    Keystroke::Typing
                }
            }
            _ if key == self.suffix && in_time => self.finish(),
            _ => {
                self.burst.clear();
                Keystroke::Typing
            }
        }
    }

    /// No key came for a while (now = `at`): with no suffix, a burst long enough is a code.
    pub fn pause(&mut self, at: f64) -> Option<String> {
        if self.suffix.is_empty() && at - self.last > self.gap {
            match self.finish() {
                Keystroke::Scanned(code) => return Some(code),
                _ => return None,
            }
        }
        None
    }

    /// The milliseconds after a key at which [`Wedge::pause`] can end a code.
    pub fn gap_ms(&self) -> f64 {
        self.gap
    }

    fn finish(&mut self) -> Keystroke {
        let burst = std::mem::take(&mut self.burst);
        let Some(code) = burst.strip_prefix(self.prefix.as_str()) else {
            return Keystroke::Typing;
        };
        if code.chars().count() >= self.min_length {
            Keystroke::Scanned(code.to_owned())
        } else {
            Keystroke::Typing
        }
    }
}

/// The GS1 group separator (FNC1 in the middle of a code): ends a field of variable length.
pub const GS: char = '\u{1d}';

/// How long an Application Identifier's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    /// Exactly this many digits.
    Digits(usize),
    /// Exactly this many digits, the last a GS1 check digit.
    Checked(usize),
    /// Up to this many characters, ended by [`GS`] or the code's end.
    UpTo(usize),
}

/// The Application Identifiers this reader knows (the ones labels at a plant carry), by the
/// AI's digits; `None` for any other.
fn field_kind(ai: &str) -> Option<Length> {
    use Length::*;
    Some(match ai {
        "00" => Checked(18),
        "01" | "02" => Checked(14),
        "10" | "21" | "22" => UpTo(20),
        "11" | "12" | "13" | "15" | "16" | "17" => Digits(6),
        "20" => Digits(2),
        "30" | "37" => UpTo(8),
        "240" | "241" | "250" | "251" | "400" | "401" | "90" => UpTo(30),
        "410" | "411" | "412" | "413" | "414" | "415" | "416" | "417" => Checked(13),
        _ if ai.len() == 2 && ("91"..="99").contains(&ai) => UpTo(90),
        _ if ai.len() == 4 && ai.bytes().all(|b| b.is_ascii_digit()) && ("3100"..="3699").contains(&ai) => {
            Digits(6)
        }
        _ => return None,
    })
}

/// The Application Identifier at the start of `rest`, if it is one this reader knows.
fn ai_at(rest: &str) -> Option<(&str, Length)> {
    (2..=4).find_map(|n| {
        let ai = rest.get(..n)?;
        Some((ai, field_kind(ai)?))
    })
}

/// Whether `digits` end in their GS1 check digit (weights 3 and 1 from the right).
fn check_digit_holds(digits: &str) -> bool {
    let values: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    let Some((&check, body)) = values.split_last() else {
        return false;
    };
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    values.len() == digits.len() && (10 - sum % 10) % 10 == check
}

/// Whether `value` is a valid value of a field of this length.
fn fits(value: &str, length: Length) -> bool {
    let digits = |n| value.len() == n && value.bytes().all(|b| b.is_ascii_digit());
    match length {
        Length::Digits(n) => digits(n),
        Length::Checked(n) => digits(n) && check_digit_holds(value),
        Length::UpTo(n) => !value.is_empty() && value.chars().count() <= n && !value.contains(GS),
    }
}

/// A GS1 element string read into `(AI, value)` pairs in the code's order, or `None` when
/// `code` is not one. Read: the human-readable form (`(01)09501101530003(10)L-4711`), and the
/// form scanners send — a symbology identifier (`]C1`, `]d2`, `]Q3`, `]e0`, `]J1`) or not,
/// fields of variable length ended by the group separator ([`GS`]) or the code's end. A code
/// with neither identifier nor separator counts as GS1 only when it opens with an SSCC or GTIN
/// whose check digit holds, so a plain label such as `10-4711` is never taken apart.
pub fn gs1(code: &str) -> Option<Vec<(String, String)>> {
    let (announced, body) = match code.get(..3) {
        Some("]C1" | "]d2" | "]Q3" | "]e0" | "]J1") => (true, &code[3..]),
        _ => (false, code),
    };
    let body = body.strip_prefix(GS).unwrap_or(body);
    if body.starts_with('(') {
        return bracketed(body);
    }
    let fields = separated(body)?;
    let opens_checked = matches!(
        fields.first().map(|(ai, _)| ai.as_str()),
        Some("00" | "01" | "02")
    );
    (announced || body.contains(GS) || opens_checked).then_some(fields)
}

/// `(AI)value(AI)value…`.
fn bracketed(mut rest: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        let inner = rest.strip_prefix('(')?;
        let close = inner.find(')')?;
        let ai = &inner[..close];
        let after = &inner[close + 1..];
        let end = after.find('(').unwrap_or(after.len());
        let value = &after[..end];
        if !fits(value, field_kind(ai)?) {
            return None;
        }
        out.push((ai.to_owned(), value.to_owned()));
        rest = &after[end..];
    }
    (!out.is_empty()).then_some(out)
}

/// AIs and values back to back, variable ones ended by [`GS`] or the end.
fn separated(mut rest: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (ai, length) = ai_at(rest)?;
        let after = &rest[ai.len()..];
        let end = match length {
            Length::Digits(n) | Length::Checked(n) => n.min(after.len()),
            Length::UpTo(_) => after.find(GS).unwrap_or(after.len()),
        };
        let value = &after[..end];
        if !fits(value, length) {
            return None;
        }
        out.push((ai.to_owned(), value.to_owned()));
        rest = after[end..].strip_prefix(GS).unwrap_or(&after[end..]);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: &str) -> ScanSettings {
        serde_json::from_str(json).expect("scan settings")
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, v)| ((*a).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn gs1_in_every_form_scanners_send() {
        let expected = pairs(&[("01", "09501101530003"), ("10", "L-4711"), ("17", "271231")]);
        assert_eq!(
            gs1("(01)09501101530003(10)L-4711(17)271231"),
            Some(expected.clone())
        );
        assert_eq!(
            gs1("]C1010950110153000310L-4711\u{1d}17271231"),
            Some(expected.clone())
        );
        assert_eq!(
            gs1("010950110153000310L-4711\u{1d}17271231"),
            Some(expected),
            "no identifier"
        );
        assert_eq!(
            gs1("0109501101530003172712311012345"),
            Some(pairs(&[
                ("01", "09501101530003"),
                ("17", "271231"),
                ("10", "12345")
            ])),
            "no separator needed when the variable field is last"
        );
        assert_eq!(
            gs1("]d2\u{1d}00395011010000000125\u{1d}21S-77"),
            Some(pairs(&[("00", "395011010000000125"), ("21", "S-77")])),
            "FNC1 in first position and a needless separator after a fixed field"
        );
        let sscc = gs1("0039501101000000012521S-77").expect("an SSCC opens it");
        assert_eq!(sscc[0], ("00".to_owned(), "395011010000000125".to_owned()));
        assert_eq!(sscc[1], ("21".to_owned(), "S-77".to_owned()));
        assert_eq!(gs1("(3103)001250"), Some(pairs(&[("3103", "001250")])));
    }

    #[test]
    fn plain_labels_and_broken_codes_are_not_gs1() {
        assert_eq!(gs1("L-4711"), None);
        assert_eq!(gs1("10-4711"), None, "a label that happens to start like AI 10");
        assert_eq!(
            gs1("0109501101530008"),
            None,
            "the GTIN's check digit does not hold"
        );
        assert_eq!(gs1("(01)0950110153000"), None, "a GTIN is 14 digits");
        assert_eq!(gs1("(10)"), None);
        assert_eq!(gs1("(10)123456789012345678901"), None, "a lot is at most 20");
        assert_eq!(gs1("(77)x"), None, "an AI this reader does not know");
        assert_eq!(gs1("]C1"), None);
        assert_eq!(gs1("(17)2712"), None);
    }

    #[test]
    fn check_digits() {
        assert!(check_digit_holds("09501101530003"));
        assert!(check_digit_holds("395011010000000125"));
        assert!(!check_digit_holds("09501101530001"));
        assert!(!check_digit_holds(""));
        assert!(!check_digit_holds("0950110153000x"));
    }

    #[test]
    fn a_code_opens_the_first_target_that_fits() {
        let s = settings(
            r#"{"targets": [
                {"ai": "00", "lookup": "Pallets", "column": "sscc"},
                {"ai": "10", "lookup": "Lots", "column": "lot_no"},
                {"lookup": "Lots", "column": "lot_no"}]}"#,
        );
        let (t, value) = s.target_for("(01)09501101530003(10)L-4711").expect("a lot");
        assert_eq!((t.lookup.as_str(), value.as_str()), ("Lots", "L-4711"));
        let (t, value) = s.target_for("00395011010000000125\u{1d}10L-1").expect("a pallet");
        assert_eq!(
            (t.lookup.as_str(), value.as_str()),
            ("Pallets", "395011010000000125")
        );
        let (t, value) = s.target_for("L-4711").expect("a plain label");
        assert_eq!((t.column.as_str(), value.as_str()), ("lot_no", "L-4711"));
        assert_eq!(
            s.target_for("(01)09501101530003"),
            None,
            "a GTIN alone opens nothing here"
        );
        assert_eq!((s.suffix.as_str(), s.key_gap_ms, s.min_length), ("Enter", 35, 4));
        assert!(s.problems().is_empty());
    }

    #[test]
    fn settings_that_would_take_typing_for_scans_are_problems() {
        let s = settings(
            r#"{"suffix": "Space", "key_gap_ms": 250, "min_length": 1,
                "targets": [{"ai": "77", "lookup": "Lots", "column": "lot_no"}]}"#,
        );
        let fields: Vec<String> = s.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "scan.suffix",
                "scan.key_gap_ms",
                "scan.min_length",
                "scan.targets[0].ai"
            ]
        );
        assert!(serde_json::from_str::<ScanSettings>(r#"{"targets": [], "sufix": ""}"#).is_err());
    }

    /// Feeds `text` one key every `every` ms from `start`, then `end` (if any); the outcomes.
    fn feed(wedge: &mut Wedge, text: &str, start: f64, every: f64, end: Option<&str>) -> Vec<Keystroke> {
        let mut at = start;
        let mut out: Vec<Keystroke> = text
            .chars()
            .map(|c| {
                at += every;
                wedge.key(&c.to_string(), at, false)
            })
            .collect();
        if let Some(end) = end {
            out.push(wedge.key(end, at + every, false));
        }
        out
    }

    #[test]
    fn a_fast_burst_with_its_suffix_is_a_scan_and_typing_is_not() {
        let s = settings(r#"{"targets": []}"#);
        let mut wedge = s.wedge();
        let scan = feed(&mut wedge, "L-4711", 1000.0, 4.0, Some("Enter"));
        assert_eq!(scan[0], Keystroke::Started);
        assert_eq!(scan.last(), Some(&Keystroke::Scanned("L-4711".into())));
        let typed = feed(&mut wedge, "L-4711", 5000.0, 120.0, Some("Enter"));
        assert!(
            typed.iter().all(|k| *k != Keystroke::Scanned("L-4711".into())),
            "{typed:?}"
        );
        let short = feed(&mut wedge, "L-4", 9000.0, 4.0, Some("Enter"));
        assert_eq!(short.last(), Some(&Keystroke::Typing), "shorter than min_length");
        let late_enter = feed(&mut wedge, "L-4711", 12000.0, 4.0, None);
        assert_eq!(late_enter.len(), 6);
        assert_eq!(
            wedge.key("Enter", 12024.0 + 500.0, false),
            Keystroke::Typing,
            "Enter long after"
        );
        // Shift between characters (a scanner's capitals) does not break the burst.
        let mut at = 20000.0;
        for key in ["Shift", "L", "-", "4", "Shift", "X", "1"] {
            at += 3.0;
            wedge.key(key, at, false);
        }
        assert_eq!(
            wedge.key("Enter", at + 3.0, false),
            Keystroke::Scanned("L-4X1".into())
        );
        // Ctrl+C in the middle is a person's shortcut: the burst is over.
        feed(&mut wedge, "AB", 30000.0, 3.0, None);
        assert_eq!(wedge.key("c", 30009.0, true), Keystroke::Typing);
        let after = feed(&mut wedge, "CD", 30010.0, 3.0, Some("Enter"));
        assert_eq!(
            after.last(),
            Some(&Keystroke::Typing),
            "only CD after the shortcut: too short"
        );
    }

    #[test]
    fn a_prefix_and_a_pause_as_the_end() {
        let s = settings(r#"{"prefix": "]]", "suffix": "", "targets": []}"#);
        let mut wedge = s.wedge();
        feed(&mut wedge, "]]L-4711", 0.0, 4.0, None);
        assert_eq!(wedge.pause(32.0 + 10.0), None, "not paused long enough yet");
        assert_eq!(wedge.pause(32.0 + 36.0), Some("L-4711".into()));
        feed(&mut wedge, "L-4711", 1000.0, 4.0, None);
        assert_eq!(wedge.pause(2000.0), None, "without the prefix it is not a scan");
        assert_eq!(wedge.key("Enter", 3000.0, false), Keystroke::Typing);
    }
}
