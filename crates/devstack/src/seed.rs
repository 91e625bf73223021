//! A plausible plant, generated deterministically: the same `rows` on the same day gives the same
//! data. Times run up to the day it is seeded (the last 300 days; work orders and their jobs the
//! last 30 days and the next 5), so "the last 8 hours" finds something. A fixed genealogy
//! ([`GENEALOGY`]) sits beside the generated lots, with a rework loop.

use rusqlite::{Connection, params};

/// Default number of rows in the big tables (items, lots, jobs).
pub const DEFAULT_ROWS: usize = 2_000;
#[cfg(test)]
const EPOCH_2026: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const DAY: i64 = 86_400;

/// A fixed lot genealogy, as consumption records `(consumed lot, its item, finished lot, its
/// item, work order)`: raw tomatoes, sugar, salt and jars go into two sauce bases, which go into
/// three finished lots; the tomatoes and the jars go into several. `L26-RW-A` and `L26-RW-B`
/// are a rework loop (each went into the other), as real MES data can hold.
pub const GENEALOGY: &[(&str, &str, &str, &str, &str)] = &[
    (
        "L26-RAW-TOM-01",
        "RM-TOMATO",
        "L26-MIX-0001",
        "SFG-SAUCE-BASE",
        "WO-GEN-01",
    ),
    (
        "L26-RAW-SUG-01",
        "RM-SUGAR",
        "L26-MIX-0001",
        "SFG-SAUCE-BASE",
        "WO-GEN-01",
    ),
    (
        "L26-RAW-TOM-01",
        "RM-TOMATO",
        "L26-MIX-0002",
        "SFG-SAUCE-BASE",
        "WO-GEN-02",
    ),
    (
        "L26-RAW-SALT-01",
        "RM-SALT",
        "L26-MIX-0002",
        "SFG-SAUCE-BASE",
        "WO-GEN-02",
    ),
    (
        "L26-MIX-0001",
        "SFG-SAUCE-BASE",
        "L26-FG-0001",
        "FG-SAUCE-370",
        "WO-GEN-03",
    ),
    (
        "L26-PKG-JAR-01",
        "PKG-JAR-370",
        "L26-FG-0001",
        "FG-SAUCE-370",
        "WO-GEN-03",
    ),
    (
        "L26-MIX-0001",
        "SFG-SAUCE-BASE",
        "L26-FG-0002",
        "FG-SAUCE-370",
        "WO-GEN-04",
    ),
    (
        "L26-MIX-0002",
        "SFG-SAUCE-BASE",
        "L26-FG-0002",
        "FG-SAUCE-370",
        "WO-GEN-04",
    ),
    (
        "L26-PKG-JAR-01",
        "PKG-JAR-370",
        "L26-FG-0002",
        "FG-SAUCE-370",
        "WO-GEN-04",
    ),
    (
        "L26-MIX-0002",
        "SFG-SAUCE-BASE",
        "L26-FG-0003",
        "FG-SAUCE-370",
        "WO-GEN-05",
    ),
    (
        "L26-PKG-JAR-01",
        "PKG-JAR-370",
        "L26-FG-0003",
        "FG-SAUCE-370",
        "WO-GEN-05",
    ),
    (
        "L26-RW-A",
        "SFG-SAUCE-BASE",
        "L26-RW-B",
        "SFG-SAUCE-BASE",
        "WO-GEN-06",
    ),
    (
        "L26-RW-B",
        "SFG-SAUCE-BASE",
        "L26-RW-A",
        "SFG-SAUCE-BASE",
        "WO-GEN-07",
    ),
];

/// Midnight UTC of the day `seconds` falls in.
fn midnight(seconds: i64) -> i64 {
    seconds - seconds.rem_euclid(DAY)
}

/// splitmix64: small, fast, deterministic.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len() as u64) as usize]
    }
}

/// Every privilege the lookups ask for (an MES user given them all may read every lookup).
pub const VIEW_PRIVILEGES: [&str; 6] = [
    "view_entities",
    "view_items",
    "view_lots",
    "view_jobs",
    "view_work_orders",
    "view_users",
];

/// The MES people. `PLANT\victor` exists in AIM only; `PLANT\ivan` is inactive.
pub const MES_USERS: [(&str, &str, bool, &str, &str); 4] = [
    (
        "PLANT\\alice",
        "Alice Martin, line supervisor",
        true,
        "PROD",
        "alice.martin@plant.example",
    ),
    (
        "PLANT\\quinn",
        "Quinn Lee, quality engineer",
        true,
        "QA",
        "quinn.lee@plant.example",
    ),
    (
        "PLANT\\ivan",
        "Ivan Petrov (left the company)",
        false,
        "PROD",
        "ivan.petrov@plant.example",
    ),
    (
        "Default Background User",
        "Runs service-to-service calls",
        true,
        "IT",
        "",
    ),
];

