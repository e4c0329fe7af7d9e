//! A composition's `video_layout`: named regions of the viewport, each a grid of video
//! sources (the session's video recordings), stacked by `z_pos`.
//!
//! The spec's `VideoRegion`: `x_pos`/`y_pos` (the region's upper left corner, default 0),
//! `width`/`height` (at least 16; by default to the viewport's right and bottom edges),
//! `z_pos` (-99..=99, higher on top), `max_columns`/`max_rows` (1..=1000, by default as many
//! as the sources need) and `video_sources` (recording ids, or `"*"` for every video
//! recording of the session). No regions at all is one region over the whole viewport
//! showing `"*"`.
//!
//! At any moment a region shows the sources it lists that are on (their participant is in
//! the session), in a grid of `columns` x `rows` equal cells filled left to right, top to
//! bottom: `columns` is the square root of the count rounded up, at most `max_columns`;
//! `rows` what they need, at most `max_rows` (then the columns grow again up to
//! `max_columns`). Sources beyond `columns * rows` are not shown. Whenever a source comes
//! or goes the grid is laid out again: [`scenes`] answers one picture per change.

use crate::body::Body;
use crate::error::{ApiError, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every video source of the session.
pub const ALL: &str = "*";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub name: String,
    pub x: i64,
    pub y: i64,
    pub z: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub max_columns: Option<i64>,
    pub max_rows: Option<i64>,
    /// Recording ids and/or [`ALL`], in the order given.
    pub sources: Vec<String>,
}

/// One video track of the session, in milliseconds from the session's start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The video recording's id.
    pub id: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

impl Source {
    fn on_at(&self, ms: u64) -> bool {
        self.start_ms <= ms && ms < self.end_ms
    }
}

/// Where one source is drawn, in viewport pixels (may reach outside it; drawing clips).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    /// Index of the source in the session's list.
    pub source: usize,
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
}

/// The picture from `start_ms` on: tiles in drawing order (lowest `z_pos` first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scene {
    pub start_ms: u64,
    pub tiles: Vec<Tile>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// In drawing order: by `z_pos`, then as given.
    pub regions: Vec<Region>,
}

/// A region name as a JSON pointer token (RFC 6901).
fn pointer_token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

impl Region {
    fn parse(name: &str, v: &Value, known: &[Source]) -> Result<Region> {
        let at = format!("/video_layout/{}", pointer_token(name));
        let Value::Object(m) = v else {
            return Err(ApiError::invalid(&at, format!("Region '{name}' of 'video_layout' must be an object.")));
        };
        let body = Body(m.clone());
        let at_least_16 = |field: &str| -> Result<Option<i64>> {
            match body.opt_int(field)? {
                Some(n) if n < 16 => Err(ApiError::invalid(field, format!("'{field}' is at least 16 pixels."))),
                other => Ok(other),
            }
        };
        let read = || -> Result<Region> {
            let sources = body.opt_str_array("video_sources")?.unwrap_or_default();
            for (i, s) in sources.iter().enumerate() {
                if s != ALL && !known.iter().any(|k| &k.id == s) {
                    return Err(ApiError::invalid(
                        &format!("video_sources/{i}"),
                        format!("'{s}' is not a video recording of the session (or \"*\")."),
                    ));
                }
            }
            Ok(Region {
                name: name.to_owned(),
                x: body.opt_int("x_pos")?.unwrap_or(0),
                y: body.opt_int("y_pos")?.unwrap_or(0),
                z: body.opt_int_in("z_pos", -99, 99)?.unwrap_or(0),
                width: at_least_16("width")?,
                height: at_least_16("height")?,
                max_columns: body.opt_int_in("max_columns", 1, 1000)?,
                max_rows: body.opt_int_in("max_rows", 1, 1000)?,
                sources,
            })
        };
        read().map_err(|e| e.within(&at))
    }

    /// The sources this region lists, in its order; `"*"` stands for every source it does
    /// not name, in session order.
    fn selected(&self, sources: &[Source]) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for s in &self.sources {
            let picked: Vec<usize> = if s == ALL {
                (0..sources.len()).filter(|i| !self.sources.contains(&sources[*i].id)).collect()
            } else {
                sources.iter().position(|k| &k.id == s).into_iter().collect()
            };
            for i in picked {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
        }
        out
    }

