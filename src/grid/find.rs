//! The grid answering a find (a scanned code, or the address's `find`): once every row is in,
//! the rows holding the value are selected and the first is shown, or the notice says none does.

use super::rows_grid::Grid;
use crate::grid_model::GridData;
use crate::grid_model::find::{Find, Found};
use crate::words::{GridWord, count, fill};
use leptos::prelude::*;
use mes_client::SelectionMode;

impl Grid {
    /// Answers each find put into `find` (if the grid has one), once every row is in. A filter that could hide the
    /// row is cleared first (the find waits for the new order); then the rows holding the value
    /// are selected (the first alone in single selection), the first becomes the keyboard's row
    /// in view and is picked (the portal's page shows its detail), the embedder is told — or
    /// the notice says that the rows do not hold it, or have no such column.
    pub(super) fn follow_finds(self, find: Option<RwSignal<Option<Find>>>) {
        let Some(find) = find else { return };
        Effect::new(move |_| {
            self.order.track();
            let complete = self.data.with(GridData::is_complete);
            let Some(asked) = find.get().filter(|_| complete) else {
                return;
            };
            if self.clear_filters() {
                return;
            }
            find.set(None);
            let found = self.data.with_untracked(|d| asked.in_rows(d));
            let notice = match found {
                Found::Rows(rows) => {
                    self.select_found(&rows);
                    fill(
                        GridWord::FindFound,
                        &[("value", &asked.value), ("column", &asked.column)],
                    )
                }
                Found::Missing(rows) => {
                    let word = match self.data.with_untracked(GridData::cut) {
                        Some(_) => GridWord::FindMissingCut,
                        None => GridWord::FindMissing,
                    };
                    fill(
                        word,
                        &[
                            ("value", &asked.value),
                            ("column", &asked.column),
                            ("rows", &count(rows)),
                        ],
                    )
                }
                Found::NoColumn => fill(
                    GridWord::FindNoColumn,
                    &[("value", &asked.value), ("column", &asked.column)],
                ),
            };
            self.notice.set(notice);
        });
    }

    /// Empties the quick filter and the column filters; whether any held text.
    fn clear_filters(self) -> bool {
        let quick = !self.filter.with_untracked(String::is_empty);
        let columns = self
            .column_filters
            .with_untracked(|f| f.iter().any(|t| !t.is_empty()));
        if quick {
            self.filter.set(String::new());
        }
        if columns {
            self.column_filters
                .update(|f| f.iter_mut().for_each(String::clear));
        }
        quick || columns
    }

    fn select_found(self, rows: &[u32]) {
        let chosen: Vec<u32> = match self.mode {
            SelectionMode::Multi => rows.to_vec(),
            _ => rows[..1].to_vec(),
        };
        self.selected.set(chosen.iter().copied().collect());
        self.emit();
        let first = chosen[0];
        if let Some(pos) = self.order.with_untracked(|o| o.iter().position(|&r| r == first)) {
            self.move_to_row(pos);
            // The rows' spacers take their new height in this frame's render: scrolled before,
            // the viewport would be too short and stay at the top.
            request_animation_frame(move || self.scroll_to(pos));
        }
        if let Some(on_pick) = self.on_pick {
            on_pick.run(first);
        }
    }
}
