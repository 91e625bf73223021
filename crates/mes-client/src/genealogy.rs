//! A lot's genealogy, walked over the MES's consumption records (`item_cons`: a consumed
//! `lot_no` went into a finished `fg_lot_no`): where-used follows a lot into what it went into,
//! where-from back to what went into it, one filtered call per lot, generation by generation.
//! The MES stores the links but offers no walk; this is the walk, free of any transport: the
//! caller asks [`Walk::next_to_ask`] for the next lot, sends the call (a few at a time), and
//! hands the answer back ([`Walk::answered`], [`Walk::failed`]). Cycles (rework loops) and
//! repeats (a lot reached twice) are marked and not asked again; depth and breadth are capped,
//! and the walk says so.

use crate::rows::Rows;
use serde::Deserialize;
use std::collections::HashMap;

/// Which way the walk goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// What a lot went into, and what that went into (a recall: "which finished lots contain
    /// this raw lot").
    WhereUsed,
    /// What went into a lot, and what went into that.
    WhereFrom,
}

impl Direction {
    /// Its name in an address: `used` or `from`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::WhereUsed => "used",
            Direction::WhereFrom => "from",
        }
    }

    /// The direction an address names.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "used" => Some(Direction::WhereUsed),
            "from" => Some(Direction::WhereFrom),
            _ => None,
        }
    }
}

/// Where the consumption records are and what their columns are called (config.json's
/// `genealogy`; the defaults are the MES's `item_cons`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GenealogyDefinition {
    /// Name of the Web API definition to call.
    pub web_api: String,
    /// The consumption records' filter endpoint.
    #[serde(default = "defaults::endpoint")]
    pub endpoint: String,
    /// The consumed lot's column (and parameter).
    #[serde(default = "defaults::lot")]
    pub lot_column: String,
    /// The consumed lot's item.
    #[serde(default = "defaults::item")]
    pub item_column: String,
    /// The finished lot's column (and parameter).
    #[serde(default = "defaults::fg_lot")]
    pub fg_lot_column: String,
    /// The finished lot's item.
    #[serde(default = "defaults::fg_item")]
    pub fg_item_column: String,
    /// The work order that consumed it (shown, exported).
    #[serde(default = "defaults::wo")]
    pub wo_column: String,
    /// Generations walked at most.
    #[serde(default = "defaults::max_depth")]
    pub max_depth: u32,
    /// Lots walked at most.
    #[serde(default = "defaults::max_lots")]
    pub max_lots: usize,
}

mod defaults {
    pub fn endpoint() -> String {
        "v3/item_cons/filter".into()
    }
    pub fn lot() -> String {
        "lot_no".into()
    }
    pub fn item() -> String {
        "item_id".into()
    }
    pub fn fg_lot() -> String {
        "fg_lot_no".into()
    }
    pub fn fg_item() -> String {
        "fg_item_id".into()
    }
    pub fn wo() -> String {
        "wo_id".into()
    }
    pub fn max_depth() -> u32 {
        10
    }
    pub fn max_lots() -> usize {
        500
    }
}

impl GenealogyDefinition {
    /// The query parameter that asks for the next generation of `lot`.
    pub fn query(&self, direction: Direction, lot: &str) -> Vec<(String, String)> {
        let by = match direction {
            Direction::WhereUsed => &self.lot_column,
            Direction::WhereFrom => &self.fg_lot_column,
        };
        vec![(by.clone(), lot.to_owned())]
    }

    /// The columns of an answer that name the next generation's lot and its item.
    fn next(&self, direction: Direction) -> (&str, &str) {
        match direction {
            Direction::WhereUsed => (&self.fg_lot_column, &self.fg_item_column),
            Direction::WhereFrom => (&self.lot_column, &self.item_column),
        }
    }
}

/// Where a lot of the walk stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LotState {
    /// Its next generation is still to be asked.
    Waiting,
    /// Its next generation is being asked.
    Asking,
    /// Its next generation is in (its children; none = the end of this branch).
    Done,
    /// The call failed: this branch is missing, and why.
    Failed(String),
    /// The lot was already reached on another branch (that node): not walked again.
    Repeat(usize),
    /// The lot is one of its own ancestors (that node): a loop, not walked again.
    Cycle(usize),
    /// Past the walk's depth: not asked.
    TooDeep,
}

