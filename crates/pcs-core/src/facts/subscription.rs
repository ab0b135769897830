//! A subscription id held in 24 bytes with no heap allocation when it is a
//! GUID written in the canonical 8-4-4-4-12 form (all lowercase or all
//! uppercase), as Partner Center writes subscription ids; any other text is
//! kept as written. Written back, it is the text as it was read, byte for
//! byte: the form that was read decides the representation, so two ids are
//! equal exactly when their texts are.
//!
//! A traced revenue or ACR aggregate keeps one entry per subscription, about
//! one per source row, so that `pcs serve` holds hundreds of thousands of
//! them: as `String`s each was a separate 48-byte heap block besides the
//! 24-byte handle.

use std::fmt;

use uuid::Uuid;

/// A subscription id, exactly as read (see the module's documentation).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SubscriptionId(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// A canonical GUID in lowercase.
    Lower([u8; 16]),
    /// A canonical GUID in uppercase.
    Upper([u8; 16]),
    /// Anything else, as written.
    Text(Box<str>),
}

/// The length of a GUID in the 8-4-4-4-12 form.
const HYPHENATED: usize = 36;

impl SubscriptionId {
    /// The id of `text`, kept exactly as written.
    pub fn new(text: &str) -> SubscriptionId {
        SubscriptionId::packed(text).unwrap_or_else(|| SubscriptionId(Repr::Text(text.into())))
    }

    /// The id of `text` when it is a canonical GUID (held without heap),
    /// else `None`.
    pub fn packed(text: &str) -> Option<SubscriptionId> {
        if text.len() != HYPHENATED {
            return None;
        }
        let u = Uuid::try_parse(text).ok()?;
        let mut buf = [0u8; HYPHENATED];
        if *u.hyphenated().encode_lower(&mut buf) == *text {
            Some(SubscriptionId(Repr::Lower(*u.as_bytes())))
        } else if *u.hyphenated().encode_upper(&mut buf) == *text {
            Some(SubscriptionId(Repr::Upper(*u.as_bytes())))
        } else {
            None
        }
    }

    /// The text of an id that is not a packed GUID.
    pub fn as_text(&self) -> Option<&str> {
        match &self.0 {
            Repr::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Whether this is the id `text` was read as.
    pub fn is(&self, text: &str) -> bool {
        let mut buf = [0u8; HYPHENATED];
        match &self.0 {
            Repr::Lower(b) => *Uuid::from_bytes(*b).hyphenated().encode_lower(&mut buf) == *text,
            Repr::Upper(b) => *Uuid::from_bytes(*b).hyphenated().encode_upper(&mut buf) == *text,
            Repr::Text(t) => **t == *text,
        }
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; HYPHENATED];
        match &self.0 {
            Repr::Lower(b) => f.write_str(Uuid::from_bytes(*b).hyphenated().encode_lower(&mut buf)),
            Repr::Upper(b) => f.write_str(Uuid::from_bytes(*b).hyphenated().encode_upper(&mut buf)),
            Repr::Text(t) => f.write_str(t),
        }
    }
}

impl fmt::Debug for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_string(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_canonical_guid_takes_no_heap_and_reads_back_as_written() {
        for text in [
            "41fe43dd-f276-44a7-8c91-f079e99017b2",
            "41FE43DD-F276-44A7-8C91-F079E99017B2",
        ] {
            let id = SubscriptionId::new(text);
            assert!(!matches!(id.0, Repr::Text(_)), "{text}");
            assert_eq!(id.to_string(), text);
            assert!(id.is(text));
        }
        assert_ne!(
            SubscriptionId::new("41fe43dd-f276-44a7-8c91-f079e99017b2"),
            SubscriptionId::new("41FE43DD-F276-44A7-8C91-F079E99017B2"),
        );
        assert_eq!(std::mem::size_of::<SubscriptionId>(), 24);
    }

    #[test]
    fn any_other_form_is_kept_as_text() {
        for text in [
            "",
            "S1",
            "41Fe43dd-f276-44a7-8c91-f079e99017b2",
            "{41fe43dd-f276-44a7-8c91-f079e99017b2}",
            "41fe43ddf27644a78c91f079e99017b2",
            "urn:uuid:41fe43dd-f276-44a7-8c91-f079e99017b2",
            " 41fe43dd-f276-44a7-8c91-f079e99017b2",
            "41fe43dd-f276-44a7-8c91-f079e99017bz",
            "41fe43dd+f276-44a7-8c91-f079e99017b2",
        ] {
            let id = SubscriptionId::new(text);
            assert!(matches!(id.0, Repr::Text(_)), "{text}");
            assert_eq!(id.to_string(), text);
            assert!(id.is(text));
        }
    }

    proptest! {
        #[test]
        fn every_text_reads_back_byte_for_byte(text in "[0-9a-fA-F-]{0,40}|\\PC{0,40}") {
            let id = SubscriptionId::new(&text);
            prop_assert_eq!(id.to_string(), text.clone());
            prop_assert!(id.is(&text));
        }

        #[test]
        fn two_ids_are_equal_exactly_when_their_texts_are(
            a in "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            upper in any::<bool>(),
        ) {
            let b = if upper { a.to_uppercase() } else { a.to_lowercase() };
            prop_assert_eq!(SubscriptionId::new(&a) == SubscriptionId::new(&b), a == b);
        }
    }
}
