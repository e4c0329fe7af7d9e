//! deepObject query strings as Telnyx reads them: `filter[a][b]=v`, brackets percent-encoded,
//! arrays comma-joined, booleans `true`/`false`.

/// An ordered list of query parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn new() -> Query {
        Query::default()
    }

    /// Adds `name=value`; `name` is written as the API names it (`filter[status]`).
    pub fn push(&mut self, name: &str, value: String) {
        self.0.push((name.to_owned(), value));
    }

    /// The encoded string without the leading `?` (empty when there is no parameter).
    pub fn encode(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            s.append_pair(k, v);
        }
        // form encoding writes spaces as `+`; `%20` means the same to every server and is
        // what the official SDKs send.
        s.finish().replace('+', "%20")
    }

    pub(crate) fn pairs(&self) -> Vec<(String, String)> {
        self.0.clone()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// How a filter value is written in a query.
pub trait QueryValue {
    fn render(&self) -> String;
}

impl QueryValue for String {
    fn render(&self) -> String {
        self.clone()
    }
}

impl QueryValue for bool {
    fn render(&self) -> String {
        if *self { "true".into() } else { "false".into() }
    }
}

impl QueryValue for u32 {
    fn render(&self) -> String {
        self.to_string()
    }
}

impl QueryValue for i64 {
    fn render(&self) -> String {
        self.to_string()
    }
}

impl QueryValue for Vec<String> {
    fn render(&self) -> String {
        self.join(",")
    }
}

/// Percent-encodes one path segment (an id), so that `/`, `?` or `#` in it cannot change
/// the path.
pub(crate) fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' | b'+' | b'@' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_are_percent_encoded_and_arrays_joined() {
        let mut q = Query::new();
        q.push("filter[date_created_at][gte]", "2021-04-25".into());
        q.push("filter[features]", vec!["sms".to_owned(), "mms".to_owned()].render());
        q.push("filter[best_effort]", true.render());
        q.push("filter[name]", "a b&c".into());
        assert_eq!(
            q.encode(),
            "filter%5Bdate_created_at%5D%5Bgte%5D=2021-04-25&filter%5Bfeatures%5D=sms%2Cmms\
             &filter%5Bbest_effort%5D=true&filter%5Bname%5D=a%20b%26c"
        );
    }

    #[test]
    fn segments_cannot_escape_the_path() {
        assert_eq!(segment("v3:abc-_.~"), "v3:abc-_.~");
        assert_eq!(segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(segment("+13125550100"), "+13125550100");
    }
}
