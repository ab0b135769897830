//! The JSON API under `/api/v1`, and its OpenAPI document (generated from
//! the handlers' annotations by utoipa; the router and the document are
//! built from the same list, so every route is documented).
//!
//! Every partner route checks the caller's scope first: a partner outside
//! it answers 404, as one that does not exist. Report bodies are the same
//! serialisation as the CLI's `--format json` (numbers tidied), and the
//! score is exactly the contract's score object.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pcs_core::contract::{score_object, tidy_numbers};
use pcs_core::score::Detail;
use pcs_insights::plan;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Access;
use crate::error::ApiError;
use crate::reports::{Lines, Reports, blocking, parse_when};
use crate::state::{AppState, PartnerEntry, SOLUTION_AREA, When};
use crate::store::{SavedScenario, UploadRecord};
use pcs_insights::app;

/// The API's description (paths are added from the router).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "pcs",
        description = "The Partner Capability Score of the six Solutions Partner designations: each area's score (`score?area=`) and the qualification summary of all six; Business Applications' explanations, reports, what-if simulations; data uploads. With `pcs serve --auth`, send `Authorization: Bearer TOKEN`; a token scoped to one partner sees only that partner (others answer 404).",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(ErrorBody, ErrorDetail, RecommendationObject)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(dataset))
        .routes(routes!(partners))
        .routes(routes!(score))
        .routes(routes!(summary))
        .routes(routes!(explain))
        .routes(routes!(customers))
        .routes(routes!(skilling))
        .routes(routes!(history))
        .routes(routes!(simulate))
        .routes(routes!(recommendations))
        .routes(routes!(plan_get, plan_post))
        .routes(routes!(list_scenarios, save_scenario))
        .routes(routes!(get_scenario, delete_scenario))
        .routes(routes!(upload))
        .routes(routes!(uploads))
}

/// Documents the error answers every operation can give (each a JSON
/// [`ErrorBody`]), where its annotation does not already: a bad query or
/// path value (400), no or a bad token (401), a scope or CSRF refusal
/// (403), nothing there (404), over the rate limit (429), a server error
/// (500), data replaced while answering (503); with a request body also 413, 415 and 422.
struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                let mut codes = vec![
                    ("400", "The request is not valid (a query or path value)"),
                    (
                        "401",
                        "No token, or a token that is not valid (with --auth)",
                    ),
                    (
                        "403",
                        "The token's scope does not allow this, or a cross-site request",
                    ),
                    ("404", "Not found, or outside the token's scope"),
                    (
                        "429",
                        "Too many requests with this token (Retry-After says when to retry)",
                    ),
                    ("500", "A server error"),
                    (
                        "503",
                        "The data was replaced by an upload while the answer was prepared; ask again",
                    ),
                ];
                if op.request_body.is_some() {
                    codes.extend([
                        ("413", "The body is larger than the limit"),
                        ("415", "The body's content type is not the one expected"),
                        ("422", "The body is not valid"),
                    ]);
                }
                for (code, description) in codes {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| error(description));
                }
            }
        }
    }
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = router().split_for_parts();
    doc.paths.paths.insert(
        "/api/v1/openapi.json".to_string(),
        utoipa::openapi::path::PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .summary(Some("This document (OpenAPI 3.1)"))
                .operation_id(Some("openapi"))
                .response(
                    "200",
                    utoipa::openapi::ResponseBuilder::new()
                        .description("The OpenAPI document")
                        .content(
                            "application/json",
                            utoipa::openapi::ContentBuilder::new()
                                .schema(Some(utoipa::openapi::schema::Object::new()))
                                .build(),
                        ),
                ),
        ),
    );
    utoipa::Modify::modify(&ErrorResponses, &mut doc);
    doc
}

/// The month of `?month=` (`YYYY-MM`).
const MONTH_PATTERN: &str = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])$";

/// The OpenAPI document as served: [`openapi`], with the `month` and `date`
/// query parameters of each operation described as one object parameter
/// (form style, exploded: the same query string) whose schema says what
/// separate parameters cannot: at most one of the two.
pub fn openapi_json() -> Value {
    let mut doc = serde_json::to_value(openapi()).expect("the OpenAPI document serialises");
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            let is = |p: &Value, name: &str| p["name"] == name && p["in"] == "query";
            if !(params.iter().any(|p| is(p, "month")) && params.iter().any(|p| is(p, "date"))) {
                continue;
            }
            params.retain(|p| !is(p, "month") && !is(p, "date"));
            params.push(json!({
                "name": "when",
                "in": "query",
                "required": false,
                "style": "form",
                "explode": true,
                "description": "`month=YYYY-MM` (month M, evaluated on its last day) or `date=YYYY-MM-DD` (as the dashboard shows it that day), not both; today when neither. A period no rulebook covers answers 404.",
                "schema": {
                    "type": "object",
                    "properties": {
                        "month": {"type": "string", "pattern": MONTH_PATTERN},
                        "date": {"type": "string", "format": "date"}
                    },
                    "not": {"required": ["month", "date"]}
                }
            }));
        }
    }
    // The bodies' shape, as the server reads them (unknown keys refused).
    let scenario = scenario_schema();
    let costs = costs_schema();
    if let Some(b) = body(&mut doc, "/api/v1/partners/{id}/simulate") {
        *b = scenario.clone();
    }
    if let Some(b) = body(&mut doc, "/api/v1/partners/{id}/plan") {
        *b = costs;
    }
    if let Some(b) = doc.pointer_mut("/components/schemas/NewScenario/properties/scenario") {
        *b = scenario;
    }
    if let Some(n) = doc.pointer_mut("/components/schemas/NewScenario") {
        n["additionalProperties"] = json!(false);
    }
    doc
}

/// The JSON request body schema of `POST path` in the document.
fn body<'a>(doc: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    doc.pointer_mut(&format!(
        "/paths/{}/post/requestBody/content/application~1json/schema",
        path.replace('~', "~0").replace('/', "~1")
    ))
}

