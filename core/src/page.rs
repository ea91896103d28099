//! Cursor pagination: `?limit=&cursor=` in, `{"data": [...], "next_cursor": ...}` out.
//!
//! A cursor is the sort key of the last row returned, `(timestamp ms, id)`, base64url-encoded
//! so clients treat it as opaque. Keyset pagination stays stable while rows are added.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A list in its natural order, not paginated (e.g. a pipeline's stages): `{"data": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct List<T> {
    pub data: Vec<T>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub ts: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.ts, self.id))
    }

    pub fn decode(text: &str) -> Result<Cursor, DomainError> {
        let bad = || {
            DomainError::invalid(
                "cursor",
                "invalid_cursor",
                "cursor is not one this API returned; pass next_cursor from a previous page",
            )
        };
        if text.len() > 200 {
            return Err(bad());
        }
        let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (ts, id) = raw.split_once(':').ok_or_else(bad)?;
        let ts = ts.parse::<i64>().map_err(|_| bad())?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(bad());
        }
        Ok(Cursor {
            ts,
            id: id.to_string(),
        })
    }
}

/// Checks `?limit=`: 1..=200, default 50.
pub fn limit(requested: Option<u32>) -> Result<u32, DomainError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(DomainError::invalid(
            "limit",
            "out_of_range",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// Checks `?limit=&cursor=` of a list: the page size ([`limit`]) and the key to start after.
pub fn parse(
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<(u32, Option<Cursor>), DomainError> {
    let limit = self::limit(limit)?;
    let cursor = cursor.map(Cursor::decode).transpose()?;
    Ok((limit, cursor))
}

/// Builds a page from `limit + 1` fetched rows: the extra row only says another page exists.
pub fn paginate<T>(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> Cursor) -> Page<T> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| key(r).encode())
    } else {
        None
    };
    Page {
        data: rows,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_rejects_junk() {
        let c = Cursor {
            ts: 1_765_000_000_123,
            id: "0195f3a4-1111-7000-8000-000000000000".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for junk in ["", "!!!", "bm9jb2xvbg", &"A".repeat(300), "MTIzOg", "eDox"] {
            assert!(Cursor::decode(junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn limit_bounds() {
        assert_eq!(limit(None).unwrap(), 50);
        assert_eq!(limit(Some(200)).unwrap(), 200);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(201)).is_err());
    }

    #[test]
    fn paginate_uses_the_extra_row() {
        let key = |n: &i64| Cursor {
            ts: *n,
            id: n.to_string(),
        };
        let p = paginate(vec![5, 4, 3], 2, key);
        assert_eq!(p.data, vec![5, 4]);
        assert_eq!(
            Cursor::decode(p.next_cursor.as_deref().unwrap())
                .unwrap()
                .ts,
            4
        );
        let p = paginate(vec![5, 4], 2, key);
        assert_eq!(p.next_cursor, None);
    }
}
