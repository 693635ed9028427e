//! Dates that change a key without a request: a key pending deletion is deleted when its
//! DeletionDate passes (with its aliases and grants), imported material is deleted when its
//! ValidTo passes (the key goes back to PendingImport), and an enabled key with automatic
//! rotation rotates at its next rotation date. One task sleeps until the next
//! such date; requests that set a date wake it. Read paths also honour passed dates, so a
//! request in the instant before the task runs sees the same thing.

use crate::errors::KmsError;
use crate::import::drop_material;
use crate::model::{now, parse_doc};
use crate::rotation::{rotate_stored, DAY, DEFAULT_PERIOD_DAYS};
use cloudemu_storage::kms::KmsStore;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;

/// The longest sleep: the task re-reads the wall clock at least this often, so a clock that
/// jumps cannot hold a deletion back for long.
const MAX_SLEEP: f64 = 3600.0;
/// After a failed scan (the database busy or closing), try again after this long.
const RETRY: f64 = 60.0;

/// The sweeper's wake-up call: the earliest date a request has set since it last looked.
#[derive(Default)]
pub struct Sweep {
    next: Mutex<Option<f64>>,
    wake: Notify,
}

fn earliest(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

impl Sweep {
    /// A key now changes at `at` (epoch seconds).
    pub fn due(&self, at: f64) {
        {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            *next = earliest(*next, Some(at));
        }
        self.wake.notify_one();
    }

    fn take(&self) -> Option<f64> {
        self.next.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Run until the database closes.
pub async fn run(store: KmsStore, sweep: std::sync::Arc<Sweep>) {
    let mut planned = scan(&store).await;
    loop {
        if store.is_closed() {
            return;
        }
        let target = earliest(planned, sweep.take());
        match target {
            None => sweep.wake.notified().await,
            Some(t) => {
                let wait = (t - now()).clamp(0.0, MAX_SLEEP);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs_f64(wait)) => {}
                    _ = sweep.wake.notified() => {}
                }
            }
        }
        planned = match target {
            Some(t) if t <= now() => scan(&store).await,
            other => other,
        };
    }
}

/// Apply every passed date; the next date to come, if any.
async fn scan(store: &KmsStore) -> Option<f64> {
    match sweep_once(store, now()).await {
        Ok(next) => next,
        Err(e) => {
            if !store.is_closed() {
                tracing::warn!(error = %e, "KMS sweep failed");
            }
            Some(now() + RETRY)
        }
    }
}

/// Delete keys whose deletion date has passed by `t` and material whose ValidTo has; return
/// the earliest date still to come.
pub async fn sweep_once(store: &KmsStore, t: f64) -> Result<Option<f64>, KmsError> {
    let mut next = None;
    for (account, region, row) in store.all_keys().await? {
        let Ok(doc) = parse_doc(&row) else { continue };
        if doc.key_state == "PendingDeletion" {
            if let Some(d) = doc.deletion_date {
                if d <= t {
                    store.delete_key(&account, &region, &row.key_id).await?;
                    tracing::debug!(key = %row.key_id, "KMS key deleted at its deletion date");
                    continue;
                }
                next = earliest(next, Some(d));
            }
        }
        if doc.rotation_enabled && doc.key_state == "Enabled" {
            if let Some(r) = doc.next_rotation {
                if r <= t {
                    rotate_stored(store, &account, &region, &row.key_id, &doc, "AUTOMATIC").await?;
                    let period = doc.rotation_period_days.unwrap_or(DEFAULT_PERIOD_DAYS);
                    next = earliest(next, Some(t + period as f64 * DAY));
                } else {
                    next = earliest(next, Some(r));
                }
            }
        }
        if let Some(v) = doc.valid_to {
            if v <= t {
                drop_material(store, &account, &region, &row.key_id, Some(t)).await?;
            } else {
                next = earliest(next, Some(v));
            }
        }
    }
    Ok(next)
}
