//! The macros every resource module uses to declare its types, so that all of them follow
//! the same rules: requests take their required fields in `new` and the rest through chained
//! setters; responses keep fields this version does not know in `extra`; enums keep values
//! they do not know in `Unknown`.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Telnyx codes are strings, but some answers carry them as numbers.
pub(crate) fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// Declares a request body: `required { name: Type }` fields are arguments of `new`,
/// `optional { name: Type }` fields get a setter each, and `field(name, value)` sets any
/// field this version does not know.
macro_rules! request {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            required { $( $(#[$rmeta:meta])* $req:ident : $rty:ty ),* $(,)? }
            optional { $( $(#[$ometa:meta])* $opt:ident : $oty:ty ),* $(,)? }
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$rmeta])* pub $req: $rty, )*
            $( $(#[$ometa])* #[serde(skip_serializing_if = "Option::is_none")] pub $opt: Option<$oty>, )*
            /// Fields this version does not type, sent as given.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl $name {
            /// A request with its required fields.
            #[allow(clippy::new_without_default, clippy::too_many_arguments)]
            pub fn new($( $req: impl Into<$rty> ),*) -> Self {
                $name { $( $req: $req.into(), )* $( $opt: None, )* extra: serde_json::Map::new() }
            }

            $(
                #[doc = concat!("Sets `", stringify!($opt), "`.")]
                pub fn $opt(mut self, value: impl Into<$oty>) -> Self {
                    self.$opt = Some(value.into());
                    self
                }
            )*

            /// Sets a field this version does not type.
            pub fn field(mut self, name: &str, value: impl serde::Serialize) -> Self {
                self.extra.insert(name.to_owned(), serde_json::to_value(value).unwrap_or(serde_json::Value::Null));
                self
            }
        }
    };
}

/// Declares a response type: every field optional (an answer may leave any out), unknown
/// fields kept in `extra`.
macro_rules! model {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* #[serde(default, skip_serializing_if = "Option::is_none")] pub $field: Option<$fty>, )*
            /// Fields this version does not know.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }
    };
}

/// Declares a string enum whose unknown values are kept in `Unknown`.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $value:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version does not know.
            Unknown(String),
        }

        impl $name {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Unknown(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $value => $name::$variant, )*
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok($name::from(s.as_str()))
            }
        }
    };
}

/// Declares the parameters of a list: page number and size plus typed filters, each a
/// setter, encoded as deepObject query parameters (`filter[status]=...`).
macro_rules! list_params {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $fty:ty => $key:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            /// `page[number]`, from 1.
            pub page_number: Option<u32>,
            /// `page[size]`.
            pub page_size: Option<u32>,
            $( $(#[$fmeta])* pub $field: Option<$fty>, )*
            /// Query parameters this version does not type, as `(name, value)`.
            pub extra: Vec<(String, String)>,
        }

        impl $name {
            /// No filter, the server's default page.
            pub fn new() -> Self {
                Self::default()
            }

            /// Which page (from 1).
            pub fn page_number(mut self, n: u32) -> Self {
                self.page_number = Some(n);
                self
            }

            /// How many items a page holds.
            pub fn page_size(mut self, n: u32) -> Self {
                self.page_size = Some(n);
                self
            }

            $(
                $(#[$fmeta])*
                pub fn $field(mut self, value: impl Into<$fty>) -> Self {
                    self.$field = Some(value.into());
                    self
                }
            )*

            /// Any other query parameter, e.g. `("filter[x][eq]", "y")`.
            pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
                self.extra.push((name.into(), value.into()));
                self
            }
        }

        impl crate::pagination::ListParams for $name {
            fn encode(&self, q: &mut crate::query::Query) {
                $( if let Some(v) = &self.$field { q.push($key, crate::query::QueryValue::render(v)); } )*
                for (k, v) in &self.extra {
                    q.push(k, v.clone());
                }
            }
            fn page(&self) -> (Option<u32>, Option<u32>) {
                (self.page_number, self.page_size)
            }
        }
    };
}

pub(crate) use {list_params, model, request, string_enum};

#[cfg(test)]
mod tests {
    use serde_json::json;

    string_enum! {
        pub enum Color { Red = "red", Blue = "blue" }
    }

    model! {
        pub struct Thing { id: String, color: Color }
    }

    request! {
        pub struct MakeThing {
            required { name: String }
            optional { color: Color, size: i64 }
        }
    }

    #[test]
    fn unknown_values_and_fields_survive_a_round_trip() {
        let t: Thing = serde_json::from_value(json!({"id": "1", "color": "green", "shiny": true})).unwrap();
        assert_eq!(t.color, Some(Color::Unknown("green".into())));
        assert_eq!(t.extra["shiny"], json!(true));
        assert_eq!(serde_json::to_value(&t).unwrap(), json!({"id": "1", "color": "green", "shiny": true}));
        let known: Thing = serde_json::from_value(json!({"color": "red"})).unwrap();
        assert_eq!(known.color, Some(Color::Red));
    }

    #[test]
    fn requests_send_required_set_and_extra_fields_only() {
        let r = MakeThing::new("a").color(Color::Blue).field("future_field", 3).size(2i64);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"name": "a", "color": "blue", "size": 2, "future_field": 3})
        );
        assert_eq!(serde_json::to_value(MakeThing::new("b")).unwrap(), json!({"name": "b"}));
    }
}
