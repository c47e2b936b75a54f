//! deb822 paragraphs: the control-file syntax of Packages, Sources, Release, `.dsc`,
//! `.buildinfo` and `debian/control`, parsed zero-copy from a `&str`, plus a deterministic
//! writer used to publish index files.
//!
//! This parser is hand-written on purpose: the existing crates (e.g. `deb822-lossless`) build
//! a lossless syntax tree and are far too slow for a full Debian index (63k stanzas, ~45 MB),
//! which this parser handles in a few tens of milliseconds. Field names compare
//! ASCII-case-insensitively; continuation lines start with a space or tab; lines starting
//! with `#` are comments only when [`ParseOptions::comments`] is set (`debian/control`).

use std::borrow::Cow;
use std::fmt;

/// Where and why parsing failed; displays as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {kind}", file.as_deref().unwrap_or("<input>"))]
pub struct Deb822Error {
    /// Caller-provided file name used for display, if any.
    pub file: Option<String>,
    /// 1-based line number of the offending line.
    pub line: usize,
    /// What went wrong.
    pub kind: Deb822ErrorKind,
}

/// The reasons a deb822 text or paragraph is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Deb822ErrorKind {
    /// A line that is neither a field, a continuation, a comment nor blank.
    #[error("expected `Field: value`, found a line without a colon: {0:?}")]
    MissingColon(String),
    /// A line starting with whitespace before any field of the paragraph.
    #[error("continuation line before any field: {0:?}")]
    ContinuationBeforeField(String),
    /// A field name that is empty or contains characters deb822 forbids.
    #[error("invalid field name {0:?}")]
    InvalidFieldName(String),
    /// The same field twice in one paragraph.
    #[error("duplicate field {0:?}")]
    DuplicateField(String),
    /// The input bytes are not UTF-8.
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// A value that cannot be written (e.g. a line of only whitespace after the first).
    #[error("field {0:?}: value cannot be represented in deb822")]
    UnrepresentableValue(String),
}

/// Parsing options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions<'f> {
    /// Treat lines starting with `#` as comments (true for `debian/control`).
    pub comments: bool,
    /// File name used in error messages.
    pub file: Option<&'f str>,
}

/// One `Name: value` field borrowed from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<'a> {
    name: &'a str,
    /// Everything after the colon through the last continuation line, without the final
    /// newline. Owned only when comment lines had to be cut out of a multi-line value.
    raw: Cow<'a, str>,
    line: usize,
}

impl<'a> Field<'a> {
    /// The field name as written.
    pub fn name(&self) -> &'a str {
        self.name
    }
    /// 1-based line number of the field's first line.
    pub fn line(&self) -> usize {
        self.line
    }
    /// The value with surrounding whitespace trimmed; continuation lines stay embedded
    /// (newline plus leading space), which suits whitespace-separated fields such as
    /// `Depends` or `Binary`.
    pub fn value(&self) -> &str {
        self.raw.trim()
    }
    /// The value line by line: the (trimmed) first line, then each continuation line with
    /// its single leading space removed and ` .` decoded to an empty line.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        let mut it = self.raw.split('\n');
        let first = it.next().unwrap_or("").trim();
        std::iter::once(first).chain(it.map(|l| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            let l = l.strip_prefix([' ', '\t']).unwrap_or(l);
            if l == "." {
                ""
            } else {
                l
            }
        }))
    }
    /// The logical value: [`Field::lines`] joined by `\n` (first line may be empty).
    pub fn multiline(&self) -> String {
        self.lines().collect::<Vec<_>>().join("\n")
    }
}

/// One paragraph (stanza) borrowed from the input, fields in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph<'a> {
    fields: Vec<Field<'a>>,
    line: usize,
}

