//! The page assets, embedded in the binary: the stylesheet, a small script
//! that only enhances (the pages work without it) and the icon. Nothing is
//! fetched from anywhere else, so the dashboard works offline.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const STYLE: &str = include_str!("../../assets/style.css");
const SCRIPT: &str = include_str!("../../assets/app.js");
const ICON: &str = include_str!("../../assets/icon.svg");

/// FNV-1a over the bytes, at compile time: the assets' version tag.
const fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

const STYLE_TAG: u64 = fnv(STYLE.as_bytes());
const SCRIPT_TAG: u64 = fnv(SCRIPT.as_bytes());
const ICON_TAG: u64 = fnv(ICON.as_bytes());

/// The stylesheet's URL (versioned by its content, so caches never serve an old one).
pub(crate) static STYLE_HREF: LazyLock<String> =
    LazyLock::new(|| format!("/assets/style.css?v={STYLE_TAG:016x}"));
/// The script's URL.
pub(crate) static SCRIPT_HREF: LazyLock<String> =
    LazyLock::new(|| format!("/assets/app.js?v={SCRIPT_TAG:016x}"));
/// The icon's URL.
pub(crate) static ICON_HREF: LazyLock<String> =
    LazyLock::new(|| format!("/assets/icon.svg?v={ICON_TAG:016x}"));

fn serve(headers: &HeaderMap, body: &'static str, tag: u64, mime: &'static str) -> Response {
    let etag = format!("\"{tag:016x}\"");
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut r = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, mime)], body).into_response()
    };
    let h = r.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    r
}

/// `GET /assets/style.css`.
pub(crate) async fn style(headers: HeaderMap) -> Response {
    serve(&headers, STYLE, STYLE_TAG, "text/css; charset=utf-8")
}

/// `GET /assets/app.js`.
pub(crate) async fn script(headers: HeaderMap) -> Response {
    serve(
        &headers,
        SCRIPT,
        SCRIPT_TAG,
        "text/javascript; charset=utf-8",
    )
}

/// `GET /assets/icon.svg`.
pub(crate) async fn icon(headers: HeaderMap) -> Response {
    serve(&headers, ICON, ICON_TAG, "image/svg+xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_fetch_nothing_from_elsewhere() {
        for (name, text) in [("style", STYLE), ("script", SCRIPT), ("icon", ICON)] {
            let text = text.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
            assert!(!text.contains("http://"), "{name} refers to http://");
            assert!(!text.contains("https://"), "{name} refers to https://");
            assert!(!text.contains("@import"), "{name} imports");
        }
    }

    #[test]
    fn tags_follow_the_content() {
        assert_ne!(fnv(b"a"), fnv(b"b"));
        assert!(STYLE_HREF.ends_with(&format!("{STYLE_TAG:016x}")));
    }

    #[test]
    fn a_matching_etag_is_not_modified() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"{STYLE_TAG:016x}\"")).unwrap(),
        );
        assert_eq!(
            serve(&h, STYLE, STYLE_TAG, "text/css").status(),
            StatusCode::NOT_MODIFIED
        );
        let r = serve(&HeaderMap::new(), STYLE, STYLE_TAG, "text/css");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/css");
    }
}
