//! KMS keys, their key material, aliases and grants. Scoped by (account, region).
//!
//! Key material never reaches SQL in the clear: each version is sealed with AES-256-GCM under
//! the installation's root key (`kms-root.key` in the data dir, created at first start with
//! mode 0600; in memory mode a random key that dies with the process). The AAD binds a sealed
//! blob to its row, so material copied between rows does not open.

use crate::{Db, Result, StorageError, StorageMode};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use sqlx::Row;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const ROOT_KEY_FILE: &str = "kms-root.key";
const NONCE_LEN: usize = 12;

/// A key's row: the service's metadata and policy documents, opaque to storage.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRow {
    pub key_id: String,
    /// Epoch seconds.
    pub created_at: f64,
    pub metadata: String,
    pub policy: String,
}

/// One version of a key's material, in the clear (only in memory).
#[derive(Clone, PartialEq)]
pub struct Material {
    pub version: i64,
    pub material_id: String,
    pub secret: Vec<u8>,
    pub created_at: f64,
    /// `AUTOMATIC` / `ON_DEMAND` for versions made by rotation.
    pub rotation: Option<String>,
}

impl std::fmt::Debug for Material {
    // Key material must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Material")
            .field("version", &self.version)
            .field("material_id", &self.material_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AliasRow {
    pub alias_name: String,
    pub key_id: String,
    pub created_at: f64,
    pub updated_at: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GrantRow {
    pub key_id: String,
    pub grant_id: String,
    pub created_at: f64,
    /// The service's grant document (JSON).
    pub doc: String,
}

/// Outstanding GetParametersForImport parameters: the wrapping private key in the clear
/// (only in memory; sealed under the root key in SQL).
#[derive(Clone)]
pub struct ImportParams {
    pub key_id: String,
    pub wrapping_algorithm: String,
    pub wrapping_key_spec: String,
    /// PKCS#8 DER of the RSA wrapping key.
    pub private_key: Vec<u8>,
    /// Epoch seconds.
    pub expires_at: f64,
}

impl std::fmt::Debug for ImportParams {
    // The wrapping key must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportParams")
            .field("key_id", &self.key_id)
            .field("wrapping_algorithm", &self.wrapping_algorithm)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What an alias write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasWrite {
    Done,
    AlreadyExists,
    NotFound,
}

#[derive(Clone)]
pub struct KmsStore {
    db: Db,
    root: Arc<std::result::Result<Aes256Gcm, String>>,
    cache: Arc<Mutex<Cache>>,
    /// Bumped by every write to a key; a read that raced a write does not fill the cache.
    writes: Arc<AtomicU64>,
}

/// Keys and their opened material, so the cryptographic hot path (Encrypt, Decrypt,
/// GenerateDataKey: tens of thousands per second) does not query SQLite and unseal every
/// time. Every write through this store drops the key's entry; a reset drops everything.
#[derive(Default)]
struct Cache {
    generation: u64,
    keys: HashMap<(String, String, String), Cached>,
    /// Alias name -> alias, for calls that name their key by alias.
    aliases: HashMap<(String, String, String), AliasRow>,
}

struct Cached {
    row: KeyRow,
    materials: HashMap<i64, Material>,
    /// The newest version: unknown (`None`), no material (`Some(None)`), or a version.
    newest: Option<Option<i64>>,
}

/// Enough for any realistic working set; past it the cache starts over.
const CACHE_MAX_KEYS: usize = 10_000;

type CacheKey = (String, String, String);

fn cache_key(account: &str, region: &str, key_id: &str) -> CacheKey {
    (account.to_string(), region.to_string(), key_id.to_string())
}

/// Load the root key, creating it on first start. Errors are kept and reported on use, so a
/// broken key file fails KMS calls, not the whole server.
fn root_key(mode: &StorageMode) -> std::result::Result<Aes256Gcm, String> {
    let bytes = match mode {
        StorageMode::Memory => {
            let mut k = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut k);
            k.to_vec()
        }
        StorageMode::Disk(dir) => load_or_create(&dir.join(ROOT_KEY_FILE))
            .map_err(|e| format!("KMS root key {}: {e}", dir.join(ROOT_KEY_FILE).display()))?,
    };
    Aes256Gcm::new_from_slice(&bytes).map_err(|_| "KMS root key must be 32 bytes".to_string())
}

fn load_or_create(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    match std::fs::read(path) {
        Ok(b) => return Ok(b),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    // Write a temporary file and rename it, so a crash never leaves a short key behind.
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = opts.open(&tmp)?;
    f.write_all(&key)?;
    f.sync_all()?;
    drop(f);
    match std::fs::hard_link(&tmp, path) {
        Ok(()) => {}
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = std::fs::remove_file(&tmp);
            return std::fs::read(path);
        }
        Err(e) => return Err(e),
    }
    std::fs::remove_file(&tmp)?;
    Ok(key.to_vec())
}

fn aad(account: &str, region: &str, key_id: &str, version: i64) -> Vec<u8> {
    format!("{account}/{region}/{key_id}/{version}").into_bytes()
}

/// Binds a sealed wrapping key to its token's row.
fn import_aad(account: &str, region: &str, key_id: &str, token: &[u8]) -> Vec<u8> {
    let mut a = format!("import/{account}/{region}/{key_id}/").into_bytes();
    a.extend_from_slice(token);
    a
}

fn material_from_row(row: &sqlx::sqlite::SqliteRow, secret: Vec<u8>) -> Material {
    Material {
        version: row.get("version"),
        material_id: row.get("material_id"),
        secret,
        created_at: row.get("m_created_at"),
        rotation: row.get("rotation"),
    }
}

fn key_from_row(row: &sqlx::sqlite::SqliteRow) -> KeyRow {
    KeyRow {
        key_id: row.get("key_id"),
        created_at: row.get("created_at"),
        metadata: row.get("metadata"),
        policy: row.get("policy"),
    }
}

impl KmsStore {
    /// One store per process (`Storage::kms`, called once at start-up): its cache is only
    /// coherent if every KMS write goes through it.
    pub(crate) fn new(db: Db, mode: &StorageMode) -> Self {
        let root = root_key(mode);
        if let Err(e) = &root {
            tracing::error!("{e}; KMS calls will fail");
        }
        Self {
            db,
            root: Arc::new(root),
            cache: Arc::default(),
            writes: Arc::default(),
        }
    }

    /// The database has been closed (server stopped): background tasks end.
    pub fn is_closed(&self) -> bool {
        self.db.pool().is_closed()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        let mut c = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let generation = self.db.generation();
        if c.generation != generation {
            c.keys.clear();
            c.aliases.clear();
            c.generation = generation;
        }
        c
    }

    /// Forget a key after a write to it (call after the write commits).
    fn invalidate(&self, account: &str, region: &str, key_id: &str) {
        self.writes.fetch_add(1, Ordering::AcqRel);
        self.cache()
            .keys
            .remove(&cache_key(account, region, key_id));
    }

    fn cached(
        &self,
        account: &str,
        region: &str,
        key_id: &str,
        version: Option<i64>,
    ) -> Option<(KeyRow, Option<Material>)> {
        let cache = self.cache();
        let c = cache.keys.get(&cache_key(account, region, key_id))?;
        match version.map(Some).or(c.newest)? {
            None => Some((c.row.clone(), None)),
            Some(v) => c
                .materials
                .get(&v)
                .map(|m| (c.row.clone(), Some(m.clone()))),
        }
    }

    fn fill(
        &self,
        epoch: u64,
        account: &str,
        region: &str,
        version: Option<i64>,
        row: &KeyRow,
        material: Option<&Material>,
    ) {
        let mut cache = self.cache();
        if self.writes.load(Ordering::Acquire) != epoch {
            return;
        }
        if cache.keys.len() >= CACHE_MAX_KEYS {
            cache.keys.clear();
        }
        let entry = cache
            .keys
            .entry(cache_key(account, region, &row.key_id))
            .or_insert_with(|| Cached {
                row: row.clone(),
                materials: HashMap::new(),
                newest: None,
            });
        entry.row = row.clone();
        if version.is_none() {
            entry.newest = Some(material.map(|m| m.version));
        }
        if let Some(m) = material {
            entry.materials.insert(m.version, m.clone());
        }
    }

    fn cipher(&self) -> Result<&Aes256Gcm> {
        self.root
            .as_ref()
            .as_ref()
            .map_err(|e| StorageError::Io(std::io::Error::other(e.clone())))
    }

    fn seal(&self, aad: &[u8], secret: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher()?
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad })
            .map_err(|_| StorageError::Io(std::io::Error::other("sealing key material failed")))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        let corrupt = || {
            StorageError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "key material does not open under this installation's root key",
            ))
        };
        if sealed.len() < NONCE_LEN {
            return Err(corrupt());
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.cipher()?
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| corrupt())
    }

    /// Insert a key with its first material version (none for keys awaiting import).
    pub async fn create_key(
        &self,
        account: &str,
        region: &str,
        key: &KeyRow,
        material: Option<&Material>,
    ) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(
            "INSERT INTO kms_keys (account_id, region, key_id, created_at, metadata, policy) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account)
        .bind(region)
        .bind(&key.key_id)
        .bind(key.created_at)
        .bind(&key.metadata)
        .bind(&key.policy)
        .execute(&mut *tx)
        .await?;
        if let Some(m) = material {
            self.insert_material(&mut tx, account, region, &key.key_id, m)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_material(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        account: &str,
        region: &str,
        key_id: &str,
        m: &Material,
    ) -> Result<()> {
        let sealed = self.seal(&aad(account, region, key_id, m.version), &m.secret)?;
        sqlx::query(
            "INSERT INTO kms_key_material (account_id, region, key_id, version, material_id, \
             sealed, created_at, rotation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(account)
        .bind(region)
        .bind(key_id)
        .bind(m.version)
        .bind(&m.material_id)
        .bind(sealed)
        .bind(m.created_at)
        .bind(&m.rotation)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn get_key(
        &self,
        account: &str,
        region: &str,
        key_id: &str,
    ) -> Result<Option<KeyRow>> {
        if let Some(c) = self.cache().keys.get(&cache_key(account, region, key_id)) {
            return Ok(Some(c.row.clone()));
        }
        let row = sqlx::query(
            "SELECT * FROM kms_keys WHERE account_id = ? AND region = ? AND key_id = ?",
        )
        .bind(account)
        .bind(region)
        .bind(key_id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(key_from_row))
    }

    /// A key with one version of its material (`None`: the newest) in one read, the hot path
    /// of every cryptographic call. The material is `None` when that version does not exist.
    pub async fn get_key_material(
        &self,
        account: &str,
        region: &str,
        key_id: &str,
        version: Option<i64>,
    ) -> Result<Option<(KeyRow, Option<Material>)>> {
        if let Some(hit) = self.cached(account, region, key_id, version) {
            return Ok(Some(hit));
        }
        let epoch = self.writes.load(Ordering::Acquire);
        let row = sqlx::query(
            "SELECT k.key_id, k.created_at, k.metadata, k.policy, m.version, m.material_id, \
             m.sealed, m.created_at AS m_created_at, m.rotation \
             FROM kms_keys k LEFT JOIN kms_key_material m \
               ON m.account_id = k.account_id AND m.region = k.region AND m.key_id = k.key_id \
              AND m.version = COALESCE(?, (SELECT MAX(version) FROM kms_key_material x \
                  WHERE x.account_id = k.account_id AND x.region = k.region AND x.key_id = k.key_id)) \
             WHERE k.account_id = ? AND k.region = ? AND k.key_id = ?",
        )
        .bind(version)
        .bind(account)
        .bind(region)
        .bind(key_id)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let key = key_from_row(&row);
        let sealed: Option<Vec<u8>> = row.get("sealed");
        let material = match sealed {
            None => None,
            Some(sealed) => {
                let v: i64 = row.get("version");
                let secret = self.open(&aad(account, region, key_id, v), &sealed)?;
                Some(material_from_row(&row, secret))
            }
        };
        self.fill(epoch, account, region, version, &key, material.as_ref());
        Ok(Some((key, material)))
    }

    /// Every material version of a key, oldest first, without the secrets.
    pub async fn list_material(
        &self,
        account: &str,
        region: &str,
        key_id: &str,
    ) -> Result<Vec<Material>> {
        let rows = sqlx::query(
            "SELECT version, material_id, created_at AS m_created_at, rotation \
             FROM kms_key_material WHERE account_id = ? AND region = ? AND key_id = ? \
             ORDER BY version",
        )
        .bind(account)
        .bind(region)
        .bind(key_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| material_from_row(r, Vec::new()))
            .collect())
    }

    /// Add a material version (numbered after the newest) and update the key's documents in
    /// the same transaction. `None` if the key does not exist.
    pub async fn add_material<E: From<StorageError>>(
        &self,
        account: &str,
        region: &str,
        key_id: &str,
        mut material: Material,
        update: impl FnOnce(&mut KeyRow, &Material) -> std::result::Result<(), E>,
    ) -> std::result::Result<Option<Material>, E> {
        let mut tx = self.db.begin_immediate().await?;
        let Some(mut key) = Self::read_key(&mut tx, account, region, key_id).await? else {
            return Ok(None);
        };
        let newest: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(version) FROM kms_key_material \
             WHERE account_id = ? AND region = ? AND key_id = ?",
        )
        .bind(account)
        .bind(region)
        .bind(key_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(StorageError::from)?;
        material.version = newest.unwrap_or(0) + 1;
        update(&mut key, &material)?;
        self.insert_material(&mut tx, account, region, key_id, &material)
            .await?;
        Self::write_key(&mut tx, account, region, &key).await?;
        tx.commit().await.map_err(StorageError::from)?;
        self.invalidate(account, region, key_id);
        Ok(Some(material))
    }

    /// Delete every material version of a key (DeleteImportedKeyMaterial).
    pub async fn delete_material(&self, account: &str, region: &str, key_id: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM kms_key_material WHERE account_id = ? AND region = ? AND key_id = ?",
        )
        .bind(account)
        .bind(region)
        .bind(key_id)
        .execute(self.db.pool())
        .await?;
        self.invalidate(account, region, key_id);
        Ok(())
    }

    async fn read_key(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        account: &str,
        region: &str,
        key_id: &str,
    ) -> Result<Option<KeyRow>> {
        let row = sqlx::query(
            "SELECT * FROM kms_keys WHERE account_id = ? AND region = ? AND key_id = ?",
        )
        .bind(account)
        .bind(region)
        .bind(key_id)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(row.as_ref().map(key_from_row))
    }

    async fn write_key(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        account: &str,
        region: &str,
        key: &KeyRow,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE kms_keys SET metadata = ?, policy = ? \
             WHERE account_id = ? AND region = ? AND key_id = ?",
        )
        .bind(&key.metadata)
        .bind(&key.policy)
        .bind(account)
        .bind(region)
        .bind(&key.key_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Read-modify-write a key's documents under SQLite's write lock, so concurrent updates
    /// never lose each other. `None` if the key does not exist; an `Err` from `f` writes nothing.
    pub async fn update_key<T, E: From<StorageError>>(
        &self,
        account: &str,
        region: &str,
        key_id: &str,
        f: impl FnOnce(&mut KeyRow) -> std::result::Result<T, E>,
    ) -> std::result::Result<Option<T>, E> {
        let mut tx = self.db.begin_immediate().await?;
        let Some(mut key) = Self::read_key(&mut tx, account, region, key_id).await? else {
            return Ok(None);
        };
        let out = f(&mut key)?;
        Self::write_key(&mut tx, account, region, &key).await?;
        tx.commit().await.map_err(StorageError::from)?;
        self.invalidate(account, region, key_id);
        Ok(Some(out))
    }

    /// Create a key's replica in another region with a copy of every material version
    /// (re-sealed: the AAD names the region). `false` if the replica already exists.
    pub async fn create_replica(
        &self,
        account: &str,
        from_region: &str,
        to_region: &str,
        replica: &KeyRow,
    ) -> Result<bool> {
        let mut tx = self.db.begin_immediate().await?;
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM kms_keys WHERE account_id = ? AND region = ? AND key_id = ?",
        )
        .bind(account)
        .bind(to_region)
        .bind(&replica.key_id)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO kms_keys (account_id, region, key_id, created_at, metadata, policy) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account)
        .bind(to_region)
        .bind(&replica.key_id)
        .bind(replica.created_at)
        .bind(&replica.metadata)
        .bind(&replica.policy)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(
            "SELECT version, material_id, sealed, created_at AS m_created_at, rotation \
             FROM kms_key_material WHERE account_id = ? AND region = ? AND key_id = ? \
             ORDER BY version",
        )
        .bind(account)
        .bind(from_region)
        .bind(&replica.key_id)
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let version: i64 = row.get("version");
            let sealed: Vec<u8> = row.get("sealed");
            let secret = self.open(
                &aad(account, from_region, &replica.key_id, version),
                &sealed,
            )?;
            let m = material_from_row(row, secret);
            self.insert_material(&mut tx, account, to_region, &replica.key_id, &m)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Keys in creation order.
    pub async fn list_keys(&self, account: &str, region: &str) -> Result<Vec<KeyRow>> {
        let rows = sqlx::query(
            "SELECT * FROM kms_keys WHERE account_id = ? AND region = ? \
             ORDER BY created_at, key_id",
        )
        .bind(account)
        .bind(region)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(key_from_row).collect())
    }

    /// Every key of every account and region (the KMS sweeper's scan): (account, region, row).
    pub async fn all_keys(&self) -> Result<Vec<(String, String, KeyRow)>> {
        let rows = sqlx::query("SELECT * FROM kms_keys ORDER BY account_id, region, key_id")
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("account_id"), r.get("region"), key_from_row(r)))
            .collect())
    }

    /// Keep a GetParametersForImport's token and wrapping key (sealed) until it expires;
    /// tokens already expired anywhere are dropped on the way. `false` if the key is gone.
    pub async fn put_import(
        &self,
        account: &str,
        region: &str,
        token: &[u8],
        params: &ImportParams,
        now: f64,
    ) -> Result<bool> {
        let sealed = self.seal(
            &import_aad(account, region, &params.key_id, token),
            &params.private_key,
        )?;
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("DELETE FROM kms_import_params WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let res = sqlx::query(
            "INSERT INTO kms_import_params (account_id, region, token, key_id, \
             wrapping_algorithm, wrapping_key_spec, sealed, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(account)
        .bind(region)
        .bind(token)
        .bind(&params.key_id)
        .bind(&params.wrapping_algorithm)
        .bind(&params.wrapping_key_spec)
        .bind(sealed)
        .bind(params.expires_at)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The parameters an import token names (expired or not: the caller tells the two apart).
    pub async fn get_import(
        &self,
        account: &str,
        region: &str,
        token: &[u8],
    ) -> Result<Option<ImportParams>> {
        let row = sqlx::query(
            "SELECT * FROM kms_import_params WHERE account_id = ? AND region = ? AND token = ?",
        )
        .bind(account)
        .bind(region)
        .bind(token)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let key_id: String = row.get("key_id");
        let sealed: Vec<u8> = row.get("sealed");
        let private_key = self.open(&import_aad(account, region, &key_id, token), &sealed)?;
        Ok(Some(ImportParams {
            key_id,
            wrapping_algorithm: row.get("wrapping_algorithm"),
            wrapping_key_spec: row.get("wrapping_key_spec"),
            private_key,
            expires_at: row.get("expires_at"),
        }))
    }

    /// Delete a key with its material, aliases and grants.
    pub async fn delete_key(&self, account: &str, region: &str, key_id: &str) -> Result<bool> {
        let res =
            sqlx::query("DELETE FROM kms_keys WHERE account_id = ? AND region = ? AND key_id = ?")
                .bind(account)
                .bind(region)
                .bind(key_id)
                .execute(self.db.pool())
                .await?;
        self.invalidate(account, region, key_id);
        // The key's aliases went with it (ON DELETE CASCADE).
        self.cache().aliases.clear();
        Ok(res.rows_affected() > 0)
    }

    pub async fn get_alias(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<AliasRow>> {
        let ck = cache_key(account, region, name);
        if let Some(a) = self.cache().aliases.get(&ck) {
            return Ok(Some(a.clone()));
        }
        let epoch = self.writes.load(Ordering::Acquire);
        let row = sqlx::query(
            "SELECT * FROM kms_aliases WHERE account_id = ? AND region = ? AND alias_name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(self.db.pool())
        .await?;
        let alias = row.as_ref().map(alias_from_row);
        if let Some(a) = &alias {
            let mut cache = self.cache();
            if self.writes.load(Ordering::Acquire) == epoch {
                if cache.aliases.len() >= CACHE_MAX_KEYS {
                    cache.aliases.clear();
                }
                cache.aliases.insert(ck, a.clone());
            }
        }
        Ok(alias)
    }

    /// Forget an alias after a write to it.
    fn invalidate_alias(&self, account: &str, region: &str, name: &str) {
        self.writes.fetch_add(1, Ordering::AcqRel);
        self.cache()
            .aliases
            .remove(&cache_key(account, region, name));
    }

    /// Create an alias for an existing key.
    pub async fn create_alias(
        &self,
        account: &str,
        region: &str,
        name: &str,
        key_id: &str,
        now: f64,
    ) -> Result<AliasWrite> {
        let res = sqlx::query(
            "INSERT INTO kms_aliases (account_id, region, alias_name, key_id, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(key_id)
        .bind(now)
        .bind(now)
        .execute(self.db.pool())
        .await;
        match res {
            Ok(_) => Ok(AliasWrite::Done),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                Ok(AliasWrite::AlreadyExists)
            }
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
                Ok(AliasWrite::NotFound)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Point an existing alias at another key; `false` if the alias does not exist.
    pub async fn update_alias(
        &self,
        account: &str,
        region: &str,
        name: &str,
        key_id: &str,
        now: f64,
    ) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE kms_aliases SET key_id = ?, updated_at = ? \
             WHERE account_id = ? AND region = ? AND alias_name = ?",
        )
        .bind(key_id)
        .bind(now)
        .bind(account)
        .bind(region)
        .bind(name)
        .execute(self.db.pool())
        .await?;
        self.invalidate_alias(account, region, name);
        Ok(res.rows_affected() > 0)
    }

    pub async fn delete_alias(&self, account: &str, region: &str, name: &str) -> Result<bool> {
        let res = sqlx::query(
            "DELETE FROM kms_aliases WHERE account_id = ? AND region = ? AND alias_name = ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .execute(self.db.pool())
        .await?;
        self.invalidate_alias(account, region, name);
        Ok(res.rows_affected() > 0)
    }

    /// Aliases by name, all of them or one key's.
    pub async fn list_aliases(
        &self,
        account: &str,
        region: &str,
        key_id: Option<&str>,
    ) -> Result<Vec<AliasRow>> {
        let rows = sqlx::query(
            "SELECT * FROM kms_aliases WHERE account_id = ? AND region = ? \
             AND (? IS NULL OR key_id = ?) ORDER BY alias_name",
        )
        .bind(account)
        .bind(region)
        .bind(key_id)
        .bind(key_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(alias_from_row).collect())
    }

    pub async fn put_grant(&self, account: &str, region: &str, g: &GrantRow) -> Result<bool> {
        let res = sqlx::query(
            "INSERT INTO kms_grants (account_id, region, key_id, grant_id, created_at, grant_doc) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account)
        .bind(region)
        .bind(&g.key_id)
        .bind(&g.grant_id)
        .bind(g.created_at)
        .bind(&g.doc)
        .execute(self.db.pool())
        .await;
        match res {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Grants in creation order: one key's, or every key's in the region.
    pub async fn list_grants(
        &self,
        account: &str,
        region: &str,
        key_id: Option<&str>,
    ) -> Result<Vec<GrantRow>> {
        let rows = sqlx::query(
            "SELECT * FROM kms_grants WHERE account_id = ? AND region = ? \
             AND (? IS NULL OR key_id = ?) ORDER BY created_at, grant_id",
        )
        .bind(account)
        .bind(region)
        .bind(key_id)
        .bind(key_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| GrantRow {
                key_id: r.get("key_id"),
                grant_id: r.get("grant_id"),
                created_at: r.get("created_at"),
                doc: r.get("grant_doc"),
            })
            .collect())
    }

    pub async fn delete_grant(
        &self,
        account: &str,
        region: &str,
        key_id: &str,
        grant_id: &str,
    ) -> Result<bool> {
        let res = sqlx::query(
            "DELETE FROM kms_grants WHERE account_id = ? AND region = ? AND key_id = ? AND grant_id = ?",
        )
        .bind(account)
        .bind(region)
        .bind(key_id)
        .bind(grant_id)
        .execute(self.db.pool())
        .await?;
        Ok(res.rows_affected() > 0)
    }
}

fn alias_from_row(r: &sqlx::sqlite::SqliteRow) -> AliasRow {
    AliasRow {
        alias_name: r.get("alias_name"),
        key_id: r.get("key_id"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn material_is_sealed_and_reopens_after_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mode = StorageMode::Disk(dir.path().to_path_buf());
        let secret = vec![7u8; 32];
        {
            let storage = crate::Storage::open(mode.clone()).await.expect("open");
            let kms = storage.kms();
            let key = KeyRow {
                key_id: "k1".into(),
                created_at: 1.0,
                metadata: "{}".into(),
                policy: "{}".into(),
            };
            let m = Material {
                version: 1,
                material_id: "m1".into(),
                secret: secret.clone(),
                created_at: 1.0,
                rotation: None,
            };
            kms.create_key("a", "r", &key, Some(&m))
                .await
                .expect("create");
            let raw: Vec<u8> = sqlx::query_scalar("SELECT sealed FROM kms_key_material")
                .fetch_one(storage.db.pool())
                .await
                .expect("row");
            assert!(!raw.windows(32).any(|w| w == secret.as_slice()));
            storage.close().await;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(dir.path().join(ROOT_KEY_FILE)).expect("root key");
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
        let storage = crate::Storage::open(mode).await.expect("reopen");
        let (_, m) = storage
            .kms()
            .get_key_material("a", "r", "k1", None)
            .await
            .expect("read")
            .expect("key");
        assert_eq!(m.expect("material").secret, secret);
        // Another installation's root key cannot open it.
        std::fs::write(dir.path().join(ROOT_KEY_FILE), [1u8; 32]).expect("replace");
        assert!(storage
            .kms()
            .get_key_material("a", "r", "k1", None)
            .await
            .is_err());
    }
}
