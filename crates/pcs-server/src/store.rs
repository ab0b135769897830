//! The embedded SQLite database in the data directory: access tokens (only
//! their SHA-256 is stored), browser sessions, saved scenarios and the
//! upload history.

use std::path::Path;
use std::sync::Mutex;

use rand::RngCore as _;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// The database file's name in the data directory.
pub const FILE_NAME: &str = "pcs-server.sqlite3";

/// How long a browser session lasts, in seconds (12 hours).
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// What a token may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every partner, uploads included (an admin or a distributor).
    All,
    /// One partner only (a reseller).
    Partner(String),
}

impl Scope {
    /// Parses `all` or `partner:ID`.
    pub fn parse(text: &str) -> Result<Scope, String> {
        match text.trim() {
            "all" => Ok(Scope::All),
            t => match t.strip_prefix("partner:") {
                Some(id) if !id.trim().is_empty() => Ok(Scope::Partner(id.trim().to_string())),
                _ => Err(format!(
                    "scope '{t}': expected 'all' or 'partner:ID' (e.g. partner:1000001)"
                )),
            },
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::All => write!(f, "all"),
            Scope::Partner(id) => write!(f, "partner:{id}"),
        }
    }
}

/// A token as stored (never the token itself).
#[derive(Clone, Debug, serde::Serialize)]
pub struct TokenInfo {
    /// Its row id.
    pub id: i64,
    /// `all` or `partner:ID`.
    #[serde(serialize_with = "display")]
    pub scope: Scope,
    /// A label for people.
    pub label: String,
    /// When it was made (UTC, RFC 3339).
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

fn display<S: serde::Serializer>(s: &Scope, ser: S) -> Result<S::Ok, S::Error> {
    ser.collect_str(s)
}

/// One upload attempt.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UploadRecord {
    /// Its row id.
    pub id: i64,
    /// When (UTC, RFC 3339).
    pub at: String,
    /// The table.
    pub table: String,
    /// `csv` or `parquet`.
    pub format: String,
    /// Bytes received.
    pub bytes: i64,
    /// SHA-256 of the body, hex.
    pub sha256: String,
    /// Data rows, when accepted.
    pub rows: Option<i64>,
    /// Whether it was applied.
    pub accepted: bool,
    /// Why it was rejected.
    pub error: Option<String>,
    /// The token that sent it (none without auth).
    pub token_id: Option<i64>,
}

/// A saved what-if scenario.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SavedScenario {
    /// Its id.
    pub id: i64,
    /// The partner.
    pub partner_id: String,
    /// Its name.
    pub name: String,
    /// The scenario (the same JSON as a `pcs simulate --scenario` file).
    #[schema(value_type = Object)]
    pub scenario: serde_json::Value,
    /// When it was saved (UTC, RFC 3339).
    pub created_at: String,
}

/// The SQLite database. One connection behind a mutex: every statement is
/// short, and SQLite serialises writers anyway.
pub struct Store {
    conn: Mutex<Connection>,
}

/// A store error (SQLite).
pub type StoreError = rusqlite::Error;

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A new random secret: 32 bytes from the OS-seeded CSPRNG, hex, with a prefix.
pub(crate) fn secret(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    format!("{prefix}{}", hex(&b))
}

