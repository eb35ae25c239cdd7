//! Finding the first byte of a set in text, eight bytes at a time: the inner loop of the
//! pull reader (`providers::scan`, the end of a string's plain run) and of the JSON writer
//! (`json`, the end of a run it copies as is).
//!
//! A set is given twice: as a function flagging a word's bytes (the high bit of each byte
//! in the set, built from [`has_byte`] and [`below`], the "has a zero byte" bit trick, whose
//! lowest flagged byte is always a real one: false flags come only above a real one), and
//! as a table for the bytes after the last whole word.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is `byte` (and maybe of bytes above one that is).
#[inline(always)]
pub(crate) fn has_byte(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGH
}

/// The high bit of each byte of `word` below `limit` (at most 0x80; and maybe of bytes above
/// one that is).
#[inline(always)]
pub(crate) fn below(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGH
}

/// The high bit of each byte of `word` at or above 0x80.
#[inline(always)]
pub(crate) fn non_ascii(word: u64) -> u64 {
    word & HIGH
}

/// The position of the first byte of `bytes` in the set, `None` if there is none:
/// `flagged` marks a word's bytes in the set, `table` says it of one byte.
#[inline(always)]
pub(crate) fn first_in(
    bytes: &[u8],
    flagged: impl Fn(u64) -> u64,
    table: &[bool; 256],
) -> Option<usize> {
    let mut i = 0;
    while let Some(word) = bytes
        .get(i..i + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        let found = flagged(u64::from_le_bytes(word));
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes
        .get(i..)?
        .iter()
        .position(|&c| table[usize::from(c)])
        .map(|p| i + p)
}