/// One lot of the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotNode {
    /// The lot number.
    pub lot: String,
    /// Its item, as the consumption record names it (empty for the lot the walk starts at).
    pub item: String,
    /// The work order of the record that linked it (empty for the start).
    pub work_order: String,
    /// The node it was reached from.
    pub parent: Option<usize>,
    /// Its generation: 0 for the start.
    pub generation: u32,
    /// Where it stands.
    pub state: LotState,
    /// The nodes of its next generation, in the MES's order.
    pub children: Vec<usize>,
}

/// A genealogy walk in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    /// Which way.
    pub direction: Direction,
    nodes: Vec<LotNode>,
    first_seen: HashMap<String, usize>,
    max_depth: u32,
    max_lots: usize,
    /// Lots were left out because the walk reached its most lots.
    pub truncated: bool,
}

impl Walk {
    /// A walk from `lot`, `direction`-wards, within `definition`'s limits.
    pub fn new(lot: &str, direction: Direction, definition: &GenealogyDefinition) -> Self {
        let root = LotNode {
            lot: lot.to_owned(),
            item: String::new(),
            work_order: String::new(),
            parent: None,
            generation: 0,
            state: LotState::Waiting,
            children: Vec::new(),
        };
        Self {
            direction,
            nodes: vec![root],
            first_seen: HashMap::from([(lot.to_owned(), 0)]),
            max_depth: definition.max_depth.max(1),
            max_lots: definition.max_lots.max(1),
            truncated: false,
        }
    }

    /// Every node; the first is the lot the walk starts at.
    pub fn nodes(&self) -> &[LotNode] {
        &self.nodes
    }

    /// The next lot to ask about (the earliest waiting, so generations go in order), now
    /// marked as being asked.
    pub fn next_to_ask(&mut self) -> Option<(usize, String)> {
        let node = self.nodes.iter().position(|n| n.state == LotState::Waiting)?;
        self.nodes[node].state = LotState::Asking;
        Some((node, self.nodes[node].lot.clone()))
    }

    /// `rows` answered for `node`: its next generation, each lot once, repeats and loops
    /// marked, depth and breadth within the limits.
    pub fn answered(&mut self, node: usize, rows: &Rows, definition: &GenealogyDefinition) {
        let Some(parent) = self.nodes.get(node) else {
            return;
        };
        let generation = parent.generation + 1;
        let (lot_column, item_column) = definition.next(self.direction);
        let (lots, items, work_orders) = (
            rows.column(lot_column),
            rows.column(item_column),
            rows.column(&definition.wo_column),
        );
        let text =
            |c: Option<&crate::ColumnData>, row: usize| c.map(|c| c.text(row).to_owned()).unwrap_or_default();
        let mut children: Vec<usize> = Vec::new();
        for row in 0..rows.len() {
            let lot = text(lots, row);
            if lot.is_empty() || children.iter().any(|&c| self.nodes[c].lot == lot) {
                continue;
            }
            if self.nodes.len() >= self.max_lots {
                self.truncated = true;
                break;
            }
            let state = if let Some(ancestor) = self.ancestor_named(node, &lot) {
                LotState::Cycle(ancestor)
            } else if let Some(&first) = self.first_seen.get(&lot) {
                LotState::Repeat(first)
            } else if generation > self.max_depth {
                LotState::TooDeep
            } else {
                LotState::Waiting
            };
            let index = self.nodes.len();
            self.first_seen.entry(lot.clone()).or_insert(index);
            self.nodes.push(LotNode {
                item: text(items, row),
                work_order: text(work_orders, row),
                lot,
                parent: Some(node),
                generation,
                state,
                children: Vec::new(),
            });
            children.push(index);
        }
        let parent = &mut self.nodes[node];
        parent.children = children;
        parent.state = LotState::Done;
    }

