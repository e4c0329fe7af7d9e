//! Messaging: messages of every kind, opt-outs, messaging profiles, phone numbers and their
//! messaging settings, bulk updates, number search and number orders.
//!
//! ```no_run
//! # async fn run() -> telnyx::Result<()> {
//! use telnyx::messaging::{CreateMessagingProfile, SendMessage};
//! let client = telnyx::Client::from_env()?;
//! let profile = client
//!     .messaging_profiles()
//!     .create(CreateMessagingProfile::new("Alerts", vec!["US".to_owned()]).webhook_url("https://example.com/hooks"))
//!     .await?;
//! let message = client
//!     .messages()
//!     .send(SendMessage::new("+13125550001").from("+13125550100").text("Hello"))
//!     .await?;
//! println!("{:?} {:?}", profile.id, message.id);
//! # Ok(()) }
//! ```

use crate::client::{Client, Retry};
use crate::error::Result;
use crate::model::{list_params, model, request};
use crate::pagination::{Page, Pages};
use crate::resource::seg;
use reqwest::Method;
use serde_json::Value;

model! {
    /// A message (`OutboundMessagePayload`).
    pub struct Message {
        id: String,
        record_type: String,
        direction: String,
        #[serde(rename = "type")]
        kind: String,
        messaging_profile_id: String,
        organization_id: String,
        from: Value,
        to: Vec<Recipient>,
        cc: Value,
        text: String,
        subject: String,
        media: Vec<Value>,
        parts: u32,
        num_chars: u32,
        encoding: String,
        smart_encoding_applied: bool,
        cost: Value,
        errors: Vec<Value>,
        tags: Vec<String>,
        sent_at: String,
        completed_at: String,
        received_at: String,
        valid_until: String,
        webhook_url: String,
        webhook_failover_url: String,
        wait_seconds: f64,
    }
}

/// Where a message stands for one recipient (shared with the message webhooks).
pub use crate::webhooks::RecipientStatus;

model! {
    /// One recipient of a message and how it fared.
    pub struct Recipient {
        phone_number: String,
        status: RecipientStatus,
        carrier: String,
        line_type: String,
    }
}

request! {
    /// `POST /messages` (and `/messages/schedule` with `send_at`).
    pub struct SendMessage {
        required { to: String }
        optional {
            from: String,
            text: String,
            subject: String,
            media_urls: Vec<String>,
            messaging_profile_id: String,
            #[serde(rename = "type")]
            kind: String,
            auto_detect: bool,
            encoding: String,
            send_at: String,
            use_profile_webhooks: bool,
            webhook_url: String,
            webhook_failover_url: String,
        }
    }
}

request! {
    /// `POST /messages/long_code` and `/messages/short_code`.
    pub struct SendFromNumber {
        required { from: String, to: String }
        optional {
            text: String,
            subject: String,
            media_urls: Vec<String>,
            #[serde(rename = "type")]
            kind: String,
            auto_detect: bool,
            encoding: String,
            use_profile_webhooks: bool,
            webhook_url: String,
            webhook_failover_url: String,
        }
    }
}

request! {
    /// `POST /messages/number_pool`.
    pub struct SendNumberPool {
        required { messaging_profile_id: String, to: String }
        optional {
            text: String,
            subject: String,
            media_urls: Vec<String>,
            #[serde(rename = "type")]
            kind: String,
            auto_detect: bool,
            encoding: String,
            use_profile_webhooks: bool,
            webhook_url: String,
            webhook_failover_url: String,
        }
    }
}

request! {
    /// `POST /messages/group_mms`.
    pub struct SendGroupMms {
        required { from: String, to: Vec<String> }
        optional {
            text: String,
            subject: String,
            media_urls: Vec<String>,
            use_profile_webhooks: bool,
            webhook_url: String,
            webhook_failover_url: String,
        }
    }
}

request! {
    /// `POST /messages/whatsapp`; `whatsapp_message` is the spec's `WhatsappMessageContent`.
    pub struct SendWhatsapp {
        required { from: String, to: String, whatsapp_message: Value }
        optional {
            messaging_profile_id: String,
            #[serde(rename = "type")]
            kind: String,
            webhook_url: String,
        }
    }
}

