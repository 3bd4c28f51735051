//! EIP-1767's scalars, formatted as geth formats them: every one a `0x` hex string on
//! output (`Long` included, as since geth 1.12); on input `Long` and `BigInt` take a number,
//! a decimal string or a `0x` string, the others a `0x` string of the right length.

use alloy_primitives::{Address as A, B256, Bytes as Raw, U256};
use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

fn hex_input(value: &Value) -> Result<&str, String> {
    match value {
        Value::String(s) => s
            .strip_prefix("0x")
            .ok_or_else(|| "expected a 0x-prefixed hex string".to_string()),
        _ => Err("expected a 0x-prefixed hex string".to_string()),
    }
}

/// A 32-byte hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bytes32(pub B256);

#[Scalar(name = "Bytes32")]
impl ScalarType for Bytes32 {
    fn parse(value: Value) -> InputValueResult<Self> {
        let h = hex_input(&value).map_err(InputValueError::custom)?;
        if h.len() != 64 {
            return Err(InputValueError::custom("expected 32 bytes"));
        }
        format!("0x{h}")
            .parse()
            .map(Self)
            .map_err(|e| InputValueError::custom(e.to_string()))
    }
    fn to_value(&self) -> Value {
        Value::String(format!("{:#x}", self.0))
    }
}

/// A 20-byte address (lower case on output, as geth).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address(pub A);

#[Scalar(name = "Address")]
impl ScalarType for Address {
    fn parse(value: Value) -> InputValueResult<Self> {
        let h = hex_input(&value).map_err(InputValueError::custom)?;
        if h.len() != 40 {
            return Err(InputValueError::custom("expected 20 bytes"));
        }
        format!("0x{h}")
            .parse()
            .map(Self)
            .map_err(|e| InputValueError::custom(e.to_string()))
    }
    fn to_value(&self) -> Value {
        Value::String(format!("0x{}", alloy_primitives::hex::encode(self.0)))
    }
}

/// Bytes of any length (`0x` when empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bytes(pub Raw);

#[Scalar(name = "Bytes")]
impl ScalarType for Bytes {
    fn parse(value: Value) -> InputValueResult<Self> {
        let h = hex_input(&value).map_err(InputValueError::custom)?;
        alloy_primitives::hex::decode(h)
            .map(|b| Self(b.into()))
            .map_err(|e| InputValueError::custom(e.to_string()))
    }
    fn to_value(&self) -> Value {
        Value::String(format!("0x{}", alloy_primitives::hex::encode(&self.0)))
    }
}

fn number_input(value: &Value) -> Result<U256, String> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .map(U256::from)
            .ok_or_else(|| "expected a non-negative integer".to_string()),
        Value::String(s) => match s.strip_prefix("0x") {
            Some(h) => U256::from_str_radix(h, 16),
            None => U256::from_str_radix(s, 10),
        }
        .map_err(|e| e.to_string()),
        _ => Err("expected an integer or a string".to_string()),
    }
}

/// A 256-bit unsigned integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BigInt(pub U256);

#[Scalar(name = "BigInt")]
impl ScalarType for BigInt {
    fn parse(value: Value) -> InputValueResult<Self> {
        number_input(&value)
            .map(Self)
            .map_err(InputValueError::custom)
    }
    fn to_value(&self) -> Value {
        Value::String(format!("{:#x}", self.0))
    }
}

/// A 64-bit unsigned integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Long(pub u64);

#[Scalar(name = "Long")]
impl ScalarType for Long {
    fn parse(value: Value) -> InputValueResult<Self> {
        let n = number_input(&value).map_err(InputValueError::custom)?;
        u64::try_from(n)
            .map(Self)
            .map_err(|_| InputValueError::custom("does not fit 64 bits"))
    }
    fn to_value(&self) -> Value {
        Value::String(format!("{:#x}", self.0))
    }
}
