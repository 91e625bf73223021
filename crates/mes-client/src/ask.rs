//! A lookup's question: the parameters config.json declares for it, what a person may type into
//! each, and how the answers become the endpoint's query parameters — the same in the portal's
//! form, an embedding page's `params`, the Web APIs page's connection test and `mes-lookup
//! --param`. The MES Web API has no paging and no OData: narrowing happens in the request, with
//! each endpoint's own filter parameters, so a question is checked here before anything is sent.
//!
//! Date and time parameters are sent as the MES writes them (`2026-03-01T06:00:00`, no zone): the
//! MES reads them in the `tz_id` sent with the request, the Web API's `time_zone` (the plant's).

use serde::Deserialize;
use std::collections::BTreeMap;

/// The rows a lookup asks for when config.json does not say ([`crate::LookupDefinition::row_limit`]).
pub const DEFAULT_MAX_ROWS: u32 = 5_000;
/// The most rows a person may ask for, however often they ask for more.
pub const MAX_ROWS_CEILING: u32 = 1_000_000;
/// The longest value a parameter takes (the MES refuses longer ones).
pub const MAX_VALUE_CHARS: usize = 1_024;
/// The most hours a "last N hours" parameter takes (ten years).
const MAX_HOURS: u64 = 24 * 366 * 10;

/// The `max_rows` sent for a limit of `limit` rows: one more, so that an answer the MES cut is
/// told from a whole one of exactly `limit` rows.
pub fn max_rows_for(limit: u32) -> u32 {
    limit.saturating_add(1)
}

/// Whether an answer of `rows` rows to a question limited to `limit` was cut: the MES had more
/// (and the row past the limit is dropped before anyone sees the answer as whole).
pub fn is_cut(rows: usize, limit: u32) -> bool {
    rows > limit as usize
}

/// The next limit when a person asks for more than `limit` rows: ten times as many, up to
/// [`MAX_ROWS_CEILING`]; `None` at the ceiling.
pub fn more_rows(limit: u32) -> Option<u32> {
    (limit < MAX_ROWS_CEILING).then(|| limit.saturating_mul(10).min(MAX_ROWS_CEILING))
}

/// What a parameter holds, and so which field the form shows and what it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// Any text (an item, a work order).
    #[default]
    Text,
    /// A decimal number.
    Number,
    /// One of [`ParamDefinition::choices`].
    Choice,
    /// A date and time, sent as `YYYY-MM-DDTHH:MM:SS` in the plant's time zone.
    DateTime,
    /// From one date and time to another: [`ParamDefinition::name`] holds the start,
    /// [`ParamDefinition::until`] names the end's parameter.
    DateRange,
    /// Whole hours back from now (the job queue's `lastNhrs`).
    LastHours,
}

/// One parameter of a lookup, as config.json declares it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ParamDefinition {
    /// The endpoint's query parameter (`item_id`, `lastNhrs`); for a range, its start.
    pub name: String,
    /// What the form calls it; absent = the name.
    #[serde(default)]
    pub label: Option<String>,
    /// What it holds.
    #[serde(default)]
    pub kind: ParamKind,
    /// The question cannot be asked without it.
    #[serde(default)]
    pub required: bool,
    /// Its value when the person gives none (as the person would type it).
    #[serde(default)]
    pub default: Option<String>,
    /// The values a [`ParamKind::Choice`] offers.
    #[serde(default)]
    pub choices: Vec<String>,
    /// Where a [`ParamKind::Choice`]'s values come from instead: another lookup's rows (the
    /// entities a person may see, the items). They are offered, not imposed: the MES judges
    /// what is sent, and a person may type a value the list lacks.
    #[serde(default)]
    pub choices_from: Option<ChoicesFrom>,
    /// A [`ParamKind::DateRange`]'s end parameter (`release_to`).
    #[serde(default)]
    pub until: Option<String>,
}

/// A choice's values read from another lookup: its `value` column, each named by its `label`
/// column where there is one (`ent_id` named by `ent_name`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChoicesFrom {
    /// The name of the lookup that lists them (asked with its defaults).
    pub lookup: String,
    /// The column whose values are the choices.
    pub value: String,
    /// The column that names each value for a person; absent = the value itself.
    #[serde(default)]
    pub label: Option<String>,
}

/// The most choices offered from another lookup's rows (the rest may still be typed).
pub const MAX_CHOICES: usize = 1_000;

