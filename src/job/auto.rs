//! `"auto"` or a value: a key the job may fix or leave to segmenta (`k`, `dbscan_eps`, `gmm_k`).

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize, Serializer};

use super::suggest::suggest;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Auto<T> {
    /// Chosen by segmenta from the data.
    #[default]
    Auto,
    Fixed(T),
}

impl<T: Copy> Auto<T> {
    /// `Some(value)` when the job fixes it, `None` when segmenta chooses.
    pub fn fixed(&self) -> Option<T> {
        match self {
            Auto::Auto => None,
            Auto::Fixed(v) => Some(*v),
        }
    }
}

impl<T: Serialize> Serialize for Auto<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Auto::Auto => serializer.serialize_str("auto"),
            Auto::Fixed(v) => v.serialize(serializer),
        }
    }
}

/// The value as written, before the only word allowed is checked.
#[derive(Deserialize)]
#[serde(untagged)]
enum Written<T> {
    Value(T),
    Word(String),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Auto<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // serde's own message for an untagged enum names the enum, not what the analyst wrote.
        let expected = "expected \"auto\" or a number";
        match Written::<T>::deserialize(deserializer).map_err(|_| D::Error::custom(expected))? {
            Written::Value(v) => Ok(Auto::Fixed(v)),
            Written::Word(w) if w == "auto" => Ok(Auto::Auto),
            Written::Word(w) => Err(D::Error::custom(format!(
                "\"{w}\": {expected}{}",
                suggest(&w, &["auto"])
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Serialize)]
    struct Keys {
        k: Auto<usize>,
    }

    fn parse(text: &str) -> Result<Auto<usize>, String> {
        toml::from_str::<Keys>(text)
            .map(|keys| keys.k)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn auto_and_numbers_parse_and_round_trip() {
        assert_eq!(parse("k = \"auto\"").unwrap(), Auto::Auto);
        assert_eq!(parse("k = 4").unwrap(), Auto::Fixed(4));
        let text = toml::to_string(&Keys { k: Auto::Auto }).unwrap();
        assert_eq!(parse(&text).unwrap(), Auto::Auto);
        let text = toml::to_string(&Keys { k: Auto::Fixed(7) }).unwrap();
        assert_eq!(parse(&text).unwrap(), Auto::Fixed(7));
    }

    #[test]
    fn any_other_word_is_an_error_at_parse_time() {
        let err = parse("k = \"ato\"").unwrap_err();
        assert!(
            err.contains("\"ato\": expected \"auto\" or a number"),
            "{err}"
        );
        assert!(err.contains("did you mean `auto`"), "{err}");
        let err = parse("k = true").unwrap_err();
        assert!(err.contains("expected \"auto\" or a number"), "{err}");
    }
}
