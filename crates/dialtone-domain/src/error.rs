//! The error catalogue: every error Dialtone answers, with its HTTP status, Telnyx code and
//! title, in one table. The HTTP layer renders an [`ApiError`] in the error shape of the
//! product the operation belongs to; nothing else builds error bodies.

use serde_json::{Value, json};

/// Every kind of error the API can answer. The numeric codes are Telnyx's documented API
/// error codes (call control's `900xx` among them, as the spec's examples give them); codes
/// `904xx`/`905xx` are Dialtone's own (no Telnyx equivalent is documented).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// 10002: a phone number that cannot exist.
    InvalidPhoneNumber,
    /// 10004: a required parameter is absent.
    MissingParameter,
    /// 10005: unknown id, unknown path, or another account's resource.
    NotFound,
    /// 10006: an id that is not well-formed.
    InvalidId,
    /// 10007: a fault we did not expect (logged; the body says nothing more).
    Unexpected,
    /// 10009: no API key, or an unknown one.
    AuthenticationFailed,
    /// 10010: the key is known but may not do this (disabled account, not a manager).
    AuthorizationFailed,
    /// 10011: too many requests (rate limit or injected fault).
    TooManyRequests,
    /// 10012: the resource already exists.
    Duplicate,
    /// 10015: the request is not well-formed (query or body syntax).
    BadRequest,
    /// 10016: phone number must be E.164.
    NotE164,
    /// 10019: invalid email address.
    InvalidEmail,
    /// 10020: a field of the wrong JSON type.
    InvalidType,
    /// 10021: the resource is still in use.
    InUse,
    /// 10023: the body is not JSON.
    InvalidJson,
    /// 10015 at 422: a value of the right type that breaks a rule (range, enum, length).
    InvalidValue,
    /// 10017: an id in the body names a resource that does not exist (for this account).
    MissingAssociation,
    /// 422: a phone number that is not in the inventory or already belongs to someone.
    NumberUnavailable,
    /// 10032: a value outside the field's enumeration.
    InvalidEnum,
    /// 10033: a number outside the field's range.
    OutOfRange,
    /// 10015 with call control's title: `connection_id` names no usable application.
    InvalidConnectionId,
    /// 90015: no call of this account has this `call_control_id`.
    InvalidCallControlId,
    /// 90018: the call has ended; it takes no more commands.
    CallEnded,
    /// 90034: the command needs an answered call.
    CallNotAnswered,
    /// 90423 (Dialtone's own): a command that does not fit the call's state (answering an
    /// outgoing or already answered call, rejecting an answered one).
    CallStateConflict,
    /// 90440 (Dialtone's own): a video join or refresh token that is malformed, not signed
    /// by the account, for another room, of the wrong kind, or expired.
    InvalidRoomToken,
    /// 90441 (Dialtone's own): the room already has `max_participants` participants.
    RoomFull,
    /// 90442 (Dialtone's own): the room session has ended (actions), or has not (compositions).
    RoomSessionState,
    /// 90443 (Dialtone's own, at 403): a dial over the account's global outbound channel
    /// limit. Telnyx documents only the SIP answer ("403 User channel limit exceeded D1").
    ChannelLimitExceeded,
    /// 413: the body is over the documented limit.
    PayloadTooLarge,
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 501: an operation of the subset that Dialtone does not build yet.
    NotImplemented,
    /// 500/503: an injected fault (simulation endpoint).
    InjectedFault,
    /// 503: the store is unreachable.
    Unavailable,
}

