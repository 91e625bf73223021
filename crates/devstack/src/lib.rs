//! # devstack
//!
//! Loopback stand-ins for AVEVA Identity Manager ([`aim`]) and the MES Web API ([`mes`]), and the
//! portal's static server ([`web`]). Development and test infrastructure, never shipped — but
//! real software: real HTTP, RS256 JWTs, SQLite. ARCHITECTURE.md lists the behaviour it holds to.

pub mod aim;
pub mod form_login;
pub mod hostile;
pub mod keys;
pub mod mes;
pub mod seed;
pub mod server;
pub mod stack;
pub mod store;
pub mod util;
pub mod web;

pub use stack::{DEMO_ACCOUNTS, MES_AUDIENCE, PORTAL_CLIENT_ID, PublicSites, Stack, StackOptions};
