//! Number orders: buying numbers from the inventory. An order is `pending` when created (its
//! numbers already belong to the account, `purchase-pending`), and a scheduler job one
//! second later completes it: the numbers become `active`, the order `success`, and the
//! `number_order.complete` event goes out.

use crate::body::Body;
use crate::error::{ApiError, Code, Result};
use crate::fmt_time;
use crate::inventory::{self, Candidate};
use crate::numbers::is_e164;
use crate::query::Query;
use crate::webhooks::parse_time;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const KIND: &str = "number_order";
/// The job that completes an order.
pub const COMPLETE_JOB: &str = "number_order.complete";
/// The event sent when an order completes.
pub const EVENT_COMPLETE: &str = "number_order.complete";
/// How long after creation an order completes.
pub fn completion_delay() -> Duration {
    Duration::seconds(1)
}

/// The most numbers one order may buy.
pub const MAX_NUMBERS: usize = 100;

pub const STATUS_PENDING: &str = "pending";
pub const STATUS_SUCCESS: &str = "success";
pub const STATUS_FAILURE: &str = "failure";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    /// The order line's own id (a UUID, as the spec has it).
    pub id: String,
    pub phone_number: String,
    /// The id of the phone number resource bought.
    pub phone_number_id: String,
    pub phone_number_type: String,
    pub country_iso_alpha2: String,
    pub bundle_id: Option<String>,
    pub requirement_group_id: Option<String>,
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberOrder {
    pub id: String,
    pub account_id: String,
    pub status: String,
    pub items: Vec<OrderItem>,
    pub connection_id: Option<String>,
    pub messaging_profile_id: Option<String>,
    pub billing_group_id: Option<String>,
    pub customer_reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A validated `CreateNumberOrderRequest`: every number is E.164, in the inventory and named
/// once. Whether someone owns it already is the store's to say (unique key).
#[derive(Clone, Debug, PartialEq)]
pub struct NewOrder {
    pub numbers: Vec<(Candidate, Option<String>, Option<String>)>,
    pub connection_id: Option<String>,
    pub messaging_profile_id: Option<String>,
    pub billing_group_id: Option<String>,
    pub customer_reference: Option<String>,
}

/// The error for a number that cannot be bought.
pub fn unavailable(index: usize, e164: &str) -> ApiError {
    ApiError::new(Code::NumberUnavailable)
        .detail(format!("{e164} is not available for purchase."))
        .pointer(format!("/phone_numbers/{index}/phone_number"))
}

impl NewOrder {
    pub fn parse(body: &Body) -> Result<NewOrder> {
        let items = body.opt_array("phone_numbers")?.ok_or_else(|| ApiError::missing("phone_numbers"))?;
        if items.is_empty() {
            return Err(ApiError::invalid("phone_numbers", "'phone_numbers' must list at least one number."));
        }
        if items.len() > MAX_NUMBERS {
            return Err(ApiError::invalid("phone_numbers", format!("An order buys at most {MAX_NUMBERS} numbers.")));
        }
        let mut numbers: Vec<(Candidate, Option<String>, Option<String>)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("/phone_numbers/{i}");
            let item = Body::from_value(item.clone()).map_err(|_| {
                ApiError::new(Code::InvalidType)
                    .detail("Each phone_numbers item must be an object with a phone_number.")
                    .pointer(&at)
            })?;
            let e164 = item.req_str("phone_number").map_err(|e| e.within(&at))?;
            if !is_e164(e164) {
                return Err(ApiError::new(Code::NotE164).pointer(format!("{at}/phone_number")));
            }
            if numbers.iter().any(|(c, _, _)| c.phone_number == e164) {
                return Err(ApiError::invalid(
                    &format!("{at}/phone_number"),
                    format!("{e164} appears more than once in the order."),
                ));
            }
            let candidate = inventory::lookup(e164).ok_or_else(|| unavailable(i, e164))?;
            let bundle = item.opt_str("bundle_id").map_err(|e| e.within(&at))?.map(str::to_owned);
            let group = item.opt_str("requirement_group_id").map_err(|e| e.within(&at))?.map(str::to_owned);
            numbers.push((candidate, bundle, group));
        }
        let opt = |field: &str| -> Result<Option<String>> {
            Ok(body.opt_str(field)?.filter(|s| !s.is_empty()).map(str::to_owned))
        };
        Ok(NewOrder {
            numbers,
            connection_id: opt("connection_id")?,
            messaging_profile_id: opt("messaging_profile_id")?,
            billing_group_id: opt("billing_group_id")?,
            customer_reference: opt("customer_reference")?,
        })
    }
}

