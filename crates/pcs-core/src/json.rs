//! Compact JSON text of any [`Serialize`] value into a byte vector: the same
//! bytes as `serde_json::to_writer`, written faster.
//!
//! `pcs score --format jsonl` writes millions of short strings (the score
//! objects' keys, ids and months), nearly none of which needs escaping.
//! serde_json looks at every byte of every string through its escape table;
//! [`write_compact`] tests eight bytes at a time and copies a plain string
//! whole. Everything else is serde_json's own: numbers, `null`, booleans and
//! each escape sequence are written by its [`CompactFormatter`], and which
//! bytes are escaped (`"`, `\` and those below 0x20) is its table's rule.
//! The tests check the two against each other on score objects and on
//! arbitrary values.

use std::fmt::Display;

use serde::ser::{self, Serialize};
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

/// Why a value could not be written (a map key that is not a string,
/// number, boolean or unit variant; or an error of the value's own
/// `Serialize`).
#[derive(Debug)]
pub struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Appends the compact JSON text of `value` to `out`: exactly what
/// `serde_json::to_writer(out, value)` appends. On an error, `out` may hold
/// part of the text.
pub fn write_compact<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(&mut Compact { out })
}

/// The serializer: the output, written as serde_json's compact serializer
/// writes it.
struct Compact<'o> {
    out: &'o mut Vec<u8>,
}

/// Writing to a vector cannot fail.
fn vec_ok(r: std::io::Result<()>) {
    r.expect("writing to a Vec does not fail");
}

/// Whether some byte of the eight is `"`, `\` or below 0x20 (the bytes JSON
/// escapes). Exact for "some byte": the borrow of a subtraction only spills
/// past a byte that already matched.
#[inline]
fn has_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q & HIGH;
    let b = w ^ (ONES * u64::from(b'\\'));
    let backslash = b.wrapping_sub(ONES) & !b & HIGH;
    (below_space | quote | backslash) != 0
}

/// Whether the string holds no byte that JSON escapes: eight bytes at a
/// time, the last eight overlapping those before; a shorter string's bytes
/// gathered into one word (overlapping, the rest `a`).
#[inline]
fn is_plain(s: &[u8]) -> bool {
    let n = s.len();
    let word = |i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("eight bytes"));
    let half = |i: usize| {
        u64::from(u32::from_le_bytes(
            s[i..i + 4].try_into().expect("four bytes"),
        ))
    };
    match n {
        0 => true,
        1..=3 => {
            let w = u64::from_le_bytes([s[0], s[n / 2], s[n - 1], b'a', b'a', b'a', b'a', b'a']);
            !has_escape(w)
        }
        4..=7 => !has_escape(half(0) | half(n - 4) << 32),
        _ => (0..n / 8).all(|k| !has_escape(word(8 * k))) && !has_escape(word(n - 8)),
    }
}

/// How serde_json escapes a byte, if it does.
#[inline]
fn escape_of(b: u8) -> Option<CharEscape> {
    Some(match b {
        b'"' => CharEscape::Quote,
        b'\\' => CharEscape::ReverseSolidus,
        0x08 => CharEscape::Backspace,
        0x09 => CharEscape::Tab,
        0x0A => CharEscape::LineFeed,
        0x0C => CharEscape::FormFeed,
        0x0D => CharEscape::CarriageReturn,
        0x00..=0x1F => CharEscape::AsciiControl(b),
        _ => return None,
    })
}

/// Writes `s` as a JSON string, quoted and escaped.
fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if is_plain(bytes) {
        out.extend_from_slice(bytes);
    } else {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if let Some(e) = escape_of(b) {
                out.extend_from_slice(&bytes[start..i]);
                vec_ok(CompactFormatter.write_char_escape(out, e));
                start = i + 1;
            }
        }
        out.extend_from_slice(&bytes[start..]);
    }
    out.push(b'"');
}

macro_rules! numbers {
    ($($method:ident: $t:ty => $write:ident,)*) => {
        $(
            fn $method(self, v: $t) -> Result<(), Error> {
                vec_ok(CompactFormatter.$write(self.out, v));
                Ok(())
            }
        )*
    };
}

