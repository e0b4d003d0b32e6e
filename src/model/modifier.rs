//! Sigma value modifiers (`field|contains|all`), by name.
//!
//! Every modifier of the Sigma specification v2.1 plus stetho's namespaced
//! extension `nhs_number`. Names are matched exactly as pySigma does
//! (lower case), with pySigma's long aliases for the regex flags.

/// A value modifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Windash,
    Base64,
    Base64Offset,
    Utf16le,
    Utf16be,
    Utf16,
    Wide,
    Re,
    IgnoreCase,
    Multiline,
    DotAll,
    Cidr,
    Exists,
    Fieldref,
    Gt,
    Gte,
    Lt,
    Lte,
    Neq,
    Cased,
    Expand,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    NhsNumber,
}

/// What a modifier does to a value, for the chain checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// contains / startswith / endswith: where the value sits in the field.
    Position,
    /// all: AND instead of OR across the values.
    Linking,
    /// windash, base64, base64offset, utf16*, wide: rewrite the value.
    Transform,
    /// re and its flags.
    Regex,
    RegexFlag,
    /// cidr, exists, fieldref, nhs_number: the value is not a string pattern.
    Special,
    /// gt/gte/lt/lte: numeric comparison.
    Numeric,
    /// neq, cased, expand: adjust how other modifiers apply.
    Adjust,
    /// minute..year: take a part of a timestamp.
    TimePart,
}

const TABLE: &[(&str, Modifier)] = &[
    ("contains", Modifier::Contains),
    ("startswith", Modifier::StartsWith),
    ("endswith", Modifier::EndsWith),
    ("all", Modifier::All),
    ("windash", Modifier::Windash),
    ("base64", Modifier::Base64),
    ("base64offset", Modifier::Base64Offset),
    ("utf16le", Modifier::Utf16le),
    ("utf16be", Modifier::Utf16be),
    ("utf16", Modifier::Utf16),
    ("wide", Modifier::Wide),
    ("re", Modifier::Re),
    ("i", Modifier::IgnoreCase),
    ("ignorecase", Modifier::IgnoreCase),
    ("m", Modifier::Multiline),
    ("multiline", Modifier::Multiline),
    ("s", Modifier::DotAll),
    ("dotall", Modifier::DotAll),
    ("cidr", Modifier::Cidr),
    ("exists", Modifier::Exists),
    ("fieldref", Modifier::Fieldref),
    ("gt", Modifier::Gt),
    ("gte", Modifier::Gte),
    ("lt", Modifier::Lt),
    ("lte", Modifier::Lte),
    ("neq", Modifier::Neq),
    ("cased", Modifier::Cased),
    ("expand", Modifier::Expand),
    ("minute", Modifier::Minute),
    ("hour", Modifier::Hour),
    ("day", Modifier::Day),
    ("week", Modifier::Week),
    ("month", Modifier::Month),
    ("year", Modifier::Year),
    ("nhs_number", Modifier::NhsNumber),
];

impl Modifier {
    /// Parse a modifier name as written after `|`.
    pub fn parse(name: &str) -> Option<Modifier> {
        TABLE.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    /// Every accepted spelling, for "did you mean" hints and documentation.
    pub fn names() -> impl Iterator<Item = &'static str> {
        TABLE.iter().map(|(n, _)| *n)
    }

    /// The canonical spelling.
    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("", |(n, _)| *n)
    }

    pub fn group(self) -> Group {
        use Modifier::*;
        match self {
            Contains | StartsWith | EndsWith => Group::Position,
            All => Group::Linking,
            Windash | Base64 | Base64Offset | Utf16le | Utf16be | Utf16 | Wide => Group::Transform,
            Re => Group::Regex,
            IgnoreCase | Multiline | DotAll => Group::RegexFlag,
            Cidr | Exists | Fieldref | NhsNumber => Group::Special,
            Gt | Gte | Lt | Lte => Group::Numeric,
            Neq | Cased | Expand => Group::Adjust,
            Minute | Hour | Day | Week | Month | Year => Group::TimePart,
        }
    }

    /// Whether the modifier needs the value to be a number.
    pub fn needs_number(self) -> bool {
        matches!(self.group(), Group::Numeric | Group::TimePart) || self == Modifier::NhsNumber
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_name_and_alias() {
        for name in Modifier::names() {
            assert!(Modifier::parse(name).is_some(), "{name}");
        }
        assert_eq!(Modifier::parse("ignorecase"), Some(Modifier::IgnoreCase));
        assert_eq!(Modifier::parse("Contains"), None);
        assert_eq!(Modifier::parse("contians"), None);
    }
}