/// A decimal: a JSON number or its text.
fn decimal_schema() -> Value {
    json!({"type": ["number", "string"]})
}

/// The scenario body (`pcs simulate --scenario`, as JSON).
fn scenario_schema() -> Value {
    let text = json!({"type": "string"});
    let row = |amount: &str| {
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["workload", amount, "association"],
            "properties": {
                "customer_tenant_id": text, "customer_name": text, "workload": text,
                "month": text, amount: decimal_schema(), "association": text
            }
        })
    };
    json!({
        "type": "object",
        "additionalProperties": false,
        "description": "What to add or remove. Names must be ones the rulebook in force knows, and the scenario must not be empty: otherwise 400.",
        "properties": {
            "title": text,
            "revenue": {"type": "array", "items": row("revenue_usd")},
            "usage": {"type": "array", "items": row("quantity")},
            "certification": {"type": "array", "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["certification"],
                "properties": {
                    "person_id": text, "person_name": text, "certification": text,
                    "earned_on": text, "expires_on": text
                }
            }},
            "acr": {"type": "array", "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["service", "acr_usd", "association"],
                "properties": {
                    "customer_tenant_id": text, "customer_name": text, "subscription_id": text,
                    "service": text, "month": text, "acr_usd": decimal_schema(),
                    "association": text, "offer": text
                }
            }},
            "licenses": {"type": "array", "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["workload", "association", "paid_seats", "active_users"],
                "properties": {
                    "customer_tenant_id": text, "customer_name": text, "workload": text,
                    "month": text, "association": text,
                    "paid_seats": {"type": "integer", "minimum": 0},
                    "active_users": {"type": "integer", "minimum": 0},
                    "associated_on": text
                }
            }},
            "remove": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "customers": {"type": "array", "items": text},
                    "people": {"type": "array", "items": text}
                }
            }
        }
    })
}

/// The costs body of `POST .../plan` (`pcs plan --costs`, as JSON).
fn costs_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "description": "Missing costs take the defaults; a negative cost answers 400.",
        "properties": {
            "currency": {"type": "string"},
            "certification": {"type": "object", "additionalProperties": decimal_schema()},
            "customer_workload": decimal_schema(),
            "deployment": decimal_schema(),
            "mcv_unit": decimal_schema(),
            "mcv_growth": decimal_schema(),
            "person": {"type": "object", "additionalProperties": decimal_schema()},
            "area_certification": decimal_schema(),
            "acr_customer": decimal_schema(),
            "acr_service": decimal_schema(),
            "acr_unit": decimal_schema(),
            "acr_growth": decimal_schema(),
            "license_customer": decimal_schema(),
            "users_unit": {"type": "integer", "minimum": 1, "maximum": 4294967295u64},
            "users_growth": decimal_schema()
        }
    })
}

/// The JSON body as an object; 400 otherwise (arrays, numbers, ...).
fn object_body(v: Value, what: &str) -> Result<Value, ApiError> {
    if v.is_object() {
        Ok(v)
    } else {
        Err(ApiError::bad_request(format!(
            "{what}: expected a JSON object"
        )))
    }
}

/// The API routes.
pub fn routes() -> Router<AppState> {
    let (r, _) = router().split_for_parts();
    let doc = openapi_json();
    r.route(
        "/api/v1/openapi.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { Json(doc) }
        }),
    )
    // No body limit here: uploads stream to disk under their own limit.
    .route_layer(axum::middleware::from_fn(no_store))
}

/// Responses carry partner data: never cache them in shared caches.
async fn no_store(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    );
    r
}

/// The fallback: a JSON 404.
pub async fn not_found(req: Request) -> ApiError {
    ApiError::not_found(format!(
        "no route for {} {}",
        req.method(),
        req.uri().path()
    ))
}

/// Turns bodiless and plain-text error responses (405 from the router, 413
/// from a limit, an extractor's rejection of a query, path or form, 500 from
/// a caught panic) into JSON errors, keeping their other headers (`Allow`,
/// `Retry-After`).
pub async fn json_errors(req: Request, next: Next) -> Response {
    let r = next.run(req).await;
    let s = r.status();
    let plain = r
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|c| c.as_bytes().starts_with(b"text/plain"));
    if (s.is_client_error() || s.is_server_error()) && plain {
        let code = match s.as_u16() {
            405 => "method_not_allowed",
            413 => "payload_too_large",
            415 => "unsupported_media_type",
            s if s >= 500 => "internal",
            _ => "bad_request",
        };
        let (mut parts, body) = r.into_parts();
        let text = axum::body::to_bytes(body, 64 * 1024)
            .await
            .ok()
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .filter(|t| !t.is_empty() && s.is_client_error());
        let msg = text.unwrap_or_else(|| s.canonical_reason().unwrap_or("error").to_lowercase());
        let json = ApiError::new(s, code, msg).into_response();
        parts.headers.remove(header::CONTENT_LENGTH);
        let (jparts, jbody) = json.into_parts();
        for (k, v) in &jparts.headers {
            parts.headers.insert(k, v.clone());
        }
        return Response::from_parts(parts, jbody);
    }
    if s.is_server_error()
        && r.headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|c| c != "application/json")
    {
        return ApiError::new(s, "internal", "internal server error").into_response();
    }
    r
}

// ---------------------------------------------------------------- schemas

/// An error.
#[derive(Serialize, ToSchema)]
struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong. Data errors add `file`, `line`, `column`,
/// `column_name`, `value` and `reason`.
#[derive(Serialize, ToSchema)]
struct ErrorDetail {
    /// `bad_request`, `unauthorized`, `forbidden`, `csrf`, `not_found`,
    /// `payload_too_large`, `unsupported_media_type`, `invalid_data`,
    /// `method_not_allowed`, `too_many_requests` or `internal`.
    code: String,
    /// For people.
    message: String,
    /// The table file (data errors).
    file: Option<String>,
    /// The 1-based line (CSV) or row (Parquet).
    line: Option<u64>,
    /// The 1-based column.
    column: Option<u64>,
    /// The column's name.
    column_name: Option<String>,
    /// The offending value.
    value: Option<String>,
}

