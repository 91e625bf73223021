//! The lot genealogy walk: where a lot went and what went into it, over the MES's consumption
//! records (the walk itself is `mes_client::genealogy`'s).
//!
//! - `page.rs` (browser) — the page: the lot and direction, the tree as it grows, missing
//!   branches asked again, the export.
//! - `export.rs` — the affected lots as CSV, tested natively.

pub mod export;
#[cfg(target_arch = "wasm32")]
mod page;

#[cfg(target_arch = "wasm32")]
crate::on_demand::part!(
    genealogy,
    /// The lot genealogy page.
    pub fn genealogy_page(definition: mes_client::genealogy::GenealogyDefinition) {
        use leptos::prelude::*;
        view! { <page::Genealogy definition=definition /> }.into_any()
    }
);
