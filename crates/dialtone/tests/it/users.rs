//! Organization users: list, filters, groups, remove, the groups report and `users add`.

use crate::harness::{Server, email};
use reqwest::Method;

#[tokio::test]
async fn users_groups_and_the_report() {
    let s = Server::start().await;
    let root = s.engine.root_account_id().await.unwrap().unwrap();
    let e1 = email("ann");
    let e2 = email("ben");
    s.engine.add_user(&root, &e1, &["Engineering".into(), "Sales".into()]).await.unwrap();
    let ben = s.engine.add_user(&root, &e2, &["Sales".into()]).await.unwrap();
    // Group ids are shared by name within the organization.
    let r = s.get("/v2/organizations/users?include_groups=true").await;
    assert_eq!(r.status, 200);
    let data = r.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    let sales_ids: Vec<&str> = data
        .iter()
        .flat_map(|u| u["groups"].as_array().unwrap())
        .filter(|g| g["name"] == "Sales")
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(sales_ids.len(), 2);
    assert_eq!(sales_ids[0], sales_ids[1]);
    assert!(s.get("/v2/organizations/users").await.body["data"][0].get("groups").is_none());

    let r = s.get(&format!("/v2/organizations/users?filter[email]={}", &e1[..6])).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        s.get("/v2/organizations/users?filter[user_status]=disabled").await.body["data"].as_array().unwrap().len(),
        0
    );
    assert_eq!(s.get("/v2/organizations/users?filter[user_status]=gone").await.status, 422);
    let r = s.get("/v2/organizations/users?page[size]=1&page[number]=3").await;
    assert_eq!(r.body["meta"]["total_pages"], 3);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);

    let r = s.get(&format!("/v2/organizations/users/{}?include_groups=true", ben.id)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"]["groups"][0]["name"], "Sales");

    // JSON report by default, CSV when asked.
    let r = s.get("/v2/organizations/users/users_groups_report").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 3);
    let r = s.send_with_header(Method::GET, "/v2/organizations/users/users_groups_report", "accept", "text/csv").await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("id,email,"));
    assert!(r.text.contains("\"Engineering, Sales\""), "{}", r.text);

    // Remove: answers the user, then it is gone. The owner stays.
    let r = s.post_empty(&format!("/v2/organizations/users/{}/actions/remove", ben.id)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"]["email"], e2.as_str());
    assert_eq!(s.get(&format!("/v2/organizations/users/{}", ben.id)).await.status, 404);
    let owner =
        s.get("/v2/organizations/users?filter[email]=owner@").await.body["data"][0]["id"].as_str().unwrap().to_owned();
    let r = s
        .send_raw(
            Method::POST,
            &format!("/v2/organizations/users/{owner}/actions/remove"),
            Some("application/json"),
            vec![],
        )
        .await;
    assert_eq!(r.status, 403);
    // A second user with the same email is refused.
    assert!(s.engine.add_user(&root, &e1, &[]).await.is_err());
}

#[tokio::test]
async fn the_users_add_command_writes_to_the_database() {
    let s = Server::start().await;
    let db = s.database.clone();
    let e = email("cli");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["users", "add", "--database", &db, "--email", &e, "--group", "Support"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["email"], e.as_str());
    let r = s.get(&format!("/v2/organizations/users?include_groups=true&filter[email]={e}")).await;
    assert_eq!(r.body["data"][0]["groups"][0]["name"], "Support");
    let bad = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["users", "add", "--database", &db, "--email", "nope"])
        .output()
        .await
        .unwrap();
    assert!(!bad.status.success());
}
