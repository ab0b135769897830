//! The HTML dashboard: overview, metric detail, customers, skilling,
//! history, simulator and upload pages, rendered on the server from
//! [`crate::reports`], the same data as the JSON API.
//!
//! Pages are [maud] templates: HTML checked at compile time, every
//! interpolated value escaped. They work without JavaScript; the embedded
//! script only adds partner suggestions and "add a row" buttons. Every page
//! is for a month (`?month=YYYY-MM`, evaluated on its last day) or a date
//! (`?date=YYYY-MM-DD`, the refresh-by-the-20th rule); without either it is
//! for the month whose latest month is the newest complete month of the data
//! (the newest month in which as many partners have data as in any month),
//! never later than today's.

mod area;
mod area_pages;
pub(crate) mod assets;
mod chart;
mod customers;
mod history;
mod layout;
mod metrics;
mod overview;
mod simulator;
mod skilling;
mod upload;
mod view;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use pcs_core::calendar::Month;

use crate::auth::{Access, authenticate};
use crate::error::ApiError;
use crate::reports::{Reports, parse_when};
use crate::state::{AppState, When};

use layout::{Frame, Tab, layout};
pub use layout::{login_limited_page, login_page};
use view::Sel;

/// The routes of the HTML pages, merged into the application router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::home))
        .route("/partners", get(overview::find))
        .route("/partners/{id}", get(area::summary))
        .route("/partners/{id}/areas/{area}", get(area::page))
        .route("/partners/{id}/metrics", get(metrics::all))
        .route("/partners/{id}/metrics/{metric}", get(metrics::one))
        .route("/partners/{id}/customers", get(customers::page))
        .route("/partners/{id}/customers.csv", get(customers::download))
        .route("/partners/{id}/skilling", get(skilling::page))
        .route("/partners/{id}/skilling.csv", get(skilling::download))
        .route("/partners/{id}/history", get(history::page))
        .route(
            "/partners/{id}/simulate",
            get(simulator::page).post(simulator::post),
        )
        .route("/upload", get(upload::page).post(upload::post))
        .route("/assets/style.css", get(assets::style))
        .route("/assets/app.js", get(assets::script))
        .route("/assets/icon.svg", get(assets::icon))
        .route("/favicon.ico", get(assets::icon))
}

// ---------------------------------------------------------------- the request

/// What every page handler starts from: who asks, for which month or date,
/// and the other query values.
pub(crate) struct Page {
    state: AppState,
    access: Access,
    sel: Sel,
    /// The query values (the last one of a repeated name).
    query: HashMap<String, String>,
    /// The CSRF token of this request's forms.
    csrf: String,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let csrf = crate::csrf::token(state, &parts.headers);
        let access = match authenticate(state, &parts.headers) {
            Ok(a) => a,
            Err(e) if e.status() == StatusCode::UNAUTHORIZED => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into());
                return Err(PageError::Login(next));
            }
            Err(e) => return Err(PageError::bare(e, state, &csrf)),
        };
        let query: HashMap<String, String> = Query::try_from_uri(&parts.uri)
            .map(|Query(q)| q)
            .map_err(|e| PageError::bare(ApiError::bad_request(e.body_text()), state, &csrf))?;
        let nonempty = |k: &str| query.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let when = parse_when(nonempty("month"), nonempty("date"), state.today())
            .map_err(|e| PageError::bare(e, state, &csrf))?;
        let sel = match when {
            When::Month(m) => Sel::Month(m),
            When::Date(d) => Sel::Date(d),
            When::Today(_) => default_sel(state),
        };
        Ok(Page {
            state: state.clone(),
            access,
            sel,
            query,
            csrf,
        })
    }
}