/// `client.messages()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::messaging::SendMessage;
/// let message = client.messages().send(SendMessage::new("+18445550001").from("+18005550100").text("Hello, World!")).await?;
/// let again = client.messages().retrieve(message.id.as_deref().unwrap()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Messages<'a>(&'a Client);

impl Client {
    /// Sending and reading messages.
    pub fn messages(&self) -> Messages<'_> {
        Messages(self)
    }
    /// Opt-outs (`STOP`).
    pub fn messaging_optouts(&self) -> OptOuts<'_> {
        OptOuts(self)
    }
    /// Messaging profiles.
    pub fn messaging_profiles(&self) -> MessagingProfiles<'_> {
        MessagingProfiles(self)
    }
    /// Owned phone numbers and their messaging settings.
    pub fn phone_numbers(&self) -> PhoneNumbers<'_> {
        PhoneNumbers(self)
    }
    /// Bulk messaging-profile assignment.
    pub fn messaging_numbers_bulk_updates(&self) -> BulkUpdates<'_> {
        BulkUpdates(self)
    }
    /// Searching the inventory.
    pub fn available_phone_numbers(&self) -> AvailablePhoneNumbers<'_> {
        AvailablePhoneNumbers(self)
    }
    /// Buying numbers.
    pub fn number_orders(&self) -> NumberOrders<'_> {
        NumberOrders(self)
    }
}

// Sending creates a message and carries no deduplication key: never re-sent after the
// server may have seen it.
impl Messages<'_> {
    /// `POST /messages`.
    pub async fn send(&self, req: SendMessage) -> Result<Message> {
        self.0.body_data(Method::POST, "/messages".into(), &req, Retry::Once).await
    }
    /// `POST /messages/schedule` (`send_at` 5 minutes to 5 days ahead).
    pub async fn schedule(&self, req: SendMessage) -> Result<Message> {
        self.0.body_data(Method::POST, "/messages/schedule".into(), &req, Retry::Once).await
    }
    /// `POST /messages/long_code`.
    pub async fn send_long_code(&self, req: SendFromNumber) -> Result<Message> {
        self.0.body_data(Method::POST, "/messages/long_code".into(), &req, Retry::Once).await
    }
    /// `POST /messages/short_code`.
    pub async fn send_short_code(&self, req: SendFromNumber) -> Result<Message> {
        self.0.body_data(Method::POST, "/messages/short_code".into(), &req, Retry::Once).await
    }
    /// `POST /messages/number_pool`.
    pub async fn send_number_pool(&self, req: SendNumberPool) -> Result<Message> {
        self.0.body_data(Method::POST, "/messages/number_pool".into(), &req, Retry::Once).await
    }
    /// `POST /messages/group_mms`.
    pub async fn send_group_mms(&self, req: SendGroupMms) -> Result<Message> {
        self.0.body_data(Method::POST, "/messages/group_mms".into(), &req, Retry::Once).await
    }
    /// `POST /messages/whatsapp`.
    pub async fn send_whatsapp(&self, req: SendWhatsapp) -> Result<Message> {
        self.0.body_data(Method::POST, "/messages/whatsapp".into(), &req, Retry::Once).await
    }
    /// `GET /messages/{id}`.
    pub async fn retrieve(&self, id: &str) -> Result<Message> {
        self.0.get_data(format!("/messages/{}", seg(id))).await
    }
    /// `DELETE /messages/{id}`: cancels a scheduled message.
    pub async fn cancel_scheduled(&self, id: &str) -> Result<Message> {
        let r: Value = self.0.send(crate::client::Request::delete(format!("/messages/{}", seg(id)))).await?;
        // The spec's answer for this one is the message itself, not an envelope.
        let v = r.get("data").cloned().unwrap_or(r);
        serde_json::from_value(v.clone()).map_err(|source| crate::Error::Decode { source, body: v.to_string() })
    }
    /// `GET /messages/group/{id}`: every message of a group MMS.
    pub async fn retrieve_group(&self, group_id: &str) -> Result<Vec<Message>> {
        self.0.get_data(format!("/messages/group/{}", seg(group_id))).await
    }
}