impl<'a> Paragraph<'a> {
    /// 1-based line number of the paragraph's first field.
    pub fn line(&self) -> usize {
        self.line
    }
    /// All fields in input order.
    pub fn fields(&self) -> &[Field<'a>] {
        &self.fields
    }
    /// The field named `name` (ASCII case-insensitive).
    pub fn field(&self, name: &str) -> Option<&Field<'a>> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
    /// The trimmed value of field `name` (see [`Field::value`]).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.field(name).map(Field::value)
    }
    /// Copy into an owned, writable paragraph (values in their logical multi-line form).
    pub fn to_owned_paragraph(&self) -> OwnedParagraph {
        OwnedParagraph {
            fields: self
                .fields
                .iter()
                .map(|f| (f.name.to_owned(), f.multiline()))
                .collect(),
        }
    }
}

/// Iterator over the paragraphs of a deb822 text.
pub struct Paragraphs<'a, 'f> {
    text: &'a str,
    pos: usize,
    line: usize,
    opts: ParseOptions<'f>,
    failed: bool,
}

/// Iterate the paragraphs of `text` without comment support.
pub fn paragraphs(text: &str) -> Paragraphs<'_, 'static> {
    paragraphs_with(text, ParseOptions::default())
}

/// Iterate the paragraphs of `text` with explicit options.
pub fn paragraphs_with<'a, 'f>(text: &'a str, opts: ParseOptions<'f>) -> Paragraphs<'a, 'f> {
    Paragraphs {
        text,
        pos: 0,
        line: 0,
        opts,
        failed: false,
    }
}

/// Parse every paragraph of `text` (no comments), failing on the first error.
pub fn parse(text: &str) -> Result<Vec<Paragraph<'_>>, Deb822Error> {
    paragraphs(text).collect()
}

/// Parse every paragraph of `text` with explicit options, failing on the first error.
pub fn parse_with<'a>(
    text: &'a str,
    opts: ParseOptions<'_>,
) -> Result<Vec<Paragraph<'a>>, Deb822Error> {
    paragraphs_with(text, opts).collect()
}

/// Check that `bytes` are UTF-8 (reporting the line of the first bad byte) and return the text.
pub fn as_text<'a>(bytes: &'a [u8], file: Option<&str>) -> Result<&'a str, Deb822Error> {
    std::str::from_utf8(bytes).map_err(|e| Deb822Error {
        file: file.map(str::to_owned),
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        kind: Deb822ErrorKind::InvalidUtf8,
    })
}

fn valid_field_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['#', '-'])
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

