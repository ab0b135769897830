//! Name normalisation shared by headers and catalogue names.
//!
//! The contract (interface.md) matches headers and names of workloads,
//! association types and certifications case-insensitively, with spaces,
//! `_` and `-` treated alike. Surrounding white space is ignored. Nothing
//! else is normalised: `Power  BI` (two spaces) is not `Power BI`.

/// Returns the normalised key of a name: trimmed, lower-cased, with `_` and
/// `-` replaced by a space.
///
/// ```
/// use pcs_core::name::normalize;
/// assert_eq!(normalize(" Customer_Tenant-ID "), "customer tenant id");
/// assert_eq!(normalize("POWER-BI"), normalize("power bi"));
/// ```
pub fn normalize(name: &str) -> String {
    let trimmed = name.trim();
    let mut out = String::with_capacity(trimmed.len());
    if trimmed.is_ascii() {
        for b in trimmed.bytes() {
            out.push(match b {
                b'_' | b'-' => ' ',
                _ => b.to_ascii_lowercase() as char,
            });
        }
    } else {
        for c in trimmed.chars() {
            match c {
                '_' | '-' => out.push(' '),
                c => out.extend(c.to_lowercase()),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn separators_and_case_are_alike() {
        assert_eq!(normalize("Customer Tenant ID"), "customer tenant id");
        assert_eq!(normalize("customer_tenant_id"), "customer tenant id");
        assert_eq!(normalize("CUSTOMER-TENANT-ID"), "customer tenant id");
        assert_eq!(normalize("Csp_Tier_1"), normalize("CSP Tier 1"));
    }

    #[test]
    fn only_surrounding_space_is_trimmed() {
        assert_eq!(normalize("  Power BI\t"), "power bi");
        assert_ne!(normalize("Power  BI"), normalize("Power BI"));
    }

    #[test]
    fn non_ascii_is_lowercased() {
        assert_eq!(normalize("ÉLAN-Données"), "élan données");
    }
}
