//! NHS numbers: stetho's `nhs_number` modifier.
//!
//! An NHS number is ten digits whose last digit is a Modulus 11 check digit
//! over the first nine (weights 10 down to 2). About one random ten-digit
//! string in eleven passes the check, and so do repdigits such as
//! `1111111111`, which are never issued; both are why a regex is not
//! enough. Numbers are recognised written together (`9434765919`) or grouped
//! 3-3-4 with single spaces or hyphens (`943 476 5919`, `943-476-5919`), and
//! never as part of a longer run of digits.

/// Whether ten digits form a valid, issuable-looking NHS number.
pub fn is_valid(digits: &[u8; 10]) -> bool {
    if digits.iter().all(|d| *d == digits[0]) {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == u32::from(digits[9])
}

/// Every valid NHS number in `text`, in order of appearance (with repeats):
/// byte offset, length as written (10, or 12 when grouped), digits.
fn scan(text: &str) -> Vec<(usize, usize, [u8; 10])> {
    scan_from(text.as_bytes(), 0)
}

/// [`scan`] over bytes, for numbers starting at `from` or later; the bytes
/// before `from` are context only (a number must not continue a run of
/// digits). What is found at an offset depends on the byte before it and
/// the 13 from it, so a long text can be scanned in overlapping windows.
fn scan_from(bytes: &[u8], from: usize) -> Vec<(usize, usize, [u8; 10])> {
    let mut found = Vec::new();
    let mut i = from;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        if let Some((digits, len)) = candidate(&bytes[i..]) {
            let next = bytes.get(i + len);
            if !next.is_some_and(u8::is_ascii_digit) && is_valid(&digits) {
                found.push((i, len, digits));
                i += len;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// Valid NHS numbers in `text`, in order of appearance (with repeats).
pub fn find_all(text: &str) -> Vec<[u8; 10]> {
    scan(text)
        .into_iter()
        .map(|(_, _, digits)| digits)
        .collect()
}

/// Ten digits at the start of `s`, together or as 3-3-4 groups with one
/// separator (space or hyphen) used consistently.
fn candidate(s: &[u8]) -> Option<([u8; 10], usize)> {
    let digit = |b: u8| b.is_ascii_digit().then(|| b - b'0');
    let mut out = [0u8; 10];
    if s.len() >= 10 && s[..10].iter().all(u8::is_ascii_digit) {
        for (o, b) in out.iter_mut().zip(&s[..10]) {
            *o = b - b'0';
        }
        return Some((out, 10));
    }
    if s.len() >= 12 {
        let sep = s[3];
        if (sep == b' ' || sep == b'-') && s[7] == sep {
            let positions = [0, 1, 2, 4, 5, 6, 8, 9, 10, 11];
            for (o, &p) in out.iter_mut().zip(&positions) {
                *o = digit(s[p])?;
            }
            return Some((out, 12));
        }
    }
    None
}

/// Valid NHS numbers outside the never-issued 999 range, with their byte
/// offsets: numbers that may belong to real patients. Fixtures must only
/// hold 999-range test numbers.
pub fn real_looking(text: &str) -> Vec<(usize, usize, [u8; 10])> {
    real_looking_from(text.as_bytes(), 0)
}

/// [`real_looking`] for text that people write rather than systems record
/// (rules, value lists): a number must also stand apart from letters, so
/// that the decimal runs inside identifiers such as UUIDs
/// (`...-afe6-9598926222c1`) are not taken for one.
pub fn real_looking_standalone(text: &str) -> Vec<(usize, usize, [u8; 10])> {
    let bytes = text.as_bytes();
    real_looking(text)
        .into_iter()
        .filter(|&(start, len, _)| {
            let before = start.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(start + len).copied();
            ![before, after]
                .into_iter()
                .flatten()
                .any(|b| b.is_ascii_alphanumeric())
        })
        .collect()
}

/// [`real_looking`] over bytes (any encoding: the digits and separators
/// are ASCII), for numbers starting at `from` or later, the bytes before
/// it being context (see [`scan_from`]).
pub fn real_looking_from(bytes: &[u8], from: usize) -> Vec<(usize, usize, [u8; 10])> {
    scan_from(bytes, from)
        .into_iter()
        .filter(|(_, _, digits)| digits[..3] != [9, 9, 9])
        .collect()
}

/// Hide the digits of each number `found` in `text` (same offsets), for
/// reports that show the text around a possible patient identifier.
pub fn mask(text: &mut [u8], found: &[(usize, usize, [u8; 10])]) {
    for &(start, len, _) in found {
        for b in &mut text[start..start + len] {
            if b.is_ascii_digit() {
                *b = b'*';
            }
        }
    }
}

/// The longest a number is as written, plus the byte after it that must
/// not be a digit: what a window must hold past a start it decides.
pub const LOOKAHEAD: usize = 13;

/// An NHS number with all but its last three digits hidden, for messages
/// that must not repeat patient identifiers.
pub fn masked(digits: &[u8; 10]) -> String {
    format!("*******{}{}{}", digits[7], digits[8], digits[9])
}

/// How many distinct valid NHS numbers `text` holds.
pub fn count_distinct(text: &str) -> usize {
    let mut all = find_all(text);
    all.sort_unstable();
    all.dedup();
    all.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_and_repdigits() {
        assert_eq!(count_distinct("9434765919"), 1);
        assert_eq!(count_distinct("9434765918"), 0);
        assert_eq!(count_distinct("1111111111 0000000000"), 0);
    }

    #[test]
    fn real_looking_numbers_exclude_the_test_range() {
        let found = real_looking("test 9991000003, real 9434765919 and 943 476 5919");
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].0, found[0].1), (22, 10));
        assert_eq!(found[1].1, 12);
        assert_eq!(masked(&found[0].2), "*******919");
    }

    #[test]
    fn standalone_numbers_exclude_runs_inside_identifiers() {
        let text = "id: 220457c1-1c9f-4c2e-afe6-9598926222c1\nnote: 943 476 5919, x9434765919";
        let found = real_looking_standalone(text);
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].0..found[0].0 + found[0].1], "943 476 5919");
        assert_eq!(real_looking(text).len(), 3);
    }

    #[test]
    fn context_before_the_start_is_read_not_searched() {
        // The digit before offset 1 makes `434765919...` part of a longer run.
        assert!(real_looking_from(b"99434765919", 1).is_empty());
        assert_eq!(real_looking_from(b"x 9434765919", 2).len(), 1);
        assert!(real_looking_from(b"9434765919 x", 1).is_empty());
    }

    #[test]
    fn grouping_and_boundaries() {
        assert_eq!(count_distinct("patients 943 476 5919, 943-476-5919"), 1);
        assert_eq!(count_distinct("id=99434765919"), 0);
        assert_eq!(count_distinct("943 476-5919"), 0);
        assert_eq!(count_distinct("9991000003 9991007911"), 2);
    }
}
