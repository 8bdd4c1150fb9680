//! Progress bars on stderr, one per phase (`step 1/2 map`, `step 1/2
//! reduce`). Hidden with `-q`, and by indicatif itself when stderr is not a
//! terminal, so pipes, logs and tests see no bars.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting finished tasks of one phase.
pub(crate) struct PhaseBar {
    bar: ProgressBar,
}

impl PhaseBar {
    pub(crate) fn new(enabled: bool, label: String, tasks: usize) -> Self {
        let bar = if enabled {
            ProgressBar::with_draw_target(Some(tasks as u64), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        if let Ok(style) = ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} tasks {elapsed}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(label);
        PhaseBar { bar }
    }

    pub(crate) fn inc(&self) {
        self.bar.inc(1);
    }
}

impl Drop for PhaseBar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
