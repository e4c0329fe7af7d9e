//! Phone numbers an account owns: bought through number orders from the simulated
//! inventory ([`crate::inventory`]), each owned by exactly one account (the store keeps the
//! E.164 number unique), assigned to a messaging profile and a connection.

use crate::body::Body;
use crate::error::{ApiError, Code, Result};
use crate::fmt_time;
use crate::query::Query;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const KIND: &str = "phone_number";
/// The bulk messaging-settings updates (`/messaging_numbers_bulk_updates`).
pub const BULK_KIND: &str = "messaging_bulk_update";

pub const TYPE_LOCAL: &str = "local";
pub const TYPE_TOLL_FREE: &str = "toll_free";
pub const TYPE_MOBILE: &str = "mobile";

/// Bought, its order not yet complete.
pub const STATUS_PURCHASE_PENDING: &str = "purchase-pending";
pub const STATUS_ACTIVE: &str = "active";

/// `+`, then 1 to 15 digits, the first not 0.
pub fn is_e164(s: &str) -> bool {
    let Some(d) = s.strip_prefix('+') else {
        return false;
    };
    (1..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()) && !d.starts_with('0')
}

/// What a number can do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Features {
    pub sms: bool,
    pub mms: bool,
    pub voice: bool,
    pub fax: bool,
    pub emergency: bool,
}

