//! The AIM stand-in's account store (SQLite): people and OAuth clients.

use crate::util::{hash_secret, random_token};
use rusqlite::{Connection, OptionalExtension as _, params};
use std::path::Path;

/// A person who can sign in.
#[derive(Debug, Clone)]
pub struct User {
    /// `DOMAIN\user`.
    pub username: String,
    /// Stable subject identifier.
    pub sub: String,
    /// Display name.
    pub display_name: String,
    /// Argon2 hash.
    pub password_hash: String,
}

/// A registered OAuth client.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    /// Client ID.
    pub client_id: String,
    /// Argon2 hash of the secret; `None` for public clients (the portal).
    pub secret_hash: Option<String>,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Exact post-logout redirect URIs.
    pub post_logout_uris: Vec<String>,
    /// Origins allowed by CORS.
    pub allowed_origins: Vec<String>,
    /// Access token lifetime, seconds.
    pub token_lifetime: u64,
}

/// Opens (and creates) the store.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let db = Connection::open(path)?;
    db.execute_batch(
        "PRAGMA journal_mode=WAL;
         CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY COLLATE NOCASE, sub TEXT NOT NULL UNIQUE,
             display_name TEXT NOT NULL, password_hash TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, secret_hash TEXT, redirect_uris TEXT NOT NULL,
             post_logout_uris TEXT NOT NULL, allowed_origins TEXT NOT NULL, token_lifetime INTEGER NOT NULL);",
    )?;
    Ok(db)
}

/// Adds or replaces a person.
pub fn put_user(db: &Connection, username: &str, display_name: &str, password: &str) -> rusqlite::Result<()> {
    let sub: Option<String> = db
        .query_row("SELECT sub FROM users WHERE username = ?1", [username], |r| {
            r.get(0)
        })
        .optional()?;
    db.execute(
        "INSERT OR REPLACE INTO users (username, sub, display_name, password_hash) VALUES (?1, ?2, ?3, ?4)",
        params![
            username,
            sub.unwrap_or_else(|| random_token(12)),
            display_name,
            hash_secret(password)
        ],
    )?;
    Ok(())
}

/// Finds a person by name (case-insensitive, as Windows account names are).
pub fn find_user(db: &Connection, username: &str) -> rusqlite::Result<Option<User>> {
    db.query_row(
        "SELECT username, sub, display_name, password_hash FROM users WHERE username = ?1",
        [username],
        |r| {
            Ok(User {
                username: r.get(0)?,
                sub: r.get(1)?,
                display_name: r.get(2)?,
                password_hash: r.get(3)?,
            })
        },
    )
    .optional()
}

/// Adds or replaces a client.
pub fn put_client(db: &Connection, client: &RegisteredClient) -> rusqlite::Result<()> {
    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    db.execute(
        "INSERT OR REPLACE INTO clients VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            client.client_id,
            client.secret_hash,
            json(&client.redirect_uris),
            json(&client.post_logout_uris),
            json(&client.allowed_origins),
            client.token_lifetime as i64
        ],
    )?;
    Ok(())
}

/// Every registered client.
pub fn clients(db: &Connection) -> rusqlite::Result<Vec<RegisteredClient>> {
    let mut stmt =
        db.prepare("SELECT client_id, secret_hash, redirect_uris, post_logout_uris, allowed_origins, token_lifetime FROM clients")?;
    let list = |s: String| serde_json::from_str::<Vec<String>>(&s).unwrap_or_default();
    let rows = stmt.query_map([], |r| {
        Ok(RegisteredClient {
            client_id: r.get(0)?,
            secret_hash: r.get(1)?,
            redirect_uris: list(r.get(2)?),
            post_logout_uris: list(r.get(3)?),
            allowed_origins: list(r.get(4)?),
            token_lifetime: r.get::<_, i64>(5)? as u64,
        })
    })?;
    rows.collect()
}
