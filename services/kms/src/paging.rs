//! KMS's Marker / Limit pagination over a sorted list.

use crate::errors::KmsError;

/// One page of `items` starting at `marker` (an opaque offset we issued).
pub fn page<T>(
    items: Vec<T>,
    marker: Option<&str>,
    limit: Option<usize>,
    default_limit: usize,
) -> Result<(Vec<T>, bool, Option<String>), KmsError> {
    let start = match marker {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= items.len())
            .ok_or_else(|| KmsError::InvalidMarker("Invalid marker".into()))?,
    };
    let max = limit.unwrap_or(default_limit).max(1);
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let end = start + page.len();
    let truncated = end < total;
    Ok((page, truncated, truncated.then(|| end.to_string())))
}
