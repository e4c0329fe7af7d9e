//! Organization users of an account, and the CLI's `users add`.

use crate::{Engine, Result, store_err};
use dialtone_domain::accounts;
use dialtone_domain::accounts::Account;
use dialtone_domain::body::is_email;
use dialtone_domain::error::{ApiError, Code};
use dialtone_domain::users::{self, Group, ListFilter, User};
use dialtone_store::{ChangeSet, Doc, StoreError};

const GROUP_KIND: &str = "org_group";

impl Engine {
    /// Users of the caller's organization, oldest first.
    pub async fn list_users(&self, caller: &Account, filter: &ListFilter) -> Result<Vec<User>> {
        let docs = self.store.list(users::KIND, Some(&caller.id), None).await.map_err(store_err)?;
        Ok(docs.iter().filter_map(|d| User::from_value(&d.data)).filter(|u| filter.matches(u)).collect())
    }

    pub async fn user(&self, caller: &Account, id: &str) -> Result<User> {
        let doc = self.store.get(users::KIND, id).await.map_err(store_err)?;
        match doc {
            Some(d) if d.account_id == caller.id => User::from_value(&d.data).ok_or_else(ApiError::unexpected),
            _ => Err(ApiError::not_found()),
        }
    }

    /// `POST /organizations/users/{id}/actions/remove`: the user as it was.
    pub async fn remove_user(&self, caller: &Account, id: &str) -> Result<User> {
        let user = self.user(caller, id).await?;
        users::check_removable(&user)?;
        self.commit(&ChangeSet::new().delete(users::KIND, id)).await?;
        Ok(user)
    }

    /// Adds a sub-user to an account, creating named groups as needed (CLI `users add`).
    pub async fn add_user(&self, account_id: &str, email: &str, groups: &[String]) -> Result<User> {
        if !is_email(email) {
            return Err(ApiError::new(Code::InvalidEmail).detail(format!("'{email}' is not a valid email address.")));
        }
        if self.account(account_id).await?.is_none() {
            return Err(ApiError::not_found().detail(format!("No account {account_id}.")));
        }
        let now = self.clock.now();
        let mut user = User::new(Engine::new_id(), account_id.to_owned(), email.to_owned(), false, now);
        let mut cs = ChangeSet::new();
        for name in groups {
            let key = format!("{account_id}:{name}");
            let group = match self.store.get_unique(GROUP_KIND, &key).await.map_err(store_err)? {
                Some(d) => Group { id: d.id, name: name.clone() },
                None => {
                    let g = Group { id: Engine::new_id(), name: name.clone() };
                    let data = serde_json::json!({"id": g.id, "name": g.name});
                    cs = cs.insert(Doc::new(GROUP_KIND, &g.id, account_id, data, now).unique(key));
                    g
                }
            };
            user.groups.push(group);
        }
        cs = cs.insert(
            Doc::new(users::KIND, &user.id, account_id, user.to_value(), now).unique(accounts::email_key(email)),
        );
        match self.store.apply(&cs).await {
            Ok(()) => Ok(user),
            Err(StoreError::Duplicate) => {
                Err(ApiError::new(Code::Duplicate).detail(format!("A user with email '{email}' already exists.")))
            }
            Err(e) => Err(store_err(e)),
        }
    }

    /// The root account's id (for the CLI, which acts on the root organization by default).
    pub async fn root_account_id(&self) -> Result<Option<String>> {
        self.store.setting("root_account_id").await.map_err(store_err)
    }
}
