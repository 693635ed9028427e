//! Queue attributes: AWS's defaults (echoed as strings exactly as AWS does), the range of every
//! settable attribute, and which apply to FIFO queues only.

use crate::errors::SqsError;
use crate::shapes::Attributes;
use serde_json::{Map, Value};

/// Settable attributes a new queue starts with.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("DelaySeconds", "0"),
    // AWS raised the limit and the default to 1 MiB in 2025.
    ("MaximumMessageSize", "1048576"),
    ("MessageRetentionPeriod", "345600"),
    ("ReceiveMessageWaitTimeSeconds", "0"),
    ("VisibilityTimeout", "30"),
    ("SqsManagedSseEnabled", "true"),
];

const FIFO_DEFAULTS: &[(&str, &str)] = &[
    ("FifoQueue", "true"),
    ("ContentBasedDeduplication", "false"),
    ("DeduplicationScope", "queue"),
    ("FifoThroughputLimit", "perQueue"),
];

/// Attributes computed on read.
pub const COMPUTED: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

const SETTABLE: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "Policy",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

const FIFO_ONLY: &[&str] = &[
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

fn int_in(name: &str, v: &str, lo: i64, hi: i64) -> Result<(), SqsError> {
    match v.trim().parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(()),
        _ => Err(SqsError::InvalidAttributeValue(name.to_string())),
    }
}

fn one_of(name: &str, v: &str, allowed: &[&str]) -> Result<(), SqsError> {
    if allowed.contains(&v) {
        Ok(())
    } else {
        Err(SqsError::InvalidAttributeValue(name.to_string()))
    }
}

/// Check one attribute's value as SQS does.
fn check(name: &str, v: &str, fifo: bool) -> Result<(), SqsError> {
    if !SETTABLE.contains(&name) {
        return Err(SqsError::InvalidAttributeName(name.to_string()));
    }
    if FIFO_ONLY.contains(&name) && !fifo {
        return Err(SqsError::InvalidAttributeName(name.to_string()));
    }
    match name {
        "DelaySeconds" => int_in(name, v, 0, 900),
        "MaximumMessageSize" => int_in(name, v, 1024, 1_048_576),
        "MessageRetentionPeriod" => int_in(name, v, 60, 1_209_600),
        "ReceiveMessageWaitTimeSeconds" => int_in(name, v, 0, 20),
        "VisibilityTimeout" => int_in(name, v, 0, 43_200),
        "KmsDataKeyReusePeriodSeconds" => int_in(name, v, 60, 86_400),
        "SqsManagedSseEnabled" | "ContentBasedDeduplication" | "FifoQueue" => {
            one_of(name, v, &["true", "false"])
        }
        "DeduplicationScope" => one_of(name, v, &["messageGroup", "queue"]),
        "FifoThroughputLimit" => one_of(name, v, &["perQueue", "perMessageGroupId"]),
        "Policy" => {
            if v.is_empty() || matches!(serde_json::from_str::<Value>(v), Ok(Value::Object(_))) {
                Ok(())
            } else {
                Err(SqsError::InvalidAttributeValue(name.to_string()))
            }
        }
        "RedrivePolicy" => check_redrive_policy(v),
        "RedriveAllowPolicy" => check_redrive_allow_policy(v),
        _ => Ok(()),
    }
}

