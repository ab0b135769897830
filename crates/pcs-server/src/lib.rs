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
pub mod auth;
pub mod error;
pub mod pages;
pub mod reports;
pub mod state;
pub mod store;
pub mod upload;

use axum::Router;
use axum::routing::get;

use state::AppState;

/// The whole application: the JSON API under `/api/v1`, the login routes
/// and the pages, with the body limit and JSON errors.
pub fn app(state: AppState) -> Router {
    let json_limit = state.config().json_limit;
    Router::new()
        .merge(api::routes())
        .route("/login", get(auth::get_login).post(auth::post_login))
        .route("/logout", axum::routing::post(auth::post_logout))
        .merge(pages::routes())
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn(api::json_errors))
        .layer(axum::extract::DefaultBodyLimit::max(json_limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .with_state(state)
}

/// Serves the application on a bound listener until Ctrl-C (or SIGTERM).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown())
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
