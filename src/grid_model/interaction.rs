//! A grid's arithmetic, free of the DOM: which rows to render for a scroll position, where a key
//! moves the active row or column, how a pick changes the selection, how far to scroll to show a
//! row, and the status line.

use crate::words::{GridWord, count, fill};
use mes_client::SelectionMode;
use std::collections::BTreeSet;

/// Height of one compact row in pixels; must match `--row` in portal.css.
pub const ROW_HEIGHT: f64 = 34.0;

/// How tall a grid's rows are: compact for a mouse, comfortable for fingers and gloves (each row
/// a target of at least 44 px). Kept in the address (`density=comfortable`) like the sort.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Density {
    #[default]
    Compact,
    Comfortable,
}

impl Density {
    /// A row's height in pixels; must match `--row` in portal.css for this density.
    pub fn row_height(self) -> f64 {
        match self {
            Density::Compact => ROW_HEIGHT,
            Density::Comfortable => 48.0,
        }
    }
}
/// Rows rendered beyond the visible ones, above and below.
pub const BUFFER_ROWS: usize = 8;
/// Rows above the body that stay in view: the labels and the column filters.
const HEADER_ROWS: f64 = 2.0;

/// The positions `first..last` (in view order) to render for a viewport scrolled to
/// `scroll_top` and `height` pixels high, over `rows` rows `row` pixels high: the visible ones
/// and a buffer.
pub fn row_window(scroll_top: f64, height: f64, rows: usize, row: f64) -> (usize, usize) {
    let first = ((scroll_top.max(0.0) / row) as usize)
        .saturating_sub(BUFFER_ROWS)
        .min(rows);
    let count = (height.max(0.0) / row).ceil() as usize + 2 * BUFFER_ROWS;
    (first, (first + count).min(rows))
}

/// The scroll position that shows the row at `pos` (`None`: it shows already), for a viewport
/// `height` pixels high scrolled to `scroll_top`, rows `row` pixels high; the sticky header rows
/// hide the top.
pub fn scroll_to_show(pos: usize, scroll_top: f64, height: f64, row: f64) -> Option<f64> {
    let top = pos as f64 * row;
    let header = HEADER_ROWS * row;
    if top < scroll_top {
        Some(top)
    } else if top + 2.0 * row > scroll_top + height - header {
        Some(top + 2.0 * row - height + header)
    } else {
        None
    }
}

/// The tallest a grid's scrolling area is made, in pixels. Browsers cap an element's height
/// (Chromium at about 33.5 million pixels, Firefox at about 17.9 million): a million rows of
/// 34 px would be cut off. Past this height a pixel of scrolling moves more than a pixel of rows.
pub const MAX_SCROLL_HEIGHT: f64 = 15_000_000.0;

/// The rows' scrolling area: `rows` rows `row` pixels high in a viewport `height` pixels high.
/// Up to [`MAX_SCROLL_HEIGHT`] a pixel scrolled is a pixel of rows; beyond it the area keeps
/// that height and each scroll position skips whole rows (none is ever cut), so the first row
/// shows at the top and the last at the bottom.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowsArea {
    /// How many rows.
    pub rows: usize,
    /// A row's height, pixels.
    pub row: f64,
    /// The viewport's height in view, pixels (the rows rendered fill it).
    pub height: f64,
    /// The viewport's whole height, pixels (the area scrolls this much less than it is high).
    pub viewport: f64,
}

/// What to render for one scroll position: positions `first..last`, and the spacers' heights
/// above and below them (whole pixels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowsWindow {
    /// The first position rendered.
    pub first: usize,
    /// One past the last position rendered.
    pub last: usize,
    /// The spacer above the rendered rows.
    pub above: u64,
    /// The spacer below them.
    pub below: u64,
}

impl RowsArea {
    fn rows_height(self) -> f64 {
        self.rows as f64 * self.row
    }

