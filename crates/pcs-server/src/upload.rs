//! Table uploads: validated with the CLI's reader and errors, applied
//! atomically, and recovered after a crash.
//!
//! The body is streamed into a staging directory inside the data directory
//! (`.pcs-upload-*`, so the final rename stays on one file system), next to
//! hard links of the other tables. The whole staged dataset is then read
//! exactly as at start; the first malformed value rejects the upload with
//! its file, line, column and value, and nothing changes on disk or in
//! memory.
//!
//! An accepted table is applied through **one atomic step**: a commit record
//! ([`JOURNAL`]: the staged file, the files it replaces, the upload's
//! history entry) is written to a temporary file, synced, and renamed into
//! place. Before that rename the dataset is the old one; after it, the new
//! one: the moves it lists (the new file renamed over the old one, the
//! old file of a table that changes format removed) are then carried out,
//! and [`recover`] carries them out again at start-up if a crash came in
//! between (each move is idempotent). Start-up also removes staging
//! directories and unfinished commit records left by a crash. Every attempt
//! is recorded in the upload history.
//!
//! With the cargo feature `fault-injection` (tests only; off in every
//! build that ships), `PCS_FAULT=upload:STEP` aborts the process at that
//! step, as `kill -9` would: see [`FAULT_STEPS`].

use std::io::Write as _;
use std::path::{Path, PathBuf};

use axum::body::Body;
use http_body_util::BodyExt as _;
use pcs_core::facts::Table;
use pcs_data::{Dataset, Format};
use sha2::{Digest, Sha256};

use crate::auth::Access;
use crate::error::ApiError;
use crate::state::{AppState, Snapshot};
use crate::store::UploadRecord;

/// The Parquet magic number, at the start (and end) of every Parquet file.
const PARQUET_MAGIC: &[u8] = b"PAR1";

/// The commit record of an upload being applied, in the data directory.
pub const JOURNAL: &str = ".pcs-commit.json";

/// The commit record while it is written (not yet committed).
const JOURNAL_TMP: &str = ".pcs-commit.json.tmp";

/// The prefix of staging directories.
pub const STAGING_PREFIX: &str = ".pcs-upload-";

/// The steps of an upload at which `PCS_FAULT=upload:STEP` aborts (with the
/// `fault-injection` feature), in order: the body received; the dataset
/// validated; the commit record written but not yet renamed; committed
/// (renamed); the new table moved into place; the replaced file removed;
/// the commit record removed; the staging directory removed (then the
/// snapshot is swapped and the answer sent).
pub const FAULT_STEPS: [&str; 8] = [
    "received",
    "validated",
    "journal-written",
    "committed",
    "moved",
    "old-removed",
    "journal-removed",
    "staging-removed",
];

/// Aborts the process at `step` when `PCS_FAULT=upload:STEP` (feature
/// `fault-injection` only).
#[cfg(feature = "fault-injection")]
fn fault(step: &str) {
    debug_assert!(FAULT_STEPS.contains(&step));
    if std::env::var("PCS_FAULT").is_ok_and(|v| v.strip_prefix("upload:") == Some(step)) {
        eprintln!("pcs serve: PCS_FAULT: aborting at upload:{step}");
        std::process::abort();
    }
}

/// Without the `fault-injection` feature there is no fault point.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
fn fault(_step: &str) {}

/// The commit record: what applying an accepted upload changes.
#[derive(Debug, serde::Serialize, serde::Deserialize, PartialEq)]
struct Journal {
    /// The staging directory (a name in the data directory).
    staging: String,
    /// The new table's file name (in the staging and the data directory).
    install: String,
    /// File names in the data directory the new table replaces (another format).
    remove: Vec<String>,
    /// The history entry.
    table: String,
    format: String,
    bytes: u64,
    sha256: String,
    rows: Option<u64>,
    token_id: Option<i64>,
}

/// What [`recover`] found and did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// A committed upload whose moves were finished at start-up (its table).
    pub finished: Option<String>,
    /// Staging directories and unfinished commit records removed.
    pub removed: Vec<String>,
}

