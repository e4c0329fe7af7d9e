//! What every resource module shares: the `{"data": ...}` envelope and short request helpers.

use crate::client::{Client, Request, Retry};
use crate::error::Result;
use crate::pagination::{ListParams, Page, Pages, list_request};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub(crate) struct Data<T> {
    pub data: T,
}

impl Client {
    pub(crate) async fn get_data<T: DeserializeOwned>(&self, path: String) -> Result<T> {
        Ok(self.send::<Data<T>>(Request::get(path)).await?.data)
    }

    pub(crate) async fn body_data<T: DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        body: &impl Serialize,
        retry: Retry,
    ) -> Result<T> {
        Ok(self.send::<Data<T>>(Request::with_body(method, path, body, retry)).await?.data)
    }

    pub(crate) async fn delete_data<T: DeserializeOwned>(&self, path: String) -> Result<T> {
        Ok(self.send::<Data<T>>(Request::delete(path)).await?.data)
    }

    pub(crate) async fn page<T: DeserializeOwned>(&self, path: &str, params: &impl ListParams) -> Result<Page<T>> {
        self.send(list_request(path, params, None)).await
    }

    pub(crate) fn pages<T: DeserializeOwned + Send + 'static>(&self, path: &str, params: &impl ListParams) -> Pages<T> {
        Pages::new(self.clone(), path, params)
    }
}

pub(crate) use crate::query::segment as seg;
