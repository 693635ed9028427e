//! Function names as callers may give them: `name`, `account:function:name` or the full ARN,
//! each optionally ending in `:qualifier`.

use crate::errors::LambdaError;
use cloudemu_core::RequestContext;

/// A function reference resolved against the request's account and region.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRef {
    pub name: String,
    pub qualifier: Option<String>,
}

pub fn function_arn(ctx: &RequestContext, name: &str) -> String {
    format!(
        "arn:aws:lambda:{}:{}:function:{}",
        ctx.region, ctx.account_id, name
    )
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Resolve a `FunctionName` parameter. A name or ARN that cannot be a function answers
/// `ValidationException` as Lambda does; an ARN of another account or region cannot name a
/// function here, so it is not found.
pub fn resolve(ctx: &RequestContext, given: &str) -> Result<FunctionRef, LambdaError> {
    let parts: Vec<&str> = given.split(':').collect();
    let (account, region, rest) = match parts.as_slice() {
        ["arn", _partition, "lambda", region, account, "function", rest @ ..] => {
            (Some(*account), Some(*region), rest)
        }
        [account, "function", rest @ ..] => (Some(*account), None, rest),
        rest => (None, None, rest),
    };
    let (name, qualifier) = match rest {
        [name] => (*name, None),
        [name, q] => (*name, Some((*q).to_string())),
        _ => return Err(invalid_name(given)),
    };
    if !valid_name(name) || qualifier.as_deref() == Some("") {
        return Err(invalid_name(given));
    }
    if account.is_some_and(|a| a != ctx.account_id) || region.is_some_and(|r| r != ctx.region) {
        return Err(LambdaError::FunctionNotFound(given.to_string()));
    }
    Ok(FunctionRef {
        name: name.to_string(),
        qualifier,
    })
}

fn invalid_name(given: &str) -> LambdaError {
    LambdaError::Validation(format!(
        "1 validation error detected: Value '{given}' at 'functionName' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: \
         (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?\
         (function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext {
            request_id: "r".into(),
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
            access_key_id: None,
            host: "localhost".into(),
            operation: "GetFunction".into(),
        }
    }

    #[test]
    fn every_form_of_a_name_resolves() {
        let c = ctx();
        let plain = FunctionRef {
            name: "f-1".into(),
            qualifier: None,
        };
        assert_eq!(resolve(&c, "f-1").expect("name"), plain);
        assert_eq!(
            resolve(&c, "000000000000:function:f-1").expect("partial"),
            plain
        );
        assert_eq!(
            resolve(&c, "arn:aws:lambda:us-east-1:000000000000:function:f-1").expect("arn"),
            plain
        );
        let q = resolve(
            &c,
            "arn:aws:lambda:us-east-1:000000000000:function:f-1:live",
        )
        .expect("q");
        assert_eq!(q.qualifier.as_deref(), Some("live"));
        assert!(matches!(
            resolve(&c, "bad name"),
            Err(LambdaError::Validation(_))
        ));
        assert!(matches!(
            resolve(&c, "arn:aws:lambda:eu-west-1:000000000000:function:f-1"),
            Err(LambdaError::FunctionNotFound(_))
        ));
    }
}