    /// The call for `node` failed: its branch is missing, and `why` says why.
    pub fn failed(&mut self, node: usize, why: String) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.state = LotState::Failed(why);
        }
    }

    /// Asks every failed branch again.
    pub fn retry_missing(&mut self) {
        for node in &mut self.nodes {
            if matches!(node.state, LotState::Failed(_)) {
                node.state = LotState::Waiting;
            }
        }
    }

    /// Nothing is waiting or being asked.
    pub fn is_finished(&self) -> bool {
        !self
            .nodes
            .iter()
            .any(|n| matches!(n.state, LotState::Waiting | LotState::Asking))
    }

    /// Branches whose call failed.
    pub fn missing(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| matches!(n.state, LotState::Failed(_)))
            .count()
    }

    /// The lots the walk reached, each once, in the order reached (the start left out): for a
    /// where-used walk from a raw lot, every lot that may contain it.
    pub fn affected(&self) -> Vec<&LotNode> {
        self.nodes
            .iter()
            .skip(1)
            .filter(|n| !matches!(n.state, LotState::Repeat(_) | LotState::Cycle(_)))
            .collect()
    }

    /// The node among `node` and its ancestors whose lot is `lot`.
    fn ancestor_named(&self, node: usize, lot: &str) -> Option<usize> {
        let mut at = Some(node);
        while let Some(i) = at {
            if self.nodes[i].lot == lot {
                return Some(i);
            }
            at = self.nodes[i].parent;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(max_depth: u32, max_lots: usize) -> GenealogyDefinition {
        let mut d: GenealogyDefinition = serde_json::from_str(r#"{"web_api":"MES"}"#).expect("defaults");
        d.max_depth = max_depth;
        d.max_lots = max_lots;
        d
    }

    /// The consumption records, as the MES answers a filter on `by`.
    fn records(by: &str, lot: &str) -> Rows {
        const CONS: &[(&str, &str)] = &[
            ("RAW-1", "MIX-1"),
            ("RAW-1", "MIX-2"),
            ("RAW-2", "MIX-1"),
            ("MIX-1", "FG-1"),
            ("MIX-1", "FG-2"),
            ("MIX-2", "FG-2"),
            ("MIX-2", "FG-2"),
            ("LOOP-A", "LOOP-B"),
            ("LOOP-B", "LOOP-A"),
        ];
        let rows: Vec<serde_json::Value> = CONS
            .iter()
            .filter(|(l, f)| if by == "lot_no" { *l == lot } else { *f == lot })
            .map(|(l, f)| serde_json::json!({"lot_no": l, "item_id": format!("I-{l}"), "fg_lot_no": f, "fg_item_id": format!("I-{f}"), "wo_id": "WO-1"}))
            .collect();
        Rows::from_json(serde_json::to_string(&rows).expect("json").as_bytes()).expect("rows")
    }

    /// Walks to the end, asking as the MES would answer.
    fn walk(lot: &str, direction: Direction, d: &GenealogyDefinition) -> Walk {
        let mut walk = Walk::new(lot, direction, d);
        while let Some((node, lot)) = walk.next_to_ask() {
            let (by, value) = d.query(direction, &lot).remove(0);
            walk.answered(node, &records(&by, &value), d);
        }
        walk
    }

    fn lots<'a>(nodes: impl IntoIterator<Item = &'a LotNode>) -> Vec<&'a str> {
        nodes.into_iter().map(|n| n.lot.as_str()).collect()
    }

    /// config.json's `{"web_api": "MES"}` is the MES's own `item_cons`, walked at most 10
    /// generations and 500 lots; a direction is named in the address and read back.
    #[test]
    fn the_defaults_are_the_mes_consumption_records_and_a_direction_reads_back() {
        let d: GenealogyDefinition = serde_json::from_str(r#"{"web_api":"MES"}"#).expect("definition");
        assert_eq!(
            (d.endpoint.as_str(), d.lot_column.as_str(), d.item_column.as_str()),
            ("v3/item_cons/filter", "lot_no", "item_id")
        );
        assert_eq!(
            (
                d.fg_lot_column.as_str(),
                d.fg_item_column.as_str(),
                d.wo_column.as_str()
            ),
            ("fg_lot_no", "fg_item_id", "wo_id")
        );
        assert_eq!((d.max_depth, d.max_lots), (10, 500));
        for direction in [Direction::WhereUsed, Direction::WhereFrom] {
            assert_eq!(Direction::from_name(direction.name()), Some(direction));
        }
        assert_eq!(
            (Direction::WhereUsed.name(), Direction::WhereFrom.name()),
            ("used", "from")
        );
        assert_eq!(Direction::from_name("Used"), None);
    }

    #[test]
    fn where_used_reaches_every_finished_lot_once_and_marks_the_repeat() {
        let d = definition(10, 500);
        let walk = walk("RAW-1", Direction::WhereUsed, &d);
        assert!(walk.is_finished() && !walk.truncated);
        assert_eq!(
            lots(walk.nodes()),
            ["RAW-1", "MIX-1", "MIX-2", "FG-1", "FG-2", "FG-2"]
        );
        assert_eq!(
            walk.nodes()[5].state,
            LotState::Repeat(4),
            "FG-2 reached again through MIX-2"
        );
        assert_eq!(lots(walk.affected()), ["MIX-1", "MIX-2", "FG-1", "FG-2"]);
        assert_eq!(walk.nodes()[3].generation, 2);
        assert_eq!(walk.nodes()[3].item, "I-FG-1");
        assert_eq!(
            walk.nodes()[2].children,
            [5],
            "two records of the same link: one child"
        );
    }

    #[test]
    fn where_from_walks_back_to_the_raw_lots() {
        let d = definition(10, 500);
        let walk = walk("FG-2", Direction::WhereFrom, &d);
        assert_eq!(lots(walk.affected()), ["MIX-1", "MIX-2", "RAW-1", "RAW-2"]);
        assert_eq!(walk.nodes()[1].item, "I-MIX-1", "the consumed lot's item");
    }

    #[test]
    fn a_loop_is_marked_and_not_walked_forever() {
        let d = definition(10, 500);
        let walk = walk("LOOP-A", Direction::WhereUsed, &d);
        assert!(walk.is_finished());
        assert_eq!(lots(walk.nodes()), ["LOOP-A", "LOOP-B", "LOOP-A"]);
        assert_eq!(walk.nodes()[2].state, LotState::Cycle(0));
        assert_eq!(lots(walk.affected()), ["LOOP-B"]);
    }

    #[test]
    fn depth_and_breadth_are_capped_and_said() {
        let shallow = walk("RAW-1", Direction::WhereUsed, &definition(1, 500));
        assert_eq!(
            shallow.nodes()[3].state,
            LotState::TooDeep,
            "the second generation is not asked"
        );
        assert!(shallow.is_finished());
        let narrow = walk("RAW-1", Direction::WhereUsed, &definition(10, 3));
        assert!(narrow.truncated);
        assert_eq!(narrow.nodes().len(), 3);
    }

    #[test]
    fn a_failed_branch_is_kept_missing_and_asked_again() {
        let d = definition(10, 500);
        let mut walk = Walk::new("RAW-1", Direction::WhereUsed, &d);
        assert!(!walk.is_finished(), "the lot itself waits to be asked");
        let (root, _) = walk.next_to_ask().expect("root");
        assert!(!walk.is_finished(), "its call is out");
        walk.answered(root, &records("lot_no", "RAW-1"), &d);
        let (first, _) = walk.next_to_ask().expect("MIX-1");
        let (second, lot) = walk.next_to_ask().expect("MIX-2");
        walk.failed(second, "the MES could not be reached".into());
        walk.answered(first, &records("lot_no", "MIX-1"), &d);
        while let Some((node, lot)) = walk.next_to_ask() {
            walk.answered(node, &records("lot_no", &lot), &d);
        }
        assert!(walk.is_finished());
        assert_eq!(walk.missing(), 1);
        assert_eq!(lots(walk.affected()), ["MIX-1", "MIX-2", "FG-1", "FG-2"]);
        walk.retry_missing();
        assert!(!walk.is_finished(), "a missing branch asked again");
        assert_eq!(walk.next_to_ask(), Some((second, lot.clone())));
        walk.answered(second, &records("lot_no", &lot), &d);
        assert_eq!(walk.missing(), 0);
        assert!(matches!(
            walk.nodes().last().map(|n| &n.state),
            Some(LotState::Repeat(_))
        ));
    }
}
