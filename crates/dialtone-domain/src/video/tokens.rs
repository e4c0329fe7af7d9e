//! Join tokens: JWTs in the shape of Telnyx's documented client token, signed with the
//! account's Ed25519 key (the one that signs its webhooks). The header names the algorithm
//! `Ed25519`, as Telnyx's token does; the signature is Ed25519 over the usual JWT signing
//! input `base64url(header) "." base64url(claims)`, so any JWT library that does EdDSA
//! verifies it with the account's public key.
//!
//! A client token grants `join` on `telnyx:video:rooms:<room id>` for `token_ttl_secs`; the
//! refresh token issued with it (claim `typ: refresh`) buys new client tokens for the same
//! room until `refresh_token_ttl_secs` have passed.

use crate::body::Body;
use crate::error::{ApiError, Code, Result};
use crate::fmt_time;
use crate::keys::Signer;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// `aud` and `iss` of Telnyx's tokens.
pub const AUDIENCE: &str = "telnyx_access_token";
pub const TOKEN_TTL_RANGE: (i64, i64) = (10, 3600);
pub const DEFAULT_TOKEN_TTL: i64 = 600;
pub const REFRESH_TTL_RANGE: (i64, i64) = (60, 86_400);
pub const DEFAULT_REFRESH_TTL: i64 = 3600;
const HEADER: &str = r#"{"alg":"Ed25519","typ":"JWT"}"#;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grants {
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub subjects: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub aud: String,
    pub iss: String,
    pub sub: String,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// `access` (joins a room) or `refresh` (buys a new access token).
    pub typ: String,
    pub grants: Grants,
}

/// The resource a token grants: `telnyx:video:rooms:<room id>`.
pub fn room_resource(room_id: &str) -> String {
    format!("telnyx:video:rooms:{room_id}")
}

impl Claims {
    fn new(typ: &str, room_id: &str, subject: &str, jti: String, now: DateTime<Utc>, ttl_secs: i64) -> Claims {
        let iat = now.timestamp();
        Claims {
            aud: AUDIENCE.into(),
            iss: AUDIENCE.into(),
            sub: subject.to_owned(),
            jti,
            iat,
            nbf: iat,
            exp: iat + ttl_secs,
            typ: typ.into(),
            grants: Grants {
                actions: vec!["join".into()],
                resources: vec![room_resource(room_id)],
                subjects: vec![subject.to_owned()],
            },
        }
    }

    pub fn room_id(&self) -> Option<&str> {
        self.grants.resources.iter().find_map(|r| r.strip_prefix("telnyx:video:rooms:"))
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or_default()
    }
}

/// Encodes and signs claims.
pub fn sign(signer: &Signer, claims: &Claims) -> String {
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut out = String::with_capacity(400);
    URL_SAFE_NO_PAD.encode_string(HEADER, &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut out);
    let sig = signer.sign(out.as_bytes());
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, &mut out);
    out
}

/// Why a token is refused (the detail of the 403).
fn refused(why: &str) -> ApiError {
    ApiError::new(Code::InvalidRoomToken).detail(why)
}

/// Checks a token of kind `typ` for `room_id`: signed by `signer`, of that kind and room,
/// not expired at `now`. Answers its claims.
pub fn verify(signer: &Signer, token: &str, typ: &str, room_id: &str, now: DateTime<Utc>) -> Result<Claims> {
    let mut parts = token.trim().split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(refused("The token is not a JWT."));
    };
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| refused("The token's signature is not base64url."))?;
    let signing_input = &token.trim()[..h.len() + 1 + p.len()];
    if !signer.verify(signing_input.as_bytes(), &sig) {
        return Err(refused("The token was not signed by this account's key."));
    }
    let header: Value = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| refused("The token's header is not JSON."))?;
    if header["alg"] != "Ed25519" {
        return Err(refused("The token's algorithm is not Ed25519."));
    }
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| refused("The token's claims are not readable."))?;
    if claims.aud != AUDIENCE || claims.typ != typ {
        return Err(refused(&format!("The token is not a {typ} token.")));
    }
    if claims.room_id() != Some(room_id) {
        return Err(refused("The token is for another room."));
    }
    if now.timestamp() >= claims.exp {
        return Err(refused("The token has expired."));
    }
    Ok(claims)
}

/// What `generate_join_client_token` answers.
#[derive(Clone, Debug)]
pub struct Issued {
    pub token: String,
    pub token_expires_at: DateTime<Utc>,
    pub refresh_token: Option<String>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
}

impl Issued {
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "token": self.token,
            "token_expires_at": fmt_time(self.token_expires_at),
        });
        if let (Some(r), Some(at)) = (&self.refresh_token, self.refresh_token_expires_at) {
            v["refresh_token"] = json!(r);
            v["refresh_token_expires_at"] = json!(fmt_time(at));
        }
        v
    }
}

