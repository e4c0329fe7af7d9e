//! The payloads of messaging events: the message itself (`message.sent`,
//! `message.finalized`, `message.received`) and a click on a replaced link.

use crate::error::ErrorObject;
use crate::model::{model, string_enum};

string_enum! {
    /// Where a message stands for one party.
    pub enum RecipientStatus {
        Queued = "queued",
        Sending = "sending",
        Sent = "sent",
        Expired = "expired",
        Delivered = "delivered",
        SendingFailed = "sending_failed",
        DeliveryFailed = "delivery_failed",
        DeliveryUnconfirmed = "delivery_unconfirmed",
        /// An inbound message handed to your webhook.
        WebhookDelivered = "webhook_delivered",
        /// An inbound message's sender.
        Received = "received",
        /// A scheduled message cancelled before it was sent.
        Cancelled = "cancelled",
    }
}

string_enum! {
    /// The kind of line a number is on.
    pub enum LineType {
        Wireline = "Wireline",
        Wireless = "Wireless",
        VoWiFi = "VoWiFi",
        VoIP = "VoIP",
        PrePaidWireless = "Pre-Paid Wireless",
        /// `""`: the carrier did not say.
        Unreported = "",
    }
}

string_enum! {
    /// Which way a message went.
    pub enum MessageDirection {
        Inbound = "inbound",
        Outbound = "outbound",
    }
}

string_enum! {
    /// SMS or MMS.
    pub enum MessageType {
        Sms = "SMS",
        Mms = "MMS",
    }
}

model! {
    /// A party of a message (`from`, each of `to` and `cc`).
    pub struct MessageParty {
        phone_number: String,
        carrier: String,
        line_type: LineType,
        status: RecipientStatus,
    }
}

model! {
    /// A media file of an MMS.
    pub struct MessageMedia {
        url: String,
        content_type: String,
        size: i64,
        /// Outbound messages' hash.
        sha256: String,
        /// Inbound messages' hash.
        hash_sha256: String,
    }
}

model! {
    /// An amount of money.
    pub struct MessageCost {
        amount: String,
        currency: String,
    }
}

model! {
    /// What a message's cost is made of.
    pub struct CostBreakdown {
        carrier_fee: MessageCost,
        rate: MessageCost,
    }
}

model! {
    /// The message of `message.sent`, `message.finalized` (the spec's
    /// `OutboundMessagePayload`) and `message.received` (`InboundMessagePayload`): the two
    /// share their shape.
    pub struct MessagePayload {
        id: String,
        record_type: String,
        direction: MessageDirection,
        #[serde(rename = "type")]
        kind: MessageType,
        messaging_profile_id: String,
        organization_id: String,
        from: MessageParty,
        to: Vec<MessageParty>,
        cc: Vec<MessageParty>,
        text: String,
        subject: String,
        media: Vec<MessageMedia>,
        parts: i64,
        num_chars: i64,
        encoding: String,
        smart_encoding_applied: bool,
        cost: MessageCost,
        cost_breakdown: CostBreakdown,
        errors: Vec<ErrorObject>,
        tags: Vec<String>,
        received_at: String,
        sent_at: String,
        completed_at: String,
        valid_until: String,
        wait_seconds: f64,
        webhook_url: String,
        webhook_failover_url: String,
        tcr_campaign_id: String,
        tcr_campaign_billable: bool,
        tcr_campaign_registered: String,
    }
}

model! {
    /// A click on a link Telnyx replaced in a message (the spec's `ReplacedLinkClick`). It
    /// arrives as the envelope's `data` itself, with `record_type: "link_clicked"` and no
    /// `event_type`, `id` or `payload`.
    pub struct LinkClickPayload {
        /// The message the link was in.
        message_id: String,
        record_type: String,
        time_clicked: String,
        /// The number the message was sent to.
        to: String,
        /// The original link.
        url: String,
    }
}
