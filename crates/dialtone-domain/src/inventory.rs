//! The simulated carrier's number inventory: a fixed, deterministic set of numbers, the same
//! on every server, from which `GET /available_phone_numbers` offers and `POST /number_orders`
//! buys. Nothing is stored: a number is in the inventory when one of the [`BLOCKS`] generates
//! it, and available when no account owns it (the store's unique key says that).
//!
//! The rule: each block is a country, a national destination code (area code), a few
//! exchanges and a count of line digits, so `+1 312 200 xxxx` is ten thousand Chicago local
//! numbers. Searches walk every block's lines in a fixed scrambled order (line
//! `(1234 + k * 7919) mod 10^digits`), so results look varied but are always the same.

use crate::error::{ApiError, Result};
use crate::numbers::{Features, TYPE_LOCAL, TYPE_MOBILE, TYPE_TOLL_FREE};
use crate::query::Query;
use serde_json::{Value, json};

/// Features of a block's numbers.
const LOCAL: Features = Features { sms: true, mms: true, voice: true, fax: true, emergency: true };
const VOICE_ONLY: Features = Features { sms: false, mms: false, voice: true, fax: true, emergency: true };
const TOLL_FREE: Features = Features { sms: true, mms: true, voice: true, fax: false, emergency: false };
const MOBILE: Features = Features { sms: true, mms: false, voice: true, fax: false, emergency: false };

#[derive(Clone, Copy, Debug)]
pub struct Block {
    pub country: &'static str,
    /// The country calling code, without `+`.
    pub dial: &'static str,
    pub ndc: &'static str,
    /// The digits between the NDC and the line number.
    pub exchanges: &'static [&'static str],
    pub line_digits: u32,
    pub number_type: &'static str,
    pub locality: Option<&'static str>,
    pub administrative_area: Option<&'static str>,
    pub rate_center: Option<&'static str>,
    pub features: Features,
}

const fn local(
    country: &'static str,
    ndc: &'static str,
    exchanges: &'static [&'static str],
    locality: &'static str,
    area: &'static str,
    rate_center: &'static str,
    features: Features,
) -> Block {
    Block {
        country,
        dial: "1",
        ndc,
        exchanges,
        line_digits: 4,
        number_type: TYPE_LOCAL,
        locality: Some(locality),
        administrative_area: Some(area),
        rate_center: Some(rate_center),
        features,
    }
}

const fn toll_free(ndc: &'static str) -> Block {
    Block {
        country: "US",
        dial: "1",
        ndc,
        exchanges: &["555"],
        line_digits: 4,
        number_type: TYPE_TOLL_FREE,
        locality: None,
        administrative_area: None,
        rate_center: None,
        features: TOLL_FREE,
    }
}

/// The whole inventory, in search order.
pub const BLOCKS: &[Block] = &[
    local("US", "212", &["201", "202"], "New York", "NY", "NWYRCYZN01", LOCAL),
    local("US", "312", &["200", "201"], "Chicago", "IL", "CHCGOZN1", LOCAL),
    local("US", "415", &["200", "201"], "San Francisco", "CA", "SNFC CNTRL", LOCAL),
    local("US", "213", &["200"], "Los Angeles", "CA", "LSAN DA 01", LOCAL),
    local("US", "617", &["200"], "Boston", "MA", "BOSTON", LOCAL),
    local("US", "206", &["200"], "Seattle", "WA", "SEATTLE", LOCAL),
    local("US", "305", &["200"], "Miami", "FL", "MIAMI", LOCAL),
    local("US", "512", &["200"], "Austin", "TX", "AUSTIN", LOCAL),
    local("US", "713", &["200"], "Houston", "TX", "HOUSTON", LOCAL),
    local("US", "303", &["200"], "Denver", "CO", "DENVER", LOCAL),
    local("US", "970", &["555"], "Fort Collins", "CO", "FTCOLLINS", VOICE_ONLY),
    local("US", "404", &["200"], "Atlanta", "GA", "ATLANTA", LOCAL),
    local("US", "602", &["200"], "Phoenix", "AZ", "PHOENIX", LOCAL),
    local("US", "702", &["200"], "Las Vegas", "NV", "LAS VEGAS", LOCAL),
    local("US", "503", &["200"], "Portland", "OR", "PORTLAND", LOCAL),
    local("CA", "416", &["200"], "Toronto", "ON", "TORONTO", LOCAL),
    local("CA", "604", &["200"], "Vancouver", "BC", "VANCOUVER", LOCAL),
    local("CA", "514", &["200"], "Montreal", "QC", "MONTREAL", LOCAL),
    local("CA", "613", &["200"], "Ottawa", "ON", "OTTAWAHULL", VOICE_ONLY),
    toll_free("800"),
    toll_free("833"),
    toll_free("844"),
    toll_free("855"),
    toll_free("866"),
    toll_free("877"),
    toll_free("888"),
    Block {
        country: "GB",
        dial: "44",
        ndc: "7700",
        exchanges: &["900"],
        line_digits: 3,
        number_type: TYPE_MOBILE,
        locality: None,
        administrative_area: None,
        rate_center: None,
        features: MOBILE,
    },
    Block {
        country: "DE",
        dial: "49",
        ndc: "151",
        exchanges: &["2345"],
        line_digits: 4,
        number_type: TYPE_MOBILE,
        locality: None,
        administrative_area: None,
        rate_center: None,
        features: MOBILE,
    },
];

