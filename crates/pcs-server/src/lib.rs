//! `pcs serve`: the dashboard and the JSON API over a dataset directory.
//!
//! The server reads the dataset once into a [`state::Snapshot`] (every
//! month, with source lines) and answers every request from it; an accepted
//! upload reads the dataset again with the new table and swaps the snapshot
//! atomically. The same [`reports`] functions feed the JSON API ([`api`])
//! and the HTML pages ([`pages`]), so the two always agree. Tokens, browser
//! sessions, saved scenarios and the upload history live in an SQLite
//! database in the data directory ([`store`]).
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let state = pcs_server::state::AppState::open(pcs_server::state::Config::new("examples/contoso"))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! pcs_server::serve(listener, state).await?;
//! # Ok(()) }
//! ```

pub mod api;
pub mod areas;
pub mod auth;
pub mod csrf;
pub mod error;
mod lanes;
pub mod limits;
pub mod pages;
pub mod reports;
pub mod state;
pub mod store;
pub mod upload;

use axum::Router;
use axum::routing::get;

use state::AppState;

/// The Content-Security-Policy of every response: the pages load their
/// one script, stylesheet and icon from this server and nothing else; no
/// inline script or style, no frames, forms post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every response (pages, API, assets, errors).
async fn security_headers(
    axum::extract::State(tls): axum::extract::State<bool>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `same-origin`, not `no-referrer`: with `no-referrer` browsers send
    // `Origin: null` on the dashboard's own form posts, which the CSRF
    // check would refuse.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    if tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    r
}

/// The whole application: the JSON API under `/api/v1`, the login routes
/// and the pages, with the body limit and JSON errors.
pub fn app(state: AppState) -> Router {
    let json_limit = state.config().json_limit;
    let mut login = axum::routing::post(auth::post_login);
    if let Some(limit) = limits::login_layer(state.config().login_per_minute) {
        login = login.layer(limit);
    }
    let mut router = Router::new()
        .merge(api::routes())
        .route("/login", get(auth::get_login).merge(login))
        .route("/logout", axum::routing::post(auth::post_logout))
        .merge(pages::routes())
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::guard,
        ))
        .layer(axum::middleware::from_fn(api::json_errors));
    if state.config().auth
        && let Some(limit) = limits::token_layer(state.config().token_per_second)
    {
        router = router.layer(limit);
    }
    router
        .layer(axum::extract::DefaultBodyLimit::max(json_limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.config().tls,
            security_headers,
        ))
        .with_state(state)
}

/// Serves the application on a bound listener until Ctrl-C (or SIGTERM).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
}

/// A TLS certificate chain and its private key (PEM files), for HTTPS.
#[derive(Clone)]
pub struct Tls(axum_server::tls_rustls::RustlsConfig);

impl Tls {
    /// Reads the certificate chain and the key (PEM), with rustls.
    pub async fn load(cert: &std::path::Path, key: &std::path::Path) -> std::io::Result<Tls> {
        axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
            .await
            .map(Tls)
    }
}

/// Serves the application over HTTPS (rustls) on a bound listener until
/// Ctrl-C (or SIGTERM). The state's configuration should say `tls`, so
/// cookies are `Secure`.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Tls,
) -> std::io::Result<()> {
    let handle = axum_server::Handle::new();
    let stop = handle.clone();
    tokio::spawn(async move {
        shutdown().await;
        stop.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    axum_server::from_tcp_rustls(listener.into_std()?, tls.0)?
        .handle(handle)
        .serve(app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