    /// The grid of `n` sources: (columns, rows).
    fn grid(&self, n: i64) -> (i64, i64) {
        let mut cols = (1..=n).find(|c| c * c >= n).unwrap_or(1);
        if let Some(mc) = self.max_columns {
            cols = cols.min(mc);
        }
        let mut rows = (n + cols - 1) / cols;
        if let Some(mr) = self.max_rows
            && rows > mr
        {
            rows = mr;
            cols = (n + rows - 1) / rows;
            if let Some(mc) = self.max_columns {
                cols = cols.min(mc);
            }
        }
        (cols, rows)
    }

    /// The tiles of the sources `on` (indices into the session's list) in a viewport of
    /// `width` x `height`.
    fn tiles(&self, on: &[usize], width: i64, height: i64) -> Vec<Tile> {
        let (rw, rh) = (self.width.unwrap_or(width - self.x), self.height.unwrap_or(height - self.y));
        if on.is_empty() || rw <= 0 || rh <= 0 {
            return Vec::new();
        }
        let (cols, rows) = self.grid(on.len() as i64);
        // Cell edges in i128: a region may be as large as an i64 says.
        let edge = |origin: i64, size: i64, i: i64, n: i64| -> i64 {
            (i128::from(origin) + i128::from(size) * i128::from(i) / i128::from(n)).clamp(-(1 << 40), 1 << 40) as i64
        };
        on.iter()
            .take((cols * rows) as usize)
            .enumerate()
            .map(|(k, &source)| {
                let (c, r) = (k as i64 % cols, k as i64 / cols);
                let (x0, x1) = (edge(self.x, rw, c, cols), edge(self.x, rw, c + 1, cols));
                let (y0, y1) = (edge(self.y, rh, r, rows), edge(self.y, rh, r + 1, rows));
                Tile { source, x: x0, y: y0, width: x1 - x0, height: y1 - y0 }
            })
            .collect()
    }
}

impl Layout {
    /// Reads `video_layout` (absent: the default) against the session's video `sources`.
    pub fn parse(v: Option<&Value>, sources: &[Source]) -> Result<Layout> {
        let regions = match v {
            None => Vec::new(),
            Some(Value::Object(m)) => {
                m.iter().map(|(name, r)| Region::parse(name, r, sources)).collect::<Result<Vec<_>>>()?
            }
            Some(_) => return Err(ApiError::invalid("video_layout", "'video_layout' is an object of regions.")),
        };
        let mut layout = Layout { regions };
        layout.regions.sort_by_key(|r| r.z);
        Ok(layout)
    }

    fn regions(&self) -> Vec<Region> {
        if self.regions.is_empty() {
            let whole = Region {
                name: String::new(),
                x: 0,
                y: 0,
                z: 0,
                width: None,
                height: None,
                max_columns: None,
                max_rows: None,
                sources: vec![ALL.to_owned()],
            };
            vec![whole]
        } else {
            self.regions.clone()
        }
    }

    /// The tiles at `ms` into the session.
    pub fn tiles_at(&self, sources: &[Source], ms: u64, width: u32, height: u32) -> Vec<Tile> {
        self.regions()
            .iter()
            .flat_map(|r| {
                let on: Vec<usize> = r.selected(sources).into_iter().filter(|&i| sources[i].on_at(ms)).collect();
                r.tiles(&on, i64::from(width), i64::from(height))
            })
            .collect()
    }
}

