//! Figures of Tiberi et al., attention paths (spec `paths.md`): the hidden-Markov-chain task with
//! theory (order parameter U solved at every width) against blocked-Gibbs posterior samples of the
//! finite-width network (Fig 2c, 2d, 2e, pre-kernels), and the image-free stand-in for Fig 3. The
//! experiments and claims live in `attnlab_lab::paths`; these modules only draw.

pub mod fig2;
pub mod fig3;
pub mod style;

use attnlab_lab::paths::experiments as ex;

use crate::FigureSpec;

/// The paths figures, in report order.
pub fn figures() -> Vec<FigureSpec> {
    vec![
        FigureSpec {
            id: ex::FIG2C_ACCURACY,
            title: "Markov task, 4 paths: accuracy vs width N (theory, Gibbs samples, GP lines)",
            run: fig2::accuracy4,
        },
        FigureSpec {
            id: ex::FIG2C_ORDER,
            title: "Markov task, 4 paths: order parameter U, theory and Gibbs samples at N = 10, 30, 100, theory at N = 10000",
            run: fig2::order,
        },
        FigureSpec {
            id: ex::FIG2D_ALIGNMENT,
            title: "Markov task: overlap of the top 30 kernel PCs with the labels, N = 10 vs GP",
            run: fig2::alignment,
        },
        FigureSpec {
            id: ex::FIG2E_ACCURACY,
            title: "Markov task, 2 paths, σ⊥ = 5: accuracy and U vs width N",
            run: fig2::accuracy2,
        },
        FigureSpec {
            id: ex::standin::ID,
            title: "Image-free stand-in for Fig 3: GD-trained heads, theory, samples, head scores and pruning",
            run: fig3::run,
        },
        FigureSpec {
            id: ex::KERNELS,
            title: "Markov task: path pre-kernels, GP and finite-width kernels (examples 0–24, 75–99)",
            run: fig2::kernels,
        },
    ]
}
