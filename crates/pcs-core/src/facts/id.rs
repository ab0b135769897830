//! An id or a short name held in 24 bytes, with no heap allocation when it
//! is a GUID written in the canonical 8-4-4-4-12 form (all lowercase or all
//! uppercase), as Partner Center writes tenant and subscription ids, or a
//! text of at most [`INLINE`] bytes (a person id, most customer names); a
//! longer text is kept as written in a box. Written back, it is the text as
//! it was read, byte for byte: the text decides the representation, so two
//! ids are equal exactly when their texts are.
//!
//! Facts hold one per customer tenant (its id and name), per person and, in
//! a traced aggregate, per subscription: as boxed `str`s each was a separate
//! heap block besides a 16-byte handle (48 bytes for a GUID).

use std::borrow::Cow;
use std::fmt;

use uuid::Uuid;

/// An id or short name, exactly as read (see the module's documentation).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CompactId(Repr);

/// The longest text held inline.
pub const INLINE: usize = 22;

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// A canonical GUID in lowercase.
    Lower([u8; 16]),
    /// A canonical GUID in uppercase.
    Upper([u8; 16]),
    /// Any other text of at most [`INLINE`] bytes: its length and its
    /// bytes, the rest zero.
    Short(u8, [u8; INLINE]),
    /// Anything longer, as written.
    Long(Box<str>),
}

/// The length of a GUID in the 8-4-4-4-12 form.
const HYPHENATED: usize = 36;

impl CompactId {
    /// The id of `text`, kept exactly as written.
    pub fn new(text: &str) -> CompactId {
        CompactId::inline(text).unwrap_or_else(|| CompactId(Repr::Long(text.into())))
    }

    /// The id of `text` when it is held without heap (a canonical GUID or
    /// a text of at most [`INLINE`] bytes), else `None`.
    pub fn inline(text: &str) -> Option<CompactId> {
        if text.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            return Some(CompactId(Repr::Short(text.len() as u8, bytes)));
        }
        if text.len() != HYPHENATED {
            return None;
        }
        // 36 bytes that parse are the hyphenated form (the simple, braced
        // and URN forms have other lengths): it reads back as written when
        // its hex digits are all of one case.
        let u = Uuid::try_parse(text).ok()?;
        let b = text.as_bytes();
        if !b.iter().any(|c| matches!(c, b'A'..=b'F')) {
            Some(CompactId(Repr::Lower(*u.as_bytes())))
        } else if !b.iter().any(|c| matches!(c, b'a'..=b'f')) {
            Some(CompactId(Repr::Upper(*u.as_bytes())))
        } else {
            None
        }
    }

    /// The text of an id held in a box (not [`CompactId::inline`]).
    pub fn as_boxed(&self) -> Option<&str> {
        match &self.0 {
            Repr::Long(t) => Some(t),
            _ => None,
        }
    }

    /// `f` of the text (a packed GUID written out on the stack).
    pub fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let mut buf = [0u8; HYPHENATED];
        f(self.text(&mut buf))
    }

    /// The text, written into `buf` when it is a packed GUID.
    fn text<'a>(&'a self, buf: &'a mut [u8; HYPHENATED]) -> &'a str {
        match &self.0 {
            Repr::Lower(b) => Uuid::from_bytes(*b).hyphenated().encode_lower(buf),
            Repr::Upper(b) => Uuid::from_bytes(*b).hyphenated().encode_upper(buf),
            Repr::Short(n, b) => short(*n, b),
            Repr::Long(t) => t,
        }
    }

    /// The text as read.
    pub fn as_str(&self) -> Cow<'_, str> {
        match &self.0 {
            Repr::Short(n, b) => Cow::Borrowed(short(*n, b)),
            Repr::Long(t) => Cow::Borrowed(t),
            _ => Cow::Owned(self.to_string()),
        }
    }

    /// Whether this is the id `text` was read as.
    pub fn is(&self, text: &str) -> bool {
        match &self.0 {
            Repr::Short(n, b) => b[..usize::from(*n)] == *text.as_bytes(),
            Repr::Long(t) => **t == *text,
            // A GUID's text is equal exactly when it has the same compact
            // form (one text has one form).
            _ => text.len() == HYPHENATED && CompactId::inline(text).is_some_and(|c| c == *self),
        }
    }

    /// Whether the text starts with `prefix`.
    pub fn starts_with(&self, prefix: &str) -> bool {
        let mut buf = [0u8; HYPHENATED];
        self.text(&mut buf).starts_with(prefix)
    }
}

/// The text of a [`Repr::Short`]: the bytes of a `str`, cut at its length.
fn short(n: u8, bytes: &[u8; INLINE]) -> &str {
    std::str::from_utf8(&bytes[..usize::from(n)]).expect("a short id holds the bytes of a str")
}

