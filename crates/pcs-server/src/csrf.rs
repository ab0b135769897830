//! Cross-site request forgery: a state-changing request made by a browser
//! must come from this server's own pages.
//!
//! Two independent checks, both required:
//!
//! 1. [`guard`] (a middleware on every route): a `POST`, `PUT`, `PATCH` or
//!    `DELETE` without an `Authorization` header is refused (403) when the
//!    browser says it comes from elsewhere: `Sec-Fetch-Site` other than
//!    `same-origin`, or an `Origin` other than this server's own (scheme,
//!    host and port; `SameSite` cookies do not cover another port of the same
//!    host, which is "same-site"). An API call with a session cookie (no
//!    bearer token) must also carry the token in the `X-CSRF-Token` header.
//! 2. Every form carries a token ([`token`]) in a hidden field named
//!    [`FIELD`], checked by the handler ([`check`]). With `--auth` it is
//!    derived from the browser's session (so it changes with every login);
//!    otherwise from a server secret kept in the store.
//!
//! Requests with `Authorization: Bearer ...` (scripts) are not affected: a
//! browser never adds that header to a cross-site request without a CORS
//! preflight, which this server never grants.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::auth::{SESSION_COOKIE, cookie};
use crate::error::ApiError;
use crate::state::AppState;

/// The form field that carries the token.
pub const FIELD: &str = "csrf";

/// The header that carries the token on API calls made with a session cookie.
pub const HEADER: &str = "x-csrf-token";

/// The token the forms of a page shown to this request carry.
pub fn token(state: &AppState, headers: &HeaderMap) -> String {
    let session = if state.config().auth {
        cookie(headers, SESSION_COOKIE).unwrap_or("")
    } else {
        ""
    };
    let mut h = Sha256::new();
    h.update(b"pcs csrf v1\0");
    h.update(state.csrf_key().as_bytes());
    h.update(b"\0");
    h.update(session.as_bytes());
    crate::store::hex(&h.finalize())
}

/// 403 unless `given` is the token of this request's forms.
pub fn check(state: &AppState, headers: &HeaderMap, given: Option<&str>) -> Result<(), ApiError> {
    let expected = token(state, headers);
    match given {
        Some(g) if constant_time_eq(g.trim().as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(refused(
            "the form's security token is missing or out of date: reload the page and submit it again",
        )),
    }
}

fn refused(message: &str) -> ApiError {
    ApiError::new(axum::http::StatusCode::FORBIDDEN, "csrf", message)
}

/// Compares without an early exit, so the time taken says nothing about
/// how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the method changes something.
fn changes_state(m: &Method) -> bool {
    !matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// `host[:port]` without the scheme's default port, lower-case.
fn authority(host: &str, https: bool) -> String {
    let host = host.trim().to_ascii_lowercase();
    let default = if https { ":443" } else { ":80" };
    host.strip_suffix(default)
        .map(str::to_string)
        .unwrap_or(host)
}

/// Whether `origin` (the `Origin` header) is this server as the request
/// reached it (`host`: the `Host` header or the URI's authority).
pub fn same_origin(origin: &str, host: &str, tls: bool) -> bool {
    let (https, rest) = if let Some(r) = origin.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = origin.strip_prefix("http://") {
        (false, r)
    } else {
        return false; // "null", other schemes
    };
    // Behind a TLS-terminating proxy the server sees http while the page
    // is https; serving TLS itself, only https is this server.
    if tls && !https {
        return false;
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
        return false;
    }
    authority(rest, https) == authority(host, https)
}

/// Why a state-changing request is refused as cross-site, if it is.
fn cross_site(state: &AppState, req: &Request) -> Option<&'static str> {
    let h = req.headers();
    if let Some(site) = h.get("sec-fetch-site")
        && site.as_bytes() != b"same-origin"
    {
        return Some("this request comes from another site or origin (Sec-Fetch-Site)");
    }
    if let Some(origin) = h.get(header::ORIGIN) {
        let host = h
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()));
        let ok = match (origin.to_str(), host) {
            (Ok(o), Some(host)) => same_origin(o, host, state.config().tls),
            _ => false,
        };
        if !ok {
            return Some("this request comes from another origin (Origin)");
        }
    }
    None
}

/// The middleware: refuses state-changing browser requests from elsewhere
/// (see the module's documentation).
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !changes_state(req.method()) || req.headers().contains_key(header::AUTHORIZATION) {
        return next.run(req).await;
    }
    let api = req.uri().path().starts_with("/api/");
    if let Some(why) = cross_site(&state, &req) {
        return reject(&state, api, refused(&format!("refused: {why}")));
    }
    if api && state.config().auth && cookie(req.headers(), SESSION_COOKIE).is_some() {
        let given = req.headers().get(HEADER).and_then(|v| v.to_str().ok());
        if let Err(e) = check(&state, req.headers(), given) {
            return reject(&state, api, e);
        }
    }
    next.run(req).await
}

fn reject(state: &AppState, api: bool, e: ApiError) -> Response {
    if api {
        e.into_response()
    } else {
        crate::pages::bare_error(e, state).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_scheme_host_and_port() {
        assert!(same_origin(
            "http://127.0.0.1:8080",
            "127.0.0.1:8080",
            false
        ));
        assert!(same_origin(
            "http://LOCALHOST:8080",
            "localhost:8080",
            false
        ));
        assert!(same_origin("http://example.com", "example.com:80", false));
        assert!(same_origin("https://example.com", "example.com", false));
        assert!(same_origin("https://example.com:443", "example.com", true));
        // Another port of the same host is the same site, not the same origin.
        assert!(!same_origin(
            "http://127.0.0.1:38999",
            "127.0.0.1:8080",
            false
        ));
        assert!(!same_origin("http://evil.example", "127.0.0.1:8080", false));
        assert!(!same_origin("null", "127.0.0.1:8080", false));
        assert!(!same_origin("http://example.com", "example.com", true));
        assert!(!same_origin("http://a@example.com", "example.com", false));
        assert!(!same_origin("http://", "", false));
    }

    #[test]
    fn comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(changes_state(&Method::POST) && changes_state(&Method::DELETE));
        assert!(!changes_state(&Method::GET));
    }
}