impl<'a> Paragraphs<'a, '_> {
    fn err(&mut self, kind: Deb822ErrorKind) -> Deb822Error {
        self.failed = true;
        Deb822Error {
            file: self.opts.file.map(str::to_owned),
            line: self.line,
            kind,
        }
    }

    /// The line starting at `pos`, as (start, end) offsets excluding the `\n`.
    fn line_at(&self, pos: usize) -> Option<(usize, usize)> {
        if pos >= self.text.len() {
            return None;
        }
        let end = self.text[pos..]
            .find('\n')
            .map_or(self.text.len(), |i| pos + i);
        Some((pos, end))
    }

    /// Take the next line, advancing position and line counter.
    fn next_line(&mut self) -> Option<(usize, usize)> {
        let (s, e) = self.line_at(self.pos)?;
        self.pos = e + 1;
        self.line += 1;
        Some((s, e))
    }

    fn next_is_continuation(&self) -> bool {
        match self.line_at(self.pos) {
            Some((s, e)) => {
                let l = &self.text[s..e];
                l.starts_with([' ', '\t']) && !l.trim().is_empty()
            }
            None => false,
        }
    }

    fn next_is_comment(&self) -> bool {
        self.opts.comments && self.text[self.pos.min(self.text.len())..].starts_with('#')
    }

    fn parse_paragraph(&mut self) -> Result<Option<Paragraph<'a>>, Deb822Error> {
        let text = self.text;
        let mut fields: Vec<Field<'a>> = Vec::with_capacity(24);
        let mut start_line = 0;
        while let Some((s, e)) = self.next_line() {
            let line = &text[s..e];
            if self.opts.comments && line.starts_with('#') {
                continue;
            }
            if line.trim().is_empty() {
                if fields.is_empty() {
                    continue;
                }
                break;
            }
            if line.starts_with([' ', '\t']) {
                return Err(self.err(Deb822ErrorKind::ContinuationBeforeField(line.into())));
            }
            let Some(colon) = line.find(':') else {
                return Err(self.err(Deb822ErrorKind::MissingColon(line.into())));
            };
            let name = &line[..colon];
            if !valid_field_name(name) {
                return Err(self.err(Deb822ErrorKind::InvalidFieldName(name.into())));
            }
            if fields.iter().any(|f| f.name.eq_ignore_ascii_case(name)) {
                return Err(self.err(Deb822ErrorKind::DuplicateField(name.into())));
            }
            let field_line = self.line;
            if fields.is_empty() {
                start_line = field_line;
            }
            let value_start = s + colon + 1;
            let mut value_end = e;
            let mut owned: Option<String> = None;
            // Extend the borrowed value over continuation lines; copy into an owned value
            // only when a comment line sits between two of them. Each line is scanned
            // once: a whitespace-only line ends the field and the paragraph.
            let mut paragraph_ends = false;
            loop {
                if self.next_is_comment() {
                    self.next_line();
                    if owned.is_none() && self.next_is_continuation() {
                        owned = Some(text[value_start..value_end].to_owned());
                    }
                    continue;
                }
                if !text[self.pos.min(text.len())..].starts_with([' ', '\t']) {
                    break;
                }
                let Some((cs, ce)) = self.next_line() else {
                    break;
                };
                if text[cs..ce].trim().is_empty() {
                    paragraph_ends = true;
                    break;
                }
                match &mut owned {
                    Some(o) => {
                        o.push('\n');
                        o.push_str(&text[cs..ce]);
                    }
                    None => value_end = ce,
                }
            }
            let raw = match owned {
                Some(o) => Cow::Owned(o),
                None => Cow::Borrowed(&text[value_start..value_end]),
            };
            fields.push(Field {
                name,
                raw,
                line: field_line,
            });
            if paragraph_ends {
                break;
            }
        }
        Ok((!fields.is_empty()).then_some(Paragraph {
            fields,
            line: start_line,
        }))
    }
}

impl<'a> Iterator for Paragraphs<'a, '_> {
    type Item = Result<Paragraph<'a>, Deb822Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        self.parse_paragraph().transpose()
    }
}

/// An owned paragraph for building and writing deb822 text. Field order is insertion
/// order (which is what Debian tools expect, e.g. `Package` first), so the output is a
/// deterministic function of the calls made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedParagraph {
    fields: Vec<(String, String)>,
}

impl OwnedParagraph {
    /// An empty paragraph.
    pub fn new() -> Self {
        Self::default()
    }
    /// Set `name` to `value` (logical form: lines separated by `\n`, first line may be
    /// empty), replacing an existing field of that name in place, else appending.
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> Result<(), Deb822Error> {
        let value = value.into();
        let err = |kind| Deb822Error {
            file: None,
            line: 0,
            kind,
        };
        if !valid_field_name(name) {
            return Err(err(Deb822ErrorKind::InvalidFieldName(name.into())));
        }
        let mut lines = value.split('\n');
        let first = lines.next().unwrap_or("");
        if first.contains('\r') || lines.any(|l| l.contains('\r') || l.starts_with(['\t'])) {
            return Err(err(Deb822ErrorKind::UnrepresentableValue(name.into())));
        }
        match self
            .fields
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name.to_owned(), value)),
        }
        Ok(())
    }
    /// The logical value of `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Remove field `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self
            .fields
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))?;
        Some(self.fields.remove(i).1)
    }
    /// Fields in order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// Serialises as deb822: `Name: first line`, continuation lines prefixed by one space,
