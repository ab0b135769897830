//! Who is asking, and what they may see.
//!
//! Without `--auth` every request may see everything (the server then binds
//! loopback only). With `--auth` a request carries a token, either as
//! `Authorization: Bearer TOKEN` (scripts) or as the session cookie set by
//! `POST /login` (browsers). A token is scoped to all partners or to one;
//! [`Access::require`] answers 404 for a partner outside the scope, exactly
//! as for a partner that does not exist, so a reseller cannot even learn
//! which other partners are in the data.

use axum::extract::{Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Scope;

/// The name of the browser session cookie.
pub const SESSION_COOKIE: &str = "pcs_session";

/// The caller's access: its scope and, with auth, its token.
#[derive(Clone, Debug)]
pub struct Access {
    scope: Scope,
    token_id: Option<i64>,
}

impl Access {
    /// Access to everything (the server runs without `--auth`).
    pub fn everything() -> Access {
        Access {
            scope: Scope::All,
            token_id: None,
        }
    }

    /// The scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The token's row id (none without auth).
    pub fn token_id(&self) -> Option<i64> {
        self.token_id
    }

    /// Whether the caller sees every partner (and may upload).
    pub fn is_admin(&self) -> bool {
        self.scope == Scope::All
    }

    /// The one partner the caller is limited to, if any.
    pub fn only_partner(&self) -> Option<&str> {
        match &self.scope {
            Scope::All => None,
            Scope::Partner(p) => Some(p),
        }
    }

    /// Whether the caller may see this partner.
    pub fn allows(&self, partner: &str) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Partner(p) => p == partner,
        }
    }

    /// 404 (the same answer as for a partner not in the data) unless the
    /// caller may see this partner.
    pub fn require(&self, partner: &str) -> Result<(), ApiError> {
        if self.allows(partner) {
            Ok(())
        } else {
            Err(ApiError::partner_not_found(partner))
        }
    }

    /// 403 unless the caller sees every partner (uploads, token lists).
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "this needs a token scoped to all partners",
            ))
        }
    }
}

/// The value of a cookie in the request headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Checks a bearer token or a session against the store.
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Access, ApiError> {
    if !state.config().auth {
        return Ok(Access::everything());
    }
    let store = state.store();
    let info = if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::unauthorized("expected 'Authorization: Bearer TOKEN'"))?;
        store
            .verify_token(token.trim())
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::unauthorized("the token is not valid (unknown or revoked)"))?
    } else if let Some(session) = cookie(headers, SESSION_COOKIE) {
        store
            .verify_session(session)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::unauthorized("the session has expired: log in again"))?
    } else {
        return Err(ApiError::unauthorized(
            "this server needs a token: send 'Authorization: Bearer TOKEN' or log in at /login",
        ));
    };
    Ok(Access {
        scope: info.scope,
        token_id: Some(info.id),
    })
}

impl FromRequestParts<AppState> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, &parts.headers)
    }
}

// ---------------------------------------------------------------- login

/// The login form's fields.
#[derive(serde::Deserialize)]
pub struct LoginForm {
    /// The token.
    pub token: String,
    /// Where to go after logging in (a local path).
    #[serde(default)]
    pub next: Option<String>,
    /// The form's CSRF token ([`crate::csrf`]).
    #[serde(default)]
    pub csrf: Option<String>,
}

/// The login page (the dashboard's, [`crate::pages::login_page`]).
pub fn login_page(error: Option<&str>, next: Option<&str>, csrf: &str) -> Html<String> {
    Html(crate::pages::login_page(error, next, csrf))
}