impl<'a, 'o> ser::Serializer for &'a mut Compact<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Seq<'a, 'o>;
    type SerializeTuple = Seq<'a, 'o>;
    type SerializeTupleStruct = Seq<'a, 'o>;
    type SerializeTupleVariant = Seq<'a, 'o>;
    type SerializeMap = Seq<'a, 'o>;
    type SerializeStruct = Seq<'a, 'o>;
    type SerializeStructVariant = Seq<'a, 'o>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        vec_ok(CompactFormatter.write_bool(self.out, v));
        Ok(())
    }

    numbers! {
        serialize_i8: i8 => write_i8,
        serialize_i16: i16 => write_i16,
        serialize_i32: i32 => write_i32,
        serialize_i64: i64 => write_i64,
        serialize_i128: i128 => write_i128,
        serialize_u8: u8 => write_u8,
        serialize_u16: u16 => write_u16,
        serialize_u32: u32 => write_u32,
        serialize_u64: u64 => write_u64,
        serialize_u128: u128 => write_u128,
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        if v.is_finite() {
            vec_ok(CompactFormatter.write_f32(self.out, v));
        } else {
            vec_ok(CompactFormatter.write_null(self.out));
        }
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        if v.is_finite() {
            vec_ok(CompactFormatter.write_f64(self.out, v));
        } else {
            vec_ok(CompactFormatter.write_null(self.out));
        }
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        vec_ok(CompactFormatter.write_byte_array(self.out, v));
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        vec_ok(CompactFormatter.write_null(self.out));
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
        v.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a, 'o>, Error> {
        self.out.push(b'[');
        Ok(Seq::new(self, b"]"))
    }

    fn serialize_tuple(self, len: usize) -> Result<Seq<'a, 'o>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq<'a, 'o>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Seq<'a, 'o>, Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":[");
        Ok(Seq::new(self, b"]}"))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Seq<'a, 'o>, Error> {
        self.out.push(b'{');
        Ok(Seq::new(self, b"}"))
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Seq<'a, 'o>, Error> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Seq<'a, 'o>, Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":{");
        Ok(Seq::new(self, b"}}"))
    }
}

/// An array, object or variant being written: a comma before each element
/// but the first, and its closing bytes at the end.
struct Seq<'a, 'o> {
    ser: &'a mut Compact<'o>,
    first: bool,
    close: &'static [u8],
}

impl<'a, 'o> Seq<'a, 'o> {
    fn new(ser: &'a mut Compact<'o>, close: &'static [u8]) -> Self {
        Seq {
            ser,
            first: true,
            close,
        }
    }

    fn comma(&mut self) {
        if !self.first {
            self.ser.out.push(b',');
        }
        self.first = false;
    }

    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.comma();
        v.serialize(&mut *self.ser)
    }

    fn entry<T: Serialize + ?Sized>(&mut self, key: &str, v: &T) -> Result<(), Error> {
        self.comma();
        write_str(self.ser.out, key);
        self.ser.out.push(b':');
        v.serialize(&mut *self.ser)
    }

    fn close(self) -> Result<(), Error> {
        self.ser.out.extend_from_slice(self.close);
        Ok(())
    }
}

/// The sequence traits: each element after a comma, then the closing bytes.
macro_rules! sequences {
    ($($trait:ident: $method:ident,)*) => {
        $(
            impl ser::$trait for Seq<'_, '_> {
                type Ok = ();
                type Error = Error;
                fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
                    self.element(v)
                }
                fn end(self) -> Result<(), Error> {
                    self.close()
                }
            }
        )*
    };
}

sequences! {
    SerializeSeq: serialize_element,
    SerializeTuple: serialize_element,
    SerializeTupleStruct: serialize_field,
    SerializeTupleVariant: serialize_field,
}

impl ser::SerializeMap for Seq<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        key.serialize(Key {
            out: &mut *self.ser.out,
        })
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.ser.out.push(b':');
        v.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// The struct traits: each field's name and value after a comma, then the
/// closing bytes.
macro_rules! structs {
    ($($trait:ident,)*) => {
        $(
            impl ser::$trait for Seq<'_, '_> {
                type Ok = ();
                type Error = Error;
                fn serialize_field<T: Serialize + ?Sized>(
                    &mut self,
                    key: &'static str,
                    v: &T,
                ) -> Result<(), Error> {
                    self.entry(key, v)
                }
                fn end(self) -> Result<(), Error> {
                    self.close()
                }
            }
        )*
    };
}

structs! {
    SerializeStruct,
    SerializeStructVariant,
}

/// A map key: a string as it is; a number, boolean or character quoted, as
/// serde_json writes them.
struct Key<'o> {
    out: &'o mut Vec<u8>,
}

fn key_must_be_a_string() -> Error {
    Error("key must be a string".into())
}

macro_rules! quoted_keys {
    ($($method:ident: $t:ty => $write:ident,)*) => {
        $(
            fn $method(self, v: $t) -> Result<(), Error> {
                self.out.push(b'"');
                vec_ok(CompactFormatter.$write(self.out, v));
                self.out.push(b'"');
                Ok(())
            }
        )*
    };
}

