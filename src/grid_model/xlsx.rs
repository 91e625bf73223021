//! The shown rows as an Excel workbook (.xlsx), typed the way Excel users need them: numbers as
//! numbers (with the MES's decimals as the cell's format), yes/no as booleans, times as Excel
//! dates on the plant's wall clock, text as text (never run as a formula). The header row is
//! frozen and carries an autofilter; a second sheet says what the rows are (the lookup, its
//! question, when, how many, and whether the MES had more).
//!
//! Where a time cannot be exact in Excel — the plant's zone is not known for a value the MES
//! wrote in UTC or with an offset, more than milliseconds, a year Excel cannot hold — the
//! column is followed by one with the MES's text, so nothing is silently changed. A number a
//! double cannot hold exactly (more than 15 digits) stays text, as written.
//!
//! Built by [`rust_xlsxwriter`] (the browser loads it with the export's on-demand part);
//! tested natively, read back by a spreadsheet reader in the end-to-end tests.

use super::GridData;
use super::cells::{Timestamp, Zone, civil_from_days, plain_number};
use crate::words::{GridWord, count, fill, w};
use mes_client::Cell;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use std::collections::BTreeSet;

/// The most rows under the header on one sheet (Excel's 1,048,576 rows less the header).
pub const XLSX_MAX_ROWS: usize = 1_048_575;

/// The longest text one Excel cell holds, in characters.
const MAX_TEXT: usize = 32_767;

/// A moment as the plant's clock shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub milli: u32,
}

/// Turns a moment (milliseconds since 1970-01-01 UTC) into the plant's wall clock; `None` where
/// the plant's zone is not known (or not understood).
pub type PlantClock<'a> = &'a dyn Fn(f64) -> Option<WallClock>;

/// What the rows are: the file's title (the lookup's name) and the lines its second sheet says
/// (the question, when it was read).
pub struct About {
    pub title: String,
    pub lines: Vec<String>,
}

/// How one shown column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Each cell as its JSON type: numbers, booleans, text.
    Typed,
    /// Every cell with a value is an ISO 8601 time: Excel dates. `beside`: some cannot be exact,
    /// so the MES's text follows in a column of its own; `utc`: moments are on UTC's clock (the
    /// plant's zone is not known), said in the header.
    Time { beside: bool, utc: bool },
}

/// Where a time cell lands in Excel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placed {
    /// Its Excel date, if Excel can hold it.
    clock: Option<WallClock>,
    /// That is exactly what the MES said.
    exact: bool,
    /// A moment put on UTC's clock, the plant's zone not being known.
    on_utc: bool,
}

/// Where a time cell lands in Excel.
fn excel_time(stamp: &Timestamp, plant: PlantClock<'_>) -> Placed {
    let (hour, minute, second, milli) = stamp.time.unwrap_or_default();
    let written = WallClock {
        year: stamp.year,
        month: stamp.month,
        day: stamp.day,
        hour,
        minute,
        second,
        milli,
    };
    let (clock, mut exact, on_utc) = match stamp.zone {
        Zone::Wall => (Some(written), true, false),
        Zone::Utc | Zone::Offset(_) => {
            let offset = match stamp.zone {
                Zone::Offset(minutes) => f64::from(minutes) * 60_000.0,
                _ => 0.0,
            };
            let moment = stamp.wall_clock_millis() - offset;
            match plant(moment) {
                Some(clock) => (Some(WallClock { milli, ..clock }), true, false),
                None => (Some(utc_clock(moment, milli)), false, true),
            }
        }
    };
    exact &= stamp.fraction_digits <= 3;
    match clock {
        Some(c) if (1900..=9999).contains(&c.year) => Placed {
            clock: Some(c),
            exact,
            on_utc,
        },
        _ => Placed {
            clock: None,
            exact: false,
            on_utc: false,
        },
    }
}

/// A moment on UTC's clock (the milliseconds as written).
pub fn utc_clock(moment: f64, milli: u32) -> WallClock {
    let seconds = (moment / 1000.0).floor() as i64;
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400) as u32);
    let (year, month, day) = civil_from_days(days);
    WallClock {
        year,
        month,
        day,
        hour: rest / 3600,
        minute: rest / 60 % 60,
        second: rest % 60,
        milli,
    }
}

