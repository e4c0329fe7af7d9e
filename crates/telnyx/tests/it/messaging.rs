//! Messaging against Dialtone: profiles, number search and orders, messaging settings, bulk
//! updates, every kind of send, opt-outs, errors per status and pagination across pages.

use crate::server::Dialtone;
use serde_json::json;
use telnyx::Error;
use telnyx::messaging::*;
use telnyx::webhooks::{EventKind, MessageDirection, MessageType};

/// A profile and an owned SMS number assigned to it.
async fn number_with_profile(d: &Dialtone, webhook: Option<&str>) -> (MessagingProfile, String, String) {
    let mut req = CreateMessagingProfile::new("Alerts", vec!["US".to_owned(), "CA".to_owned()]);
    if let Some(u) = webhook {
        req = req.webhook_url(u);
    }
    let profile = d.client.messaging_profiles().create(req).await.unwrap();
    let found = d
        .client
        .available_phone_numbers()
        .list(
            &SearchPhoneNumbers::new()
                .locality("Chicago")
                .features(vec!["sms".to_owned(), "mms".to_owned()])
                .limit(1u32),
        )
        .await
        .unwrap();
    let number = found[0].phone_number.clone().unwrap();
    let order = d
        .client
        .number_orders()
        .create(CreateNumberOrder::new().numbers(&[&number]).messaging_profile_id(profile.id.clone().unwrap()))
        .await
        .unwrap();
    assert_eq!(order.status.as_deref(), Some("pending"));
    d.advance(1).await;
    let order = d.client.number_orders().retrieve(order.id.as_deref().unwrap()).await.unwrap();
    assert_eq!(order.status.as_deref(), Some("success"));
    let owned = d.client.phone_numbers().list(&ListPhoneNumbers::new().phone_number(number.clone())).await.unwrap();
    let id = owned.data[0].id.clone().unwrap();
    (profile, number, id)
}

