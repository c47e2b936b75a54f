//! The pull reader shared by the rpm-md parsers (a thin layer over `quick-xml`: owned
//! element names without namespace prefix, attributes unescaped, text with entity and
//! character references resolved) and [`MetaError`], the one error type of rpm-md
//! parsing: the file name, the byte offset in the (decompressed) XML and what is wrong.

use std::fmt;
use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::checksum::ChecksumError;
use crate::compression::DecompressError;
use crate::evr::EvrError;

/// What is wrong with an rpm-md file.
#[derive(Debug, thiserror::Error)]
pub enum MetaErrorKind {
    /// Not well-formed XML (or the input could not be read / decompressed).
    #[error("XML error: {0}")]
    Xml(String),
    /// Decompression failed (before any XML could be read).
    #[error(transparent)]
    Decompress(#[from] DecompressError),
    /// The document element is not the expected one.
    #[error("expected <{expected}> as document element, found <{found}>")]
    Root {
        /// Expected local name.
        expected: &'static str,
        /// Found local name.
        found: String,
    },
    /// A required attribute is absent.
    #[error("<{element}> has no {attribute}= attribute")]
    MissingAttribute {
        /// Element (local name).
        element: String,
        /// Attribute.
        attribute: &'static str,
    },
    /// A required child element is absent.
    #[error("<{element}> has no <{child}>")]
    MissingElement {
        /// Parent element.
        element: String,
        /// Missing child.
        child: &'static str,
    },
    /// A value does not parse.
    #[error("<{element}> {what}: invalid value {value:?}")]
    Invalid {
        /// Element.
        element: String,
        /// Which attribute or text.
        what: &'static str,
        /// The value found.
        value: String,
    },
    /// A version attribute set is not an EVR.
    #[error("<{element}>: {source}")]
    Evr {
        /// Element.
        element: String,
        /// Cause.
        #[source]
        source: EvrError,
    },
    /// A checksum is invalid.
    #[error("<{element}>: {source}")]
    Checksum {
        /// Element.
        element: String,
        /// Cause.
        #[source]
        source: ChecksumError,
    },
    /// An element where only text may be.
    #[error("unexpected <{0}> inside a text element")]
    Nested(String),
    /// The document ends inside an element.
    #[error("unexpected end of file inside <{0}>")]
    Eof(String),
    /// The header's package count disagrees with the packages read.
    #[error("packages=\"{declared}\" but {found} packages were read")]
    Count {
        /// `packages=` of the document element.
        declared: u64,
        /// Packages read.
        found: u64,
    },
}

/// An rpm-md file could not be parsed: which file, where (byte offset in the decompressed
/// XML) and why.
#[derive(Debug, thiserror::Error)]
pub struct MetaError {
    /// The file (its `location href`, or the path read).
    pub file: String,
    /// Byte offset in the decompressed XML (of the element at fault, or where reading
    /// failed).
    pub offset: u64,
    /// What is wrong.
    #[source]
    pub kind: MetaErrorKind,
}

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: at byte {}: {}", self.file, self.offset, self.kind)
    }
}

/// One start tag: local name and unescaped attributes (`xml:base` keeps its prefix, other
/// attributes are by local name).
#[derive(Debug, Clone)]
pub(crate) struct Tag {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) offset: u64,
}

impl Tag {
    pub(crate) fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A pull event.
#[derive(Debug)]
pub(crate) enum Ev {
    Start(Tag),
    End(String),
    Eof,
}

pub(crate) struct XmlReader<R: BufRead> {
    reader: Reader<R>,
    buf: Vec<u8>,
    file: String,
    depth: Vec<String>,
    last: u64,
    /// The end of an empty element (`<a/>`) just reported as a start.
    pending_end: Option<String>,
}

impl<R: BufRead> XmlReader<R> {
    pub(crate) fn new(input: R, file: &str) -> Self {
        let mut reader = Reader::from_reader(input);
        let c = reader.config_mut();
        c.check_end_names = true;
        XmlReader {
            reader,
            buf: Vec::new(),
            file: file.to_owned(),
            depth: Vec::new(),
            last: 0,
            pending_end: None,
        }
    }

