//! How a command fails: bad input (exit 2) or anything else (exit 1).

use std::io::Write;
use std::process::ExitCode;

/// A failed command.
#[derive(Debug)]
pub enum Failure {
    /// The input is bad: a malformed file, an invalid rulebook, a warning under --strict.
    BadInput(anyhow::Error),
    /// Anything else.
    Other(anyhow::Error),
}

impl Failure {
    /// Prints the error chain on stderr and returns the exit code.
    pub fn report(self) -> ExitCode {
        let (code, err) = match self {
            Failure::BadInput(e) => (2, e),
            Failure::Other(e) => (1, e),
        };
        // anstream drops the style when stderr is not a terminal, under
        // NO_COLOR or with --color never (crate::ui::apply_color).
        let mut stderr = anstream::stderr().lock();
        let style = crate::ui::ERROR;
        let _ = writeln!(stderr, "{style}error:{style:#} {err}");
        for cause in err.chain().skip(1) {
            let _ = writeln!(stderr, "  caused by: {cause}");
        }
        ExitCode::from(code)
    }
}

impl From<pcs_data::DataError> for Failure {
    fn from(e: pcs_data::DataError) -> Self {
        Failure::BadInput(e.into())
    }
}

impl From<pcs_core::rulebook::RulebookError> for Failure {
    fn from(e: pcs_core::rulebook::RulebookError) -> Self {
        Failure::BadInput(e.into())
    }
}

impl From<pcs_insights::app::AppError> for Failure {
    fn from(e: pcs_insights::app::AppError) -> Self {
        match e {
            pcs_insights::app::AppError::Invalid(m) => Failure::BadInput(anyhow::anyhow!(m)),
            pcs_insights::app::AppError::NotFound(m) => Failure::Other(anyhow::anyhow!(m)),
        }
    }
}
