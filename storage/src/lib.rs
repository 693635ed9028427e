//! CloudEmu's storage: one SQLite database (sqlx, WAL, migrations from `migrations/`) and a
//! filesystem object store for large bodies. The only code that touches SQL or the data dir.
//!
//! Each service gets a small store (`IamStore`, `StsStore`, …) over the shared database. "Not
//! found" is an `Option`; the service decides which AWS error that is.

mod body_md5;
mod body_writer;
mod db;
pub mod dynamodb;
pub mod group_commit;
pub mod iam;
pub mod kms;
pub mod lambda;
pub mod lambda_esm;
pub mod objects;
pub mod s3;
pub mod sqs;
pub mod sts;
pub mod sync_db;

pub use db::Db;
pub use objects::ObjectStore;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// Where state lives.
#[derive(Debug, Clone)]
pub enum StorageMode {
    /// Durable: `cloudemu.db` and `objects/` under this directory.
    Disk(PathBuf),
    /// Nothing on disk; state ends with the process.
    Memory,
}

/// The database and object store, shared by every service.
#[derive(Clone)]
pub struct Storage {
    pub db: Db,
    pub objects: ObjectStore,
    mode: StorageMode,
    /// Shared by every S3 store (see [`s3::BucketCache`]).
    s3_buckets: s3::BucketCache,
}

impl Storage {
    /// Open (creating if needed) the data dir, apply migrations, and clean up what a crash left.
    pub async fn open(mode: StorageMode) -> Result<Self> {
        let (db, objects) = match &mode {
            StorageMode::Disk(dir) => {
                std::fs::create_dir_all(dir)?;
                let db = Db::open_file(&dir.join("cloudemu.db")).await?;
                let objects = ObjectStore::open_dir(dir.join("objects"))?;
                objects.sweep_at_start(&db).await;
                (db, objects)
            }
            StorageMode::Memory => (Db::open_memory().await?, ObjectStore::memory()),
        };
        Ok(Self {
            db,
            objects,
            mode,
            s3_buckets: s3::BucketCache::default(),
        })
    }

    pub fn mode(&self) -> &StorageMode {
        &self.mode
    }

    /// Delete all state (rows of every table and every object), keeping the schema.
    pub async fn reset(&self) -> Result<()> {
        self.db.clear_all_tables().await?;
        self.objects.clear()?;
        Ok(())
    }

    /// Checkpoint the WAL and close connections (called on shutdown).
    pub async fn close(&self) {
        self.db.close().await;
    }

    pub fn iam(&self) -> iam::IamStore {
        iam::IamStore::new(self.db.clone())
    }

    pub fn kms(&self) -> kms::KmsStore {
        kms::KmsStore::new(self.db.clone(), &self.mode)
    }

    pub fn dynamodb(&self) -> dynamodb::DynamoDbStore {
        dynamodb::DynamoDbStore::new(self.db.clone())
    }

    /// The SQS store (its message writes run on the shared `sync_db` writer).
    pub fn sqs(&self) -> sqs::SqsStore {
        sqs::SqsStore::new(self.db.clone())
    }

    pub fn lambda(&self) -> lambda::LambdaStore {
        lambda::LambdaStore::new(self.db.clone(), self.objects.clone())
    }

    pub fn sts(&self) -> sts::StsStore {
        sts::StsStore::new(self.db.clone())
    }

    pub fn s3(&self) -> s3::S3Store {
        s3::S3Store::new(self.db.clone(), self.s3_buckets.clone())
    }
}