impl Features {
    /// The feature names Telnyx lists for the number.
    pub fn names(&self) -> Vec<&'static str> {
        [("sms", self.sms), ("mms", self.mms), ("voice", self.voice), ("fax", self.fax), ("emergency", self.emergency)]
            .into_iter()
            .filter_map(|(n, on)| on.then_some(n))
            .collect()
    }

    /// Whether the number has a feature named as the search filter names it.
    pub fn has(&self, name: &str) -> bool {
        match name {
            "sms" | "international_sms" => self.sms,
            "mms" => self.mms,
            "voice" | "hd_voice" | "local_calling" => self.voice,
            "fax" => self.fax,
            "emergency" => self.emergency,
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhoneNumber {
    /// Telnyx's numeric string id.
    pub id: String,
    pub account_id: String,
    /// E.164.
    pub phone_number: String,
    /// `local`, `toll_free` or `mobile`.
    pub phone_number_type: String,
    pub country_iso_alpha2: String,
    /// The area code (NANP) or mobile prefix: what number-pool geomatch compares.
    pub national_destination_code: String,
    pub locality: Option<String>,
    pub administrative_area: Option<String>,
    pub features: Features,
    pub messaging_profile_id: Option<String>,
    /// `P2P` or `A2P`; see [`PhoneNumber::eligible_messaging_products`].
    pub messaging_product: String,
    pub connection_id: Option<String>,
    pub billing_group_id: Option<String>,
    pub customer_reference: Option<String>,
    pub external_pin: Option<String>,
    pub address_id: Option<String>,
    pub hd_voice_enabled: bool,
    pub tags: Vec<String>,
    /// `purchase-pending` until its order completes, then `active`.
    pub status: String,
    /// The number order that bought it.
    pub order_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub purchased_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
}

/// A number's id: a numeric string, as Telnyx's are.
pub fn new_id() -> String {
    (rand::random::<u64>() >> 4 | 1 << 59).to_string()
}

impl PhoneNumber {
    /// A number just ordered from the inventory.
    pub fn purchased(
        id: String,
        account_id: String,
        c: &crate::inventory::Candidate,
        order_id: &str,
        now: DateTime<Utc>,
    ) -> PhoneNumber {
        PhoneNumber {
            id,
            account_id,
            phone_number: c.phone_number.clone(),
            phone_number_type: c.number_type.to_owned(),
            country_iso_alpha2: c.country.to_owned(),
            national_destination_code: c.ndc.to_owned(),
            locality: c.locality.map(str::to_owned),
            administrative_area: c.administrative_area.map(str::to_owned),
            features: c.features,
            messaging_profile_id: None,
            messaging_product: default_product(c.number_type).to_owned(),
            connection_id: None,
            billing_group_id: None,
            customer_reference: None,
            external_pin: None,
            address_id: None,
            hd_voice_enabled: false,
            tags: Vec::new(),
            status: STATUS_PURCHASE_PENDING.to_owned(),
            order_id: Some(order_id.to_owned()),
            created_at: now,
            updated_at: now,
            purchased_at: now,
            activated_at: None,
        }
    }

    /// A short code given to an account through the simulation API (Telnyx provisions
    /// short codes by application, not from the number inventory).
    pub fn short_code(
        id: String,
        account_id: String,
        code: &str,
        profile_id: String,
        now: DateTime<Utc>,
    ) -> PhoneNumber {
        PhoneNumber {
            id,
            account_id,
            phone_number: code.to_owned(),
            phone_number_type: "short_code".to_owned(),
            country_iso_alpha2: "US".to_owned(),
            national_destination_code: String::new(),
            locality: None,
            administrative_area: None,
            features: Features { sms: true, mms: true, voice: false, fax: false, emergency: false },
            messaging_profile_id: Some(profile_id),
            messaging_product: "A2P".to_owned(),
            connection_id: None,
            billing_group_id: None,
            customer_reference: None,
            external_pin: None,
            address_id: None,
            hd_voice_enabled: false,
            tags: Vec::new(),
            status: STATUS_ACTIVE.to_owned(),
            order_id: None,
            created_at: now,
            updated_at: now,
            purchased_at: now,
            activated_at: Some(now),
        }
    }

    pub fn sms(&self) -> bool {
        self.features.sms
    }

    pub fn mms(&self) -> bool {
        self.features.mms
    }

    pub fn is_active(&self) -> bool {
        self.status == STATUS_ACTIVE
    }

    pub fn is_toll_free(&self) -> bool {
        self.phone_number_type == TYPE_TOLL_FREE
    }

    pub fn is_mobile(&self) -> bool {
        self.phone_number_type == TYPE_MOBILE
    }

    /// A long code: a local or mobile number (not toll-free).
    pub fn is_long_code(&self) -> bool {
        !self.is_toll_free()
    }

    /// The messaging settings' `type`: `longcode` or `tollfree`.
    pub fn messaging_type(&self) -> &'static str {
        if self.is_toll_free() { "tollfree" } else { "longcode" }
    }

    pub fn eligible_messaging_products(&self) -> &'static [&'static str] {
        match self.phone_number_type.as_str() {
            TYPE_TOLL_FREE => &["A2P"],
            TYPE_MOBILE => &["P2P"],
            _ => &["A2P", "P2P"],
        }
    }

    pub fn activate(&mut self, now: DateTime<Utc>) {
        self.status = STATUS_ACTIVE.to_owned();
        self.activated_at = Some(now);
        self.updated_at = now;
    }

    /// `PATCH /phone_numbers/{id}`. `""` clears a string field.
    pub fn update(&mut self, body: &Body, now: DateTime<Utc>) -> Result<()> {
        for (field, slot) in [
            ("connection_id", &mut self.connection_id),
            ("billing_group_id", &mut self.billing_group_id),
            ("customer_reference", &mut self.customer_reference),
            ("external_pin", &mut self.external_pin),
            ("address_id", &mut self.address_id),
        ] {
            if body.is_null(field) {
                *slot = None;
            } else if let Some(v) = body.opt_str(field)? {
                *slot = Some(v.to_owned()).filter(|v| !v.is_empty());
            }
        }
        if let Some(v) = body.opt_bool("hd_voice_enabled")? {
            self.hd_voice_enabled = v;
        }
        self.set_tags(body)?;
        self.updated_at = now;
        Ok(())
    }

    fn set_tags(&mut self, body: &Body) -> Result<()> {
        if let Some(tags) = body.opt_str_array("tags")? {
            let mut out: Vec<String> = Vec::new();
            for t in tags {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
            self.tags = out;
        }
        Ok(())
    }

    /// `PATCH /phone_numbers/{id}/messaging`: `messaging_product` must be one the number is
    /// eligible for. The profile (checked by the caller) is set with [`Self::assign_profile`].
    pub fn update_messaging(&mut self, body: &Body, now: DateTime<Utc>) -> Result<()> {
        if let Some(p) = body.opt_str("messaging_product")? {
            let eligible = self.eligible_messaging_products();
            if !eligible.contains(&p) {
                return Err(ApiError::invalid(
                    "messaging_product",
                    format!("{} can use the messaging products {}.", self.phone_number, eligible.join(", ")),
                ));
            }
            self.messaging_product = p.to_owned();
        }
        self.set_tags(body)?;
        self.updated_at = now;
        Ok(())
    }

    pub fn assign_profile(&mut self, profile_id: Option<String>, now: DateTime<Utc>) {
        self.messaging_profile_id = profile_id;
        self.updated_at = now;
    }

    /// The spec's `PhoneNumberDetailed`.
    pub fn to_json(&self, messaging_profile_name: Option<&str>) -> Value {
        json!({
            "record_type": "phone_number",
            "id": self.id,
            "phone_number": self.phone_number,
            "phone_number_type": self.phone_number_type,
            "country_iso_alpha2": self.country_iso_alpha2,
            "status": self.status,
            "tags": self.tags,
            "messaging_profile_id": self.messaging_profile_id,
            "messaging_profile_name": messaging_profile_name,
            "connection_id": self.connection_id,
            "connection_name": null,
            "billing_group_id": self.billing_group_id,
            "customer_reference": self.customer_reference,
            "external_pin": self.external_pin,
            "emergency_address_id": self.address_id,
            "emergency_enabled": false,
            "emergency_status": "disabled",
            "hd_voice_enabled": self.hd_voice_enabled,
            "call_forwarding_enabled": true,
            "call_recording_enabled": false,
            "caller_id_name_enabled": false,
            "cnam_listing_enabled": false,
            "t38_fax_gateway_enabled": false,
            "deletion_lock_enabled": false,
            "inbound_call_screening": "disabled",
            "source_type": "number_order",
            "purchased_at": fmt_time(self.purchased_at),
            "activated_at": self.activated_at.map(fmt_time),
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        })
    }

    /// The spec's `PhoneNumberDeletedDetailed`: status `deleted`, and absent (not `null`)
    /// where the number has no value, since that schema's fields are not nullable.
    pub fn to_deleted_json(&self, messaging_profile_name: Option<&str>) -> Value {
        let mut v = self.to_json(messaging_profile_name);
        v["status"] = json!("deleted");
        if let Some(obj) = v.as_object_mut() {
            obj.retain(|_, v| !v.is_null());
            obj.remove("emergency_status");
            obj.remove("inbound_call_screening");
            obj.remove("source_type");
        }
        v
    }

    fn feature_set(on: bool, international: bool) -> Value {
        if on {
            json!({"domestic_two_way": true, "international_inbound": international, "international_outbound": international})
        } else {
            Value::Null
        }
    }

    /// The spec's `PhoneNumberWithMessagingSettings`.
    pub fn to_messaging_json(&self) -> Value {
        let international = !self.is_toll_free();
        json!({
            "record_type": "messaging_settings",
            "id": self.id,
            "phone_number": self.phone_number,
            "country_code": self.country_iso_alpha2,
            "type": self.messaging_type(),
            "messaging_profile_id": self.messaging_profile_id,
            "messaging_product": self.messaging_product,
            "traffic_type": self.messaging_product,
            "eligible_messaging_products": self.eligible_messaging_products(),
            "organization_id": self.account_id,
            "tags": self.tags,
            "features": {
                "sms": Self::feature_set(self.features.sms, international),
                "mms": Self::feature_set(self.features.mms, international),
            },
            "health": {"inbound_outbound_ratio": 0.0, "message_count": 0, "spam_ratio": 0.0, "success_ratio": 1.0},
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        })
    }

    /// The spec's `MobilePhoneNumberWithMessagingSettings`.
    pub fn to_mobile_messaging_json(&self) -> Value {
        json!({
            "record_type": "messaging_settings",
            "id": self.id,
            "phone_number": self.phone_number,
            "country_code": self.country_iso_alpha2,
            "type": "longcode",
            "messaging_profile_id": self.messaging_profile_id,
            "messaging_product": self.messaging_product,
            "traffic_type": self.messaging_product,
            "organization_id": self.account_id,
            "tags": self.tags,
            "features": { "sms": Self::feature_set(self.features.sms, true) },
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        })
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_value(v: &Value) -> Option<PhoneNumber> {
        <Self as serde::Deserialize>::deserialize(v).ok()
    }
}

fn default_product(number_type: &str) -> &'static str {
    if number_type == TYPE_TOLL_FREE { "A2P" } else { "P2P" }
}

pub const STATUSES: &[&str] = &[
    "purchase-pending",
    "purchase-failed",
    "port-pending",
    "active",
    "deleted",
    "port-failed",
    "emergency-only",
    "ported-out",
    "port-out-pending",
];
pub const NUMBER_TYPES: &[&str] = &["local", "national", "toll_free", "mobile", "shared_cost"];

/// `GET /phone_numbers` filters and sort.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    tag: Option<String>,
    without_tags: bool,
    phone_number: Option<String>,
    status: Option<String>,
    countries: Option<Vec<String>>,
    connection_id: Option<String>,
    customer_reference: Option<String>,
    billing_group: Option<Option<String>>,
    emergency_address: Option<Option<String>>,
    number_type: Option<String>,
    /// A filter no number can match (ported numbers, named connections, channel billing).
    nothing: bool,
    sort: Option<String>,
}

