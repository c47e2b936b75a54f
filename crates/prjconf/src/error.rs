//! Errors and warnings of prjconf parsing. Every error and warning carries the file name and
//! 1-based line it refers to and prints as `file:line: message`, like a compiler diagnostic.

use crate::expr::ExprError;
use crate::macros::MacroError;

/// A fatal problem in a prjconf: the file does not mean anything definite, so no config is
/// produced. Displays as `file:line: message`.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {kind}")]
pub struct PrjconfError {
    /// The file name the caller passed to `Prjconf::parse`.
    pub file: String,
    /// 1-based line number; 0 for problems with the parse context rather than the text.
    pub line: usize,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// What went wrong, without the location.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    #[error("%endif without a matching %if")]
    EndifWithoutIf,
    #[error("{directive} without a matching %if")]
    ElseWithoutIf { directive: String },
    #[error("{directive} after %else (the %if opened at line {opened})")]
    AfterElse { directive: String, opened: usize },
    #[error("%if opened here is never closed by %endif")]
    UnterminatedIf,
    #[error("Macros: block opened here is never closed by :Macros")]
    UnterminatedMacros,
    #[error(":Macros without a Macros: block")]
    StrayMacrosEnd,
    #[error("`Macros:` must stand alone on its line (found `{text}`)")]
    MacrosWithText { text: String },
    #[error("`{statement}` is not allowed inside a Macros: block; put the block inside the conditional instead")]
    StatementInMacros { statement: String },
    #[error("unknown conditional `{directive}`")]
    UnknownConditional { directive: String },
    #[error("bad condition `{condition}`: {source}")]
    BadCondition {
        condition: String,
        #[source]
        source: ExprError,
    },
    #[error("macro expansion failed: {source}")]
    Macro {
        #[source]
        source: MacroError,
    },
    #[error("bad {statement}: `{text}` (expected `{statement} NAME BODY`)")]
    BadDefine { statement: String, text: String },
    #[error("bad macro definition in Macros: block: `{text}`")]
    BadMacroLine { text: String },
    #[error("`{token}` in {directive}: `#` starts a comment only at the beginning of a line")]
    InlineComment { directive: String, token: String },
    #[error("bad {directive} entry `{entry}`: {reason}")]
    BadEntry {
        directive: String,
        entry: String,
        reason: String,
    },
    #[error("unknown cryo setting `{key}` (known: {known})")]
    UnknownCryoKey { key: String, known: String },
    #[error("{key}: missing value")]
    MissingCryoValue { key: String },
    #[error("{key}: invalid value `{value}`: {reason}")]
    InvalidCryoValue {
        key: String,
        value: String,
        reason: String,
    },
    #[error("invalid parse context: {reason}")]
    InvalidContext { reason: String },
}

impl PrjconfError {
    pub(crate) fn new(file: &str, line: usize, kind: ErrorKind) -> Self {
        Self {
            file: file.to_owned(),
            line,
            kind,
        }
    }
}

/// A non-fatal remark: the prjconf parsed, but something in it is probably not what the author
/// meant or is not interpreted by cryo. Displays as `file:line: warning: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: warning: {}", self.file, self.line, self.message)
    }
}
