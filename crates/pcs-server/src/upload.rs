//! Table uploads: validated with the CLI's reader and errors, applied
//! atomically.
//!
//! The body is streamed into a staging directory inside the data directory
//! (so the final rename stays on one file system), next to hard links of the
//! other tables. The whole staged dataset is then read exactly as at start;
//! the first malformed value rejects the upload with its file, line, column
//! and value, and nothing changes on disk or in memory. An accepted table is
//! synced, renamed over the old one, the directory synced, and the snapshot
//! read from the staging directory becomes the current one. Every attempt
//! is recorded in the upload history.

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
        .prefix(".pcs-upload-")
        .tempdir_in(&dir)
        .map_err(ApiError::internal)?;
    let received = staging.path().join(format!("{}.upload", table.name()));
    let (size, sha, head) = receive(body, &received, state.config().upload_limit).await?;
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
    let checked = {
        let (rulebooks, alone) = (rulebooks.clone(), alone.clone());
        tokio::task::spawn_blocking(move || Snapshot::load(&alone, rulebooks, 0).map(|_| ()))
            .await
            .map_err(ApiError::internal)?
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

    let generation = state.snapshot().generation + 1;
    let staging_dir = staging.path().to_path_buf();
    let loaded = match checked {
        Err(e) => Err(e),
        Ok(()) => {
            tokio::task::spawn_blocking(move || Snapshot::load(&staging_dir, rulebooks, generation))
                .await
                .map_err(ApiError::internal)?
        }
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

    // Apply: the new file replaces the old one by rename; a table that
    // changes format loses its old file right after.
    let dest = dir.join(&file_name);
    std::fs::rename(&staged, &dest).map_err(ApiError::internal)?;
    for old in replaced {
        if old != dest {
            std::fs::remove_file(&old).map_err(ApiError::internal)?;
        }
    }
    sync_dir(&dir).map_err(ApiError::internal)?;
    state.replace(snapshot);
    let rec = record(rows, None)?;
    Ok(rec)
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
