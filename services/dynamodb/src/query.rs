//! Query and Scan: key-ordered reads in pages of at most 1 MB (counted before the filter),
//! with Limit, ExclusiveStartKey / LastEvaluatedKey, Select and parallel-scan segments.

use crate::errors::{DynamoError, Result};
use crate::expr::ast::{Condition, Path, PathElem};
use crate::expr::{self, eval, KeyCondition, RangeCondition, Refs};
use crate::indexes::IndexDef;
use crate::items::{consumed, finish_refs, parse_projection, read_units};
use crate::keys;
use crate::shapes::*;
use crate::table::{KeyDef, TableMeta};
use crate::types::{item_from_body, item_from_wire, item_to_wire};
use crate::DynamoDb;
use cloudemu_core::{RequestContext, ServiceResponse};
use cloudemu_storage::dynamodb::{IndexCursor, ItemRef, SkRange};
use serde_json::{json, Map, Value};
use std::ops::Bound;

/// Query and Scan stop reading once this much item data has been read.
const MAX_PAGE_BYTES: i64 = 1024 * 1024;
/// Rows fetched from storage per round trip.
const BATCH: i64 = 256;

/// The smallest byte string greater than every string starting with `prefix` (None: none is).
fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut p = prefix.to_vec();
    while let Some(last) = p.pop() {
        if last < 0xff {
            p.push(last + 1);
            return Some(p);
        }
    }
    None
}

fn sk_range(range: Option<&RangeCondition>) -> SkRange {
    use crate::expr::ast::Comparator as C;
    let (lower, upper) = match range {
        None => (Bound::Unbounded, Bound::Unbounded),
        Some(RangeCondition::Compare(c, v)) => {
            let e = keys::encode(v);
            match c {
                C::Eq => (Bound::Included(e.clone()), Bound::Included(e)),
                C::Lt => (Bound::Unbounded, Bound::Excluded(e)),
                C::Le => (Bound::Unbounded, Bound::Included(e)),
                C::Gt => (Bound::Excluded(e), Bound::Unbounded),
                C::Ge => (Bound::Included(e), Bound::Unbounded),
                C::Ne => (Bound::Unbounded, Bound::Unbounded),
            }
        }
        Some(RangeCondition::Between(lo, hi)) => (
            Bound::Included(keys::encode(lo)),
            Bound::Included(keys::encode(hi)),
        ),
        Some(RangeCondition::BeginsWith(p)) => {
            let e = keys::encode(p);
            let upper = match prefix_successor(&e) {
                Some(s) => Bound::Excluded(s),
                None => Bound::Unbounded,
            };
            (Bound::Included(e), upper)
        }
    };
    SkRange { lower, upper }
}

/// Which attributes a read returns.
enum Selection {
    All,
    Projected(Vec<Path>),
    Count,
}

fn selection(
    select: Option<&str>,
    projection: Option<Vec<Path>>,
    has_index: bool,
) -> Result<Selection> {
    match (select, projection) {
        (None | Some("ALL_ATTRIBUTES"), None) => Ok(Selection::All),
        (None | Some("SPECIFIC_ATTRIBUTES"), Some(p)) => Ok(Selection::Projected(p)),
        (Some("SPECIFIC_ATTRIBUTES"), None) => Err(DynamoError::validation(
            "1 validation error detected: Value 'SPECIFIC_ATTRIBUTES' at 'select' failed to satisfy constraint: Select type SPECIFIC_ATTRIBUTES requires ProjectionExpression or AttributesToGet",
        )),
        (Some("COUNT"), None) => Ok(Selection::Count),
        (Some("ALL_PROJECTED_ATTRIBUTES"), None) if has_index => Ok(Selection::All),
        (Some("ALL_PROJECTED_ATTRIBUTES"), None) => Err(DynamoError::validation(
            "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is only valid when querying an index",
        )),
        (Some(s), Some(_)) => Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Cannot specify the ProjectionExpression or AttributesToGet when choosing to get {}",
            if s == "COUNT" { "only the Count".to_string() } else { s.to_string() }
        ))),
        (Some(_), None) => Ok(Selection::All),
    }
}

