//! Bucket records kept in memory: every object request reads its bucket (versioning state,
//! Object Lock, owner) and buckets change rarely, so a read costs a lock instead of a trip to
//! a database thread. Every store over one database shares one cache ([`crate::Storage`]
//! hands it out), the store drops an entry after each change to its bucket row commits, and a
//! reset of the database (its generation) empties it.

use super::BucketRecord;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Entries kept at most; past that the cache starts over (a bound, not a policy).
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone, Default)]
pub struct BucketCache {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// The database generation the entries belong to.
    generation: u64,
    /// Bumped by every invalidation: a record read before one is not cached after it.
    epoch: u64,
    map: HashMap<String, BucketRecord>,
}

/// Where a lookup left off: hand it back with what the database said.
pub(super) struct Miss {
    generation: u64,
    epoch: u64,
}

impl BucketCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached record, or what [`Self::fill`] needs after the database read.
    pub(super) fn get(&self, name: &str, generation: u64) -> Result<BucketRecord, Miss> {
        let mut inner = self.lock();
        if inner.generation != generation {
            inner.map.clear();
            inner.generation = generation;
            inner.epoch += 1;
        }
        match inner.map.get(name) {
            Some(b) => Ok(b.clone()),
            None => Err(Miss {
                generation,
                epoch: inner.epoch,
            }),
        }
    }

    /// Remember a record read from the database, unless something changed since the miss.
    pub(super) fn fill(&self, miss: Miss, record: &BucketRecord) {
        let mut inner = self.lock();
        if inner.epoch != miss.epoch || inner.generation != miss.generation {
            return;
        }
        if inner.map.len() >= MAX_ENTRIES {
            inner.map.clear();
        }
        inner.map.insert(record.name.clone(), record.clone());
    }

    /// Forget a bucket whose row just changed (or went).
    pub(super) fn invalidate(&self, name: &str) {
        let mut inner = self.lock();
        inner.map.remove(name);
        inner.epoch += 1;
    }
}