/// `"null"` means "has none" for the id filters that document it.
fn id_or_null(q: &Query, name: &str) -> Option<Option<String>> {
    q.str(name).map(|v| if v == "null" { None } else { Some(v.to_owned()) })
}

impl ListFilter {
    pub fn parse(q: &Query) -> Result<ListFilter> {
        let phone_number = match q.str("filter[phone_number]") {
            Some(p) => {
                let digits: String = p.chars().filter(char::is_ascii_digit).collect();
                if digits.len() < 3 {
                    return Err(ApiError::invalid_param(
                        "filter[phone_number]",
                        "'filter[phone_number]' requires at least three digits.",
                    ));
                }
                // Anything but digits and a leading + matches nothing, as Telnyx documents.
                Some(if p.trim_start_matches('+').chars().all(|c| c.is_ascii_digit()) { digits } else { "x".into() })
            }
            None => None,
        };
        let mut nothing = q.one_of("filter[source]", &["ported", "purchased"])? == Some("ported");
        nothing |= q.one_of("filter[voice.usage_payment_method]", &["pay-per-minute", "channel"])? == Some("channel");
        for op in ["eq", "contains", "starts_with", "ends_with"] {
            let name = format!("filter[voice.connection_name][{op}]");
            if let Some(v) = q.str(&name) {
                if op != "eq" && v.chars().count() < 3 {
                    return Err(ApiError::invalid_param(
                        &name,
                        format!("'{name}' requires at least three characters."),
                    ));
                }
                // Connections have no names yet, so no number matches a name filter.
                nothing = true;
            }
        }
        q.one_of("handle_messaging_profile_error", &["true", "false"])?;
        Ok(ListFilter {
            tag: q.str("filter[tag]").map(str::to_owned),
            without_tags: q.str("filter[without_tags]") == Some("true"),
            phone_number,
            status: q.one_of("filter[status]", STATUSES)?.map(str::to_owned),
            countries: q
                .list("filter[country_iso_alpha2]")
                .or_else(|| q.list("filter[country_iso_alpha2][]"))
                .map(|l| l.into_iter().map(str::to_ascii_uppercase).collect()),
            connection_id: q.str("filter[connection_id]").map(str::to_owned),
            customer_reference: q.str("filter[customer_reference]").map(str::to_owned),
            billing_group: id_or_null(q, "filter[billing_group_id]"),
            emergency_address: id_or_null(q, "filter[emergency_address_id]"),
            number_type: q.one_of("filter[number_type][eq]", NUMBER_TYPES)?.map(str::to_owned),
            nothing,
            sort: q
                .one_of("sort", &["purchased_at", "phone_number", "connection_name", "usage_payment_method"])?
                .map(str::to_owned),
        })
    }