    pub(crate) fn err_at(&self, offset: u64, kind: MetaErrorKind) -> MetaError {
        MetaError {
            file: self.file.clone(),
            offset,
            kind,
        }
    }

    /// The current byte offset (after the last event read).
    pub(crate) fn pos(&self) -> u64 {
        self.reader.buffer_position()
    }

    fn xml_err(&self, e: quick_xml::Error) -> MetaError {
        let msg = match &e {
            quick_xml::Error::Io(io) => match io
                .get_ref()
                .and_then(|i| i.downcast_ref::<DecompressError>())
            {
                Some(d) => d.to_string(),
                None => io.to_string(),
            },
            other => other.to_string(),
        };
        self.err_at(self.reader.error_position(), MetaErrorKind::Xml(msg))
    }

    fn tag(&self, e: &BytesStart<'_>, offset: u64) -> Result<Tag, MetaError> {
        let name = e.local_name().as_ref().to_owned();
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|err| self.err_at(offset, MetaErrorKind::Xml(err.to_string())))?;
            let key = a.key;
            let key = if key.as_ref() == "xml:base" {
                "xml:base".to_owned()
            } else {
                key.local_name().as_ref().to_owned()
            };
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| self.err_at(offset, MetaErrorKind::Xml(err.to_string())))?
                .into_owned();
            attrs.push((key, value));
        }
        Ok(Tag {
            name,
            attrs,
            offset,
        })
    }

    /// The next start or end tag (text between elements is skipped).
    pub(crate) fn next(&mut self) -> Result<Ev, MetaError> {
        if let Some(name) = self.pending_end.take() {
            self.depth.pop();
            return Ok(Ev::End(name));
        }
        loop {
            self.buf.clear();
            self.last = self.reader.buffer_position();
            let offset = self.last;
            let ev = match self
                .reader
                .read_event_into(&mut self.buf)
                .map(|e| e.into_owned())
            {
                Ok(ev) => ev,
                Err(e) => return Err(self.xml_err(e)),
            };
            match ev {
                Event::Start(e) => {
                    let tag = self.tag(&e, offset)?;
                    self.depth.push(tag.name.clone());
                    return Ok(Ev::Start(tag));
                }
                Event::End(e) => {
                    self.depth.pop();
                    return Ok(Ev::End(e.local_name().as_ref().to_owned()));
                }
                Event::Eof => {
                    if let Some(open) = self.depth.last() {
                        return Err(self.err_at(offset, MetaErrorKind::Eof(open.clone())));
                    }
                    return Ok(Ev::Eof);
                }
                Event::Empty(e) => {
                    let tag = self.tag(&e, offset)?;
                    self.depth.push(tag.name.clone());
                    self.pending_end = Some(tag.name.clone());
                    return Ok(Ev::Start(tag));
                }
                _ => continue,
            }
        }
    }

    /// The text of the element just started, up to its end tag (references resolved).
    pub(crate) fn text(&mut self) -> Result<String, MetaError> {
        let mut out = String::new();
        if self.pending_end.take().is_some() {
            self.depth.pop();
            return Ok(out);
        }
        loop {
            self.buf.clear();
            let offset = self.reader.buffer_position();
            let ev = match self.reader.read_event_into(&mut self.buf) {
                Ok(ev) => ev.into_owned(),
                Err(e) => return Err(self.xml_err(e)),
            };
            match ev {
                Event::Text(t) => out.push_str(&t.xml10_content()),
                Event::CData(t) => out.push_str(&t.into_inner()),
                Event::GeneralRef(r) => match r.resolve_char_ref() {
                    Ok(Some(c)) => out.push(c),
                    Ok(None) => match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => out.push_str(s),
                        None => {
                            return Err(self.err_at(
                                offset,
                                MetaErrorKind::Xml(format!("unknown entity &{};", &*r)),
                            ))
                        }
                    },
                    Err(e) => return Err(self.err_at(offset, MetaErrorKind::Xml(e.to_string()))),
                },
                Event::End(_) => {
                    self.depth.pop();
                    return Ok(out);
                }
                Event::Start(e) => {
                    let name = e.local_name().as_ref().to_owned();
                    return Err(self.err_at(offset, MetaErrorKind::Nested(name)));
                }
                Event::Eof => {
                    let open = self.depth.last().cloned().unwrap_or_default();
                    return Err(self.err_at(offset, MetaErrorKind::Eof(open)));
                }
                Event::Empty(e) => {
                    let name = e.local_name().as_ref().to_owned();
                    return Err(self.err_at(offset, MetaErrorKind::Nested(name)));
                }
                _ => {}
            }
        }
    }

    /// Skip the rest of the element just started (its children and its end tag).
    pub(crate) fn skip(&mut self) -> Result<(), MetaError> {
        let target = self.depth.len() - 1;
        while self.depth.len() > target {
            if let Ev::Eof = self.next()? {
                break;
            }
        }
        Ok(())
    }

    /// The document element (after the declaration), which must be `expected`.
    pub(crate) fn root(&mut self, expected: &'static str) -> Result<Tag, MetaError> {
        match self.next()? {
            Ev::Start(tag) if tag.name == expected => Ok(tag),
            Ev::Start(tag) => Err(self.err_at(
                tag.offset,
                MetaErrorKind::Root {
                    expected,
                    found: tag.name,
                },
            )),
            _ => Err(self.err_at(
                self.last,
                MetaErrorKind::Root {
                    expected,
                    found: "nothing".to_owned(),
                },
            )),
        }
    }

    /// After the document element closed: only whitespace, comments and PIs may follow.
    pub(crate) fn finish(&mut self) -> Result<(), MetaError> {
        match self.next()? {
            Ev::Eof => Ok(()),
            Ev::Start(tag) => Err(self.err_at(
                tag.offset,
                MetaErrorKind::Xml(format!("<{}> after the document element", tag.name)),
            )),
            Ev::End(name) => Err(self.err_at(
                self.last,
                MetaErrorKind::Xml(format!("</{name}> after the document element")),
            )),
        }
    }

    // Attribute helpers -------------------------------------------------------------

    pub(crate) fn req<'t>(
        &self,
        tag: &'t Tag,
        attribute: &'static str,
    ) -> Result<&'t str, MetaError> {
        tag.attr(attribute).ok_or_else(|| {
            self.err_at(
                tag.offset,
                MetaErrorKind::MissingAttribute {
                    element: tag.name.clone(),
                    attribute,
                },
            )
        })
    }

    pub(crate) fn num<T: std::str::FromStr>(
        &self,
        tag: &Tag,
        what: &'static str,
        value: &str,
    ) -> Result<T, MetaError> {
        value.trim().parse::<T>().map_err(|_| {
            self.err_at(
                tag.offset,
                MetaErrorKind::Invalid {
                    element: tag.name.clone(),
                    what,
                    value: value.to_owned(),
                },
            )
        })
    }

    pub(crate) fn opt_num<T: std::str::FromStr>(
        &self,
        tag: &Tag,
        attribute: &'static str,
    ) -> Result<Option<T>, MetaError> {
        tag.attr(attribute)
            .map(|v| self.num(tag, attribute, v))
            .transpose()
    }

    pub(crate) fn invalid(&self, tag: &Tag, what: &'static str, value: &str) -> MetaError {
        self.err_at(
            tag.offset,
            MetaErrorKind::Invalid {
                element: tag.name.clone(),
                what,
                value: value.to_owned(),
            },
        )
    }

    pub(crate) fn missing(&self, tag: &Tag, child: &'static str) -> MetaError {
        self.err_at(
            tag.offset,
            MetaErrorKind::MissingElement {
                element: tag.name.clone(),
                child,
            },
        )
    }
}
