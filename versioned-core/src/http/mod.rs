//! HTTP preconditions on an entity's version (cargo feature `http`), on the `http`
//! 1.x types that axum, hyper and reqwest share.
//!
//! An entity's [`etag`] is a strong entity tag made from its version. A client that
//! read it sends it back in `If-Match` with its write, and the server saves only if
//! the row still holds that version: [`IfMatch::from_headers`] parses the header per
//! RFC 9110 (`*`, lists, weak tags never match a write's precondition, malformed
//! input is an error), and tells an absent header apart from an empty one.
//! [`IfNoneMatch`] serves a conditional `GET` (`304 Not Modified`).
//!
//! Errors become a [`Problem`], an RFC 9457 `application/problem+json` body: `428`
//! without `If-Match`, `412` when it is stale ([`IfMatch::check`],
//! [`Problem::from_if_match_write`]), `409` for a conflict whose version came in the
//! request body, `404`, `400` for a malformed header; the version conflicts carry
//! `expected` and `actual`. With the `axum` feature, `IfMatch` and `Option<IfNoneMatch>`
//! are extractors and `Problem` is a response.
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use versioned_core::http::{IfMatch, etag_of_version};
//!
//! /// The status a write's precondition gives, for a row at version `current`.
//! fn precondition(headers: &HeaderMap, current: i64) -> Result<(), StatusCode> {
//!     match IfMatch::from_headers(headers) {
//!         Err(_) => Err(StatusCode::BAD_REQUEST),
//!         Ok(None) => Err(StatusCode::PRECONDITION_REQUIRED),
//!         Ok(Some(tags)) if !tags.matches(current) => Err(StatusCode::PRECONDITION_FAILED),
//!         Ok(Some(_)) => Ok(()),
//!     }
//! }
//!
//! let mut headers = HeaderMap::new();
//! assert_eq!(precondition(&headers, 3), Err(StatusCode::PRECONDITION_REQUIRED));
//! headers.insert("if-match", etag_of_version(3));
//! assert_eq!(precondition(&headers, 3), Ok(()));
//! assert_eq!(precondition(&headers, 4), Err(StatusCode::PRECONDITION_FAILED));
//! ```

use http::header::{ETAG, IF_MATCH, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue};

use crate::entity::{VersionNumber, Versioned};

#[cfg(feature = "axum")]
mod axum;
mod problem;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use axum::rejected;
pub use problem::{PROBLEM_JSON, Problem};

/// The strong entity tag of version `version`: `"<version>"`.
pub fn etag_of_version(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes are a valid header value")
}

/// The strong entity tag of the entity's version, for the `ETag` response header.
pub fn etag<T: Versioned>(entity: &T) -> HeaderValue {
    etag_of_version(entity.version_of().to_i64())
}

/// Sets the entity's `ETag` on response headers.
pub fn set_etag<T: Versioned>(headers: &mut HeaderMap, entity: &T) {
    headers.insert(ETAG, etag(entity));
}

/// An entity tag as a request sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    /// Whether it is weak (`W/"..."`).
    pub weak: bool,
    /// What stands between the quotes.
    pub opaque: String,
}

impl EntityTag {
    /// The version this tag names, when it is one of ours: strong, and an integer
    /// between the quotes.
    pub fn version(&self) -> Option<i64> {
        if self.weak { None } else { self.opaque.parse().ok() }
    }
}

/// A precondition header that does not follow RFC 9110's grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedPrecondition {
    /// The header's name.
    pub header: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for MalformedPrecondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed {} header: {}", self.header, self.reason)
    }
}

impl std::error::Error for MalformedPrecondition {}

/// What `If-Match` or `If-None-Match` holds: `*`, or a list of entity tags (which
/// may be empty: a header sent with no tags in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tags {
    /// `*`: any current representation.
    Any,
    /// The tags, in the order sent.
    List(Vec<EntityTag>),
}

/// The `If-Match` precondition of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfMatch(pub Tags);

impl IfMatch {
    /// The request's `If-Match`: `Ok(None)` when it sent none (answer `428
    /// Precondition Required` where one is required), an error when it is malformed
    /// (answer `400`). Several header lines are one list.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<IfMatch>, MalformedPrecondition> {
        Ok(parse(headers, IF_MATCH.as_str())?.map(IfMatch))
    }

    /// Whether a row at `version` meets the precondition: `*` always (the row exists),
    /// a list when one of its strong tags names `version` (weak tags never match,
    /// RFC 9110 section 13.1.1).
    pub fn matches(&self, version: i64) -> bool {
        match &self.0 {
            Tags::Any => true,
            Tags::List(tags) => tags.iter().any(|tag| tag.version() == Some(version)),
        }
    }

    /// The one version the client says it saw: `Some` when the header is a single
    /// strong tag of ours, to set as the entity's expected version before `save`.
    pub fn version(&self) -> Option<i64> {
        match &self.0 {
            Tags::List(tags) if tags.len() == 1 => tags[0].version(),
            _ => None,
        }
    }
}

/// The `If-None-Match` precondition of a conditional `GET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfNoneMatch(pub Tags);

