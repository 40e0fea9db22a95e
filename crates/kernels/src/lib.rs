//! The workspace's SIMD kernels and its only `unsafe` code, in a leaf crate (no candle, no other
//! attnlab crate):
//!
//! - [`dispatch`]: the code [`Path`]s (AVX-512F, AVX2+FMA, portable) picked at run time, and the
//!   generic [`dispatch()`] that runs a client's [`Multiversion`] body compiled for one of them.
//! - [`attention`]: fused causal attention on the CPU (f32 online-softmax forward and backward).
//! - [`alloc`]: the glibc allocator hook a training binary switches on at the start of `main`.
//! - [`exp_neg`]: the branch-free e^x (x ≤ 0) shared by the kernels and the trainer's fused ops.
#![allow(unsafe_code)]

pub mod alloc;
pub mod attention;
pub mod dispatch;

pub use attention::{Dims, backward_row, backward_row_on, exp_neg, forward_row, forward_row_on};
pub use dispatch::{Multiversion, Path, code_path, dispatch};