/// Where the previous page stopped, from ExclusiveStartKey.
fn start_key(def: &KeyDef, esk: Option<&AttrMap>) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
    let Some(esk) = esk else { return Ok(None) };
    let key = item_from_wire(esk)?;
    let (pk, sk) = keys::of_key(def, &key).map_err(|_| {
        DynamoError::validation(
            "The provided starting key is invalid: The provided key element does not match the schema",
        )
    })?;
    Ok(Some((pk, sk)))
}

/// The top-level attribute names a condition reads.
fn condition_attrs(c: &Condition, out: &mut Vec<String>) {
    use crate::expr::ast::Operand;
    let op = |o: &Operand, out: &mut Vec<String>| match o {
        Operand::Path(p) | Operand::Size(p) => {
            if let Some(PathElem::Attr(a)) = p.first() {
                out.push(a.clone());
            }
        }
        Operand::Value(_) => {}
    };
    match c {
        Condition::And(a, b) | Condition::Or(a, b) => {
            condition_attrs(a, out);
            condition_attrs(b, out);
        }
        Condition::Not(a) => condition_attrs(a, out),
        Condition::Compare(a, _, b) | Condition::BeginsWith(a, b) | Condition::Contains(a, b) => {
            op(a, out);
            op(b, out);
        }
        Condition::Between(a, b, c) => {
            op(a, out);
            op(b, out);
            op(c, out);
        }
        Condition::In(a, list) => {
            op(a, out);
            for o in list {
                op(o, out);
            }
        }
        Condition::AttributeExists(p)
        | Condition::AttributeNotExists(p)
        | Condition::AttributeType(p, _) => {
            if let Some(PathElem::Attr(a)) = p.first() {
                out.push(a.clone());
            }
        }
    }
}

/// The filter (FilterExpression or legacy QueryFilter / ScanFilter).
fn parse_filter(
    expression: Option<&str>,
    legacy: Option<&AttrMap>,
    legacy_name: &str,
    operator: Option<&str>,
    refs: &mut Refs,
) -> Result<Option<Condition>> {
    match (expression, legacy) {
        (Some(_), Some(_)) => Err(DynamoError::validation(format!(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{legacy_name}}} Expression parameters: {{FilterExpression}}"
        ))),
        (Some(e), None) => Ok(Some(expr::parse_condition(e, "FilterExpression", refs)?)),
        (None, Some(f)) => crate::legacy::filter(f, operator).map(Some),
        (None, None) => Ok(None),
    }
}

/// One page being assembled.
struct Page {
    /// The Items member as JSON text (`[` and the items so far): a stored body that needs no
    /// evaluation is copied in as it is, never parsed (it is canonical DynamoDB JSON already).
    items: String,
    count: usize,
    scanned: usize,
    bytes: i64,
    /// The last item read, for LastEvaluatedKey: its keys are only taken out at the end (one
    /// parse per page, not per item).
    last: Last,
    /// The key attribute names a LastEvaluatedKey holds.
    key_names: Vec<String>,
}

enum Last {
    None,
    /// Passed through as stored: `items[range]`.
    Pushed(std::ops::Range<usize>),
    Item(crate::types::Item),
}

impl Page {
    fn new(key_names: &[String]) -> Self {
        let mut items = String::with_capacity(4096);
        items.push('[');
        Self {
            items,
            count: 0,
            scanned: 0,
            bytes: 0,
            last: Last::None,
            key_names: key_names.to_vec(),
        }
    }

    fn push(&mut self, json: &str) -> std::ops::Range<usize> {
        if self.count > 0 {
            self.items.push(',');
        }
        let start = self.items.len();
        self.items.push_str(json);
        start..self.items.len()
    }