impl IfNoneMatch {
    /// The request's `If-None-Match`: `Ok(None)` when it sent none.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<IfNoneMatch>, MalformedPrecondition> {
        Ok(parse(headers, IF_NONE_MATCH.as_str())?.map(IfNoneMatch))
    }

    /// Whether the client already holds the row at `version` (answer `304`): `*`, or a
    /// tag naming `version`, weak or strong (weak comparison, RFC 9110 section 13.1.2).
    pub fn holds(&self, version: i64) -> bool {
        match &self.0 {
            Tags::Any => true,
            Tags::List(tags) => tags.iter().any(|tag| tag.opaque.parse() == Ok(version)),
        }
    }
}

/// The header `name` of `headers`, parsed: `None` when absent.
fn parse(headers: &HeaderMap, name: &'static str) -> Result<Option<Tags>, MalformedPrecondition> {
    let mut values = headers.get_all(name).iter().peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    let malformed = |reason: String| MalformedPrecondition { header: name, reason };
    let mut tags = Vec::new();
    let mut any = false;
    for value in values {
        let mut rest = value.as_bytes();
        loop {
            rest = trim_start(rest);
            match rest {
                [] => break,
                [b',', tail @ ..] => rest = tail,
                [b'*', tail @ ..] => {
                    any = true;
                    rest = expect_separator(tail).map_err(&malformed)?;
                }
                _ => {
                    let (tag, tail) = entity_tag(rest).map_err(&malformed)?;
                    tags.push(tag);
                    rest = expect_separator(tail).map_err(&malformed)?;
                }
            }
        }
    }
    match (any, tags.is_empty()) {
        (true, true) => Ok(Some(Tags::Any)),
        (true, false) => Err(malformed("`*` with entity tags beside it".into())),
        (false, _) => Ok(Some(Tags::List(tags))),
    }
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', tail @ ..] = s {
        s = tail;
    }
    s
}

/// After an element: optional whitespace, then a comma or the end.
fn expect_separator(s: &[u8]) -> Result<&[u8], String> {
    match trim_start(s) {
        [] => Ok(&[]),
        [b',', tail @ ..] => Ok(tail),
        other => Err(format!("expected `,` before {:?}", String::from_utf8_lossy(other))),
    }
}

/// `[W/] DQUOTE *etagc DQUOTE` at the start of `s`, and what follows it.
fn entity_tag(s: &[u8]) -> Result<(EntityTag, &[u8]), String> {
    let (weak, s) = match s {
        [b'W', b'/', tail @ ..] => (true, tail),
        _ => (false, s),
    };
    let [b'"', s @ ..] = s else {
        return Err(format!("an entity tag must be quoted: {:?}", String::from_utf8_lossy(s)));
    };
    let end = s.iter().position(|&b| b == b'"').ok_or_else(|| "an entity tag is not closed".to_owned())?;
    let opaque = &s[..end];
    // etagc = %x21 / %x23-7E / obs-text
    if let Some(bad) = opaque.iter().find(|&&b| !(b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)) {
        return Err(format!("byte {bad:#04x} is not allowed in an entity tag"));
    }
    let opaque = String::from_utf8(opaque.to_vec()).map_err(|_| "an entity tag is not UTF-8".to_owned())?;
    Ok((EntityTag { weak, opaque }, &s[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(name, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    fn if_match(values: &[&str]) -> Result<Option<IfMatch>, MalformedPrecondition> {
        IfMatch::from_headers(&headers("if-match", values))
    }

    #[test]
    fn an_absent_header_is_told_apart_from_an_empty_one() {
        assert_eq!(if_match(&[]).unwrap(), None);
        assert_eq!(if_match(&[""]).unwrap(), Some(IfMatch(Tags::List(vec![]))));
        assert!(!if_match(&[""]).unwrap().unwrap().matches(0), "an empty list matches nothing");
    }

    #[test]
    fn a_strong_tag_matches_its_version_only() {
        let m = if_match(&["\"3\""]).unwrap().unwrap();
        assert!(m.matches(3));
        assert!(!m.matches(4));
        assert_eq!(m.version(), Some(3));
        assert_eq!(etag_of_version(3), "\"3\"");
    }

    #[test]
    fn weak_tags_never_match_a_write() {
        let m = if_match(&["W/\"3\""]).unwrap().unwrap();
        assert!(!m.matches(3));
        assert_eq!(m.version(), None);
    }

    #[test]
    fn lists_and_several_lines_are_one_list() {
        let m = if_match(&["\"1\", W/\"2\" ,, \"x\"", "\"5\""]).unwrap().unwrap();
        assert!(m.matches(1) && m.matches(5));
        assert!(!m.matches(2), "weak");
        assert_eq!(m.version(), None, "not a single tag");
    }

    #[test]
    fn a_star_matches_any_version() {
        let m = if_match(&[" * "]).unwrap().unwrap();
        assert_eq!(m, IfMatch(Tags::Any));
        assert!(m.matches(i64::MIN));
    }

    #[test]
    fn malformed_headers_are_errors() {
        for bad in ["3", "\"3", "\"3\" \"4\"", "*, \"3\"", "W/3", "\"a b\"", "\"3\";x"] {
            let err = if_match(&[bad]).unwrap_err();
            assert_eq!(err.header, "if-match", "{bad}");
            assert!(err.to_string().starts_with("malformed if-match header: "), "{err}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let none = IfNoneMatch::from_headers(&headers("if-none-match", &["W/\"7\""])).unwrap().unwrap();
        assert!(none.holds(7));
        assert!(!none.holds(8));
        assert_eq!(IfNoneMatch::from_headers(&HeaderMap::new()).unwrap(), None);
    }
}