    pub fn matches(&self, n: &PhoneNumber) -> bool {
        !self.nothing
            && self.tag.as_ref().is_none_or(|t| n.tags.contains(t))
            && (!self.without_tags || n.tags.is_empty())
            && self.phone_number.as_ref().is_none_or(|p| n.phone_number.contains(p.as_str()))
            && self.status.as_ref().is_none_or(|s| &n.status == s)
            && self.countries.as_ref().is_none_or(|c| c.contains(&n.country_iso_alpha2))
            && self.connection_id.as_ref().is_none_or(|c| n.connection_id.as_ref() == Some(c))
            && self.customer_reference.as_ref().is_none_or(|c| n.customer_reference.as_ref() == Some(c))
            && self.billing_group.as_ref().is_none_or(|b| &n.billing_group_id == b)
            && self.emergency_address.as_ref().is_none_or(|a| &n.address_id == a)
            && self.number_type.as_ref().is_none_or(|t| &n.phone_number_type == t)
    }

    /// Sorts as asked; without `sort`, newest first (as the spec documents).
    pub fn sort(&self, numbers: &mut [PhoneNumber]) {
        match self.sort.as_deref() {
            Some("purchased_at") => numbers.sort_by(|a, b| (a.purchased_at, &a.id).cmp(&(b.purchased_at, &b.id))),
            Some("phone_number") => numbers.sort_by(|a, b| a.phone_number.cmp(&b.phone_number)),
            // Every number has the same (no) connection name and pays per minute.
            Some(_) => numbers.sort_by(|a, b| a.phone_number.cmp(&b.phone_number)),
            None => numbers.sort_by(|a, b| (b.created_at, &b.phone_number).cmp(&(a.created_at, &a.phone_number))),
        }
    }
}