/// How each shown column is written: a column is a time column when it is text and every cell
/// with a value is a time.
fn plans(data: &GridData, rows: &[u32], shown: &[usize], plant: PlantClock<'_>) -> Vec<Plan> {
    shown
        .iter()
        .map(|&c| {
            let (mut times, mut beside, mut utc) = (0usize, false, false);
            for &row in rows {
                match data.raw(row as usize, c) {
                    Cell::Null => {}
                    Cell::Text("") => {}
                    Cell::Text(t) => match Timestamp::parse(t) {
                        Some(stamp) => {
                            times += 1;
                            let placed = excel_time(&stamp, plant);
                            beside |= !placed.exact;
                            utc |= placed.on_utc;
                        }
                        None => return Plan::Typed,
                    },
                    _ => return Plan::Typed,
                }
            }
            if times == 0 {
                Plan::Typed
            } else {
                Plan::Time { beside, utc }
            }
        })
        .collect()
}

/// The Excel number format for `decimals` decimals: `0`, `0.00`, … (never grouped: lot and
/// order numbers read as the MES writes them).
fn number_format(decimals: u32) -> Format {
    let pattern = match decimals {
        0 => "0".to_owned(),
        n => format!("0.{}", "0".repeat(n as usize)),
    };
    Format::new().set_num_format(pattern)
}

/// The formats a sheet writes with, made once.
struct Formats {
    header: Format,
    /// By count of decimals (0–15).
    numbers: Vec<Format>,
    date: Format,
    time: Format,
    time_millis: Format,
}

impl Formats {
    fn new() -> Self {
        Self {
            header: Format::new().set_bold(),
            numbers: (0..=15).map(number_format).collect(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            time_millis: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss.000"),
        }
    }
}

/// `text` cut to what one Excel cell holds (rarely: a JSON column of a whole record).
fn cell_text(text: &str) -> &str {
    match text.char_indices().nth(MAX_TEXT) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// Writes cells of the rows sheet, each as its column's plan says.
struct RowWriter<'a> {
    sheet: &'a mut Worksheet,
    formats: &'a Formats,
    plant: PlantClock<'a>,
}

impl RowWriter<'_> {
    fn typed(&mut self, at: (u32, u16), cell: Cell<'_>) -> Result<(), XlsxError> {
        let (row, col) = at;
        match cell {
            Cell::Null => {}
            Cell::Bool(b) => {
                self.sheet.write_boolean(row, col, b)?;
            }
            Cell::Number(t) => match plain_number(t) {
                Some((value, decimals)) => {
                    self.sheet.write_number_with_format(
                        row,
                        col,
                        value,
                        &self.formats.numbers[decimals.min(15) as usize],
                    )?;
                }
                None => {
                    self.sheet.write_string(row, col, t)?;
                }
            },
            Cell::Text(t) | Cell::Json(t) => {
                self.sheet.write_string(row, col, cell_text(t))?;
            }
        }
        Ok(())
    }

    fn time(&mut self, at: (u32, u16), text: &str) -> Result<(), XlsxError> {
        let (row, col) = at;
        let Some(stamp) = Timestamp::parse(text) else {
            return Ok(());
        };
        let Some(c) = excel_time(&stamp, self.plant).clock else {
            return Ok(());
        };
        let date = ExcelDateTime::from_ymd(c.year as u16, c.month as u8, c.day as u8)?;
        let (date, format) = match stamp.time {
            None => (date, &self.formats.date),
            Some(_) => {
                let format = if stamp.fraction_digits > 0 {
                    &self.formats.time_millis
                } else {
                    &self.formats.time
                };
                (
                    date.and_hms_milli(c.hour as u16, c.minute as u8, c.second as u8, c.milli as u16)?,
                    format,
                )
            }
        };
        self.sheet.write_datetime_with_format(row, col, &date, format)?;
        Ok(())
    }
}

/// A sheet name Excel takes: without `[]:*?/\`, at most 31 characters, not empty.
fn sheet_name(title: &str, fallback: &str) -> String {
    let name: String = title
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    let name = name.trim_matches('\'').trim();
    if name.is_empty() {
        fallback.to_owned()
    } else {
        name.to_owned()
    }
}

/// A column's width in characters: its header's and its first rows' text, within reason.
fn width(data: &GridData, rows: &[u32], column: usize, label: &str) -> f64 {
    let longest = rows
        .iter()
        .take(200)
        .map(|&r| data.cell(r as usize, column).chars().count())
        .chain(std::iter::once(label.chars().count()))
        .max()
        .unwrap_or(0);
    (longest.clamp(6, 60) + 2) as f64
}

