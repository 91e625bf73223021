//! The Excel export in the browser: the plant's clock from the browser's `Intl` (no zone
//! tables in the wasm), and the workbook made in the export's own on-demand part — the
//! spreadsheet writer is fetched the first time someone asks for an Excel file, never with the
//! portal. The workbook itself is [`crate::grid_model::xlsx`].

use super::browser::offer;
use super::rows_grid::Grid;
use crate::grid_model::cells::civil_millis;
use crate::grid_model::links::question_words;
use crate::grid_model::xlsx::{About, WallClock, XLSX_MAX_ROWS, utc_clock, workbook};
use crate::words::{GridWord, count, fill, w};
use js_sys::{Array, Object, Reflect};
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};

/// An .xlsx file's media type.
const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The clock of `zone` (an IANA name such as `Europe/Berlin`, or an offset such as `+01:00` —
/// what `Intl` takes), or `None` if the browser does not know the zone. Offsets are asked of
/// `Intl` once per quarter hour of time (zones change offset on the quarter hour at most).
fn plant_clock(zone: &str) -> Option<impl Fn(f64) -> Option<WallClock>> {
    let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let constructor: js_sys::Function = Reflect::get(&intl, &"DateTimeFormat".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let options = Object::new();
    for (key, value) in [
        ("timeZone", zone),
        ("hourCycle", "h23"),
        ("year", "numeric"),
        ("month", "numeric"),
        ("day", "numeric"),
        ("hour", "numeric"),
        ("minute", "numeric"),
        ("second", "numeric"),
    ] {
        Reflect::set(&options, &key.into(), &value.into()).ok()?;
    }
    // `new Intl.DateTimeFormat` throws on a zone it does not know: constructed by reflection,
    // the throw is an `Err` here rather than an exception through the wasm.
    let format: js_sys::Intl::DateTimeFormat =
        Reflect::construct(&constructor, &Array::of2(&"en-US".into(), &options))
            .ok()?
            .unchecked_into();
    let offsets = RefCell::new(HashMap::<i64, f64>::new());
    Some(move |moment: f64| {
        let quarter = (moment / 900_000.0).floor() as i64;
        let known = offsets.borrow().get(&quarter).copied();
        let offset = match known {
            Some(offset) => offset,
            None => {
                let start = quarter as f64 * 900_000.0;
                let offset = wall_millis(&format, start)? - start;
                offsets.borrow_mut().insert(quarter, offset);
                offset
            }
        };
        Some(utc_clock(moment + offset, 0))
    })
}

/// The wall clock `format` shows for the moment, as milliseconds since 1970 on that clock.
fn wall_millis(format: &js_sys::Intl::DateTimeFormat, moment: f64) -> Option<f64> {
    let parts = format.format_to_parts(&js_sys::Date::new(&JsValue::from_f64(moment)));
    let mut fields = [0i64; 6];
    for part in parts.iter() {
        let kind = Reflect::get(&part, &"type".into()).ok()?.as_string()?;
        let at = ["year", "month", "day", "hour", "minute", "second"]
            .iter()
            .position(|k| *k == kind);
        if let Some(at) = at {
            fields[at] = Reflect::get(&part, &"value".into())
                .ok()?
                .as_string()?
                .parse()
                .ok()?;
        }
    }
    let [year, month, day, hour, minute, second] = fields.map(|f| f as u32);
    Some(civil_millis(
        year as i32,
        month,
        day,
        (hour % 24, minute, second, 0),
    ))
}

impl Grid {
    /// The workbook of the shown rows in their order and the shown columns, titled `title`,
    /// times on the clock of `zone` (the Web API's); `None` when the grid is gone.
    fn workbook(self, title: &str, zone: Option<&str>) -> Option<Result<Vec<u8>, String>> {
        let clock = zone.and_then(plant_clock);
        let plant = |moment: f64| clock.as_ref().and_then(|c| c(moment));
        let when = js_sys::Date::new_0()
            .to_locale_string(crate::words::locale(), &JsValue::UNDEFINED)
            .as_string()
            .unwrap_or_default();
        let mut lines = vec![fill(GridWord::XlsxReadAt, &[("time", &when)])];
        let question = question_words(&crate::nav::query());
        if !question.is_empty() {
            lines.insert(0, question);
        }
        let about = About {
            title: title.to_owned(),
            lines,
        };
        let order = self.order.try_get_untracked()?;
        let hidden = self.hidden.try_get_untracked()?;
        self.data
            .try_with_untracked(|d| workbook(d, &order, &hidden, &about, &plant))
    }

    /// Makes the Excel file of the shown rows and offers it as `name`.xlsx; the status line says
    /// how it went (the part not loaded, the file not made, or made).
    pub(super) fn export_xlsx(self, name: String, zone: Option<String>) {
        if self.exporting.get_untracked() {
            return;
        }
        self.exporting.set(true);
        self.notice.set(w(GridWord::XlsxMaking).into());
        leptos::task::spawn_local(async move {
            let said = match workbook_of(self, name.clone(), zone).await {
                Ok(Some(Ok(bytes))) => {
                    let content = js_sys::Uint8Array::from(&bytes[..]);
                    match offer(&format!("{name}.xlsx"), &content, XLSX_TYPE) {
                        Ok(()) => fill(
                            GridWord::XlsxMade,
                            &[(
                                "rows",
                                &count(
                                    self.order
                                        .try_with_untracked(|o| o.len())
                                        .unwrap_or(0)
                                        .min(XLSX_MAX_ROWS),
                                ),
                            )],
                        ),
                        Err(why) => fill(GridWord::XlsxFailed, &[("why", &why)]),
                    }
                }
                Ok(Some(Err(why))) => fill(GridWord::XlsxFailed, &[("why", &why)]),
                Ok(None) => return,
                Err(crate::on_demand::NotLoaded) => w(GridWord::XlsxNotLoaded).into(),
            };
            let _ = self.exporting.try_set(false);
            let _ = self.notice.try_set(said);
        });
    }
}

crate::on_demand::split!(
    xlsx,
    /// The grid's workbook, made in the export's part; `None` when the grid is gone.
    pub fn workbook_of(grid: Grid, title: String, zone: Option<String>) -> Option<Result<Vec<u8>, String>> {
        grid.workbook(&title, zone.as_deref())
    }
);
