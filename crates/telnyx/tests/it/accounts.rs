//! Accounts against Dialtone: managed accounts (pages, disable/enable, channels), the
//! organization's users and report, webhook deliveries.

use crate::server::Dialtone;
use serde_json::json;
use telnyx::Error;
use telnyx::accounts::*;

#[tokio::test]
async fn managed_accounts_round_trip() {
    let d = Dialtone::start().await;
    let mut made = Vec::new();
    for i in 0..3 {
        let a = d
            .client
            .managed_accounts()
            .create(CreateManagedAccount::new(format!("Biz {i}")).email(format!("biz{i}@sdk.test")))
            .await
            .unwrap();
        assert!(a.api_key.as_deref().unwrap().starts_with("KEY"));
        made.push(a);
    }
    let p = ListManagedAccounts::new().page_size(2);
    let all = d.client.managed_accounts().list_all(&p).collect_all().await.unwrap();
    assert_eq!(all.len(), 3);
    let one = d.client.managed_accounts().list(&ListManagedAccounts::new().email_eq("biz1@sdk.test")).await.unwrap();
    assert_eq!(one.data.len(), 1);
    let id = made[0].id.clone().unwrap();
    let updated = d
        .client
        .managed_accounts()
        .update(&id, UpdateManagedAccount::new().managed_account_allow_custom_pricing(true))
        .await
        .unwrap();
    assert_eq!(updated.managed_account_allow_custom_pricing, Some(true));

    // The managed account's own key: works, then 403 once disabled, then works again.
    let theirs = telnyx::Client::builder()
        .api_key(made[0].api_key.clone().unwrap())
        .base_url(d.client.base_url())
        .build()
        .unwrap();
    theirs.messaging_profiles().list(&Default::default()).await.unwrap();
    d.client.managed_accounts().disable(&id).await.unwrap();
    let err = theirs.messaging_profiles().list(&Default::default()).await.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
    d.client.managed_accounts().enable(&id, false).await.unwrap();
    theirs.messaging_profiles().list(&Default::default()).await.unwrap();
    // A managed account cannot manage accounts.
    let err = theirs.managed_accounts().list(&ListManagedAccounts::new()).await.unwrap_err();
    assert_eq!(err.status(), Some(403));

    let channels = d.client.managed_accounts().allocatable_global_outbound_channels().await.unwrap();
    assert!(channels.allocatable_global_outbound_channels.is_some());
    let limit = d.client.managed_accounts().update_global_channel_limit(&id, 3).await.unwrap();
    assert_eq!(limit.channel_limit, Some(3));
    let err = d.client.managed_accounts().retrieve("nope").await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_) | Error::BadRequest(_)), "{err:?}");
}

#[tokio::test]
async fn organization_users_and_their_report() {
    let d = Dialtone::start().await;
    let users = d
        .client
        .organization_users()
        .list_all(&ListOrganizationUsers::new().include_groups(true))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(users.len(), 1, "the owner");
    let owner = users[0].id.clone().unwrap();
    let got = d.client.organization_users().retrieve(&owner, true).await.unwrap();
    assert_eq!(got.email, users[0].email);
    let report = d.client.organization_users().groups_report().await.unwrap();
    assert!(report.is_array() || report.is_object());
    let csv = d.client.organization_users().groups_report_csv().await.unwrap();
    assert!(csv.lines().next().unwrap().contains(','), "{csv}");
    let err = d.client.organization_users().remove(&owner).await.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
}

#[tokio::test]
async fn webhook_deliveries_show_each_attempt() {
    let d = Dialtone::start().await;
    let (url, got) = crate::webhooks::receiver().await;
    d.sim(reqwest::Method::POST, "/_dialtone/sim/webhooks", json!({"event_type": "call.hangup", "url": url})).await;
    crate::webhooks::wait_for(&got, 1).await;
    let mut list = None;
    for _ in 0..100 {
        let page = d.client.webhook_deliveries().list(&ListWebhookDeliveries::new().status("delivered")).await.unwrap();
        if !page.data.is_empty() {
            list = Some(page);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let list = list.expect("the delivery is recorded");
    let id = list.data[0].id.clone().unwrap();
    let one = d.client.webhook_deliveries().retrieve(&id).await.unwrap();
    assert_eq!(one.attempts.unwrap().len(), 1);
    assert_eq!(one.webhook.unwrap()["event_type"], "call.hangup");
    let none =
        d.client.webhook_deliveries().list(&ListWebhookDeliveries::new().event_type("message.sent")).await.unwrap();
    assert!(none.data.is_empty());
}