    /// Take one stored row; false once the page is full (Limit or 1 MB).
    fn take(
        &mut self,
        body: &str,
        size: i64,
        filter: Option<&Condition>,
        sel: &Selection,
        limit: usize,
    ) -> Result<bool> {
        self.scanned += 1;
        self.bytes += size;
        if filter.is_none() && matches!(sel, Selection::All) {
            // Nothing to evaluate: pass the stored (canonical) JSON through.
            self.last = Last::Pushed(self.push(body));
            self.count += 1;
            return Ok(self.scanned < limit && self.bytes < MAX_PAGE_BYTES);
        }
        let item = item_from_body(body)?;
        if filter.is_none_or(|f| eval::eval_condition(f, &item)) {
            let wire = match sel {
                Selection::All => Some(item_to_wire(&item)),
                Selection::Projected(p) => Some(item_to_wire(&eval::project(&item, p))),
                Selection::Count => None,
            };
            if let Some(wire) = wire {
                let text = serde_json::to_string(&wire).map_err(|e| {
                    DynamoError::Storage(cloudemu_storage::StorageError::Io(std::io::Error::other(
                        e,
                    )))
                })?;
                self.push(&text);
            }
            self.count += 1;
        }
        self.last = Last::Item(item);
        Ok(self.scanned < limit && self.bytes < MAX_PAGE_BYTES)
    }

    /// The key attributes of the last item read (DynamoDB JSON).
    fn last_key(&self) -> Result<Option<Map<String, Value>>> {
        let names = self.key_names.iter();
        Ok(match &self.last {
            Last::None => None,
            Last::Pushed(range) => {
                let item = crate::items::body_json(&self.items[range.clone()])?;
                item.as_object().map(|m| {
                    names
                        .filter_map(|n| m.get(n).map(|x| (n.clone(), x.clone())))
                        .collect()
                })
            }
            Last::Item(item) => Some(
                names
                    .filter_map(|n| item.get(n).map(|v| (n.clone(), v.to_wire())))
                    .collect(),
            ),
        })
    }

    fn finish(
        mut self,
        more: bool,
        sel: &Selection,
        capacity: Option<Value>,
    ) -> Result<ServiceResponse> {
        let last = if more { self.last_key()? } else { None };
        let mut out = Map::new();
        out.insert("Count".into(), json!(self.count));
        out.insert("ScannedCount".into(), json!(self.scanned));
        if let Some(last) = last {
            out.insert("LastEvaluatedKey".into(), Value::Object(last));
        }
        if let Some(c) = capacity {
            out.insert("ConsumedCapacity".into(), c);
        }
        let mut response = ServiceResponse::from(Value::Object(out));
        if !matches!(sel, Selection::Count) {
            self.items.push(']');
            response.encoded.push(("Items".into(), self.items));
        }
        Ok(response)
    }
}

/// Rows one reader-thread visit looks at, at most: a Scan whose segment skips most rows goes
/// back to the runtime between visits instead of holding a reader for a whole large table.
const ROWS_PER_VISIT: usize = 1024;

/// A page being read from the table on the reader thread ([`DynamoDbStore::query_each`]):
/// each stored item is looked at where SQLite holds it, only what the page keeps is copied.
struct Visit {
    page: Page,
    filter: Option<Condition>,
    sel: Selection,
    limit: usize,
    /// Parallel scan: (Segment, TotalSegments).
    segment: Option<(u64, u64)>,
    /// Rows seen in the current visit.
    rows: usize,
    /// The page is complete (Limit or 1 MB).
    full: bool,
    /// Where the next visit starts when this one stopped at [`ROWS_PER_VISIT`].
    resume: Option<(Vec<u8>, Vec<u8>)>,
    error: Option<DynamoError>,
}

impl Visit {
    fn new(
        page: Page,
        filter: Option<Condition>,
        sel: Selection,
        limit: usize,
        segment: Option<(u64, u64)>,
    ) -> Self {
        Self {
            page,
            filter,
            sel,
            limit,
            segment,
            rows: 0,
            full: false,
            resume: None,
            error: None,
        }
    }

    /// Take one row; false to stop this visit.
    fn visit(&mut self, item: ItemRef<'_>) -> bool {
        self.rows += 1;
        if self
            .segment
            .is_none_or(|(s, t)| segment_of(item.pk, t) == s)
        {
            let taken = self.page.take(
                item.body,
                item.size,
                self.filter.as_ref(),
                &self.sel,
                self.limit,
            );
            match taken {
                Ok(true) => {}
                Ok(false) => {
                    self.full = true;
                    return false;
                }
                Err(e) => {
                    self.error = Some(e);
                    return false;
                }
            }
        }
        if self.rows >= ROWS_PER_VISIT {
            self.resume = Some((item.pk.to_vec(), item.sk.to_vec()));
            return false;
        }
        true
    }