/// `GET /phone_numbers/messaging` filters and sort.
#[derive(Clone, Debug, Default)]
pub struct MessagingFilter {
    profile: Option<String>,
    phone_number: Option<String>,
    contains: Option<String>,
    kind: Option<String>,
    descending: bool,
}

impl MessagingFilter {
    pub fn parse(q: &Query) -> Result<MessagingFilter> {
        Ok(MessagingFilter {
            profile: q.str("filter[messaging_profile_id]").map(str::to_owned),
            phone_number: q.str("filter[phone_number]").map(str::to_owned),
            contains: q.str("filter[phone_number][contains]").map(|s| s.trim_start_matches('+').to_owned()),
            kind: q.one_of("filter[type]", &["tollfree", "longcode", "shortcode"])?.map(str::to_owned),
            descending: q.one_of("sort[phone_number]", &["asc", "desc"])? == Some("desc"),
        })
    }

    pub fn matches(&self, n: &PhoneNumber) -> bool {
        self.profile.as_ref().is_none_or(|p| n.messaging_profile_id.as_ref() == Some(p))
            && self.phone_number.as_ref().is_none_or(|p| &n.phone_number == p)
            && self.contains.as_ref().is_none_or(|c| n.phone_number.contains(c.as_str()))
            && self.kind.as_ref().is_none_or(|k| n.messaging_type() == k)
    }

    pub fn sort(&self, numbers: &mut [PhoneNumber]) {
        numbers.sort_by(|a, b| a.phone_number.cmp(&b.phone_number));
        if self.descending {
            numbers.reverse();
        }
    }
}

