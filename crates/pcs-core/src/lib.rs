//! The pure core of pcs, the Partner Capability Score engine.
//!
//! pcs-core turns rows into scores without touching a file, a clock or a
//! network:
//!
//! 1. [`rulebook`]: the rules as validated data with effective dates;
//! 2. [`facts`]: rows in, per-partner aggregates out (the rulebook's filters);
//! 3. [`score`]: aggregates in, a [`score::PartnerScore`] with its explanation out;
//! 4. [`contract`]: the public JSON score object.
//!
//! ```
//! use pcs_core::facts::{FactsBuilder, MonthFilter, RevenueRow};
//! use pcs_core::rulebook::RulebookSet;
//! use pcs_core::score::{score_partner, Period};
//!
//! let set = RulebookSet::builtin();
//! let month = "2023-11".parse().unwrap();
//! let rb = set.in_force("business_applications", pcs_core::calendar::Month::last_day(month)).unwrap();
//! let period = Period::for_month(rb, month);
//! let mut b = FactsBuilder::new(rb, MonthFilter::Only(period.data_months().to_vec()), false);
//! b.add_revenue(&RevenueRow {
//!     partner_id: "P1", customer_tenant_id: "contoso", customer_name: Some("Contoso"),
//!     subscription_id: None, workload: "Sales", month: "2023-10".parse().unwrap(),
//!     revenue_usd: "1620".parse().unwrap(), association: "CSP Tier 1", line: 2,
//! });
//! let facts = b.finish();
//! let score = score_partner(rb, "P1", &facts.partners["P1"], period);
//! let adds = score.metric("net_customer_adds").unwrap();
//! assert_eq!(adds.points.to_string(), "3"); // one SMB pair ≥ $250
//! ```

pub mod area;
pub mod calendar;
pub mod contract;
pub mod display;
pub mod facts;
pub mod json;
pub mod name;
pub mod num;
pub mod rulebook;
pub mod score;
pub mod summary;
pub mod vocab;

pub use jiff;
pub use rust_decimal::Decimal;