/// One number of the inventory.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub phone_number: String,
    pub country: &'static str,
    pub ndc: &'static str,
    pub number_type: &'static str,
    pub locality: Option<&'static str>,
    pub administrative_area: Option<&'static str>,
    pub rate_center: Option<&'static str>,
    pub features: Features,
    /// Offered by a best-effort search without matching every filter.
    pub best_effort: bool,
}

impl Block {
    fn lines(&self) -> u32 {
        10u32.pow(self.line_digits)
    }

    fn candidate(&self, exchange: &str, line: u32) -> Candidate {
        let width = self.line_digits as usize;
        Candidate {
            phone_number: format!("+{}{}{exchange}{line:0width$}", self.dial, self.ndc),
            country: self.country,
            ndc: self.ndc,
            number_type: self.number_type,
            locality: self.locality,
            administrative_area: self.administrative_area,
            rate_center: self.rate_center,
            features: self.features,
            best_effort: false,
        }
    }

    /// Every number of the block, in the fixed scrambled order.
    fn numbers(&'static self) -> impl Iterator<Item = Candidate> {
        let n = self.lines();
        self.exchanges
            .iter()
            .flat_map(move |ex| (0..n).map(move |k| self.candidate(ex, ((1234 + k as u64 * 7919) % n as u64) as u32)))
    }
}

/// The inventory's entry for an E.164 number, if it has one.
pub fn lookup(e164: &str) -> Option<Candidate> {
    let digits = e164.strip_prefix('+')?;
    for b in BLOCKS {
        for ex in b.exchanges {
            let prefix = format!("{}{}{ex}", b.dial, b.ndc);
            if let Some(line) = digits.strip_prefix(&prefix)
                && line.len() == b.line_digits as usize
                && line.chars().all(|c| c.is_ascii_digit())
            {
                return Some(b.candidate(ex, line.parse().ok()?));
            }
        }
    }
    None
}

impl Candidate {
    /// The number without `+` and the country calling code.
    fn national(&self) -> &str {
        let digits = &self.phone_number[1..];
        BLOCKS
            .iter()
            .find(|b| b.country == self.country && digits.starts_with(b.dial))
            .map(|b| &digits[b.dial.len()..])
            .unwrap_or(digits)
    }

    /// The spec's `AvailablePhoneNumber`. Dialtone bills nothing, so every cost is zero.
    pub fn to_json(&self) -> Value {
        let mut regions = vec![json!({"region_type": "country_code", "region_name": self.country})];
        if let Some(rc) = self.rate_center {
            regions.push(json!({"region_type": "rate_center", "region_name": rc}));
        }
        if let Some(st) = self.administrative_area {
            regions.push(json!({"region_type": "state", "region_name": st}));
        }
        if let Some(l) = self.locality {
            regions.push(json!({"region_type": "location", "region_name": l}));
        }
        json!({
            "record_type": "available_phone_number",
            "phone_number": self.phone_number,
            "vanity_format": "",
            "best_effort": self.best_effort,
            "quickship": true,
            "reservable": false,
            "region_information": regions,
            "cost_information": {"currency": "USD", "monthly_cost": "0.00", "upfront_cost": "0.00"},
            "features": self.features.names().iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
        })
    }
}

pub const FEATURES: &[&str] =
    &["sms", "mms", "voice", "fax", "emergency", "hd_voice", "international_sms", "local_calling"];
pub const SEARCH_TYPES: &[&str] = &["local", "toll_free", "mobile", "national", "shared_cost"];
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// `GET /available_phone_numbers` filters.
#[derive(Clone, Debug, Default)]
pub struct Search {
    country: Option<String>,
    ndc: Option<String>,
    locality: Option<String>,
    administrative_area: Option<String>,
    rate_center: Option<String>,
    number_type: Option<String>,
    features: Vec<String>,
    starts_with: Option<String>,
    ends_with: Option<String>,
    contains: Option<String>,
    reservable: bool,
    pub best_effort: bool,
    pub limit: usize,
}