model! {
    /// An opt-out: `to` stopped messages from `from`.
    pub struct OptOut {
        from: String,
        to: String,
        messaging_profile_id: String,
        keyword: String,
        created_at: String,
    }
}

list_params! {
    /// `GET /messaging_optouts`.
    pub struct ListOptOuts {
        messaging_profile_id: String => "filter[messaging_profile_id]",
        from: String => "filter[from]",
        redaction_enabled: String => "redaction_enabled",
        created_at_gte: String => "created_at[gte]",
        created_at_lte: String => "created_at[lte]",
    }
}

/// `client.messaging_optouts()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::messaging::ListOptOuts;
/// let page = client.messaging_optouts().list(&ListOptOuts::new().messaging_profile_id("profile-id")).await?;
/// for optout in page.data { println!("{:?} stopped {:?}", optout.to, optout.from); }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct OptOuts<'a>(&'a Client);

impl OptOuts<'_> {
    /// One page of opt-outs.
    pub async fn list(&self, p: &ListOptOuts) -> Result<Page<OptOut>> {
        self.0.page("/messaging_optouts", p).await
    }
    /// Every opt-out, page after page.
    pub fn list_all(&self, p: &ListOptOuts) -> Pages<OptOut> {
        self.0.pages("/messaging_optouts", p)
    }
}

model! {
    /// A messaging profile.
    pub struct MessagingProfile {
        id: String,
        record_type: String,
        name: String,
        enabled: bool,
        webhook_url: String,
        webhook_failover_url: String,
        webhook_api_version: String,
        whitelisted_destinations: Vec<String>,
        number_pool_settings: Value,
        url_shortener_settings: Value,
        alpha_sender: String,
        daily_spend_limit: String,
        daily_spend_limit_enabled: bool,
        mms_fall_back_to_sms: bool,
        mms_transcoding: bool,
        mobile_only: bool,
        smart_encoding: bool,
        redaction_enabled: bool,
        redaction_level: u32,
        v1_secret: String,
        organization_id: String,
        created_at: String,
        updated_at: String,
    }
}

request! {
    /// `POST /messaging_profiles`.
    pub struct CreateMessagingProfile {
        required { name: String, whitelisted_destinations: Vec<String> }
        optional {
            enabled: bool,
            webhook_url: String,
            webhook_failover_url: String,
            webhook_api_version: String,
            number_pool_settings: Value,
            url_shortener_settings: Value,
            alpha_sender: String,
            daily_spend_limit: String,
            daily_spend_limit_enabled: bool,
            mms_fall_back_to_sms: bool,
            mms_transcoding: bool,
            mobile_only: bool,
            smart_encoding: bool,
        }
    }
}

request! {
    /// `PATCH /messaging_profiles/{id}`.
    pub struct UpdateMessagingProfile {
        required {}
        optional {
            name: String,
            whitelisted_destinations: Vec<String>,
            enabled: bool,
            webhook_url: String,
            webhook_failover_url: String,
            webhook_api_version: String,
            number_pool_settings: Value,
            url_shortener_settings: Value,
            alpha_sender: String,
            daily_spend_limit: String,
            daily_spend_limit_enabled: bool,
            mms_fall_back_to_sms: bool,
            mms_transcoding: bool,
            mobile_only: bool,
            smart_encoding: bool,
        }
    }
}

list_params! {
    /// `GET /messaging_profiles`.
    pub struct ListMessagingProfiles {
        name_eq: String => "filter[name][eq]",
        name_contains: String => "filter[name][contains]",
    }
}

list_params! {
    /// `GET /messaging_profiles/{id}/phone_numbers` and the other lists without filters.
    pub struct ListPage {}
}

/// `client.messaging_profiles()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::messaging::{CreateMessagingProfile, UpdateMessagingProfile};
/// let profile = client.messaging_profiles().create(CreateMessagingProfile::new("My name", vec!["US".to_owned()])).await?;
/// let id = profile.id.as_deref().unwrap();
/// client.messaging_profiles().update(id, UpdateMessagingProfile::new().webhook_url("https://example.com/hooks")).await?;
/// client.messaging_profiles().delete(id).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MessagingProfiles<'a>(&'a Client);

