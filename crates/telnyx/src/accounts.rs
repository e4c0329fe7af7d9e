//! Accounts: managed accounts, organization users and webhook deliveries.
//!
//! ```no_run
//! # async fn run() -> telnyx::Result<()> {
//! use telnyx::accounts::{CreateManagedAccount, ListWebhookDeliveries};
//! let client = telnyx::Client::from_env()?;
//! let account = client.managed_accounts().create(CreateManagedAccount::new("Acme").email("ops@acme.test")).await?;
//! client.managed_accounts().disable(account.id.as_deref().unwrap()).await?;
//! let failed = client.webhook_deliveries().list(&ListWebhookDeliveries::new().status("failed")).await?;
//! println!("{} failed deliveries", failed.data.len());
//! # Ok(()) }
//! ```

use crate::client::{Client, Request, Retry};
use crate::error::Result;
use crate::model::{list_params, model, request};
use crate::pagination::{Page, Pages};
use crate::resource::{Data, seg};
use reqwest::Method;
use serde_json::Value;

model! {
    /// A managed account. `api_key` is in clear only in the answer to its creation.
    pub struct ManagedAccount {
        id: String,
        record_type: String,
        email: String,
        api_key: String,
        api_user: String,
        api_token: String,
        manager_account_id: String,
        organization_name: String,
        business_name: String,
        balance: Value,
        managed_account_allow_custom_pricing: bool,
        rollup_billing: bool,
        created_at: String,
        updated_at: String,
    }
}

impl std::fmt::Display for ManagedAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.id.as_deref().unwrap_or("-"), self.email.as_deref().unwrap_or("-"))
    }
}

request! {
    /// `POST /managed_accounts`.
    pub struct CreateManagedAccount {
        required { business_name: String }
        optional { email: String, password: String, managed_account_allow_custom_pricing: bool, rollup_billing: bool }
    }
}

request! {
    /// `PATCH /managed_accounts/{id}`.
    pub struct UpdateManagedAccount {
        required {}
        optional { managed_account_allow_custom_pricing: bool }
    }
}

list_params! {
    /// `GET /managed_accounts`.
    pub struct ListManagedAccounts {
        email_contains: String => "filter[email][contains]",
        email_eq: String => "filter[email][eq]",
        organization_name_contains: String => "filter[organization_name][contains]",
        organization_name_eq: String => "filter[organization_name][eq]",
        status_eq: String => "filter[status][eq]",
        sort: String => "sort",
        include_cancelled_accounts: bool => "include_cancelled_accounts",
    }
}

model! {
    /// Global outbound channels the manager can allocate.
    pub struct AllocatableChannels {
        record_type: String,
        allocatable_global_outbound_channels: i64,
        managed_account_allow_custom_pricing: bool,
        total_global_channels_allocated: i64,
    }
}

model! {
    /// A managed account's channel allocation.
    pub struct ChannelLimit {
        id: String,
        record_type: String,
        email: String,
        channel_limit: i64,
        manager_account_id: String,
    }
}

/// `client.managed_accounts()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::accounts::{CreateManagedAccount, ListManagedAccounts};
/// let account = client.managed_accounts().create(CreateManagedAccount::new("Larry's Cat Food Inc")).await?;
/// let page = client.managed_accounts().list(&ListManagedAccounts::new().email_contains("larry")).await?;
/// client.managed_accounts().update_global_channel_limit(account.id.as_deref().unwrap(), 30).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ManagedAccounts<'a>(&'a Client);

impl ManagedAccounts<'_> {
    pub async fn create(&self, req: CreateManagedAccount) -> Result<ManagedAccount> {
        self.0.body_data(Method::POST, "/managed_accounts".into(), &req, Retry::Once).await
    }
    pub async fn retrieve(&self, id: &str) -> Result<ManagedAccount> {
        self.0.get_data(format!("/managed_accounts/{}", seg(id))).await
    }
    pub async fn update(&self, id: &str, req: UpdateManagedAccount) -> Result<ManagedAccount> {
        self.0.body_data(Method::PATCH, format!("/managed_accounts/{}", seg(id)), &req, Retry::Safe).await
    }
    pub async fn list(&self, p: &ListManagedAccounts) -> Result<Page<ManagedAccount>> {
        self.0.page("/managed_accounts", p).await
    }
    pub fn list_all(&self, p: &ListManagedAccounts) -> Pages<ManagedAccount> {
        self.0.pages("/managed_accounts", p)
    }
    /// `POST /managed_accounts/{id}/actions/disable` (a bare POST).
    pub async fn disable(&self, id: &str) -> Result<ManagedAccount> {
        let r: Data<ManagedAccount> =
            self.0.send(Request::post_empty(format!("/managed_accounts/{}/actions/disable", seg(id)))).await?;
        Ok(r.data)
    }
    /// `POST /managed_accounts/{id}/actions/enable`.
    pub async fn enable(&self, id: &str, reenable_all_connections: bool) -> Result<ManagedAccount> {
        let body = serde_json::json!({"reenable_all_connections": reenable_all_connections});
        self.0
            .body_data(Method::POST, format!("/managed_accounts/{}/actions/enable", seg(id)), &body, Retry::Safe)
            .await
    }
    pub async fn allocatable_global_outbound_channels(&self) -> Result<AllocatableChannels> {
        self.0.get_data("/managed_accounts/allocatable_global_outbound_channels".into()).await
    }
    pub async fn update_global_channel_limit(&self, id: &str, channel_limit: i64) -> Result<ChannelLimit> {
        let body = serde_json::json!({"channel_limit": channel_limit});
        let path = format!("/managed_accounts/{}/update_global_channel_limit", seg(id));
        self.0.body_data(Method::PATCH, path, &body, Retry::Safe).await
    }
}

