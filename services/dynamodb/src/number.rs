//! DynamoDB numbers: decimal, up to 38 significant digits, magnitudes 1E-130 to
//! 9.99…E+125. Kept as sign + digits + exponent (never a float), compared numerically, printed
//! canonically (no leading or trailing zeros, no exponent) and encoded for keys so that byte
//! order is numeric order.

use crate::errors::{DynamoError, Result};
use std::cmp::Ordering;

const MAX_DIGITS: usize = 38;
/// Value = 0.d1d2… × 10^exp; these bound exp for 1E-130 ..= 9.99…E+125.
const MIN_EXP: i32 = -129;
const MAX_EXP: i32 = 126;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    neg: bool,
    /// Significant digits (0-9), no leading or trailing zeros; empty for zero.
    digits: Vec<u8>,
    exp: i32,
}

fn not_a_number() -> DynamoError {
    DynamoError::validation("A value provided cannot be converted into a number")
}

impl Number {
    pub fn zero() -> Self {
        Self {
            neg: false,
            digits: Vec::new(),
            exp: 0,
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        let b = text.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            neg = b[i] == b'-';
            i += 1;
        }
        let mut digits = Vec::new();
        let mut int_digits: i64 = 0;
        let mut seen_digit = false;
        let mut seen_point = false;
        while i < b.len() {
            match b[i] {
                c @ b'0'..=b'9' => {
                    seen_digit = true;
                    digits.push(c - b'0');
                    if !seen_point {
                        int_digits += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                b'e' | b'E' => break,
                _ => return Err(not_a_number()),
            }
            i += 1;
        }
        if !seen_digit {
            return Err(not_a_number());
        }
        let mut exp10: i64 = 0;
        if i < b.len() {
            i += 1; // the 'e'
            let mut eneg = false;
            if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
                eneg = b[i] == b'-';
                i += 1;
            }
            if i >= b.len() {
                return Err(not_a_number());
            }
            while i < b.len() {
                match b[i] {
                    c @ b'0'..=b'9' => {
                        // Saturate: anything this large over- or underflows anyway.
                        exp10 = (exp10 * 10 + i64::from(c - b'0')).min(1_000_000);
                    }
                    _ => return Err(not_a_number()),
                }
                i += 1;
            }
            if eneg {
                exp10 = -exp10;
            }
        }
        // Value = 0.digits × 10^(int_digits + exp10); now strip leading zeros.
        let lead = digits.iter().take_while(|d| **d == 0).count();
        let mut exp = int_digits + exp10 - lead as i64;
        digits.drain(..lead);
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Ok(Self::zero());
        }
        if digits.len() > MAX_DIGITS {
            return Err(DynamoError::validation(
                "Attempting to store more than 38 significant digits in a Number",
            ));
        }
        exp = exp.clamp(i64::from(i32::MIN / 2), i64::from(i32::MAX / 2));
        let n = Self {
            neg,
            digits,
            exp: exp as i32,
        };
        n.check_range()?;
        Ok(n)
    }

    fn check_range(&self) -> Result<()> {
        if self.digits.is_empty() {
            return Ok(());
        }
        if self.digits.len() > MAX_DIGITS {
            return Err(DynamoError::validation(
                "Attempting to store more than 38 significant digits in a Number",
            ));
        }
        if self.exp > MAX_EXP {
            return Err(DynamoError::validation(
                "Number overflow. Attempting to store a number with magnitude larger than supported range",
            ));
        }
        if self.exp < MIN_EXP {
            return Err(DynamoError::validation(
                "Number underflow. Attempting to store a number with magnitude smaller than supported range",
            ));
        }
        Ok(())
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Significant digits (for item size).
    pub fn significant_digits(&self) -> usize {
        self.digits.len()
    }

    /// Order-preserving bytes: memcmp of two encodings is the numeric comparison.
    pub fn key_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.digits.len() + 4);
        if self.digits.is_empty() {
            out.push(0x02);
            return out;
        }
        // Exponents are within ±200, so a biased u16 is always positive.
        let biased = (self.exp + 1000) as u16;
        if self.neg {
            out.push(0x01);
            out.extend_from_slice(&(u16::MAX - biased).to_be_bytes());
            // Complemented digits and a terminator above them: among negatives a longer digit
            // string with the same prefix is the smaller number.
            out.extend(self.digits.iter().map(|d| 10 - d));
            out.push(0xff);
        } else {
            out.push(0x03);
            out.extend_from_slice(&biased.to_be_bytes());
            out.extend(self.digits.iter().map(|d| d + 1));
        }
        out
    }

    pub fn negate(&self) -> Self {
        let mut n = self.clone();
        if !n.digits.is_empty() {
            n.neg = !n.neg;
        }
        n
    }

    /// Exact sum; errors when the result cannot be stored.
    pub fn add(&self, other: &Self) -> Result<Self> {
        if self.is_zero() {
            return Ok(other.clone());
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        // Align both as integers times 10^scale (scale = exponent of the last digit).
        let last = |n: &Self| n.exp - n.digits.len() as i32;
        let scale = last(self).min(last(other));
        let widen = |n: &Self| {
            let mut d = n.digits.clone();
            d.extend(std::iter::repeat_n(0, (last(n) - scale) as usize));
            d
        };
        let (a, b) = (widen(self), widen(other));
        let (neg, mag) = if self.neg == other.neg {
            (self.neg, add_mag(&a, &b))
        } else {
            match cmp_mag(&a, &b) {
                Ordering::Equal => return Ok(Self::zero()),
                Ordering::Greater => (self.neg, sub_mag(&a, &b)),
                Ordering::Less => (other.neg, sub_mag(&b, &a)),
            }
        };
        let lead = mag.iter().take_while(|d| **d == 0).count();
        let mut digits = mag[lead..].to_vec();
        let exp = scale + digits.len() as i32;
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Ok(Self::zero());
        }
        let n = Self { neg, digits, exp };
        n.check_range()?;
        Ok(n)
    }

    pub fn sub(&self, other: &Self) -> Result<Self> {
        self.add(&other.negate())
    }
}