    /// After a visit that ended with `followed` (more rows came after its last one): whether
    /// the read is over, and if so whether the page has a LastEvaluatedKey.
    fn ended(&mut self, followed: bool) -> Result<Option<bool>> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.full {
            // A page cut by Limit always says where it stopped, as DynamoDB's does.
            return Ok(Some(followed || self.page.scanned >= self.limit));
        }
        if followed && self.resume.is_some() {
            self.rows = 0;
            return Ok(None);
        }
        Ok(Some(false))
    }
}

/// The index a Query or Scan reads, checked against what AWS allows for it.
fn resolve_index(
    meta: &TableMeta,
    index: Option<&str>,
    consistent: Option<bool>,
    select: Option<&str>,
) -> Result<Option<IndexDef>> {
    let Some(name) = index else { return Ok(None) };
    let idx = meta.index(name).ok_or_else(|| {
        DynamoError::validation(format!(
            "The table does not have the specified index: {name}"
        ))
    })?;
    if idx.global && consistent == Some(true) {
        return Err(DynamoError::validation(
            "Consistent reads are not supported on global secondary indexes",
        ));
    }
    // A local index can fetch what it does not project from the table; a global one cannot.
    if idx.global && select == Some("ALL_ATTRIBUTES") && idx.projection_type != "ALL" {
        return Err(DynamoError::invalid(format!(
            "Select type ALL_ATTRIBUTES is not supported for {} secondary index {name} because its projection type is not ALL",
            if idx.global { "global" } else { "local" }
        )));
    }
    Ok(Some(idx))
}

