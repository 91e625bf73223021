//! A row's detail: every column of the record the MES sent (the hidden and the undisplayed
//! ones too), each in the person's locale with the MES's own text a copy away, its links
//! followed from here as from the grid. Beside the grid on a wide screen; a full-screen sheet
//! on a phone, where a wide row would otherwise need sideways scrolling.

use super::format;
use super::rows_grid::{GridLinks, cell_link};
use crate::grid_model::links;
use crate::grid_model::{GridData, header_label};
use crate::session::{Portal, Wanted, use_portal};
use crate::words::{GridWord, fill, w};
use leptos::prelude::*;
use leptos::task::spawn_local;
use mes_client::{Cell, LookupDefinition, Rows};
use std::sync::Arc;

/// What the detail shows.
#[derive(Clone)]
enum Record {
    /// The row as the list gave it: the lookup has no record endpoint, or the row no key.
    Listed,
    /// The record is being read; the row as listed meanwhile.
    Reading,
    /// The record read whole (one row).
    Read(Arc<Rows>),
    /// The record could not be read (why, as the client library says it); the row as listed.
    Unread(String),
}

/// Reads the row's record from the lookup's `/key` endpoint; a newer read (another row, Read
/// again) makes an older answer moot.
#[derive(Clone, Copy)]
struct Reader {
    portal: Portal,
    lookup: StoredValue<Arc<LookupDefinition>>,
    data: RwSignal<GridData>,
    /// The row read, and what was read.
    record: RwSignal<(u32, Record)>,
    generation: StoredValue<u32>,
}

impl Reader {
    fn read(self, row: u32) {
        let key = self.data.with_untracked(|d| {
            let rows = d.rows();
            let cell = |name: &str| Some(rows.column(name)?.text(row as usize));
            self.lookup.with_value(|l| l.record_query(cell))
        });
        let this = self.generation.get_value().wrapping_add(1);
        self.generation.set_value(this);
        let Some(key) = key else {
            self.record.set((row, Record::Listed));
            return;
        };
        self.record.set((row, Record::Reading));
        let (portal, lookup) = (self.portal, self.lookup.get_value());
        spawn_local(async move {
            let mut rows = Rows::default();
            let result = portal.run_lookup(&lookup, &key, Wanted::Record, &mut rows).await;
            if self.generation.try_get_value() != Some(this) {
                return;
            }
            let read = match result {
                Ok(()) => Record::Read(Arc::new(rows)),
                Err(e) => Record::Unread(e.to_string()),
            };
            self.record.set((row, read));
        });
    }
}

