//! Every error of the server, as JSON: `{"error": {"code", "message", ...}}`.
//!
//! Handlers return [`ApiError`]; its [`IntoResponse`] writes the status and
//! the JSON body. Pages that want HTML read [`ApiError::status`],
//! [`ApiError::code`] and [`ApiError::message`] and render their own.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// An error answered to a client: an HTTP status, a stable machine code, a
/// message for people and optional details (for bad data: file, line,
/// column, value).
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Map<String, Value>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Map::new(),
        }
    }

    /// 400: the request is malformed (bad query, bad JSON, bad scenario).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 404: nothing here, or nothing this token may see (the two look the same).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 404 for a partner that does not exist or is outside the caller's scope.
    pub fn partner_not_found(partner: &str) -> Self {
        Self::not_found(format!("partner '{partner}' not found"))
    }

    /// 401: no credentials, or credentials that are not valid.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: valid credentials whose scope does not allow this action.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 413: the request body is larger than allowed.
    pub fn too_large(limit: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }

    /// 422: a data file was rejected; the details say where and why.
    pub fn invalid_data(e: &pcs_data::DataError, file_name: &str) -> Self {
        let mut err = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_data",
            format!("{file_name}{}", located(e)),
        );
        err.details.insert("file".into(), file_name.into());
        err.details.insert(
            "kind".into(),
            format!("{:?}", e.kind()).to_lowercase().into(),
        );
        if let Some(line) = e.line() {
            err.details.insert("line".into(), line.into());
        }
        if let Some((index, name)) = e.column() {
            err.details.insert("column".into(), index.into());
            err.details.insert("column_name".into(), name.into());
        }
        if let Some(v) = e.value() {
            err.details.insert("value".into(), v.into());
        }
        err.details.insert("reason".into(), e.message().into());
        err
    }

    /// 503: the answer cannot be given now, and asking again will give it
    /// (the data changed while it was being prepared).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// 500: something went wrong on the server; the cause is logged, not sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        eprintln!("pcs serve: internal error: {cause}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error (see the server log)",
        )
    }

    /// Adds a detail field to the JSON error.
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable machine-readable code (`not_found`, `invalid_data`, ...).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The extra fields (file, line, column, value, ...).
    pub fn details(&self) -> &Map<String, Value> {
        &self.details
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut e = Map::new();
        e.insert("code".into(), self.code.into());
        e.insert("message".into(), self.message.clone().into());
        for (k, v) in &self.details {
            e.insert(k.clone(), v.clone());
        }
        json!({ "error": e })
    }
}

/// The location and message of a data error, after its file name:
/// `, line 3, column 6 (month), value '2023-13': ...`.
fn located(e: &pcs_data::DataError) -> String {
    let mut s = String::new();
    if let Some(line) = e.line() {
        s.push_str(&format!(", line {line}"));
    }
    if let Some((i, name)) = e.column() {
        s.push_str(&format!(", column {i} ({name})"));
    }
    if let Some(v) = e.value() {
        s.push_str(&format!(", value '{}'", v.escape_debug()));
    }
    s.push_str(": ");
    s.push_str(e.message());
    s
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                r.body_text(),
            );
        }
        Self::new(r.status(), "bad_request", r.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

impl From<pcs_insights::app::AppError> for ApiError {
    fn from(e: pcs_insights::app::AppError) -> Self {
        match e {
            pcs_insights::app::AppError::Invalid(m) => Self::bad_request(m),
            pcs_insights::app::AppError::NotFound(m) => Self::not_found(m),
        }
    }
}
