//! STUB — the TUI (to be written by the TUI work).
pub mod keymap;

pub fn run(_cfg: crate::config::Config) -> color_eyre::Result<()> {
    Ok(())
}
