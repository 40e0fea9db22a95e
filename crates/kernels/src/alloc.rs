//! Allocator tuning for training: keep freed memory for reuse instead of handing it back to the
//! OS. candle allocates a fresh buffer for every op and gradient term (MBs each at the reference
//! shape); with glibc's defaults the large ones are mmap'ed or trimmed off the heap top when freed,
//! so every step page-faults its working set in again (about 15% of a step's CPU time at the
//! reference shape). PyTorch avoids this with its caching allocator; here we only ask glibc malloc
//! to serve them from the heap and not to trim it, so the process keeps its peak training memory.
//!
//! A process-wide setting, so the binaries that train switch it on at the start of `main` (the
//! `attnlab` CLI, `cargo xtask`, the trainer's `step_bench` example); library code never does.

/// Asks the allocator to keep freed memory (once per process; glibc on Linux only, a no-op
/// elsewhere).
pub fn keep_freed_memory() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            // glibc <malloc.h>.
            const M_TRIM_THRESHOLD: i32 = -1;
            const M_MMAP_THRESHOLD: i32 = -3;
            unsafe extern "C" {
                fn mallopt(param: i32, value: i32) -> i32;
            }
            // SAFETY: mallopt only changes allocator parameters; both values are within glibc's
            // accepted ranges (the mmap threshold's maximum is 32 MiB on 64-bit).
            unsafe {
                mallopt(M_MMAP_THRESHOLD, 32 << 20);
                mallopt(M_TRIM_THRESHOLD, 1 << 30);
            }
        }
    });
}
