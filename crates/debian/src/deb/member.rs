//! One member of a `.deb` while the reader stands on it: its raw bytes ([`Member`], a
//! reader that detects truncation) and its decompressed content ([`DecodedMember`], a
//! streaming reader with a caller-given output cap that remembers why it failed, so that a
//! layer above it — usually `tar` — can be given the typed error afterwards).

use std::io::{self, Read};

use super::archive::Archive;
use super::error::DebReadError;
use super::header::MemberHeader;
use super::MemberKind;
use crate::compression::{CappedReader, Compression, CompressionError, Decoder, DecoderLimits};

/// A member of the archive, readable once, forward. Reading it yields its raw (possibly
/// compressed) bytes; dropping it unread is fine, the reader skips the rest.
pub struct Member<'a, R> {
    header: MemberHeader,
    kind: MemberKind,
    archive: &'a mut Archive<R>,
}

impl<'a, R: Read> Member<'a, R> {
    pub(super) fn new(header: MemberHeader, kind: MemberKind, archive: &'a mut Archive<R>) -> Self {
        Self {
            header,
            kind,
            archive,
        }
    }

    /// The member's ar header.
    pub fn header(&self) -> &MemberHeader {
        &self.header
    }

    /// What the member is (and its compression).
    pub fn kind(&self) -> MemberKind {
        self.kind
    }

    /// The member's name (lossy UTF-8).
    pub fn name(&self) -> String {
        self.header.name()
    }

    /// All raw bytes of the member; [`DebReadError::MemberTooLarge`] if its header claims
    /// more than `limit`, [`DebReadError::ShortMember`] if the file ends first.
    pub fn read_raw(self, limit: u64) -> Result<Vec<u8>, DebReadError> {
        self.archive.read_member_to_end(limit)
    }

    /// A reader of the decompressed member (compression from its name; members other than
    /// `control.tar*`/`data.tar*` are read as they are) that fails rather than yield more
    /// than `limit` bytes.
    pub fn decode(
        self,
        limit: u64,
        limits: &DecoderLimits,
    ) -> Result<DecodedMember<'a, R>, DebReadError> {
        let name = self.name();
        let format = self.kind.compression().unwrap_or(Compression::None);
        let decoder =
            Decoder::new(self, format, limits).map_err(|source| DebReadError::Decompress {
                name: name.clone(),
                source,
            })?;
        Ok(DecodedMember {
            reader: CappedReader::new(decoder, limit),
            name,
            fault: None,
        })
    }

    /// The whole decompressed member, at most `limit` bytes (see [`Self::decode`]).
    pub fn read_decoded(self, limit: u64, limits: &DecoderLimits) -> Result<Vec<u8>, DebReadError> {
        self.decode(limit, limits)?.read_to_vec()
    }
}

impl<R: Read> Read for Member<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.archive.read_member(buf)
    }
}

/// The decompressed content of a member as a stream, capped. When a read fails because of
/// the member itself — truncated, unreadable, corrupt or truncated compressed data, more
/// than the cap, more decoder memory than allowed — the typed error is kept:
/// [`Self::take_fault`] hands it out after the layer reading this stream has given up.
pub struct DecodedMember<'a, R: Read> {
    reader: CappedReader<Decoder<Member<'a, R>>>,
    name: String,
    fault: Option<DebReadError>,
}

impl<R: Read> DecodedMember<'_, R> {
    /// The typed error behind the last failed read, if that failure came from this stream
    /// (rather than from the layer above it, e.g. a malformed tar header). Use it to turn
    /// the layer's `io::Error` into the real cause.
    pub fn take_fault(&mut self) -> Option<DebReadError> {
        self.fault.take()
    }

    /// Reads the rest of the stream.
    pub fn read_to_vec(mut self) -> Result<Vec<u8>, DebReadError> {
        let mut out = Vec::new();
        match self.read_to_end(&mut out) {
            Ok(_) => Ok(out),
            Err(e) => Err(self.fault.take().unwrap_or(DebReadError::Io(e))),
        }
    }

    /// The typed error for an error of the capped decoder.
    fn classify(&mut self, e: io::Error) -> DebReadError {
        let decompress = |name: &str, source| DebReadError::Decompress {
            name: name.to_owned(),
            source,
        };
        if self.reader.exceeded() {
            let limit = self.reader.limit();
            return decompress(&self.name, CompressionError::TooLarge { limit });
        }
        if let Some(fault) = self.reader.get_mut().get_mut().archive.member_fault() {
            return fault;
        }
        let source = self.reader.get_ref().error(e);
        decompress(&self.name, source)
    }
}

impl<R: Read> Read for DecodedMember<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(fault) = &self.fault {
            return Err(io::Error::other(fault.to_string()));
        }
        match self.reader.read(buf) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                let kind = e.kind();
                let fault = self.classify(e);
                let err = io::Error::new(kind, fault.to_string());
                self.fault = Some(fault);
                Err(err)
            }
            other => other,
        }
    }
}