impl ser::Serializer for Key<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"\"true\"" } else { b"\"false\"" });
        Ok(())
    }

    quoted_keys! {
        serialize_i8: i8 => write_i8,
        serialize_i16: i16 => write_i16,
        serialize_i32: i32 => write_i32,
        serialize_i64: i64 => write_i64,
        serialize_i128: i128 => write_i128,
        serialize_u8: u8 => write_u8,
        serialize_u16: u16 => write_u16,
        serialize_u32: u32 => write_u32,
        serialize_u64: u64 => write_u64,
        serialize_u128: u128 => write_u128,
    }

    fn serialize_f32(self, _: f32) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_f64(self, _: f64) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_none(self) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit(self) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        write_str(self.out, variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Serialize;
    use serde_json::Value;
    use std::collections::BTreeMap;

    fn both<T: Serialize + ?Sized>(v: &T) -> (Vec<u8>, Vec<u8>) {
        let mut ours = Vec::new();
        write_compact(&mut ours, v).unwrap();
        (ours, serde_json::to_vec(v).unwrap())
    }

    #[derive(Serialize)]
    enum E {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { a: Option<f64>, b: Vec<bool> },
    }

    #[derive(Serialize)]
    struct S<'a> {
        name: &'a str,
        n: i64,
        u: u128,
        x: f32,
        c: char,
        bytes: &'a [u8],
        unit: (),
        pair: (u8, &'a str),
        none: Option<u8>,
        by_int: BTreeMap<i32, u8>,
        by_bool: BTreeMap<bool, u8>,
        by_char: BTreeMap<char, u8>,
        enums: Vec<E>,
    }

    #[test]
    fn every_serde_shape_is_written_as_serde_json_writes_it() {
        let s = S {
            name: "a\"b\\c\nd\te\u{1}f\u{7f}g é 😀",
            n: -42,
            u: u128::MAX,
            x: 1.5e-7,
            c: '"',
            bytes: &[0, 255],
            unit: (),
            pair: (7, "\u{8}\u{c}\r"),
            none: None,
            by_int: [(-3, 1), (5, 2)].into(),
            by_bool: [(true, 1), (false, 0)].into(),
            by_char: [('\n', 1)].into(),
            enums: vec![
                E::Unit,
                E::Newtype(3),
                E::Tuple(-1, "t".into()),
                E::Struct {
                    a: Some(f64::NAN),
                    b: vec![],
                },
                E::Struct {
                    a: Some(0.1),
                    b: vec![true, false],
                },
            ],
        };
        let (ours, theirs) = both(&s);
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
        for v in [f64::INFINITY, -0.0, 1e300, 5e-324, 123456789.125] {
            let (ours, theirs) = both(&v);
            assert_eq!(ours, theirs, "{v}");
        }
    }

    #[test]
    fn a_key_that_is_no_string_fails_as_it_does_in_serde_json() {
        let m: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(write_compact(&mut Vec::new(), &m).is_err());
        assert!(serde_json::to_vec(&m).is_err());
    }

    #[test]
    fn the_eight_byte_test_finds_each_escaped_byte_at_each_place() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut w = *b"abcdefgh";
                w[at] = b;
                assert_eq!(
                    has_escape(u64::from_le_bytes(w)),
                    escape_of(b).is_some(),
                    "{b} at {at}"
                );
            }
        }
    }

    #[test]
    fn a_string_is_plain_unless_some_byte_is_escaped_whatever_its_length() {
        for n in 0..20 {
            let plain = vec![b'x'; n];
            assert!(is_plain(&plain), "{n}");
            for at in 0..n {
                for b in [0u8, 0x1f, b'"', b'\\', b' ', 0x7f, 0xc3] {
                    let mut s = plain.clone();
                    s[at] = b;
                    assert_eq!(is_plain(&s), escape_of(b).is_none(), "{n} {at} {b}");
                }
            }
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".*".prop_map(Value::String),
            prop::collection::vec(any::<u8>(), 0..40)
                .prop_map(|b| Value::String(String::from_utf8_lossy(&b).into_owned())),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((".*", inner), 0..8)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_value_is_written_as_serde_json_writes_it(v in arb_value()) {
            let (ours, theirs) = both(&v);
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn any_string_is_written_as_serde_json_writes_it(s in ".*", b in prop::collection::vec(any::<u8>(), 0..64)) {
            let (ours, theirs) = both(&s);
            prop_assert_eq!(ours, theirs);
            let lossy = String::from_utf8_lossy(&b);
            let (ours, theirs) = both(&lossy);
            prop_assert_eq!(ours, theirs);
        }
    }
}