/// The detail of the row `row` (an index into `data`) while it is `Some`; Close (or Escape)
/// sets it back to `None` and gives the keyboard back to the grid. Where the lookup has a
/// record endpoint, the row is read whole from it (what the list left out, and its values now).
#[component]
pub fn RowDetail(
    lookup: Arc<LookupDefinition>,
    data: RwSignal<GridData>,
    row: RwSignal<Option<u32>>,
    links: Option<GridLinks>,
) -> impl IntoView {
    let close_button = NodeRef::<leptos::html::Button>::new();
    let close = move || {
        row.set(None);
        give_the_keyboard_back();
    };
    let reader = Reader {
        portal: use_portal(),
        lookup: StoredValue::new(lookup),
        data,
        record: RwSignal::new((0, Record::Listed)),
        generation: StoredValue::new(0),
    };
    // On a phone the sheet covers the grid: the keyboard goes to it.
    Effect::new(move |_| {
        let Some(shown) = row.get() else { return };
        reader.read(shown);
        if is_narrow()
            && let Some(button) = close_button.get_untracked()
        {
            let _ = button.focus();
        }
    });
    move || {
        let shown = row.get()?;
        // Until this row's read starts, the row as listed (never another row's record).
        let record = reader.record.with(|(read, record)| {
            if *read == shown {
                record.clone()
            } else {
                Record::Listed
            }
        });
        let fields = data
            .with_untracked(|d| (shown as usize) < d.len())
            .then(|| fields(data, shown, &record, links.as_ref()))?;
        let title = data.with_untracked(|d| d.value(shown as usize).to_owned());
        let state = match record {
            Record::Listed | Record::Read(_) => None,
            Record::Reading => Some(view! { <p class="muted" role="status" aria-busy="true">{w(GridWord::ReadingRecord)}</p> }.into_any()),
            Record::Unread(why) => Some(view! {
                <div class="record-unread" role="alert" data-state="record-unread">
                    <p>{w(GridWord::RecordUnread)}</p>
                    <pre class="mes-message">{why}</pre>
                    <button class="secondary" on:click=move |_| reader.read(shown)>{w(GridWord::ReadAgain)}</button>
                </div>
            }.into_any()),
        };
        Some(view! {
            <aside class="detail" data-state="row-detail" aria-labelledby="detail-title"
                on:keydown=move |ev| if ev.key() == "Escape" { ev.prevent_default(); close(); }>
                <div class="detail-head">
                    <h2 id="detail-title">{if title.is_empty() { w(GridWord::RowDetail).to_owned() } else { fill(GridWord::RowDetailOf, &[("value", &title)]) }}</h2>
                    <button class="secondary close" node_ref=close_button on:click=move |_| close()>{w(GridWord::Close)}</button>
                </div>
                {state}
                <dl>{fields}</dl>
            </aside>
        })
    }
}

/// One field of the detail: its column, the value as shown and as the MES wrote it, and the
/// listed value where the record's differs from it.
struct Field {
    name: String,
    shown: String,
    text: String,
    listed: Option<String>,
}

/// Each column of the row (of the record, once read): its label, and its value (a link where
/// config.json links it).
fn fields(data: RwSignal<GridData>, row: u32, record: &Record, links: Option<&GridLinks>) -> Vec<AnyView> {
    let field = |name: &str, cell: &Cell<'_>| Field {
        name: name.to_owned(),
        shown: format::shown(cell),
        text: cell.text().to_owned(),
        listed: None,
    };
    let fields: Vec<Field> = data.with_untracked(|d| {
        let listed = d.rows();
        match record {
            Record::Read(read) => read
                .columns()
                .iter()
                .map(|c| {
                    let mut f = field(c.name(), &c.cell(0));
                    let before = listed.column(c.name()).map(|l| l.cell(row as usize));
                    f.listed = before.filter(|b| b.text() != f.text).map(|b| format::shown(&b));
                    f
                })
                .collect(),
            _ => listed
                .columns()
                .iter()
                .map(|c| field(c.name(), &c.cell(row as usize)))
                .collect(),
        }
    });
    fields
        .into_iter()
        .map(|Field { name, shown, text, listed }| {
            let link = links.and_then(|l| Some((links::followed(&l.cells, &name, &text)?, l.follow)));
            let value = match link {
                Some(((followed, lookup), follow)) => cell_link(followed, &lookup, shown, follow, false),
                None => shown.into_any(),
            };
            let marked = listed.is_some().then_some("");
            let changed = listed.map(|before| {
                view! { <span class="muted changed">" — "{fill(GridWord::ChangedSinceListed, &[("value", &before)])}</span> }
            });
            view! { <dt>{header_label(&name)}</dt><dd data-column=name data-changed=marked>{value}{changed}</dd> }.into_any()
        })
        .collect()
}

/// Whether the page is phone-narrow (where the detail is a sheet over the grid).
fn is_narrow() -> bool {
    web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|width| width.as_f64())
        .is_some_and(|width| width <= 800.0)
}

/// Focus back on the grid after the detail closes (the grid is the page's one table).
fn give_the_keyboard_back() {
    use wasm_bindgen::JsCast;
    let table = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("main table.grid").ok().flatten())
        .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(table) = table {
        let _ = table.focus();
    }
}