/// The attribute names a LastEvaluatedKey holds: the table's keys, then the index's.
fn cursor_names(table: &KeyDef, index: Option<&IndexDef>) -> Vec<String> {
    let mut names: Vec<String> = table.names().map(str::to_string).collect();
    if let Some(i) = index {
        for n in i.key.names() {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
    }
    names
}

/// An index read's ExclusiveStartKey: (index hash key, cursor within it).
fn index_start(
    table: &KeyDef,
    idx: &IndexDef,
    esk: Option<&AttrMap>,
) -> Result<Option<(Vec<u8>, IndexCursor)>> {
    let Some(esk) = esk else { return Ok(None) };
    let bad = |_| {
        DynamoError::validation(
            "The provided starting key is invalid: The provided key element does not match the schema",
        )
    };
    let item = item_from_wire(esk)?;
    let (pk, sk) = keys::of_item(table, &item).map_err(bad)?;
    let (ipk, isk) = keys::of_item(&idx.key, &item).map_err(bad)?;
    Ok(Some((ipk, (isk, pk, sk))))
}

impl DynamoDb {
    pub(crate) async fn query(
        &self,
        ctx: &RequestContext,
        input: QueryInput,
    ) -> Result<ServiceResponse> {
        let (id, meta) = self
            .find_table(ctx, &input.table_name)
            .await?
            .ok_or_else(DynamoError::no_table)?;
        let index = resolve_index(
            &meta,
            input.index_name.as_deref(),
            input.consistent_read,
            input.select.as_deref(),
        )?;
        let table_def = meta.key_def();
        // The keys being queried: the index's when reading an index.
        let def = index
            .as_ref()
            .map_or_else(|| table_def.clone(), |i| i.key.clone());
        let key_names = cursor_names(&table_def, index.as_ref());
        let mut refs = Refs::new(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let key_cond: KeyCondition = match (&input.key_condition_expression, &input.key_conditions) {
            (Some(_), Some(_)) => {
                return Err(DynamoError::validation(
                    "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}",
                ))
            }
            (Some(e), None) => {
                let c = expr::parse_condition(e, "KeyConditionExpression", &mut refs)?;
                expr::key_condition(c, &def)?
            }
            (None, Some(kc)) => expr::key_condition(crate::legacy::filter(kc, None)?, &def)?,
            (None, None) => {
                return Err(DynamoError::validation(
                    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
                ))
            }
        };
        let filter = parse_filter(
            input.filter_expression.as_deref(),
            input.query_filter.as_ref(),
            "QueryFilter",
            input.conditional_operator.as_deref(),
            &mut refs,
        )?;
        if let Some(f) = &filter {
            let mut attrs = Vec::new();
            condition_attrs(f, &mut attrs);
            if let Some(k) = attrs.iter().find(|a| def.names().any(|k| k == a.as_str())) {
                return Err(DynamoError::validation(format!(
                    "Filter Expression can only contain non-primary key attributes: Primary key attribute: {k}"
                )));
            }
        }
        let projection = parse_projection(
            input.projection_expression.as_deref(),
            input.attributes_to_get.as_ref(),
            &mut refs,
        )?;
        finish_refs(
            &refs,
            input.key_condition_expression.is_some()
                || input.filter_expression.is_some()
                || input.projection_expression.is_some(),
        )?;
        let mut sel = selection(
            input.select.as_deref(),
            projection,
            input.index_name.is_some(),
        )?;
        let forward = input.scan_index_forward.unwrap_or(true);
        let limit = input.limit.map(|l| l.max(1) as usize).unwrap_or(usize::MAX);
        let pk = keys::encode(&key_cond.hash);
        let range = sk_range(key_cond.range.as_ref());
        let bad_start = || {
            DynamoError::validation(
                "The provided starting key is invalid: The provided key element does not match the schema",
            )
        };
        let mut page = Page::new(&key_names);
        let mut more = false;
        if let Some(idx) = &index {
            let fetch_from_table = !idx.global
                && idx.projection_type != "ALL"
                && (input.select.as_deref() == Some("ALL_ATTRIBUTES")
                    || input.projection_expression.is_some()
                    || input.attributes_to_get.is_some());
            let mut after = match index_start(&table_def, idx, input.exclusive_start_key.as_ref())?
            {
                Some((ipk, cursor)) if ipk == pk => Some(cursor),
                Some(_) => return Err(bad_start()),
                None => None,
            };
            'index: loop {
                let left = (limit - page.scanned).saturating_add(1);
                let want = BATCH.min(i64::try_from(left).unwrap_or(BATCH));
                let rows = self
                    .store
                    .query_index(id, &idx.name, &pk, &range, forward, after.as_ref(), want)
                    .await?;
                let exhausted = (rows.len() as i64) < want;
                for (i, row) in rows.iter().enumerate() {
                    // Attributes a local index does not project come from the table item.
                    let fetched = if fetch_from_table {
                        let key = cloudemu_storage::dynamodb::ItemKey {
                            table_id: id,
                            pk: row.pk.clone(),
                            sk: row.sk.clone(),
                        };
                        self.store.get_item(&key).await?
                    } else {
                        None
                    };
                    let body = fetched.as_deref().unwrap_or(&row.body);
                    if !page.take(body, row.size, filter.as_ref(), &sel, limit)? {
                        more = i + 1 < rows.len() || !exhausted || page.scanned >= limit;
                        break 'index;
                    }
                    after = Some((row.isk.clone(), row.pk.clone(), row.sk.clone()));
                }
                if exhausted {
                    break;
                }
            }
        } else {
            let start = start_key(&def, input.exclusive_start_key.as_ref())?;
            let mut after = match start {
                Some((spk, ssk)) if spk == pk => Some(ssk),
                Some(_) => return Err(bad_start()),
                None => None,
            };
            let mut visit = Visit::new(page, filter, sel, limit, None);
            more = loop {
                let (back, followed) = self
                    .store
                    .query_each(
                        id,
                        &pk,
                        &range,
                        forward,
                        after.as_deref(),
                        visit,
                        |v, item| v.visit(item),
                    )
                    .await?;
                visit = back;
                if let Some(more) = visit.ended(followed)? {
                    break more;
                }
                after = visit.resume.take().map(|(_, sk)| sk);
            };
            (page, sel) = (visit.page, visit.sel);
        }
        let units = read_units(page.bytes as usize, input.consistent_read.unwrap_or(false));
        let capacity = consumed(
            input.return_consumed_capacity.as_deref(),
            &meta.table_name,
            units,
        );
        page.finish(more, &sel, capacity)
    }

    pub(crate) async fn scan(
        &self,
        ctx: &RequestContext,
        input: ScanInput,
    ) -> Result<ServiceResponse> {
        let (id, meta) = self
            .find_table(ctx, &input.table_name)
            .await?
            .ok_or_else(DynamoError::no_table)?;
        let index = resolve_index(
            &meta,
            input.index_name.as_deref(),
            input.consistent_read,
            input.select.as_deref(),
        )?;
        let def = meta.key_def();
        let key_names = cursor_names(&def, index.as_ref());
        let segment = match (input.segment, input.total_segments) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(DynamoError::validation(
                    "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
                ))
            }
            (None, Some(_)) => {
                return Err(DynamoError::validation(
                    "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
                ))
            }
            (Some(s), Some(t)) => {
                if s >= t {
                    return Err(DynamoError::validation(format!(
                        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
                    )));
                }
                Some((s as u64, t as u64))
            }
        };
        let mut refs = Refs::new(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let filter = parse_filter(
            input.filter_expression.as_deref(),
            input.scan_filter.as_ref(),
            "ScanFilter",
            input.conditional_operator.as_deref(),
            &mut refs,
        )?;
        let projection = parse_projection(
            input.projection_expression.as_deref(),
            input.attributes_to_get.as_ref(),
            &mut refs,
        )?;
        finish_refs(
            &refs,
            input.filter_expression.is_some() || input.projection_expression.is_some(),
        )?;
        let mut sel = selection(
            input.select.as_deref(),
            projection,
            input.index_name.is_some(),
        )?;
        let limit = input.limit.map(|l| l.max(1) as usize).unwrap_or(usize::MAX);
        let in_segment = |pk: &[u8]| segment.is_none_or(|(s, t)| segment_of(pk, t) == s);
        let mut page = Page::new(&key_names);
        let mut more = false;
        if let Some(idx) = &index {
            let mut after = index_start(&def, idx, input.exclusive_start_key.as_ref())?;
            'index: loop {
                let rows = self
                    .store
                    .scan_index(
                        id,
                        &idx.name,
                        after.as_ref().map(|(ipk, c)| (ipk.as_slice(), c)),
                        BATCH,
                    )
                    .await?;
                let exhausted = (rows.len() as i64) < BATCH;
                for (i, row) in rows.iter().enumerate() {
                    after = Some((
                        row.ipk.clone(),
                        (row.isk.clone(), row.pk.clone(), row.sk.clone()),
                    ));
                    if !in_segment(&row.ipk) {
                        continue;
                    }
                    if !page.take(&row.body, row.size, filter.as_ref(), &sel, limit)? {
                        more = i + 1 < rows.len() || !exhausted || page.scanned >= limit;
                        break 'index;
                    }
                }
                if exhausted {
                    break;
                }
            }
        } else {
            let mut after = start_key(&def, input.exclusive_start_key.as_ref())?;
            let mut visit = Visit::new(page, filter, sel, limit, segment);
            more = loop {
                let (back, followed) = self
                    .store
                    .scan_each(
                        id,
                        after.as_ref().map(|(p, s)| (p.as_slice(), s.as_slice())),
                        visit,
                        |v, item| v.visit(item),
                    )
                    .await?;
                visit = back;
                if let Some(more) = visit.ended(followed)? {
                    break more;
                }
                after = visit.resume.take();
            };
            (page, sel) = (visit.page, visit.sel);
        }
        let units = read_units(page.bytes as usize, input.consistent_read.unwrap_or(false));
        let capacity = consumed(
            input.return_consumed_capacity.as_deref(),
            &meta.table_name,
            units,
        );
        page.finish(more, &sel, capacity)
    }
}

/// A partition's parallel-scan segment: FNV-1a of its key, so every item lands in exactly one
/// segment of any TotalSegments.
fn segment_of(pk: &[u8], total: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in pk {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % total.max(1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefix_successor_bounds_begins_with() {
        assert_eq!(super::prefix_successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(super::prefix_successor(&[0x61, 0xff]), Some(vec![0x62]));
        assert_eq!(super::prefix_successor(&[0xff, 0xff]), None);
    }
}
