//! Pagination as every list of the four products does it: `page[number]` from 1,
//! `page[size]` default 20 and at most 250, and a `meta` that always carries
//! `page_number`, `page_size`, `total_pages` and `total_results` (the Go SDK loops forever
//! without `page_number`).

use crate::error::Result;
use crate::query::Query;
use serde::Serialize;

pub const DEFAULT_SIZE: i64 = 20;
pub const MAX_SIZE: i64 = 250;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub number: i64,
    pub size: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page { number: 1, size: DEFAULT_SIZE }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Meta {
    pub page_number: i64,
    pub page_size: i64,
    pub total_pages: i64,
    pub total_results: i64,
}

impl Page {
    pub fn from_query(q: &Query) -> Result<Page> {
        Ok(Page {
            number: q.int("page[number]", 1, i64::from(u32::MAX))?.unwrap_or(1),
            size: q.int("page[size]", 1, MAX_SIZE)?.unwrap_or(DEFAULT_SIZE),
        })
    }

    pub fn offset(&self) -> i64 {
        (self.number - 1).saturating_mul(self.size)
    }

    pub fn meta(&self, total_results: i64) -> Meta {
        Meta {
            page_number: self.number,
            page_size: self.size,
            total_pages: (total_results + self.size - 1) / self.size,
            total_results,
        }
    }

    /// Cuts one page out of a full, already sorted result set.
    pub fn slice<T>(&self, items: Vec<T>) -> (Vec<T>, Meta) {
        let total = items.len() as i64;
        let meta = self.meta(total);
        let start = self.offset().min(total) as usize;
        let page = items.into_iter().skip(start).take(self.size as usize).collect();
        (page, meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_limits() {
        assert_eq!(Page::from_query(&Query::parse(None)).unwrap(), Page::default());
        assert!(Page::from_query(&Query::parse(Some("page[size]=251"))).is_err());
        assert!(Page::from_query(&Query::parse(Some("page[number]=0"))).is_err());
    }

    #[test]
    fn slices_and_counts_pages() {
        let p = Page { number: 2, size: 2 };
        let (items, meta) = p.slice(vec![1, 2, 3, 4, 5]);
        assert_eq!(items, vec![3, 4]);
        assert_eq!(meta, Meta { page_number: 2, page_size: 2, total_pages: 3, total_results: 5 });
        let (items, meta) = Page { number: 9, size: 2 }.slice(vec![1]);
        assert!(items.is_empty());
        assert_eq!(meta.total_pages, 1);
        assert_eq!(Page::default().meta(0).total_pages, 0);
    }
}