fn now() -> String {
    pcs_core::jiff::Timestamp::now()
        .round(pcs_core::jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn now_secs() -> i64 {
    pcs_core::jiff::Timestamp::now().as_second()
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tokens (
    id          INTEGER PRIMARY KEY,
    hash        TEXT NOT NULL UNIQUE,
    scope       TEXT NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    hash        TEXT PRIMARY KEY,
    token_id    INTEGER NOT NULL REFERENCES tokens(id),
    expires_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS scenarios (
    id          INTEGER PRIMARY KEY,
    partner_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    token_id    INTEGER
);
CREATE INDEX IF NOT EXISTS scenarios_partner ON scenarios(partner_id);
CREATE TABLE IF NOT EXISTS secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    table_name  TEXT NOT NULL,
    format      TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    rows        INTEGER,
    accepted    INTEGER NOT NULL,
    error       TEXT,
    token_id    INTEGER
);
";

impl Store {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// An in-memory store (tests).
    pub fn in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (every
        // statement is atomic), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---------------------------------------------------------------- tokens

    /// Makes a token; returns it (shown once, never stored) and its row.
    pub fn create_token(
        &self,
        scope: &Scope,
        label: &str,
    ) -> Result<(String, TokenInfo), StoreError> {
        let token = secret("pcs_");
        let created_at = now();
        let c = self.conn();
        c.execute(
            "INSERT INTO tokens (hash, scope, label, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                sha256_hex(token.as_bytes()),
                scope.to_string(),
                label,
                created_at
            ],
        )?;
        let id = c.last_insert_rowid();
        Ok((
            token,
            TokenInfo {
                id,
                scope: scope.clone(),
                label: label.to_string(),
                created_at,
                revoked_at: None,
            },
        ))
    }

    fn token_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TokenInfo> {
        let scope: String = row.get(1)?;
        Ok(TokenInfo {
            id: row.get(0)?,
            scope: Scope::parse(&scope).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, e.into())
            })?,
            label: row.get(2)?,
            created_at: row.get(3)?,
            revoked_at: row.get(4)?,
        })
    }

    /// The live token with this secret, if any.
    pub fn verify_token(&self, token: &str) -> Result<Option<TokenInfo>, StoreError> {
        self.conn()
            .query_row(
                "SELECT id, scope, label, created_at, revoked_at FROM tokens
                 WHERE hash = ?1 AND revoked_at IS NULL",
                params![sha256_hex(token.as_bytes())],
                Self::token_row,
            )
            .optional()
    }

    /// Every token, newest last.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let c = self.conn();
        let mut st =
            c.prepare("SELECT id, scope, label, created_at, revoked_at FROM tokens ORDER BY id")?;
        st.query_map([], Self::token_row)?.collect()
    }

    /// Whether a live token scoped to all partners exists.
    pub fn has_admin_token(&self) -> Result<bool, StoreError> {
        self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM tokens WHERE scope = 'all' AND revoked_at IS NULL)",
            [],
            |r| r.get(0),
        )
    }

    /// Revokes a token and ends its sessions; false if there is no such live token.
    pub fn revoke_token(&self, id: i64) -> Result<bool, StoreError> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        let n = tx.execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now()],
        )?;
        tx.execute("DELETE FROM sessions WHERE token_id = ?1", params![id])?;
        tx.commit()?;
        Ok(n == 1)
    }

    /// The server's secret of this name (hex, 32 random bytes), made on
    /// first use and kept across restarts (the key of the forms' CSRF tokens).
    pub fn server_secret(&self, name: &str) -> Result<String, StoreError> {
        let c = self.conn();
        c.execute(
            "INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)",
            params![name, secret("")],
        )?;
        c.query_row(
            "SELECT value FROM secrets WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )
    }

    // ---------------------------------------------------------------- sessions

    /// Starts a browser session for a token; returns the session secret.
    pub fn create_session(&self, token_id: i64) -> Result<String, StoreError> {
        let session = secret("s_");
        let c = self.conn();
        c.execute(
            "DELETE FROM sessions WHERE expires_at < ?1",
            params![now_secs()],
        )?;
        c.execute(
            "INSERT INTO sessions (hash, token_id, expires_at) VALUES (?1, ?2, ?3)",
            params![
                sha256_hex(session.as_bytes()),
                token_id,
                now_secs() + SESSION_SECONDS
            ],
        )?;
        Ok(session)
    }

    /// The live token of a live session.
    pub fn verify_session(&self, session: &str) -> Result<Option<TokenInfo>, StoreError> {
        self.conn()
            .query_row(
                "SELECT t.id, t.scope, t.label, t.created_at, t.revoked_at
                 FROM sessions s JOIN tokens t ON t.id = s.token_id
                 WHERE s.hash = ?1 AND s.expires_at >= ?2 AND t.revoked_at IS NULL",
                params![sha256_hex(session.as_bytes()), now_secs()],
                Self::token_row,
            )
            .optional()
    }

    /// Ends a session.
    pub fn delete_session(&self, session: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM sessions WHERE hash = ?1",
            params![sha256_hex(session.as_bytes())],
        )?;
        Ok(())
    }

    // ---------------------------------------------------------------- scenarios

    /// Saves a scenario for a partner.
    pub fn save_scenario(
        &self,
        partner: &str,
        name: &str,
        scenario: &serde_json::Value,
        token_id: Option<i64>,
    ) -> Result<SavedScenario, StoreError> {
        let created_at = now();
        let c = self.conn();
        c.execute(
            "INSERT INTO scenarios (partner_id, name, body, created_at, token_id)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![partner, name, scenario.to_string(), created_at, token_id],
        )?;
        Ok(SavedScenario {
            id: c.last_insert_rowid(),
            partner_id: partner.to_string(),
            name: name.to_string(),
            scenario: scenario.clone(),
            created_at,
        })
    }

    fn scenario_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SavedScenario> {
        let body: String = row.get(3)?;
        Ok(SavedScenario {
            id: row.get(0)?,
            partner_id: row.get(1)?,
            name: row.get(2)?,
            scenario: serde_json::from_str(&body).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, e.into())
            })?,
            created_at: row.get(4)?,
        })
    }

    /// A partner's saved scenarios, oldest first.
    pub fn scenarios(&self, partner: &str) -> Result<Vec<SavedScenario>, StoreError> {
        let c = self.conn();
        let mut st = c.prepare(
            "SELECT id, partner_id, name, body, created_at FROM scenarios
             WHERE partner_id = ?1 ORDER BY id",
        )?;
        st.query_map(params![partner], Self::scenario_row)?
            .collect()
    }

    /// One saved scenario of a partner.
    pub fn scenario(&self, partner: &str, id: i64) -> Result<Option<SavedScenario>, StoreError> {
        self.conn()
            .query_row(
                "SELECT id, partner_id, name, body, created_at FROM scenarios
                 WHERE partner_id = ?1 AND id = ?2",
                params![partner, id],
                Self::scenario_row,
            )
            .optional()
    }

    /// Deletes a saved scenario; false if the partner has no such scenario.
    pub fn delete_scenario(&self, partner: &str, id: i64) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "DELETE FROM scenarios WHERE partner_id = ?1 AND id = ?2",
            params![partner, id],
        )?;
        Ok(n == 1)
    }

    // ---------------------------------------------------------------- uploads

    /// Records an upload attempt.
    #[allow(clippy::too_many_arguments)]
    pub fn record_upload(
        &self,
        table: &str,
        format: &str,
        bytes: u64,
        sha256: &str,
        rows: Option<u64>,
        error: Option<&str>,
        token_id: Option<i64>,
    ) -> Result<UploadRecord, StoreError> {
        let at = now();
        let c = self.conn();
        c.execute(
            "INSERT INTO uploads (at, table_name, format, bytes, sha256, rows, accepted, error, token_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                at,
                table,
                format,
                bytes as i64,
                sha256,
                rows.map(|r| r as i64),
                error.is_none(),
                error,
                token_id
            ],
        )?;
        Ok(UploadRecord {
            id: c.last_insert_rowid(),
            at,
            table: table.to_string(),
            format: format.to_string(),
            bytes: bytes as i64,
            sha256: sha256.to_string(),
            rows: rows.map(|r| r as i64),
            accepted: error.is_none(),
            error: error.map(String::from),
            token_id,
        })
    }

    /// The upload history, newest first.
    pub fn uploads(&self, limit: u32) -> Result<Vec<UploadRecord>, StoreError> {
        let c = self.conn();
        let mut st = c.prepare(
            "SELECT id, at, table_name, format, bytes, sha256, rows, accepted, error, token_id
             FROM uploads ORDER BY id DESC LIMIT ?1",
        )?;
        st.query_map(params![limit], |r| {
            Ok(UploadRecord {
                id: r.get(0)?,
                at: r.get(1)?,
                table: r.get(2)?,
                format: r.get(3)?,
                bytes: r.get(4)?,
                sha256: r.get(5)?,
                rows: r.get(6)?,
                accepted: r.get(7)?,
                error: r.get(8)?,
                token_id: r.get(9)?,
            })
        })?
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_as_hashes_and_verified() {
        let s = Store::in_memory().unwrap();
        let (token, info) = s
            .create_token(&Scope::Partner("P1".into()), "reseller")
            .unwrap();
        assert!(token.starts_with("pcs_") && token.len() == 4 + 64);
        let stored: String = s
            .conn()
            .query_row("SELECT hash FROM tokens", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, token);
        assert_eq!(stored, sha256_hex(token.as_bytes()));
        let v = s.verify_token(&token).unwrap().unwrap();
        assert_eq!(v.id, info.id);
        assert_eq!(v.scope, Scope::Partner("P1".into()));
        assert!(s.verify_token("pcs_wrong").unwrap().is_none());
        let session = s.create_session(info.id).unwrap();
        assert_eq!(s.verify_session(&session).unwrap().unwrap().id, info.id);
        assert!(s.revoke_token(info.id).unwrap());
        assert!(s.verify_token(&token).unwrap().is_none());
        assert!(s.verify_session(&session).unwrap().is_none());
        assert!(!s.revoke_token(info.id).unwrap());
    }

    #[test]
    fn scopes_parse_and_print() {
        assert_eq!(Scope::parse("all").unwrap(), Scope::All);
        assert_eq!(
            Scope::parse("partner:1000001").unwrap(),
            Scope::Partner("1000001".into())
        );
        assert!(Scope::parse("partner:").is_err());
        assert!(Scope::parse("admin").is_err());
        assert_eq!(Scope::Partner("7".into()).to_string(), "partner:7");
    }

    #[test]
    fn scenarios_are_per_partner() {
        let s = Store::in_memory().unwrap();
        let body = serde_json::json!({"title": "t"});
        let a = s.save_scenario("P1", "a", &body, None).unwrap();
        assert_eq!(s.scenarios("P1").unwrap().len(), 1);
        assert!(s.scenarios("P2").unwrap().is_empty());
        assert!(s.scenario("P2", a.id).unwrap().is_none());
        assert_eq!(s.scenario("P1", a.id).unwrap().unwrap().scenario, body);
        assert!(!s.delete_scenario("P2", a.id).unwrap());
        assert!(s.delete_scenario("P1", a.id).unwrap());
    }
}