impl MessagingProfiles<'_> {
    pub async fn create(&self, req: CreateMessagingProfile) -> Result<MessagingProfile> {
        self.0.body_data(Method::POST, "/messaging_profiles".into(), &req, Retry::Once).await
    }
    pub async fn retrieve(&self, id: &str) -> Result<MessagingProfile> {
        self.0.get_data(format!("/messaging_profiles/{}", seg(id))).await
    }
    pub async fn update(&self, id: &str, req: UpdateMessagingProfile) -> Result<MessagingProfile> {
        self.0.body_data(Method::PATCH, format!("/messaging_profiles/{}", seg(id)), &req, Retry::Safe).await
    }
    pub async fn delete(&self, id: &str) -> Result<MessagingProfile> {
        self.0.delete_data(format!("/messaging_profiles/{}", seg(id))).await
    }
    pub async fn list(&self, p: &ListMessagingProfiles) -> Result<Page<MessagingProfile>> {
        self.0.page("/messaging_profiles", p).await
    }
    pub fn list_all(&self, p: &ListMessagingProfiles) -> Pages<MessagingProfile> {
        self.0.pages("/messaging_profiles", p)
    }
    /// The profile's numbers with their messaging settings.
    pub async fn list_phone_numbers(&self, id: &str, p: &ListPage) -> Result<Page<PhoneNumberMessaging>> {
        self.0.page(&format!("/messaging_profiles/{}/phone_numbers", seg(id)), p).await
    }
}

model! {
    /// An owned number (`PhoneNumberDetailed`).
    pub struct PhoneNumber {
        id: String,
        record_type: String,
        phone_number: String,
        status: String,
        phone_number_type: String,
        tags: Vec<String>,
        connection_id: String,
        connection_name: String,
        customer_reference: String,
        messaging_profile_id: String,
        messaging_profile_name: String,
        billing_group_id: String,
        created_at: String,
        updated_at: String,
        purchased_at: String,
    }
}

model! {
    /// A number's messaging settings (`PhoneNumberWithMessagingSettings`).
    pub struct PhoneNumberMessaging {
        id: String,
        record_type: String,
        phone_number: String,
        messaging_profile_id: String,
        messaging_product: String,
        country_code: String,
        #[serde(rename = "type")]
        kind: String,
        eligible_messaging_products: Vec<String>,
        features: Value,
        health: Value,
        traffic_type: String,
        tags: Vec<String>,
        created_at: String,
        updated_at: String,
    }
}

request! {
    /// `PATCH /phone_numbers/{id}`.
    pub struct UpdatePhoneNumber {
        required {}
        optional {
            tags: Vec<String>,
            connection_id: String,
            customer_reference: String,
            billing_group_id: String,
            external_pin: String,
            hd_voice_enabled: bool,
            address_id: String,
        }
    }
}

request! {
    /// `PATCH /phone_numbers/{id}/messaging`; `messaging_profile_id: ""` unassigns.
    pub struct UpdatePhoneNumberMessaging {
        required {}
        optional { messaging_profile_id: String, messaging_product: String, tags: Vec<String> }
    }
}

list_params! {
    /// `GET /phone_numbers`.
    pub struct ListPhoneNumbers {
        phone_number: String => "filter[phone_number]",
        status: String => "filter[status]",
        tag: String => "filter[tag]",
        connection_id: String => "filter[connection_id]",
        customer_reference: String => "filter[customer_reference]",
        voice_connection_name_contains: String => "filter[voice.connection_name][contains]",
        sort: String => "sort",
    }
}

list_params! {
    /// `GET /phone_numbers/messaging` and `/mobile_phone_numbers/messaging`.
    pub struct ListMessagingNumbers {
        messaging_profile_id: String => "filter[messaging_profile_id]",
        phone_number: String => "filter[phone_number]",
        phone_number_contains: String => "filter[phone_number][contains]",
        kind: String => "filter[type]",
        sort_phone_number: String => "sort[phone_number]",
    }
}

/// `client.phone_numbers()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::messaging::{ListPhoneNumbers, UpdatePhoneNumberMessaging};
/// let numbers = client.phone_numbers().list(&ListPhoneNumbers::new().status("active")).await?;
/// let id = numbers.data[0].id.as_deref().unwrap();
/// client.phone_numbers().update_messaging(id, UpdatePhoneNumberMessaging::new().messaging_profile_id("profile-id")).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PhoneNumbers<'a>(&'a Client);

