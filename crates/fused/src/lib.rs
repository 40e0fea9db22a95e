//! attnlab's fused CPU forward and backward for the Markov models, without a framework: every
//! intermediate in buffers allocated once per run, the attention on `attnlab_kernels`' fused row
//! kernels, the products of the linear layers register-tiled and compiled per code path ([`gemm`],
//! [`linear`]).
//!
//! Work in progress towards the fused trainer (a trainer at the machine's limit): today the theory
//! model of spec markov §2a and its attention-free F15 variant ([`theory`]), the GPT-style model of
//! §2b with L blocks, tied or untied ([`gpt`]), AdamW in one pass ([`adamw`]), and a training run's
//! model behind a step and an evaluation call ([`net`]). The tests check
//! their losses, gradients and training steps against the candle trainer
//! (`attnlab_trainer::Model`), which stays the reference implementation. No experiment runs them
//! yet, so no result depends on them.

pub mod adamw;
pub mod attend;
pub mod gelu;
pub mod gemm;
pub mod gpt;
pub mod linear;
pub mod net;
pub mod theory;