    /// The scrolling area's height.
    pub fn scroll_height(self) -> f64 {
        self.rows_height().min(MAX_SCROLL_HEIGHT)
    }

    /// Pixels of rows passed per pixel scrolled, beyond the one (0 when the rows fit).
    fn stretch(self) -> f64 {
        let (rows, area) = (self.rows_height(), self.scroll_height());
        if rows <= area || area <= self.viewport {
            0.0
        } else {
            (rows - area) / (area - self.viewport)
        }
    }

    /// Rows skipped at `scroll_top`: the rows at the top of the area are this many further on.
    fn skipped(self, scroll_top: f64) -> usize {
        ((self.stretch() * scroll_top.max(0.0) / self.row).ceil() as usize).min(self.rows)
    }

    /// Where in the rows (pixels from the first row) the viewport's top is at `scroll_top`.
    pub fn rows_top(self, scroll_top: f64) -> f64 {
        scroll_top.max(0.0) + self.skipped(scroll_top) as f64 * self.row
    }

    /// The rows to render at `scroll_top` and the spacers around them.
    pub fn window(self, scroll_top: f64) -> RowsWindow {
        let skipped = self.skipped(scroll_top);
        let (first, last) = row_window(self.rows_top(scroll_top), self.height, self.rows, self.row);
        // The buffer above stops at the skipped rows: they have no place in the area.
        let first = first.max(skipped).min(last);
        let above = (first - skipped) as f64 * self.row;
        let rendered = (last - first) as f64 * self.row;
        RowsWindow {
            first,
            last,
            above: above as u64,
            below: (self.scroll_height() - above - rendered).max(0.0) as u64,
        }
    }

    /// The scroll position that shows the row at `pos` below the sticky header rows (`None`: it
    /// shows already).
    pub fn scroll_to_show(self, pos: usize, scroll_top: f64) -> Option<f64> {
        let target = scroll_to_show(pos, self.rows_top(scroll_top), self.height, self.row)?;
        let per_pixel = 1.0 + self.stretch();
        if per_pixel == 1.0 {
            return Some(target);
        }
        // Rows skip in whole rows: up, land a row early; down, a little late.
        Some(if target < self.rows_top(scroll_top) {
            ((target - self.row) / per_pixel).floor().max(0.0)
        } else {
            (target / per_pixel).ceil()
        })
    }
}

/// What a key does in the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    /// Make the row at this position active (leaving the header row).
    Row(usize),
    /// Make the next shown column right (`true`) or left active, the row staying (or row 0).
    Column(bool),
    /// Copy the active cell.
    Copy,
    /// Copy the selected rows (or, with none selected, every shown row) with their headers.
    CopyRows,
    /// Select or unselect the active row.
    Pick,
    /// Clear the selection.
    Clear,
    /// Widen (or, negative, narrow) the active column by this many pixels.
    Resize(i32),
    /// Move up into the header row (from the first row).
    Header,
    /// Sort by the active column (in the header row); `true` adds it to the sort keys.
    Sort(bool),
    /// Into the active column's filter (below the header row): its text box takes the keys.
    Filter,
}

/// Pixels one Alt+←/→ changes a column's width by.
pub const RESIZE_STEP: i32 = 16;

/// Where a key is pressed: the modifiers held and the grid's keyboard position.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyContext {
    /// Ctrl or ⌘.
    pub command: bool,
    /// Alt or Option.
    pub alt: bool,
    /// Shift.
    pub shift: bool,
    /// The position is in the header row (the column headers), not a body row.
    pub header: bool,
    /// The active row, if any.
    pub current: Option<usize>,
    /// Rows shown.
    pub rows: usize,
    /// Rows per screen.
    pub page: usize,
}