impl PhoneNumbers<'_> {
    pub async fn list(&self, p: &ListPhoneNumbers) -> Result<Page<PhoneNumber>> {
        self.0.page("/phone_numbers", p).await
    }
    pub fn list_all(&self, p: &ListPhoneNumbers) -> Pages<PhoneNumber> {
        self.0.pages("/phone_numbers", p)
    }
    pub async fn retrieve(&self, id: &str) -> Result<PhoneNumber> {
        self.0.get_data(format!("/phone_numbers/{}", seg(id))).await
    }
    pub async fn update(&self, id: &str, req: UpdatePhoneNumber) -> Result<PhoneNumber> {
        self.0.body_data(Method::PATCH, format!("/phone_numbers/{}", seg(id)), &req, Retry::Safe).await
    }
    /// Releases the number.
    pub async fn delete(&self, id: &str) -> Result<PhoneNumber> {
        self.0.delete_data(format!("/phone_numbers/{}", seg(id))).await
    }
    pub async fn retrieve_messaging(&self, id: &str) -> Result<PhoneNumberMessaging> {
        self.0.get_data(format!("/phone_numbers/{}/messaging", seg(id))).await
    }
    pub async fn update_messaging(&self, id: &str, req: UpdatePhoneNumberMessaging) -> Result<PhoneNumberMessaging> {
        self.0.body_data(Method::PATCH, format!("/phone_numbers/{}/messaging", seg(id)), &req, Retry::Safe).await
    }
    pub async fn list_messaging(&self, p: &ListMessagingNumbers) -> Result<Page<PhoneNumberMessaging>> {
        self.0.page("/phone_numbers/messaging", p).await
    }
    pub fn list_all_messaging(&self, p: &ListMessagingNumbers) -> Pages<PhoneNumberMessaging> {
        self.0.pages("/phone_numbers/messaging", p)
    }
    pub async fn retrieve_mobile_messaging(&self, id: &str) -> Result<PhoneNumberMessaging> {
        self.0.get_data(format!("/mobile_phone_numbers/{}/messaging", seg(id))).await
    }
    pub async fn list_mobile_messaging(&self, p: &ListMessagingNumbers) -> Result<Page<PhoneNumberMessaging>> {
        self.0.page("/mobile_phone_numbers/messaging", p).await
    }
}

model! {
    /// A bulk update of numbers' messaging profile.
    pub struct BulkUpdate {
        order_id: String,
        record_type: String,
        success: Vec<String>,
        pending: Vec<String>,
        failed: Vec<String>,
    }
}

request! {
    /// `POST /messaging_numbers_bulk_updates`.
    pub struct CreateBulkUpdate {
        required { messaging_profile_id: String, numbers: Vec<String> }
        optional { assign_only: bool }
    }
}

/// `client.messaging_numbers_bulk_updates()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::messaging::CreateBulkUpdate;
/// let job = client.messaging_numbers_bulk_updates().create(CreateBulkUpdate::new("profile-id", vec!["+13122001234".to_owned()])).await?;
/// let status = client.messaging_numbers_bulk_updates().retrieve(job.order_id.as_deref().unwrap()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BulkUpdates<'a>(&'a Client);

impl BulkUpdates<'_> {
    pub async fn create(&self, req: CreateBulkUpdate) -> Result<BulkUpdate> {
        self.0.body_data(Method::POST, "/messaging_numbers_bulk_updates".into(), &req, Retry::Once).await
    }
    pub async fn retrieve(&self, order_id: &str) -> Result<BulkUpdate> {
        self.0.get_data(format!("/messaging_numbers_bulk_updates/{}", seg(order_id))).await
    }
}

model! {
    /// A number the inventory offers.
    pub struct AvailablePhoneNumber {
        phone_number: String,
        record_type: String,
        vanity_format: String,
        best_effort: bool,
        quickship: bool,
        reservable: bool,
        region_information: Vec<Value>,
        cost_information: Value,
        features: Vec<Value>,
    }
}

