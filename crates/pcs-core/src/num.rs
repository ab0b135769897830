//! Reading decimals exactly from TOML and JSON numbers.

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};

/// Deserializes a decimal from an integer, a float or a string, exactly:
/// a float is read through its shortest decimal text, so `2.14` is 2.14, not
/// its binary approximation. Use with `#[serde(deserialize_with = ...)]`.
pub fn deserialize<'de, D: de::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Decimal;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
            v.to_string()
                .parse::<Decimal>()
                .map_err(|_| E::custom(format!("{v} is not a finite decimal number")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            Decimal::from_str_exact(v.trim())
                .map_err(|_| E::custom(format!("'{v}' is not a decimal number")))
        }
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    #[derive(serde::Deserialize)]
    struct S {
        #[serde(deserialize_with = "super::deserialize")]
        x: Decimal,
    }

    #[test]
    fn reads_exactly_from_json_and_toml() {
        let j: S = serde_json::from_str(r#"{"x": 0.1}"#).unwrap();
        assert_eq!(j.x.to_string(), "0.1");
        let t: S = toml::from_str("x = 2.14").unwrap();
        assert_eq!(t.x.to_string(), "2.14");
        let t: S = toml::from_str("x = 1800").unwrap();
        assert_eq!(t.x.to_string(), "1800");
        let t: S = toml::from_str("x = \"12.50\"").unwrap();
        assert_eq!(t.x.to_string(), "12.50");
        assert!(toml::from_str::<S>("x = \"1,5\"").is_err());
    }
}
