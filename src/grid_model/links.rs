//! Cells that lead to another lookup (config.json's `links`), and the trail of lookups followed
//! to get here, kept in the address: `trail=2` then `trail=8?p.item_id=ITM-1`, one value per
//! step (a lookup's index and its question), so Back, Forward, a bookmark and a sign-in keep it.

use super::query_pairs as pairs;
use mes_client::{LinkDefinition, LookupDefinition};

/// The most steps a trail keeps (the oldest go first).
pub const MAX_TRAIL: usize = 8;

/// Where a linked column leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellLink {
    /// The column, as config.json names it.
    pub column: String,
    /// The lookup it opens, by index in config.json.
    pub lookup: usize,
    /// That lookup's name.
    pub name: String,
    /// The parameter the value goes into.
    pub parameter: String,
}

/// A link followed: the lookup it opens and the question (one parameter, the cell's value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Followed {
    /// The lookup it opens, by index.
    pub lookup: usize,
    /// The parameter.
    pub parameter: String,
    /// The cell's value.
    pub value: String,
}

/// config.json's links, resolved to lookup indexes (a link to a missing lookup is left out:
/// config.json's check reports it).
pub fn resolve(links: &[LinkDefinition], lookups: &[LookupDefinition]) -> Vec<CellLink> {
    links
        .iter()
        .filter_map(|link| {
            let lookup = lookups.iter().position(|l| l.name == link.lookup)?;
            Some(CellLink {
                column: link.column.clone(),
                lookup,
                name: link.lookup.clone(),
                parameter: link.parameter.clone(),
            })
        })
        .collect()
}

/// The link of column `key`, if it has one.
pub fn for_column<'a>(links: &'a [CellLink], key: &str) -> Option<&'a CellLink> {
    links.iter().find(|l| l.column.eq_ignore_ascii_case(key))
}

/// The address a followed link opens, without a trail: `/lookups/8?p.item_id=ITM-1`.
pub fn href(followed: &Followed) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair(&format!("p.{}", followed.parameter), &followed.value)
        .finish();
    format!("/lookups/{}?{query}", followed.lookup)
}

/// The address a followed link opens from lookup `here` whose page's query is `query`: the
/// link's question, and the trail so far with this page as its last step.
pub fn follow(followed: &Followed, here: usize, query: &str) -> String {
    let mut steps = trail(query);
    let question = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs(query).filter(|(k, _)| k.starts_with("p.")))
        .finish();
    steps.push((here, question));
    let skip = steps.len().saturating_sub(MAX_TRAIL);
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (lookup, question) in &steps[skip..] {
        out.append_pair("trail", &step(*lookup, question));
    }
    format!("{}&{}", href(followed), out.finish())
}

/// Where a cell of column `key` holding `value` leads, with the lookup's name: `None` for a
/// column without a link, or an empty cell.
pub fn followed(links: &[CellLink], key: &str, value: &str) -> Option<(Followed, String)> {
    let link = for_column(links, key).filter(|_| !value.is_empty())?;
    let followed = Followed {
        lookup: link.lookup,
        parameter: link.parameter.clone(),
        value: value.to_owned(),
    };
    Some((followed, link.name.clone()))
}

fn step(lookup: usize, question: &str) -> String {
    if question.is_empty() {
        lookup.to_string()
    } else {
        format!("{lookup}?{question}")
    }
}

/// The trail in a page's query: each step's lookup and question (its `p.` values as a query).
/// Steps that do not read as one are left out: the address is anyone's to edit.
pub fn trail(query: &str) -> Vec<(usize, String)> {
    pairs(query)
        .filter(|(k, _)| k == "trail")
        .filter_map(|(_, v)| {
            let (lookup, question) = v.split_once('?').unwrap_or((&v, ""));
            let question: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs(question).filter(|(k, _)| k.starts_with("p.")))
                .finish();
            Some((lookup.parse().ok()?, question))
        })
        .take(MAX_TRAIL)
        .collect()
}