/// The choices `rows` offer: the distinct values of `from.value` in the order the MES sent
/// them, each with its label (`None` when the label is absent or the value itself), at most
/// [`MAX_CHOICES`]; empty when the rows lack the value column.
pub fn choices_in(rows: &crate::Rows, from: &ChoicesFrom) -> Vec<(String, Option<String>)> {
    let Some(values) = rows.column(&from.value) else {
        return Vec::new();
    };
    let labels = from.label.as_deref().and_then(|l| rows.column(l));
    let mut seen = std::collections::HashSet::new();
    (0..rows.len())
        .filter_map(|row| {
            let value = values.text(row);
            if value.is_empty() || !seen.insert(value) {
                return None;
            }
            let label = labels
                .map(|l| l.text(row))
                .filter(|l| !l.is_empty() && *l != value)
                .map(str::to_owned);
            Some((value.to_owned(), label))
        })
        .take(MAX_CHOICES)
        .collect()
}

impl ParamDefinition {
    /// What the form calls it.
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }

    /// The address names of its values: its name, and a range's end.
    pub fn value_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(
            self.until
                .as_deref()
                .filter(|_| self.kind == ParamKind::DateRange),
        )
    }
}

/// What is wrong with one value of a question, in terms a form can put into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamProblemKind {
    /// Required, and empty.
    Missing,
    /// Not a number.
    NotANumber,
    /// Not a date and time (`2026-03-01T06:00`).
    NotADateTime,
    /// Not a whole number of hours from 1 up.
    NotHours,
    /// Not one of the choices.
    NotAChoice,
    /// A range that ends before it starts.
    EndsBeforeItStarts,
    /// Longer than [`MAX_VALUE_CHARS`].
    TooLong,
    /// Not a parameter of this lookup (an edited address, a host page's typo).
    Unknown,
}

/// One problem of a question: which value, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamProblem {
    /// The value's name (a parameter's, or a range's end).
    pub name: String,
    /// What is wrong.
    pub kind: ParamProblemKind,
}

impl std::fmt::Display for ParamProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            ParamProblemKind::Missing => "is required",
            ParamProblemKind::NotANumber => "is not a number",
            ParamProblemKind::NotADateTime => "is not a date and time (YYYY-MM-DDTHH:MM)",
            ParamProblemKind::NotHours => "is not a whole number of hours (1 or more)",
            ParamProblemKind::NotAChoice => "is not one of its choices",
            ParamProblemKind::EndsBeforeItStarts => "ends before it starts",
            ParamProblemKind::TooLong => "is too long",
            ParamProblemKind::Unknown => "is not a parameter of this lookup",
        };
        write!(f, "{} {what}", self.name)
    }
}

/// The values a person gave, by name (a range's end under its own name); empty text counts as
/// none.
pub type Answers = BTreeMap<String, String>;

/// The query parameters `answers` make for `params`, in declaration order, or every problem.
/// An empty optional value is left out (or takes its default); a date and time is sent with
/// seconds (`2026-03-01T06:00:00`).
pub fn encode(
    params: &[ParamDefinition],
    answers: &Answers,
) -> Result<Vec<(String, String)>, Vec<ParamProblem>> {
    let mut problems: Vec<ParamProblem> = answers
        .keys()
        .filter(|name| !params.iter().any(|p| p.value_names().any(|n| n == name.as_str())))
        .map(|name| ParamProblem {
            name: name.clone(),
            kind: ParamProblemKind::Unknown,
        })
        .collect();
    let mut query = Vec::new();
    for param in params {
        let mut values = Vec::new();
        for name in param.value_names() {
            match value_of(param, name, answers) {
                Ok(Some(value)) => values.push((name.to_owned(), value)),
                Ok(None) => {}
                Err(kind) => problems.push(ParamProblem {
                    name: name.to_owned(),
                    kind,
                }),
            }
        }
        if let [(_, from), (end, to)] = &values[..]
            && from > to
        {
            problems.push(ParamProblem {
                name: end.clone(),
                kind: ParamProblemKind::EndsBeforeItStarts,
            });
        }
        query.extend(values);
    }
    if problems.is_empty() {
        Ok(query)
    } else {
        Err(problems)
    }
}

