//! A plausible plant, generated deterministically: the same `rows` gives the same data.

use rusqlite::{Connection, params};

/// Default number of rows in the big tables (items, lots, jobs).
pub const DEFAULT_ROWS: usize = 2_000;
const EPOCH_2026: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

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

/// Creates the schema and fills it.
pub fn seed(db: &mut Connection, rows: usize) -> rusqlite::Result<()> {
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
            let edited = EPOCH_2026 + rng.below(300 * 86_400) as i64;
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
                EPOCH_2026 + rng.below(300 * 86_400) as i64
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
                EPOCH_2026 + rng.below(300 * 86_400) as i64
            ])?;
        }
        let orders = (rows / 10).max(1);
        let mut wo = tx.prepare("INSERT INTO wo VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
        let mut job = tx.prepare("INSERT INTO job VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        for w in 0..orders {
            let wo_id = format!("WO-{:06}", w + 1);
            let item = &items[rng.below(items.len() as u64) as usize];
            let qty = (100 + rng.below(10_000)) as f64;
            let release = EPOCH_2026 + rng.below(300 * 86_400) as i64;
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
}