/// One metric of the score object.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct MetricObject {
    /// The metric's value (a count, or the growth; null when the baseline is 0,
    /// or where a metric's parts have different units).
    value: Option<f64>,
    /// Points, at most two decimals.
    points: f64,
    /// The metric's maximum.
    max_points: f64,
    /// Business Applications usage growth: MCV in the latest month.
    latest_mcv: Option<f64>,
    /// Business Applications usage growth: MCV in the baseline month.
    baseline_mcv: Option<f64>,
    /// Azure usage growth: trailing-12-month ACR up to the latest month.
    latest_acr: Option<f64>,
    /// Azure usage growth: trailing-12-month ACR up to the baseline month.
    baseline_acr: Option<f64>,
    /// Modern Work usage growth: active users in the latest month.
    latest_active_users: Option<f64>,
    /// Modern Work usage growth: active users in the baseline month.
    baseline_active_users: Option<f64>,
    /// Security usage growth: protected users in the latest month.
    latest_protected_users: Option<f64>,
    /// Security usage growth: protected users in the baseline month.
    baseline_protected_users: Option<f64>,
    /// A metric made of parts (Security's Azure and Microsoft 365 sides), by part id.
    parts: Option<std::collections::BTreeMap<String, PartObject>>,
    /// A best-of metric's options, each scored alone, by option id.
    options: Option<std::collections::BTreeMap<String, PartObject>>,
    /// The option that earns the points.
    option: Option<String>,
}

/// A part or option of a metric.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct PartObject {
    /// Its value.
    value: Option<f64>,
    /// Its points.
    points: f64,
    /// Azure usage growth: trailing-12-month ACR up to the latest month.
    latest_acr: Option<f64>,
    /// Azure usage growth: trailing-12-month ACR up to the baseline month.
    baseline_acr: Option<f64>,
    /// Usage growth: active users in the latest month.
    latest_active_users: Option<f64>,
    /// Usage growth: active users in the baseline month.
    baseline_active_users: Option<f64>,
    /// Usage growth: protected users in the latest month.
    latest_protected_users: Option<f64>,
    /// Usage growth: protected users in the baseline month.
    baseline_protected_users: Option<f64>,
}

/// One track of an area with tracks (Modern Work).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct TrackObject {
    /// The track's metrics, by metric id.
    metrics: std::collections::BTreeMap<String, MetricObject>,
    total_points: f64,
    qualified: bool,
}

/// The contract's score object (interface.md), the same as one line of
/// `pcs score --area AREA --format jsonl`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct ScoreObject {
    partner_id: String,
    partner_name: Option<String>,
    /// `business_applications`, `azure_infrastructure`, `azure_data_ai`,
    /// `azure_digital_app_innovation`, `modern_work` or `security`.
    solution_area: String,
    /// The rulebook version (`area/version`).
    rulebook: String,
    /// M (`YYYY-MM`).
    month: String,
    /// M-1.
    latest_month: String,
    /// M-13.
    baseline_month: String,
    /// `YYYY-MM-DD`.
    evaluation_date: String,
    /// `enterprise` or `smb` (Business Applications' classification, or
    /// Modern Work's reported track); null in an area without tracks.
    classification: Option<String>,
    /// By metric id (the area's metrics: net_customer_adds,
    /// intermediate_certifications, advanced_certifications, usage_growth,
    /// deployments, ...).
    metrics: std::collections::BTreeMap<String, MetricObject>,
    /// Modern Work: both tracks, by track id.
    tracks: Option<std::collections::BTreeMap<String, TrackObject>>,
    total_points: f64,
    qualified: bool,
}

/// A partner's qualification in one area, at a glance.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct AreaSummaryObject {
    /// The area id.
    solution_area: String,
    /// Its name (`Modern Work`).
    title: String,
    /// The rulebook version (`area/version`).
    rulebook: String,
    /// As in the score object.
    classification: Option<String>,
    /// As in the score object.
    total_points: f64,
    /// The metrics' maxima added (100).
    max_points: f64,
    /// The total needed to qualify (70).
    min_total_points: f64,
    qualified: bool,
    /// The metrics at zero points (the partner qualifies only with none).
    at_zero: Vec<String>,
    /// The metric furthest from its maximum, by share.
    weakest_metric: Option<String>,
    /// Points still missing to `min_total_points` (0 when reached).
    points_to_qualify: f64,
    /// The next step, in one sentence.
    next_step: String,
}

/// The qualification summary: every solution area for one partner.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct SummaryObject {
    partner_id: String,
    partner_name: Option<String>,
    /// M (`YYYY-MM`).
    month: String,
    /// M-1.
    latest_month: String,
    /// M-13.
    baseline_month: String,
    /// `YYYY-MM-DD`.
    evaluation_date: String,
    /// How many areas the partner qualifies in.
    qualified_areas: usize,
    /// Every area with a rulebook in force, in the contract's order (the
    /// same figures as `score?area=`).
    areas: Vec<AreaSummaryObject>,
}

/// A recommended action (`pcs recommend`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct RecommendationObject {
    /// `next_threshold`, a risk, a missed prerequisite or a classification flip.
    kind: String,
    /// The metric concerned (none for classification or mixed risks).
    metric: Option<String>,
    /// One sentence.
    title: String,
    /// Points gained by acting, or at risk (positive).
    points: f64,
    /// The numbers behind the sentence.
    #[schema(value_type = Object)]
    detail: Value,
}

/// A page of partners.
#[derive(Serialize, ToSchema)]
struct PartnerList {
    /// Partners matching the search (within the caller's scope).
    total: usize,
    offset: usize,
    limit: usize,
    partners: Vec<PartnerEntry>,
}