impl Page {
    /// A query value, trimmed, if given and not empty.
    fn q(&self, name: &str) -> Option<&str> {
        self.query
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A whole-number query value with bounds and a default; 400 otherwise.
    fn number(&self, name: &str, default: u32, max: u32) -> Result<u32, PageError> {
        match self.q(name) {
            None => Ok(default),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n <= max => Ok(n),
                _ => Err(self.error(ApiError::bad_request(format!(
                    "{name}: '{v}' is not a whole number between 0 and {max}"
                )))),
            },
        }
    }

    /// Opens a partner's reports (404 outside the scope or not in the data),
    /// with the source lines of the period's explanations.
    async fn reports(&self, partner: &str) -> Result<Reports, PageError> {
        self.reports_for(partner, crate::reports::Lines::Ba).await
    }

    /// As [`Page::reports`], with the source lines `lines` names.
    async fn reports_for(
        &self,
        partner: &str,
        lines: crate::reports::Lines,
    ) -> Result<Reports, PageError> {
        Reports::open_for(&self.state, &self.access, partner, self.sel.when(), lines)
            .await
            .map_err(|e| self.error(e))
    }

    /// Opens a partner's reports for pages of sums only (the summary, the history).
    fn reports_sums(&self, partner: &str) -> Result<Reports, PageError> {
        Reports::open_sums(&self.state, &self.access, partner, self.sel.when())
            .map_err(|e| self.error(e))
    }

    /// The frame of a page, for a partner or none.
    fn frame(&self, title: impl Into<String>, tab: Tab, r: Option<&Reports>) -> Frame {
        let month = match r {
            Some(r) => r.period().month,
            None => self.month(),
        };
        Frame {
            title: title.into(),
            tab,
            partner: r.map(|r| (r.partner_id().to_string(), r.facts().name.clone())),
            sel: self.sel,
            month,
            can_upload: self.access.is_admin(),
            auth: self.state.config().auth,
            csrf: self.csrf.clone(),
            area: None,
            areas: crate::areas::titles(self.state.config().rulebooks.as_ref()),
        }
    }

    /// The month M the selection scores (without a partner).
    fn month(&self) -> Month {
        match self.sel {
            Sel::Month(m) => m,
            Sel::Date(_) => {
                let snap = self.state.snapshot();
                self.state
                    .period(&snap, self.sel.when())
                    .map(|p| p.month)
                    .unwrap_or_else(|_| Month::of(self.state.today()))
            }
        }
    }

    /// An error page in this request's frame.
    fn error(&self, e: ApiError) -> PageError {
        PageError::Page(Box::new((e, self.frame("Error", Tab::None, None))))
    }

    /// A page in the frame.
    fn render(&self, frame: &Frame, body: Markup) -> Response {
        html_response(StatusCode::OK, layout(frame, body))
    }
}

fn html_response(status: StatusCode, m: Markup) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(m.into_string()),
    )
        .into_response()
}

// ---------------------------------------------------------------- the default month

/// The month a page shows when none is asked for: the one whose latest
/// month is the newest complete month of the data, but not after today's.
fn default_sel(state: &AppState) -> Sel {
    let today = state.today();
    match state.snapshot().default_month(today) {
        Some(m) => Sel::Month(m),
        None => Sel::Date(today),
    }
}

// ---------------------------------------------------------------- errors

/// A page that could not be shown: a login redirect, or an error page in
/// the dashboard's frame (404 for a partner outside the scope, 400 for a bad
/// query value, ...).
pub(crate) enum PageError {
    /// No credentials: go to the login page, then back here.
    Login(String),
    /// An error shown as a page.
    Page(Box<(ApiError, Frame)>),
}

impl PageError {
    /// An error page before the request's month is known.
    fn bare(e: ApiError, state: &AppState, csrf: &str) -> PageError {
        let month = Month::of(state.today());
        PageError::Page(Box::new((
            e,
            Frame {
                title: "Error".into(),
                tab: Tab::None,
                partner: None,
                sel: Sel::Month(month),
                month,
                can_upload: false,
                auth: state.config().auth,
                csrf: csrf.to_string(),
                area: None,
                areas: Vec::new(),
            },
        )))
    }
}

