//! A genealogy walk as the person takes it away: the affected lots as CSV, each with its
//! generation, item, the lot it was reached from, the work order and what became of it.

use crate::words::{TraceWord, w};
use mes_client::csv_field;
use mes_client::genealogy::{LotState, Walk};

/// What a lot's state is called in the list and the CSV (empty for a lot walked whole).
pub fn state_word(state: &LotState) -> &'static str {
    match state {
        LotState::Waiting | LotState::Asking => w(TraceWord::StateAsking),
        LotState::Done => "",
        LotState::Failed(_) => w(TraceWord::StateMissing),
        LotState::Repeat(_) => w(TraceWord::StateRepeat),
        LotState::Cycle(_) => w(TraceWord::StateLoop),
        LotState::TooDeep => w(TraceWord::StateTooDeep),
    }
}

/// The affected lots (each once, the start left out) as CSV, a line per lot, in the order
/// reached; the MES's own texts, defused for spreadsheets (`csv_field`).
pub fn to_csv(walk: &Walk) -> String {
    let mut out = String::from("generation,lot_no,item_id,reached_from,wo_id,state\r\n");
    for node in walk.affected() {
        let from = node
            .parent
            .and_then(|p| walk.nodes().get(p))
            .map_or("", |p| p.lot.as_str());
        let generation = node.generation.to_string();
        let fields = [
            generation.as_str(),
            &node.lot,
            &node.item,
            from,
            &node.work_order,
            state_word(&node.state),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    if walk.truncated {
        out.push_str(&csv_field(w(TraceWord::CsvTruncated)));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mes_client::Rows;
    use mes_client::genealogy::{Direction, GenealogyDefinition};

    #[test]
    fn the_affected_lots_go_out_once_each_with_where_they_came_from() {
        let d: GenealogyDefinition = serde_json::from_str(r#"{"web_api":"MES"}"#).expect("definition");
        let mut walk = Walk::new("RAW-1", Direction::WhereUsed, &d);
        let (root, _) = walk.next_to_ask().expect("root");
        let rows = Rows::from_json(
            br#"[{"lot_no":"RAW-1","fg_lot_no":"=MIX-1","fg_item_id":"SAUCE","wo_id":"WO-1"},{"lot_no":"RAW-1","fg_lot_no":"RAW-1","fg_item_id":"X","wo_id":"WO-2"}]"#,
        )
        .expect("rows");
        walk.answered(root, &rows, &d);
        let (mix, _) = walk.next_to_ask().expect("mix");
        walk.failed(mix, "offline".into());
        assert_eq!(
            to_csv(&walk),
            "generation,lot_no,item_id,reached_from,wo_id,state\r\n1,'=MIX-1,SAUCE,RAW-1,WO-1,missing\r\n",
            "a formula defused, the loop back to the start left out"
        );
    }
}
