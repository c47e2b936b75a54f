//! The sandbox helper binary: a single-threaded process that reads a job spec on stdin and
//! runs it in fresh namespaces. See `cryo_sandbox::helper_main`.

fn main() {
    cryo_sandbox::helper_main()
}