/// The pictures of a composition of `duration_ms`: one from the start, then one each time
/// a source comes or goes and the tiles change.
pub fn scenes(layout: &Layout, sources: &[Source], duration_ms: u64, width: u32, height: u32) -> Vec<Scene> {
    let mut times: Vec<u64> =
        sources.iter().flat_map(|s| [s.start_ms, s.end_ms]).filter(|t| *t < duration_ms).collect();
    times.push(0);
    times.sort_unstable();
    times.dedup();
    let mut out: Vec<Scene> = Vec::new();
    for t in times {
        let tiles = layout.tiles_at(sources, t, width, height);
        if out.last().is_none_or(|s| s.tiles != tiles) {
            out.push(Scene { start_ms: t, tiles });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;
    use serde_json::json;

    fn src(id: &str, start_ms: u64, end_ms: u64) -> Source {
        Source { id: id.into(), start_ms, end_ms }
    }

    fn rect(t: &Tile) -> (usize, i64, i64, i64, i64) {
        (t.source, t.x, t.y, t.width, t.height)
    }

    #[test]
    fn no_layout_is_a_grid_of_everyone_over_the_viewport() {
        let s = [src("a", 0, 10), src("b", 0, 10), src("c", 0, 10)];
        let l = Layout::parse(None, &s).unwrap();
        let tiles: Vec<_> = l.tiles_at(&s, 0, 640, 360).iter().map(rect).collect();
        // Three sources: two columns, two rows, filled left to right, top to bottom.
        assert_eq!(tiles, [(0, 0, 0, 320, 180), (1, 320, 0, 320, 180), (2, 0, 180, 320, 180)]);
    }

    #[test]
    fn regions_place_their_sources_stacked_by_z() {
        let s = [src("a", 0, 10), src("b", 0, 10), src("c", 0, 10)];
        let v = json!({
            "pip": {"x_pos": 500, "y_pos": 280, "width": 120, "height": 60, "z_pos": 2, "video_sources": ["a"]},
            "main": {"video_sources": ["*"], "max_columns": 1},
        });
        let l = Layout::parse(Some(&v), &s).unwrap();
        let tiles: Vec<_> = l.tiles_at(&s, 5, 640, 360).iter().map(rect).collect();
        // "main" (z 0) first, every source in one column of three rows; "pip" on top.
        assert_eq!(tiles, [(0, 0, 0, 640, 120), (1, 0, 120, 640, 120), (2, 0, 240, 640, 120), (0, 500, 280, 120, 60)]);
    }

    #[test]
    fn listed_sources_keep_their_order_and_max_rows_bounds_the_grid() {
        let s = [src("a", 0, 10), src("b", 0, 10), src("c", 0, 10), src("d", 0, 10), src("e", 0, 10)];
        let v = json!({"r": {"video_sources": ["c", "*", "a", "*"], "max_rows": 1, "max_columns": 3, "width": 300, "height": 100}});
        let l = Layout::parse(Some(&v), &s).unwrap();
        let tiles: Vec<_> = l.tiles_at(&s, 0, 640, 360).iter().map(rect).collect();
        // One row of at most three: "c" first, then those "*" adds (the ones not listed by
        // name, in session order), then "a"; only the first three find a cell.
        assert_eq!(tiles, [(2, 0, 0, 100, 100), (1, 100, 0, 100, 100), (3, 200, 0, 100, 100)]);
    }

    #[test]
    fn the_grid_reflows_as_sources_come_and_go() {
        let s = [src("a", 0, 4_000), src("b", 1_000, 6_000)];
        let l = Layout::parse(None, &s).unwrap();
        let sc = scenes(&l, &s, 6_000, 640, 360);
        let starts: Vec<u64> = sc.iter().map(|s| s.start_ms).collect();
        assert_eq!(starts, [0, 1_000, 4_000]);
        assert_eq!(sc[0].tiles.iter().map(rect).collect::<Vec<_>>(), [(0, 0, 0, 640, 360)]);
        assert_eq!(sc[1].tiles.iter().map(rect).collect::<Vec<_>>(), [(0, 0, 0, 320, 360), (1, 320, 0, 320, 360)]);
        assert_eq!(sc[2].tiles.iter().map(rect).collect::<Vec<_>>(), [(1, 0, 0, 640, 360)]);
    }

    #[test]
    fn bad_regions_point_at_the_field() {
        let s = [src("a", 0, 10)];
        let err = |v: Value| Layout::parse(Some(&v), &s).unwrap_err();
        let e = err(json!({"main": {"z_pos": 100}}));
        assert_eq!((e.code, e.pointer.as_deref()), (Code::OutOfRange, Some("/video_layout/main/z_pos")));
        assert_eq!(err(json!({"m": {"width": 15}})).pointer.as_deref(), Some("/video_layout/m/width"));
        assert_eq!(err(json!({"m": {"max_rows": 0}})).pointer.as_deref(), Some("/video_layout/m/max_rows"));
        assert_eq!(err(json!({"a/b": {"x_pos": "1"}})).pointer.as_deref(), Some("/video_layout/a~1b/x_pos"));
        let e = err(json!({"m": {"video_sources": ["*", "nope"]}}));
        assert_eq!(e.pointer.as_deref(), Some("/video_layout/m/video_sources/1"));
        assert_eq!(err(json!({"m": 3})).pointer.as_deref(), Some("/video_layout/m"));
        assert_eq!(err(json!([])).pointer.as_deref(), Some("/video_layout"));
    }
}
