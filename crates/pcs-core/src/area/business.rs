//! Business Applications in the area engine's shapes, derived from its
//! format-1 rulebook when that rulebook is loaded: every number, list and
//! date keeps its one definition in the format-1 file.
//!
//! | format 1 | area shapes |
//! |---|---|
//! | `[classification]` | `track_rule = classify`, tracks `enterprise` / `smb`, a [`Classifier`] over `tenant_workload` entities of the revenue table |
//! | per-class figures | one metric entry per track |
//! | `pair_growth` | `entity_count` on the revenue or usage table, `tenant_workload`, window `month`, `delta` |
//! | `certified_people` (a level) | `certified_people` with the level's certifications as the scoring set |
//! | `consumption_growth` | `growth` of `mcv`, `percent`, truncated to `decimals`, with the baseline minimum |
//!
//! Points: `points_per_unit` is the rate (per 1); counts are not rounded
//! ([`Rounding::Exact`]), usage growth is truncated to `decimals` places.

use rust_decimal::Decimal;

use super::{
    AreaCertification, AreaMetricRule, AreaRulebook, AreaShape, Classifier, Entity, Filter,
    GrowthKind, Measure, Mode, PointsFn, RatioScope, Rounding, Source, TrackRule, Window,
};
use crate::rulebook::{Classification, PairSource, Rulebook, RulebookError, Shape};

/// The index of the revenue filter in a derived rulebook.
const REVENUE: usize = 0;
/// The index of the usage filter.
const USAGE: usize = 1;

impl AreaRulebook {
    /// Business Applications' format-1 rulebook `rb` in the area shapes
    /// (see the module's table). The revenue and usage tables are filtered
    /// while they are read by `rb`'s `[revenue]` and `[usage]` sections, so
    /// the two filters list nothing; association, workload and offer
    /// catalogues are empty (they name acr and licenses filters), and
    /// certification names resolve exactly as `rb` resolves them.
    ///
    /// Fails only for what the shapes cannot state: a usage growth cap with
    /// more decimal places than the growth's `decimals` (its points are
    /// truncated after the cap).
    pub fn from_business_applications(rb: &Rulebook) -> Result<AreaRulebook, RulebookError> {
        let classes = [Classification::Enterprise, Classification::Smb];
        let mut metrics = Vec::new();
        for class in classes {
            for m in &rb.metrics {
                let mut points = PointsFn {
                    rate: m.points_per_unit.get(class),
                    per: Decimal::ONE,
                    full_points_at: None,
                    max: m.max_points,
                    rounding: Rounding::Exact,
                    decimals: 0,
                };
                let shape = match &m.shape {
                    Shape::PairGrowth { source, threshold } => AreaShape::EntityCount {
                        filter: match source {
                            PairSource::Revenue => REVENUE,
                            PairSource::Usage => USAGE,
                        },
                        entity: Entity::TenantWorkload,
                        window: Window::Month,
                        mode: Mode::Delta,
                        amount: Some(threshold.for_class(class)),
                        seats: None,
                        seats_at_most: None,
                        active_ratio: None,
                        ratio_scope: RatioScope::Tenant,
                        measure_associations: None,
                        exclude_new_above: None,
                    },
                    Shape::CertifiedPeople {
                        level,
                        full_points_at,
                    } => {
                        points.full_points_at = full_points_at.map(|f| Decimal::from(f.get(class)));
                        AreaShape::CertifiedPeople {
                            certifications: rb
                                .certifications
                                .iter()
                                .filter(|c| &c.level == level)
                                .map(|c| c.id.clone())
                                .collect(),
                            prerequisites: Vec::new(),
                        }
                    }
                    Shape::ConsumptionGrowth {
                        baseline_minimum,
                        decimals,
                    } => {
                        if m.max_points.normalize().scale() > *decimals {
                            return Err(RulebookError::at(
                                &rb.origin,
                                format!(
                                    "metric '{}': max_points {} has more decimal places than decimals = {decimals}",
                                    m.id, m.max_points
                                ),
                            ));
                        }
                        points.rounding = Rounding::Truncate;
                        points.decimals = *decimals;
                        AreaShape::Growth {
                            filter: USAGE,
                            measure: Measure::Mcv,
                            window: Window::Month,
                            kind: GrowthKind::Percent,
                            decimals: *decimals,
                            measure_associations: None,
                            seats: None,
                            seats_at_most: None,
                            baseline_minimum: Some(baseline_minimum.for_class(class)),
                            association_start_baseline: false,
                        }
                    }
                };
                metrics.push(AreaMetricRule {
                    id: m.id.clone(),
                    label: m.label.clone(),
                    category: m.category.clone(),
                    track: Some(class.as_str().to_string()),
                    effective_from: None,
                    effective_until: None,
                    points,
                    shape,
                });
            }
        }
        Ok(AreaRulebook {
            solution_area: rb.solution_area.clone(),
            version: rb.version.clone(),
            title: rb.title.clone(),
            source: rb.source.clone(),
            effective_from: rb.effective_from,
            effective_until: rb.effective_until,
            tracks: classes.iter().map(|c| c.as_str().to_string()).collect(),
            track_rule: TrackRule::Classify,
            classifier: Some(Classifier {
                filter: REVENUE,
                entity: Entity::TenantWorkload,
                amount: rb.classification.pair_revenue,
                min_entities: rb.classification.enterprise_min_pairs,
            }),
            calendar: rb.calendar.clone(),
            qualification: rb.qualification.clone(),
            associations: Vec::new(),
            workloads: Vec::new(),
            offers: Vec::new(),
            optional_prefixes: Vec::new(),
            certifications: rb
                .certifications
                .iter()
                .map(|c| AreaCertification {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    aliases: Vec::new(),
                    eligible_from: c.eligible_from,
                    eligible_until: c.eligible_until,
                    note: c.note.clone(),
                })
                .collect(),
            filters: vec![
                Filter::whole("revenue", Source::Revenue),
                Filter::whole("usage", Source::Usage),
            ],
            metrics,
            origin: rb.origin.clone(),
            cert_index: rb
                .name_keys()
                .certifications
                .into_iter()
                .map(|(key, i)| (key, usize::from(i)))
                .collect(),
        })
    }
}
