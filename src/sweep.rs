//! Sweeps (placeholder).
