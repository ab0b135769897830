//! The rulebook's name indexes, listed: for engines that resolve names
//! themselves (a query plan on a cluster) from the same table the
//! [`Rulebook`] resolvers use, so no name is spelled twice.

use super::{AssociationId, CertificationId, RevenueWorkloadId, Rulebook, UsageName};

/// Every normalised name the rulebook resolves, per catalogue, sorted by key.
///
/// Keys are [`crate::name::normalize`]d: an engine that normalises a raw
/// name the same way and looks it up here gets what
/// [`Rulebook::association`] and its siblings return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameKeys {
    /// Association type names and aliases.
    pub associations: Vec<(String, AssociationId)>,
    /// Performance workload names and aliases.
    pub revenue_workloads: Vec<(String, RevenueWorkloadId)>,
    /// Rate-card workload names, aliases and rolled-up products.
    pub usage_workloads: Vec<(String, UsageName)>,
    /// Certification ids, names and aliases, with and without the optional prefix.
    pub certifications: Vec<(String, CertificationId)>,
}

impl Rulebook {
    /// The name indexes as sorted lists.
    ///
    /// ```
    /// let set = pcs_core::rulebook::RulebookSet::builtin();
    /// let rb = &set.versions()[0];
    /// let keys = rb.name_keys();
    /// for (key, id) in &keys.associations {
    ///     assert_eq!(rb.association(key), Some(*id));
    /// }
    /// ```
    pub fn name_keys(&self) -> NameKeys {
        fn sorted<T: Copy>(map: &std::collections::HashMap<String, T>) -> Vec<(String, T)> {
            let mut v: Vec<(String, T)> = map.iter().map(|(k, v)| (k.clone(), *v)).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        }
        NameKeys {
            associations: sorted(&self.index.associations),
            revenue_workloads: sorted(&self.index.revenue_workloads),
            usage_workloads: sorted(&self.index.usage_workloads),
            certifications: sorted(&self.index.certifications),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rulebook::RulebookSet;

    #[test]
    fn every_key_resolves_to_its_id() {
        let set = RulebookSet::builtin();
        for rb in set.versions() {
            let k = rb.name_keys();
            assert!(!k.revenue_workloads.is_empty() && !k.certifications.is_empty());
            for (n, id) in &k.revenue_workloads {
                assert_eq!(rb.revenue_workload(n), Some(*id), "{n}");
            }
            for (n, id) in &k.usage_workloads {
                assert_eq!(rb.usage_workload(n), Some(*id), "{n}");
            }
            for (n, id) in &k.certifications {
                assert_eq!(rb.certification(n), Some(*id), "{n}");
            }
            // Every canonical name is among the keys.
            for (i, w) in rb.revenue.workloads.iter().enumerate() {
                let key = crate::name::normalize(&w.name);
                assert!(k.revenue_workloads.contains(&(key, i as u16)));
            }
        }
    }
}
