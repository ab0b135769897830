//! Data updates: the tables loaded, a form to upload a table file (CSV or
//! Parquet), the result (the validation error with its line and column, or
//! what was applied) and the upload history.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use maud::{Markup, html};

use super::layout::{Tab, empty};
use super::view::num;
use super::{Page, PageError};
use crate::error::ApiError;
use crate::state::Snapshot;
use crate::store::UploadRecord;
use crate::upload::upload_table;

/// The tables a dataset may hold.
const TABLES: [&str; 4] = ["revenue", "usage", "certifications", "partners"];

/// What the upload page shows after a post.
pub(crate) enum Outcome {
    /// Nothing posted.
    None,
    /// Applied.
    Accepted(UploadRecord),
    /// Rejected: the error (with file, line, column, value in its details).
    Rejected(ApiError),
}

/// `GET /upload`.
pub(crate) async fn page(p: Page) -> Result<Response, PageError> {
    show(&p, Outcome::None)
}

/// `POST /upload` (multipart: `table`, then `file`): streams the file to
/// [`crate::upload::upload_table`], the same path as the API's upload, and
/// shows what happened.
pub(crate) async fn post(p: Page, headers: HeaderMap, body: Body) -> Result<Response, PageError> {
    p.access.require_admin().map_err(|e| p.error(e))?;
    let outcome = match receive(&p, &headers, body).await {
        Ok(record) => Outcome::Accepted(record),
        Err(e) if e.status().is_server_error() => return Err(p.error(e)),
        Err(e) => Outcome::Rejected(e),
    };
    show(&p, outcome)
}

async fn receive(p: &Page, headers: &HeaderMap, body: Body) -> Result<UploadRecord, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        ApiError::bad_request("expected a multipart/form-data form with a table and a file")
    })?;
    let mut form = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut table: Option<String> = None;
    let mut csrf: Option<String> = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("cannot read the form: {e}")))?
    {
        match field.name() {
            Some("table") => {
                let t = field
                    .text()
                    .await
                    .map_err(|e| ApiError::bad_request(format!("cannot read the form: {e}")))?;
                table = Some(t.trim().to_string());
            }
            Some(crate::csrf::FIELD) => {
                csrf =
                    Some(field.text().await.map_err(|e| {
                        ApiError::bad_request(format!("cannot read the form: {e}"))
                    })?);
            }
            Some("file") => {
                // The token comes first in the form: nothing is received without it.
                crate::csrf::check(&p.state, headers, csrf.as_deref())?;
                let table = table.ok_or_else(|| {
                    ApiError::bad_request(
                        "choose the table before the file (the form sends it first)",
                    )
                })?;
                if field.file_name().is_none_or(str::is_empty) {
                    return Err(ApiError::bad_request("choose a file to upload"));
                }
                let ct = field.content_type().map(|m| m.to_string());
                return upload_table(
                    &p.state,
                    &p.access,
                    &table,
                    ct.as_deref(),
                    Body::from_stream(field),
                )
                .await;
            }
            _ => {}
        }
    }
    crate::csrf::check(&p.state, headers, csrf.as_deref())?;
    Err(ApiError::bad_request("the form has no file"))
}

pub(crate) fn show(p: &Page, outcome: Outcome) -> Result<Response, PageError> {
    p.access.require_admin().map_err(|e| p.error(e))?;
    let snap = p.state.snapshot();
    let history = p
        .state
        .store()
        .uploads(20)
        .map_err(|e| p.error(ApiError::internal(e)))?;
    let frame = p.frame("Upload", Tab::Upload, None);
    let status = match &outcome {
        Outcome::Rejected(e) => e.status(),
        _ => axum::http::StatusCode::OK,
    };
    let body = body(&snap, &history, &outcome, p.q("table"), p.sel, &p.csrf);
    Ok(super::html_response(
        status,
        super::layout::layout(&frame, body),
    ))
}