model! {
    /// A user of the organization.
    pub struct OrganizationUser {
        id: String,
        record_type: String,
        email: String,
        user_status: String,
        last_sign_in_at: String,
        organization_user_bypasses_sso: bool,
        groups: Vec<Value>,
        created_at: String,
    }
}

list_params! {
    /// `GET /organizations/users`.
    pub struct ListOrganizationUsers {
        user_status: String => "filter[user_status]",
        email: String => "filter[email]",
        include_groups: bool => "include_groups",
    }
}

/// `client.organization_users()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::accounts::ListOrganizationUsers;
/// let users = client.organization_users().list(&ListOrganizationUsers::new().include_groups(true)).await?;
/// let csv = client.organization_users().groups_report_csv().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct OrganizationUsers<'a>(&'a Client);

impl OrganizationUsers<'_> {
    pub async fn list(&self, p: &ListOrganizationUsers) -> Result<Page<OrganizationUser>> {
        self.0.page("/organizations/users", p).await
    }
    pub fn list_all(&self, p: &ListOrganizationUsers) -> Pages<OrganizationUser> {
        self.0.pages("/organizations/users", p)
    }
    pub async fn retrieve(&self, id: &str, include_groups: bool) -> Result<OrganizationUser> {
        let mut q = crate::query::Query::new();
        q.push("include_groups", include_groups.to_string());
        let r: Data<OrganizationUser> =
            self.0.send(Request::get(format!("/organizations/users/{}", seg(id))).query(q)).await?;
        Ok(r.data)
    }
    /// Removes the user from the organization (a bare POST).
    pub async fn remove(&self, id: &str) -> Result<OrganizationUser> {
        let r: Data<OrganizationUser> =
            self.0.send(Request::post_empty(format!("/organizations/users/{}/actions/remove", seg(id)))).await?;
        Ok(r.data)
    }
    /// The users-groups report as JSON.
    pub async fn groups_report(&self) -> Result<Value> {
        self.0.get_data("/organizations/users/users_groups_report".into()).await
    }
    /// The users-groups report as CSV text.
    pub async fn groups_report_csv(&self) -> Result<String> {
        let mut r = Request::get("/organizations/users/users_groups_report".into());
        r.accept = "text/csv";
        self.0.send_raw(r).await
    }
}

model! {
    /// One webhook delivery and its attempts (newest first).
    pub struct WebhookDelivery {
        id: String,
        record_type: String,
        status: String,
        user_id: String,
        started_at: String,
        finished_at: String,
        webhook: Value,
        attempts: Vec<Value>,
    }
}

list_params! {
    /// `GET /webhook_deliveries`.
    pub struct ListWebhookDeliveries {
        status: String => "filter[status][eq]",
        event_type: String => "filter[event_type]",
        webhook_contains: String => "filter[webhook][contains]",
        attempts_contains: String => "filter[attempts][contains]",
        started_at_gte: String => "filter[started_at][gte]",
        started_at_lte: String => "filter[started_at][lte]",
        finished_at_gte: String => "filter[finished_at][gte]",
        finished_at_lte: String => "filter[finished_at][lte]",
    }
}

/// `client.webhook_deliveries()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::accounts::ListWebhookDeliveries;
/// let failed = client.webhook_deliveries().list(&ListWebhookDeliveries::new().status("failed")).await?;
/// for d in failed.data { println!("{:?}: {} attempts", d.id, d.attempts.map_or(0, |a| a.len())); }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct WebhookDeliveries<'a>(&'a Client);

impl WebhookDeliveries<'_> {
    pub async fn list(&self, p: &ListWebhookDeliveries) -> Result<Page<WebhookDelivery>> {
        self.0.page("/webhook_deliveries", p).await
    }
    pub fn list_all(&self, p: &ListWebhookDeliveries) -> Pages<WebhookDelivery> {
        self.0.pages("/webhook_deliveries", p)
    }
    pub async fn retrieve(&self, id: &str) -> Result<WebhookDelivery> {
        self.0.get_data(format!("/webhook_deliveries/{}", seg(id))).await
    }
}

impl Client {
    /// Managed accounts (a manager account's key).
    pub fn managed_accounts(&self) -> ManagedAccounts<'_> {
        ManagedAccounts(self)
    }
    /// The organization's users.
    pub fn organization_users(&self) -> OrganizationUsers<'_> {
        OrganizationUsers(self)
    }
    /// The record of webhook deliveries.
    pub fn webhook_deliveries(&self) -> WebhookDeliveries<'_> {
        WebhookDeliveries(self)
    }
}
