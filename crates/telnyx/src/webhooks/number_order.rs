//! The payload of `number_order.complete`: the order with its numbers
//! (`NumberOrderWithPhoneNumbers`).

use crate::model::{model, string_enum};

string_enum! {
    /// Where a number order, or one of its numbers, stands.
    pub enum NumberOrderStatus {
        Pending = "pending",
        Success = "success",
        Failure = "failure",
    }
}

string_enum! {
    /// The kind of a phone number.
    pub enum PhoneNumberType {
        Local = "local",
        Mobile = "mobile",
        National = "national",
        SharedCost = "shared_cost",
        TollFree = "toll_free",
    }
}

string_enum! {
    /// Where a number's regulatory requirements stand.
    pub enum RequirementsStatus {
        Pending = "pending",
        Approved = "approved",
        Cancelled = "cancelled",
        Deleted = "deleted",
        InfoException = "requirement-info-exception",
        InfoPending = "requirement-info-pending",
        InfoUnderReview = "requirement-info-under-review",
    }
}

string_enum! {
    /// The kind of value a regulatory requirement takes.
    pub enum RequirementFieldType {
        Textual = "textual",
        Datetime = "datetime",
        Address = "address",
        Document = "document",
    }
}

model! {
    /// A regulatory requirement of an ordered number, with the value given.
    pub struct RegulatoryRequirement {
        field_type: RequirementFieldType,
        field_value: String,
        record_type: String,
        requirement_id: String,
    }
}

model! {
    /// One number of an order.
    pub struct OrderedPhoneNumber {
        id: String,
        record_type: String,
        phone_number: String,
        phone_number_type: PhoneNumberType,
        country_code: String,
        country_iso_alpha2: String,
        bundle_id: String,
        regulatory_requirements: Vec<RegulatoryRequirement>,
        requirements_met: bool,
        requirements_status: RequirementsStatus,
        status: NumberOrderStatus,
    }
}

model! {
    /// `number_order.complete`: the order as `GET /number_orders/{id}` shows it.
    pub struct NumberOrderPayload {
        id: String,
        record_type: String,
        status: NumberOrderStatus,
        phone_numbers: Vec<OrderedPhoneNumber>,
        phone_numbers_count: i64,
        messaging_profile_id: String,
        connection_id: String,
        billing_group_id: String,
        customer_reference: String,
        requirements_met: bool,
        sub_number_orders_ids: Vec<String>,
        created_at: String,
        updated_at: String,
    }
}