/// `POST /messaging_numbers_bulk_updates`: assigns many numbers to a profile (or unassigns
/// them with `""`) as a job; each number ends in `success` or `failed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BulkUpdate {
    pub id: String,
    pub account_id: String,
    /// `None` unassigns.
    pub messaging_profile_id: Option<String>,
    pub pending: Vec<String>,
    pub success: Vec<String>,
    pub failed: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl BulkUpdate {
    /// Reads the request: `messaging_profile_id` (a profile id or `""`) and `numbers`
    /// (E.164, at least one) are required. Repeated numbers count once.
    pub fn parse(body: &Body, id: String, account_id: String, now: DateTime<Utc>) -> Result<BulkUpdate> {
        let profile = body.opt_str("messaging_profile_id")?.ok_or_else(|| ApiError::missing("messaging_profile_id"))?;
        let numbers = body.opt_str_array("numbers")?.ok_or_else(|| ApiError::missing("numbers"))?;
        if numbers.is_empty() {
            return Err(ApiError::invalid("numbers", "'numbers' must list at least one phone number."));
        }
        let mut pending: Vec<String> = Vec::new();
        for (i, n) in numbers.into_iter().enumerate() {
            if !is_e164(&n) {
                return Err(ApiError::new(Code::NotE164).pointer(format!("/numbers/{i}")));
            }
            if !pending.contains(&n) {
                pending.push(n);
            }
        }
        Ok(BulkUpdate {
            id,
            account_id,
            messaging_profile_id: Some(profile.to_owned()).filter(|p| !p.is_empty()),
            pending,
            success: Vec::new(),
            failed: Vec::new(),
            created_at: now,
        })
    }

    /// The spec's `BulkMessagingSettingsUpdatePhoneNumbers`.
    pub fn to_json(&self) -> Value {
        json!({
            "record_type": "messaging_numbers_bulk_update",
            "order_id": self.id,
            "pending": self.pending,
            "success": self.success,
            "failed": self.failed,
        })
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_value(v: &Value) -> Option<BulkUpdate> {
        <Self as serde::Deserialize>::deserialize(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(e164: &str) -> PhoneNumber {
        let c = crate::inventory::lookup(e164).unwrap();
        PhoneNumber::purchased(new_id(), "a1".into(), &c, "o1", Utc::now())
    }

    #[test]
    fn e164_shapes() {
        assert!(is_e164("+13125550000"));
        assert!(is_e164("+1"));
        assert!(!is_e164("13125550000"));
        assert!(!is_e164("+0312"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("+1 312"));
        assert!(!is_e164("+"));
    }

    #[test]
    fn ids_are_numeric_strings() {
        let id = new_id();
        assert!(id.len() >= 18 && id.chars().all(|c| c.is_ascii_digit()), "{id}");
    }

    #[test]
    fn a_purchased_number_carries_the_inventory_facts() {
        let n = number("+13122001234");
        assert_eq!(n.national_destination_code, "312");
        assert_eq!(n.country_iso_alpha2, "US");
        assert!(n.sms() && n.mms() && n.is_long_code() && !n.is_active());
        assert_eq!(n.messaging_type(), "longcode");
        let tf = number("+18005551234");
        assert!(tf.is_toll_free() && tf.messaging_product == "A2P");
        let gb = number("+447700900123");
        assert!(gb.is_mobile() && gb.sms() && !gb.mms());
        assert!(!number("+19705551234").sms());
    }

    #[test]
    fn messaging_product_must_be_eligible() {
        let mut n = number("+18005551234");
        let b = Body::from_value(json!({"messaging_product": "P2P"})).unwrap();
        assert_eq!(n.update_messaging(&b, Utc::now()).unwrap_err().pointer.as_deref(), Some("/messaging_product"));
        let b = Body::from_value(json!({"tags": ["a", "a", "b"]})).unwrap();
        n.update_messaging(&b, Utc::now()).unwrap();
        assert_eq!(n.tags, ["a", "b"]);
    }

    #[test]
    fn deleted_view_has_no_nulls() {
        let v = number("+13122001234").to_deleted_json(None);
        assert_eq!(v["status"], "deleted");
        assert!(v.as_object().unwrap().values().all(|v| !v.is_null()));
    }

    #[test]
    fn list_filters() {
        let mut n = number("+13122001234");
        n.tags = vec!["vip".into()];
        let f = |q: &str| ListFilter::parse(&Query::parse(Some(q))).unwrap();
        assert!(f("filter[tag]=vip&filter[phone_number]=312200").matches(&n));
        assert!(!f("filter[without_tags]=true").matches(&n));
        assert!(f("filter[country_iso_alpha2]=CA,US&filter[number_type][eq]=local").matches(&n));
        assert!(!f("filter[status]=active").matches(&n));
        assert!(f("filter[billing_group_id]=null").matches(&n));
        assert!(!f("filter[source]=ported").matches(&n));
        assert!(!f("filter[phone_number]=312-200").matches(&n));
        assert!(ListFilter::parse(&Query::parse(Some("filter[phone_number]=31"))).is_err());
        assert!(ListFilter::parse(&Query::parse(Some("sort=size"))).is_err());
    }

    #[test]
    fn bulk_update_reads_numbers() {
        let b = Body::from_value(json!({"messaging_profile_id": "", "numbers": ["+1312", "+1312", "+1415"]})).unwrap();
        let u = BulkUpdate::parse(&b, "b1".into(), "a1".into(), Utc::now()).unwrap();
        assert_eq!(u.pending, ["+1312", "+1415"]);
        assert!(u.messaging_profile_id.is_none());
        let b = Body::from_value(json!({"messaging_profile_id": "p", "numbers": ["+1312", "555"]})).unwrap();
        let e = BulkUpdate::parse(&b, "b1".into(), "a1".into(), Utc::now()).unwrap_err();
        assert_eq!((e.code, e.pointer.as_deref()), (Code::NotE164, Some("/numbers/1")));
        let b = Body::from_value(json!({"numbers": ["+1312"]})).unwrap();
        assert_eq!(
            BulkUpdate::parse(&b, "b".into(), "a".into(), Utc::now()).unwrap_err().pointer.as_deref(),
            Some("/messaging_profile_id")
        );
    }
}