/// `deadLetterTargetArn` and `maxReceiveCount` (1..1000, a number or a numeric string).
pub fn parse_redrive_policy(v: &str) -> Option<(String, i64)> {
    let p: Map<String, Value> = serde_json::from_str(v).ok()?;
    let arn = p.get("deadLetterTargetArn")?.as_str()?.to_string();
    let count = match p.get("maxReceiveCount")? {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some((arn, count))
}

fn check_redrive_policy(v: &str) -> Result<(), SqsError> {
    if v.is_empty() {
        return Ok(());
    }
    match parse_redrive_policy(v) {
        Some((arn, n)) if (1..=1000).contains(&n) && arn.starts_with("arn:") => Ok(()),
        _ => Err(SqsError::InvalidParameterValue(format!(
            "Value {v} for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map or is missing deadLetterTargetArn or maxReceiveCount."
        ))),
    }
}

/// Who may use a queue as dead-letter queue.
pub enum RedriveAllow {
    All,
    Deny,
    ByQueue(Vec<String>),
}

pub fn parse_redrive_allow_policy(v: &str) -> Option<RedriveAllow> {
    let p: Map<String, Value> = serde_json::from_str(v).ok()?;
    match p.get("redrivePermission")?.as_str()? {
        "allowAll" => Some(RedriveAllow::All),
        "denyAll" => Some(RedriveAllow::Deny),
        "byQueue" => {
            let arns = p
                .get("sourceQueueArns")?
                .as_array()?
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect::<Vec<_>>();
            (!arns.is_empty() && arns.len() <= 10).then_some(RedriveAllow::ByQueue(arns))
        }
        _ => None,
    }
}

fn check_redrive_allow_policy(v: &str) -> Result<(), SqsError> {
    if v.is_empty() || parse_redrive_allow_policy(v).is_some() {
        Ok(())
    } else {
        Err(SqsError::InvalidParameterValue(format!(
            "Value {v} for parameter RedriveAllowPolicy is invalid. Reason: Invalid value for the parameter RedriveAllowPolicy."
        )))
    }
}

/// The attributes of a new queue: defaults overlaid with the request's, all checked.
pub fn initial(requested: &Attributes, fifo: bool) -> Result<Map<String, Value>, SqsError> {
    let mut out = Map::new();
    for (k, v) in DEFAULTS {
        out.insert(k.to_string(), Value::String(v.to_string()));
    }
    if fifo {
        for (k, v) in FIFO_DEFAULTS {
            out.insert(k.to_string(), Value::String(v.to_string()));
        }
    }
    apply(&mut out, requested, fifo, true)?;
    Ok(out)
}

/// Apply `changes` to `attrs` after checking every one (nothing changes if one is bad).
pub fn apply(
    attrs: &mut Map<String, Value>,
    changes: &Attributes,
    fifo: bool,
    creating: bool,
) -> Result<(), SqsError> {
    for (k, v) in changes {
        check(k, v, fifo)?;
        if k == "FifoQueue" && !creating {
            return Err(SqsError::InvalidAttributeName(k.clone()));
        }
    }
    let mut next = attrs.clone();
    for (k, v) in changes {
        if v.is_empty()
            && matches!(
                k.as_str(),
                "Policy" | "RedrivePolicy" | "RedriveAllowPolicy" | "KmsMasterKeyId"
            )
        {
            // An empty value removes these.
            next.remove(k);
        } else {
            next.insert(k.clone(), Value::String(v.clone()));
        }
    }
    if changes.contains_key("KmsMasterKeyId") && !changes.contains_key("SqsManagedSseEnabled") {
        // One server-side encryption at a time: a KMS key turns SSE-SQS off.
        next.insert("SqsManagedSseEnabled".into(), Value::String("false".into()));
    }
    if next.contains_key("KmsMasterKeyId") && !next.contains_key("KmsDataKeyReusePeriodSeconds") {
        next.insert(
            "KmsDataKeyReusePeriodSeconds".into(),
            Value::String("300".into()),
        );
    }
    if fifo
        && next.get("FifoThroughputLimit").and_then(Value::as_str) == Some("perMessageGroupId")
        && next.get("DeduplicationScope").and_then(Value::as_str) == Some("queue")
        && changes.contains_key("FifoThroughputLimit")
    {
        return Err(SqsError::InvalidAttributeValue(
            "FifoThroughputLimit".into(),
        ));
    }
    *attrs = next;
    Ok(())
}

/// Whether `name` is an attribute GetQueueAttributes knows.
pub fn known(name: &str) -> bool {
    name == "All" || SETTABLE.contains(&name) || COMPUTED.contains(&name)
}
