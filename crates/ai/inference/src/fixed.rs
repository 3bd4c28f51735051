//! Fixed-point numbers for Solidity, which has no floats: a value `v` stands for
//! `v / 10^6`. Conversions go through f64 with Rust's `as` casts, which IEEE 754 defines
//! exactly (round to nearest, ties to even), so every machine converts alike.

/// Fixed-point scale: six decimals.
pub const SCALE: f64 = 1_000_000.0;
/// Largest magnitude accepted or returned, so that every value converts to and from f32
/// without saturating.
pub const MAX_ABS: i128 = 10i128.pow(36);

/// The f32 a fixed-point value stands for; `None` beyond [`MAX_ABS`].
pub fn to_f32(v: i128) -> Option<f32> {
    if v.unsigned_abs() > MAX_ABS as u128 {
        return None;
    }
    Some((v as f64 / SCALE) as f32)
}

/// The fixed-point value nearest `x`; `None` for NaN, infinities and beyond [`MAX_ABS`].
pub fn from_f32(x: f32) -> Option<i128> {
    if !x.is_finite() {
        return None;
    }
    let scaled = (x as f64 * SCALE).round();
    if scaled.abs() > MAX_ABS as f64 {
        return None;
    }
    Some(scaled as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_bounds() {
        assert_eq!(to_f32(1_500_000), Some(1.5));
        assert_eq!(to_f32(-250_000), Some(-0.25));
        assert_eq!(from_f32(1.5), Some(1_500_000));
        assert_eq!(from_f32(-0.25), Some(-250_000));
        assert_eq!(from_f32(f32::NAN), None);
        assert_eq!(from_f32(f32::INFINITY), None);
        assert_eq!(from_f32(f32::MAX), None);
        assert_eq!(to_f32(MAX_ABS + 1), None);
        assert!(to_f32(-MAX_ABS).is_some());
        // 0.1 is not an f32; the nearest one, scaled, rounds back to 100000.
        assert_eq!(from_f32(to_f32(100_000).unwrap()), Some(100_000));
    }
}