/// The value sent for `name` (a parameter's or its range end's), `None` when left out.
fn value_of(
    param: &ParamDefinition,
    name: &str,
    answers: &Answers,
) -> Result<Option<String>, ParamProblemKind> {
    let given = answers.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let own_default = (name == param.name).then_some(param.default.as_deref()).flatten();
    let Some(text) = given.or(own_default.map(str::trim).filter(|v| !v.is_empty())) else {
        return if param.required {
            Err(ParamProblemKind::Missing)
        } else {
            Ok(None)
        };
    };
    if text.chars().count() > MAX_VALUE_CHARS {
        return Err(ParamProblemKind::TooLong);
    }
    match param.kind {
        ParamKind::Text => Ok(Some(text.to_owned())),
        ParamKind::Number => is_decimal(text)
            .then(|| Some(text.to_owned()))
            .ok_or(ParamProblemKind::NotANumber),
        // Choices read from the MES are offered, and the MES judges the value.
        ParamKind::Choice if param.choices_from.is_some() => Ok(Some(text.to_owned())),
        ParamKind::Choice => param
            .choices
            .iter()
            .find(|c| *c == text)
            .map(|c| Some(c.clone()))
            .ok_or(ParamProblemKind::NotAChoice),
        ParamKind::DateTime | ParamKind::DateRange => mes_date_time(text)
            .map(Some)
            .ok_or(ParamProblemKind::NotADateTime),
        ParamKind::LastHours => text
            .parse::<u64>()
            .ok()
            .filter(|h| (1..=MAX_HOURS).contains(h))
            .map(|h| Some(h.to_string()))
            .ok_or(ParamProblemKind::NotHours),
    }
}

/// A decimal as the MES reads one: an optional minus, digits, and optionally a point and more
/// digits (`12`, `-3.5`). A syntax check, not a parse: no exponent, no `NaN`, and no float
/// parser in the wasm for it.
fn is_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && all_digits(fraction)
}

/// `text` as the MES reads a date and time: `YYYY-MM-DDTHH:MM:SS`. Takes what a browser's
/// date-time field gives (`2026-03-01T06:00`), with seconds, a space for the `T`, or a date
/// alone (its midnight); refuses anything else, an impossible day included.
pub fn mes_date_time(text: &str) -> Option<String> {
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((date, time)) => (date, time),
        None => (text, "00:00"),
    };
    let numbers = |part: &str, sep: char| -> Option<Vec<u32>> {
        part.split(sep)
            .map(|n| {
                (n.len() >= 2 && n.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| n.parse().ok())
                    .flatten()
            })
            .collect()
    };
    let (date, time) = (numbers(date, '-')?, numbers(time, ':')?);
    let [year, month, day] = date[..] else { return None };
    let (hour, minute, second) = match time[..] {
        [h, m] => (h, m, 0),
        [h, m, s] => (h, m, s),
        _ => return None,
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    let fits =
        (1000..=9999).contains(&year) && (1..=days).contains(&day) && hour < 24 && minute < 60 && second < 60;
    fits.then(|| format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}"))
}

