//! STUB — the live simulator source (to be written by the simulator work).
