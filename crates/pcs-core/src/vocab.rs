//! The names of the acr and licenses tables across every solution area of a
//! run: association types, Microsoft 365 workloads, offers and
//! certifications, each resolved once to a small id that every area's
//! filters are bound to.

use std::collections::HashMap;

use crate::area::{AreaRulebook, Entry};
use crate::name::normalize;
use crate::rulebook::{Rulebook, RulebookError};

/// One catalogue of the vocabulary: ids, display names and a name index.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    /// Stable ids (`dpor`), indexed by the catalogue id.
    pub ids: Vec<String>,
    /// Display names, indexed by the catalogue id.
    pub names: Vec<String>,
    index: HashMap<String, u16>,
}

impl Catalogue {
    fn add(&mut self, origin: &str, what: &str, e: &Entry) -> Result<(), RulebookError> {
        let id = match self.ids.iter().position(|x| *x == e.id) {
            Some(i) => i as u16,
            None => {
                self.ids.push(e.id.clone());
                self.names.push(e.name.clone());
                (self.ids.len() - 1) as u16
            }
        };
        for n in std::iter::once(&e.name).chain(&e.aliases) {
            let key = normalize(n);
            match self.index.get(&key) {
                Some(&other) if other != id => {
                    return Err(RulebookError::at(
                        origin,
                        format!(
                            "{what} name '{n}' means {} here but {} in another rulebook",
                            e.id, self.ids[other as usize]
                        ),
                    ));
                }
                _ => {
                    self.index.insert(key, id);
                }
            }
        }
        Ok(())
    }

    /// Resolves a name.
    pub fn get(&self, name: &str) -> Option<u16> {
        self.index.get(&normalize(name)).copied()
    }

    /// The catalogue id of a stable id.
    pub fn id_of(&self, id: &str) -> Option<u16> {
        self.ids.iter().position(|x| x == id).map(|i| i as u16)
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The names every rulebook of a run knows, merged; a name that means two
/// different things in two rulebooks is an error.
#[derive(Clone, Debug, Default)]
pub struct Vocabulary {
    /// Association types.
    pub association_catalogue: Catalogue,
    /// Association display names by id (for explanations).
    pub associations: Vec<String>,
    /// Microsoft 365 workloads.
    pub workload_catalogue: Catalogue,
    /// Workload display names by id.
    pub workloads: Vec<String>,
    /// Offers.
    pub offer_catalogue: Catalogue,
    certifications: HashMap<String, String>,
}

impl Vocabulary {
    /// Merges the names of Business Applications rulebooks and area rulebooks.
    pub fn new(ba: &[&Rulebook], areas: &[&AreaRulebook]) -> Result<Vocabulary, RulebookError> {
        let mut v = Vocabulary::default();
        for rb in ba {
            for (i, a) in rb.associations.iter().enumerate() {
                let aliases = rb
                    .name_keys()
                    .associations
                    .into_iter()
                    .filter(|(_, id)| *id as usize == i)
                    .map(|(k, _)| k)
                    .collect();
                let e = Entry {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    aliases,
                };
                v.association_catalogue.add(&rb.origin, "association", &e)?;
            }
            for (k, c) in rb.name_keys().certifications {
                v.certifications
                    .insert(k, rb.certifications[c as usize].id.clone());
            }
        }
        for a in areas {
            for e in &a.associations {
                v.association_catalogue.add(&a.origin, "association", e)?;
            }
            for e in &a.workloads {
                v.workload_catalogue.add(&a.origin, "workload", e)?;
            }
            for e in &a.offers {
                v.offer_catalogue.add(&a.origin, "offer", e)?;
            }
            for (k, i) in a.certification_keys() {
                v.certifications
                    .insert(k.to_string(), a.certifications[i].id.clone());
            }
        }
        if v.association_catalogue.len() >= u16::MAX as usize
            || v.workload_catalogue.len() >= u16::MAX as usize
            || v.offer_catalogue.len() >= u16::MAX as usize
        {
            return Err(RulebookError::at("vocabulary", "too many names"));
        }
        v.associations = v.association_catalogue.names.clone();
        v.workloads = v.workload_catalogue.names.clone();
        Ok(v)
    }

    /// Resolves an association type name.
    pub fn association(&self, name: &str) -> Option<u16> {
        self.association_catalogue.get(name)
    }

    /// Resolves a Microsoft 365 workload name.
    pub fn workload(&self, name: &str) -> Option<u16> {
        self.workload_catalogue.get(name)
    }

    /// Resolves an offer name (only offers some filter names are listed).
    pub fn offer(&self, name: &str) -> Option<u16> {
        self.offer_catalogue.get(name)
    }

    /// The Learn id of a certification name known to any rulebook of the run.
    pub fn certification(&self, name: &str) -> Option<&str> {
        self.certifications
            .get(&normalize(name))
            .map(String::as_str)
    }
}