/// Creates the schema and fills it, with times up to `now` (seconds since the epoch).
pub fn seed(db: &mut Connection, rows: usize, now: i64) -> rusqlite::Result<()> {
    let epoch = midnight(now) - 300 * DAY;
    let recent = midnight(now) - 30 * DAY;
    let tx = db.transaction()?;
    tx.execute_batch(
        "CREATE TABLE entity (ent_id INTEGER PRIMARY KEY, ent_name TEXT NOT NULL, description TEXT, parent_ent_id INTEGER,
             can_sched_jobs INTEGER NOT NULL, can_run_jobs INTEGER NOT NULL, restricted INTEGER NOT NULL, last_edit_at INTEGER NOT NULL);
         CREATE TABLE item (item_id TEXT PRIMARY KEY, item_desc TEXT NOT NULL, item_class_id TEXT NOT NULL, uom_id TEXT NOT NULL,
             unit_cost REAL NOT NULL, last_edit_at INTEGER NOT NULL);
         CREATE TABLE lot (lot_no TEXT PRIMARY KEY, item_id TEXT NOT NULL, qty REAL NOT NULL, uom_id TEXT NOT NULL, status TEXT NOT NULL,
             created_at INTEGER NOT NULL);
         CREATE TABLE wo (wo_id TEXT PRIMARY KEY, wo_desc TEXT NOT NULL, item_id TEXT NOT NULL, req_qty REAL NOT NULL, state TEXT NOT NULL,
             release_time_at INTEGER NOT NULL, due_at INTEGER NOT NULL);
         CREATE TABLE job (wo_id TEXT NOT NULL, oper_id TEXT NOT NULL, seq_no INTEGER NOT NULL, job_desc TEXT NOT NULL, run_ent_id INTEGER NOT NULL,
             state TEXT NOT NULL, qty_reqd REAL NOT NULL, sched_start_at INTEGER NOT NULL, PRIMARY KEY (wo_id, oper_id, seq_no));
         CREATE TABLE item_cons (cons_id INTEGER PRIMARY KEY, wo_id TEXT NOT NULL, ent_id INTEGER, item_id TEXT NOT NULL, lot_no TEXT NOT NULL,
             fg_item_id TEXT NOT NULL, fg_lot_no TEXT NOT NULL, qty_cons REAL NOT NULL, uom_id TEXT NOT NULL, cons_at INTEGER NOT NULL);
         CREATE TABLE mes_user (user_id TEXT PRIMARY KEY COLLATE NOCASE, user_desc TEXT NOT NULL, active INTEGER NOT NULL,
             default_dept_id TEXT NOT NULL, email_address TEXT NOT NULL);
         CREATE TABLE user_ent_grant (user_id TEXT NOT NULL COLLATE NOCASE, ent_id INTEGER NOT NULL);
         CREATE TABLE user_priv (user_id TEXT NOT NULL COLLATE NOCASE, priv TEXT NOT NULL);
         CREATE TABLE system_attr (attr_id INTEGER PRIMARY KEY, attr_value TEXT NOT NULL);",
    )?;
    let mut rng = Rng(0x4D45_535F_504F_5254);
    let mut ent_id = 1i64;
    let mut runnable = Vec::new();
    {
        let mut ent = tx.prepare("INSERT INTO entity VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        let mut add = |name: &str,
                       desc: &str,
                       parent: Option<i64>,
                       runs: bool,
                       restricted: bool,
                       rng: &mut Rng|
         -> rusqlite::Result<i64> {
            let id = ent_id;
            ent_id += 1;
            let edited = epoch + rng.below(300 * 86_400) as i64;
            ent.execute(params![
                id,
                name,
                desc,
                parent,
                runs as i64,
                runs as i64,
                restricted as i64,
                edited
            ])?;
            Ok(id)
        };
        let site = add(
            "Riverside Plant",
            "Food and beverage plant, Riverside site",
            None,
            false,
            false,
            &mut rng,
        )?;
        for (area, lines, restricted) in [
            ("Receiving", 2, false),
            ("Mixing", 3, false),
            ("Filling", 4, false),
            ("Packaging", 4, false),
            ("Warehouse", 2, false),
            ("Quality Lab", 2, true),
        ] {
            let area_id = add(
                area,
                &format!("{area} area"),
                Some(site),
                false,
                restricted,
                &mut rng,
            )?;
            for l in 1..=lines {
                let line = add(
                    &format!("{area} Line {l}"),
                    &format!("{area} line {l}"),
                    Some(area_id),
                    true,
                    restricted,
                    &mut rng,
                )?;
                if !restricted {
                    runnable.push(line);
                }
                for cell in ["Infeed", "Process", "Outfeed"] {
                    let id = add(
                        &format!("{area} L{l} {cell}"),
                        &format!("{cell} station of {area} line {l}"),
                        Some(line),
                        true,
                        restricted,
                        &mut rng,
                    )?;
                    if !restricted {
                        runnable.push(id);
                    }
                }
            }
        }
    }
    let nouns = [
        "Tomato Sauce",
        "Orange Juice",
        "Apple Puree",
        "Vanilla Yogurt",
        "Oat Drink",
        "Chili Paste",
        "Lemonade",
        "Berry Jam",
        "Pesto",
        "Cola Syrup",
    ];
    let packs = [
        "250 ml bottle",
        "500 ml bottle",
        "1 l carton",
        "330 ml can",
        "5 kg pail",
        "bulk IBC",
        "12-pack tray",
        "jar 370 g",
    ];
    let classes = ["FG", "SFG", "RM", "PKG"];
    let uoms = ["EA", "KG", "L", "CS"];
    let mut items = Vec::with_capacity(rows);
    {
        let mut st = tx.prepare("INSERT INTO item VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        for i in 0..rows {
            let id = format!("ITM-{:06}", i + 1);
            let desc = format!("{}, {}", rng.pick(&nouns), rng.pick(&packs));
            let cost = (rng.below(100_000) as f64) / 100.0;
            st.execute(params![
                id,
                desc,
                rng.pick(&classes),
                rng.pick(&uoms),
                cost,
                epoch + rng.below(300 * 86_400) as i64
            ])?;
            items.push(id);
        }
        let mut st = tx.prepare("INSERT INTO lot VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        for i in 0..rows {
            let item = &items[rng.below(items.len() as u64) as usize];
            st.execute(params![
                format!("L26-{:07}", i + 1),
                item,
                (rng.below(50_000) as f64) / 10.0,
                rng.pick(&uoms),
                rng.pick(&["Released", "Quarantine", "Consumed", "On hold"]),
                epoch + rng.below(300 * 86_400) as i64
            ])?;
        }
        let orders = (rows / 10).max(1);
        let mut wo = tx.prepare("INSERT INTO wo VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
        let mut job = tx.prepare("INSERT INTO job VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        for w in 0..orders {
            let wo_id = format!("WO-{:06}", w + 1);
            let item = &items[rng.below(items.len() as u64) as usize];
            let qty = (100 + rng.below(10_000)) as f64;
            let release = recent + rng.below(35 * DAY as u64) as i64;
            let state = rng.pick(&["New", "Released", "Running", "Complete", "Cancelled"]);
            wo.execute(params![
                wo_id,
                format!("Make {qty} of {item}"),
                item,
                qty,
                state,
                release,
                release + 3 * 86_400
            ])?;
            for (seq, oper) in [
                "MIX", "FILL", "PACK", "QC", "STORE", "SHIP", "CLEAN", "LABEL", "CHECK", "AUDIT",
            ]
            .iter()
            .enumerate()
            {
                let run_ent = runnable[rng.below(runnable.len() as u64) as usize];
                let job_state = rng.pick(&["New", "Ready", "Running", "Complete", "On hold"]);
                job.execute(params![
                    wo_id,
                    oper,
                    seq as i64,
                    format!("{oper} for {wo_id}"),
                    run_ent,
                    job_state,
                    qty,
                    release + (seq as i64) * 3_600
                ])?;
            }
        }
    }
    genealogy(&tx, rows, now, &mut rng, &runnable)?;
    for (id, desc, active, dept, email) in MES_USERS {
        tx.execute(
            "INSERT INTO mes_user VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, desc, active as i64, dept, email],
        )?;
    }
    for user in ["PLANT\\alice", "PLANT\\quinn", "PLANT\\ivan"] {
        for privilege in VIEW_PRIVILEGES {
            tx.execute("INSERT INTO user_priv VALUES (?1, ?2)", params![user, privilege])?;
        }
    }
    // The Default Background User may read plant data but not the user list.
    for privilege in VIEW_PRIVILEGES.iter().filter(|&&p| p != "view_users") {
        tx.execute(
            "INSERT INTO user_priv VALUES ('Default Background User', ?1)",
            [privilege],
        )?;
    }
    tx.execute(
        "INSERT INTO user_ent_grant SELECT 'PLANT\\quinn', ent_id FROM entity WHERE restricted = 1",
        [],
    )?;
    tx.execute(
        "INSERT INTO system_attr VALUES (199, 'Default Background User')",
        [],
    )?;
    tx.commit()
}

/// The consumption records: [`GENEALOGY`] with its lots, then one generated record for each lot
/// in the second half of the generated ones, consuming a lot of the first half (so the generated
/// genealogy has no loop).
fn genealogy(
    tx: &rusqlite::Transaction<'_>,
    rows: usize,
    now: i64,
    rng: &mut Rng,
    runnable: &[i64],
) -> rusqlite::Result<()> {
    let mut lot = tx.prepare("INSERT OR IGNORE INTO lot VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    let mut cons = tx.prepare(
        "INSERT INTO item_cons (wo_id, ent_id, item_id, lot_no, fg_item_id, fg_lot_no, qty_cons, uom_id, cons_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut item = tx.prepare("INSERT OR IGNORE INTO item VALUES (?1, ?2, ?3, 'KG', 1.0, ?4)")?;
    for (i, &(lot_no, item_id, fg_lot_no, fg_item_id, wo_id)) in GENEALOGY.iter().enumerate() {
        let at = midnight(now) - 20 * DAY + (i as i64) * 3 * 3_600;
        for id in [item_id, fg_item_id] {
            let class = id.split('-').next().unwrap_or_default();
            item.execute(params![id, id.replace('-', " ").to_lowercase(), class, at])?;
        }
        lot.execute(params![lot_no, item_id, 500.0, "KG", "Consumed", at - DAY])?;
        lot.execute(params![fg_lot_no, fg_item_id, 1_000.0, "KG", "Released", at])?;
        let ent = runnable[i % runnable.len().max(1)];
        cons.execute(params![
            wo_id, ent, item_id, lot_no, fg_item_id, fg_lot_no, 100.0, "KG", at
        ])?;
    }
    for i in rows / 2..rows {
        let consumed = rng.below((rows / 2).max(1) as u64) as usize;
        let (fg_lot, lot_no) = (format!("L26-{:07}", i + 1), format!("L26-{:07}", consumed + 1));
        let item_of = |lot: &str| -> rusqlite::Result<String> {
            tx.query_row("SELECT item_id FROM lot WHERE lot_no = ?1", [lot], |r| r.get(0))
        };
        let (Ok(item_id), Ok(fg_item_id)) = (item_of(&lot_no), item_of(&fg_lot)) else {
            continue;
        };
        let ent = runnable[rng.below(runnable.len() as u64) as usize];
        let at = midnight(now) - rng.below(300 * DAY as u64) as i64;
        let wo = format!("WO-{:06}", 1 + rng.below((rows / 10).max(1) as u64));
        let qty = (rng.below(5_000) as f64) / 10.0;
        cons.execute(params![
            wo, ent, item_id, lot_no, fg_item_id, fg_lot, qty, "KG", at
        ])?;
    }
    Ok(())
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SS` read as a time `offset` seconds ahead of
/// UTC; `None` for anything else (the inverse of [`format_time`]).
pub fn parse_time(text: &str, offset: i64) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hh, mm, ss) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * DAY + hh * 3_600 + mm * 60 + ss - offset;
    // A day past its month's end (02-30) does not come back as written.
    (format_time(seconds, offset) == text).then_some(seconds)
}

/// `YYYY-MM-DDTHH:MM:SS` for seconds since the epoch shifted by `offset` seconds (proleptic Gregorian).
pub fn format_time(seconds: i64, offset: i64) -> String {
    let t = seconds + offset;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_times() {
        assert_eq!(super::format_time(0, 0), "1970-01-01T00:00:00");
        assert_eq!(super::format_time(super::EPOCH_2026, 0), "2026-01-01T00:00:00");
        assert_eq!(
            super::format_time(super::EPOCH_2026, -3600),
            "2025-12-31T23:00:00"
        );
        assert_eq!(super::format_time(951_782_400, 0), "2000-02-29T00:00:00");
    }

    #[test]
    fn reads_times_back_in_a_time_zone() {
        assert_eq!(
            super::parse_time("2026-01-01T00:00:00", 0),
            Some(super::EPOCH_2026)
        );
        assert_eq!(
            super::parse_time("2026-01-01T01:00:00", 3_600),
            Some(super::EPOCH_2026),
            "01:00 at +01:00 is midnight UTC"
        );
        assert_eq!(super::parse_time("2000-02-29T00:00:00", 0), Some(951_782_400));
        for bad in [
            "2026-02-30T00:00:00",
            "2026-01-01T24:00:00",
            "2026-01-01",
            "2026-01-01T00:00:00Z",
            "2026-0a-01T00:00:00",
        ] {
            assert_eq!(super::parse_time(bad, 0), None, "{bad}");
        }
    }
}
