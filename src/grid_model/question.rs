//! A lookup's question in the address bar and in words: `p.<parameter>=<value>` for each value
//! the person gave (what they typed, so the form shows it again), kept beside the grid's own
//! state; and each problem of a question as the form says it.

use super::query_pairs as pairs;
use crate::words::{GridWord, fill};
use mes_client::LookupDefinition;
use mes_client::ask::{Answers, ParamKind, ParamProblem, ParamProblemKind};

/// The prefix of a question's values in the query.
const PREFIX: &str = "p.";

/// The question a query asks: every `p.` value, by parameter name (an unknown one too: the
/// form then says it is not a parameter of this lookup, rather than quietly asking less).
pub fn from_query(query: &str) -> Answers {
    pairs(query)
        .filter_map(|(name, value)| Some((name.strip_prefix(PREFIX)?.to_owned(), value)))
        .filter(|(_, value)| !value.trim().is_empty())
        .collect()
}

/// What the form shows at first: `answers`, and each parameter they leave out with its default
/// (as the person would type it), so the fields say what the grid was asked — a station's
/// entity, the last 24 hours — rather than standing empty.
pub fn with_defaults(lookup: &LookupDefinition, mut answers: Answers) -> Answers {
    for param in &lookup.parameters {
        if let Some(default) = &param.default {
            answers
                .entry(param.name.clone())
                .or_insert_with(|| default.clone());
        }
    }
    answers
}

/// `existing` with `answers` in place of its question. The selection goes (it named rows of
/// the last answer); sort, filters and hidden columns stay.
pub fn to_query(existing: &str, answers: &Answers) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs(existing).filter(|(name, _)| !name.starts_with(PREFIX) && name != "sel") {
        out.append_pair(&name, &value);
    }
    for (name, value) in answers.iter().filter(|(_, v)| !v.trim().is_empty()) {
        out.append_pair(&format!("{PREFIX}{name}"), value);
    }
    out.finish()
}

/// What the form calls the value `name` of `lookup`: a parameter's label, "… from/until" for a
/// range's ends, the name itself when the lookup has no such parameter.
pub fn label_of(lookup: &LookupDefinition, name: &str) -> String {
    for param in &lookup.parameters {
        let label = param.label();
        if param.kind == ParamKind::DateRange {
            if name == param.name {
                return fill(GridWord::From, &[("label", label)]);
            }
            if param.until.as_deref() == Some(name) {
                return fill(GridWord::Until, &[("label", label)]);
            }
        } else if name == param.name {
            return label.to_owned();
        }
    }
    name.to_owned()
}

/// A problem of the question, in the person's words.
pub fn problem_text(lookup: &LookupDefinition, problem: &ParamProblem) -> String {
    let word = match problem.kind {
        ParamProblemKind::Missing => GridWord::ProblemMissing,
        ParamProblemKind::NotANumber => GridWord::ProblemNumber,
        ParamProblemKind::NotADateTime => GridWord::ProblemDateTime,
        ParamProblemKind::NotHours => GridWord::ProblemHours,
        ParamProblemKind::NotAChoice => GridWord::ProblemChoice,
        ParamProblemKind::EndsBeforeItStarts => GridWord::ProblemBackwards,
        ParamProblemKind::TooLong => GridWord::ProblemTooLong,
        ParamProblemKind::Unknown => GridWord::ProblemUnknown,
    };
    fill(word, &[("label", &label_of(lookup, &problem.name))])
}

/// The labels of a lookup's parameters, listed for a sentence ("Item, Status").
pub fn labels(lookup: &LookupDefinition, only_required: bool) -> String {
    let labels: Vec<&str> = lookup
        .parameters
        .iter()
        .filter(|p| p.required || !only_required)
        .map(|p| p.label())
        .collect();
    labels.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup() -> LookupDefinition {
        serde_json::from_value(serde_json::json!({
            "name": "Work orders", "web_api": "MES", "endpoint": "v3/wo/filter",
            "parameters": [
                { "name": "item_id", "label": "Item", "required": true },
                { "name": "release_from", "label": "Released", "kind": "date_range", "until": "release_to" }
            ]
        }))
        .expect("lookup")
    }

    #[test]
    fn a_question_goes_into_the_address_and_comes_back_as_typed() {
        let answers = Answers::from([
            ("item_id".to_owned(), "ITM 1&2=3".to_owned()),
            ("release_from".to_owned(), "2026-03-01T06:00".to_owned()),
            ("release_to".to_owned(), String::new()),
        ]);
        let query = to_query("sort=wo_id:desc&sel=WO-1&p.old=x&hide=a", &answers);
        assert_eq!(
            query,
            "sort=wo_id%3Adesc&hide=a&p.item_id=ITM+1%262%3D3&p.release_from=2026-03-01T06%3A00"
        );
        let back = from_query(&format!("?{query}"));
        assert_eq!(back.len(), 2, "the empty end left out: {back:?}");
        assert_eq!(back["item_id"], "ITM 1&2=3");
        assert_eq!(
            from_query("q=x&p.lastNhrs=8&p.=&f.a=1")["lastNhrs"],
            "8",
            "the grid's own parameters are not the question"
        );
    }

    #[test]
    fn the_form_shows_defaults_where_the_address_gives_nothing() {
        let mut lookup = lookup();
        lookup.parameters[0].default = Some("ITM-1".into());
        assert_eq!(with_defaults(&lookup, Answers::new())["item_id"], "ITM-1");
        let given = Answers::from([("item_id".to_owned(), "ITM-2".to_owned())]);
        assert_eq!(
            with_defaults(&lookup, given)["item_id"],
            "ITM-2",
            "the address's value stays"
        );
        assert_eq!(
            with_defaults(&lookup, Answers::new()).len(),
            1,
            "no default, no value"
        );
    }

    #[test]
    fn problems_are_said_with_the_forms_labels() {
        let l = lookup();
        let said = |name: &str, kind| {
            problem_text(
                &l,
                &ParamProblem {
                    name: name.into(),
                    kind,
                },
            )
        };
        assert_eq!(said("item_id", ParamProblemKind::Missing), "Item: required");
        assert_eq!(
            said("release_to", ParamProblemKind::EndsBeforeItStarts),
            "Released until: ends before it starts"
        );
        assert_eq!(
            said("bogus", ParamProblemKind::Unknown),
            "“bogus” is not a parameter of this lookup"
        );
        assert_eq!(labels(&l, false), "Item, Released");
        assert_eq!(labels(&l, true), "Item");
    }
}