/// The workbook of `rows` (in the order given) in the shown columns (all but `hidden`), as the
/// bytes of an .xlsx file; `plant` puts moments on the plant's clock.
pub fn workbook(
    data: &GridData,
    rows: &[u32],
    hidden: &BTreeSet<usize>,
    about: &About,
    plant: PlantClock<'_>,
) -> Result<Vec<u8>, String> {
    let written = &rows[..rows.len().min(XLSX_MAX_ROWS)];
    let shown: Vec<usize> = data.shown_columns(hidden).collect();
    let plans = plans(data, written, &shown, plant);
    let mut book = Workbook::new();
    book.set_properties(
        &DocProperties::new()
            .set_title(&about.title)
            .set_comment(about.lines.join("\n")),
    );
    let formats = Formats::new();
    let sheet = book.add_worksheet();
    rows_sheet(
        RowWriter {
            sheet,
            formats: &formats,
            plant,
        },
        data,
        (written, &shown, &plans),
        &about.title,
    )
    .map_err(|e| e.to_string())?;
    let mut lines = about.lines.clone();
    lines.push(fill(GridWord::RowsTotal, &[("rows", &count(written.len()))]));
    if written.len() < rows.len() {
        lines.push(fill(
            GridWord::XlsxFirst,
            &[("written", &count(written.len())), ("rows", &count(rows.len()))],
        ));
    }
    if let Some(limit) = data.cut() {
        lines.push(fill(GridWord::CsvCut, &[("rows", &count(limit as usize))]));
    }
    about_sheet(book.add_worksheet(), &about.title, &lines, &formats.header).map_err(|e| e.to_string())?;
    book.save_to_buffer().map_err(|e| e.to_string())
}

/// The first sheet: the header row (frozen, with the autofilter) and the rows, each column as
/// its plan says, a time column that cannot be exact followed by the MES's text.
fn rows_sheet(
    mut out: RowWriter<'_>,
    data: &GridData,
    (rows, shown, plans): (&[u32], &[usize], &[Plan]),
    title: &str,
) -> Result<(), XlsxError> {
    out.sheet
        .set_name(sheet_name(title, w(GridWord::XlsxRowsSheet)))?;
    let mut col: u16 = 0;
    for (&c, &plan) in shown.iter().zip(plans) {
        let label = &data.columns[c].label;
        let header = match plan {
            Plan::Time { utc: true, .. } if !label.ends_with("(UTC)") => {
                fill(GridWord::XlsxUtc, &[("column", label)])
            }
            _ => label.clone(),
        };
        out.sheet
            .write_string_with_format(0, col, &header, &out.formats.header)?;
        out.sheet.set_column_width(col, width(data, rows, c, &header))?;
        for (i, &row) in rows.iter().enumerate() {
            let at = (i as u32 + 1, col);
            match plan {
                Plan::Typed => out.typed(at, data.raw(row as usize, c))?,
                Plan::Time { .. } => out.time(at, data.cell(row as usize, c))?,
            }
        }
        if let Plan::Time { beside: true, .. } = plan {
            col += 1;
            let header = fill(GridWord::XlsxAsWritten, &[("column", label)]);
            out.sheet
                .write_string_with_format(0, col, &header, &out.formats.header)?;
            out.sheet.set_column_width(col, width(data, rows, c, &header))?;
            for (i, &row) in rows.iter().enumerate() {
                let text = data.cell(row as usize, c);
                if !text.is_empty() {
                    out.sheet.write_string(i as u32 + 1, col, text)?;
                }
            }
        }
        col += 1;
    }
    out.sheet.set_freeze_panes(1, 0)?;
    if col > 0 {
        out.sheet.autofilter(0, 0, rows.len() as u32, col - 1)?;
    }
    Ok(())
}