impl NumberOrder {
    /// The order for `new`, with the ids its numbers get.
    pub fn build(
        new: &NewOrder,
        id: String,
        account_id: String,
        number_ids: &[String],
        now: DateTime<Utc>,
    ) -> NumberOrder {
        let items = new
            .numbers
            .iter()
            .zip(number_ids)
            .map(|((c, bundle, group), pid)| OrderItem {
                id: uuid::Uuid::new_v4().to_string(),
                phone_number: c.phone_number.clone(),
                phone_number_id: pid.clone(),
                phone_number_type: c.number_type.to_owned(),
                country_iso_alpha2: c.country.to_owned(),
                bundle_id: bundle.clone(),
                requirement_group_id: group.clone(),
                status: STATUS_PENDING.to_owned(),
            })
            .collect();
        NumberOrder {
            id,
            account_id,
            status: STATUS_PENDING.to_owned(),
            items,
            connection_id: new.connection_id.clone(),
            messaging_profile_id: new.messaging_profile_id.clone(),
            billing_group_id: new.billing_group_id.clone(),
            customer_reference: new.customer_reference.clone(),
            created_at: now,
            updated_at: now,
        }
    }

    pub fn is_pending(&self) -> bool {
        self.status == STATUS_PENDING
    }

    /// Completes the order: `bought(e164)` says whether each number was activated (a number
    /// deleted before completion was not). `success` when any was.
    pub fn complete(&mut self, bought: impl Fn(&str) -> bool, now: DateTime<Utc>) {
        for item in &mut self.items {
            item.status = if bought(&item.phone_number) { STATUS_SUCCESS } else { STATUS_FAILURE }.to_owned();
        }
        let any = self.items.iter().any(|i| i.status == STATUS_SUCCESS);
        self.status = if any { STATUS_SUCCESS } else { STATUS_FAILURE }.to_owned();
        self.updated_at = now;
    }

    /// `PATCH /number_orders/{id}`: `customer_reference`; `regulatory_requirements` are read
    /// for their shape only (Dialtone's numbers have none).
    pub fn update(&mut self, body: &Body, now: DateTime<Utc>) -> Result<()> {
        if body.is_null("customer_reference") {
            self.customer_reference = None;
        } else if let Some(r) = body.opt_str("customer_reference")? {
            self.customer_reference = Some(r.to_owned()).filter(|r| !r.is_empty());
        }
        if let Some(reqs) = body.opt_array("regulatory_requirements")? {
            for (i, r) in reqs.iter().enumerate() {
                let at = format!("/regulatory_requirements/{i}");
                let r = Body::from_value(r.clone()).map_err(|_| {
                    ApiError::new(Code::InvalidType).detail("Each requirement must be an object.").pointer(&at)
                })?;
                r.opt_str("requirement_id").map_err(|e| e.within(&at))?;
                r.opt_str("field_value").map_err(|e| e.within(&at))?;
            }
        }
        self.updated_at = now;
        Ok(())
    }

    fn base_json(&self) -> Value {
        let mut v = json!({
            "record_type": "number_order",
            "id": self.id,
            "status": self.status,
            "phone_numbers_count": self.items.len(),
            "requirements_met": true,
            "sub_number_orders_ids": [],
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        });
        // The spec's fields here are plain strings: absent rather than null when unset.
        for (k, val) in [
            ("connection_id", &self.connection_id),
            ("messaging_profile_id", &self.messaging_profile_id),
            ("billing_group_id", &self.billing_group_id),
            ("customer_reference", &self.customer_reference),
        ] {
            if let Some(s) = val {
                v[k] = json!(s);
            }
        }
        v
    }

    /// The spec's `NumberOrderWithPhoneNumbers` (also the webhook's payload).
    pub fn to_json(&self) -> Value {
        let mut v = self.base_json();
        v["phone_numbers"] = self
            .items
            .iter()
            .map(|i| {
                let mut n = json!({
                    "record_type": "number_order_phone_number",
                    "id": i.id,
                    "phone_number": i.phone_number,
                    "phone_number_type": i.phone_number_type,
                    "country_code": i.country_iso_alpha2,
                    "country_iso_alpha2": i.country_iso_alpha2,
                    "status": i.status,
                    "requirements_met": true,
                    "requirements_status": "approved",
                    "regulatory_requirements": [],
                });
                if let Some(b) = &i.bundle_id {
                    n["bundle_id"] = json!(b);
                }
                n
            })
            .collect();
        v
    }