/// The address of the trail's step `at`: its lookup and question, with the steps before it as
/// its own trail.
pub fn step_address(steps: &[(usize, String)], at: usize) -> String {
    let (lookup, question) = &steps[at.min(steps.len().saturating_sub(1))];
    let mut query = form_urlencoded::Serializer::new(question.clone());
    for (before, q) in &steps[..at.min(steps.len())] {
        query.append_pair("trail", &step(*before, q));
    }
    let query = query.finish();
    if query.is_empty() {
        format!("/lookups/{lookup}")
    } else {
        format!("/lookups/{lookup}?{query}")
    }
}

/// A step's question in a few words: `item_id = ITM-1`.
pub fn question_words(question: &str) -> String {
    pairs(question)
        .filter_map(|(k, v)| Some(format!("{} = {v}", k.strip_prefix("p.")?)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn followed(lookup: usize, parameter: &str, value: &str) -> Followed {
        Followed {
            lookup,
            parameter: parameter.into(),
            value: value.into(),
        }
    }

    #[test]
    fn a_link_opens_its_lookup_with_the_value_and_the_trail_grows_by_this_page() {
        let first = follow(&followed(8, "item_id", "ITM 1&2"), 2, "?sort=lot_no&sel=L-1");
        assert_eq!(first, "/lookups/8?p.item_id=ITM+1%262&trail=2");
        let query = first.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let second = follow(&followed(9, "lot_no", "L26-1"), 8, query);
        assert_eq!(
            second,
            "/lookups/9?p.lot_no=L26-1&trail=2&trail=8%3Fp.item_id%3DITM%2B1%25262"
        );
        let steps = trail(second.split_once('?').map(|(_, q)| q).unwrap_or_default());
        assert_eq!(steps, [(2, String::new()), (8, "p.item_id=ITM+1%262".to_owned())]);
        assert_eq!(question_words(&steps[1].1), "item_id = ITM 1&2");
        assert_eq!(step_address(&steps, 0), "/lookups/2");
        assert_eq!(step_address(&steps, 1), "/lookups/8?p.item_id=ITM+1%262&trail=2");
    }

    #[test]
    fn a_trail_keeps_its_last_steps_and_ignores_what_is_not_one() {
        let mut query = String::new();
        for n in 0..12 {
            let next = follow(&followed(n + 1, "x", "1"), n, &query);
            query = next
                .split_once('?')
                .map(|(_, q)| q.to_owned())
                .unwrap_or_default();
        }
        let steps = trail(&query);
        assert_eq!(steps.len(), MAX_TRAIL);
        assert_eq!(steps.last().map(|s| s.0), Some(11));
        assert_eq!(
            trail("trail=x&trail=3%3Fsel%3Da%26p.q%3D1&trail=-1"),
            [(3, "p.q=1".to_owned())],
            "only lookups and their questions"
        );
    }

    #[test]
    fn links_resolve_to_lookups_by_name_and_columns_by_any_case() {
        let lookups: Vec<LookupDefinition> = serde_json::from_value(serde_json::json!([
            { "name": "Lots", "web_api": "MES", "endpoint": "v3/lot" },
            { "name": "Lots of an item", "web_api": "MES", "endpoint": "v3/lot/filter" }
        ]))
        .expect("lookups");
        let links: Vec<LinkDefinition> = serde_json::from_value(serde_json::json!([
            { "column": "item_id", "lookup": "Lots of an item", "parameter": "item_id" },
            { "column": "x", "lookup": "Nowhere", "parameter": "x" }
        ]))
        .expect("links");
        let cells = resolve(&links, &lookups);
        assert_eq!(cells.len(), 1);
        assert_eq!(for_column(&cells, "ITEM_ID").map(|l| l.lookup), Some(1));
        assert!(for_column(&cells, "lot_no").is_none());
        assert_eq!(
            super::followed(&cells, "item_id", "ITM-1"),
            Some((
                Followed {
                    lookup: 1,
                    parameter: "item_id".into(),
                    value: "ITM-1".into()
                },
                "Lots of an item".into()
            ))
        );
        assert_eq!(
            super::followed(&cells, "item_id", ""),
            None,
            "an empty cell leads nowhere"
        );
    }
}