list_params! {
    /// `GET /available_phone_numbers` (no pages: `limit`).
    pub struct SearchPhoneNumbers {
        country_code: String => "filter[country_code]",
        national_destination_code: String => "filter[national_destination_code]",
        locality: String => "filter[locality]",
        administrative_area: String => "filter[administrative_area]",
        rate_center: String => "filter[rate_center]",
        phone_number_type: String => "filter[phone_number_type]",
        features: Vec<String> => "filter[features]",
        starts_with: String => "filter[phone_number][starts_with]",
        ends_with: String => "filter[phone_number][ends_with]",
        contains: String => "filter[phone_number][contains]",
        limit: u32 => "filter[limit]",
        best_effort: bool => "filter[best_effort]",
        quickship: bool => "filter[quickship]",
        reservable: bool => "filter[reservable]",
    }
}

/// `client.available_phone_numbers()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::messaging::SearchPhoneNumbers;
/// let found = client.available_phone_numbers().list(&SearchPhoneNumbers::new().country_code("US").locality("Chicago").limit(5u32)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct AvailablePhoneNumbers<'a>(&'a Client);

impl AvailablePhoneNumbers<'_> {
    /// Numbers matching the filters.
    pub async fn list(&self, p: &SearchPhoneNumbers) -> Result<Vec<AvailablePhoneNumber>> {
        Ok(self.0.page::<AvailablePhoneNumber>("/available_phone_numbers", p).await?.data)
    }
}

model! {
    /// A number order.
    pub struct NumberOrder {
        id: String,
        record_type: String,
        status: String,
        phone_numbers: Vec<Value>,
        phone_numbers_count: u32,
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

request! {
    /// `POST /number_orders`; `phone_numbers` as `[{"phone_number": "+1..."}]`, see [`CreateNumberOrder::numbers`].
    pub struct CreateNumberOrder {
        required {}
        optional {
            phone_numbers: Vec<Value>,
            messaging_profile_id: String,
            connection_id: String,
            billing_group_id: String,
            customer_reference: String,
        }
    }
}

impl CreateNumberOrder {
    /// Orders these numbers (`+E.164`).
    pub fn numbers<S: AsRef<str>>(self, numbers: &[S]) -> Self {
        self.phone_numbers(numbers.iter().map(|n| serde_json::json!({"phone_number": n.as_ref()})).collect::<Vec<_>>())
    }
}

request! {
    /// `PATCH /number_orders/{id}`.
    pub struct UpdateNumberOrder {
        required {}
        optional { customer_reference: String, regulatory_requirements: Vec<Value> }
    }
}

list_params! {
    /// `GET /number_orders`.
    pub struct ListNumberOrders {
        status: String => "filter[status]",
        created_at_gt: String => "filter[created_at][gt]",
        created_at_lt: String => "filter[created_at][lt]",
        phone_numbers_count: String => "filter[phone_numbers_count]",
        customer_reference: String => "filter[customer_reference]",
        requirements_met: bool => "filter[requirements_met]",
    }
}

/// `client.number_orders()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::messaging::CreateNumberOrder;
/// let order = client.number_orders().create(CreateNumberOrder::new().numbers(&["+13122001234"]).messaging_profile_id("profile-id")).await?;
/// let order = client.number_orders().retrieve(order.id.as_deref().unwrap()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct NumberOrders<'a>(&'a Client);

impl NumberOrders<'_> {
    pub async fn create(&self, req: CreateNumberOrder) -> Result<NumberOrder> {
        self.0.body_data(Method::POST, "/number_orders".into(), &req, Retry::Once).await
    }
    pub async fn retrieve(&self, id: &str) -> Result<NumberOrder> {
        self.0.get_data(format!("/number_orders/{}", seg(id))).await
    }
    pub async fn update(&self, id: &str, req: UpdateNumberOrder) -> Result<NumberOrder> {
        self.0.body_data(Method::PATCH, format!("/number_orders/{}", seg(id)), &req, Retry::Safe).await
    }
    pub async fn list(&self, p: &ListNumberOrders) -> Result<Page<NumberOrder>> {
        self.0.page("/number_orders", p).await
    }
    pub fn list_all(&self, p: &ListNumberOrders) -> Pages<NumberOrder> {
        self.0.pages("/number_orders", p)
    }
}
