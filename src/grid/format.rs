//! Cells as the person's locale writes them, by the browser's `Intl` (no locale tables in the
//! wasm): numbers with the locale's decimal mark and digits, dates and times in its order.
//! Only what is shown changes: copy, CSV and the selection event keep the MES's text
//! ([`crate::grid_model::display`]).
//!
//! Nothing is rounded or moved between zones: a number keeps its decimals (`12.50` →
//! `12,50`), one a double cannot hold exactly is shown as written, and a time is shown as the
//! MES wrote it — UTC values marked `UTC`, explicit offsets marked with them, wall-clock
//! (`*_local`) values as they are. Thousands are not grouped: identifiers such as lot and
//! work-order numbers must read exactly as the MES writes them.

use crate::grid_model::cells::{Timestamp, Zone, plain_number};
use crate::words::{GridWord, w};
use js_sys::{Array, Intl, Object, Reflect};
use mes_client::Cell;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::JsValue;

/// How a shown cell is styled (its `class`): numbers and times align right.
pub fn class_of(cell: &Cell<'_>) -> Option<&'static str> {
    match cell {
        Cell::Number(_) => Some("num"),
        Cell::Text(t) if Timestamp::parse(t).is_some() => Some("num time"),
        _ => None,
    }
}

/// The cell as shown to the person, in the portal's locale.
pub fn shown(cell: &Cell<'_>) -> String {
    shown_in(cell, crate::words::locale())
}

/// The cell as `locale` (a BCP 47 tag) writes it.
pub fn shown_in(cell: &Cell<'_>, locale: &str) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Bool(true) => w(GridWord::Yes).to_owned(),
        Cell::Bool(false) => w(GridWord::No).to_owned(),
        Cell::Number(t) => plain_number(t)
            .and_then(|(value, decimals)| number(locale, value, decimals))
            .unwrap_or_else(|| (*t).to_owned()),
        Cell::Text(t) => Timestamp::parse(t)
            .and_then(|stamp| time(locale, &stamp))
            .unwrap_or_else(|| (*t).to_owned()),
        Cell::Json(t) => (*t).to_owned(),
    }
}

/// A number with `decimals` decimals, as the portal's locale writes it (a total under the grid).
/// Should `Intl` fail, JavaScript writes it: Rust's float printing would weigh on the grid's part.
pub fn decimal(value: f64, decimals: u32) -> String {
    number(crate::words::locale(), value, decimals).unwrap_or_else(|| {
        js_sys::Number::from(value)
            .to_string_with_radix(10)
            .map(String::from)
            .unwrap_or_default()
    })
}

/// Formatters made once per shape and reused (making one costs far more than using it), for
/// one locale at a time.
#[derive(Default)]
struct Formatters {
    locale: String,
    numbers: HashMap<u32, Intl::NumberFormat>,
    times: HashMap<(bool, u32), Intl::DateTimeFormat>,
}

impl Formatters {
    fn for_locale(&mut self, locale: &str) -> &mut Self {
        if self.locale != locale {
            *self = Self {
                locale: locale.to_owned(),
                ..Self::default()
            };
        }
        self
    }
}

thread_local! {
    static FORMATTERS: RefCell<Formatters> = RefCell::default();
}

fn options(pairs: &[(&str, JsValue)]) -> Object {
    let options = Object::new();
    for (key, value) in pairs {
        let _ = Reflect::set(&options, &JsValue::from_str(key), value);
    }
    options
}

fn locales(locale: &str) -> Array {
    Array::of1(&JsValue::from_str(locale))
}

fn number(locale: &str, value: f64, decimals: u32) -> Option<String> {
    FORMATTERS.with_borrow_mut(|f| {
        let format = f.for_locale(locale).numbers.entry(decimals).or_insert_with(|| {
            let digits = JsValue::from_f64(f64::from(decimals));
            Intl::NumberFormat::new(
                &locales(locale),
                &options(&[
                    ("useGrouping", JsValue::FALSE),
                    ("minimumFractionDigits", digits.clone()),
                    ("maximumFractionDigits", digits),
                ]),
            )
        });
        format
            .format()
            .call1(format, &JsValue::from_f64(value))
            .ok()?
            .as_string()
    })
}

fn time(locale: &str, stamp: &Timestamp) -> Option<String> {
    let with_time = stamp.time.is_some();
    let fraction = stamp.fraction_digits.min(3);
    let text = FORMATTERS.with_borrow_mut(|f| {
        let format = f
            .for_locale(locale)
            .times
            .entry((with_time, fraction))
            .or_insert_with(|| {
                let two = || JsValue::from_str("2-digit");
                let mut pairs = vec![
                    ("timeZone", JsValue::from_str("UTC")),
                    ("year", "numeric".into()),
                    ("month", two()),
                    ("day", two()),
                ];
                if with_time {
                    pairs.extend([("hour", two()), ("minute", two()), ("second", two())]);
                    if fraction > 0 {
                        pairs.push(("fractionalSecondDigits", JsValue::from_f64(f64::from(fraction))));
                    }
                }
                Intl::DateTimeFormat::new(&locales(locale), &options(&pairs))
            });
        let date = js_sys::Date::new(&JsValue::from_f64(stamp.wall_clock_millis()));
        format.format().call1(format, &date).ok()?.as_string()
    })?;
    Some(match stamp.zone {
        Zone::Wall => text,
        Zone::Utc => format!("{text} UTC"),
        Zone::Offset(minutes) => {
            let sign = if minutes < 0 { '-' } else { '+' };
            let minutes = minutes.unsigned_abs();
            format!("{text} UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        }
    })
}
