//! dbprov: static validator and provisioning planner for the databases that
//! services declare in a NixOS flake.
//!
//! Data flows one way: [`discover`] → [`parse`] → [`eval`] (per file, lazily)
//! → [`module`] (merge as the NixOS module system does) → [`model`] (services
//! and databases) → [`rules`] → [`render`] and [`report`].

pub mod analysis;
pub mod cache;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod eval;
pub mod hosts;
pub mod memory;
pub mod model;
pub mod module;
pub mod parse;
pub mod render;
pub mod report;
pub mod rules;
pub mod scope_check;
pub mod secrets;
pub mod settings;
pub mod source;
pub mod suppress;
pub mod syntax;