/// The loaded dataset.
#[derive(Serialize, ToSchema)]
struct DatasetInfo {
    /// Grows with every accepted upload.
    generation: u64,
    /// When the data was read (RFC 3339).
    loaded_at: String,
    /// Seconds the read took.
    load_seconds: f64,
    /// Partners visible to the caller (1 for a partner token).
    partners: usize,
    /// Today's date as the server sees it (the default evaluation date).
    today: String,
    /// The month the dashboard shows when none is asked for (`YYYY-MM`):
    /// the one whose latest month is the newest complete month of the data,
    /// not after today's; null when no rulebook is in force today.
    default_month: Option<String>,
    /// The table files (for a partner token: each table's format and that
    /// partner's rows only).
    #[schema(value_type = Vec<Object>)]
    tables: Value,
    /// Names the rulebook does not know (counted rows; admins only).
    #[schema(value_type = Vec<Object>)]
    warnings: Value,
}

// ---------------------------------------------------------------- params

/// When: a month M (evaluated on its last day) or a date (the
/// refresh-by-the-20th rule); today when neither.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct WhenQuery {
    /// `YYYY-MM`.
    month: Option<String>,
    /// `YYYY-MM-DD`.
    date: Option<String>,
}

impl WhenQuery {
    fn when(&self, today: pcs_core::jiff::civil::Date) -> Result<When, ApiError> {
        parse_when(self.month.as_deref(), self.date.as_deref(), today)
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PartnersQuery {
    /// Text in the partner id or name (case-insensitive).
    q: Option<String>,
    /// Skip this many (default 0).
    #[param(minimum = 0, maximum = 2147483647)]
    offset: Option<usize>,
    /// At most this many (default 50, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// A solution area.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum AreaParam {
    /// Business Applications.
    BusinessApplications,
    /// Azure Infrastructure.
    AzureInfrastructure,
    /// Azure Data & AI.
    AzureDataAi,
    /// Azure Digital & App Innovation.
    AzureDigitalAppInnovation,
    /// Modern Work.
    ModernWork,
    /// Security.
    Security,
}

impl AreaParam {
    fn id(self) -> &'static str {
        match self {
            AreaParam::BusinessApplications => app::BUSINESS_APPLICATIONS,
            AreaParam::AzureInfrastructure => "azure_infrastructure",
            AreaParam::AzureDataAi => "azure_data_ai",
            AreaParam::AzureDigitalAppInnovation => "azure_digital_app_innovation",
            AreaParam::ModernWork => "modern_work",
            AreaParam::Security => "security",
        }
    }
}

/// A solution area, or every area.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum AreasParam {
    /// Every area.
    All,
    /// Business Applications.
    BusinessApplications,
    /// Azure Infrastructure.
    AzureInfrastructure,
    /// Azure Data & AI.
    AzureDataAi,
    /// Azure Digital & App Innovation.
    AzureDigitalAppInnovation,
    /// Modern Work.
    ModernWork,
    /// Security.
    Security,
}