/// The action for `key` (as `KeyboardEvent.key` names it) in `at`. The grid is one Tab stop
/// with the WAI-ARIA grid pattern inside: arrows move between cells and up into the header row,
/// where Enter or Space sorts by that column (Shift adds it) and ↓ goes into the column's filter
/// (see [`filter_key`]); Alt+←/→ changes the active column's width (the resize handles are for
/// pointers only). With no rows (a filter matched none), ↑ still reaches the header row.
pub fn key_action(key: &str, at: &KeyContext) -> Option<KeyAction> {
    match key {
        "ArrowLeft" if at.alt => return Some(KeyAction::Resize(-RESIZE_STEP)),
        "ArrowRight" if at.alt => return Some(KeyAction::Resize(RESIZE_STEP)),
        _ => {}
    }
    if at.header {
        return match key {
            "Enter" | " " => Some(KeyAction::Sort(at.shift)),
            "ArrowDown" => Some(KeyAction::Filter),
            "ArrowLeft" => Some(KeyAction::Column(false)),
            "ArrowRight" => Some(KeyAction::Column(true)),
            "Escape" => Some(KeyAction::Clear),
            _ => None,
        };
    }
    if at.rows == 0 {
        return (key == "ArrowUp").then_some(KeyAction::Header);
    }
    let last = at.rows - 1;
    let page = at.page.max(1);
    let current = at.current;
    Some(match key {
        "ArrowDown" => KeyAction::Row(current.map_or(0, |a| (a + 1).min(last))),
        "ArrowUp" if current == Some(0) => KeyAction::Header,
        "ArrowUp" => KeyAction::Row(current.map_or(0, |a| a.saturating_sub(1))),
        "PageDown" => KeyAction::Row(current.map_or(0, |a| (a + page).min(last))),
        "PageUp" => KeyAction::Row(current.map_or(0, |a| a.saturating_sub(page))),
        "Home" => KeyAction::Row(0),
        "End" => KeyAction::Row(last),
        "ArrowLeft" => KeyAction::Column(false),
        "ArrowRight" => KeyAction::Column(true),
        "Escape" => KeyAction::Clear,
        "c" | "C" if at.command && at.shift => KeyAction::CopyRows,
        "c" | "C" if at.command => KeyAction::Copy,
        "Enter" | " " if current.is_some() => KeyAction::Pick,
        _ => return None,
    })
}

/// The action for `key` typed into a column's filter: ↓ or Enter goes on to the first row (when
/// there is one), ↑ or Escape back to the header row; every other key is the text box's.
pub fn filter_key(key: &str, rows: usize) -> Option<KeyAction> {
    match key {
        "ArrowDown" | "Enter" if rows > 0 => Some(KeyAction::Row(0)),
        "ArrowUp" | "Escape" => Some(KeyAction::Header),
        _ => None,
    }
}

/// Rows per PageUp/PageDown for a viewport `height` pixels high, rows `row` pixels high: a
/// screen less two rows.
pub fn page_rows(height: f64, row: f64) -> usize {
    ((height / row) as usize).saturating_sub(2).max(1)
}

/// The next shown column right (or left) of `from` among `count`, skipping hidden ones; `from`
/// when there is none.
pub fn step_column(from: usize, right: bool, count: usize, hidden: &BTreeSet<usize>) -> usize {
    let shown = |c: &usize| !hidden.contains(c);
    let next = if right {
        (from + 1..count).find(shown)
    } else {
        (0..from.min(count)).rev().find(shown)
    };
    next.unwrap_or(from)
}

/// The rows a grid's action is about (copy rows, totals): the selected ones in their shown
/// order, or with none selected every shown row.
pub fn chosen_rows(order: &[u32], selected: &BTreeSet<u32>) -> Vec<u32> {
    if selected.is_empty() {
        order.to_vec()
    } else {
        order.iter().copied().filter(|r| selected.contains(r)).collect()
    }
}

