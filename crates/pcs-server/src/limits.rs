//! Rate limits, with [tower_governor] (the GCRA of the `governor` crate):
//!
//! - **login**: `POST /login` attempts per client address
//!   ([`crate::state::Config::login_per_minute`]), so tokens cannot be
//!   guessed at speed;
//! - **per token** (with `--auth`): requests per second per credential (the
//!   bearer token or the browser session; requests without one count per
//!   client address) ([`crate::state::Config::token_per_second`]).
//!
//! Over the limit a request answers 429 with `Retry-After` (JSON
//! `too_many_requests`, or a short page for the login form). A background
//! task forgets idle keys once a minute, so the limiter's memory follows the
//! clients seen lately, not all clients ever.

use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use sha2::{Digest, Sha256};
use tower_governor::GovernorError;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;

use crate::auth::{SESSION_COOKIE, cookie};
use crate::error::ApiError;

/// The client's address as the connection shows it (unspecified when the
/// server was started without connection info, as in some tests).
fn peer(req: &Request<impl Sized>) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Keys login attempts by client address.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress;

impl KeyExtractor for ClientAddress {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<IpAddr, GovernorError> {
        Ok(peer(req))
    }
}

/// What a request is counted under: its credential, else its address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CredentialKey {
    /// SHA-256 of the bearer token or of the session secret.
    Credential([u8; 32]),
    /// No credential: the client address.
    Address(IpAddr),
}

/// Keys requests by bearer token or session cookie.
#[derive(Clone, Copy, Debug)]
pub struct Credential;

impl KeyExtractor for Credential {
    type Key = CredentialKey;

    fn extract<T>(&self, req: &Request<T>) -> Result<CredentialKey, GovernorError> {
        let h = req.headers();
        let secret = h
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes())
            .or_else(|| cookie(h, SESSION_COOKIE).map(str::as_bytes));
        Ok(match secret {
            Some(s) => CredentialKey::Credential(Sha256::digest(s).into()),
            None => CredentialKey::Address(peer(req)),
        })
    }
}

/// A GCRA quota of `count` requests per `period`, as a burst of `count`.
fn config<K: KeyExtractor>(
    key: K,
    count: u32,
    period: Duration,
) -> Option<GovernorConfig<K, governor::middleware::NoOpMiddleware>> {
    if count == 0 {
        return None;
    }
    let nanos = (period.as_nanos() / u128::from(count)).max(1);
    GovernorConfigBuilder::default()
        .key_extractor(key)
        .per_nanosecond(u64::try_from(nanos).unwrap_or(u64::MAX))
        .burst_size(count)
        .finish()
}

/// Forgets idle keys once a minute while the limiter lives.
fn sweep<K>(config: &Arc<GovernorConfig<K, governor::middleware::NoOpMiddleware>>)
where
    K: KeyExtractor + Send + Sync + 'static,
    K::Key: Send + Sync + 'static,
{
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak: Weak<_> = Arc::downgrade(config);
    rt.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(c) = weak.upgrade() else { break };
            c.limiter().retain_recent();
            c.limiter().shrink_to_fit();
        }
    });
}

fn wait_of(e: &GovernorError) -> u64 {
    match e {
        GovernorError::TooManyRequests { wait_time, .. } => (*wait_time).max(1),
        _ => 1,
    }
}

fn with_retry_after(mut r: Response<Body>, wait: u64) -> Response<Body> {
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    r
}

/// The answer over the limit of an API or page request: JSON 429.
fn too_many(e: GovernorError) -> Response<Body> {
    if !matches!(e, GovernorError::TooManyRequests { .. }) {
        return ApiError::internal(format!("rate limiter: {e:?}")).into_response();
    }
    let wait = wait_of(&e);
    with_retry_after(
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("too many requests with this token: try again in {wait} s"),
        )
        .with_detail("retry_after", wait)
        .into_response(),
        wait,
    )
}

/// The answer over the login limit: a short page (browsers post the form).
fn too_many_logins(e: GovernorError) -> Response<Body> {
    if !matches!(e, GovernorError::TooManyRequests { .. }) {
        return ApiError::internal(format!("rate limiter: {e:?}")).into_response();
    }
    let wait = wait_of(&e);
    let page = crate::pages::login_limited_page(wait);
    with_retry_after(
        (StatusCode::TOO_MANY_REQUESTS, axum::response::Html(page)).into_response(),
        wait,
    )
}

/// The login limit's layer (`None` when off).
pub fn login_layer(
    per_minute: u32,
) -> Option<tower_governor::GovernorLayer<ClientAddress, governor::middleware::NoOpMiddleware, Body>>
{
    let c = Arc::new(config(ClientAddress, per_minute, Duration::from_secs(60))?);
    sweep(&c);
    Some(tower_governor::GovernorLayer::new(c).error_handler(too_many_logins))
}

/// The per-token limit's layer (`None` when off).
pub fn token_layer(
    per_second: u32,
) -> Option<tower_governor::GovernorLayer<Credential, governor::middleware::NoOpMiddleware, Body>> {
    let c = Arc::new(config(Credential, per_second, Duration::from_secs(1))?);
    sweep(&c);
    Some(tower_governor::GovernorLayer::new(c).error_handler(too_many))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_key_by_their_hash_and_others_by_address() {
        let bearer = Request::builder()
            .header("authorization", "Bearer pcs_x")
            .body(())
            .unwrap();
        let session = Request::builder()
            .header("cookie", "a=1; pcs_session=s_y")
            .body(())
            .unwrap();
        let none = Request::builder().body(()).unwrap();
        let k = |r: &Request<()>| Credential.extract(r).unwrap();
        assert_eq!(
            k(&bearer),
            CredentialKey::Credential(Sha256::digest(b"Bearer pcs_x").into())
        );
        assert_eq!(
            k(&session),
            CredentialKey::Credential(Sha256::digest(b"s_y").into())
        );
        assert_eq!(
            k(&none),
            CredentialKey::Address(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        );
        assert!(config(ClientAddress, 0, Duration::from_secs(60)).is_none());
        assert!(config(ClientAddress, 10, Duration::from_secs(60)).is_some());
    }
}