/// A pattern as digits: letters become their keypad digits (vanity numbers).
fn pattern(q: &Query, name: &str) -> Result<Option<String>> {
    let Some(p) = q.str(name) else {
        return Ok(None);
    };
    let mut out = String::new();
    for c in p.trim_start_matches('+').chars() {
        let d = match c.to_ascii_lowercase() {
            d @ '0'..='9' => d,
            'a'..='c' => '2',
            'd'..='f' => '3',
            'g'..='i' => '4',
            'j'..='l' => '5',
            'm'..='o' => '6',
            'p'..='s' => '7',
            't'..='v' => '8',
            'w'..='z' => '9',
            '-' | ' ' | '(' | ')' | '.' => continue,
            _ => return Err(ApiError::invalid_param(name, format!("'{name}' may hold digits and letters only."))),
        };
        out.push(d);
    }
    Ok(Some(out).filter(|s| !s.is_empty()))
}

impl Search {
    pub fn parse(q: &Query) -> Result<Search> {
        let features = match q.list("filter[features]").or_else(|| q.list("filter[features][]")) {
            None => Vec::new(),
            Some(list) => {
                for f in &list {
                    if !FEATURES.contains(f) {
                        return Err(ApiError::invalid_param(
                            "filter[features]",
                            format!("'{f}' is not a feature; use {}.", FEATURES.join(", ")),
                        ));
                    }
                }
                list.into_iter().map(str::to_owned).collect()
            }
        };
        Ok(Search {
            country: q.str("filter[country_code]").map(str::to_ascii_uppercase),
            ndc: q.str("filter[national_destination_code]").map(str::to_owned),
            locality: q.str("filter[locality]").map(str::to_lowercase),
            administrative_area: q.str("filter[administrative_area]").map(str::to_ascii_uppercase),
            rate_center: q.str("filter[rate_center]").map(str::to_ascii_uppercase),
            number_type: q.one_of("filter[phone_number_type]", SEARCH_TYPES)?.map(str::to_owned),
            features,
            starts_with: pattern(q, "filter[phone_number][starts_with]")?,
            ends_with: pattern(q, "filter[phone_number][ends_with]")?,
            contains: pattern(q, "filter[phone_number][contains]")?,
            reservable: q.bool("filter[reservable]")?.unwrap_or(false),
            best_effort: q.bool("filter[best_effort]")?.unwrap_or(false),
            // Accepted; every number is quickship and none is held.
            limit: {
                q.bool("filter[quickship]")?;
                q.bool("filter[exclude_held_numbers]")?;
                q.int("filter[limit]", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT) as usize
            },
        })
    }

    /// The block-level filters a best-effort search keeps (country, type, features).
    fn block_ok(&self, b: &Block) -> bool {
        self.country.as_deref().is_none_or(|c| b.country == c)
            && self.number_type.as_deref().is_none_or(|t| b.number_type == t)
            && self.features.iter().all(|f| b.features.has(f))
            // No number can be reserved: Dialtone has no reservations.
            && !self.reservable
    }

    /// The filters a best-effort search relaxes (place and pattern).
    fn exact_block(&self, b: &Block) -> bool {
        self.ndc.as_deref().is_none_or(|n| b.ndc == n)
            && self.locality.as_deref().is_none_or(|l| b.locality.is_some_and(|x| x.to_lowercase() == l))
            && self.administrative_area.as_deref().is_none_or(|a| b.administrative_area == Some(a))
            && self.rate_center.as_deref().is_none_or(|r| b.rate_center == Some(r))
    }

    fn pattern_ok(&self, c: &Candidate) -> bool {
        // With an NDC filter the patterns apply to the digits after it (as Telnyx documents).
        let national = c.national();
        let subject = match &self.ndc {
            Some(n) => national.strip_prefix(n.as_str()).unwrap_or(national),
            None => national,
        };
        let full = &c.phone_number[1..];
        let starts = |p: &String| subject.starts_with(p.as_str()) || full.starts_with(p.as_str());
        self.starts_with.as_ref().is_none_or(starts)
            && self.ends_with.as_ref().is_none_or(|p| subject.ends_with(p.as_str()))
            && self.contains.as_ref().is_none_or(|p| subject.contains(p.as_str()))
    }