impl Code {
    /// `(status, code, title)`: the catalogue itself.
    pub const fn entry(self) -> (u16, &'static str, &'static str) {
        match self {
            Code::InvalidPhoneNumber => (422, "10002", "Invalid phone number"),
            Code::MissingParameter => (422, "10004", "Missing required parameter"),
            Code::NotFound => (404, "10005", "Resource not found"),
            Code::InvalidId => (400, "10006", "Invalid ID"),
            Code::Unexpected => (500, "10007", "Unexpected error"),
            Code::AuthenticationFailed => (401, "10009", "Authentication failed"),
            Code::AuthorizationFailed => (403, "10010", "Authorization failed"),
            Code::TooManyRequests => (429, "10011", "Too many requests"),
            Code::Duplicate => (409, "10012", "Duplicate resource"),
            Code::BadRequest => (400, "10015", "Bad Request"),
            Code::NotE164 => (422, "10016", "Phone number must be in +E.164 format"),
            Code::InvalidEmail => (422, "10019", "Invalid email address"),
            Code::InvalidType => (422, "10020", "Invalid resource type"),
            Code::InUse => (422, "10021", "Resource in use"),
            Code::InvalidJson => (400, "10023", "Invalid JSON"),
            Code::InvalidValue => (422, "10015", "Invalid value"),
            Code::MissingAssociation => (422, "10017", "Associated resource does not exist"),
            Code::NumberUnavailable => (422, "90422", "Phone number not available"),
            Code::InvalidEnum => (422, "10032", "Invalid enumerated value"),
            Code::OutOfRange => (422, "10033", "Value outside of range"),
            Code::InvalidConnectionId => (422, "10015", "Invalid value for connection_id (Call Control App ID)"),
            Code::InvalidCallControlId => (422, "90015", "Invalid Call Control ID"),
            Code::CallEnded => (422, "90018", "Call has already ended"),
            Code::CallNotAnswered => (422, "90034", "Call not answered yet"),
            Code::CallStateConflict => (422, "90423", "Invalid call state"),
            Code::InvalidRoomToken => (403, "90440", "Invalid token"),
            Code::RoomFull => (422, "90441", "Room is full"),
            Code::RoomSessionState => (422, "90442", "Invalid room session state"),
            Code::ChannelLimitExceeded => (403, "90443", "User channel limit exceeded"),
            Code::PayloadTooLarge => (413, "10015", "Request entity too large"),
            Code::MethodNotAllowed => (405, "10015", "Method not allowed"),
            Code::NotImplemented => (501, "90501", "Not implemented"),
            Code::InjectedFault => (500, "90500", "Injected fault"),
            Code::Unavailable => (503, "90503", "Service unavailable"),
        }
    }

    pub const fn status(self) -> u16 {
        self.entry().0
    }

    /// The detail used when the caller gives none.
    pub const fn default_detail(self) -> &'static str {
        match self {
            Code::InvalidPhoneNumber => "The phone number is invalid.",
            Code::MissingParameter => "A required parameter was missing.",
            Code::NotFound => "The requested resource or URL could not be found.",
            Code::InvalidId => "The resource ID provided was invalid.",
            Code::Unexpected => "An unexpected error occured.",
            Code::AuthenticationFailed => "Could not understand the provided credentials.",
            Code::AuthorizationFailed => {
                "You do not have permission to perform the requested action on the specified resource or resources."
            }
            Code::TooManyRequests => "You have exceeded the maximum number of allowed requests.",
            Code::Duplicate => "Resource is a duplicate.",
            Code::BadRequest => "The request failed because it was not well-formed.",
            Code::NotE164 => "The specified phone number parameter must be in +E.164 format.",
            Code::InvalidEmail => "The 'email' parameter is not a valid email address.",
            Code::InvalidType => "The requested parameter has the wrong type.",
            Code::InUse => "The resource can not be removed as it is still in use.",
            Code::InvalidJson => "The supplied JSON body could not be parsed.",
            Code::InvalidValue => "The value of a parameter is not valid.",
            Code::MissingAssociation => "The requested parameter is invalid as the associated resource does not exist.",
            Code::NumberUnavailable => "The phone number is not available for purchase.",
            Code::InvalidEnum => "The value is not one of the field's allowed values.",
            Code::OutOfRange => "The value is outside of the allowed range.",
            Code::InvalidConnectionId => {
                "The requested connection_id (Call Control App ID) is either invalid or does not exist. Only Call Control Apps with valid webhook URL are accepted."
            }
            Code::InvalidCallControlId => "The call_control_id provided was not valid.",
            Code::CallEnded => "This call is no longer active and can't receive commands.",
            Code::CallNotAnswered => "This call can't receive this command because it has not been answered yet.",
            Code::CallStateConflict => "This call can't receive this command in its current state.",
            Code::InvalidRoomToken => "The token is not valid for this room.",
            Code::RoomFull => "The room has reached its maximum number of participants.",
            Code::RoomSessionState => "The room session is not in a state that allows this.",
            Code::ChannelLimitExceeded => "The account's concurrent outbound calls exceed its global channel limit.",
            Code::PayloadTooLarge => "The request body is larger than the server accepts.",
            Code::MethodNotAllowed => "The path does not support this HTTP method.",
            Code::NotImplemented => "This operation is not implemented by Dialtone yet.",
            Code::InjectedFault => "A fault injected through the simulation API.",
            Code::Unavailable => "The service is temporarily unavailable.",
        }
    }
}