fn cmp_mag(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |x: &[u8]| {
        let lead = x.iter().take_while(|d| **d == 0).count();
        x[lead..].to_vec()
    };
    let (a, b) = (strip(a), strip(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(&b))
}

/// Sum of two right-aligned digit strings.
fn add_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let n = a.len().max(b.len());
    let mut out = vec![0u8; n + 1];
    let mut carry = 0;
    for i in 0..n {
        let x = if i < a.len() { a[a.len() - 1 - i] } else { 0 };
        let y = if i < b.len() { b[b.len() - 1 - i] } else { 0 };
        let s = x + y + carry;
        out[n - i] = s % 10;
        carry = s / 10;
    }
    out[0] = carry;
    out
}

/// a - b for |a| > |b|, right-aligned.
fn sub_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let n = a.len().max(b.len());
    let mut out = vec![0u8; n];
    let mut borrow = 0i8;
    for i in 0..n {
        let x = if i < a.len() {
            a[a.len() - 1 - i] as i8
        } else {
            0
        };
        let y = if i < b.len() {
            b[b.len() - 1 - i] as i8
        } else {
            0
        };
        let mut s = x - y - borrow;
        borrow = 0;
        if s < 0 {
            s += 10;
            borrow = 1;
        }
        out[n - 1 - i] = s as u8;
    }
    out
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key_bytes().cmp(&other.key_bytes())
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.digits.is_empty() {
            return f.write_str("0");
        }
        let mut s = String::with_capacity(self.digits.len() + 8);
        if self.neg {
            s.push('-');
        }
        let ds: String = self.digits.iter().map(|d| (b'0' + d) as char).collect();
        let len = self.digits.len() as i32;
        if self.exp <= 0 {
            s.push_str("0.");
            s.extend(std::iter::repeat_n('0', (-self.exp) as usize));
            s.push_str(&ds);
        } else if self.exp >= len {
            s.push_str(&ds);
            s.extend(std::iter::repeat_n('0', (self.exp - len) as usize));
        } else {
            s.push_str(&ds[..self.exp as usize]);
            s.push('.');
            s.push_str(&ds[self.exp as usize..]);
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).expect(s)
    }

    #[test]
    fn canonical_forms() {
        for (input, out) in [
            ("1.0", "1"),
            ("01", "1"),
            ("-0", "0"),
            ("1e2", "100"),
            ("0.10", "0.1"),
            ("-.5", "-0.5"),
            ("+7", "7"),
            ("123.456", "123.456"),
            ("1E-130", &format!("0.{}1", "0".repeat(129))),
        ] {
            assert_eq!(n(input).to_string(), out, "{input}");
        }
    }

    #[test]
    fn rejects_what_dynamodb_rejects() {
        for bad in [
            "", "abc", "1e", "--1", "1.2.3", " 1", "0x10", "NaN", "Infinity",
        ] {
            assert!(Number::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Number::parse(&"1".repeat(39)).is_err());
        assert!(Number::parse(&format!("{}000", "1".repeat(38))).is_ok());
        assert!(Number::parse("1E126").is_err());
        assert!(Number::parse("9.9999E125").is_ok());
        assert!(Number::parse("1E-131").is_err());
    }

    #[test]
    fn orders_numerically() {
        let sorted = [
            "-1E125", "-100", "-10.5", "-10", "-2", "-1.5", "-1", "-0.001", "0", "1E-130", "0.001",
            "0.1", "0.12", "0.123", "1", "1.5", "2", "10", "10.5", "100", "9.99E125",
        ];
        for w in sorted.windows(2) {
            let (a, b) = (n(w[0]), n(w[1]));
            assert!(a < b, "{} < {}", w[0], w[1]);
            assert!(a.key_bytes() < b.key_bytes(), "bytes {} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn exact_arithmetic() {
        assert_eq!(n("0.1").add(&n("0.2")).expect("sum").to_string(), "0.3");
        assert_eq!(n("1").sub(&n("1")).expect("diff").to_string(), "0");
        assert_eq!(n("5").sub(&n("7.25")).expect("diff").to_string(), "-2.25");
        assert_eq!(n("-5").add(&n("-5")).expect("sum").to_string(), "-10");
        assert_eq!(n("999").add(&n("1")).expect("sum").to_string(), "1000");
        let big = "9".repeat(38);
        assert!(n(&big).add(&n("0.1")).is_err());
        assert_eq!(
            n(&big).add(&n("1")).expect("sum").to_string(),
            format!("1{}", "0".repeat(38))
        );
    }
}