    /// Numbers matching every filter, in inventory order (owned ones included: the caller
    /// skips those).
    pub fn exact(&self) -> impl Iterator<Item = Candidate> + '_ {
        BLOCKS
            .iter()
            .filter(|b| self.block_ok(b) && self.exact_block(b))
            .flat_map(Block::numbers)
            .filter(|c| self.pattern_ok(c))
    }

    /// With `filter[best_effort]=true` in the US and Canada: numbers of the same country, type
    /// and features that miss the place or pattern filters, marked `best_effort`.
    pub fn best_effort(&self) -> impl Iterator<Item = Candidate> + '_ {
        let on = self.best_effort && self.country.as_deref().is_none_or(|c| c == "US" || c == "CA");
        BLOCKS
            .iter()
            .filter(move |b| on && (b.country == "US" || b.country == "CA") && self.block_ok(b))
            .flat_map(Block::numbers)
            .filter(|c| {
                let b = BLOCKS.iter().find(|b| b.ndc == c.ndc && b.country == c.country);
                !(b.is_some_and(|b| self.exact_block(b)) && self.pattern_ok(c))
            })
            .map(|mut c| {
                c.best_effort = true;
                c
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(q: &str) -> Search {
        Search::parse(&Query::parse(Some(q))).unwrap()
    }

    #[test]
    fn the_inventory_is_deterministic_and_every_number_looks_itself_up() {
        let a: Vec<_> = search("filter[country_code]=US").exact().take(5).collect();
        let b: Vec<_> = search("filter[country_code]=US").exact().take(5).collect();
        assert_eq!(a, b);
        assert_eq!(a[0].phone_number, "+12122011234");
        for c in search("").exact().step_by(997) {
            assert_eq!(lookup(&c.phone_number).as_ref(), Some(&c), "{}", c.phone_number);
            assert!(crate::numbers::is_e164(&c.phone_number));
        }
        assert!(lookup("+12125550000").is_none());
        assert!(lookup("+1212201123").is_none());
    }

    #[test]
    fn filters_narrow_the_search() {
        let all = |q: &str| search(q).exact().take(50).collect::<Vec<_>>();
        assert!(all("filter[national_destination_code]=312").iter().all(|c| c.phone_number.starts_with("+1312")));
        assert!(all("filter[locality]=chicago").iter().all(|c| c.locality == Some("Chicago")));
        assert!(all("filter[administrative_area]=co").iter().all(|c| c.administrative_area == Some("CO")));
        let tf = all("filter[phone_number_type]=toll_free");
        assert!(!tf.is_empty() && tf.iter().all(|c| c.number_type == "toll_free" && c.country == "US"));
        let gb = all("filter[country_code]=GB");
        assert!(
            !gb.is_empty() && gb.iter().all(|c| c.phone_number.starts_with("+447700900") && c.number_type == "mobile")
        );
        assert!(all("filter[features]=sms,mms").iter().all(|c| c.features.sms && c.features.mms));
        assert!(all("filter[locality]=Fort%20Collins&filter[features]=sms").is_empty());
        assert!(all("filter[phone_number_type]=national").is_empty());
        let ends = all("filter[phone_number][ends_with]=42&filter[national_destination_code]=415");
        assert!(!ends.is_empty() && ends.iter().all(|c| c.phone_number.ends_with("42")));
        let starts = all("filter[national_destination_code]=312&filter[phone_number][starts_with]=201");
        assert!(!starts.is_empty() && starts.iter().all(|c| c.phone_number.starts_with("+1312201")));
        // Vanity letters are keypad digits: "CAT" is 228.
        assert!(all("filter[phone_number][contains]=CAT").iter().all(|c| c.phone_number[2..].contains("228")));
        assert!(all("filter[reservable]=true").is_empty());
    }

    #[test]
    fn best_effort_relaxes_place_and_pattern_only() {
        let s = search("filter[country_code]=US&filter[locality]=Nowhere&filter[best_effort]=true");
        assert_eq!(s.exact().count(), 0);
        let be: Vec<_> = s.best_effort().take(3).collect();
        assert_eq!(be.len(), 3);
        assert!(be.iter().all(|c| c.best_effort && c.country == "US"));
        assert_eq!(search("filter[country_code]=GB&filter[best_effort]=true").best_effort().count(), 0);
    }

    #[test]
    fn bad_filters_name_the_parameter() {
        let e = Search::parse(&Query::parse(Some("filter[features]=sms,teleport"))).unwrap_err();
        assert_eq!(e.parameter.as_deref(), Some("filter[features]"));
        assert!(Search::parse(&Query::parse(Some("filter[phone_number_type]=pager"))).is_err());
        assert!(Search::parse(&Query::parse(Some("filter[limit]=0"))).is_err());
        assert!(Search::parse(&Query::parse(Some("filter[phone_number][contains]=12%2A"))).is_err());
    }
}
