//! cryo-prjconf reads OBS project configs (prjconf) the way obs-build's `Build::read_config`
//! does — directives, `%define`, `%if`/`%ifarch` conditionals, macro expansion, `Macros:`
//! blocks — plus cryo's own `Cryo-*` settings, and gives a typed `Prjconf` with warnings and a
//! canonical, hashable form. The reference for every directive is `docs/prjconf.md`.
//!
//! ```
//! use cryo_prjconf::{ParseContext, Prjconf};
//! let text = "Support: fakeroot\n%ifarch x86_64\nSupport: hello\n%endif\n";
//! let conf = Prjconf::parse(text, "demo.prjconf", &ParseContext::new("x86_64")).unwrap();
//! assert_eq!(conf.support().len(), 2);
//! assert_eq!(conf.normalized_hash().len(), 64);
//! ```

mod access;
pub mod arch;
mod config;
pub mod cryo;
mod error;
pub mod expr;
pub mod macros;
mod model;
mod normalize;
mod preprocess;

pub use access::DEFAULT_RELEASE;
pub use config::{ParseContext, Prjconf};
pub use cryo::{BuildPathTemplate, BuildUser, Clock, CryoSettings, Locale, ReleasePattern, Umask};
pub use error::{ErrorKind, PrjconfError, Warning};
pub use macros::MacroDef;
pub use model::{
    ConflictPair, Flag, IgnoreEntry, OrderEntry, PackageName, PreferEntry, UnknownDirective,
};
pub use normalize::NORMALIZED_FORMAT;