/// The selection after picking `row`: single selection keeps at most that row (a second pick
/// clears it), multi selection toggles it.
pub fn pick(selected: &mut BTreeSet<u32>, row: u32, mode: SelectionMode) {
    match mode {
        SelectionMode::Single => {
            let was = selected.contains(&row);
            selected.clear();
            if !was {
                selected.insert(row);
            }
        }
        SelectionMode::Multi => {
            if !selected.remove(&row) {
                selected.insert(row);
            }
        }
    }
}

/// How much of the answer is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrived {
    /// Rows are still arriving.
    SoFar,
    /// Every row the MES has.
    Whole,
    /// The first rows only: the MES had more than were asked for.
    Cut,
}

/// The grid's status line: how many rows, how many match, whether more are coming or the list
/// is cut, how many are selected.
pub fn status_line(shown: usize, total: usize, arrived: Arrived, selected: usize) -> String {
    let (shown, total) = (count(shown), count(total));
    let numbers = [("shown", shown.as_str()), ("rows", total.as_str())];
    let rows = match (arrived, shown == total) {
        (Arrived::SoFar, true) => fill(GridWord::RowsSoFar, &numbers),
        (Arrived::SoFar, false) => fill(GridWord::RowsSoFarMatch, &numbers),
        (Arrived::Whole, true) => fill(GridWord::RowsTotal, &numbers),
        (Arrived::Whole, false) => fill(GridWord::RowsMatch, &numbers),
        (Arrived::Cut, true) => fill(GridWord::RowsCut, &numbers),
        (Arrived::Cut, false) => fill(GridWord::RowsCutMatch, &numbers),
    };
    if selected > 0 {
        fill(
            GridWord::RowsSelected,
            &[("rows", &rows), ("selected", &count(selected))],
        )
    } else {
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_is_about_the_selected_rows_in_shown_order_or_all_shown() {
        let order = [5, 2, 9];
        assert_eq!(chosen_rows(&order, &BTreeSet::new()), [5, 2, 9]);
        assert_eq!(
            chosen_rows(&order, &BTreeSet::from([9, 5, 7])),
            [5, 9],
            "shown order; a hidden row left out"
        );
    }

    #[test]
    fn the_window_is_the_visible_rows_and_a_buffer_never_past_the_ends() {
        assert_eq!(
            row_window(0.0, 340.0, 100_000, ROW_HEIGHT),
            (0, 10 + 2 * BUFFER_ROWS)
        );
        assert_eq!(
            row_window(34.0 * 50_000.0, 340.0, 100_000, ROW_HEIGHT),
            (50_000 - BUFFER_ROWS, 50_000 + 10 + BUFFER_ROWS)
        );
        assert_eq!(
            row_window(34.0 * 99_999.0, 340.0, 100_000, ROW_HEIGHT),
            (99_999 - BUFFER_ROWS, 100_000)
        );
        assert_eq!(
            row_window(1e12, 340.0, 5, ROW_HEIGHT),
            (5, 5),
            "scrolled past the end (rows went away): nothing, no panic"
        );
        assert_eq!(row_window(-50.0, -1.0, 5, ROW_HEIGHT), (0, 5));
        assert_eq!(row_window(0.0, 340.0, 0, ROW_HEIGHT), (0, 0));
    }

    #[test]
    fn a_million_rows_fit_the_browsers_height_cap_and_every_row_can_be_reached() {
        let area = RowsArea {
            rows: 1_000_000,
            row: ROW_HEIGHT,
            height: 340.0,
            viewport: 340.0,
        };
        assert_eq!(area.scroll_height(), MAX_SCROLL_HEIGHT);
        let bottom = MAX_SCROLL_HEIGHT - 340.0;
        let end = area.window(bottom);
        assert_eq!(end.last, 1_000_000, "the last row renders at the bottom");
        // The last row ends within a row of the area's bottom edge, and is not cut off there.
        let end_px = end.above as f64 + (end.last - end.first) as f64 * ROW_HEIGHT;
        assert!(
            (MAX_SCROLL_HEIGHT - ROW_HEIGHT..=MAX_SCROLL_HEIGHT).contains(&end_px),
            "{end_px}"
        );
        let start = area.window(0.0);
        assert_eq!((start.first, start.above), (0, 0));
        // In the middle, the rows in view are the middle rows, and scrolling a little moves on.
        let middle = area.window(bottom / 2.0);
        assert!((middle.first as i64 - 500_000).abs() < 50, "{middle:?}");
        assert!(area.window(bottom / 2.0 + 34.0).first > middle.first);
        // Every scroll position keeps the area its height, and no spacer goes negative.
        for top in [
            0.0,
            1.0,
            33.0,
            35.0,
            1000.0,
            bottom / 3.0,
            bottom - 1.0,
            bottom,
            bottom + 500.0,
        ] {
            let w = area.window(top);
            assert!(w.first <= w.last && w.last <= 1_000_000, "{top}: {w:?}");
            let visible = area.rows_top(top);
            assert!(
                (w.first as f64) * ROW_HEIGHT <= visible.max(0.0) + 1.0,
                "{top}: the rows in view are rendered ({w:?}, {visible})"
            );
        }
        // Keyboard moves reach any row, up and down, and show it.
        for pos in [999_999, 0, 500_000, 123_457, 999_990] {
            let mut top = 0.0;
            if let Some(t) = area.scroll_to_show(pos, top) {
                top = t;
            }
            let w = area.window(top);
            assert!((w.first..w.last).contains(&pos), "{pos} at {top}: {w:?}");
            assert_eq!(area.scroll_to_show(pos, top), None, "{pos} shows now");
        }
        let up = area.scroll_to_show(10, bottom).expect("scrolls up");
        assert!(area.rows_top(up) <= 10.0 * ROW_HEIGHT);
    }

    #[test]
    fn rows_that_fit_scroll_pixel_for_pixel() {
        let area = RowsArea {
            rows: 100_000,
            row: ROW_HEIGHT,
            height: 340.0,
            viewport: 340.0,
        };
        assert_eq!(area.scroll_height(), 3_400_000.0);
        let w = area.window(34.0 * 50_000.0);
        assert_eq!(
            (w.first, w.last),
            (50_000 - BUFFER_ROWS, 50_000 + 10 + BUFFER_ROWS)
        );
        assert_eq!(w.above, (34 * (50_000 - BUFFER_ROWS)) as u64);
        assert_eq!(w.below, 34 * (100_000 - 50_000 - 10 - BUFFER_ROWS) as u64);
        assert_eq!(
            area.scroll_to_show(7, 0.0),
            scroll_to_show(7, 0.0, 340.0, ROW_HEIGHT)
        );
    }

    #[test]
    fn scrolling_to_a_row_shows_it_below_the_header() {
        assert_eq!(scroll_to_show(0, 0.0, 340.0, ROW_HEIGHT), None);
        assert_eq!(
            scroll_to_show(3, 340.0, 340.0, ROW_HEIGHT),
            Some(102.0),
            "above: scroll up to it"
        );
        assert_eq!(
            scroll_to_show(7, 0.0, 340.0, ROW_HEIGHT),
            Some(34.0 * 7.0 + 68.0 - 340.0 + 68.0),
            "below: just into view"
        );
        assert_eq!(scroll_to_show(5, 0.0, 340.0, ROW_HEIGHT), None);
        assert_eq!(
            scroll_to_show(6, 0.0, 340.0, ROW_HEIGHT),
            None,
            "exactly fits above the bottom edge"
        );
        assert_eq!(
            scroll_to_show(7, 10.0, 340.0, ROW_HEIGHT),
            Some(34.0),
            "two rows of room below it, not one"
        );
    }

    #[test]
    fn keys_move_within_the_rows_and_up_into_the_header() {
        let body = |current: Option<usize>| KeyContext {
            current,
            rows: 100,
            page: 10,
            ..KeyContext::default()
        };
        let key = |k: &str, current: Option<usize>| key_action(k, &body(current));
        assert_eq!(key("ArrowDown", None), Some(KeyAction::Row(0)));
        assert_eq!(key("ArrowDown", Some(99)), Some(KeyAction::Row(99)));
        assert_eq!(key("ArrowDown", Some(5)), Some(KeyAction::Row(6)));
        assert_eq!(key("ArrowUp", Some(5)), Some(KeyAction::Row(4)));
        assert_eq!(key("PageDown", Some(5)), Some(KeyAction::Row(15)));
        assert_eq!(key("PageUp", Some(50)), Some(KeyAction::Row(40)));
        assert_eq!(key("Home", Some(5)), Some(KeyAction::Row(0)));
        assert_eq!(key("ArrowLeft", Some(5)), Some(KeyAction::Column(false)));
        assert_eq!(key("ArrowRight", None), Some(KeyAction::Column(true)));
        assert_eq!(key("x", Some(5)), None);
        assert_eq!(
            key("ArrowUp", Some(0)),
            Some(KeyAction::Header),
            "up from the first row is the header row"
        );
        assert_eq!(key("ArrowUp", None), Some(KeyAction::Row(0)));
        assert_eq!(key("PageDown", Some(95)), Some(KeyAction::Row(99)));
        assert_eq!(key("PageUp", Some(5)), Some(KeyAction::Row(0)));
        assert_eq!(key("End", None), Some(KeyAction::Row(99)));
        assert_eq!(key("Enter", None), None, "nothing to pick without an active row");
        assert_eq!(key(" ", Some(3)), Some(KeyAction::Pick));
        assert_eq!(key("c", Some(3)), None);
        assert_eq!(
            key_action(
                "C",
                &KeyContext {
                    command: true,
                    ..body(Some(3))
                }
            ),
            Some(KeyAction::Copy)
        );
        assert_eq!(
            key_action(
                "C",
                &KeyContext {
                    command: true,
                    shift: true,
                    ..body(None)
                }
            ),
            Some(KeyAction::CopyRows),
            "Ctrl+Shift+C copies rows, with or without an active cell"
        );
        assert_eq!(key("Escape", None), Some(KeyAction::Clear));
        assert_eq!(
            key_action("ArrowDown", &KeyContext::default()),
            None,
            "no rows, no moves"
        );
        assert_eq!(
            key_action("ArrowUp", &KeyContext::default()),
            Some(KeyAction::Header),
            "but the header row (its filters) stays reachable"
        );
        assert_eq!(
            key_action("ArrowRight", &KeyContext::default()),
            None,
            "no rows, no active cell to move"
        );
        let alt = KeyContext {
            alt: true,
            ..KeyContext::default()
        };
        assert_eq!(
            key_action("ArrowLeft", &alt),
            Some(KeyAction::Resize(-16)),
            "Alt+← narrows, even with no rows"
        );
        assert_eq!(key_action("ArrowRight", &alt), Some(KeyAction::Resize(16)));

        let header = KeyContext {
            header: true,
            current: Some(0),
            rows: 100,
            page: 10,
            ..KeyContext::default()
        };
        assert_eq!(
            key_action("Enter", &header),
            Some(KeyAction::Sort(false)),
            "Enter in the header sorts"
        );
        assert_eq!(
            key_action(
                " ",
                &KeyContext {
                    shift: true,
                    ..header
                }
            ),
            Some(KeyAction::Sort(true)),
            "Shift adds a key"
        );
        assert_eq!(
            key_action("ArrowDown", &header),
            Some(KeyAction::Filter),
            "down goes into the column's filter"
        );
        assert_eq!(key_action("ArrowRight", &header), Some(KeyAction::Column(true)));
        assert_eq!(key_action("ArrowLeft", &header), Some(KeyAction::Column(false)));
        assert_eq!(
            key_action("Escape", &header),
            Some(KeyAction::Clear),
            "Escape clears the selection there too"
        );
        assert_eq!(key_action("ArrowUp", &header), None);
        assert_eq!(
            key_action(
                "C",
                &KeyContext {
                    command: true,
                    ..header
                }
            ),
            None,
            "nothing to copy in the header"
        );
        assert_eq!(
            key_action("ArrowDown", &KeyContext { rows: 0, ..header }),
            Some(KeyAction::Filter),
            "a filter that matched nothing can be changed"
        );
        assert_eq!(filter_key("ArrowDown", 5), Some(KeyAction::Row(0)));
        assert_eq!(filter_key("Enter", 5), Some(KeyAction::Row(0)));
        assert_eq!(filter_key("Enter", 0), None, "no rows: the filter keeps the keys");
        assert_eq!(
            (filter_key("ArrowUp", 5), filter_key("Escape", 0)),
            (Some(KeyAction::Header), Some(KeyAction::Header))
        );
        assert_eq!(
            (
                filter_key("ArrowLeft", 5),
                filter_key("a", 5),
                filter_key("Home", 5)
            ),
            (None, None, None),
            "the text box's own keys"
        );
        assert_eq!(page_rows(340.0, ROW_HEIGHT), 8);
        // Comfortable rows: fewer per screen, the window and the scroll in their height.
        let tall = Density::Comfortable.row_height();
        assert_eq!(page_rows(480.0, tall), 8);
        assert_eq!(row_window(tall * 100.0, 480.0, 1000, tall), (92, 118));
        assert_eq!(
            scroll_to_show(20, 0.0, 480.0, tall),
            Some(20.0 * tall + 2.0 * tall - 480.0 + 2.0 * tall)
        );
        assert_eq!(page_rows(0.0, ROW_HEIGHT), 1);
    }

    #[test]
    fn columns_step_over_hidden_ones_and_stop_at_the_edges() {
        let hidden: BTreeSet<usize> = [1, 2].into();
        assert_eq!(step_column(0, true, 5, &hidden), 3);
        assert_eq!(step_column(3, false, 5, &hidden), 0);
        assert_eq!(step_column(4, true, 5, &hidden), 4);
        assert_eq!(step_column(0, false, 5, &hidden), 0);
        assert_eq!(
            step_column(9, false, 5, &BTreeSet::new()),
            4,
            "a column index from an older shape"
        );
    }

    #[test]
    fn picks_follow_the_selection_mode() {
        let mut selected = BTreeSet::new();
        pick(&mut selected, 3, SelectionMode::Single);
        pick(&mut selected, 5, SelectionMode::Single);
        assert_eq!(selected, [5].into());
        pick(&mut selected, 5, SelectionMode::Single);
        assert!(selected.is_empty());
        pick(&mut selected, 1, SelectionMode::Multi);
        pick(&mut selected, 2, SelectionMode::Multi);
        pick(&mut selected, 1, SelectionMode::Multi);
        assert_eq!(selected, [2].into());
    }

    #[test]
    fn the_status_says_how_many_and_whether_more_come() {
        use Arrived::{Cut, SoFar, Whole};
        assert_eq!(status_line(41_000, 41_000, SoFar, 0), "41,000 rows so far…");
        assert_eq!(
            status_line(10, 41_000, SoFar, 0),
            "10 of 41,000 rows so far match…"
        );
        assert_eq!(
            status_line(100_000, 100_000, Whole, 2),
            "100,000 rows · 2 selected"
        );
        assert_eq!(status_line(0, 7, Whole, 0), "0 of 7 rows match");
        assert_eq!(status_line(999, 1_000, Whole, 0), "999 of 1,000 rows match");
        assert_eq!(
            status_line(5_000, 5_000, Cut, 0),
            "the first 5,000 rows — the MES has more"
        );
        assert_eq!(
            status_line(12, 5_000, Cut, 1),
            "12 of the first 5,000 rows match — the MES has more · 1 selected"
        );
    }
}
