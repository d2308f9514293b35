//! How an error ends the program: exit code 2 for what the user can fix
//! (bad input files or arguments, an output path that cannot be written,
//! input values past what the model can represent), a quiet exit for a
//! closed pipe, 1 for the rest (internal errors). It decides codes only;
//! printing is the binary's.

use crate::engine::EngineError;
use crate::output::OutputError;

/// True if `e` is the user's to fix (exit code 2).
pub fn is_user_error(e: &(dyn std::error::Error + 'static)) -> bool {
    crate::input::is_user_error(e)
        || crate::input::chain(e).any(|c| {
            OutputError::find(c).is_some()
                || c.downcast_ref::<EngineError>()
                    .is_some_and(|e| e.is_input_error())
        })
}

/// True if `e` is a write to a closed pipe (`fabsim … | head`): the
/// command ends quietly, as ripgrep and cargo do.
pub fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    crate::input::chain(e).any(|c| {
        OutputError::find(c).is_some_and(|o| o.is_broken_pipe())
            || c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