/// The problems of a lookup's parameter declarations, as `(field, message)` for config.json's
/// report: every name once, none of the MES's own, choices for a choice, an end for a range,
/// and no fixed parameter asked again. A default is checked when the question is asked (the
/// form says what is wrong with it): checking it here would bring the value checks into the
/// portal's first load.
pub(crate) fn declaration_problems(
    params: &[ParamDefinition],
    fixed: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (i, param) in params.iter().enumerate() {
        let field = format!("parameters[{i}]");
        if param.kind == ParamKind::DateRange && param.until.as_deref().is_none_or(|u| u.trim().is_empty()) {
            problems.push((
                format!("{field}.until"),
                "a date_range needs the name of its end parameter".into(),
            ));
        }
        for name in param.value_names() {
            let lower = name.to_ascii_lowercase();
            if name.trim().is_empty() {
                problems.push((format!("{field}.name"), "is empty".into()));
            } else if matches!(lower.as_str(), "max_rows" | "tz_id" | "trans_id") {
                problems.push((
                    format!("{field}.name"),
                    format!("\"{name}\" is the MES's own header, which the portal sets"),
                ));
            } else if seen.contains(&lower) || fixed.keys().any(|k| k.eq_ignore_ascii_case(name)) {
                problems.push((
                    format!("{field}.name"),
                    format!("\"{name}\" is asked twice (or is also a fixed parameter)"),
                ));
            }
            seen.push(lower);
        }
        if param.kind == ParamKind::Choice && param.choices.is_empty() && param.choices_from.is_none() {
            problems.push((
                format!("{field}.choices"),
                "a choice needs its choices (or choices_from)".into(),
            ));
        }
        if param.kind != ParamKind::Choice && param.choices_from.is_some() {
            problems.push((
                format!("{field}.choices_from"),
                "is for a parameter of kind \"choice\"".into(),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, kind: ParamKind) -> ParamDefinition {
        ParamDefinition {
            name: name.into(),
            label: None,
            kind,
            required: false,
            default: None,
            choices: Vec::new(),
            choices_from: None,
            until: None,
        }
    }

    fn answers(pairs: &[(&str, &str)]) -> Answers {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn problem(name: &str, kind: ParamProblemKind) -> ParamProblem {
        ParamProblem {
            name: name.into(),
            kind,
        }
    }

    #[test]
    fn a_limit_asks_one_row_more_so_a_cut_answer_is_told_from_a_whole_one() {
        assert_eq!(max_rows_for(5_000), 5_001);
        assert!(!is_cut(5_000, 5_000), "exactly the limit, and no more: whole");
        assert!(is_cut(5_001, 5_000));
        assert!(!is_cut(0, 1));
        assert_eq!(more_rows(5_000), Some(50_000));
        assert_eq!(more_rows(500_000), Some(MAX_ROWS_CEILING));
        assert_eq!(more_rows(MAX_ROWS_CEILING), None);
        assert_eq!(max_rows_for(u32::MAX), u32::MAX);
    }

    #[test]
    fn dates_are_sent_as_the_mes_reads_them_and_impossible_ones_refused() {
        assert_eq!(
            mes_date_time("2026-03-01T06:00").as_deref(),
            Some("2026-03-01T06:00:00")
        );
        assert_eq!(
            mes_date_time("2026-03-01 06:00:30").as_deref(),
            Some("2026-03-01T06:00:30")
        );
        assert_eq!(
            mes_date_time("2026-03-01").as_deref(),
            Some("2026-03-01T00:00:00")
        );
        for good in [
            "2024-02-29T23:59:59",
            "2000-02-29T00:00:00",
            "2026-02-28T00:00:00",
            "2026-04-30T00:00:00",
        ] {
            assert_eq!(
                mes_date_time(good).as_deref(),
                Some(good),
                "the last day of its month"
            );
        }
        for bad in [
            "2026-03-01T06:00:60",
            "2026-02-29T00:00",
            "2100-02-29",
            "2026-13-01",
            "2026-04-31",
            "2026-03-01T24:00",
            "2026-03-01T06:60",
            "2026-3-1",
            "01.03.2026",
            "2026-03-01T06:00:00Z",
            "2026-03-01T06:00+01:00",
            "",
            "now",
        ] {
            assert_eq!(mes_date_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_question_becomes_the_endpoints_parameters_in_declared_order() {
        let mut range = param("release_from", ParamKind::DateRange);
        range.until = Some("release_to".into());
        let mut state = param("state", ParamKind::Choice);
        state.choices = vec!["Released".into(), "Running".into()];
        state.default = Some("Released".into());
        let params = [
            param("item_id", ParamKind::Text),
            state,
            range,
            param("lastNhrs", ParamKind::LastHours),
        ];
        let asked = encode(
            &params,
            &answers(&[
                ("release_to", "2026-03-02"),
                ("release_from", "2026-03-01T06:00"),
                ("item_id", " ITM-1 "),
                ("lastNhrs", ""),
            ]),
        );
        assert_eq!(
            asked,
            Ok(vec![
                ("item_id".into(), "ITM-1".into()),
                ("state".into(), "Released".into()),
                ("release_from".into(), "2026-03-01T06:00:00".into()),
                ("release_to".into(), "2026-03-02T00:00:00".into()),
            ]),
            "trimmed, the default taken, dates with seconds, the empty one left out"
        );
        assert_eq!(
            encode(&params, &answers(&[])),
            Ok(vec![("state".into(), "Released".into())])
        );
    }

    #[test]
    fn every_problem_is_named_and_nothing_is_sent() {
        let mut range = param("from", ParamKind::DateRange);
        range.until = Some("to".into());
        let mut required = param("wo_id", ParamKind::Text);
        required.required = true;
        let mut choice = param("state", ParamKind::Choice);
        choice.choices = vec!["Released".into()];
        let params = [
            required,
            param("qty", ParamKind::Number),
            choice,
            range,
            param("lastNhrs", ParamKind::LastHours),
        ];
        let asked = encode(
            &params,
            &answers(&[
                ("qty", "1e9"),
                ("state", "released"),
                ("from", "2026-03-02"),
                ("to", "2026-03-01"),
                ("lastNhrs", "0"),
                ("max_rows", "1"),
            ]),
        );
        assert_eq!(
            asked,
            Err(vec![
                problem("max_rows", ParamProblemKind::Unknown),
                problem("wo_id", ParamProblemKind::Missing),
                problem("qty", ParamProblemKind::NotANumber),
                problem("state", ParamProblemKind::NotAChoice),
                problem("to", ParamProblemKind::EndsBeforeItStarts),
                problem("lastNhrs", ParamProblemKind::NotHours),
            ])
        );
        assert!(
            encode(&params[..1], &answers(&[("wo_id", &"x".repeat(MAX_VALUE_CHARS))])).is_ok(),
            "the longest value"
        );
        assert!(
            encode(
                &params[3..4],
                &answers(&[("from", "2026-03-01"), ("to", "2026-03-01")])
            )
            .is_ok(),
            "a range of one moment"
        );
        let long = "x".repeat(MAX_VALUE_CHARS + 1);
        assert_eq!(
            encode(&params[..1], &answers(&[("wo_id", &long)])),
            Err(vec![problem("wo_id", ParamProblemKind::TooLong)])
        );
        for number in ["12", "-3.5", "0.25"] {
            assert!(
                encode(&params[1..2], &answers(&[("qty", number)])).is_ok(),
                "{number}"
            );
        }
        for not in ["NaN", "inf", "0x10", "1,5", "12 kg"] {
            assert!(encode(&params[1..2], &answers(&[("qty", not)])).is_err(), "{not}");
        }
        // What the command line says of a problem, and what a form calls a parameter.
        assert_eq!(
            problem("lastNhrs", ParamProblemKind::NotHours).to_string(),
            "lastNhrs is not a whole number of hours (1 or more)"
        );
        let mut labelled = param("wo_id", ParamKind::Text);
        assert_eq!(labelled.label(), "wo_id");
        labelled.label = Some("Work order".into());
        assert_eq!(labelled.label(), "Work order");
        // Hours: ten years back at most (87,840 hours), written as the MES reads a number.
        let hours = |given: &str| encode(&params[4..], &answers(&[("lastNhrs", given)]));
        assert_eq!(
            hours("087840"),
            Ok(vec![("lastNhrs".to_owned(), "87840".to_owned())])
        );
        assert_eq!(
            hours("87841"),
            Err(vec![problem("lastNhrs", ParamProblemKind::NotHours)])
        );
    }

    #[test]
    fn declarations_that_cannot_work_are_reported() {
        let mut range = param("from", ParamKind::DateRange);
        range.default = Some("yesterday".into());
        let mut choice = param("state", ParamKind::Choice);
        choice.default = Some("Released".into());
        let fixed = BTreeMap::from([("ent_id".to_owned(), "3".to_owned())]);
        let problems = declaration_problems(
            &[
                range,
                choice,
                param("Max_Rows", ParamKind::Number),
                param("ENT_ID", ParamKind::Text),
                param("state", ParamKind::Text),
            ],
            &fixed,
        );
        let fields: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "parameters[0].until",
                "parameters[1].choices",
                "parameters[2].name",
                "parameters[3].name",
                "parameters[4].name"
            ],
            "{problems:?}"
        );
        assert!(declaration_problems(&[param("item_id", ParamKind::Text)], &BTreeMap::new()).is_empty());
        let mut when = param("when", ParamKind::DateTime);
        when.default = Some("soon".into());
        assert_eq!(
            encode(&[when], &Answers::new()),
            Err(vec![problem("when", ParamProblemKind::NotADateTime)]),
            "a default that does not fit is said when the question is asked"
        );
    }

    #[test]
    fn choices_read_from_rows_are_distinct_named_and_capped() {
        let rows = crate::Rows::from_json(
            br#"[{"ent_id":3,"ent_name":"Line 1"},{"ent_id":4,"ent_name":"4"},{"ent_id":3,"ent_name":"again"},
                 {"ent_id":"","ent_name":"blank"},{"ent_id":5,"ent_name":null}]"#,
        )
        .expect("rows");
        let from = ChoicesFrom {
            lookup: "Entities".into(),
            value: "ent_id".into(),
            label: Some("ent_name".into()),
        };
        assert_eq!(
            choices_in(&rows, &from),
            [
                ("3".to_owned(), Some("Line 1".to_owned())),
                ("4".to_owned(), None),
                ("5".to_owned(), None)
            ]
        );
        let missing = ChoicesFrom {
            value: "item_id".into(),
            ..from.clone()
        };
        assert!(choices_in(&rows, &missing).is_empty());
        let many: String = (0..MAX_CHOICES + 5)
            .map(|i| format!(r#"{{"v":{i}}}"#))
            .collect::<Vec<_>>()
            .join(",");
        let many = crate::Rows::from_json(format!("[{many}]").as_bytes()).expect("rows");
        let from = ChoicesFrom {
            lookup: "L".into(),
            value: "v".into(),
            label: None,
        };
        assert_eq!(choices_in(&many, &from).len(), MAX_CHOICES);
    }
}