/// Carries out a committed upload's moves (idempotent).
fn apply(dir: &Path, j: &Journal) -> std::io::Result<()> {
    let valid =
        |name: &str| !name.is_empty() && !name.contains(['/', '\\']) && name != "." && name != "..";
    if !valid(&j.staging) || !valid(&j.install) || !j.remove.iter().all(|n| valid(n)) {
        return Err(std::io::Error::other(format!(
            "{JOURNAL}: not a commit record of pcs"
        )));
    }
    let staged = dir.join(&j.staging).join(&j.install);
    let dest = dir.join(&j.install);
    if staged.exists() {
        std::fs::rename(&staged, &dest)?;
        fault("moved");
    } else if !dest.exists() {
        return Err(std::io::Error::other(format!(
            "{JOURNAL}: {} is neither staged nor in place",
            j.install
        )));
    }
    for old in &j.remove {
        match std::fs::remove_file(dir.join(old)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    fault("old-removed");
    sync_dir(dir)
}

/// Start-up: finishes a committed upload a crash interrupted (and records
/// it in the history), and removes what an interrupted upload left
/// (staging directories, an unfinished commit record). Runs before the
/// dataset is read, with no upload in progress.
pub fn recover(dir: &Path, store: Option<&crate::store::Store>) -> std::io::Result<Recovery> {
    let mut out = Recovery::default();
    let journal = dir.join(JOURNAL);
    match std::fs::read(&journal) {
        Ok(bytes) => {
            let j: Journal = serde_json::from_slice(&bytes)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", journal.display())))?;
            apply(dir, &j)?;
            let recorded = match store {
                Some(store) => store
                    .uploads(1)
                    .map_err(std::io::Error::other)?
                    .first()
                    .is_some_and(|u| u.accepted && u.sha256 == j.sha256 && u.table == j.table),
                None => true,
            };
            if let Some(store) = store.filter(|_| !recorded) {
                store
                    .record_upload(
                        &j.table, &j.format, j.bytes, &j.sha256, j.rows, None, j.token_id,
                    )
                    .map_err(std::io::Error::other)?;
            }
            std::fs::remove_file(&journal)?;
            sync_dir(dir)?;
            out.finished = Some(j.table);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(STAGING_PREFIX) && e.file_type()?.is_dir() {
            std::fs::remove_dir_all(e.path())?;
            out.removed.push(name);
        } else if name == JOURNAL_TMP {
            std::fs::remove_file(e.path())?;
            out.removed.push(name);
        }
    }
    if !out.removed.is_empty() {
        sync_dir(dir)?;
    }
    Ok(out)
}

/// Writes the commit record and renames it into place: the commit.
fn commit(dir: &Path, j: &Journal) -> std::io::Result<()> {
    let tmp = dir.join(JOURNAL_TMP);
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(j).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
    }
    fault("journal-written");
    std::fs::rename(&tmp, dir.join(JOURNAL))?;
    sync_dir(dir)?;
    fault("committed");
    Ok(())
}

/// The table a name stands for (`revenue`, `usage`, `certifications`, `partners`).
pub fn parse_table(name: &str) -> Result<Table, ApiError> {
    let stem = name
        .strip_suffix(".csv")
        .or_else(|| name.strip_suffix(".parquet"))
        .unwrap_or(name);
    Table::ALL
        .into_iter()
        .find(|t| t.name().eq_ignore_ascii_case(stem))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no table '{name}': expected one of {}",
                Table::ALL.map(|t| t.name()).join(", ")
            ))
        })
}

/// The format of an upload: from the content type when it says, else by
/// sniffing the Parquet magic number.
pub fn detect_format(content_type: Option<&str>, first_bytes: &[u8]) -> Format {
    let ct = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    match ct.as_deref() {
        Some("text/csv") | Some("application/csv") | Some("text/plain") => Format::Csv,
        Some("application/vnd.apache.parquet") | Some("application/x-parquet") => Format::Parquet,
        _ if first_bytes.starts_with(PARQUET_MAGIC) => Format::Parquet,
        _ => Format::Csv,
    }
}

/// Streams `body` into `path`, at most `limit` bytes; returns the size, the
/// SHA-256 and the first bytes.
async fn receive(body: Body, path: &Path, limit: u64) -> Result<(u64, String, Vec<u8>), ApiError> {
    let mut file = std::fs::File::create(path).map_err(ApiError::internal)?;
    let mut hash = Sha256::new();
    let mut size = 0u64;
    let mut head = Vec::new();
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            // The limit layers and broken connections surface here.
            ApiError::bad_request(format!("cannot read the request body: {e}"))
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        size += data.len() as u64;
        if size > limit {
            return Err(ApiError::too_large(limit));
        }
        if head.len() < 8 {
            head.extend_from_slice(&data[..data.len().min(8 - head.len())]);
        }
        hash.update(&data);
        file.write_all(&data).map_err(ApiError::internal)?;
    }
    file.sync_all().map_err(ApiError::internal)?;
    let digest = hash.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok((size, hex, head))
}