/// An error page outside a page handler (a refused cross-site request):
/// the dashboard's frame without a logout form (no token to give it).
pub(crate) fn bare_error(e: ApiError, state: &AppState) -> Response {
    let mut page = PageError::bare(e, state, "");
    if let PageError::Page(b) = &mut page {
        b.1.auth = false;
    }
    page.into_response()
}

/// The body of an error page.
fn error_body(e: &ApiError) -> Markup {
    let heading = match e.status() {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::BAD_REQUEST => "That request is not valid",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "Too large",
        StatusCode::UNPROCESSABLE_ENTITY => "The data was rejected",
        s if s.is_server_error() => "Something went wrong",
        _ => "Error",
    };
    html! {
        div.panel data-error-code=(e.code()) {
            h1 { (heading) }
            div.msg.err role="alert" { (e.message()) }
            p { a href="/" { "Back to the partner list" } }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login(next) => {
                Redirect::to(&format!("/login?next={}", view::enc(&next))).into_response()
            }
            PageError::Page(b) => {
                let (e, mut frame) = *b;
                frame.title = format!("{} {}", e.status().as_u16(), e.code());
                html_response(e.status(), layout(&frame, error_body(&e)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pages_escape_the_message_and_keep_the_status() {
        let e = ApiError::not_found("partner '<b>x</b>' not found");
        let frame = Frame {
            title: String::new(),
            tab: Tab::None,
            partner: None,
            sel: Sel::Month("2023-11".parse().unwrap()),
            month: "2023-11".parse().unwrap(),
            can_upload: false,
            auth: false,
            csrf: String::new(),
            area: None,
            areas: Vec::new(),
        };
        let r = PageError::Page(Box::new((e, frame))).into_response();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        let html = error_body(&ApiError::not_found("partner '<b>x</b>' not found")).into_string();
        assert!(
            html.contains("partner &#39;&lt;b&gt;x&lt;/b&gt;&#39; not found")
                || html.contains("partner '&lt;b&gt;x&lt;/b&gt;' not found"),
            "{html}"
        );
        assert!(html.contains("data-error-code=\"not_found\""));
    }

    #[test]
    fn the_complete_month_is_the_newest_with_the_most_partners() {
        use pcs_core::facts::{FactsBuilder, MonthFilter, RevenueRow};
        let set = pcs_core::rulebook::RulebookSet::builtin();
        let rb = &set.versions()[0];
        let mut b = FactsBuilder::new(rb, MonthFilter::All, false);
        let rows = [
            ("P1", "2023-09"),
            ("P2", "2023-09"),
            ("P1", "2023-10"),
            ("P2", "2023-10"),
            ("P3", "2023-10"),
            ("P1", "2023-11"),
            ("P1", "2023-11"),
            ("P3", "2023-11"),
        ];
        for (partner, month) in rows {
            b.add_revenue(&RevenueRow {
                partner_id: partner,
                customer_tenant_id: "t",
                customer_name: None,
                subscription_id: None,
                workload: "Sales",
                month: month.parse().unwrap(),
                revenue_usd: pcs_core::Decimal::ONE_HUNDRED,
                association: "CSP Tier 1",
                line: 0,
            });
        }
        let facts = b.finish();
        // 2023-11 has two partners of the three: still being filled.
        assert_eq!(
            crate::state::complete_month(facts.partners.values()),
            Some("2023-10".parse().unwrap())
        );
        let only_p1 = facts.partners.get("P1").into_iter();
        assert_eq!(
            crate::state::complete_month(only_p1),
            Some("2023-11".parse().unwrap())
        );
        assert_eq!(crate::state::complete_month(std::iter::empty()), None);
    }

    #[test]
    fn login_redirects_keep_the_page() {
        let r = PageError::Login("/partners/1?month=2023-11".into()).into_response();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()[header::LOCATION],
            "/login?next=%2Fpartners%2F1%3Fmonth%3D2023-11"
        );
    }
}