#[tokio::test]
async fn numbers_profiles_and_settings_round_trip() {
    let d = Dialtone::start().await;
    let (profile, number, id) = number_with_profile(&d, None).await;
    let pid = profile.id.clone().unwrap();
    assert_eq!(profile.whitelisted_destinations.as_deref(), Some(&["US".to_owned(), "CA".to_owned()][..]));
    // Unknown fields are kept.
    assert!(profile.extra.is_empty() || profile.extra.keys().all(|k| !k.is_empty()));

    let settings = d.client.phone_numbers().retrieve_messaging(&id).await.unwrap();
    assert_eq!(settings.messaging_profile_id.as_deref(), Some(pid.as_str()));
    assert_eq!(settings.phone_number.as_deref(), Some(number.as_str()));
    let settings = d
        .client
        .phone_numbers()
        .update_messaging(&id, UpdatePhoneNumberMessaging::new().messaging_profile_id(""))
        .await
        .unwrap();
    assert_eq!(settings.messaging_profile_id, None);
    let bulk = d
        .client
        .messaging_numbers_bulk_updates()
        .create(CreateBulkUpdate::new(pid.clone(), vec![number.clone(), "+13125559999".to_owned()]))
        .await
        .unwrap();
    d.advance(0).await;
    let bulk = d.client.messaging_numbers_bulk_updates().retrieve(bulk.order_id.as_deref().unwrap()).await.unwrap();
    assert_eq!(bulk.success.as_deref(), Some(&[number.clone()][..]));
    assert_eq!(bulk.failed.as_deref(), Some(&["+13125559999".to_owned()][..]));
    let on_profile = d.client.messaging_profiles().list_phone_numbers(&pid, &ListPage::new()).await.unwrap();
    assert_eq!(on_profile.data.len(), 1);
    let listed = d
        .client
        .phone_numbers()
        .list_messaging(&ListMessagingNumbers::new().messaging_profile_id(pid.clone()))
        .await
        .unwrap();
    assert_eq!(listed.data[0].phone_number.as_deref(), Some(number.as_str()));

    let updated = d
        .client
        .phone_numbers()
        .update(&id, UpdatePhoneNumber::new().tags(vec!["sdk".to_owned()]).customer_reference("ref-1"))
        .await
        .unwrap();
    assert_eq!(updated.tags.as_deref(), Some(&["sdk".to_owned()][..]));
    assert_eq!(d.client.phone_numbers().retrieve(&id).await.unwrap().customer_reference.as_deref(), Some("ref-1"));

    let renamed = d
        .client
        .messaging_profiles()
        .update(&pid, UpdateMessagingProfile::new().name("Renamed").field("mobile_only", false))
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Renamed"));
    let orders = d.client.number_orders().list(&ListNumberOrders::new().status("success")).await.unwrap();
    assert_eq!(orders.data.len(), 1);
    d.client.phone_numbers().delete(&id).await.unwrap();
    let err = d.client.phone_numbers().retrieve(&id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    d.client.messaging_profiles().delete(&pid).await.unwrap();
    assert!(matches!(d.client.messaging_profiles().retrieve(&pid).await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn lists_page_across_pages_and_stop_at_the_cap() {
    let d = Dialtone::start().await;
    for i in 0..5 {
        d.client
            .messaging_profiles()
            .create(CreateMessagingProfile::new(format!("P{i}"), vec!["US".to_owned()]))
            .await
            .unwrap();
    }
    let p = ListMessagingProfiles::new().page_size(2);
    let first = d.client.messaging_profiles().list(&p).await.unwrap();
    assert_eq!(first.data.len(), 2);
    assert_eq!(first.meta.as_ref().unwrap().total_pages, Some(3));
    let all = d.client.messaging_profiles().list_all(&p).collect_all().await.unwrap();
    let mut names: Vec<_> = all.iter().map(|p| p.name.clone().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["P0", "P1", "P2", "P3", "P4"]);
    // The stream owns its client: it runs in a spawned task.
    let stream = d.client.messaging_profiles().list_all(&p).take(3);
    let three = tokio::spawn(stream.collect_all()).await.unwrap().unwrap();
    assert_eq!(three.len(), 3);
    let filtered = d
        .client
        .messaging_profiles()
        .list_all(&ListMessagingProfiles::new().name_eq("P3"))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);
}

#[tokio::test]
async fn every_kind_of_send_and_its_errors() {
    let d = Dialtone::start().await;
    let (url, got) = crate::webhooks::receiver().await;
    let (profile, from, _) = number_with_profile(&d, Some(&url)).await;
    let pid = profile.id.clone().unwrap();

    let m = d
        .client
        .messages()
        .send(SendMessage::new("+15550100001").from(from.clone()).text("Hello from Rust"))
        .await
        .unwrap();
    assert_eq!(m.direction.as_deref(), Some("outbound"));
    assert_eq!(m.parts, Some(1));
    assert_eq!(m.to.as_ref().unwrap()[0].phone_number.as_deref(), Some("+15550100001"));
    d.advance(0).await;
    d.advance(2).await;
    let read = d.client.messages().retrieve(m.id.as_deref().unwrap()).await.unwrap();
    assert_eq!(read.to.unwrap()[0].status, Some(RecipientStatus::Delivered));
    // The webhooks of that message parse as typed events.
    let verifier = d.client.webhooks().unwrap();
    let delivered = crate::webhooks::wait_for(&got, 3).await;
    let mut types = Vec::new();
    for (h, body) in &delivered {
        let signature = h["telnyx-signature-ed25519"].to_str().unwrap();
        verifier.verify(body, signature, h["telnyx-timestamp"].to_str().unwrap()).unwrap();
        let ev = telnyx::Event::parse(body).unwrap();
        types.push(ev.event_type().to_owned());
        let (EventKind::MessageSent(p) | EventKind::MessageFinalized(p)) = &ev.kind else { continue };
        assert_eq!(p.id, m.id);
        assert_eq!(p.direction, Some(MessageDirection::Outbound));
        assert_eq!(p.kind, Some(MessageType::Sms));
        assert_eq!(p.from.as_ref().unwrap().phone_number.as_deref(), Some(from.as_str()));
        let to = &p.to.as_ref().unwrap()[0];
        assert_eq!(to.phone_number.as_deref(), Some("+15550100001"));
        if let EventKind::MessageFinalized(_) = ev.kind {
            assert_eq!(to.status, Some(RecipientStatus::Delivered));
        }
    }
    assert!(types.contains(&"message.sent".to_owned()) && types.contains(&"message.finalized".to_owned()), "{types:?}");

    let lc =
        d.client.messages().send_long_code(SendFromNumber::new(from.clone(), "+15550100001").text("lc")).await.unwrap();
    assert_eq!(lc.kind.as_deref(), Some("SMS"));
    let pool = d
        .client
        .messages()
        .send_number_pool(SendNumberPool::new(pid.clone(), "+13125550002").text("pool"))
        .await
        .unwrap();
    assert_eq!(pool.from.as_ref().unwrap()["phone_number"], json!(from));
    let group = d
        .client
        .messages()
        .send_group_mms(
            SendGroupMms::new(from.clone(), vec!["+13125550003".to_owned(), "+13125550004".to_owned()])
                .media_urls(vec!["https://example.com/a.jpg".to_owned()])
                .text("group"),
        )
        .await
        .unwrap();
    assert_eq!(group.to.as_ref().unwrap().len(), 2);
    let group_id = group.extra.get("group_message_id").and_then(|v| v.as_str()).map(str::to_owned);
    if let Some(gid) = group_id {
        assert_eq!(d.client.messages().retrieve_group(&gid).await.unwrap().len(), 2);
    }
    let wa = d
        .client
        .messages()
        .send_whatsapp(SendWhatsapp::new(from.clone(), "+13125550005", json!({"type": "text", "text": {"body": "hi"}})))
        .await
        .unwrap();
    assert!(wa.id.is_some());
    let send_at = "2099-01-01T00:00:00Z";
    let too_far = d
        .client
        .messages()
        .schedule(SendMessage::new("+13125550006").from(from.clone()).text("later").send_at(send_at))
        .await;
    assert!(matches!(too_far, Err(Error::UnprocessableEntity(_)) | Err(Error::BadRequest(_))), "{too_far:?}");

    // Errors: a `from` the account does not own, an unknown message, a wrong key.
    let err =
        d.client.messages().send(SendMessage::new("+13125550001").from("+19995550100").text("x")).await.unwrap_err();
    assert!(matches!(err, Error::UnprocessableEntity(_) | Error::BadRequest(_)), "{err:?}");
    assert_eq!(err.code(), Some("40305"));
    assert!(err.body().unwrap().contains("40305"));
    let err = d.client.messages().retrieve("00000000-0000-0000-0000-000000000000").await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let bad = telnyx::Client::builder().api_key("KEYwrong").base_url(d.client.base_url()).build().unwrap();
    let err = bad.messages().retrieve("x").await.unwrap_err();
    assert!(matches!(err, Error::Authentication(_)), "{err:?}");
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn stop_makes_an_opt_out_and_sends_are_refused() {
    let d = Dialtone::start().await;
    let (_, number, _) = number_with_profile(&d, None).await;
    d.sim(
        reqwest::Method::POST,
        "/_dialtone/sim/messages",
        json!({"from": "+13125550077", "to": number, "text": "STOP"}),
    )
    .await;
    d.advance(1).await;
    let outs = d.client.messaging_optouts().list_all(&ListOptOuts::new()).collect_all().await.unwrap();
    assert_eq!(outs.len(), 1);
    assert_eq!(outs[0].from.as_deref(), Some(number.as_str()));
    assert_eq!(outs[0].to.as_deref(), Some("+13125550077"));
    let err =
        d.client.messages().send(SendMessage::new("+13125550077").from(number).text("still there?")).await.unwrap_err();
    assert_eq!(err.code(), Some("40300"));
}

/// Short codes, scheduling and cancelling, mobile numbers' settings, order updates.
#[tokio::test]
async fn short_codes_schedules_mobile_numbers_and_order_updates() {
    let d = Dialtone::start().await;
    let (profile, from, _) = number_with_profile(&d, None).await;
    let pid = profile.id.clone().unwrap();
    d.sim(
        reqwest::Method::POST,
        "/_dialtone/sim/short_codes",
        json!({"short_code": "24273", "messaging_profile_id": pid}),
    )
    .await;
    let sc =
        d.client.messages().send_short_code(SendFromNumber::new("24273", "+13125550010").text("code")).await.unwrap();
    assert!(sc.id.is_some());

    // The manual clock started at the real now: ten minutes ahead is in the window.
    let at = std::time::SystemTime::now() + std::time::Duration::from_secs(600);
    let at = httpdate_to_rfc3339(at);
    let scheduled = d
        .client
        .messages()
        .schedule(SendMessage::new("+13125550011").from(from.clone()).text("later").send_at(at))
        .await
        .unwrap();
    let cancelled = d.client.messages().cancel_scheduled(scheduled.id.as_deref().unwrap()).await.unwrap();
    assert_eq!(cancelled.to.unwrap()[0].status, Some(RecipientStatus::Cancelled));

    let mobiles = d.client.phone_numbers().list_mobile_messaging(&ListMessagingNumbers::new()).await.unwrap();
    assert!(mobiles.data.is_empty());
    let err = d.client.phone_numbers().retrieve_mobile_messaging("123").await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");

    let orders = d.client.number_orders().list_all(&ListNumberOrders::new()).collect_all().await.unwrap();
    let oid = orders[0].id.clone().unwrap();
    let updated =
        d.client.number_orders().update(&oid, UpdateNumberOrder::new().customer_reference("po-7")).await.unwrap();
    assert_eq!(updated.customer_reference.as_deref(), Some("po-7"));
}

/// RFC 3339 in UTC from a system time, without a date crate.
fn httpdate_to_rfc3339(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}
