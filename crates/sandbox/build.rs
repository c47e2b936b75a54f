//! Compiles `clock/cryo-clock.c` into `libcryo-clock.so` (the pinned clock preloaded into
//! builds, see `src/clock.rs`). Freestanding (`-nostdlib`): the library calls the kernel
//! directly, so one file loads into any glibc of the target architecture.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src = "clock/cryo-clock.c";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-env-changed=CC");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("libcryo-clock.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let status = Command::new(&cc)
        .args([
            "-shared",
            "-fPIC",
            "-O2",
            "-nostdlib",
            "-ffreestanding",
            "-fno-builtin",
            "-fno-stack-protector",
            "-fvisibility=hidden",
            "-Wall",
            "-Wextra",
            "-Werror",
            // Reproducible bytes: no build id, no paths of this machine.
            "-Wl,--build-id=none",
            // Calls between its own functions stay inside the library: an interposer
            // before it (fakeroot's `__fxstatat` calling the next `__fxstatat`) must not
            // be called back through our `fstatat`, which loops until the stack is gone.
            "-Wl,-Bsymbolic",
            "-Wl,-soname,libcryo-clock.so",
            "-Wl,-z,noexecstack",
            "-Wl,--hash-style=both",
            "-o",
        ])
        .arg(&out)
        .arg(src)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc:?} for {src}: {e}"));
    assert!(status.success(), "{cc} failed to compile {src}");
}
