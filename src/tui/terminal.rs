//! Terminal setup and the guarantees around it: raw mode and the alternate screen are undone on
//! quit, on error and on panic (the panic hook restores before the report is printed).

use std::io::{stdout, Stdout};

use crossterm::cursor::Show;
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Installs the panic hook, then enters raw mode and the alternate screen.
pub fn init() -> std::io::Result<Tui> {
    install_panic_hook();
    enable_raw_mode()?;
    if let Err(e) = execute!(stdout(), EnterAlternateScreen) {
        restore();
        return Err(e);
    }
    match Terminal::new(CrosstermBackend::new(stdout())) {
        Ok(t) => Ok(t),
        Err(e) => {
            restore();
            Err(e)
        }
    }
}

/// Leaves the alternate screen, shows the cursor, disables raw mode. Safe to call twice.
pub fn restore() {
    let _ = execute!(stdout(), LeaveAlternateScreen, Show);
    let _ = disable_raw_mode();
}

fn install_panic_hook() {
    // color-eyre's hook prints the report; ours restores the terminal first. A panic in any
    // task (a source, say) ends the process: a half-restored TUI is worse than an exit.
    let _ = color_eyre::install();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
        std::process::exit(101);
    }));
}