/// Receives a table file, validates the dataset with it and applies it, or
/// rejects it and changes nothing. Admin tokens only.
///
/// `content_type` picks the format (`text/csv`, `application/vnd.apache.parquet`);
/// anything else is sniffed. A rejected file answers 422 with `file`, `line`,
/// `column`, `column_name`, `value` and `reason` in the error.
pub async fn upload_table(
    state: &AppState,
    access: &Access,
    table: &str,
    content_type: Option<&str>,
    body: Body,
) -> Result<UploadRecord, ApiError> {
    access.require_admin()?;
    let table = parse_table(table)?;
    let dir = state.config().dir.clone();
    // One upload at a time: each validates against the tables the previous one left.
    let _guard = state.upload_lock().lock().await;

    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(&dir)
        .map_err(ApiError::internal)?;
    let received = staging.path().join(format!("{}.upload", table.name()));
    let (size, sha, head) = receive(body, &received, state.config().upload_limit).await?;
    fault("received");
    let format = detect_format(content_type, &head);
    let file_name = format!("{}.{}", table.name(), format.extension());
    let staged = staging.path().join(&file_name);
    std::fs::rename(&received, &staged).map_err(ApiError::internal)?;

    // The new table alone first: its own errors are found without reading
    // the other (possibly large) tables.
    let alone = staging.path().join("alone");
    std::fs::create_dir(&alone).map_err(ApiError::internal)?;
    let alone_file = alone.join(&file_name);
    std::fs::hard_link(&staged, &alone_file)
        .or_else(|_| std::fs::copy(&staged, &alone_file).map(|_| ()))
        .map_err(ApiError::internal)?;
    let rulebooks = state.config().rulebooks.clone();
    let read = state.snapshot().area_read();
    // Both reads run on the lane of the generation this upload makes (see
    // `crate::lanes`: what keeps memory flat across uploads).
    let generation = state.snapshot().generation + 1;
    let lane_died = || ApiError::internal("the data thread stopped during the read");
    let checked = {
        let (rulebooks, alone, read) = (rulebooks.clone(), alone.clone(), read.clone());
        state
            .on_lane(generation, move || {
                Snapshot::load(&alone, rulebooks, read, 0).map(|_| ())
            })
            .await
            .ok_or_else(lane_died)?
    };
    std::fs::remove_dir_all(&alone).map_err(ApiError::internal)?;

    // The other tables, as they are now, linked beside the new one.
    let current =
        Dataset::open(&dir).map_err(|e| ApiError::invalid_data(&e, &display_name(&e, &dir)))?;
    let mut replaced: Vec<PathBuf> = Vec::new();
    for t in current.tables() {
        if t.table == table {
            replaced.push(t.path.clone());
            continue;
        }
        let name = t.path.file_name().expect("a table file has a name");
        let link = staging.path().join(name);
        if std::fs::hard_link(&t.path, &link).is_err() {
            std::fs::copy(&t.path, &link).map_err(ApiError::internal)?;
        }
    }

    let staging_dir = staging.path().to_path_buf();
    let loaded = match checked {
        Err(e) => Err(e),
        Ok(()) => state
            .on_lane(generation, move || {
                Snapshot::load(&staging_dir, rulebooks, read, generation)
            })
            .await
            .ok_or_else(lane_died)?,
    };
    let fmt = format.extension();
    let record = |rows: Option<u64>, error: Option<&str>| {
        state
            .store()
            .record_upload(
                table.name(),
                fmt,
                size,
                &sha,
                rows,
                error,
                access.token_id(),
            )
            .map_err(ApiError::internal)
    };
    let snapshot = match loaded {
        Ok(s) => s,
        Err(e) => {
            let name = if e.file() == staged || e.file() == alone_file {
                format!("{file_name} (uploaded)")
            } else {
                display_name(&e, staging.path())
            };
            let err = ApiError::invalid_data(&e, &name);
            record(None, Some(err.message()))?;
            return Err(err);
        }
    };
    let rows = snapshot
        .tables
        .iter()
        .find(|t| t.table == table.name())
        .map(|t| t.rows);
    fault("validated");

    // Apply: one atomic step (the commit record's rename), then its moves.
    let name_of = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let journal = Journal {
        staging: name_of(staging.path()),
        install: file_name.clone(),
        remove: replaced
            .iter()
            .map(|p| name_of(p))
            .filter(|n| *n != file_name)
            .collect(),
        table: table.name().to_string(),
        format: fmt.to_string(),
        bytes: size,
        sha256: sha.clone(),
        rows,
        token_id: access.token_id(),
    };
    commit(&dir, &journal).map_err(ApiError::internal)?;
    // Committed: from here on the new data is the data, even after a crash.
    if let Err(e) = apply(&dir, &journal) {
        // The record stays: the next start finishes the moves.
        return Err(ApiError::internal(format!(
            "the upload is committed but not yet in place ({e}); restart pcs serve to finish it"
        )));
    }
    state.replace(snapshot);
    // The history entry before the commit record goes: a crash in between
    // finds this entry at start-up and does not add it twice.
    let rec = record(rows, None);
    std::fs::remove_file(dir.join(JOURNAL))
        .and_then(|()| sync_dir(&dir))
        .map_err(ApiError::internal)?;
    fault("journal-removed");
    staging.close().map_err(ApiError::internal)?;
    fault("staging-removed");
    rec
}

/// A data error's file as a name in the data directory.
fn display_name(e: &pcs_data::DataError, dir: &Path) -> String {
    e.file()
        .strip_prefix(dir)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| {
            e.file()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
}

/// Makes a rename durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_formats() {
        assert_eq!(parse_table("revenue").unwrap(), Table::Revenue);
        assert_eq!(parse_table("Usage.csv").unwrap(), Table::Usage);
        assert_eq!(parse_table("bogus").unwrap_err().status().as_u16(), 404);
        assert_eq!(
            detect_format(Some("text/csv; charset=utf-8"), b"PAR1"),
            Format::Csv
        );
        assert_eq!(detect_format(None, b"PAR1\x15\x04"), Format::Parquet);
        assert_eq!(
            detect_format(Some("application/octet-stream"), b"partner_id,"),
            Format::Csv
        );
        assert_eq!(
            detect_format(Some("application/vnd.apache.parquet"), b""),
            Format::Parquet
        );
    }
}
