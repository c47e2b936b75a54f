//! The sandbox helper for cryo-debbuild's tests and tools: a single-threaded process that
//! reads a job spec on stdin and runs it (see `cryo_sandbox::helper_main`).

fn main() {
    cryo_sandbox::helper_main()
}
