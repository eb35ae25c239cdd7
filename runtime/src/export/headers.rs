//! The resolved headers of a route as an HTTP header map: what the HTTP client sends and
//! what becomes the gRPC metadata.

use crate::config::OtlpRoute;
use crate::error::InitError;

/// The headers of `route` as a header map. Names and values were validated when the
/// configuration was resolved; a failure here still names the header, never its value.
pub(crate) fn header_map(route: &OtlpRoute) -> Result<http::HeaderMap, InitError> {
    let mut map = http::HeaderMap::new();
    for (k, v) in &route.headers {
        let key = || format!("{} headers", route.signal);
        let name =
            http::HeaderName::from_bytes(k.as_bytes()).map_err(|_| InitError::InvalidValue {
                key: key(),
                value: k.clone(),
                expected: "an HTTP header name",
            })?;
        let value = http::HeaderValue::from_str(v).map_err(|_| InitError::InvalidValue {
            key: key(),
            value: format!("{k}=***"),
            expected: "a header value without control characters",
        })?;
        map.insert(name, value);
    }
    Ok(map)
}