/// An error to answer, independent of how the product renders it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{code:?}: {detail}")]
pub struct ApiError {
    pub code: Code,
    /// Overrides the catalogue's status (an injected 503, say).
    pub status: Option<u16>,
    pub detail: String,
    /// JSON pointer (RFC 6901) to the offending body field.
    pub pointer: Option<String>,
    /// Name of the offending query or path parameter.
    pub parameter: Option<String>,
    /// Seconds a client should wait (429).
    pub retry_after: Option<u64>,
    /// A product's own code and title (messaging's `40300`, say) in place of the
    /// catalogue's; the status still comes from the catalogue or `status`.
    pub code_override: Option<Box<(&'static str, String)>>,
}

impl ApiError {
    pub fn new(code: Code) -> Self {
        ApiError {
            code,
            status: None,
            detail: code.default_detail().to_owned(),
            pointer: None,
            parameter: None,
            retry_after: None,
            code_override: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// Points at a body field; `field` is a JSON pointer such as `/email`.
    pub fn pointer(mut self, field: impl Into<String>) -> Self {
        self.pointer = Some(field.into());
        self
    }

    pub fn parameter(mut self, name: impl Into<String>) -> Self {
        self.parameter = Some(name.into());
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn not_found() -> Self {
        Self::new(Code::NotFound)
    }

    pub fn unexpected() -> Self {
        Self::new(Code::Unexpected)
    }

    /// A required body field is missing.
    pub fn missing(field: &str) -> Self {
        Self::new(Code::MissingParameter)
            .detail(format!("The '{field}' parameter is required."))
            .pointer(format!("/{field}"))
    }

    /// A body field has a value that breaks a rule.
    pub fn invalid(field: &str, why: impl Into<String>) -> Self {
        Self::new(Code::InvalidValue).detail(why).pointer(format!("/{}", field.trim_start_matches('/')))
    }

    /// A body field's value is not one of `allowed` (10032).
    pub fn not_one_of(field: &str, allowed: &[&str]) -> Self {
        Self::new(Code::InvalidEnum)
            .detail(format!("The value must be one of: {}.", allowed.join(", ")))
            .pointer(format!("/{}", field.trim_start_matches('/')))
    }

    /// A body field's number is outside `min..=max` (10033).
    pub fn out_of_range(field: &str, min: i64, max: i64) -> Self {
        Self::new(Code::OutOfRange)
            .detail(format!("The value is outside of allowed range {min} to {max}"))
            .pointer(format!("/{}", field.trim_start_matches('/')))
    }

    /// A query parameter has a value that breaks a rule.
    pub fn invalid_param(param: &str, why: impl Into<String>) -> Self {
        Self::new(Code::InvalidValue).detail(why).parameter(param)
    }

    /// Places the error's pointer under `prefix` (an error read from a nested object:
    /// `/long_code_weight` within `/number_pool_settings`).
    pub fn within(mut self, prefix: &str) -> Self {
        let prefix = prefix.trim_end_matches('/');
        self.pointer = Some(match self.pointer.take() {
            Some(p) if p != "/" => format!("{prefix}{p}"),
            _ => prefix.to_owned(),
        });
        self
    }

    pub fn status(&self) -> u16 {
        self.status.unwrap_or(self.code.status())
    }

    /// The one Telnyx error object: `{code, title, detail, source, meta}`.
    pub fn error_object(&self) -> Value {
        let (_, code, title) = self.code.entry();
        let (code, title) = match self.code_override.as_deref() {
            Some((c, t)) => (*c, t.as_str()),
            None => (code, title),
        };
        let mut obj = json!({
            "code": code,
            "title": title,
            "detail": self.detail,
            "meta": { "url": format!("https://developers.telnyx.com/docs/overview/errors/{code}") },
        });
        let mut source = serde_json::Map::new();
        if let Some(p) = &self.pointer {
            source.insert("pointer".into(), Value::String(p.clone()));
        }
        if let Some(p) = &self.parameter {
            source.insert("parameter".into(), Value::String(p.clone()));
        }
        if !source.is_empty() {
            obj["source"] = Value::Object(source);
        }
        obj
    }

    /// The usual envelope: `{"errors": [..]}`.
    pub fn body(&self) -> Value {
        json!({ "errors": [self.error_object()] })
    }
}

impl From<Code> for ApiError {
    fn from(code: Code) -> Self {
        ApiError::new(code)
    }
}

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_telnyx_envelope_with_source() {
        let e = ApiError::missing("business_name");
        let b = e.body();
        assert_eq!(e.status(), 422);
        assert_eq!(b["errors"][0]["code"], "10004");
        assert_eq!(b["errors"][0]["title"], "Missing required parameter");
        assert_eq!(b["errors"][0]["source"]["pointer"], "/business_name");
        assert!(b["errors"][0]["meta"]["url"].as_str().unwrap().ends_with("10004"));
    }

    #[test]
    fn source_is_left_out_when_nothing_is_pointed_at() {
        let b = ApiError::not_found().body();
        assert!(b["errors"][0].get("source").is_none());
        assert_eq!(ApiError::not_found().status(), 404);
    }

    #[test]
    fn status_can_be_overridden() {
        assert_eq!(ApiError::new(Code::InjectedFault).with_status(503).status(), 503);
    }
}
