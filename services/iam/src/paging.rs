//! IAM's Marker / MaxItems pagination over a sorted list.

use crate::IamError;

/// One page of `items` starting after `marker` (an opaque offset we issued).
pub fn page<T>(
    items: Vec<T>,
    marker: Option<&str>,
    max_items: Option<usize>,
) -> Result<(Vec<T>, bool, Option<String>), IamError> {
    let start = match marker {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= items.len())
            .ok_or_else(|| IamError::InvalidInput("Invalid Marker.".into()))?,
    };
    let max = max_items.unwrap_or(100);
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let end = start + page.len();
    let truncated = end < total;
    Ok((page, truncated, truncated.then(|| end.to_string())))
}