impl AreasParam {
    fn ids(self) -> Vec<&'static str> {
        let one = |a: AreaParam| vec![a.id()];
        match self {
            AreasParam::All => pcs_core::rulebook::AREAS.to_vec(),
            AreasParam::BusinessApplications => one(AreaParam::BusinessApplications),
            AreasParam::AzureInfrastructure => one(AreaParam::AzureInfrastructure),
            AreasParam::AzureDataAi => one(AreaParam::AzureDataAi),
            AreasParam::AzureDigitalAppInnovation => one(AreaParam::AzureDigitalAppInnovation),
            AreasParam::ModernWork => one(AreaParam::ModernWork),
            AreasParam::Security => one(AreaParam::Security),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AreaQuery {
    /// The solution area (default business_applications). Outside
    /// Business Applications the report is the area engine's (Modern Work:
    /// both tracks; Security: its Azure and Microsoft 365 parts).
    #[param(inline)]
    area: Option<AreaParam>,
}

impl AreaQuery {
    fn area(&self) -> &'static str {
        self.area.map_or(app::BUSINESS_APPLICATIONS, AreaParam::id)
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AreasQuery {
    /// One solution area, or `all` (default business_applications). Any
    /// other than Business Applications alone gives the report across
    /// areas (skilling: where each certification counts; history: each
    /// area's status with the one anniversary date).
    #[param(inline)]
    area: Option<AreasParam>,
}

impl AreasQuery {
    fn areas(&self) -> Vec<&'static str> {
        self.area
            .map_or_else(|| vec![app::BUSINESS_APPLICATIONS], AreasParam::ids)
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AreaListQuery {
    /// Solution areas separated by commas (e.g.
    /// `business_applications,azure_data_ai`), or `all`. Given, the answer
    /// is the one across those areas, exactly what `pcs simulate|recommend|plan
    /// --area A --area B --format json` writes (each action valued once);
    /// absent, Business Applications' own report as before.
    #[param(
        pattern = "^(business_applications|azure_infrastructure|azure_data_ai|azure_digital_app_innovation|modern_work|security|all)(,(business_applications|azure_infrastructure|azure_data_ai|azure_digital_app_innovation|modern_work|security|all))*$"
    )]
    area: Option<String>,
}

impl AreaListQuery {
    /// The areas asked for, or `None` for Business Applications' own report.
    fn areas(&self) -> Result<Option<Vec<&'static str>>, ApiError> {
        let Some(given) = &self.area else {
            return Ok(None);
        };
        let given = crate::reports::area_list(given);
        if given.is_empty() {
            return Err(ApiError::bad_request(
                "area: name at least one solution area, or all",
            ));
        }
        app::areas(&given, &[])
            .map(Some)
            .map_err(|e| ApiError::bad_request(format!("area: {e}")))
    }
}

/// How deep the customer lines of an area go.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum LevelParam {
    /// One line per customer name, metric and period.
    Customer,
    /// One line per tenant, metric and item (the default).
    Tenant,
    /// Tenant lines followed by their subscriptions' ACR.
    Subscription,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LevelQuery {
    /// Outside Business Applications: `customer`, `tenant` (default) or `subscription`.
    #[param(inline)]
    level: Option<LevelParam>,
}

impl LevelQuery {
    fn level(&self) -> pcs_insights::areas::Level {
        use pcs_insights::areas::Level;
        match self.level {
            Some(LevelParam::Customer) => Level::Customer,
            Some(LevelParam::Subscription) => Level::Subscription,
            Some(LevelParam::Tenant) | None => Level::Tenant,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExplainQuery {
    /// Only this metric (e.g. `usage_growth`).
    metric: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// Only customers whose id or name contains this text.
    search: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct WithinQuery {
    /// Days ahead to look (default 90, at most 3660).
    #[param(minimum = 0, maximum = 3660)]
    within: Option<u32>,
}

impl WithinQuery {
    /// The days asked for (90 when absent), refused above 3660 whether or
    /// not the report uses them: the document says what a request may be.
    fn days(&self) -> Result<u32, ApiError> {
        crate::reports::within_days(self.within.unwrap_or(crate::reports::WITHIN_DAYS))
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct MonthsQuery {
    /// How many months, ending with M (default 6, at most 60).
    #[param(minimum = 1, maximum = 60)]
    months: Option<u32>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LimitQuery {
    /// At most this many (default 50, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// A scenario to save.
#[derive(Deserialize, ToSchema)]
struct NewScenario {
    /// A name (1 to 200 characters, not only white space).
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    name: String,
    /// The scenario, as in a `pcs simulate --scenario` JSON file.
    #[schema(value_type = Object)]
    scenario: Value,
}

/// The report as JSON, numbers tidied as the CLI's `--format json`.
fn report<T: Serialize>(data: &T) -> Result<Json<Value>, ApiError> {
    let mut v = serde_json::to_value(data).map_err(ApiError::internal)?;
    tidy_numbers(&mut v);
    Ok(Json(v))
}

/// A partner's reports, with the source lines of the period's explanations.
async fn open(
    state: &AppState,
    access: &Access,
    id: &str,
    when: &WhenQuery,
) -> Result<Reports, ApiError> {
    Reports::open(state, access, id, when.when(state.today())?).await
}

/// A partner's reports with the source lines `lines` names.
async fn open_for(
    state: &AppState,
    access: &Access,
    id: &str,
    when: &WhenQuery,
    lines: Lines,
) -> Result<Reports, ApiError> {
    Reports::open_for(state, access, id, when.when(state.today())?, lines).await
}

/// The source lines an explanation (`level` none) or a customers report of
/// `area` shows: another area's explanation and customers by subscription
/// show acr and licenses lines.
pub(crate) fn lines_for(area: &str, level: Option<pcs_insights::areas::Level>) -> Lines {
    let subscription = level.is_none_or(|l| l == pcs_insights::areas::Level::Subscription);
    if area != app::BUSINESS_APPLICATIONS && subscription {
        Lines::All
    } else {
        Lines::Ba
    }
}

/// A partner's reports for sums only (the score's numbers, the summary, the history).
fn open_sums(
    state: &AppState,
    access: &Access,
    id: &str,
    when: &WhenQuery,
) -> Result<Reports, ApiError> {
    Reports::open_sums(state, access, id, when.when(state.today())?)
}

// ---------------------------------------------------------------- handlers

/// The loaded dataset: tables, rows, partners, warnings.
#[utoipa::path(get, path = "/api/v1/dataset", tag = "data",
    responses((status = 200, body = DatasetInfo), (status = 401, body = ErrorBody)))]
async fn dataset(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<DatasetInfo>, ApiError> {
    let snap = state.snapshot();
    let partners = match access.only_partner() {
        None => snap.partners().len(),
        Some(p) => snap.partners().iter().filter(|e| e.partner_id == p).count(),
    };
    // A partner token sees its own rows only: no file sizes or row totals
    // that would tell how many partners (or rows of others) the data holds.
    let tables = match access.only_partner() {
        None => serde_json::to_value(&snap.tables).map_err(ApiError::internal)?,
        Some(p) => {
            let facts = snap.partner_facts(state.today(), p);
            Value::Array(
                snap.tables
                    .iter()
                    .map(|t| {
                        json!({
                            "table": t.table,
                            "format": t.format,
                            "rows": partner_rows_of(facts, t.table),
                        })
                    })
                    .collect(),
            )
        }
    };
    let warnings = if access.is_admin() {
        let title = "Business Applications";
        Value::Array(
            snap.warnings()
                .iter()
                .map(|w| {
                    json!({
                        "table": w.table.name(),
                        "name": w.name,
                        "rows": w.rows,
                        "first_line": w.first_line,
                        "message": w.describe(title),
                    })
                })
                .collect(),
        )
    } else {
        Value::Array(Vec::new())
    };
    Ok(Json(DatasetInfo {
        generation: snap.generation,
        loaded_at: snap.loaded_at.to_string(),
        load_seconds: snap.load_time.as_secs_f64(),
        partners,
        today: state.today().to_string(),
        default_month: snap.default_month(state.today()).map(|m| m.to_string()),
        tables,
        warnings,
    }))
}

/// The rows of one partner in a table, from its facts.
fn partner_rows_of(facts: Option<&pcs_core::facts::PartnerFacts>, table: &str) -> Value {
    json!(facts.map_or(0, |f| partner_rows(f, table)))
}

/// The rows of one partner in a table, from its facts (counted as read).
fn partner_rows(f: &pcs_core::facts::PartnerFacts, table: &str) -> u64 {
    use pcs_core::facts::Table;
    let excluded = |t: Table| -> u64 {
        f.excluded
            .iter()
            .filter(|(k, _)| k.table == t)
            .map(|(_, a)| u64::from(a.rows))
            .sum()
    };
    match table {
        "revenue" => {
            f.revenue.values().map(|a| u64::from(a.rows)).sum::<u64>() + excluded(Table::Revenue)
        }
        "usage" => {
            f.usage
                .values()
                .map(|a| u64::from(a.total.rows))
                .sum::<u64>()
                + excluded(Table::Usage)
        }
        "certifications" => f.certifications.len() as u64,
        "acr" => f.acr.values().map(|a| u64::from(a.rows)).sum::<u64>() + excluded(Table::Acr),
        "licenses" => {
            f.licenses.values().map(|a| u64::from(a.rows)).sum::<u64>() + excluded(Table::Licenses)
        }
        "partners" => 1,
        _ => 0,
    }
}

/// Partners, searchable and paged (a partner token sees only its own).
#[utoipa::path(get, path = "/api/v1/partners", tag = "partners", params(PartnersQuery),
    responses((status = 200, body = PartnerList), (status = 401, body = ErrorBody)))]
async fn partners(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<PartnersQuery>,
) -> Result<Json<PartnerList>, ApiError> {
    let snap = state.snapshot();
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::bad_request("limit: between 1 and 1000"));
    }
    let offset = q.offset.unwrap_or(0);
    if offset > i32::MAX as usize {
        return Err(ApiError::bad_request("offset: at most 2147483647"));
    }
    let needle =
        q.q.as_deref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
    let matching = snap
        .partners()
        .iter()
        .filter(|e| access.allows(&e.partner_id) && needle.as_deref().is_none_or(|n| e.matches(n)));
    let mut total = 0;
    let mut page = Vec::new();
    for e in matching {
        if total >= offset && page.len() < limit {
            page.push(e.clone());
        }
        total += 1;
    }
    Ok(Json(PartnerList {
        total,
        offset,
        limit,
        partners: page,
    }))
}

/// The score object of a partner in a solution area (`?area=`, default
/// `business_applications`) for a month (`?month=YYYY-MM`) or a date
/// (`?date=YYYY-MM-DD`): exactly what `pcs score --area AREA --format json`
/// writes for it.
#[utoipa::path(get, path = "/api/v1/partners/{id}/score", tag = "reports",
    params(("id" = String, Path, description = "The partner id"), WhenQuery, AreaQuery),
    responses((status = 200, body = ScoreObject), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn score(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(w): Query<WhenQuery>,
    Query(a): Query<AreaQuery>,
) -> Result<Json<Value>, ApiError> {
    let area = a.area();
    let r = open_sums(&state, &access, &id, &w)?;
    if area == SOLUTION_AREA {
        return Ok(Json(score_object(&r.score_totals())));
    }
    let s = blocking(move || crate::areas::score(&r, area, Detail::Totals)).await?;
    Ok(Json(s.object()))
}

/// The qualification summary of a partner: every solution area at a
/// glance (total against 70, qualified, the metrics at zero, the weakest
/// metric, the points to go, the next step), with the same figures as
/// `score?area=` and `pcs score --area all`.
#[utoipa::path(get, path = "/api/v1/partners/{id}/summary", tag = "reports",
    params(("id" = String, Path, description = "The partner id"), WhenQuery),
    responses((status = 200, body = SummaryObject), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn summary(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(w): Query<WhenQuery>,
) -> Result<Json<Value>, ApiError> {
    let r = open_sums(&state, &access, &id, &w)?;
    blocking(move || {
        let scores = crate::areas::score_all(&r, Detail::Totals)?;
        Ok(Json(crate::areas::summary_json(&r, &scores)))
    })
    .await
}

/// Each metric in words: what counted, what did not, and why (`pcs explain`).
#[utoipa::path(get, path = "/api/v1/partners/{id}/explain", tag = "reports",
    params(("id" = String, Path, description = "The partner id"), WhenQuery, ExplainQuery, AreaQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn explain(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(w): Query<WhenQuery>,
    Query(e): Query<ExplainQuery>,
    Query(a): Query<AreaQuery>,
) -> Result<Json<Value>, ApiError> {
    let area = a.area();
    let lines = lines_for(area, None);
    let r = open_for(&state, &access, &id, &w, lines).await?;
    let metric = e.metric.filter(|m| !m.trim().is_empty());
    blocking(move || {
        if area == app::BUSINESS_APPLICATIONS {
            report(&r.explain(metric.as_deref())?)
        } else {
            report(&r.area_explain(area, metric.as_deref())?)
        }
    })
    .await
}

/// Per customer and metric: met or not, the criterion and the effect (`pcs customers`).
#[utoipa::path(get, path = "/api/v1/partners/{id}/customers", tag = "reports",
    params(("id" = String, Path, description = "The partner id"), WhenQuery, SearchQuery, AreaQuery, LevelQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn customers(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(w): Query<WhenQuery>,
    Query(s): Query<SearchQuery>,
    Query(a): Query<AreaQuery>,
    Query(l): Query<LevelQuery>,
) -> Result<Json<Value>, ApiError> {
    let area = a.area();
    let lines = lines_for(area, Some(l.level()));
    let r = open_for(&state, &access, &id, &w, lines).await?;
    blocking(move || {
        if area == app::BUSINESS_APPLICATIONS {
            report(&r.customers(s.search.as_deref()))
        } else {
            report(&r.area_customers(area, s.search.as_deref(), l.level())?)
        }
    })
    .await
}

/// People, certifications, and what stops counting soon (`pcs skilling`).
#[utoipa::path(get, path = "/api/v1/partners/{id}/skilling", tag = "reports",
    params(("id" = String, Path, description = "The partner id"), WhenQuery, WithinQuery, AreasQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn skilling(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(w): Query<WhenQuery>,
    Query(q): Query<WithinQuery>,
    Query(a): Query<AreasQuery>,
) -> Result<Json<Value>, ApiError> {
    let areas = a.areas();
    let within = q.days()?;
    let r = open(&state, &access, &id, &w).await?;
    blocking(move || {
        if areas == [app::BUSINESS_APPLICATIONS] {
            report(&r.skilling(within)?)
        } else {
            report(&r.skilling_across(&areas, within)?)
        }
    })
    .await
}

/// The score of each of the last months, trends, and the qualification
/// status (`pcs history`).
#[utoipa::path(get, path = "/api/v1/partners/{id}/history", tag = "reports",
    params(("id" = String, Path, description = "The partner id"), WhenQuery, MonthsQuery, AreasQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn history(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(w): Query<WhenQuery>,
    Query(q): Query<MonthsQuery>,
    Query(a): Query<AreasQuery>,
) -> Result<Json<Value>, ApiError> {
    let areas = a.areas();
    let r = open_sums(&state, &access, &id, &w)?;
    blocking(move || {
        let months = q.months.unwrap_or(6);
        if areas == [app::BUSINESS_APPLICATIONS] {
            report(&r.history(months)?)
        } else {
            report(&r.history_across(&areas, months)?)
        }
    })
    .await
}

/// Current against simulated: the body is a scenario, the same JSON as a
/// `pcs simulate --scenario` file (revenue, usage, certification, acr,
/// licenses, remove). With `?area=`, every named area from one
/// application of the scenario (`pcs simulate --area …`).
#[utoipa::path(post, path = "/api/v1/partners/{id}/simulate", tag = "what-if",
    params(("id" = String, Path, description = "The partner id"), WhenQuery, AreaListQuery),
    request_body(content = Object, description = "A scenario: {title, revenue: [...], usage: [...], certification: [...], acr: [...], licenses: [...], remove: {customers, people}}; acr and licenses rows need ?area="),
    responses((status = 200, description = "{title, current, simulated}: two score objects; with ?area=, {title, areas: [{solution_area, current, simulated}]}", body = Object),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn simulate(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(w): Query<WhenQuery>,
    Query(a): Query<AreaListQuery>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let areas = a.areas()?;
    let r = open(&state, &access, &id, &w).await?;
    let Json(body) = body?;
    let body = object_body(body, "scenario")?;
    let sc = crate::reports::parse_scenario(&body)?;
    blocking(move || match areas {
        None => report(&r.simulate(&sc)?.object()),
        Some(areas) => report(&r.simulate_areas(&areas, &sc)?.object()),
    })
    .await
}

/// Actions ranked by the points they gain or protect (`pcs recommend`).
/// With `?area=`, actions ranked by the points they bring across the named
/// areas, each valued once (`pcs recommend --area …`; `within` is not
/// used, but a value above its maximum is still refused).
#[utoipa::path(get, path = "/api/v1/partners/{id}/recommendations", tag = "what-if",
    params(("id" = String, Path, description = "The partner id"), WhenQuery, WithinQuery, AreaListQuery),
    responses((status = 200, description = "Recommendations: without ?area=, RecommendationObject items (Business Applications); with ?area=, [{description, count, cost, points: [[area, points]], total_points, qualifies, and the action kind}]", body = [Object]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn recommendations(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(w): Query<WhenQuery>,
    Query(q): Query<WithinQuery>,
    Query(a): Query<AreaListQuery>,
) -> Result<Json<Value>, ApiError> {
    let areas = a.areas()?;
    let within = q.days()?;
    let r = open(&state, &access, &id, &w).await?;
    blocking(move || match areas {
        None => report(&r.recommend(within)?),
        Some(areas) => report(&r.recommend_areas(&areas)?),
    })
    .await
}

/// What a plan answer is, for the OpenAPI document.
const JOINT_PLAN_ANSWER: &str = "The plan as `pcs plan [--area …] --format json` writes it, with `scenario_toml`. \
With ?area= (a joint plan), `search` says how it was found: `exact` true when the plan is proven the cheapest \
within the actions' bounds (or, with `reachable` false, that none qualifies); otherwise the exact search \
stopped at its budget, `stopped_by` says which (`scenarios`: 20,000 scored or 100,000 visited, or `time`: 3 s per search on this \
server's clock), and when `greedy` is true the plan comes from a greedy search: it qualifies, verified by the \
engines, but is not proven cheapest. `scenarios_scored` and `candidates_visited` count the work.";

/// The cheapest plan to qualify, with the default costs (`pcs plan`).
/// With `?area=`, one plan that qualifies the partner in every named area
/// at once (`pcs plan --area A --area B`), searched within a budget: its
/// `search` says whether the plan is proven cheapest.
#[utoipa::path(get, path = "/api/v1/partners/{id}/plan", tag = "what-if",
    params(("id" = String, Path, description = "The partner id"), WhenQuery, AreaListQuery),
    responses((status = 200, description = JOINT_PLAN_ANSWER, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn plan_get(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(w): Query<WhenQuery>,
    Query(a): Query<AreaListQuery>,
) -> Result<Json<Value>, ApiError> {
    let areas = a.areas()?;
    let r = open(&state, &access, &id, &w).await?;
    blocking(move || plan_json(&r, areas.as_deref(), &plan::Costs::default())).await
}

/// The cheapest plan to qualify, with the costs in the body (the fields of
/// `pcs plan --costs`; missing ones take the defaults). `?area=` as for
/// `GET`.
#[utoipa::path(post, path = "/api/v1/partners/{id}/plan", tag = "what-if",
    params(("id" = String, Path, description = "The partner id"), WhenQuery, AreaListQuery),
    request_body(content = Object, description = "Costs: {currency, customer_workload, deployment, mcv_unit, mcv_growth, certification: {intermediate, advanced}}"),
    responses((status = 200, description = JOINT_PLAN_ANSWER, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn plan_post(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(w): Query<WhenQuery>,
    Query(a): Query<AreaListQuery>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let areas = a.areas()?;
    let r = open(&state, &access, &id, &w).await?;
    let Json(body) = body?;
    let body = object_body(body, "costs")?;
    let costs: plan::Costs =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(format!("costs: {e}")))?;
    blocking(move || plan_json(&r, areas.as_deref(), &costs)).await
}

/// The plan as `pcs plan [--area …] --format json` writes it, with the
/// scenario that applies it as TOML (`--write-scenario`).
fn plan_json(
    r: &Reports,
    areas: Option<&[&'static str]>,
    costs: &plan::Costs,
) -> Result<Json<Value>, ApiError> {
    let (mut v, toml) = match areas {
        None => {
            let p = r.plan(costs)?;
            (report(&p)?.0, p.scenario.to_toml())
        }
        Some(areas) => {
            let p = r.joint_plan(areas, costs)?;
            (report(&p)?.0, p.scenario.to_toml())
        }
    };
    if let Value::Object(o) = &mut v {
        o.insert("scenario_toml".into(), toml.into());
    }
    Ok(Json(v))
}

/// A partner's saved scenarios.
#[utoipa::path(get, path = "/api/v1/partners/{id}/scenarios", tag = "what-if",
    params(("id" = String, Path, description = "The partner id")),
    responses((status = 200, body = Vec<SavedScenario>), (status = 404, body = ErrorBody)))]
async fn list_scenarios(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
) -> Result<Json<Vec<SavedScenario>>, ApiError> {
    known_partner(&state, &access, &id)?;
    state
        .store()
        .scenarios(&id)
        .map(Json)
        .map_err(ApiError::internal)
}

/// Saves a scenario for a partner (checked against the partner's data first).
#[utoipa::path(post, path = "/api/v1/partners/{id}/scenarios", tag = "what-if",
    params(("id" = String, Path, description = "The partner id"), WhenQuery),
    request_body = NewScenario,
    responses((status = 201, body = SavedScenario), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn save_scenario(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    Query(w): Query<WhenQuery>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<SavedScenario>), ApiError> {
    let r = open(&state, &access, &id, &w).await?;
    let Json(new) = body?;
    let new: NewScenario = serde_json::from_value(object_body(new, "the body")?)
        .map_err(|e| ApiError::bad_request(format!("the body: {e}")))?;
    let scenario = object_body(new.scenario, "scenario")?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request("name: 1 to 200 characters"));
    }
    // A scenario that cannot apply (unknown workload, removed customer not
    // in the data) is refused now rather than when it is simulated.
    let sc = crate::reports::parse_scenario(&scenario)?;
    r.check_applies(&sc)?;
    let canonical = serde_json::to_value(&sc).map_err(ApiError::internal)?;
    let saved = state
        .store()
        .save_scenario(&id, name, &canonical, access.token_id())
        .map_err(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// One saved scenario.
#[utoipa::path(get, path = "/api/v1/partners/{id}/scenarios/{scenario_id}", tag = "what-if",
    params(("id" = String, Path, description = "The partner id"), ("scenario_id" = i64, Path, description = "The scenario id")),
    responses((status = 200, body = SavedScenario), (status = 404, body = ErrorBody)))]
async fn get_scenario(
    State(state): State<AppState>,
    access: Access,
    Path((id, sid)): Path<(String, i64)>,
) -> Result<Json<SavedScenario>, ApiError> {
    known_partner(&state, &access, &id)?;
    state
        .store()
        .scenario(&id, sid)
        .map_err(ApiError::internal)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("scenario {sid} not found")))
}

/// Deletes a saved scenario.
#[utoipa::path(delete, path = "/api/v1/partners/{id}/scenarios/{scenario_id}", tag = "what-if",
    params(("id" = String, Path, description = "The partner id"), ("scenario_id" = i64, Path, description = "The scenario id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_scenario(
    State(state): State<AppState>,
    access: Access,
    Path((id, sid)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    known_partner(&state, &access, &id)?;
    if state
        .store()
        .delete_scenario(&id, sid)
        .map_err(ApiError::internal)?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("scenario {sid} not found")))
    }
}

fn known_partner(state: &AppState, access: &Access, id: &str) -> Result<(), ApiError> {
    access.require(id)?;
    if state
        .snapshot()
        .partners()
        .binary_search_by(|e| e.partner_id.as_str().cmp(id))
        .is_err()
    {
        return Err(ApiError::partner_not_found(id));
    }
    Ok(())
}

/// Replaces a table with the body (CSV, or Parquet by content type
/// `application/vnd.apache.parquet` or by its magic number). The dataset is
/// validated with it first, with the CLI's reader: a malformed value
/// answers 422 with the file, line, column and value, and changes nothing.
/// An accepted table is stored in the data directory and read by the next
/// request. Tokens scoped to all partners only.
#[utoipa::path(put, path = "/api/v1/tables/{table}", tag = "data",
    params(("table" = String, Path, description = "revenue, usage, certifications or partners")),
    request_body(content = String, description = "The table file (CSV with a header row, or Parquet)", content_type = "text/csv"),
    responses((status = 200, body = UploadRecord), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload(
    State(state): State<AppState>,
    access: Access,
    Path(table): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Json<UploadRecord>, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    crate::upload::upload_table(&state, &access, &table, ct, body)
        .await
        .map(Json)
}

/// The upload history, newest first (tokens scoped to all partners only).
#[utoipa::path(get, path = "/api/v1/uploads", tag = "data", params(LimitQuery),
    responses((status = 200, body = Vec<UploadRecord>), (status = 403, body = ErrorBody)))]
async fn uploads(
    State(state): State<AppState>,
    access: Access,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Vec<UploadRecord>>, ApiError> {
    access.require_admin()?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit: between 1 and 1000"));
    }
    state
        .store()
        .uploads(limit)
        .map(Json)
        .map_err(ApiError::internal)
}