fn detail(e: &ApiError, key: &str) -> Option<String> {
    e.details().get(key).map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// The page body.
pub(crate) fn body(
    snap: &Snapshot,
    history: &[UploadRecord],
    outcome: &Outcome,
    table: Option<&str>,
    sel: super::view::Sel,
    csrf: &str,
) -> Markup {
    let area = snap
        .rulebooks()
        .versions()
        .last()
        .and_then(|rb| rb.title.clone())
        .unwrap_or_else(|| "Business Applications".into());
    html! {
        h1 { "Data" }
        p.sub { "The dataset as loaded (generation " (snap.generation) ", read in " (snap.load_time.as_millis()) " ms at " (snap.loaded_at.strftime("%Y-%m-%d %H:%M:%S UTC")) ")." }
        @match outcome {
            Outcome::None => {}
            Outcome::Accepted(r) => {
                div.msg.ok role="status" #upload-result data-accepted="true" {
                    b { "Applied." } " The " (r.table) " table now holds "
                    (r.rows.map(|n| n.to_string()).unwrap_or_else(|| "?".into())) " rows (" (r.format) ", " (r.bytes) " bytes); every page shows the new data from now on."
                }
            }
            Outcome::Rejected(e) => {
                div.msg.err role="alert" #upload-result data-accepted="false" {
                    b { "Rejected: nothing was changed." } " " (e.message())
                    dl {
                        @for key in ["file", "line", "column", "column_name", "value", "reason"] {
                            @if let Some(v) = detail(e, key) {
                                dt { (key.replace('_', " ")) } dd data-detail=(key) { (v) }
                            }
                        }
                    }
                }
            }
        }
        div.grid2 {
            section.panel aria-labelledby="up-h" {
                h2 #up-h { "Upload a table" }
                p.hint { "A CSV (UTF-8, header row) or Parquet file replaces the table. It is checked with the same rules as " code { "pcs score" } ": a malformed value rejects the whole file, naming its line and column, and the data stays as it was." }
                form #upload method="post" action=(format!("/upload?{}", sel.query())) enctype="multipart/form-data" {
                    input type="hidden" name=(crate::csrf::FIELD) value=(csrf);
                    div.row {
                        label.f {
                            "Table"
                            select name="table" required {
                                @for t in TABLES {
                                    option value=(t) selected[table == Some(t)] { (t) }
                                }
                            }
                        }
                        label.f {
                            "File (.csv or .parquet)"
                            input type="file" name="file" accept=".csv,.parquet,text/csv" required;
                        }
                        button type="submit" { "Upload" }
                    }
                }
            }
            section.panel aria-labelledby="tables-h" {
                h2 #tables-h { "Tables" }
                @if snap.tables.is_empty() {
                    (empty("No table yet."))
                } @else {
                    table {
                        thead { tr { th { "Table" } th { "File" } th.num { "Rows" } th.num { "Bytes" } } }
                        tbody {
                            @for t in &snap.tables {
                                tr data-table=(t.table) data-rows=(t.rows) {
                                    td { (t.table) } td { (t.file) } td.num { (num(t.rows.into())) } td.num { (num(t.bytes.into())) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @let warnings = snap.warnings();
        @if !warnings.is_empty() {
            section.panel aria-labelledby="warn-h" {
                h2 #warn-h { "Warnings" }
                p.hint { "Names the rulebook does not know: these rows count for nothing." }
                ul.plain {
                    @for w in warnings {
                        li { (w.table.name()) ": " (w.describe(&area)) }
                    }
                }
            }
        }
        section.panel aria-labelledby="hist-h" {
            h2 #hist-h { "Upload history" }
            @if history.is_empty() {
                (empty("No upload yet."))
            } @else {
                div.tablewrap {
                    table {
                        thead { tr { th { "When" } th { "Table" } th { "Format" } th.num { "Bytes" } th.num { "Rows" } th { "Result" } } }
                        tbody {
                            @for u in history {
                                tr {
                                    td { (u.at) } td { (u.table) } td { (u.format) } td.num { (u.bytes) }
                                    td.num { (u.rows.map(|r| r.to_string()).unwrap_or_default()) }
                                    td {
                                        @if u.accepted { span.yes { "applied" } }
                                        @else { span.no { "rejected" } @if let Some(e) = &u.error { br; span.mut { (e) } } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
