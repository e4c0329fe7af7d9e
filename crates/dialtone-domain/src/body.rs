//! Typed reading of JSON request bodies, so that every bad field is answered with a
//! `source.pointer` naming it. Unknown fields are ignored, as Telnyx does.

use crate::error::{ApiError, Code, Result};
use serde_json::{Map, Value};

/// A parsed JSON object body. An empty body reads as `{}`.
#[derive(Clone, Debug, Default)]
pub struct Body(pub Map<String, Value>);

fn type_error(field: &str, want: &str) -> ApiError {
    ApiError::new(Code::InvalidType)
        .detail(format!("The '{field}' parameter must be of type '{want}'."))
        .pointer(format!("/{field}"))
}

impl Body {
    pub fn from_value(v: Value) -> Result<Body> {
        match v {
            Value::Object(m) => Ok(Body(m)),
            Value::Null => Ok(Body::default()),
            _ => Err(ApiError::new(Code::BadRequest).detail("The request body must be a JSON object.").pointer("/")),
        }
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.get(field).is_some_and(|v| !v.is_null())
    }

    pub fn raw(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    pub fn opt_str(&self, field: &str) -> Result<Option<&str>> {
        match self.raw(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(type_error(field, "string")),
        }
    }

    /// A required, non-empty string.
    pub fn req_str(&self, field: &str) -> Result<&str> {
        match self.opt_str(field)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(ApiError::missing(field)),
        }
    }

    pub fn opt_bool(&self, field: &str) -> Result<Option<bool>> {
        match self.raw(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(type_error(field, "boolean")),
        }
    }

    pub fn opt_int(&self, field: &str) -> Result<Option<i64>> {
        match self.raw(field) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| type_error(field, "integer")),
            Some(_) => Err(type_error(field, "integer")),
        }
    }

    /// An integer within `min..=max` (10033 outside it).
    pub fn opt_int_in(&self, field: &str, min: i64, max: i64) -> Result<Option<i64>> {
        match self.opt_int(field)? {
            Some(n) if !(min..=max).contains(&n) => Err(ApiError::out_of_range(field, min, max)),
            other => Ok(other),
        }
    }

    /// A string from a closed set (10032 otherwise).
    pub fn opt_enum(&self, field: &str, allowed: &[&str]) -> Result<Option<&str>> {
        match self.opt_str(field)? {
            Some(v) if !allowed.contains(&v) => Err(ApiError::not_one_of(field, allowed)),
            other => Ok(other),
        }
    }

    pub fn req_int(&self, field: &str) -> Result<i64> {
        self.opt_int(field)?.ok_or_else(|| ApiError::missing(field))
    }

    /// The field is present with the value `null` (a PATCH clearing a nullable field).
    pub fn is_null(&self, field: &str) -> bool {
        self.0.get(field).is_some_and(Value::is_null)
    }

    pub fn opt_number(&self, field: &str) -> Result<Option<f64>> {
        match self.raw(field) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(|| type_error(field, "number")),
            Some(_) => Err(type_error(field, "number")),
        }
    }

    /// A nested object, read as a body of its own; errors from it are placed under
    /// `/field` with [`ApiError::within`].
    pub fn opt_object(&self, field: &str) -> Result<Option<Body>> {
        match self.raw(field) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Body(m.clone()))),
            Some(_) => Err(type_error(field, "object")),
        }
    }

    /// An array (its items are the caller's to read).
    pub fn opt_array(&self, field: &str) -> Result<Option<&Vec<Value>>> {
        match self.raw(field) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(type_error(field, "array")),
        }
    }

    /// An array of strings; a non-string item is pointed at by its index.
    pub fn opt_str_array(&self, field: &str) -> Result<Option<Vec<String>>> {
        let Some(items) = self.opt_array(field)? else {
            return Ok(None);
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(type_error(&format!("{field}/{i}"), "string")),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }
}

/// A loose email check: one `@`, something on each side, a dot in the domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_types_point_at_the_field() {
        let b = Body::from_value(json!({"a": 1, "b": "x", "c": true})).unwrap();
        let e = b.opt_str("a").unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/a"));
        assert_eq!(e.status(), 422);
        assert!(b.opt_bool("b").is_err());
        assert_eq!(b.opt_bool("c").unwrap(), Some(true));
        assert_eq!(b.req_str("missing").unwrap_err().code, Code::MissingParameter);
        assert!(Body::from_value(json!([1])).is_err());
    }

    #[test]
    fn enums_and_ranges() {
        let b = Body::from_value(json!({"e": "x", "n": 50})).unwrap();
        assert_eq!(b.opt_enum("e", &["a", "b"]).unwrap_err().code, Code::InvalidEnum);
        assert_eq!(b.opt_enum("e", &["x"]).unwrap(), Some("x"));
        let e = b.opt_int_in("n", 1, 10).unwrap_err();
        assert_eq!((e.code, e.pointer.as_deref()), (Code::OutOfRange, Some("/n")));
        assert_eq!(b.opt_int_in("n", 1, 50).unwrap(), Some(50));
    }

    #[test]
    fn email_shapes() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@b"));
        assert!(!is_email("ab.co"));
        assert!(!is_email("a b@c.de"));
    }
}
