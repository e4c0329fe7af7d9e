//! Pages of a list, and a `Stream` over every item of every page.

use crate::client::{Client, Request};
use crate::error::Result;
use crate::query::Query;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Parameters of a list operation.
pub trait ListParams {
    /// Writes the filters (not the page) into the query.
    fn encode(&self, q: &mut Query);
    /// `(page[number], page[size])`.
    fn page(&self) -> (Option<u32>, Option<u32>);
}

/// The `meta` of a list answer.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, Deserialize)]
#[non_exhaustive]
pub struct PageMeta {
    #[serde(default)]
    pub page_number: Option<u32>,
    #[serde(default)]
    pub page_size: Option<u32>,
    #[serde(default)]
    pub total_pages: Option<u32>,
    #[serde(default)]
    pub total_results: Option<u64>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub meta: Option<PageMeta>,
}

impl<T> Page<T> {
    /// Whether a later page may hold more: not when this one is empty or is the last.
    pub fn has_next(&self) -> bool {
        if self.data.is_empty() {
            return false;
        }
        match &self.meta {
            Some(PageMeta { page_number: Some(n), total_pages: Some(t), .. }) => n < t,
            // Without the numbers, go on until an empty page.
            _ => true,
        }
    }
}

pub(crate) fn list_request(path: &str, params: &impl ListParams, page: Option<u32>) -> Request {
    let mut q = Query::new();
    let (number, size) = params.page();
    if let Some(n) = page.or(number) {
        q.push("page[number]", n.to_string());
    }
    if let Some(s) = size {
        q.push("page[size]", s.to_string());
    }
    params.encode(&mut q);
    Request::get(path.to_owned()).query(q)
}

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<Page<T>>> + Send>>;

/// Every item of a list, page after page, fetched as it is consumed. Owns a clone of the
/// client, so it can be moved into a spawned task. Stops after an empty page or the page
/// numbered `total_pages`, after [`Pages::take`]'s cap, or after an error (yielded once).
pub struct Pages<T> {
    client: Client,
    path: String,
    query: Query,
    size: Option<u32>,
    next_page: u32,
    buffer: VecDeque<T>,
    pending: Option<PageFuture<T>>,
    done: bool,
    left: Option<usize>,
}

impl<T> std::fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").field("path", &self.path).field("next_page", &self.next_page).finish()
    }
}

impl<T: DeserializeOwned + Send + 'static> Pages<T> {
    pub(crate) fn new(client: Client, path: &str, params: &impl ListParams) -> Pages<T> {
        let mut query = Query::new();
        params.encode(&mut query);
        let (number, size) = params.page();
        Pages {
            client,
            path: path.to_owned(),
            query,
            size,
            next_page: number.unwrap_or(1),
            buffer: VecDeque::new(),
            pending: None,
            done: false,
            left: None,
        }
    }

    /// Yields at most `n` items (and fetches no page beyond them).
    pub fn take(mut self, n: usize) -> Pages<T> {
        self.left = Some(n);
        self
    }

    /// The next item, `None` at the end.
    pub async fn next(&mut self) -> Option<Result<T>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    /// Every remaining item, or the first error.
    pub async fn collect_all(mut self) -> Result<Vec<T>> {
        let mut out = Vec::new();
        while let Some(item) = self.next().await {
            out.push(item?);
        }
        Ok(out)
    }

    fn fetch(&self) -> PageFuture<T> {
        let mut q = Query::new();
        q.push("page[number]", self.next_page.to_string());
        if let Some(s) = self.size {
            q.push("page[size]", s.to_string());
        }
        let mut full = q;
        for (k, v) in self.query_pairs() {
            full.push(&k, v);
        }
        let client = self.client.clone();
        let req = Request::get(self.path.clone()).query(full);
        Box::pin(async move { client.send::<Page<T>>(req).await })
    }

    fn query_pairs(&self) -> Vec<(String, String)> {
        self.query.pairs()
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        loop {
            if self.left == Some(0) {
                return Poll::Ready(None);
            }
            if let Some(item) = self.buffer.pop_front() {
                if let Some(l) = &mut self.left {
                    *l -= 1;
                }
                return Poll::Ready(Some(Ok(item)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            if self.pending.is_none() {
                self.pending = Some(self.fetch());
            }
            let fut = self.pending.as_mut().expect("set above");
            let page = match fut.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r,
            };
            self.pending = None;
            match page {
                Err(e) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Ok(page) => {
                    if !page.has_next() {
                        self.done = true;
                    }
                    self.next_page += 1;
                    self.buffer.extend(page.data);
                }
            }
        }
    }
}

impl<T: DeserializeOwned + Send + 'static> futures_core::Stream for Pages<T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        // Pages holds no self-reference: every field is Unpin.
        self.get_mut().poll_item(cx)
    }
}

// `Pages` never pins its items in place, so moving it is fine whatever `T` is.
impl<T> Unpin for Pages<T> {}
