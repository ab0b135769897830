//! Reports built on the pcs score, for people who ask "why", "what if" and
//! "what next". Every report reads [`pcs_core::score::PartnerScore`] or
//! re-scores modified facts with [`pcs_core::score::score_partner`]: no rule
//! is implemented here a second time.

pub mod app;
pub mod areas;
pub mod customers;
pub mod explain;
pub mod history;
pub mod plan;
pub mod recommend;
pub mod scenario;
pub mod skilling;

#[cfg(test)]
pub(crate) mod testing;