    /// The spec's `NumberOrder` (lists).
    pub fn to_list_json(&self) -> Value {
        let mut v = self.base_json();
        v["phone_numbers"] = self.items.iter().map(|i| json!({"id": i.id, "phone_number": i.phone_number})).collect();
        v
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_value(v: &Value) -> Option<NumberOrder> {
        <Self as serde::Deserialize>::deserialize(v).ok()
    }
}

/// `GET /number_orders` filters.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    status: Option<String>,
    created_gt: Option<DateTime<Utc>>,
    created_lt: Option<DateTime<Utc>>,
    count: Option<usize>,
    customer_reference: Option<String>,
    requirements_met: Option<bool>,
}

fn time(q: &Query, name: &str) -> Result<Option<DateTime<Utc>>> {
    match q.str(name) {
        None => Ok(None),
        Some(s) => parse_time(s)
            .map(Some)
            .ok_or_else(|| ApiError::invalid_param(name, format!("'{name}' must be an ISO 8601 date-time."))),
    }
}

impl ListFilter {
    pub fn parse(q: &Query) -> Result<ListFilter> {
        let count = match q.str("filter[phone_numbers_count]") {
            None => None,
            Some(c) => Some(c.parse::<usize>().map_err(|_| {
                ApiError::invalid_param("filter[phone_numbers_count]", "'filter[phone_numbers_count]' must be a count.")
            })?),
        };
        Ok(ListFilter {
            status: q.one_of("filter[status]", &[STATUS_PENDING, STATUS_SUCCESS, STATUS_FAILURE])?.map(str::to_owned),
            created_gt: time(q, "filter[created_at][gt]")?,
            created_lt: time(q, "filter[created_at][lt]")?,
            count,
            customer_reference: q.str("filter[customer_reference]").map(str::to_owned),
            requirements_met: q.bool("filter[requirements_met]")?,
        })
    }

    pub fn matches(&self, o: &NumberOrder) -> bool {
        self.status.as_ref().is_none_or(|s| &o.status == s)
            // At the millisecond precision the API shows times with.
            && self.created_gt.is_none_or(|t| o.created_at.timestamp_millis() > t.timestamp_millis())
            && self.created_lt.is_none_or(|t| o.created_at.timestamp_millis() < t.timestamp_millis())
            && self.count.is_none_or(|n| o.items.len() == n)
            && self.customer_reference.as_ref().is_none_or(|r| o.customer_reference.as_ref() == Some(r))
            // Every Dialtone order meets its (empty) requirements.
            && self.requirements_met.is_none_or(|m| m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<NewOrder> {
        NewOrder::parse(&Body::from_value(v).unwrap())
    }

    #[test]
    fn orders_name_inventory_numbers_once() {
        let e = parse(json!({})).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/phone_numbers"));
        let e = parse(json!({"phone_numbers": [{"phone_number": "+13122001234"}, {}]})).unwrap_err();
        assert_eq!((e.code, e.pointer.as_deref()), (Code::MissingParameter, Some("/phone_numbers/1/phone_number")));
        let e = parse(json!({"phone_numbers": [{"phone_number": "3122001234"}]})).unwrap_err();
        assert_eq!(e.code, Code::NotE164);
        let e = parse(json!({"phone_numbers": [{"phone_number": "+15555550100"}]})).unwrap_err();
        assert_eq!((e.code, e.status()), (Code::NumberUnavailable, 422));
        let e = parse(json!({"phone_numbers": [{"phone_number": "+13122001234"}, {"phone_number": "+13122001234"}]}))
            .unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/phone_numbers/1/phone_number"));
        let o =
            parse(json!({"phone_numbers": [{"phone_number": "+13122001234"}], "customer_reference": "r1"})).unwrap();
        assert_eq!(o.numbers.len(), 1);
        assert_eq!(o.customer_reference.as_deref(), Some("r1"));
    }

    #[test]
    fn completion_marks_each_number() {
        let new = parse(json!({"phone_numbers": [{"phone_number": "+13122001234"}, {"phone_number": "+13122001235"}]}))
            .unwrap();
        let mut o = NumberOrder::build(&new, "o".into(), "a".into(), &["1".into(), "2".into()], Utc::now());
        assert!(o.is_pending());
        assert!(o.to_json().get("customer_reference").is_none());
        o.complete(|n| n.ends_with('4'), Utc::now());
        assert_eq!(o.status, STATUS_SUCCESS);
        assert_eq!(o.to_json()["phone_numbers"][1]["status"], "failure");
        o.complete(|_| false, Utc::now());
        assert_eq!(o.status, STATUS_FAILURE);
        let f = ListFilter::parse(&Query::parse(Some("filter[status]=failure&filter[phone_numbers_count]=2"))).unwrap();
        assert!(f.matches(&o));
        assert!(ListFilter::parse(&Query::parse(Some("filter[status]=done"))).is_err());
    }
}