/// empty continuation lines written as ` .`, terminated by a newline (no blank line; use
/// [`write_paragraphs`] to join several).
impl fmt::Display for OwnedParagraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.fields {
            let mut lines = value.split('\n');
            let first = lines.next().unwrap_or("").trim();
            if first.is_empty() {
                writeln!(f, "{name}:")?;
            } else {
                writeln!(f, "{name}: {first}")?;
            }
            for l in lines {
                if l.trim().is_empty() {
                    writeln!(f, " .")?;
                } else {
                    writeln!(f, " {l}")?;
                }
            }
        }
        Ok(())
    }
}

/// Serialise paragraphs each followed by one blank line, exactly as Debian's archive
/// publishes Packages and Sources files.
pub fn write_paragraphs<'p>(paragraphs: impl IntoIterator<Item = &'p OwnedParagraph>) -> String {
    let mut out = String::new();
    for p in paragraphs {
        out.push_str(&p.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_continuations_and_case() {
        let t = "Package: a\nDescription: short\n long\n .\n  more\n\n\nPACKAGE: b\nversion: 1\n";
        let ps = parse(t).unwrap();
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].get("package"), Some("a"));
        let d: Vec<_> = ps[0].field("Description").unwrap().lines().collect();
        assert_eq!(d, ["short", "long", "", " more"]);
        assert_eq!(ps[1].get("Package"), Some("b"));
        assert_eq!(ps[1].get("Version"), Some("1"));
        assert_eq!(ps[1].line(), 8);
    }

    #[test]
    fn whitespace_only_line_separates_paragraphs() {
        let ps = parse("A: 1\n b\n  \t\nC: 2\r\n").unwrap();
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].get("A"), Some("1\n b"));
        assert_eq!(ps[1].get("c"), Some("2"));
        assert_eq!(ps[1].line(), 4);
    }

    #[test]
    fn errors_carry_file_and_line() {
        let opts = ParseOptions {
            comments: true,
            file: Some("debian/control"),
        };
        let e = parse_with("# c\nSource: x\n\n oops\n", opts).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(matches!(
            e.kind,
            Deb822ErrorKind::ContinuationBeforeField(_)
        ));
        assert!(e.to_string().starts_with("debian/control:4: "), "{e}");
        let e = parse("A: 1\nno colon here\n").unwrap_err();
        assert_eq!(
            (e.line, e.kind),
            (2, Deb822ErrorKind::MissingColon("no colon here".into()))
        );
        assert!(matches!(
            parse("A: 1\na: 2\n").unwrap_err().kind,
            Deb822ErrorKind::DuplicateField(_)
        ));
    }

    #[test]
    fn comments_inside_multiline_value() {
        let opts = ParseOptions {
            comments: true,
            file: None,
        };
        let ps = parse_with("Build-Depends: a,\n# gone\n b\nX: y\n", opts).unwrap();
        assert_eq!(ps[0].get("Build-Depends"), Some("a,\n b"));
        assert_eq!(ps[0].get("X"), Some("y"));
        // Without comment support '#' lines are errors.
        assert!(parse("A: 1\n# c\n").is_err());
    }

    #[test]
    fn writer_roundtrip() {
        let t = "Package: a\nDescription: short\n long\n .\n  more\nFiles:\n abc 1 f\n";
        let p = parse(t).unwrap().remove(0).to_owned_paragraph();
        assert_eq!(p.to_string(), t);
        let mut q = OwnedParagraph::new();
        q.set("Package", "x").unwrap();
        q.set("Version", "1").unwrap();
        q.set("package", "y").unwrap();
        assert_eq!(
            write_paragraphs([&q, &q]),
            "Package: y\nVersion: 1\n\nPackage: y\nVersion: 1\n\n"
        );
        assert!(q.set("Bad Name", "x").is_err());
    }
}
