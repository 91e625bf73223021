//! The grid's keyboard: what a key means is decided by `grid_model::interaction` (pure, unit
//! tested); this file carries it out on the grid's signals and elements.

use super::browser::{column_width, filter_input};
use super::header::MIN_COLUMN_WIDTH;
use super::rows_grid::Grid;
use crate::grid_model::interaction::{KeyAction, KeyContext, filter_key, key_action, page_rows, step_column};
use crate::grid_model::toggle_sort;
use crate::words::{GridWord, fill};
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use std::collections::BTreeSet;

impl Grid {
    /// A key pressed anywhere in the grid's table: in a column filter box, or on the grid.
    pub(super) fn on_key(self, ev: KeyboardEvent) {
        use wasm_bindgen::JsCast;
        if ev
            .target()
            .is_some_and(|t| t.dyn_ref::<web_sys::HtmlInputElement>().is_some())
        {
            return self.on_filter_key(&ev);
        }
        let current = self.active.get_untracked();
        let header = self.in_header.get_untracked();
        let at = KeyContext {
            command: ev.ctrl_key() || ev.meta_key(),
            alt: ev.alt_key(),
            shift: ev.shift_key(),
            header,
            current,
            rows: self.shown_rows(),
            page: page_rows(
                self.viewport_height.get_untracked(),
                self.density.get_untracked().row_height(),
            ),
        };
        if let Some(action) = key_action(&ev.key(), &at) {
            ev.prevent_default();
            // Enter on a cell that links follows it (the grid pattern's "activate"); Space picks.
            if action == KeyAction::Pick && ev.key() == "Enter" && !header && self.follow_active() {
                return;
            }
            self.carry_out(action, current, header);
        }
    }

    /// Keys typed into a column filter are its text, but for the ones that leave it: to the first
    /// row, or back to the header.
    fn on_filter_key(self, ev: &KeyboardEvent) {
        let Some(action) = filter_key(&ev.key(), self.shown_rows()) else {
            return;
        };
        ev.prevent_default();
        if let Some(table) = self.table.get_untracked() {
            let _ = table.focus();
        }
        match action {
            KeyAction::Row(pos) => self.move_to_row(pos),
            _ => self.in_header.set(true),
        }
    }

    /// Does what a key on the grid means; `current` and `header` are where the keyboard was.
    fn carry_out(self, action: KeyAction, current: Option<usize>, header: bool) {
        match action {
            KeyAction::Row(pos) => self.move_to_row(pos),
            KeyAction::Column(right) => {
                let count = self.column_count;
                let hidden = self.hidden;
                self.active_column
                    .update(|c| *c = hidden.with_untracked(|h| step_column(*c, right, count, h)));
                if !header {
                    self.move_to_row(current.unwrap_or(0));
                }
            }
            KeyAction::Header => self.in_header.set(true),
            KeyAction::Filter => {
                let input = filter_input(
                    self.table_element().as_ref(),
                    self.grid,
                    self.active_column.get_untracked(),
                );
                if let Some(input) = input {
                    let _ = input.focus();
                }
            }
            KeyAction::Sort(additive) => {
                let column = self.active_column.get_untracked();
                self.sort.update(|s| *s = toggle_sort(s, column, additive));
            }
            KeyAction::Copy => self.copy_active(),
            KeyAction::CopyRows => self.copy_rows(),
            KeyAction::Pick => {
                let row = current.and_then(|pos| self.order.with_untracked(|o| o.get(pos).copied()));
                if let Some(row) = row {
                    self.pick_row(row);
                }
            }
            KeyAction::Clear => {
                self.selected.set(BTreeSet::new());
                self.emit();
            }
            KeyAction::Resize(delta) => self.resize_active_column(delta),
        }
    }

    /// The keyboard position on a body row, scrolled into view.
    pub(super) fn move_to_row(self, pos: usize) {
        self.in_header.set(false);
        self.active.set(Some(pos));
        self.scroll_to(pos);
    }

    /// Widens or narrows the active column by `delta` pixels (never below the minimum) and says
    /// the new width.
    fn resize_active_column(self, delta: i32) {
        let column = self.active_column.get_untracked();
        let now = self
            .widths
            .with_untracked(|w| w.get(column).copied().flatten())
            .unwrap_or_else(|| column_width(self.table_element().as_ref(), self.grid, column));
        let width = (now + delta).max(MIN_COLUMN_WIDTH);
        self.widths.update(|w| {
            if let Some(slot) = w.get_mut(column) {
                *slot = Some(width);
            }
        });
        let label = self
            .data
            .with_untracked(|d| d.columns.get(column).map(|c| c.label.clone()))
            .unwrap_or_default();
        self.notice.set(fill(
            GridWord::ColumnWidth,
            &[("column", &label), ("width", &width.to_string())],
        ));
    }
}