/// The second sheet: what the rows are, a line each.
fn about_sheet(sheet: &mut Worksheet, title: &str, lines: &[String], bold: &Format) -> Result<(), XlsxError> {
    sheet.set_name(w(GridWord::XlsxAboutSheet))?;
    sheet.write_string_with_format(0, 0, cell_text(title), bold)?;
    for (i, line) in lines.iter().enumerate() {
        sheet.write_string(i as u32 + 1, 0, cell_text(line))?;
    }
    sheet.set_column_width(0, 100)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mes_client::Rows;

    fn data(json: &str) -> GridData {
        GridData::new(Rows::from_json(json.as_bytes()).expect("rows"), &[], None)
    }

    fn berlin_winter(moment: f64) -> Option<WallClock> {
        Some(utc_clock(moment + 3_600_000.0, 0))
    }

    #[test]
    fn times_go_onto_the_plants_clock_or_say_they_cannot() {
        let at = |t: &str, plant: PlantClock<'_>| {
            let placed = excel_time(&Timestamp::parse(t).expect("time"), plant);
            (placed.clock, placed.exact, placed.on_utc)
        };
        let clock = |year, month, day, hour, minute, second, milli| {
            Some(WallClock {
                year,
                month,
                day,
                hour,
                minute,
                second,
                milli,
            })
        };
        // UTC and an offset, on the plant's clock (UTC+1), exactly.
        assert_eq!(
            at("2024-01-05T23:30:00Z", &berlin_winter),
            (clock(2024, 1, 6, 0, 30, 0, 0), true, false)
        );
        assert_eq!(
            at("2024-01-05T23:30:00.250+02:00", &berlin_winter),
            (clock(2024, 1, 5, 22, 30, 0, 250), true, false)
        );
        // A wall-clock value is the plant's already.
        assert_eq!(
            at("2024-01-05T23:30:00", &|_| None),
            (clock(2024, 1, 5, 23, 30, 0, 0), true, false)
        );
        // Plant zone unknown: UTC's clock, not exact.
        assert_eq!(
            at("2024-01-05T23:30:00-01:00", &|_| None),
            (clock(2024, 1, 6, 0, 30, 0, 0), false, true)
        );
        // Microseconds, and a year before Excel's calendar.
        assert!(!at("2024-01-05T23:30:00.123456", &|_| None).1);
        assert_eq!(at("1899-12-31", &|_| None), (None, false, false));
    }

    #[test]
    fn columns_are_planned_by_their_cells() {
        let d = data(
            r#"[{"n":1,"t":"2024-01-05T10:00:00Z","w":"2024-01-05T10:00:00","x":"2024-01-05","y":"L-1"},
                        {"n":2,"t":null,"w":"2024-01-06T10:00:00.5","x":"not a date","y":""}]"#,
        );
        let shown: Vec<usize> = (0..5).collect();
        let plans = plans(&d, &[0, 1], &shown, &berlin_winter);
        assert_eq!(plans[0], Plan::Typed);
        assert_eq!(
            plans[1],
            Plan::Time {
                beside: false,
                utc: false
            }
        );
        assert_eq!(
            plans[2],
            Plan::Time {
                beside: false,
                utc: false
            }
        );
        assert_eq!(plans[3], Plan::Typed, "a text among dates keeps the column text");
        assert_eq!(plans[4], Plan::Typed);
        let unknown = plans_of(&d, &|_| None);
        assert_eq!(
            unknown[1],
            Plan::Time {
                beside: true,
                utc: true
            }
        );
    }

    fn plans_of(d: &GridData, plant: PlantClock<'_>) -> Vec<Plan> {
        let rows: Vec<u32> = (0..d.len() as u32).collect();
        let shown: Vec<usize> = d.shown_columns(&BTreeSet::new()).collect();
        plans(d, &rows, &shown, plant)
    }

    #[test]
    fn sheet_names_are_ones_excel_takes() {
        assert_eq!(sheet_name("Lots [line 3]: open?", "Rows"), "Lots line 3 open");
        assert_eq!(sheet_name("'*'", "Rows"), "Rows");
        assert_eq!(sheet_name(&"x".repeat(40), "Rows").len(), 31);
    }

    #[test]
    fn a_workbook_is_a_zip_file() {
        let d = data(r#"[{"lot":"L-1","qty":12.50,"ok":true,"at":"2024-01-05T10:00:00Z"}]"#);
        let about = About {
            title: "Lots".into(),
            lines: vec!["lot_no = L-1".into()],
        };
        let bytes = workbook(&d, &[0], &BTreeSet::new(), &about, &berlin_winter).expect("workbook");
        assert_eq!(&bytes[..2], b"PK");
        assert_eq!(cell_text(&"é".repeat(40_000)).chars().count(), MAX_TEXT);
    }
}