/// `POST /rooms/{id}/actions/generate_join_client_token`.
pub fn generate(signer: &Signer, room_id: &str, subject: &str, body: &Body, now: DateTime<Utc>) -> Result<Issued> {
    let (lo, hi) = TOKEN_TTL_RANGE;
    let ttl = body.opt_int_in("token_ttl_secs", lo, hi)?.unwrap_or(DEFAULT_TOKEN_TTL);
    let (lo, hi) = REFRESH_TTL_RANGE;
    let refresh_ttl = body.opt_int_in("refresh_token_ttl_secs", lo, hi)?.unwrap_or(DEFAULT_REFRESH_TTL);
    let id = uuid::Uuid::new_v4().to_string();
    let access = Claims::new("access", room_id, subject, id.clone(), now, ttl);
    let refresh = Claims::new("refresh", room_id, subject, format!("{id}:refresh"), now, refresh_ttl);
    Ok(Issued {
        token: sign(signer, &access),
        token_expires_at: now + Duration::seconds(ttl),
        refresh_token: Some(sign(signer, &refresh)),
        refresh_token_expires_at: Some(now + Duration::seconds(refresh_ttl)),
    })
}

/// `POST /rooms/{id}/actions/refresh_client_token`: a valid refresh token of this room
/// buys a new client token for the same subject.
pub fn refresh(signer: &Signer, room_id: &str, body: &Body, now: DateTime<Utc>) -> Result<Issued> {
    let token = body.req_str("refresh_token")?;
    let (lo, hi) = TOKEN_TTL_RANGE;
    let ttl = body.opt_int_in("token_ttl_secs", lo, hi)?.unwrap_or(DEFAULT_TOKEN_TTL);
    let old = verify(signer, token, "refresh", room_id, now)?;
    let access = Claims::new("access", room_id, &old.sub, uuid::Uuid::new_v4().to_string(), now, ttl);
    Ok(Issued {
        token: sign(signer, &access),
        token_expires_at: now + Duration::seconds(ttl),
        refresh_token: None,
        refresh_token_expires_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Body {
        Body::from_value(v).unwrap()
    }

    #[test]
    fn tokens_carry_telnyx_claims_and_verify() {
        let s = Signer::generate();
        let now = Utc::now();
        let t = generate(&s, "room1", "telnyx:users:a", &body(json!({})), now).unwrap();
        let parts: Vec<&str> = t.token.split('.').collect();
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "Ed25519");
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], AUDIENCE);
        assert_eq!(claims["iss"], AUDIENCE);
        assert_eq!(claims["grants"]["resources"][0], "telnyx:video:rooms:room1");
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 600);
        assert!(verify(&s, &t.token, "access", "room1", now).is_ok());
        // Expired, another room, another key, the wrong kind.
        assert!(verify(&s, &t.token, "access", "room1", now + Duration::seconds(600)).is_err());
        assert!(verify(&s, &t.token, "access", "room2", now).is_err());
        assert!(verify(&Signer::generate(), &t.token, "access", "room1", now).is_err());
        assert!(verify(&s, &t.token, "refresh", "room1", now).is_err());
        let rt = t.refresh_token.unwrap();
        assert_eq!(verify(&s, &rt, "refresh", "room1", now).unwrap().exp - now.timestamp(), 3600);
        // A tampered claim breaks the signature.
        let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(b"{}"), parts[2]);
        assert_eq!(verify(&s, &forged, "access", "room1", now).unwrap_err().code, Code::InvalidRoomToken);
    }

    #[test]
    fn refresh_needs_a_live_refresh_token_of_the_room() {
        let s = Signer::generate();
        let now = Utc::now();
        let t =
            generate(&s, "r", "u", &body(json!({"token_ttl_secs": 10, "refresh_token_ttl_secs": 60})), now).unwrap();
        assert_eq!((t.token_expires_at - now).num_seconds(), 10);
        let rt = t.refresh_token.unwrap();
        let n = refresh(&s, "r", &body(json!({"refresh_token": rt, "token_ttl_secs": 30})), now).unwrap();
        assert!(verify(&s, &n.token, "access", "r", now).is_ok());
        assert!(n.refresh_token.is_none());
        assert!(refresh(&s, "r", &body(json!({"refresh_token": rt})), now + Duration::seconds(60)).is_err());
        assert!(refresh(&s, "other", &body(json!({"refresh_token": rt})), now).is_err());
        assert!(refresh(&s, "r", &body(json!({"refresh_token": t.token})), now).is_err());
        assert_eq!(refresh(&s, "r", &body(json!({})), now).unwrap_err().pointer.as_deref(), Some("/refresh_token"));
        assert!(generate(&s, "r", "u", &body(json!({"token_ttl_secs": 5})), now).is_err());
        assert!(generate(&s, "r", "u", &body(json!({"refresh_token_ttl_secs": 86401})), now).is_err());
    }
}