impl fmt::Display for CompactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; HYPHENATED];
        f.write_str(self.text(&mut buf))
    }
}

impl fmt::Debug for CompactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; HYPHENATED];
        fmt::Debug::fmt(self.text(&mut buf), f)
    }
}

impl From<&str> for CompactId {
    fn from(text: &str) -> CompactId {
        CompactId::new(text)
    }
}

impl PartialEq<str> for CompactId {
    fn eq(&self, other: &str) -> bool {
        self.is(other)
    }
}

impl PartialEq<&str> for CompactId {
    fn eq(&self, other: &&str) -> bool {
        self.is(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn boxed(id: &CompactId) -> bool {
        matches!(id.0, Repr::Long(_))
    }

    #[test]
    fn a_canonical_guid_takes_no_heap_and_reads_back_as_written() {
        for text in [
            "41fe43dd-f276-44a7-8c91-f079e99017b2",
            "41FE43DD-F276-44A7-8C91-F079E99017B2",
        ] {
            let id = CompactId::new(text);
            assert!(matches!(id.0, Repr::Lower(_) | Repr::Upper(_)), "{text}");
            assert_eq!(id.to_string(), text);
            assert_eq!(id.as_str(), text);
            assert!(id.is(text) && id == *text);
            assert!(id.starts_with("41") && !id.starts_with("42"));
        }
        assert_ne!(
            CompactId::new("41fe43dd-f276-44a7-8c91-f079e99017b2"),
            CompactId::new("41FE43DD-F276-44A7-8C91-F079E99017B2"),
        );
        assert_eq!(std::mem::size_of::<CompactId>(), 24);
        assert_eq!(std::mem::size_of::<Option<CompactId>>(), 24);
    }

    #[test]
    fn a_short_text_is_inline_up_to_its_limit_and_a_longer_one_boxed() {
        for text in [
            "",
            "T1",
            "P000001-9648",
            "Contoso Hotels",
            "é€😀",
            &"x".repeat(INLINE),
        ] {
            let id = CompactId::new(text);
            assert!(matches!(id.0, Repr::Short(..)), "{text}");
            assert!(CompactId::inline(text).is_some() && id.as_boxed().is_none());
            assert_eq!(id.to_string(), text);
            assert!(id.is(text));
        }
        let long = "x".repeat(INLINE + 1);
        let id = CompactId::new(&long);
        assert!(boxed(&id) && CompactId::inline(&long).is_none());
        assert_eq!(id.as_boxed(), Some(long.as_str()));
        assert!(id.is(&long) && !id.is(&long[..INLINE]));
        // Equal prefixes of different lengths differ.
        assert_ne!(CompactId::new("a"), CompactId::new("a\0"));
        assert!(!CompactId::new("a").is("a\0") && !CompactId::new("a\0").is("a"));
    }

    #[test]
    fn any_other_form_of_a_guid_is_kept_as_text() {
        for text in [
            "41Fe43dd-f276-44a7-8c91-f079e99017b2",
            "{41fe43dd-f276-44a7-8c91-f079e99017b2}",
            "41fe43ddf27644a78c91f079e99017b2",
            "urn:uuid:41fe43dd-f276-44a7-8c91-f079e99017b2",
            " 41fe43dd-f276-44a7-8c91-f079e99017b2",
            "41fe43dd-f276-44a7-8c91-f079e99017bz",
            "41fe43dd+f276-44a7-8c91-f079e99017b2",
        ] {
            let id = CompactId::new(text);
            assert!(boxed(&id), "{text}");
            assert_eq!(id.to_string(), text);
            assert!(id.is(text));
            assert!(!CompactId::new("41fe43dd-f276-44a7-8c91-f079e99017b2").is(text));
        }
    }

    proptest! {
        #[test]
        fn every_text_reads_back_byte_for_byte(text in "[0-9a-fA-F-]{0,40}|\\PC{0,40}") {
            let id = CompactId::new(&text);
            prop_assert_eq!(id.to_string(), text.clone());
            prop_assert_eq!(id.as_str(), text.as_str());
            prop_assert!(id.is(&text));
            prop_assert_eq!(boxed(&id), CompactId::inline(&text).is_none());
        }

        #[test]
        fn two_ids_are_equal_exactly_when_their_texts_are(
            a in "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\\PC{0,30}",
            b in "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\\PC{0,30}",
            upper in any::<bool>(),
        ) {
            let c = if upper { a.to_uppercase() } else { a.to_lowercase() };
            for (x, y) in [(&a, &b), (&a, &c)] {
                prop_assert_eq!(CompactId::new(x) == CompactId::new(y), x == y);
                prop_assert_eq!(CompactId::new(x).is(y), x == y);
            }
        }
    }
}