/// Whether a path is one of this site's own: `/x`, never `//x` (another
/// host), never a backslash (`/\x` is `//x` to browsers), never a control
/// or white-space character (browsers drop tabs and line feeds, so
/// `/\t/host` would become `//host`).
fn is_local(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && !p.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// A local path to go to after login: `next` when it is one of this site's
/// paths, as written and once percent-decoded (so `/%2F/host` and `/%5Chost`
/// are refused too), else `/`. The answer is always a valid `Location`
/// value: characters outside ASCII are percent-encoded.
pub fn local_path(next: Option<&str>) -> String {
    let Some(p) = next else {
        return "/".into();
    };
    let decoded = percent_encoding::percent_decode_str(p).decode_utf8_lossy();
    if !is_local(p) || !is_local(&decoded) {
        return "/".into();
    }
    let mut out = String::with_capacity(p.len());
    for c in p.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// A 303 to a path [`local_path`] accepted.
fn see_other(path: &str) -> Response {
    match HeaderValue::from_str(path) {
        Ok(v) => (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response(),
        Err(_) => Redirect::to("/").into_response(),
    }
}

/// The session cookie's attributes (`Secure` when the server serves HTTPS).
fn cookie_attributes(state: &AppState) -> &'static str {
    if state.config().tls {
        "Path=/; HttpOnly; SameSite=Strict; Secure"
    } else {
        "Path=/; HttpOnly; SameSite=Strict"
    }
}

/// `GET /login`.
pub async fn get_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Html<String> {
    login_page(
        None,
        q.get("next").map(String::as_str),
        &crate::csrf::token(&state, &headers),
    )
}

/// `POST /login` (form: token, next, csrf): sets the session cookie and redirects.
pub async fn post_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = local_path(f.next.as_deref());
    let csrf = crate::csrf::token(&state, &headers);
    if let Err(e) = crate::csrf::check(&state, &headers, f.csrf.as_deref()) {
        return (
            e.status(),
            login_page(Some(e.message()), Some(&next), &csrf),
        )
            .into_response();
    }
    if !state.config().auth {
        return see_other(&next);
    }
    let info = match state.store().verify_token(f.token.trim()) {
        Ok(Some(i)) => i,
        Ok(None) => {
            return (
                StatusCode::UNAUTHORIZED,
                login_page(Some("That token is not valid."), Some(&next), &csrf),
            )
                .into_response();
        }
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let session = match state.store().create_session(info.id) {
        Ok(s) => s,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let cookie = format!(
        "{SESSION_COOKIE}={session}; {}; Max-Age={}",
        cookie_attributes(&state),
        crate::store::SESSION_SECONDS
    );
    let mut r = see_other(&next);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// The logout form's fields.
#[derive(serde::Deserialize)]
pub struct LogoutForm {
    /// The form's CSRF token.
    #[serde(default)]
    pub csrf: Option<String>,
}

/// `POST /logout` (form: csrf): ends the session and clears the cookie.
pub async fn post_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LogoutForm>,
) -> Response {
    if let Err(e) = crate::csrf::check(&state, &headers, f.csrf.as_deref()) {
        return crate::pages::bare_error(e, &state).into_response();
    }
    if let Some(s) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state.store().delete_session(s)
    {
        return ApiError::internal(e).into_response();
    }
    let mut r = Redirect::to("/login").into_response();
    let clear = format!(
        "{SESSION_COOKIE}=; {}; Max-Age=0",
        cookie_attributes(&state)
    );
    if let Ok(v) = HeaderValue::from_str(&clear) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_scope_allows_only_its_partner() {
        let a = Access {
            scope: Scope::Partner("P1".into()),
            token_id: Some(1),
        };
        assert!(a.allows("P1"));
        assert!(!a.allows("P2"));
        assert_eq!(a.require("P2").unwrap_err().status(), StatusCode::NOT_FOUND);
        assert_eq!(
            a.require_admin().unwrap_err().status(),
            StatusCode::FORBIDDEN
        );
        assert!(Access::everything().require("P2").is_ok());
    }

    #[test]
    fn cookies_and_redirects() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; pcs_session=xyz"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "b"), None);
        assert_eq!(local_path(Some("/partners/1")), "/partners/1");
        assert_eq!(
            local_path(Some("/partners/1?month=2023-11")),
            "/partners/1?month=2023-11"
        );
        assert_eq!(local_path(Some("/partners/é")), "/partners/%C3%A9");
        assert_eq!(local_path(None), "/");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/\t/127.0.0.1:38999/pwned.html",
            "/\n",
            "\r\n",
            "/\u{7f}",
            "/\0",
            "/x\u{85}",
            "/%2F/evil.example",
            "/%5Cevil.example",
            "/%09/evil.example",
            "/%0a",
            "/ /x",
            "",
            "evil.example",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad:?}");
        }
    }
}
